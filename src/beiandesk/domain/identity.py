"""Identity rules: ID numbers, credit codes, mobiles, e-mail, principals (pure).

Sources: product.md §Rules ("Identity rules"); filing-rules-research.md §(b) rule 4 (a mobile
belongs to one subject), §(c) (age limits per province), §(e) (who may be a principal).
Number formats: GB 11643-1999 (citizen identification number: 6-digit address code of
GB/T 2260, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2 check digit, ``X`` = 10)
and GB 32100-2015 (unified social credit code), both checked with python-stdnum.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import idna
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from beiandesk.domain.model import Principal
from beiandesk.domain.problems import Problem, error
from beiandesk.domain.provinces import mainland_admin_prefixes

#: Principals must be adults in most provinces (research §(c): 河北, 内蒙古, 湖南 ≥18; §(e)).
DEFAULT_MIN_AGE = 18
#: GB 11643 numbers are 18 characters; the 15-digit first-generation cards expired in 2013.
RIC_LENGTH = 18
#: No living principal was born before this year; an earlier "birth date" is a typo.
EARLIEST_BIRTH_YEAR = 1900
#: 港澳台居民居住证 (2018) use GB 11643 with address codes 810000 香港, 820000 澳门, 830000 台湾.
HMT_PERMIT_PREFIXES = frozenset({"81", "82", "83"})
#: Mainland mobile numbers: 11 digits, ``1`` then a 3–9 network digit (MIIT numbering plan).
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
#: Separators people type inside a phone number; removed before checking.
_MOBILE_SEPARATORS = re.compile(r"[\s\-().\u3000]")
_EMAIL_LOCAL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$"
)
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
#: A passport / travel-permit number: letters and digits, a plausible length.
_DOCUMENT_RE = re.compile(r"^[A-Z0-9][A-Z0-9()\-]{4,29}$")
#: 外国人永久居留身份证, 2017 version: 3 letters (nationality) + 12 digits.
_OLD_FOREIGN_PR_RE = re.compile(r"^[A-Z]{3}\d{12}$")

ID_TYPE_RESIDENT = "resident_id"
ID_TYPE_HMT_PERMIT = "hmt_residence_permit"
ID_TYPE_FOREIGN_PR = "foreign_permanent_resident"


def _compact(value: str) -> str:
    return re.sub(r"[\s\-\u3000]", "", value or "").upper()


def _gb11643_shape_ok(number: str) -> bool:
    """Length, digits and the MOD 11-2 check digit of GB 11643 (stdnum computes it)."""
    if len(number) != RIC_LENGTH or not number[:-1].isdigit():
        return False
    if not (number[-1].isdigit() or number[-1] == "X"):
        return False
    # calc_check_digit wants the full number including a (placeholder) check digit.
    return ric.calc_check_digit(number) == number[-1]


def _birth_date(number: str) -> date | None:
    try:
        born = ric.get_birth_date(number)
    except (ValidationError, ValueError):
        return None
    return born if born.year >= EARLIEST_BIRTH_YEAR else None


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _invalid_id(field: str, what: str = "身份证号码") -> Problem:
    return error(
        "id_number_invalid",
        f"{what}无效：请核对位数、出生日期和最后一位校验码（X 请用大写），按证件原样填写。",
        field,
    )


def _age_problems(born: date, field: str, today: date | None, min_age: int | None) -> list[Problem]:
    if today is None:
        return []
    if born > today:
        return [_invalid_id(field)]
    limit = DEFAULT_MIN_AGE if min_age is None else min_age
    if _age_on(born, today) < limit:
        return [
            error(
                "principal_underage",
                f"负责人须年满 {limit} 周岁：请更换为年满 {limit} 周岁的负责人。",
                field,
                min_age=limit,
            )
        ]
    return []


def check_resident_id(
    value: str, field: str, *, today: date | None = None, min_age: int | None = None
) -> list[Problem]:
    """居民身份证号码 (GB 11643-1999), product.md §Identity rules.

    18 characters, MOD 11-2 check digit (``X`` accepted in either case), a real birth date
    not before 1900 and not after ``today``, and an address code whose first two digits are one
    of the 31 mainland provinces of ``data/provinces.csv``. 71 (台湾), 81/82 (香港/澳门) are
    GB/T 2260 codes but are never printed on a 居民身份证, and 81/82/83 belong to the
    港澳台居民居住证 (its own ``id_type``, see :func:`check_hmt_permit`), so they are refused
    here. The 6-digit county code is not looked up: it records where the number was issued, and
    counties are renamed and merged, so a table lookup would refuse real cards.
    With ``today``, a principal younger than ``min_age`` (default 18, research §(c)) gets
    ``principal_underage``.
    """
    number = _compact(value)
    if not _gb11643_shape_ok(number) or number[:2] not in mainland_admin_prefixes():
        return [_invalid_id(field)]
    born = _birth_date(number)
    if born is None:
        return [_invalid_id(field)]
    return _age_problems(born, field, today, min_age)


def check_hmt_permit(
    value: str, field: str, *, today: date | None = None, min_age: int | None = None
) -> list[Problem]:
    """港澳台居民居住证 (State Council 2018): GB 11643 numbers with 81/82/83 address codes.

    Research §(c): 上海, 浙江, 江西, 山东 accept residence permits for non-local persons.
    """
    number = _compact(value)
    born = _birth_date(number) if _gb11643_shape_ok(number) else None
    if number[:2] not in HMT_PERMIT_PREFIXES or born is None:
        return [_invalid_id(field, "港澳台居民居住证号码")]
    return _age_problems(born, field, today, min_age)


def check_other_id(value: str, field: str) -> list[Problem]:
    """Passports, travel permits and other documents: present and plausibly shaped only.

    There is no public checksum for them; the provider's reviewer checks the scan (§(e)).
    """
    number = _compact(value)
    if _DOCUMENT_RE.match(number) is None:
        return [_invalid_id(field, "证件号码")]
    return []


def check_foreign_pr(value: str, field: str) -> list[Problem]:
    """外国人永久居留身份证: the 2023 card is GB 11643-shaped starting with 9; 2017 card 3+12."""
    number = _compact(value)
    if _OLD_FOREIGN_PR_RE.match(number) or (number[:1] == "9" and _gb11643_shape_ok(number)):
        return []
    return [_invalid_id(field, "外国人永久居留身份证号码")]


def check_uscc(value: str, field: str) -> list[Problem]:
    """统一社会信用代码 (GB 32100-2015): 18 characters with its check character (stdnum)."""
    if not uscc.is_valid(_compact(value)):
        return [
            error(
                "uscc_invalid",
                "统一社会信用代码无效：请按营业执照上的 18 位代码原样填写（注意字母 O/I 与数字 0/1）。",
                field,
            )
        ]
    return []


def normalize_mobile(value: str) -> str:
    """A mobile number in its 11-digit form.

    Accepted spellings (what people paste): spaces, full-width spaces, dashes, dots and
    parentheses anywhere; a country prefix ``+86``, ``0086`` or ``86`` before 11 digits.
    Anything else is returned compacted but unchanged, and then fails :func:`check_mobile`.
    """
    digits = _MOBILE_SEPARATORS.sub("", value or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


def check_mobile(value: str, field: str) -> list[Problem]:
    """A mainland mobile (the MIIT SMS check goes to it, research §(b) rule 17): 1[3-9] + 9 digits."""
    if MOBILE_RE.match(normalize_mobile(value)) is None:
        return [
            error(
                "mobile_invalid",
                "手机号码无效：请填写本人实名的 11 位中国大陆手机号码，管局短信核验验证码将发送至该号码。",
                field,
            )
        ]
    return []


def is_valid_email(value: str) -> bool:
    """``local@domain``: dot-atom local part; the domain may be Unicode (checked via IDNA)."""
    v = (value or "").strip()
    if v.count("@") != 1 or len(v) > 254:
        return False
    local, host = v.split("@")
    if not local or len(local) > 64 or _EMAIL_LOCAL_RE.match(local) is None:
        return False
    return _valid_email_host(host)


@lru_cache(maxsize=4096)  # pure; a few mail hosts (qq.com, 163.com…) recur across thousands of rows
def _valid_email_host(host: str) -> bool:
    try:
        ascii_host = idna.encode(host.rstrip("."), uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        return False
    labels = ascii_host.split(".")
    return len(labels) >= 2 and all(_LABEL_RE.match(x) for x in labels) and not labels[-1].isdigit()


def check_email(value: str, field: str) -> list[Problem]:
    """A principal's e-mail address (filing notices go to it): syntax only, product.md."""
    if not is_valid_email(value):
        return [
            error(
                "email_invalid",
                "电子邮箱地址无效：请填写可正常收信的邮箱，例如 name@example.com。",
                field,
            )
        ]
    return []


