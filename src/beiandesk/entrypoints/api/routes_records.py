"""Auth, me, and the filed records (api.md §Records)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse

from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.api.schemas import RowId
from beiandesk.entrypoints.api.security import (
    AccountDep,
    DepsDep,
    PathParam,
    lean,
    lean_doc,
    lean_read,
    serve_lean,
)
from beiandesk.services import auth, records

router = APIRouter(prefix="/api/v1")


@router.post("/auth/token", tags=["auth"], summary="OAuth2 password flow")
def token(
    d: DepsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> dict[str, Any]:
    account, access_token = auth.login(d, username, password)
    return {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": d.settings.token_ttl_s,
        "role": str(account.role),
        "password_change_required": account.password_change_required,
    }


@router.get("/me", tags=["auth"])
def me(account: AccountDep) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "role": str(account.role),
        "display_name": account.display_name,
        "email": account.email,
        "enterprise_verified": account.enterprise_verified,
    }


@router.get("/subjects", tags=["records"])
def list_subjects(d: DepsDep, account: AccountDep) -> list[dict[str, Any]]:
    return [views.subject(s) for s in records.list_subjects(d, account)]


_SUBJECT_ID = PathParam("subject_id", RowId)
_WEBSITE_ID = PathParam("website_id", RowId)

# The two busiest record reads are lean routes: they take the account and the id from the
# request themselves instead of through FastAPI's dependency and parameter machinery, which was
# a quarter of a ``GET /api/v1/websites/{id}`` (profiled: four dependency solves, the
# parameter validation around them and the route's request wrapper). Same checks, same
# answers and problems, same OpenAPI operation (``lean_doc``); tested against the plain form.


@router.get(
    "/subjects/{subject_id}",
    tags=["records"],
    response_model=None,
    openapi_extra=lean_doc(_SUBJECT_ID, returns_object=True),
)
@lean
async def get_subject(request: Request) -> JSONResponse:
    return await lean_read(
        request, _SUBJECT_ID, records.get_subject, views.subject, records.get_subject_for_token_async
    )


@router.get("/websites", tags=["records"])
def list_websites(
    d: DepsDep,
    account: AccountDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> list[dict[str, Any]]:
    return [views.website(w) for w in records.list_websites(d, account, limit, offset)]


@router.get(
    "/websites/{website_id}",
    tags=["records"],
    response_model=None,
    openapi_extra=lean_doc(_WEBSITE_ID),
)
@lean
async def get_website(request: Request) -> JSONResponse:
    return await lean_read(
        request, _WEBSITE_ID, records.get_website, views.website, records.get_website_for_token_async
    )


@router.get("/websites/{website_id}/history", tags=["records"])
def website_history(d: DepsDep, account: AccountDep, website_id: RowId) -> list[dict[str, Any]]:
    return [
        {
            "version": h["version"],
            "change_id": h["change_id"],
            "archived_at": h["archived_at"].isoformat(),
            **views.info(h["info"]),
        }
        for h in records.website_history(d, account, website_id)
    ]


serve_lean(router)  # the @lean routes above, as plain ASGI apps
