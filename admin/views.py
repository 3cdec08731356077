"""Admin pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from casework.accounts.service import list_users
from casework.auth.access import requires
from casework.auth.permissions import ROLE_LABELS, Permission, Role
from casework.web.context import db_session
from casework.web.navigation import NavEntry, register_nav

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
register_nav(NavEntry("Users", "admin.users", Permission.USERS_MANAGE, order=90))


@blueprint.get("/users")
@requires(Permission.USERS_MANAGE)
def users():  # type: ignore[no-untyped-def]
    return render_template("admin/users.html", title="Users", users=list_users(db_session()),
                           role_labels={r.value: ROLE_LABELS[r] for r in Role})


# Page modules register their routes on this blueprint when imported.
from admin import (  # noqa: E402,F401
    dmn_views,
    draft_views,
    editor_views,
    form_views,
    library_views,
    migrate_views,
    people_views,
    settings_views,
    simulation_views,
)
