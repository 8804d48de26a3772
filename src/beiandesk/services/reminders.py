"""Daily duties: expiry reminders for filed websites and closing abandoned orders (issue 14).

- Domain expiry (registry facts, RDAP/WHOIS) and server / resource-pack expiry (the website's
  resource) are reminded at 30, 7 and 1 days before, by SMS and e-mail, each once
  (``reminders_sent`` is unique per kind, target, date and threshold: a renewed domain has a new
  date, so nothing more is sent for the old one).
- Drafts and rejected orders untouched for 60 days are withdrawn (reason ``expired``) after a
  reminder 7 days before.
Rules and numbers: domain/expiry.py.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from beiandesk.domain import expiry
from beiandesk.domain.change import event, transition
from beiandesk.domain.domains import registrable_domain
from beiandesk.domain.masking import mask_mobile
from beiandesk.domain.model import ChangeOrder, Subject, Website
from beiandesk.domain.states import ChangeState
from beiandesk.services import records
from beiandesk.services.deps import Deps
from beiandesk.services.precheck import china_today

log = logging.getLogger(__name__)

#: Registry facts up to this old are good enough to date a reminder; older ones are looked up.
FACTS_MAX_AGE = timedelta(days=7)
PAGE = 500
STALE_STATES = {ChangeState.draft, ChangeState.provider_rejected, ChangeState.authority_rejected}


@dataclass(frozen=True)
class Expiry:
    kind: str  # "domain_expiring" | "resource_expiring"
    website_id: int
    filing_number: str
    site: str
    what: str  # the domain, or the resource's instance id / kind
    expires_on: date
    days_left: int


def _domain_expiry(d: Deps, domain: str, now: datetime, lookup: bool) -> date | None:
    name = registrable_domain(domain) or domain
    with d.uow(readonly=True) as uow:
        facts = uow.domain_cache.get(name, now, FACTS_MAX_AGE)
    if facts is None and lookup and d.domain_lookup is not None:
        facts = d.domain_lookup.lookup(name)
        if facts.error is None:
            with d.uow() as uow:
                uow.domain_cache.put(name, facts, now)
                uow.commit()
    return facts.expires_at if facts is not None and facts.error is None else None


def expiries(d: Deps, website: Website, now: datetime, *, lookup: bool = True) -> list[Expiry]:
    """Every dated thing a filed website depends on: its domains and its resource."""
    today = china_today(now)
    out = []
    seen = set()
    for domain in website.info.domains:
        name = registrable_domain(domain) or domain
        if name in seen:
            continue
        seen.add(name)
        on = _domain_expiry(d, domain, now, lookup)
        if on is not None:
            out.append(
                Expiry(
                    "domain_expiring",
                    website.id,
                    website.filing_number,
                    website.info.name,
                    name,
                    on,
                    expiry.days_left(today, on),
                )
            )
    res = website.info.resource
    if res.expires_at is not None:
        out.append(
            Expiry(
                "resource_expiring",
                website.id,
                website.filing_number,
                website.info.name,
                res.instance_id or res.kind,
                res.expires_at,
                expiry.days_left(today, res.expires_at),
            )
        )
    return out


def upcoming(d: Deps, within_days: int = 60, limit: int = 500) -> list[Expiry]:
    """For the admin page: what lapses within ``within_days``, as the daily job last saw it."""
    today = china_today(d.clock.now())
    with d.uow(readonly=True) as uow:
        rows = uow.reminders.upcoming(today + timedelta(days=within_days), limit)
    return [
        Expiry(
            r["kind"],
            r["website_id"],
            r["filing_number"],
            r["name"],
            r["what"],
            r["expires_on"],
            expiry.days_left(today, r["expires_on"]),
        )
        for r in rows
    ]


def _text(kind: str, site: str, extra: dict[str, Any]) -> tuple[str, str]:
    if kind == "domain_expiring":
        return (
            f"备案网站的域名 {extra['domain']} 将于 {extra['days']} 天后到期",
            f"您已备案的网站「{site}」使用的域名 {extra['domain']} 将于 {extra['on']} 到期（还剩 {extra['days']} 天）。"
            "域名过期后网站将无法访问，备案可能被管局注销，请尽快续费。",
        )
    if kind == "resource_expiring":
        return (
            f"备案网站的服务器将于 {extra['days']} 天后到期",
            f"您已备案的网站「{site}」所在的接入服务器将于 {extra['on']} 到期（还剩 {extra['days']} 天）。"
            "网站迁出接入商服务器后备案将成为空壳而被注销，请尽快续费。",
        )
    if kind == "order_expiring":
        return (
            f"网站变更单将于 {extra['days']} 天后自动关闭",
            f"您对网站「{site}」的变更单已近 {expiry.ABANDON_AFTER_DAYS - expiry.ABANDON_WARN_DAYS} 天未处理，"
            f"将于 {extra['on']} 自动关闭。如需继续，请登录控制台修改并提交。",
        )
    return (
        "网站变更单已自动关闭",
        f"您对网站「{site}」的变更单超过 {expiry.ABANDON_AFTER_DAYS} 天未处理，已自动关闭。如仍需变更，请重新发起。",
    )


def _queue(
    d: Deps,
    uow: Any,
    kind: str,
    subject: Subject | None,
    website: Website,
    now: datetime,
    change_id: int | None = None,
    **extra: Any,
) -> list[int]:
    """SMS and e-mail to the subject's account and the website principal."""
    site_label = f"{website.info.name}（{website.filing_number}）"
    title, text = _text(kind, site_label, extra)
    subject_line = f"【beiandesk】{title}"
    emails = set()
    if subject is not None:
        account = uow.accounts.get(subject.account_id)
        if account is not None and account.email and not account.disabled:
            emails.add(account.email)
    if website.info.principal.email:
        emails.add(website.info.principal.email)
    ids = []
    for to in sorted(emails):
        ids.append(
            uow.outbox.add(
                "email",
                {
                    "to": to,
                    "subject": subject_line,
                    "text": text,
                    "html": f"<p>{html.escape(text)}</p>",
                },
                now,
                change_id=change_id,
                recipient_masked=_mask_email(to),
                subject=subject_line,
            )
        )
    mobile = website.info.principal.mobile
    if mobile:
        params = {
            "site": website.info.name,
            "filing": website.filing_number,
            "domain": str(extra.get("domain", "")),
            "days": str(extra.get("days", "")),
        }
        ids.append(
            uow.outbox.add(
                "sms",
                {"to": mobile, "text": f"【beiandesk】{text}", "event": kind, "params": params},
                now,
                change_id=change_id,
                recipient_masked=mask_mobile(mobile),
                subject=title,
            )
        )
    uow.after_commit(lambda: d.wake(ids))
    return ids


