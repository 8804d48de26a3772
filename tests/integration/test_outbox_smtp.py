"""SMTP with STARTTLS and implicit TLS and AUTH (aiosmtpd with a certificate made here), and the
outbox's crash safety: a stable Message-ID per row, dead claims taken over, SMS never resent blindly.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from beiandesk.adapters.notify import OutboxOnlyMailer, SmtpMailer, parse_smtp_url
from beiandesk.adapters.sms import OutboxSms
from beiandesk.domain.model import Account, Role
from beiandesk.domain.outbox_states import LABELS, PermanentFailure
from beiandesk.services import delivery, jobs, outbox_admin
from tests.e2e.live import free_port

USER, PASSWORD = "mailer", "p@ss:wörd"

#: aiosmtpd warns when AUTH is allowed without STARTTLS; with implicit TLS the link is TLS anyway.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def _certs(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "beiandesk test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, cert_pem, key_pem = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_pem, cert_pem, key_pem


class TlsSink:
    """aiosmtpd with TLS (STARTTLS required, or implicit TLS) and AUTH required."""

    def __init__(self, tmp: Path, *, implicit: bool) -> None:
        self.ca, cert, key = _certs(tmp)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        self.port = free_port()
        self.messages: list[Any] = []
        self.sessions: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        kw: dict[str, Any] = {"authenticator": self._auth, "auth_required": True}
        if implicit:
            # aiosmtpd only counts STARTTLS as TLS for its AUTH rule; here the whole connection is TLS.
            kw.update(ssl_context=ctx, auth_require_tls=False)
        else:
            kw.update(tls_context=ctx, require_starttls=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kw)

    @staticmethod
    def _auth(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
            and auth_data.password == PASSWORD.encode("utf-8")
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.sessions.append({"tls": session.ssl is not None or server.transport.get_extra_info("sslcontext")
                                  is not None, "authenticated": session.authenticated})
        return "250 OK queued"

    def __enter__(self) -> TlsSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def _url(scheme: str, port: int, password: str = PASSWORD) -> str:
    from urllib.parse import quote
    return f"{scheme}://{quote(USER, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}"


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_smtp_with_tls_and_auth_delivers_with_the_given_message_id(tmp_path, scheme) -> None:
    with TlsSink(tmp_path, implicit=scheme == "smtps") as sink:
        mailer = SmtpMailer(_url(scheme, sink.port), "beiandesk <noreply@example.cn>", 5, str(sink.ca))
        answer = mailer.send("user@example.com", "【beiandesk】网站变更已提交", "正文：中文", "<p>中文</p>",
                             message_id="<outbox-1.testserver@example.cn>")
        assert len(sink.messages) == 1
        msg = sink.messages[0]
        assert msg["Message-ID"] == "<outbox-1.testserver@example.cn>" == answer["message_id"]
        assert str(msg["Subject"]) == "【beiandesk】网站变更已提交"
        assert sink.sessions[0] == {"tls": True, "authenticated": True}


def test_smtp_wrong_password_and_untrusted_certificate_are_permanent(tmp_path) -> None:
    with TlsSink(tmp_path, implicit=False) as sink:
        bad = SmtpMailer(_url("smtp+starttls", sink.port, "wrong"), "noreply@example.cn", 5, str(sink.ca))
        with pytest.raises(PermanentFailure) as exc:
            bad.send("user@example.com", "s", "t")
        assert "认证失败" in exc.value.reason
        untrusted = SmtpMailer(_url("smtp+starttls", sink.port), "noreply@example.cn", 5)  # system store only
        with pytest.raises(PermanentFailure) as exc:
            untrusted.send("user@example.com", "s", "t")
        assert "证书" in exc.value.reason
        assert sink.messages == []


def test_smtp_url_forms() -> None:
    assert parse_smtp_url("smtp://h")["port"] == 25 and parse_smtp_url("smtp://h")["mode"] == "plain"
    assert parse_smtp_url("smtp+starttls://u:p%40x@h")["port"] == 587
    assert parse_smtp_url("smtp+starttls://u:p%40x@h")["password"] == "p@x"
    assert parse_smtp_url("smtps://h")["mode"] == "tls" and parse_smtp_url("smtps://h")["port"] == 465
    assert parse_smtp_url("smtp://h:2525?starttls")["mode"] == "starttls"
    with pytest.raises(ValueError) as exc:
        parse_smtp_url("http://user:secret@h")
    assert "secret" not in str(exc.value)


# -- the outbox ----------------------------------------------------------------------------

ADMIN = Account(id=1, username="ops-admin", role=Role.admin)


class Crash(BaseException):
    """The process dies here: nothing after the call is recorded."""


def _add(deps, kind: str, payload: dict) -> int:  # noqa: ANN001
    with deps.uow() as uow:
        item = uow.outbox.add(kind, payload, deps.clock.now(), recipient_masked="***", subject="测试")
        uow.commit()
    return item


def _row(deps, item: int):  # noqa: ANN001, ANN202
    with deps.uow(readonly=True) as uow:
        return uow.outbox.get(item)


def test_kept_only_backends_say_so_and_the_labels_live_in_one_place(deps) -> None:
    deps.mailer, deps.sms = OutboxOnlyMailer(), OutboxSms()
    mail = _add(deps, "email", {"to": "a@example.com", "subject": "s", "text": "t"})
    sms = _add(deps, "sms", {"to": "13800138000", "text": "t", "event": "received", "params": {}})
    assert [jobs.deliver(deps, mail), jobs.deliver(deps, sms)] == ["kept", "kept"]
    assert _row(deps, mail).public()["status_label"] == "仅保存" == LABELS["kept"]
    assert {LABELS[s] for s in ("pending", "sent", "failed", "uncertain")} == {"待发送", "已发送", "发送失败", "待确认"}


def test_crash_during_an_email_send_redelivers_with_the_same_message_id(tmp_path, deps, fakes) -> None:
    with TlsSink(tmp_path, implicit=True) as sink:
        real = SmtpMailer(_url("smtps", sink.port), deps.settings.smtp_from, 5, str(sink.ca))

        class DiesAfterSending:
            keeps_only = False

            def send(self, *a: Any, **kw: Any) -> Any:
                real.send(*a, **kw)
                raise Crash

        deps.mailer = DiesAfterSending()
        item = _add(deps, "email", {"to": "a@example.com", "subject": "主题", "text": "正文"})
        with pytest.raises(Crash):
            jobs.deliver(deps, item, worker="node-b:4242:dead00")
        assert _row(deps, item).status == "sending"
        fakes["clock"].advance(seconds=30)
        assert jobs.reclaim(deps) == {"pending": 0, "uncertain": 0}    # not yet dead
        fakes["clock"].advance(seconds=20)
        assert jobs.reclaim(deps) == {"pending": 1, "uncertain": 0}    # taken over within 60 s
        deps.mailer = real
        assert jobs.due_outbox(deps) == [item]
        assert jobs.deliver(deps, item) == "sent"
        ids = [m["Message-ID"] for m in sink.messages]
        assert len(ids) == 2 and ids[0] == ids[1] == delivery.message_id(deps, item)
        assert f"outbox-{item}." in ids[0]


def test_crash_during_an_sms_send_is_uncertain_and_resolved_on_purpose(deps, fakes) -> None:
    class Dies:
        keeps_only = False
        calls = 0

        def send(self, *a: Any, **kw: Any) -> Any:
            Dies.calls += 1
            raise Crash

    deps.sms = Dies()
    first = _add(deps, "sms", {"to": "13800138000", "text": "t", "event": "received", "params": {}})
    second = _add(deps, "sms", {"to": "13800138000", "text": "t", "event": "approved", "params": {}})
    for item in (first, second):
        with pytest.raises(Crash):
            jobs.deliver(deps, item, worker="node-b:4242:dead00")
    fakes["clock"].advance(seconds=50)
    assert jobs.reclaim(deps) == {"pending": 0, "uncertain": 2}
    assert jobs.due_outbox(deps) == []                                  # never resent blindly
    row = _row(deps, first).public()
    assert row["status_label"] == "待确认" and row["can_retry"] and row["can_mark_sent"]
    assert "无法确定" in row["last_error"]

    assert outbox_admin.mark_sent(deps, ADMIN, first)["status"] == "sent"
    from beiandesk.domain.errors import DomainError
    with pytest.raises(DomainError) as exc:
        outbox_admin.mark_sent(deps, ADMIN, first)
    assert exc.value.code == "outbox_state_conflict" and exc.value.status == 409

    deps.sms = fakes["sms"]
    assert outbox_admin.retry(deps, ADMIN, second)["status"] == "pending"
    assert jobs.deliver(deps, second) == "sent"
    assert Dies.calls == 2 and len(fakes["sms"].sent) == 1


def test_a_beating_worker_keeps_its_claims_and_a_dead_one_loses_them(deps, fakes) -> None:
    item = _add(deps, "email", {"to": "a@example.com", "subject": "s", "text": "t"})
    with deps.uow() as uow:
        assert uow.outbox.claim(item, "node-c:77:abcdef", deps.clock.now())
        uow.commit()
    for _ in range(6):                                                   # 60 s, beating every 10 s
        with deps.uow() as uow:
            uow.outbox.heartbeat("node-c:77:abcdef", "node-c", 77, deps.clock.now(), deps.clock.now())
            uow.commit()
        fakes["clock"].advance(seconds=10)
        assert jobs.reclaim(deps)["pending"] == 0
    fakes["clock"].advance(seconds=40)                                   # 50 s silent
    assert jobs.reclaim(deps)["pending"] == 1


def test_start_up_reclaims_this_hosts_dead_processes_at_once(deps, fakes) -> None:
    gone = f"{jobs.HOST}:999999:aaaaaa"                                  # no such pid
    sms = _add(deps, "sms", {"to": "13800138000", "text": "t", "event": "received", "params": {}})
    mail = _add(deps, "email", {"to": "a@example.com", "subject": "s", "text": "t"})
    other = _add(deps, "email", {"to": "b@example.com", "subject": "s", "text": "t"})
    with deps.uow() as uow:
        uow.outbox.claim(sms, gone, deps.clock.now())
        uow.outbox.claim(mail, gone, deps.clock.now())
        uow.outbox.claim(other, "another-host:1:bbbbbb", deps.clock.now())   # another node: waits its 45 s
        uow.commit()
    assert jobs.reclaim(deps) == {"pending": 0, "uncertain": 0}
    assert jobs.reclaim(deps, at_start=True) == {"pending": 1, "uncertain": 1}
    assert (_row(deps, sms).status, _row(deps, mail).status, _row(deps, other).status) == \
        ("uncertain", "pending", "sending")


def test_a_worker_thought_dead_that_finishes_records_its_real_outcome(deps, fakes) -> None:
    item = _add(deps, "sms", {"to": "13800138000", "text": "t", "event": "received", "params": {}})

    class Slow:
        keeps_only = False

        def send(self, *a: Any, **kw: Any) -> dict:
            fakes["clock"].advance(seconds=60)
            jobs.reclaim(deps)                      # another node decides this worker died
            assert _row(deps, item).status == "uncertain"
            return {"request_id": "r-1", "code": "Ok"}

    deps.sms = Slow()
    assert jobs.deliver(deps, item, worker="slow:1:cccccc") == "sent"
    row = _row(deps, item)
    assert row.status == "sent" and row.provider_answer["request_id"] == "r-1"


def test_gateway_and_unknown_channels(deps) -> None:
    item = _add(deps, "carrier_pigeon", {"x": 1})
    assert jobs.deliver(deps, item) == "failed"
    assert "carrier_pigeon" in _row(deps, item).last_error
    assert delivery.channel("gateway_submit").max_attempts is None


def test_heartbeats_of_long_gone_workers_are_forgotten(deps, fakes) -> None:
    from sqlalchemy import select

    from beiandesk.adapters.db import tables as t
    with deps.uow() as uow:
        uow.outbox.heartbeat("old:1:aaaaaa", "old", 1, deps.clock.now(), deps.clock.now())
        uow.commit()
    fakes["clock"].advance(days=2)
    jobs.heartbeat(deps)
    with deps.uow(readonly=True) as uow:
        ids = set(uow.conn.execute(select(t.worker_heartbeats.c.worker_id)).scalars())
    assert ids == {jobs.WORKER_ID}
