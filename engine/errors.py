"""Engine errors. casework maps these to HTTP statuses in one place.

EngineError        base class (500 if it escapes unmapped)
NotFound           404  unknown definition / instance / work item / message correlation (reject policy)
Conflict           409  stale version, task no longer READY, already claimed by someone else
Invalid            422  bad input: data, bundle problems (``problems`` list), migration blockers
Forbidden          403  not your task, four-eyes rule
ScriptError        a sandboxed script/expression failed or violated the sandbox
IncidentError      a step failed and an incident was recorded (``incident_id``)
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class for all engine errors."""

    status = 500

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class NotFound(EngineError):
    status = 404


class Conflict(EngineError):
    status = 409


class Invalid(EngineError):
    status = 422

    def __init__(self, message: str = "", problems: list | None = None, **details):
        super().__init__(message, **details)
        self.problems = list(problems or [])


class Forbidden(EngineError):
    status = 403


class ScriptError(EngineError):
    """A sandboxed script or expression failed (syntax, runtime error, violation, limit)."""

    status = 422

    def __init__(self, message: str = "", *, element_id: str | None = None, expression: str | None = None,
                 **details):
        super().__init__(message, **details)
        self.element_id = element_id
        self.expression = expression


class IncidentError(EngineError):
    """A step failed; an incident row was written and the instance is in status 'error'."""

    status = 409

    def __init__(self, message: str = "", *, incident_id: int | None = None, **details):
        super().__init__(message, **details)
        self.incident_id = incident_id
