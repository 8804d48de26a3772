"""WHOIS answers in the shapes registries and registrars really print (fixtures written for these
tests: the layouts, key names and legal boilerplate follow the real servers; the data is ours)."""

from __future__ import annotations

from datetime import date

import pytest

from beiandesk.adapters.whois import parse_date, parse_whois

CNNIC = """\
Domain Name: mingyuan-notes.cn
ROID: 20240302s10001s56781234-cn
Domain Status: ok
Registrant: 李明
Registrant Contact Email: liming@example.com
Sponsoring Registrar: 阿里云计算有限公司（万网）
Name Server: dns9.hichina.com
Name Server: dns10.hichina.com
Registration Time: 2024-03-02 12:00:00
Expiration Time: 2028-03-02 12:00:00
DNSSEC: unsigned
"""

CNNIC_HELD = """\
Domain Name: yunfan-tech.com.cn
ROID: 20210618s10011s33445566-cn
Domain Status: clientTransferProhibited
Domain Status: serverHold
Registrant: 上海云帆信息科技有限公司
Registrant Contact Email: icp@yunfan-tech.com.cn
Sponsoring Registrar: 北京新网数码信息技术有限公司
Name Server: ns1.xinnet.cn
Name Server: ns2.xinnet.cn
Registration Time: 2021-06-18 10:21:05
Expiration Time: 2030-06-18 10:21:05
DNSSEC: unsigned
"""

VERISIGN_THIN = """\
   Domain Name: YUNFANDEV.COM
   Registry Domain ID: 2745112345_DOMAIN_COM-VRSN
   Registrar WHOIS Server: whois.dnspod.cn
   Registrar URL: http://www.dnspod.cn
   Updated Date: 2025-01-10T02:11:22Z
   Creation Date: 2023-01-15T03:04:05Z
   Registry Expiry Date: 2028-01-15T04:00:00Z
   Registrar: DNSPod, Inc.
   Registrar IANA ID: 1697
   Registrar Abuse Contact Email: abuse@dnspod.cn
   Registrar Abuse Contact Phone: +86.4009100100
   Domain Status: clientDeleteProhibited https://icann.org/epp#clientDeleteProhibited
   Domain Status: clientTransferProhibited https://icann.org/epp#clientTransferProhibited
   Name Server: F1G1NS1.DNSPOD.NET
   Name Server: F1G1NS2.DNSPOD.NET
   DNSSEC: unsigned
   URL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/
>>> Last update of whois database: 2026-11-27T06:00:00Z <<<

For more information on Whois status codes, please visit https://icann.org/epp

NOTICE: The expiration date displayed in this record is the date the
registrar's sponsorship of the domain name registration in the registry is
currently set to expire. This date does not necessarily reflect the expiration
date of the domain name registrant's agreement with the sponsoring
registrar.

TERMS OF USE: You are not authorized to access or query our Whois
database through the use of electronic processes that are high-volume and
automated except as reasonably necessary to register domain names or
modify existing registrations; By submitting a Whois query, you agree to abide
by the following terms of use: You agree that you may use this Data only
for lawful purposes and that under no circumstances will you use this Data.
"""

REGISTRAR_THICK = """\
Domain Name: yunfan-shop.com
Registry Domain ID: 2520001234_DOMAIN_COM-VRSN
Registrar WHOIS Server: grs-whois.hichina.com
Registrar URL: http://whois.aliyun.com
Updated Date: 2025-04-01T08:00:00Z
Creation Date: 2020-05-20T09:12:13Z
Registrar Registration Expiration Date: 2028-05-20T09:12:13Z
Registrar: Alibaba Cloud Computing (Beijing) Co., Ltd.
Registrar IANA ID: 420
Reseller:
Domain Status: ok https://icann.org/epp#ok
Registry Registrant ID: Not Available From Registry
Registrant Name: REDACTED FOR PRIVACY
Registrant Organization: 上海云帆信息科技有限公司
Registrant Street: REDACTED FOR PRIVACY
Registrant City: REDACTED FOR PRIVACY
Registrant State/Province: shang hai
Registrant Country: CN
Registrant Email: https://whois.aliyun.com/whois/whoisForm
Name Server: dns25.hichina.com
DNSSEC: unsigned
>>> Last update of WHOIS database: 2026-11-27T06:00:00Z <<<
"""

