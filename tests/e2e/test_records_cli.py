"""``import-records`` / ``export-records`` / ``backup`` / ``restore`` as an operator runs them:
a real process, real files, exit statuses of api.md (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import KEYS
from tests.import_support import csv_text, record, rows

SCRIPT = Path(sys.executable).with_name("beiandesk")


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "beiandesk.entrypoints.cli"]
    return subprocess.run([*cmd, *args], check=False, capture_output=True, text=True, timeout=120,
                          env=env, input=stdin)


def _env(database_url: str, tmp: Path, name: str = "a") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEIANDESK_")}
    env.update({"BEIANDESK_DATABASE_URL": database_url, "BEIANDESK_VAR_DIR": str(tmp / f"var-{name}"),
                "BEIANDESK_STORAGE_DIR": str(tmp / f"files-{name}"), "BEIANDESK_LOG_LEVEL": "WARNING",
                "BEIANDESK_SECRET_KEY": KEYS["secret_key"], "BEIANDESK_DATA_KEY": KEYS["data_key"]})
    return env


def test_import_report_exit_statuses_export_and_reimport(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path)
    src = tmp_path / "records.csv"
    items = [*rows(3), record(9, website_status="pending")]
    src.write_text(csv_text(items), encoding="gb18030")
    report = tmp_path / "refused.csv"

    dry = cli(env, "import-records", str(src), "--dry-run", "--json")
    assert dry.returncode == 1, dry.stderr
    assert json.loads(dry.stdout)["created"] == 3

    r = cli(env, "import-records", str(src), "--json", "--report", str(report))
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert {k: out[k] for k in ("ok", "rows", "created", "updated", "unchanged", "refused")} == {
        "ok": False, "rows": 4, "created": 3, "updated": 0, "unchanged": 0, "refused": 1}  # dry run wrote nothing
    assert out["problems"] == [{"row": 5, "code": "value_invalid", "field": "website_status",
                                "message": out["problems"][0]["message"]}]
    with open(report, encoding="utf-8-sig", newline="") as fh:
        refused = list(csv.DictReader(fh))
    assert [(x["row"], x["code"], x["website_filing_number"]) for x in refused] == [
        ("5", "value_invalid", items[3]["website_filing_number"])]

    good = tmp_path / "good.csv"
    good.write_text(csv_text(rows(3)), encoding="utf-8")
    r = cli(env, "import-records", str(good))
    assert r.returncode == 0, r.stderr
    assert "未变 3" in r.stdout

    export = tmp_path / "export.xlsx"
    r = cli(env, "export-records", str(export), "--unmasked")
    assert r.returncode == 0, r.stderr
    r = cli(env, "import-records", str(export), "--json")
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["unchanged"] == 3

    broken = tmp_path / "broken.csv"
    broken.write_text(csv_text(rows(1)).replace("domains,", "domain_names,"), encoding="utf-8")
    r = cli(env, "import-records", str(broken), "--json")
    assert r.returncode == 2
    assert json.loads(r.stdout)["problems"][0]["code"] == "import_column_missing"
    assert "domains" in r.stderr


def _empty_target(database_url: str, tmp_path: Path, name: str) -> str:
    """An empty database of the same engine to restore into (PostgreSQL: a new database)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / (name + '.db')}"
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    db = f"beiandesk_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return make_url(database_url).set(database=db).render_as_string(hide_password=False)


def test_backup_and_restore_commands(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path)
    src = tmp_path / "r.csv"
    src.write_text(csv_text(rows(2)), encoding="utf-8")
    assert cli(env, "import-records", str(src)).returncode == 0
    r = cli(env, "backup", str(tmp_path / "bk"))
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert manifest["dialect"] == dialect and KEYS["data_key"] not in json.dumps(manifest)
    r = cli(env, "backup", str(tmp_path / "bk"))
    assert r.returncode == 2 and "backup_dir_not_empty" in r.stderr

    env2 = _env(_empty_target(database_url, tmp_path, "restored"), tmp_path, "b")
    r = cli(env2, "restore", str(tmp_path / "bk"))
    assert r.returncode == 0, r.stderr
    r = cli(env2, "import-records", str(src), "--json")
    assert json.loads(r.stdout)["unchanged"] == 2
    r = cli(env2, "restore", str(tmp_path / "bk"))
    assert r.returncode == 2 and "restore_target_not_empty" in r.stderr
    wrong = {**env2, "BEIANDESK_DATA_KEY": "another-data-key-0123456789"}
    r = cli({**wrong, "BEIANDESK_DATABASE_URL": _empty_target(database_url, tmp_path, "x"),
             "BEIANDESK_STORAGE_DIR": str(tmp_path / "fx")}, "restore", str(tmp_path / "bk"))
    assert r.returncode == 2 and "backup_key_mismatch" in r.stderr
