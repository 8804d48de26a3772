"""API throughput against a bare FastAPI app, measured with wrk (a C load generator), side by side.

    .venv/bin/python bench/bench_api.py [--websites 100000] [--duration 10] [--connections 16]

1. Seeds the demo data plus ``--websites`` filed websites (encrypted, through the repositories'
   ``add_many``) into a fresh SQLite file (or ``--database-url`` PostgreSQL).
2. Starts, one at a time and each in its own uvicorn process on the same cores:
   - the real server (``bootstrap.build`` + ``build_server_app(with_worker=False)``);
   - a bare FastAPI app answering ``GET /api/v1/websites/{id}`` with a JSON object of the same
     shape (the real server's own answer for one website, ``id`` swapped), and
     ``PATCH /api/v1/changes/{id}`` doing one durable SQLite state change per request
     (BEGIN IMMEDIATE; UPDATE … WHERE version = If-Match; event INSERT; COMMIT; WAL,
     synchronous=FULL).
3. Drives each with ``wrk`` (Debian's package): GET on random website ids as demo-admin; PATCH
   with the current ETag in ``If-Match``, one connection per wrk thread, so each thread knows its
   draft's ETag.
4. Prints req/s, p50/p99 and the ratio real ÷ bare (targets: ≥ 0.5 each; p99 GET ≤ 50 ms).

The old version drove the server with Python threads, which saturated before the server did.
Prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
BATCH = 2000
PASSWORD = "bench-password"
KEYS = {"secret_key": "bench-secret-key-0123456789abcdef", "data_key": "bench-data-key-0123456789abcdef"}
DATABASE_URL: str | None = None


def settings_for(workdir: Path):
    from beiandesk.config import Settings
    return Settings(_env_file=None, var_dir=workdir / "var",
                    database_url=os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}",
                    storage_dir=workdir / "files", worker_in_process=False, log_level="WARNING", **KEYS)


# --- seeding --------------------------------------------------------------------------------------


def seed(workdir: Path, websites: int) -> dict[str, object]:
    """Demo data, one applicant with an enterprise subject, and ``websites`` filed websites."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from beiandesk import bootstrap
    from beiandesk.domain.model import (
        Principal,
        Resource,
        Role,
        Subject,
        SubjectKind,
        Website,
        WebsiteInfo,
        WebsiteStatus,
    )
    from beiandesk.services.seed import seed_demo

    built = bootstrap.build(settings_for(workdir), migrate=True)
    seed_demo(built.deps)
    now = datetime.now(UTC)
    principal = Principal("赵强", "resident_id", "310104198801011239", "13600001111", "bench@example.com")
    with built.deps.uow() as uow:
        account = uow.accounts.add("bench-applicant", built.deps.passwords.hash(PASSWORD), Role.applicant,
                                   "基准测试科技有限公司", "bench@example.com", True, now)
        subject = uow.subjects.add(Subject(
            id=0, account_id=account.id, kind=SubjectKind.enterprise, name="上海基准测试科技有限公司",
            province="上海", id_type="uscc", id_number="91310000MA1K00000X", filing_number="沪ICP备29990000号",
            principal=principal, legal_rep="赵强"), now)
        uow.commit()
    resource = Resource(kind="cvm", region="ap-shanghai", public_ip="101.34.0.1", billing="prepaid",
                        purchased_at=date(2026, 1, 5), expires_at=date(2028, 1, 5), instance_id="ins-bench")
    started = time.perf_counter()
    with Progress(TextColumn("[bold]写入网站"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("seed", total=websites)
        for start in range(0, websites, BATCH):
            items = [Website(id=0, subject_id=subject.id, filing_number=f"沪ICP备29990000号-{i + 1}",
                             status=WebsiteStatus.open,
                             info=WebsiteInfo(name=f"基准测试网站{i + 1:06d}", domains=(f"bench-{i + 1}.cn",),
                                              home_url=f"https://www.bench-{i + 1}.cn/", principal=principal,
                                              content_categories=("企业官网",), resource=resource))
                     for i in range(start, min(start + BATCH, websites))]
            with built.deps.uow() as uow:
                uow.websites.add_many(items, now)
                uow.commit()
            bar.advance(task, len(items))
    seconds = time.perf_counter() - started
    with built.deps.uow(readonly=True) as uow:
        ids = [w.id for w in uow.websites.list(subject_ids=[subject.id], limit=5000)]
    built.engine.dispose()
    return {"seed_seconds": seconds, "bench_site_ids": ids}


# --- the servers ---------------------------------------------------------------------------------------


def serve(workdir: Path, port: int) -> None:
    """Child process: the real server, as ``beiandesk serve`` composes it, minus the worker."""
    import uvicorn

    from beiandesk import bootstrap
    from beiandesk.entrypoints.server import build_server_app
    built = bootstrap.build(settings_for(workdir), migrate=False)
    uvicorn.run(build_server_app(built, with_worker=False), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)


def serve_bare(workdir: Path, port: int) -> None:
    """Child process: the bare FastAPI app (same response shape; one durable SQLite change per PATCH)."""
    import sqlite3
    import threading

    import uvicorn
    from fastapi import FastAPI, Header, Request
    from fastapi.responses import JSONResponse

    template = json.loads((workdir / "website.json").read_text())
    db = workdir / "bare.db"
    local = threading.local()

    def conn() -> sqlite3.Connection:
        c = getattr(local, "conn", None)
        if c is None:
            c = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=30)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=FULL")
            c.execute("PRAGMA busy_timeout=30000")
            local.conn = c
        return c

    app = FastAPI()

    @app.get("/api/v1/websites/{website_id}")
    async def website(website_id: int) -> dict:
        return {**template, "id": website_id}

    @app.patch("/api/v1/changes/{change_id}")
    async def patch(change_id: int, request: Request, if_match: str = Header()) -> JSONResponse:
        body = await request.json()
        version = int(if_match.strip('W/"'))
        from starlette.concurrency import run_in_threadpool

        def change() -> int | None:
            c = conn()
            c.execute("BEGIN IMMEDIATE")
            try:
                cur = c.execute("UPDATE changes SET version = version + 1, proposed = ? WHERE id = ? AND version = ?",
                                (json.dumps(body.get("proposed"), ensure_ascii=False), change_id, version))
                if cur.rowcount != 1:
                    c.execute("ROLLBACK")
                    return None
                c.execute("INSERT INTO events (change_id, kind, at) VALUES (?, 'edited', ?)", (change_id, time.time()))
                c.execute("COMMIT")
                return version + 1
            except BaseException:
                c.execute("ROLLBACK")
                raise
        new = await run_in_threadpool(change)
        if new is None:
            return JSONResponse({"code": "version_conflict"}, status_code=412)
        return JSONResponse({"id": change_id, "version": new, "proposed": body.get("proposed")},
                            headers={"ETag": f'"{new}"'})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def prepare_bare(workdir: Path, drafts: list[tuple[int, str]]) -> None:
    import sqlite3
    c = sqlite3.connect(workdir / "bare.db")
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE changes (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, proposed TEXT)")
    c.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, change_id INTEGER, kind TEXT, at REAL)")
    c.executemany("INSERT INTO changes (id, version) VALUES (?, ?)",
                  [(cid, int(etag.strip('W/"'))) for cid, etag in drafts])
    c.commit()
    c.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(flag: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, flag, str(workdir), "--port", str(port)],
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("server did not start within 60 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- wrk ---------------------------------------------------------------------------------------------------

GET_LUA = """
local first, count = %(first)d, %(count)d
local headers = {["Authorization"] = "Bearer %(token)s"}
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n) end
function init(args) math.randomseed(seed * 7919) end
function request()
  return wrk.format("GET", "/api/v1/websites/" .. math.random(first, first + count - 1), headers)
end
"""

PATCH_LUA = """
local drafts = {%(drafts)s}
local etags = {%(etags)s}
local n = 0
function setup(thread) n = n + 1; thread:set("draft", drafts[n]); thread:set("etag", etags[n]) end
function init(args) i = 0 end
function request()
  i = i + 1
  local body = '{"proposed": {"name": "bench rename ' .. draft .. '-' .. i .. '"}}'
  return wrk.format("PATCH", "/api/v1/changes/" .. draft,
    {["Authorization"] = "Bearer %(token)s", ["If-Match"] = etag, ["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status == 200 then etag = headers["etag"] or headers["ETag"] or etag end
end
"""


@dataclass
class Run:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def wrk(name: str, base: str, script: str, *, threads: int, connections: int, duration: int) -> Run:
    exe = shutil.which("wrk")
    if exe is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run([exe, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
                              "-s", fh.name, base], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(fh.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Run(name, rps, _ms(lat.get("50", "")), _ms(lat.get("99", "")), requests,
               int(non.group(1)) if non else 0, sum(int(x) for x in errs.groups()) if errs else 0)


def token(base: str, username: str, password: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def open_drafts(base: str, owner: str, site_ids: list[int], n: int) -> list[tuple[int, str]]:
    drafts = []
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {owner}"}) as c:
        import random
        for site in random.sample(site_ids, n):  # fresh sites, so a re-run on a kept work directory works
            r = c.post(f"/api/v1/websites/{site}/changes")
            r.raise_for_status()
            drafts.append((r.json()["id"], r.headers["etag"]))
    return drafts


def lua_list(values: list) -> str:
    return ", ".join(json.dumps(v) for v in values)


def bench(workdir: Path, site_ids: list[int], websites: int, args: argparse.Namespace) -> list[tuple[Run, Run]]:
    proc, base = start("--serve", workdir)
    try:
        admin = token(base, "demo-admin", "beiandesk-demo")
        owner = token(base, "bench-applicant", PASSWORD)
        first = httpx.get(f"{base}/api/v1/websites", params={"limit": 1},
                          headers={"Authorization": f"Bearer {admin}"}, timeout=30).json()[0]["id"]
        sample = httpx.get(f"{base}/api/v1/websites/{site_ids[-1]}", headers={"Authorization": f"Bearer {admin}"},
                           timeout=30)
        sample.raise_for_status()
        (workdir / "website.json").write_text(sample.text)
        drafts = open_drafts(base, owner, site_ids, args.patch_connections)
        get_script = GET_LUA % {"first": first, "count": websites, "token": admin}
        real_get = wrk("GET /api/v1/websites/{id}", base, get_script, threads=args.threads,
                       connections=args.connections, duration=args.duration)
        patch_script = PATCH_LUA % {"drafts": lua_list([d for d, _ in drafts]),
                                    "etags": lua_list([e for _, e in drafts]), "token": owner}
        real_patch = wrk("PATCH /api/v1/changes/{id} (If-Match)", base, patch_script, threads=args.patch_connections,
                         connections=args.patch_connections, duration=args.duration)
    finally:
        stop(proc)
    prepare_bare(workdir, drafts)
    proc, base = start("--bare", workdir)
    try:
        bare_get = wrk("bare GET", base, get_script, threads=args.threads, connections=args.connections,
                       duration=args.duration)
        bare_patch = wrk("bare PATCH", base, patch_script, threads=args.patch_connections,
                         connections=args.patch_connections, duration=args.duration)
    finally:
        stop(proc)
    return [(real_get, bare_get), (real_patch, bare_patch)]


def report(pairs: list[tuple[Run, Run]], websites: int, seed_seconds: float, args: argparse.Namespace,
           backend: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"beiandesk vs bare FastAPI — wrk, {backend}, {websites:,} websites, "
                        f"{args.duration} s each, one uvicorn process each")
    for col in ("endpoint", "req/s", "p50 ms", "p99 ms", "non-2xx", "bare req/s", "bare p99 ms", "ratio", "verdict"):
        table.add_column(col, justify="left" if col == "endpoint" else "right")
    for real, bare in pairs:
        ratio = real.rps / bare.rps if bare.rps else 0.0
        ok = ratio >= TARGET_RATIO and (not real.name.startswith("GET") or real.p99_ms <= TARGET_P99_MS)
        table.add_row(real.name, f"{real.rps:,.0f}", f"{real.p50_ms:.1f}", f"{real.p99_ms:.1f}",
                      str(real.non_2xx + real.errors), f"{bare.rps:,.0f}", f"{bare.p99_ms:.1f}", f"{ratio:.2f}×",
                      "[green]yes[/]" if ok else "[red]no[/]")
    console = Console(width=140)
    console.print(f"seeded {websites:,} websites in {seed_seconds:.1f} s")
    console.print(table)
    console.print(f"targets: ratio ≥ {TARGET_RATIO}×, p99 GET ≤ {TARGET_P99_MS:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--websites", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads for GET")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for GET")
    parser.add_argument("--patch-connections", type=int, default=8, help="PATCH connections (= wrk threads)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (prints its path)")
    parser.add_argument("--workdir", type=Path, help="reuse a seeded work directory (with --keep)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if args.bare:
        serve_bare(args.bare, args.port)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="beiandesk-bench-"))
    try:
        if (workdir / "seeded.json").exists():
            seeded = json.loads((workdir / "seeded.json").read_text())
        else:
            seeded = seed(workdir, args.websites)
            (workdir / "seeded.json").write_text(json.dumps(seeded))
        pairs = bench(workdir, seeded["bench_site_ids"], args.websites, args)
        backend = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
        report(pairs, args.websites, seeded["seed_seconds"], args, backend)
    finally:
        if args.keep or args.workdir:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