def _mask_email(addr: str) -> str:
    name, _, host = addr.partition("@")
    return (name[:1] + "***@" + host) if host else "***"


def send_expiry_reminders(d: Deps) -> int:
    """One pass over the open filed websites; returns how many reminders were queued."""
    now = d.clock.now()
    today = china_today(now)
    sent = 0
    subjects: dict[int, Subject | None] = {}
    for website in records.iter_open_websites(d, PAGE):
        found = expiries(d, website, now)
        with d.uow() as uow:
            uow.reminders.watch(website.id, [(e.kind, e.what, e.expires_on) for e in found], now)
            uow.commit()
        for e in found:
            threshold = expiry.expiry_threshold(today, e.expires_on)
            if threshold is None:
                continue
            with d.uow() as uow:
                if not uow.reminders.once(
                    e.kind, f"{website.id}:{e.what}", e.expires_on, threshold, now
                ):
                    continue
                if website.subject_id not in subjects:
                    subjects[website.subject_id] = uow.subjects.get(website.subject_id)
                _queue(
                    d,
                    uow,
                    e.kind,
                    subjects[website.subject_id],
                    website,
                    now,
                    domain=e.what,
                    days=e.days_left,
                    on=e.expires_on.isoformat(),
                )
                uow.commit()
                sent += 1
    return sent


def _stale_orders(d: Deps, now: datetime) -> list[ChangeOrder]:
    cutoff = now - timedelta(days=expiry.ABANDON_AFTER_DAYS - expiry.ABANDON_WARN_DAYS)
    out, offset = [], 0
    while True:
        with d.uow(readonly=True) as uow:
            page = uow.changes.list(states=STALE_STATES, limit=PAGE, offset=offset)
        out.extend(o for o in page if o.updated_at <= cutoff)
        if len(page) < PAGE:
            return out
        offset += PAGE


def close_abandoned(d: Deps) -> dict[str, int]:
    """Warn 7 days before, then withdraw (reason expired) drafts and rejections idle 60 days."""
    now = d.clock.now()
    done = {"warned": 0, "closed": 0}
    for stale in _stale_orders(d, now):
        with d.uow() as uow:
            order = uow.changes.get(stale.id, for_update=True)
            if order is None or order.state not in STALE_STATES:
                continue
            action = expiry.abandon_action(order.updated_at, now)
            website = uow.websites.get(order.website_id)
            subject = uow.subjects.get(order.subject_id)
            if website is None or action is None:
                continue
            closes_on = expiry.abandon_date(order.updated_at)
            warned_at = uow.reminders.sent_at("order_expiring", str(order.id), closes_on.date())
            # Never close without the warning: a worker that slept through day 53 warns first
            # and closes a week later.
            if warned_at is None:
                uow.reminders.once(
                    "order_expiring", str(order.id), closes_on.date(), expiry.ABANDON_WARN_DAYS, now
                )
                closes = max(closes_on, now + timedelta(days=expiry.ABANDON_WARN_DAYS))
                left = max(1, round((closes - now) / timedelta(days=1)))
                _queue(
                    d,
                    uow,
                    "order_expiring",
                    subject,
                    website,
                    now,
                    change_id=order.id,
                    days=left,
                    on=china_today(closes).isoformat(),
                )
                event(
                    order,
                    "expiry_warned",
                    "system",
                    f"已提醒申请人：变更单将于 {china_today(closes).isoformat()} 自动关闭",
                    now,
                )
                uow.changes.save(order)
                uow.commit()
                done["warned"] += 1
                continue
            if action != "expire" or now < warned_at + timedelta(days=expiry.ABANDON_WARN_DAYS):
                continue
            touched = order.updated_at
            order.version += 1
            transition(
                order,
                ChangeState.withdrawn,
                "system",
                now,
                f"超过 {expiry.ABANDON_AFTER_DAYS} 天未处理，系统已自动关闭变更单",
                kind="expired",
                reason="expired",
                idle_since=touched.isoformat(),
            )
            uow.changes.save(order)
            _queue(d, uow, "order_expired", subject, website, now, change_id=order.id)
            uow.commit()
            done["closed"] += 1
    return done


def daily(d: Deps) -> dict[str, int]:
    """Run the day's duties once per China day across every worker (the mark is in the DB)."""
    now = d.clock.now()
    today = china_today(now)
    with d.uow(readonly=True) as uow:
        if uow.reminders.sent("job", "daily", today):
            return {}
    out = {"reminders": send_expiry_reminders(d), **close_abandoned(d)}
    with d.uow() as uow:
        uow.reminders.once("job", "daily", today, 0, now)
        uow.commit()
    log.info("daily duties: %s", out)
    return out
