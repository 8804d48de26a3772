"""Webhooks for integrators (api.md §Outside parties): admin subscriptions and their delivery log.

Deliveries: each change-order timeline event of a subscribed kind is POSTed as JSON
``{id, kind, change_id, state, at}`` with ``X-Beiandesk-Signature: t=UNIX,v1=HEX`` where HEX is
HMAC-SHA256(secret, "UNIX." + body); a non-2xx answer is retried with back-off.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field

from beiandesk.domain import webhooks as rules
from beiandesk.entrypoints.api.schemas import RowId, Strict
from beiandesk.entrypoints.api.security import AdminDep, DepsDep
from beiandesk.services import webhooks

router = APIRouter(prefix="/api/v1/admin/webhooks", tags=["webhooks"])


class WebhookBody(Strict):
    url: Annotated[
        str,
        Field(
            min_length=8, max_length=rules.MAX_URL, examples=["https://example.com/hooks/beiandesk"]
        ),
    ]
    secret: Annotated[
        str,
        Field(
            min_length=1,
            max_length=rules.MAX_SECRET,
            description=f"签名密钥（HMAC-SHA256 的密钥；建议至少 {rules.RECOMMENDED_SECRET} 个随机字符）",
        ),
    ]
    events: Annotated[
        list[Annotated[str, Field(max_length=40)]],
        Field(
            max_length=40,
            description="订阅的事件类型（办理记录的 kind）；* 表示全部",
            examples=[["authority_submitted", "approved", "authority_rejected"]],
        ),
    ]


class WebhookOut(Strict):
    id: int
    url: str
    events: list[str]
    created_at: str
    created_by: str


class DeliveryOut(Strict):
    id: int
    event_id: str
    kind: str
    change_id: int | None
    outbox_id: int
    attempt: int
    status_code: int | None
    ok: bool
    error: str | None
    duration_ms: int
    at: str


@router.post("", status_code=201, response_model=WebhookOut)
def create_webhook(d: DepsDep, account: AdminDep, body: WebhookBody) -> dict[str, Any]:
    """订阅变更单事件；每个事件以签名的 JSON POST 到 url。"""
    return webhooks.create(d, account, body.url, body.secret, body.events)


@router.get("", response_model=list[WebhookOut])
def list_webhooks(d: DepsDep, account: AdminDep) -> list[dict[str, Any]]:
    return webhooks.list_all(d, account)


@router.get("/{webhook_id}", response_model=WebhookOut)
def get_webhook(d: DepsDep, account: AdminDep, webhook_id: RowId) -> dict[str, Any]:
    return webhooks.get(d, account, webhook_id)


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(d: DepsDep, account: AdminDep, webhook_id: RowId) -> Response:
    webhooks.delete(d, account, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def webhook_deliveries(
    d: DepsDep,
    account: AdminDep,
    webhook_id: RowId,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    """投递记录（最新在前）：每次尝试一条，含 HTTP 状态、时间和第几次尝试。"""
    return webhooks.deliveries(d, account, webhook_id, limit)
