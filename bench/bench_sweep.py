"""Compliance sweep at scale: N filed open websites served by one loopback server for many host names.

    python bench/bench_sweep.py [N=10000] [CONCURRENCY=32] [--cli] [--pg URL]

Prints sites/s, the sweep's CPU per site, the loopback server's CPU share (it runs in its own
process, plain asyncio, so it does not share the sweep's GIL: if it were near 100 % of a core it
would be the bottleneck, and the figure would say so), peak RSS and the load average before and
after (the machine is shared: a figure taken at a high load is not comparable).

``--cli`` times the ``beiandesk sweep --json`` command itself instead (a new process: start-up,
migrations check, the sweep and the listing read back from the database), the figure a user sees.
``--pg URL`` uses that (empty, throw-away) PostgreSQL database instead of a SQLite file.

Target (issue 11): ≥ 500 sites/s with bounded concurrency and memory.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beiandesk import bootstrap  # noqa: E402
from beiandesk.adapters.site_probe import HttpSiteProbe  # noqa: E402
from beiandesk.config import Settings  # noqa: E402
from beiandesk.services import sweep  # noqa: E402
from tests.many_sites import (  # noqa: E402
    SWEEP_SUBJECT,
    ManySites,
    fill_websites,
    footer_page,
    loopback_resolver,
)

KEYS = {
    "secret_key": "bench-secret-key-0123456789abcdef",
    "data_key": "bench-data-key-0123456789abcdef",
}


def _page(host: str) -> str | None:
    """siteN.sweep.test's page: its own number, but one site in 20 shows the next one's."""
    if not host.startswith("site"):
        return None
    i = int(host[4:].split(".", 1)[0])
    return footer_page(f"{SWEEP_SUBJECT}-{i if i % 20 else i + 1}")


def _serve(port_out) -> None:  # noqa: ANN001
    """The loopback server in its own process: it does not share the sweep's GIL."""
    with ManySites(_page) as server:
        port_out.put(server.port)
        threading.Event().wait()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _args() -> tuple[int, int, bool, str | None]:
    argv = sys.argv[1:]
    cli = "--cli" in argv
    pg = argv[argv.index("--pg") + 1] if "--pg" in argv else None
    plain = [a for a in argv if a not in ("--cli", "--pg", pg)]
    n = int(plain[0]) if plain else 10_000
    concurrency = int(plain[1]) if len(plain) > 1 else 32
    return n, concurrency, cli, pg


def main() -> None:
    n, concurrency, cli, pg = _args()
    var = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    settings = Settings(_env_file=None, var_dir=var, database_url=pg, **KEYS)
    app = bootstrap.build(settings)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    load0 = _load()
    try:
        fill_websites(app.deps, n, port, lambda i, number: None, by_path=cli)
        server_cpu0 = _cpu_s(server.pid)
        if cli:
            app.engine.dispose()
            checked, failing, dt, cpu, rss = _run_cli(settings, concurrency)
        else:
            checked, failing, dt, cpu, rss = _run_in_process(app, concurrency)
        server_cpu = _cpu_s(server.pid) - server_cpu0
    finally:
        server.kill()
    what = "beiandesk sweep --json (a new process)" if cli else "sweep.run in this process"
    print(
        f"{what}, {'PostgreSQL' if pg else 'SQLite'}: {checked} sites in {dt:.2f} s = "
        f"{checked / dt:.0f} sites/s (concurrency {concurrency}); {failing} with problems; "
        f"CPU {cpu * 1000 / checked:.2f} ms per site; loopback server CPU "
        f"{100 * server_cpu / dt:.0f} % of one core; peak RSS {rss:.0f} MB; "
        f"load average {load0} before, {_load()} after"
    )


def _run_in_process(app, concurrency: int) -> tuple[int, int, float, float, float]:  # noqa: ANN001
    app.deps.site_probe = HttpSiteProbe(allow_private=True, resolver=loopback_resolver)
    c0, t0 = time.process_time(), time.perf_counter()
    summary = sweep.run(app.deps, concurrency, keep="none")
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return summary.checked, summary.failing, dt, cpu, rss


def _run_cli(settings: Settings, concurrency: int) -> tuple[int, int, float, float, float]:
    import json

    env = {
        **os.environ,
        "BEIANDESK_VAR_DIR": str(settings.var_dir),
        "BEIANDESK_SECRET_KEY": settings.secret_key,
        "BEIANDESK_DATA_KEY": settings.data_key,
        "BEIANDESK_PROBE_ALLOW_PRIVATE": "true",
    }
    if settings.database_url:
        env["BEIANDESK_DATABASE_URL"] = settings.database_url
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "beiandesk", "sweep", "--json", "--concurrency", str(concurrency)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode not in (0, 1):
        sys.exit(f"beiandesk sweep failed ({r.returncode}): {r.stderr[-2000:]}")
    out = json.loads(r.stdout)
    failing = sum(not w["ok"] for w in out["websites"])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out["checked"], failing, dt, cpu, after.ru_maxrss / 1024


if __name__ == "__main__":
    main()
