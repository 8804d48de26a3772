"""The console's session: one signed cookie holding the bearer token, a CSRF token and a flash.

The cookie carries the same signed, expiring token the API issues (``services.auth.login``), so
the console and the API share one notion of who is logged in and for how long. The cookie is
HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site form posts) and Secure when
the request came over TLS. Every POST must echo the session's CSRF token (OWASP "synchronizer
token" pattern), from a hidden form field or the ``X-CSRF-Token`` header htmx sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from fastapi import Request, Response

COOKIE = "bd_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: Flash messages carried to the next page are capped so the cookie stays far below 4 KB.
FLASH_ITEMS = 5
FLASH_CHARS = 300


class CsrfFailed(Exception):
    """A POST without the session's CSRF token (a forged or stale form)."""


class Signer:
    """HMAC-SHA256 over a base64url JSON payload, with the issue time inside (max age checked)."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._key = hmac.new(
            secret.encode(), f"beiandesk-console:{purpose}".encode(), hashlib.sha256
        ).digest()

    def _sig(self, payload: bytes) -> str:
        return (
            base64.urlsafe_b64encode(hmac.new(self._key, payload, hashlib.sha256).digest())
            .decode()
            .rstrip("=")
        )

    def dumps(self, value: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(
            json.dumps(
                {**value, "_t": int(time.time())}, ensure_ascii=False, separators=(",", ":")
            ).encode()
        ).rstrip(b"=")
        return f"{payload.decode()}.{self._sig(payload)}"

    def loads(self, raw: str | None, max_age_s: int) -> dict[str, Any] | None:
        if not raw or raw.count(".") != 1:
            return None
        payload, sig = raw.split(".")
        if not hmac.compare_digest(sig, self._sig(payload.encode())):
            return None
        try:
            value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        if not isinstance(value, dict) or time.time() - float(value.get("_t", 0)) > max_age_s:
            return None
        value.pop("_t", None)
        return value


def _signer(request: Request) -> Signer:
    return request.app.state.console_signer


def _max_age(request: Request) -> int:
    return int(request.app.state.deps.settings.token_ttl_s)


def get(request: Request) -> dict[str, Any]:
    """This request's session (created on first use with a fresh CSRF token)."""
    sess = getattr(request.state, "console_session", None)
    if sess is None:
        sess = _signer(request).loads(request.cookies.get(COOKIE), _max_age(request))
        if not sess or not isinstance(sess.get("csrf"), str):
            sess = {"csrf": secrets.token_urlsafe(24)}
            request.state.console_session_dirty = True
        request.state.console_session = sess
    return sess


def _dirty(request: Request) -> None:
    request.state.console_session_dirty = True


def csrf_token(request: Request) -> str:
    return str(get(request)["csrf"])


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = get(request).get("csrf")
    if not submitted or not expected or not hmac.compare_digest(str(submitted), str(expected)):
        raise CsrfFailed()


def log_in(request: Request, token: str) -> None:
    """A new session on login: a fresh CSRF token too, so a token planted before is worthless."""
    request.state.console_session = {"tok": token, "csrf": secrets.token_urlsafe(24)}
    _dirty(request)


def log_out(request: Request) -> None:
    request.state.console_session = {"csrf": secrets.token_urlsafe(24)}
    _dirty(request)


def token(request: Request) -> str | None:
    tok = get(request).get("tok")
    return tok if isinstance(tok, str) else None


def flash(
    request: Request,
    text: str,
    level: str = "ok",
    items: list[str] | None = None,
    target: str | None = None,
) -> None:
    """A message shown once, on the next page rendered (after a redirect).

    ``target`` names the page section (its element id) whose control caused the message: the
    page shows the message there, beside that control, instead of at the top (where a person
    who was sent down to the section would never see it).
    """
    get(request)["flash"] = {
        "level": level,
        "text": text[:FLASH_CHARS],
        "items": [i[:FLASH_CHARS] for i in (items or [])[:FLASH_ITEMS]],
        "target": target,
    }
    _dirty(request)


def pop_flash(request: Request) -> dict[str, Any] | None:
    sess = get(request)
    if "flash" not in sess:
        return None
    _dirty(request)
    return sess.pop("flash")


def commit(request: Request, response: Response) -> Response:
    """Write the cookie back if the session changed during this request."""
    if getattr(request.state, "console_session_dirty", False):
        response.set_cookie(
            COOKIE,
            _signer(request).dumps(get(request)),
            max_age=_max_age(request),
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
