"""Personal data at rest: Fernet encryption (AES-128-CBC + HMAC) and a keyed blind index.

ID numbers and mobiles are stored encrypted under ``BEIANDESK_DATA_KEY``; equality look-ups
("is this mobile used by another subject?") use an HMAC of the normalised value instead of the
plaintext, so the database never holds either in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


def _fernet_key(secret: str) -> bytes:
    raw = secret.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


class DataCipher:
    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(_fernet_key(secret))
        self._index_key = hashlib.sha256(b"beiandesk-blind-index:" + secret.encode()).digest()

    def encrypt(self, value: str | None) -> str | None:
        if value is None or value == "":
            return value
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None or token == "":
            return token
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # a wrong DATA_KEY must fail loudly, not show garbage
            raise RuntimeError("无法解密个人信息：BEIANDESK_DATA_KEY 与加密时不一致") from exc

    def encrypt_json(self, value: Any) -> str:
        return self._fernet.encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token) or "null")

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()
