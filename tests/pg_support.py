"""Shared by the PostgreSQL-only integration tests: a truncated test database, and a way to
terminate one backend as a restart or an administrator would."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only (overrides conftest's SQLite/PostgreSQL parametrised fixture)."""
    from tests.conftest import _truncate_pg

    url = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


def kill_backend(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        admin.dispose()
