"""Resource rules (pure): the website must be served from a qualifying provider resource.

Sources: product.md §Rules ("Resource rules"); filing-rules-research.md §(b) 13 (Tencent
能否进行备案 [S4]: prepaid, purchase term ≥ 90 days, ≥ 30 days left; pay-as-you-go and
expired servers do not qualify) and §(b) 14 (authorisation codes, see ``auth_codes``).
Boundaries are inclusive: exactly 90 days of term and exactly 30 days left pass.
"""

from __future__ import annotations

import ipaddress
from datetime import date
from functools import lru_cache

from beiandesk.domain.model import Resource, ResourceKind
from beiandesk.domain.problems import Problem, error, warning
from beiandesk.domain.provinces import provinces, read_data_csv

#: CVM / lightweight: purchase term (expires_at − purchased_at) of at least 90 days [S4].
MIN_TERM_DAYS = 90
#: CVM / lightweight: at least 30 days left on the day of the check [S4].
MIN_REMAINING_DAYS = 30
#: Cloud hosting (云托管): a resource pack with at least 90 days left (product.md).
CLOUDBASE_MIN_REMAINING_DAYS = 90
#: Billing modes that are prepaid (包年包月) or a purchased resource pack.
PREPAID_BILLING = frozenset(
    {"prepaid", "包年包月", "monthly", "yearly", "resource_pack", "package", "资源包"}
)
#: Addresses that are not reachable from the internet: RFC 1918, loopback, link-local,
#: CGNAT (RFC 6598), "this network", multicast, reserved, and their IPv6 counterparts. The
#: documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24) are treated as public,
#: because examples and tests use them for public addresses; ``is_global`` would refuse them.
_NON_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
_PROBLEM_FIELD = "resource"


@lru_cache(maxsize=1)
def _regions() -> tuple[dict[str, bool], list[tuple[str, bool]], list[tuple[str, bool]]]:
    exact: dict[str, bool] = {}
    prefixes: list[tuple[str, bool]] = []
    names: list[tuple[str, bool]] = []
    for row in read_data_csv("regions.csv"):
        mainland = row["mainland"] == "true"
        if row["region"].endswith("*"):
            prefixes.append((row["region"][:-1], mainland))
        else:
            exact[row["region"]] = mainland
        if row["name"]:
            names.append((row["name"], mainland))
    names += [(p.name, True) for p in provinces().values()]
    names += [
        (w, True) for w in ("华南", "华东", "华北", "华中", "西南", "西北", "东北", "中国大陆")
    ]
    names += [(w, False) for w in ("香港", "澳门", "台湾", "台北", "海外", "境外")]
    # Non-mainland names first, so that "中国香港" is not taken for "中国大陆".
    names.sort(key=lambda item: item[1])
    return exact, prefixes, names


def is_mainland_region(region: str) -> bool | None:
    """True/False from ``data/regions.csv`` (ids like ``ap-guangzhou`` or zones like
    ``ap-guangzhou-3``, wildcard rows like ``na-*``, or Chinese names like 广州/华南地区（广州）);
    None when the region is unknown."""
    r = (region or "").strip().lower()
    exact, prefixes, names = _regions()
    zone_stripped = r.rsplit("-", 1)[0] if r.rsplit("-", 1)[-1].isdigit() else r
    for candidate in (r, zone_stripped):
        if candidate in exact:
            return exact[candidate]
    for prefix, mainland in prefixes:
        if r.startswith(prefix):
            return mainland
    for name, mainland in names:
        if name in (region or ""):
            return mainland
    return None


def is_public_ip(value: str) -> bool:
    try:
        ip = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return False
    return not any(ip in net for net in _NON_PUBLIC if net.version == ip.version)


def check_resource(
    resource: Resource | None, today: date, field: str = _PROBLEM_FIELD
) -> list[Problem]:
    """Dispatch on the resource kind (product.md §Resource rules)."""
    if resource is None:
        return [
            error(
                "resource_missing",
                "请选择用于备案的云资源（包年包月的中国大陆云服务器、轻量应用服务器、云函数资源包或云托管资源包），或填写备案授权码。",
                field,
            )
        ]
    kind = str(resource.kind)
    if kind in (ResourceKind.cvm, ResourceKind.lighthouse):
        return check_server(resource, today, field)
    if kind == ResourceKind.serverless:
        return check_resource_pack(resource, today, field, min_remaining=0)
    if kind == ResourceKind.cloudbase:
        return check_resource_pack(
            resource, today, field, min_remaining=CLOUDBASE_MIN_REMAINING_DAYS
        )
    return [
        error(
            "resource_missing",
            f"资源类型「{kind}」不能用于备案：请选择云服务器、轻量应用服务器、云函数或云托管资源。",
            f"{field}.kind",
        )
    ]


