"""Uploaded files: content-addressed, encrypted at rest, on local disk or an S3-compatible store.

``STORAGE_URL`` picks the blob store: ``file:///path`` (default ``var/files``; ``STORAGE_DIR``
keeps working) or ``s3://BUCKET/PREFIX`` (Tencent COS, Alibaba OSS, MinIO, AWS S3 — any server
speaking the S3 API; the adapter only knows the endpoint URL it is given).

Every file goes through :class:`EncryptedFileStore`:

- its key is the SHA-256 of the *plaintext*, so the client's filename is never part of a path
  and the same bytes are stored once;
- the bytes are encrypted with a random per-file key (AES-256-GCM, 64 KiB chunks, each chunk's
  index and a "last chunk" flag authenticated, so chunks cannot be reordered or cut off); that
  file key is wrapped with a key derived from ``DATA_KEY`` (envelope encryption);
- writes and reads stream, so memory stays bounded whatever the file's size;
- a local file is written to a temporary file, fsynced, renamed into place and its directory
  fsynced before ``put`` returns — before the database commit that refers to it.

Files written before encryption existed (plain bytes) are still read: they lack the header.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import unquote, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_KEY = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 64 * 1024
MAGIC = b"BDESKF1\n"
_HEADER = struct.Struct(
    ">8s8s12s48s8s"
)  # magic, kek id, wrap nonce, wrapped file key, nonce prefix
_LEN = struct.Struct(">I")
_TAG = 16


class StorageError(RuntimeError):
    """The store is unreachable, misconfigured, or a stored file fails its integrity check."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise KeyError(key)
    return key


# --------------------------------------------------------------------------- raw blob stores


class BlobStore(Protocol):
    def exists(self, name: str) -> bool: ...
    def write(self, name: str, chunks: Iterable[bytes]) -> None: ...
    def write_file(self, name: str, fh: IO[bytes]) -> None: ...
    def read(self, name: str) -> Iterator[bytes]: ...
    def iter_names(self) -> Iterator[str]: ...
    def delete(self, name: str) -> None: ...
    def ping(self) -> None: ...
    def describe(self) -> str: ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs under ``root/ab/cd/<name>``: temp file, fsync, atomic rename, fsync of the directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return f"file://{self.root}"

    def _path(self, name: str) -> Path:
        check_key(name)
        return self.root / name[:2] / name[2:4] / name

    def _mkdirs(self, directory: Path) -> None:
        if directory.is_dir():
            return
        missing = []
        d = directory
        while not d.exists():
            missing.append(d)
            d = d.parent
        directory.mkdir(parents=True, exist_ok=True)
        for created in reversed(
            missing
        ):  # a new directory entry is durable once its parent is synced
            _fsync_dir(created.parent)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def write_file(self, name: str, fh: IO[bytes]) -> None:
        self.write(name, iter(lambda: fh.read(CHUNK), b""))

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        path = self._path(name)
        self._mkdirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)

    def read(self, name: str) -> Iterator[bytes]:
        path = self._path(name)
        fh = path.open("rb")  # raises FileNotFoundError now, not at the first chunk

        def gen() -> Iterator[bytes]:
            with fh:
                while chunk := fh.read(CHUNK):
                    yield chunk

        return gen()

    def iter_names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for p in sorted(self.root.glob("??/??/*")):
            if p.is_file() and _KEY.match(p.name):
                yield p.name

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"存储目录不可写：{self.root}")


