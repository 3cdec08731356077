"""Workspace page benchmark on PostgreSQL: server time of My work, Team queue, Approvals and Case view.

    .venv/bin/python bench/web.py --people 1000000              # fresh database, generate, measure
    .venv/bin/python bench/web.py --people 1000000 --reuse      # measure an already generated database

Generates the demo population (casework.records.demo), one published process, ``--items`` open work items
spread over the demo teams (a few hundred assigned to the measured users, the rest in team queues and with
other workers), cases for the people with work, then requests each page ``--repeat`` times through the Flask
app in-process (server time: routing, auth, queries, rendering; no network). The last line is one JSON object:
  page_p95_ms       the worst p95 of the four pages
  largest_page_kb   the largest HTML body among them (assets are cached and not counted)
plus each page's p95 and size, and the counts measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from casework.accounts.models import User  # noqa: E402
from casework.app import create_app  # noqa: E402
from casework.config import Settings  # noqa: E402
from casework.db import make_engine, upgrade_to_head  # noqa: E402
from casework.demo import load_demo_accounts  # noqa: E402
from casework.engine_host import build_engine, operation_session  # noqa: E402
from casework.records.demo import generate_population  # noqa: E402
from casework.records.models_case import Case  # noqa: E402
from casework.records.models_person import Person  # noqa: E402
from engine.definitions import load_bundle  # noqa: E402
from engine.schema import process_instance, work_item  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_web_bench"
HERE = Path(__file__).resolve().parent.parent
TEAMS = ["mash", "cin-east", "cp-east", "adults-north"]
WORKERS = ["sam.worker", "alex.worker", "priya.adults"] + [f"worker{n}" for n in range(40)]


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


def seed_work(session: Session, items: int, settings: Settings) -> None:
    rng = random.Random(11)  # noqa: S311 - synthetic data
    wf = build_engine(settings)
    conn = session.connection()
    bundle = load_bundle([HERE / "tests/workspace/bpmn/contact.bpmn"], HERE / "tests/workspace/forms")
    with operation_session(session):
        definition = wf.publish(conn, bundle, "bench")
    max_person = session.scalar(select(func.max(Person.id)))
    min_person = session.scalar(select(func.min(Person.id)))
    now = datetime.now(UTC)
    batch = 5000
    made = 0
    items = min(items, max_person - min_person + 1)  # one open case per person
    chosen = rng.sample(range(min_person, max_person + 1), items)
    while made < items:
        n = min(batch, items - made)
        refs = [f"BENCH-{made + i:08d}" for i in range(n)]
        people = chosen[made:made + n]
        # one case per work item's person (business key = case reference)
        session.execute(insert(Case), [
            {"reference": ref, "person_id": pid, "service_area": "children", "status": "open",
             "open_reason": "referral", "opened_on": date.today(), "version": 1,
             "created_at": now, "created_by": None} for ref, pid in zip(refs, people, strict=True)])
        ids = conn.execute(insert(process_instance).returning(process_instance.c.id), [
            {"definition_id": definition["id"], "process_key": "ws_contact", "business_key": ref,
             "status": "running", "state": "{}", "version": 1, "started_at": now, "updated_at": now,
             "started_by": "bench"} for ref in refs]).scalars().all()
        rows = []
        for iid, ref in zip(ids, refs, strict=True):
            team = rng.choice(TEAMS)
            r = rng.random()
            assignee = None if r < 0.3 else rng.choice(WORKERS)
            manager_task = r > 0.9
            rows.append({"instance_id": iid, "business_key": ref, "task_id": f"{iid:036d}",
                         "task_spec": "decide" if manager_task else "record",
                         "title": "Decide on the referral" if manager_task else "Record the contact",
                         "form": "ws_decision" if manager_task else "ws_contact",
                         "lane": "team_manager" if manager_task else "practitioner",
                         "role": "team_manager" if manager_task else "practitioner", "team": team,
                         "assignee": None if manager_task else assignee,
                         "due_at": now + timedelta(days=rng.randint(-20, 40)), "priority": rng.randint(0, 3),
                         "status": "open", "created_at": now - timedelta(days=rng.randint(0, 60))})
        conn.execute(insert(work_item), rows)
        made += n
        print(f"work items: {made}/{items}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    settings = Settings.from_env({}, env="test", database_url=args.url, secret_key="bench-" + "z" * 40,
                                 instance_dir="/tmp/casework-web-bench")
    if not args.reuse:
        fresh_database(args.url)
        engine = make_engine(args.url)
        upgrade_to_head(engine)
        with Session(engine) as session:
            load_demo_accounts(session)
            session.commit()
            generate_population(session, args.people, echo=print, progress=False)
            session.commit()
            seed_work(session, args.items, settings)
            session.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()

    app = create_app(settings)
    client = app.test_client()
    engine = make_engine(args.url)
    with Session(engine) as session:
        people = session.scalar(select(func.count()).select_from(Person))
        items = session.scalar(select(func.count()).select_from(work_item))
        manager = session.scalar(select(User).where(User.username == "morgan.manager"))
        worker = session.scalar(select(User).where(User.username == "sam.worker"))
        person_id = session.scalar(select(Case.person_id).where(Case.reference.like("BENCH-%")).limit(1))
    print(f"{people} people, {items} work items")

    def sign_in(user: User) -> None:
        now = int(time.time())
        with client.session_transaction() as sess:
            sess.update(uid=user.id, epoch=user.session_epoch, issued=now, seen=now, csrf="bench")

    pages = {"my_work": (worker, "/"), "team_queue": (worker, "/team"), "approvals": (manager, "/approvals"),
             "case_view": (worker, f"/people/{person_id}")}
    results: dict[str, dict] = {}
    for name, (user, url) in pages.items():
        sign_in(user)
        samples, size = [], 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            size = max(size, len(response.get_data()))
        results[name] = {"p95_ms": p95(samples), "kb": round(size / 1024, 1)}
        print(name, results[name], flush=True)
    print(json.dumps({"page_p95_ms": max(r["p95_ms"] for r in results.values()),
                      "largest_page_kb": max(r["kb"] for r in results.values()),
                      "pages": results, "people": people, "work_items": items,
                      "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