GTLD_TOP = """\
Domain Name: yunfan.top
Registry Domain ID: D20230801G10001G_12345678-top
Registrar WHOIS Server: whois.xinnet.com
Updated Date: 2025-08-02T01:02:03Z
Creation Date: 2023-08-01T09:00:00Z
Registry Expiry Date: 2027-08-01T09:00:00Z
Registrar: Xin Net Technology Corporation
Registrar IANA ID: 120
Domain Status: clientTransferProhibited https://icann.org/epp#clientTransferProhibited
Registrant Organization: REDACTED FOR PRIVACY
Registrant State/Province: Shanghai
Registrant Country: CN
Name Server: ns1.xinnet.cn
"""

RU = """\
% TCI Whois Service. Terms of use:
% https://tcinet.ru/documents/whois_ru_rf.pdf (in Russian)

domain:        EXAMPLE-SHOP.RU
nserver:       ns1.example-shop.ru.
state:         REGISTERED, DELEGATED, VERIFIED
org:           LLC "Example Shop"
taxpayer-id:   7700000000
registrar:     RU-CENTER-RU
admin-contact: https://www.nic.ru/whois
created:       2005-03-01T21:00:00Z
paid-till:     2027-03-01T21:00:00Z
free-date:     2027-04-02
source:        TCI

Last updated on 2026-11-27T06:01:00Z
"""

NOMINET = """\

    Domain name:
        example-trading.co.uk

    Registrant:
        Example Trading Ltd

    Registrant type:
        UK Limited Company, (Company number: 01234567)

    Registrar:
        Xinnet Technology Corporation [Tag = XINNET]
        URL: http://www.xinnet.com

    Relevant dates:
        Registered on: 01-Jun-2015
        Expiry date:  01-Jun-2027
        Last updated:  02-May-2025

    Registration status:
        Registered until expiry date.

    Name servers:
        ns1.xinnet.cn

    WHOIS lookup made at 06:00:00 27-Nov-2026
"""

OLD_STYLE = """\
Domain Name: EXAMPLE-OLD.CC
Registrar: BIZCN.COM, INC.
Whois Server: whois.bizcn.com
Status: ACTIVE
Created On: 12-Mar-2009
Expires On: Mar 12, 2027
Registrant Name: 王芳
"""


def test_cnnic() -> None:
    facts = parse_whois(CNNIC)
    assert facts.error is None
    assert facts.registrar == "阿里云计算有限公司（万网）"
    assert facts.holder == "李明"
    assert facts.expires_at == date(2028, 3, 2)
    assert facts.registered_at == date(2024, 3, 2)
    assert facts.status == ("ok",)
    assert facts.real_name_verified is None  # WHOIS never says


def test_cnnic_several_statuses() -> None:
    facts = parse_whois(CNNIC_HELD)
    assert facts.status == ("clientTransferProhibited", "serverHold")
    assert facts.registrar == "北京新网数码信息技术有限公司"
    assert facts.holder == "上海云帆信息科技有限公司"
    assert facts.expires_at == date(2030, 6, 18)


def test_verisign_thin_with_legal_text() -> None:
    facts = parse_whois(VERISIGN_THIN)
    assert facts.error is None
    assert facts.registrar == "DNSPod, Inc."
    assert facts.expires_at == date(2028, 1, 15)
    assert facts.registered_at == date(2023, 1, 15)
    assert facts.status == ("clientDeleteProhibited", "clientTransferProhibited")
    assert facts.holder is None  # a thin registry has no registrant


