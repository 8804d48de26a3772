"""Webhooks: admin API, signed deliveries to a real loopback receiver, retry, the delivery log."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from beiandesk import signing
from beiandesk.adapters.webhooks import HttpWebhookSender
from beiandesk.services import jobs
from tests.conftest import login
from tests.local_http import QuietServer
from tests.workflow_support import submitted_change

SECRET = "whsec-0123456789abcdef"


class Receiver:
    """Checks every request's signature; answers 500 to the first ``fail_first`` ones."""

    def __init__(self, clock, fail_first: int = 1) -> None:  # noqa: ANN001
        self.clock, self.fail_first = clock, fail_first
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                header = self.headers.get("X-Beiandesk-Signature")
                authentic = signing.verify_header(body, header, SECRET.encode(), now=outer.clock.now())
                outer.requests.append({"body": body, "authentic": authentic, "header": header,
                                       "host": self.headers.get("Host")})
                status = 401 if not authentic else (500 if len(outer.requests) <= outer.fail_first else 204)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/hooks/beiandesk"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(fakes):  # noqa: ANN001, ANN201
    r = Receiver(fakes["clock"])
    yield r
    r.close()


def _webhook_rows(deps) -> list:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        return uow.outbox.list(kind="webhook")


def test_loopback_receivers_are_refused_unless_allowed(client, app, receiver) -> None:
    admin = login(client, "demo-admin")
    app.deps.webhook_sender = HttpWebhookSender(allow_private=False)
    r = client.post("/api/v1/admin/webhooks", headers=admin,
                    json={"url": receiver.url, "secret": SECRET, "events": ["submitted"]})
    assert r.status_code == 422 and r.json()["code"] == "webhook_url_forbidden", r.text
    for url in ("http://10.0.0.8/x", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/"):
        r = client.post("/api/v1/admin/webhooks", headers=admin, json={"url": url, "secret": SECRET, "events": ["*"]})
        assert r.json()["code"] == "webhook_url_forbidden", (url, r.text)
    bad = [({"url": "ftp://example.com/x"}, "webhook_url_invalid"),
           ({"events": ["Not A Kind!"]}, "webhook_events_invalid"), ({"events": []}, "webhook_events_invalid"),
           ({"secret": "   "}, "webhook_secret_invalid")]
    for patch, code in bad:
        body = {"url": "https://hooks.example.com/x", "secret": SECRET, "events": ["approved"], **patch}
        r = client.post("/api/v1/admin/webhooks", headers=admin, json=body)
        assert r.status_code == 422 and r.json()["code"] == code, (patch, r.text)
    assert client.get("/api/v1/admin/webhooks", headers=admin).json() == []
    reviewer = login(client, "demo-reviewer")
    assert client.get("/api/v1/admin/webhooks", headers=reviewer).status_code == 403


def test_signed_delivery_fails_once_then_the_retry_succeeds(client, app, seeded, fakes, receiver) -> None:
    deps = seeded
    deps.webhook_sender = HttpWebhookSender(allow_private=True)
    admin = login(client, "demo-admin")
    r = client.post("/api/v1/admin/webhooks", headers=admin,
                    json={"url": receiver.url, "secret": SECRET, "events": ["submitted", "approved"]})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert "secret" not in hook and hook["events"] == ["submitted", "approved"]
    assert [h["id"] for h in client.get("/api/v1/admin/webhooks", headers=admin).json()] == [hook["id"]]
    # The secret is stored encrypted.
    with deps.uow(readonly=True) as uow:
        from sqlalchemy import select

        from beiandesk.adapters.db import tables as t
        stored = uow.conn.execute(select(t.webhooks.c.secret_enc)).scalar_one()
    assert SECRET not in stored

    woken: list[int] = []
    deps.wake = woken.extend
    order = submitted_change(deps, name="明远技术随笔")  # timeline: created, edited/uploads…, submitted
    rows = _webhook_rows(deps)
    assert len(rows) == 1 and rows[0].payload["kind"] == "submitted", [r.payload for r in rows]
    assert rows[0].id in woken  # the worker is woken after the commit, not left to its ticker

    assert jobs.deliver(deps, rows[0].id) == "pending"  # the receiver answered 500
    row = _webhook_rows(deps)[0]
    wait = (row.next_attempt_at - fakes["clock"].now()).total_seconds()
    assert 0 < wait <= 30, wait
    fakes["clock"].advance(seconds=wait)
    assert jobs.deliver(deps, row.id) == "sent"

    assert [x["authentic"] for x in receiver.requests] == [True, True]
    sent = json.loads(receiver.requests[-1]["body"])
    assert set(sent) == {"id", "kind", "change_id", "state", "at"}
    assert sent["kind"] == "submitted" and sent["change_id"] == order.id and sent["state"] == "provider_review"
    assert json.loads(receiver.requests[0]["body"])["id"] == sent["id"]  # same id: the receiver drops repeats
    assert receiver.requests[0]["host"].startswith("localhost:")  # pinned to the IP, Host kept

    log = client.get(f"/api/v1/admin/webhooks/{hook['id']}/deliveries", headers=admin).json()
    assert [(x["attempt"], x["status_code"], x["ok"]) for x in log] == [(2, 204, True), (1, 500, False)]
    assert all(x["event_id"] == sent["id"] and x["at"] for x in log)

    # Deleted: nothing more is queued; the log stays readable through the outbox.
    assert client.delete(f"/api/v1/admin/webhooks/{hook['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/admin/webhooks", headers=admin).json() == []
    assert client.delete(f"/api/v1/admin/webhooks/{hook['id']}", headers=admin).status_code == 404
    staff = login(client, "demo-reviewer")
    client.post(f"/api/v1/review/changes/{order.id}/calls", headers=staff, json={"outcome": "reached", "note": ""})
    assert len(_webhook_rows(deps)) == 1


def test_webhooks_are_in_openapi(client) -> None:
    spec = client.get("/openapi.json").json()
    assert {"post", "get"} <= set(spec["paths"]["/api/v1/admin/webhooks"])
    assert "delete" in spec["paths"]["/api/v1/admin/webhooks/{webhook_id}"]
    assert "get" in spec["paths"]["/api/v1/admin/webhooks/{webhook_id}/deliveries"]
    assert "/api/v1/authority/desk" in spec["paths"]
