"""The provider's resource inventory against what the applicant typed (pure).

The provider knows its instances' region, public IP, billing mode and dates; an applicant only
copies them. When the inventory answered, its facts are the ones the resource rules judge, and
every fact the applicant typed differently is reported (``resource_mismatch``, one per field);
an instance the inventory does not know is ``resource_not_found``. The service asks, this
module compares.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import date

from beiandesk.domain.model import Resource
from beiandesk.domain.problems import Problem, error, warning

_FIELD = "resource"
#: Facts compared, with their labels in messages.
FACT_LABELS = {
    "kind": "资源类型",
    "region": "地域",
    "public_ip": "公网 IP",
    "billing": "计费方式",
    "purchased_at": "购买日期",
    "expires_at": "到期日期",
}
_BILLING = {
    "prepaid": "prepaid",
    "包年包月": "prepaid",
    "monthly": "prepaid",
    "yearly": "prepaid",
    "resource_pack": "prepaid",
    "package": "prepaid",
    "资源包": "prepaid",
    "postpaid": "postpaid",
    "按量计费": "postpaid",
    "pay_as_you_go": "postpaid",
}
_SHOWN = {"prepaid": "包年包月", "postpaid": "按量计费"}


def lookup_key(resource: Resource | None) -> tuple[str, str] | None:
    """What to ask the inventory: ``("instance_id", …)`` or ``("public_ip", …)``; None when the
    resource is another provider's (an authorisation code) or names nothing to look up."""
    if resource is None or resource.auth_code.strip():
        return None
    if resource.instance_id.strip():
        return "instance_id", resource.instance_id.strip()
    if resource.public_ip.strip():
        return "public_ip", resource.public_ip.strip()
    return None


def _region(value: str) -> str:
    v = (value or "").strip().lower()
    head, _, tail = v.rpartition("-")
    return head if head and tail.isdigit() else v  # a zone (ap-guangzhou-3) is in its region


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return (value or "").strip()


def _billing(value: str) -> str:
    v = (value or "").strip().lower()
    return _BILLING.get(v, v)


def _norm(name: str, value: object) -> object:
    if name == "region":
        return _region(str(value or ""))
    if name == "public_ip":
        return _ip(str(value or ""))
    if name == "billing":
        return _billing(str(value or ""))
    if name == "kind":
        return str(value or "").strip().lower()
    return value


def _shown(name: str, value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if name == "billing":
        return _SHOWN.get(_billing(str(value)), str(value))
    return str(value)


def reconcile(
    applicant: Resource | None,
    known: Resource | None,
    asked: tuple[str, str] | None,
    *,
    unavailable: bool = False,
) -> tuple[Resource | None, list[Problem]]:
    """The resource the rules should judge, and what the comparison found.

    ``asked`` is ``lookup_key(applicant)`` (None: nothing was asked, the applicant's facts
    stand); ``known`` is the inventory's answer (None: it has no such instance); with
    ``unavailable`` the inventory could not be asked and the applicant's facts stand, with a
    warning.
    """
    if asked is None or applicant is None:
        return applicant, []
    by, key = asked
    if unavailable:
        return applicant, [
            warning(
                "inventory_unavailable",
                "暂时无法向云资源清单核对该资源，已按您填写的信息检查；提交后审核专员会再次核对。",
                _FIELD,
            )
        ]
    if known is None:
        what = f"实例 ID「{key}」" if by == "instance_id" else f"公网 IP「{key}」"
        return applicant, [
            error(
                "resource_not_found",
                f"在本接入商的云资源中找不到{what}：请确认资源属于当前账号且填写无误，"
                "其他接入商的资源请使用备案授权码。",
                f"{_FIELD}.{by}",
                by=by,
            )
        ]
    problems: list[Problem] = []
    for name, label in FACT_LABELS.items():
        typed, actual = getattr(applicant, name), getattr(known, name)
        if typed in (None, "") or actual in (None, ""):
            continue  # not typed (or not known): nothing to contradict
        if _norm(name, typed) != _norm(name, actual):
            problems.append(
                error(
                    "resource_mismatch",
                    f"{label}与云资源清单不一致：您填写的是「{_shown(name, typed)}」，该实例实际为"
                    f"「{_shown(name, actual)}」。已按实际信息检查，请改为实际信息。",
                    f"{_FIELD}.{name}",
                    typed=_shown(name, typed),
                    actual=_shown(name, actual),
                )
            )
    merged = replace(known, instance_id=known.instance_id or applicant.instance_id, auth_code="")
    return merged, problems
