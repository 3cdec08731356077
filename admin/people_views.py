"""Users, roles and teams (Permission.USERS_MANAGE)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from admin.views import blueprint
from casework.accounts import service as accounts
from casework.auth.access import requires
from casework.auth.permissions import ROLE_LABELS, Permission, Role
from casework.configuration import people
from casework.errors import DomainError, NotFound
from casework.web.context import current_actor, db_session
from casework.web.navigation import NavEntry, register_nav

register_nav(NavEntry("Teams", "admin.teams", Permission.USERS_MANAGE, order=91))
ROLES = [(r.value, ROLE_LABELS[r]) for r in Role]


def _details(exc: DomainError, default_field: str) -> dict[str, str]:
    return {k: v for k, v in exc.details.items() if isinstance(v, str)} or {default_field: exc.message}


@blueprint.route("/users/<username>", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def user(username: str):  # type: ignore[no-untyped-def]
    session = db_session()
    try:
        person = accounts.get_user(session, username)
    except NotFound:
        abort(404)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        actor = current_actor()
        try:
            people.set_roles(session, person, request.form.getlist("roles"), actor=actor)
            people.set_teams(session, person, request.form.getlist("teams"), request.form.getlist("manages"),
                             actor=actor)
            people.set_active(session, person, request.form.get("active") == "yes", actor=actor)
        except DomainError as exc:
            session.rollback()
            errors, status = _details(exc, "roles"), exc.status
            person = accounts.get_user(session, username)
        else:
            session.commit()
            flash(f"Saved {person.display_name}")
            return redirect(url_for("admin.users"))
    memberships = {m.team_id: m.is_manager for m in person.memberships}
    return render_template("admin/user.html", title=person.display_name, person=person, roles=ROLES,
                           teams=people.list_teams(session), memberships=memberships, errors=errors), status


@blueprint.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def new_user():  # type: ignore[no-untyped-def]
    session = db_session()
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            person = people.add_user(session, username=values.get("username", ""),
                                     display_name=values.get("display_name", ""), email=values.get("email"),
                                     password=values.get("password", ""), roles=request.form.getlist("roles"),
                                     teams=request.form.getlist("teams"), actor=current_actor())
        except DomainError as exc:
            session.rollback()
            errors = _details(exc, "username")
        else:
            session.commit()
            flash(f"Added {person.display_name}")
            return redirect(url_for("admin.users"))
    return render_template("admin/new_user.html", title="Add a user", roles=ROLES, teams=people.list_teams(session),
                           errors=errors, values=values, chosen_roles=request.form.getlist("roles"),
                           chosen_teams=request.form.getlist("teams")), (422 if errors else 200)


@blueprint.route("/teams", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def teams():  # type: ignore[no-untyped-def]
    session = db_session()
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            team = people.add_team(session, code=values.get("code", ""), name=values.get("name", ""),
                                   service_area=values.get("service_area", ""), actor=current_actor())
        except DomainError as exc:
            session.rollback()
            errors = _details(exc, "code")
        else:
            session.commit()
            flash(f"Added team {team.name}")
            return redirect(url_for("admin.teams"))
    rows = [(t, len(t.members)) for t in people.list_teams(session)]
    return render_template("admin/teams.html", title="Teams", rows=rows, errors=errors, values=values,
                           areas=people.SERVICE_AREAS), (422 if errors else 200)
