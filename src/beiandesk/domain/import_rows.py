"""Rows of an existing-records file (api.md §Existing filed records: import and export), pure.

One row is one filed website with its subject. Checking a row is two pure steps:

1. :func:`parse_row` — the shape of the row alone: the filing-number grammar (a province
   abbreviation of ``data/provinces.csv`` + ``ICP备`` + 8 digits + ``号``; websites ``-N``), the
   website number under the subject number, the abbreviation matching ``province``, the kinds
   and statuses (``value_invalid`` naming the column), domain syntax (IDN too), dates.
2. :func:`check_record` — the identity rules of the pre-check itself (``precheck.check_subject``
   and ``precheck.check_website_principal``: ID and credit-code checksums, mobile, e-mail, a
   mobile used by one subject only), plus a domain filed under one website only and the owning
   account existing. What the database knows comes in as plain mappings (``RowContext``), so the
   service fetches it per batch and these functions never do I/O.

The rules are the ones the rest of beiandesk applies; nothing here re-implements a checksum.
Row numbers are 1-based lines with the header as line 1 (the first data row is 2).
Already-filed principals are not re-judged on age (``principal_underage``): the 管局 approved
them when they were filed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime
from typing import Any

from beiandesk.domain import identity
from beiandesk.domain.domains import check_domain_syntax, normalize_domain
from beiandesk.domain.footer import normalize_text
from beiandesk.domain.masking import mask_id_number, mask_mobile
from beiandesk.domain.model import (
    Principal,
    Resource,
    ResourceKind,
    Subject,
    SubjectKind,
    WebsiteInfo,
    WebsiteStatus,
)
from beiandesk.domain.precheck import PrecheckInput, check_subject, check_website_principal
from beiandesk.domain.problems import Problem, error
from beiandesk.domain.provinces import find_province, provinces

#: The columns of the file, in export order (api.md). JSON Lines use the same keys.
COLUMNS: tuple[str, ...] = (
    "subject_filing_number",
    "subject_kind",
    "subject_name",
    "province",
    "subject_id_type",
    "subject_id_number",
    "subject_principal_name",
    "subject_principal_id_type",
    "subject_principal_id_number",
    "subject_principal_mobile",
    "subject_principal_email",
    "website_filing_number",
    "website_name",
    "website_status",
    "domains",
    "home_url",
    "content_categories",
    "website_principal_name",
    "website_principal_id_type",
    "website_principal_id_number",
    "website_principal_mobile",
    "website_principal_email",
    "resource_kind",
    "resource_region",
    "resource_public_ip",
    "resource_billing",
    "resource_purchased_at",
    "resource_expires_at",
    "resource_instance_id",
    "account_username",
)

#: Columns that may be left out of the header (they then read as empty).
OPTIONAL_COLUMNS: frozenset[str] = frozenset(
    {
        "subject_id_type",
        "subject_principal_id_type",
        "website_principal_id_type",
        "home_url",
        "content_categories",
        "resource_kind",
        "resource_region",
        "resource_public_ip",
        "resource_billing",
        "resource_purchased_at",
        "resource_expires_at",
        "resource_instance_id",
        "account_username",
    }
)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in OPTIONAL_COLUMNS)

_KINDS = {
    "personal": SubjectKind.personal,
    "个人": SubjectKind.personal,
    "enterprise": SubjectKind.enterprise,
    "企业": SubjectKind.enterprise,
}
_STATUSES = {"open": WebsiteStatus.open, "closed": WebsiteStatus.closed}
_LIST_SEP = re.compile(r"[;；]")
_FILING_RE = re.compile(
    r"^(?P<abbr>[\u4e00-\u9fff])ICP备(?P<main>\d{8})号(?:-(?P<seq>[1-9]\d{0,3}))?$"
)
_RESOURCE_KINDS = frozenset(k.value for k in ResourceKind)

# Field paths of the pre-check rules → the file's columns.
_FIELD_COLUMNS = {
    "subject.province": "province",
    "subject.name": "subject_name",
    "subject.id_number": "subject_id_number",
}


# --- file-level problems (exit 2: the file cannot be read) --------------------------------------


def file_unreadable(detail: str = "") -> Problem:
    return error(
        "import_file_unreadable",
        "无法读取该文件：只支持 CSV（UTF-8、带 BOM 的 UTF-8 或 GB18030 编码）、XLSX（读取第一个工作表）"
        "和 JSON Lines（每行一个 JSON 对象）。" + (f"（{detail}）" if detail else ""),
    )


def file_empty() -> Problem:
    return error("import_file_empty", "文件是空的：第一行应为表头，之后每行一个已备案网站。")


def column_missing(columns: list[str]) -> Problem:
    names = "、".join(columns)
    return error(
        "import_column_missing",
        f"表头缺少必需的列：{names}。请按导出文件的表头填写（列名区分大小写）。",
        columns[0],
        columns=columns,
    )


def csv_malformed(line: int, detail: str) -> Problem:
    return error(
        "import_csv_malformed",
        f"CSV 格式错误（第 {line} 行附近）：{detail}。常见原因是字段里有未成对的英文双引号；"
        "请用表格软件重新另存为 CSV，或把字段中的引号写成两个双引号。",
        line=line,
    )


def jsonl_malformed(line: int) -> Problem:
    return error(
        "import_jsonl_malformed",
        f"第 {line} 行不是一个 JSON 对象：JSON Lines 文件每行必须是一个完整的 JSON 对象。",
        line=line,
    )


# --- filing numbers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFilingNumber:
    abbreviation: str
    main: str
    seq: int | None

    @property
    def subject(self) -> str:
        return f"{self.abbreviation}ICP备{self.main}号"

    def __str__(self) -> str:
        return self.subject + (f"-{self.seq}" if self.seq is not None else "")


def parse_record_filing_number(value: str) -> RecordFilingNumber | None:
    """A filing number as the MIIT issues it, strictly: ``沪ICP备20260002号`` / ``…号-3``.

    Full-width characters and dash variants are normalised first (``footer.normalize_text``),
    spaces removed; the abbreviation must be one of ``data/provinces.csv``; 8 digits exactly.
    """
    m = _FILING_RE.match(value)
    if m is None:  # full-width digits, dash variants, spaces, lower-case icp
        m = _FILING_RE.match(re.sub(r"\s+", "", normalize_text(value or "")).replace("icp", "ICP"))
    if m is None or m.group("abbr") not in _abbreviations():
        return None
    seq = m.group("seq")
    return RecordFilingNumber(m.group("abbr"), m.group("main"), int(seq) if seq else None)


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    return frozenset(p.icp_abbreviation for p in provinces().values())


# --- the parsed record --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRecord:
    """One checked row: the subject and the website it describes (ids not known yet)."""

    line: int
    subject: Subject
    website_filing_number: str
    website_status: WebsiteStatus
    info: WebsiteInfo
    account_username: str = ""

    @property
    def subject_filing_number(self) -> str:
        return self.subject.filing_number

    def mobiles(self) -> set[str]:
        """The principals' mobiles (already normalised by :func:`parse_row`)."""
        return {m for m in (self.subject.principal.mobile, self.info.principal.mobile) if m}

    def ascii_domains(self) -> list[str]:
        return [normalize_domain(d) for d in self.info.domains]  # to_ascii is memoised


