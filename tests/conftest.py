"""Shared fixtures: a migrated database per test on SQLite and (marked ``pg``) PostgreSQL.

PostgreSQL tests read ``BEIANDESK_TEST_PG_URL`` (``.ci/run`` sets it); each test session creates
its own database there and drops it at the end, so runs never collide. Without the variable
they are skipped — unless ``BEIANDESK_REQUIRE_PG=1`` (CI), where a skip would hide a failure,
so they fail instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from beiandesk.config import Settings
from tests.fakes import FakeClock, FakeDomainLookup, FakeGateway, FakeMailer, FakePhoto, FakeSiteProbe, FakeSms

PG_URL = os.environ.get("BEIANDESK_TEST_PG_URL")
REQUIRE_PG = os.environ.get("BEIANDESK_REQUIRE_PG") == "1"
KEYS = {"secret_key": "test-secret-key-0123456789abcdef", "data_key": "test-data-key-0123456789abcdef"}


def _migrate(url: str) -> None:
    from beiandesk.adapters.db.engine import build_engine
    from beiandesk.adapters.db.migrate import upgrade
    engine = build_engine(url)
    upgrade(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("BEIANDESK_REQUIRE_PG=1 but BEIANDESK_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL not configured (set BEIANDESK_TEST_PG_URL)")
    name = f"beiandesk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
            {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    from beiandesk.adapters.db.tables import metadata
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("DROP TABLE IF EXISTS huey_kv, huey_schedule, huey_task, huey_counter"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "beiandesk.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(_env_file=None, var_dir=tmp_path / "var", database_url=database_url,
                    storage_dir=tmp_path / "files", public_url="http://testserver", **KEYS)


@pytest.fixture
def fakes() -> dict:
    return {"clock": FakeClock(), "mailer": FakeMailer(), "sms": FakeSms(), "gateway": FakeGateway(),
            "domain_lookup": FakeDomainLookup(), "site_probe": FakeSiteProbe(), "photo": FakePhoto()}


@pytest.fixture
def app(settings: Settings, fakes: dict):  # noqa: ANN201
    from beiandesk import bootstrap
    from beiandesk.adapters.security import Passwords
    # Cheap argon2 parameters: the tests exercise the flow, not the hash's cost.
    built = bootstrap.build(settings, migrate=False, passwords=Passwords(time_cost=1, memory_cost=1024), **fakes)
    built.deps.verify_callback = lambda body, ts, sig: True
    yield built
    built.engine.dispose()


@pytest.fixture
def deps(app):  # noqa: ANN001, ANN201
    return app.deps


@pytest.fixture
def seeded(deps):  # noqa: ANN001, ANN201
    from beiandesk.services.seed import seed_demo
    seed_demo(deps)
    return deps


@pytest.fixture
def client(app, seeded):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    from beiandesk.entrypoints.api.app import create_app
    with TestClient(create_app(app), raise_server_exceptions=False) as c:
        yield c


def login(client, username: str, password: str = "beiandesk-demo") -> dict[str, str]:  # noqa: ANN001
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
