"""Workspace pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from casework.accounts.service import teams_of
from casework.auth.access import login_required
from casework.auth.permissions import ROLE_LABELS, Role
from casework.web.context import current_actor, db_session
from casework.web.navigation import NavEntry, register_nav

blueprint = Blueprint("workspace", __name__)
register_nav(NavEntry("Home", "workspace.home", None, order=0))


@blueprint.get("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    actor = current_actor()
    teams = teams_of(db_session(), actor.user_id)
    roles = [ROLE_LABELS[Role(code)] for code in sorted(actor.roles) if code in Role._value2member_map_]
    return render_template("workspace/home.html", title="Home", teams=teams, roles=roles)
