"""Backup and restore (api.md §Backup, restore, audit): the database and the stored files.

- SQLite: the online backup API (``sqlite3.Connection.backup`` in one step, under one read
  transaction), so a copy taken while beiandesk serves is consistent: every write committed
  before the copy began is in it.
- PostgreSQL: ``pg_dump --format=custom`` (a snapshot of one transaction), restored with
  ``pg_restore``; both must be on PATH.
- Files: copied through the file store (``raw`` blobs when it offers them, so they stay as
  stored: encrypted blobs need the same ``DATA_KEY``), else the local storage directory.
- ``manifest.json``: every file of the backup with its SHA-256 and size, the schema revision,
  and a key check (an HMAC of a constant under ``DATA_KEY``) so a restore with another key is
  refused before anything is written. ``DATA_KEY`` itself is never written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url

from beiandesk.adapters.db import tables as t
from beiandesk.domain.problems import Problem, error

FORMAT = 1
MANIFEST = "manifest.json"
_DATA_TABLES = (t.accounts, t.subjects, t.websites, t.change_orders)


class BackupError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def key_check(data_key: str) -> str:
    return hmac.new(data_key.encode(), b"beiandesk-backup-key-check", hashlib.sha256).hexdigest()


def _libpq_url(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            error(
                "backup_tool_missing",
                f"PostgreSQL 的备份需要 {name}，但 PATH 中找不到它："
                "请安装 postgresql-client（版本不低于服务器）。",
            )
        )
    return found


# --- files --------------------------------------------------------------------------------------


def _store_names(files: Any) -> Iterator[tuple[str, Iterator[bytes]]]:
    raw = getattr(files, "raw", None)
    if raw is not None and hasattr(raw, "iter_names"):
        for name in raw.iter_names():
            yield name, raw.read(name)
        return
    root = getattr(files, "root", None)
    if root is not None:
        root = Path(root)
        if root.exists():
            for p in sorted(root.rglob("*")):
                if p.is_file() and not p.name.startswith("."):
                    yield p.name, _chunks(p)
        return
    for key in files.iter_keys():
        yield key, iter([files.get(key)])


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


def _store_empty(files: Any) -> bool:
    return next(_store_names(files), None) is None


def _store_write(files: Any, name: str, path: Path) -> None:
    raw = getattr(files, "raw", None)
    if raw is not None and hasattr(raw, "write"):
        raw.write(name, _chunks(path))
        return
    root = getattr(files, "root", None)
    if root is not None:
        dest = Path(root) / name[:2] / name[2:4] / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        return
    files.put(path.read_bytes())


# --- backup -------------------------------------------------------------------------------------


def create_backup(database_url: str, files: Any, data_key: str, dest: Path) -> dict[str, Any]:
    """Write a backup into ``dest`` (absent or empty); return the manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(
            error("backup_dir_not_empty", f"备份目录 {dest} 不是空的：请指定一个新的或空的目录。")
        )
    dest.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    u = make_url(database_url)
    if u.get_backend_name() == "sqlite":
        db_name = "database.sqlite3"
        src = sqlite3.connect(u.database, timeout=30)
        dst = sqlite3.connect(dest / db_name)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
        finally:
            dst.close()
            src.close()
        dialect = "sqlite"
    else:
        db_name = "database.pgdump"
        proc = subprocess.run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--file",
                str(dest / db_name),
                _libpq_url(database_url),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise BackupError(error("backup_failed", f"pg_dump 失败：{proc.stderr.strip()[:500]}"))
        dialect = "postgresql"
    entries = [
        {
            "path": db_name,
            "sha256": _sha256(dest / db_name),
            "size": (dest / db_name).stat().st_size,
        }
    ]
    files_dir = dest / "files"
    files_dir.mkdir()
    for name, chunks in _store_names(files):
        target = files_dir / name
        h, size = hashlib.sha256(), 0
        with open(target, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                h.update(chunk)
                size += len(chunk)
        entries.append({"path": f"files/{name}", "sha256": h.hexdigest(), "size": size})
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "dialect": dialect,
        "database": db_name,
        "key_check": key_check(data_key),
        "files": entries,
    }
    (dest / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return manifest


# --- restore ------------------------------------------------------------------------------------


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(
            error(
                "backup_unreadable", f"{src} 不是 beiandesk 备份目录：缺少或无法读取 {MANIFEST}。"
            )
        ) from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            error("backup_unreadable", f"备份格式 {manifest.get('format')!r} 不受支持。")
        )
    return manifest


def verify_backup(src: Path, manifest: dict[str, Any]) -> None:
    for entry in manifest["files"]:
        path = src / entry["path"]
        if (
            not path.is_file()
            or path.stat().st_size != entry["size"]
            or _sha256(path) != entry["sha256"]
        ):
            raise BackupError(
                error(
                    "backup_checksum_mismatch",
                    f"备份文件 {entry['path']} 缺失或校验和不符：备份已损坏，未做任何恢复。",
                )
            )


def database_empty(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        names = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            for table in _DATA_TABLES:
                if (
                    table.name in names
                    and conn.execute(select(func.count()).select_from(table)).scalar_one()
                ):
                    return False
        return True
    finally:
        engine.dispose()


def restore_backup(src: Path, database_url: str, files: Any, data_key: str) -> dict[str, Any]:
    """Restore ``src`` into an empty database and an empty file store; return the manifest."""
    manifest = read_manifest(src)
    if not hmac.compare_digest(manifest.get("key_check", ""), key_check(data_key)):
        raise BackupError(
            error(
                "backup_key_mismatch",
                "当前 BEIANDESK_DATA_KEY 与备份时的不一致：用别的密钥恢复，"
                "个人信息将无法解密。请设置备份时使用的 DATA_KEY。",
            )
        )
    verify_backup(src, manifest)
    u = make_url(database_url)
    dialect = "sqlite" if u.get_backend_name() == "sqlite" else "postgresql"
    if dialect != manifest["dialect"]:
        raise BackupError(
            error(
                "backup_dialect_mismatch",
                f"这是 {manifest['dialect']} 的备份，不能恢复到 {dialect} 数据库。",
            )
        )
    if not database_empty(database_url):
        raise BackupError(
            error(
                "restore_target_not_empty",
                "目标数据库已有数据（账号、主体、网站或变更单）："
                "只能恢复到空数据库，以免覆盖现有记录。",
            )
        )
    if not _store_empty(files):
        raise BackupError(
            error(
                "restore_target_not_empty",
                "目标文件存储（STORAGE_DIR）已有文件：只能恢复到空的存储。",
            )
        )
    db_file = src / manifest["database"]
    if dialect == "sqlite":
        target = Path(u.database)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
        os.close(fd)
        shutil.copyfile(db_file, tmp)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(tmp, target)
    else:
        proc = subprocess.run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--dbname",
                _libpq_url(database_url),
                str(db_file),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise BackupError(
                error("restore_failed", f"pg_restore 失败：{proc.stderr.strip()[:500]}")
            )
    for entry in manifest["files"]:
        if entry["path"].startswith("files/"):
            _store_write(files, entry["path"][len("files/") :], src / entry["path"])
    return manifest