def check_server(resource: Resource, today: date, field: str = _PROBLEM_FIELD) -> list[Problem]:
    """CVM and lightweight server: mainland region, public IP, prepaid, term ≥ 90 days, ≥ 30
    days left, not expired ([S4]; product.md)."""
    out = _region(resource.region, f"{field}.region")
    if not is_public_ip(resource.public_ip):
        out.append(
            error(
                "resource_no_public_ip",
                "备案的服务器需要有公网 IP：请为实例分配公网 IP（内网、回环、链路本地、运营商级 NAT 地址不可用于备案）。",
                f"{field}.public_ip",
            )
        )
    if not _is_prepaid(resource.billing):
        out.append(
            error(
                "resource_not_prepaid",
                "按量计费的服务器不能用于备案：请将实例转为包年包月。",
                f"{field}.billing",
            )
        )
    out += _dates(resource, today, field, min_term=MIN_TERM_DAYS, min_remaining=MIN_REMAINING_DAYS)
    return out


def check_resource_pack(
    resource: Resource, today: date, field: str, *, min_remaining: int
) -> list[Problem]:
    """Serverless: a purchased resource pack (not pay-as-you-go). Cloud hosting (云托管): a pack
    with ≥ 90 days left (product.md). The region, when given, must be mainland."""
    out = _region(resource.region, f"{field}.region") if resource.region else []
    if not _is_prepaid(resource.billing):
        out.append(
            error(
                "resource_not_prepaid",
                "请先购买资源包：按量计费的云函数/云托管不能用于备案。",
                f"{field}.billing",
            )
        )
    out += _dates(resource, today, field, min_term=0, min_remaining=min_remaining)
    return out


def _is_prepaid(billing: str) -> bool:
    return (billing or "").strip().lower() in PREPAID_BILLING


def _region(region: str, field: str) -> list[Problem]:
    mainland = is_mainland_region(region)
    if mainland is False:
        return [
            error(
                "resource_not_mainland",
                f"地域「{region}」不在中国大陆，不能用于备案：请使用中国大陆地域的资源。",
                field,
            )
        ]
    if mainland is None:
        return [
            warning(
                "resource_not_mainland",
                f"无法确认地域「{region or '未填写'}」是否在中国大陆：备案只接受中国大陆地域的资源。",
                field,
            )
        ]
    return []


def _dates(
    resource: Resource, today: date, field: str, *, min_term: int, min_remaining: int
) -> list[Problem]:
    out: list[Problem] = []
    expires = resource.expires_at
    if expires is None:
        return [
            warning(
                "resource_remaining_too_short",
                "未能确认资源到期日：请确认资源未过期且剩余时长充足。",
                f"{field}.expires_at",
            )
        ]
    if expires < today:
        return [
            error(
                "resource_expired",
                f"资源已于 {expires.isoformat()} 到期：请续费后再提交。",
                f"{field}.expires_at",
            )
        ]
    if min_term:
        if resource.purchased_at is None:
            out.append(
                warning(
                    "resource_term_too_short",
                    f"未能确认购买时长：备案要求包年包月购买时长不少于 {min_term} 天。",
                    f"{field}.purchased_at",
                )
            )
        elif (expires - resource.purchased_at).days < min_term:
            term = (expires - resource.purchased_at).days
            out.append(
                error(
                    "resource_term_too_short",
                    f"资源购买时长 {term} 天，备案要求不少于 {min_term} 天（3 个月）：请续费延长时长。",
                    f"{field}.purchased_at",
                    term_days=term,
                    min_days=min_term,
                )
            )
    left = (expires - today).days
    if left < min_remaining:
        out.append(
            error(
                "resource_remaining_too_short",
                f"资源剩余 {left} 天，备案要求至少剩余 {min_remaining} 天：请续费后再提交。",
                f"{field}.expires_at",
                days_left=left,
                min_days=min_remaining,
            )
        )
    return out
