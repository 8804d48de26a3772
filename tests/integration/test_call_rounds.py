"""Calls per submission round, in the database (issue 12 §1), on SQLite and PostgreSQL.

The bug: ``submit`` cleared ``calls`` in memory, but the stored calls came back on the next
load — the queue still showed 未接通（2 次）, one new miss rejected again, and after a 管局
rejection the old round's 已接通 let 通过 through without a call in the new round.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from beiandesk.domain.errors import DomainError
from beiandesk.services import authority, changes, jobs, review
from tests.workflow_support import account, submitted_change


def _resubmit(deps, applicant, change_id: int, name: str):  # noqa: ANN001, ANN202
    o = changes.get_change(deps, applicant, change_id)
    changes.update_change(deps, applicant, change_id, {"name": name}, o.version)
    return changes.submit(deps, applicant, change_id, True, True)


def test_unreachable_rejection_then_resubmission_starts_with_no_misses(seeded, fakes) -> None:
    order = submitted_change(seeded, name="明远技术随笔")
    reviewer, applicant = account(seeded, "demo-reviewer"), account(seeded, "demo-personal")
    review.log_call(seeded, reviewer, order.id, "unreachable", "无人接听")
    fakes["clock"].advance(minutes=61)
    assert review.log_call(seeded, reviewer, order.id, "unreachable", "").state == "provider_rejected"

    fakes["clock"].advance(days=1)
    again = _resubmit(seeded, applicant, order.id, "明远技术园地")
    assert again.state == "provider_review" and again.round == 2
    queued = [o for o in review.queue(seeded, reviewer) if o.id == order.id]
    assert len(queued) == 1 and queued[0].calls == [] and queued[0].next_call_at is None
    # One miss in the new round is a first miss, not a second one.
    o = review.log_call(seeded, reviewer, order.id, "unreachable", "")
    assert o.state == "provider_review" and [c.outcome for c in o.calls] == ["unreachable"]
    assert changes.get_change(seeded, reviewer, order.id).state == "provider_review"
    with seeded.uow(readonly=True) as uow:  # the first round's calls are kept, not deleted
        assert len(uow.changes.get(order.id).calls) == 1


def test_authority_rejection_then_resubmission_needs_a_new_call(seeded, fakes) -> None:
    order = submitted_change(seeded, name="明远技术随笔")
    reviewer, applicant = account(seeded, "demo-reviewer"), account(seeded, "demo-personal")
    review.log_call(seeded, reviewer, order.id, "reached", "已确认")
    review.approve(seeded, reviewer, order.id, "")
    for item in jobs.due_outbox(seeded):
        jobs.deliver(seeded, item)
    ref = changes.get_change(seeded, applicant, order.id).authority_ref
    fakes["gateway"].set(ref, "under_review")
    authority.poll(seeded)
    fakes["gateway"].set(ref, "rejected", reasons=["首页未展示备案号"])
    authority.poll(seeded)
    assert changes.get_change(seeded, applicant, order.id).state == "authority_rejected"

    _resubmit(seeded, applicant, order.id, "明远技术园地")
    with pytest.raises(DomainError) as exc:
        review.approve(seeded, reviewer, order.id, "")
    assert exc.value.code == "call_required"
    assert changes.get_change(seeded, reviewer, order.id).review_passed_at is None
    review.log_call(seeded, reviewer, order.id, "reached", "")
    assert review.approve(seeded, reviewer, order.id, "").review_passed_at is not None


def test_second_miss_before_the_retry_time_is_refused(seeded, fakes) -> None:
    order = submitted_change(seeded, name="明远技术随笔")
    reviewer = account(seeded, "demo-reviewer")
    review.log_call(seeded, reviewer, order.id, "unreachable", "")
    fakes["clock"].advance(minutes=1)
    with pytest.raises(DomainError) as exc:
        review.log_call(seeded, reviewer, order.id, "unreachable", "")
    assert exc.value.code == "call_too_early" and exc.value.status == 409
    o = changes.get_change(seeded, reviewer, order.id)
    assert o.state == "provider_review" and len(o.calls) == 1


def test_call_retry_s_sets_the_wait(seeded, fakes) -> None:
    seeded.settings = seeded.settings.model_copy(update={"call_retry_s": 120})
    order = submitted_change(seeded, name="明远技术随笔")
    reviewer = account(seeded, "demo-reviewer")
    o = review.log_call(seeded, reviewer, order.id, "unreachable", "")
    assert o.next_call_at == fakes["clock"].now() + timedelta(seconds=120)
    fakes["clock"].advance(seconds=121)
    assert review.log_call(seeded, reviewer, order.id, "unreachable", "").state == "provider_rejected"
