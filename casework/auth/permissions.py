"""Roles and the permissions they grant. One table, read by every route and service."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PRACTITIONER = "practitioner"
    TEAM_MANAGER = "team_manager"
    HEAD_OF_SERVICE = "head_of_service"
    FINANCE_OFFICER = "finance_officer"
    CONFIGURATOR = "configurator"
    ADMINISTRATOR = "administrator"
    IG_OFFICER = "ig_officer"


ROLE_LABELS = {
    Role.PRACTITIONER: "Practitioner",
    Role.TEAM_MANAGER: "Team manager",
    Role.HEAD_OF_SERVICE: "Head of service",
    Role.FINANCE_OFFICER: "Finance officer",
    Role.CONFIGURATOR: "Configurator",
    Role.ADMINISTRATOR: "Administrator",
    Role.IG_OFFICER: "Information governance officer",
}


class Permission(StrEnum):
    WORK = "work"  # have an inbox, complete own tasks
    RECORDS_VIEW = "records.view"
    RECORDS_EDIT = "records.edit"
    TEAM_MANAGE = "team.manage"  # assign and reassign team work
    APPROVE = "approve"  # decide approvals (assessment sign-off, payments)
    FINANCE = "finance"  # providers, payment runs and exports
    REPORTS = "reports"
    CONFIGURE = "configure"  # edit processes and forms
    USERS_MANAGE = "users.manage"
    AUDIT_VIEW = "audit.view"


_CASE_WORK = {Permission.WORK, Permission.RECORDS_VIEW, Permission.RECORDS_EDIT}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PRACTITIONER: frozenset(_CASE_WORK),
    Role.TEAM_MANAGER: frozenset(_CASE_WORK | {Permission.TEAM_MANAGE, Permission.APPROVE, Permission.REPORTS}),
    Role.HEAD_OF_SERVICE: frozenset(
        _CASE_WORK | {Permission.TEAM_MANAGE, Permission.APPROVE, Permission.REPORTS}
    ),
    Role.FINANCE_OFFICER: frozenset(
        {Permission.WORK, Permission.RECORDS_VIEW, Permission.FINANCE, Permission.APPROVE, Permission.REPORTS}
    ),
    Role.CONFIGURATOR: frozenset({Permission.CONFIGURE}),
    Role.ADMINISTRATOR: frozenset({Permission.USERS_MANAGE, Permission.AUDIT_VIEW}),
    Role.IG_OFFICER: frozenset({Permission.AUDIT_VIEW}),
}


def permissions_for(roles: frozenset[str] | set[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for code in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(code)]
        except ValueError:
            continue  # a role removed from the code no longer grants anything
    return frozenset(granted)


def parse_role(code: str) -> Role:
    try:
        return Role(code)
    except ValueError:
        from casework.errors import Invalid

        raise Invalid(
            f"Unknown role {code!r}", details={"role": f"Choose one of: {', '.join(r.value for r in Role)}"}
        ) from None
