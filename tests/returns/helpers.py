"""A child and a case in the record, driven through referral -> assessment -> child protection."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from casework.records.models_case import Case
from casework.records.models_person import Person
from casework.returns.cin import upn_check_letter
from engine.schema import process_instance
from tests.processes.conftest import Journey, bundle_for, form_errors, routing_fields
from tests.processes.samples import sample

SW, MANAGER = "sw.ana", "tm.bea"


def valid_upn(n: int) -> str:
    """LA 201, establishment 1234, year 26, serial n, with the right check letter."""
    body = f"201123426{n:03d}"
    return upn_check_letter(body) + body


def make_child(session, n: int = 1, **overrides) -> Person:
    data = dict(forename="Kai", surname=f"Test{n}", surname_norm=f"test{n}", search_name=f"kai test{n}",
                date_of_birth=date(2018, 5, 4), sex="M", ethnicity="WBRI", disabilities=["NONE"],
                upn=valid_upn(n), local_id=f"CW{n:05d}")
    data.update(overrides)
    person = Person(**data)
    session.add(person)
    session.flush()
    return person


def make_case(session, person: Person, reference: str, opened_on=date(2026, 11, 2), **kw) -> Case:
    case = Case(reference=reference, person_id=person.id, service_area=kw.pop("service_area", "children"),
                opened_on=opened_on, open_reason="referral", status=kw.pop("status", "open"), **kw)
    session.add(case)
    session.flush()
    return case


def submit(j: Journey, task_spec: str, form_data: dict, actor: str, full: bool) -> None:
    """As the workspace does (routing fields only), or with every answer (``full``: the models accept both)."""
    if not full:
        j.submit(task_spec, form_data, actor)
        return
    item = j.item(task_spec)
    assert not form_errors(item["form"], form_data)
    data = {**routing_fields(item["form"], form_data), **{k: v for k, v in form_data.items() if v is not None}}
    j.wf.complete_task(j.conn, item["id"], data, actor)
    assert not j.incidents()


def drive(start, reference: str, *, full: bool) -> None:
    """Referral on Mon 2 Nov 2026, assessment authorised (CIN plan), strategy discussion, s47, ICPC with a
    plan, a review on 19 Feb 2027 (all in collection year 2027)."""
    j = start("referral", reference)
    for key in ("childrens_assessment", "child_protection"):  # what the referral decision may start
        j.wf.publish(j.conn, bundle_for(key), "configurator")
    submit(j, "record_contact", sample("referral-contact", referral_date="2026-11-02"), SW, full)
    submit(j, "screen_referral", sample("referral-screening", recommendation="childrens_assessment"), SW, full)
    submit(j, "referral_decision", sample("referral-decision", decision="childrens_assessment",
                                          allocated_team="cin-east"), MANAGER, full)
    submit(j, "record_feedback", sample("referral-feedback"), SW, full)

    # the decision started the assessment for the same case, with the referral date in its start data
    started = j.conn.execute(select(process_instance.c.id).where(
        process_instance.c.business_key == reference,
        process_instance.c.process_key == "childrens_assessment")).scalars().all()
    assert len(started) == 1, started
    a = Journey(j.wf, j.conn, j.clock, started[0])
    submit(a, "allocate_assessment", sample("assessment-allocation", allocated_worker=SW), MANAGER, full)
    submit(a, "record_child_seen", sample("child-seen"), SW, full)
    submit(a, "complete_assessment", sample("single-assessment"), SW, full)
    a.clock.set(a.clock.value.replace(day=10))
    submit(a, "authorise_assessment", sample("assessment-authorisation"), MANAGER, full)

    c = start("child_protection", reference, referral_date="2026-11-02")
    submit(c, "strategy_discussion", sample("strategy-discussion", strategy_discussion_date="2026-11-03"), SW, full)
    submit(c, "section_47_enquiry", sample("section-47-enquiry"), SW, full)
    submit(c, "record_icpc", sample("icpc-outcome"), SW, full)
    submit(c, "record_review", sample("review-conference", review_date="2027-02-19",
                                      category_of_abuse="neglect"), SW, full)