class S3BlobStore:
    """Blobs as objects ``PREFIX/<name>`` in one bucket, through boto3.

    boto3 rather than obstore: it is the reference S3 client every S3-compatible vendor (COS, OSS,
    MinIO) documents and tests against, its managed transfer streams multipart uploads with
    bounded memory, and its addressing/signature options cover the vendors' quirks.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        client: Any = None,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(
                retries={"max_attempts": 4, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                signature_version="s3v4",
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                # boto3 ≥ 1.36 adds CRC checksum headers to every PUT by default, which
                # several S3-compatible stores refuse; only send them when required.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        # 5 MiB parts (S3's minimum), one at a time: memory per upload stays a few parts' worth.
        self._transfer = TransferConfig(
            multipart_threshold=8 * 1024 * 1024,
            multipart_chunksize=5 * 1024 * 1024,
            max_concurrency=1,
            use_threads=False,
        )

    def describe(self) -> str:
        where = f" @ {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def _obj(self, name: str) -> str:
        check_key(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def _missing(self, exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._obj(name))
            return True
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise

    def write_file(self, name: str, fh: IO[bytes]) -> None:
        self.client.upload_fileobj(fh, self.bucket, self._obj(name), Config=self._transfer)

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        with tempfile.SpooledTemporaryFile(max_size=CHUNK * 16) as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            self.write_file(name, spool)

    def read(self, name: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._obj(name))["Body"]
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(name) from exc
            raise

        def gen() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return gen()

    def iter_names(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(start) :]
                if _KEY.match(name):
                    yield name

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._obj(name))

    def ping(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


# --------------------------------------------------------------------------- encryption


def _derive_kek(data_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"beiandesk-files",
        info=b"file-key-encryption-v1",
    ).derive(data_key.encode())


def _aad(index: int, last: bool, header: bytes) -> bytes:
    return header + struct.pack(">QB", index, 1 if last else 0)


class _Reader:
    """Exact-size reads over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._it, self._buf = chunks, bytearray()

    def read(self, n: int) -> bytes:
        while len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def rest(self) -> Iterator[bytes]:
        if self._buf:
            yield bytes(self._buf)
            self._buf.clear()
        yield from self._it


class EncryptedFileStore:
    """The ``FileStore`` port: content-addressed plaintext keys, encrypted blobs, streaming."""

    def __init__(self, raw: BlobStore, data_key: str) -> None:
        if not data_key:
            raise ValueError("EncryptedFileStore needs DATA_KEY")
        self.raw = raw
        self._kek = AESGCM(_derive_kek(data_key))
        self._kek_id = hashlib.sha256(b"kek-id:" + _derive_kek(data_key)).digest()[:8]

    # -- writing
    def put(self, data: bytes) -> str:
        return self.put_stream(io.BytesIO(data))

    def put_stream(self, source: IO[bytes] | Iterable[bytes]) -> str:
        """Encrypt ``source`` (a binary file object or an iterable of chunks) into the store.

        The plaintext hash is only known at the end, so the ciphertext goes to a spooled
        temporary file first (memory ≤ 1 MiB, the rest on local disk) and then to the store.
        """
        chunks = _chunks(source)
        file_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce, prefix = os.urandom(12), os.urandom(8)
        header = (
            MAGIC
            + self._kek_id
            + wrap_nonce
            + self._kek.encrypt(wrap_nonce, file_key, MAGIC + self._kek_id)
            + prefix
        )
        aead = AESGCM(file_key)
        digest = hashlib.sha256()
        with tempfile.SpooledTemporaryFile(max_size=16 * CHUNK) as spool:
            spool.write(header)
            index, pending = 0, next(chunks, b"")
            while True:
                following = next(chunks, None)
                last = following is None
                digest.update(pending)
                ct = aead.encrypt(
                    prefix + struct.pack(">I", index), pending, _aad(index, last, header)
                )
                spool.write(_LEN.pack(len(ct)) + ct)
                if last:
                    break
                index, pending = index + 1, following
            key = digest.hexdigest()
            if not self.raw.exists(key):
                spool.seek(0)
                self.raw.write_file(key, spool)
        return key

    # -- reading
    def exists(self, key: str) -> bool:
        return self.raw.exists(check_key(key))

    def get(self, key: str) -> bytes:
        return b"".join(self.open_read(key))

    def open_read(self, key: str) -> Iterator[bytes]:
        """Plaintext chunks of ``key``. Raises ``FileNotFoundError`` at once if it is missing;
        a tampered or truncated blob raises :class:`StorageError` while streaming."""
        check_key(key)
        reader = _Reader(self.raw.read(key))
        head = reader.read(_HEADER.size)
        if not head.startswith(MAGIC):
            return _plain(key, head, reader)
        return self._decrypt(key, head, reader)

    def _decrypt(self, key: str, header: bytes, reader: _Reader) -> Iterator[bytes]:
        if len(header) < _HEADER.size:
            raise StorageError(f"stored file {key[:12]}… is truncated")
        _magic, kek_id, wrap_nonce, wrapped, prefix = _HEADER.unpack(header)
        if kek_id != self._kek_id:
            raise StorageError("stored file was encrypted under another BEIANDESK_DATA_KEY")
        try:
            aead = AESGCM(self._kek.decrypt(wrap_nonce, wrapped, MAGIC + kek_id))
        except Exception as exc:  # noqa: BLE001 - cryptography's InvalidTag
            raise StorageError(f"stored file {key[:12]}… fails authentication") from exc
        digest, index = hashlib.sha256(), 0
        while True:
            raw_len = reader.read(_LEN.size)
            if len(raw_len) < _LEN.size:
                raise StorageError(f"stored file {key[:12]}… is truncated")
            (n,) = _LEN.unpack(raw_len)
            if n > CHUNK + _TAG:
                raise StorageError(f"stored file {key[:12]}… is corrupt")
            ct = reader.read(n)
            nonce = prefix + struct.pack(">I", index)
            for last in (False, True):
                try:
                    pt = aead.decrypt(nonce, ct, _aad(index, last, header))
                    break
                except Exception:  # noqa: BLE001
                    continue
            else:
                raise StorageError(f"stored file {key[:12]}… fails authentication")
            digest.update(pt)
            if pt:
                yield pt
            if last:
                break
            index += 1
        if reader.read(1):
            raise StorageError(f"stored file {key[:12]}… has trailing bytes")
        if digest.hexdigest() != key:
            raise StorageError(f"stored file {key[:12]}… does not match its hash")

    # -- listing, housekeeping
    def iter_keys(self) -> Iterator[str]:
        return self.raw.iter_names()

    def delete(self, key: str) -> None:
        self.raw.delete(check_key(key))

    def ping(self) -> None:
        self.raw.ping()

    def describe(self) -> str:
        return self.raw.describe()


