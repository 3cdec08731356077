"""Engine benchmark (issue 3 "Speed"). Needs PostgreSQL on 127.0.0.1:5432 (user postgres); it (re)creates
its own database ``casework_engine_bench``.

    .venv/bin/python bench/engine.py            # all four figures
    .venv/bin/python bench/engine.py --quick    # smaller sizes, for a smoke run

The last printed line is one JSON object with: complete_p50_ms, complete_p95_ms, aged_complete_p95_ms,
aged_ratio, instances_per_s, worklist_p95_ms, timers_all_fired_s, timers_fired_twice.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from engine.definitions import load_bundle  # noqa: E402
from engine.runtime import WorkflowEngine  # noqa: E402
from engine.schema import metadata  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_NAME = "casework_engine_bench"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')
FORM_PROP = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
             'name="formJsonSchemaFilename" value="step.schema.json"/>{extra}</spiffworkflow:properties>'
             '</bpmn:extensionElements>')


def user_task(tid, name, extra=""):
    return f'<bpmn:userTask id="{tid}" name="{name}">{FORM_PROP.format(extra=extra)}</bpmn:userTask>'


DUE = '<spiffworkflow:property name="dueDate" value="working_days_after(today(), 10)"/>'

# A review cycle as in a child protection plan: a visit with a reminder timer (non-interrupting boundary),
# then a parallel report + manager check, a script, and a loop back; the loop runs for years.
REVIEW = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="http://casework.bench">
 <bpmn:process id="bench_review" name="Review cycle" isExecutable="true">
  <bpmn:startEvent id="start"/>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="merge"/>
  <bpmn:exclusiveGateway id="merge"/>
  <bpmn:sequenceFlow id="f1" sourceRef="merge" targetRef="visit"/>
  {user_task("visit", "Visit", DUE)}
  <bpmn:boundaryEvent id="remind" attachedToRef="visit" cancelActivity="false">
   <bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="fr" sourceRef="remind" targetRef="remind_end"/>
  <bpmn:endEvent id="remind_end"/>
  <bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="split"/>
  <bpmn:parallelGateway id="split"/>
  <bpmn:sequenceFlow id="fa" sourceRef="split" targetRef="report"/>
  <bpmn:sequenceFlow id="fb" sourceRef="split" targetRef="check"/>
  {user_task("report", "Write report")}
  {user_task("check", "Manager check")}
  <bpmn:sequenceFlow id="fa2" sourceRef="report" targetRef="join"/>
  <bpmn:sequenceFlow id="fb2" sourceRef="check" targetRef="join"/>
  <bpmn:parallelGateway id="join"/>
  <bpmn:sequenceFlow id="f3" sourceRef="join" targetRef="count"/>
  <bpmn:scriptTask id="count" name="Count"><bpmn:script>cycles = cycles + 1</bpmn:script></bpmn:scriptTask>
  <bpmn:sequenceFlow id="f4" sourceRef="count" targetRef="more"/>
  <bpmn:exclusiveGateway id="more" default="again"/>
  <bpmn:sequenceFlow id="again" sourceRef="more" targetRef="merge"/>
  <bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end">
   <bpmn:conditionExpression>closed == True</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:endEvent id="end"/>
 </bpmn:process>
</bpmn:definitions>"""

ONE_TASK = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="http://casework.bench">
 <bpmn:process id="bench_one" name="One task" isExecutable="true">
  <bpmn:startEvent id="start"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task"/>
  {user_task("task", "Do it", DUE)}
  <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end"/>
  <bpmn:endEvent id="end"/>
 </bpmn:process>
</bpmn:definitions>"""

TIMER = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions {NS} id="d" targetNamespace="http://casework.bench">
 <bpmn:process id="bench_timer" name="Statutory wait" isExecutable="true">
  <bpmn:startEvent id="start"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
  <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>
   <bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="task"/>
  {user_task("task", "Follow up")}
  <bpmn:sequenceFlow id="f3" sourceRef="task" targetRef="end"/>
  <bpmn:endEvent id="end"/>
 </bpmn:process>
</bpmn:definitions>"""

FORM = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"})
FIELDS = {f"field_{i}": f"value {i}" for i in range(10)}
CPU_MS: list[float] = []  # client CPU per completion (this process), to separate engine cost from a busy host


def fixed_clock(at):
    return lambda: at


def make_engine(at=T0):
    return WorkflowEngine(clock=fixed_clock(at), hooks=None)


def db_engine():
    return create_engine(URL, pool_size=4, max_overflow=0)


