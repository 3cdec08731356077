"""What the application plugs into the engine: connectors, hooks, roles, clock, calendar."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonschema

from engine.errors import Invalid


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Connector:
    """A named service-task target. ``func(params: dict) -> JSON-serializable result``."""

    name: str
    func: Callable[[dict], Any]
    params_schema: dict | None = None
    retries: int = 3
    backoff_seconds: int = 30

    def validate(self, params: dict) -> None:
        if self.params_schema is None:
            return
        errors = sorted(jsonschema.Draft202012Validator(self.params_schema).iter_errors(params),
                        key=lambda e: list(e.path))
        if errors:
            msgs = "; ".join(f"{'/'.join(map(str, e.path)) or '(params)'}: {e.message}" for e in errors)
            raise Invalid(f"connector {self.name!r}: invalid parameters: {msgs}")


class ConnectorRegistry:
    def __init__(self):
        self._connectors: dict[str, Connector] = {}

    def register(self, name: str, func: Callable[[dict], Any], params_schema: dict | None = None, *,
                 retries: int = 3, backoff_seconds: int = 30) -> Connector:
        if params_schema is not None:
            jsonschema.Draft202012Validator.check_schema(params_schema)
        connector = Connector(name, func, params_schema, retries, backoff_seconds)
        self._connectors[name] = connector
        return connector

    def get(self, name: str | None) -> Connector | None:
        return self._connectors.get(name) if name else None

    def names(self) -> set[str]:
        return set(self._connectors)

    def __contains__(self, name: str) -> bool:
        return name in self._connectors


@dataclass
class Hooks:
    """Callbacks into the application. All optional.

    resolve_team(business_key, role) -> team id or None   (team of a new work item, from the case)
    on_event(event: dict) -> None   called for every history event, INSIDE the operation's transaction;
                                    send notifications only after commit (see ``OperationResult.events``).
    """

    resolve_team: Callable[[str | None, str | None], str | None] | None = None
    on_event: Callable[[dict], None] | None = None


@dataclass
class EngineConfig:
    clock: Callable[[], datetime] = utc_now
    calendar: Any = None
    connectors: ConnectorRegistry = field(default_factory=ConnectorRegistry)
    hooks: Hooks = field(default_factory=Hooks)
    known_roles: Iterable[str] = ()
    unmatched_messages: str = "keep"  # keep | reject
    late_timer_seconds: int = 60  # a firing later than this after its due time is recorded as late
    timer_batch: int = 50
