"""Website name and content-category rules (pure).

Sources: product.md §Rules ("Website name rules"); filing-rules-research.md §(b) 22–23
(Tencent 网站命名要求 [S20], Huawei per-province kb [S19], Tencent FAQ [S5][S25]); api.md
§Draft file (the 前置审批 categories).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from beiandesk.domain.domains import fileable_suffix, public_suffix, to_ascii
from beiandesk.domain.model import Subject, SubjectKind
from beiandesk.domain.problems import Problem, error, warning
from beiandesk.domain.provinces import provinces, read_data_csv

#: Tencent: a website name has at least 3 characters (3 汉字 on its Chinese pages) [S20].
MIN_NAME_LENGTH = 3
#: Words only state bodies may use (product.md; [S20] "China, Chinese, national, people").
STATE_WORDS = ("中国", "中华", "中央", "国家", "全国", "人民", "人大", "国务院", "政府", "政协")
#: Sensitive words (Tencent [S20]: "sensitive words such as anti-corruption or gambling").
SENSITIVE_WORDS = ("博彩", "赌博", "赌场", "六合彩", "彩票", "色情", "反腐")
#: A personal site may not look like an organisation's (product.md; [S20] "company",
#: "organization"); 论坛 is BBS, which individuals may not file (research §(a)).
PERSONAL_FORBIDDEN = (
    "公司",
    "企业",
    "集团",
    "有限",
    "股份",
    "组织",
    "协会",
    "学会",
    "商会",
    "基金会",
    "研究院",
    "研究所",
    "官网",
    "官方",
    "门户",
    "商城",
    "网店",
    "论坛",
)
#: Words to avoid without 前置审批 (research §(b) 22 [S25]): a warning, reviewers decide.
PERSONAL_AVOID = ("博客", "社区", "交流", "在线")
#: The commonest surnames, for the person's-name warning (a hint, never an error).
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_ASCII_ALNUM = re.compile(r"^[A-Za-z0-9 ]+$")
_ALLOWED_PUNCT = frozenset("·")  # the middle dot of transliterated and minority names


def _clean(name: str) -> str:
    return unicodedata.normalize("NFKC", name or "").strip()


def _squash(name: str) -> str:
    return re.sub(r"\s+", "", _clean(name))


def _is_state_body(subject: Subject) -> bool:
    """A 机构编制 organisation: credit code registered by 机构编制部门 (GB 32100 first char 1)."""
    return subject.kind == SubjectKind.enterprise and subject.id_number.strip().upper().startswith(
        "1"
    )


def _looks_like_domain(name: str) -> bool:
    ascii_name = to_ascii(name.replace(" ", ""))
    return ascii_name is not None and bool(fileable_suffix(ascii_name) or public_suffix(ascii_name))


def _has_special_symbol(name: str) -> bool:
    for ch in name:
        if ch.isspace() or ch in _ALLOWED_PUNCT:
            continue
        if unicodedata.category(ch)[0] in "PSC":
            return True
    return False


def check_website_name(name: str, subject: Subject, field: str = "proposed.name") -> list[Problem]:
    """Every rule of product.md §Website name rules, in the order a user fixes them."""
    text, squashed = _clean(name), _squash(name)
    if not squashed:
        return [error("name_too_short", "请填写网站名称（至少 3 个字，需体现网站内容）。", field)]
    out: list[Problem] = []
    if _looks_like_domain(text):
        out.append(
            error("name_is_domain", "网站名称不能是域名：请使用能体现网站内容的中文名称。", field)
        )
    elif _has_special_symbol(text):
        out.append(
            error(
                "name_special_symbol",
                "网站名称不能包含特殊符号（如 @ # & * ！ 《》 . - _ 等）：请只使用汉字、字母和数字。",
                field,
            )
        )
    if len(squashed) < MIN_NAME_LENGTH:
        out.append(
            error(
                "name_too_short",
                f"网站名称至少需要 {MIN_NAME_LENGTH} 个字：请补充能体现网站内容的名称。",
                field,
            )
        )
    if _ASCII_ALNUM.match(text) and not out:
        out.append(
            error(
                "name_only_digits_or_latin",
                "网站名称不能是纯数字、纯字母或仅由数字和字母组成：请使用包含汉字、体现网站内容的名称。",
                field,
            )
        )
    out += _reserved_words(squashed, subject, field)
    if subject.kind == SubjectKind.personal:
        out += _personal_rules(squashed, subject, field)
    return out


def _reserved_words(name: str, subject: Subject, field: str) -> list[Problem]:
    """State words and bare place names are for state bodies (product.md; [S20]); a word that is
    part of the subject's own registered name (e.g. 中国平安) is allowed. Sensitive words never."""
    out = []
    own = _squash(subject.name)
    if not _is_state_body(subject):
        used = [w for w in STATE_WORDS if w in name and w not in own]
        if used:
            out.append(
                error(
                    "name_reserved_word",
                    f"非政务主体的网站名称不能使用「{'、'.join(used)}」等字样：请删除后重新命名。",
                    field,
                )
            )
        if _is_place_name(name):
            out.append(
                error(
                    "name_reserved_word",
                    "网站名称不能只是地名：请使用能体现网站内容的名称。",
                    field,
                )
            )
    bad = [w for w in SENSITIVE_WORDS if w in name]
    if bad:
        out.append(
            error(
                "name_reserved_word",
                f"网站名称不能包含敏感词「{'、'.join(bad)}」：请重新命名。",
                field,
            )
        )
    return out


