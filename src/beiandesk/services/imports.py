"""Import and export of existing filed records (api.md §Existing filed records), as use cases.

``import_records`` takes the rows of a file (the entry point opens it with the records-file
adapter) and works in batches: each batch is checked with the pure rules of
``domain/import_rows`` against what one round of look-ups says of the database, then written in
one transaction. A crash therefore leaves whole batches, and a re-run finds those rows
unchanged and finishes the rest. Subjects are keyed by subject filing number, websites by
website filing number: the same file twice changes nothing; a changed website keeps its old
version in the history, as an approved change does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from beiandesk.domain import import_rows as ir
from beiandesk.domain.model import Subject, Website
from beiandesk.services import audit
from beiandesk.services.deps import Deps

BATCH_SIZE = 500


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.refused == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": self.refused,
            "problems": self.problems,
        }

    def summary(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("rows", "created", "updated", "unchanged", "refused")}


def _same_subject(a: Subject, b: Subject) -> bool:
    return (
        a.kind,
        a.name,
        a.province,
        a.id_type,
        a.id_number,
        a.principal.to_dict(),
        a.account_id,
    ) == (b.kind, b.name, b.province, b.id_type, b.id_number, b.principal.to_dict(), b.account_id)


class KeyLedger(Protocol):
    """What earlier batches of a dry run claimed (mobile → subject, domain → website number).

    A real run finds that in the database; a dry run writes nothing there, so it keeps it
    aside. The entry points pass an on-disk ledger (memory flat however long the file)."""

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, str]: ...

    def put_many(self, kind: str, items: dict[str, str]) -> None: ...


class MemoryLedger:
    def __init__(self) -> None:
        self._d: dict[str, dict[str, str]] = {}

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, str]:
        table = self._d.get(kind, {})
        return {k: table[k] for k in keys if k in table}

    def put_many(self, kind: str, items: dict[str, str]) -> None:
        self._d.setdefault(kind, {}).update(items)


class _Importer:
    def __init__(
        self,
        d: Deps,
        dry_run: bool,
        on_refused: Callable[..., Any] | None,
        ledger: KeyLedger | None,
    ) -> None:
        self.d, self.dry_run, self.on_refused = d, dry_run, on_refused
        self.result = ImportResult()
        self.today = d.clock.now().date()
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self._analyzed_at = 0

    def refuse(self, line: int, raw: dict[str, Any], problems: list) -> None:
        items = [ir.problem_row(line, p) for p in problems]
        self.result.refused += 1
        self.result.problems += items
        self._refused.append((line, raw, items))

    def batch(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        self._refused: list[tuple[int, dict[str, Any], list[dict[str, Any]]]] = []
        try:
            self._batch(rows)
        finally:  # the report lists a batch's refused rows in file order, once it is decided
            if self.on_refused is not None:
                for line, raw, items in sorted(self._refused, key=lambda x: x[0]):
                    self.on_refused(line, raw, items)

    def _batch(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        parsed: list[tuple[int, dict[str, Any], ir.ImportRecord]] = []
        for line, raw in rows:
            self.result.rows += 1
            rec, problems = ir.parse_row(raw, line)
            if rec is None:
                self.refuse(line, raw, problems)
            else:
                parsed.append((line, raw, rec))
        if not parsed:
            return
        now = self.d.clock.now()
        with self.d.uow(readonly=self.dry_run) as uow:
            ex = uow.imports.lookup(
                {r.subject_filing_number for _, _, r in parsed},
                {r.website_filing_number for _, _, r in parsed},
                {m for _, _, r in parsed for m in r.mobiles()},
                {d for _, _, r in parsed for d in r.ascii_domains()},
                {r.account_username for _, _, r in parsed if r.account_username},
            )
            mobile_owner, domain_owner = ex.mobile_owner, ex.domain_owner
            if self.dry_run:
                mobile_owner = {
                    **self.ledger.get_many(
                        "mobile", {m for _, _, r in parsed for m in r.mobiles()}
                    ),
                    **mobile_owner,
                }
                domain_owner = {
                    **self.ledger.get_many(
                        "domain", {x for _, _, r in parsed for x in r.ascii_domains()}
                    ),
                    **domain_owner,
                }
            claimed_mobiles: dict[str, str] = {}
            claimed_domains: dict[str, str] = {}
            ctx = ir.RowContext(
                mobile_owner=mobile_owner, domain_owner=domain_owner, accounts=set(ex.accounts)
            )
            subjects: dict[str, tuple[int | None, Subject]] = {
                n: (sid, s) for n, (sid, _, s) in ex.subjects.items()
            }
            new_subjects: dict[str, Subject] = {}
            changed_subjects: dict[str, Subject] = {}
            websites = dict(ex.websites)
            new_websites: dict[str, Website] = {}
            replaced: dict[str, tuple[Website, Website]] = {}
            seen_websites: set[str] = set()
            for line, raw, rec in parsed:
                problems = ir.check_record(rec, ctx, self.today)
                if rec.website_filing_number in seen_websites:
                    problems.append(ir.duplicate_row(rec.website_filing_number))
                if problems:
                    self.refuse(line, raw, problems)
                    continue
                seen_websites.add(rec.website_filing_number)
                number = rec.subject_filing_number
                sid, old_subject = subjects.get(number, (None, None))
                account_id = (
                    ex.accounts[rec.account_username]
                    if rec.account_username
                    else (old_subject.account_id if old_subject else None)
                )
                subject = replace(
                    rec.subject,
                    id=sid or 0,
                    account_id=account_id,
                    legal_rep=old_subject.legal_rep if old_subject else "",
                )
                subject_changed = old_subject is None or not _same_subject(old_subject, subject)
                if old_subject is None or number in new_subjects:
                    new_subjects[number] = subject
                elif subject_changed:
                    changed_subjects[number] = subject
                subjects[number] = (sid, subject)
                old_site = websites.get(rec.website_filing_number)
                if old_site is None:
                    new_websites[rec.website_filing_number] = Website(
                        id=0,
                        subject_id=sid or 0,
                        filing_number=rec.website_filing_number,
                        status=rec.website_status,
                        info=rec.info,
                    )
                    self.result.created += 1
                elif (
                    old_site.info.to_dict() != rec.info.to_dict()
                    or old_site.status != rec.website_status
                ):
                    new = replace(
                        old_site,
                        info=rec.info,
                        status=rec.website_status,
                        version=old_site.version + 1,
                    )
                    replaced[rec.website_filing_number] = (old_site, new)
                    self.result.updated += 1
                elif subject_changed:
                    self.result.updated += 1
                else:
                    self.result.unchanged += 1
                for m in rec.mobiles():
                    mobile_owner[m] = claimed_mobiles[m] = number
                for key in rec.ascii_domains():
                    domain_owner[key] = claimed_domains[key] = rec.website_filing_number
            if self.dry_run:
                self.ledger.put_many("mobile", claimed_mobiles)
                self.ledger.put_many("domain", claimed_domains)
                return
            ids = uow.imports.add_subjects([(s, s.account_id) for s in new_subjects.values()], now)
            uow.imports.update_subjects(
                [(subjects[n][0], s, s.account_id) for n, s in changed_subjects.items()]
            )
            for w in list(new_websites.values()):
                if not w.subject_id:
                    new_websites[w.filing_number] = replace(
                        w, subject_id=ids[ir.subject_number_of(w.filing_number)]
                    )
            uow.imports.add_websites(list(new_websites.values()), now)
            uow.imports.replace_websites(list(replaced.values()), now)
            written = self.result.created + self.result.updated
            if written >= max(1000, 4 * self._analyzed_at):  # at 1k, 4k, 16k… rows: fresh statistics
                uow.imports.analyze()
                self._analyzed_at = written
            uow.commit()


def import_records(
    d: Deps,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    actor: str,
    dry_run: bool = False,
    source: str = "",
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], Any] | None = None,
    on_refused: Callable[[int, dict[str, Any], list[dict[str, Any]]], Any] | None = None,
    ledger: KeyLedger | None = None,
) -> ImportResult:
    """Check and upsert ``(line, row)`` pairs; ``on_refused(line, row, problems)`` streams the
    refused rows out (the ``--report`` file). Audit-logged (``records.import``) unless ``dry_run``."""
    imp = _Importer(d, dry_run, on_refused, ledger)
    pending: list[tuple[int, dict[str, Any]]] = []
    for item in rows:
        pending.append(item)
        if len(pending) >= batch_size:
            imp.batch(pending)
            pending = []
            if on_progress:
                on_progress(imp.result.rows)
    if pending:
        imp.batch(pending)
    if on_progress:
        on_progress(imp.result.rows)
    imp.result.problems.sort(key=lambda p: p["row"])
    if not dry_run:  # a dry run writes nothing, not even its audit entry
        with d.uow() as uow:
            audit.record(
                uow,
                actor=actor,
                action="records.import",
                target=source,
                detail=imp.result.summary(),
                at=d.clock.now(),
            )
            uow.commit()
    return imp.result


def export_records(
    d: Deps,
    write: Callable[[Iterable[dict[str, str]]], int],
    *,
    actor: str,
    unmasked: bool = False,
    target: str = "",
) -> int:
    """Stream every website row to ``write`` (masked ID numbers and mobiles unless ``unmasked``);
    the export is written to the audit log with whether personal data was revealed."""
    with d.uow(readonly=True) as uow:
        rows = (
            ir.to_row(s, w.filing_number, str(w.status), w.info, username, unmasked=unmasked)
            for s, w, username in uow.imports.iter_records()
        )
        n = write(rows)
    with d.uow() as uow:
        audit.record(
            uow,
            actor=actor,
            action="records.export",
            target=target,
            detail={"rows": n, "unmasked": unmasked},
            at=d.clock.now(),
        )
        uow.commit()
    return n
