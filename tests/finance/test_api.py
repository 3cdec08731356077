"""Finance API: permissions on every route, providers CRUD with versions, agreements, runs and downloads."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from casework.audit.models import AuditEvent
from casework.finance.models import Agreement, PaymentRun, Provider, ScheduleLine
from tests.conftest import sign_in
from tests.factories import create_user
from tests.finance.factories import create_agreement, create_person, create_provider

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def officer(app, client, session):
    app.config["CLOCK"] = lambda: NOW
    user = create_user(session, roles=["finance_officer"])
    return {"X-CSRF-Token": sign_in(client, user)}


def test_every_finance_route_needs_the_finance_permission(app, client, session):
    practitioner = create_user(session, roles=["practitioner"])
    headers = {"X-CSRF-Token": sign_in(client, practitioner)}
    finance_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/finance")]
    assert len(finance_rules) >= 9
    for rule in finance_rules:
        url = rule.rule.replace("<int:provider_id>", "1").replace("<int:agreement_id>", "1") \
            .replace("<int:run_id>", "1")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, json={}, headers=headers)
            assert response.status_code == 403, (method, url, response.status_code)


def test_anonymous_is_refused(client):
    assert client.get("/api/finance/providers").status_code == 401


def test_provider_crud_with_versions(client, officer, session):
    created = client.post("/api/finance/providers", headers=officer, json={
        "name": "Meadowview Home Care", "reference": "SUP-API-1", "cqc_location_id": "1-123456789",
        "bank_details_reference": "FIN-BANK-77"})
    assert created.status_code == 201, created.json
    body = created.json
    assert body["version"] == 1 and body["active"] is True
    pid = body["id"]
    assert client.get(f"/api/finance/providers/{pid}", headers=officer).json["name"] == "Meadowview Home Care"
    listed = client.get("/api/finance/providers?q=meadow", headers=officer).json
    assert [p["id"] for p in listed["items"]] == [pid] and listed["total"] == 1

    updated = client.patch(f"/api/finance/providers/{pid}", headers=officer, json={"active": False, "version": 1})
    assert updated.status_code == 200 and updated.json["version"] == 2 and updated.json["active"] is False
    stale = client.patch(f"/api/finance/providers/{pid}", headers=officer, json={"name": "X", "version": 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "stale_version"
    missing_version = client.patch(f"/api/finance/providers/{pid}", headers=officer, json={"name": "X"})
    assert missing_version.status_code == 422 and "version" in missing_version.json["error"]["details"]
    assert client.get("/api/finance/providers?active=false", headers=officer).json["total"] >= 1

    assert client.delete(f"/api/finance/providers/{pid}", headers=officer, json={"version": 2}).status_code == 204
    assert client.get(f"/api/finance/providers/{pid}", headers=officer).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "A", "reference": "SUP-B1", "bank_details_reference": "12-34-56 12345678"}, "bank_details_reference"),
    ({"name": "A", "reference": "SUP-B2", "bank_details_reference": "GB29NWBK60161331926819"},
     "bank_details_reference"),
    ({"name": "A", "reference": "SUP-B3", "cqc_location_id": "ABC"}, "cqc_location_id"),
    ({"name": "", "reference": "SUP-B4"}, "name"),
    ({"name": "A"}, "reference"),
    ({"name": "A", "reference": "SUP-B5", "sort_code": "123456"}, "sort_code"),
])
def test_bad_provider_input_is_422_with_field_messages(client, officer, session, body, field):
    before = session.scalar(select(func.count()).select_from(Provider))
    response = client.post("/api/finance/providers", headers=officer, json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]
    assert session.scalar(select(func.count()).select_from(Provider)) == before


def test_duplicate_reference_and_provider_in_use(client, officer, session):
    provider = create_provider(session, reference="SUP-DUP")
    dup = client.post("/api/finance/providers", headers=officer, json={"name": "B", "reference": "sup-dup"})
    assert dup.status_code == 422 and "reference" in dup.json["error"]["details"]
    create_agreement(session, provider=provider)
    in_use = client.delete(f"/api/finance/providers/{provider.id}", headers=officer, json={"version": 1})
    assert in_use.status_code == 409


def test_agreements_list_get_and_request(client, officer, session):
    person = create_person(session)
    provider = create_provider(session)
    created = client.post("/api/finance/agreements", headers=officer, json={
        "person_id": person.id, "provider_id": provider.id, "service_type": "home_care",
        "unit_cost_pence": 2350, "units_per_week": "14", "start_date": "2026-01-05"})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["status"], body["weekly_cost_pence"], body["annual_cost_pence"]) == ("requested", 32_900, 1_710_800)
    assert body["units_per_week"] == "14" and body["provider_name"] == provider.name

    authorised = create_agreement(session, person=person, provider=provider, start_date=date(2026, 1, 5),
                                  end_date=date(2026, 1, 18))
    listed = client.get(f"/api/finance/agreements?person_id={person.id}", headers=officer).json
    assert listed["total"] == 2 and {a["status"] for a in listed["items"]} == {"requested", "authorised"}
    assert client.get(f"/api/finance/agreements?person_id={person.id}&status=authorised",
                      headers=officer).json["total"] == 1
    assert client.get("/api/finance/agreements?status=bogus", headers=officer).status_code == 422
    assert client.get("/api/finance/agreements?person_id=abc", headers=officer).status_code == 422

    one = client.get(f"/api/finance/agreements/{authorised.id}", headers=officer).json
    assert one["weekly_cost_pence"] == 20_000 and len(one["schedule"]) == 2
    assert one["schedule_summary"]["pending_lines"] == 2 and one["schedule_summary"]["pending_pence"] == 40_000
    assert client.get("/api/finance/agreements/999999", headers=officer).status_code == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"unit_cost_pence": -1}, "unit_cost_pence"),
    ({"unit_cost_pence": 23.5}, "unit_cost_pence"),
    ({"end_date": "2026-01-01"}, "end_date"),
    ({"provider_id": 999_999}, "provider_id"),
    ({"units_per_week": "0"}, "units_per_week"),
    ({"unknown_field": 1}, "unknown_field"),
])
def test_bad_agreement_input_is_422_and_nothing_is_written(client, officer, session, change, field):
    person = create_person(session)
    provider = create_provider(session)
    before = session.scalar(select(func.count()).select_from(Agreement))
    response = client.post("/api/finance/agreements", headers=officer, json={
        "person_id": person.id, "provider_id": provider.id, "service_type": "home_care",
        "unit_cost_pence": 2350, "units_per_week": "14", "start_date": "2026-01-05"} | change)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]
    assert session.scalar(select(func.count()).select_from(Agreement)) == before


def test_end_agreement_with_version(client, officer, session):
    a = create_agreement(session, start_date=date(2026, 1, 5), end_date=date(2026, 2, 1))
    stale = client.post(f"/api/finance/agreements/{a.id}/end", headers=officer,
                        json={"end_date": "2026-01-14", "reason": "Moved away", "version": a.version - 1})
    assert stale.status_code == 409
    ended = client.post(f"/api/finance/agreements/{a.id}/end", headers=officer,
                        json={"end_date": "2026-01-14", "reason": "Moved away", "version": a.version})
    assert ended.status_code == 200, ended.json
    assert ended.json["status"] == "ended" and ended.json["cancelled_lines"] == 2


def test_cancel_agreement(client, officer, session):
    a = create_agreement(session, start_date=date(2026, 1, 5), end_date=date(2026, 2, 1))
    missing = client.post(f"/api/finance/agreements/{a.id}/cancel", headers=officer, json={"version": a.version})
    assert missing.status_code == 422 and "reason" in missing.json["error"]["details"]
    done = client.post(f"/api/finance/agreements/{a.id}/cancel", headers=officer,
                       json={"reason": "Not needed", "version": a.version})
    assert done.status_code == 200 and done.json["cancelled_lines"] == 4 and done.json["status"] == "ended"
    stale = client.post(f"/api/finance/agreements/{a.id}/cancel", headers=officer,
                        json={"reason": "Not needed", "version": done.json["version"] - 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "stale_version"


def test_payment_run_create_list_and_download(client, officer, session):
    create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=date(2026, 1, 5),
                     end_date=date(2026, 1, 18))
    bad = client.post("/api/finance/payment-runs", headers=officer, json={"period_end": "2026-03-09"})
    assert bad.status_code == 422 and "period_end" in bad.json["error"]["details"]
    assert client.post("/api/finance/payment-runs", headers=officer, json={"period_end": "18/01/2026"}
                       ).status_code == 422
    created = client.post("/api/finance/payment-runs", headers=officer, json={"period_end": "2026-01-18"})
    assert created.status_code == 201, created.json
    run = created.json
    assert run["line_count"] >= 2 and run["status"] == "exported"
    assert client.get("/api/finance/payment-runs", headers=officer).json["items"][0]["id"] == run["id"]
    assert client.get(f"/api/finance/payment-runs/{run['id']}", headers=officer).json["file_name"] == run["file_name"]
    first = client.get(f"/api/finance/payment-runs/{run['id']}/file", headers=officer)
    assert first.status_code == 200 and first.mimetype == "text/csv"
    assert first.headers["Content-Disposition"] == f'attachment; filename="{run["file_name"]}"'
    again = client.get(f"/api/finance/payment-runs/{run['id']}/file", headers=officer)
    assert again.data == first.data and first.data.decode("utf-8").startswith("record_type,run_id,line_id")
    assert client.get("/api/finance/payment-runs/999999/file", headers=officer).status_code == 404
    audited = session.execute(select(AuditEvent.action, AuditEvent.reason).where(
        AuditEvent.record_type == "finance_payment_run", AuditEvent.record_id == str(run["id"]))
        .order_by(AuditEvent.seq)).all()
    assert audited == [("export", None), ("export", "downloaded again"), ("export", "downloaded again")]


def _counts(session):
    return (session.scalar(select(func.count()).select_from(PaymentRun)),
            session.scalar(select(func.count()).select_from(ScheduleLine)))


def test_preview_names_what_the_run_then_pays_and_writes_nothing(client, officer, session):
    a = create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=date(2026, 1, 5),
                         today=date(2026, 1, 5))  # open-ended: scheduled 4 weeks ahead, the run adds the rest
    before = _counts(session)
    response = client.get("/api/finance/payment-runs/preview?period_end=2026-03-01", headers=officer)
    assert response.status_code == 200, response.json
    preview = response.json
    assert _counts(session) == before  # nothing written, not even the lines the run would add
    assert (preview["period_end"], preview["line_count"], preview["agreement_count"]) == ("2026-03-01", 8, 1)
    assert preview["total_pence"] == 8 * 7000 and preview["paid_by"] is None
    assert [line["period_start"] for line in preview["lines"]][:2] == ["2026-01-05", "2026-01-12"]
    assert {line["agreement_id"] for line in preview["lines"]} == {a.id}
    added = [line for line in preview["lines"] if line["line_id"] is None]
    assert [line["period_end"] for line in added] == ["2026-02-15", "2026-02-22", "2026-03-01"]

    created = client.post("/api/finance/payment-runs", headers=officer,
                          json={"period_end": "2026-03-01", "expected_digest": preview["digest"]})
    assert created.status_code == 201, created.json
    assert (created.json["line_count"], created.json["total_pence"]) == (8, preview["total_pence"])

    after = client.get("/api/finance/payment-runs/preview?period_end=2026-03-01", headers=officer).json
    assert (after["line_count"], after["paid_by"]["id"]) == (0, created.json["id"])


def test_preview_bad_or_future_period_end_is_422(client, officer):
    for query in ("", "?period_end=01/03/2026", "?period_end=2026-03-01&x=1", "?period_end=2026-03-03"):
        response = client.get(f"/api/finance/payment-runs/preview{query}", headers=officer)
        assert response.status_code == 422, query
        assert set(response.json["error"]["details"]) & {"period_end", "x"}, response.json


def test_a_repeated_run_request_is_refused_naming_the_run_and_writes_nothing(client, officer, session):
    create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=date(2026, 1, 5),
                     end_date=date(2026, 1, 18))
    first = client.post("/api/finance/payment-runs", headers=officer, json={"period_end": "2026-01-18"})
    assert first.status_code == 201
    before = _counts(session)
    for period_end in ("2026-01-18", "2026-01-11"):  # the same request again; an earlier day it also covered
        again = client.post("/api/finance/payment-runs", headers=officer, json={"period_end": period_end})
        assert again.status_code == 409, again.json
        error = again.json["error"]
        assert error["code"] == "already_paid" and error["details"]["run_id"] == first.json["id"]
        assert f"payment run {first.json['id']}" in error["message"]
    assert _counts(session) == before
    listed = client.get("/api/finance/payment-runs", headers=officer).json
    assert listed["total"] == 1


def test_a_run_with_nothing_due_is_422_and_a_stale_preview_is_409(client, officer, session):
    nothing = client.post("/api/finance/payment-runs", headers=officer, json={"period_end": "2026-01-18"})
    assert nothing.status_code == 422 and nothing.json["error"]["code"] == "nothing_due"
    assert "period_end" in nothing.json["error"]["details"]
    create_agreement(session, unit_cost_pence=1000, units_per_week="7", start_date=date(2026, 1, 5),
                     end_date=date(2026, 1, 25))
    digest = client.get("/api/finance/payment-runs/preview?period_end=2026-01-18", headers=officer).json["digest"]
    create_agreement(session, unit_cost_pence=500, units_per_week="7",
                     start_date=date(2026, 1, 5), end_date=date(2026, 1, 11))  # due since the preview
    stale = client.post("/api/finance/payment-runs", headers=officer,
                        json={"period_end": "2026-01-18", "expected_digest": digest})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "preview_changed"
    assert _counts(session)[0] == 0
    bad = client.post("/api/finance/payment-runs", headers=officer,
                      json={"period_end": "2026-01-18", "expected_digest": "not-a-digest"})
    assert bad.status_code == 422 and "expected_digest" in bad.json["error"]["details"]


def test_a_locked_database_during_a_run_is_a_409(client, officer, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from casework.finance import runs

    def locked(*_a, **_k):
        raise OperationalError("UPDATE finance_schedule_line", {}, Exception("database is locked"))

    monkeypatch.setattr(runs, "create_run", locked)
    response = client.post("/api/finance/payment-runs", headers=officer, json={"period_end": "2026-01-18"})
    assert response.status_code == 409 and response.json["error"]["code"] == "run_in_progress"


def test_openapi_documents_finance_routes(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    assert {"/api/finance/providers", "/api/finance/providers/{provider_id}", "/api/finance/agreements",
            "/api/finance/agreements/{agreement_id}", "/api/finance/payment-runs",
            "/api/finance/payment-runs/{run_id}/file", "/api/finance/payment-runs/preview"} <= set(paths)
    preview = paths["/api/finance/payment-runs/preview"]["get"]
    assert [p["name"] for p in preview["parameters"]] == ["period_end"]
    ref = preview["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"digest", "lines", "total_pence", "paid_by"} <= set(schema["properties"])
    create = paths["/api/finance/payment-runs"]["post"]
    assert "already_paid" in create["summary"]
    assert paths["/api/finance/providers"]["post"]["summary"].startswith("Create a provider")
