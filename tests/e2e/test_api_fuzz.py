"""Property-based fuzzing of the whole OpenAPI surface (schemathesis) on a seeded SQLite app.

What must hold for every generated request, valid or not: no 5xx, and every 4xx is a problem
document (``application/problem+json`` with a ``code`` and a Chinese ``message``). Bounded by
``max_examples`` so the run stays well under a minute on two cores.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

from beiandesk.config import Settings
from tests.conftest import KEYS, login
from tests.fakes import (
    FakeClock,
    FakeDomainLookup,
    FakeGateway,
    FakeMailer,
    FakePhoto,
    FakeSiteProbe,
    FakeSms,
)

#: Examples per operation: enough to hit huge ids, odd strings and wrong types on every route.
MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def api(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from beiandesk import bootstrap
    from beiandesk.adapters.security import Passwords
    from beiandesk.entrypoints.api.app import create_app
    from beiandesk.services.seed import seed_demo
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, tmp / "beiandesk.db")
    cfg = Settings(_env_file=None, var_dir=tmp / "var", database_url=f"sqlite:///{tmp / 'beiandesk.db'}",
                   storage_dir=tmp / "files", public_url="http://testserver", **KEYS)
    built = bootstrap.build(cfg, migrate=False, passwords=Passwords(time_cost=1, memory_cost=1024),
                            clock=FakeClock(), mailer=FakeMailer(), sms=FakeSms(), gateway=FakeGateway(),
                            domain_lookup=FakeDomainLookup(), site_probe=FakeSiteProbe(), photo=FakePhoto())
    seed_demo(built.deps)
    yield create_app(built)
    built.engine.dispose()


@pytest.fixture(scope="module")
def auth(api) -> dict[str, str]:
    from fastapi.testclient import TestClient
    with TestClient(api) as client:
        h = login(client, "demo-enterprise")
        # an open draft, so that change routes with small ids meet a real order now and then
        site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
        assert client.post(f"/api/v1/websites/{site}/changes", headers=h).status_code == 201
    return h


def problem_document(ctx, response, case) -> None:
    """Every 4xx is RFC 9457 problem JSON with a stable code and a Chinese message."""
    if 400 <= response.status_code < 500:
        ctype = response.headers.get("content-type", [""])
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        assert ctype.startswith("application/problem+json"), f"{response.status_code} with {ctype}"
        body = response.json()
        assert body.get("code") and body.get("status") == response.status_code, body
        assert re.search(r"[\u4e00-\u9fff]", body.get("message", "")), body


def _fuzz(api, mode, headers: dict[str, str] | None, max_examples: int) -> list[str]:
    """Run every operation's strategy; return one line per failing operation."""
    from schemathesis.generation import GenerationMode

    api_schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    failures: list[str] = []
    operations = [r.ok() for r in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for op in operations:
        @given(case=op.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error, problem_document])

        try:
            run()
        except Unsatisfiable:  # nothing invalid can be said to an operation without parameters
            continue
        except Exception as exc:  # noqa: BLE001 - collect all operations' failures, then report
            failures.append(f"{op.label}: {str(exc).strip().splitlines()[0][:300]}")
    return failures


@pytest.mark.parametrize(("mode", "examples"), [("positive", MAX_EXAMPLES), ("negative", MAX_EXAMPLES * 2 // 3)])
def test_no_server_errors_and_problem_documents(api, auth, mode: str, examples: int) -> None:
    failures = _fuzz(api, mode, auth, examples)
    assert failures == [], "\n".join(failures)


def test_anonymous_requests_are_refused_cleanly(api) -> None:
    failures = _fuzz(api, "positive", None, 2)
    assert failures == [], "\n".join(failures)
