"""Statutory returns benchmark on PostgreSQL: the CIN census for 50,000 children and the CLD extract for
20,000 adults, each built from the records and the engine's history (synthetic rows shaped like the real ones).

    .venv/bin/python bench/returns.py                  # fresh database, generate, measure
    .venv/bin/python bench/returns.py --reuse          # measure an already generated database

Last line: JSON {"cin_50k_s": ..., "cld_20k_s": ..., ...} (seconds to build each return, issues included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from casework.db import make_engine, upgrade_to_head  # noqa: E402
from casework.finance.models import Agreement  # noqa: E402
from casework.records.models_case import Case  # noqa: E402
from casework.records.models_person import Person  # noqa: E402
from casework.returns.cin import build_cin, upn_check_letter  # noqa: E402
from casework.returns.cld import build_cld  # noqa: E402
from engine.history import to_json  # noqa: E402
from engine.schema import history_event, process_definition, process_instance  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/casework_returns_bench"
CHUNK = 5000


def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def upn(pid: int) -> str:
    body = f"201{pid:09d}"
    return upn_check_letter(body) + body


def ts(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def task(iid, key, spec, d, values):
    return {"instance_id": iid, "business_key": key, "event_type": "task_completed", "task_id": None,
            "task_spec": spec, "task_title": spec, "actor": "sw", "at": ts(d),
            "data": to_json({"work_item_id": 0, "diff": {"set": values}})}


def started(iid, key, pkey, d, data):
    return {"instance_id": iid, "business_key": key, "event_type": "instance_started", "task_id": None,
            "task_spec": None, "task_title": None, "actor": "sw", "at": ts(d, 9),
            "data": to_json({"process_key": pkey, "version": 1, "data": data})}


def generate(engine, children: int, adults: int) -> None:
    rnd = random.Random(7)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        defs = {}
        for pkey in ("referral", "childrens_assessment", "child_protection", "care_and_support_plan"):
            defs[pkey] = conn.execute(insert(process_definition).values(
                process_key=pkey, version=1, content_hash=pkey, bpmn_xml="{}", published_at=now)
                .returning(process_definition.c.id)).scalar_one()
    iid = 0
    for offset in range(0, children + adults, CHUNK):
        people, cases, instances, events, agreements = [], [], [], [], []
        for n in range(offset, min(offset + CHUNK, children + adults)):
            pid = n + 1
            child = n < children
            dob = date(2012 + n % 12, 1 + n % 12, 1 + n % 27) if child else date(1940 + n % 40, 1 + n % 12, 3)
            people.append({"id": pid, "local_id": f"B{pid:08d}", "upn": upn(pid) if child else None,
                           "forename": "Bench", "surname": f"Person{pid}", "surname_norm": f"person{pid}",
                           "search_name": f"bench person{pid}", "date_of_birth": dob, "dob_is_expected": False,
                           "sex": "MF"[n % 2], "ethnicity": "WBRI", "disabilities": ["NONE"],
                           "interpreter_needed": False, "restricted": False, "version": 1,
                           "created_at": now, "updated_at": now})
            ref = f"{'CH' if child else 'AD'}-{pid:07d}"
            opened = date(2025, 4, 1) + timedelta(days=rnd.randrange(0, 360))
            closed = opened + timedelta(days=120) if n % 3 == 0 else None
            cases.append({"id": pid, "reference": ref, "person_id": pid, "service_area": "children" if child
                          else "adults", "status": "closed" if closed else "open", "opened_on": opened,
                          "open_reason": "referral", "closed_on": closed,
                          "close_reason": "needs_met" if closed else None, "version": 1,
                          "created_at": now, "updated_at": now})

            def inst(pkey, key=ref, start=opened, out=instances):
                nonlocal iid
                iid += 1
                out.append({"id": iid, "definition_id": defs[pkey], "process_key": pkey, "business_key": key,
                                  "status": "completed", "state": "{}", "version": 1, "started_at": ts(start),
                                  "updated_at": ts(start)})
                return iid

            if child:
                i = inst("referral")
                events += [started(i, ref, "referral", opened, {}),
                           task(i, ref, "record_contact", opened, {"referral_date": opened.isoformat(),
                                                                   "service": "children", "immediate_risk": False,
                                                                   "consent": "given", "referral_source": "2A",
                                                                   "primary_need": "N1"}),
                           task(i, ref, "screen_referral", opened, {"recommendation": "childrens_assessment"}),
                           task(i, ref, "referral_decision", opened + timedelta(1),
                                {"decision": "childrens_assessment", "allocated_team": "cin-east"})]
                i = inst("childrens_assessment")
                a_auth = opened + timedelta(days=30)
                events += [started(i, ref, "childrens_assessment", opened, {"referral_date": opened.isoformat()}),
                           task(i, ref, "allocate_assessment", opened + timedelta(2),
                                {"allocation_date": (opened + timedelta(2)).isoformat(), "priority": "standard"}),
                           task(i, ref, "complete_assessment", a_auth, {"recommended_outcome": "cin_plan",
                                                                        "assessment_factors": ["3B", "4B"]}),
                           task(i, ref, "authorise_assessment", a_auth, {"authorisation": "authorise",
                                                                         "outcome": "cin_plan"})]
                if n % 5 == 0:
                    i = inst("child_protection")
                    icpc = opened + timedelta(days=14)
                    events += [started(i, ref, "child_protection", opened, {"referral_date": opened.isoformat()}),
                               task(i, ref, "strategy_discussion", opened + timedelta(1), {
                                   "strategy_discussion_date": (opened + timedelta(1)).isoformat(),
                                   "strategy_outcome": "section_47"}),
                               task(i, ref, "section_47_enquiry", opened + timedelta(2), {
                                   "enquiry_outcome": "icpc",
                                   "enquiry_start_date": (opened + timedelta(2)).isoformat()}),
                               task(i, ref, "record_icpc", icpc, {"icpc_date": icpc.isoformat(), "icpc_outcome": "plan",
                                                                  "category_of_abuse": "neglect"}),
                               task(i, ref, "record_review", icpc + timedelta(90), {
                                   "review_date": (icpc + timedelta(90)).isoformat(), "review_outcome": "continue"})]
            else:
                c = inst("referral")  # the adult's contact: CLD route of access
                events += [started(c, ref, "referral", opened, {}),
                           task(c, ref, "record_contact", opened, {"referral_date": opened.isoformat(),
                                                                   "service": "adults",
                                                                   "route_of_access": "community_other"})]
                i = inst("care_and_support_plan")
                done = opened + timedelta(days=15)
                events += [started(i, ref, "care_and_support_plan", opened, {"referral_date": opened.isoformat()}),
                           task(i, ref, "needs_assessment", done, {"needs_score": 35, "has_unpaid_carer": False,
                                                                   "primary_support_reason": "physical_personal_care"}),
                           {**task(i, ref, "determine_eligibility", done, {"eligible": True}),
                            "event_type": "step_completed",
                            "data": to_json({"type": "BusinessRuleTask", "diff": {"set": {"eligible": True}}})},
                           task(i, ref, "review_care_plan", done + timedelta(60), {
                               "review_date": (done + timedelta(60)).isoformat(), "review_outcome": "continue"})]
                agreements.append({"id": pid, "reference": f"SA-{pid:07d}", "kind": "service", "person_id": pid,
                                   "case_id": pid, "service_type": "home_care", "unit": "hour",
                                   "unit_cost_pence": 2150, "units_per_week": 14, "start_date": done,
                                   "status": "authorised", "version": 1, "created_at": now, "updated_at": now})
        with engine.begin() as conn:
            conn.execute(insert(Person.__table__), people)
            conn.execute(insert(Case.__table__), cases)
            conn.execute(insert(process_instance), instances)
            conn.execute(insert(history_event), events)
            if agreements:
                conn.execute(insert(Agreement.__table__), agreements)
        print(f"generated {min(offset + CHUNK, children + adults)} people", flush=True)
    with engine.begin() as conn:
        for table in ("person", "case_record", "process_instance", "finance_agreement"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--adults", type=int, default=20_000)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if not args.reuse:
        fresh_database(args.url)
    engine = make_engine(args.url)
    if not args.reuse:
        upgrade_to_head(engine)
        start = time.perf_counter()
        generate(engine, args.children, args.adults)
        print(f"generated in {time.perf_counter() - start:.1f}s", flush=True)
    with engine.connect() as conn:
        n_children = conn.execute(select(Case.id).where(Case.service_area == "children")).all()
        start = time.perf_counter()
        cin = build_cin(conn, 2026, la_code="999")
        cin_s = round(time.perf_counter() - start, 2)
        print(f"CIN: {cin.children} children, {len(cin.xml) / 1e6:.1f} MB, {len(cin.issues)} issues, {cin_s}s")
        start = time.perf_counter()
        cld = build_cld(conn, "2026Q1", la_code="999")  # every synthetic adult has a service then
        cld_s = round(time.perf_counter() - start, 2)
        print(f"CLD: {cld.rows} rows for {cld.people} people, {len(cld.issues)} issues, {cld_s}s")
    print(json.dumps({"cin_50k_s": cin_s, "cld_20k_s": cld_s, "cin_children": cin.children,
                      "children_cases": len(n_children), "cld_people": cld.people, "cld_rows": cld.rows,
                      "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
