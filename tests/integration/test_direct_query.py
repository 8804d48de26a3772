"""``DirectQuery`` (adapters/db/direct.py): a prebuilt Core select read on the driver's cursor gives
the very row ``Connection.execute(stmt).first()`` gives, on SQLite and PostgreSQL — aware UTC
datetimes, booleans, NULLs, JSON — inside the caller's transaction; what it cannot do the same
way (duplicate column names, parameters needing a bind processor) it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, func, insert, literal_column, select

from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.direct import DirectQuery
from beiandesk.adapters.db.records import _WEBSITE_WITH_OWNER, WEBSITE_FIELDS
from beiandesk.adapters.db.sessions import _CHECK

NOW = datetime(2026, 11, 25, 2, 0, 7, 123456, tzinfo=UTC)

#: Booleans, NULLs and JSON of another table than the two the app reads this way.
_VERIFICATION = DirectQuery(
    select(t.verifications, t.change_orders.c.reasons, t.change_orders.c.submitted_at)
    .join(t.change_orders, t.change_orders.c.id == t.verifications.c.change_id)
    .where(t.verifications.c.id == bindparam("vid"))
)


@pytest.fixture
def rows(deps):  # noqa: ANN001, ANN201
    """Two accounts (one verified + one-time password), their sessions (one revoked), a website,
    an order and two verifications (passed / not), committed; the ids to read them by."""
    with deps.uow() as uow:
        c = uow.conn
        a1 = c.execute(
            insert(t.accounts).values(
                username="alice",
                password_hash="h",
                role="applicant",
                display_name="李明",
                email="a@example.com",
                enterprise_verified=True,
                created_at=NOW,
                disabled=False,
                password_change_required=False,
            )
        ).inserted_primary_key[0]
        a2 = c.execute(
            insert(t.accounts).values(
                username="bob",
                password_hash="h",
                role="reviewer",
                display_name="",
                email="",
                enterprise_verified=False,
                created_at=NOW,
                disabled=False,
                password_change_required=True,
            )
        ).inserted_primary_key[0]
        c.execute(
            insert(t.sessions).values(
                jti="open", account_id=a1, created_at=NOW, expires_at=NOW + timedelta(hours=8)
            )
        )
        c.execute(
            insert(t.sessions).values(
                jti="revoked",
                account_id=a2,
                created_at=NOW,
                expires_at=NOW + timedelta(hours=8),
                revoked_at=NOW + timedelta(minutes=5),
            )
        )
        s = c.execute(
            insert(t.subjects).values(
                account_id=a1,
                kind="personal",
                name="李明",
                province="广东",
                id_type="resident_id",
                id_number_enc="x",
                filing_number="粤ICP备20269999号",
                principal_enc="x",
                principal_mobile_hash="m",
                created_at=NOW,
            )
        ).inserted_primary_key[0]
        w = c.execute(
            insert(t.websites).values(
                subject_id=s,
                filing_number="粤ICP备20269999号-1",
                status="open",
                name="明远技术笔记",
                domains=["mingyuan-notes.cn", "例子.中国"],
                home_url="https://www.mingyuan-notes.cn/",
                info_enc="x",
                principal_mobile_hash="m",
                version=3,
                updated_at=NOW,
            )
        ).inserted_primary_key[0]
        o = c.execute(
            insert(t.change_orders).values(
                website_id=w,
                subject_id=s,
                account_id=a1,
                state="draft",
                # a real website's information: the repository tests read the order as a whole
                current_enc=uow.cipher.encrypt_json({"name": "明远技术笔记"}),
                proposed_enc=uow.cipher.encrypt_json({"name": "明远技术笔记"}),
                version=1,
                created_at=NOW,
                updated_at=NOW,
                reasons=[{"code": "x", "n": 1, "ok": True}],
            )
        ).inserted_primary_key[0]
        v_ok, v_bad = (
            c.execute(
                insert(t.verifications).values(
                    change_id=o,
                    media="photo",
                    passed=passed,
                    problems=problems,
                    content_type="image/jpeg",
                    size=5,
                    sha256="a" * 64,
                    created_at=NOW,
                )
            ).inserted_primary_key[0]
            for passed, problems in ((True, []), (False, [{"code": "no_face", "score": 0.5}]))
        )
        uow.commit()
    return {"website": w, "v_ok": v_ok, "v_bad": v_bad}


def _same(query: DirectQuery, conn, params: dict):  # noqa: ANN001, ANN202
    direct = query.first(conn, params)
    expected = conn.execute(query.stmt, params).first()
    if expected is None:
        assert direct is None
        return None
    assert tuple(direct) == tuple(expected)
    assert direct._fields == tuple(expected._mapping.keys())
    for name, got, want in zip(direct._fields, direct, expected, strict=True):
        assert type(got) is type(want), (name, got, want)  # True is not 1, a datetime not a str
        if isinstance(want, datetime):
            assert got.tzinfo is not None and got.utcoffset() == timedelta(0), (name, got)
        assert getattr(direct, name) == getattr(expected, name)
    return direct


def test_session_check_rows_equal_sqlalchemys(deps, rows) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        if uow.conn.dialect.name == "postgresql":
            # The driver would hand back +08:00 datetimes: only the column type's processor
            # (UTCDateTime) makes them UTC.
            uow.conn.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Shanghai'")
        row = _same(_CHECK, uow.conn, {"jti": "open"})
        assert row.enterprise_verified is True and row.password_change_required is False
        assert row.disabled is False and row.revoked_at is None
        assert row.expires_at == NOW + timedelta(hours=8) and row.expires_at.tzinfo == UTC
        row = _same(_CHECK, uow.conn, {"jti": "revoked"})
        assert row.enterprise_verified is False and row.password_change_required is True
        assert row.revoked_at == NOW + timedelta(minutes=5) and row.revoked_at.tzinfo == UTC
        assert _same(_CHECK, uow.conn, {"jti": "nobody"}) is None
        # the repository answers what it did through Connection.execute
        found, account = uow.sessions.check("revoked")
        assert account.username == "bob" and account.password_change_required is True
        assert uow.sessions.check("nobody") is None


def test_website_with_owner_rows_equal_sqlalchemys(deps, rows) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        if uow.conn.dialect.name == "postgresql":
            uow.conn.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Shanghai'")
        row = _same(_WEBSITE_WITH_OWNER, uow.conn, {"website_id": rows["website"]})
        # only what the repository reads (JSON and datetimes: the session and verification reads)
        assert row._fields == (*WEBSITE_FIELDS, "owner_account_id")
        assert row.version == 3 and row.owner_account_id is not None
        assert _same(_WEBSITE_WITH_OWNER, uow.conn, {"website_id": rows["website"] + 99}) is None


def test_booleans_json_and_nulls_of_any_statement(deps, rows) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        # a miss first: the processors are bound from the cursor's description, rows or none
        assert _same(_VERIFICATION, uow.conn, {"vid": rows["v_bad"] + 99}) is None
        ok = _same(_VERIFICATION, uow.conn, {"vid": rows["v_ok"]})
        bad = _same(_VERIFICATION, uow.conn, {"vid": rows["v_bad"]})
    assert ok.passed is True and ok.problems == [] and ok.submitted_at is None
    assert bad.passed is False and bad.problems == [{"code": "no_face", "score": 0.5}]
    assert bad.reasons == [{"code": "x", "n": 1, "ok": True}]


def test_it_reads_the_callers_uncommitted_writes(deps, rows) -> None:  # noqa: ANN001
    later = NOW + timedelta(days=1)
    with deps.uow() as uow:
        uow.sessions.add("fresh", _CHECK.first(uow.conn, {"jti": "open"}).account_id, NOW, later)
        uow.sessions.revoke("open", later)
        fresh = _same(_CHECK, uow.conn, {"jti": "fresh"})
        assert fresh is not None and fresh.expires_at == later
        assert _same(_CHECK, uow.conn, {"jti": "open"}).revoked_at == later
        # not committed: left without commit(), it rolls back
    with deps.uow(readonly=True) as uow:
        assert _CHECK.first(uow.conn, {"jti": "fresh"}) is None
        assert _CHECK.first(uow.conn, {"jti": "open"}).revoked_at is None


def test_duplicate_column_names_are_refused(deps, rows) -> None:  # noqa: ANN001
    # Two result columns of one name: SQLAlchemy's Row cannot tell them apart by name either.
    labelled = DirectQuery(
        select(t.accounts.c.id.label("x"), t.accounts.c.username.label("x")).where(
            t.accounts.c.username == bindparam("u")
        )
    )
    literal = DirectQuery(select(literal_column("1").label("x"), literal_column("2").label("x")))
    with deps.uow(readonly=True) as uow:
        with pytest.raises(TypeError, match="unique"):
            labelled.first(uow.conn, {"u": "alice"})
        with pytest.raises(TypeError, match="unique"):
            literal.first(uow.conn, {})
        # columns of one name that SQLAlchemy labels apart (id, id_1) are read like a Row
        apart = DirectQuery(
            select(
                t.accounts.c.id,
                t.sessions.c.account_id,
                t.sessions.c.created_at,
                t.accounts.c.created_at,
            )
            .join(t.accounts, t.accounts.c.id == t.sessions.c.account_id)
            .where(t.sessions.c.jti == bindparam("jti"))
        )
        _same(apart, uow.conn, {"jti": "open"})


def test_a_parameter_needing_a_bind_processor_is_refused(deps, rows) -> None:  # noqa: ANN001
    # UTCDateTime converts the value it is bound with: the driver's cursor would skip that.
    query = DirectQuery(select(t.sessions.c.jti).where(t.sessions.c.expires_at > bindparam("at")))
    with deps.uow(readonly=True) as uow:
        with pytest.raises(TypeError, match="bind processor"):
            query.first(uow.conn, {"at": NOW})


def _all_same(query: DirectQuery, conn, params: dict) -> list:  # noqa: ANN001
    direct = query.all(conn, params)
    expected = list(conn.execute(query.stmt, params))
    assert [tuple(r) for r in direct] == [tuple(r) for r in expected]
    for got, want in zip(direct, expected, strict=True):
        for name, a, b in zip(got._fields, got, want, strict=True):
            assert type(a) is type(b), (name, a, b)
    return direct


def test_order_calls_subject_and_webhook_reads_equal_sqlalchemys(deps, rows) -> None:  # noqa: ANN001
    """The reads every PATCH of an order runs (the order, its calls in id order, its subject, the
    live webhooks) give what SQLAlchemy gives, none found included; ``all`` keeps the order."""
    from beiandesk.adapters.db.changes import _ORDER, _ORDER_CALLS
    from beiandesk.adapters.db.records import _SUBJECT
    from beiandesk.adapters.db.webhooks import _LIVE

    with deps.uow() as uow:
        c = uow.conn
        order = c.execute(select(t.change_orders.c.id, t.change_orders.c.subject_id)).first()
        for at, outcome, rnd in (
            (NOW + timedelta(hours=2), "reached", 0),
            (NOW, "unreachable", 0),
            (NOW, "unreachable", 1),
        ):
            c.execute(
                insert(t.calls).values(
                    change_id=order.id,
                    at=at,
                    outcome=outcome,
                    note="备注",
                    reviewer="rev",
                    round=rnd,
                )
            )
        c.execute(
            insert(t.webhooks).values(
                url="https://hooks.example.com/a",
                events=["change.submitted"],
                secret_enc="x",
                created_at=NOW,
                created_by="admin",
            )
        )
        c.execute(
            insert(t.webhooks).values(
                url="https://hooks.example.com/b",
                events=[],
                secret_enc="x",
                created_at=NOW,
                created_by="admin",
                deleted_at=NOW,
            )
        )
        uow.commit()
    with deps.uow(readonly=True) as uow:
        if uow.conn.dialect.name == "postgresql":
            uow.conn.exec_driver_sql("SET LOCAL TIME ZONE 'Asia/Shanghai'")
        row = _same(_ORDER, uow.conn, {"change_id": order.id})
        assert row.reasons == [{"code": "x", "n": 1, "ok": True}] and row.created_at.tzinfo == UTC
        assert _same(_ORDER, uow.conn, {"change_id": order.id + 99}) is None
        calls = _all_same(_ORDER_CALLS, uow.conn, {"change_id": order.id})
        assert [r.outcome for r in calls] == ["reached", "unreachable", "unreachable"]  # by id
        # The order is read with its current round's calls in one statement: one row per call.
        joined = _all_same(_ORDER, uow.conn, {"change_id": order.id})
        assert [(r.call_outcome, r.round) for r in joined] == [("reached", 0), ("unreachable", 0)]
        assert all(r.call_at.tzinfo == UTC for r in joined)
        assert all(r.at.tzinfo == UTC for r in calls)
        assert _all_same(_ORDER_CALLS, uow.conn, {"change_id": order.id + 99}) == []
        assert _same(_SUBJECT, uow.conn, {"subject_id": order.subject_id}).province == "广东"
        live = _all_same(_LIVE, uow.conn, {})
        assert [(r.url, r.events) for r in live] == [
            ("https://hooks.example.com/a", ["change.submitted"])
        ]


def test_the_save_of_an_order_stores_what_sqlalchemy_would(deps, rows) -> None:  # noqa: ANN001
    """``DirectWrite`` (the UPDATE of every save): each value through its column type — aware
    datetimes stored as UTC, JSON, NULLs — only while the version loaded is still stored; the
    columns it writes are the ones ``ChangeRepo._values`` gives."""
    from beiandesk.adapters.db.changes import _SAVE, _SAVED, ChangeRepo
    from beiandesk.domain.model import ChangeOrder, Reason, WebsiteInfo
    from beiandesk.domain.states import ChangeState

    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    with deps.uow() as uow:
        oid = uow.conn.execute(select(t.change_orders.c.id)).scalar_one()
        before = uow.conn.execute(select(t.change_orders).where(t.change_orders.c.id == oid)).one()
        info = WebsiteInfo.from_dict({"name": "明远技术笔记", "domains": ["mingyuan-notes.cn"]})
        order = ChangeOrder(
            id=oid,
            website_id=before.website_id,
            subject_id=before.subject_id,
            account_id=before.account_id,
            state=ChangeState.draft,
            current=info,
            proposed=info,
            created_at=before.created_at,
            updated_at=shanghai,
            version=2,
            reasons=[Reason(code="name_changed", message="网站名称有变")],
            submitted_at=None,
            due_at=shanghai + timedelta(days=2),
        )
        values = ChangeRepo(uow.conn, uow.cipher)._values(order)
        assert set(values) == set(_SAVED)
        assert _SAVE.execute(uow.conn, {**values, "b_id": oid, "b_loaded": 99}) == 0  # stale
        assert _SAVE.execute(uow.conn, {**values, "b_id": oid, "b_loaded": 1}) == 1
        with pytest.raises(KeyError):  # every parameter must be given
            _SAVE.execute(uow.conn, {"b_id": oid, "b_loaded": 2})
        uow.commit()
    with deps.uow(readonly=True) as uow:
        row = uow.conn.execute(select(t.change_orders).where(t.change_orders.c.id == oid)).one()
    assert row.version == 2 and row.state == "draft" and row.submitted_at is None
    assert row.updated_at == NOW and row.updated_at.tzinfo == UTC  # +08:00 stored as UTC
    assert row.due_at == NOW + timedelta(days=2)
    assert row.reasons == [r.to_dict() for r in order.reasons]
    assert row.open_website_id == before.website_id
    assert uow.cipher.decrypt_json(row.proposed_enc)["name"] == "明远技术笔记"


def test_the_timeline_rows_of_a_save_are_stored_as_sqlalchemy_would(deps, rows) -> None:  # noqa: ANN001
    """``DirectWrite.execute_many`` (the events of a save, no webhook): the same rows as
    SQLAlchemy's own INSERT of them — aware datetimes as UTC, JSON (``null`` for None as
    SQLAlchemy stores it), NULLs — and every row complete."""
    from beiandesk.adapters.db.changes import _ADD_EVENTS, _EVENT_COLUMNS

    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    with deps.uow() as uow:
        oid = uow.conn.execute(select(t.change_orders.c.id)).scalar_one()
        events = [
            dict(change_id=oid, at=shanghai, kind="edited", from_state=None, state="draft",
                 actor="alice", message="保存了修改", data={"fields": ["name"], "n": 1}),
            dict(change_id=oid, at=NOW, kind="note", from_state="draft", state="draft",
                 actor="bob", message="", data={}),
        ]
        uow.conn.execute(t.events.delete())
        _ADD_EVENTS.execute_many(uow.conn, events)
        direct = uow.conn.execute(select(*(t.events.c[c] for c in _EVENT_COLUMNS)).order_by(t.events.c.id)).all()
        uow.conn.execute(t.events.delete())
        uow.conn.execute(insert(t.events), events)
        plain = uow.conn.execute(select(*(t.events.c[c] for c in _EVENT_COLUMNS)).order_by(t.events.c.id)).all()
        assert direct == plain and len(direct) == 2
        assert direct[0].at == NOW and direct[0].at.tzinfo == UTC and direct[0].data == {"fields": ["name"], "n": 1}
        # None in the NOT NULL JSON column: JSON null, as SQLAlchemy stores it (never SQL NULL)
        uow.conn.execute(t.events.delete())
        _ADD_EVENTS.execute_many(uow.conn, [{**events[1], "data": None}])
        uow.conn.execute(insert(t.events), [{**events[1], "data": None}])
        stored = uow.conn.exec_driver_sql("SELECT data FROM events ORDER BY id").scalars().all()
        assert len(stored) == 2 and stored[0] == stored[1]
        with pytest.raises(KeyError):  # every column must be given
            _ADD_EVENTS.execute_many(uow.conn, [{"change_id": oid}])
        _ADD_EVENTS.execute_many(uow.conn, [])  # nothing to store: nothing run


@pytest.fixture
def order_rows(deps, rows):  # noqa: ANN001, ANN201
    """``rows`` with the order's reasons as the domain writes them (the fixture's own test JSON)."""
    with deps.uow() as uow:
        uow.conn.execute(t.change_orders.update().values(reasons=[]))
        uow.commit()
    return rows


def test_an_order_is_read_with_its_current_rounds_calls(deps, order_rows) -> None:  # noqa: ANN001
    """``ChangeRepo.get``: the order and its current round's calls, in id order, from one
    statement; an earlier round's calls stay stored but are not the order's."""
    from beiandesk.adapters.db.changes import ChangeRepo

    with deps.uow() as uow:
        oid = uow.conn.execute(select(t.change_orders.c.id)).scalar_one()
        uow.conn.execute(t.change_orders.update().values(round=1))
        for at, outcome, rnd in ((NOW, "reached", 0), (NOW + timedelta(hours=1), "unreachable", 1),
                                 (NOW, "reached", 1)):
            uow.conn.execute(insert(t.calls).values(change_id=oid, at=at, outcome=outcome,
                                                    note="备注", reviewer="rev", round=rnd))
        uow.commit()
    with deps.uow(readonly=True) as uow:
        repo = ChangeRepo(uow.conn, uow.cipher)
        got = repo.get(oid)
        assert [(c.outcome, c.at, c.note, c.reviewer, c.round) for c in got.calls] == [
            ("unreachable", NOW + timedelta(hours=1), "备注", "rev", 1),
            ("reached", NOW, "备注", "rev", 1),
        ]
        assert all(c.at.tzinfo == UTC for c in got.calls)
        assert got.proposed.name == "明远技术笔记"
        assert repo.loaded(oid) == (got.version, 1, 2)


def test_an_order_without_calls_reads_as_one_row_and_no_calls(deps, order_rows) -> None:  # noqa: ANN001
    """The order's read joins its calls: none is one row with NULL call columns, not a call."""
    from beiandesk.adapters.db.changes import _ORDER, ChangeRepo

    with deps.uow(readonly=True) as uow:
        oid = uow.conn.execute(select(t.change_orders.c.id)).scalar_one()
        [row] = _all_same(_ORDER, uow.conn, {"change_id": oid})
        assert row.call_id is None and row.call_at is None
        assert ChangeRepo(uow.conn, uow.cipher).get(oid).calls == []
        assert ChangeRepo(uow.conn, uow.cipher).get(oid + 99) is None


