"""Parallel (also inside a loop), inclusive gateways; the parallel-join fix in memory."""

import random

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

from engine import spiff_support
from engine.runtime import WorkflowEngine
from tests.engine.conftest import bundle, complete, open_items


def test_parallel_join_waits_for_both_branches_every_pass(wf_engine, connection, publish):
    publish("parallel_loop.bpmn")
    r = wf_engine.start(connection, "parallel_loop", "c", {}, "ann")
    rnd = random.Random(7)
    for p in range(30):
        items = open_items(wf_engine, connection, r.instance_id)
        assert set(items) == {"visit", "report"}, f"pass {p}: {set(items)}"
        first, second = rnd.sample(["visit", "report"], 2)
        complete(wf_engine, connection, r.instance_id, first, {f"{first}_{p}": p})
        assert set(open_items(wf_engine, connection, r.instance_id)) == {second}, f"join fired early in pass {p}"
        r2 = complete(wf_engine, connection, r.instance_id, second, {f"{second}_{p}": p, "finished": p == 29})
    assert r2.status == "completed"
    data = wf_engine.get_instance(connection, r.instance_id)["data"]
    # both branches' data of every pass survive the joins (keys set in only one branch are merged)
    assert all(data[f"{name}_{p}"] == p for p in range(30) for name in ("visit", "report"))


def _run_parallel_loop_in_memory(passes=12, seed=3):
    b = bundle("parallel_loop.bpmn")
    wf = BpmnWorkflow(b.spec, b.main_subprocess_specs, script_engine=WorkflowEngine().script_engine)
    wf.do_engine_steps()
    rnd = random.Random(seed)
    for p in range(passes):
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        assert sorted(t.task_spec.bpmn_id for t in ready) == ["report", "visit"], p
        rnd.shuffle(ready)
        ready[0].data["finished"] = False
        ready[0].run()
        wf.do_engine_steps()
        left = wf.get_tasks(state=TaskState.READY, manual=True)
        assert [t.task_spec.bpmn_id for t in left] == [ready[1].task_spec.bpmn_id], f"pass {p}"
        left[0].data["finished"] = p == passes - 1
        left[0].run()
        wf.do_engine_steps()
    assert wf.is_completed()


def test_join_fix_in_memory_without_pruning():
    """engine.spiff_support restricts the join's threshold check to the current pass (no pruning here)."""
    _run_parallel_loop_in_memory()


def test_stock_join_fires_early_in_a_loop(monkeypatch):
    """Documents the SpiffWorkflow 3.2 bug the fix is for: with the stock check, pass 2 misbehaves."""
    monkeypatch.setattr(ParallelGateway, "_check_threshold_unstructured", spiff_support.STOCK_PARALLEL_CHECK)
    monkeypatch.setattr(UnstructuredJoin, "_run_hook", spiff_support.STOCK_JOIN_RUN_HOOK)
    with pytest.raises((AssertionError, AttributeError)):
        _run_parallel_loop_in_memory()


def test_inclusive_gateway(wf_engine, connection, publish):
    publish("inclusive.bpmn")
    both = wf_engine.start(connection, "inclusive", "c1", {"needs_health": True, "needs_education": True}, "a")
    assert set(open_items(wf_engine, connection, both.instance_id)) == {"health", "education"}
    complete(wf_engine, connection, both.instance_id, "health")
    assert set(open_items(wf_engine, connection, both.instance_id)) == {"education"}
    complete(wf_engine, connection, both.instance_id, "education")
    assert set(open_items(wf_engine, connection, both.instance_id)) == {"close"}

    one = wf_engine.start(connection, "inclusive", "c2", {"needs_health": False, "needs_education": True}, "a")
    assert set(open_items(wf_engine, connection, one.instance_id)) == {"education"}
    complete(wf_engine, connection, one.instance_id, "education")
    assert set(open_items(wf_engine, connection, one.instance_id)) == {"close"}

    none = wf_engine.start(connection, "inclusive", "c3", {"needs_health": False, "needs_education": False}, "a")
    assert set(open_items(wf_engine, connection, none.instance_id)) == {"close"}
    assert complete(wf_engine, connection, none.instance_id, "close").status == "completed"
