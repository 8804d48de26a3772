"""Uploaded files at rest (api.md §Several nodes; issue 12: encrypted, durable): the same tests on
the local store and on an S3 server (moto's server mode, a real process on loopback)."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from beiandesk.adapters import storage
from beiandesk.adapters.storage import (CHUNK, EncryptedFileStore, LocalBlobStore, S3BlobStore, StorageError,
                                        build_file_store, parse_storage_url)
from beiandesk.config import Settings
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, make_bucket, moto_server

DATA_KEY = "file-store-test-data-key"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _s3_raw(endpoint: str) -> S3BlobStore:
    bucket = f"bd-{uuid.uuid4().hex[:12]}"
    make_bucket(endpoint, bucket)
    return S3BlobStore(bucket, "uploads/x", endpoint_url=endpoint, region=REGION,
                       access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY)


@pytest.fixture(params=["file", "s3"])
def raw(request: pytest.FixtureRequest, tmp_path: Path) -> storage.BlobStore:
    if request.param == "file":
        return LocalBlobStore(tmp_path / "files")
    return _s3_raw(request.getfixturevalue("s3_endpoint"))


def _stored_bytes(raw: storage.BlobStore, key: str) -> bytes:
    return b"".join(raw.read(key))


def test_round_trip_by_plaintext_hash_and_encrypted_at_rest(raw: storage.BlobStore) -> None:
    store = EncryptedFileStore(raw, DATA_KEY)
    data = b"ID card scan 44030519900101123X " * 5000  # several chunks
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.get(key) == data and b"".join(store.open_read(key)) == data
    at_rest = _stored_bytes(raw, key)
    assert b"44030519900101123X" not in at_rest and at_rest.startswith(storage.MAGIC)
    assert list(store.iter_keys()) == [key] and store.exists(key)
    assert store.put(data) == key and list(store.iter_keys()) == [key]  # idempotent
    assert store.put(b"") == hashlib.sha256(b"").hexdigest() and store.get(hashlib.sha256(b"").hexdigest()) == b""
    store.ping()


def test_missing_key_and_bad_keys(raw: storage.BlobStore) -> None:
    store = EncryptedFileStore(raw, DATA_KEY)
    with pytest.raises(FileNotFoundError):
        store.open_read("0" * 64)
    for bad in ["../../etc/passwd", "A" * 64, "0" * 63, "", "g" * 64]:
        with pytest.raises(KeyError):
            store.get(bad)


def test_wrong_data_key_is_refused_loudly(raw: storage.BlobStore) -> None:
    key = EncryptedFileStore(raw, DATA_KEY).put(b"secret scan")
    with pytest.raises(StorageError, match="DATA_KEY"):
        EncryptedFileStore(raw, "another-key").get(key)


@pytest.mark.parametrize("how", ["flip", "truncate", "drop_last_chunk", "swap"])
def test_tampered_blobs_fail_authentication(raw: storage.BlobStore, how: str) -> None:
    store = EncryptedFileStore(raw, DATA_KEY)
    data = os.urandom(CHUNK * 2 + 100)
    key = store.put(data)
    blob = bytearray(_stored_bytes(raw, key))
    header = storage._HEADER.size
    if how == "flip":
        blob[header + 10] ^= 1
    elif how == "truncate":
        del blob[-5:]
    elif how == "drop_last_chunk":
        del blob[-(4 + 100 + 16):]
    else:  # the blob of other content, stored under this key
        other = store.put(b"other content")
        blob = bytearray(_stored_bytes(raw, other))
    raw.write(key, [bytes(blob)])
    with pytest.raises(StorageError):
        store.get(key)


def test_files_stored_before_encryption_still_read(raw: storage.BlobStore) -> None:
    data = b"%PDF-1.4 legacy plain file\n%%EOF\n"
    key = hashlib.sha256(data).hexdigest()
    raw.write(key, [data])
    store = EncryptedFileStore(raw, DATA_KEY)
    assert store.get(key) == data
    raw.write(key, [data + b"x"])
    with pytest.raises(StorageError, match="hash"):
        store.get(key)


def test_streams_in_bounded_memory(raw: storage.BlobStore) -> None:
    store = EncryptedFileStore(raw, DATA_KEY)
    size = 24 * 1024 * 1024
    block = os.urandom(CHUNK)

    def source() -> Iterator[bytes]:
        for i in range(size // CHUNK):
            yield block[:-1] + bytes([i % 256])

    expected = hashlib.sha256()
    for piece in source():
        expected.update(piece)
    tracemalloc.start()
    try:
        key = store.put_stream(source())
        _, peak_put = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        got, n = hashlib.sha256(), 0
        for chunk in store.open_read(key):
            got.update(chunk)
            n += len(chunk)
        _, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert key == expected.hexdigest() == got.hexdigest() and n == size
    # the file is 24 MiB; neither direction holds it (S3 multipart parts are 5 MiB, one at a time)
    assert peak_put < 16 * 1024 * 1024 and peak_read < 4 * 1024 * 1024, (peak_put, peak_read)


def test_local_writes_are_fsynced_before_put_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    store = EncryptedFileStore(LocalBlobStore(tmp_path / "files"), DATA_KEY)
    key = store.put(b"an approval's evidence")
    final = tmp_path / "files" / key[:2] / key[2:4] / key
    assert final.is_file() and oct(final.stat().st_mode & 0o777) == "0o600"
    # the temporary file's data, then the directory holding the renamed entry, and the new
    # fan-out directories' parents
    assert any(Path(p).name.startswith(".upload-") for p in synced)
    assert str(final.parent) in synced and str(final.parent.parent) in synced
    assert synced.index(str(final.parent)) > max(i for i, p in enumerate(synced) if ".upload-" in p)


def test_storage_url_parsing_and_settings(tmp_path: Path, s3_endpoint: str) -> None:
    assert parse_storage_url("file:///srv/files") == ("file", "/srv/files", "")
    assert parse_storage_url("s3://bucket/a/b/") == ("s3", "bucket", "a/b")
    for bad in ["ftp://x/y", "s3:///nobucket", "file://"]:
        with pytest.raises(ValueError):
            parse_storage_url(bad)
    legacy = build_file_store(Settings(var_dir=tmp_path, storage_dir=tmp_path / "old", data_key=DATA_KEY))
    assert isinstance(legacy.raw, LocalBlobStore) and legacy.raw.root == (tmp_path / "old").resolve()
    default = build_file_store(Settings(var_dir=tmp_path, data_key=DATA_KEY))
    assert default.raw.root == (tmp_path / "files").resolve()
    by_url = build_file_store(Settings(var_dir=tmp_path, storage_url=f"file://{tmp_path}/u", data_key=DATA_KEY))
    assert by_url.raw.root == (tmp_path / "u").resolve()
    bucket = f"bd-{uuid.uuid4().hex[:12]}"
    make_bucket(s3_endpoint, bucket)
    s3 = build_file_store(Settings(var_dir=tmp_path, storage_url=f"s3://{bucket}/p", s3_endpoint_url=s3_endpoint,
                                   s3_region=REGION, s3_access_key_id=ACCESS_KEY,
                                   s3_secret_access_key=SECRET_KEY, data_key=DATA_KEY))
    key = s3.put(b"via settings")
    assert s3.get(key) == b"via settings" and isinstance(s3.raw, S3BlobStore)
    # vendor-neutral: no default CRC headers (COS/OSS/MinIO versions refuse them), path-style URLs
    config = s3.raw.client.meta.config
    assert config.request_checksum_calculation == "when_required"
    assert config.s3["addressing_style"] == "path"
    sent: list[dict[str, str]] = []
    s3.raw.client.meta.events.register("before-send.s3.*", lambda request, **_: sent.append(dict(request.headers)))
    s3.put(b"headers of a PUT")
    assert sent and not [h for h in sent for name in h if name.lower().startswith(("x-amz-checksum", "x-amz-sdk-checksum"))]


def test_s3_credentials_from_standard_aws_variables(s3_endpoint: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = f"bd-{uuid.uuid4().hex[:12]}"
    make_bucket(s3_endpoint, bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = build_file_store(Settings(var_dir=tmp_path, storage_url=f"s3://{bucket}", data_key=DATA_KEY))
    assert store.get(store.put(b"aws vars")) == b"aws vars"


def test_unreachable_s3_fails_ping(tmp_path: Path) -> None:
    from tests.s3_support import free_port
    store = S3BlobStore("nobucket", endpoint_url=f"http://127.0.0.1:{free_port()}", region=REGION,
                        access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY)
    store.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(Exception):
        store.ping()
