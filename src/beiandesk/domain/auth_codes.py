"""Filing authorisation codes (备案授权码), pure rules; the endpoints live in services/api.

Sources: product.md §Resource rules; filing-rules-research.md §(b) 14 (Tencent
常见问题/备案授权码 [S12]; Tencent intl "ICP filing authorization code": a server-generated
credential that points at the server's IP, used by an account that holds no server):
- only accounts with **enterprise** real-name verification may create codes;
- the server must be a prepaid mainland instance with a public IP, bought for > 3 months
  (the CVM rules of ``resources``: term ≥ 90 days, ≥ 30 days left);
- at most **5** codes per server; a CLB IP cannot create codes;
- **1 code = 1 website = 1 domain**; reusable only when the earlier order was abandoned and the
  server is still valid; a code dies when its server expires;
- a lightweight server cannot create one from the PC console (product.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from beiandesk.domain.domains import normalize_domain
from beiandesk.domain.model import Resource, ResourceKind
from beiandesk.domain.problems import Problem, error
from beiandesk.domain.resources import check_server

#: Tencent and Huawei: at most 5 authorisation codes per server [S12][S6].
MAX_CODES_PER_SERVER = 5
#: A code is an opaque token; anything else is a typo (letters, digits, dashes).
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{5,63}$")


class CodeStatus(StrEnum):
    """Aliyun BSN statuses map the same way: 0 unbound, 1 bound, 2 filed, 3 void, 4 in filing [S16]."""

    unused = "unused"
    in_filing = "in_filing"
    filed = "filed"
    abandoned = "abandoned"  # the order using it was abandoned: reusable while the server lives
    void = "void"


@dataclass(frozen=True)
class AuthCode:
    code: str
    server: Resource  # the issuing server (its public IP becomes the filed IP)
    status: CodeStatus = CodeStatus.unused
    website_id: int | None = None  # the website it is bound to, once used
    domain: str = ""  # the one domain it is bound to, once used


def check_code_creation(
    *,
    enterprise_verified: bool,
    server: Resource,
    active_codes: int,
    today: date,
    from_pc_console: bool = True,
    is_clb_ip: bool = False,
    field: str = "resource",
) -> list[Problem]:
    """Whether ``server`` may issue one more code ([S12]; product.md)."""
    out: list[Problem] = []
    if not enterprise_verified:
        out.append(
            error(
                "auth_code_requires_enterprise",
                "只有完成企业实名认证的账号才能生成备案授权码：请先完成企业认证。",
                field,
            )
        )
    if str(server.kind) == ResourceKind.lighthouse and from_pc_console:
        out.append(
            error(
                "auth_code_invalid",
                "轻量应用服务器不能在 PC 控制台生成备案授权码：请改用支持的入口或使用云服务器。",
                f"{field}.kind",
            )
        )
    elif str(server.kind) not in (ResourceKind.cvm, ResourceKind.lighthouse):
        out.append(error("auth_code_invalid", "只有云服务器可以生成备案授权码。", f"{field}.kind"))
    if is_clb_ip:
        out.append(
            error(
                "auth_code_invalid",
                "负载均衡（CLB）IP 不能生成备案授权码：请选择带公网 IP 的云服务器。",
                f"{field}.public_ip",
            )
        )
    out += check_server(server, today, field)
    if active_codes >= MAX_CODES_PER_SERVER:
        out.append(
            error(
                "auth_code_exhausted",
                f"每台服务器最多生成 {MAX_CODES_PER_SERVER} 个备案授权码，该服务器已用完：请删除未使用的授权码或使用其他服务器。",
                field,
                limit=MAX_CODES_PER_SERVER,
            )
        )
    return out


def is_void(code: AuthCode, today: date) -> bool:
    """A code is void once marked so or once its server has expired ([S12])."""
    expires = code.server.expires_at
    return code.status == CodeStatus.void or (expires is not None and expires < today)


def check_code_use(
    value: str,
    code: AuthCode | None,
    *,
    website_id: int | None,
    domains: Sequence[str],
    today: date,
    field: str = "resource.auth_code",
) -> list[Problem]:
    """Using a code on a website: it exists and lives, is free or already this website's, and
    the website has exactly one domain (one code = one website = one domain [S12])."""
    if not _CODE_RE.match((value or "").strip()) or code is None:
        return [
            error(
                "auth_code_invalid",
                "备案授权码无效：请核对后重新填写，或向服务器所属账号重新获取。",
                field,
            )
        ]
    if is_void(code, today):
        return [
            error(
                "auth_code_invalid",
                "备案授权码已失效（生成它的服务器已到期或授权码已作废）：请重新获取授权码。",
                field,
            )
        ]
    out: list[Problem] = []
    taken = code.status in (CodeStatus.in_filing, CodeStatus.filed)
    if taken and code.website_id is not None and code.website_id != website_id:
        out.append(
            error(
                "auth_code_invalid",
                "该备案授权码已被其他网站使用：一个授权码只能用于一个网站，请重新获取。",
                field,
            )
        )
    live = [d for d in domains if (d or "").strip()]
    if len(live) > 1:
        out.append(
            error(
                "auth_code_invalid",
                "使用备案授权码的网站只能有一个域名：请只保留一个域名，其他域名另行获取授权码。",
                field,
            )
        )
    elif (
        taken
        and code.domain
        and live
        and normalize_domain(live[0]) != normalize_domain(code.domain)
    ):
        out.append(
            error(
                "auth_code_invalid",
                f"该备案授权码已绑定域名「{code.domain}」，不能用于其他域名。",
                field,
            )
        )
    return out
