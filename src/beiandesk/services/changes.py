"""Change-order use cases on the applicant's side: open, edit, materials, submit, withdraw."""

from __future__ import annotations

import logging
from typing import Any

from beiandesk.domain import change as rules
from beiandesk.domain import timeline
from beiandesk.domain.domains import check_domains_edit
from beiandesk.domain.errors import DomainError, NotFound, VersionConflict
from beiandesk.domain.home_url import check_home_url
from beiandesk.domain.identity import check_principal
from beiandesk.domain.masking import mask_id_number, mask_mobile
from beiandesk.domain.model import Account, ChangeOrder, Event, Subject, WebsiteInfo
from beiandesk.domain.problems import Problem
from beiandesk.services import notify
from beiandesk.services.access import load_own, load_visible
from beiandesk.services.deps import Deps
from beiandesk.services.precheck import precheck_order

__all__ = ["load_own", "load_visible"]  # re-exported: older callers import the loaders from here

log = logging.getLogger(__name__)

#: ``If-Match: *`` — the client asks to save whatever the current version is (RFC 9110 §13.1.1).
ANY_VERSION = "*"


def open_change(d: Deps, actor: Account, website_id: int) -> ChangeOrder:
    now = d.clock.now()
    with d.uow() as uow:
        website = uow.websites.get(website_id)
        subject = uow.subjects.get(website.subject_id) if website else None
        if (
            website is None
            or subject is None
            or (not actor.is_staff and subject.account_id != actor.id)
        ):
            raise NotFound("网站")
        order = rules.open_change(actor, subject, website, uow.changes.has_open(website_id), now)
        uow.changes.save(order)
        uow.commit()
    return order


def get_change(d: Deps, actor: Account, change_id: int) -> ChangeOrder:
    with d.uow(readonly=True) as uow:
        return load_visible(uow, actor, change_id)


def list_changes(
    d: Deps, actor: Account, state: str | None = None, limit: int = 200, offset: int = 0
) -> list[ChangeOrder]:
    from beiandesk.domain.states import ChangeState

    states = {ChangeState(state)} if state else None
    with d.uow(readonly=True) as uow:
        return uow.changes.list(
            account_id=None if actor.is_staff else actor.id,
            states=states,
            limit=limit,
            offset=offset,
        )


def unmask(patch: dict[str, Any], base: WebsiteInfo) -> dict[str, Any]:
    """A masked value sent back unchanged (``138****5678``) means "keep the stored one"."""
    principal = patch.get("principal")
    if isinstance(principal, dict):
        principal = dict(principal)
        cur = base.principal
        if principal.get("id_number") == mask_id_number(cur.id_number):
            principal["id_number"] = cur.id_number
        if principal.get("mobile") == mask_mobile(cur.mobile):
            principal["mobile"] = cur.mobile
        patch = {**patch, "principal": principal}
    return patch


def edit_problems(subject: Subject, current: WebsiteInfo, proposed: WebsiteInfo) -> list[Problem]:
    """The scenario rules enforced the moment a draft is saved (product.md §Scenario rules)."""
    problems = rules.principal_rule(subject, current, proposed)
    problems += check_domains_edit(current.domains, proposed.domains)
    if proposed.principal.to_dict() != current.principal.to_dict():
        problems += check_principal(proposed.principal, "proposed.principal")
    if proposed.home_url != current.home_url or proposed.domains != current.domains:
        problems += check_home_url(proposed.home_url, proposed.domains)
    return problems


def update_change(
    d: Deps, actor: Account, change_id: int, patch: dict[str, Any], if_match: int | str | None
) -> ChangeOrder:
    """Save a partial ``proposed``. ``if_match`` is the version the client edited (``*``: any);
    without one the save is refused (428 ``precondition_required``), so two people editing the
    same order can never overwrite each other unknowingly. A save that changes nothing keeps
    the version and writes no event."""
    now = d.clock.now()
    unknown = set(patch) - rules.EDITABLE_FIELDS
    if unknown:
        raise DomainError("invalid_request", f"不能修改这些字段：{'、'.join(sorted(unknown))}。")
    for attempt in range(3):
        try:
            return _update_once(d, actor, change_id, patch, if_match, now)
        except VersionConflict:
            # ``*`` asked for any version: a save that slipped in between is read again.
            if if_match != ANY_VERSION or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _update_once(
    d: Deps,
    actor: Account,
    change_id: int,
    patch: dict[str, Any],
    if_match: int | str | None,
    now: Any,
) -> ChangeOrder:
    # Read and judge in a read transaction; then write only if nobody saved the order in
    # between (the save is conditional on the version read: VersionConflict otherwise). The
    # write lock is held for the UPDATE, the event and the commit alone — under load the
    # reads and the edit rules inside it were most of a PATCH's hold on the one SQLite writer.
    with d.uow(readonly=True) as uow:
        order = load_own(
            uow, actor, change_id
        )  # someone else's order is 404/403 first, as everywhere
        if if_match is None:
            raise DomainError(
                "precondition_required",
                "保存时须带上所编辑的版本（If-Match 请求头，取自上次读取时的 ETag），以免覆盖他人的修改。",
                status=428,
            )
        if if_match != ANY_VERSION and if_match != order.version:
            raise VersionConflict(order.version)
        rules.ensure_editable(order)
        try:
            proposed = order.proposed.merged(unmask(patch, order.proposed))
        except (ValueError, TypeError) as exc:
            raise DomainError("invalid_request", f"网站信息格式不正确：{exc}") from exc
        subject = uow.subjects.get(order.subject_id)
        loaded = uow.changes.loaded(change_id)
    if rules.apply_edit(
        order, proposed, edit_problems(subject, order.current, proposed), actor.username, now
    ):
        with d.uow() as uow:
            uow.changes.adopt(change_id, loaded)
            uow.changes.save(order)
            uow.commit()
    return order


def events(d: Deps, actor: Account, change_id: int) -> list[Event]:
    """The timeline as its reader may see it (``domain.timeline.readable``): saves folded,
    and for the applicant without the reviewers' internal notes."""
    with d.uow(readonly=True) as uow:
        load_visible(uow, actor, change_id)
        stored = uow.changes.events(change_id)
    return timeline.readable(stored, staff=actor.is_staff)


def submit(
    d: Deps, actor: Account, change_id: int, accept_terms: bool, accept_privacy: bool
) -> ChangeOrder:
    with d.uow(readonly=True) as uow:
        order = load_own(uow, actor, change_id)
        rules.ensure_editable(order)
        consent = accept_terms and accept_privacy
        # Look-ups may write their cache: run them before this use case takes the write lock.
        errors = [p for p in precheck_order(d, uow, order) if p.is_error] if consent else []
        checked_version = order.version
    now = d.clock.now()
    with d.uow() as uow:
        order = load_own(uow, actor, change_id)
        if order.version != checked_version:
            raise VersionConflict(order.version)
        resubmission = order.submitted_at is not None
        rules.submit(
            order,
            accept_terms,
            accept_privacy,
            d.settings.terms_version,
            errors,
            actor.username,
            now,
        )
        uow.changes.save(order)
        notify.order_event(d, uow, order, "resubmitted" if resubmission else "received", now)
        uow.commit()
    log.info("change %s submitted (state %s)", change_id, order.state)
    return order


def withdraw(d: Deps, actor: Account, change_id: int) -> ChangeOrder:
    now = d.clock.now()
    with d.uow() as uow:
        order = load_own(uow, actor, change_id)
        rules.withdraw(order, actor.username, now)
        uow.changes.save(order)
        uow.commit()
    return order
