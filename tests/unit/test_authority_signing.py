from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from beiandesk.signing import MAX_SKEW_S, shared_secret, sign, verify

SECRET = b"s3cret"
BODY = b'{"ref":"SBX-20261127-0001-ABC","state":"under_review"}'
TS = 1_795_000_000


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET, TS) == f"sha256={expected}"
    assert sign(BODY, SECRET, str(TS)) == sign(BODY, SECRET, TS)


def test_a_genuine_callback_verifies() -> None:
    assert verify(BODY, str(TS), sign(BODY, SECRET, TS), SECRET, now=TS + 10)
    assert verify(BODY, str(TS), sign(BODY, SECRET, TS), SECRET,
                  now=datetime.fromtimestamp(TS - 10, UTC))


@pytest.mark.parametrize(
    ("body", "ts_header", "secret"),
    [
        (BODY.replace(b"under_review", b"approved"), str(TS), SECRET),  # body tampered
        (BODY, str(TS + 1), SECRET),  # timestamp tampered
        (BODY, str(TS), b"other"),  # wrong secret
    ],
)
def test_tampering_is_detected(body: bytes, ts_header: str, secret: bytes) -> None:
    assert not verify(body, ts_header, sign(BODY, SECRET, TS), secret, now=TS)


def test_stale_and_future_timestamps_are_refused() -> None:
    sig = sign(BODY, SECRET, TS)
    assert verify(BODY, str(TS), sig, SECRET, now=TS + MAX_SKEW_S)
    assert not verify(BODY, str(TS), sig, SECRET, now=TS + MAX_SKEW_S + 1)
    assert not verify(BODY, str(TS), sig, SECRET, now=TS - MAX_SKEW_S - 1)
    assert verify(BODY, str(TS), sig, SECRET, now=TS + 1000, max_skew_s=1000)


@pytest.mark.parametrize(
    ("ts_header", "sig_header"),
    [(None, "sha256=00"), (str(TS), None), ("", ""), ("abc", "sha256=00"),
     (str(TS), "md5=abc"), (str(TS), "garbage")],
)
def test_malformed_headers_are_not_authentic(ts_header: str | None,
                                             sig_header: str | None) -> None:
    assert not verify(BODY, ts_header, sig_header, SECRET, now=TS)


def test_one_matching_signature_among_several_is_enough() -> None:
    good = sign(BODY, SECRET, TS)
    assert verify(BODY, str(TS), f"sha256=deadbeef, {good}", SECRET, now=TS)
    assert verify(BODY, str(TS), good.upper().replace("SHA256", "sha256"), SECRET, now=TS)


def _settings(gateway_secret: str | None, secret_key: str | None) -> SimpleNamespace:
    return SimpleNamespace(gateway_secret=gateway_secret, secret_key=secret_key)


def test_shared_secret_prefers_the_gateway_secret() -> None:
    assert shared_secret(_settings("gw", "key")) == b"gw"


def test_shared_secret_is_derived_from_secret_key_never_equal_to_it() -> None:
    derived = shared_secret(_settings(None, "key"))
    assert derived != b"key" and len(derived) == 32
    assert derived == shared_secret(_settings(None, "key"))  # both sides derive the same
    assert derived != shared_secret(_settings(None, "other-key"))


def test_shared_secret_needs_one_of_the_two() -> None:
    with pytest.raises(ValueError):
        shared_secret(_settings(None, None))


# -- the one-header format (webhooks, and callbacks too) -------------------------------------
from beiandesk.signing import mac, signature_header, verify_header  # noqa: E402


def test_one_header_is_t_and_v1_of_the_same_mac() -> None:
    expected = hmac.new(SECRET, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(BODY, SECRET, TS) == f"t={TS},v1={expected}"
    assert mac(BODY, SECRET, TS) == sign(BODY, SECRET, TS).removeprefix("sha256=")


def test_one_header_verifies_and_refuses_tampering_and_staleness() -> None:
    header = signature_header(BODY, SECRET, TS)
    assert verify_header(BODY, header, SECRET, now=TS + 5)
    assert verify_header(BODY, f"v1=deadbeef, {header}", SECRET, now=TS)  # rotation: one match
    assert not verify_header(BODY + b" ", header, SECRET, now=TS)
    assert not verify_header(BODY, header, b"other", now=TS)
    assert not verify_header(BODY, header.replace(f"t={TS}", f"t={TS + 1}"), SECRET, now=TS)
    assert not verify_header(BODY, header, SECRET, now=TS + MAX_SKEW_S + 1)


@pytest.mark.parametrize("header", [None, "", "t=abc,v1=00", f"v1={'0' * 64}", f"t={TS}", "garbage"])
def test_malformed_one_headers_are_not_authentic(header: str | None) -> None:
    assert not verify_header(BODY, header, SECRET, now=TS)