def test_the_save_answers_how_many_webhooks_are_live(deps, order_rows) -> None:  # noqa: ANN001
    """``_SAVE_COUNTING_WEBHOOKS`` (the UPDATE of a save that records events, where UPDATE …
    RETURNING exists): no row when the version is stale (nothing written), else the number of
    live webhooks — a deleted one not counted."""
    from beiandesk.adapters.db.changes import _SAVE_COUNTING_WEBHOOKS, ChangeRepo

    with deps.uow() as uow:
        c = uow.conn
        assert c.dialect.update_returning  # SQLite ≥ 3.35 and PostgreSQL
        oid = c.execute(select(t.change_orders.c.id)).scalar_one()
        repo = ChangeRepo(c, uow.cipher)
        order = repo.get(oid)
        values = {**repo._values(order), "b_id": oid}
        assert _SAVE_COUNTING_WEBHOOKS.first(c, {**values, "b_loaded": 99}) is None
        assert _SAVE_COUNTING_WEBHOOKS.first(c, {**values, "b_loaded": order.version}) == (0,)
        for deleted in (None, NOW):
            c.execute(
                insert(t.webhooks).values(
                    url="https://hooks.example.com/x", events=[], secret_enc="x",
                    created_at=NOW, created_by="admin", deleted_at=deleted,
                )
            )
        assert _SAVE_COUNTING_WEBHOOKS.first(c, {**values, "b_loaded": order.version}) == (1,)