def _is_place_name(name: str) -> bool:
    for p in provinces().values():
        if name in (p.name, p.full_name, p.name + "市", p.name + "省"):
            return True
    return False


def _personal_rules(name: str, subject: Subject, field: str) -> list[Problem]:
    """A personal site may not look like an organisation's nor be a person's name ([S20])."""
    out = []
    words = [w for w in PERSONAL_FORBIDDEN if w in name]
    if words:
        out.append(
            error(
                "name_personal_forbidden_word",
                f"个人网站名称不能包含「{'、'.join(words)}」等单位或论坛类字样：请改用体现个人网站内容的名称。",
                field,
            )
        )
    people = {_squash(subject.name), _squash(subject.principal.name)} - {""}
    if name in people:
        out.append(
            error(
                "name_personal_forbidden_word",
                "个人网站名称不能是人名：请改用体现网站内容的名称，例如「××的技术笔记」。",
                field,
            )
        )
    elif 2 <= len(name) <= 3 and name[0] in COMMON_SURNAMES and all(_is_cjk(c) for c in name):
        out.append(
            warning(
                "name_personal_forbidden_word",
                "网站名称看起来像人名，管局可能不予通过：建议使用体现网站内容的名称。",
                field,
            )
        )
    avoid = [w for w in PERSONAL_AVOID if w in name]
    if avoid:
        out.append(
            warning(
                "name_personal_forbidden_word",
                f"个人网站名称建议避免「{'、'.join(avoid)}」等字样（易被认为需要前置审批）。",
                field,
            )
        )
    return out


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


# --- content categories and 前置审批 ------------------------------------------------------


@dataclass(frozen=True)
class Category:
    name: str
    preapproval: bool
    finance: bool


@lru_cache(maxsize=1)
def content_categories() -> dict[str, Category]:
    """``data/content_categories.csv``: MIIT service-content names and what they need."""
    return {
        r["name"]: Category(r["name"], r["preapproval"] == "true", r["finance"] == "true")
        for r in read_data_csv("content_categories.csv")
    }


def _lookup(category: str) -> Category | None:
    c = _clean(category)
    table = content_categories()
    if c in table:
        return table[c]
    # "网络出版", "在线教育": a known 前置审批 name inside a longer label counts as that name.
    for known in table.values():
        if known.preapproval and known.name in c:
            return known
    return None


def preapproval_categories(categories: Sequence[str]) -> list[str]:
    return [c for c in categories if (k := _lookup(c)) is not None and k.preapproval]


def finance_categories(categories: Sequence[str]) -> list[str]:
    return [c for c in categories if (k := _lookup(c)) is not None and k.finance]


def check_content_categories(
    categories: Sequence[str],
    subject: Subject,
    *,
    preapproval_uploaded: bool = False,
    field: str = "proposed.content_categories",
) -> list[Problem]:
    """前置审批 (research §(b) 23 [S5]; api.md): 新闻, 出版, 教育, 医疗保健, 药品和医疗器械, 文化,
    广播电影电视节目, 电子公告, 网络游戏 need the competent authority's approval before filing.
    Only organisations can obtain one (research §(a)), so a person cannot file these at all."""
    out = []
    for i, category in enumerate(categories):
        known = _lookup(category)
        if known is None or not known.preapproval:
            continue
        f = f"{field}[{i}]"
        if subject.kind == SubjectKind.personal:
            out.append(
                error(
                    "preapproval_required",
                    f"「{category}」类内容需要前置审批，个人主体无法办理：请删除该服务内容。",
                    f,
                )
            )
        elif not preapproval_uploaded:
            out.append(
                error(
                    "preapproval_required",
                    f"「{category}」类内容需要主管部门的前置审批文件：请上传审批文件，或删除该服务内容。",
                    f,
                )
            )
    return out
