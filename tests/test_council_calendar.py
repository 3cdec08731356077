"""Closure days a configurator sets in the admin are working-day calendar closures for the engine."""

from datetime import date

from casework.configuration import settings as council
from casework.engine_host import get_engine


def test_admin_closure_days_reach_the_engine_calendar(app, session):
    with app.app_context():
        calendar = get_engine(app).calendar
        tuesday = date(2026, 12, 29)
        assert calendar.is_working_day(tuesday)
        assert calendar.working_days_after(date(2026, 12, 24), 1) == tuesday
        council.set_closure_days(session, [tuesday], actor="casey.config")
        session.commit()
        calendar.refresh()
        assert not calendar.is_working_day(tuesday)
        assert calendar.working_days_after(date(2026, 12, 24), 1) == date(2026, 12, 30)


def test_environment_closure_days_still_apply(app, session):
    settings = app.config["SETTINGS"]
    settings.closure_days = ("2026-12-31",)
    app.extensions.pop("casework_engine", None)
    with app.app_context():
        assert not get_engine(app).calendar.is_working_day(date(2026, 12, 31))
