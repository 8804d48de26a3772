"""Password hashes (argon2id) and signed, expiring bearer tokens (HS256 JWT)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, **params: int) -> None:
        self._ph = PasswordHasher(**params)

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._ph.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class Tokens:
    #: Verified tokens kept (token → (account id, expiry)) so a busy client's signature is
    #: checked once, not on every request; bounded, oldest dropped first.
    CACHE_SIZE = 4096

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret, self._ttl = secret, ttl_s
        self._verified: dict[str, tuple[int, int, str | None]] = {}
        self._lock = threading.Lock()

    @property
    def ttl_s(self) -> int:
        return self._ttl

    def issue(self, account_id: int, role: str, now: datetime, jti: str | None = None) -> str:
        """A signed token; ``jti`` names its session row (services/auth.py checks it per request)."""
        claims = {
            "sub": str(account_id),
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self._ttl)).timestamp()),
        }
        if jti is not None:
            claims["jti"] = jti
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def claims(self, token: str, now: datetime) -> tuple[int, str | None] | None:
        """``(account id, jti)`` of a validly signed token unexpired at ``now``; else None.

        Only the signature check is cached: whether the session is still open (logout,
        disabled account) is the caller's question to the database, every time.
        """
        hit = self._verified.get(token)
        if hit is None:
            try:
                claims = jwt.decode(
                    token,
                    self._secret,
                    algorithms=["HS256"],
                    options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
                )
                hit = (int(claims["sub"]), int(claims["exp"]), claims.get("jti"))
            except (jwt.PyJWTError, ValueError, KeyError, TypeError):
                return None
            if hit[2] is not None and not isinstance(hit[2], str):
                return None
            with self._lock:  # request threads share the cache
                if len(self._verified) >= self.CACHE_SIZE:
                    self._verified.pop(next(iter(self._verified)))
                self._verified[token] = hit
        return (hit[0], hit[2]) if hit[1] >= now.timestamp() else None

    def read(self, token: str, now: datetime) -> int | None:
        """The account id of a valid token unexpired at ``now`` (the service's clock); else None."""
        found = self.claims(token, now)
        return found[0] if found else None
