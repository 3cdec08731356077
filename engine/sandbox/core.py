"""Sandboxed SpiffWorkflow script engine: compile cache, environment, helpers, engine, static checks."""

from __future__ import annotations

import ast
import copy
import json
import sys
import traceback
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from datetime import time as dt_time
from decimal import Decimal
from functools import lru_cache
from types import CodeType, ModuleType
from zoneinfo import ZoneInfo

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.calendar import WorkingDayCalendar, as_date
from engine.errors import EngineError, ScriptError
from engine.sandbox.guards import (
    SCRIPT_FILENAME,
    CaseworkPolicy,
    LimitExceeded,
    Run,
    SandboxLimits,
    SandboxViolation,
)

LONDON = ZoneInfo("Europe/London")

_ALLOWED_BUILTINS = {
    "None": None, "True": True, "False": False,
    "abs": abs, "all": all, "any": any, "bool": bool, "chr": chr, "dict": dict, "divmod": divmod,
    "enumerate": enumerate, "filter": filter, "float": float, "frozenset": frozenset, "int": int,
    "isinstance": isinstance, "len": len, "list": list, "map": map, "max": max, "min": min, "ord": ord,
    "reversed": reversed, "round": round, "set": set, "sorted": sorted, "str": str, "sum": sum,
    "tuple": tuple, "zip": zip,
    "Exception": Exception, "ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError,
    "IndexError": IndexError, "ZeroDivisionError": ZeroDivisionError, "ArithmeticError": ArithmeticError,
    "LookupError": LookupError,
}


# ------------------------------------------------------------------------------------------------ compiling
@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> CodeType:
    """Compile configurator code with the sandbox policy. Cached by (source, mode). Raises ScriptError."""
    if len(source) > SandboxLimits.max_source_chars:
        raise ScriptError(f"the {'expression' if mode == 'eval' else 'script'} is too long "
                          f"({len(source):,} characters)", expression=source[:200])
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    text = source.strip() if mode == "eval" else source
    result = compiler(text, filename=SCRIPT_FILENAME, policy=CaseworkPolicy)
    if result.errors or result.code is None:
        message = "; ".join(_tidy(e) for e in result.errors) or "could not compile"
        raise ScriptError(message, expression=source)
    return result.code


def _tidy(message: str) -> str:
    return message.replace('"', "'").rstrip(".")


def check_expression(source: str | None) -> str | None:
    """Return a problem message if ``source`` is not an allowed expression, else None (publish-time check)."""
    if source is None or not str(source).strip():
        return "the expression is empty"
    try:
        _compile(str(source), "eval")
    except ScriptError as exc:
        return exc.message
    return None


def check_script(source: str | None) -> str | None:
    """Return a problem message if ``source`` is not an allowed script, else None (publish-time check)."""
    if source is None:
        return None
    try:
        _compile(str(source), "exec")
    except ScriptError as exc:
        return exc.message
    return None


# ------------------------------------------------------------------------------------------------ helpers
def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def build_helpers(clock: Callable[[], datetime], calendar: WorkingDayCalendar) -> dict:
    """The helper functions configurator code may call (besides safe builtins). Functions only: no
    modules, no classes (``date``/``datetime`` are wrapped constructors, so class attributes stay out of
    reach)."""

    def now() -> datetime:
        value = clock()
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    def today() -> date:
        return now().astimezone(LONDON).date()

    def make_date(year, month, day):
        return date(year, month, day)

    def make_datetime(year, month, day, hour=0, minute=0, second=0):
        return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)

    def make_timedelta(days=0, hours=0, minutes=0, seconds=0, weeks=0):
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, weeks=weeks)

    def parse_datetime(value):
        if isinstance(value, datetime):
            return value
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)

    def iso(value) -> str:
        if isinstance(value, (date, datetime, dt_time)):
            return value.isoformat()
        raise TypeError("iso() expects a date or datetime")

    return {
        "now": now,
        "today": today,
        "date": make_date,
        "datetime": make_datetime,
        "timedelta": make_timedelta,
        "parse_date": as_date,
        "parse_datetime": parse_datetime,
        "iso": iso,
        "working_days_after": calendar.working_days_after,
        "working_days_between": calendar.working_days_between,
        "is_working_day": calendar.is_working_day,
        "next_working_day": calendar.next_working_day,
        "months_after": calendar.months_after,
    }


def _check_helpers(helpers: dict) -> dict:
    for name, value in helpers.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"helper name {name!r} is not allowed")
        if isinstance(value, (ModuleType, type)) or not callable(value):
            raise ValueError(f"helper {name!r} must be a function (not a module, class or value)")
    return dict(helpers)


# ------------------------------------------------------------------------------------------------ data out
_STORABLE_SCALARS = (str, int, float, bool, type(None), datetime, timedelta)


