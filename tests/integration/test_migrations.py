"""Alembic migrations on SQLite and PostgreSQL: head is exactly tables.py, and goes down and up."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from beiandesk.adapters.db.engine import build_engine
from beiandesk.adapters.db.migrate import alembic_config, upgrade
from beiandesk.adapters.db.tables import metadata
from beiandesk.domain.states import ChangeState


@pytest.fixture
def engine(database_url: str):
    eng = build_engine(database_url)
    yield eng
    eng.dispose()


def _diff(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata)


def _downgrade(engine, revision: str = "base") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_head_matches_the_table_definitions(engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= names
    assert _diff(engine) == []


def test_down_to_nothing_and_up_again(engine) -> None:
    try:
        _downgrade(engine)
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert not left & {t.name for t in metadata.sorted_tables}
    finally:
        upgrade(engine)  # the PostgreSQL database is shared by the session: always leave it at head
    assert _diff(engine) == []


def test_upgrade_is_idempotent(engine) -> None:
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    assert set(current) == set(script.get_heads())


def test_one_open_order_per_website_is_a_unique_constraint(engine) -> None:
    uniques = inspect(engine).get_unique_constraints("change_orders")
    assert any(u["column_names"] == ["open_website_id"] for u in uniques)


def test_state_check_constraint_lists_every_state(engine) -> None:
    checks = inspect(engine).get_check_constraints("change_orders")
    (state,) = [c for c in checks if "state" in c["name"]]
    for s in ChangeState:
        assert f"'{s.value}'" in state["sqltext"]


def test_foreign_keys_and_indexes_exist(engine) -> None:
    insp = inspect(engine)
    fks = {(fk["referred_table"], tuple(fk["constrained_columns"])) for fk in insp.get_foreign_keys("change_orders")}
    assert fks == {("websites", ("website_id",)), ("subjects", ("subject_id",)), ("accounts", ("account_id",))}
    indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("change_orders")}
    assert {("state",), ("due_at",), ("website_id",), ("account_id",)} <= indexed


def test_a_single_head_and_dated_revision_files() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    files = [p.name for p in resources.files("beiandesk.migrations.versions").iterdir()
             if p.name.endswith(".py") and p.name != "__init__.py"]
    assert files and all(re.match(r"^\d{8}_\w+\.py$", f) for f in files)


def test_0004_keeps_one_result_per_website_per_run(seeded) -> None:  # noqa: ANN001
    from sqlalchemy import insert, select

    from beiandesk.adapters.db import tables as t

    with seeded.uow(readonly=True) as uow:
        website_id = uow.conn.execute(select(t.websites.c.id).limit(1)).scalar_one()
        engine = uow.conn.engine
    try:
        _downgrade(engine, "0003")
        with engine.begin() as conn:
            run_id = conn.execute(insert(t.sweep_runs).values(
                started_at=seeded.clock.now(), checked=2, failing=0)).inserted_primary_key[0]
            for ok in (True, False):  # written twice (no constraint before 0004)
                conn.execute(insert(t.sweep_results).values(run_id=run_id, website_id=website_id,
                                                            checked_at=seeded.clock.now(), ok=ok, problems=[]))
    finally:
        upgrade(engine)
    with engine.connect() as conn:
        kept = conn.execute(select(t.sweep_results.c.ok).where(t.sweep_results.c.run_id == run_id)).scalars().all()
    assert kept == [True]  # the earliest
    assert _diff(engine) == []
