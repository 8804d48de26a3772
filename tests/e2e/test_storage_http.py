"""Uploads through the HTTP API land in the configured store, encrypted, and stream back out —
on an S3 server (moto's server mode on loopback) shared by two "nodes", and on local disk."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient

from beiandesk.config import Settings
from tests.conftest import KEYS, login
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, make_bucket, moto_server

# a PDF spanning several 64 KiB storage chunks, with the applicant's ID number inside
PDF = (b"%PDF-1.4\n1 0 obj<< /Title (44030519900101123X) >>endobj\n"
       + b"".join(b"%% padding line %06d\n" % i for i in range(20000)) + b"trailer<<>>\n%%EOF\n")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _node(settings: Settings, fakes: dict):  # noqa: ANN202
    from beiandesk import bootstrap
    from beiandesk.adapters.security import Passwords
    built = bootstrap.build(settings, migrate=False, passwords=Passwords(time_cost=1, memory_cost=1024), **fakes)
    return built


def _client(built) -> TestClient:  # noqa: ANN001
    from beiandesk.entrypoints.api.app import create_app
    return TestClient(create_app(built), raise_server_exceptions=False)


def _upload(c: TestClient, h: dict[str, str]) -> tuple[int, dict]:
    site = c.get("/api/v1/websites", headers=h).json()[0]["id"]
    r = c.post(f"/api/v1/websites/{site}/changes", headers=h)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = c.post(f"/api/v1/changes/{cid}/materials", headers=h, data={"kind": "other"},
               files={"file": ("scan.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    return cid, r.json()


def test_two_nodes_share_an_s3_store(s3_endpoint: str, tmp_path: Path, database_url: str, fakes: dict) -> None:
    bucket = f"bd-{uuid.uuid4().hex[:12]}"
    make_bucket(s3_endpoint, bucket)
    common = dict(_env_file=None, database_url=database_url, public_url="http://testserver",
                  storage_url=f"s3://{bucket}/materials", s3_endpoint_url=s3_endpoint, s3_region=REGION,
                  s3_access_key_id=ACCESS_KEY, s3_secret_access_key=SECRET_KEY, **KEYS)
    one = _node(Settings(var_dir=tmp_path / "node1", **common), fakes)
    two = _node(Settings(var_dir=tmp_path / "node2", **common), fakes)
    from beiandesk.services.seed import seed_demo
    seed_demo(one.deps)
    try:
        with _client(one) as c1, _client(two) as c2:
            h = login(c1, "demo-enterprise")
            cid, m = _upload(c1, h)
            key = hashlib.sha256(PDF).hexdigest()
            # node 2 has its own disk: the file comes from the bucket, streamed, whole
            r = c2.get(f"/api/v1/changes/{cid}/materials/{m['id']}/content", headers=login(c2, "demo-reviewer"))
            assert r.status_code == 200 and r.content == PDF
            assert r.headers["content-length"] == str(len(PDF))
            s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION,
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
            listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
            assert listed == [f"materials/{key}"]
            at_rest = s3.get_object(Bucket=bucket, Key=listed[0])["Body"].read()
            assert b"44030519900101123X" not in at_rest and b"%PDF" not in at_rest
            assert not [p for n in ("node1", "node2") for p in (tmp_path / n).rglob(key)]
    finally:
        one.engine.dispose()
        two.engine.dispose()


def test_local_store_is_encrypted_and_streams(client: TestClient, settings: Settings) -> None:
    h = login(client, "demo-enterprise")
    cid, m = _upload(client, h)
    key = hashlib.sha256(PDF).hexdigest()
    stored = settings.resolved_storage_dir() / key[:2] / key[2:4] / key
    assert stored.is_file() and b"44030519900101123X" not in stored.read_bytes()
    with client.stream("GET", f"/api/v1/changes/{cid}/materials/{m['id']}/content", headers=h) as r:
        assert r.status_code == 200
        parts = list(r.iter_raw())
    assert b"".join(parts) == PDF
