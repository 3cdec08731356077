"""The sandbox for configurator code: escapes refused, CPU/size limits, SpiffWorkflow integration."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.message import CorrelationProperty, MessageEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.calendar import WorkingDayCalendar
from engine.errors import EngineError, ScriptError
from engine.sandbox import (
    SandboxedEnvironment,
    SandboxedScriptEngine,
    SandboxLimits,
    attach,
    check_expression,
    check_script,
)
from engine.xmlsafe import add_bpmn

HERE = Path(__file__).parent / "bpmn_defs"
FIXED = datetime(2026, 12, 23, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def env():
    return SandboxedEnvironment(clock=lambda: FIXED)


def refused(env, source, *, data=None, mode="eval") -> str:
    with pytest.raises(ScriptError) as info:
        if mode == "eval":
            env.evaluate(source, dict(data or {}))
        else:
            env.execute(source, dict(data or {}))
    return info.value.message


# ------------------------------------------------------------------------------------------------ basics
def test_expressions_and_helpers(env):
    assert env.evaluate("x + 1", {"x": 41}) == 42
    assert env.evaluate("today()", {}) == date(2026, 12, 23)
    assert env.evaluate("working_days_after(today(), 1)", {}) == date(2026, 12, 24)
    assert env.evaluate("working_days_after('2026-12-24', 1)", {}) == date(2026, 12, 29)
    assert env.evaluate("months_after(date(2026, 1, 31), 1)", {}) == date(2026, 2, 28)
    assert env.evaluate("iso(working_days_after(today(), 2))", {}) == "2026-12-29"
    assert env.evaluate("sorted(set(xs))[-1] + max(xs) + sum(xs)", {"xs": [3, 1, 3]}) == 3 + 3 + 7
    assert env.evaluate("len([i for i in range(10) if i % 2])", {}) == 5
    assert env.evaluate("f'{name} is {age:>3}'", {"name": "Ann", "age": 7}) == "Ann is   7"


def test_script_writes_data_back_and_drops_functions(env):
    data = {"concerns": ["a", "b"], "urgent": True}
    env.execute("def double(n):\n    return n * 2\nscore = double(len(concerns))\nseen = today()\n"
                "tags = {'x', 'y'}\nconcerns.append('c')", data)
    assert data["score"] == 4
    assert data["seen"] == "2026-12-23"  # dates are stored as ISO text, like form dates
    assert sorted(data["tags"]) == ["x", "y"]
    assert data["concerns"] == ["a", "b", "c"]
    assert "double" not in data


def test_a_failing_script_writes_nothing(env):
    data = {"items": [1, 2], "total": 0}
    with pytest.raises(ScriptError) as info:
        env.execute("items.append(3)\ntotal = 99\nboom = 1 / 0", data)
    assert "ZeroDivisionError" in info.value.message and "line 3" in info.value.message
    assert data == {"items": [1, 2], "total": 0}


def test_del_removes_a_variable(env):
    data = {"tmp": 1, "keep": 2}
    env.execute("del tmp", data)
    assert data == {"keep": 2}


def test_data_field_shadows_helper_without_breaking_it(env):
    # a form field called "date" must not make every script fail (helpers live in the builtins)
    assert env.evaluate("date", {"date": "2026-01-01"}) == "2026-01-01"
    assert env.evaluate("today()", {"date": "x"}) == date(2026, 12, 23)


def test_underscore_data_keys_cannot_replace_guards(env):
    data = {"_getattr_": "evil", "x": "abc"}
    assert env.evaluate("x.upper()", data) == "ABC"


def test_expression_cannot_change_data(env):
    assert "may not change data" in refused(env, "xs.append(1) or True", data={"xs": []})
    assert "may not change data" in refused(env, "d.update({'a': 1})", data={"d": {}})


def test_clock_is_injectable_and_today_is_london_local():
    late_summer_evening = datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)  # 00:30 BST on 1 July
    env = SandboxedEnvironment(clock=lambda: late_summer_evening)
    assert env.evaluate("today()", {}) == date(2026, 7, 1)
    assert env.evaluate("now()", {}) == late_summer_evening
    engine = SandboxedScriptEngine(clock=lambda: FIXED)
    engine.clock = lambda: datetime(2027, 1, 1, 12, tzinfo=timezone.utc)
    assert engine.environment.evaluate("today()", {}) == date(2027, 1, 1)


def test_closure_days_reach_the_helpers():
    env = SandboxedEnvironment(clock=lambda: FIXED, calendar=WorkingDayCalendar(["2026-12-29", "2026-12-30"]))
    assert env.evaluate("working_days_after('2026-12-24', 1)", {}) == date(2026, 12, 31)


def test_extra_helpers_must_be_functions():
    env = SandboxedEnvironment(helpers={"case_age": lambda d: 3})
    assert env.evaluate("case_age('x')", {}) == 3
    with pytest.raises(ValueError, match="must be a function"):
        SandboxedEnvironment(helpers={"os": __import__("os")})
    with pytest.raises(ValueError, match="must be a function"):
        SandboxedEnvironment(helpers={"Path": Path})


# ------------------------------------------------------------------------------------------------ escapes
@pytest.mark.parametrize("source", [
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "working_days_after.__globals__",
    "today.__code__",
    "__builtins__",
    "__import__('os')",
    "[c for c in ().__class__.__mro__]",
    "(lambda: 0).__globals__",
    "(x for x in [1]).gi_frame.f_globals",
    "(x for x in [1]).gi_code",
])
def test_dunder_and_frame_access_is_refused_at_compile_time(env, source):
    message = refused(env, source, data={"x": 1})
    assert "_" in message or "restricted name" in message
    assert check_expression(source) is not None


@pytest.mark.parametrize("source", [
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('x=1')",
    "compile('1', 'f', 'eval')",
    "getattr(x, 'real')",
    "globals()",
    "vars()",
    "type(x)",
    "breakpoint()",
    "input()",
])
def test_dangerous_builtins_do_not_exist(env, source):
    message = refused(env, source, data={"x": 1})
    assert "NameError" in message or "calls are not allowed" in message or "reserved name" in message


@pytest.mark.parametrize("source", ["import os", "from os import path", "import datetime\nx = datetime.sys"])
def test_imports_are_refused(env, source):
    assert "Imports are not allowed" in refused(env, source, mode="exec")
    assert check_script(source) is not None


def test_format_string_attribute_access_is_refused(env):
    assert "str.format" in refused(env, "'{0.__class__}'.format(x)", data={"x": 1})
    assert "str.format" in refused(env, "'{x.real}'.format_map(d)", data={"d": {"x": 1}})
    assert check_expression("f'{x.__class__}'") is not None


def test_datetime_module_is_not_reachable(env):
    # the helpers are wrapped constructors, never the datetime module or classes
    assert "not accessible" in refused(env, "date.sys")
    assert "not accessible" in refused(env, "datetime.sys")
    assert "not accessible" in refused(env, "now().tzinfo.utcoffset(None)")
    assert "date.today" in refused(env, "today().today()")  # the real clock stays out of reach


def test_attributes_of_functions_types_and_methods_are_refused(env):
    assert "not accessible" in refused(env, "len.x")
    assert "not accessible" in refused(env, "str.maketrans")
    assert "not accessible" in refused(env, "x.upper.x", data={"x": "a"})


def test_generator_frames_and_classes_are_refused(env):
    assert check_script("def g():\n    yield 1") is not None
    assert check_script("class A:\n    pass") is not None
    assert check_script("with x:\n    pass") is not None
    assert check_script("nonlocal_var = 1\ndef f():\n    global nonlocal_var") is not None
    assert "not accessible" in refused(env, "(i for i in [1]).send")


def test_exception_handlers_cannot_swallow_limits():
    assert "bare 'except:'" in check_script("try:\n    x = 1\nexcept:\n    pass")
    assert "finally" in check_script("try:\n    x = 1\nfinally:\n    pass")
    env = SandboxedEnvironment(limits=SandboxLimits(max_steps=20_000))
    start = time.monotonic()
    with pytest.raises(ScriptError, match="limit exceeded"):
        env.execute("while True:\n    try:\n        while True:\n            pass\n    except Exception:\n"
                    "        pass", {})
    assert time.monotonic() - start < 5


def test_print_is_refused_statically():
    assert "print() is not available" in check_script("print('hello')")


# ------------------------------------------------------------------------------------------------ limits
def test_infinite_loop_is_stopped_quickly():
    env = SandboxedEnvironment()
    start = time.thread_time()  # CPU time: the limit must not depend on how busy the machine is
    with pytest.raises(ScriptError, match="an endless loop"):
        env.execute("while True:\n    pass", {})
    assert time.thread_time() - start < 3


def test_cpu_time_limit_applies_between_steps():
    env = SandboxedEnvironment(limits=SandboxLimits(max_seconds=0.3, max_steps=10**9))
    start = time.thread_time()
    with pytest.raises(ScriptError, match="more than 0.3 s"):
        env.execute("n = 0\nwhile True:\n    n += 1", {})
    assert time.thread_time() - start < 2


def test_trusted_helpers_are_not_traced_so_calendar_work_is_cheap():
    env = SandboxedEnvironment(limits=SandboxLimits(max_steps=200))
    # years of working-day arithmetic in the helper, but only one traced line of configurator code
    assert env.evaluate("working_days_after(date(2026, 1, 5), 2000)", {}) is not None


def test_infinite_loop_inside_a_comprehension_and_recursion():
    env = SandboxedEnvironment(limits=SandboxLimits(max_steps=50_000))
    with pytest.raises(ScriptError, match="limit exceeded"):
        env.evaluate("[i * j for i in range(90000) for j in range(90000)]", {})
    with pytest.raises(ScriptError, match="recursion"):
        env.execute("def f(n):\n    return f(n + 1)\nf(0)", {})


def test_loop_in_a_worker_thread_is_stopped_and_other_threads_keep_working():
    env = SandboxedEnvironment(limits=SandboxLimits(max_steps=2_000_000, max_seconds=2.0))
    outcome = {}

    def runaway():
        try:
            env.execute("while True:\n    pass", {})
        except ScriptError as exc:
            outcome["error"] = exc.message

    worker = threading.Thread(target=runaway)
    worker.start()
    answers = [env.evaluate("x * 2", {"x": i}) for i in range(200)]  # main thread keeps serving meanwhile
    worker.join(timeout=60)  # 2 s of CPU; generous in wall time for a busy machine
    assert not worker.is_alive()
    assert "endless loop" in outcome["error"]
    assert answers[-1] == 398
    assert env.evaluate("1 + 1", {}) == 2  # and the sandbox still works afterwards


@pytest.mark.parametrize("source", [
    "'x' * 10**9",
    "[0] * 10**9",
    "10 ** 10 ** 10",
    "2 ** 100000000",
    "1 << 10**10",
    "list(range(10**12))",
    "'%1000000000d' % 1",
    "'%*d' % (10**9, 1)",
    "'a'.ljust(10**9)",
    "'ab'.center(10**9)",
    "'1'.zfill(10**9)",
    "('x' * 1000).replace('x', 'y' * 100000)",
    "'-'.join(['y' * 999999, 'z' * 999999])",
    "'\\t'.expandtabs(10**9)",
])
def test_huge_allocations_are_refused_before_they_happen(env, source):
    start = time.monotonic()
    assert "limit exceeded" in refused(env, source)
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("script", [
    "l = [1]\nfor i in range(64):\n    l.extend(l)",
    "l = [1]\nfor i in range(64):\n    l = l + l",
    "s = 'x'\nfor i in range(64):\n    s += s",
    "n = 3\nfor i in range(64):\n    n = n * n",
    "n = 3\nfor i in range(64):\n    n *= n",
])
def test_doubling_loops_are_refused(env, script):
    assert "limit exceeded" in refused(env, script, mode="exec")


def test_memory_growth_is_stopped():
    env = SandboxedEnvironment(limits=SandboxLimits(max_memory_mb=64, max_seconds=20, max_steps=10**9))
    start = time.monotonic()
    with pytest.raises(ScriptError, match="MB of memory"):
        env.execute("s = 'x' * 1000000\nkeep = []\nwhile True:\n    keep.append(list(s))", {})
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("source, match", [
    ("round(5, -10**8)", "round"),
    ("(5).to_bytes(10**9, 'big')", "int.to_bytes"),
    ("'aaa'.translate({97: 'x' * 1000})", "str.translate"),
    ("'a'.maketrans('a', 'b')", "str.maketrans"),
])
def test_other_amplifiers_are_refused(env, source, match):
    assert match in refused(env, source)
    assert env.evaluate("round(2.675, 2)", {}) == 2.67 and env.evaluate("round(7.5)", {}) == 8


def test_total_allocation_budget():
    env = SandboxedEnvironment(limits=SandboxLimits(max_allocated=3_000_000))
    with pytest.raises(ScriptError, match="too much data"):
        env.execute("parts = []\nfor i in range(10):\n    parts.append('x' * 900000)", {})


def test_output_size_is_limited(env):
    assert "too large" in refused(env, "a = 'x' * 600000\nb = 'y' * 600000", mode="exec")
    data = {}
    env.execute("a = 'x' * 1000", data)
    assert len(data["a"]) == 1000


@pytest.mark.parametrize("source", ["(i for i in range(10))", "lambda: 1", "len"])
def test_expression_results_must_be_values(env, source):
    # a generator or function would run configurator code later, outside the tracer
    assert "not a value" in refused(env, source)


def test_error_messages_are_bounded(env):
    message = refused(env, "int('x' * 5000)")
    assert message.startswith("ValueError") and len(message) < 500


def test_source_length_is_limited():
    assert "too long" in check_expression("1 + " * 30_000 + "1")


# ------------------------------------------------------------------------------------------------ static checks
def test_check_expression_and_check_script():
    assert check_expression("approved == True") is None
    assert check_expression("working_days_after(today(), 10)") is None
    assert "SyntaxError" in check_expression("approved = = True")
    assert check_expression("") == "the expression is empty"
    assert check_script("x = 1\ny = x + 1") is None
    assert check_script(None) is None
    assert "SyntaxError" in check_script("if x\n  y = 1")


# ------------------------------------------------------------------------------------------------ SpiffWorkflow
def _referral_workflow(engine):
    from engine.definitions import load_bundle

    bundle = load_bundle([HERE / "referral.bpmn"], HERE / "forms", [HERE / "band.dmn"])
    return BpmnWorkflow(bundle.spec, bundle.main_subprocess_specs, script_engine=engine)


def _serializer():
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def test_workflow_runs_scripts_dmn_service_and_messages_in_the_sandbox():
    calls = []

    def connectors(name, params, task_data):
        calls.append((name, params))
        return {"family_name": "Smith"}

    engine = SandboxedScriptEngine(clock=lambda: FIXED, call_service=connectors)
    workflow = _referral_workflow(engine)
    workflow.do_engine_steps()
    triage = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    triage.data.update({"urgent": False, "concerns": ["falls", "isolation"], "nhs_number": "9434765919",
                        "case_id": "C-1"})
    triage.run()
    workflow.do_engine_steps()
    waiting = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "wait_gp"][0]
    assert waiting.data["risk_score"] == 4 and waiting.data["band"] == "medium"
    assert waiting.data["triaged_on"] == "2026-12-23"
    assert waiting.data["pds"] == {"family_name": "Smith"}
    assert calls == [("nhs.pds_lookup", {"nhs_number": "9434765919"})]

    # deserialize (which brings back a stock PythonScriptEngine), re-attach, deliver the message
    restored = _serializer().deserialize_json(_serializer().serialize_json(workflow))
    assert not isinstance(restored.script_engine, SandboxedScriptEngine)
    attach(restored, engine)
    assert restored.script_engine is engine
    definition = waiting.task_spec.event_definition
    restored.send_event(BpmnEvent(definition, payload={"case_id": "C-1"}, correlations={}))
    restored.do_engine_steps()
    assert [t.task_spec.bpmn_id for t in restored.get_tasks(state=TaskState.READY, manual=True)] == ["approve"]
    assert restored.correlations == {"case": {"case_ref": "C-1"}}


def test_correlation_expressions_through_environment_evaluate_are_sandboxed():
    engine = SandboxedScriptEngine()
    definition = MessageEventDefinition("gp_reply")
    good = CorrelationProperty("case_ref", "case_id.upper()", ["case"])
    assert definition.calculate_correlations(engine, [good], {"case_id": "c-1"}) == {"case": {"case_ref": "C-1"}}
    for hostile in ("__import__('os').system('true')", "case_id.__class__", "'x' * 10**9"):
        with pytest.raises(ScriptError):
            definition.calculate_correlations(engine, [CorrelationProperty("k", hostile, ["case"])],
                                              {"case_id": "c"})


SCRIPT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
    <bpmn:userTask id="wait" name="Wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="sub"/>
    <bpmn:subProcess id="sub" name="Sub">
      <bpmn:startEvent id="ss"/>
      <bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="inner_wait"/>
      <bpmn:userTask id="inner_wait" name="Inner wait"/>
      <bpmn:sequenceFlow id="sf2" sourceRef="inner_wait" targetRef="evil"/>
      <bpmn:scriptTask id="evil" name="Hostile script"><bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="sf3" sourceRef="evil" targetRef="se"/>
      <bpmn:endEvent id="se"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f3" sourceRef="sub" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def _script_workflow(script: str, engine):
    parser = SpiffBpmnParser()
    add_bpmn(parser, SCRIPT_BPMN.replace("SCRIPT", script), "p.bpmn")
    return BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"), script_engine=engine)


def _complete_ready(workflow):
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.run()
    workflow.do_engine_steps()


@pytest.mark.parametrize("script", ["x = ().__class__", "import os", "while True:\n    pass"])
def test_hostile_script_in_a_subprocess_after_deserialize_fails_with_script_error(script):
    engine = SandboxedScriptEngine(limits=SandboxLimits(max_steps=100_000))
    workflow = _script_workflow(script, engine)
    workflow.do_engine_steps()
    _complete_ready(workflow)  # now inside the subprocess, waiting at inner_wait
    restored = _serializer().deserialize_json(_serializer().serialize_json(workflow))
    attach(restored, engine)
    assert all(sub.script_engine is engine for sub in restored.subprocesses.values())
    assert restored.subprocesses
    with pytest.raises(ScriptError) as info:
        _complete_ready(restored)
    assert info.value.element_id == "evil"
    assert "Hostile script" in info.value.message
    errored = restored.get_tasks(state=TaskState.ERROR)
    assert [t.task_spec.bpmn_id for t in errored] == ["evil"]


def test_without_attach_the_stock_engine_would_run_the_hostile_script():
    # documents why attach() after every deserialize matters: the stock engine executes anything
    engine = SandboxedScriptEngine()
    workflow = _script_workflow("leaked = ().__class__.__name__", engine)
    workflow.do_engine_steps()
    _complete_ready(workflow)
    restored = _serializer().deserialize_json(_serializer().serialize_json(workflow))
    _complete_ready(restored)
    assert restored.is_completed()
    assert any(t.data.get("leaked") == "tuple" for t in restored.get_tasks())


def test_call_service_without_registry_raises_clear_error():
    engine = SandboxedScriptEngine()
    with pytest.raises(EngineError, match="no connector registry"):
        engine.call_service(_FakeTask(), operation_name="nhs.pds_lookup", operation_params={})


def test_call_service_encodes_non_text_results_and_passes_plain_params():
    seen = {}

    def registry(name, params, data):
        seen.update(name=name, params=params, data=data)
        return {"when": date(2026, 1, 2)}

    engine = SandboxedScriptEngine(call_service=registry)
    result = engine.call_service(_FakeTask(), operation_name="x.y",
                                 operation_params={"a": {"value": 1, "type": "int"}})
    assert result == '{"when": "2026-01-02"}'
    assert seen == {"name": "x.y", "params": {"a": 1}, "data": {"k": "v"}}


def test_validate_keeps_dmn_syntax_contract():
    engine = SandboxedScriptEngine()
    engine.validate("x >= 3")
    with pytest.raises(SyntaxError):
        engine.validate(">= 3")
    with pytest.raises(ScriptError):
        engine.validate("x.__class__")


class _FakeSpec:
    bpmn_id = "svc"
    bpmn_name = "Service"
    name = "svc"


class _FakeTask:
    task_spec = _FakeSpec()
    data = {"k": "v"}
