"""The compile policy and run-time guards of the sandbox (see ``engine/sandbox/__init__.py`` for the design).

Everything here is about *what configurator code may do*; the script engine glue lives in ``engine.py``.
"""

from __future__ import annotations

import ast
import operator
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence


@dataclass(frozen=True)
class SandboxLimits:
    """Per-evaluation limits. One "step" is one traced line event (a loop iteration counts as one or more)."""

    max_seconds: float = 1.0  # CPU time of the evaluating thread, checked on every traced line
    max_steps: int = 1_000_000  # traced line events per evaluation (deterministic CPU bound)
    max_items: int = 100_000  # length of one list/tuple/range built by a guarded operation
    max_chars: int = 1_000_000  # length of one str/bytes built by a guarded operation
    max_int_bits: int = 65_536  # size of an int built by **, *, <<
    max_allocated: int = 20_000_000  # total items+chars built by guarded operations in one evaluation
    max_output: int = 1_000_000  # approximate size (chars) of data a script writes / an expression returns
    max_memory_mb: int = 256  # growth of the process's resident memory during one evaluation
    max_source_chars: int = 100_000  # length of one script/expression


SCRIPT_FILENAME = "<script>"  # the file name configurator code is compiled under


class SandboxViolation(BaseException):  # noqa: N818 - BaseException on purpose: `except Exception` can't catch it
    """Raised inside the sandbox when code does something forbidden. Not catchable by sandboxed code."""


class LimitExceeded(BaseException):  # noqa: N818
    """Raised inside the sandbox when a time/step/size/memory limit is hit. Not catchable by sandboxed
    code."""


