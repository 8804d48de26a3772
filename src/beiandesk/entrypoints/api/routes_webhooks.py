"""Webhooks for integrators (api.md §Outside parties) — filled in below."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/admin/webhooks", tags=["webhooks"])
