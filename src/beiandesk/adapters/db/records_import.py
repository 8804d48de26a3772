"""Batch queries for importing and exporting filed records (issue 9).

One :class:`ImportRepo` call per batch: the look-ups a batch of rows needs (existing subjects
and websites by filing number, who uses a mobile, where a domain is filed, which accounts
exist) and the writes, each as one multi-row statement. Personal data goes through the same
``DataCipher`` and blind index as ``records.py``; a changed website keeps its old version in
``website_history`` exactly as an approved change does (``WebsiteRepo.replace``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, any_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.encoding import mobile_key as _mobile_key
from beiandesk.adapters.db.encoding import subject_values
from beiandesk.domain.domains import normalize_domain
from beiandesk.domain.import_rows import subject_number_of
from beiandesk.domain.model import (
    Principal,
    Subject,
    SubjectKind,
    Website,
    WebsiteInfo,
    WebsiteStatus,
)


def sync_domains(conn: Connection, website_id: int, domains: Iterable[str]) -> None:
    """Make ``website_domains`` list exactly the website's domains that no other website holds
    (first website wins: records filed before the index existed are never refused here)."""
    keys = {normalize_domain(d) for d in domains if (d or "").strip()}
    conn.execute(
        t.website_domains.delete().where(
            t.website_domains.c.website_id == website_id,
            t.website_domains.c.domain.not_in(keys or {""}),
        )
    )
    if not keys:
        return
    taken = {
        r[0]
        for r in conn.execute(
            select(t.website_domains.c.domain).where(t.website_domains.c.domain.in_(keys))
        )
    }
    new = [{"domain": k, "website_id": website_id} for k in sorted(keys - taken)]
    if new:
        conn.execute(insert(t.website_domains), new)


@dataclass
class Existing:
    """What the database holds for one batch (see :meth:`ImportRepo.lookup`)."""

    subjects: dict[str, tuple[int, int | None, Subject]] = field(default_factory=dict)
    websites: dict[str, Website] = field(default_factory=dict)
    mobile_owner: dict[str, str] = field(default_factory=dict)
    domain_owner: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)


class ImportRepo:
    def __init__(self, conn: Connection, cipher: DataCipher) -> None:
        self.conn, self.cipher = conn, cipher

    # --- reading --------------------------------------------------------------------------------

    def _subject(self, row: Any) -> Subject:
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

    def _website(self, row: Any) -> Website:
        return Website(
            id=row.id,
            subject_id=row.subject_id,
            filing_number=row.filing_number,
            status=WebsiteStatus(row.status),
            info=WebsiteInfo.from_dict(self.cipher.decrypt_json(row.info_enc)),
            version=row.version,
        )

    def lookup(
        self,
        subject_numbers: set[str],
        website_numbers: set[str],
        mobiles: set[str],
        domains: set[str],
        usernames: set[str],
    ) -> Existing:
        out = Existing()
        if subject_numbers:
            for r in self.conn.execute(
                select(t.subjects).where(self._in(t.subjects.c.filing_number, subject_numbers))
            ):
                out.subjects[r.filing_number] = (r.id, r.account_id, self._subject(r))
        if website_numbers:
            for r in self.conn.execute(
                select(t.websites).where(self._in(t.websites.c.filing_number, website_numbers))
            ):
                out.websites[r.filing_number] = self._website(r)
        if mobiles:
            by_hash = {self.cipher.blind_index(_mobile_key(m)): m for m in mobiles}
            q1 = select(t.subjects.c.principal_mobile_hash, t.subjects.c.filing_number).where(
                self._in(t.subjects.c.principal_mobile_hash, by_hash)
            )
            # No joins: PostgreSQL right after a bulk load has no statistics yet and may plan a
            # join as a scan per batch. A website number carries its subject's number.
            q2 = select(t.websites.c.principal_mobile_hash, t.websites.c.filing_number).where(
                self._in(t.websites.c.principal_mobile_hash, by_hash)
            )
            for h, number in self.conn.execute(q1):
                out.mobile_owner.setdefault(by_hash[h], number)
            for h, number in self.conn.execute(q2):
                out.mobile_owner.setdefault(by_hash[h], subject_number_of(number))
        if domains:
            held = dict(self.conn.execute(
                select(t.website_domains.c.domain, t.website_domains.c.website_id).where(
                    self._in(t.website_domains.c.domain, domains))).all())
            if held:
                numbers = dict(self.conn.execute(
                    select(t.websites.c.id, t.websites.c.filing_number).where(
                        self._in(t.websites.c.id, set(held.values())))).all())
                out.domain_owner = {d: numbers[i] for d, i in held.items() if i in numbers}
        if usernames:
            q = select(t.accounts.c.username, t.accounts.c.id).where(
                self._in(t.accounts.c.username, usernames)
            )
            out.accounts = {u: i for u, i in self.conn.execute(q)}
        return out

    def _in(self, column: Any, values: Iterable[Any]) -> Any:
        """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter instead of hundreds
        (psycopg parses every placeholder of a statement client-side, and the plan is cached)."""
        values = list(values)
        if self.conn.dialect.name == "postgresql":
            return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return column.in_(values)

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (PostgreSQL; SQLite needs none)."""
        if self.conn.dialect.name == "postgresql":
            for table in (t.subjects, t.websites, t.website_domains, t.website_history):
                self.conn.exec_driver_sql(f"ANALYZE {table.name}")

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        return {
            name: self.conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (("subjects", t.subjects), ("websites", t.websites))
        }

    # --- writing --------------------------------------------------------------------------------

    def _subject_values(self, s: Subject, account_id: int | None) -> dict[str, Any]:
        return subject_values(self.cipher, s, account_id)

    def add_subjects(
        self, items: list[tuple[Subject, int | None]], now: datetime
    ) -> dict[str, int]:
        """Insert subjects; return filing number → id."""
        if not items:
            return {}
        rows = [{**self._subject_values(s, a), "created_at": now} for s, a in items]
        res = self.conn.execute(
            insert(t.subjects).returning(t.subjects.c.filing_number, t.subjects.c.id), rows
        )
        return {n: i for n, i in res}

    def update_subjects(self, items: list[tuple[int, Subject, int | None]]) -> None:
        if not items:
            return
        rows = [{**self._subject_values(s, a), "b_id": sid} for sid, s, a in items]
        self.conn.execute(update(t.subjects).where(t.subjects.c.id == bindparam("b_id")), rows)

    def _website_values(self, w: Website) -> dict[str, Any]:
        return dict(
            subject_id=w.subject_id,
            filing_number=w.filing_number,
            status=str(w.status),
            name=w.info.name,
            domains=list(w.info.domains),
            home_url=w.info.home_url,
            info_enc=self.cipher.encrypt_json(w.info.to_dict()),
            principal_mobile_hash=self.cipher.blind_index(_mobile_key(w.info.principal.mobile)),
            version=w.version,
        )

    def add_websites(self, items: list[Website], now: datetime) -> None:
        if not items:
            return
        rows = [{**self._website_values(w), "updated_at": now} for w in items]
        res = self.conn.execute(
            insert(t.websites).returning(t.websites.c.filing_number, t.websites.c.id), rows
        )
        ids = {n: i for n, i in res}
        domains = []
        for w in items:
            for key in dict.fromkeys(normalize_domain(d) for d in w.info.domains):
                domains.append({"domain": key, "website_id": ids[w.filing_number]})
        if domains:
            self.conn.execute(insert(t.website_domains), domains)

    def replace_websites(self, items: list[tuple[Website, Website]], now: datetime) -> None:
        """Store each new version; the old one goes to ``website_history`` (like an approval)."""
        if not items:
            return
        self.conn.execute(
            insert(t.website_history),
            [
                {
                    "website_id": old.id,
                    "version": old.version,
                    "info_enc": self.cipher.encrypt_json(old.info.to_dict()),
                    "change_id": None,
                    "archived_at": now,
                }
                for old, _ in items
            ],
        )
        for old, new in items:
            res = self.conn.execute(
                update(t.websites)
                .where(t.websites.c.id == old.id, t.websites.c.version == old.version)
                .values(**self._website_values(new), updated_at=now)
            )
            if res.rowcount != 1:
                raise RuntimeError("website changed concurrently")
            if [normalize_domain(d) for d in old.info.domains] != [
                normalize_domain(d) for d in new.info.domains
            ]:
                sync_domains(self.conn, old.id, new.info.domains)

    # --- export ---------------------------------------------------------------------------------

    def iter_records(self, batch: int = 500) -> Iterator[tuple[Subject, Website, str]]:
        """Every website with its subject and owner's user name, by website id, in pages."""
        last = 0
        while True:
            q = (
                select(
                    t.websites,
                    t.subjects.c.account_id,
                    t.subjects.c.kind,
                    t.subjects.c.name.label("s_name"),
                    t.subjects.c.province,
                    t.subjects.c.id_type,
                    t.subjects.c.id_number_enc,
                    t.subjects.c.filing_number.label("s_number"),
                    t.subjects.c.principal_enc,
                    t.subjects.c.legal_rep,
                    t.accounts.c.username,
                )
                .join(t.subjects, t.subjects.c.id == t.websites.c.subject_id)
                .outerjoin(t.accounts, t.accounts.c.id == t.subjects.c.account_id)
                .where(t.websites.c.id > last)
                .order_by(t.websites.c.id)
                .limit(batch)
            )
            rows = self.conn.execute(q).all()
            if not rows:
                return
            for r in rows:
                subject = Subject(
                    id=r.subject_id,
                    account_id=r.account_id,
                    kind=SubjectKind(r.kind),
                    name=r.s_name,
                    province=r.province,
                    id_type=r.id_type,
                    id_number=self.cipher.decrypt(r.id_number_enc) or "",
                    filing_number=r.s_number,
                    principal=Principal.from_dict(self.cipher.decrypt_json(r.principal_enc)),
                    legal_rep=r.legal_rep,
                )
                yield subject, self._website(r), r.username or ""
            last = rows[-1].id
