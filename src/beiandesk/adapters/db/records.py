"""Repositories for accounts, subjects and websites (rows ↔ domain objects)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.along import ReadAlong
from beiandesk.adapters.db.direct import DirectQuery
from beiandesk.adapters.db.encoding import mobile_key as normalize_mobile_key
from beiandesk.adapters.db.encoding import subject_values
from beiandesk.adapters.db.records_import import sync_domains
from beiandesk.domain.model import (
    Account,
    Principal,
    Role,
    Subject,
    SubjectKind,
    Website,
    WebsiteInfo,
    WebsiteStatus,
)


#: The columns ``AccountRepo._to`` reads (a narrower select than the whole row may give these).
ACCOUNT_FIELDS = (
    "id",
    "username",
    "role",
    "display_name",
    "email",
    "enterprise_verified",
    "disabled",
    "password_change_required",
)


class AccountRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _to(row) -> Account:
        return Account(
            id=row.id,
            username=row.username,
            role=Role(row.role),
            display_name=row.display_name,
            email=row.email,
            enterprise_verified=row.enterprise_verified,
            disabled=bool(row.disabled),
            password_change_required=bool(row.password_change_required),
        )

    def get(self, account_id: int) -> Account | None:
        row = self.conn.execute(select(t.accounts).where(t.accounts.c.id == account_id)).first()
        return self._to(row) if row else None

    def by_username(self, username: str) -> tuple[Account, str] | None:
        row = self.conn.execute(select(t.accounts).where(t.accounts.c.username == username)).first()
        return (self._to(row), row.password_hash) if row else None

    def add(
        self,
        username: str,
        password_hash: str,
        role: Role,
        display_name: str,
        email: str,
        enterprise_verified: bool,
        now: datetime,
    ) -> Account:
        res = self.conn.execute(
            insert(t.accounts).values(
                username=username,
                password_hash=password_hash,
                role=str(role),
                display_name=display_name,
                email=email,
                enterprise_verified=enterprise_verified,
                created_at=now,
            )
        )
        return Account(
            id=res.inserted_primary_key[0],
            username=username,
            role=role,
            display_name=display_name,
            email=email,
            enterprise_verified=enterprise_verified,
        )

    def staff_emails(self) -> list[str]:
        rows = self.conn.execute(
            select(t.accounts.c.email).where(t.accounts.c.role.in_(["reviewer", "admin"]))
        )
        return sorted({r[0] for r in rows if r[0]})

    def set_password(self, account_id: int, password_hash: str) -> None:
        self.conn.execute(
            update(t.accounts)
            .where(t.accounts.c.id == account_id)
            .values(password_hash=password_hash)
        )


#: A subject by id (every edit of an order judges it against its subject): on the driver's cursor.
_SUBJECT = DirectQuery(select(t.subjects).where(t.subjects.c.id == bindparam("subject_id")))


class SubjectRepo:
    def __init__(
        self, conn: Connection, cipher: DataCipher, along: ReadAlong | None = None
    ) -> None:
        self.conn, self.cipher = conn, cipher
        self._along = along  # rows another repository read with its own (``along.py``)

    def _to(self, row) -> Subject:
        return Subject(
            id=row.id,
            account_id=row.account_id,
            kind=SubjectKind(row.kind),
            name=row.name,
            province=row.province,
            id_type=row.id_type,
            id_number=self.cipher.decrypt(row.id_number_enc) or "",
            filing_number=row.filing_number,
            principal=Principal.from_dict(self.cipher.decrypt_json(row.principal_enc)),
            legal_rep=row.legal_rep,
        )

    def get(self, subject_id: int) -> Subject | None:
        row = None if self._along is None else self._along.take("subjects", subject_id)
        if row is None:
            row = _SUBJECT.first(self.conn, {"subject_id": subject_id})
        return self._to(row) if row else None

    def list(self, account_id: int | None = None) -> list[Subject]:
        q = select(t.subjects).order_by(t.subjects.c.id)
        if account_id is not None:
            q = q.where(t.subjects.c.account_id == account_id)
        return [self._to(r) for r in self.conn.execute(q)]

    def by_ids(self, ids: Iterable[int]) -> dict[int, Subject]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {
            r.id: self._to(r)
            for r in self.conn.execute(select(t.subjects).where(t.subjects.c.id.in_(wanted)))
        }

    def by_filing_number(self, filing_number: str) -> Subject | None:
        row = self.conn.execute(
            select(t.subjects).where(t.subjects.c.filing_number == filing_number)
        ).first()
        return self._to(row) if row else None

    def add(self, s: Subject, now: datetime) -> Subject:
        res = self.conn.execute(
            insert(t.subjects).values(
                **subject_values(self.cipher, s, s.account_id), created_at=now
            )
        )
        return Subject(**{**s.__dict__, "id": res.inserted_primary_key[0]})

    def subjects_using_mobile(self, mobile: str) -> set[int]:
        """Subjects whose subject principal or any website principal has this mobile."""
        h = self.cipher.blind_index(normalize_mobile_key(mobile))
        ids = {
            r[0]
            for r in self.conn.execute(
                select(t.subjects.c.id).where(t.subjects.c.principal_mobile_hash == h)
            )
        }
        ids |= {
            r[0]
            for r in self.conn.execute(
                select(t.websites.c.subject_id).where(t.websites.c.principal_mobile_hash == h)
            )
        }
        return ids


#: The columns ``WebsiteRepo._to`` reads.
WEBSITE_FIELDS = ("id", "subject_id", "filing_number", "status", "info_enc", "version")

#: ``GET /api/v1/websites/{id}``'s read, built once (no per-request construction and cache-key walk).
#: The hottest record read (every website page and ``GET /api/v1/websites/{id}``): run on the
#: driver's cursor (``direct.py``).
_WEBSITE_WITH_OWNER = DirectQuery(
    # Only the columns ``WebsiteRepo._to`` reads: the plain copies of the name, domains (JSON,
    # parsed per row) and home page, the mobile's blind index and ``updated_at`` (a datetime)
    # are for searches and lists; the record itself is ``info_enc``.
    select(
        *(t.websites.c[name] for name in WEBSITE_FIELDS),
        t.subjects.c.account_id.label("owner_account_id"),
    )
    .join(t.subjects, t.subjects.c.id == t.websites.c.subject_id)
    .where(t.websites.c.id == bindparam("website_id"))
)


class WebsiteRepo:
    def __init__(self, conn: Connection, cipher: DataCipher) -> None:
        self.conn, self.cipher = conn, cipher
        self._versions: dict[int, int] = {}

    def _to(self, row) -> Website:
        info = WebsiteInfo.from_dict(self.cipher.decrypt_json(row.info_enc))
        self._versions[row.id] = row.version
        return Website(
            id=row.id,
            subject_id=row.subject_id,
            filing_number=row.filing_number,
            status=WebsiteStatus(row.status),
            info=info,
            version=row.version,
        )

    def get(self, website_id: int) -> Website | None:
        row = self.conn.execute(select(t.websites).where(t.websites.c.id == website_id)).first()
        return self._to(row) if row else None

    def count_open(self) -> int:
        return self.conn.execute(
            select(func.count()).select_from(t.websites).where(t.websites.c.status == "open")
        ).scalar_one()

    def list(
        self,
        account_id: int | None = None,
        subject_ids: Iterable[int] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Website]:
        q = select(t.websites).order_by(t.websites.c.id)
        if account_id is not None:
            q = q.join(t.subjects, t.subjects.c.id == t.websites.c.subject_id).where(
                t.subjects.c.account_id == account_id
            )
        if subject_ids is not None:
            q = q.where(t.websites.c.subject_id.in_(list(subject_ids)))
        if limit is not None:
            q = q.limit(limit).offset(offset)
        return [self._to(r) for r in self.conn.execute(q)]

    def get_with_owner(self, website_id: int) -> tuple[Website, int] | None:
        """The website and the account that owns its subject, in one query."""
        row = _WEBSITE_WITH_OWNER.first(self.conn, {"website_id": website_id})
        return (self._to(row), row.owner_account_id) if row else None

    def owner_account(self, website_id: int) -> int | None:
        row = self.conn.execute(
            select(t.subjects.c.account_id)
            .join(t.websites, t.websites.c.subject_id == t.subjects.c.id)
            .where(t.websites.c.id == website_id)
        ).first()
        return row[0] if row else None

    def _values(self, w: Website) -> dict:
        return dict(
            subject_id=w.subject_id,
            filing_number=w.filing_number,
            status=str(w.status),
            name=w.info.name,
            domains=list(w.info.domains),
            home_url=w.info.home_url,
            info_enc=self.cipher.encrypt_json(w.info.to_dict()),
            principal_mobile_hash=self.cipher.blind_index(
                normalize_mobile_key(w.info.principal.mobile)
            ),
            version=w.version,
        )

    def add(self, w: Website, now: datetime) -> Website:
        res = self.conn.execute(insert(t.websites).values(**self._values(w), updated_at=now))
        sync_domains(self.conn, res.inserted_primary_key[0], w.info.domains)
        return Website(**{**w.__dict__, "id": res.inserted_primary_key[0]})

    def add_many(self, items: list[Website], now: datetime) -> None:
        self.conn.execute(
            insert(t.websites), [{**self._values(w), "updated_at": now} for w in items]
        )
        ids = dict(
            self.conn.execute(
                select(t.websites.c.filing_number, t.websites.c.id).where(
                    t.websites.c.filing_number.in_([w.filing_number for w in items])
                )
            ).all()
        )
        for w in items:
            sync_domains(self.conn, ids[w.filing_number], w.info.domains)

    def replace(self, old: Website, new: Website, change_id: int | None, now: datetime) -> None:
        """Store ``new`` and keep ``old`` in the history (approval applies a change)."""
        self.conn.execute(
            insert(t.website_history).values(
                website_id=old.id,
                version=old.version,
                info_enc=self.cipher.encrypt_json(old.info.to_dict()),
                change_id=change_id,
                archived_at=now,
            )
        )
        res = self.conn.execute(
            update(t.websites)
            .where(t.websites.c.id == old.id, t.websites.c.version == old.version)
            .values(**self._values(new), updated_at=now)
        )
        if res.rowcount != 1:
            raise RuntimeError("website changed concurrently")
        sync_domains(self.conn, old.id, new.info.domains)

    def history(self, website_id: int) -> list[dict]:
        rows = self.conn.execute(
            select(t.website_history)
            .where(t.website_history.c.website_id == website_id)
            .order_by(t.website_history.c.version)
        )
        return [
            {
                "version": r.version,
                "change_id": r.change_id,
                "archived_at": r.archived_at,
                "info": WebsiteInfo.from_dict(self.cipher.decrypt_json(r.info_enc)),
            }
            for r in rows
        ]
