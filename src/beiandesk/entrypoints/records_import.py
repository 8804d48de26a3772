"""Running an import from a file, shared by the CLI, the API and the console (issue 9)."""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from beiandesk.adapters.key_ledger import SqliteKeyLedger
from beiandesk.adapters.records_files import RecordsFileError, open_records_file
from beiandesk.domain.import_rows import COLUMNS
from beiandesk.services.imports import import_records

__all__ = ["RecordsFileError", "import_upload", "run_import_file"]

_SUFFIXES = (".csv", ".xlsx", ".jsonl", ".ndjson", ".txt")


def run_import_file(
    deps: Any,
    path: Path,
    *,
    actor: str,
    dry_run: bool,
    report: Path | None = None,
    progress: Callable[[int | None], Callable[[int], Any]] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Open, check and import one records file; raise ``RecordsFileError`` when unreadable.
    ``report``: the refused rows are streamed there as CSV (their columns + row, code, field, message)."""
    records = open_records_file(path)
    fh = writer = None
    if report is not None:
        fh = open(report, "w", encoding="utf-8-sig", newline="")
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([*COLUMNS, "row", "code", "field", "message"])

    def on_refused(line: int, raw: dict, problems: list[dict]) -> None:
        if writer is not None:
            cells = ["" if raw.get(c) is None else str(raw.get(c)) for c in COLUMNS]
            for p in problems:
                writer.writerow([*cells, p["row"], p["code"], p.get("field", ""), p["message"]])

    ledger = SqliteKeyLedger() if dry_run else None
    try:
        result = import_records(
            deps,
            records.rows(),
            actor=actor,
            dry_run=dry_run,
            source=source or path.name,
            on_refused=on_refused,
            on_progress=progress(records.total) if progress else None,
            ledger=ledger,
        )
    finally:
        if fh is not None:
            fh.close()
        if ledger is not None:
            ledger.close()
    return result.to_dict()


def import_upload(
    deps: Any,
    fileobj: IO[bytes],
    filename: str,
    *,
    actor: str,
    dry_run: bool,
    keep_report: bool = False,
) -> dict[str, Any]:
    """An uploaded file (spooled by the web framework) copied to a temporary file, then imported.
    ``keep_report``: the refused rows' CSV goes into the file store; its key is ``report_key``."""
    suffix = Path(filename or "").suffix.lower()
    with tempfile.TemporaryDirectory(prefix="beiandesk-import-") as tmp:
        path = Path(tmp) / ("upload" + (suffix if suffix in _SUFFIXES else ""))
        with open(path, "wb") as out:
            shutil.copyfileobj(fileobj, out, 1 << 20)
        report = Path(tmp) / "refused.csv" if keep_report else None
        result = run_import_file(
            deps,
            path,
            actor=actor,
            dry_run=dry_run,
            report=report,
            source=Path(filename or "upload").name,
        )
        if report is not None and result["refused"]:
            put_stream = getattr(deps.files, "put_stream", None)
            with open(report, "rb") as fh:
                result["report_key"] = put_stream(fh) if put_stream else deps.files.put(fh.read())
        return result
