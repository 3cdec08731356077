"""The case record: people, relationships, cases, notes, chronology, alerts, documents, NHS PDS lookup.

Importing the package registers the demo population step (casework demo --people N) and the
nhs.pds_lookup connector.
"""

from casework.records import demo as _demo  # noqa: F401  (registers the demo step)
from casework.records import pds as _pds

_pds.register()  # the nhs.pds_lookup connector for service tasks
