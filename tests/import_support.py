"""Valid records files for import tests and bench/bench_import.py: every number carries its
real check digit (GB 11643 resident IDs, GB 32100 credit codes), mobiles and domains unique."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from stdnum.cn import uscc

from beiandesk.domain.import_rows import COLUMNS

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(i: int, prefix: str = "310104", born: str = "19850315") -> str:
    body = f"{prefix}{born}{i % 1000:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def credit_code(i: int) -> str:
    for org_check in "0123456789X":
        body = f"91310104{i % 100000000:08d}{org_check}"
        code = body + uscc.calc_check_digit(body)
        if uscc.is_valid(code):
            return code
    raise AssertionError(i)


def record(i: int, *, sites_per_subject: int = 1, **changes: str) -> dict[str, str]:
    """Row ``i``: subject ``i // sites_per_subject`` (上海, enterprise every other subject)."""
    s, seq = divmod(i, sites_per_subject)
    enterprise = s % 2 == 1
    person = resident_id(s, born=f"19{70 + s % 30:02d}0{1 + s % 9}1{s % 9}")
    mobile = f"13{s % 10}{s // 10 % 100000000:08d}"
    row = {
        "subject_filing_number": f"沪ICP备{30000000 + s:08d}号",
        "subject_kind": "enterprise" if enterprise else "personal",
        "subject_name": f"上海测试{s}科技有限公司" if enterprise else "张三",
        "province": "上海",
        "subject_id_type": "uscc" if enterprise else "resident_id",
        "subject_id_number": credit_code(s) if enterprise else person,
        "subject_principal_name": "张三", "subject_principal_id_type": "resident_id",
        "subject_principal_id_number": person, "subject_principal_mobile": mobile,
        "subject_principal_email": f"owner{s}@example.com",
        "website_filing_number": f"沪ICP备{30000000 + s:08d}号-{seq + 1}",
        "website_name": f"测试网站{i}号站", "website_status": "open",
        "domains": f"site{i}-a.cn;site{i}-b.com.cn", "home_url": f"https://www.site{i}-a.cn/",
        "content_categories": "企业官网" if enterprise else "博客/个人空间",
        "website_principal_name": "张三", "website_principal_id_type": "resident_id",
        "website_principal_id_number": person, "website_principal_mobile": mobile,
        "website_principal_email": f"owner{s}@example.com",
        "resource_kind": "cvm", "resource_region": "ap-shanghai", "resource_public_ip": "101.34.56.78",
        "resource_billing": "prepaid", "resource_purchased_at": "2026-01-05",
        "resource_expires_at": "2028-01-05", "resource_instance_id": f"ins-{i:08d}",
        "account_username": "",
    }
    row.update(changes)
    return row


def rows(n: int, start: int = 0, **kw: int) -> Iterator[dict[str, str]]:
    for i in range(start, start + n):
        yield record(i, **kw)


def csv_text(items: list[dict[str, str]] | Iterator[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in items:
        w.writerow(r)
    return buf.getvalue()
