"""Two simultaneous ``POST /api/v1/websites/{id}/changes``: one 201, the other 409
``change_in_progress`` — on PostgreSQL too, where the loser used to hit the unique index on
``open_website_id`` and answer 500 (issue 12)."""

from __future__ import annotations

import threading

from beiandesk.adapters.db.changes import ChangeRepo
from tests.conftest import login


def test_simultaneous_opens_answer_201_and_409(client, monkeypatch) -> None:
    h = login(client, "demo-enterprise")
    site = next(w for w in client.get("/api/v1/websites", headers=h).json() if w["name"] == "云帆科技官网")
    # Both requests read "no open order" before either inserts: the race, made certain.
    barrier = threading.Barrier(2)
    original = ChangeRepo.has_open

    def has_open(self, website_id: int) -> bool:  # noqa: ANN001
        found = original(self, website_id)
        try:
            barrier.wait(timeout=1.5)
        except threading.BrokenBarrierError:  # SQLite: writers queue, the second one sees the first
            pass
        return found

    monkeypatch.setattr(ChangeRepo, "has_open", has_open)
    answers: list = []

    def post() -> None:
        answers.append(client.post(f"/api/v1/websites/{site['id']}/changes", headers=h))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201, 409], [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 409)
    assert loser.json()["code"] == "change_in_progress"
    assert "进行中" in loser.json()["message"]
    monkeypatch.undo()
    listed = [c for c in client.get("/api/v1/changes", headers=h).json() if c["website_id"] == site["id"]]
    assert len(listed) == 1
