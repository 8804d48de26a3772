"""``serve`` freezes what start-up built out of the garbage collector's reach (a full collection
walked ~150,000 such objects: 91 ms, a stall of every request in flight); objects made later are
collected as before. Run in a child process: a freeze is for the rest of a process's life."""

from __future__ import annotations

import subprocess
import sys

CHILD = r"""
import gc, tempfile
from pathlib import Path
from fastapi.testclient import TestClient
from beiandesk import bootstrap
from beiandesk.config import Settings
from beiandesk.entrypoints.server import build_server_app

tmp = Path(tempfile.mkdtemp())
s = Settings(_env_file=None, var_dir=tmp / "v", database_url=f"sqlite:///{tmp / 'd.db'}",
             storage_dir=tmp / "f", worker_in_process=False, secret_key="k" * 32, data_key="d" * 32)
built = bootstrap.build(s, migrate=True)
assert gc.get_freeze_count() == 0
with TestClient(build_server_app(built, with_worker=False)) as c:
    assert c.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0  # tests and other embedders: nothing frozen
with TestClient(build_server_app(built, with_worker=False, freeze_gc=True)) as c:
    assert c.get("/healthz").status_code == 200
    frozen = gc.get_freeze_count()
    assert frozen > 50_000, frozen
    class Later: pass
    import weakref
    obj = Later(); obj.cycle = obj; ref = weakref.ref(obj); del obj
    gc.collect()
    assert ref() is None  # what is made after start-up is still collected
print("ok", frozen)
"""


def test_serve_freezes_startup_objects_and_still_collects_later_ones() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok ")
