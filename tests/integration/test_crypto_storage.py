"""Personal-data encryption, content-addressed file storage, password hashes and tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.security import Passwords, Tokens
from beiandesk.adapters.storage import LocalFileStore

ID = "44030519900101123X"
MOBILE = "13912345678"
FILE_KEY = "file-test-data-key"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


# --- DataCipher --------------------------------------------------------------------------------


def test_cipher_round_trip_hides_the_plaintext() -> None:
    c = DataCipher("data-key-one")
    token = c.encrypt(ID)
    assert token != ID and ID not in token and ID.lower() not in token.lower()
    assert c.decrypt(token) == ID
    assert c.encrypt(ID) != token  # a fresh IV each time: equal values do not look equal


def test_cipher_json_round_trip_with_chinese() -> None:
    c = DataCipher("data-key-one")
    value = {"name": "李明", "mobile": MOBILE, "id_number": ID, "n": [1, None]}
    token = c.encrypt_json(value)
    assert MOBILE not in token and "李明" not in token
    assert c.decrypt_json(token) == value


@pytest.mark.parametrize("empty", [None, ""])
def test_cipher_passes_empty_values_through(empty: str | None) -> None:
    c = DataCipher("k")
    assert c.encrypt(empty) == empty and c.decrypt(empty) == empty


def test_wrong_key_fails_loudly() -> None:
    token = DataCipher("the-right-key").encrypt(ID)
    with pytest.raises(RuntimeError, match="BEIANDESK_DATA_KEY"):
        DataCipher("another-key").decrypt(token)
    with pytest.raises(RuntimeError, match="BEIANDESK_DATA_KEY"):
        DataCipher("another-key").decrypt_json(DataCipher("the-right-key").encrypt_json({"a": 1}))


def test_tampered_ciphertext_fails_loudly() -> None:
    c = DataCipher("k")
    token = c.encrypt(ID)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(RuntimeError):
        c.decrypt(tampered)


def test_a_fernet_key_is_used_as_is_and_a_passphrase_is_derived() -> None:
    fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    from cryptography.fernet import Fernet
    # a value written in the earlier format (a Fernet token under that key as is) still opens
    earlier = Fernet(fernet_key.encode()).encrypt(MOBILE.encode()).decode()
    assert DataCipher(fernet_key).decrypt(earlier) == MOBILE
    # new values are in the current format and open with the same key in another instance
    token = DataCipher(fernet_key).encrypt(MOBILE)
    assert token.startswith("v2.") and DataCipher(fernet_key).decrypt(token) == MOBILE
    # a passphrase of any length works and is stable across instances (a restart)
    assert DataCipher("short").decrypt(DataCipher("short").encrypt(MOBILE)) == MOBILE


def test_values_written_before_the_current_format_still_open() -> None:
    """Fernet tokens under the key the earlier code derived from a passphrase (its SHA-256), as
    every database written before holds them: read as they are, nothing to migrate."""
    from cryptography.fernet import Fernet

    legacy = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"the-right-key").digest()))
    value = {"name": "李明", "mobile": MOBILE, "id_number": ID}
    old_text = legacy.encrypt(ID.encode()).decode()
    old_json = legacy.encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()
    c = DataCipher("the-right-key")
    assert c.decrypt(old_text) == ID and c.decrypt_json(old_json) == value
    with pytest.raises(RuntimeError, match="BEIANDESK_DATA_KEY"):
        DataCipher("another-key").decrypt(old_text)
    with pytest.raises(RuntimeError, match="BEIANDESK_DATA_KEY"):
        DataCipher("another-key").decrypt_json(old_json)


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1],  # cut short (base64 of the wrong length)
        lambda t: t[:10],  # shorter than a nonce and a tag
        lambda t: "v2.",  # nothing at all
        lambda t: "v2.!!!!",  # not base64
        lambda t: t[:3] + ("A" if t[3] != "A" else "B") + t[4:],  # the nonce changed
    ],
)
def test_a_damaged_current_value_fails_loudly(damage) -> None:  # noqa: ANN001
    c = DataCipher("k")
    with pytest.raises(RuntimeError, match="BEIANDESK_DATA_KEY"):
        c.decrypt(damage(c.encrypt(ID)))


def test_blind_index_is_keyed_and_deterministic() -> None:
    a, b = DataCipher("key-a"), DataCipher("key-b")
    assert a.blind_index(MOBILE) == a.blind_index(MOBILE) == DataCipher("key-a").blind_index(MOBILE)
    assert a.blind_index(MOBILE) != b.blind_index(MOBILE)
    assert a.blind_index(MOBILE) != a.blind_index("13912345679")
    assert a.blind_index(MOBILE) != hashlib.sha256(MOBILE.encode()).hexdigest()  # not a bare hash
    assert MOBILE not in a.blind_index(MOBILE)


# --- LocalFileStore -------------------------------------------------------------------------------


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_stores_by_content_hash(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files", FILE_KEY)
    data = b"%PDF-1.4 hello"
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert _files(tmp_path / "files") == [tmp_path / "files" / key[:2] / key[2:4] / key]
    assert store.get(key) == data


def test_put_is_idempotent(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, FILE_KEY)
    k1 = store.put(b"same bytes")
    mtime = (tmp_path / k1[:2] / k1[2:4] / k1).stat().st_mtime_ns
    assert store.put(b"same bytes") == k1
    assert len(_files(tmp_path)) == 1
    assert (tmp_path / k1[:2] / k1[2:4] / k1).stat().st_mtime_ns == mtime
    assert store.put(b"other bytes") != k1 and len(_files(tmp_path)) == 2


@pytest.mark.parametrize("key", ["../../etc/passwd", "A" * 64, "0" * 63, "", "0" * 64 + "/x", "..", "g" * 64])
def test_keys_never_become_arbitrary_paths(tmp_path: Path, key: str) -> None:
    with pytest.raises(KeyError):
        LocalFileStore(tmp_path, FILE_KEY).get(key)


def test_a_missing_key_is_an_error_not_empty_bytes(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalFileStore(tmp_path, FILE_KEY).get("0" * 64)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFileStore(tmp_path, FILE_KEY)

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"half written")
    assert _files(tmp_path) == []  # neither the final file nor a temporary one
    monkeypatch.undo()
    key = store.put(b"half written")  # and a retry works
    assert store.get(key) == b"half written"


def test_concurrent_puts_of_the_same_content(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, FILE_KEY)
    data = os.urandom(256 * 1024)
    keys: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker() -> None:
        try:
            start.wait(5)
            keys.append(store.put(data))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert errors == [] and len(set(keys)) == 1 and len(keys) == 8
    assert len(_files(tmp_path)) == 1 and store.get(keys[0]) == data


# --- Passwords and tokens -------------------------------------------------------------------------------


def test_passwords() -> None:
    pw = Passwords(time_cost=1, memory_cost=1024)
    h = pw.hash("beiandesk-demo")
    assert "beiandesk-demo" not in h and h.startswith("$argon2id$")
    assert pw.verify(h, "beiandesk-demo") is True
    assert pw.verify(h, "beiandesk-demo ") is False
    assert pw.verify("not-a-hash", "beiandesk-demo") is False


def test_tokens_round_trip_and_expire() -> None:
    tokens = Tokens("secret-0123456789abcdef0123456789", ttl_s=3600)
    tok = tokens.issue(42, "applicant", NOW)
    assert tokens.read(tok, NOW) == 42
    assert tokens.read(tok, NOW + timedelta(seconds=3600)) == 42
    assert tokens.read(tok, NOW + timedelta(seconds=3601)) is None


@pytest.mark.parametrize("bad", [
    "", "garbage", "a.b.c",
    jwt.encode({"sub": "42", "exp": 2_000_000_000}, "another-secret-0123456789abcdef01", algorithm="HS256"),
    jwt.encode({"sub": "42"}, "secret-0123456789abcdef0123456789", algorithm="HS256"),                 # no exp
    jwt.encode({"sub": "x", "exp": 2_000_000_000}, "secret-0123456789abcdef0123456789", algorithm="HS256"),
    jwt.encode({"sub": "42", "exp": 2_000_000_000}, None, algorithm="none"),
])
def test_tokens_refuse_forgeries(bad: str) -> None:
    assert Tokens("secret-0123456789abcdef0123456789", ttl_s=3600).read(bad, NOW) is None
