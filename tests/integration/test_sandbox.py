"""The authority sandbox over real HTTP (uvicorn on a free loopback port).

Time is a fake clock the tests move, except where the background ticker itself is under test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from bs4 import BeautifulSoup
from fastapi import FastAPI

from beiandesk import demo_data
from beiandesk.signing import shared_secret, verify
from beiandesk.config import Settings
from beiandesk.sandbox.app import create_sandbox_app, create_standalone_app

M1, M2 = "13912345678", "13687654321"


# -- helpers (test_authority_gateway imports these) ------------------------------------------
class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, var_dir=tmp_path, secret_key="test-secret-key",  # type: ignore[call-arg]
                    gateway_secret=None, **overrides)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free 127.0.0.1 port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def order_body(key: str = "change-1-1", mobiles: tuple[str, ...] = (M1,),
               callback_url: str | None = None) -> dict[str, Any]:
    principals = [{"role": "subject", "name": "王芳", "id_number": "310104198503152023",
                   "mobile": mobiles[0]}]
    principals += [{"role": "website", "name": f"负责人{i}", "id_number": "310115199207083012",
                    "mobile": m} for i, m in enumerate(mobiles)]
    body: dict[str, Any] = {
        "idempotency_key": key, "province": "上海", "order_type": "website_change",
        "filing_number": "沪ICP备20260002号-2",
        "subject": {"name": "上海云帆信息科技有限公司", "kind": "enterprise"},
        "website": {"name": "云帆开发者文档中心", "domains": ["yunfan-dev.cn"]},
        "principals": principals,
    }
    if callback_url:
        body["callback_url"] = callback_url
    return body


class Receiver:
    """A tiny callback receiver: records each POST, answers from ``statuses`` (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append((dict(self.headers.items()), body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/authority/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def states(self) -> list[tuple[str, str]]:
        return [(json.loads(b)["event"], json.loads(b)["state"]) for _, b in self.calls]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Box:
    http: httpx.Client
    clock: FakeClock
    settings: Settings

    def submit(self, **kw: Any) -> dict[str, Any]:
        r = self.http.post("/orders", json=order_body(**kw))
        assert r.status_code == 201, r.text
        return r.json()

    def order(self, ref: str) -> dict[str, Any]:
        r = self.http.get(f"/orders/{ref}")
        assert r.status_code == 200, r.text
        return r.json()

    def codes(self, ref: str) -> dict[str, str]:
        """mobile → the latest code the sandbox phone received for ``ref``."""
        return {m["to"]: m["code"] for m in self.http.get("/messages", params={"ref": ref}).json()}

    def verify(self, ref: str, mobile: str, code: str) -> httpx.Response:
        return self.http.post("/miit/verify", json={"ref": ref, "mobile": mobile, "code": code})


@contextmanager
def running(tmp_path: Path, clock: Any = None, **overrides: Any) -> Iterator[Box]:
    settings = make_settings(tmp_path, **overrides)
    fake = clock if clock is not None else FakeClock()
    app = create_standalone_app(settings, clock=fake)
    with serve(app) as url, httpx.Client(base_url=url + "/sandbox", timeout=10) as http:
        yield Box(http, fake, settings)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    with running(tmp_path) as b:
        yield b


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    """One server for the read-only registry and site tests."""
    with running(tmp_path_factory.mktemp("shared")) as b:
        yield b


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# -- submit ----------------------------------------------------------------------------------
def test_submit_is_idempotent_and_sends_no_new_codes(box: Box) -> None:
    first = box.submit()
    assert first["state"] == "sms_pending" and first["ref"].startswith("SBX-20261127-0001-")
    again = box.http.post("/orders", json=order_body())
    assert again.status_code == 200 and again.json()["ref"] == first["ref"]
    assert len(box.http.get("/messages").json()) == 1
    other = box.http.post("/orders", json={**order_body(), "filing_number": "沪ICP备20260002号-1"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    second = box.submit(key="change-2-1")
    assert second["ref"].startswith("SBX-20261127-0002-")
    listed = box.http.get("/orders").json()
    assert [o["ref"] for o in listed] == [second["ref"], first["ref"]]


def test_order_views_mask_personal_data(box: Box) -> None:
    order = box.submit()
    text = json.dumps(order, ensure_ascii=False)
    assert M1 not in text and "310104198503152023" not in text
    assert order["principals"][0]["mobile"] == "139****5678"
    assert order["principals"][0]["id_number"] == "3101**********2023"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [({"principals": [{"role": "website", "name": "x", "mobile": "12345"}]}, 422, "mobile_invalid"),
     ({"principals": []}, 422, "invalid_request"),
     ({"order_type": "new_filing"}, 422, "invalid_request"),
     ({"idempotency_key": None}, 422, "idempotency_key_required")],
)
def test_submit_refuses_bad_orders_with_problem_json(box: Box, change: dict[str, Any],
                                                     status: int, code: str) -> None:
    r = box.http.post("/orders", json={**order_body(), **change})
    assert r.status_code == status and r.json()["code"] == code
    assert r.headers["content-type"].startswith("application/problem+json")


# -- SMS -------------------------------------------------------------------------------------
def test_codes_go_out_after_the_delay(tmp_path: Path) -> None:
    with running(tmp_path, sandbox_sms_delay_s=60, sandbox_sms_window_s=3600) as box:
        ref = box.submit()["ref"]
        assert box.order(ref)["sms_sent_at"] is None and box.codes(ref) == {}
        r = box.verify(ref, M1, "123456")
        assert r.status_code == 409 and r.json()["code"] == "sms_not_sent"
        box.clock.advance(59.9)
        assert box.codes(ref) == {}
        box.clock.advance(0.1)
        order = box.order(ref)
        sent = datetime.fromisoformat(order["sms_sent_at"])
        assert sent == box.clock.t
        assert datetime.fromisoformat(order["sms_deadline"]) == sent + timedelta(seconds=3600)
        assert list(box.codes(ref)) == [M1]


def test_one_sms_per_distinct_mobile_and_review_once_all_verified(box: Box) -> None:
    ref = box.submit(mobiles=(M1, M2))["ref"]  # M1 is both the subject's and a website's
    messages = box.http.get("/messages").json()
    assert sorted(m["to"] for m in messages) == sorted([M1, M2])
    for m in messages:
        assert len(m["code"]) == 6 and m["code"].isdigit() and m["code"] in m["text"]
        assert "沙箱" in m["text"] and "24小时" in m["text"] and m["ref"] == ref
        datetime.fromisoformat(m["sent_at"])
    assert [m["to"] for m in box.http.get("/messages", params={"to": M2}).json()] == [M2]
    codes = box.codes(ref)
    first = box.verify(ref, M1, codes[M1]).json()
    assert first["ok"] is True and first["state"] == "sms_pending"
    second = box.verify(ref, M2, codes[M2]).json()
    assert second["ok"] is True and second["state"] == "under_review"
    assert all(v["verified"] for v in box.order(ref)["verifications"])


def test_five_wrong_entries_then_the_sixth_returns_the_order(box: Box) -> None:
    ref = box.submit(mobiles=(M1, M2))["ref"]
    codes = box.codes(ref)
    lefts = []
    for i in range(5):  # the counter is shared by the order's mobiles
        r = box.verify(ref, (M1, M2)[i % 2], _wrong(codes[(M1, M2)[i % 2]])).json()
        assert r["ok"] is False and r["state"] == "sms_pending"
        lefts.append(r["attempts_left"])
    assert lefts == [4, 3, 2, 1, 0]
    sixth = box.verify(ref, M1, codes[M1]).json()  # even the right code is too late
    assert sixth["ok"] is False and sixth["state"] == "returned"
    assert sixth["reason"] == "sms_failed"
    order = box.order(ref)
    assert (order["state"], order["reason"]) == ("returned", "sms_failed")
    assert box.verify(ref, M2, codes[M2]).json()["ok"] is False


def test_a_right_code_before_the_sixth_attempt_still_counts(box: Box) -> None:
    ref = box.submit()["ref"]
    code = box.codes(ref)[M1]
    for _ in range(5):
        box.verify(ref, M1, _wrong(code))
    assert box.order(ref)["state"] == "sms_pending"
    assert box.verify(ref, M1, code).json()["state"] == "returned"


def test_past_the_window_the_order_is_returned_sms_timeout(tmp_path: Path) -> None:
    with running(tmp_path, sandbox_sms_window_s=300) as box:
        ref = box.submit()["ref"]
        code = box.codes(ref)[M1]
        assert "5分钟" in box.http.get("/messages").json()[0]["text"]
        box.clock.advance(299)
        assert box.order(ref)["state"] == "sms_pending"
        box.clock.advance(1)
        order = box.order(ref)
        assert (order["state"], order["reason"]) == ("returned", "sms_timeout")
        r = box.verify(ref, M1, code).json()
        assert r["ok"] is False and r["state"] == "returned"


def test_resend_issues_new_codes_and_a_new_window(tmp_path: Path) -> None:
    with running(tmp_path, sandbox_sms_window_s=300) as box:
        ref = box.submit()["ref"]
        old = box.codes(ref)[M1]
        r = box.http.post(f"/orders/{ref}/resend")
        assert r.status_code == 409 and r.json()["code"] == "order_not_returned"
        box.clock.advance(300)
        assert box.order(ref)["state"] == "returned"
        resent = box.http.post(f"/orders/{ref}/resend", headers={"Idempotency-Key": "r1"})
        assert resent.status_code == 200
        order = resent.json()
        assert (order["state"], order["round"], order["reason"]) == ("sms_pending", 2, None)
        assert datetime.fromisoformat(order["sms_deadline"]) == box.clock.t + timedelta(seconds=300)
        new = box.codes(ref)[M1]
        assert new != old and len(box.http.get("/messages").json()) == 2
        replay = box.http.post(f"/orders/{ref}/resend", headers={"Idempotency-Key": "r1"})
        assert replay.status_code == 200 and replay.json()["round"] == 2
        assert len(box.http.get("/messages").json()) == 2
        stale = box.verify(ref, M1, old).json()
        assert stale["ok"] is False and stale["attempts_left"] == 4
        assert box.verify(ref, M1, new).json()["state"] == "under_review"
        # resubmitting with the original idempotency key does not resend
        assert box.http.post("/orders", json=order_body()).json()["round"] == 2


def test_unknown_order_and_mobile_are_problems(box: Box) -> None:
    r = box.http.get("/orders/SBX-19990101-0001-XXX")
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"
    r = box.verify("SBX-19990101-0001-XXX", M1, "123456")
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"
    ref = box.submit()["ref"]
    r = box.verify(ref, M2, "123456")
    assert r.status_code == 422 and r.json()["code"] == "mobile_not_in_order"
    assert box.order(ref)["attempts_left"] == 5
    assert box.http.post("/miit/verify", json={"ref": ref}).json()["code"] == "invalid_request"


# -- decisions -------------------------------------------------------------------------------
def _under_review(box: Box, key: str) -> str:
    ref = box.submit(key=key)["ref"]
    assert box.verify(ref, M1, box.codes(ref)[M1]).json()["state"] == "under_review"
    return ref


def test_decisions_approve_and_reject(box: Box) -> None:
    pending = box.submit(key="k-pending")["ref"]
    r = box.http.post(f"/orders/{pending}/decision", json={"decision": "approve"})
    assert r.status_code == 409 and r.json()["code"] == "order_not_under_review"
    ref = _under_review(box, "k-approve")
    r = box.http.post(f"/orders/{ref}/decision", json={"decision": "approve", "reasons": []})
    assert r.status_code == 200 and r.json()["state"] == "approved"
    r = box.http.post(f"/orders/{ref}/decision", json={"decision": "reject", "reasons": ["x"]})
    assert r.status_code == 409
    ref = _under_review(box, "k-reject")
    r = box.http.post(f"/orders/{ref}/decision", json={"decision": "reject", "reasons": []})
    assert r.status_code == 422 and r.json()["code"] == "reasons_required"
    r = box.http.post(f"/orders/{ref}/decision",
                      json={"decision": "reject", "reasons": ["首页未展示备案号"]})
    order = r.json()
    assert (order["state"], order["reason"], order["reasons"]) == (
        "rejected", "rejected", ["首页未展示备案号"])
    assert "首页未展示备案号" in order["reason_message"]
    r = box.http.post(f"/orders/{ref}/decision", json={"decision": "maybe"})
    assert r.status_code == 422


# -- callbacks -------------------------------------------------------------------------------
def test_callbacks_are_signed_and_follow_every_state_change(box: Box) -> None:
    receiver = Receiver()
    try:
        ref = box.submit(callback_url=receiver.url)["ref"]
        box.verify(ref, M1, box.codes(ref)[M1])
        box.http.post(f"/orders/{ref}/decision", json={"decision": "approve"})
        wait_for(lambda: len(receiver.calls) >= 3)
        assert receiver.states() == [("sms_sent", "sms_pending"),
                                     ("under_review", "under_review"), ("approved", "approved")]
        secret = shared_secret(box.settings)
        for headers, body in receiver.calls:
            assert verify(body, headers["X-Sandbox-Timestamp"], headers["X-Sandbox-Signature"],
                          secret, now=datetime.now(UTC))
            assert not verify(body + b" ", headers["X-Sandbox-Timestamp"],
                              headers["X-Sandbox-Signature"], secret, now=datetime.now(UTC))
            data = json.loads(body)
            assert data["ref"] == ref and datetime.fromisoformat(data["at"]) == box.clock.t
    finally:
        receiver.close()


def test_a_failed_callback_is_retried(box: Box) -> None:
    receiver = Receiver(statuses=(503,))
    try:
        box.submit(callback_url=receiver.url)
        wait_for(lambda: len(receiver.calls) >= 2, timeout=5)
        assert receiver.states() == [("sms_sent", "sms_pending")] * 2
    finally:
        receiver.close()


def test_the_ticker_returns_a_timed_out_order_and_calls_back_without_any_poll(
        tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        with running(tmp_path, clock=lambda: datetime.now(UTC), sandbox_sms_window_s=0.6) as box:
            box.submit(callback_url=receiver.url)
            wait_for(lambda: ("returned", "returned") in receiver.states(), timeout=5)
            body = json.loads(receiver.calls[-1][1])
            assert body["reason"] == "sms_timeout"
    finally:
        receiver.close()


# -- persistence and hosting -----------------------------------------------------------------
def test_orders_survive_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    with running(tmp_path, clock=clock) as box:
        ref = box.submit()["ref"]
        code = box.codes(ref)[M1]
    with running(tmp_path, clock=clock) as box:
        assert box.order(ref)["state"] == "sms_pending"
        assert box.codes(ref) == {M1: code}
        assert box.verify(ref, M1, code).json()["state"] == "under_review"
        assert box.http.post("/orders", json=order_body()).json()["ref"] == ref


def test_mounted_in_a_parent_app_under_sandbox(tmp_path: Path) -> None:
    sandbox_app = create_sandbox_app(make_settings(tmp_path), clock=FakeClock())
    parent = FastAPI()
    parent.mount("/sandbox", sandbox_app)
    with serve(parent) as url, httpx.Client(base_url=url) as http:
        sandbox_app.state.start_ticker()  # the host's lifespan does this: a mounted one's won't
        sandbox_app.state.start_ticker()  # idempotent
        assert sandbox_app.state.sandbox.running
        try:
            r = http.post("/sandbox/orders", json=order_body())
            assert r.status_code == 201
            assert r.headers["location"] == f"/sandbox/orders/{r.json()['ref']}"
            page = BeautifulSoup(http.get("/sandbox/").text, "html.parser")
            assert page.find("a", string="短信核验")["href"] == "/sandbox/miit/verify"
        finally:
            sandbox_app.state.stop_ticker()
        assert not sandbox_app.state.sandbox.running


def test_standalone_root_redirects_to_the_sandbox(box: Box) -> None:
    root = str(box.http.base_url).rstrip("/").removesuffix("/sandbox")
    r = httpx.get(root + "/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/sandbox/"


# -- pages -----------------------------------------------------------------------------------
def test_verify_page_for_people(box: Box) -> None:
    ref = box.submit()["ref"]
    page = box.http.get("/miit/verify", params={"ref": ref, "n": 1})
    soup = BeautifulSoup(page.text, "html.parser")
    assert "沙箱 — 非真实工信部系统" in soup.get_text()
    assert soup.find("meta", attrs={"name": "viewport"}) is not None
    for field in ("ref", "mobile", "code"):
        assert soup.find("label", attrs={"for": field}) is not None
    assert soup.find("input", id="ref")["value"] == ref
    assert soup.find("input", id="mobile")["value"] == M1
    code = box.codes(ref)[M1]
    wrong = box.http.post("/miit/verify", data={"ref": ref, "mobile": M1, "code": _wrong(code)})
    assert wrong.status_code == 200 and "核验未通过" in wrong.text and "剩余尝试次数" in wrong.text
    ok = box.http.post("/miit/verify", data={"ref": ref, "mobile": M1, "code": code})
    assert "核验成功" in ok.text and box.order(ref)["state"] == "under_review"
    missing = box.http.post("/miit/verify", data={"ref": "SBX-0", "mobile": M1, "code": "1"})
    assert missing.status_code == 404 and "不存在" in missing.text


def test_index_page_lets_an_operator_play_the_authority(box: Box) -> None:
    ref = _under_review(box, "k-index")
    returned = box.submit(key="k-returned")["ref"]
    wrong = _wrong(box.codes(returned)[M1])
    for _ in range(6):
        box.verify(returned, M1, wrong)
    soup = BeautifulSoup(box.http.get("/").text, "html.parser")
    text = soup.get_text()
    assert "沙箱 — 非真实工信部系统" in text and M1 in text  # the phone inbox shows full numbers
    actions = {f["action"] for f in soup.find_all("form")}
    assert f"/sandbox/orders/{ref}/decision" in actions
    assert f"/sandbox/orders/{returned}/resend" in actions
    r = box.http.post(f"/orders/{ref}/decision",
                      data={"decision": "reject", "reasons": "原因一\n原因二"},
                      follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/sandbox/?notice=")
    assert box.order(ref)["reasons"] == ["原因一", "原因二"]
    r = box.http.post(f"/orders/{returned}/resend", data={"via": "page"}, follow_redirects=False)
    assert r.status_code == 303 and box.order(returned)["state"] == "sms_pending"


# -- demo registry and websites --------------------------------------------------------------
@pytest.mark.parametrize("domain", sorted(demo_data.DOMAIN_FACTS))
def test_rdap_answers_for_demo_domains(shared: Box, domain: str) -> None:
    facts = demo_data.DOMAIN_FACTS[domain]
    r = shared.http.get(f"/rdap/domain/{domain.upper()}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/rdap+json")
    data = r.json()
    assert (data["objectClassName"], data["ldhName"], data["status"]) == ("domain", domain,
                                                                           ["active"])
    events = {e["eventAction"]: e["eventDate"] for e in data["events"]}
    assert events["expiration"].startswith(facts["expires_at"])
    assert events["registration"].startswith(facts["registered_at"])
    roles = {e["roles"][0]: {p[0]: p[3] for p in e["vcardArray"][1]} for e in data["entities"]}
    assert roles["registrar"]["fn"] == facts["registrar"]
    assert roles["registrant"]["fn"] == facts["holder"]
    assert data["beiandesk_facts"] == {"registrar_domestic": True, "real_name_verified": True,
                                       "holder": facts["holder"]}


def test_rdap_unknown_domain_is_an_rdap_404(shared: Box) -> None:
    r = shared.http.get("/rdap/domain/example.com")
    assert r.status_code == 404 and r.json()["errorCode"] == 404


@pytest.mark.parametrize(("domain", "number"), sorted(demo_data.website_filing_numbers().items()))
def test_demo_sites_show_their_filing_number_linked_to_miit(shared: Box, domain: str,
                                                            number: str) -> None:
    for host in (domain, "www." + domain):
        r = shared.http.get(f"/sites/{host}/")
        assert r.status_code == 200
        links = BeautifulSoup(r.text, "html.parser").find_all("a", href="https://beian.miit.gov.cn/")
        assert [a.get_text(strip=True) for a in links] == [number]


def test_unknown_site_is_404_and_bare_site_path_redirects(shared: Box) -> None:
    assert shared.http.get("/sites/example.com/").status_code == 404
    r = shared.http.get("/sites/mingyuan-notes.cn", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/sandbox/sites/mingyuan-notes.cn/"
