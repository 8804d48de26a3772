"""A crash between a state change and its notification loses nothing and sends nothing twice.

The server commits the submission (and its outbox rows) with its worker switched off, is
killed with SIGKILL, and restarted with the worker on: every notice arrives exactly once.
With PostgreSQL, two separate worker processes share the outbox and still deliver each once.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, func, select

from beiandesk.adapters.db import tables as t
from tests.e2e.live import LiveServer, MailSink, wait_for
from tests.e2e.test_flow_http import submit_change


@pytest.fixture
def sink():  # noqa: ANN201
    with MailSink() as s:
        yield s


def _outbox_count(database_url: str, status: str | None = None) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        q = select(func.count()).select_from(t.outbox).where(t.outbox.c.kind == "email")
        if status:
            q = q.where(t.outbox.c.status == status)
        n = conn.execute(q).scalar_one()
    engine.dispose()
    return n


def test_sigkill_after_commit_then_restart_delivers_exactly_once(tmp_path, database_url, sink) -> None:
    env = {"BEIANDESK_SMTP_URL": f"smtp://127.0.0.1:{sink.port}"}
    first = LiveServer(tmp_path / "var", database_url, env={**env, "BEIANDESK_WORKER_IN_PROCESS": "false"})
    with first:
        submit_change(first)
        pending = _outbox_count(database_url, "pending")
        assert pending >= 1 and sink.messages == []
        first.kill()
    second = LiveServer(tmp_path / "var", database_url, env=env)
    with second:
        wait_for(lambda: _outbox_count(database_url, "sent") == pending, timeout=30)
        time.sleep(2)  # a duplicate would show up here
    per_message = Counter((str(m["To"]), str(m["Subject"])) for m in sink.messages)
    assert len(sink.messages) == pending
    assert set(per_message.values()) == {1}


@pytest.mark.pg
def test_two_workers_on_postgresql_never_deliver_one_message_twice(tmp_path, sink, request) -> None:
    database_url = request.getfixturevalue("pg_database")
    from tests.conftest import _truncate_pg
    _truncate_pg(database_url)
    from beiandesk.adapters.crypto import DataCipher
    from beiandesk.adapters.db.engine import build_engine
    from beiandesk.adapters.db.uow import SqlUnitOfWork
    from datetime import UTC, datetime
    engine = build_engine(database_url)
    cipher = DataCipher("e2e-data-key-0123456789")
    with SqlUnitOfWork(engine, cipher) as uow:
        for i in range(60):
            uow.outbox.add("email", {"to": f"user{i}@example.com", "subject": f"测试 {i}", "text": "正文"},
                           datetime.now(UTC), recipient_masked="u***@example.com", subject=f"测试 {i}")
        uow.commit()
    engine.dispose()
    env = {"BEIANDESK_SMTP_URL": f"smtp://127.0.0.1:{sink.port}"}
    workers = [LiveServer(tmp_path / f"var{n}", database_url, env=env, args=("worker",)) for n in (1, 2)]
    for w in workers:
        w.start_worker()
    try:
        wait_for(lambda: _outbox_count(database_url, "sent") == 60, timeout=60)
        time.sleep(2)
    finally:
        for w in workers:
            w.stop()
    assert len(sink.messages) == 60
    assert len({str(m["To"]) for m in sink.messages}) == 60
