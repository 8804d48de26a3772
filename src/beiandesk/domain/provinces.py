"""Province data, packaged under ``beiandesk/data`` and loaded lazily once.

- ``provinces.csv``: the 31 mainland provinces, their ICP abbreviation (the 京 of 京ICP备…) and
  their GB/T 2260 two-digit administrative code (the first two digits of a resident ID).
- ``province_rules.json``: what differs per province (filing-rules-research.md §(b), §(c),
  §(e)): domain-validity minimums, suffix exclusions, minimum principal age, materials, limits.
  Every entry carries its ``source``. Edit that file, not code, to add a province's rule.

Reading packaged data is not I/O against the world: it ships with the code, like a constant
table, and is read once (``functools.lru_cache``), never at import time.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

DATA_PACKAGE = "beiandesk"


def read_data_text(name: str) -> str:
    """A packaged data file (``beiandesk/data/<name>``) as text. Callers cache what they parse."""
    return (resources.files(DATA_PACKAGE) / "data" / name).read_text(encoding="utf-8")


def read_data_csv(name: str) -> list[dict[str, str]]:
    return [
        {k: (v or "").strip() for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(read_data_text(name)))
    ]


@dataclass(frozen=True)
class Province:
    name: str
    full_name: str
    icp_abbreviation: str
    admin_code_prefix: str
    notes: str = ""
    source: str = ""


@lru_cache(maxsize=1)
def provinces() -> dict[str, Province]:
    """All provinces by short name (``广东``), from ``data/provinces.csv``."""
    out: dict[str, Province] = {}
    for row in read_data_csv("provinces.csv"):
        p = Province(
            name=row["name"].strip(),
            full_name=row["full_name"].strip(),
            icp_abbreviation=row["icp_abbreviation"].strip(),
            admin_code_prefix=row["admin_code_prefix"].strip(),
            notes=(row.get("notes") or "").strip(),
            source=(row.get("source") or "").strip(),
        )
        out[p.name] = p
    return out


@lru_cache(maxsize=1)
def mainland_admin_prefixes() -> frozenset[str]:
    """The two-digit GB/T 2260 codes of the 31 mainland provinces (11 北京 … 65 新疆)."""
    return frozenset(p.admin_code_prefix for p in provinces().values())


def find_province(value: str) -> Province | None:
    """A province by short name, full name (``广东省``) or ICP abbreviation (``粤``)."""
    v = (value or "").strip()
    table = provinces()
    if v in table:
        return table[v]
    for p in table.values():
        if v in (p.full_name, p.icp_abbreviation):
            return p
    return None


@lru_cache(maxsize=1)
def province_rules_document() -> dict[str, Any]:
    """The raw ``data/province_rules.json`` (defaults plus per-province overrides)."""
    return json.loads(read_data_text("province_rules.json"))


@dataclass(frozen=True)
class Rule:
    """One province rule value with its source (and whether a website change enforces it)."""

    value: Any
    source: str
    enforced: bool = True


def rule(province: str, key: str) -> Rule | None:
    """The rule ``key`` for ``province``: the province's entry, else the default, else None."""
    return _rules_table().get((_canonical(province), key)) or _rules_table().get(("", key))


@lru_cache(maxsize=1)
def _rules_table() -> dict[tuple[str, str], Rule]:
    doc = province_rules_document()
    table: dict[tuple[str, str], Rule] = {}
    for key, entry in doc.get("defaults", {}).items():
        table[("", key)] = _as_rule(entry)
    for name, entries in doc.get("provinces", {}).items():
        for key, entry in entries.items():
            table[(name, key)] = _as_rule(entry)
    return table


def _as_rule(entry: dict[str, Any]) -> Rule:
    return Rule(
        value=entry["value"], source=entry.get("source", ""), enforced=entry.get("enforced", True)
    )


def _canonical(province: str) -> str:
    p = find_province(province)
    return p.name if p else (province or "").strip()


def rule_value(province: str, key: str, default: Any = None) -> Any:
    r = rule(province, key)
    return default if r is None else r.value


def domain_min_days_left(province: str) -> int:
    """Days of registration a domain must have left (product.md: default 90, 上海 180)."""
    return int(rule_value(province, "domain_min_days_left", 90))


def min_principal_age(province: str) -> int:
    """Minimum age of a principal (product.md: 18 in most provinces; research §(c))."""
    return int(rule_value(province, "min_principal_age", 18))


def suffix_exclusions(province: str) -> frozenset[str]:
    """Suffixes (``.asia``) a province refuses although they are on the national list."""
    return frozenset(str(s).lower() for s in rule_value(province, "suffix_exclusions", []))


@dataclass(frozen=True)
class MaterialRule:
    kind: str
    label: str
    subject_kinds: frozenset[str]
    when: str
    provinces: frozenset[str] | None
    source: str


@lru_cache(maxsize=1)
def material_rules() -> tuple[MaterialRule, ...]:
    """The ``materials`` list of ``province_rules.json`` (research §(e), §(b) 23/25)."""
    out = []
    for m in province_rules_document().get("materials", []):
        provs = m.get("provinces")
        out.append(
            MaterialRule(
                kind=m["kind"],
                label=m.get("label", m["kind"]),
                subject_kinds=frozenset(m.get("subject_kinds") or ("personal", "enterprise")),
                when=m.get("when", "always"),
                provinces=frozenset(provs) if provs is not None else None,
                source=m.get("source", ""),
            )
        )
    return tuple(out)
