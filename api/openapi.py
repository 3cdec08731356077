"""OpenAPI 3 document built from the routes themselves: views carry `@documented(...)` metadata."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify
from marshmallow import Schema

from api import blueprint
from casework.auth.access import PUBLIC, access_rule, public

F = TypeVar("F", bound=Callable[..., Any])
DOC_ATTR = "_casework_openapi"


def documented(summary: str, *, body: type[Schema] | Schema | None = None,
               response: type[Schema] | Schema | None = None, status: int = 200,
               query: dict[str, str] | None = None) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, DOC_ATTR, {"summary": summary, "body": body, "response": response, "status": status,
                                 "query": query or {}})
        return view

    return mark


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="casework API", version="0.1.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
        info={"description": "Errors: {\"error\": {\"code\", \"message\", \"details\"}} with 400/401/403/404/409/422."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        meta = getattr(view, DOC_ATTR, {"summary": rule.endpoint, "body": None, "response": None,
                                         "status": 200, "query": {}})
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {"summary": meta["summary"], "operationId": f"{rule.endpoint}.{method.lower()}",
                                  "responses": {str(meta["status"]): {"description": "OK"}}}
            if meta["response"] is not None:
                op["responses"][str(meta["status"])]["content"] = {"application/json": {"schema": meta["response"]}}
            if meta["body"] is not None and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
            params = [{"in": "path", "name": arg, "required": True, "schema": {"type": "string"}}
                      for arg in sorted(rule.arguments)]
            params += [{"in": "query", "name": name, "required": False, "schema": {"type": "string"},
                        "description": text} for name, text in meta["query"].items()]
            if params:
                op["parameters"] = params
            if access_rule(view) != PUBLIC:
                op["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = op
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@blueprint.get("/openapi.json")
@public
@documented("This OpenAPI 3 document")
def openapi_document():  # type: ignore[no-untyped-def]
    return jsonify(build_spec())
