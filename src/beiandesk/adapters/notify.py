"""E-mail delivery: SMTP (plain, STARTTLS or implicit TLS, with AUTH), UTF-8, text + HTML.

``SMTP_URL``: ``smtp://host[:25]`` (plain; ``?starttls`` still accepted), ``smtp+starttls://host[:587]``
or ``smtps://host[:465]``, with ``user:password@`` (percent-encoded) when the server wants AUTH.
TLS verifies the server's certificate against the system store, or ``SMTP_CA_FILE``. Each message
carries its outbox row's stable Message-ID, so a repeat after a crash is recognisable.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import unquote, urlparse

from beiandesk.adapters.sms import OutboxSms  # noqa: F401 - re-exported for older imports
from beiandesk.domain.outbox_states import PermanentFailure, TransientFailure

log = logging.getLogger(__name__)

_SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


def parse_smtp_url(url: str) -> dict[str, Any]:
    u = urlparse(url)
    if u.scheme not in _SCHEMES or not u.hostname:
        raise ValueError(
            f"BEIANDESK_SMTP_URL 格式不正确：{_redact(url)!r}"
            "（应为 smtp://、smtp+starttls:// 或 smtps://[用户名:密码@]主机[:端口]）"
        )
    port, mode = _SCHEMES[u.scheme]
    if mode == "plain" and "starttls" in (u.query or ""):
        mode = "starttls"
    return {
        "host": u.hostname,
        "port": u.port or port,
        "mode": mode,
        "user": unquote(u.username) if u.username else None,
        "password": unquote(u.password) if u.password else None,
    }


def _redact(url: str) -> str:
    u = urlparse(url)
    return url.replace(u.password, "***") if u.password else url


class SmtpMailer:
    keeps_only = False

    def __init__(
        self, url: str, sender: str, timeout_s: float = 15.0, ca_file: str | None = None
    ) -> None:
        cfg = parse_smtp_url(url)
        self.host, self.port, self.mode = cfg["host"], cfg["port"], cfg["mode"]
        self.user, self.password = cfg["user"], cfg["password"]
        self.sender, self.timeout, self.ca_file = sender, timeout_s, ca_file

    @property
    def ssl(self) -> bool:  # older callers
        return self.mode == "tls"

    def _context(self) -> ssl.SSLContext:
        return (
            ssl.create_default_context(cafile=self.ca_file)
            if self.ca_file
            else ssl.create_default_context()
        )

    def _login(self, smtp: smtplib.SMTP) -> None:
        """AUTH; smtplib encodes credentials as ASCII, so UTF-8 ones go as AUTH PLAIN (RFC 4616)."""
        password = self.password or ""
        if (self.user + password).isascii():
            smtp.login(self.user, password)
            return
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn("auth"):
            raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
        token = base64.b64encode(
            b"\0" + self.user.encode("utf-8") + b"\0" + password.encode("utf-8")
        ).decode()
        code, resp = smtp.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, resp)

    def build(
        self, to: str, subject: str, text: str, html: str | None, message_id: str | None
    ) -> EmailMessage:
        msg = EmailMessage()
        name, addr = parseaddr(self.sender)
        msg["From"] = formataddr((name, addr)) if name else addr
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = message_id or make_msgid(
            domain=addr.rpartition("@")[2] or "beiandesk.local"
        )
        msg.set_content(text, charset="utf-8")
        if html:
            msg.add_alternative(
                f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><body>{html}</body></html>',
                subtype="html",
                charset="utf-8",
            )
        return msg

    def send(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        *,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        msg = self.build(to, subject, text, html, message_id)
        try:
            if self.mode == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.mode == "starttls":
                    smtp.starttls(context=self._context())
                if self.user:
                    self._login(smtp)
                refused = smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(
                f"SMTP 认证失败：{exc.smtp_code} {_text(exc.smtp_error)}",
                {"code": exc.smtp_code, "message_id": msg["Message-ID"]},
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(
                f"SMTP 服务器不支持所需功能：{exc}", {"message_id": msg["Message-ID"]}
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, err = next(iter(exc.recipients.values()), (0, b""))
            cls = TransientFailure if 400 <= code < 500 else PermanentFailure
            raise cls(
                f"SMTP 拒绝收件人：{code} {_text(err)}",
                {"code": code, "message_id": msg["Message-ID"]},
            ) from None
        except smtplib.SMTPResponseException as exc:
            cls = TransientFailure if exc.smtp_code < 500 else PermanentFailure
            raise cls(
                f"SMTP 错误：{exc.smtp_code} {_text(exc.smtp_error)}",
                {"code": exc.smtp_code, "message_id": msg["Message-ID"]},
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentFailure(
                f"SMTP 服务器证书校验失败：{exc.verify_message}", {"message_id": msg["Message-ID"]}
            ) from None
        except (OSError, smtplib.SMTPException, socket.timeout) as exc:
            raise TransientFailure(
                f"SMTP 连接失败：{type(exc).__name__}: {exc}", {"message_id": msg["Message-ID"]}
            ) from None
        return {
            "message_id": msg["Message-ID"],
            "server": f"{self.host}:{self.port}",
            "refused": len(refused),
        }


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class OutboxOnlyMailer:
    """No SMTP configured: the outbox row itself is the delivery (仅保存; admins read it there)."""

    keeps_only = True

    def send(self, to: str, subject: str, text: str, html: str | None = None, **_: Any) -> None:
        log.info("e-mail kept in outbox (no SMTP configured): %s", subject)
