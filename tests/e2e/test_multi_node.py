"""Several nodes behind one address (api.md §Several nodes; issue 11): the reference deployment.

Real processes: PostgreSQL, an S3 server (moto's server mode), one shared ``beiandesk sandbox``,
two API nodes (``serve --demo --no-worker``), two ``worker``s and Debian's haproxy running
``deploy/haproxy.cfg``. The whole flow goes through haproxy — console session and API alike —
with requests alternating between the nodes; one API node and one worker are killed with
SIGKILL mid-flow. Nothing is lost, no notification is sent twice, no order is handed to the
authority twice.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import MailSink, free_port, wait_for
from tests.photo_samples import encode, good_photo
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, make_bucket, moto_server
from tests.workflow_support import tiny_png

pytestmark = [pytest.mark.slow, pytest.mark.pg]

ROOT = Path(__file__).resolve().parents[2]
REQUIRE = os.environ.get("BEIANDESK_REQUIRE_BROWSER") == "1" or bool(os.environ.get("CI"))
PASSWORD = "beiandesk-demo"
CONSENT = {"accept_terms": True, "accept_privacy": True}


class Proc:
    """A subprocess with its log file; ``wait_url`` polls until it answers."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.cmd, self.env = name, cmd, env
        self.log = logs / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, url: str | None = None, timeout: float = 60) -> Proc:
        self._fh = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=self._fh, stderr=subprocess.STDOUT)
        if url:
            deadline = time.monotonic() + timeout
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer {url}: {self.log.read_text()[-3000:]}")
                time.sleep(0.2)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_fh", None):
            self._fh.close()


@pytest.fixture
def haproxy() -> str:
    path = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if path is None:
        if REQUIRE:
            pytest.fail("haproxy is not installed (apt-get install haproxy)")
        pytest.skip("haproxy is not installed")
    return path


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue("pg_database")
    from tests.conftest import _truncate_pg
    _truncate_pg(url)
    return url


def _login(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30)
    r = c.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def _console_login(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = c.get("/login")
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"csrf_token": csrf, "username": username, "password": PASSWORD, "next": ""})
    assert r.status_code in (302, 303), r.text
    return c


