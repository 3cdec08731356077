"""Server-side validation with jsonschema (Draft 2020-12), errors mapped to field ids in messages a person
can act on ("Enter the child's name", not "'name' is a required property")."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from workspace.forms.model import Field, FormModel, field_index
from workspace.forms.parse import Submission

CHOICE_KINDS = ("radios", "select", "boolean")


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator:
    import json

    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validator_for(schema: dict) -> Draft202012Validator:
    import json

    return _validator(json.dumps(schema, sort_keys=True))


def validate(model: FormModel, submission: Submission) -> dict[str, str]:
    """All problems (parse problems first-come, then schema problems), keyed by field id, in form order."""
    root = model.build(submission.data)
    index = field_index(root)
    errors: dict[str, str] = dict(submission.errors)
    for error in _leaf_errors(validator_for(model.schema).iter_errors(submission.data)):
        for target, message in _describe(error, index):
            if target.id in errors or any(target.id.startswith(k + "-") for k in submission.errors):
                continue  # a parse message (or an earlier message) already explains this field
            errors[target.id] = message
    order = {f.id: n for n, f in enumerate(_in_order(root))}
    return dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))


def error_list(model: FormModel, data: dict, errors: dict[str, str]) -> list[dict[str, str]]:
    """GOV.UK error summary items, each linking to the field's first control."""
    index = {f.id: f for f in field_index(model.build(data)).values()}
    items = []
    for fid, message in errors.items():
        f = index.get(fid)
        items.append({"text": message, "href": f"#{f.anchor if f else fid}"})
    return items


def _in_order(root: Field) -> Iterable[Field]:
    yield root
    for child in root.children:
        yield from _in_order(child)
        for revealed in child.reveals.values():
            for r in revealed:
                yield from _in_order(r)
    for row in root.rows:
        for child in row:
            yield from _in_order(child)
            for revealed in child.reveals.values():
                for r in revealed:
                    yield from _in_order(r)


def _leaf_errors(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    for error in errors:
        if error.validator in ("anyOf", "oneOf") and error.context:
            # report the branch that got furthest, as jsonschema's best_match does
            from jsonschema.exceptions import best_match

            yield best_match(error.context)
        elif error.validator in ("allOf", "if", "then", "else") and error.context:
            yield from _leaf_errors(error.context)
        else:
            yield error


def _nearest(index: dict[tuple, Field], path: tuple) -> Field | None:
    while path not in index and path:
        path = path[:-1]
    return index.get(path)


def _describe(error: ValidationError, index: dict[tuple, Field]) -> list[tuple[Field, str]]:
    path = tuple(error.absolute_path)
    if error.validator in ("required", "dependentRequired", "dependencies"):
        out = []
        for missing in _missing(error):
            target = index.get((*path, missing))
            if target is None:  # a property the form does not show: say so on the nearest field
                near = _nearest(index, path)
                if near is not None:
                    out.append((near, f"Complete {_lower_title(near)}" if near.title else "Answer all questions"))
                continue
            custom = target.ui.get("ui:errorMessages", {})
            out.append((target, custom.get("required") or _required_message(target)))
        return out
    if error.validator == "additionalProperties":
        return []  # the parser never sends fields the schema lacks; nothing the person can fix
    target = _nearest(index, path)
    if target is None:
        return []
    error_kind = "items" if target.kind == "checkboxes" and len(path) > len(target.path) else error.validator
    custom = target.ui.get("ui:errorMessages", {})
    if error.validator in custom:
        return [(target, custom[error.validator])]
    return [(target, _message(target, str(error_kind), error.validator_value, error.instance))]


def _missing(error: ValidationError) -> list[str]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        return [name for name in error.validator_value if name not in instance]
    names: list[str] = []
    for trigger, needed in error.validator_value.items():
        if trigger in instance and isinstance(needed, list):
            names.extend(name for name in needed if name not in instance)
    return names


def _lower_title(f: Field) -> str:
    title = f.title.rstrip("?").strip()
    return title[:1].lower() + title[1:] if title[1:2].islower() or len(title) == 1 else title


def _required_message(f: Field) -> str:
    what = _lower_title(f)
    if f.kind in CHOICE_KINDS:
        return f"Select {what}" if f.kind != "boolean" else f"Select yes or no for {what}"
    if f.kind == "checkboxes":
        return f"Select at least one option for {what}"
    if f.kind == "array":
        return f"Add at least one {(f.item_template.title if f.item_template else what).lower()}"
    if f.kind == "date":
        return f"Enter {what}"
    return f"Enter {what}"


def _message(f: Field, validator: str, expected: Any, instance: Any) -> str:
    title, what = f.title.rstrip("?").strip(), _lower_title(f)
    if validator in ("items", "enum", "const"):
        return f"Select {what} from the list"  # noqa: S608 (a sentence, not SQL)
    if validator == "type":
        if f.kind in ("integer", "number"):
            return f"{title} must be a{' whole' if f.kind == 'integer' else ''} number"
        if f.kind in CHOICE_KINDS:
            return f"Select {what}"
        return f"Enter {what}"
    if validator == "minLength":
        return f"Enter {what}" if expected <= 1 else f"{title} must be {expected} characters or more"
    if validator == "maxLength":
        return f"{title} must be {expected} characters or fewer"
    if validator == "pattern":
        return f"Enter {what} in the correct format"
    if validator == "format":
        if expected == "date":
            return f"{title} must be a real date"
        if expected == "email":
            return f"Enter an email address in the correct format, like name@example.com, for {what}"
        return f"Enter {what} in the correct format"
    if validator == "minimum":
        return f"{title} must be {expected} or more"
    if validator == "exclusiveMinimum":
        return f"{title} must be more than {expected}"
    if validator == "maximum":
        return f"{title} must be {expected} or less"
    if validator == "exclusiveMaximum":
        return f"{title} must be less than {expected}"
    if validator == "multipleOf":
        return f"{title} must be a multiple of {expected}"
    if validator == "minItems":
        if f.kind == "checkboxes":
            return f"Select at least {expected} option{'s' if expected != 1 else ''} for {what}"
        item = f.item_template.title.lower() if f.item_template and f.item_template.title else "item"
        if expected == 1:
            return f"Add at least one {item}"
        return f"Add at least {expected} {item}{'s' if expected != 1 and not item.endswith('s') else ''}"
    if validator == "maxItems":
        if f.kind == "checkboxes":
            return f"Select no more than {expected} options for {what}"
        return f"{title} can have no more than {expected} entries"
    if validator == "uniqueItems":
        return f"Each entry in {what} must be different"
    return f"Check {what}"
