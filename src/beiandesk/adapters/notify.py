"""Delivery adapters: SMTP e-mail (UTF-8, Chinese subject, text + HTML) and the SMS outbox."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import unquote, urlparse

from beiandesk.domain.masking import mask_mobile

log = logging.getLogger(__name__)


class SmtpMailer:
    def __init__(self, url: str, sender: str, timeout_s: float = 15.0) -> None:
        u = urlparse(url)
        if u.scheme not in ("smtp", "smtps") or not u.hostname:
            raise ValueError(f"BEIANDESK_SMTP_URL 格式不正确：{url!r}（应为 smtp://host:port）")
        self.host, self.ssl = u.hostname, u.scheme == "smtps"
        self.port = u.port or (465 if self.ssl else 25)
        self.user = unquote(u.username) if u.username else None
        self.password = unquote(u.password) if u.password else None
        self.starttls = "starttls" in (u.query or "")
        self.sender, self.timeout = sender, timeout_s

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        msg = EmailMessage()
        name, addr = parseaddr(self.sender)
        msg["From"] = formataddr((name, addr)) if name else addr
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=addr.rpartition("@")[2] or "beiandesk.local")
        msg.set_content(text, charset="utf-8")
        if html:
            msg.add_alternative(f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><body>{html}</body></html>",
                                subtype="html", charset="utf-8")
        cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        with cls(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


class OutboxOnlyMailer:
    """No SMTP configured: the outbox row itself is the delivery (admins read it there)."""

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        log.info("e-mail kept in outbox (no SMTP configured): %s", subject)


class OutboxSms:
    """The ``outbox`` SMS backend: messages are stored and listed for admins, not sent."""

    def send(self, to: str, text: str) -> None:
        log.info("SMS to %s kept in outbox", mask_mobile(to))