def _submit(c: httpx.Client, site_id: int, photo: bytes, served: Counter) -> int:
    r = c.post(f"/api/v1/websites/{site_id}/changes")
    assert r.status_code == 201, r.text
    served[r.headers.get("x-served-by")] += 1
    cid, etag = r.json()["id"], r.headers["etag"]
    r = c.get(f"/api/v1/changes/{cid}")
    served[r.headers.get("x-served-by")] += 1
    name = r.json()["proposed"]["name"]
    r = c.patch(f"/api/v1/changes/{cid}", json={"proposed": {"name": name + "站"}}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    served[r.headers.get("x-served-by")] += 1
    r = c.post(f"/api/v1/changes/{cid}/verification", files={"file": ("me.jpg", photo, "image/jpeg")})
    assert r.status_code == 201 and r.json()["passed"], r.text
    for p in c.get(f"/api/v1/changes/{cid}/precheck").json()["problems"]:
        if p["code"] == "material_missing":
            r = c.post(f"/api/v1/changes/{cid}/materials", data={"kind": p["kind"]},
                       files={"file": ("scan.png", tiny_png(), "image/png")})
            assert r.status_code == 201, r.text
            served[r.headers.get("x-served-by")] += 1
    check = c.get(f"/api/v1/changes/{cid}/precheck").json()
    assert check["ok"], check
    r = c.post(f"/api/v1/changes/{cid}/submit", json=CONSENT)
    assert r.status_code == 200 and r.json()["state"] == "provider_review", r.text
    return cid


def _approve(staff: httpx.Client, cid: int) -> None:
    r = staff.post(f"/api/v1/review/changes/{cid}/calls", json={"outcome": "reached", "note": "确认变更"})
    assert r.status_code in (200, 201), r.text
    r = staff.post(f"/api/v1/review/changes/{cid}/approve", json={"note": "通过"})
    assert r.status_code == 200, r.text


def test_two_api_nodes_two_workers_behind_haproxy(tmp_path: Path, pg_url: str, haproxy: str) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[Proc] = []
    with moto_server() as s3, MailSink() as sink:
        bucket = f"bd-{uuid.uuid4().hex[:12]}"
        make_bucket(s3, bucket)
        lb_port, sb_port = free_port(), free_port()
        lb = f"http://127.0.0.1:{lb_port}"
        sandbox = f"http://127.0.0.1:{sb_port}/sandbox"
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("BEIANDESK_", "AWS_"))}
        common = {
            **base_env,
            "BEIANDESK_DATABASE_URL": pg_url, "BEIANDESK_SECRET_KEY": "multi-node-secret-key-0123456789abcdef",
            "BEIANDESK_DATA_KEY": "multi-node-data-key-0123456789abcdef", "BEIANDESK_LOG_LEVEL": "WARNING",
            "BEIANDESK_STORAGE_URL": f"s3://{bucket}/files", "BEIANDESK_S3_ENDPOINT_URL": s3,
            "BEIANDESK_S3_REGION": REGION, "BEIANDESK_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "BEIANDESK_S3_SECRET_ACCESS_KEY": SECRET_KEY, "BEIANDESK_GATEWAY_URL": sandbox,
            "BEIANDESK_PUBLIC_URL": lb, "BEIANDESK_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "BEIANDESK_POLL_INTERVAL_S": "1",
        }
        cli = [sys.executable, "-m", "beiandesk"]
        try:
            procs.append(Proc("sandbox", [*cli, "sandbox", "--port", str(sb_port)],
                              {**common, "BEIANDESK_VAR_DIR": str(tmp_path / "sandbox")}, logs)
                         .start(f"{sandbox}/healthz"))
            api_ports = [free_port(), free_port()]
            apis = []
            for i, port in enumerate(api_ports, 1):  # one after the other: the first migrates and seeds
                p = Proc(f"api{i}", [*cli, "serve", "--demo", "--no-worker", "--port", str(port)],
                         {**common, "BEIANDESK_VAR_DIR": str(tmp_path / f"api{i}")}, logs)
                apis.append(p.start(f"http://127.0.0.1:{port}/readyz", timeout=90))
            procs += apis
            workers = [Proc(f"worker{i}", [*cli, "worker"], {**common, "BEIANDESK_VAR_DIR": str(tmp_path / f"worker{i}")},
                            logs).start() for i in (1, 2)]
            procs += workers
            time.sleep(2)
            for w in workers:
                assert w.proc.poll() is None, w.log.read_text()[-2000:]
            hap_env = {**base_env, "BEIANDESK_HAPROXY_BIND": f"127.0.0.1:{lb_port}", "BEIANDESK_HAPROXY_LOG": "stdout",
                       "BEIANDESK_API1": f"127.0.0.1:{api_ports[0]}", "BEIANDESK_API2": f"127.0.0.1:{api_ports[1]}"}
            procs.append(Proc("haproxy", [haproxy, "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], hap_env, logs)
                         .start(f"{lb}/readyz"))
            served: Counter = Counter()

            # The console through haproxy: one session, pages answered by both nodes.
            web = _console_login(lb, "demo-reviewer")
            for _ in range(4):
                r = web.get("/review")
                assert r.status_code == 200 and 'action="/logout"' in r.text, r.status_code  # signed in on each node
                served[r.headers.get("x-served-by")] += 1
            assert {"api1", "api2"} <= set(served), served

            # The API through haproxy: three orders by two applicants.
            photo = encode(good_photo())
            personal, enterprise = _login(lb, "demo-personal"), _login(lb, "demo-enterprise")
            staff = _login(lb, "demo-reviewer")
            cids = []
            for who in (personal, enterprise):
                for site in who.get("/api/v1/websites").json()[:2]:
                    cids.append(_submit(who, site["id"], photo, served))
            assert len(cids) >= 3
            assert served["api1"] >= 3 and served["api2"] >= 3, served

            # First approvals, then SIGKILL one API node and one worker while hand-overs are due.
            _approve(staff, cids[0])
            _approve(staff, cids[1])
            apis[0].kill()
            workers[0].kill()
            for cid in cids[2:]:
                _approve(staff, cid)  # haproxy sends these to the node that lives

            def refs() -> dict[int, str] | None:
                for p in (apis[1], workers[1]):
                    if p.proc.poll() is not None:
                        raise AssertionError(f"{p.name} died: {p.log.read_text()[-2000:]}")
                orders = {cid: staff.get(f"/api/v1/changes/{cid}").json() for cid in cids}
                if all(o["state"] == "authority_sms" and o["authority_ref"] for o in orders.values()):
                    return {cid: o["authority_ref"] for cid, o in orders.items()}
                return None

            by_ref = wait_for(refs, timeout=150, interval=1)

            # The principals confirm their codes at the sandbox; the 管局 approves.
            sb = httpx.Client(timeout=30)

            def messages() -> list[dict]:
                data = sb.get(f"{sandbox}/messages").json()
                return data["items"] if isinstance(data, dict) else data

            for ref in by_ref.values():
                wanted = len(sb.get(f"{sandbox}/orders/{ref}").json()["verifications"])
                codes = wait_for(lambda ref=ref, wanted=wanted: (
                    c := {m["to"]: m["code"] for m in messages() if m["ref"] == ref}) and len(c) >= wanted and c,
                    timeout=60)
                for mobile, code in codes.items():
                    r = sb.post(f"{sandbox}/miit/verify", json={"ref": ref, "mobile": mobile, "code": code})
                    assert r.status_code == 200 and r.json()["ok"], r.text
            for cid, ref in by_ref.items():
                wait_for(lambda cid=cid: staff.get(f"/api/v1/changes/{cid}").json()["state"] == "authority_review",
                         timeout=60)
                r = sb.post(f"{sandbox}/orders/{ref}/decision", json={"decision": "approve", "reasons": []})
                assert r.status_code == 200, r.text
            wait_for(lambda: all(staff.get(f"/api/v1/changes/{cid}").json()["state"] == "approved" for cid in cids),
                     timeout=120, interval=1)

            # Nothing lost: every order approved, every file readable through haproxy (from S3).
            for cid in cids:
                for m in staff.get(f"/api/v1/changes/{cid}/materials").json():
                    r = staff.get(f"/api/v1/changes/{cid}/materials/{m['id']}/content")
                    assert r.status_code == 200 and r.content == tiny_png()
            # No double hand-over: one sandbox order per change, and each change knows its own.
            sandbox_orders = sb.get(f"{sandbox}/orders").json()
            assert len(sandbox_orders) == len(cids), [o["ref"] for o in sandbox_orders]
            assert sorted(o["ref"] for o in sandbox_orders) == sorted(by_ref.values())
            # No duplicate notification: per recipient, subject and order one message (a send cut by
            # the kill may repeat, but then with its outbox row's one Message-ID: api.md), and as
            # many messages as e-mail rows the outbox has sent.
            time.sleep(3)
            ids: dict[tuple[str, str, str], set[str]] = defaultdict(set)
            for msg in sink.messages:
                body = msg.get_body(("plain",)).get_content()
                order = (re.findall(r"/changes/(\d+)", body) or ["-"])[0]
                ids[(str(msg["To"]), str(msg["Subject"]), order)].add(str(msg["Message-ID"]))
            assert ids and all(len(v) == 1 for v in ids.values()), {k: v for k, v in ids.items() if len(v) > 1}
            assert any("已通过管局审核" in subject for _, subject, _ in ids)
            from sqlalchemy import create_engine, func, select

            from beiandesk.adapters.db import tables as t
            engine = create_engine(pg_url)
            with engine.connect() as conn:
                sent = conn.execute(select(func.count()).select_from(t.outbox).where(
                    t.outbox.c.kind == "email", t.outbox.c.status == "sent")).scalar_one()
            engine.dispose()
            assert len({i for v in ids.values() for i in v}) == sent
            # haproxy took the dead node out; the living one still says it is ready
            assert httpx.get(f"{lb}/readyz").headers["x-served-by"] == "api2"
        finally:
            for p in reversed(procs):
                p.stop()