@pytest.mark.parametrize("live", [False, True])
def test_a_save_reads_the_subscriptions_only_when_a_webhook_is_live(  # noqa: ANN001
    deps, order_rows, monkeypatch, live
) -> None:
    """A save that records an event asks for the subscriptions only when its UPDATE counted a
    live webhook; either way the event is stored, and with one live its delivery is queued."""
    from beiandesk.adapters.db import changes as changes_repo
    from beiandesk.domain import webhooks as webhook_rules
    from beiandesk.domain.model import Event

    asked = []
    real = changes_repo.webhooks.subscriptions
    monkeypatch.setattr(
        changes_repo.webhooks, "subscriptions", lambda conn: asked.append(1) or real(conn)
    )
    with deps.uow() as uow:
        if live:
            uow.conn.execute(
                insert(t.webhooks).values(
                    url="https://hooks.example.com/x", events=[webhook_rules.ALL], secret_enc="x",
                    created_at=NOW, created_by="admin",
                )
            )
        repo = changes_repo.ChangeRepo(uow.conn, uow.cipher)
        oid = uow.conn.execute(select(t.change_orders.c.id)).scalar_one()
        order = repo.get(oid)
        order.version += 1
        order.new_events.append(Event(at=NOW, kind="edited", state="draft", actor="alice",
                                      message="保存网站信息：网站名称", data={"fields": ["name"]}))
        repo.save(order)
        uow.commit()
    assert asked == ([1] if live else [])
    with deps.uow(readonly=True) as uow:
        kinds = uow.conn.execute(select(t.events.c.kind).where(t.events.c.change_id == oid)).scalars().all()
        queued = uow.conn.execute(select(func.count()).select_from(t.outbox)).scalar_one()
    assert "edited" in kinds
    assert queued == (1 if live else 0)


