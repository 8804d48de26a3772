"""The reviewer's and applicant's pages show server-made thumbnails, not the full scan (issue 12:
a 20000×20000 PNG made the review page take 6.6 s and Chromium grow to 2.6 GB)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_console_http import account, console_client, log_in, submitted_order


@pytest.fixture
def web(app: Any, seeded: Any) -> Iterator[TestClient]:
    with console_client(app) as c:
        yield c


def test_review_page_uses_a_small_thumbnail(web, deps) -> None:
    cid = submitted_order(deps)
    rng = np.random.default_rng(3)
    big = cv2.imencode(".png", rng.integers(0, 255, (1800, 2400, 3), dtype=np.uint8))[1].tobytes()
    actor = account(deps, "demo-personal")
    # an extra scan, added the way the services do (the order is in review: add it directly)
    with deps.uow() as uow:
        key = deps.files.put(big)
        m = uow.changes.add_material(cid, "other", "big.png", "image/png", len(big), key, actor.username,
                                     deps.clock.now())
        uow.commit()
    log_in(web, "demo-reviewer")
    page = web.get(f"/review/{cid}")
    assert page.status_code == 200, page.text[:300]
    thumb_url = f"/changes/{cid}/materials/{m.id}/thumbnail"
    assert f'src="{thumb_url}"' in page.text
    assert f'src="/changes/{cid}/materials/{m.id}"' not in page.text
    r = web.get(thumb_url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-security-policy"].startswith("sandbox")
    img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert max(img.shape[:2]) <= 320 and len(r.content) < len(big) // 10
    assert web.get(f"/changes/{cid}/materials/{m.id}").content == big  # the full file stays a click away
