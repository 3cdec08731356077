"""Case-record benchmark on PostgreSQL: person search and case summary at council scale.

    .venv/bin/python bench/records.py --people 1000000            # fresh database, generate, measure
    .venv/bin/python bench/records.py --people 1000000 --reuse    # measure an already generated database

Prints progress, then one JSON object on the last line:
  search_p95_ms      worst p95 of: NHS number exact; surname prefix (3 letters) + date of birth; partial name
                     ("the start of the forename + a piece of the surname", e.g. "oli mith")
  case_summary_p95_ms p95 of loading a person's case summary with a 500-entry chronology
  generate_1m_s      seconds to generate the population (only measured when --people is 1,000,000;
                     otherwise null, with generate_s and people giving what was measured)
plus search_server_p95_ms (the database's share, from EXPLAIN ANALYZE) and the machine's load average:
the wall-clock figures include Python and client round trips and suffer on a shared, busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from casework.accounts.models import User  # noqa: E402
from casework.auth.access import Actor  # noqa: E402
from casework.db import make_engine, upgrade_to_head  # noqa: E402
from casework.demo import load_demo_accounts  # noqa: E402
from casework.records.demo import generate_population  # noqa: E402
from casework.records.models_chronology import ChronologyEntry  # noqa: E402
from casework.records.models_person import Person  # noqa: E402
from casework.records.service_person import search_people, search_statement  # noqa: E402
from casework.records.service_summary import person_summary  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_records_bench"


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=100)[94], 2)


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="measure an existing database, do not generate")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    generate_s = None
    if not args.reuse:
        fresh_database(args.url)
    engine = make_engine(args.url)
    if not args.reuse:
        upgrade_to_head(engine)
        with Session(engine) as session:
            load_demo_accounts(session)
            session.commit()
            start = time.perf_counter()
            made = generate_population(session, args.people, echo=print)
            session.commit()
            generate_s = round(time.perf_counter() - start, 1)
        print(f"generated {made} people in {generate_s}s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))

    rng = random.Random(7)
    with Session(engine) as session:
        people_count = session.scalar(select(func.count()).select_from(Person))
        print(f"{people_count} people in the database")
        user = session.scalar(select(User).where(User.username == "sam.worker"))
        actor = Actor.from_user(user)
        max_id = session.scalar(select(func.max(Person.id)))
        sample_ids = rng.sample(range(1, max_id + 1), min(args.repeat * 2, max_id))
        sample = session.execute(select(Person.nhs_number, Person.surname, Person.forename, Person.date_of_birth)
                                 .where(Person.id.in_(sample_ids), Person.nhs_number.is_not(None),
                                        Person.restricted.is_(False))).all()
        sample = sample[: args.repeat]

        # one person with a 500-entry chronology (added once; reused on later runs)
        target = session.scalar(select(Person.id).where(Person.local_id == "P00000001"))
        have = session.scalar(select(func.count()).select_from(ChronologyEntry)
                              .where(ChronologyEntry.person_id == target))
        if have < 500:
            base = datetime(2020, 1, 1, tzinfo=UTC)
            session.execute(insert(ChronologyEntry.__table__), [
                {"person_id": target, "case_id": None, "source": "workflow", "kind": "review",
                 "title": f"Bench event {n}", "detail": None, "occurred_at": base + timedelta(days=n * 3),
                 "source_ref": f"bench:{n}", "created_at": base, "created_by": None} for n in range(500 - have)])
            session.commit()

        def nhs(i=iter(range(10**9))):  # type: ignore[no-untyped-def]
            row = sample[next(i) % len(sample)]
            rows, _ = search_people(session, actor, nhs_number=row.nhs_number)
            assert rows, row

        def surname_dob(i=iter(range(10**9))):  # type: ignore[no-untyped-def]
            row = sample[next(i) % len(sample)]
            rows, _ = search_people(session, actor, surname=row.surname[:3], date_of_birth=row.date_of_birth)
            assert rows, row

        def partial(i=iter(range(10**9))):  # type: ignore[no-untyped-def]
            row = sample[next(i) % len(sample)]
            # the start of the forename and a piece from inside the surname (whole surname when short)
            surname_piece = row.surname[1:5] if len(row.surname) > 4 else row.surname
            q = f"{row.forename[:3]} {surname_piece}"
            rows, _ = search_people(session, actor, q=q)
            assert rows, q

        for fn in (nhs, surname_dob, partial):  # warm the cache
            timed(fn, 20)
        results = {name: p95(timed(fn, args.repeat)) for name, fn in
                   (("nhs_number", nhs), ("surname_prefix_dob", surname_dob), ("partial_name", partial))}
        print("search p95 ms:", results)

        # The database's share of each search (planning + execution, from EXPLAIN ANALYZE): separates the
        # query plans from client/CPU contention on a shared machine.
        def server_ms(stmt) -> float:  # type: ignore[no-untyped-def]
            sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            plan = session.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)).scalar()
            return plan[0]["Planning Time"] + plan[0]["Execution Time"]

        server = {"nhs_number": [], "surname_prefix_dob": [], "partial_name": []}
        for row in sample:
            surname_piece = row.surname[1:5] if len(row.surname) > 4 else row.surname
            server["nhs_number"].append(server_ms(search_statement(actor, nhs_number=row.nhs_number)))
            server["surname_prefix_dob"].append(server_ms(search_statement(
                actor, surname=row.surname[:3], date_of_birth=row.date_of_birth)))
            server["partial_name"].append(server_ms(search_statement(
                actor, q=f"{row.forename[:3]} {surname_piece}")))
        server_p95 = {name: p95(values) for name, values in server.items()}
        print("search p95 ms inside PostgreSQL:", server_p95)

        def summary() -> None:
            data = person_summary(session, actor, target)
            assert len(data["chronology"]) == 500
            session.expunge_all()

        timed(summary, 10)
        summary_p95 = p95(timed(summary, args.repeat))
        print("case summary p95 ms:", summary_p95)

    print(json.dumps({
        "search_p95_ms": max(results.values()),
        "case_summary_p95_ms": summary_p95,
        "generate_1m_s": generate_s if (generate_s is not None and args.people == 1_000_000) else None,
        "generate_s": generate_s,
        "people": people_count,
        "search_breakdown_p95_ms": results,
        "search_server_p95_ms": server_p95,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
