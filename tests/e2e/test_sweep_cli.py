"""``beiandesk sweep`` itself over websites on a loopback server, on SQLite and PostgreSQL: exit
status, the JSON object (the same text ``json.dumps`` gives), the ✓/✗ listing, one stored run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from rich.console import Console
from sqlalchemy import select

from beiandesk.adapters.db import tables as t
from beiandesk.entrypoints.cli.core import _sweep_listing
from tests.many_sites import SWEEP_SUBJECT, ManySites, fill_websites, footer_page

N = 60


def _page(i: int, number: str) -> str | None:
    if i % 10 == 5:
        return None  # 404
    return footer_page(number if i % 10 else f"{SWEEP_SUBJECT}-{i + 1}")


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    env = {
        **os.environ,
        "BEIANDESK_DATABASE_URL": settings.database_url,
        "BEIANDESK_VAR_DIR": str(settings.var_dir),
        "BEIANDESK_SECRET_KEY": settings.secret_key,
        "BEIANDESK_DATA_KEY": settings.data_key,
        "BEIANDESK_PROBE_ALLOW_PRIVATE": "true",
        "TERMINAL_WIDTH": "200",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "beiandesk", "sweep", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_sweep_command_json_listing_and_stored_runs(deps, settings) -> None:  # noqa: ANN001
    pages: dict[str, str] = {}
    with ManySites(lambda host: pages.get(host)) as server:
        pages.update(fill_websites(deps, N, server.port, _page, by_path=True))
        as_json = _cli(settings, "--json", "--concurrency", "4")
        listing = _cli(settings)
    assert as_json.returncode == 1, as_json.stderr
    out = json.loads(as_json.stdout)
    assert as_json.stdout == json.dumps(out, ensure_ascii=False) + "\n"
    assert out["ok"] is False and out["checked"] == N
    numbers = [w["filing_number"] for w in out["websites"]]
    assert numbers == [f"{SWEEP_SUBJECT}-{i}" for i in range(1, N + 1)]
    failing = {
        w["filing_number"]: [p["code"] for p in w["problems"]]
        for w in out["websites"]
        if not w["ok"]
    }
    assert len(failing) == 12
    assert failing[f"{SWEEP_SUBJECT}-5"] == ["site_unreachable"]
    assert failing[f"{SWEEP_SUBJECT}-10"] == ["footer_filing_number_mismatch"]

    assert listing.returncode == 1, listing.stderr
    lines = listing.stderr.splitlines()
    marks = [line for line in lines if line.startswith(("✓ ", "✗ "))]
    assert len(marks) == N and sum(m.startswith("✗") for m in marks) == 12
    assert f"✗ {SWEEP_SUBJECT}-5 巡检网站5 " in listing.stderr
    assert any(line.startswith("    site_unreachable: ") for line in lines)
    assert f"共巡检 {N} 个网站，12 个有问题。" in listing.stderr

    r, s = t.sweep_runs, t.sweep_results
    with deps.uow(readonly=True) as uow:
        runs = uow.conn.execute(select(r.c.id, r.c.checked, r.c.failing, r.c.finished_at)).all()
        per_run = [
            uow.conn.execute(select(s.c.website_id).where(s.c.run_id == run.id)).scalars().all()
            for run in runs
        ]
    assert [(run.checked, run.failing) for run in runs] == [(N, 12), (N, 12)]
    assert all(run.finished_at is not None for run in runs)
    assert all(len(ids) == len(set(ids)) == N for ids in per_run)


def test_listing_escapes_markup_in_names() -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None)
    _sweep_listing(
        console,
        [
            {
                "ok": False,
                "filing_number": "京ICP备1号-1",
                "name": "[bold]小站[/]",
                "home_url": "http://x.cn/[a]",
                "problems": [{"code": "c", "message": "[red]原样[/red]"}],
            }
        ],
        batch=1,
    )
    assert buf.getvalue().splitlines() == [
        "✗ 京ICP备1号-1 [bold]小站[/] http://x.cn/[a]",
        "    c: [red]原样[/red]",
    ]


def _started(settings, *args: str) -> subprocess.Popen[str]:  # noqa: ANN001
    env = {**os.environ, "BEIANDESK_DATABASE_URL": settings.database_url, "BEIANDESK_VAR_DIR": str(settings.var_dir),
           "BEIANDESK_SECRET_KEY": settings.secret_key, "BEIANDESK_DATA_KEY": settings.data_key,
           "BEIANDESK_PROBE_ALLOW_PRIVATE": "true", "TERMINAL_WIDTH": "200", "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "beiandesk", "sweep", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_progress(deps, run_number: int) -> dict:  # noqa: ANN001
    """The ``run_number``-th run once it has stored a batch of results (and its counts)."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with deps.uow(readonly=True) as uow:
            runs = uow.conn.execute(select(t.sweep_runs).order_by(t.sweep_runs.c.id)).mappings().all()
        if len(runs) >= run_number and runs[run_number - 1]["updated_at"] is not None:
            return dict(runs[run_number - 1])
        time.sleep(0.05)
    raise AssertionError("the sweep stored no progress")


def test_ctrl_c_and_kill_of_the_sweep_command(deps, settings, fakes) -> None:  # noqa: ANN001
    import signal
    import time
    from datetime import UTC, datetime

    from beiandesk.services import sweep

    pages: dict[str, str] = {}

    def slowly(host: str) -> str | None:
        time.sleep(0.004)  # the loopback server answers one page at a time: a sweep of seconds
        return pages.get(host)

    with ManySites(slowly) as server:
        pages.update(fill_websites(deps, 1000, server.port, lambda i, number: footer_page(number), by_path=True))
        proc = _started(settings, "--concurrency", "4")
        _wait_for_progress(deps, 1)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err, err[-3000:]
        assert "巡检已中断：已检查 " in err and "结果已保存" in err
        stopped = sweep.unfinished(deps)
        assert stopped["state"] == "stopped" and 200 <= stopped["checked"] < 1000
        assert f"已检查 {stopped['checked']} 个网站（0 个有问题）" in err

        proc = _started(settings, "--concurrency", "4")
        second = _wait_for_progress(deps, 2)
        proc.kill()  # SIGKILL: nothing of the process runs after this
        proc.communicate(timeout=30)
    killed = sweep.unfinished(deps)
    assert killed["id"] == second["id"] and killed["stopped_at"] is None and killed["finished_at"] is None
    fakes["clock"].current = datetime.now(UTC)
    assert sweep.unfinished(deps)["state"] == "running"  # for all anyone can tell, yet
    fakes["clock"].advance(minutes=31)
    assert sweep.unfinished(deps)["state"] == "stalled"
    with deps.uow(readonly=True) as uow:
        stored = uow.conn.execute(select(t.sweep_results.c.id).where(t.sweep_results.c.run_id == killed["id"])).all()
    assert len(stored) == killed["checked"] >= 200  # what its row counts is stored
