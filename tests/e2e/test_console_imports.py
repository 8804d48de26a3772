"""导入备案记录 in the console over HTTP: upload with bad rows, read the report, download the
refused rows; a dry run writes nothing; reviewers are refused."""

from __future__ import annotations

import csv
import io
import re

from tests.e2e.test_console_http import console_client, csrf_of, log_in
from tests.import_support import csv_text, record, rows


def test_admin_uploads_reads_the_report_and_downloads_refused_rows(app, seeded) -> None:  # noqa: ANN001
    body = csv_text([*rows(2), record(7, website_status="gone"), record(8, province="火星")]).encode("gb18030")
    with console_client(app) as web:
        log_in(web, "demo-admin")
        page = web.get("/admin")
        assert 'href="/admin/imports"' in page.text  # in the admin nav
        token = csrf_of(web, "/admin/imports")
        dry = web.post("/admin/imports", data={"csrf_token": token, "dry_run": "1"},
                       files={"file": ("records.csv", body, "text/csv")})
        assert dry.status_code == 200, dry.text
        assert "试运行" in dry.text and 'id="import-created">2<' in dry.text
        r = web.post("/admin/imports", data={"csrf_token": token}, files={"file": ("records.csv", body, "text/csv")})
        assert r.status_code == 200, r.text
        assert 'id="import-created">2<' in r.text and 'id="import-refused">2<' in r.text
        assert "<code>value_invalid</code>" in r.text and "<code>province_invalid</code>" in r.text
        link = re.search(r'href="(/admin/imports/refused/[0-9a-f]{64}\.csv)"', r.text).group(1)
        download = web.get(link)
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        refused = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert [(x["row"], x["code"]) for x in refused] == [("4", "value_invalid"), ("5", "province_invalid")]
        again = web.post("/admin/imports", data={"csrf_token": token},
                         files={"file": ("records.csv", body, "text/csv")})
        assert 'id="import-unchanged">2<' in again.text
        bad = web.post("/admin/imports", data={"csrf_token": token},
                       files={"file": ("x.xlsx", b"not a workbook", "application/octet-stream")})
        assert bad.status_code == 200 and "import_file_unreadable" in bad.text
        log_in(web, "demo-reviewer")
        assert web.get("/admin/imports").status_code in (403, 303)