def test_a_save_with_one_event_is_all_or_nothing(deps, order_rows) -> None:  # noqa: ANN001
    """The save of an order with its one new event (its UPDATE answering the live webhooks'
    count, then the INSERT): with a stale version nothing is written and it is a
    ``VersionConflict``; with the loaded one the order and its event are stored (UTC, JSON)."""
    from beiandesk.adapters.db.changes import ChangeRepo
    from beiandesk.domain.errors import VersionConflict
    from beiandesk.domain.model import Event

    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))

    def edited() -> Event:
        return Event(at=shanghai, kind="edited", from_state=None, state="draft", actor="alice",
                     message="保存网站信息：网站名称", data={"fields": ["name"]})

    with deps.uow() as uow:
        c = uow.conn
        oid = c.execute(select(t.change_orders.c.id)).scalar_one()
        repo = ChangeRepo(c, uow.cipher)
        order = repo.get(oid)
        version = order.version
        repo.adopt(oid, (version - 1, 0, 0))  # as if read before a save in between
        order.version, order.new_events = version + 1, [edited()]
        with pytest.raises(VersionConflict):
            repo.save(order)
        assert c.execute(select(func.count()).select_from(t.events)).scalar_one() == 0
        assert c.execute(select(t.change_orders.c.version)).scalar_one() == version
        repo.adopt(oid, (version, 0, 0))
        order.new_events = [edited()]
        repo.save(order)
        assert order.new_events == []
        stored = c.execute(select(t.events)).one()
        assert stored.change_id == oid and stored.at == NOW and stored.at.tzinfo == UTC
        assert stored.data == {"fields": ["name"]} and stored.from_state is None
        assert c.execute(select(t.change_orders.c.version)).scalar_one() == version + 1


