"""The script engine every workflow runs with: the sandbox plus connector dispatch for service tasks.

It is attached to every workflow the engine builds or deserializes (SpiffWorkflow does not restore a custom
script engine on deserialize)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from engine.errors import Invalid
from engine.sandbox import SandboxedScriptEngine


class ConnectorFailure(Exception):
    """A connector raised or returned something unusable; becomes an incident with retry."""

    def __init__(self, connector: str, message: str):
        super().__init__(f"connector {connector!r} failed: {message}")
        self.connector = connector


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def make_service_caller(registry):
    """``(operation_name, params, task_data) -> result``: the connector registry behind service tasks."""

    def call(operation_name, params, task_data):
        connector = registry.get(operation_name)
        if connector is None:
            raise ConnectorFailure(operation_name or "?", "no such connector is registered")
        try:
            connector.validate(params)
        except Invalid as exc:
            raise ConnectorFailure(operation_name, exc.message) from exc
        try:
            result = connector.func(params)
        except Exception as exc:  # noqa: BLE001 - any connector error becomes an incident
            raise ConnectorFailure(operation_name, f"{type(exc).__name__}: {exc}") from exc
        try:
            return json.dumps(result, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise ConnectorFailure(operation_name, f"result is not JSON: {exc}") from exc

    return call


def build_script_engine(helpers: dict[str, Any], clock: Callable[[], datetime], calendar, connectors):
    """Return the sandboxed script engine, its service calls going to the connector registry."""
    return SandboxedScriptEngine(helpers=dict(helpers), clock=clock, calendar=calendar,
                                 call_service=make_service_caller(connectors))
