"""Loading the bundled BPMN processes and forms into published engine definitions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from casework.config import Settings


def load_bundled_processes(session: Session, settings: Settings, *, actor: str) -> list[str]:
    """Publish every process in processes/ whose content changed; returns report lines."""
    from casework.engine_host import publish_directory

    return publish_directory(session, settings, actor=actor)