def _plain(key: str, head: bytes, reader: _Reader) -> Iterator[bytes]:
    """A file stored before encryption: plain bytes, checked against their hash."""
    digest = hashlib.sha256(head)
    if head:
        yield head
    for chunk in reader.rest():
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != key:
        raise StorageError(f"stored file {key[:12]}… does not match its hash")


def _chunks(source: IO[bytes] | Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut any source into chunks of exactly ``CHUNK`` bytes (the last may be shorter)."""
    if hasattr(source, "read"):
        it: Iterator[bytes] = iter(lambda: source.read(CHUNK), b"")  # type: ignore[union-attr]
    else:
        it = iter(source)  # type: ignore[arg-type]
    buf = bytearray()
    for piece in it:
        buf += piece
        while len(buf) >= CHUNK:
            yield bytes(buf[:CHUNK])
            del buf[:CHUNK]
    if buf:
        yield bytes(buf)


# --------------------------------------------------------------------------- configuration


def parse_storage_url(url: str) -> tuple[str, str, str]:
    """``file:///p`` → ("file", "/p", ""); ``s3://bucket/prefix`` → ("s3", "bucket", "prefix")."""
    u = urlparse(url)
    if u.scheme == "file":
        path = unquote(u.path or "")
        if u.netloc and u.netloc not in ("", "localhost"):  # file://relative/dir
            path = u.netloc + path
        if not path:
            raise ValueError("STORAGE_URL file:// needs a path")
        return "file", path, ""
    if u.scheme == "s3":
        if not u.netloc:
            raise ValueError("STORAGE_URL s3:// needs a bucket: s3://BUCKET/PREFIX")
        return "s3", u.netloc, u.path.strip("/")
    raise ValueError(f"STORAGE_URL must be file:///path or s3://BUCKET/PREFIX, not {url!r}")


def build_blob_store(settings: Any) -> BlobStore:
    url = getattr(settings, "storage_url", None)
    if not url:
        return LocalBlobStore(settings.resolved_storage_dir())
    scheme, where, prefix = parse_storage_url(url)
    if scheme == "file":
        return LocalBlobStore(Path(where).resolve())
    env = os.environ
    return S3BlobStore(
        where,
        prefix,
        endpoint_url=getattr(settings, "s3_endpoint_url", None)
        or env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL"),
        region=getattr(settings, "s3_region", None)
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        access_key_id=getattr(settings, "s3_access_key_id", None) or env.get("AWS_ACCESS_KEY_ID"),
        secret_access_key=getattr(settings, "s3_secret_access_key", None)
        or env.get("AWS_SECRET_ACCESS_KEY"),
    )


def build_file_store(settings: Any) -> EncryptedFileStore:
    return EncryptedFileStore(build_blob_store(settings), settings.data_key or "")


class LocalFileStore(EncryptedFileStore):
    """Backward-compatible name: an encrypted store on local disk under ``root``."""

    def __init__(self, root: Path, data_key: str) -> None:
        super().__init__(LocalBlobStore(root), data_key)
