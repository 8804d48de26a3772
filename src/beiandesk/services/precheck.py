"""The pre-check of a change order: every rule, with live facts answered from a cache.

Domain facts (RDAP/WHOIS) and the home-page probe are slow and external; their answers are
cached in the database with a TTL (``BEIANDESK_DOMAIN_FACTS_TTL_S``), so a repeated pre-check
is fast and a registry outage does not turn into a false pass (a failed look-up is a warning).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from beiandesk.domain.identity import normalize_mobile
from beiandesk.domain.model import Account, ChangeOrder, DomainFacts
from beiandesk.domain.precheck import PrecheckInput, run_precheck
from beiandesk.domain.problems import Problem
from beiandesk.services.access import load_visible
from beiandesk.services import inventory
from beiandesk.services.deps import Deps

CHINA = timezone(timedelta(hours=8))
#: A home page probe is repeated at most this often for the same URL and filing number.
SITE_TTL = timedelta(minutes=10)


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def _registrable(domain: str) -> str:
    from beiandesk.domain.domains import registrable_domain

    return registrable_domain(domain) or domain


def domain_facts(d: Deps, domains: list[str], now: datetime) -> dict[str, DomainFacts]:
    out: dict[str, DomainFacts] = {}
    if d.domain_lookup is None:
        return out
    ttl = timedelta(seconds=d.settings.domain_facts_ttl_s)
    for name in {_registrable(x) for x in domains if x}:
        with d.uow(readonly=True) as uow:
            cached = uow.domain_cache.get(name, now, ttl)
        if cached is not None:
            out[name] = cached
            continue
        facts = d.domain_lookup.lookup(name)
        out[name] = facts
        if facts.error is None:
            with d.uow() as uow:
                uow.domain_cache.put(name, facts, now)
                uow.commit()
    return out


def site_problems(d: Deps, url: str, filing_number: str, now: datetime) -> list[Problem]:
    if d.site_probe is None or not url:
        return []
    key = f"site:{filing_number}:{url}"[:253]
    with d.uow(readonly=True) as uow:
        cached = uow.domain_cache.get_json(key, now, SITE_TTL)
    if cached is not None:
        return [
            Problem(
                code=p["code"], message=p["message"], severity=p["severity"], field=p.get("field")
            )
            for p in cached
        ]
    problems = d.site_probe.probe(url, filing_number)
    if not any(p.code == "site_unreachable" for p in problems):  # outages are not remembered
        with d.uow() as uow:
            uow.domain_cache.put_json(key, [p.to_dict() for p in problems], now)
            uow.commit()
    return problems


def precheck_order(d: Deps, uow: Any, order: ChangeOrder) -> list[Problem]:
    now = d.clock.now()
    subject = uow.subjects.get(order.subject_id)
    account = uow.accounts.get(order.account_id)
    website = uow.websites.get(order.website_id)
    principal_mobile = order.proposed.principal.mobile
    others = (
        uow.subjects.subjects_using_mobile(principal_mobile) - {subject.id}
        if principal_mobile
        else set()
    )
    # The provider's inventory knows the resource better than the applicant (issue 10).
    resource, resource_problems = inventory.reconcile(
        d, order.proposed.resource if order.proposed.resource.kind else None
    )
    inp = PrecheckInput(
        subject=subject,
        proposed=order.proposed,
        today=china_today(now),
        current=order.current,
        resource=resource,
        domain_facts=domain_facts(d, list(order.proposed.domains), now),
        account_enterprise_verified=account.enterprise_verified if account else None,
        materials=frozenset(m.kind for m in uow.changes.materials(order.id)),
        verification_passed=uow.changes.has_passing_verification(order.id),
        mobiles_of_other_subjects=frozenset({normalize_mobile(principal_mobile)})
        if others
        else frozenset(),
        site_problems=site_problems(
            d, order.proposed.home_url, website.filing_number if website else "", now
        ),
        home_url_required=True,
    )
    return run_precheck(inp) + resource_problems


def precheck(d: Deps, actor: Account, change_id: int) -> list[Problem]:
    with d.uow(readonly=True) as uow:
        order = load_visible(uow, actor, change_id)
        return precheck_order(d, uow, order)
