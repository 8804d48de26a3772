"""Repository for change orders with their calls, events, materials and verifications."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db import webhooks
from beiandesk.adapters.db.along import Prefixed, ReadAlong
from beiandesk.adapters.db.direct import DirectQuery, DirectWrite
from beiandesk.domain.change import change_in_progress
from beiandesk.domain.errors import VersionConflict
from beiandesk.domain.model import Call, ChangeOrder, Event, Reason, WebsiteInfo
from beiandesk.domain.states import OPEN, ChangeState

_DATES = (
    "submitted_at",
    "consent_at",
    "due_at",
    "next_call_at",
    "review_passed_at",
    "sms_deadline",
)

#: The columns every save writes (``ChangeRepo._values``).
_SAVED = (
    "website_id",
    "subject_id",
    "account_id",
    "state",
    "open_website_id",
    "current_enc",
    "proposed_enc",
    "version",
    "created_at",
    "updated_at",
    "consent_version",
    "reasons",
    "authority_ref",
    "authority_reason",
    "round",
    *_DATES,
)
# Built once (constructing a 21-column UPDATE per save cost more than executing it) and run on
# the driver's cursor (``direct.DirectWrite``): only if the version loaded is still stored.
_SAVE_STMT = (
    update(t.change_orders)
    .where(
        t.change_orders.c.id == bindparam("b_id"),
        t.change_orders.c.version == bindparam("b_loaded"),
    )
    .values({name: bindparam(name) for name in _SAVED})
)
_SAVE = DirectWrite(_SAVE_STMT)
#: The same UPDATE answering, with the row it saved, how many webhooks are live: a save records
#: events, and with none live it needs no second query for the subscriptions (one round trip
#: fewer per save on PostgreSQL). Where the database has no UPDATE … RETURNING, ``_SAVE``.
_SAVE_COUNTING_WEBHOOKS = DirectWrite(
    _SAVE_STMT.returning(
        select(func.count())
        .select_from(t.webhooks)
        .where(t.webhooks.c.deleted_at.is_(None))
        .scalar_subquery()
    )
)
_INSERT = insert(t.change_orders)
_INSERT_CALL = insert(t.calls)
_INSERT_EVENT = insert(t.events)
#: The timeline rows of a save (one per save of a draft) when no webhook wants their ids: on the
#: driver's cursor (``direct.DirectWrite``; through ``Connection.execute`` the INSERT was a
#: tenth of a PATCH's use case).
_EVENT_COLUMNS = ("change_id", "at", "kind", "from_state", "state", "actor", "message", "data")
_ADD_EVENTS = DirectWrite(insert(t.events).values({c: bindparam(c) for c in _EVENT_COLUMNS}))
#: psycopg's "no transaction open" (``ChangeRepo._save_alone``).
IDLE = TransactionStatus.IDLE
#: ``ChangeRepo._save_alone``: the save and its one timeline row in one statement, only if the
#: version loaded is still stored and no webhook is live (none to fan the event out to):
#: ``WITH saved AS (UPDATE … RETURNING id) INSERT INTO events … SELECT … FROM saved``.
_SAVED_ALONE = (
    _SAVE_STMT.where(~exists(select(t.webhooks.c.id).where(t.webhooks.c.deleted_at.is_(None))))
    .returning(t.change_orders.c.id)
    .cte("saved")
)
_SAVE_ALONE = DirectWrite(
    insert(t.events)
    .from_select(
        _EVENT_COLUMNS,
        select(
            _SAVED_ALONE.c.id,
            *(bindparam(f"e_{c}", type_=t.events.c[c].type) for c in _EVENT_COLUMNS[1:]),
        ),
    )
    .returning(t.events.c.change_id)
)
#: An order by id with its current round's calls (``_calls``), on the driver's cursor
#: (``direct.py``): every read of one order (each PATCH reads it to judge the edit) paid more for
#: building and wrapping its statements than for running them; and one statement, not two, is
#: one round trip fewer on PostgreSQL. The order's row comes once per call, or once with NULL
#: call columns when it has none. ``_ORDER_CALLS``: the calls alone (the locking read's).
#: The order's subject comes along too (``subj_…`` columns): every edit judges the order
#: against its subject, and its separate read was a seventh of a save on PostgreSQL (measured);
#: ``SubjectRepo.get`` answers from it in the same read-only unit of work (``ReadAlong``).
_CALL_COLUMNS = ("id", "at", "outcome", "note", "reviewer")
_SUBJECT_COLUMNS = tuple(c.name for c in t.subjects.c)
_ORDER = DirectQuery(
    select(
        t.change_orders,
        *(t.calls.c[c].label(f"call_{c}") for c in _CALL_COLUMNS),
        *(t.subjects.c[c].label(f"subj_{c}") for c in _SUBJECT_COLUMNS),
    )
    .outerjoin(
        t.calls,
        and_(
            t.calls.c.change_id == t.change_orders.c.id,
            t.calls.c.round == t.change_orders.c.round,
        ),
    )
    .outerjoin(t.subjects, t.subjects.c.id == t.change_orders.c.subject_id)
    .where(t.change_orders.c.id == bindparam("change_id"))
    .order_by(t.calls.c.id)
)
_ORDER_CALLS = DirectQuery(
    select(t.calls).where(t.calls.c.change_id == bindparam("change_id")).order_by(t.calls.c.id)
)


@dataclass(frozen=True)
class Material:
    id: int
    change_id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": self.uploaded_at.isoformat(),
        }


class ChangeRepo:
    def __init__(
        self, conn: Connection, cipher: DataCipher, along: ReadAlong | None = None
    ) -> None:
        self.conn, self.cipher = conn, cipher
        #: Where the subject read with an order is left for ``SubjectRepo.get`` (read-only
        #: units of work only; None: not kept).
        self._along = along
        self._loaded: dict[int, tuple[int, int, int]] = {}  # id → (version, round, calls) as loaded
        self._subs: list[tuple[int, list[str], str]] | None = (
            None  # live webhooks, read once per transaction
        )
        #: Outbox rows this transaction queued for webhooks (the worker's tick also finds them).
        self.webhook_outbox_ids: list[int] = []

    def _to(self, row, calls: list[Call]) -> ChangeOrder:
        order = ChangeOrder(
            id=row.id,
            website_id=row.website_id,
            subject_id=row.subject_id,
            account_id=row.account_id,
            state=ChangeState(row.state),
            current=WebsiteInfo.from_dict(self.cipher.decrypt_json(row.current_enc)),
            proposed=WebsiteInfo.from_dict(self.cipher.decrypt_json(row.proposed_enc)),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            consent_version=row.consent_version,
            calls=calls,
            reasons=[Reason(**r) for r in (row.reasons or [])],
            authority_ref=row.authority_ref,
            authority_reason=row.authority_reason,
            round=row.round,
            **{k: getattr(row, k) for k in _DATES},
        )
        self._loaded[row.id] = (row.version, row.round, len(calls))
        return order

    @staticmethod
    def _call(r: Any) -> Call:
        return Call(at=r.at, outcome=r.outcome, note=r.note, reviewer=r.reviewer, round=r.round)

    def _calls(self, rows: list[Any]) -> dict[int, list[Call]]:
        """The calls of each order's current round only: a resubmission starts afresh (api.md
        §Flow rules made precise), so earlier rounds' calls stay stored but never count."""
        out: dict[int, list[Call]] = defaultdict(list)
        rounds = {r.id: r.round for r in rows}
        if rounds:
            q = select(t.calls).where(t.calls.c.change_id.in_(list(rounds))).order_by(t.calls.c.id)
            for r in self.conn.execute(q):
                if r.round == rounds[r.change_id]:
                    out[r.change_id].append(self._call(r))
        return out

    def get(self, change_id: int, *, for_update: bool = False) -> ChangeOrder | None:
        if for_update and self.conn.dialect.name == "postgresql":
            q = select(t.change_orders).where(t.change_orders.c.id == change_id)
            row = self.conn.execute(q.with_for_update()).first()
            if not row:
                return None
            calls = [
                self._call(r)
                for r in _ORDER_CALLS.all(self.conn, {"change_id": change_id})
                if r.round == row.round  # the current round's only (see ``_calls``)
            ]
            return self._to(row, calls)
        rows = _ORDER.all(self.conn, {"change_id": change_id})
        if not rows:
            return None
        if self._along is not None and rows[0].subj_id is not None:
            self._along.leave("subjects", rows[0].subj_id, Prefixed(rows[0], "subj_"))
        calls = [
            Call(
                at=r.call_at,
                outcome=r.call_outcome,
                note=r.call_note,
                reviewer=r.call_reviewer,
                round=r.round,
            )
            for r in rows
            if r.call_id is not None
        ]
        return self._to(rows[0], calls)

    def by_authority_ref(self, ref: str) -> ChangeOrder | None:
        row = self.conn.execute(
            select(t.change_orders.c.id).where(t.change_orders.c.authority_ref == ref)
        ).first()
        return self.get(row[0], for_update=True) if row else None

    def list(
        self,
        *,
        account_id: int | None = None,
        states: set[ChangeState] | None = None,
        website_id: int | None = None,
        order_by_due: bool = False,
        limit: int = 200,
        offset: int = 0,
        review_pending_only: bool = False,
    ) -> list[ChangeOrder]:
        c = t.change_orders.c
        q = select(t.change_orders)
        if account_id is not None:
            q = q.where(c.account_id == account_id)
        if states:
            q = q.where(c.state.in_([str(s) for s in states]))
        if website_id is not None:
            q = q.where(c.website_id == website_id)
        if review_pending_only:
            q = q.where(c.review_passed_at.is_(None))
        q = q.order_by(c.due_at, c.id) if order_by_due else q.order_by(c.id.desc())
        rows = list(self.conn.execute(q.limit(limit).offset(offset)))
        calls = self._calls(rows)
        return [self._to(r, calls.get(r.id, [])) for r in rows]

    def count_by_state(self) -> dict[str, int]:
        rows = self.conn.execute(
            select(t.change_orders.c.state, func.count()).group_by(t.change_orders.c.state)
        )
        return {r[0]: r[1] for r in rows}

    def has_open(self, website_id: int) -> bool:
        return (
            self.conn.execute(
                select(t.change_orders.c.id).where(t.change_orders.c.open_website_id == website_id)
            ).first()
            is not None
        )

    def _values(self, o: ChangeOrder) -> dict[str, Any]:
        return dict(
            website_id=o.website_id,
            subject_id=o.subject_id,
            account_id=o.account_id,
            state=str(o.state),
            open_website_id=o.website_id if o.state in OPEN else None,
            current_enc=self.cipher.encrypt_json(o.current.to_dict()),
            proposed_enc=self.cipher.encrypt_json(o.proposed.to_dict()),
            version=o.version,
            created_at=o.created_at,
            updated_at=o.updated_at,
            consent_version=o.consent_version,
            reasons=[r.to_dict() for r in o.reasons],
            authority_ref=o.authority_ref,
            authority_reason=o.authority_reason,
            round=o.round,
            **{k: getattr(o, k) for k in _DATES},
        )

    def loaded(self, change_id: int) -> tuple[int, int, int]:
        """What this repository read of an order (version, round, calls): hand it to
        :meth:`adopt` of another unit of work that saves the order."""
        return self._loaded[change_id]

    def adopt(self, change_id: int, loaded: tuple[int, int, int]) -> None:
        """Save an order read in another unit of work: :meth:`save` then succeeds only if
        the stored version is still the one that was read (else ``VersionConflict``)."""
        self._loaded[change_id] = loaded

    def save(self, o: ChangeOrder) -> ChangeOrder:
        """Insert or update (optimistically, against the version loaded), with new events/calls."""
        if o.id is None:
            try:
                o.id = self.conn.execute(_INSERT, self._values(o)).inserted_primary_key[0]
            except IntegrityError as exc:
                # Two requests both read "no open order" (PostgreSQL runs them side by side):
                # the unique index on open_website_id stops the second; it is the rule's refusal.
                if "open_website_id" in str(exc.orig):
                    raise change_in_progress() from None
                raise
            known_calls = 0
        else:
            loaded_version, loaded_round, known_calls = self._loaded.get(o.id, (None, 0, 0))
            if loaded_round != o.round:  # resubmitted: the calls held now are all new
                known_calls = 0
            params = {**self._values(o), "b_id": o.id, "b_loaded": loaded_version}
            if (
                len(o.new_events) == 1
                and len(o.calls) == known_calls
                and self._subs is None
                and self._save_alone(params, o.new_events[0])
            ):
                self._loaded[o.id] = (o.version, o.round, len(o.calls))
                o.new_events.clear()
                return o
            if o.new_events and self._subs is None and self.conn.dialect.update_returning:
                answer = _SAVE_COUNTING_WEBHOOKS.first(self.conn, params)
                saved = 0 if answer is None else 1
                if answer is not None and answer[0] == 0:
                    self._subs = []  # none live: nothing to fan out, no query for them
            else:
                saved = _SAVE.execute(self.conn, params)
            if saved != 1:
                raise VersionConflict(self.current_version(o.id))
        self._loaded[o.id] = (o.version, o.round, len(o.calls))
        new_calls = o.calls[known_calls:]
        if new_calls:
            self.conn.execute(
                _INSERT_CALL,
                [
                    dict(
                        change_id=o.id,
                        at=c.at,
                        outcome=c.outcome,
                        note=c.note,
                        reviewer=c.reviewer,
                        round=c.round,
                    )
                    for c in new_calls
                ],
            )
        if o.new_events:
            rows = [self._event_row(o.id, e) for e in o.new_events]
            if self._subs is None:
                self._subs = webhooks.subscriptions(self.conn)
            subs = self._subs
            if subs:  # webhooks want the events' ids: insert them one by one, then fan out
                inserted = [
                    (self.conn.execute(_INSERT_EVENT, row).inserted_primary_key[0], e)
                    for row, e in zip(rows, o.new_events, strict=True)
                ]
                self.webhook_outbox_ids += webhooks.fan_out(
                    self.conn, self.cipher, o.id, inserted, subs
                )
            else:
                _ADD_EVENTS.execute_many(self.conn, rows)
            o.new_events.clear()
        return o

    def _save_alone(self, params: dict[str, Any], event: Event) -> bool:
        """PostgreSQL, a unit of work that has run nothing yet: the save and its one timeline
        row as **one** statement in autocommit (``_SAVE_ALONE``) — atomic as a statement is,
        committed when it answers — instead of BEGIN, UPDATE, INSERT and COMMIT: three round
        trips fewer per save. It writes nothing (False) when the version is stale or a webhook
        is live (that event must be fanned out with it, in one transaction): the caller then
        saves as before, and that save raises ``VersionConflict`` or fans out.

        The unit of work's own COMMIT afterwards is nothing: psycopg sends none when no
        transaction is open."""
        if self.conn.dialect.name != "postgresql":
            return False
        raw = self.conn.connection.dbapi_connection
        if self.conn.connection.driver_connection.info.transaction_status != IDLE:
            return False  # something ran in this unit of work already: stay in its transaction
        row = {f"e_{c}": v for c, v in self._event_row(params["b_id"], event).items()}
        raw.autocommit = True
        try:
            answer = _SAVE_ALONE.first(self.conn, {**params, **row})
        except BaseException:
            # The statement's own error (or a cancellation) is the one to raise; a connection
            # that cannot be set back is dropped, never kept in autocommit for a later write.
            try:
                raw.autocommit = False
            except Exception:  # noqa: BLE001
                self.conn.invalidate()
            raise
        raw.autocommit = False
        return answer is not None

    @staticmethod
    def _event_row(change_id: int, e: Event) -> dict[str, Any]:
        return dict(
            change_id=change_id,
            at=e.at,
            kind=e.kind,
            from_state=e.from_state,
            state=e.state,
            actor=e.actor,
            message=e.message,
            data=e.data,
        )

    def current_version(self, change_id: int) -> int:
        row = self.conn.execute(
            select(t.change_orders.c.version).where(t.change_orders.c.id == change_id)
        ).first()
        return row[0] if row else 0

    def events(self, change_id: int) -> list[Event]:
        rows = self.conn.execute(
            select(t.events).where(t.events.c.change_id == change_id).order_by(t.events.c.id)
        )
        return [
            Event(
                at=r.at,
                kind=r.kind,
                state=r.state,
                actor=r.actor,
                message=r.message,
                from_state=r.from_state,
                data=r.data or {},
            )
            for r in rows
        ]

    # materials ---------------------------------------------------------------------------
    def add_material(
        self,
        change_id: int,
        kind: str,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        uploaded_by: str,
        now: datetime,
    ) -> Material:
        mid = self.conn.execute(
            insert(t.materials).values(
                change_id=change_id,
                kind=kind,
                filename=filename,
                content_type=content_type,
                size=size,
                sha256=sha256,
                uploaded_by=uploaded_by,
                uploaded_at=now,
            )
        ).inserted_primary_key[0]
        return Material(
            mid, change_id, kind, filename, content_type, size, sha256, uploaded_by, now
        )

    def materials(self, change_id: int) -> list[Material]:
        rows = self.conn.execute(
            select(t.materials)
            .where(t.materials.c.change_id == change_id)
            .order_by(t.materials.c.id)
        )
        return [
            Material(
                r.id,
                r.change_id,
                r.kind,
                r.filename,
                r.content_type,
                r.size,
                r.sha256,
                r.uploaded_by,
                r.uploaded_at,
            )
            for r in rows
        ]

    def delete_material(self, change_id: int, material_id: int) -> bool:
        res = self.conn.execute(
            delete(t.materials).where(
                t.materials.c.change_id == change_id, t.materials.c.id == material_id
            )
        )
        return res.rowcount == 1

    # verification ------------------------------------------------------------------------
    def add_verification(
        self,
        change_id: int,
        media: str,
        passed: bool,
        problems: list[dict],
        content_type: str,
        size: int,
        sha256: str,
        now: datetime,
    ) -> int:
        return self.conn.execute(
            insert(t.verifications).values(
                change_id=change_id,
                media=media,
                passed=passed,
                problems=problems,
                content_type=content_type,
                size=size,
                sha256=sha256,
                created_at=now,
            )
        ).inserted_primary_key[0]

    def latest_verification(self, change_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(t.verifications)
            .where(t.verifications.c.change_id == change_id)
            .order_by(t.verifications.c.id.desc())
            .limit(1)
        ).first()
        return dict(row._mapping) if row else None

    def has_passing_verification(self, change_id: int) -> bool:
        return (
            self.conn.execute(
                select(t.verifications.c.id)
                .where(t.verifications.c.change_id == change_id, t.verifications.c.passed.is_(True))
                .limit(1)
            ).first()
            is not None
        )
