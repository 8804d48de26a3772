"""Expiry reminders and abandoned orders with a fake clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from beiandesk.domain.model import DomainFacts
from beiandesk.domain.states import ChangeState
from beiandesk.services import changes, reminders


def _outbox(deps, **kw):  # noqa: ANN001, ANN003, ANN202
    with deps.uow(readonly=True) as uow:
        return uow.outbox.list(limit=1000, **kw)


def _account(deps, username: str):  # noqa: ANN001, ANN202
    with deps.uow(readonly=True) as uow:
        return uow.accounts.by_username(username)[0]


def _website(deps, account):  # noqa: ANN001, ANN202
    with deps.uow(readonly=True) as uow:
        return next(w for w in uow.websites.list(account_id=account.id) if w.status == "open")


def _at_china_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


def test_domain_expiry_reminded_at_30_7_1_days_once_each(seeded, fakes) -> None:  # noqa: ANN001
    site = _website(seeded, _account(seeded, "demo-personal"))
    domain = site.info.domains[0]
    expires = date(2027, 3, 1)
    seeded.domain_lookup.facts[domain] = DomainFacts(expires_at=expires, source="fake")
    clock = fakes["clock"]
    clock.current = _at_china_noon(expires - timedelta(days=31))
    assert reminders.send_expiry_reminders(seeded) == 0

    sent_per_threshold = []
    for days in (30, 29, 7, 6, 1, 0):
        clock.current = _at_china_noon(expires - timedelta(days=days))
        sent_per_threshold.append(reminders.send_expiry_reminders(seeded))
    assert sent_per_threshold == [1, 0, 1, 0, 1, 0]
    sms = [i for i in _outbox(seeded, kind="sms") if i.payload.get("event") == "domain_expiring"]
    assert len(sms) == 3
    assert {i.payload["params"]["days"] for i in sms} == {"30", "7", "1"}
    assert all(domain in i.payload["text"] for i in sms)
    assert all(i.payload["to"] == site.info.principal.mobile for i in sms)
    mails = [i for i in _outbox(seeded, kind="email") if domain in i.payload["text"]]
    assert mails and all("到期" in m.payload["subject"] for m in mails)


def test_nothing_after_the_domain_is_renewed(seeded, fakes) -> None:  # noqa: ANN001
    site = _website(seeded, _account(seeded, "demo-personal"))
    domain = site.info.domains[0]
    expires = date(2027, 3, 1)
    seeded.domain_lookup.facts[domain] = DomainFacts(expires_at=expires, source="fake")
    clock = fakes["clock"]
    clock.current = _at_china_noon(expires - timedelta(days=30))
    assert reminders.send_expiry_reminders(seeded) == 1
    # Renewed for a year: the registry now says 2028; the cached facts age out and are re-read.
    seeded.domain_lookup.facts[domain] = DomainFacts(expires_at=date(2028, 3, 1), source="fake")
    for days in (7, 1):
        clock.current = _at_china_noon(expires - timedelta(days=days))
        assert reminders.send_expiry_reminders(seeded) == 0
    assert len([i for i in _outbox(seeded, kind="sms") if i.payload.get("event") == "domain_expiring"]) == 1


def test_server_expiry_reminded_for_every_open_website(seeded, fakes) -> None:  # noqa: ANN001
    # Every demo server expires on 2028-01-05; the three open websites are reminded, not the closed one.
    fakes["clock"].current = _at_china_noon(date(2028, 1, 5) - timedelta(days=30))
    assert reminders.send_expiry_reminders(seeded) == 3
    assert reminders.send_expiry_reminders(seeded) == 0
    sms = [i for i in _outbox(seeded, kind="sms") if i.payload.get("event") == "resource_expiring"]
    assert len(sms) == 3
    assert all("服务器" in i.payload["text"] for i in sms)
    upcoming = reminders.upcoming(seeded, within_days=60)
    assert {e.kind for e in upcoming} >= {"resource_expiring"}
    assert all(e.days_left == 30 for e in upcoming if e.kind == "resource_expiring")


def test_abandoned_draft_warned_then_closed(seeded, fakes) -> None:  # noqa: ANN001
    account = _account(seeded, "demo-personal")
    site = _website(seeded, account)
    clock = fakes["clock"]
    order = changes.open_change(seeded, account, site.id)
    clock.advance(days=52)
    assert reminders.close_abandoned(seeded) == {"warned": 0, "closed": 0}
    clock.advance(days=1)
    assert reminders.close_abandoned(seeded) == {"warned": 1, "closed": 0}
    assert reminders.close_abandoned(seeded) == {"warned": 0, "closed": 0}
    warned = [i for i in _outbox(seeded, change_id=order.id) if i.kind == "sms"]
    assert [i.payload["event"] for i in warned] == ["order_expiring"]
    clock.advance(days=7)
    assert reminders.close_abandoned(seeded) == {"warned": 0, "closed": 1}
    closed = changes.get_change(seeded, account, order.id)
    assert closed.state == ChangeState.withdrawn
    events = changes.events(seeded, account, order.id)
    assert events[-1].kind == "expired" and "60 天" in events[-1].message
    assert "order_expired" in [i.payload.get("event") for i in _outbox(seeded, kind="sms", change_id=order.id)]
    # The website is free again: a new change can be opened.
    assert changes.open_change(seeded, account, site.id).state == ChangeState.draft


def test_never_closed_without_the_warning(seeded, fakes) -> None:  # noqa: ANN001
    account = _account(seeded, "demo-personal")
    site = _website(seeded, account)
    order = changes.open_change(seeded, account, site.id)
    fakes["clock"].advance(days=75)  # the worker was down on day 53
    assert reminders.close_abandoned(seeded) == {"warned": 1, "closed": 0}
    fakes["clock"].advance(days=6)
    assert reminders.close_abandoned(seeded) == {"warned": 0, "closed": 0}
    fakes["clock"].advance(days=1)
    assert reminders.close_abandoned(seeded) == {"warned": 0, "closed": 1}
    assert changes.get_change(seeded, account, order.id).state == ChangeState.withdrawn


def test_touched_order_is_not_closed(seeded, fakes) -> None:  # noqa: ANN001
    account = _account(seeded, "demo-personal")
    site = _website(seeded, account)
    order = changes.open_change(seeded, account, site.id)
    fakes["clock"].advance(days=50)
    changes.update_change(seeded, account, order.id, {"name": "李明的新笔记"}, order.version)
    fakes["clock"].advance(days=20)
    assert reminders.close_abandoned(seeded) == {"warned": 0, "closed": 0}


def test_daily_runs_once_a_day(seeded, fakes) -> None:  # noqa: ANN001
    fakes["clock"].current = _at_china_noon(date(2028, 1, 5) - timedelta(days=30))
    first = reminders.daily(seeded)
    assert first["reminders"] == 3
    assert reminders.daily(seeded) == {}
    fakes["clock"].advance(days=1)
    assert reminders.daily(seeded) == {"reminders": 0, "warned": 0, "closed": 0}
