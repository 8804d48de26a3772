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
        self._verified: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def issue(self, account_id: int, role: str, now: datetime) -> str:
        claims = {"sub": str(account_id), "role": role, "iat": int(now.timestamp()),
                  "exp": int((now + timedelta(seconds=self._ttl)).timestamp())}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def read(self, token: str, now: datetime) -> int | None:
        """The account id of a valid token unexpired at ``now`` (the service's clock); else None."""
        hit = self._verified.get(token)
        if hit is not None:
            return hit[0] if hit[1] >= now.timestamp() else None
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"],
                                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False})
            account_id, exp = int(claims["sub"]), int(claims["exp"])
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            return None
        with self._lock:  # request threads share the cache
            if len(self._verified) >= self.CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = (account_id, exp)
        return account_id if exp >= now.timestamp() else None
