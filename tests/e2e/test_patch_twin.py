"""``PATCH /api/v1/changes/{id}`` is answered by a lean twin for its common case
(``routes_changes._patch_change_twin``, ``security.serve_twin``) and by FastAPI's own handler for
everything else. The same sequence of requests — every kind of body, content type, id, version
and caller — is sent to a fresh demo served with the twin and to one served by the plain route,
and every answer (status, headers that matter, body) and the state left behind must be alike."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, request_response
from fastapi.testclient import TestClient

from beiandesk.config import Settings
from beiandesk.entrypoints.api import routes_changes
from tests.conftest import KEYS, _truncate_pg, login
from tests.fakes import FakeClock, FakeDomainLookup, FakeGateway, FakeMailer, FakePhoto
from tests.fakes import FakeSiteProbe, FakeSms

PATCH_PATH = "/api/v1/changes/{change_id}"

CTYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    " application/json ;charset=UTF-8",
    "application/merge-patch+json",
    "application/jsonx",
    "text/plain",
    "application/x-www-form-urlencoded",
    None,
]
BODIES = [
    '{"name": "孪生测试网站"}'.encode(),
    '{"proposed": {"name": "孪生测试网站二"}}'.encode(),
    b'{"proposed": {"name": "x"}, "other": 1}',
    b'{"nmae": "x"}',
    b'{"name": null}',
    b'{"name": 5}',
    b'{"name": "a\\u0000b"}',
    b'{"domains": "not-a-list"}',
    b'{"mobile": "12"}',
    b"{}",
    b"[]",
    b'"just a string"',
    b"null",
    b"",
    b"{",
    b'{"name": "x",}',
    b"\xff\xfe\x00",
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    '{"name": "ûtf-16"}'.encode("utf-16"),
]


def _plain_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PATCH route served by FastAPI's own handler, as ``APIRoute`` builds it."""
    (route,) = [
        r
        for r in routes_changes.router.routes
        if isinstance(r, APIRoute) and r.path.endswith(PATCH_PATH) and "PATCH" in r.methods
    ]
    monkeypatch.setattr(route, "app", request_response(route.get_route_handler()))


def _answers(c: TestClient) -> list[Any]:
    owner = login(c, "demo-enterprise")
    other = login(c, "demo-personal")
    admin = login(c, "demo-admin")
    site = c.get("/api/v1/websites", headers=owner).json()[0]["id"]
    opened = c.post(f"/api/v1/websites/{site}/changes", headers=owner)
    assert opened.status_code == 201, opened.text
    change = opened.json()["id"]
    out: list[Any] = []

    def send(path: str, headers: dict[str, str], body: bytes, ctype: str | None) -> None:
        h = dict(headers)
        if ctype is not None:
            h["Content-Type"] = ctype
        r = c.request("PATCH", path, headers=h, content=body)
        out.append(
            (
                path,
                sorted(k for k in headers if k != "Authorization"),
                ctype,
                body,
                r.status_code,
                r.headers.get("content-type"),
                r.headers.get("etag"),
                r.headers.get("www-authenticate"),
                r.text,
            )
        )

    url = f"/api/v1/changes/{change}"
    # Every body under every content type, by the owner, any version.
    for ctype in CTYPES:
        for body in BODIES:
            send(url, {**owner, "If-Match": "*"}, body, ctype)
    # Ids that are not ids, out of range, someone else's, missing.
    for i in ("abc", "0", "-1", "2147483648", "1.5", "+1", " 1", "999999", str(change)):
        for body in (b'{"name": "id \xe6\xb5\x8b"}', b"[]", b"{"):
            send(f"/api/v1/changes/{i}", {**owner, "If-Match": "*"}, body, "application/json")
    # Versions: none, empty, stale, current, garbage, weak, two tags.
    version = c.get(url, headers=owner).headers["etag"]
    for tag in (None, "", '"1"', version, "garbage", f"W/{version}", '"999"', '"1", "2"'):
        headers = dict(owner) if tag is None else {**owner, "If-Match": tag}
        send(url, headers, b'{"name": "\xe7\x89\x88\xe6\x9c\xac"}', "application/json")
        send(url, headers, b'{"nmae": 1}', "application/json")
    # Callers: anonymous, a bad token, another applicant, staff; a wrong scheme.
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": owner["Authorization"].replace("Bearer", "Basic")},
        other,
        admin,
    ):
        for body in (b'{"name": "who"}', b"{"):
            send(url, {**headers, "If-Match": "*"}, body, "application/json")
    # And what the requests left behind: the order and its timeline.
    final = c.get(url, headers=owner)
    events = c.get(f"{url}/events", headers=owner)
    out.append((final.status_code, final.headers.get("etag"), final.text, events.text))
    return out