@dataclass
class RowContext:
    """What the database (and the earlier rows of the batch) say, for :func:`check_record`.

    ``mobile_owner``: normalised mobile → subject filing number already using it;
    ``domain_owner``: A-label domain → website filing number it is filed under;
    ``accounts``: user names of existing applicant accounts (None: not looked up).
    """

    mobile_owner: Mapping[str, str] = field(default_factory=dict)
    domain_owner: Mapping[str, str] = field(default_factory=dict)
    accounts: frozenset[str] | set[str] = frozenset()


def _cell(raw: Mapping[str, Any], key: str) -> str:
    v = raw.get(key)
    if type(v) is str:
        return v.strip()
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple)):  # JSON Lines may give domains / categories as arrays
        return ";".join(str(x).strip() for x in v if x is not None)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v).strip()


def _split(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in _LIST_SEP.split(value) if x.strip())


def is_blank(raw: Mapping[str, Any]) -> bool:
    return all(_cell(raw, k) == "" for k in raw)


def _value_invalid(column: str, value: str, allowed: str) -> Problem:
    return error("value_invalid", f"「{column}」的值「{value}」无效：应为 {allowed}。", column)


def _masked(column: str, what: str, code: str) -> Problem:
    return error(
        code,
        f"「{column}」是脱敏后的{what}（含 *）：导入需要完整号码。"
        "脱敏导出的文件不能用来覆盖已有数据，请使用 export-records --unmasked 导出的文件。",
        column,
    )