def _real_subject(deps) -> tuple[int, int]:  # noqa: ANN001
    """The fixture's order and its subject, the subject's personal data truly encrypted."""
    from sqlalchemy import update

    with deps.uow() as uow:
        c, cipher = uow.conn, uow.cipher
        oid, sid = c.execute(select(t.change_orders.c.id, t.change_orders.c.subject_id)).one()
        principal = {"name": "李明", "id_type": "resident_id", "id_number": "110101199003071234",
                     "mobile": "13800001111", "email": "li@example.com"}
        c.execute(
            update(t.subjects)
            .where(t.subjects.c.id == sid)
            .values(id_number_enc=cipher.encrypt("110101199003071234"),
                    principal_enc=cipher.encrypt_json(principal))
        )
        uow.commit()
    return oid, sid


def _subject_reads(monkeypatch) -> list[int]:  # noqa: ANN001
    """Record every separate read of a subject (``SubjectRepo.get``'s own statement)."""
    from beiandesk.adapters.db import records

    seen: list[int] = []
    real = records._SUBJECT.first

    def first(conn, params):  # noqa: ANN001, ANN202
        seen.append(params["subject_id"])
        return real(conn, params)

    monkeypatch.setattr(records._SUBJECT, "first", first)
    return seen


def test_an_orders_subject_comes_along_with_its_read(deps, order_rows, monkeypatch) -> None:  # noqa: ANN001
    """In a read-only unit of work the order's read brings its subject: ``subjects.get`` then
    answers from it, with no statement of its own, the very ``Subject`` a separate read gives;
    and only once (a second ``get`` reads again)."""
    oid, sid = _real_subject(deps)
    with deps.uow(readonly=True) as uow:
        separate = uow.subjects.get(sid)
    assert separate is not None and separate.id == sid
    assert separate.principal.mobile == "13800001111" and separate.id_number.endswith("1234")
    seen = _subject_reads(monkeypatch)
    with deps.uow(readonly=True) as uow:
        order = uow.changes.get(oid)
        assert order.subject_id == sid
        assert uow.subjects.get(sid) == separate
        assert seen == []  # answered from the order's read
        assert uow.subjects.get(sid) == separate
        assert seen == [sid]  # taken once: the second read is its own
        assert uow.subjects.get(sid + 99) is None


