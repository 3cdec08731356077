"""Service navigation: blueprints register their entries; each shows only to users allowed to use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, g, request, url_for

from casework.auth.access import Actor
from casework.auth.permissions import Permission


@dataclass(frozen=True)
class NavEntry:
    label: str
    endpoint: str
    permission: Permission | None  # None: any signed-in user
    order: int = 100
    count: Callable[[Actor], int] | None = None  # e.g. open tasks, shown as "My work (3)"


_entries: list[NavEntry] = []


def register_nav(entry: NavEntry) -> None:
    if all(e.endpoint != entry.endpoint for e in _entries):
        _entries.append(entry)
        _entries.sort(key=lambda e: e.order)


def _navigation() -> list[dict[str, object]]:
    actor: Actor | None = g.get("actor")
    if actor is None:
        return []
    items = []
    for entry in _entries:
        if entry.permission is not None and not actor.can(entry.permission):
            continue
        text = entry.label
        if entry.count is not None:
            text = f"{entry.label} ({entry.count(actor)})"
        href = url_for(entry.endpoint)
        items.append({"text": text, "href": href, "active": request.path == href})
    return items


def install(app: Flask) -> None:
    @app.context_processor
    def _inject() -> dict[str, object]:
        return {"actor": g.get("actor"), "cspNonce": g.get("csp_nonce"), "navigation": _navigation}
