"""Orders per minute driven from draft to approved through the sandbox, SQLite vs PostgreSQL.

Starts a real ``beiandesk serve --demo`` per database (subprocess), then drives change orders
over HTTP on the three open demo websites in parallel — open, edit, verification photo,
materials, submit, call, approve, hand-over, MIIT SMS check, 管局 decision — and prints the
throughput and the median time per order for each database side by side.

    python bench/bench_flow.py [--orders 12] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.e2e.live import LiveServer, wait_for  # noqa: E402
from tests.photo_samples import encode, good_photo  # noqa: E402
from tests.workflow_support import tiny_png  # noqa: E402

PHOTO = encode(good_photo())
NAMES = ["技术笔记", "知识分享", "学习园地", "经验总结"]


def one_order(server: LiveServer, user: str, site_index: int, n: int) -> float:
    start = time.perf_counter()
    app = server.client(user)
    staff = server.client("demo-reviewer")
    sandbox = server.client()
    site = [s for s in app.get("/api/v1/websites").json() if s["status"] == "open"][site_index]
    r = app.post(f"/api/v1/websites/{site['id']}/changes")
    cid = r.json()["id"]
    name = site["name"][:2] + NAMES[n % len(NAMES)] + str(n)
    r = app.patch(f"/api/v1/changes/{cid}", json={"proposed": {"name": name}}, headers={"If-Match": r.headers["etag"]})
    app.post(f"/api/v1/changes/{cid}/verification", files={"file": ("me.jpg", PHOTO, "image/jpeg")})
    for p in app.get(f"/api/v1/changes/{cid}/precheck").json()["problems"]:
        if p["code"] == "material_missing":
            app.post(f"/api/v1/changes/{cid}/materials", data={"kind": p["kind"]},
                     files={"file": ("scan.png", tiny_png(), "image/png")})
    r = app.post(f"/api/v1/changes/{cid}/submit", json={"accept_terms": True, "accept_privacy": True})
    assert r.status_code == 200, r.text
    staff.post(f"/api/v1/review/changes/{cid}/calls", json={"outcome": "reached", "note": ""})
    staff.post(f"/api/v1/review/changes/{cid}/approve", json={"note": ""})
    order = wait_for(lambda: (o := app.get(f"/api/v1/changes/{cid}").json())["state"] == "authority_sms" and o, 60, 0.1)
    ref = order["authority_ref"]

    def codes() -> list[dict]:
        msgs = sandbox.get("/sandbox/messages", params={"ref": ref}).json()
        return (msgs["items"] if isinstance(msgs, dict) else msgs) or []
    for m in wait_for(codes, 30, 0.1):
        sandbox.post("/sandbox/miit/verify", json={"ref": ref, "mobile": m["to"], "code": m["code"]})
    wait_for(lambda: app.get(f"/api/v1/changes/{cid}").json()["state"] == "authority_review", 60, 0.1)
    sandbox.post(f"/sandbox/orders/{ref}/decision", json={"decision": "approve", "reasons": []})
    wait_for(lambda: app.get(f"/api/v1/changes/{cid}").json()["state"] == "approved", 60, 0.1)
    return time.perf_counter() - start


def run(url: str, orders: int) -> dict:
    lanes = [("demo-personal", 0), ("demo-enterprise", 0), ("demo-enterprise", 1)]
    with tempfile.TemporaryDirectory() as tmp, LiveServer(Path(tmp) / "var", url) as server:
        def lane(i: int) -> list[float]:
            user, idx = lanes[i]
            return [one_order(server, user, idx, n) for n in range(i, orders, len(lanes))]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(lanes)) as pool:
            times = [t for lane_times in pool.map(lane, range(len(lanes))) for t in lane_times]
        wall = time.perf_counter() - t0
    return {"orders": len(times), "wall_s": wall, "per_min": len(times) / wall * 60,
            "median_s": statistics.median(times), "max_s": max(times)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=12)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    console = Console()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run(f"sqlite:///{tmp}/bench.db", args.orders)
    name = f"bench_flow_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        results["PostgreSQL"] = run(make_url(args.pg).set(database=name).render_as_string(hide_password=False), args.orders)
    finally:
        with admin.connect() as c:
            c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='{name}' AND pid<>pg_backend_pid()"))
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    table = Table(title="变更单全流程吞吐（草稿 → 管局通过，经沙箱，3 路并行）")
    table.add_column("")
    for k in results:
        table.add_column(k, justify="right")
    for label, key, fmt in [("订单数", "orders", "{:d}"), ("总耗时 s", "wall_s", "{:.1f}"),
                            ("订单/分钟", "per_min", "{:.1f}"), ("单笔中位 s", "median_s", "{:.2f}"),
                            ("单笔最长 s", "max_s", "{:.2f}")]:
        table.add_row(label, *[fmt.format(r[key]) for r in results.values()])
    console.print(table)


if __name__ == "__main__":
    main()
