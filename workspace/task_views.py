"""The task page: the task's JSON Schema form (prefilled), save as draft, check your answers, submit.

Nothing typed is lost: a form with problems is shown again as typed; a task someone else completed first shows
who and when with the answers kept on the page; a session that ended mid-form keeps the answers as a draft to
pick up after signing in again.
"""

from __future__ import annotations

import hmac

from flask import flash, g, redirect, render_template, request, session, url_for

from casework.auth.access import login_required
from casework.auth.permissions import Permission
from casework.drafts import service as drafts
from casework.errors import Forbidden, Unauthorized
from casework.web.context import current_actor, db_session
from engine import errors as engine_errors
from workspace import queries, services
from workspace.forms import FormResult, SchemaForm
from workspace.views import blueprint

EMPTY_SCHEMA = {"type": "object", "properties": {}}
PAGE_ACTIONS = ("continue", "draft")


def _load(item_id: int) -> tuple[dict, SchemaForm]:
    actor = current_actor()
    if not actor.can(Permission.WORK) and not actor.can(Permission.APPROVE):
        raise Forbidden("You do not have a work list")
    item = services.require_open(actor, queries.get_item(services.conn(), item_id))
    return item, form_for(item)


def form_for(item: dict) -> SchemaForm:
    definition = queries.form_of(services.conn(), item["definition_id"], item["form"]) or {}
    return SchemaForm(definition.get("schema") or EMPTY_SCHEMA, definition.get("uischema") or {})


def _mine(item: dict) -> bool:
    return item["assignee"] in (None, current_actor().username)


def _closed_page(item: dict, form: SchemaForm, typed: dict | None, status: int):  # type: ignore[no-untyped-def]
    names = services.display_names({item["completed_by"] or ""})
    return render_template("workspace/task_closed.html", title=item["title"], item=item, typed=typed,
                           answers=form.answers(typed) if typed else None,
                           completed_by=names.get(item["completed_by"] or "", item["completed_by"])), status


