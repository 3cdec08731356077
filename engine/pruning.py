"""Keep the task tree (and so the state and the step cost) flat for long-lived instances.

After every step, for each workflow (the top one and every live subprocess) and for each region under its
root (the main flow, each event-subprocess branch), re-root the region at the nearest COMPLETED common
ancestor of its live tasks (states FUTURE, WAITING, READY, STARTED, ERROR), drop what hangs off the old path,
and drop subprocesses whose task has finished. Completed tasks are therefore not kept in the state: history
comes from the ``history_event`` table.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.util.task import TaskState

LIVE = TaskState.DEFINITE_MASK  # FUTURE | WAITING | READY | STARTED | ERROR


def _subtree(task):
    stack, out = [task], []
    while stack:
        t = stack.pop()
        out.append(t)
        stack.extend(t.children)
    return out


def _path_to(task, stop):
    path = []
    while task is not None and task is not stop:
        path.append(task)
        task = task.parent
    path.append(stop)
    path.reverse()
    return path


def _common_ancestor(region_top, live):
    paths = [_path_to(t, region_top) for t in live]
    common = region_top
    for nodes in zip(*paths, strict=False):
        first = nodes[0]
        if all(n is first for n in nodes):
            common = first
        else:
            break
    # must be COMPLETED and not itself live; walk up if needed
    while common is not region_top and (not common.has_state(TaskState.COMPLETED) or common in live):
        common = common.parent
    return common


def _remove_tasks(workflow, tasks, removed_ids):
    for t in tasks:
        workflow.tasks.pop(t.id, None)
        removed_ids.add(t.id)


def _drop_finished_firings(workflow, region, removed_ids: set) -> None:
    """A waiting cycle timer (``R/P1W`` on a start or boundary event) adds one path under itself per firing;
    once such a path has finished (no live task left in it) it is dropped, so repeating for years does not
    grow the state."""
    for task in region:
        if not task.has_state(TaskState.WAITING) or not isinstance(
                getattr(task.task_spec, "event_definition", None), CycleTimerEventDefinition):
            continue
        for child in list(task.children):
            subtree = _subtree(child)
            if any(t.has_state(LIVE) for t in subtree):
                continue
            task._children.remove(child.id)
            _remove_tasks(workflow, subtree, removed_ids)


def prune_workflow(workflow, removed_ids: set) -> int:
    root = workflow.task_tree
    if root is None:
        return 0
    before = len(workflow.tasks)
    for region_top in list(root.children):
        _drop_finished_firings(workflow, _subtree(region_top), removed_ids)
    for region_top in list(root.children):
        region = _subtree(region_top)
        live = [t for t in region if t.has_state(LIVE)]
        if not live:
            continue
        new_top = _common_ancestor(region_top, live)
        if new_top is region_top:
            continue
        keep = {t.id for t in _subtree(new_top)}
        drop = [t for t in region if t.id not in keep]
        idx = root._children.index(region_top.id)
        root._children[idx] = new_top.id
        new_top._parent = root.id
        _remove_tasks(workflow, drop, removed_ids)
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return before - len(workflow.tasks)


def prune(top_workflow) -> int:
    """Prune the top workflow and its subprocesses in place; return the number of tasks dropped."""
    if top_workflow.is_completed():
        return 0
    removed_ids: set = set()
    dropped = prune_workflow(top_workflow, removed_ids)
    # subprocesses whose parent task is gone or finished are dropped (their data was copied out)
    changed = True
    while changed:
        changed = False
        for task_id, sp in list(top_workflow.subprocesses.items()):
            parent_task = top_workflow.tasks.get(task_id)
            if parent_task is None:
                parent_task = next((other.tasks[task_id] for other in top_workflow.subprocesses.values()
                                    if task_id in other.tasks), None)
            if parent_task is None or task_id in removed_ids or \
                    parent_task.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
                removed_ids.update(sp.tasks.keys())
                dropped += len(sp.tasks)
                del top_workflow.subprocesses[task_id]
                changed = True
    for sp in top_workflow.subprocesses.values():
        if not sp.completed:
            dropped += prune_workflow(sp, removed_ids)
    return dropped
