"""backup / restore on SQLite and PostgreSQL, under a write load: every write acknowledged before
the backup began is in the restored copy, whose files verify, and which serves."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from beiandesk import bootstrap
from beiandesk.adapters.backup import BackupError, create_backup, restore_backup
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.security import Passwords
from beiandesk.config import Settings
from beiandesk.entrypoints.api.app import create_app
from beiandesk.services import audit
from beiandesk.services.seed import seed_demo
from tests.conftest import KEYS, login


@pytest.fixture
def restore_url(database_url: str, tmp_path: Path):  # noqa: ANN201
    """An empty database of the same kind to restore into."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"beiandesk_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                          "AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_backup_under_load_restores_every_acknowledged_write_and_serves(
        app, deps, tmp_path: Path, restore_url: str) -> None:  # noqa: ANN001
    seed_demo(deps)
    keys = [deps.files.put(f"material {i}".encode()) for i in range(3)]
    acked: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            with deps.uow() as uow:
                audit.record(uow, actor="load", action="load.write", target=str(i))
                uow.commit()
            acked.append(i)  # acknowledged: the commit returned
            i += 1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        while len(acked) < 20:
            time.sleep(0.01)
        before = len(acked)
        manifest = create_backup(app.settings.resolved_database_url(), deps.files, KEYS["data_key"],
                                 tmp_path / "backup")
        while len(acked) < before + 10:  # the load went on during and after the backup
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    backup = tmp_path / "backup"
    assert KEYS["data_key"] not in "".join(p.read_bytes().decode("latin-1") for p in backup.rglob("*") if p.is_file())
    assert {e["path"] for e in manifest["files"]} >= {f"files/{k}" for k in keys}

    target = Settings(_env_file=None, var_dir=tmp_path / "var2", database_url=restore_url,
                      storage_dir=tmp_path / "files2", public_url="http://testserver", **KEYS)
    empty = bootstrap.build(target)  # the operator ran `db upgrade`: schema, no data — still empty
    files2 = empty.deps.files
    empty.engine.dispose()
    restore_backup(backup, restore_url, files2, KEYS["data_key"])
    restored = bootstrap.build(target, passwords=Passwords(time_cost=1, memory_cost=1024))
    try:
        with restored.deps.uow(readonly=True) as uow:
            written = {int(x) for x in uow.conn.execute(select(t.audit_log.c.target).where(
                t.audit_log.c.action == "load.write")).scalars()}
        assert set(acked[:before]) <= written
        assert restored.deps.files.get(keys[1]) == b"material 1"
        with TestClient(create_app(restored)) as client:
            headers = login(client, "demo-enterprise")
            sites = client.get("/api/v1/websites", headers=headers)
            assert sites.status_code == 200
            body = sites.json()
            items = body["items"] if isinstance(body, dict) else body
            assert len(items) == 3
            assert "*" in json.dumps(items, ensure_ascii=False)  # decrypts (same key), masks as ever
        # a second restore onto the now non-empty database is refused, nothing touched
        with pytest.raises(BackupError) as exc:
            restore_backup(backup, restore_url, restored.deps.files, KEYS["data_key"])
        assert exc.value.problem.code == "restore_target_not_empty"
    finally:
        restored.engine.dispose()


def test_restore_refuses_a_corrupt_backup_or_another_key(app, deps, tmp_path: Path, restore_url: str) -> None:  # noqa: ANN001
    deps.files.put(b"x")
    create_backup(app.settings.resolved_database_url(), deps.files, KEYS["data_key"], tmp_path / "b")
    with pytest.raises(BackupError) as exc:
        create_backup(app.settings.resolved_database_url(), deps.files, KEYS["data_key"], tmp_path / "b")
    assert exc.value.problem.code == "backup_dir_not_empty"
    target = Settings(_env_file=None, var_dir=tmp_path / "v", database_url=restore_url,
                      storage_dir=tmp_path / "f", public_url="http://testserver", **KEYS)
    files = bootstrap.build(target, migrate=False).deps.files
    with pytest.raises(BackupError) as exc:
        restore_backup(tmp_path / "b", restore_url, files, "another key")
    assert exc.value.problem.code == "backup_key_mismatch"
    stored = next((tmp_path / "b" / "files").iterdir())
    stored.write_bytes(stored.read_bytes() + b"!")
    with pytest.raises(BackupError) as exc:
        restore_backup(tmp_path / "b", restore_url, files, KEYS["data_key"])
    assert exc.value.problem.code == "backup_checksum_mismatch"
