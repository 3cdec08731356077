"""Application factory."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import jinja2
from flask import Flask

from casework.config import REPO_ROOT, Settings
from casework.extensions import database

STATIC_DIR = REPO_ROOT / "workspace" / "static"


def create_app(settings: Settings | None = None, **overrides: object) -> Flask:
    settings = settings or Settings.from_env(**overrides)
    app = Flask(
        "casework",
        static_folder=str(STATIC_DIR),
        static_url_path="/assets",
        template_folder=str(Path(__file__).parent / "templates"),
    )
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="casework_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.secure_cookies),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        TESTING=settings.env == "test",
        JSON_SORT_KEYS=False,
    )
    app.logger.setLevel(settings.log_level.upper())
    logging.getLogger("casework").setLevel(settings.log_level.upper())
    app.jinja_loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(
                [str(Path(__file__).parent / "templates")]
                + [str(REPO_ROOT / pkg / "templates") for pkg in ("workspace", "admin")]
            ),
            jinja2.PrefixLoader({"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.jinja_env.autoescape = True
    app.jinja_env.undefined = jinja2.ChainableUndefined

    database.configure(settings.database_url)

    from casework.web import errors, pipeline
    from casework.web.navigation import install as install_navigation

    pipeline.install(app)
    errors.register(app)
    install_navigation(app)
    _load_domain_modules()
    _register_blueprints(app)
    return app


def _load_domain_modules() -> None:
    """Domain packages register their engine connectors, hooks and demo steps when imported."""
    import casework.finance  # noqa: F401
    import casework.process_demo  # noqa: F401
    import casework.records  # noqa: F401
    import casework.work_routing  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from admin import blueprint as admin_bp
    from api import blueprint as api_bp
    from casework.web.auth_views import blueprint as auth_bp
    from casework.web.health import blueprint as health_bp
    from workspace import blueprint as workspace_bp

    for bp in (health_bp, auth_bp, api_bp, workspace_bp, admin_bp):
        app.register_blueprint(bp)
