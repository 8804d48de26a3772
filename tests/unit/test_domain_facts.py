"""RegistryLookup (RDAP first, WHOIS fallback, never raises) and the packaged registrar lists."""

from __future__ import annotations

from datetime import date

import pytest

from beiandesk.adapters.domain_facts import RegistrarList, RegistryLookup, registrar_is_domestic
from beiandesk.domain.model import DomainFacts


class FakeSource:
    def __init__(self, result: DomainFacts | Exception) -> None:
        self.result = result
        self.asked: list[str] = []

    def lookup(self, domain: str) -> DomainFacts:
        self.asked.append(domain)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


GOOD = DomainFacts(registrar="Alibaba Cloud Computing (Beijing) Co., Ltd.", holder="李明",
                   expires_at=date(2028, 3, 2), status=("active",), source="rdap:x")


@pytest.mark.parametrize("name", [
    "阿里云计算有限公司（万网）", "阿里云计算有限公司", "北京新网数码信息技术有限公司",
    "腾讯云计算（北京）有限责任公司", "Alibaba Cloud Computing (Beijing) Co., Ltd.",
    "ALIBABA CLOUD COMPUTING LTD. D/B/A HICHINA (WWW.NET.CN)", "DNSPod, Inc.",
    "Xin Net Technology Corporation", "Xin Net", "成都西维数码科技有限公司",
    "Chengdu West Dimension Digital Technology Co., Ltd.", "Bizcn.com, Inc.", "Todaynic.com, Inc.",
    "北京百度网讯科技有限公司", "ｘｉｎｎｅｔ",
])
def test_domestic_registrars(name: str) -> None:
    assert registrar_is_domestic(name) is True


@pytest.mark.parametrize("name", ["GoDaddy.com, LLC", "NameCheap, Inc.", "Cloudflare, Inc.",
                                  "MarkMonitor Inc.", "Tucows Domains Inc.", "Porkbun LLC"])
def test_foreign_registrars(name: str) -> None:
    assert registrar_is_domestic(name) is False


@pytest.mark.parametrize("name", ["West263 International Limited", "Gname.com Pte. Ltd.",
                                  "Some Registrar Ltd", "Net", "", "云"])
def test_unknown_registrars(name: str) -> None:
    assert registrar_is_domestic(name) is None


def test_registrar_list_skips_comments_and_short_names() -> None:
    csv_text = "# comment, with comma\nname,aliases,source\n好网络科技有限公司,云|ab,x\n"
    lst = RegistrarList.from_csv(csv_text)
    assert lst.matches("好网络科技有限公司（分公司）")
    assert not lst.matches("ab")  # too short to be matched inside other names


def test_rdap_answer_wins_and_gets_the_domestic_flag() -> None:
    rdap, whois = FakeSource(GOOD), FakeSource(AssertionError("not asked"))
    facts = RegistryLookup(rdap, whois).lookup("mingyuan-notes.cn")
    assert facts.registrar_domestic is True and facts.holder == "李明"
    assert whois.asked == []


def test_registry_supplied_flag_is_kept() -> None:
    given = DomainFacts(registrar="阿里云计算有限公司", registrar_domestic=False, source="rdap:x")
    assert RegistryLookup(FakeSource(given), None).lookup("a.cn").registrar_domestic is False


NOT_REGISTERED = DomainFacts(error="RDAP 显示该域名未注册", source="rdap:x")


@pytest.mark.parametrize("rdap_result", [RuntimeError("boom"), NOT_REGISTERED])
def test_whois_is_the_fallback(rdap_result: DomainFacts | Exception) -> None:
    whois = FakeSource(DomainFacts(registrar="GoDaddy.com, LLC", expires_at=date(2027, 1, 1),
                                   source="whois:h"))
    facts = RegistryLookup(FakeSource(rdap_result), whois).lookup("example.com")
    assert whois.asked == ["example.com"]
    assert facts.source == "whois:h" and facts.registrar_domestic is False


def test_both_failing_gives_an_error_never_an_exception() -> None:
    facts = RegistryLookup(FakeSource(TimeoutError("RDAP 超时")),
                           FakeSource(OSError("connection refused"))).lookup("example.cn")
    assert facts.error is not None
    assert "example.cn" in facts.error and "RDAP" in facts.error and "WHOIS" in facts.error
    assert facts.expires_at is None and facts.registrar_domestic is None
    assert facts.source == "rdap+whois"


def test_no_source_configured() -> None:
    facts = RegistryLookup(None, None).lookup("example.cn")
    assert facts.error
