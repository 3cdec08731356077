"""Sandbox for configurator-written code (script tasks, pre/post scripts, gateway conditions, timer
expressions, DMN cells, correlation expressions, service task parameters).

Design (details in docs/engine-definitions.md):

* **Compile**: RestrictedPython ``compile_restricted`` with :class:`~engine.sandbox.guards.CaseworkPolicy`
  (no imports, no names or attributes starting with ``_``, no classes/generators/with/finally/bare
  except/print, size-checked ``+ * ** << %``). Compiled code is cached by source text.
* **Names**: only a whitelist of builtins and helper *functions* (never modules or classes); task data is
  the global namespace; helpers live in ``__builtins__`` so a form field called ``date`` shadows the helper.
* **Attributes**: allowed only on instances of plain data types (str, numbers, list, dict, set, date, ...);
  never on types, modules, functions, generators, frames or exceptions.
* **CPU**: a per-thread ``sys.settrace`` hook counts line events of configurator code (trusted helpers are not traced)
  and checks the thread's CPU time on each one;
  over budget it raises an exception sandboxed code cannot catch. Works in any thread (SIGALRM works only in
  the main thread and would interrupt the server); the cost is a slower interpreter while
  configurator code runs.
* **Memory/size**: amplifying operations are checked *before* they run (sequence ``+``/``*``, ``**``, ``<<``,
  ``range``, ``str.ljust``/``replace``/``join``..., ``list.extend``), with a per-evaluation total; resident
  memory growth is checked every 256 steps; data written back and expression results are size-limited.
* **Errors**: every failure becomes :class:`engine.errors.ScriptError` (with the element id when a task is
  known); nothing is written to the task data unless the script completes.
"""

from engine.sandbox.core import (
    SandboxedEnvironment,
    SandboxedScriptEngine,
    attach,
    build_helpers,
    check_expression,
    check_script,
)
from engine.sandbox.guards import SandboxLimits

__all__ = [
    "SandboxLimits",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "attach",
    "build_helpers",
    "check_expression",
    "check_script",
]