def to_storable(value, limits: SandboxLimits, name: str, budget: list[int] | None = None):
    """Copy ``value`` into something the serializer can store, within the output size limit (``budget``, a
    one-item list, is shared between the variables of one script). ``date`` becomes an ISO string (as dates
    from forms are), sets and tuples become lists, Decimal a string."""
    budget = budget if budget is not None else [limits.max_output]

    def spend(n: int):
        budget[0] -= n
        if budget[0] < 0:
            raise LimitExceeded(f"the data written by the script is too large at {name!r} (limit about "
                                f"{limits.max_output:,} characters in all)")

    def conv(v, depth: int):
        if depth > 50:
            raise LimitExceeded(f"the data written to {name!r} is nested too deeply")
        if isinstance(v, bool) or v is None:
            spend(4)
            return v
        if isinstance(v, (int, float)):
            spend(8)
            return v
        if isinstance(v, str):
            spend(len(v) + 2)
            return v
        if isinstance(v, (datetime, timedelta)):
            spend(32)
            return v
        if isinstance(v, date):
            spend(12)
            return v.isoformat()
        if isinstance(v, Decimal):
            spend(16)
            return str(v)
        if isinstance(v, dict):
            spend(2)
            out = {}
            for k, item in v.items():
                if not isinstance(k, (str, int)):
                    raise ScriptError(f"{name!r}: dictionary keys must be text or numbers")
                spend(len(str(k)) + 4)
                out[k] = conv(item, depth + 1)
            return out
        if isinstance(v, (list, tuple, set, frozenset)):
            spend(2)
            items = sorted(v, key=repr) if isinstance(v, (set, frozenset)) else v
            return [conv(item, depth + 1) for item in items]
        raise ScriptError(f"{name!r} holds {type(v).__name__!s} which cannot be saved in the task data")

    return conv(value, 0)


