"""The case record: people, relationships, cases, notes, chronology, alerts, documents, NHS PDS lookup.

Importing the package registers the demo population step (casework demo --people N), the
nhs.pds_lookup connector and the engine event listener that feeds the chronology.
"""

from casework.records import chronology_workflow as _chronology_workflow
from casework.records import demo as _demo  # noqa: F401  (registers the demo step)
from casework.records import pds as _pds

_pds.register()  # the nhs.pds_lookup connector for service tasks
_chronology_workflow.register()  # significant workflow events -> the case's person's chronology
