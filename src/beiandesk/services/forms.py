"""The pre-filled 核验单 for an order (api.md: GET /changes/{id}/verification-form.pdf)."""

from __future__ import annotations

from beiandesk.domain.errors import NotFound
from beiandesk.domain.model import Account
from beiandesk.domain.verification_form import build_form
from beiandesk.services.deps import Deps


def verification_form_pdf(d: Deps, actor: Account, change_id: int) -> bytes:
    """The applicant of the order, reviewers and admins may download it."""
    with d.uow(readonly=True) as uow:
        order = uow.changes.get(change_id)
        if order is None or (not actor.is_staff and order.account_id != actor.id):
            raise NotFound("变更单")
        subject = uow.subjects.get(order.subject_id)
        website = uow.websites.get(order.website_id)
    if subject is None or website is None:
        raise NotFound("网站")
    today = d.clock.now().date()
    form = build_form(order, subject, website.filing_number, d.settings.provider_name, today)
    if d.form_renderer is None:
        raise NotFound("核验单")
    return d.form_renderer.render(form)