# ------------------------------------------------------------------------------------------------ running
class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs configurator code through RestrictedPython with guards and limits. SpiffWorkflow
    calls ``environment.evaluate`` directly for correlation expressions and process conditions; those are
    covered too."""

    def __init__(self, *, helpers: dict | None = None, clock: Callable[[], datetime] | None = None,
                 limits: SandboxLimits | None = None, calendar: WorkingDayCalendar | None = None):
        super().__init__({})
        self.clock = clock or _utc_now
        self.limits = limits or SandboxLimits()
        self.calendar = calendar or WorkingDayCalendar()
        self.extra_helpers = _check_helpers(helpers or {})
        self._base_builtins = dict(_ALLOWED_BUILTINS)
        self._base_builtins.update(build_helpers(lambda: self.clock(), self.calendar))
        self._base_builtins.update(self.extra_helpers)

    def _builtins(self, run: Run) -> dict:
        builtins = dict(self._base_builtins)
        builtins.update(run.guards())
        return builtins

    def _globals(self, run: Run, context: dict | None, external_context: dict | None) -> dict:
        glb = {}
        for source in (external_context or {}, context or {}):
            for key, value in source.items():
                if isinstance(key, str) and key.isidentifier() and not key.startswith("_"):
                    glb[key] = value
        glb["__builtins__"] = self._builtins(run)
        return glb

    def evaluate(self, expression, context, external_context=None):
        code = _compile(_as_source(expression), "eval")
        run = Run(self.limits, read_only=True)
        glb = self._globals(run, context, external_context)
        result = _traced(run, expression, lambda: eval(code, glb))  # noqa: S307 - restricted code
        try:
            to_storable(result, self.limits, "the result")
        except LimitExceeded as exc:
            raise ScriptError(f"expression result too large: {exc}", expression=expression) from None
        except ScriptError:
            # e.g. a generator or a function: it would run configurator code later, outside the sandbox
            raise ScriptError(f"the expression gave {_describe_value(result)}, which is not a value "
                              "(text, number, date, list or dictionary)", expression=expression) from None
        return result

    def execute(self, script, context, external_context=None):
        code = _compile(_as_source(script), "exec")
        run = Run(self.limits, read_only=False)
        data = {k: v for k, v in context.items() if isinstance(k, str) and not k.startswith("_")}
        working = copy.deepcopy(data)
        glb = self._globals(run, working, external_context)
        _traced(run, script, lambda: exec(code, glb))  # noqa: S102 - restricted code
        external_keys = set(external_context or {}) - set(data)
        updates, removed = {}, [k for k in data if k not in glb]
        budget = [self.limits.max_output]
        try:
            for key, value in glb.items():
                if key == "__builtins__" or key.startswith("_") or key in external_keys:
                    continue
                if callable(value) and not isinstance(value, (dict, list)):
                    continue  # functions defined by the script are not data (as in SpiffWorkflow)
                if key in data and _same(value, data[key]):
                    continue
                updates[key] = to_storable(value, self.limits, key, budget)
        except LimitExceeded as exc:
            raise ScriptError(str(exc), expression=script) from None
        for key in removed:
            context.pop(key, None)
        context.update(updates)
        return True

    def call_service(self, context, **kwargs):
        raise EngineError("service calls go through SandboxedScriptEngine.call_service")


def _describe_value(value) -> str:
    kind = type(value).__name__
    return "a function" if callable(value) else f"a {kind} object"


def _same(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - odd comparisons count as "changed"
        return False


def _as_source(source) -> str:
    if source is None:
        raise ScriptError("the expression is empty")
    return source if isinstance(source, str) else str(source)


def _traced(run: Run, source: str, thunk):
    """Run ``thunk`` with this thread's trace function counting steps/time/memory. Other threads are not
    affected (sys.settrace is per thread), so this works inside web server and worker threads."""
    previous = sys.gettrace()
    sys.settrace(run.tracer)
    try:
        return thunk()
    except LimitExceeded as exc:
        raise ScriptError(f"limit exceeded: {exc}", expression=source) from None
    except SandboxViolation as exc:
        raise ScriptError(f"not allowed: {exc}", expression=source) from None
    except ScriptError:
        raise
    except RecursionError:
        raise ScriptError("limit exceeded: too much recursion", expression=source) from None
    except MemoryError:
        raise ScriptError("limit exceeded: out of memory", expression=source) from None
    except Exception as exc:  # noqa: BLE001 - any error in configurator code becomes a ScriptError
        detail = str(exc)
        if len(detail) > 300:
            detail = detail[:300] + "..."
        raise ScriptError(f"{type(exc).__name__}: {detail}{_line_of(exc)}", expression=source) from None
    finally:
        sys.settrace(previous)


def _line_of(exc: BaseException) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == SCRIPT_FILENAME]
    return f" (line {lines[-1]})" if lines else ""


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine whose every evaluation runs in the sandbox.

    ``call_service`` (a callable ``(operation_name, params, task_data) -> result``) is the connector registry;
    ``params`` is ``{name: evaluated value}``. A result that is not a str is JSON-encoded (SpiffWorkflow
    decodes it into the task's result variable).
    """

    def __init__(self, helpers: dict | None = None, clock: Callable[[], datetime] | None = None,
                 limits: SandboxLimits | None = None, *, calendar: WorkingDayCalendar | None = None,
                 call_service: Callable | None = None):
        super().__init__(environment=SandboxedEnvironment(helpers=helpers, clock=clock, limits=limits,
                                                          calendar=calendar))
        self.service_caller = call_service

    @property
    def clock(self):
        return self.environment.clock

    @clock.setter
    def clock(self, value):
        self.environment.clock = value

    @property
    def limits(self) -> SandboxLimits:
        return self.environment.limits

    def validate(self, expression):
        """Used by SpiffWorkflow's DMN engine: SyntaxError for unparsable text (it relies on that)."""
        ast.parse(expression)  # parse only, never run
        message = check_expression(expression)
        if message:
            raise ScriptError(message, expression=expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ScriptError as exc:
            raise _with_task(exc, task, "expression") from None

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except ScriptError as exc:
            raise _with_task(exc, task, "script") from None

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        element = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
        if self.service_caller is None:
            raise EngineError(f"service task {element!r} calls connector {operation_name!r} but no connector "
                              "registry is attached to the script engine", element_id=element)
        params = {name: (p.get("value") if isinstance(p, dict) else p)
                  for name, p in (operation_params or {}).items()}
        result = self.service_caller(operation_name, params, task.data)
        return result if isinstance(result, str) else json.dumps(result, default=str)


def _with_task(exc: ScriptError, task, kind: str) -> ScriptError:
    spec = task.task_spec
    element = getattr(spec, "bpmn_id", None) or spec.name
    name = getattr(spec, "bpmn_name", None)
    label = f"{element} ({name})" if name else str(element)
    return ScriptError(f"{kind} in {label} failed: {exc.message}", element_id=element,
                       expression=exc.expression)


def attach(workflow, engine: SandboxedScriptEngine):
    """Put the sandboxed engine on a (freshly deserialized) workflow. Subprocess workflows read their engine
    from the top workflow; this checks they all see it. Returns the workflow."""
    top = getattr(workflow, "top_workflow", workflow)
    top.script_engine = engine
    for sub in getattr(top, "subprocesses", {}).values():
        if sub.script_engine is not engine:  # pragma: no cover - SpiffWorkflow 3.2 delegates to the top
            raise EngineError("a subprocess did not pick up the sandboxed script engine")
    return workflow
