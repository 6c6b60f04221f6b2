"""The Flask app factory: it reads like a table of contents of the web app."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_babel import format_decimal
from werkzeug.middleware.proxy_fix import ProxyFix

from mirada import runtime, secret_key
from mirada.config import Settings
from mirada.db.app_session import db
from mirada.db.engine import engine_options, install_fault_limits
from mirada.presenters.numbers import percent
from mirada.presenters.refusals import refusal_text
from mirada.services import passwords
from mirada.web import current_user as auth_state
from mirada.web import formatting, upload_slots
from mirada.web.body_limits import SESSION_COOKIE_NAME, apply_body_limit, body_limit
from mirada.web.converters import IdConverter
from mirada.web.errors import register_error_handlers
from mirada.web.extensions import babel, csrf, migrate
from mirada.web.i18n import LANGUAGE_NAMES, select_locale, select_timezone
from mirada.web.redirects import return_path
from mirada.web.security import HttpsAwareSessionInterface, add_security_headers
from mirada.web.transactions import TransactionalFlask

PACKAGE_DIR = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app from ``settings`` (read from the environment when omitted)."""
    settings = with_secret_key(settings or Settings())
    app = TransactionalFlask(__name__)
    configure(app, settings)
    register_request_hooks(app)  # who is signed in is known before CSRF reads the body
    register_extensions(app, settings)
    runtime.register(app, settings)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    return app


def with_secret_key(settings: Settings) -> Settings:
    """``settings`` with a signing key: the configured one, else the data folder's own."""
    if settings.secret_key:
        return settings
    key = secret_key.load_or_create(settings.resolved_data_dir)
    return settings.model_copy(update={"secret_key": key})


def configure(app: Flask, settings: Settings) -> None:
    """Flask's own settings, derived from ours."""
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings),
        MAX_CONTENT_LENGTH=body_limit(None, settings),
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        PERMANENT_SESSION_LIFETIME=timedelta(days=settings.remember_me_days),
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production"
        and settings.base_url.startswith("https"),
        TRUSTED_HOSTS=settings.trusted_host_list or None,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE="UTC",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        TESTING=settings.env == "testing",
    )
    app.session_interface = HttpsAwareSessionInterface()
    # Before CSRFProtect's hook, which reads the body.
    app.before_request(apply_body_limit)
    app.url_map.converters["id"] = IdConverter
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_count,
            x_proto=settings.proxy_count,
            x_host=settings.proxy_count,
        )
    if settings.env != "testing":
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def register_extensions(app: Flask, settings: Settings) -> None:
    """Database, migrations, CSRF protection and translations."""
    db.init_app(app)
    with app.app_context():
        install_fault_limits(db.engine, settings)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)


def register_request_hooks(app: Flask) -> None:
    """Who is signed in before each request; headers and device cookie after.

    Registered before the extensions, so that the user is loaded before CSRFProtect
    reads the body: a body over the limit (413) or a stale form still shows the
    signed-in header on its error page.
    """
    app.before_request(auth_state.load_current_user)
    app.before_request(upload_slots.take_upload_slot)
    app.teardown_request(upload_slots.give_upload_slot_back)
    app.after_request(auth_state.remember_device)
    app.after_request(add_security_headers)


def register_blueprints(app: Flask) -> None:
    """The pages, one blueprint per area."""
    from mirada.web.account.routes import bp as account_bp
    from mirada.web.admin.routes import bp as admin_bp
    from mirada.web.auth.routes import bp as auth_bp
    from mirada.web.auth.signup import bp as signup_bp
    from mirada.web.classify.routes import bp as classify_bp
    from mirada.web.main.routes import bp as main_bp
    from mirada.web.projects.routes import bp as projects_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(signup_bp, url_prefix="/auth")
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(classify_bp)
    app.register_blueprint(projects_bp, url_prefix="/projects")


def register_template_helpers(app: Flask) -> None:
    """Names every template can use."""

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "current_user": g.get("user"),
            "current_locale": select_locale(),
            "language_names": LANGUAGE_NAMES,
            "date_text": formatting.date_text,
            "format_decimal": format_decimal,
            "moment": formatting.moment,
            "percent": percent,
            "password_min_length": passwords.MIN_LENGTH,
            "refusal_text": refusal_text,
            "return_path": return_path(),
            "settings": app.extensions["mirada.settings"],
        }