def check_id_number(
    id_type: str, value: str, field: str, *, today: date | None = None, min_age: int | None = None
) -> list[Problem]:
    """Dispatch on a principal's ``id_type``; an unknown type gets the plausible-shape check."""
    if not (value or "").strip():
        return [error("id_number_invalid", "请填写负责人的证件号码。", field)]
    if id_type == ID_TYPE_RESIDENT:
        return check_resident_id(value, field, today=today, min_age=min_age)
    if id_type == ID_TYPE_HMT_PERMIT:
        return check_hmt_permit(value, field, today=today, min_age=min_age)
    if id_type == ID_TYPE_FOREIGN_PR:
        return check_foreign_pr(value, field)
    return check_other_id(value, field)


def check_principal(
    p: Principal, prefix: str, *, today: date | None = None, min_age: int | None = None
) -> list[Problem]:
    """A 负责人 (subject or website principal): name, ID by type, mobile and e-mail.

    ``prefix`` is the field path of the principal, e.g. ``proposed.principal``; fields are
    reported as ``<prefix>.name``, ``<prefix>.id_number``, ``<prefix>.mobile``, ``<prefix>.email``.
    """
    out: list[Problem] = []
    if not (p.name or "").strip():
        out.append(
            error("principal_name_required", "请填写负责人姓名（与证件一致）。", f"{prefix}.name")
        )
    out += check_id_number(
        p.id_type, p.id_number, f"{prefix}.id_number", today=today, min_age=min_age
    )
    out += check_mobile(p.mobile, f"{prefix}.mobile")
    out += check_email(p.email, f"{prefix}.email")
    return out
