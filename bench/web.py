"""Workspace page benchmark on PostgreSQL: server time of My work, Team queue, Approvals and Case view.

    .venv/bin/python bench/web.py                          # fresh database, 1,000,000 people, measure
    .venv/bin/python bench/web.py --people 100000          # a smaller population
    .venv/bin/python bench/web.py --reuse                  # measure an already generated database again
    .venv/bin/python bench/web.py --reuse-population       # keep its people, add the work if missing

Generates the demo population (casework.records.demo: households, cases, notes, alerts, allocations, written
with COPY), one published process and ``--items`` open work items with their cases and instances (INSERT ...
SELECT in PostgreSQL, no Python row loop; see ``seed_work``), then requests each page ``--repeat`` times
through the Flask app in-process (server time: routing, auth, queries, rendering; no network). The case view
is of a person with a long history (3,000 chronology entries, 400 notes). The last line is one JSON object:
  page_p95_ms       the worst p95 of the four pages
  largest_page_kb   the largest HTML body among them (assets are cached and not counted)
plus each page's p50, p95 and size, and the counts measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from casework.accounts.models import User  # noqa: E402
from casework.app import create_app  # noqa: E402
from casework.config import Settings  # noqa: E402
from casework.db import make_engine, upgrade_to_head  # noqa: E402
from casework.demo import load_demo_accounts  # noqa: E402
from casework.engine_host import build_engine, operation_session  # noqa: E402
from casework.records import codes  # noqa: E402
from casework.records.demo import generate_population  # noqa: E402
from casework.records.models_case import Case  # noqa: E402
from casework.records.models_chronology import ChronologyEntry  # noqa: E402
from casework.records.models_person import Person  # noqa: E402
from engine.definitions import load_bundle  # noqa: E402
from engine.schema import work_item  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_web_bench"
HERE = Path(__file__).resolve().parent.parent
TEAMS = ["mash", "cin-east", "cp-east", "adults-north"]
WORKERS = ["sam.worker", "alex.worker", "priya.adults"] + [f"worker{n}" for n in range(40)]
HEAVY_CHRONOLOGY = 3000  # the case view's person: a long-open case (the page shows 50 entries at a time)
HEAVY_NOTES = 400


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=100)[94], 2)


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    from sqlalchemy import create_engine

    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _sql(conn, statement: str, **params) -> None:  # type: ignore[no-untyped-def]
    conn.execute(text(statement), params)


def seed_work(session: Session, items: int, settings: Settings) -> dict[str, int]:
    """Open work in SQL (INSERT ... SELECT over generate_series, no Python row loop): ``items`` people picked
    at random each get an open case ``BENCH-nnnnnnnn`` with one running process instance attached to it
    (``case_process``) and one open work item: 30 % unassigned in a team queue, the rest with one of 43 workers;
    10 % are team-manager decisions (the Approvals page). The first person also gets a long history: the case
    view must page it rather than load it."""
    wf = build_engine(settings)
    conn = session.connection()
    bundle = load_bundle([HERE / "tests/workspace/bpmn/contact.bpmn"], HERE / "tests/workspace/forms")
    with operation_session(session):
        definition = wf.publish(conn, bundle, "bench")
    people = session.scalar(select(func.count()).select_from(Person))
    items = min(items, people)
    _sql(conn, "SELECT setseed(0.11)")
    _sql(conn, "CREATE TEMP TABLE bench_pick ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY k) AS n, id "
               "AS person_id FROM (SELECT id, md5(id::text) AS k FROM person ORDER BY k LIMIT :items) p",
         items=items)
    _sql(conn, "INSERT INTO case_record (reference, person_id, service_area, status, opened_on, open_reason, "
               "version, created_at, updated_at) SELECT 'BENCH-' || lpad(n::text, 8, '0'), person_id, 'children', "
               "'open', current_date, 'referral', 1, now(), now() FROM bench_pick ORDER BY n")
    _sql(conn, "INSERT INTO process_instance (definition_id, process_key, business_key, status, state, version, "
               "started_at, updated_at, started_by) SELECT :definition, 'ws_contact', 'BENCH-' || "
               "lpad(n::text, 8, '0'), 'running', '{}', 1, now(), now(), 'bench' FROM bench_pick ORDER BY n",
         definition=definition["id"])
    _sql(conn, "INSERT INTO case_process (case_id, instance_id, process_key, created_at) SELECT c.id, i.id, "
               "'ws_contact', now() FROM process_instance i JOIN case_record c ON c.reference = i.business_key "
               "WHERE i.business_key LIKE 'BENCH-%'")
    _sql(conn, """
        INSERT INTO work_item (instance_id, business_key, task_id, task_spec, title, form, lane, role, team,
                               assignee, due_at, priority, status, created_at)
        SELECT id, business_key, lpad(id::text, 36, '0'),
               CASE WHEN manager THEN 'decide' ELSE 'record' END,
               CASE WHEN manager THEN 'Decide on the referral' ELSE 'Record the contact' END,
               CASE WHEN manager THEN 'ws_decision' ELSE 'ws_contact' END,
               CASE WHEN manager THEN 'team_manager' ELSE 'practitioner' END,
               CASE WHEN manager THEN 'team_manager' ELSE 'practitioner' END,
               (CAST(:teams AS text[]))[1 + floor(t * 4)::int],
               CASE WHEN manager OR r < 0.3 THEN NULL
                    ELSE (CAST(:workers AS text[]))[1 + floor(w * :n_workers)::int] END,
               now() + make_interval(days => floor(d * 61)::int - 20), floor(p * 4)::int, 'open',
               now() - make_interval(days => floor(c * 61)::int)
        FROM (SELECT id, business_key, r, r > 0.9 AS manager, random() AS t, random() AS w, random() AS d,
                     random() AS p, random() AS c
              FROM (SELECT id, business_key, random() AS r FROM process_instance
                    WHERE business_key LIKE 'BENCH-%' ORDER BY id) i) x
    """, teams=TEAMS, workers=WORKERS, n_workers=len(WORKERS))
    heavy = session.scalar(select(Case.person_id).where(Case.reference == "BENCH-00000001"))
    case_id = session.scalar(select(Case.id).where(Case.reference == "BENCH-00000001"))
    kinds = list(codes.CHRONOLOGY_KINDS)
    _sql(conn, "INSERT INTO chronology_entry (person_id, case_id, source, kind, title, detail, occurred_at, "
               "source_ref, created_at) SELECT :person, CASE WHEN g % 3 = 0 THEN NULL ELSE :case END, 'manual', "
               "(CAST(:kinds AS text[]))[1 + g % :n_kinds], 'Bench entry ' || g, 'Detail of entry ' || g, "
               "now() - make_interval(hours => g * 7), 'bench:' || g, now() FROM generate_series(1, :n) g",
         person=heavy, case=case_id, kinds=kinds, n_kinds=len(kinds), n=HEAVY_CHRONOLOGY)
    _sql(conn, "INSERT INTO case_note (person_id, case_id, note_type, subject, body, occurred_at, significant, "
               "status, completed_at, version, created_at, updated_at) SELECT :person, :case, 'home_visit', "
               "'Home visit ' || g, repeat('Spoke with the family; views recorded and next steps agreed. ', 8), "
               "now() - make_interval(hours => g * 29), g % 10 = 0, 'complete', now(), 2, now(), now() "
               "FROM generate_series(1, :n) g", person=heavy, case=case_id, n=HEAVY_NOTES)
    return {"work_items": items, "heavy_person": heavy}


def seed(url: str, people: int, items: int, settings: Settings, *, reuse_population: bool) -> None:
    """A fresh database: schema, demo accounts, the demo population (casework.records.demo: households, cases,
    notes, alerts, allocations, written with COPY), then the benchmark's open work in SQL. With
    ``reuse_population`` an existing database keeps its people and only gets the work (if it has none yet)."""
    started = time.perf_counter()
    if not reuse_population:
        fresh_database(url)
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        if not reuse_population:
            load_demo_accounts(session)
            session.commit()
            generate_population(session, people, echo=print, progress=False)
            session.commit()
            print(f"population: {time.perf_counter() - started:.0f} s", flush=True)
        if session.scalar(select(Case.id).where(Case.reference == "BENCH-00000001")) is None:
            mark = time.perf_counter()
            seed_work(session, items, settings)
            session.commit()
            print(f"work items: {time.perf_counter() - mark:.0f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is (migrated to head)")
    parser.add_argument("--reuse-population", action="store_true",
                        help="keep the database's people; add the benchmark's work if it is not there yet")
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    settings = Settings.from_env({}, env="test", database_url=args.url, secret_key="bench-" + "z" * 40,
                                 instance_dir="/tmp/casework-web-bench")
    if args.reuse:
        engine = make_engine(args.url)
        upgrade_to_head(engine)  # e.g. new indexes since the data was generated
        engine.dispose()
    else:
        seed(args.url, args.people, args.items, settings, reuse_population=args.reuse_population)

    app = create_app(settings)
    engine = make_engine(args.url)
    with Session(engine) as session:
        people = session.scalar(select(func.count()).select_from(Person))
        items = session.scalar(select(func.count()).select_from(work_item).where(work_item.c.status == "open"))
        manager = session.scalar(select(User).where(User.username == "morgan.manager"))
        worker = session.scalar(select(User).where(User.username == "sam.worker"))
        person_id = session.scalar(select(Case.person_id).where(Case.reference == "BENCH-00000001"))
        entries = session.scalar(select(func.count()).select_from(ChronologyEntry)
                                 .where(ChronologyEntry.person_id == person_id))
    engine.dispose()
    print(f"{people} people, {items} open work items; case view person {person_id} has {entries} chronology "
          "entries", flush=True)

    def signed_in(user: User):  # type: ignore[no-untyped-def]
        """A test client (its own cookie jar) with a signed-in session for ``user``."""
        client = app.test_client()
        now = int(time.time())
        with client.session_transaction() as sess:
            sess.update(uid=user.id, epoch=user.session_epoch, issued=now, seen=now, csrf="bench")
        return client

    clients = {"worker": signed_in(worker), "manager": signed_in(manager)}
    pages = {"my_work": ("worker", "/"), "team_queue": ("worker", "/team"), "approvals": ("manager", "/approvals"),
             "case_view": ("worker", f"/people/{person_id}")}
    wall: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    sizes = dict.fromkeys(pages, 0)
    for who, url in pages.values():
        for _ in range(3):  # warm up: first-request template compilation, connection pool, filter choices
            assert clients[who].get(url).status_code == 200, url
    # the pages take turns, so a burst of load from the rest of the machine falls on all of them alike
    for _ in range(args.repeat):
        for name, (who, url) in pages.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            response = clients[who].get(url)
            wall[name].append((time.perf_counter() - start) * 1000)
            cpu[name].append((time.process_time() - start_cpu) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            sizes[name] = max(sizes[name], len(response.get_data()))
    results: dict[str, dict] = {}
    for name in pages:
        # wall: server time as measured; cpu: this process's CPU time (app + driver, not PostgreSQL's), which
        # a busy machine inflates much less than the wall clock
        results[name] = {"p50_ms": round(statistics.median(wall[name]), 2), "p95_ms": p95(wall[name]),
                         "cpu_p50_ms": round(statistics.median(cpu[name]), 2), "cpu_p95_ms": p95(cpu[name]),
                         "kb": round(sizes[name] / 1024, 1)}
        print(name, results[name], flush=True)
    print(json.dumps({"page_p95_ms": max(r["p95_ms"] for r in results.values()),
                      "largest_page_kb": max(r["kb"] for r in results.values()),
                      "pages": results, "people": people, "work_items": items,
                      "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
