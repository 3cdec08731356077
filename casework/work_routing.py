"""Which team's queue a new work item goes to (the engine asks through its `resolve_team` hook).

Case work (practitioner, manager and head-of-service steps) goes to the team the case is allocated to; when
the case has no team, the item stays on the role queue. Finance steps go to the council's finance team (the
first active team whose service area is finance), whoever holds the case.
"""

from __future__ import annotations

from sqlalchemy import select

from casework.accounts.models import Team
from casework.auth.permissions import Role
from casework.engine_host import current_session, register_team_resolver


def resolve_team(business_key: str | None, role: str | None) -> str | None:
    session = current_session()
    if role == Role.FINANCE_OFFICER:
        return session.scalar(select(Team.code).where(Team.service_area == "finance", Team.active.is_(True))
                              .order_by(Team.id).limit(1))
    if not business_key:
        return None
    from casework.records.models_case import Case

    return session.scalar(select(Team.code).join(Case, Case.team_id == Team.id)
                          .where(Case.reference == business_key))


register_team_resolver(resolve_team)