def reset_database():
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    eng = db_engine()
    metadata.create_all(eng)
    wf = make_engine()
    with eng.begin() as conn:
        for name, xml in (("review.bpmn", REVIEW), ("one.bpmn", ONE_TASK), ("timer.bpmn", TIMER)):
            wf.publish(conn, load_bundle({name: xml.encode()}, {"step.schema.json": FORM.encode()}), "bench")
    eng.dispose()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# ------------------------------------------------------------------------------------- completion latency
class Case:
    """One instance and its open work item ids (taken from the operation results, as an app would)."""

    def __init__(self, wf, eng, business_key):
        with eng.begin() as conn:
            res = wf.start(conn, "bench_review", business_key, {"cycles": 0, "closed": False}, "bench")
        self.wf, self.eng, self.open = wf, eng, [w["id"] for w in res.work_items]

    def complete_next(self, data) -> float:
        item = self.open.pop(0)
        t0, c0 = time.perf_counter(), time.process_time()
        with self.eng.begin() as conn:
            res = self.wf.complete_task(conn, item, data, "worker")
        elapsed = (time.perf_counter() - t0) * 1000
        CPU_MS.append((time.process_time() - c0) * 1000)
        self.open.extend(w["id"] for w in res.work_items)
        return elapsed


def completion_latency(fresh_n: int, aged_tasks: int, aged_n: int):
    eng, wf = db_engine(), make_engine()
    cases = [Case(wf, eng, f"case-{i}") for i in range(fresh_n)]
    aged = Case(wf, eng, "aged")
    for _ in range(aged_tasks):
        aged.complete_next(FIELDS)
    # Measured interleaved (fresh = the first task of a fresh instance, then one task of the aged one), so
    # both samples see the same load on this shared host and the ratio compares like with like.
    fresh, aged_times = [], []
    for i in range(max(fresh_n, aged_n)):
        if i < fresh_n:
            fresh.append(cases[i].complete_next(FIELDS))
        if i < aged_n:
            aged_times.append(aged.complete_next(FIELDS))
    with eng.connect() as conn:
        state_len = conn.execute(text("select length(state) from process_instance where business_key = 'aged'")
                                 ).scalar()
        done = conn.execute(text("select count(*) from history_event h join process_instance i "
                                 "on i.id = h.instance_id where i.business_key = 'aged' "
                                 "and h.event_type = 'task_completed'")).scalar()
    eng.dispose()
    return fresh, aged_times, state_len, done


# ------------------------------------------------------------------------------------------ throughput
def _throughput_worker(seconds, out):
    eng, wf = db_engine(), make_engine()
    c0 = time.process_time()
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        with eng.begin() as conn:
            res = wf.start(conn, "bench_one", "case", {"n": done}, "bench")
        with eng.begin() as conn:
            wf.complete_task(conn, res.work_items[0]["id"], FIELDS, "bench")
        done += 1
    eng.dispose()
    print(f"  worker: {done} instances, client CPU {(time.process_time() - c0) / max(done, 1) * 1000:.2f} ms each",
          flush=True)
    out.put(done)


