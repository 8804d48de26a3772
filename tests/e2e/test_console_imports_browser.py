"""导入备案记录 in real chromium: an admin uploads a file with bad rows, reads the per-row report,
downloads the refused rows; at 1280 px and 375 px (no sideways scrolling on a phone)."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from tests.e2e.browser_support import DESKTOP, PHONE, Live, Shots, login, new_page
from tests.import_support import csv_text, record


def test_admin_imports_a_file_with_bad_rows_and_reads_the_report(live_console: Live, chromium, shots: Shots,
                                                                 tmp_path: Path) -> None:
    start = random.randrange(100_000, 900_000)  # the live server is shared: fresh filing numbers
    items = [record(start), record(start + 1), record(start + 2, subject_principal_mobile="12345"),
             record(start + 3, website_filing_number="沪ICP备39999999号-1")]
    path = tmp_path / "provider-export.csv"
    path.write_text(csv_text(items), encoding="gb18030")
    base = live_console.base
    for viewport, name in ((DESKTOP, "1280"), (PHONE, "375")):
        page = new_page(chromium, viewport)
        login(page, base, "demo-admin")
        page.goto(f"{base}/admin/imports")
        assert page.get_by_role("link", name="导入记录").count() >= 1
        page.get_by_label("记录文件", exact=True).set_input_files(str(path))
        if name == "375":
            page.get_by_label("试运行（只检查并报告，不写入）").check()
        page.get_by_role("button", name="导入").click()
        page.wait_for_load_state()
        report = page.locator("table.import-report")
        text = report.inner_text()
        assert "mobile_invalid" in text and "filing_number_mismatch" in text
        rows = report.locator("tbody tr")
        assert rows.count() == 2
        assert rows.nth(0).locator("td").first.inner_text().strip() == "4"
        assert page.locator("#import-refused").inner_text() == "2"
        expected_created = "2" if name == "1280" else "0"  # the dry run after the real one: unchanged
        assert page.locator("#import-created").inner_text() == expected_created
        shots(page, f"import-report-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        with page.expect_download() as info:
            page.get_by_role("link", name="下载被拒绝的行（CSV）").click()
        content = Path(info.value.path()).read_bytes().decode("utf-8-sig")
        refused = list(csv.DictReader(io.StringIO(content)))
        assert [(x["row"], x["code"]) for x in refused] == [("4", "mobile_invalid"), ("5", "filing_number_mismatch")]
        page.close()
