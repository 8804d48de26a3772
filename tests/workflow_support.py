"""Helpers that drive a change order through the use cases (shared by workflow tests)."""

from __future__ import annotations

import struct
import zlib

from beiandesk.services import changes, materials, precheck


def tiny_png() -> bytes:
    """A valid 1×1 PNG, enough for material uploads judged by content."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def account(deps, username: str):  # noqa: ANN001, ANN201
    with deps.uow(readonly=True) as uow:
        return uow.accounts.by_username(username)[0]


def make_ready(deps, actor, change_id: int) -> None:  # noqa: ANN001
    """Upload every material the pre-check asks for and a (fake-passing) verification photo."""
    materials.upload_verification(deps, actor, change_id, "me.jpg", b"\xff\xd8\xff photo")
    for p in precheck.precheck(deps, actor, change_id):
        if p.code == "material_missing":
            materials.upload_material(deps, actor, change_id, p.extra["kind"], "scan.png", tiny_png())
    errors = [p for p in precheck.precheck(deps, actor, change_id) if p.is_error]
    assert not errors, [p.to_dict() for p in errors]


def submitted_change(deps, username: str = "demo-personal", website_index: int = 0, **patch):  # noqa: ANN001, ANN003, ANN201
    actor = account(deps, username)
    with deps.uow(readonly=True) as uow:
        site = uow.websites.list(account_id=actor.id)[website_index]
    order = changes.open_change(deps, actor, site.id)
    if not patch:  # an order that changes nothing cannot be submitted (no_changes): change the page path
        patch = {"home_url": site.info.home_url.rstrip("/") + "/index.html"}
    order = changes.update_change(deps, actor, order.id, patch, order.version)
    make_ready(deps, actor, order.id)
    return changes.submit(deps, actor, order.id, True, True)
