"""Casework: supervision campaigns, inspections and rectification orders."""

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None) -> Flask:
    """Build the application.

    `config` is a config class, a name from config.CONFIGS, or None for CASEWORK_ENV.
    """
    from config import get_config

    if config is None or isinstance(config, str):
        config = get_config(config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=False,
    )
    app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from casework import web
    from casework.extensions import (
        babel,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
        select_locale,
        select_timezone,
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(ROOT / "casework" / "translations"))
    login_manager.init_app(app)
    web.init_app(app)

    from casework import models  # noqa: F401  (the whole schema, for Alembic)
    from casework.campaigns.views import bp as campaigns_bp
    from casework.cases.views import bp as cases_bp
    from casework.dashboard.views import bp as dashboard_bp
    from casework.users.views import bp as users_bp
    from casework.workdays.views import bp as workdays_bp  # also `flask workdays ...`

    for blueprint in (users_bp, dashboard_bp, campaigns_bp, cases_bp, workdays_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(__import__("casework.inspections.views").inspections.views.bp)
    app.register_blueprint(__import__("casework.orders.views").orders.views.bp)
    app.register_blueprint(__import__("casework.evidence.views").evidence.views.bp)
    app.register_blueprint(__import__("casework.jobs.views").jobs.views.bp)
    app.register_blueprint(__import__("casework.notifications.views").notifications.views.bp)
    app.register_blueprint(__import__("casework.reports.views").reports.views.bp)
    app.register_blueprint(__import__("casework.bulletins.views").bulletins.views.bp)
    app.register_blueprint(__import__("casework.complaints.views").complaints.views.bp)
    app.register_blueprint(__import__("casework.queue.views").queue.views.bp)
    app.register_blueprint(__import__("casework.oversight.views").oversight.views.bp)
    app.register_blueprint(__import__("casework.points.views").points.views.bp)
    app.register_blueprint(__import__("casework.settings.views").settings.views.bp)
    app.register_blueprint(__import__("casework.disputes.views").disputes.views.bp)
    app.register_blueprint(__import__("casework.institutions.views").institutions.views.bp)

    from casework.effects import HANDLERS
    from workflows import binding

    binding.install_effects(HANDLERS)

    from casework.cli import register_cli

    register_cli(app)
    return app
