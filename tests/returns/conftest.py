"""The process-journey fixtures (real engine on the test database, a clock the tests move), reused here."""

from tests.processes.conftest import clock, finance_session, start, wf  # noqa: F401
