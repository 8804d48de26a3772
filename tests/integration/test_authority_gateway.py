"""The HTTP authority gateway client against the sandbox served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from beiandesk.adapters.authority import GatewayRejected, GatewayUnavailable, HttpAuthorityGateway
from beiandesk.sandbox.app import create_standalone_app
from tests.integration.test_sandbox import M1, FakeClock, make_settings, order_body, serve


def payload(**kw: Any) -> dict[str, Any]:
    body = order_body(**kw)
    del body["idempotency_key"]  # the gateway adds it
    return body


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("gw"))
    with serve(create_standalone_app(settings, clock=FakeClock())) as url:
        yield url + "/sandbox"


@pytest.fixture
def gateway(sandbox_url: str) -> Iterator[HttpAuthorityGateway]:
    with HttpAuthorityGateway(sandbox_url, timeout_s=5) as gw:
        yield gw


def test_submit_is_idempotent_and_status_reads_the_order(gateway: HttpAuthorityGateway) -> None:
    ref = gateway.submit(payload(), "gw-change-1-1")
    assert gateway.submit(payload(), "gw-change-1-1") == ref
    status = gateway.status(ref)
    assert (status["ref"], status["state"], status["reason"]) == (ref, "sms_pending", None)
    assert status["sms_deadline"] is not None


def test_callback_url_is_added_when_the_payload_has_none(sandbox_url: str) -> None:
    with HttpAuthorityGateway(sandbox_url, callback_url="http://127.0.0.1:9/cb") as gw:
        ref = gw.submit(payload(), "gw-callback-1")
        assert gw.status(ref)["callback_url"] == "http://127.0.0.1:9/cb"
        ref = gw.submit(payload(callback_url="http://127.0.0.1:9/own"), "gw-callback-2")
        assert gw.status(ref)["callback_url"] == "http://127.0.0.1:9/own"


def test_refusals_are_gateway_rejected_with_the_problem_code(
        gateway: HttpAuthorityGateway) -> None:
    ref = gateway.submit(payload(), "gw-refusals-1")
    with pytest.raises(GatewayRejected) as exc:
        gateway.resend(ref)
    assert (exc.value.status, exc.value.code) == (409, "order_not_returned")
    with pytest.raises(GatewayRejected) as exc:
        gateway.status("SBX-19990101-0001-XXX")
    assert (exc.value.status, exc.value.code) == (404, "order_not_found")
    with pytest.raises(GatewayRejected) as exc:
        gateway.submit({**payload(), "principals": []}, "gw-refusals-2")
    assert exc.value.status == 422


def test_resend_after_a_return_and_its_retry_is_harmless(gateway: HttpAuthorityGateway,
                                                         sandbox_url: str) -> None:
    ref = gateway.submit(payload(), "gw-resend-1")
    with httpx.Client(base_url=sandbox_url) as http:
        for _ in range(6):
            http.post("/miit/verify", json={"ref": ref, "mobile": M1, "code": "abcdef"})
    assert gateway.status(ref)["reason"] == "sms_failed"
    first = gateway.resend(ref, idempotency_key="resend-1")
    assert (first["state"], first["round"]) == ("sms_pending", 2)
    again = gateway.resend(ref, idempotency_key="resend-1")  # a retry after a lost answer
    assert (again["state"], again["round"]) == ("sms_pending", 2)


def test_no_personal_data_in_the_log(gateway: HttpAuthorityGateway,
                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        ref = gateway.submit(payload(), "gw-log-1")
        gateway.status(ref)
        with pytest.raises(GatewayRejected):
            gateway.resend(ref)
    assert ref in caplog.text
    assert M1 not in caplog.text and "310104198503152023" not in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_is_gateway_unavailable() -> None:
    with HttpAuthorityGateway(f"http://127.0.0.1:{_free_port()}/sandbox", timeout_s=2) as gw:
        with pytest.raises(GatewayUnavailable):
            gw.submit(payload(), "gw-down-1")
        with pytest.raises(GatewayUnavailable):
            gw.status("SBX-1")


async def _slow(_: Request) -> Response:
    await asyncio.sleep(1)
    return PlainTextResponse("late")


async def _broken(_: Request) -> Response:
    return PlainTextResponse("boom", status_code=503)


async def _garbled(_: Request) -> Response:
    return PlainTextResponse("<html>not json</html>")


@pytest.fixture(scope="module")
def flaky_url() -> Iterator[str]:
    routes = [Route(f"/{name}/orders/{{ref}}", fn) for name, fn in
              (("slow", _slow), ("broken", _broken), ("garbled", _garbled))]
    with serve(Starlette(routes=routes)) as url:
        yield url


@pytest.mark.parametrize("kind", ["slow", "broken", "garbled"])
def test_timeouts_5xx_and_garbled_answers_are_gateway_unavailable(flaky_url: str,
                                                                  kind: str) -> None:
    with (HttpAuthorityGateway(f"{flaky_url}/{kind}", timeout_s=0.3) as gw,
          pytest.raises(GatewayUnavailable)):
        gw.status("SBX-1")


def test_an_injected_client_is_used_and_left_open(sandbox_url: str) -> None:
    seen: list[str] = []
    client = httpx.Client(event_hooks={"request": [lambda r: seen.append(str(r.url))]})
    with HttpAuthorityGateway(sandbox_url, client=client) as gw:
        gw.submit(payload(), "gw-client-1")
    assert seen == [sandbox_url + "/orders"]
    assert not client.is_closed
    client.close()
