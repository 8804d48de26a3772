"""Repositories and the unit of work against the real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from beiandesk import demo_data
from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.uow import SqlUnitOfWork
from beiandesk.domain import change as rules
from beiandesk.domain.errors import DomainError, VersionConflict
from beiandesk.domain.model import (
    Principal,
    Resource,
    Role,
    Subject,
    SubjectKind,
    Website,
    WebsiteInfo,
    WebsiteStatus,
)
from beiandesk.domain.states import ChangeState

CN = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
LIMING = Principal(**{k: v for k, v in demo_data.SUBJECTS[0]["principal"].items()})

#: Every plaintext personal number of the demo data; none may be stored in the clear.
SECRETS = sorted({p[k] for s in demo_data.SUBJECTS
                  for p in [s["principal"], *(w["principal"] for w in s["websites"])]
                  for k in ("id_number", "mobile")} | {s["id_number"] for s in demo_data.SUBJECTS})


def _account(uow, name: str = "alice", role: Role = Role.applicant):
    return uow.accounts.add(name, "hash", role, name, f"{name}@example.com", False, NOW)


def _subject(uow, account_id: int, filing: str = "粤ICP备20269999号", principal: Principal = LIMING) -> Subject:
    return uow.subjects.add(Subject(id=0, account_id=account_id, kind=SubjectKind.personal, name=principal.name,
                                    province="广东", id_type="resident_id", id_number=principal.id_number,
                                    filing_number=filing, principal=principal), NOW)


def _info(name: str = "明远技术笔记", principal: Principal = LIMING, domains: tuple[str, ...] = ("mingyuan-notes.cn",)) -> WebsiteInfo:
    return WebsiteInfo(name=name, domains=domains, home_url="https://www.mingyuan-notes.cn/", principal=principal,
                       content_categories=("博客/个人空间",),
                       resource=Resource(kind="cvm", region="ap-guangzhou", public_ip="119.29.100.21",
                                         purchased_at=datetime(2026, 1, 5).date(),
                                         expires_at=datetime(2028, 1, 5).date(), instance_id="ins-1"))


def _website(uow, subject_id: int, filing: str = "粤ICP备20269999号-1", **kw) -> Website:
    return uow.websites.add(Website(id=0, subject_id=subject_id, filing_number=filing, status=WebsiteStatus.open,
                                    info=_info(**kw)), NOW)


@pytest.fixture
def records(deps):
    """An account with a personal subject and one open website, committed."""
    with deps.uow() as uow:
        account = _account(uow)
        subject = _subject(uow, account.id)
        website = _website(uow, subject.id)
        uow.commit()
    return account, subject, website


def _open_order(deps, records):
    account, subject, website = records
    with deps.uow() as uow:
        order = rules.open_change(account, subject, website, uow.changes.has_open(website.id), NOW)
        uow.changes.save(order)
        uow.commit()
    return order


def test_records_round_trip(deps, records) -> None:
    account, subject, website = records
    with deps.uow(readonly=True) as uow:
        assert uow.accounts.get(account.id) == account
        found, pw_hash = uow.accounts.by_username("alice")
        assert found == account and pw_hash == "hash"
        assert uow.subjects.get(subject.id) == subject
        assert uow.subjects.by_filing_number(subject.filing_number) == subject
        assert uow.websites.get(website.id) == website
        assert uow.websites.owner_account(website.id) == account.id
        assert uow.websites.get(website.id + 1000) is None and uow.subjects.get(subject.id + 1000) is None


def test_lists_are_scoped_to_the_account(deps, records) -> None:
    account, subject, website = records
    with deps.uow() as uow:
        bob = _account(uow, "bob")
        other = _subject(uow, bob.id, "粤ICP备20268888号")
        _website(uow, other.id, "粤ICP备20268888号-1")
        uow.commit()
    with deps.uow(readonly=True) as uow:
        assert [s.id for s in uow.subjects.list(account_id=account.id)] == [subject.id]
        assert [w.id for w in uow.websites.list(account_id=account.id)] == [website.id]
        assert len(uow.websites.list(account_id=bob.id)) == 1
        assert len(uow.websites.list()) == 2 and len(uow.subjects.list()) == 2


def test_add_many_and_paging(deps, records) -> None:
    _, subject, _ = records
    batch = [Website(id=0, subject_id=subject.id, filing_number=f"粤ICP备20269999号-{i}", status=WebsiteStatus.open,
                     info=_info(name=f"测试网站{i:03d}")) for i in range(2, 52)]
    with deps.uow() as uow:
        uow.websites.add_many(batch, NOW)
        uow.commit()
    with deps.uow(readonly=True) as uow:
        everything = uow.websites.list(subject_ids=[subject.id])
        assert len(everything) == 51
        page = uow.websites.list(subject_ids=[subject.id], limit=10, offset=20)
        assert [w.id for w in page] == [w.id for w in everything[20:30]]
        assert page[0].info.principal == LIMING and page[0].info.resource.instance_id == "ins-1"


def test_rollback_by_default(deps) -> None:
    with deps.uow() as uow:
        _account(uow, "ghost")
    with deps.uow(readonly=True) as uow:
        assert uow.accounts.by_username("ghost") is None


def test_change_order_round_trip_with_events(deps, records) -> None:
    order = _open_order(deps, records)
    with deps.uow(readonly=True) as uow:
        loaded = uow.changes.get(order.id)
        events = uow.changes.events(order.id)
    assert loaded.state == ChangeState.draft and loaded.version == 1
    assert loaded.current == loaded.proposed == records[2].info
    assert loaded.created_at == NOW and loaded.created_at.tzinfo is not None
    assert [(e.kind, e.state, e.from_state, e.actor, e.at) for e in events] == [
        ("created", "draft", None, "alice", NOW)]


def test_submit_and_calls_persist(deps, records) -> None:
    order = _open_order(deps, records)
    submitted_at = datetime(2026, 11, 27, 10, 0, tzinfo=CN)
    with deps.uow() as uow:
        o = uow.changes.get(order.id)
        o.proposed = replace(o.proposed, name="明远笔记二")  # an order without a change cannot be submitted
        rules.submit(o, True, True, "2026-11", [], "alice", submitted_at)
        uow.changes.save(o)
        uow.commit()
    with deps.uow() as uow:
        o = uow.changes.get(order.id)
        rules.record_call(o, "unreachable", "无人接听", "rev", submitted_at + timedelta(hours=1))
        uow.changes.save(o)
        uow.commit()
    with deps.uow() as uow:
        o = uow.changes.get(order.id)
        assert o.next_call_at == submitted_at + timedelta(hours=2)
        rules.record_call(o, "unreachable", "", "rev", submitted_at + timedelta(hours=2))
        uow.changes.save(o)
        uow.commit()
    with deps.uow(readonly=True) as uow:
        o = uow.changes.get(order.id)
        events = uow.changes.events(order.id)
        assert uow.changes.has_open(o.website_id)  # provider_rejected still blocks
    assert o.state == ChangeState.provider_rejected
    assert [c.outcome for c in o.calls] == ["unreachable", "unreachable"] and o.calls[0].note == "无人接听"
    assert [r.code for r in o.reasons] == ["applicant_unreachable"]
    assert o.consent_at == submitted_at and o.consent_version == "2026-11"
    assert o.due_at == datetime(2026, 12, 1, 10, 0, tzinfo=CN)
    assert [e.kind for e in events] == ["created", "submitted", "call", "call", "provider_rejected"]
    assert all(e.state for e in events) and events[-1].from_state == "provider_review"


def test_stale_save_is_a_version_conflict(deps, records) -> None:
    order = _open_order(deps, records)
    with deps.uow() as uow:
        o = uow.changes.get(order.id)
        rules.apply_edit(o, replace(o.proposed, name="明远笔记二"), [], "alice", NOW)
        uow.changes.save(o)
        uow.commit()
    with deps.uow() as uow:
        stale = uow.changes.get(order.id)
        uow.changes._loaded[order.id] = (1, 0, 0)  # as if loaded (version 1, round 0, no calls) before the edit above
        rules.apply_edit(stale, replace(stale.proposed, name="明远笔记三"), [], "alice", NOW)
        with pytest.raises(VersionConflict) as exc:
            uow.changes.save(stale)
        assert exc.value.current == 2


def test_materials_and_verifications(deps, records) -> None:
    order = _open_order(deps, records)
    with deps.uow() as uow:
        m1 = uow.changes.add_material(order.id, "id_card_front", "front.png", "image/png", 10, "a" * 64, "alice", NOW)
        m2 = uow.changes.add_material(order.id, "id_card_back", "back.pdf", "application/pdf", 20, "b" * 64, "alice", NOW)
        assert not uow.changes.has_passing_verification(order.id)
        uow.changes.add_verification(order.id, "photo", False, [{"code": "no_face"}], "image", 5, "c" * 64, NOW)
        uow.changes.add_verification(order.id, "photo", True, [], "image", 6, "d" * 64, NOW)
        uow.commit()
    with deps.uow() as uow:
        assert [m.kind for m in uow.changes.materials(order.id)] == ["id_card_front", "id_card_back"]
        assert uow.changes.delete_material(order.id, m1.id) is True
        assert uow.changes.delete_material(order.id, m1.id) is False
        assert uow.changes.delete_material(order.id + 1, m2.id) is False  # not that order's material
        uow.commit()
    with deps.uow(readonly=True) as uow:
        assert [m.id for m in uow.changes.materials(order.id)] == [m2.id]
        assert uow.changes.has_passing_verification(order.id)
        latest = uow.changes.latest_verification(order.id)
        assert latest["passed"] is True and latest["sha256"] == "d" * 64


def test_one_open_order_per_website_in_the_database(deps, records, app) -> None:
    account, subject, website = records
    cipher = DataCipher(deps.settings.data_key)
    row = {"website_id": website.id, "subject_id": subject.id, "account_id": account.id,
           "current_enc": cipher.encrypt_json({}), "proposed_enc": cipher.encrypt_json({}), "version": 1,
           "created_at": NOW, "updated_at": NOW, "reasons": []}
    with app.engine.begin() as conn:  # closed orders (no open_website_id) never collide
        conn.execute(insert(t.change_orders), [{**row, "state": "withdrawn", "open_website_id": None}] * 2)
        conn.execute(insert(t.change_orders).values(**row, state="draft", open_website_id=website.id))
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        conn.execute(insert(t.change_orders).values(**row, state="provider_review", open_website_id=website.id))


def test_the_repository_cannot_store_a_second_open_order(deps, records) -> None:
    account, subject, website = records
    _open_order(deps, records)
    with deps.uow() as uow:
        # Bypass the has_open() check, as a race between two requests would: the database's
        # unique index refuses it, and the repository says so as the domain error (409).
        order = rules.open_change(account, subject, website, False, NOW)
        with pytest.raises(DomainError) as refused:
            uow.changes.save(order)
        assert refused.value.code == "change_in_progress" and refused.value.status == 409


def test_withdrawn_order_frees_the_website(deps, records) -> None:
    order = _open_order(deps, records)
    with deps.uow() as uow:
        o = uow.changes.get(order.id)
        rules.withdraw(o, "alice", NOW)
        uow.changes.save(o)
        uow.commit()
    with deps.uow(readonly=True) as uow:
        assert not uow.changes.has_open(order.website_id)
    again = _open_order(deps, records)
    assert again.id != order.id


def test_invalid_state_is_refused_by_the_database(deps, records, app) -> None:
    account, subject, website = records
    with pytest.raises(IntegrityError), app.engine.begin() as conn:
        conn.execute(insert(t.change_orders).values(
            website_id=website.id, subject_id=subject.id, account_id=account.id, state="bogus",
            current_enc="x", proposed_enc="x", version=1, created_at=NOW, updated_at=NOW, reasons=[]))


def test_website_replace_keeps_history(deps, records) -> None:
    _, _, website = records
    new = website.with_info(replace(website.info, name="明远笔记"))
    with deps.uow() as uow:
        uow.websites.replace(website, new, change_id=None, now=NOW)
        uow.commit()
    with deps.uow() as uow:
        assert uow.websites.get(website.id).info.name == "明远笔记"
        (h,) = uow.websites.history(website.id)
        assert h["version"] == 1 and h["info"] == website.info
        with pytest.raises((RuntimeError, IntegrityError)):  # a second replace from the stale copy
            uow.websites.replace(website, new, change_id=None, now=NOW)


def test_mobile_blind_index_finds_subjects_in_any_spelling(seeded) -> None:
    with seeded.uow(readonly=True) as uow:
        subjects = {s.name: s.id for s in uow.subjects.list()}
        personal, company = subjects["李明"], subjects["上海云帆信息科技有限公司"]
        assert uow.subjects.subjects_using_mobile("13912345678") == {personal}
        assert uow.subjects.subjects_using_mobile("+86 139-1234-5678") == {personal}
        # 陈浩 is only a website principal of the enterprise
        assert uow.subjects.subjects_using_mobile("13687654321") == {company}
        assert uow.subjects.subjects_using_mobile("13700000000") == set()


def _all_rows_text(engine) -> str:
    out = []
    with engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def test_personal_numbers_are_ciphertext_at_rest(client, app) -> None:
    from tests.conftest import login
    # A full applicant flow writes every table that may hold personal data (orders, events, outbox).
    h = login(client, "demo-enterprise")
    sites = {w["name"]: w for w in client.get("/api/v1/websites", headers=h).json()}
    cid = client.post(f"/api/v1/websites/{sites['云帆开发者文档中心']['id']}/changes", headers=h).json()["id"]
    r = client.patch(f"/api/v1/changes/{cid}", headers={**h, "If-Match": '"1"'},
                     json={"principal": {"mobile": "13700001111"}})
    assert r.status_code == 200, r.text
    missing = [p["kind"] for p in client.get(f"/api/v1/changes/{cid}/precheck", headers=h).json()["problems"]
               if p["code"] == "material_missing"]
    for kind in missing:
        r = client.post(f"/api/v1/changes/{cid}/materials", headers=h, data={"kind": kind},
                        files={"file": ("scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
        assert r.status_code == 201, r.text
    client.post(f"/api/v1/changes/{cid}/verification", headers=h, files={"file": ("me.jpg", b"photo")})
    r = client.post(f"/api/v1/changes/{cid}/submit", headers=h, json={"accept_terms": True, "accept_privacy": True})
    assert r.status_code == 200, r.text
    with app.engine.connect() as conn:
        assert conn.execute(select(t.outbox.c.id).where(t.outbox.c.kind == "sms")).first() is not None
    dump = _all_rows_text(app.engine)
    for secret in [*SECRETS, "13700001111"]:
        assert secret not in dump and secret.lower() not in dump
    with app.engine.connect() as conn:
        row = conn.execute(select(t.subjects).where(t.subjects.c.kind == "personal")).one()
    cipher = DataCipher(app.settings.data_key)
    assert cipher.decrypt(row.id_number_enc) == LIMING.id_number
    assert cipher.decrypt_json(row.principal_enc)["mobile"] == LIMING.mobile


def test_wrong_data_key_fails_loudly(seeded, app) -> None:
    wrong = DataCipher("not-the-key-that-encrypted-the-data")
    with SqlUnitOfWork(app.engine, wrong, readonly=True) as uow:
        with pytest.raises(RuntimeError, match="BEIANDESK_DATA_KEY"):
            uow.subjects.list()
        with pytest.raises(RuntimeError, match="BEIANDESK_DATA_KEY"):
            uow.websites.list()


def test_datetimes_come_back_aware_utc(deps, records, app) -> None:
    with deps.uow() as uow:
        uow.domain_cache.put_json("k", {"a": 1}, datetime(2026, 11, 27, 18, 0, tzinfo=CN))
        uow.commit()
    with app.engine.connect() as conn:
        fetched = conn.execute(select(t.domain_facts_cache.c.fetched_at)).scalar_one()
    assert fetched == datetime(2026, 11, 27, 10, 0, tzinfo=UTC) and fetched.utcoffset() == timedelta(0)
    with pytest.raises(StatementError), deps.uow() as uow:
        uow.domain_cache.put_json("naive", {}, datetime(2026, 11, 27, 10, 0))


def test_domain_cache_ttl(deps) -> None:
    ttl = timedelta(hours=6)
    with deps.uow() as uow:
        uow.domain_cache.put_json("example.cn", {"holder": "李明"}, NOW)
        uow.domain_cache.put_json("example.cn", {"holder": "王芳"}, NOW)  # replaces
        uow.commit()
    with deps.uow(readonly=True) as uow:
        assert uow.domain_cache.get_json("example.cn", NOW + ttl, ttl) == {"holder": "王芳"}
        assert uow.domain_cache.get_json("example.cn", NOW + ttl + timedelta(seconds=1), ttl) is None
        assert uow.domain_cache.get_json("other.cn", NOW, ttl) is None


def test_sqlite_runs_in_wal_mode(sqlite_template, tmp_path) -> None:
    import shutil

    from beiandesk.adapters.db.engine import build_engine
    path = tmp_path / "wal.db"
    shutil.copy(sqlite_template, path)
    engine = build_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_rows_encrypted_in_the_earlier_format_read_the_same(deps, records, app) -> None:
    """A database written before the current format (Fernet tokens, adapters/crypto.py) reads the
    same records, and a row takes the current format when it is next written."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    account, subject, website = records
    legacy = Fernet(base64.urlsafe_b64encode(hashlib.sha256(app.settings.data_key.encode()).digest()))
    current = DataCipher(app.settings.data_key)

    def old(token: str) -> str:
        return legacy.encrypt(current.decrypt(token).encode()).decode()

    with app.engine.begin() as conn:
        row = conn.execute(select(t.subjects).where(t.subjects.c.id == subject.id)).one()
        assert row.id_number_enc.startswith("v2.") and row.principal_enc.startswith("v2.")
        conn.execute(t.subjects.update().where(t.subjects.c.id == subject.id).values(
            id_number_enc=old(row.id_number_enc), principal_enc=old(row.principal_enc)))
        info = conn.execute(select(t.websites.c.info_enc).where(t.websites.c.id == website.id)).scalar_one()
        conn.execute(t.websites.update().where(t.websites.c.id == website.id).values(info_enc=old(info)))
    with app.engine.connect() as conn:
        assert conn.execute(select(t.websites.c.info_enc)).scalar_one().startswith("gAAAAA")
    with deps.uow(readonly=True) as uow:
        assert uow.subjects.get(subject.id) == subject
        assert uow.websites.get(website.id) == website
        assert uow.websites.get_with_owner(website.id) == (website, account.id)
    new = replace(website, info=replace(website.info, name="明远技术笔记（新）"), version=website.version + 1)
    with deps.uow() as uow:  # written again (a change applied): the current format
        uow.websites.replace(website, new, None, NOW)
        uow.commit()
    with app.engine.connect() as conn:
        token = conn.execute(select(t.websites.c.info_enc)).scalar_one()
        archived = conn.execute(select(t.website_history.c.info_enc)).scalar_one()
    assert token.startswith("v2.") and current.decrypt_json(token)["name"] == "明远技术笔记（新）"
    assert archived.startswith("v2.") and current.decrypt_json(archived)["name"] == website.info.name
