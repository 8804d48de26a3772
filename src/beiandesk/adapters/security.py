"""Password hashes (argon2id) and signed, expiring bearer tokens (HS256 JWT)."""

from __future__ import annotations

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
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret, self._ttl = secret, ttl_s

    def issue(self, account_id: int, role: str, now: datetime) -> str:
        claims = {"sub": str(account_id), "role": role, "iat": int(now.timestamp()),
                  "exp": int((now + timedelta(seconds=self._ttl)).timestamp())}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def read(self, token: str, now: datetime) -> int | None:
        """The account id of a valid token unexpired at ``now`` (the service's clock); else None."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"],
                                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False})
            if int(claims["exp"]) < now.timestamp():
                return None
            return int(claims["sub"])
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            return None
