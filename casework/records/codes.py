"""Code lists used by the case record (DfE CIN census / NHS Data Dictionary). Values are stored as codes."""

from __future__ import annotations

from casework.errors import Invalid

# DfE Children in Need census ethnicity codes (extended list, top level).
ETHNICITY = {
    "WBRI": "White British", "WIRI": "White Irish", "WIRT": "Traveller of Irish heritage",
    "WOTH": "Any other White background", "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean", "MWBA": "White and Black African", "MWAS": "White and Asian",
    "MOTH": "Any other mixed background", "AIND": "Indian", "APKN": "Pakistani", "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background", "BCRB": "Black Caribbean", "BAFR": "Black African",
    "BOTH": "Any other Black background", "CHNE": "Chinese", "OOTH": "Any other ethnic group",
    "REFU": "Refused", "NOBT": "Information not yet obtained",
}

# DfE CIN census disability codes.
DISABILITY = {
    "NONE": "No disability", "MOB": "Mobility", "HAND": "Hand function", "PC": "Personal care",
    "INC": "Incontinence", "COMM": "Communication", "LD": "Learning", "HEAR": "Hearing", "VIS": "Vision",
    "BEH": "Behaviour", "CON": "Consciousness", "AUT": "Autism / Asperger syndrome",
    "DDA": "Other DDA",
}

# NHS Data Dictionary person phenotypic sex (stored as letters).
SEX = {"M": "Male", "F": "Female", "I": "Indeterminate", "U": "Not known"}

GENDER = {
    "man": "Man", "woman": "Woman", "non_binary": "Non-binary", "other": "Other",
    "not_stated": "Prefer not to say", "unknown": "Not known",
}

# ISO 639-2 codes as used in the DfE language returns (common first languages in England).
LANGUAGE = {
    "ENG": "English", "POL": "Polish", "URD": "Urdu", "PAN": "Panjabi", "BEN": "Bengali", "ARA": "Arabic",
    "SOM": "Somali", "RUM": "Romanian", "GUJ": "Gujarati", "TAM": "Tamil", "POR": "Portuguese",
    "SPA": "Spanish", "FRE": "French", "TUR": "Turkish", "PER": "Persian/Farsi", "KUR": "Kurdish",
    "CHI": "Chinese", "LIT": "Lithuanian", "ITA": "Italian", "BUL": "Bulgarian", "TIR": "Tigrinya",
    "PUS": "Pashto", "UKR": "Ukrainian", "RUS": "Russian", "SGN": "British Sign Language",
    "WEL": "Welsh", "OTH": "Other", "UNK": "Not known",
}

NAME_TYPES = {"legal": "Legal name", "preferred": "Preferred name", "previous": "Previous name",
              "alias": "Alias / also known as"}
ADDRESS_TYPES = {"home": "Home", "temporary": "Temporary", "placement": "Placement", "correspondence":
                 "Correspondence", "no_fixed_abode": "No fixed abode"}
CONTACT_KINDS = {"phone": "Telephone", "mobile": "Mobile", "email": "Email"}

# Relationship types, stored from the person's side: (person) is <type> of (related person).
RELATIONSHIP_TYPES = {
    "parent": "Parent", "child": "Child", "sibling": "Sibling", "half_sibling": "Half-sibling",
    "step_parent": "Step-parent", "step_child": "Step-child", "grandparent": "Grandparent",
    "grandchild": "Grandchild", "carer": "Carer", "cared_for": "Cared for by",
    "partner": "Partner", "ex_partner": "Former partner", "household_member": "Household member",
    "friend": "Friend", "other": "Other",
}
RELATIONSHIP_INVERSE = {
    "parent": "child", "child": "parent", "sibling": "sibling", "half_sibling": "half_sibling",
    "step_parent": "step_child", "step_child": "step_parent", "grandparent": "grandchild",
    "grandchild": "grandparent", "carer": "cared_for", "cared_for": "carer", "partner": "partner",
    "ex_partner": "ex_partner", "household_member": "household_member", "friend": "friend", "other": "other",
}
INVOLVEMENT_ROLES = {
    "gp": "GP", "school": "School", "health_visitor": "Health visitor", "midwife": "Midwife",
    "school_nurse": "School nurse", "police": "Police", "probation": "Probation", "camhs": "CAMHS",
    "housing": "Housing", "other": "Other professional",
}

SERVICE_AREAS = {"children": "Children's services", "adults": "Adult social care", "finance": "Finance"}
CASE_OPEN_REASONS = {
    "referral": "Referral accepted", "transfer_in": "Transfer in", "assessment": "Assessment",
    "review": "Review", "financial_assessment": "Financial assessment", "other": "Other",
}
CASE_CLOSE_REASONS = {
    "no_further_action": "No further action", "needs_met": "Needs met", "transferred": "Transferred",
    "moved_away": "Moved out of area", "died": "Died", "adopted": "Adopted", "age_18": "Turned 18",
    "other": "Other",
}

NOTE_TYPES = {
    "case_note": "Case note", "home_visit": "Home visit", "phone_call": "Telephone call",
    "office_visit": "Office visit", "meeting": "Meeting", "email": "Email", "supervision": "Supervision",
    "management_oversight": "Management oversight", "direct_work": "Direct work with child",
    "other": "Other",
}

ALERT_TYPES = {
    "risk_to_staff": "Risk to staff", "communication_needs": "Communication needs",
    "interpreter_required": "Interpreter required", "lone_working": "Lone working risk",
    "animals": "Animals at property", "safeguarding": "Safeguarding concern",
    "medical": "Medical alert", "other": "Other",
}

CHRONOLOGY_KINDS = {
    "referral_received": "Referral received", "assessment_started": "Assessment started",
    "assessment_completed": "Assessment completed", "strategy_discussion": "Strategy discussion",
    "section47_started": "Section 47 enquiry started", "section47_completed": "Section 47 enquiry completed",
    "conference": "Child protection conference",
    "plan_started": "Plan started", "plan_ended": "Plan ended", "review": "Review",
    "payment_authorised": "Payment authorised", "case_opened": "Case opened", "case_closed": "Case closed",
    "significant_event": "Significant event", "workflow": "Workflow event", "manual": "Entry added by hand",
    "other": "Other",
}
CHRONOLOGY_SOURCES = ("workflow", "note", "manual", "case")

# What a document is (the case view's Type column, filters and returns). Existing documents may have none.
DOCUMENT_TYPES = {
    "assessment_report": "Assessment report", "court_report": "Court report", "consent_form": "Consent form",
    "letter": "Letter", "photo": "Photograph", "medical_report": "Medical report", "care_plan": "Care plan",
    "meeting_minutes": "Meeting minutes", "referral": "Referral", "identity": "Identity document",
    "other": "Other",
}


def check_code(table: dict[str, str], value: str | None, field: str) -> str | None:
    """Return value if it is a known code (or None); otherwise 422 naming the field."""
    if value is None:
        return None
    if value not in table:
        raise Invalid(f"Unknown code {value!r} for {field}",
                      details={field: f"Unknown code {value!r}; choose one of: {', '.join(table)}"})
    return value


def check_codes(table: dict[str, str], values: list[str] | None, field: str) -> list[str]:
    return [check_code(table, v, field) or "" for v in values or []]
