"""A real server (`serve --demo` with GATEWAY_URL=desk) driven over HTTP: the authority desk flow,
with an integrator's webhook receiver that checks every signature and fails the first delivery.

Runs on SQLite and PostgreSQL. The worker in the server process delivers the webhooks.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from beiandesk import signing
from tests.e2e.live import LiveServer, wait_for
from tests.e2e.test_flow_http import submit_change
from tests.local_http import QuietServer

SECRET = "integrator-secret-0123456789"
KINDS = ["submitted", "provider_approved", "authority_submitted", "authority_review", "approved"]


class Receiver:
    def __init__(self) -> None:
        self.got: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = signing.verify_header(body, self.headers.get("X-Beiandesk-Signature"), SECRET.encode(),
                                           now=time.time())
                status = 503 if not outer.got else (200 if ok else 401)
                outer.got.append({"ok": ok, "event": json.loads(body), "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_desk_flow_with_signed_webhooks_over_http(tmp_path, database_url) -> None:
    receiver = Receiver()
    try:
        with LiveServer(tmp_path / "var", database_url, env={"BEIANDESK_GATEWAY_URL": "desk"}) as server:
            admin = server.client("demo-admin")
            r = admin.post("/api/v1/admin/webhooks", json={"url": receiver.url, "secret": SECRET, "events": KINDS})
            assert r.status_code == 201, r.text
            hook = r.json()

            cid = submit_change(server)
            staff = server.client("demo-reviewer")
            staff.post(f"/api/v1/review/changes/{cid}/calls", json={"outcome": "reached", "note": ""})
            assert staff.post(f"/api/v1/review/changes/{cid}/approve", json={"note": ""}).status_code == 200
            desk = staff.get("/api/v1/authority/desk").json()
            assert [o["stage"] for o in desk if o["id"] == cid] == ["waiting"]
            time.sleep(2)  # the worker must not hand it over by itself (no gateway)
            assert server.client("demo-personal").get(f"/api/v1/changes/{cid}").json()["state"] == "provider_review"

            r = staff.post(f"/api/v1/authority/desk/{cid}/sms-passed")
            assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
            r = staff.post(f"/api/v1/authority/desk/{cid}/submitted", json={"ref": "粤ICP受理-0007"})
            assert r.status_code == 200 and r.json()["state"] == "authority_sms" and r.json()["sms_deadline"]
            assert staff.post(f"/api/v1/authority/desk/{cid}/sms-passed").json()["state"] == "authority_review"
            r = staff.post(f"/api/v1/authority/desk/{cid}/decision", json={"decision": "approve", "reasons": []})
            assert r.status_code == 200 and r.json()["state"] == "approved", r.text

            def delivered() -> list[str] | None:
                kinds = [g["event"]["kind"] for g in receiver.got if g["status"] == 200]
                return kinds if set(KINDS) <= set(kinds) else None

            kinds = wait_for(delivered, timeout=60)
            assert all(g["ok"] for g in receiver.got), "every delivery carries a valid signature"
            assert {g["event"]["change_id"] for g in receiver.got} == {cid}
            first = receiver.got[0]["event"]
            assert sum(1 for g in receiver.got if g["event"]["id"] == first["id"]) == 2, receiver.got  # refused, retried
            assert kinds.count(first["kind"]) == 1  # delivered once; the refused try does not count
            # The worker writes an attempt to the log after the receiver has answered: wait for it.
            def logged() -> list[dict] | None:
                got = admin.get(f"/api/v1/admin/webhooks/{hook['id']}/deliveries").json()
                return got if len([x for x in got if x["event_id"] == first["id"]]) >= 2 else None

            log = wait_for(logged, timeout=30)
            assert {(x["status_code"], x["ok"]) for x in log} == {(503, False), (200, True)}
            assert [x["attempt"] for x in log if x["event_id"] == first["id"]] == [2, 1]
    finally:
        receiver.close()
