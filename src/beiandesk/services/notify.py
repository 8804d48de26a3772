"""Notifications: SMS and e-mail written to the outbox in the state change's own transaction.

The worker delivers them later with retries, so a delivery failure never undoes a state change
and an SMTP outage loses nothing (style.md habit 5). Wording is Simplified Chinese; every
message names the website and its filing number so a person with several sites knows which.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from beiandesk.domain.masking import mask_mobile
from beiandesk.domain.model import ChangeOrder
from beiandesk.domain.states import LABELS
from beiandesk.domain.timeline import join_reasons
from beiandesk.services.deps import Deps

_SUBJECTS = {
    "received": "网站变更已提交，等待接入商初审",
    "resubmitted": "网站变更已重新提交，等待接入商初审",
    "provider_approved": "网站变更初审通过，正在提交管局",
    "provider_rejected": "网站变更初审未通过，请修改后重新提交",
    "authority_submitted": "网站变更已提交管局，请在 24 小时内完成工信部短信核验",
    "authority_returned": "网站变更被管局系统退回",
    "sms_reminder": "请尽快完成工信部短信核验",
    "approved": "网站变更已通过管局审核",
    "authority_rejected": "网站变更被管局驳回，请修改后重新提交",
}


def _body(kind: str, order: ChangeOrder, site: str, extra: dict[str, Any]) -> str:
    reasons = join_reasons(r.message for r in order.reasons)
    lines = {
        "received": f"您对网站「{site}」的变更申请已提交。接入商审核专员将在 2 个工作日内电话联系您并完成初审，请保持电话畅通。",
        "resubmitted": f"您对网站「{site}」的变更申请已重新提交，接入商将在 2 个工作日内完成初审，请保持电话畅通。",
        "provider_approved": f"您对网站「{site}」的变更已通过接入商初审，正在提交省通信管理局。",
        "provider_rejected": f"您对网站「{site}」的变更未通过初审。原因：{reasons}。请登录控制台修改后重新提交。",
        "authority_submitted": (
            f"您对网站「{site}」的变更已提交管局。网站负责人将收到工信部发送的 6 位短信核验码，"
            "请在 24 小时内登录 https://beian.miit.gov.cn 完成短信核验，逾期订单将被退回。"
        ),
        "sms_reminder": (
            f"您对网站「{site}」的变更正在等待工信部短信核验，核验期限即将届满。请网站负责人尽快登录 "
            "https://beian.miit.gov.cn 输入短信核验码，逾期订单将被退回。"
        ),
        "authority_returned": (
            f"您对网站「{site}」的变更因{extra.get('reason_text', '短信核验未完成')}被退回接入商，"
            "接入商将重新提交或联系您修改。"
        ),
        "approved": f"您对网站「{site}」的变更已通过管局审核，备案信息已更新，备案号不变。",
        "authority_rejected": f"您对网站「{site}」的变更被管局驳回。原因：{reasons}。请登录控制台修改后重新提交。",
    }
    return lines[kind]


def order_event(
    d: Deps, uow: Any, order: ChangeOrder, kind: str, now: datetime, **extra: Any
) -> list[int]:
    """Queue the SMS and e-mail for ``kind`` to the applicant and the website principal."""
    site = order.proposed.name or order.current.name
    website = uow.websites.get(order.website_id)
    filing = website.filing_number if website else ""
    text = _body(kind, order, f"{site}（{filing}）", extra)
    subject = f"【beiandesk】{_SUBJECTS[kind]}"
    link = f"{d.settings.public_url.rstrip('/')}/changes/{order.id}"
    ids: list[int] = []
    account = uow.accounts.get(order.account_id)
    emails = {e for e in (account.email if account else "", order.proposed.principal.email) if e}
    for to in sorted(emails):
        html_body = (
            f"<p>{html.escape(text)}</p><p>当前状态：{html.escape(LABELS[order.state])}</p>"
            f'<p><a href="{html.escape(link)}">查看变更进度</a></p>'
        )
        ids.append(
            uow.outbox.add(
                "email",
                {
                    "to": to,
                    "subject": subject,
                    "text": f"{text}\n\n查看进度：{link}",
                    "html": html_body,
                },
                now,
                change_id=order.id,
                recipient_masked=_mask_email(to),
                subject=subject,
            )
        )
    mobile = order.proposed.principal.mobile
    if mobile:
        # The provider sends the kind's approved template (domain/sms_templates.PARAMS); the text is
        # what admins read in the outbox and what the ``outbox`` backend keeps.
        params = {
            "site": site,
            "filing": filing,
            "hours": "24",
            "reason": join_reasons(r.message for r in order.reasons)
            or str(extra.get("reason_text", "")),
        }
        ids.append(
            uow.outbox.add(
                "sms",
                {"to": mobile, "text": f"【beiandesk】{text}", "event": kind, "params": params},
                now,
                change_id=order.id,
                recipient_masked=mask_mobile(mobile),
                subject=_SUBJECTS[kind],
            )
        )
    uow.after_commit(lambda: d.wake(ids))
    return ids


def reviewer_reminder(d: Deps, uow: Any, order: ChangeOrder, text: str, now: datetime) -> list[int]:
    """Remind the reviewers (e-mail) that a call is due or an order is overdue."""
    ids = []
    for to in uow.accounts.staff_emails():
        ids.append(
            uow.outbox.add(
                "email",
                {"to": to, "subject": f"【beiandesk 审核提醒】{text}", "text": text},
                now,
                change_id=order.id,
                recipient_masked=_mask_email(to),
                subject=f"审核提醒：{text}",
            )
        )
    uow.after_commit(lambda: d.wake(ids))
    return ids


def _mask_email(addr: str) -> str:
    name, _, host = addr.partition("@")
    return (name[:1] + "***@" + host) if host else "***"