def _date_cell(raw: Mapping[str, Any], column: str, out: list[Problem]) -> date | None:
    value = raw[column]
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        out.append(_value_invalid(column, value, "日期 YYYY-MM-DD"))
        return None


def _principal(raw: Mapping[str, Any], prefix: str) -> Principal:
    return Principal(
        name=raw[f"{prefix}_name"],
        id_type=raw[f"{prefix}_id_type"] or identity.ID_TYPE_RESIDENT,
        id_number=raw[f"{prefix}_id_number"].upper(),
        mobile=identity.normalize_mobile(raw[f"{prefix}_mobile"]),
        email=raw[f"{prefix}_email"],
    )


def parse_row(raw: Mapping[str, Any], line: int) -> tuple[ImportRecord | None, list[Problem]]:
    """The record of one row, or None with the problems of its shape (step 1 above)."""
    raw = {k: v.strip() if type(v := raw.get(k)) is str else _cell(raw, k) for k in COLUMNS}
    out: list[Problem] = []
    subject_fn = parse_record_filing_number(raw["subject_filing_number"])
    if subject_fn is None or subject_fn.seq is not None:
        out.append(
            error(
                "filing_number_invalid",
                f"主体备案号「{raw['subject_filing_number']}」格式不正确：应为省份简称 + ICP备 + "
                "8 位数字 + 号，如 沪ICP备20260002号。",
                "subject_filing_number",
            )
        )
    website_fn = parse_record_filing_number(raw["website_filing_number"])
    if website_fn is None or website_fn.seq is None:
        out.append(
            error(
                "filing_number_invalid",
                f"网站备案号「{raw['website_filing_number']}」格式不正确：应为主体备案号 + -序号，"
                "如 沪ICP备20260002号-3。",
                "website_filing_number",
            )
        )
    province = find_province(raw["province"])
    if province is None:
        out.append(
            error(
                "province_invalid",
                f"省份「{raw['province']}」无法识别：请填写中国大陆省级行政区名称，如「广东」。",
                "province",
            )
        )
    if (
        subject_fn is not None
        and website_fn is not None
        and website_fn.subject != subject_fn.subject
    ):
        out.append(
            error(
                "filing_number_mismatch",
                f"网站备案号 {website_fn} 不属于主体备案号 {subject_fn.subject}：网站备案号应为"
                "主体备案号加 -序号。",
                "website_filing_number",
            )
        )
    if (
        subject_fn is not None
        and province is not None
        and subject_fn.abbreviation != province.icp_abbreviation
    ):
        out.append(
            error(
                "filing_number_mismatch",
                f"备案号简称「{subject_fn.abbreviation}」与省份「{province.name}」（简称「"
                f"{province.icp_abbreviation}」）不一致。",
                "subject_filing_number",
            )
        )
    kind = _KINDS.get(raw["subject_kind"])
    if kind is None:
        out.append(
            _value_invalid(
                "subject_kind", raw["subject_kind"], "personal / enterprise（或 个人 / 企业）"
            )
        )
    status = _STATUSES.get(raw["website_status"].lower())
    if status is None:
        out.append(_value_invalid("website_status", raw["website_status"], "open / closed"))
    resource_kind = raw["resource_kind"]
    if resource_kind and resource_kind not in _RESOURCE_KINDS:
        out.append(
            _value_invalid(
                "resource_kind", resource_kind, " / ".join(k.value for k in ResourceKind)
            )
        )
    for column, what, code in (
        ("subject_id_number", "证件号码", "id_number_invalid"),
        ("subject_principal_id_number", "证件号码", "id_number_invalid"),
        ("website_principal_id_number", "证件号码", "id_number_invalid"),
        ("subject_principal_mobile", "手机号码", "mobile_invalid"),
        ("website_principal_mobile", "手机号码", "mobile_invalid"),
    ):
        value = raw[column]
        if "*" in value or "＊" in value or "•" in value:
            out.append(_masked(column, what, code))
    domains = _split(raw["domains"])
    if not domains:
        out.append(
            error(
                "domain_required",
                "「domains」为空：每个网站至少有一个域名，多个以 ; 分隔。",
                "domains",
            )
        )
    for d in domains:
        out += check_domain_syntax(d, "domains")
    seen: set[str] = set()
    for d in domains:
        key = normalize_domain(d)
        if key in seen:
            out.append(error("domain_invalid", f"域名「{d}」在同一行重复填写。", "domains"))
        seen.add(key)
    purchased = _date_cell(raw, "resource_purchased_at", out)
    expires = _date_cell(raw, "resource_expires_at", out)
    if out:
        return None, out
    assert subject_fn is not None and website_fn is not None and province and kind and status
    default_id_type = "uscc" if kind == SubjectKind.enterprise else identity.ID_TYPE_RESIDENT
    subject = Subject(
        id=0,
        account_id=0,
        kind=kind,
        name=raw["subject_name"],
        province=province.name,
        id_type=raw["subject_id_type"] or default_id_type,
        id_number=raw["subject_id_number"].upper(),
        filing_number=subject_fn.subject,
        principal=_principal(raw, "subject_principal"),
    )
    resource = Resource.from_dict(
        {
            "kind": resource_kind or None,
            "region": raw["resource_region"],
            "public_ip": raw["resource_public_ip"],
            "billing": raw["resource_billing"] or None,
            "purchased_at": purchased,
            "expires_at": expires,
            "instance_id": raw["resource_instance_id"],
        }
    )
    info = WebsiteInfo(
        name=raw["website_name"],
        domains=domains,
        home_url=raw["home_url"],
        principal=_principal(raw, "website_principal"),
        content_categories=_split(raw["content_categories"]),
        resource=resource,
    )
    return ImportRecord(
        line=line,
        subject=subject,
        website_filing_number=str(website_fn),
        website_status=status,
        info=info,
        account_username=raw["account_username"],
    ), []