# --------------------------------------------------------------------------------------------- compile policy
_WIDTH_RE = re.compile(r"\d+")
_PERCENT_SPEC_RE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class CaseworkPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus: no imports, classes, generators, ``with``, ``finally``, bare
    ``except``, ``print``; size-checked ``+ * ** << %``
    (rewritten into ``_binop_``); constant, small format specs in f-strings."""

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        name = _GUARDED_BINOPS.get(type(node.op))
        if name is None:
            return node
        call = ast.Call(func=ast.Name("_binop_", ast.Load()),
                        args=[ast.Constant(name), node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_Name(self, node):
        if node.id in ("print", "printed"):
            self.error(node, "print() is not available in scripts; put values into the task data instead.")
            return node
        return super().visit_Name(node)

    def visit_Import(self, node):
        self.error(node, "Imports are not allowed in scripts; use the helper functions provided.")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "Class definitions are not allowed in scripts.")
        return node

    def visit_Yield(self, node):
        self.error(node, "Generators (yield) are not allowed in scripts.")
        return node

    visit_YieldFrom = visit_Yield

    def visit_With(self, node):
        self.error(node, "'with' statements are not allowed in scripts.")
        return node

    def visit_Global(self, node):
        self.error(node, "'global' statements are not allowed in scripts.")
        return node

    def visit_Try(self, node):
        if node.finalbody:
            self.error(node, "'finally' blocks are not allowed in scripts.")
        return super().visit_Try(node)

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.error(node, "A bare 'except:' is not allowed; name the error, e.g. 'except ValueError:'.")
        return super().visit_ExceptHandler(node)

    def visit_FormattedValue(self, node):
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            for part in parts:
                if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                    self.error(node, "f-string format specifications must be constant text.")
                    return node
                if any(len(number) > 3 for number in _WIDTH_RE.findall(part.value)):
                    self.error(node, "f-string format width/precision is too large (at most 999).")
                    return node
        return super().visit_FormattedValue(node)


_GUARDED_BINOPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}

_INPLACE = {
    "+=": operator.add, "-=": operator.sub, "*=": operator.mul, "/=": operator.truediv,
    "//=": operator.floordiv, "%=": operator.mod, "**=": operator.pow, "<<=": operator.lshift,
    ">>=": operator.rshift, "|=": operator.or_, "&=": operator.and_, "^=": operator.xor,
    "@=": operator.matmul,
}
_BINOPS = {"+": operator.add, "*": operator.mul, "**": operator.pow, "<<": operator.lshift, "%": operator.mod}

# ----------------------------------------------------------------------------------------- attribute policy
# Attribute access is allowed on instances of these exact types only (never on types, modules, functions,
# methods, generators, frames, code objects, exceptions, ...). Names starting with "_" are refused at compile
# time by RestrictedPython and again here.
_SAFE_ATTR_TYPES = frozenset({
    str, bytes, int, float, bool, complex, list, tuple, dict, set, frozenset, date, datetime, dt_time,
    timedelta, Decimal, type({}.keys()), type({}.values()), type({}.items()),
})
_REFUSED_ATTRS = {
    str: {"format", "format_map", "translate", "maketrans"},  # translate: 1 char -> any length
    bytes: {"translate", "maketrans"},
    int: {"to_bytes"},  # to_bytes(10**9) allocates a gigabyte in one call
    date: {"today", "fromtimestamp", "fromordinal"},
    datetime: {"today", "now", "utcnow", "fromtimestamp", "utcfromtimestamp", "fromordinal"},
}
_MUTATORS = {
    list: {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"},
    dict: {"pop", "popitem", "clear", "update", "setdefault"},
    set: {"add", "discard", "remove", "pop", "clear", "update", "difference_update",
          "intersection_update", "symmetric_difference_update"},
}


class Run:
    """State of one evaluation: counters, limits, and the guard functions bound to them."""

    def __init__(self, limits: SandboxLimits, *, read_only: bool):
        self.limits = limits
        self.read_only = read_only
        self.steps = 0
        self.allocated = 0
        self.tripped: BaseException | None = None
        # CPU time, not wall time: a busy machine must not fail a script that did nothing wrong
        self.started = time.thread_time()
        self.deadline = self.started + limits.max_seconds
        self.rss_start: int | None = None  # taken at the first check
        self.next_rss_check = self.started + 0.002  # baseline after 2 ms: short evaluations skip it

    # ---- tracing (CPU time / steps / memory)
    def tracer(self, frame, event, arg):
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None  # trusted code (our guards, helpers such as the calendar): not line-traced
        return self._local

    def _local(self, frame, event, arg):
        if event == "line":
            self.steps += 1
            if self.tripped is not None:
                raise self.tripped
            if self.steps > self.limits.max_steps:
                self._trip(f"the script ran for more than {self.limits.max_steps:,} steps "
                           "(an endless loop?)")
            now = time.thread_time()
            if now > self.deadline:
                self._trip(f"the script ran for more than {self.limits.max_seconds:g} s (an endless loop?)")
            if not self.steps & 255 or now > self.next_rss_check:
                # resident memory: every 256 steps, and at least every 10 ms (a few big steps)
                self.next_rss_check = now + 0.01
                rss = _rss_bytes()
                if self.rss_start is None:
                    self.rss_start = rss
                elif rss is not None and rss - self.rss_start > self.limits.max_memory_mb * 1024 * 1024:
                    self._trip(f"the script used more than {self.limits.max_memory_mb} MB of memory")
        return self._local

    def _trip(self, message: str):
        self.tripped = LimitExceeded(message)
        raise self.tripped

    # ---- size accounting
    def _account(self, size: int, what: str, limit: int):
        if size > limit:
            raise LimitExceeded(f"{what} would have {size:,} elements (the limit is {limit:,})")
        self.allocated += size
        if self.allocated > self.limits.max_allocated:
            raise LimitExceeded(f"the script built too much data (more than {self.limits.max_allocated:,} "
                                "elements in total)")

    def _check_seq(self, size: int, kind: type):
        if issubclass(kind, (str, bytes)):
            self._account(size, "a text", self.limits.max_chars)
        else:
            self._account(size, "a list", self.limits.max_items)

    def _check_int(self, bits: int):
        if bits > self.limits.max_int_bits:
            raise LimitExceeded(f"a number would have about {bits:,} bits (the limit is "
                                f"{self.limits.max_int_bits:,})")

    # ---- guards used by the compiled code
    def binop(self, op: str, a, b):
        if op == "+":
            if isinstance(a, (str, bytes, list, tuple)) and isinstance(b, (str, bytes, list, tuple)):
                self._check_seq(len(a) + len(b), type(a))
        elif op == "*":
            if isinstance(a, int) and isinstance(b, (str, bytes, list, tuple)):
                a, b = b, a
            if isinstance(a, (str, bytes, list, tuple)) and isinstance(b, int):
                self._check_seq(len(a) * max(b, 0), type(a))
            elif isinstance(a, int) and isinstance(b, int):
                self._check_int(a.bit_length() + b.bit_length())
        elif op == "**":
            if isinstance(a, int) and isinstance(b, int) and b > 0:
                self._check_int(max(a.bit_length(), 1) * b if abs(a) > 1 else 1)
        elif op == "<<":
            if isinstance(a, int) and isinstance(b, int):
                self._check_int(a.bit_length() + max(b, 0))
        elif op == "%" and isinstance(a, (str, bytes)):
            self._check_percent_format(a)
        return _BINOPS[op](a, b)

    def inplacevar(self, op: str, a, b):
        if op in ("+=", "*=", "**=", "<<=", "%="):
            return self.binop(op[:-1], a, b)
        func = _INPLACE.get(op)
        if func is None:
            raise SandboxViolation(f"operator {op} is not allowed")
        return func(a, b)

    def _check_percent_format(self, text):
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        for width, precision in _PERCENT_SPEC_RE.findall(text):
            for number in (width, precision):
                if number == "*" or (number and int(number) > 999):
                    raise LimitExceeded("%-format width/precision is too large (at most 999, no '*')")

    def getattr(self, obj, name, default=None):
        if not isinstance(name, str) or name.startswith("_"):
            raise SandboxViolation(f"access to attribute {name!r} is not allowed")
        kind = type(obj)
        if kind not in _SAFE_ATTR_TYPES:
            raise SandboxViolation(f"attributes of {_describe(obj)} are not accessible in scripts")
        if name in _REFUSED_ATTRS.get(kind, ()):
            raise SandboxViolation(f"{kind.__name__}.{name} is not available in scripts")
        if self.read_only and name in _MUTATORS.get(kind, ()):
            raise SandboxViolation(f"an expression may not change data ({kind.__name__}.{name})")
        value = getattr(obj, name) if default is None else getattr(obj, name, default)
        if kind in (str, bytes) and name in _TEXT_AMPLIFIERS:
            return _TEXT_AMPLIFIERS[name](self, obj, value)
        if kind is list and name == "extend":
            return self._guarded_extend(obj)
        return value

    def _guarded_extend(self, target: list):
        def extend(iterable):
            items = iterable if isinstance(iterable, (list, tuple, str, bytes)) else list(iterable)
            self._check_seq(len(target) + len(items), list)
            target.extend(items)
        return extend

    def getitem(self, obj, index):
        if type(obj) not in _SAFE_ATTR_TYPES and not isinstance(obj, range):
            raise SandboxViolation(f"indexing {_describe(obj)} is not allowed")
        return obj[index]

    def getiter(self, obj):
        if isinstance(obj, type) or type(obj).__name__ in ("module", "frame", "code"):
            raise SandboxViolation(f"iterating over {_describe(obj)} is not allowed")
        return iter(obj)

    def write(self, obj):
        if type(obj) in (dict, list):
            if self.read_only:
                raise SandboxViolation("an expression may not change data")
            return obj
        raise SandboxViolation(f"changing {_describe(obj)} is not allowed (only lists and dicts)")

    def range(self, *args):
        r = range(*args)
        self._account(len(r), "range()", self.limits.max_items)
        return r

    def round(self, number, ndigits=None):
        if ndigits is None:
            return round(number)
        if isinstance(ndigits, int) and not -100 <= ndigits <= 100:
            raise LimitExceeded("round() precision must be between -100 and 100")
        return round(number, ndigits)

    def apply(self, func, *args, **kwargs):
        return func(*args, **kwargs)

    def guards(self) -> dict:
        return {
            "_getattr_": self.getattr,
            "_getitem_": self.getitem,
            "_getiter_": self.getiter,
            "_write_": self.write,
            "_inplacevar_": self.inplacevar,
            "_binop_": self.binop,
            "_apply_": self.apply,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "range": self.range,
            "round": self.round,
        }


def _width_guard(self: Run, text, method):
    def call(width, *args):
        if isinstance(width, int):
            self._check_seq(max(width, len(text)), type(text))
        return method(width, *args)
    return call


def _replace_guard(self: Run, text, method):
    def call(old, new, count=-1):
        if isinstance(old, (str, bytes)) and isinstance(new, (str, bytes)) and len(new) > len(old):
            hits = text.count(old) if old else len(text) + 1
            if count is not None and count >= 0:
                hits = min(hits, count)
            self._check_seq(len(text) + hits * (len(new) - len(old)), type(text))
        return method(old, new, count)
    return call


def _join_guard(self: Run, text, method):
    def call(iterable):
        items = list(iterable)
        self._check_seq(sum(len(i) for i in items if isinstance(i, (str, bytes))) + len(text) * len(items),
                        type(text))
        return method(items)
    return call


def _expandtabs_guard(self: Run, text, method):
    def call(tabsize=8):
        if isinstance(tabsize, int):
            self._check_seq(len(text) * max(tabsize, 1), type(text))
        return method(tabsize)
    return call


_TEXT_AMPLIFIERS = {
    "ljust": _width_guard, "rjust": _width_guard, "center": _width_guard, "zfill": _width_guard,
    "replace": _replace_guard, "join": _join_guard, "expandtabs": _expandtabs_guard,
}


def _describe(obj) -> str:
    if isinstance(obj, type):
        return f"the type {obj.__name__!r}"
    kind = type(obj).__name__
    if kind in ("function", "builtin_function_or_method", "method", "method-wrapper"):
        return "a function"
    return f"a {kind} object"


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None
