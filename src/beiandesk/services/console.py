"""Read models and checks the web console needs beyond the API's use cases.

Everything here calls the same domain rules as the API; nothing decides on its own. The console
shows the rules' problems while the applicant types (``draft_problems``), the materials a change
needs (``material_slots``), and the flags of the review queue (``queue_flags``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beiandesk.domain.errors import DomainError
from beiandesk.domain.identity import normalize_mobile
from beiandesk.domain.materials import MaterialContext, required_materials
from beiandesk.domain.materials_files import MATERIAL_KINDS, sniff
from beiandesk.domain.model import Account, ChangeOrder, Subject, SubjectKind
from beiandesk.domain.precheck import PrecheckInput, run_precheck
from beiandesk.domain.problems import Problem, error
from beiandesk.domain.states import ChangeState, can_transition
from beiandesk.services.access import load_own, load_visible
from beiandesk.services.changes import edit_problems, unmask
from beiandesk.services.deps import Deps
from beiandesk.services.precheck import china_today, domain_facts

#: Problems about what the edit form holds; subject-level ones are not editable in a change
#: and are shown by the full pre-check instead.
_FORM_FIELDS = ("proposed.", "resource")


def draft_problems(d: Deps, actor: Account, change_id: int, patch: dict[str, Any]) -> list[Problem]:
    """The edit rules and the pre-check's rules on an *unsaved* proposal, for live feedback.

    Registry facts are looked up only for domains already filed on this website (a change may
    only remove domains, product.md §Domain rules), so typing never makes the server query an
    arbitrary name; the home-page probe is left to the full pre-check for the same reason.
    """
    now = d.clock.now()
    with d.uow(readonly=True) as uow:
        order = load_own(uow, actor, change_id)
        subject = uow.subjects.get(order.subject_id)
        account = uow.accounts.get(order.account_id)
        uploaded = frozenset(m.kind for m in uow.changes.materials(order.id))
        try:
            proposed = order.proposed.merged(unmask(patch, order.proposed))
        except (ValueError, TypeError) as exc:
            return [error("invalid_request", f"网站信息格式不正确：{exc}")]
        mobile = proposed.principal.mobile
        others = uow.subjects.subjects_using_mobile(mobile) - {subject.id} if mobile else set()
    filed = [x for x in proposed.domains if x in order.current.domains]
    inp = PrecheckInput(
        subject=subject,
        proposed=proposed,
        today=china_today(now),
        current=order.current,
        resource=proposed.resource if proposed.resource.kind else None,
        domain_facts=domain_facts(d, filed, now),
        account_enterprise_verified=account.enterprise_verified if account else None,
        materials=uploaded,
        mobiles_of_other_subjects=frozenset({normalize_mobile(mobile)}) if others else frozenset(),
        home_url_required=True,
    )
    problems = edit_problems(subject, order.current, proposed) + run_precheck(inp)
    seen: set[tuple[str, str | None]] = set()
    out = []
    for p in problems:
        if (p.code, p.field) in seen or not (p.field or "").startswith(_FORM_FIELDS):
            continue
        seen.add((p.code, p.field))
        out.append(p)
    return out


def principal_identity_fixed(subject: Subject) -> bool:
    """A personal subject's website principal is the subject principal; a website change cannot
    change who it is (product.md §Scenario rules; ``change.principal_rule``). The form shows the
    person as read-only instead of offering an edit the rule would refuse."""
    return subject.kind == SubjectKind.personal


@dataclass
class MaterialSlot:
    kind: str
    label: str
    required: bool
    files: list[Any] = field(default_factory=list)


def material_slots(d: Deps, actor: Account, change_id: int) -> list[MaterialSlot]:
    """The kinds this order needs (subject kind, province, content; ``domain.materials``) first,
    then every other kind as optional, each with the files uploaded for it."""
    with d.uow(readonly=True) as uow:
        order = load_visible(uow, actor, change_id)
        subject = uow.subjects.get(order.subject_id)
        files = uow.changes.materials(order.id)
    ctx = MaterialContext(subject, order.proposed.principal, order.proposed.content_categories)
    slots = [MaterialSlot(r.kind, r.label, True) for r in required_materials(ctx)]
    known = {s.kind for s in slots}
    slots += [
        MaterialSlot(k, label, False)
        for k, label in MATERIAL_KINDS.items()
        if k not in known  # the 核验单 too: the materials step offers it pre-filled for upload
    ]
    by_kind = {s.kind: s for s in slots}
    for f in files:
        by_kind.setdefault(f.kind, MaterialSlot(f.kind, MATERIAL_KINDS.get(f.kind, f.kind), False))
        by_kind[f.kind].files.append(f)
    return list(by_kind.values())


def verification_file(d: Deps, actor: Account, change_id: int) -> tuple[str, bytes]:
    """The latest verification photo/video, for the reviewer (who judges the clothing, which no
    detector does: product.md §Verification photo rules) and for the applicant's own preview."""
    with d.uow(readonly=True) as uow:
        load_visible(uow, actor, change_id)
        latest = uow.changes.latest_verification(change_id)
    if latest is None:
        raise DomainError("not_found", "尚未上传核验照片或视频。", status=404)
    data = d.files.get(latest["sha256"])
    media_type = (
        "video/mp4" if latest["media"] == "video" else (sniff(data) or "application/octet-stream")
    )
    return media_type, data


def verification_stream(d: Deps, actor: Account, change_id: int) -> tuple[str, Iterator[bytes]]:
    """:func:`verification_file` as chunks (the type is sniffed from the first one)."""
    with d.uow(readonly=True) as uow:
        load_visible(uow, actor, change_id)
        latest = uow.changes.latest_verification(change_id)
    if latest is None:
        raise DomainError("not_found", "尚未上传核验照片或视频。", status=404)
    chunks = d.files.open_read(latest["sha256"])
    first = next(chunks, b"")
    media_type = (
        "video/mp4" if latest["media"] == "video" else (sniff(first) or "application/octet-stream")
    )
    return media_type, itertools.chain([first], chunks)


def queue_flags(order: ChangeOrder, now: datetime) -> dict[str, bool]:
    """Highlights of the review queue, as the API's queue reports them: first review past its
    working-day deadline, and a retry call that is due (product.md §The flow 5)."""
    return {
        "overdue": bool(
            order.due_at and order.due_at < now and order.state == ChangeState.provider_review
        ),
        "call_due": bool(order.next_call_at and order.next_call_at <= now),
    }


def filing_numbers(d: Deps, actor: Account, orders: list[ChangeOrder]) -> dict[int, str]:
    """website id → filing number for a page of orders, in one query (no N+1 on the queue)."""
    subject_ids = {o.subject_id for o in orders}
    if not subject_ids:
        return {}
    with d.uow(readonly=True) as uow:
        sites = uow.websites.list(
            account_id=None if actor.is_staff else actor.id, subject_ids=subject_ids
        )
    return {w.id: w.filing_number for w in sites}


def can_withdraw(order: ChangeOrder) -> bool:
    """Withdrawal follows the state table, except once first review passed (``change.withdraw``)."""
    return can_transition(order.state, ChangeState.withdrawn) and order.review_passed_at is None


def has_reached_call(order: ChangeOrder) -> bool:
    """First review passes only after a reached call (``change.approve_first_review``)."""
    return any(c.outcome == "reached" for c in order.calls)
