"""Imports every module that defines tables, so metadata (and Alembic autogenerate) sees them all.

Add a line here when you add a models module.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import casework.accounts.models  # noqa: F401
import casework.audit.models  # noqa: F401
import casework.auth.models  # noqa: F401
import casework.configuration.models  # noqa: F401
import casework.drafts.models  # noqa: F401
import casework.finance.models  # noqa: F401
import casework.records.models  # noqa: F401
from casework.db import Base


def all_metadata() -> list[MetaData]:
    from engine.schema import metadata as engine_metadata

    return [Base.metadata, engine_metadata]
