"""Which orders a reviewer's search and filters select (api.md: ``q``, ``state``, ``province``,
``overdue``). Pure: the service passes each order with its website number and subject."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from beiandesk.domain.model import ChangeOrder, Subject
from beiandesk.domain.states import ChangeState

#: The reviewer's tabs: first review (and returned orders to re-send), the MIIT SMS check, the 管局.
TABS: dict[str, frozenset[ChangeState]] = {
    "review": frozenset({ChangeState.provider_review, ChangeState.authority_returned}),
    "sms": frozenset({ChangeState.authority_sms}),
    "authority": frozenset({ChangeState.authority_review}),
}
TAB_LABELS = {"review": "待初审", "sms": "短信核验中", "authority": "管局审核中"}


def _norm(text: str) -> str:
    """Full-width to half-width, case-folded: 粤ＩＣＰ备 and 粤icp备 find 粤ICP备."""
    return unicodedata.normalize("NFKC", text or "").casefold().strip()


@dataclass(frozen=True)
class QueueFilter:
    q: str = ""
    state: ChangeState | None = None
    province: str = ""
    overdue: bool = False

    def matches(
        self, order: ChangeOrder, website_filing: str, subject: Subject | None, now: datetime
    ) -> bool:
        if self.state is not None and order.state != self.state:
            return False
        if self.province and (subject is None or subject.province != self.province):
            return False
        if self.overdue and not (
            order.due_at is not None
            and order.due_at < now
            and order.state == ChangeState.provider_review
        ):
            return False
        needle = _norm(self.q)
        if not needle:
            return True
        hay = [
            website_filing,
            order.current.name,
            order.proposed.name,
            *order.current.domains,
            *order.proposed.domains,
        ]
        if subject is not None:
            hay += [subject.name, subject.filing_number]
        return any(needle in _norm(h) for h in hay if h)
