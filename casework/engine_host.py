"""The application's single configured WorkflowEngine (clock, calendar, connectors, hooks)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from casework.config import Settings


def publish_directory(session: Session, settings: Settings, *, actor: str) -> list[str]:
    return [f"No processes published from {settings.processes_dir} (engine publishing not wired yet)"]


def fire_due_timers(app: Flask, *, limit: int) -> int:
    return 0