def throughput(seconds: float, workers: int = 2) -> float:
    out = mp.Queue()
    procs = [mp.Process(target=_throughput_worker, args=(seconds, out)) for _ in range(workers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total / (time.perf_counter() - t0)


# -------------------------------------------------------------------------------------------- worklist
def seed_worklist(open_n: int, closed_n: int, users: int = 2000, teams: int = 200, instances: int = 20000):
    eng = db_engine()
    with eng.begin() as conn:
        def_id = conn.execute(text("select id from process_definition where process_key='bench_one'")).scalar()
        base = conn.execute(text("select coalesce(max(id), 0) from process_instance")).scalar()
        conn.execute(text(f"""
            insert into process_instance (id, definition_id, process_key, business_key, status, state, version,
                                          started_at, updated_at)
            select {base} + g, :d, 'bench_one', 'case-' || g, 'running', '{{}}', 1, now(), now()
            from generate_series(1, :n) g"""), {"d": def_id, "n": instances})
        conn.execute(text("select setval(pg_get_serial_sequence('process_instance', 'id'), "
                          "(select max(id) from process_instance))"))
        for status, n in (("open", open_n), ("closed", closed_n)):
            conn.execute(text(f"""
                insert into work_item (instance_id, business_key, task_id, task_spec, title, form, lane, role,
                                       team, assignee, due_at, priority, status, created_at)
                select {base} + 1 + (g % :inst), 'case-' || (g % :inst), md5(g::text || '{status}'), 'task',
                       'Do it', 'step', 'lane', 'social_worker', 'team-' || (g % :teams),
                       case when g % 4 = 0 then null else 'user-' || ((g / 4) % :users) end,
                       timestamptz '2026-03-02' + (g % 1000) * interval '1 hour', 0, '{status}', now()
                from generate_series(1, :n) g"""),
                {"inst": instances, "teams": teams, "users": users, "n": n})
        conn.execute(text("analyze work_item"))
        conn.execute(text("analyze process_instance"))
    eng.dispose()


def worklist_latency(samples: int, users: int = 2000, teams: int = 200):
    eng, wf = db_engine(), make_engine()
    rnd = random.Random(1)
    times = []
    with eng.connect() as conn:
        for i in range(samples):
            t0 = time.perf_counter()
            if i % 2:
                rows = wf.inbox(conn, f"user-{rnd.randrange(users)}", limit=50)
            else:
                rows = wf.team_queue(conn, f"team-{rnd.randrange(teams)}", limit=50)
            times.append((time.perf_counter() - t0) * 1000)
            assert len(rows) == 50, len(rows)
            conn.rollback()
    eng.dispose()
    return times


# ---------------------------------------------------------------------------------------------- timers
def _start_worker(n, out):
    eng, wf = db_engine(), make_engine()
    for i in range(n):
        with eng.begin() as conn:
            wf.start(conn, "bench_timer", f"t{i}", {}, "bench")
    eng.dispose()
    out.put(n)


def _timer_worker(name, out):
    eng = db_engine()
    wf = make_engine(T0 + timedelta(hours=2))
    fired = wf.fire_due_timers(eng, limit=10**9, worker_id=name)
    eng.dispose()
    out.put(fired)


def timers(n: int, workers: int = 2):
    out = mp.Queue()
    procs = [mp.Process(target=_start_worker, args=(n // workers, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    created = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    procs = [mp.Process(target=_timer_worker, args=(f"w{i}", out)) for i in range(workers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    fired = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    eng = db_engine()
    with eng.connect() as conn:
        waiting = conn.execute(text("select count(*) from timer t join process_instance i on i.id = t.instance_id "
                                    "where t.status = 'waiting' and i.process_key = 'bench_timer'")).scalar()
        twice = conn.execute(text("""select count(*) from (select instance_id, task_id from history_event
                                     where event_type like 'timer_fired%%' group by 1, 2 having count(*) > 1) x"""
                                  )).scalar()
        fired_rows = conn.execute(text("select count(*) from timer where status = 'fired'")).scalar()
    eng.dispose()
    return {"created": created, "fired": fired, "fired_rows": fired_rows, "still_waiting": waiting,
            "elapsed": elapsed, "twice": twice}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = args.quick
    reset_database()
    print("database ready", flush=True)

    print(f"host: {mp.cpu_count()} CPUs, load average {open('/proc/loadavg').read().split()[:3]}", flush=True)
    fresh, aged, state_len, done = completion_latency(50 if q else 300, 100 if q else 1000, 50 if q else 300)
    print(f"client CPU per completion: p50 {statistics.median(CPU_MS):.2f} ms, p95 {pct(CPU_MS, 95):.2f} ms",
          flush=True)
    print(f"complete fresh: p50 {statistics.median(fresh):.2f} ms, p95 {pct(fresh, 95):.2f} ms; "
          f"aged ({done} tasks completed): p50 {statistics.median(aged):.2f} ms, p95 {pct(aged, 95):.2f} ms; "
          f"aged state {state_len} chars", flush=True)

    ips = throughput(3 if q else 15)
    print(f"throughput: {ips:.0f} instances/s (start + complete, 2 worker processes)", flush=True)

    t = timers(1000 if q else 10000)
    print(f"timers: {t}", flush=True)

    t0 = time.perf_counter()
    users, teams = (200, 20) if q else (2000, 200)
    seed_worklist(20000 if q else 200000, 200000 if q else 2000000, users=users, teams=teams)
    print(f"worklist seeded in {time.perf_counter() - t0:.1f} s", flush=True)
    wl = worklist_latency(100 if q else 1000, users=users, teams=teams)
    print(f"worklist: p50 {statistics.median(wl):.2f} ms, p95 {pct(wl, 95):.2f} ms", flush=True)

    print(f"host load average at the end {open('/proc/loadavg').read().split()[:3]}", flush=True)
    result = {
        "complete_p50_ms": round(statistics.median(fresh), 2),
        "complete_p95_ms": round(pct(fresh, 95), 2),
        "aged_complete_p95_ms": round(pct(aged, 95), 2),
        "aged_ratio": round(pct(aged, 95) / pct(fresh, 95), 2),
        "instances_per_s": round(ips, 1),
        "worklist_p95_ms": round(pct(wl, 95), 2),
        "timers_all_fired_s": round(t["elapsed"], 2) if t["still_waiting"] == 0 else None,
        "timers_fired_twice": t["twice"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
