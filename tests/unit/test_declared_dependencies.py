"""What the server imports at start-up must be installed by ``pip install .`` alone (the
README's first command), not only by the test extras: greenlet came with Playwright in the test
environment, so a plain install once failed at ``serve`` (found on a fresh clone)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _names(requirements: list[str]) -> set[str]:
    out = set()
    for req in requirements:
        m = re.match(r"\s*([A-Za-z0-9_.-]+)(\[([^\]]*)\])?", req)
        assert m, req
        name = m.group(1).lower().replace("_", "-")
        out.add(name)
        out.update(f"{name}[{extra.strip().lower()}]" for extra in (m.group(3) or "").split(",") if extra.strip())
    return out


def test_the_asyncio_bridge_is_a_runtime_dependency() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    runtime = _names(project["dependencies"])
    # adapters/db/on_loop.py (imported by bootstrap on every engine) needs SQLAlchemy's asyncio
    # extension, which needs greenlet.
    assert "sqlalchemy[asyncio]" in runtime or "greenlet" in runtime
    assert "psycopg" in runtime  # and the driver it awaits

