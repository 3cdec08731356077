"""Payment run benchmark: N open-ended weekly agreements, then one payment run over ~6 months of arrears.

    .venv/bin/python bench/finance.py                                   # SQLite in a temp folder, 2000
    .venv/bin/python bench/finance.py --agreements 5000 --url postgresql+psycopg://postgres@127.0.0.1/db

The database must be empty or new (it is upgraded to head). Prints one JSON object on the last line:
agreements, lines, csv_kib, authorise_s (authorising all agreements: first 4 weeks of schedule each),
generate_s (extending every schedule to the period end), run_s (claim + export of every due line).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

import casework.finance  # noqa: E402,F401
from casework.db import make_engine, upgrade_to_head  # noqa: E402
from casework.finance import agreements, runs, schedule  # noqa: E402
from casework.finance.models import Provider  # noqa: E402
from casework.records.models import Person  # noqa: E402

START, PERIOD_END, TODAY = date(2026, 1, 7), date(2026, 6, 28), date(2026, 7, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agreements", type=int, default=2000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    upgrade_to_head(engine)
    figures: dict[str, float | int] = {"agreements": args.agreements}
    with Session(engine) as s:
        provider = Provider(name="Bench Care Ltd", reference=f"SUP-BENCH-{int(time.time())}")
        person = Person(forename="Bench", surname="Person", surname_norm="person", search_name="bench person")
        s.add_all([provider, person])
        s.flush()
        t = time.perf_counter()
        for i in range(args.agreements):
            a = agreements.request_agreement(s, {
                "person_id": person.id, "provider_id": provider.id, "service_type": "home_care",
                "unit_cost_pence": 2000 + i % 500, "units_per_week": "10.5", "start_date": START.isoformat()})
            agreements.authorise(s, a, authorised_by="bench", today=START)
        s.commit()
        figures["authorise_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        schedule.generate_due(s, PERIOD_END)
        s.commit()
        figures["generate_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        run = runs.create_run(s, period_end=PERIOD_END, created_by="bench", today=TODAY)
        s.commit()
        figures["run_s"] = round(time.perf_counter() - t, 2)
        figures["lines"] = run.line_count
        figures["csv_kib"] = len(run.file_content or "") // 1024
        print(f"{run.line_count} lines exported in {figures['run_s']}s", file=sys.stderr)
    engine.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
