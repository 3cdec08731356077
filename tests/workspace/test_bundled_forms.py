"""Every form shipped in forms/ renders, reads back and reports problems against controls that exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from werkzeug.datastructures import MultiDict

from casework.config import REPO_ROOT
from workspace.forms import SchemaForm

FORMS = sorted((REPO_ROOT / "forms").glob("*.schema.json"))


def load(path: Path) -> SchemaForm:
    ui_path = path.with_name(path.name.replace(".schema.json", ".uischema.json"))
    ui = json.loads(ui_path.read_text()) if ui_path.exists() else {}
    return SchemaForm(json.loads(path.read_text()), ui)


def test_there_are_bundled_forms() -> None:
    assert FORMS, "forms/ should hold the processes' forms"


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name.removesuffix(".schema.json"))
def test_bundled_form_renders_and_every_error_links_to_a_control(path: Path) -> None:
    form = load(path)
    html = BeautifulSoup(str(form.render()), "html.parser")
    ids = {el["id"] for el in html.find_all(attrs={"id": True})}
    result = form.submit(MultiDict())
    for item in form.error_list(result):
        assert item["href"][1:] in ids, (item, path.name)
        assert "is a required property" not in item["text"] and "is not valid" not in item["text"]
    labelled = [el for el in html.find_all(["input", "textarea", "select"]) if el.get("type") not in ("hidden",)]
    for el in labelled:
        assert html.find("label", attrs={"for": el["id"]}) is not None, (el.get("name"), path.name)
