"""Engine connectors: registered with the app's engine, run in the operation's transaction, never half-write."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casework.engine_host import SessionPerTransaction, build_engine, operation_session
from casework.errors import Invalid
from casework.finance import connectors
from casework.finance.models import Agreement, ScheduleLine
from casework.web.context import db_session
from engine.definitions import load_bundle
from engine.schema import incident
from tests.finance.factories import create_agreement, create_person, create_provider

HERE = Path(__file__).parent
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _count(session, model=Agreement):
    return session.scalar(select(func.count()).select_from(model))


def test_all_finance_connectors_are_registered_with_the_app_engine(settings):
    engine = build_engine(settings, lambda: NOW)
    names = engine.config.connectors.names()
    assert {"finance.request_agreement", "finance.authorise_agreement", "finance.create_agreement",
            "finance.reject_agreement", "finance.end_agreement", "finance.calculate_cost"} <= names


def test_without_a_bound_session_the_connector_refuses():
    with pytest.raises(RuntimeError, match="session|engine operation"):
        connectors.create_agreement({"authorised_by": "x", "service_type": "home_care"})


def test_request_authorise_reject_through_connectors(session):
    person, provider = create_person(session), create_provider(session)
    details = {"person_id": person.id, "provider_id": provider.id, "service_type": "home_care",
               "unit_cost_pence": 2350, "units_per_week": 14, "start_date": "2026-01-05",
               "end_date": "2026-01-18", "process_instance_id": 4242}
    with connectors.bound_session(session):
        requested = connectors.request_agreement(details)
        assert requested["status"] == "requested" and requested["weekly_cost_pence"] == 32_900
        assert requested["annual_cost_pence"] == 32_900 * 52
        assert connectors.request_agreement(details) == requested  # idempotent per process instance
        revised = connectors.request_agreement(details | {"units_per_week": "15"})  # returned for changes
        assert revised["agreement_id"] == requested["agreement_id"] and revised["weekly_cost_pence"] == 35_250
        done = connectors.authorise_agreement({"process_instance_id": 4242, "authorised_by": "jo.manager"})
        assert done["status"] == "authorised" and done["agreement_id"] == requested["agreement_id"]
        other = connectors.request_agreement(details | {"process_instance_id": 4343})
        rejected = connectors.reject_agreement({"agreement_id": other["agreement_id"], "reason": "Too costly",
                                                "rejected_by": "chris.head"})
        assert rejected["status"] == "rejected"
        ended = connectors.end_agreement({"agreement_id": done["agreement_id"], "end_date": "2026-01-07",
                                          "reason": "Moved"})
        assert ended["status"] == "ended" and ended["cancelled_lines"] == 1
        again = connectors.request_agreement(details | {"process_instance_id": 4444})
        connectors.authorise_agreement({"agreement_id": again["agreement_id"], "authorised_by": "jo.manager"})
        cancelled = connectors.end_agreement({"process_instance_id": 4444, "reason": "Not needed"})
        assert cancelled["status"] == "ended" and cancelled["cancelled_lines"] == 2
    assert _count(session, ScheduleLine) >= 2


def test_form_vocabulary_pounds_and_provider_reference(session):
    person = create_person(session)
    provider = create_provider(session, reference="SUP-FORM-1")
    with connectors.bound_session(session):
        made = connectors.create_agreement({
            "payment_type": "care_package", "person_id": person.id, "provider_id": "SUP-FORM-1",
            "service_type": "day_opportunities", "unit": "session", "unit_cost": 23.5, "units_per_week": 2.5,
            "start_date": "2026-01-05", "end_date": None, "authorised_by": "jo.manager", "cost_code": "ASC1234"})
        dp = connectors.create_agreement({
            "payment_type": "direct_payment", "person_id": person.id, "provider_id": "DP-RECIPIENT-7",
            "service_type": "direct_payment", "unit_cost": "210.00", "units_per_week": 1,
            "start_date": "2026-01-05", "authorised_by": "jo.manager"})
        one_off = connectors.create_agreement({
            "payment_type": "one_off", "person_id": person.id, "provider_id": str(provider.id),
            "service_type": "equipment", "one_off_amount": 1234.56, "start_date": "2026-01-09",
            "authorised_by": "jo.manager"})
        with pytest.raises(Invalid) as exc:
            connectors.create_agreement({"payment_type": "care_package", "person_id": person.id,
                                         "provider_id": "SUP-FORM-1", "service_type": "home_care",
                                         "unit_cost": 10.001, "units_per_week": 1, "start_date": "2026-01-05",
                                         "authorised_by": "x"})
        assert "unit_cost" in exc.value.details
    a = session.get(Agreement, made["agreement_id"])
    assert (a.provider_id, a.unit_cost_pence, a.units_per_week, a.cost_code) == (provider.id, 2350, 2.5, "ASC1234")
    assert made["weekly_cost_pence"] == 5875
    d = session.get(Agreement, dp["agreement_id"])
    assert (d.kind, d.provider_id, d.payee_reference, d.unit_cost_pence) == ("direct_payment", None,
                                                                             "DP-RECIPIENT-7", 21_000)
    o = session.get(Agreement, one_off["agreement_id"])
    assert (o.kind, o.unit, o.unit_cost_pence, o.end_date) == ("one_off", "item", 123_456, date(2026, 1, 9))
    cost = connectors.calculate_cost({"payment_type": "care_package", "unit_cost": 23.5, "units_per_week": 14})
    assert cost == {"weekly_cost_pence": 32_900, "annual_cost_pence": 1_710_800, "weekly_cost": 329.0,
                    "annual_cost": 17_108.0}
    assert connectors.calculate_cost({"payment_type": "one_off", "one_off_amount": 99.99})["annual_cost_pence"] == 9999


def test_a_failing_connector_leaves_nothing_behind(session):
    person = create_person(session)
    before = (_count(session), _count(session, ScheduleLine))
    with connectors.bound_session(session), pytest.raises(Invalid):
        connectors.create_agreement({"person_id": person.id, "provider_id": 987_654, "service_type": "home_care",
                                     "unit_cost_pence": 100, "units_per_week": 1, "start_date": "2026-01-05",
                                     "authorised_by": "x"})
    assert (_count(session), _count(session, ScheduleLine)) == before


def test_in_a_request_the_connector_uses_the_request_session(app):
    with app.test_request_context():
        s = db_session()
        agreement = create_agreement(s, authorise=False)
        result = connectors.authorise_agreement({"agreement_id": agreement.id, "authorised_by": "jo.manager",
                                                 "today": "2026-01-05"})
        assert result["status"] == "authorised"
        assert s.scalar(select(func.count()).select_from(ScheduleLine)
                        .where(ScheduleLine.agreement_id == agreement.id)) == 5


def test_the_host_operation_session_is_used(session):
    with operation_session(session):
        made = connectors.create_agreement({
            "person_id": create_person(session).id, "provider_id": create_provider(session).id,
            "service_type": "residential", "unit_cost_pence": 95_000, "units_per_week": 1,
            "start_date": "2026-01-05", "end_date": "2026-01-11", "authorised_by": "jo.manager"})
    assert session.get(Agreement, made["agreement_id"]).status == "authorised"


def test_worker_transactions_give_connectors_a_session(db_engine):
    """Timer firing and incident retries run in the host's SessionPerTransaction: connectors write there."""
    with SessionPerTransaction(db_engine).begin() as conn:
        assert connectors.current_session().connection() is conn
        outcome = connectors.calculate_cost({"unit_cost_pence": 100, "units_per_week": 2})
    assert outcome["weekly_cost_pence"] == 200


