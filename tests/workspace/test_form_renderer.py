"""JSON Schema -> GOV.UK form renderer: rendering, reading the post back with types, validation messages."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from werkzeug.datastructures import MultiDict

from workspace.forms import SchemaError, SchemaForm

CONTACT = {
    "type": "object",
    "title": "Record a contact",
    "required": ["name", "date_of_birth", "contact_type", "consent", "children"],
    "properties": {
        "name": {"type": "string", "title": "Full name", "maxLength": 40},
        "date_of_birth": {"type": "string", "format": "date", "title": "Date of birth",
                          "description": "For example, 27 3 2007"},
        "contact_type": {"type": "string", "title": "How did the contact come in?",
                         "enum": ["phone", "visit", "letter"], "enumNames": ["Phone call", "Visit", "Letter"]},
        "visit_place": {"type": "string", "title": "Where was the visit?"},
        "consent": {"type": "boolean", "title": "Has the family given consent?"},
        "summary": {"type": "string", "title": "Summary", "maxLength": 2000},
        "hours": {"type": "number", "title": "Hours of care per week", "minimum": 0, "maximum": 168},
        "siblings": {"type": "integer", "title": "Number of siblings", "minimum": 0},
        "concerns": {"type": "array", "title": "Concerns", "uniqueItems": True,
                     "items": {"type": "string", "oneOf": [
                         {"const": "neglect", "title": "Neglect"},
                         {"const": "physical", "title": "Physical abuse"},
                         {"const": "emotional", "title": "Emotional abuse"}]}},
        "referrer": {"type": "object", "title": "Who referred", "required": ["role"],
                     "properties": {"role": {"type": "string", "title": "Role of referrer",
                                             "enum": [f"r{i}" for i in range(10)]},
                                    "email": {"type": "string", "format": "email", "title": "Email address"}}},
        "children": {"type": "array", "title": "Children in the household", "minItems": 1,
                     "items": {"type": "object", "title": "Child", "required": ["child_name"],
                               "properties": {"child_name": {"type": "string", "title": "Child's name"},
                                              "child_dob": {"type": "string", "format": "date",
                                                            "title": "Child's date of birth"}}}},
        "case_id": {"type": "string", "title": "Case reference", "readOnly": True},
        "secret": {"type": "string"},
    },
}
UI = {
    "ui:order": ["name", "date_of_birth", "contact_type", "*"],
    "contact_type": {"ui:reveal": {"visit": ["visit_place"]}},
    "summary": {"ui:widget": "textarea", "ui:hint": "What happened, in plain words", "ui:options": {"rows": 8}},
    "secret": {"ui:widget": "hidden"},
    "children": {"ui:options": {"itemTitle": "Child", "addLabel": "Add another child"}},
    "siblings": {"ui:options": {"width": "3"}},
}


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(str(html), "html.parser")


@pytest.fixture
def form() -> SchemaForm:
    return SchemaForm(CONTACT, UI)


def post(**values: str | list[str]) -> MultiDict:
    md = MultiDict()
    for key, value in values.items():
        key = key.replace("__", ".")
        for v in value if isinstance(value, list) else [value]:
            md.add(key, v)
    return md


VALID = dict(name="Sam Smith", date_of_birth__day="3", date_of_birth__month="4", date_of_birth__year="2015",
             contact_type="phone", consent="true", children__0__child_name="Ava")


def valid_post(**extra: str | list[str]) -> MultiDict:
    values = {k.replace("__", ".").replace(".day", "-day").replace(".month", "-month").replace(".year", "-year"): v
              for k, v in {**VALID, **extra}.items()}
    md = MultiDict()
    for k, v in values.items():
        for item in v if isinstance(v, list) else [v]:
            md.add(k, item)
    return md


# --- rendering ---------------------------------------------------------------------------------------------

def test_text_input_has_label_value_and_maxlength_free_input(form: SchemaForm) -> None:
    page = soup(form.render({"name": "Sam <b>Smith</b>"}))
    field = page.find("input", id="name")
    assert field["name"] == "name" and field["type"] == "text"
    assert field["value"] == "Sam <b>Smith</b>"  # escaped by the parser, not interpreted
    assert page.find("label", attrs={"for": "name"}).get_text(strip=True) == "Full name"
    assert "<b>" not in str(page.find("div", class_="govuk-form-group"))


def test_order_follows_ui_order_then_schema_order(form: SchemaForm) -> None:
    page = soup(form.render())
    names = []
    for el in page.find_all(["input", "textarea", "select"]):
        name = el.get("name", "")
        root = name.split(".")[0].split("-")[0]
        if root and not root.startswith("_") and root not in names:
            names.append(root)
    assert names[:4] == ["name", "date_of_birth", "contact_type", "visit_place"]  # visit_place is revealed
    assert names.index("consent") < names.index("summary") < names.index("hours") < names.index("children")


def test_date_renders_govuk_date_input_with_three_parts_and_hint(form: SchemaForm) -> None:
    page = soup(form.render({"date_of_birth": "2015-04-03"}))
    group = page.find("div", id="date_of_birth")
    assert "govuk-date-input" in group["class"]
    assert page.find("input", id="date_of_birth-day")["value"] == "3"
    assert page.find("input", id="date_of_birth-month")["value"] == "4"
    assert page.find("input", id="date_of_birth-year")["value"] == "2015"
    assert page.find("input", id="date_of_birth-day")["name"] == "date_of_birth-day"
    assert page.find("legend").get_text(strip=True) == "Date of birth"
    assert page.find(id="date_of_birth-hint").get_text(strip=True) == "For example, 27 3 2007"


def test_enum_renders_radios_with_enum_names_and_conditional_reveal(form: SchemaForm) -> None:
    page = soup(form.render({"contact_type": "visit", "visit_place": "School"}))
    radios = page.find_all("input", attrs={"name": "contact_type"})
    assert [r["value"] for r in radios] == ["phone", "visit", "letter"]
    assert [page.find("label", attrs={"for": r["id"]}).get_text(strip=True) for r in radios] == [
        "Phone call", "Visit", "Letter"]
    assert radios[0]["id"] == "contact_type"  # the error summary links here
    visit = page.find("input", attrs={"name": "contact_type", "value": "visit"})
    assert visit.has_attr("checked")
    reveal = page.find(id=visit["data-aria-controls"])
    assert reveal.find("input", id="visit_place")["value"] == "School"
    assert "govuk-radios__conditional--hidden" not in reveal["class"]


def test_hidden_reveal_is_hidden_until_chosen(form: SchemaForm) -> None:
    page = soup(form.render({"contact_type": "phone"}))
    reveal = page.find("input", id="visit_place").find_parent(class_="govuk-radios__conditional")
    assert "govuk-radios__conditional--hidden" in reveal["class"]


def test_boolean_renders_yes_no_radios(form: SchemaForm) -> None:
    page = soup(form.render({"consent": False}))
    radios = page.find_all("input", attrs={"name": "consent"})
    assert [(r["value"], r.has_attr("checked")) for r in radios] == [("true", False), ("false", True)]
    assert "govuk-radios--inline" in page.find("input", attrs={"name": "consent"}).find_parent(
        class_="govuk-radios")["class"]


def test_long_enum_renders_select_with_placeholder(form: SchemaForm) -> None:
    page = soup(form.render({"referrer": {"role": "r3"}}))
    select = page.find("select", id="referrer-role")
    assert select["name"] == "referrer.role"
    options = select.find_all("option")
    assert options[0]["value"] == "" and len(options) == 11
    assert select.find("option", value="r3").has_attr("selected")


def test_array_of_enums_renders_checkboxes_with_titles(form: SchemaForm) -> None:
    page = soup(form.render({"concerns": ["physical"]}))
    boxes = page.find_all("input", attrs={"name": "concerns"})
    assert [b["type"] for b in boxes] == ["checkbox"] * 3
    assert [b.has_attr("checked") for b in boxes] == [False, True, False]
    assert page.find("label", attrs={"for": boxes[1]["id"]}).get_text(strip=True) == "Physical abuse"


def test_object_renders_fieldset_with_legend(form: SchemaForm) -> None:
    page = soup(form.render())
    group = page.find("div", id="referrer")
    assert group.find("legend").get_text(strip=True) == "Who referred"
    assert group.find("input", id="referrer-email")["type"] == "email"


def test_textarea_and_character_count(form: SchemaForm) -> None:
    page = soup(form.render({"summary": "line one\nline two"}))
    area = page.find("textarea", id="summary")
    assert area["rows"] == "8" and area.get_text() == "line one\nline two"
    assert page.find(id="summary-hint").get_text(strip=True) == "What happened, in plain words"
    assert "govuk-character-count" in area.find_parent(class_="govuk-character-count")["class"]


def test_numbers_use_text_inputs_with_inputmode(form: SchemaForm) -> None:
    page = soup(form.render({"hours": 12.5, "siblings": 2}))
    hours, siblings = page.find("input", id="hours"), page.find("input", id="siblings")
    assert hours["inputmode"] == "decimal" and hours["value"] == "12.5"
    assert siblings["inputmode"] == "numeric" and siblings["value"] == "2"
    assert "govuk-input--width-3" in siblings["class"]


def test_array_of_objects_renders_rows_add_and_remove_buttons(form: SchemaForm) -> None:
    page = soup(form.render({"children": [{"child_name": "Ava"}, {"child_name": "Ben"}]}))
    assert page.find("input", id="children-0-child_name")["value"] == "Ava"
    assert page.find("input", id="children-1-child_name")["name"] == "children.1.child_name"
    assert page.find("input", attrs={"name": "_rows.children"})["value"] == "2"
    add = page.find("button", id="children-add")
    assert add["name"] == "_action" and add["value"] == "add:children"
    assert add.get_text(strip=True) == "Add another child"
    removes = page.find_all("button", attrs={"value": lambda v: v and v.startswith("remove:")})
    assert [b["value"] for b in removes] == ["remove:children.0", "remove:children.1"]
    assert [b["aria-label"] for b in removes] == ["Remove child 1", "Remove child 2"]
    assert page.find("div", id="children").find("legend").get_text(strip=True) == "Children in the household"
    legends = [row.find("legend").get_text(strip=True) for row in page.find_all(class_="casework-repeat-row")]
    assert legends == ["Child 1", "Child 2"]


def test_empty_array_starts_with_one_row_and_no_remove(form: SchemaForm) -> None:
    page = soup(form.render())
    assert page.find("input", id="children-0-child_name") is not None
    assert page.find("button", attrs={"value": "remove:children.0"}) is None


def test_readonly_shows_earlier_answer_and_hidden_is_not_rendered(form: SchemaForm) -> None:
    page = soup(form.render({"case_id": "CASE-42", "secret": "x"}))
    block = page.find(id="case_id")
    assert block.find("h3").get_text(strip=True) == "Case reference"
    assert "CASE-42" in block.get_text()
    assert page.find("input", attrs={"name": "case_id"}) is None
    assert page.find(attrs={"name": "secret"}) is None


def test_errors_are_shown_on_fields(form: SchemaForm) -> None:
    result = form.submit(MultiDict({"name": "", "date_of_birth-day": "31", "date_of_birth-month": "2",
                                    "date_of_birth-year": "2015"}))
    page = soup(form.render(result.data, raw=result.raw, errors=result.errors))
    assert page.find(id="name-error").get_text(strip=True) == "Error:Enter full name"
    assert "govuk-input--error" in page.find("input", id="name")["class"]
    assert "govuk-form-group--error" in page.find("input", id="name").find_parent(class_="govuk-form-group")["class"]
    # the typed date is shown again, each part marked
    assert page.find("input", id="date_of_birth-day")["value"] == "31"
    assert "govuk-input--error" in page.find("input", id="date_of_birth-year")["class"]
    assert page.find(id="contact_type-error").get_text(strip=True).endswith("Select how did the contact come in")


# --- reading the post back -------------------------------------------------------------------------------

def test_valid_post_gives_typed_data(form: SchemaForm) -> None:
    result = form.submit(valid_post(hours="7.5", siblings="2", concerns=["neglect", "emotional"],
                                    summary="a\r\nb", **{"referrer.role": "r1", "referrer.email": "a@b.org"}))
    assert result.errors == {}
    assert result.data == {
        "name": "Sam Smith", "date_of_birth": "2015-04-03", "contact_type": "phone", "consent": True,
        "summary": "a\nb", "hours": 7.5, "siblings": 2, "concerns": ["neglect", "emotional"],
        "referrer": {"role": "r1", "email": "a@b.org"}, "children": [{"child_name": "Ava"}],
    }


def test_extra_posted_fields_are_ignored_and_readonly_comes_from_base(form: SchemaForm) -> None:
    result = form.submit(valid_post(is_admin="1", case_id="HACKED", secret="typed"),
                         base={"case_id": "CASE-1", "secret": "kept"})
    assert result.errors == {}
    assert "is_admin" not in result.data
    assert result.data["case_id"] == "CASE-1" and result.data["secret"] == "kept"


def test_revealed_value_is_dropped_when_its_option_is_not_chosen(form: SchemaForm) -> None:
    result = form.submit(valid_post(visit_place="Old answer"))
    assert "visit_place" not in result.data
    result = form.submit(valid_post(contact_type="visit", visit_place="School"))
    assert result.data["visit_place"] == "School"


def test_integer_enum_and_month_names() -> None:
    schema = {"type": "object", "properties": {
        "score": {"type": "integer", "enum": [1, 2, 3], "title": "Score"},
        "when": {"type": "string", "format": "date", "title": "When"}}}
    f = SchemaForm(schema)
    result = f.submit(MultiDict({"score": "2", "when-day": "5", "when-month": "Sept", "when-year": "2026"}))
    assert result.data == {"score": 2, "when": "2026-09-05"} and result.errors == {}


@pytest.mark.parametrize(("parts", "message"), [
    (("", "4", "2015"), "Date of birth must include a day"),
    (("3", "", ""), "Date of birth must include a month and year"),
    (("30", "2", "2015"), "Date of birth must be a real date"),
    (("x", "2", "2015"), "Date of birth must be a real date"),
    (("3", "4", "15"), "Year must include 4 numbers"),
])
def test_date_problems_have_govuk_messages(form: SchemaForm, parts: tuple[str, str, str], message: str) -> None:
    day, month, year = parts
    result = form.submit(valid_post(date_of_birth__day=day, date_of_birth__month=month, date_of_birth__year=year))
    assert result.errors == {"date_of_birth": message}
    assert result.raw["date_of_birth"]["day"] == day


def test_unparseable_number_is_kept_for_redisplay(form: SchemaForm) -> None:
    result = form.submit(valid_post(hours="lots", siblings="1.5"))
    assert result.errors == {"hours": "Hours of care per week must be a number",
                             "siblings": "Number of siblings must be a whole number"}
    assert result.raw["hours"] == "lots"
    page = soup(form.render(result.data, raw=result.raw, errors=result.errors))
    assert page.find("input", id="hours")["value"] == "lots"


def test_numbers_accept_commas_and_pound_sign(form: SchemaForm) -> None:
    result = form.submit(valid_post(hours="£1,00", siblings=" 3 "))
    assert result.data["hours"] == 100 and result.data["siblings"] == 3


def test_empty_rows_are_dropped_and_rows_renumbered(form: SchemaForm) -> None:
    md = valid_post()
    md.setlist("children.0.child_name", [""])
    md.add("children.1.child_name", "Ben")
    md.add("_rows.children", "2")
    result = form.submit(md)
    assert result.data["children"] == [{"child_name": "Ben"}]


def test_add_and_remove_row_actions_skip_validation(form: SchemaForm) -> None:
    md = MultiDict({"children.0.child_name": "Ava", "_rows.children": "1", "_action": "add:children"})
    result = form.submit(md)
    assert result.errors == {} and result.action == "add:children"
    assert result.data["children"] == [{"child_name": "Ava"}, {}]
    page = soup(form.render(result.data, raw=result.raw))
    assert page.find("input", id="children-1-child_name") is not None
    md = MultiDict({"children.0.child_name": "Ava", "children.1.child_name": "Ben", "_rows.children": "2",
                    "_action": "remove:children.0"})
    result = form.submit(md)
    assert result.data["children"] == [{"child_name": "Ben"}]
    assert soup(form.render(result.data, raw=result.raw)).find("input", id="children-0-child_name")["value"] == "Ben"


def test_unknown_action_validates_normally(form: SchemaForm) -> None:
    result = form.submit(MultiDict({"_action": "explode:everything"}))
    assert "name" in result.errors


# --- validation messages ---------------------------------------------------------------------------------

def test_missing_answers_have_actionable_messages_in_form_order(form: SchemaForm) -> None:
    result = form.submit(MultiDict())
    assert list(result.errors.items()) == [
        ("name", "Enter full name"),
        ("date_of_birth", "Enter date of birth"),
        ("contact_type", "Select how did the contact come in"),
        ("consent", "Select yes or no for has the family given consent"),
        ("children", "Add at least one child"),
    ]
    links = form.error_list(result)
    assert [item["href"] for item in links] == [
        "#name", "#date_of_birth-day", "#contact_type", "#consent", "#children-0-child_name"]


def test_schema_errors_become_plain_messages(form: SchemaForm) -> None:
    result = form.submit(valid_post(name="x" * 41, hours="200", siblings="-1", contact_type="fax",
                                    concerns=["neglect", "bogus"], **{"referrer.role": "r1",
                                                                      "referrer.email": "not-an-email"}))
    assert result.errors == {
        "name": "Full name must be 40 characters or fewer",
        "contact_type": "Select how did the contact come in from the list",
        "hours": "Hours of care per week must be 168 or less",
        "siblings": "Number of siblings must be 0 or more",
        "concerns": "Select concerns from the list",
        "referrer-email": "Enter an email address in the correct format, like name@example.com, for email address",
    }
    for message in result.errors.values():
        assert "'" not in message and "is not" not in message  # no raw jsonschema text


def test_nested_required_and_row_errors_point_at_the_field(form: SchemaForm) -> None:
    md = valid_post(**{"referrer.email": "a@b.org"})
    md.setlist("children.0.child_name", [""])
    md.add("children.0.child_dob-day", "1")
    md.add("children.0.child_dob-month", "1")
    md.add("children.0.child_dob-year", "2020")
    result = form.submit(md)
    assert result.errors == {"referrer-role": "Select role of referrer", "children-0-child_name": "Enter child's name"}
    assert [i["href"] for i in form.error_list(result)] == ["#referrer-role", "#children-0-child_name"]


def test_custom_error_messages_from_ui_schema() -> None:
    schema = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 2}}}
    f = SchemaForm(schema, {"name": {"ui:errorMessages": {"required": "Enter the child's name",
                                                          "minLength": "Name is too short"}}})
    assert f.submit(MultiDict()).errors == {"name": "Enter the child's name"}
    assert f.submit(MultiDict({"name": "A"})).errors == {"name": "Name is too short"}


def test_conditional_required_with_if_then() -> None:
    schema = {"type": "object", "required": ["kind"],
              "properties": {"kind": {"type": "string", "enum": ["visit", "phone"], "title": "Kind"},
                             "place": {"type": "string", "title": "Place of visit"}},
              "if": {"properties": {"kind": {"const": "visit"}}, "required": ["kind"]},
              "then": {"required": ["place"]}}
    f = SchemaForm(schema, {"kind": {"ui:reveal": {"visit": ["place"]}}})
    assert f.submit(MultiDict({"kind": "visit"})).errors == {"place": "Enter place of visit"}
    assert f.submit(MultiDict({"kind": "phone", "place": "ignored"})).errors == {}


def test_required_checkboxes_and_min_items() -> None:
    schema = {"type": "object", "required": ["needs"], "properties": {
        "needs": {"type": "array", "title": "Needs", "minItems": 2, "items": {"enum": ["a", "b", "c"]}}}}
    f = SchemaForm(schema)
    assert f.submit(MultiDict()).errors == {"needs": "Select at least one option for needs"}
    assert f.submit(MultiDict({"needs": "a"})).errors == {"needs": "Select at least 2 options for needs"}


def test_lines_widget_for_arrays_of_strings() -> None:
    schema = {"type": "object", "properties": {"aliases": {"type": "array", "title": "Other names",
                                                           "items": {"type": "string"}}}}
    f = SchemaForm(schema)
    assert f.submit(MultiDict({"aliases": "Jo\n\n  Jojo \n"})).data == {"aliases": ["Jo", "Jojo"]}
    page = soup(f.render({"aliases": ["Jo", "Jojo"]}))
    assert page.find("textarea", id="aliases").get_text() == "Jo\nJojo"


def test_local_refs_are_followed() -> None:
    schema = {"type": "object", "$defs": {"addr": {"type": "object", "title": "Address", "required": ["postcode"],
                                                   "properties": {"postcode": {"type": "string"}}}},
              "properties": {"home": {"$ref": "#/$defs/addr", "title": "Home address"}}, "required": ["home"]}
    f = SchemaForm(schema)
    page = soup(f.render())
    assert page.find("input", id="home-postcode") is not None
    assert f.submit(MultiDict()).errors == {"home-postcode": "Enter postcode"}


def test_bad_definitions_are_refused() -> None:
    with pytest.raises(SchemaError):
        SchemaForm({"type": "string"})
    with pytest.raises(SchemaError):
        SchemaForm({"type": "object", "properties": {"a": {"$ref": "https://example.org/x"}}}).render()
    with pytest.raises(SchemaError):
        SchemaForm({"type": "object", "properties": {"a": {"enum": ["x"]}}},
                   {"a": {"ui:reveal": {"x": ["missing"]}}}).render()


# --- answers ---------------------------------------------------------------------------------------------

def test_answers_show_display_values_and_change_links(form: SchemaForm) -> None:
    data = {"name": "Sam", "date_of_birth": "2015-04-03", "contact_type": "visit", "visit_place": "School",
            "consent": True, "concerns": ["neglect", "physical"], "summary": "a\nb",
            "referrer": {"role": "r2"}, "children": [{"child_name": "Ava"}, {"child_name": "Ben"}],
            "case_id": "CASE-9", "secret": "s"}
    page = soup(form.answers(data, change_url="/tasks/1"))
    rows = {row.find("dt").get_text(strip=True): row for row in page.find_all(class_="govuk-summary-list__row")}
    value = {k: r.find(class_="govuk-summary-list__value").get_text(" ", strip=True) for k, r in rows.items()}
    assert value["Date of birth"] == "3 April 2015"
    assert value["How did the contact come in?"] == "Visit"
    assert value["Where was the visit?"] == "School"
    assert value["Has the family given consent?"] == "Yes"
    assert value["Concerns"] == "Neglect Physical abuse"
    assert value["Summary"] == "a b" and rows["Summary"].find("br") is not None
    assert value["Hours of care per week"] == "Not provided"
    assert value["Case reference"] == "CASE-9"
    assert rows["Case reference"].find("a") is None  # read-only: nothing to change
    assert "Secret" not in rows
    assert rows["Date of birth"].find("a")["href"] == "/tasks/1#date_of_birth-day"
    headings = [h.get_text(strip=True) for h in page.find_all("h2")]
    assert headings == ["Who referred", "Child 1", "Child 2"]


def test_answers_escape_html(form: SchemaForm) -> None:
    page = form.answers({"name": "<script>alert(1)</script>"})
    assert "<script>" not in str(page) and "&lt;script&gt;" in str(page)


def test_answers_as_plain_text(form: SchemaForm) -> None:
    text = form.answers_text({"name": "Sam & Jo", "concerns": ["neglect", "physical"], "summary": "a\nb",
                              "referrer": {"role": "r2"}})
    lines = text.splitlines()
    assert "Full name: Sam & Jo" in lines and "Concerns: Neglect; Physical abuse" in lines
    assert "Summary: a; b" in lines and "Who referred:" in lines and "Role of referrer: r2" in lines
