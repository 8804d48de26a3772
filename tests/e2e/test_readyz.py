"""``/readyz``: the database, the file store and the gateway each answer, or 503 says which not."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from beiandesk.adapters.storage import LocalBlobStore, S3BlobStore
from tests.s3_support import free_port


def test_ready_when_everything_answers(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    assert body["checks"]["gateway"] == {"ok": True, "configured": False}  # the fake gateway: no URL


def test_not_ready_names_what_does_not_answer(app, client: TestClient, tmp_path: Path) -> None:  # noqa: ANN001
    dead = f"http://127.0.0.1:{free_port()}"
    app.deps.files.raw = S3BlobStore("nobucket", endpoint_url=dead, region="us-east-1",
                                     access_key_id="x", secret_access_key="y")
    app.deps.files.raw.client.meta.config.retries = {"max_attempts": 1}
    app.settings = app.settings.model_copy(update={"gateway_url": dead + "/sandbox"})
    r = client.get("/readyz")
    assert r.status_code == 503 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["storage"]["ok"] is False and body["checks"]["storage"]["error"]
    assert body["checks"]["gateway"]["ok"] is False
    # the store back, the database gone
    app.deps.files.raw = LocalBlobStore(tmp_path / "files")
    app.settings = app.settings.model_copy(update={"gateway_url": None})
    app.engine.dispose()
    app.engine.url  # noqa: B018
    from sqlalchemy import create_engine
    app.engine = create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["database"]["ok"] is False
    assert r.json()["checks"]["storage"]["ok"] is True
