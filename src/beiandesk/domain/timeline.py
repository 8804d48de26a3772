"""The timeline as people read it: folded saves, labels in Chinese, clean punctuation, and the
reviewers' internal notes kept from the applicant (pure).

Sources: api.md §Flow rules made precise ("Call notes and first-review notes are internal
(reviewers see them); the applicant sees the outcome and the reasons written for them");
issue 12 §5 (30+ lines of 保存网站信息, raw ``authorization_letter`` and ``#6``, 「。；」).

Events are stored one per act (webhooks and the audit need every one); folding happens when
the timeline is read, so rows written before these rules read cleanly too. Event ``kind``s
never change here: only ``message`` (and internal ``data`` members) do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from beiandesk.domain.materials_files import MATERIAL_KINDS
from beiandesk.domain.model import Event

#: Labels of the editable fields of a website change (the console's wording).
FIELD_LABELS: dict[str, str] = {
    "name": "网站名称",
    "domains": "域名",
    "home_url": "首页地址",
    "content_categories": "服务内容",
    "principal": "网站负责人",
    "resource": "接入资源",
}
#: Event kinds whose ``data`` may carry a reviewer's internal note.
NOTE_KINDS = frozenset({"call", "provider_approved"})
#: ``data`` members only staff may read.
INTERNAL_DATA = frozenset({"note"})

_END = "。；;，,、 "
_PUNCT_RUNS = (
    (re.compile(r"[。.]\s*[；;]"), "；"),
    (re.compile(r"[；;]\s*[。.]"), "。"),
    (re.compile(r"[，,]\s*[。；;]"), lambda m: m.group(0)[-1]),
    (re.compile(r"。{2,}"), "。"),
    (re.compile(r"；{2,}"), "；"),
    (re.compile(r"[。；]\s*）"), "）"),
)


def material_label(kind: str) -> str:
    return MATERIAL_KINDS.get(kind, "其他材料" if kind else "材料")


def field_list(fields: Iterable[str]) -> str:
    return "、".join(FIELD_LABELS.get(f, f) for f in fields)


def sentence_part(text: str) -> str:
    """A piece to embed in a longer sentence: trailing full stops and separators removed."""
    return (text or "").strip().rstrip(_END)


def join_reasons(messages: Iterable[str]) -> str:
    """Reasons joined by 「；」 with no 「。；」 in between (each reason is often a whole sentence)."""
    return "；".join(p for p in (sentence_part(m) for m in messages) if p)


def tidy(message: str) -> str:
    """Collapse doubled punctuation («重新提交。；» → «重新提交；», «。。» → «。»)."""
    out = message or ""
    for pattern, repl in _PUNCT_RUNS:
        out = pattern.sub(repl, out)
    return out


def edited_message(fields: Sequence[str]) -> str:
    return "保存网站信息" + (f"：{field_list(fields)}" if fields else "")


_OLD_EDITED = re.compile(r"（变更：(?P<labels>[^）]*)）")
_LABEL_TO_FIELD = {v: k for k, v in FIELD_LABELS.items()}


def _edited_fields(e: Event) -> list[str]:
    fields = e.data.get("fields")
    if isinstance(fields, list):
        return [str(f) for f in fields]
    m = _OLD_EDITED.search(e.message)  # written before saves listed their own fields
    if not m:
        return []
    return [_LABEL_TO_FIELD.get(x, x) for x in m.group("labels").split("、") if x]


def fold(events: Sequence[Event]) -> list[Event]:
    """Consecutive saves by the same person in the same state become one entry listing every
    field they changed, at the time of the last save."""
    out: list[Event] = []
    for e in events:
        prev = out[-1] if out else None
        if (
            e.kind == "edited"
            and prev is not None
            and prev.kind == "edited"
            and prev.actor == e.actor
            and prev.state == e.state
        ):
            fields = list(dict.fromkeys(_edited_fields(prev) + _edited_fields(e)))
            saves = int(prev.data.get("saves", 1)) + 1
            out[-1] = replace(
                e, message=edited_message(fields), data={**e.data, "fields": fields, "saves": saves}
            )
        elif e.kind == "edited":
            fields = _edited_fields(e)
            out.append(
                replace(e, message=edited_message(fields), data={**e.data, "fields": fields})
            )
        else:
            out.append(e)
    return out


def _material_message(e: Event) -> str:
    kind = e.data.get("material_kind") or e.data.get("kind")
    verb = "上传材料" if e.kind == "material_uploaded" else "删除材料"
    if isinstance(kind, str) and kind:
        return f"{verb}：{material_label(kind)}"
    return verb  # an old row without its kind: never a raw "#6"


def call_message(outcome: str, retry: bool, last_miss: bool) -> str:
    """What a call event says, to everyone (the note is shown to staff separately)."""
    if outcome == "reached":
        return "审核专员电话联系：已接通"
    if last_miss:
        return "审核专员电话联系：再次未接通"
    return (
        "审核专员电话联系：未接通，将于约 1 小时后再次致电" if retry else "审核专员电话联系：未接通"
    )


def _public_message(e: Event) -> str:
    """The message an applicant reads for an event that may once have embedded a note."""
    if e.kind == "call":
        outcome = str(e.data.get("outcome") or "")
        if outcome == "reached":
            return call_message("reached", False, False)
        if "再次未接通" in e.message:
            return call_message("unreachable", False, True)
        return call_message("unreachable", "next_call_at" in e.data, False)
    if e.kind == "provider_approved":
        return "初审通过，正在提交管局"
    return e.message


def readable(events: Sequence[Event], *, staff: bool) -> list[Event]:
    """The timeline for a reader: applicants never get internal notes, in the message or in
    ``data``; everyone gets folded saves, Chinese material kinds and clean punctuation."""
    out: list[Event] = []
    for e in fold(events):
        message = e.message
        data = e.data
        if e.kind in ("material_uploaded", "material_deleted"):
            message = _material_message(e)
        if not staff:
            if e.kind in NOTE_KINDS:
                message = _public_message(e)
            if INTERNAL_DATA & data.keys():
                data = {k: v for k, v in data.items() if k not in INTERNAL_DATA}
        out.append(replace(e, message=tidy(message), data=data))
    return out