def _column(path: str | None) -> str | None:
    if path is None:
        return None
    if path in _FIELD_COLUMNS:
        return _FIELD_COLUMNS[path]
    for prefix, column in (
        ("subject.principal.", "subject_principal_"),
        ("proposed.principal.", "website_principal_"),
    ):
        if path.startswith(prefix):
            return column + path[len(prefix) :]
    return path


@lru_cache(maxsize=2048)  # a subject's rows repeat its principal: check each once per run
def _identity_problems(
    subject: Subject, principal: Principal, today: date, others: frozenset[str]
) -> list[Problem]:
    inp = PrecheckInput(
        subject=subject,
        proposed=WebsiteInfo(name="", domains=(), home_url="", principal=principal),
        today=today,
        mobiles_of_other_subjects=others,
    )
    return check_subject(inp) + check_website_principal(inp)


def check_record(rec: ImportRecord, ctx: RowContext, today: date) -> list[Problem]:
    """Step 2: the pre-check's identity rules and the cross-record rules, on a parsed record."""
    others = frozenset(
        m
        for m in rec.mobiles()
        if ctx.mobile_owner.get(m, rec.subject_filing_number) != rec.subject_filing_number
    )
    found = _identity_problems(rec.subject, rec.info.principal, today, others)
    out: list[Problem] = []
    seen: set[tuple[str, str | None]] = set()
    for p in found:
        if p.code == "principal_underage" or not p.is_error:
            continue
        column = _column(p.field)
        if (p.code, column) in seen:
            continue
        seen.add((p.code, column))
        out.append(Problem(code=p.code, message=p.message, field=column))
    for d in rec.info.domains:
        owner = ctx.domain_owner.get(normalize_domain(d))
        if owner is not None and owner != rec.website_filing_number:
            out.append(
                error(
                    "domain_filed_elsewhere",
                    f"域名「{d}」已备案在网站 {owner} 下：一个域名只能备案在一个网站下。",
                    "domains",
                )
            )
    if rec.account_username and rec.account_username not in ctx.accounts:
        out.append(
            error(
                "account_not_found",
                f"账号「{rec.account_username}」不存在：请先用 accounts create 创建该申请人账号，"
                "或留空 account_username。",
                "account_username",
            )
        )
    return out


