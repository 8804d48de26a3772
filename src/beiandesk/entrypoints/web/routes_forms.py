"""The pre-filled 核验单 in the console (the materials step links to it)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from beiandesk.entrypoints.web.guard import ConsoleRoute, DepsDep, UserDep
from beiandesk.services import forms

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/changes/{change_id}/verification-form.pdf")
def verification_form(d: DepsDep, user: UserDep, change_id: int) -> Response:
    pdf = forms.verification_form_pdf(d, user, change_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="verification-form-{change_id}.pdf"',
            "Content-Security-Policy": "default-src 'none'; object-src 'self'",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