def test_a_write_unit_of_work_reads_the_subject_itself(deps, order_rows, monkeypatch) -> None:  # noqa: ANN001
    """A unit of work that writes keeps nothing along: a subject changed after the order was
    read is read as it is now."""
    from sqlalchemy import update

    oid, sid = _real_subject(deps)
    seen = _subject_reads(monkeypatch)
    with deps.uow() as uow:
        uow.changes.get(oid)
        uow.conn.execute(update(t.subjects).where(t.subjects.c.id == sid).values(name="新主体名称"))
        assert uow.subjects.get(sid).name == "新主体名称"
        assert seen == [sid]
        uow.rollback()


def _lone_save_answers(monkeypatch) -> list:  # noqa: ANN001
    """Record what every lone save (``_SAVE_ALONE``, PostgreSQL's one-statement save) answered."""
    from beiandesk.adapters.db import changes as changes_repo

    answers: list = []
    real = changes_repo._SAVE_ALONE.first

    def first(conn, params):  # noqa: ANN001, ANN202
        answers.append(real(conn, params))
        return answers[-1]

    monkeypatch.setattr(changes_repo._SAVE_ALONE, "first", first)
    return answers


def _edit(deps):  # noqa: ANN001, ANN202
    """The fixture's order read in a read-only unit of work, edited, with its one new event, and
    what a write unit of work needs to save it (as ``services.changes`` does)."""
    from beiandesk.domain.model import Event

    with deps.uow(readonly=True) as uow:
        oid = uow.conn.execute(select(t.change_orders.c.id)).scalar_one()
        order = uow.changes.get(oid)
        loaded = uow.changes.loaded(oid)
    order.version += 1
    order.new_events.append(
        Event(at=NOW.astimezone(timezone(timedelta(hours=8))), kind="edited", state="draft",
              actor="alice", message="保存网站信息：网站名称", data={"fields": ["name"]})
    )
    return oid, order, loaded


