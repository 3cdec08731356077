"""The case record: people, relationships, cases, notes, chronology, alerts, documents, NHS PDS lookup.

Importing the package registers the demo population step (casework demo --people N).
"""

from casework.records import demo as _demo  # noqa: F401  (registers the demo step)
