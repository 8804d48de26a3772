"""Records files on disk: CSV (UTF-8, UTF-8 with BOM, GB18030), XLSX (first sheet), JSON Lines.

Everything streams: rows are read one at a time and memory stays flat however long the file.
Opening a file runs a *structure pass* first (encoding, CSV quoting, JSON syntax, the header,
the row count for the progress bar) so that a file that cannot be read is refused before a
single row is written: nothing is half imported because of a broken line 90,000.

XLSX is read with openpyxl in read-only mode (an iterparse stream of the sheet XML; memory flat)
with ``data_only=True``: a formula cell gives the value Excel cached when it saved the file,
and no formula is ever evaluated. python-calamine is faster but materialises the whole sheet as
one range in memory, which a 200 MB sheet cannot afford; openpyxl also writes the export
(write-only mode, streamed too), so one library serves both directions.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beiandesk.domain import import_rows as ir
from beiandesk.domain.problems import Problem

_CHUNK = 1 << 20
csv.field_size_limit(1 << 20)  # a runaway quote stops at 1 MB instead of swallowing the file


class RecordsFileError(Exception):
    """The file cannot be read at all (exit 2); ``problem`` says why, in Chinese."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class RecordsFile:
    path: Path
    format: str  # "csv" | "xlsx" | "jsonl"
    encoding: str | None
    header: list[str]
    total: int | None  # data rows (None when unknown)

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(line, row)`` for each non-blank data row; the header is line 1."""
        if self.format == "csv":
            return self._csv_rows()
        if self.format == "xlsx":
            return self._xlsx_rows()
        return self._jsonl_rows()

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with open(self.path, encoding=self.encoding, newline="") as fh:
            reader = csv.reader(fh, strict=True)
            next(reader, None)
            header = self.header
            for cells in reader:
                row = dict(zip(header, cells, strict=False))
                if not ir.is_blank(row):
                    yield reader.line_num, row

    def _xlsx_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        wb = _open_xlsx(self.path)
        try:
            it = wb.worksheets[0].iter_rows(values_only=True)
            next(it, None)
            for line, cells in enumerate(it, start=2):
                row = dict(zip(self.header, cells, strict=False))
                if not ir.is_blank(row):
                    yield line, row
        finally:
            wb.close()

    def _jsonl_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with open(self.path, encoding="utf-8-sig") as fh:
            for line, text in enumerate(fh, start=1):
                if text.strip():
                    yield line, json.loads(text)


def open_records_file(path: Path) -> RecordsFile:
    """Detect the format, check the structure and the header; raise :class:`RecordsFileError`."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise RecordsFileError(ir.file_unreadable(exc.strerror or "")) from exc
    if size == 0 or not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise RecordsFileError(ir.file_empty())
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return _check_xlsx(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise RecordsFileError(ir.file_unreadable("这是旧版 .xls 文件，请另存为 .xlsx 或 CSV"))
    if suffix == ".xlsx":
        raise RecordsFileError(ir.file_unreadable("扩展名是 .xlsx，但内容不是 XLSX 工作簿"))
    if b"\x00" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RecordsFileError(ir.file_unreadable("文件是二进制内容或 UTF-16 编码"))
    if suffix in (".jsonl", ".ndjson") or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _check_jsonl(path)
    return _check_csv(path, head)


def _detect_encoding(path: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise RecordsFileError(
            ir.file_unreadable("既不是 UTF-8 也不是 GB18030 编码的文本")
        ) from exc


def _check_header(header: list[str]) -> list[str]:
    header = [str(h or "").strip().lstrip("\ufeff") for h in header]
    missing = [c for c in ir.REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RecordsFileError(ir.column_missing(missing))
    return header


def _check_csv(path: Path, head: bytes) -> RecordsFile:
    encoding = _detect_encoding(path, head)
    total = 0
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise RecordsFileError(ir.file_empty())
            header = _check_header(header)
            for cells in reader:
                if any(c.strip() for c in cells):
                    total += 1
        except csv.Error as exc:
            raise RecordsFileError(ir.csv_malformed(reader.line_num or 1, str(exc))) from exc
    if total == 0:
        raise RecordsFileError(ir.file_empty())
    return RecordsFile(path, "csv", encoding, header, total)


def _open_xlsx(path: Path) -> Any:
    import openpyxl

    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _check_xlsx(path: Path) -> RecordsFile:
    try:
        wb = _open_xlsx(path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RecordsFileError(ir.file_unreadable("压缩包内不是有效的 XLSX 工作簿")) from exc
    except Exception as exc:  # openpyxl raises its own InvalidFileException and XML errors
        raise RecordsFileError(ir.file_unreadable(type(exc).__name__)) from exc
    try:
        if not wb.worksheets:
            raise RecordsFileError(ir.file_empty())
        ws = wb.worksheets[0]
        first = next(ws.iter_rows(values_only=True, max_row=1), None)
        if not first or not any(c not in (None, "") for c in first):
            raise RecordsFileError(ir.file_empty())
        header = _check_header(list(first))
        total = (ws.max_row - 1) if ws.max_row else None
    finally:
        wb.close()
    if total == 0:
        raise RecordsFileError(ir.file_empty())
    return RecordsFile(path, "xlsx", None, header, total)


def _check_jsonl(path: Path) -> RecordsFile:
    total, header = 0, None
    try:
        with open(path, encoding="utf-8-sig") as fh:
            for line, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except ValueError as exc:
                    raise RecordsFileError(ir.jsonl_malformed(line)) from exc
                if not isinstance(obj, dict):
                    raise RecordsFileError(ir.jsonl_malformed(line))
                if header is None:
                    header = _check_header(list(obj))
                total += 1
    except UnicodeDecodeError as exc:
        raise RecordsFileError(ir.file_unreadable("JSON Lines 文件须为 UTF-8 编码")) from exc
    if header is None:
        raise RecordsFileError(ir.file_empty())
    return RecordsFile(path, "jsonl", "utf-8", header, total)


# --- writing ------------------------------------------------------------------------------------


def write_records_file(path: Path, rows: Iterable[dict[str, str]]) -> int:
    """Write the rows (CSV or XLSX by the extension, streamed); return how many were written.

    CSV is UTF-8 with a BOM, so that Excel shows the Chinese text; every import reads it back.
    XLSX cells are text, so ID numbers and leading zeros survive.
    """
    n = 0
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("records")
        ws.append(list(ir.COLUMNS))
        for row in rows:
            ws.append([row.get(c, "") for c in ir.COLUMNS])
            n += 1
        wb.save(path)
        return n
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(ir.COLUMNS)
        for row in rows:
            w.writerow([row.get(c, "") for c in ir.COLUMNS])
            n += 1
    return n


def write_report(path: Path, refused: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]]) -> int:
    """The refused rows as CSV: the row's columns, then ``row``, ``code``, ``message``, ``field``."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([*ir.COLUMNS, "row", "code", "message", "field"])
        for raw, problems in refused:
            for p in problems:
                w.writerow(
                    [_text(raw.get(c)) for c in ir.COLUMNS]
                    + [p["row"], p["code"], p["message"], p.get("field", "")]
                )
                n += 1
    return n


def report_csv_text(problems: list[dict[str, Any]]) -> str:
    """The problems alone as CSV text (the console's download)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["row", "code", "field", "message"])
    for p in problems:
        w.writerow([p["row"], p["code"], p.get("field", ""), p["message"]])
    return "\ufeff" + buf.getvalue()


def _text(v: Any) -> str:
    return "" if v is None else str(v)
