"""Per-IP fixed-window rate limits on sign-in and the API.

Choice: in-process (a dict per app, guarded by a lock), not in the database. Sign-in and API traffic would
otherwise add a write (and on SQLite a global write lock) to every request. The cost: each server process
counts on its own, so N gunicorn workers allow up to N x the limit. Brute force on one account is still
stopped across processes by the per-account lockout, which is in the database (casework.auth.login).
Behind a reverse proxy set CASEWORK_TRUSTED_PROXIES so the client address comes from X-Forwarded-For.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from flask import Flask, g, request

from casework.errors import TooManyRequests

SIGN_IN_ENDPOINTS = {"auth.login", "auth.sign_in_code"}
WINDOW_SECONDS = 60


class FixedWindowLimiter:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, scope: str, key: str, limit: int, window: int = WINDOW_SECONDS) -> int | None:
        """Count one request; return None if allowed, else the seconds until the window resets."""
        now = self._clock()
        index = int(now // window)
        with self._lock:
            if len(self._counts) >= self._max_keys:
                self._counts = {k: v for k, v in self._counts.items() if k[2] >= index}
                if len(self._counts) >= self._max_keys:
                    # Too many distinct addresses in one window (a wide distributed flood): start counting
                    # afresh rather than grow without bound. Fails open; the per-account lockout still holds.
                    self._counts.clear()
            count = self._counts.get((scope, key, index), 0) + 1
            self._counts[(scope, key, index)] = count
            # drop the previous window's entry for this key as we pass
            self._counts.pop((scope, key, index - 1), None)
        if count > limit:
            return max(1, math.ceil((index + 1) * window - now))
        return None


def limiter_for(app: Flask) -> FixedWindowLimiter:
    return app.extensions.setdefault("casework_rate_limiter", FixedWindowLimiter())


def check(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    ip = request.remote_addr or "unknown"
    if request.endpoint in SIGN_IN_ENDPOINTS and request.method == "POST":
        scope, limit = "sign-in", settings.signin_rate_per_minute
    elif request.path.startswith("/api/"):
        scope, limit = "api", settings.api_rate_per_minute
    else:
        return
    retry_after = limiter_for(app).hit(scope, ip, limit)
    if retry_after is not None:
        g.retry_after = retry_after
        app.logger.warning("rate limit %s exceeded ip=%s", scope, ip)
        raise TooManyRequests(f"Too many requests. Wait {retry_after} seconds and try again.",
                              details={"retry_after": retry_after})
