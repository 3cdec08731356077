"""Audit trail benchmark (issue 8): what an audited person view costs, alone and with concurrent viewers, now that
every audited transaction serialises on the single ``audit_chain_head`` row (PostgreSQL row lock held until
commit). Needs PostgreSQL on 127.0.0.1:5432 (user postgres); it creates its own database
``casework_audit_bench`` (schema by the Alembic migrations, so the append-only triggers are there) and drops it
at the end (``--keep`` keeps it).

    .venv/bin/python bench/audit.py            # 1 viewer x 400 views, 8 concurrent viewers x 150 views each
    .venv/bin/python bench/audit.py --quick    # smaller, for a smoke run

One "audited person view write" = one transaction as ``GET /api/people/<id>`` runs it: load the person with the
access rule (``casework.records.service_person.view_person``), append the audit event (chain head UPDATE,
event INSERT, head hash UPDATE), commit. The same transaction without the audit event is measured too (the
baseline), so the figures separate the audit's own cost and the queueing on the chain head from what a busy
shared machine does to any transaction. Viewers are separate processes (no shared GIL), each with its own
connection, started together.

The last printed line is one JSON object: audit_append_p50_ms, audit_append_p95_ms (1 viewer),
audit_append_p50_ms_8_concurrent, audit_append_p95_ms_8_concurrent, audits_per_s (8 viewers), the unaudited
baselines (view_p95_ms, view_p95_ms_8_concurrent, views_per_s), lock_wait_p95_ms_8_concurrent (time spent in
the chain head UPDATE, i.e. queueing behind other viewers), chain_ok and the load average.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_audit_bench"


def pct(samples: list[float], p: int) -> float:
    return round(statistics.quantiles(samples, n=100)[p - 1], 2) if len(samples) > 1 else round(samples[0], 2)


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, people: int, viewers: int) -> tuple[list[int], list[int]]:
    """Viewers (practitioners) and people; the chain starts with the people's create events."""
    from datetime import date

    from casework.accounts.service import create_user
    from casework.auth.access import Actor
    from casework.db import make_engine, upgrade_to_head
    from casework.records.service_person import create_person

    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as s:
        users = [create_user(s, username=f"viewer{i}", display_name=f"Viewer {i}", password="bench-password-2026",
                             roles=["practitioner"]) for i in range(viewers)]
        s.flush()
        actor = Actor.from_user(users[0])
        rng = random.Random(8)
        ids = []
        for i in range(people):
            person = create_person(s, actor, {"forename": f"Bench{i}", "surname": f"Person{rng.randrange(10**6)}",
                                              "date_of_birth": date(2010, 1, 1)}, confirm_not_duplicate=True)
            ids.append(person.id)
        s.commit()
        user_ids = [u.id for u in users]
    engine.dispose()
    return user_ids, ids


def _viewer(args: tuple) -> dict:  # type: ignore[type-arg]
    url, user_id, person_ids, n, audited, barrier, seed_ = args
    from casework.accounts.models import User
    from casework.auth.access import Actor
    from casework.db import make_engine
    from casework.records.access import get_visible_person
    from casework.records.service_person import view_person

    engine = make_engine(url)  # as the app makes it (pool_pre_ping: one extra round trip per checkout)
    head_wait: list[float] = []
    started: dict[str, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE audit_chain_head SET seq"):
            started["t"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE audit_chain_head SET seq"):
            head_wait.append((time.perf_counter() - started["t"]) * 1000)

    with Session(engine) as s:
        actor = Actor.from_user(s.get(User, user_id))
    rng = random.Random(seed_)
    for _ in range(5):  # warm up the connection and statement caches
        with Session(engine, expire_on_commit=False) as s:
            get_visible_person(s, actor, rng.choice(person_ids))
            s.rollback()
    head_wait.clear()
    barrier.wait()
    latencies = []
    t_start = time.perf_counter()
    for _ in range(n):
        pid = rng.choice(person_ids)
        t0 = time.perf_counter()
        with Session(engine, expire_on_commit=False) as s:
            if audited:
                view_person(s, actor, pid)
            else:
                get_visible_person(s, actor, pid)
            s.commit()
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - t_start
    engine.dispose()
    return {"latencies": latencies, "elapsed": elapsed, "head_wait": head_wait}


def run(url: str, user_ids: list[int], person_ids: list[int], *, workers: int, n: int, audited: bool) -> dict:
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(workers)
        with ctx.Pool(workers) as pool:
            t0 = time.perf_counter()
            results = pool.map(_viewer, [(url, user_ids[i % len(user_ids)], person_ids, n, audited, barrier, i)
                                         for i in range(workers)])
            wall = time.perf_counter() - t0
    latencies = [x for r in results for x in r["latencies"]]
    head = [x for r in results for x in r["head_wait"]]
    busiest = max(r["elapsed"] for r in results)  # all start together at the barrier
    return {"p50": round(statistics.median(latencies), 2), "p95": pct(latencies, 95), "p99": pct(latencies, 99),
            "per_s": round(len(latencies) / busiest, 1), "head_p95": pct(head, 95) if head else None,
            "head_p50": round(statistics.median(head), 2) if head else None, "count": len(latencies),
            "wall": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=URL)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    single, each = (100, 40) if args.quick else (400, 150)
    fresh_database(args.url)
    try:
        user_ids, person_ids = seed(args.url, 200, 8)
        print(f"database ready: {len(person_ids)} people, {len(user_ids)} viewers; host {os.cpu_count()} CPUs, "
              f"load average {open('/proc/loadavg').read().split()[:3]}", flush=True)
        figures = {}
        for label, workers, n, audited in (("view_1", 1, single, False), ("audited_1", 1, single, True),
                                           ("view_8", 8, each, False), ("audited_8", 8, each, True)):
            figures[label] = run(args.url, user_ids, person_ids, workers=workers, n=n, audited=audited)
            print(f"{label}: {figures[label]}", flush=True)

        from casework.audit import verify_chain
        from casework.db import make_engine

        engine = make_engine(args.url)
        with Session(engine) as s:
            verified = verify_chain(s)
        engine.dispose()
        print(f"chain: {verified.checked} entries, ok={verified.ok}", flush=True)
        load = open("/proc/loadavg").read().split()[:3]
        a1, a8, v1, v8 = figures["audited_1"], figures["audited_8"], figures["view_1"], figures["view_8"]
        result = {
            "audit_append_p50_ms": a1["p50"],
            "audit_append_p95_ms": a1["p95"],
            "audit_append_p50_ms_8_concurrent": a8["p50"],
            "audit_append_p95_ms_8_concurrent": a8["p95"],
            "audits_per_s": a8["per_s"],
            "audits_per_s_1": a1["per_s"],
            "view_p95_ms": v1["p95"],
            "view_p95_ms_8_concurrent": v8["p95"],
            "views_per_s": v8["per_s"],
            "lock_wait_p95_ms_8_concurrent": a8["head_p95"],
            "lock_wait_p95_ms_1": a1["head_p95"],
            "chain_ok": verified.ok,
            "load_average": load,
        }
    finally:
        if not args.keep:
            drop_database(args.url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
