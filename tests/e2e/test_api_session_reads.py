"""One session read per request: the RequestGuard authenticates a write before its body is read,
and the route's ``current_account`` reuses that account instead of reading the session again
(issue 11: throughput). A token revoked earlier is still refused."""

from __future__ import annotations

import pytest

from beiandesk.adapters.db.async_reads import PgAsyncReads
from beiandesk.adapters.db.sessions import SessionRepo
from tests.conftest import login


@pytest.fixture
def reads(monkeypatch):  # noqa: ANN001, ANN201
    calls: list[str] = []
    real = SessionRepo.check

    def counted(self, jti):  # noqa: ANN001, ANN202
        calls.append(jti)
        return real(self, jti)

    monkeypatch.setattr(SessionRepo, "check", counted)
    # PostgreSQL awaits the session read instead, alone or with the record read in the same
    # statement (adapters/db/async_reads.py): counted alike.
    for name in ("session", "session_and_website", "session_and_subject"):
        real_async = getattr(PgAsyncReads, name)

        async def counted_async(self, jti, *rest, _real=real_async):  # noqa: ANN001, ANN002, ANN202
            calls.append(jti)
            return await _real(self, jti, *rest)

        monkeypatch.setattr(PgAsyncReads, name, counted_async)
    return calls


def test_a_write_reads_its_session_once(client, reads) -> None:
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    reads.clear()
    r = client.post(f"/api/v1/websites/{site}/changes", headers=h)
    assert r.status_code == 201, r.text
    assert len(reads) == 1
    reads.clear()
    r = client.patch(f"/api/v1/changes/{r.json()['id']}", headers={**h, "If-Match": r.headers["etag"]},
                     json={"name": "只读一次会话"})
    assert r.status_code == 200, r.text
    assert len(reads) == 1
    reads.clear()
    assert client.get(f"/api/v1/websites/{site}", headers=h).status_code == 200
    assert len(reads) == 1


def test_a_revoked_token_is_still_refused_on_writes(client, reads) -> None:
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    assert client.post("/api/v1/auth/logout", headers=h).status_code in (200, 204)
    r = client.post(f"/api/v1/websites/{site}/changes", headers=h)
    assert r.status_code == 401
    r = client.get(f"/api/v1/websites/{site}", headers=h)
    assert r.status_code == 401
