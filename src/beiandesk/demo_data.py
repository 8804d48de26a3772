"""The demo data of api.md (`seed-demo`, `serve --demo`), in one place.

The seed writes these records; the sandbox reads the same facts to play the domain registry
(RDAP) and to host the demo websites' home pages with correct footers, so that the whole flow,
pre-check included, passes on a machine with no internet access. Every number here is valid:
resident IDs carry their GB 11643 check digit, credit codes their GB 32100 one, domains use
fileable suffixes, servers are prepaid mainland CVMs that qualify.
"""

from __future__ import annotations


DEMO_PASSWORD = "beiandesk-demo"

ACCOUNTS = [
    {
        "username": "demo-personal",
        "role": "applicant",
        "display_name": "李明",
        "email": "liming@example.com",
    },
    {
        "username": "demo-enterprise",
        "role": "applicant",
        "display_name": "上海云帆信息科技有限公司",
        "email": "icp@yunfan-tech.com.cn",
        "enterprise_verified": True,
    },
    {
        "username": "demo-reviewer",
        "role": "reviewer",
        "display_name": "审核专员 张敏",
        "email": "reviewer@example.com",
    },
    {
        "username": "demo-admin",
        "role": "admin",
        "display_name": "管理员",
        "email": "admin@example.com",
    },
]

_LIMING = {
    "name": "李明",
    "id_type": "resident_id",
    "id_number": "44030519900101123X",
    "mobile": "13912345678",
    "email": "liming@example.com",
}
_WANGFANG = {
    "name": "王芳",
    "id_type": "resident_id",
    "id_number": "310104198503152023",
    "mobile": "13812345678",
    "email": "wangfang@yunfan-tech.com.cn",
}
_CHENHAO = {
    "name": "陈浩",
    "id_type": "resident_id",
    "id_number": "310115199207083012",
    "mobile": "13687654321",
    "email": "chenhao@yunfan-tech.com.cn",
}


def _cvm(region: str, ip: str, instance: str) -> dict:
    return {
        "kind": "cvm",
        "region": region,
        "public_ip": ip,
        "billing": "prepaid",
        "purchased_at": "2026-01-05",
        "expires_at": "2028-01-05",
        "instance_id": instance,
    }


SUBJECTS = [
    {
        "account": "demo-personal",
        "kind": "personal",
        "name": "李明",
        "province": "广东",
        "id_type": "resident_id",
        "id_number": _LIMING["id_number"],
        "filing_number": "粤ICP备20260001号",
        "principal": _LIMING,
        "legal_rep": "",
        "websites": [
            {
                "name": "明远技术笔记",
                "filing_number": "粤ICP备20260001号-1",
                "status": "open",
                "domains": ["mingyuan-notes.cn"],
                "home_url": "https://www.mingyuan-notes.cn/",
                "content_categories": ["博客/个人空间"],
                "principal": _LIMING,
                "resource": _cvm("ap-guangzhou", "119.29.100.21", "ins-gz7k2m9q"),
            },
        ],
    },
    {
        "account": "demo-enterprise",
        "kind": "enterprise",
        "name": "上海云帆信息科技有限公司",
        "province": "上海",
        "id_type": "uscc",
        "id_number": "91310104MA1FL8XQ36",
        "filing_number": "沪ICP备20260002号",
        "principal": _WANGFANG,
        "legal_rep": "王芳",
        "websites": [
            {
                "name": "云帆科技官网",
                "filing_number": "沪ICP备20260002号-1",
                "status": "open",
                "domains": ["yunfan-tech.com.cn"],
                "home_url": "https://www.yunfan-tech.com.cn/",
                "content_categories": ["企业官网"],
                "principal": _WANGFANG,
                "resource": _cvm("ap-shanghai", "101.34.56.78", "ins-sh3p8r1x"),
            },
            {
                "name": "云帆开发者文档中心",
                "filing_number": "沪ICP备20260002号-2",
                "status": "open",
                "domains": ["yunfan-dev.cn", "yunfandev.com"],
                "home_url": "https://docs.yunfan-dev.cn/",
                "content_categories": ["企业官网"],
                "principal": _CHENHAO,
                "resource": _cvm("ap-shanghai", "101.34.56.79", "ins-sh5t2w6y"),
            },
            {
                "name": "云帆旧版商城",
                "filing_number": "沪ICP备20260002号-3",
                "status": "closed",
                "domains": ["yunfan-shop.com"],
                "home_url": "https://www.yunfan-shop.com/",
                "content_categories": ["网上购物"],
                "principal": _WANGFANG,
                "resource": _cvm("ap-shanghai", "101.34.56.80", "ins-sh9v4z0a"),
            },
        ],
    },
]

#: What the sandbox registry (RDAP) says of each demo domain: a domestic registrar, real-name
#: verified, held by the subject, and valid long enough for every province (上海 wants 180 days).
DOMAIN_FACTS = {
    "mingyuan-notes.cn": {
        "holder": "李明",
        "registrar": "阿里云计算有限公司（万网）",
        "registrar_domestic": True,
        "real_name_verified": True,
        "registered_at": "2024-03-02",
        "expires_at": "2029-03-02",
    },
    "yunfan-tech.com.cn": {
        "holder": "上海云帆信息科技有限公司",
        "registrar": "北京新网数码信息技术有限公司",
        "registrar_domestic": True,
        "real_name_verified": True,
        "registered_at": "2021-06-18",
        "expires_at": "2030-06-18",
    },
    "yunfan-dev.cn": {
        "holder": "上海云帆信息科技有限公司",
        "registrar": "阿里云计算有限公司（万网）",
        "registrar_domestic": True,
        "real_name_verified": True,
        "registered_at": "2022-09-09",
        "expires_at": "2029-09-09",
    },
    "yunfandev.com": {
        "holder": "上海云帆信息科技有限公司",
        "registrar": "腾讯云计算（北京）有限责任公司",
        "registrar_domestic": True,
        "real_name_verified": True,
        "registered_at": "2023-01-15",
        "expires_at": "2028-01-15",
    },
    "yunfan-shop.com": {
        "holder": "上海云帆信息科技有限公司",
        "registrar": "北京新网数码信息技术有限公司",
        "registrar_domestic": True,
        "real_name_verified": True,
        "registered_at": "2020-05-20",
        "expires_at": "2028-05-20",
    },
}


def website_filing_numbers() -> dict[str, str]:
    """domain → the filing number its home page footer must show (for the sandbox's sites)."""
    out: dict[str, str] = {}
    for subject in SUBJECTS:
        for site in subject["websites"]:
            for domain in site["domains"]:
                out[domain] = site["filing_number"]
    return out