def _stored(app, oid: int) -> tuple[int, list, int]:  # noqa: ANN001
    """The order's version, its timeline rows and the queued deliveries, read on a connection of
    its own (what another node sees)."""
    with app.engine.connect().execution_options(sqlite_begin="DEFERRED") as c:
        version = c.execute(select(t.change_orders.c.version).where(t.change_orders.c.id == oid)).scalar_one()
        events = c.execute(select(t.events).where(t.events.c.change_id == oid)).all()
        queued = c.execute(select(func.count()).select_from(t.outbox)).scalar_one()
    return version, events, queued


def test_a_lone_save_is_one_statement_committed_when_it_answers(app, deps, order_rows, monkeypatch) -> None:  # noqa: ANN001
    """On PostgreSQL a unit of work whose only write is the save of an order with one event (a
    PATCH's) runs it as one statement in autocommit: stored, event and all, the moment it
    answers — another connection sees both before the unit of work's (empty) commit — and the
    event exactly as the transactional save stores it (UTC, JSON). SQLite saves as before."""
    answers = _lone_save_answers(monkeypatch)
    oid, order, loaded = _edit(deps)
    before = _stored(app, oid)[0]
    pg = app.engine.dialect.name == "postgresql"
    with deps.uow() as uow:
        uow.changes.adopt(oid, loaded)
        uow.changes.save(order)
        assert order.new_events == []
        seen = _stored(app, oid)
        if pg:
            assert answers == [(oid,)]
            assert seen[0] == before + 1 and len(seen[1]) == 1  # committed already
        else:
            assert answers == []
            assert seen[0] == before and seen[1] == []  # in the transaction, not yet committed
        uow.commit()
    version, events, queued = _stored(app, oid)
    assert version == before + 1 and queued == 0
    [e] = events
    assert e.at == NOW and e.at.tzinfo == UTC and e.data == {"fields": ["name"]}
    assert (e.kind, e.state, e.from_state, e.actor) == ("edited", "draft", None, "alice")
    # The kept writer is back out of autocommit: the next unit of work is a transaction again.
    with deps.uow() as uow:
        uow.conn.execute(t.change_orders.update().values(authority_reason="回滚"))
        uow.rollback()
    with app.engine.connect() as c:
        assert c.execute(select(t.change_orders.c.authority_reason)).scalar_one() != "回滚"


