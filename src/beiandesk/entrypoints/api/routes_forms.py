"""Printable forms: the pre-filled 核验单 (api.md §Flow rules made precise)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from beiandesk.entrypoints.api.schemas import RowId
from beiandesk.entrypoints.api.security import AccountDep, DepsDep
from beiandesk.services import forms

router = APIRouter(prefix="/api/v1", tags=["changes"])


@router.get(
    "/changes/{change_id}/verification-form.pdf",
    responses={200: {"content": {"application/pdf": {}}, "description": "核验单 PDF"}},
)
def verification_form(d: DepsDep, account: AccountDep, change_id: RowId) -> Response:
    pdf = forms.verification_form_pdf(d, account, change_id)
    name = f"verification-form-{change_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Security-Policy": "default-src 'none'; object-src 'self'",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
