"""People: validation, duplicate check, name/address history, restriction (invisible, not forbidden)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from casework.errors import Conflict, Invalid, NotFound
from casework.records import service_details as details
from casework.records import service_person as people
from casework.records.access import can_view_person, get_visible_person, visible_people_clause
from casework.records.models_person import Person
from tests.factories import create_team, create_user
from tests.records.factories import actor_for, create_person, practitioner


def test_create_person_sets_local_id_name_history_and_attribution(session):
    actor = practitioner(session)
    person = create_person(session, actor, forename="Maya", surname="Okoro", nhs_number="900 000 0009",
                           ethnicity="BAFR", disabilities=["LD"], first_language="ENG", sex="F")
    assert person.local_id == f"P{person.id:08d}"
    assert person.nhs_number == "9000000009"
    assert [(n.forename, n.surname, n.name_type) for n in person.names] == [("Maya", "Okoro", "legal")]
    assert person.created_by == actor.user_id and person.version == 1


@pytest.mark.parametrize("value", ["9000000001", "12345", "90000000O9"])
def test_invalid_nhs_number_is_refused_with_field_message(session, value):
    actor = practitioner(session)
    with pytest.raises(Invalid) as exc:
        create_person(session, actor, nhs_number=value)
    assert "nhs_number" in exc.value.details


def test_impossible_dates_are_refused(session):
    actor = practitioner(session)
    future = date.today() + timedelta(days=30)
    with pytest.raises(Invalid) as exc:
        create_person(session, actor, date_of_birth=future)
    assert "date_of_birth" in exc.value.details
    unborn = create_person(session, actor, date_of_birth=future, dob_is_expected=True)
    assert unborn.dob_is_expected
    with pytest.raises(Invalid) as exc:
        create_person(session, actor, date_of_birth=date(2000, 1, 1), date_of_death=date(1999, 1, 1))
    assert "date_of_death" in exc.value.details


def test_unknown_codes_are_refused(session):
    actor = practitioner(session)
    with pytest.raises(Invalid) as exc:
        create_person(session, actor, ethnicity="XXXX")
    assert "ethnicity" in exc.value.details
    with pytest.raises(Invalid) as exc:
        create_person(session, actor, disabilities=["NONE", "FLY"])
    assert "disabilities" in exc.value.details


def test_duplicate_check_nhs_exact_and_fuzzy_name(session):
    actor = practitioner(session)
    create_person(session, actor, forename="Jonathan", surname="Smithson", date_of_birth=date(2012, 5, 1),
                  nhs_number="9000000009")
    with pytest.raises(Conflict) as exc:
        people.create_person(session, actor, {"forename": "Jon", "surname": "Other", "nhs_number": "9000000009"},
                             confirm_not_duplicate=True)
    assert exc.value.details["matches"][0]["reason"] == "Same NHS number"
    with pytest.raises(Conflict) as exc:
        people.create_person(session, actor, {"forename": "Jonathon", "surname": "Smithsen",
                                              "date_of_birth": date(2012, 5, 1)})
    assert exc.value.code == "possible_duplicate" and len(exc.value.details["matches"]) == 1
    confirmed = people.create_person(session, actor, {"forename": "Jonathon", "surname": "Smithsen",
                                                      "date_of_birth": date(2012, 5, 1)}, confirm_not_duplicate=True)
    assert confirmed.id
    different = people.create_person(session, actor, {"forename": "Zara", "surname": "Begum",
                                                      "date_of_birth": date(2012, 5, 1)})
    assert different.id


def test_name_change_keeps_history_and_stale_version_is_refused(session):
    actor = practitioner(session)
    person = create_person(session, actor, forename="Amy", surname="Wood")
    people.update_person(session, actor, person, {"surname": "Wood-Hall"}, expected_version=1)
    assert person.version == 2 and person.surname == "Wood-Hall"
    names = [(n.surname, n.name_type, n.valid_to is not None) for n in person.names]
    assert names == [("Wood", "previous", True), ("Wood-Hall", "legal", False)]
    with pytest.raises(Conflict) as exc:
        people.update_person(session, actor, person, {"surname": "Hall"}, expected_version=1)
    assert "version" in exc.value.details
    assert person.surname == "Wood-Hall"


def test_new_home_address_ends_the_current_one(session):
    actor = practitioner(session)
    person = create_person(session, actor)
    details.add_address(session, actor, person, {"line1": "1 High Street", "postcode": "zz1 1aa",
                                                 "start_date": date(2020, 1, 1)})
    details.add_address(session, actor, person, {"line1": "2 Mill Lane", "postcode": "ZZ2 2BB",
                                                 "start_date": date(2023, 6, 1)})
    first, second = person.addresses
    assert first.end_date == date(2023, 6, 1) and second.end_date is None
    assert person.current_address is second and first.postcode == "ZZ1 1AA"


def test_alerts_and_contacts(session):
    actor = practitioner(session)
    person = create_person(session, actor)
    alert = details.add_alert(session, actor, person, alert_type="risk_to_staff", description="Visit in pairs")
    with pytest.raises(Invalid):
        details.add_alert(session, actor, person, alert_type="nonsense", description="x")
    with pytest.raises(Invalid):
        details.add_contact(session, actor, person, {"kind": "email", "value": "not-an-email"})
    details.add_contact(session, actor, person, {"kind": "mobile", "value": "07700 900123"})
    details.end_alert(session, actor, person, alert.id)
    assert person.active_alerts == [] and len(person.alerts) == 1


def test_restricted_record_is_invisible_unless_named(session):
    team = create_team(session)
    owner_user = create_user(session, teams=[team])
    owner = actor_for(owner_user)
    teammate = actor_for(create_user(session, teams=[team]))
    outsider = practitioner(session)
    named = practitioner(session)
    sealed = create_person(session, owner, forename="Sealed", surname="Record", restricted=True,
                           restricted_to_users=[named.user_id], restricted_to_teams=[team.id])
    open_person = create_person(session, owner, forename="Open", surname="Record")
    assert can_view_person(owner, sealed) and can_view_person(named, sealed) and can_view_person(teammate, sealed)
    assert not can_view_person(outsider, sealed) and can_view_person(outsider, open_person)
    with pytest.raises(NotFound):
        get_visible_person(session, outsider, sealed.id)
    rows, _ = people.search_people(session, outsider, surname="record")
    assert [p.id for p in rows] == [open_person.id]
    visible = set(session.scalars(select(Person.id).where(visible_people_clause(named),
                                                          Person.id.in_([sealed.id, open_person.id]))))
    assert visible == {sealed.id, open_person.id}
    # the duplicate check does not reveal a sealed record either
    assert people.find_duplicates(session, outsider, forename="Sealed", surname="Record",
                                  date_of_birth=sealed.date_of_birth) == []


def test_users_without_records_permission_see_nobody(session):
    actor = practitioner(session)
    person = create_person(session, actor)
    configurator = actor_for(create_user(session, roles=["configurator"]))
    assert not can_view_person(configurator, person)


def test_search_by_nhs_surname_prefix_dob_and_partial_name(session):
    actor = practitioner(session)
    target = create_person(session, actor, forename="Priyanka", surname="Chaudhry", date_of_birth=date(2010, 2, 3),
                           nhs_number="9000000025")
    create_person(session, actor, forename="Peter", surname="Chadwick", date_of_birth=date(1980, 1, 1))
    assert [p.id for p in people.search_people(session, actor, nhs_number="900 000 0025")[0]] == [target.id]
    found = people.search_people(session, actor, surname="Cha", date_of_birth=date(2010, 2, 3))[0]
    assert [p.id for p in found] == [target.id]
    assert target.id in [p.id for p in people.search_people(session, actor, q="yank chau")[0]]
    assert people.search_people(session, actor, q="100%_")[0] == []
    assert [p.id for p in people.search_people(session, actor, q="pr chaud")[0]] == [target.id]  # name starts
    assert people.search_people(session, actor, q="ri chaud")[0] == []  # 1-2 letters match the start of a name
    with pytest.raises(Invalid):
        people.search_people(session, actor, q="p c")
    with pytest.raises(Invalid):
        people.search_people(session, actor)


def test_a_concurrent_writer_makes_the_versioned_update_fail(session, connection):
    from sqlalchemy import text
    from sqlalchemy.orm.exc import StaleDataError

    actor = practitioner(session)
    person = create_person(session, actor)
    # someone else saves after we read version 1 (same database, outside our session)
    connection.execute(text("UPDATE person SET version = 2, preferred_name = 'Theirs' WHERE id = :id"),
                       {"id": person.id})
    with pytest.raises(StaleDataError):
        people.update_person(session, actor, person, {"preferred_name": "Mine"}, expected_version=1)


def test_in_place_changes_keep_the_previous_value(session):
    from casework.records.models_change import RecordChange

    actor = practitioner(session)
    person = create_person(session, actor, ethnicity="WBRI", disabilities=["LD"])
    people.update_person(session, actor, person, {"ethnicity": "WIRI", "disabilities": ["LD", "AUT"],
                                                  "sex": None}, expected_version=1)
    rows = session.scalars(select(RecordChange).where(RecordChange.record_type == "person",
                                                      RecordChange.record_id == person.id)
                           .order_by(RecordChange.field)).all()
    assert [(r.field, r.old_value, r.new_value, r.version, r.changed_by) for r in rows] == [
        ("disabilities", "LD", "LD,AUT", 2, actor.user_id), ("ethnicity", "WBRI", "WIRI", 2, actor.user_id)]
