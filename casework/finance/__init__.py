"""Minimal finance records for payment authorisation (process 5): providers, service agreements, payment
schedules and payment runs exported as CSV. See docs/finance.md.

Importing the package registers the engine connectors (finance.*) and the demo step.
"""

from casework.finance import connectors as _connectors  # noqa: F401  (registers finance.* connectors)
from casework.finance import demo as _demo  # noqa: F401  (registers the demo step)
