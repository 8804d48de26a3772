"""The one source of truth for change-order states (api.md §States of a change order).

API schemas, the database CHECK constraint and the console labels all read from here.
"""

from __future__ import annotations

from enum import StrEnum


class ChangeState(StrEnum):
    draft = "draft"
    provider_review = "provider_review"
    provider_rejected = "provider_rejected"
    authority_sms = "authority_sms"
    authority_returned = "authority_returned"
    authority_review = "authority_review"
    authority_rejected = "authority_rejected"
    approved = "approved"
    withdrawn = "withdrawn"


S = ChangeState

TRANSITIONS: dict[ChangeState, frozenset[ChangeState]] = {
    S.draft: frozenset({S.provider_review, S.withdrawn}),
    S.provider_review: frozenset({S.provider_rejected, S.authority_sms, S.withdrawn}),
    S.provider_rejected: frozenset({S.provider_review, S.withdrawn}),
    S.authority_sms: frozenset({S.authority_review, S.authority_returned}),
    S.authority_returned: frozenset({S.authority_sms, S.provider_rejected}),
    S.authority_review: frozenset({S.approved, S.authority_rejected}),
    S.authority_rejected: frozenset({S.provider_review, S.withdrawn}),
    S.approved: frozenset(),
    S.withdrawn: frozenset(),
}

#: States in which the applicant may edit the proposal, upload materials and submit.
EDITABLE: frozenset[ChangeState] = frozenset({S.draft, S.provider_rejected, S.authority_rejected})

#: States in which an order still blocks another order on the same website.
OPEN: frozenset[ChangeState] = frozenset(s for s in ChangeState if TRANSITIONS[s])

#: Console labels (Simplified Chinese).
LABELS: dict[ChangeState, str] = {
    S.draft: "草稿",
    S.provider_review: "接入商初审中",
    S.provider_rejected: "初审驳回，待修改",
    S.authority_sms: "管局短信核验中",
    S.authority_returned: "短信核验未通过，已退回接入商",
    S.authority_review: "管局审核中",
    S.authority_rejected: "管局驳回，待修改",
    S.approved: "已通过",
    S.withdrawn: "已撤回",
}

#: Which of the seed's six steps (1 填写信息 … 6 完成) a state belongs to, for progress bars.
STEP: dict[ChangeState, int] = {
    S.draft: 1,
    S.provider_rejected: 1,
    S.authority_rejected: 1,
    S.provider_review: 4,
    S.authority_sms: 5,
    S.authority_returned: 5,
    S.authority_review: 5,
    S.approved: 6,
    S.withdrawn: 1,
}

STEPS: tuple[str, ...] = (
    "填写网站信息",
    "核验与上传资料",
    "确认提交",
    "接入商初审",
    "管局审核",
    "完成",
)


def can_transition(src: ChangeState, dst: ChangeState) -> bool:
    return dst in TRANSITIONS[src]
