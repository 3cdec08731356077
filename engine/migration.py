"""Moving a waiting instance to another published version of its process."""

from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

from engine.errors import Invalid
from engine.execution import InstanceRun
from engine.spiff_support import dump_state, load_state
from engine.store import get_definition

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
PREDICTED = TaskState.FUTURE | TaskState.PREDICTED_MASK


def _drop_predictions(workflow) -> None:
    """Remove the not-yet-reached children of live tasks: they are re-predicted from the new version."""
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in list(wf.tasks.values()):
            if task.id in wf.tasks and task.has_state(LIVE):
                for child in list(task.children):
                    if child.has_state(PREDICTED) and not child.triggered:
                        wf._remove_task(child.id)


def _blockers(engine, conn, run, to_version):
    row = run.row
    _drop_predictions(run.workflow)
    problems: list[str] = []
    try:
        target = get_definition(conn, row["process_key"], to_version)
    except Exception as exc:  # noqa: BLE001 - reported as a blocker
        return [str(exc)], None, None
    if target["id"] == row["definition_id"]:
        problems.append(f"the instance already runs version {to_version}")
    if row["status"] not in ("running", "suspended"):
        problems.append(f"the instance is {row['status']}; only running or suspended instances can migrate")
    spec, subs = engine.specs.get(conn, target["content_hash"])
    workflows = [("", run.workflow, spec)]
    for sp in run.workflow.subprocesses.values():
        workflows.append((f" (in subprocess {sp.spec.name})", sp, subs.get(sp.spec.name)))
    for where, wf, new_spec in workflows:
        if new_spec is None:
            problems.append(f"subprocess {wf.spec.name} does not exist in version {to_version}")
            continue
        for task in wf.tasks.values():
            if task.task_spec.name not in new_spec.task_specs:
                state = TaskState.get_name(task.state)
                problems.append(f"{task.task_spec.name}{where} ({state}) does not exist in version {to_version}")
    return problems, target, (spec, subs)


def check(engine, conn, instance_id: int, to_version: int) -> list[str]:
    run = InstanceRun.load(engine, conn, instance_id, None, lock=False)
    return _blockers(engine, conn, run, to_version)[0]


def migrate(engine, conn, instance_id: int, to_version: int, actor: str):
    run = InstanceRun.load(engine, conn, instance_id, actor, lock=True)
    problems, target, specs = _blockers(engine, conn, run, to_version)
    if problems:
        raise Invalid(f"process instance {instance_id} cannot migrate to version {to_version}",
                      problems=problems)
    spec, subs = specs
    from_version = run.row["definition_version"]
    run.workflow = load_state(dump_state(run.workflow), spec, subs, engine.script_engine)
    with run.clocked():
        run.workflow._predict()
    run.event("instance_migrated", data={"from_version": from_version, "to_version": to_version})
    run.row["content_hash"] = target["content_hash"]
    run.run()
    return run.save(definition_id=target["id"])
