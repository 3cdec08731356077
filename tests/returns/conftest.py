"""The process-journey fixtures (real engine on the test database, a clock the tests move), reused here, and the
DfE's rules engine in its own environment (CIN_VALIDATOR_PYTHON, else installed once into the user's cache)."""

import pytest

from tests.processes.conftest import clock, finance_session, start, wf  # noqa: F401


@pytest.fixture(scope="session")
def dfe_python() -> str:
    from casework.returns.dfe_validator import configured_validator, install_validator

    return configured_validator() or install_validator()
