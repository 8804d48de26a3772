"""The 网站备案信息真实性核验单 (verification form) as data: what the provider pre-fills.

Every large provider (Tencent Cloud, Alibaba Cloud) pre-fills this MIIT form from the order so
the applicant only prints, signs and uploads it as ``verification_form``. The layout follows the
MIIT template: a 主体信息 block, a 网站信息 block, the 核验记录 the 接入商 fills in, and the
signature lines. ID numbers and mobiles are masked here like every other response: the form is
identified by the signed upload and the ID card beside it, not by the printed number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from beiandesk.domain.masking import mask_id_number, mask_mobile
from beiandesk.domain.model import ChangeOrder, Principal, Subject
from beiandesk.domain.provinces import read_data_csv

TITLE = "网站备案信息真实性核验单"

_ID_TYPES = {
    "resident_id": "居民身份证",
    "uscc": "统一社会信用代码证书",
    "hmt_permit": "港澳台居民居住证",
    "foreign_pr": "外国人永久居留身份证",
    "passport": "护照",
}
_SUBJECT_KINDS = {"personal": "个人", "enterprise": "企业"}
_ACCESS = {
    "cvm": "云服务器",
    "lighthouse": "轻量应用服务器",
    "serverless": "云函数（Serverless）",
    "cloudbase": "云开发",
}


@dataclass(frozen=True)
class FormSection:
    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class VerificationForm:
    title: str
    provider: str
    order_ref: str
    sections: tuple[FormSection, ...]
    applicant_statement: str
    provider_checks: tuple[str, ...]
    issued_on: date


@lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    return {row["region"]: row["name"] for row in read_data_csv("regions.csv")
            if row["name"] and not row["region"].endswith("*")}


def region_label(region: str) -> str:
    """A cloud region id as the form's reader knows it: 广州（ap-guangzhou）. A zone
    (ap-guangzhou-3) is named after its region; Chinese or unknown values are printed as typed."""
    r = (region or "").strip()
    if not r:
        return "—"
    head, _, tail = r.lower().rpartition("-")
    names = _region_names()
    name = names.get(r.lower()) or (names.get(head) if tail.isdigit() else None)
    return f"{name}（{r}）" if name else r


def id_type_label(id_type: str) -> str:
    return _ID_TYPES.get(id_type, id_type or "—")


def _principal_rows(prefix: str, p: Principal) -> tuple[tuple[str, str], ...]:
    return (
        (f"{prefix}姓名", p.name or "—"),
        (f"{prefix}证件类型", id_type_label(p.id_type)),
        (f"{prefix}证件号码", mask_id_number(p.id_number) or "—"),
        (f"{prefix}手机号码", mask_mobile(p.mobile) or "—"),
        (f"{prefix}电子邮箱", p.email or "—"),
    )


def build_form(
    order: ChangeOrder, subject: Subject, filing_number: str, provider: str, today: date
) -> VerificationForm:
    """Fill the form from the order's ``proposed`` information (what will be filed)."""
    info = order.proposed
    subject_rows = (
        ("主体备案号", subject.filing_number or "—"),
        ("主体性质", _SUBJECT_KINDS.get(str(subject.kind), str(subject.kind))),
        ("主办单位或主办人名称", subject.name or "—"),
        ("主体所在省份", subject.province or "—"),
        ("主体证件类型", id_type_label(subject.id_type)),
        ("主体证件号码", mask_id_number(subject.id_number) or "—"),
    ) + _principal_rows("主体负责人", subject.principal)
    website_rows = (
        ("网站备案号", filing_number or "—"),
        ("网站名称", info.name or "—"),
        ("网站域名", "；".join(info.domains) or "—"),
        ("网站首页地址", info.home_url or "—"),
        ("网站服务内容", "；".join(info.content_categories) or "—"),
        ("接入方式", _ACCESS.get(str(info.resource.kind), str(info.resource.kind) or "—")),
        ("服务器所在地区", region_label(info.resource.region)),
    ) + _principal_rows("网站负责人", info.principal)
    return VerificationForm(
        title=TITLE,
        provider=provider,
        order_ref=f"变更单 #{order.id}",
        sections=(FormSection("主体信息", subject_rows), FormSection("网站信息", website_rows)),
        applicant_statement=(
            "本人（单位）承诺：所填报的网站备案信息真实有效，网站负责人已当面核验并拍照，"
            "如有虚假，愿承担由此产生的一切法律后果。"
        ),
        provider_checks=(
            "已核验主体证件原件与网站负责人证件原件",
            "已当面（或远程视频）核验网站负责人并采集照片",
            "已核对域名证书、接入服务器信息",
        ),
        issued_on=today,
    )
