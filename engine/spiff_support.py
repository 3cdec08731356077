"""Glue around SpiffWorkflow 3.2: serializer, state without spec, injectable clock, parallel-join fix.

Importing this module applies two narrowly scoped patches to SpiffWorkflow (see docs/engine.md):

* the timer event definitions read "now" through :func:`engine_now`, so the engine's injected clock drives
  timers (tests move the clock, they never sleep);
* ``ParallelGateway._check_threshold_unstructured`` and ``UnstructuredJoin._run_hook`` only look at join
  tasks of the *current pass* (descendants of the previous firing of the same join), which fixes the early
  firing of a parallel join inside a loop (ENGINE-NOTES trap 2).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

STATE_FORMAT = 1

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
_REGISTRY = SERIALIZER.registry
_WF_CONVERTER = _REGISTRY.convert_to_dict["BpmnWorkflow"].args[1].__self__

# --------------------------------------------------------------------------------------------- clock
_CLOCK: contextvars.ContextVar[Callable[[], datetime] | None] = contextvars.ContextVar("engine_clock",
                                                                                       default=None)


def engine_now() -> datetime:
    clock = _CLOCK.get()
    return clock() if clock is not None else datetime.now(UTC)


@contextlib.contextmanager
def use_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    token = _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(token)


class _ClockedDatetime(datetime):
    """``datetime`` whose ``now()`` reads the engine clock (installed in SpiffWorkflow's timer module)."""

    @classmethod
    def now(cls, tz=None):  # noqa: D102
        value = engine_now()
        return value.astimezone(tz) if tz is not None else value


_timer_module.datetime = _ClockedDatetime


# ------------------------------------------------------------------------------- parallel join fix
def _current_pass(spec, my_task, tasks):
    """Keep only join tasks of the current pass: descendants of the last firing of this join."""
    anchor = my_task.parent
    while anchor is not None and anchor.task_spec != spec:
        anchor = anchor.parent
    if anchor is None:
        return list(tasks)
    return [t for t in tasks if t is not anchor and t.is_descendant_of(anchor)]


def _parallel_check_threshold(self, my_task):
    tasks = _current_pass(self, my_task, my_task.workflow.get_tasks(spec_name=self.name))
    waiting_inputs = set(self.inputs)

    def remove_ancestor(task):
        while task is not None:
            if task.task_spec in waiting_inputs:
                waiting_inputs.remove(task.task_spec)
                return
            task = task.parent

    for task in tasks:
        if task.is_descendant_of(my_task):
            remove_ancestor(task)
        elif my_task.is_descendant_of(task):
            continue
        elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
            waiting_inputs.remove(task.parent.task_spec)
    return len(waiting_inputs) == 0


def _unstructured_run_hook(self, my_task):
    candidates = [t for t in my_task.workflow.tasks.values()
                  if t.task_spec == self and t.has_state(TaskState.FINISHED_MASK)
                  and not my_task.is_descendant_of(t)]
    for task in sorted(_current_pass(self, my_task, candidates), key=lambda t: t.last_state_change):
        DeepMerge.merge(my_task.data, task.parent.data)
        if task.has_state(TaskState.COMPLETED):
            task._drop_children(force=True)
    my_task._inherit_data()
    return True


STOCK_PARALLEL_CHECK = ParallelGateway._check_threshold_unstructured
STOCK_JOIN_RUN_HOOK = UnstructuredJoin._run_hook
ParallelGateway._check_threshold_unstructured = _parallel_check_threshold
UnstructuredJoin._run_hook = _unstructured_run_hook


# ------------------------------------------------------------------------------------ spec storage
def spec_to_json(spec, subprocess_specs: dict) -> str:
    return json.dumps({
        "spec": _REGISTRY.convert(spec),
        "subprocess_specs": {name: _REGISTRY.convert(s) for name, s in subprocess_specs.items()},
    })


def spec_from_json(text: str):
    dct = json.loads(text)
    spec = _REGISTRY.restore(dct["spec"])
    subs = {name: _REGISTRY.restore(s) for name, s in dct["subprocess_specs"].items()}
    return spec, subs


# ----------------------------------------------------------------------------------- instance state
def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow WITHOUT its spec (specs are stored once, by hash). Key order is preserved."""
    conv = _WF_CONVERTER
    dct = {
        "format": STATE_FORMAT,
        "data": _REGISTRY.convert(_REGISTRY.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": conv.mapping_to_dict(workflow.tasks),
        "root": str(workflow.task_tree.id),
        "subprocesses": conv.mapping_to_dict(workflow.subprocesses),
        "bpmn_events": _REGISTRY.convert(workflow.bpmn_events),
    }
    return json.dumps(dct, separators=(",", ":"))


def load_state(text: str, spec, subprocess_specs: dict, script_engine) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output and an already restored spec.

    The script engine is attached here, every time (SpiffWorkflow does not restore custom engines)."""
    conv = _WF_CONVERTER
    dct = json.loads(text)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
    workflow.tasks = conv.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    conv.set_default_attributes(workflow, dct)
    conv.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = _REGISTRY.restore(dct.get("bpmn_events", []))
    return workflow
