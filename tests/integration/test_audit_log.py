"""The audit log (services/audit.py) on SQLite and PostgreSQL: entries commit with their act."""

from __future__ import annotations

from beiandesk.services import audit


def test_record_and_list_newest_first(deps) -> None:
    with deps.uow() as uow:
        audit.record(uow, actor="admin", action="account.create", target="alice",
                     detail={"role": "reviewer"}, at=deps.clock.now())
        audit.record(uow, actor="admin", action="account.disable", target="alice", detail="because")
        uow.commit()
    entries = audit.list_entries(deps, limit=10)
    assert [e["action"] for e in entries] == ["account.disable", "account.create"]
    assert entries[1]["detail"] == {"role": "reviewer"}
    assert entries[0]["detail"] == {"note": "because"}
    assert entries[1]["at"] == deps.clock.now()
    assert [e["action"] for e in audit.list_entries(deps, action="account.create")] == ["account.create"]
    assert len(audit.list_entries(deps, limit=1)) == 1


def test_an_entry_rolls_back_with_its_act(deps) -> None:
    with deps.uow() as uow:
        audit.record(uow, actor="admin", action="account.create", target="bob")
        # no commit: the act did not happen, neither did its entry
    assert audit.list_entries(deps) == []
