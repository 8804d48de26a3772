"""Registry facts of a domain for the domain rules: RDAP first, WHOIS as the fallback.

``RegistryLookup`` implements ``services.ports.DomainFactsLookup``. It never raises: a failed
look-up comes back as ``DomainFacts(error="…")`` so the rules give a warning, never a crash and
never a false pass. The DB-backed TTL cache wraps this object (it is not done here).

"Domestic registrar" comes from two packaged lists (data/registrars_cn.csv: MIIT-licensed
域名注册服务机构; data/registrars_foreign.csv: well-known registrars outside mainland China), both
compiled by hand and incomplete — see their header comments. A registrar in neither list is
unknown (``None``), not foreign.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Protocol

from beiandesk.domain.model import DomainFacts

#: Shorter normalised names are too generic to match inside another name ("net", "云").
MIN_LATIN_MATCH = 5
MIN_CJK_MATCH = 2


class _Source(Protocol):
    def lookup(self, domain: str) -> DomainFacts: ...


def _tokens(name: str) -> tuple[str, ...]:
    """Case-, width- and punctuation-insensitive words: ``Xin Net, Inc.`` → (xin, net, inc);
    a run of Chinese characters is one word."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return tuple(re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]+", text))


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _long_enough(words: tuple[str, ...]) -> bool:
    joined = "".join(words)
    cjk = sum(1 for ch in joined if "\u4e00" <= ch <= "\u9fff")
    return cjk >= MIN_CJK_MATCH or len(joined) >= MIN_LATIN_MATCH


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """``part`` inside ``words``: as a substring for Chinese (no word boundaries to respect),
    as a run of whole words otherwise (so "Name.com" is not found in "Gname.com")."""
    if _has_cjk("".join(part)):
        return "".join(part) in "".join(words)
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


@dataclass(frozen=True)
class RegistrarList:
    """Names and aliases of one packaged list, as word tuples."""

    names: frozenset[tuple[str, ...]]

    @classmethod
    def from_csv(cls, text: str) -> RegistrarList:
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        names: set[tuple[str, ...]] = set()
        for row in csv.DictReader(io.StringIO("\n".join(lines))):
            for name in [row["name"], *(row.get("aliases") or "").split("|")]:
                if (words := _tokens(name)) and _long_enough(words):
                    names.add(words)
        return cls(frozenset(names))

    def matches(self, registrar: str) -> bool:
        words = _tokens(registrar)
        if not words:
            return False
        if any(_contains(words, known) for known in self.names):
            return True
        # The registry may print a short form of a listed name ("Xin Net" for
        # "Xin Net Technology Corporation").
        return _long_enough(words) and any(_contains(known, words) for known in self.names)


@lru_cache(maxsize=4)
def _packaged(filename: str) -> RegistrarList:
    text = resources.files("beiandesk").joinpath("data", filename).read_text("utf-8")
    return RegistrarList.from_csv(text)


@dataclass(frozen=True)
class Registrars:
    domestic: RegistrarList
    foreign: RegistrarList

    @classmethod
    def packaged(cls) -> Registrars:
        return cls(_packaged("registrars_cn.csv"), _packaged("registrars_foreign.csv"))

    def is_domestic(self, registrar: str) -> bool | None:
        """True for a listed MIIT licensee, False for a listed foreign registrar, else None."""
        domestic, foreign = self.domestic.matches(registrar), self.foreign.matches(registrar)
        if domestic == foreign:
            return None  # in neither list (or, by a naming accident, in both)
        return domestic


def registrar_is_domestic(name: str) -> bool | None:
    """Whether ``name`` (as a registry prints it) is a licensed mainland registrar; ``None`` when
    the packaged lists do not know it."""
    return Registrars.packaged().is_domestic(name)


class RegistryLookup:
    """``DomainFactsLookup`` over RDAP (first) and WHOIS (fallback)."""

    def __init__(
        self, rdap: _Source | None, whois: _Source | None, registrars: Registrars | None = None
    ) -> None:
        self.sources = [("RDAP", s) for s in (rdap,) if s] + [("WHOIS", s) for s in (whois,) if s]
        self.registrars = registrars

    def lookup(self, domain: str) -> DomainFacts:
        failures: list[str] = []
        for label, source in self.sources:
            try:
                facts = source.lookup(domain)
            except Exception as exc:  # noqa: BLE001 — any failure is a warning, never a crash
                failures.append(f"{label}：{exc}")
                continue
            if facts.error:
                failures.append(f"{label}：{facts.error}")
                continue
            return self._with_domestic(facts)
        detail = "；".join(failures) or "没有配置查询来源"
        return DomainFacts(
            error=f"无法查询域名 {domain} 的注册信息（{detail}）",
            source="+".join(label.lower() for label, _ in self.sources),
        )

    def _with_domestic(self, facts: DomainFacts) -> DomainFacts:
        if facts.registrar_domestic is not None or not facts.registrar:
            return facts
        registrars = self.registrars or Registrars.packaged()
        return replace(facts, registrar_domestic=registrars.is_domestic(facts.registrar))