def _task_page(item: dict, form: SchemaForm, data: dict, *, result: FormResult | None = None,
               notice: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    errors = result.errors if result else {}
    names = services.display_names({item["assignee"] or ""})
    due = queries.decorate(dict(item), services.now(), services.calendar())
    return render_template(
        "workspace/task.html", title=item["title"], item=item, due=due, notice=notice, mine=_mine(item),
        assignee_name=names.get(item["assignee"] or "", item["assignee"]),
        fields=form.render(data, raw=result.raw if result else None, errors=errors),
        answers=None if _mine(item) else form.answers(data),
        earlier=services.earlier_answers(current_actor(), item["business_key"]),
        errors=errors, error_list=form.error_list(result) if result and errors else [],
    ), status


@blueprint.route("/tasks/<int:item_id>", methods=["GET", "POST"])
@login_required
def task(item_id: int):  # type: ignore[no-untyped-def]
    actor = current_actor()
    item, form = _load(item_id)
    if request.method == "GET":
        if item["status"] != "open":
            return _closed_page(item, form, None, 200)
        notice = None
        resume = request.args.get("resume")
        if resume and drafts.take_resumed(db_session(), resume, item["id"], actor.user_id) is not None:
            db_session().commit()
            notice = "Your session ended before you finished. We kept the answers you typed: check them and carry on."
        draft = drafts.get_draft(db_session(), item["id"], actor.user_id)
        if draft is not None and notice is None:
            notice = f"You are looking at the draft you saved on {draft.saved_at:%-d %B %Y at %H:%M}."
            if draft.instance_version != item["instance_version"]:
                notice += " The case has changed since then: check your answers before you continue."
        data = {**services.task_data(item), **(drafts.draft_data(draft) or {})}
        return _task_page(item, form, data, notice=notice)

    prefill = services.task_data(item) if item["status"] == "open" else {}
    result = form.submit(request.form, base=prefill, validate_data=request.form.get("_action") != "draft")
    if item["status"] != "open":
        return _closed_page(item, form, result.data, 409)
    if not _mine(item):
        raise Forbidden("This task is assigned to someone else")
    if result.action and result.action not in PAGE_ACTIONS:  # add / remove a row: show the form again
        return _task_page(item, form, {**prefill, **result.data}, result=result)
    if result.action == "draft":
        drafts.save_draft(db_session(), item["id"], actor.user_id, result.data, item["instance_version"])
        db_session().commit()
        flash("Your draft has been saved. You can come back to it from My work.")
        return redirect(url_for("workspace.task", item_id=item["id"]))
    if result.errors:
        return _task_page(item, form, {**prefill, **result.data}, result=result, status=422)
    drafts.save_draft(db_session(), item["id"], actor.user_id, result.data, item["instance_version"])
    db_session().commit()
    return redirect(url_for("workspace.check", item_id=item["id"]))


@blueprint.route("/tasks/<int:item_id>/check", methods=["GET", "POST"])
@login_required
def check(item_id: int):  # type: ignore[no-untyped-def]
    actor = current_actor()
    item, form = _load(item_id)
    draft = drafts.get_draft(db_session(), item["id"], actor.user_id)
    if item["status"] != "open":
        return _closed_page(item, form, drafts.draft_data(draft), 409 if request.method == "POST" else 200)
    if draft is None or not _mine(item):
        return redirect(url_for("workspace.task", item_id=item["id"]))
    data = drafts.draft_data(draft) or {}
    notice, status = None, 200
    if request.method == "POST":
        errors = form.validate(data)
        if errors:
            result = FormResult(data=data, errors=errors)
            return _task_page(item, form, {**services.task_data(item), **data}, result=result, status=422)
        try:
            services.complete(item, form, data, actor, expected_version=draft.instance_version)
        except engine_errors.Conflict:
            db_session().rollback()
            item = queries.get_item(services.conn(), item_id) or item
            if item["status"] != "open":
                return _closed_page(item, form, data, 409)
            drafts.save_draft(db_session(), item["id"], actor.user_id, data, item["instance_version"])
            db_session().commit()
            notice = ("The case changed after you saved these answers (someone else updated it). "
                      "Check your answers are still right, then submit again.")
            status = 409
        except engine_errors.Forbidden as exc:
            db_session().rollback()
            notice = _forbidden_reason(str(exc))
            status = 403
        else:
            drafts.discard_draft(db_session(), item["id"], actor.user_id)
            db_session().commit()
            flash(f"‘{item['title']}’ is complete.")
            return redirect(url_for("workspace.home"))
    elif draft.instance_version != item["instance_version"]:
        notice = "The case has changed since you saved these answers: check they are still right."
    change_url = url_for("workspace.task", item_id=item["id"])
    return render_template("workspace/check.html", title=f"Check your answers: {item['title']}", item=item,
                           answers=form.answers(data, change_url=change_url), notice=notice), status


def _forbidden_reason(message: str) -> str:
    if "four-eyes" in message:
        return ("Someone else must complete this step: you did an earlier step of this case, and the four-eyes "
                "rule means the same person cannot also approve it. Ask your manager to give it to a colleague.")
    return "You cannot complete this task. It may have been given to someone else; go back to My work."


@blueprint.errorhandler(Unauthorized)
def _signed_out(exc: Unauthorized):  # type: ignore[no-untyped-def]
    """A session that ended while a form was being filled in: keep the answers, ask to sign in again."""
    if request.method == "POST" and request.endpoint == "workspace.task" and g.get("session_expired") \
            and _csrf_ok():
        item_id = (request.view_args or {}).get("item_id")
        item = queries.get_item(services.conn(), int(item_id)) if item_id is not None else None
        if item is not None and item["status"] == "open":
            typed = form_for(item).parse(request.form).data
            key = drafts.stash_for_resume(db_session(), item["id"], typed, item["instance_version"])
            db_session().commit()
            nxt = url_for("workspace.task", item_id=item["id"], resume=key)
            return redirect(url_for("auth.login", next=nxt, expired=1))
    if request.method == "POST" and request.endpoint == "workspace.check":
        nxt = request.path  # the answers are already saved as a draft: back to checking them
    else:
        nxt = request.full_path if request.method == "GET" else None
    return redirect(url_for("auth.login", next=nxt, expired=1 if g.get("session_expired") else None))


def _csrf_ok() -> bool:
    sent, expected = request.form.get("csrf_token"), session.get("csrf")
    return bool(sent and expected and hmac.compare_digest(str(sent), str(expected)))
