"""Finance code lists: service types, agreement kinds, units, statuses. Values are stored as codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceType:
    code: str
    label: str
    kind: str  # agreement kind: service | direct_payment | one_off
    default_unit: str


SERVICE_TYPES: dict[str, ServiceType] = {
    st.code: st
    for st in (
        ServiceType("home_care", "Home care (domiciliary)", "service", "hour"),
        ServiceType("residential", "Residential care", "service", "week"),
        ServiceType("nursing", "Nursing care", "service", "week"),
        ServiceType("day_care", "Day care", "service", "day"),
        ServiceType("day_opportunities", "Day opportunities", "service", "session"),
        ServiceType("supported_living", "Supported living", "service", "hour"),
        ServiceType("respite", "Respite / short breaks", "service", "night"),
        ServiceType("shared_lives", "Shared Lives", "service", "week"),
        ServiceType("extra_care", "Extra care housing support", "service", "hour"),
        ServiceType("direct_payment", "Direct payment", "direct_payment", "week"),
        ServiceType("equipment", "Equipment or adaptations", "one_off", "item"),
        ServiceType("one_off", "One-off payment", "one_off", "item"),
    )
}

KINDS = {"service": "Service agreement (care package)", "direct_payment": "Direct payment",
         "one_off": "One-off payment"}

# Unit -> the largest number of units a week can hold (sanity bound on units_per_week).
UNITS: dict[str, int] = {"hour": 168, "day": 7, "night": 7, "session": 21, "week": 1, "item": 1000}


class AgreementStatus:
    REQUESTED = "requested"
    AUTHORISED = "authorised"
    REJECTED = "rejected"
    ENDED = "ended"
    ALL = (REQUESTED, AUTHORISED, REJECTED, ENDED)
    PAYABLE = (AUTHORISED, ENDED)  # agreements whose schedule is paid (up to the end date)


class LineStatus:
    PENDING = "pending"  # scheduled, not yet exported
    EXPORTED = "exported"  # collected by exactly one payment run
    CANCELLED = "cancelled"  # the agreement ended before this period
    ALL = (PENDING, EXPORTED, CANCELLED)