def test_registrar_thick_redacted_name_published_org() -> None:
    facts = parse_whois(REGISTRAR_THICK)
    assert facts.registrar == "Alibaba Cloud Computing (Beijing) Co., Ltd."
    assert facts.expires_at == date(2028, 5, 20)
    assert facts.holder == "上海云帆信息科技有限公司"
    assert facts.status == ("ok",)


def test_gtld_registry_all_redacted() -> None:
    facts = parse_whois(GTLD_TOP)
    assert facts.registrar == "Xin Net Technology Corporation"
    assert facts.expires_at == date(2027, 8, 1)
    assert facts.holder is None


def test_ru_paid_till() -> None:
    facts = parse_whois(RU)
    assert facts.registrar == "RU-CENTER-RU"
    assert facts.expires_at == date(2027, 3, 1)
    assert facts.registered_at == date(2005, 3, 1)
    assert facts.holder == 'LLC "Example Shop"'
    assert facts.status == ("REGISTERED", "DELEGATED", "VERIFIED")


def test_nominet_indented_sections() -> None:
    facts = parse_whois(NOMINET)
    assert facts.registrar == "Xinnet Technology Corporation"
    assert facts.holder == "Example Trading Ltd"
    assert facts.expires_at == date(2027, 6, 1)
    assert facts.registered_at == date(2015, 6, 1)


def test_old_registrar_style() -> None:
    facts = parse_whois(OLD_STYLE)
    assert facts.registrar == "BIZCN.COM, INC."
    assert facts.expires_at == date(2027, 3, 12)
    assert facts.registered_at == date(2009, 3, 12)
    assert facts.holder == "王芳"
    assert facts.status == ("ACTIVE",)


NOT_REGISTERED = {
    "verisign": 'No match for "NOSUCH-DOMAIN-4711.COM".\n>>> Last update of whois database: '
                "2026-11-27T06:00:00Z <<<\n\nNOTICE: The expiration date displayed...\n",
    "cnnic": "No matching record.",
    "gtld": "Domain not found.\n>>> Last update of WHOIS database: 2026-11-27T06:00:00Z <<<",
    "ru": "% TCI Whois Service.\n\nNo entries found for the selected source(s).\n",
    "nominet": '\n    No match for "nosuch.co.uk".\n\n'
               "    This domain name has not been registered.\n",
    "iana style": "% IANA WHOIS server\n\n% The queried object does not exist: nosuch\n",
}


@pytest.mark.parametrize("text", NOT_REGISTERED.values(), ids=NOT_REGISTERED.keys())
def test_not_registered(text: str) -> None:
    facts = parse_whois(text)
    assert facts.error is not None and "未注册" in facts.error
    assert facts.expires_at is None


@pytest.mark.parametrize("text", ["", "   \n", "Queried interval is too short.",
                                  "WHOIS LIMIT EXCEEDED - SEE WWW.PIR.ORG/WHOIS FOR DETAILS",
                                  "<html><body>502 Bad Gateway</body></html>"])
def test_useless_answers_are_errors_not_passes(text: str) -> None:
    facts = parse_whois(text)
    assert facts.error
    assert facts.expires_at is None and not facts.registrar


@pytest.mark.parametrize(("value", "expected"), [
    ("2028-03-02 12:00:00", date(2028, 3, 2)),
    ("2028-01-15T04:00:00Z", date(2028, 1, 15)),
    ("2028-01-15T04:00:00.0Z", date(2028, 1, 15)),
    ("2028-01-15T04:00:00+08:00", date(2028, 1, 15)),
    ("2028/01/15", date(2028, 1, 15)),
    ("2028.01.15 10:00:00", date(2028, 1, 15)),
    ("15-jan-2028", date(2028, 1, 15)),
    ("01-Jun-2027", date(2027, 6, 1)),
    ("Mar 12, 2027", date(2027, 3, 12)),
    ("15.01.2028", date(2028, 1, 15)),
    ("before 2028-02-30", None),
    ("unknown", None),
    ("", None),
])
def test_parse_date(value: str, expected: date | None) -> None:
    assert parse_date(value) == expected
