"""Every 4xx is an RFC 9457 problem (``application/problem+json``, ``code``, Chinese ``message``).

None of this depends on the database engine, so one seeded SQLite app serves the whole module;
the id-range cases that do depend on it are in test_api_records.py (both engines).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from beiandesk.config import Settings
from tests.conftest import KEYS, login
from tests.fakes import (
    FakeClock,
    FakeDomainLookup,
    FakeGateway,
    FakeMailer,
    FakePhoto,
    FakeSiteProbe,
    FakeSms,
)

MB = 1024 * 1024


def build_app(template: Path, tmp: Path, **overrides: object):
    from beiandesk import bootstrap
    from beiandesk.adapters.security import Passwords
    from beiandesk.services.seed import seed_demo
    db = tmp / "beiandesk.db"
    shutil.copy(template, db)
    settings = Settings(_env_file=None, var_dir=tmp / "var", database_url=f"sqlite:///{db}",
                        storage_dir=tmp / "files", public_url="http://testserver", **KEYS, **overrides)
    built = bootstrap.build(settings, migrate=False, passwords=Passwords(time_cost=1, memory_cost=1024),
                            clock=FakeClock(), mailer=FakeMailer(), sms=FakeSms(), gateway=FakeGateway(),
                            domain_lookup=FakeDomainLookup(), site_probe=FakeSiteProbe(), photo=FakePhoto())
    seed_demo(built.deps)
    return built


@pytest.fixture(scope="module")
def built(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    app = build_app(sqlite_template, tmp_path_factory.mktemp("errors"))
    yield app
    app.engine.dispose()


@pytest.fixture(scope="module")
def client(built) -> Iterator[TestClient]:
    from beiandesk.entrypoints.api.app import create_app
    with TestClient(create_app(built), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def h(client) -> dict[str, str]:
    return login(client, "demo-enterprise")


@pytest.fixture(scope="module")
def cid(client, h) -> int:
    sites = {w["name"]: w["id"] for w in client.get("/api/v1/websites", headers=h).json()}
    r = client.post(f"/api/v1/websites/{sites['云帆科技官网']}/changes", headers=h)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def assert_problem(r, status: int | tuple[int, ...], code: str | None = None) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == r.status_code and body["code"] and isinstance(body["code"], str)
    assert re.search(r"[\u4e00-\u9fff]", body["message"]), body
    assert body.get("type") and body.get("title")
    if code is not None:
        assert body["code"] == code, body
    return body


# --- bodies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    b"{", b'{"name": }', b"not json", b"", b'{"name": "a",}', b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000,
])
def test_malformed_json(client, h, cid, raw: bytes) -> None:
    r = client.patch(f"/api/v1/changes/{cid}", headers={**h, "Content-Type": "application/json"}, content=raw)
    assert_problem(r, (400, 422))


def test_malformed_json_names_the_problem(client, h, cid) -> None:
    r = client.patch(f"/api/v1/changes/{cid}", headers={**h, "Content-Type": "application/json"}, content=b'{"name": }')
    body = assert_problem(r, 422, "invalid_request")
    assert body["errors"][0]["type"] == "json_invalid"
    # where it went wrong, in words: not a bare offset standing for a field's name
    assert body["message"] == "请求参数不正确：请求体 不是合法的 JSON（约在第 10 个字符处）。"
    assert body["errors"][0]["field"] == ""


@pytest.mark.parametrize(("path", "headers", "raw", "message"), [
    # the body is JSON but not an object, or not JSON by its content type
    ("", {"Content-Type": "application/json"}, b"[1]",
     "请求参数不正确：请求体 须为 JSON 对象（Content-Type: application/json）。"),
    ("", {"Content-Type": "text/plain"}, b'{"name": "x"}',
     "请求参数不正确：请求体 须为 JSON 对象（Content-Type: application/json）。"),
    # a field of the wrong type, too long; an id out of range or not a number
    ("", {"Content-Type": "application/json"}, b'{"name": 5}', "请求参数不正确：name 须为字符串。"),
    ("", {"Content-Type": "application/json"}, b'{"domains": "a.cn"}',
     "请求参数不正确：domains 须为数组。"),
    ("0", {"Content-Type": "application/json"}, b'{"name": "x"}',
     "请求参数不正确：path.change_id 须不小于 1。"),
    ("abc", {"Content-Type": "application/json"}, b'{"name": "x"}',
     "请求参数不正确：path.change_id 须为整数。"),
])
def test_type_errors_are_said_in_words(client, h, cid, path, headers, raw, message) -> None:  # noqa: ANN001
    """What pydantic found wrong, said in Chinese rather than a bare "取值不正确"."""
    r = client.patch(f"/api/v1/changes/{path or cid}", headers={**h, "If-Match": "*", **headers}, content=raw)
    body = assert_problem(r, 422, "invalid_request")
    assert body["message"] == message, body


@pytest.mark.parametrize("body", [
    {"accept_terms": "maybe", "accept_privacy": True},
    {"accept_terms": [True], "accept_privacy": True},
    {"accept_terms": True, "accept_privacy": True, "also": 1},
    [True, True],
])
def test_submit_body_types(client, h, cid, body: object) -> None:
    assert_problem(client.post(f"/api/v1/changes/{cid}/submit", headers=h, json=body), 422, "invalid_request")


@pytest.mark.parametrize("body", [
    {"accept_terms": "yes", "accept_privacy": "on"},
    {"accept_terms": 1, "accept_privacy": 1},
    {"accept_terms": "true", "accept_privacy": "true"},
])
def test_consent_must_be_a_json_true(client, h, cid, body: dict) -> None:
    # A recorded legal consent is an explicit ``true`` (api.md: {accept_terms: true, accept_privacy: true}),
    # not a string or a number coerced into one.
    r = client.post(f"/api/v1/changes/{cid}/submit", headers=h, json=body)
    assert r.status_code == 422 and r.json()["code"] in ("invalid_request", "consent_required"), r.text


@pytest.mark.parametrize("patch", [{"name": None}, {"resource": None}, {"home_url": None},
                                   {"content_categories": None}])
def test_null_does_not_blank_a_field(client, patch: dict) -> None:
    h = login(client, "demo-personal")
    changes = client.get("/api/v1/changes", headers=h).json()
    if changes:
        cid = changes[0]["id"]
    else:
        site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
        cid = client.post(f"/api/v1/websites/{site}/changes", headers=h).json()["id"]
    before = client.get(f"/api/v1/changes/{cid}", headers=h).json()["proposed"]
    r = client.patch(f"/api/v1/changes/{cid}", headers={**h, "If-Match": "*"}, json=patch)
    assert r.status_code in (200, 422), r.text
    after = client.get(f"/api/v1/changes/{cid}", headers=h).json()["proposed"]
    (key,) = patch
    assert after[key] == before[key], f"PATCH {patch} turned {before[key]!r} into {after[key]!r}"


def test_wrong_content_types(client, h, cid) -> None:
    url = f"/api/v1/changes/{cid}"
    assert_problem(client.patch(url, headers={**h, "Content-Type": "text/plain"}, content=b'{"name": "x"}'), (415, 422))
    assert_problem(client.post(f"{url}/materials", headers={**h, "Content-Type": "multipart/form-data"},
                               content=b"garbage"), (400, 422))
    assert_problem(client.post(f"{url}/materials", headers={**h, "Content-Type": "multipart/form-data; boundary=XX"},
                               content=b"garbage"), (400, 422))
    assert_problem(client.post(f"{url}/materials", headers=h, json={"kind": "other"}), (415, 422))


def test_form_field_limits(client) -> None:
    assert_problem(client.post("/api/v1/auth/token", data={"username": "u" * 65, "password": "x"}), 422, "invalid_request")
    assert_problem(client.post("/api/v1/auth/token", data={"username": "demo-admin", "password": "p" * 257}),
                   422, "invalid_request")


# --- body size -------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(built) -> Iterator[int]:
    import uvicorn

    from beiandesk.entrypoints.api.app import create_app
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(built), host="127.0.0.1", port=port, log_config=None,
                                        access_log=False, ws="none", http="h11", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield port
    srv.should_exit = True
    thread.join(10)


def _raw(port: int, head: bytes, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
        header_blob, _, body = data.partition(b"\r\n\r\n")
        lines = header_blob.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        while len(body) < int(headers.get("content-length", 0)):
            chunk = s.recv(65536)
            assert chunk
            body += chunk
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("path", ["/api/v1/changes/1", "/api/v1/changes/1/materials", "/api/v1/auth/token"])
def test_declared_oversize_body_is_refused_without_reading_it(server: int, path: str) -> None:
    # Headers only: the 64 MB body never comes, so an answer proves nothing was waited for.
    started = time.monotonic()
    status, headers, body = _raw(server, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                         f"Content-Length: {65 * MB}\r\n\r\n".encode())
    assert time.monotonic() - started < 3
    assert status == 413 and headers["content-type"].startswith("application/problem+json")
    assert b'"code":"request_too_large"' in body.replace(b" ", b"")


@pytest.fixture
def small_limit_client(built, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from beiandesk.entrypoints.api import app as app_module
    monkeypatch.setattr(app_module, "API_BODY_LIMIT", 64 * 1024)
    small = dataclasses.replace(built, settings=built.settings.model_copy(update={"max_verification_bytes": 0}))
    api = app_module.create_app(small)
    with TestClient(api, raise_server_exceptions=False) as c:
        yield c


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_streamed_oversize_json_body_is_413(small_limit_client, h, cid) -> None:
    # No Content-Length (chunked): the limit must still answer 413, not a parse error.
    big = b'{"name": "' + b"x" * (3 * MB) + b'"}'
    r = small_limit_client.patch(f"/api/v1/changes/{cid}", headers={**h, "Content-Type": "application/json"},
                                 content=_chunks(big))
    assert_problem(r, 413, "request_too_large")


def test_streamed_oversize_upload_is_413(small_limit_client, h, cid) -> None:
    head = (b'--XX\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n--XX\r\n'
            b'Content-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n')
    big = head + b"%PDF-1.4\n" + b"0" * (3 * MB) + b"\n%%EOF\n\r\n--XX--\r\n"
    r = small_limit_client.post(f"/api/v1/changes/{cid}/materials",
                                headers={**h, "Content-Type": "multipart/form-data; boundary=XX"}, content=_chunks(big))
    assert_problem(r, 413)


def test_declared_oversize_through_the_app(small_limit_client, h, cid) -> None:
    big = b'{"name": "' + b"x" * (3 * MB) + b'"}'
    r = small_limit_client.patch(f"/api/v1/changes/{cid}", headers={**h, "Content-Type": "application/json"}, content=big)
    assert_problem(r, 413, "request_too_large")


# --- headers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Bearer garbage", "Bearer ", "Bearer", "bearer a.b.c", "Token abc",
                                   "Basic ZGVtby1hZG1pbjpiZWlhbmRlc2stZGVtbw==", "Bearer " + "x" * 5000])
def test_bad_authorization_is_401(client, value: str) -> None:
    r = client.get("/api/v1/me", headers={"Authorization": value})
    assert_problem(r, 401, "unauthorized")
    assert r.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_an_expired_token_is_401(client, built) -> None:
    h = login(client, "demo-personal")
    clock = built.deps.clock
    saved = clock.current
    try:
        clock.advance(seconds=built.settings.token_ttl_s + 1)
        assert_problem(client.get("/api/v1/me", headers=h), 401, "unauthorized")
    finally:
        clock.current = saved
    assert client.get("/api/v1/me", headers=h).status_code == 200


@pytest.mark.parametrize("value", ["garbage", '"x"', "W/", "1 2", "\u00e9"])
def test_bad_if_match_is_412(client, h, cid, value: str) -> None:
    r = client.patch(f"/api/v1/changes/{cid}", headers={**h, "If-Match": value.encode("utf-8")},
                     json={"home_url": "https://www.yunfan-tech.com.cn/"})
    assert_problem(r, 412, "version_conflict")


# --- paths and methods ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/changes/abc", 422),
    ("/api/v1/changes/1.5", 422),
    ("/api/v1/changes/%00", 422),
    ("/api/v1/changes/一", 422),
    ("/api/v1/changes/１", 422),       # a full-width digit is not an id
    ("/api/v1/websites/abc/history", 422),
    ("/nope", 404),
    ("/api/v1/nope", 404),
    ("/api/v1/变更单", 404),
    ("/api/v1/changes/1/../../etc/passwd", 404),
    ("/api/v1/" + "a" * 5000, 404),
    ("/api/v1/changes/999999", 404),
    ("/api/v1/websites?limit=0", 422),
    ("/api/v1/websites?limit=abc", 422),
    ("/api/v1/websites?offset=-1", 422),
    ("/api/v1/changes?state=bogus", 422),
    ("/api/v1/changes?state=__class__", 422),
])
def test_odd_paths(client, h, path: str, status: int) -> None:
    assert_problem(client.get(path, headers=h), status)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/v1/changes/1"),
    ("DELETE", "/api/v1/websites"),
    ("GET", "/api/v1/auth/token"),
    ("POST", "/api/v1/me"),
    ("DELETE", "/api/v1/changes/1"),
    ("PATCH", "/api/v1/websites/1"),
    ("POST", "/healthz"),
])
def test_wrong_methods_are_405(client, h, method: str, path: str) -> None:
    r = client.request(method, path, headers=h)
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers.get("allow")


def test_unknown_path_has_the_same_shape_without_a_token(client) -> None:
    body = assert_problem(client.get("/api/v1/does-not-exist"), 404, "not_found")
    assert body["instance"] == "/api/v1/does-not-exist"
