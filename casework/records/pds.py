"""NHS Personal Demographics Service (PDS) lookup: the `nhs.pds_lookup` connector.

Speaks the PDS FHIR R4 Patient API (GET /Patient/{nhs_number}; GET /Patient?family=&given=&birthdate=) and
parses responses with fhir.resources (R4B). Returns candidates only; a person is linked when a worker confirms.
A patient whose record is restricted (meta.security code R, "restricted") never has an address stored or shown.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from sqlalchemy.orm import Session

from casework.auth.access import Actor
from casework.db import utcnow
from casework.errors import Conflict, Forbidden, Invalid, NotFound
from casework.records.access import can_edit_person
from casework.records.common import check_version, touch
from casework.records.models_person import Person
from casework.records.service_person import normalise_nhs_number

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
RESTRICTED_CODES = {"R", "V"}  # restricted, very restricted (v3-Confidentiality)


class PdsUnavailable(Exception):
    """PDS could not be reached or answered with an error (the engine retries the service task)."""


@dataclass(frozen=True)
class PdsCandidate:
    nhs_number: str
    given: list[str]
    family: str | None
    birth_date: str | None
    gender: str | None
    deceased: str | None
    restricted: bool
    address: str | None  # always None for a restricted patient
    postcode: str | None
    gp_ods_code: str | None
    score: float | None
    version_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _candidate(patient: Patient, score: float | None = None) -> PdsCandidate:
    nhs = next((i.value for i in patient.identifier or [] if i.system == NHS_SYSTEM), patient.id)
    security = [s.code for s in (patient.meta.security if patient.meta and patient.meta.security else [])]
    restricted = any(code in RESTRICTED_CODES for code in security)
    names = patient.name or []
    name = next((n for n in names if n.use == "usual"), names[0] if names else None)
    address = postcode = None
    if not restricted and patient.address:
        home = next((a for a in patient.address if a.use == "home"), patient.address[0])
        address = ", ".join(home.line or [])
        postcode = home.postalCode
    deceased = patient.deceasedDateTime.isoformat() if patient.deceasedDateTime else None
    gp = None
    for ref in patient.generalPractitioner or []:
        if ref.identifier is not None and ref.identifier.value:
            gp = ref.identifier.value
    return PdsCandidate(
        nhs_number=str(nhs), given=list(name.given or []) if name else [], family=name.family if name else None,
        birth_date=patient.birthDate.isoformat() if patient.birthDate else None, gender=patient.gender,
        deceased=deceased, restricted=restricted, address=address, postcode=postcode, gp_ods_code=gp,
        score=score, version_id=patient.meta.versionId if patient.meta else None)


class PdsClient:
    def __init__(self, base_url: str, *, timeout: float = 5.0, token: str | None = None) -> None:
        if not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise Invalid("PDS base URL must be https", details={"pds_base_url": "Use an https:// URL"})
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token

    def _get(self, path: str) -> dict[str, Any] | None:
        headers = {"Accept": "application/fhir+json", "X-Request-ID": str(uuid.uuid4())}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base_url + path, headers=headers)  # noqa: S310 - scheme checked
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read(5_000_000))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise PdsUnavailable(f"PDS answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise PdsUnavailable(f"PDS could not be reached: {exc}") from None

    def get_patient(self, nhs_number: str) -> PdsCandidate | None:
        nhs = normalise_nhs_number(nhs_number)
        body = self._get(f"/Patient/{nhs}")
        if body is None:
            return None
        return _candidate(Patient.model_validate(body))

    def search(self, *, family: str, given: str | None = None, birthdate: date | str | None = None
               ) -> list[PdsCandidate]:
        if not family.strip():
            raise Invalid("Give a family name", details={"family": "Enter a family name"})
        query = {"family": family.strip(), "_max-results": "10"}
        if given:
            query["given"] = given.strip()
        if birthdate:
            query["birthdate"] = "eq" + (birthdate.isoformat() if isinstance(birthdate, date) else str(birthdate))
        body = self._get("/Patient?" + urllib.parse.urlencode(query))
        if body is None:
            return []
        bundle = Bundle.model_validate(body)
        out = []
        for entry in bundle.entry or []:
            resource = entry.resource
            if resource is None or resource.get_resource_type() != "Patient":
                continue
            patient = resource if isinstance(resource, Patient) else Patient.model_validate(resource.model_dump())
            out.append(_candidate(patient, entry.search.score if entry.search else None))
        return out


def lookup(client: PdsClient, params: dict[str, Any]) -> list[PdsCandidate]:
    if params.get("nhs_number"):
        found = client.get_patient(str(params["nhs_number"]))
        return [found] if found else []
    if params.get("family"):
        return client.search(family=str(params["family"]), given=params.get("given"),
                             birthdate=params.get("birthdate"))
    raise Invalid("Search PDS by NHS number, or by family name (with given name and date of birth)",
                  details={"nhs_number": "Enter an NHS number or a family name"})


PARAMS_SCHEMA = {
    "type": "object",
    "properties": {"nhs_number": {"type": "string"}, "family": {"type": "string"}, "given": {"type": "string"},
                   "birthdate": {"type": "string", "format": "date"}},
    "additionalProperties": False,
}


def pds_lookup(params: dict[str, Any]) -> dict[str, Any]:
    """Connector `nhs.pds_lookup`: {"nhs_number"} or {"family", "given", "birthdate"} -> {"candidates": [...]}."""
    from flask import current_app, has_app_context

    if has_app_context():
        base_url = current_app.config["SETTINGS"].pds_base_url
    else:  # e.g. a worker process without an app context
        from casework.config import Settings

        base_url = Settings.from_env().pds_base_url
    client = PdsClient(base_url)
    return {"candidates": [c.as_dict() for c in lookup(client, params)]}


def link_person(session: Session, actor: Actor, person: Person, client: PdsClient, *, nhs_number: str,
                expected_version: int | None) -> tuple[Person, PdsCandidate]:
    """Link a person to their PDS record once a worker has confirmed the candidate: sets the NHS number (and a
    missing date of birth). Addresses are never copied from a restricted PDS record."""
    if not can_edit_person(actor, person):
        raise Forbidden("You cannot change this record")
    check_version(person, expected_version)
    candidate = client.get_patient(nhs_number)
    if candidate is None:
        raise NotFound("PDS has no patient with that NHS number")
    if person.nhs_number and person.nhs_number != candidate.nhs_number:
        raise Conflict("This person already has a different NHS number",
                       details={"nhs_number": f"The record has {person.nhs_number}"})
    if candidate.birth_date and person.date_of_birth and candidate.birth_date != person.date_of_birth.isoformat():
        raise Conflict("The date of birth on PDS does not match this person",
                       details={"date_of_birth": f"PDS has {candidate.birth_date}"})
    from sqlalchemy import select

    other = session.scalar(select(Person.id).where(Person.nhs_number == candidate.nhs_number,
                                                   Person.id != person.id))
    if other is not None:
        raise Conflict("Another record has this NHS number", details={"nhs_number": "Already on another record"})
    person.nhs_number = candidate.nhs_number
    if person.date_of_birth is None and candidate.birth_date:
        person.date_of_birth = date.fromisoformat(candidate.birth_date)
    person.pds_linked_at = utcnow()
    touch(person, actor)
    session.flush()
    return person, candidate


def register() -> None:
    from casework.engine_host import register_connector

    register_connector("nhs.pds_lookup", pds_lookup, PARAMS_SCHEMA)
