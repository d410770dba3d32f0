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
    from casework.bulletins import views as bulletins_views
    from casework.campaigns import views as campaigns_views
    from casework.cases import views as cases_views
    from casework.complaints import views as complaints_views
    from casework.dashboard import (  # noqa: F401  (they keep themselves up to date)
        facts,
        tallies,
    )
    from casework.dashboard import views as dashboard_views
    from casework.disputes import views as disputes_views
    from casework.evidence import views as evidence_views
    from casework.inspections import views as inspections_views
    from casework.institutions import views as institutions_views
    from casework.jobs import views as jobs_views
    from casework.notifications import views as notifications_views
    from casework.orders import views as orders_views
    from casework.oversight import views as oversight_views
    from casework.points import views as points_views
    from casework.queue import views as queue_views
    from casework.reports import views as reports_views
    from casework.settings import views as settings_views
    from casework.users import views as users_views
    from casework.workdays import views as workdays_views

    for views in (users_views, dashboard_views, campaigns_views, cases_views, workdays_views,
                  inspections_views, orders_views, evidence_views, jobs_views,
                  notifications_views, reports_views, bulletins_views, complaints_views,
                  queue_views, oversight_views, points_views, settings_views, disputes_views,
                  institutions_views):
        app.register_blueprint(views.bp)

    from casework.effects import HANDLERS
    from workflows import binding

    binding.install_effects(HANDLERS)

    from casework.cli import register_cli

    register_cli(app)
    return app
