"""Read the filed records: an applicant sees its own, reviewers and admins see all."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from beiandesk.domain.errors import NotFound
from beiandesk.domain.model import Account, Subject, Website, WebsiteStatus
from beiandesk.services import auth
from beiandesk.services.deps import Deps


def _scope(actor: Account) -> int | None:
    return None if actor.is_staff else actor.id


def list_subjects(d: Deps, actor: Account) -> list[Subject]:
    with d.uow(readonly=True) as uow:
        return uow.subjects.list(account_id=_scope(actor))


def get_subject(d: Deps, actor: Account, subject_id: int) -> Subject:
    with d.uow(readonly=True) as uow:
        s = uow.subjects.get(subject_id)
    return _visible_subject(actor, s)


async def get_subject_for_token_async(
    d: Deps, token: str, subject_id: int, admit: Callable[[Account], object]
) -> Subject:
    """The token's account and ``get_subject`` from one awaited read (``Deps.async_reads``):
    the session judged first, then ``admit(account)`` (the entry point's own checks), then
    whether the account may see the subject — the order of the separate reads."""
    account, s = await auth.account_for_token_with(
        d, token, lambda jti: d.async_reads.session_and_subject(jti, subject_id)
    )
    admit(account)
    return _visible_subject(account, s)


def _visible_subject(actor: Account, s: Subject | None) -> Subject:
    if s is None or (not actor.is_staff and s.account_id != actor.id):
        raise NotFound("主体")
    return s


def list_websites(d: Deps, actor: Account, limit: int = 500, offset: int = 0) -> list[Website]:
    with d.uow(readonly=True) as uow:
        return uow.websites.list(account_id=_scope(actor), limit=limit, offset=offset)


def get_website(d: Deps, actor: Account, website_id: int) -> Website:
    with d.uow(readonly=True) as uow:
        found = uow.websites.get_with_owner(website_id)
    return _visible_website(actor, found)


async def get_website_for_token_async(
    d: Deps, token: str, website_id: int, admit: Callable[[Account], object]
) -> Website:
    """``get_website`` and the token's account from one awaited read (as
    ``get_subject_for_token_async``)."""
    account, found = await auth.account_for_token_with(
        d, token, lambda jti: d.async_reads.session_and_website(jti, website_id)
    )
    admit(account)
    return _visible_website(account, found)


def _visible_website(actor: Account, found: tuple[Website, int] | None) -> Website:
    if found is None or (not actor.is_staff and found[1] != actor.id):
        raise NotFound("网站")
    return found[0]


def website_history(d: Deps, actor: Account, website_id: int) -> list[dict]:
    get_website(d, actor, website_id)
    with d.uow(readonly=True) as uow:
        return uow.websites.history(website_id)


def iter_open_websites(d: Deps, page: int = 500) -> Iterator[Website]:
    """Every filed open website, read a page at a time (the sweep and the daily reminders walk
    them all; memory stays flat however many are filed)."""
    offset = 0
    while True:
        with d.uow(readonly=True) as uow:
            rows = uow.websites.list(account_id=None, limit=page, offset=offset)
        yield from (w for w in rows if w.status == WebsiteStatus.open)
        if len(rows) < page:
            return
        offset += page
