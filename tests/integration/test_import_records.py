"""import-records / export-records on SQLite and PostgreSQL: formats, per-row problems,
idempotence, history, round trips, unreadable files, crash and re-run, audit."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from beiandesk.adapters.db import tables as t
from beiandesk.adapters.key_ledger import SqliteKeyLedger
from beiandesk.adapters.records_files import RecordsFileError, open_records_file, write_records_file
from beiandesk.domain.import_rows import COLUMNS
from beiandesk.domain.model import Role
from beiandesk.services import audit
from beiandesk.services.imports import export_records, import_records
from tests.import_support import csv_text, record, rows


def _good_and_bad() -> list[dict[str, str]]:
    items = list(rows(4, sites_per_subject=2))            # lines 2..5: two subjects, two sites each
    items.insert(2, record(50, subject_principal_mobile="12345"))          # line 4: bad mobile
    items.append(record(60, website_filing_number="沪ICP备39999999号-1"))  # line 7: mismatch
    return items


def _xlsx(path: Path, items: list[dict[str, str]], formula_cell: tuple[int, str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(COLUMNS))
    for r in items:
        ws.append([r[c] for c in COLUMNS])
    if formula_cell:
        row, column = formula_cell
        col = openpyxl.utils.get_column_letter(COLUMNS.index(column) + 1)
        ws[f"{col}{row}"] = '="测试网站"&"0号站"'
    wb.save(path)
    if formula_cell:  # as Excel saves it: the formula AND its cached value
        row, column = formula_cell
        col = openpyxl.utils.get_column_letter(COLUMNS.index(column) + 1)
        with zipfile.ZipFile(path) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        xml = parts["xl/worksheets/sheet1.xml"].decode()
        xml, n = re.subn(rf'<c r="{col}{row}"><f>(.*?)</f><v\s*/>', rf'<c r="{col}{row}" t="str"><f>\1</f><v>{items[row - 2][column]}</v>', xml)
        assert n == 1
        parts["xl/worksheets/sheet1.xml"] = xml.encode()
        with zipfile.ZipFile(path, "w") as z:
            for name, data in parts.items():
                z.writestr(name, data)
    return path


def _write(tmp_path: Path, fmt: str, items: list[dict[str, str]]) -> Path:
    if fmt == "csv-utf8":
        p = tmp_path / "r.csv"
        p.write_text(csv_text(items), encoding="utf-8")
    elif fmt == "csv-bom":
        p = tmp_path / "r.csv"
        p.write_text(csv_text(items), encoding="utf-8-sig")
    elif fmt == "csv-gb18030":
        p = tmp_path / "r.csv"
        p.write_text(csv_text(items), encoding="gb18030")
    elif fmt == "xlsx":
        p = _xlsx(tmp_path / "r.xlsx", items, formula_cell=(2, "website_name"))
    else:
        p = tmp_path / "r.jsonl"
        p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    return p


def _run(deps, path: Path, **kw):  # noqa: ANN001, ANN202
    return import_records(deps, open_records_file(path).rows(), actor="admin", source=path.name, **kw)


def _count(deps, table) -> int:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        return uow.conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-bom", "csv-gb18030", "xlsx", "jsonl"])
def test_good_rows_among_bad_and_twice_is_unchanged(deps, tmp_path: Path, fmt: str) -> None:
    path = _write(tmp_path, fmt, _good_and_bad())
    first = _run(deps, path)
    assert (first.rows, first.created, first.updated, first.unchanged, first.refused) == (6, 4, 0, 0, 2)
    shift = 1 if fmt == "jsonl" else 0  # JSON Lines have no header: row = the file's own line
    assert [(p["row"], p["code"], p.get("field")) for p in first.problems] == [
        (4 - shift, "mobile_invalid", "subject_principal_mobile"),
        (7 - shift, "filing_number_mismatch", "website_filing_number")]
    assert not first.ok
    assert _count(deps, t.subjects) == 2 and _count(deps, t.websites) == 4
    with deps.uow(readonly=True) as uow:
        subject = uow.subjects.by_filing_number("沪ICP备30000000号")
        site = uow.websites.list()[0]
        raw = uow.conn.execute(select(t.subjects.c.id_number_enc, t.subjects.c.principal_enc)).first()
    assert subject.principal.mobile == record(0)["subject_principal_mobile"]
    assert site.info.name == "测试网站0号站"  # the XLSX formula's cached value, never evaluated
    assert record(0)["subject_id_number"] not in raw.id_number_enc + raw.principal_enc
    assert record(0)["subject_principal_mobile"] not in raw.principal_enc
    again = _run(deps, path)
    assert (again.created, again.updated, again.unchanged, again.refused) == (0, 0, 4, 2)
    with deps.uow(readonly=True) as uow:
        assert uow.websites.history(site.id) == []
    assert [e["action"] for e in audit.list_entries(deps, action="records.import")] == ["records.import"] * 2
    assert audit.list_entries(deps, action="records.import")[0]["detail"]["unchanged"] == 4


def test_a_changed_row_updates_with_history_kept(deps, tmp_path: Path) -> None:
    items = list(rows(3))
    p = tmp_path / "r.csv"
    p.write_text(csv_text(items), encoding="utf-8")
    _run(deps, p)
    items[1] = {**items[1], "website_name": "改过的网站名称", "website_status": "closed",
                "domains": "site1-a.cn"}
    items[2] = {**items[2], "subject_principal_email": "new@example.com"}
    p.write_text(csv_text(items), encoding="utf-8")
    result = _run(deps, p)
    assert (result.created, result.updated, result.unchanged, result.refused) == (0, 2, 1, 0)
    with deps.uow(readonly=True) as uow:
        site = next(w for w in uow.websites.list() if w.filing_number == items[1]["website_filing_number"])
        history = uow.websites.history(site.id)
        subject = uow.subjects.by_filing_number(items[2]["subject_filing_number"])
        freed = uow.conn.execute(select(t.website_domains.c.domain).where(
            t.website_domains.c.website_id == site.id)).scalars().all()
    assert site.info.name == "改过的网站名称" and site.status == "closed" and site.version == 2
    assert [h["version"] for h in history] == [1]
    assert history[0]["info"].name == "测试网站1号站"
    assert subject.principal.email == "new@example.com"
    assert freed == ["site1-a.cn"]
    # the freed domain may now be filed under another website
    p.write_text(csv_text([record(7, domains="site1-b.com.cn")]), encoding="utf-8")
    assert _run(deps, p).created == 1


def test_cross_row_rules_within_and_across_batches(deps, tmp_path: Path) -> None:
    items = list(rows(4))
    items.append(record(10, domains="site0-a.cn"))                                   # line 6
    items.append(record(11, subject_principal_mobile=items[0]["subject_principal_mobile"],
                        website_principal_mobile=items[0]["subject_principal_mobile"]))  # line 7
    items.append(dict(items[1]))                                                     # line 8: duplicate
    p = tmp_path / "r.csv"
    p.write_text(csv_text(items), encoding="utf-8")
    expected = [(6, "domain_filed_elsewhere"), (7, "mobile_used_by_other_subject")]
    result = _run(deps, p, dry_run=True)
    assert [(x["row"], x["code"]) for x in result.problems] == [*expected, (8, "import_row_duplicate")]
    # batches of two: what earlier batches claimed still counts (dry run: kept aside, in memory
    # or in the on-disk ledger the entry points use)
    result = _run(deps, p, batch_size=2, dry_run=True)
    assert [(x["row"], x["code"]) for x in result.problems] == expected
    with SqliteKeyLedger(tmp_path) as ledger:
        result = _run(deps, p, batch_size=2, dry_run=True, ledger=ledger)
    assert [(x["row"], x["code"]) for x in result.problems] == expected
    assert list(tmp_path.glob("beiandesk-ledger-*")) == []
    assert _count(deps, t.websites) == 0  # dry runs write nothing
    result = _run(deps, p, batch_size=2)  # real run: earlier batches are in the database
    assert [(x["row"], x["code"]) for x in result.problems] == expected
    assert result.created == 4 and _count(deps, t.websites) == 4


def test_account_username_links_the_subject(deps, tmp_path: Path) -> None:
    with deps.uow() as uow:
        acc = uow.accounts.add("li-ming", "x", Role.applicant, "李明", "", False, deps.clock.now())
        uow.commit()
    p = tmp_path / "r.csv"
    p.write_text(csv_text([record(0, account_username="li-ming"), record(1, account_username="ghost"),
                           record(2)]), encoding="utf-8")
    result = _run(deps, p)
    assert [(x["row"], x["code"], x["field"]) for x in result.problems] == [(3, "account_not_found", "account_username")]
    with deps.uow(readonly=True) as uow:
        assert uow.subjects.by_filing_number(record(0)["subject_filing_number"]).account_id == acc.id
        assert uow.subjects.by_filing_number(record(2)["subject_filing_number"]).account_id is None
        assert [w.filing_number for w in uow.websites.list(account_id=acc.id)] == [record(0)["website_filing_number"]]


def test_a_crash_leaves_whole_batches_and_a_rerun_finishes(deps, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text(csv_text(rows(7)), encoding="utf-8")
    calls = []

    def crash(done: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(deps, p, batch_size=3, on_progress=crash)
    assert _count(deps, t.websites) == 6  # two whole batches, nothing of the third
    result = _run(deps, p, batch_size=3)
    assert (result.created, result.unchanged) == (1, 6)
    assert _count(deps, t.websites) == 7


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_is_unchanged_and_masked_export_is_refused(deps, tmp_path: Path, suffix: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text(csv_text(rows(5, sites_per_subject=2)), encoding="utf-8")
    assert _run(deps, src).created == 5
    full = tmp_path / f"full{suffix}"
    assert export_records(deps, lambda r: write_records_file(full, r), actor="admin", unmasked=True) == 5
    back = _run(deps, full)
    assert (back.created, back.updated, back.unchanged, back.refused) == (0, 0, 5, 0), back.problems
    masked = tmp_path / f"masked{suffix}"
    export_records(deps, lambda r: write_records_file(masked, r), actor="admin")
    refused = _run(deps, masked)
    assert refused.refused == 5 and refused.updated == 0
    assert {p["code"] for p in refused.problems} == {"id_number_invalid", "mobile_invalid"}
    with deps.uow(readonly=True) as uow:
        assert uow.subjects.by_filing_number(record(0)["subject_filing_number"]).id_number == record(0)["subject_id_number"]
    exports = [e["detail"]["unmasked"] for e in audit.list_entries(deps, action="records.export")]
    assert exports == [False, True]  # newest first: who revealed personal data is on record


@pytest.mark.parametrize(("name", "content", "code"), [
    ("a.csv", b"", "import_file_empty"),
    ("a.csv", b"\xef\xbb\xbf\r\n", "import_file_empty"),
    ("a.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "import_file_unreadable"),
    ("a.xlsx", b"not a workbook at all", "import_file_unreadable"),
    ("a.xlsx", b"PK\x03\x04broken zip", "import_file_unreadable"),
    ("a.jsonl", b'{"subject_filing_number": 1}\n{broken\n', "import_column_missing"),
])
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, code: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(RecordsFileError) as exc:
        open_records_file(p)
    assert exc.value.problem.code == code


def test_missing_column_is_named_and_csv_quote_and_jsonl_line_reported(tmp_path: Path) -> None:
    text = csv_text([record(0)])
    p = tmp_path / "a.csv"
    p.write_text(text.replace("website_status,", "status,"), encoding="utf-8")
    with pytest.raises(RecordsFileError) as exc:
        open_records_file(p)
    assert exc.value.problem.code == "import_column_missing"
    assert exc.value.problem.extra["columns"] == ["website_status"] and "website_status" in exc.value.problem.message
    header, line = text.splitlines()
    p.write_text("\n".join([header, line, line.replace("张三", '"张三', 1), line]) + "\n", encoding="utf-8")
    with pytest.raises(RecordsFileError) as exc:
        open_records_file(p)
    assert exc.value.problem.code == "import_csv_malformed"
    p.write_text(header + "\n", encoding="utf-8")
    with pytest.raises(RecordsFileError) as exc:
        open_records_file(p)
    assert exc.value.problem.code == "import_file_empty"
    j = tmp_path / "a.jsonl"
    j.write_text(json.dumps(record(0)) + "\n" + "{not json\n", encoding="utf-8")
    with pytest.raises(RecordsFileError) as exc:
        open_records_file(j)
    assert exc.value.problem.code == "import_jsonl_malformed" and exc.value.problem.extra["line"] == 2


def test_an_applicant_created_afterwards_is_linked_to_an_imported_subject(deps, tmp_path: Path) -> None:
    from beiandesk.services import accounts

    p = tmp_path / "r.csv"
    p.write_text(csv_text(rows(2, sites_per_subject=2)), encoding="utf-8")
    assert _run(deps, p).created == 2
    number = record(0)["subject_filing_number"]
    account, _ = accounts.create(deps, actor="admin", username="zhang-san", role="applicant", subjects=[number])
    assert account["subjects"] == [number]
    with deps.uow(readonly=True) as uow:
        assert len(uow.websites.list(account_id=account["id"])) == 2
    # re-importing the same file (no account_username) keeps the link
    assert _run(deps, p).unchanged == 2
    with deps.uow(readonly=True) as uow:
        assert uow.subjects.by_filing_number(number).account_id == account["id"]