def _publish_and_start(settings, session, data):
    engine = build_engine(settings, lambda: NOW)
    bundle = load_bundle([HERE / "bpmn" / "finance_connector.bpmn"])
    conn = session.connection()
    engine.publish(conn, bundle, "admin")
    with connectors.bound_session(session):
        return engine, engine.start(conn, "finance_connector", "AD-0000001", data, "priya.adults")


def test_service_task_creates_the_agreement_in_the_engine_transaction(settings, session):
    person = create_person(session)
    create_provider(session, reference="SUP-BPMN-1")
    engine, result = _publish_and_start(settings, session, {
        "payment_type": "care_package", "person_id": person.id, "provider_id": "SUP-BPMN-1",
        "service_type": "home_care", "unit_cost": 23.5, "units_per_week": 14, "start_date": "2026-01-05",
        "authorised_by": "jo.adultsmanager"})
    assert result.status == "completed" and result.incidents == [], result
    data = engine.get_instance(session.connection(), result.instance_id)["data"]
    assert data["cost"]["weekly_cost_pence"] == 32_900
    agreement = session.get(Agreement, data["agreement"]["agreement_id"])
    assert agreement.status == "authorised" and agreement.authorised_by == "jo.adultsmanager"
    assert agreement.reference == data["agreement"]["reference"]


def test_service_task_with_bad_data_is_an_incident_and_writes_nothing(settings, session):
    person = create_person(session)
    before = _count(session)
    engine, result = _publish_and_start(settings, session, {
        "payment_type": "care_package", "person_id": person.id, "provider_id": "NO-SUCH-PROVIDER",
        "service_type": "home_care", "unit_cost": 23.5, "units_per_week": 14, "start_date": "2026-01-05",
        "authorised_by": "jo.adultsmanager"})
    assert result.status == "error"
    [inc] = session.connection().execute(select(incident).where(incident.c.instance_id == result.instance_id)
                                         ).mappings().all()
    assert inc["kind"] == "connector" and "provider_reference: No such provider" in inc["message"]
    assert _count(session) == before


def test_a_request_without_instance_is_linked_to_the_instance_of_its_own_operation_only(session):
    person, provider = create_person(session), create_provider(session)
    details = {"person_id": person.id, "provider_id": provider.id, "service_type": "home_care",
               "unit_cost_pence": 2000, "units_per_week": 10, "start_date": "2026-01-05"}
    with connectors.bound_session(session):
        first = connectors.request_agreement(details)
        assert session.get(Agreement, first["agreement_id"]).process_instance_id is None
        connectors.link_requested_agreements({"instance_id": 77, "event_type": "task_completed"})
        assert session.get(Agreement, first["agreement_id"]).process_instance_id == 77
        connectors.link_requested_agreements({"instance_id": 78, "event_type": "task_completed"})
        assert session.get(Agreement, first["agreement_id"]).process_instance_id == 77  # linked once

        session.commit()  # the test's savepoint: the next operation starts a new transaction
        connectors.request_agreement(details)
        session.rollback()  # that operation failed: its request is forgotten with it
        other = create_agreement(session, person=person, authorise=False)  # may reuse the rolled-back id
        connectors.link_requested_agreements({"instance_id": 79, "event_type": "task_completed"})
        assert session.get(Agreement, other.id).process_instance_id is None
        kept = connectors.request_agreement(details | {"agreement_id": None})
        connectors.link_requested_agreements({"instance_id": 80, "event_type": "task_completed"})
    assert session.scalars(select(Agreement.id).where(Agreement.process_instance_id.in_([79, 80]))).all() == [
        kept["agreement_id"]]
