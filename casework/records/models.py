"""All case-record models (imported by casework.model_registry)."""

from casework.records.models_case import Allocation, Case, CaseProcess
from casework.records.models_change import RecordChange
from casework.records.models_chronology import ChronologyEntry
from casework.records.models_document import Document, DocumentAccess, DocumentVersion
from casework.records.models_note import CaseNote, NoteCorrection, NotePerson
from casework.records.models_person import (
    Person,
    PersonAddress,
    PersonAlert,
    PersonContact,
    PersonName,
    PersonRestriction,
)
from casework.records.models_relationship import Involvement, PersonRelationship

__all__ = [
    "Allocation", "Case", "CaseNote", "CaseProcess", "ChronologyEntry", "Document", "DocumentAccess",
    "DocumentVersion", "Involvement", "NoteCorrection", "NotePerson", "Person", "PersonAddress", "PersonAlert",
    "PersonContact", "PersonName", "PersonRelationship", "PersonRestriction", "RecordChange",
]
