"""issue 12: a worker killed during an SMTP send. The restarted process takes its own dead claim
back at start-up (not after a stale-claim timeout) and sends again with the same Message-ID."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.engine import build_engine
from beiandesk.adapters.db.migrate import upgrade
from beiandesk.adapters.db.uow import SqlUnitOfWork
from tests.e2e.live import LiveServer, free_port, wait_for


class StallingSink:
    """Keeps every message; holds the first DATA reply for a long time (the sender dies meanwhile)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        if len(self.messages) == 1:
            await asyncio.sleep(60)
        return "250 OK"


def _status(engine, item: int) -> str:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(select(t.outbox.c.status).where(t.outbox.c.id == item)).scalar_one()


def test_sigkill_mid_smtp_send_then_restart_resends_once_with_the_same_message_id(tmp_path, database_url) -> None:
    engine = build_engine(database_url)
    upgrade(engine)
    with SqlUnitOfWork(engine, DataCipher("e2e-data-key-0123456789")) as uow:
        item = uow.outbox.add("email", {"to": "user@example.com", "subject": "崩溃测试", "text": "正文"},
                              datetime.now(UTC), recipient_masked="u***@example.com", subject="崩溃测试")
        uow.commit()
    sink = StallingSink()
    sink.controller.start()
    env = {"BEIANDESK_SMTP_URL": f"smtp://127.0.0.1:{sink.port}"}
    first = LiveServer(tmp_path / "var1", database_url, env=env, args=("worker",))
    second = LiveServer(tmp_path / "var2", database_url, env=env, args=("worker",))
    try:
        first.start_worker()
        wait_for(lambda: len(sink.messages) == 1, timeout=30)
        assert _status(engine, item) == "sending"
        first.kill()
        killed_at = time.monotonic()
        second.start_worker()
        wait_for(lambda: _status(engine, item) == "sent", timeout=30)
        took = time.monotonic() - killed_at
        print(f"redelivered {took:.1f} s after the kill")
        assert took < 40, f"the dead claim waited {took:.1f} s: start-up reclaim did not happen"
        time.sleep(1.5)
        ids = [str(m["Message-ID"]) for m in sink.messages]
        assert len(ids) == 2 and ids[0] == ids[1] and f"outbox-{item}." in ids[0]
    finally:
        first.stop()
        second.stop()
        sink.controller.stop()
        engine.dispose()


@pytest.mark.pg
@pytest.mark.slow
def test_a_running_node_takes_over_a_dead_nodes_claim_within_60_s(tmp_path, request) -> None:
    database_url = request.getfixturevalue("pg_database")
    from tests.conftest import _truncate_pg
    _truncate_pg(database_url)
    engine = build_engine(database_url)
    upgrade(engine)
    sink = StallingSink()
    sink.controller.start()
    env = {"BEIANDESK_SMTP_URL": f"smtp://127.0.0.1:{sink.port}"}
    first = LiveServer(tmp_path / "var1", database_url, env=env, args=("worker",))
    second = LiveServer(tmp_path / "var2", database_url, env=env, args=("worker",))
    try:
        first.start_worker()
        time.sleep(3)                                   # the first worker is up and beating
        with SqlUnitOfWork(engine, DataCipher("e2e-data-key-0123456789")) as uow:
            item = uow.outbox.add("email", {"to": "user@example.com", "subject": "接管测试", "text": "正文"},
                                  datetime.now(UTC), recipient_masked="u***@example.com", subject="接管测试")
            uow.commit()
        wait_for(lambda: len(sink.messages) == 1, timeout=30)
        second.start_worker()                           # running (and past its start-up) before the first dies

        def beats() -> int:
            with engine.connect() as conn:
                return len(conn.execute(select(t.worker_heartbeats.c.worker_id)).all())
        wait_for(lambda: beats() == 2, timeout=30)
        time.sleep(2)
        assert _status(engine, item) == "sending"       # a live claimant keeps its claim
        first.kill()
        killed_at = time.monotonic()
        wait_for(lambda: _status(engine, item) == "sent", timeout=70)
        took = time.monotonic() - killed_at
        print(f"taken over {took:.1f} s after the kill")
        assert 20 < took < 60                           # not at once (it was alive), but within 60 s
        ids = [str(m["Message-ID"]) for m in sink.messages]
        assert len(ids) == 2 and ids[0] == ids[1]
    finally:
        first.stop()
        second.stop()
        sink.controller.stop()
        engine.dispose()