@pytest.mark.parametrize("why", ["stale", "webhook"])
def test_a_lone_save_writes_nothing_when_stale_or_a_webhook_is_live(  # noqa: ANN001
    app, deps, order_rows, monkeypatch, why
) -> None:
    """The lone save writes nothing when the version read is no longer stored or a webhook is
    live; the save then goes on as before: a ``VersionConflict`` with nothing stored, or the
    event stored once and its delivery queued with it."""
    from beiandesk.domain import webhooks as webhook_rules
    from beiandesk.domain.errors import VersionConflict

    answers = _lone_save_answers(monkeypatch)
    oid, order, loaded = _edit(deps)
    before = _stored(app, oid)[0]
    if why == "webhook":
        with deps.uow() as uow:
            uow.conn.execute(
                insert(t.webhooks).values(
                    url="https://hooks.example.com/x", events=[webhook_rules.ALL],
                    secret_enc="x", created_at=NOW, created_by="admin",
                )
            )
            uow.commit()
    else:
        loaded = (loaded[0] - 1, *loaded[1:])  # as if read before a save in between
    with deps.uow() as uow:
        uow.changes.adopt(oid, loaded)
        if why == "stale":
            with pytest.raises(VersionConflict):
                uow.changes.save(order)
        else:
            uow.changes.save(order)
            uow.commit()
    assert answers == ([None] if app.engine.dialect.name == "postgresql" else [])
    version, events, queued = _stored(app, oid)
    if why == "stale":
        assert (version, events, queued) == (before, [], 0)
    else:
        assert version == before + 1 and len(events) == 1 and queued == 1