# --- export: a record back to a row -------------------------------------------------------------


def to_row(
    subject: Subject,
    website_filing_number: str,
    status: str,
    info: WebsiteInfo,
    account_username: str = "",
    *,
    unmasked: bool = False,
) -> dict[str, str]:
    """The file row of a stored subject + website (what :func:`parse_row` reads back)."""

    def ident(v: str) -> str:
        return v if unmasked else mask_id_number(v)

    def mobile(v: str) -> str:
        return v if unmasked else mask_mobile(v)

    sp, wp, r = subject.principal, info.principal, info.resource
    return {
        "subject_filing_number": subject.filing_number,
        "subject_kind": str(subject.kind),
        "subject_name": subject.name,
        "province": subject.province,
        "subject_id_type": subject.id_type,
        "subject_id_number": ident(subject.id_number),
        "subject_principal_name": sp.name,
        "subject_principal_id_type": sp.id_type,
        "subject_principal_id_number": ident(sp.id_number),
        "subject_principal_mobile": mobile(sp.mobile),
        "subject_principal_email": sp.email,
        "website_filing_number": website_filing_number,
        "website_name": info.name,
        "website_status": status,
        "domains": ";".join(info.domains),
        "home_url": info.home_url,
        "content_categories": ";".join(info.content_categories),
        "website_principal_name": wp.name,
        "website_principal_id_type": wp.id_type,
        "website_principal_id_number": ident(wp.id_number),
        "website_principal_mobile": mobile(wp.mobile),
        "website_principal_email": wp.email,
        "resource_kind": str(r.kind),
        "resource_region": r.region,
        "resource_public_ip": r.public_ip,
        "resource_billing": r.billing,
        "resource_purchased_at": r.purchased_at.isoformat() if r.purchased_at else "",
        "resource_expires_at": r.expires_at.isoformat() if r.expires_at else "",
        "resource_instance_id": r.instance_id,
        "account_username": account_username,
    }


def problem_row(line: int, p: Problem) -> dict[str, Any]:
    """The ``problems[]`` item of api.md: ``{row, code, message, field?}``."""
    out: dict[str, Any] = {"row": line, "code": p.code, "message": p.message}
    if p.field is not None:
        out["field"] = p.field
    return out


def duplicate_row(website_filing_number: str) -> Problem:
    return error(
        "import_row_duplicate",
        f"网站备案号 {website_filing_number} 在本文件中出现了不止一次：每个网站只能占一行。",
        "website_filing_number",
    )


def subject_number_of(website_filing_number: str) -> str:
    """``沪ICP备20260002号-3`` → ``沪ICP备20260002号`` (for a number :func:`parse_row` accepted)."""
    return website_filing_number.rsplit("-", 1)[0]
