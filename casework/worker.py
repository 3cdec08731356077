"""Timer worker: fires due workflow timers (statutory timescales) through the engine."""

from __future__ import annotations

import threading
import time

from flask import Flask


def run_once(app: Flask, *, limit: int = 500) -> int:
    """Fire what is due now; returns how many timers fired."""
    from casework.engine_host import fire_due_timers

    with app.app_context():
        return fire_due_timers(app, limit=limit)


def start_background_worker(app: Flask, *, interval: float = 5.0) -> threading.Thread:
    """Embedded mode (SQLite, one process): a daemon thread polls for due timers."""

    def loop() -> None:
        while True:
            try:
                fired = run_once(app)
            except Exception:  # noqa: BLE001 - the thread must survive a bad timer; the error is logged
                app.logger.exception("timer worker pass failed")
                fired = 0
            if not fired:
                time.sleep(interval)

    thread = threading.Thread(target=loop, name="casework-timer-worker", daemon=True)
    thread.start()
    return thread
