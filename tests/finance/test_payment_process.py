"""The payment authorisation model in the app: the requested agreement is recorded and linked to its process
instance as soon as the request is made, so the manager's Approvals list shows the cost a week and a year."""

from __future__ import annotations

from datetime import UTC, datetime

from bs4 import BeautifulSoup
from sqlalchemy import select

from casework.engine_host import get_engine, operation_session
from casework.finance.models import Agreement
from tests.conftest import sign_in
from tests.factories import create_user
from tests.finance.factories import create_person, create_provider
from tests.processes.conftest import bundle_for, routing_fields
from tests.processes.samples import sample


def test_approvals_list_shows_the_cost_of_the_requested_payment(app, client, session, connection):
    app.config["CLOCK"] = lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    engine = get_engine(app)  # the app's engine: the connectors and listeners casework registers
    with operation_session(session):
        create_provider(session, reference="SUP-APPROVALS")
        person = create_person(session)
        engine.publish(connection, bundle_for("payment_authorisation"), "configurator")
        started = engine.start(connection, "payment_authorisation", "CASE-PAY-1", {"person_id": person.id},
                               "sw.ana")
        request = engine.work_items_for(connection, started.instance_id)[0]
        form = sample("payment-request", provider_id="SUP-APPROVALS", unit_cost="21.50", units_per_week=14)
        engine.complete_task(connection, request["id"], routing_fields("payment-request", form), "sw.ana")

    agreement = session.scalars(select(Agreement).where(Agreement.process_instance_id == started.instance_id)).one()
    assert (agreement.status, agreement.person_id, agreement.provider.reference) == (
        "requested", person.id, "SUP-APPROVALS")
    assert (agreement.weekly_cost_pence, agreement.annual_cost_pence) == (30_100, 1_565_200)

    manager = create_user(session, username="tm.bea", roles=["team_manager"])
    sign_in(client, manager)
    response = client.get("/approvals")
    assert response.status_code == 200
    rows = BeautifulSoup(response.get_data(as_text=True), "html.parser").select("tbody tr")
    assert len(rows) == 1
    text = rows[0].get_text(" ", strip=True)
    assert "Approve the payment (team manager)" in text
    assert "£301.00 a week (£15,652.00 a year)" in text