def _run(settings: Settings, fakes_factory: Any) -> list[Any]:
    from beiandesk import bootstrap
    from beiandesk.adapters.security import Passwords
    from beiandesk.entrypoints.api.app import create_app
    from beiandesk.services.seed import seed_demo

    built = bootstrap.build(
        settings,
        migrate=False,
        passwords=Passwords(time_cost=1, memory_cost=1024),
        **fakes_factory(),
    )
    try:
        seed_demo(built.deps)
        with TestClient(create_app(built), raise_server_exceptions=False) as c:
            return _answers(c)
    finally:
        built.engine.dispose()


def test_the_patch_twin_answers_what_fastapis_handler_answers(
    database_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fakes() -> dict[str, Any]:
        return {
            "clock": FakeClock(),
            "mailer": FakeMailer(),
            "sms": FakeSms(),
            "gateway": FakeGateway(),
            "domain_lookup": FakeDomainLookup(),
            "site_probe": FakeSiteProbe(),
            "photo": FakePhoto(),
        }

    def settings(run: str) -> Settings:
        if database_url.startswith("sqlite"):  # each run on a fresh copy of the template
            path = tmp_path / f"{run}.db"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            url = f"sqlite:///{path}"
        else:
            _truncate_pg(database_url)
            url = database_url
        return Settings(
            _env_file=None,
            var_dir=tmp_path / run / "var",
            database_url=url,
            storage_dir=tmp_path / run / "files",
            public_url="http://testserver",
            **KEYS,
        )

    twin = _run(settings("twin"), fakes)
    with monkeypatch.context() as m:
        _plain_form(m)
        plain = _run(settings("plain"), fakes)
    assert len(twin) == len(plain)
    for got, want in zip(twin, plain):
        assert got == want
    statuses = {a[4] for a in twin[:-1]}
    assert {200, 401, 404, 412, 422, 428} <= statuses, statuses
    # The twin did answer: most JSON-object saves by the owner are its own (next test).


def test_the_twin_serves_the_common_save_and_hands_the_rest_to_fastapi(
    client: TestClient,
) -> None:
    """The twin took effect: a well-formed save solves no FastAPI dependency; a body FastAPI
    must refuse (not JSON) is handed to FastAPI's handler, which solves them."""
    from fastapi import routing

    calls: list[str] = []
    original = routing.solve_dependencies

    async def counting(*a: object, **k: object) -> object:
        calls.append(k["request"].url.path)  # by path: background work may solve its own
        return await original(*a, **k)

    owner = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=owner).json()[0]["id"]
    change = client.post(f"/api/v1/websites/{site}/changes", headers=owner).json()["id"]
    url = f"/api/v1/changes/{change}"
    routing.solve_dependencies = counting
    try:
        r = client.patch(url, headers={**owner, "If-Match": '"1"'}, json={"name": "孪生"})
        assert r.status_code == 200 and r.headers["etag"] == '"2"', r.text
        assert url not in calls
        r = client.patch(
            url,
            headers={**owner, "If-Match": '"2"', "Content-Type": "text/plain"},
            content=b'{"name": "x"}',
        )
        assert r.status_code == 422, r.text
        assert url in calls
    finally:
        routing.solve_dependencies = original
    assert client.get(url, headers=owner).json()["proposed"]["name"] == "孪生"


def test_a_twin_needs_a_route_and_no_body_limit_of_its_own() -> None:
    from fastapi import APIRouter

    from beiandesk.entrypoints.api.security import serve_lean

    async def twin(_request: object, _body: bytes) -> None:
        return None

    def endpoint() -> dict[str, Any]:
        return {}

    router = APIRouter()
    with pytest.raises(ValueError, match="no route"):
        serve_lean(router, twins={endpoint: twin})
    router.add_api_route("/x", endpoint, methods=["PATCH"], max_body_size=10)
    with pytest.raises(ValueError, match="max_body_size"):
        serve_lean(router, twins={endpoint: twin})


def test_a_crash_in_the_twin_is_the_plain_forms_500(app, client, monkeypatch) -> None:  # noqa: ANN001
    """The twin runs without the route's own exception wrapper: an unexpected error in the save
    still reaches the app's handler and answers the same 500 problem, the mobile scrubbed."""
    from beiandesk.entrypoints.api.app import create_app
    from beiandesk.services import changes

    owner = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=owner).json()[0]["id"]
    change = client.post(f"/api/v1/websites/{site}/changes", headers=owner).json()["id"]

    def crash(*_a: object, **_k: object) -> None:
        raise RuntimeError("13800001111 should never be shown")

    monkeypatch.setattr(changes, "update_change", crash)

    def answer(c: TestClient) -> tuple:
        r = c.patch(
            f"/api/v1/changes/{change}", headers={**owner, "If-Match": "*"}, json={"name": "x"}
        )
        return r.status_code, r.headers.get("content-type"), r.json()

    with TestClient(create_app(app), raise_server_exceptions=False) as twin_client:
        twin = answer(twin_client)
    with monkeypatch.context() as m:
        _plain_form(m)
        with TestClient(create_app(app), raise_server_exceptions=False) as plain_client:
            plain = answer(plain_client)
    assert twin == plain
    assert twin[0] == 500 and twin[2]["code"] == "internal_error"
    assert "13800001111" not in str(twin)
