"""A JPEG cut inside its scan data with an end marker appended is refused as a material (issue 12)."""

from __future__ import annotations

import cv2
import numpy as np

from tests.conftest import login


def _jpeg() -> bytes:
    rng = np.random.default_rng(7)
    image = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (9, 9), 0)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def _draft(client, h):  # noqa: ANN001, ANN202
    sites = client.get("/api/v1/websites", headers=h).json()
    sites = sites["items"] if isinstance(sites, dict) else sites
    site = next(w for w in sites if w["status"] == "open")
    return client.post(f"/api/v1/websites/{site['id']}/changes", headers=h).json()


def test_cut_jpeg_refused_whole_jpeg_taken(client) -> None:  # noqa: ANN001
    h = login(client, "demo-personal")
    change = _draft(client, h)
    whole = _jpeg()
    cut = whole[: len(whole) * 2 // 3] + b"\xff\xd9"
    r = client.post(f"/api/v1/changes/{change['id']}/materials", headers=h,
                    data={"kind": "id_card_front"}, files={"file": ("front.jpg", cut, "image/jpeg")})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "material_unreadable"
    r = client.post(f"/api/v1/changes/{change['id']}/materials", headers=h,
                    data={"kind": "id_card_front"}, files={"file": ("front.jpg", whole, "image/jpeg")})
    assert r.status_code == 201, r.text
