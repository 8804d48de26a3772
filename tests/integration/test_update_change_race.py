"""``services.changes.update_change`` in two phases (read and judge, then a short write that saves
only if the version read is still stored): a save that slips in between the two is never lost.
The hook runs another client's request exactly between the phases (``rules.apply_edit`` is
called after the read transaction ended and before the write one begins)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from beiandesk.domain import change as rules
from beiandesk.domain.errors import DomainError, VersionConflict
from beiandesk.services import changes
from tests.conftest import login
from tests.e2e.test_api_changes import CONSENT, make_submittable


@pytest.fixture
def order(client):  # noqa: ANN001, ANN201
    """demo-enterprise's account, its auth headers and a fresh draft (version 1)."""
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    r = client.post(f"/api/v1/websites/{site}/changes", headers=h)
    assert r.status_code == 201, r.text
    deps = client.app.state.deps
    with deps.uow(readonly=True) as uow:
        account = uow.accounts.by_username("demo-enterprise")[0]
    return account, h, r.json()


@pytest.fixture
def between(monkeypatch):  # noqa: ANN001, ANN201
    """``between(fn)``: run ``fn()`` once, between the next edit's read and its write."""
    pending: list[Callable[[], object]] = []
    real = rules.apply_edit

    def apply_edit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if pending:
            pending.pop()()
        return real(*args, **kwargs)

    monkeypatch.setattr(rules, "apply_edit", apply_edit)
    return pending.append


def _stored(client, h, cid: int) -> dict:  # noqa: ANN001
    return client.get(f"/api/v1/changes/{cid}", headers=h).json()


def _edits(client, h, cid: int) -> list:  # noqa: ANN001
    """The stored "edited" events (the API's timeline folds successive saves into one)."""
    with client.app.state.deps.uow(readonly=True) as uow:
        return [e for e in uow.changes.events(cid) if e.kind == "edited"]


def test_a_save_in_between_is_a_version_conflict(client, order, between) -> None:  # noqa: ANN001
    account, h, c = order
    deps = client.app.state.deps
    between(lambda: changes.update_change(deps, account, c["id"], {"name": "先到的名称"}, 1))
    with pytest.raises(VersionConflict) as exc:
        changes.update_change(deps, account, c["id"], {"name": "后到的名称"}, 1)
    assert exc.value.current == 2
    stored = _stored(client, h, c["id"])
    assert stored["version"] == 2 and stored["proposed"]["name"] == "先到的名称"  # nothing lost
    assert len(_edits(client, h, c["id"])) == 1


def test_over_http_it_is_412(client, order, between) -> None:  # noqa: ANN001
    account, h, c = order
    deps = client.app.state.deps
    between(lambda: changes.update_change(deps, account, c["id"], {"name": "先到的名称"}, 1))
    r = client.patch(
        f"/api/v1/changes/{c['id']}", headers={**h, "If-Match": '"1"'}, json={"name": "后到的名称"}
    )
    assert r.status_code == 412 and r.json()["code"] == "version_conflict", r.text
    assert r.json().get("current_version") == 2
    stored = _stored(client, h, c["id"])
    assert stored["version"] == 2 and stored["proposed"]["name"] == "先到的名称"


def test_any_version_is_retried_on_top_of_the_save_in_between(client, order, between) -> None:  # noqa: ANN001
    account, h, c = order
    deps = client.app.state.deps
    home = c["proposed"]["home_url"].rstrip("/") + "/first.html"
    between(
        lambda: changes.update_change(
            deps, account, c["id"], {"name": "先到的名称", "home_url": home}, 1
        )
    )
    r = client.patch(
        f"/api/v1/changes/{c['id']}", headers={**h, "If-Match": "*"}, json={"name": "后到的名称"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3 and r.headers["etag"] == '"3"'
    stored = _stored(client, h, c["id"])
    # both applied, in order: the retried edit's name over the first's, the first's home URL kept
    assert stored["version"] == 3
    assert stored["proposed"]["name"] == "后到的名称" and stored["proposed"]["home_url"] == home
    assert len(_edits(client, h, c["id"])) == 2


def test_a_no_op_save_keeps_the_version_and_writes_nothing(client, order, monkeypatch) -> None:  # noqa: ANN001
    from beiandesk.adapters.db.changes import ChangeRepo

    account, h, c = order
    deps = client.app.state.deps
    saves: list[int] = []
    real = ChangeRepo.save
    monkeypatch.setattr(ChangeRepo, "save", lambda self, o: saves.append(o.id) or real(self, o))
    for if_match in (1, "*"):
        got = changes.update_change(
            deps, account, c["id"], {"name": c["proposed"]["name"]}, if_match
        )
        assert got.version == 1
    assert saves == []  # no write at all
    monkeypatch.undo()
    stored = _stored(client, h, c["id"])
    assert stored["version"] == 1 and _edits(client, h, c["id"]) == []


@pytest.mark.parametrize("if_match", [None, "*"])
def test_an_order_submitted_in_between_is_not_edited(client, order, between, if_match) -> None:  # noqa: ANN001
    account, h, c = order
    deps = client.app.state.deps
    make_submittable(client, h, c["id"])
    before = _stored(client, h, c["id"])
    assert before["state"] == "draft"

    def submit() -> None:
        r = client.post(f"/api/v1/changes/{c['id']}/submit", headers=h, json=CONSENT)
        assert r.status_code == 200, r.text

    between(submit)
    expected = before["version"] if if_match is None else "*"
    with pytest.raises(DomainError) as exc:
        changes.update_change(deps, account, c["id"], {"name": "提交后才改的名称"}, expected)
    if if_match is None:  # the version read is gone: refused as stale
        assert isinstance(exc.value, VersionConflict)
    else:  # read again: the order is no longer editable
        assert exc.value.code == "not_editable"
    stored = _stored(client, h, c["id"])
    assert stored["state"] != "draft" and stored["proposed"]["name"] == before["proposed"]["name"]
