"""coopdesa: kerja sama desa (village cooperation) under UU 6/2014 Pasal 91-93,
PP 43/2014 Pasal 143-148 and Permendagri 96/2017."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from coopdesa import config as config_module
from coopdesa import extensions as ext

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"

__version__ = "0.1.0"


def _at_most(limit: int) -> str:
    """A regular expression matching the decimal numbers 0..limit (no leading zeros past
    the shorter lengths), e.g. for 2**31 - 1."""
    digits = str(limit)
    options = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        low = "1" if i == 0 and len(digits) > 1 else "0"
        if digit > low:
            rest = len(digits) - i - 1
            options.append(digits[:i] + f"[{low}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest
                                                                         else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        from coopdesa.db import MAX_ID

        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
        # The bound is in the pattern too: a larger number then matches no route (404),
        # where a failed conversion after another method's rule matched gave 405.
        self.regex = _at_most(kwargs["max"])


def _asset_dir(name: str) -> str:
    """templates/ or static/: inside the package when installed, beside it in a checkout."""
    installed = PACKAGE_DIR / name
    if installed.is_dir():
        return str(installed)
    return str(PACKAGE_DIR.parent / name)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings (tests pass their own)."""
    env_name = (config or {}).get("ENV_NAME") or os.environ.get("COOPDESA_ENV")
    config_class = config_module.config_for(env_name)
    app = Flask(
        __name__,
        template_folder=_asset_dir("templates"),
        static_folder=_asset_dir("static"),
        instance_path=os.environ.get("COOPDESA_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    # Every <int:...> in a route is bounded like a primary key: a larger number names
    # nothing (404) instead of overflowing the database driver.
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.config.from_object(config_class)
    if config:
        app.config.update(config)
    _configure_secret_and_database(app)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(MIGRATIONS_DIR), render_as_batch=True,
                     compare_type=True)
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    ext.bootstrap.init_app(app)
    ext.babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(PACKAGE_DIR / "translations"))
    _configure_login(app)

    from coopdesa.errors import register_error_handlers

    register_error_handlers(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    from coopdesa.network.stages import StageRule

    app.extensions["coopdesa.network_rule"] = StageRule.from_setting(
        app.config.get("NETWORK_STAGE_RULE"))
    from coopdesa.documents import pdf, render

    pdf.init_app(app)
    render.warn_if_slow(app.logger)
    from coopdesa.files import storage

    storage.init_app(app)  # an unreachable S3 bucket stops the start with a clear error
    from coopdesa import pagecache

    pagecache.init_app(app)
    _register_security_headers(app)
    _register_input_guard(app)

    from coopdesa.cli import coopdesa_cli

    app.cli.add_command(coopdesa_cli)
    return app


def _configure_secret_and_database(app: Flask) -> None:
    env_name = app.config["ENV_NAME"]
    secret = app.config.get("SECRET_KEY")
    if env_name == "production":
        if not secret or secret in config_module.WEAK_SECRETS or len(secret) < 32:
            raise RuntimeError(
                "COOPDESA_ENV=production needs SECRET_KEY: a random value of at least 32 "
                "characters (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if app.debug:
            raise RuntimeError("debug mode is never allowed with COOPDESA_ENV=production")
    elif not secret:
        app.config["SECRET_KEY"] = config_module.instance_secret_key(app.instance_path)
    if app.config.get("THIRD_PARTY_REVIEWER_ROLE") not in ("ketua_bpd", "kepala_desa"):
        raise RuntimeError("COOPDESA_THIRD_PARTY_REVIEWER must be 'ketua_bpd' or 'kepala_desa'")

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            "sqlite:///" + str(Path(app.instance_path) / "coopdesa.sqlite")
        )
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        # SQLite has no pool worth pre-pinging; it needs a busy timeout instead.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        options.setdefault("connect_args", {"timeout": 15})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _select_locale() -> str:
    from flask_login import current_user

    languages = ("id", "en")
    if not has_request_context():
        return "id"  # CLI output and documents speak Indonesian
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    user = current_user if current_user and current_user.is_authenticated else None
    if user is not None and getattr(user, "locale", None) in languages:
        return user.locale
    return "id"


def _configure_login(app: Flask) -> None:
    from coopdesa.accounts.models import User

    login_manager = ext.login_manager
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Silakan masuk untuk membuka halaman ini.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        if request.path.startswith("/api/"):
            return None  # the API authenticates by bearer token only, never by cookie
        user_id, _sep, nonce = session_id.partition(":")
        if not user_id.isdigit() or not nonce:
            return None
        user = ext.db.session.get(User, int(user_id))
        if user is None or user.session_nonce != nonce or not user.is_active:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_token(req):
        if not req.path.startswith("/api/"):
            return None
        header = req.headers.get("Authorization", "")
        scheme, _sep, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        from coopdesa.accounts.operations import user_for_token

        user = user_for_token(secret.strip())
        if user is not None:
            ext.db.session.commit()  # last_used_at, throttled inside user_for_token
        return user


def _register_blueprints(app: Flask) -> None:
    # Every model is imported here so that Alembic and the mappers see the whole schema.
    # Each area's api module adds its endpoints to the API blueprint when imported.
    import coopdesa.accounts.api
    import coopdesa.actors.api
    import coopdesa.api.openapi
    import coopdesa.audit.api
    import coopdesa.audit.models
    import coopdesa.deliberations.api
    import coopdesa.deliberations.models
    import coopdesa.disputes.api
    import coopdesa.disputes.models
    import coopdesa.documents.api
    import coopdesa.documents.models
    import coopdesa.files.models
    import coopdesa.jobs.api
    import coopdesa.jobs.models
    import coopdesa.lifecycle.api
    import coopdesa.lifecycle.models
    import coopdesa.network.api
    import coopdesa.network.models
    import coopdesa.network.store  # noqa: F401  (registers the nightly refresh)
    import coopdesa.proposals.api
    import coopdesa.proposals.models
    import coopdesa.publication.api
    import coopdesa.publication.models
    import coopdesa.regions.api
    import coopdesa.reports.api
    import coopdesa.reports.models
    import coopdesa.sustainability.api
    import coopdesa.sustainability.models
    import coopdesa.sustainability.operations  # noqa: F401  (registers the agree guard)
    from coopdesa.accounts.views import bp as accounts_bp
    from coopdesa.actors.views import bp as actors_bp
    from coopdesa.api import bp as api_bp
    from coopdesa.audit.views import bp as audit_bp
    from coopdesa.deliberations.views import bp as deliberations_bp
    from coopdesa.disputes.views import bp as disputes_bp
    from coopdesa.documents.export_views import export_bp
    from coopdesa.documents.views import bp as documents_bp
    from coopdesa.documents.views import public_bp as verify_bp
    from coopdesa.jobs.views import bp as jobs_bp
    from coopdesa.lifecycle.views import bp as lifecycle_bp
    from coopdesa.main.views import bp as main_bp
    from coopdesa.network.dashboard_views import bp as dashboard_bp
    from coopdesa.network.views import bp as network_bp
    from coopdesa.proposals.views import bp as proposals_bp
    from coopdesa.publication.views import bp as publication_bp
    from coopdesa.regions.views import bp as regions_bp
    from coopdesa.reports.views import bp as reports_bp
    from coopdesa.sustainability.views import bp as sustainability_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(regions_bp)
    app.register_blueprint(actors_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(sustainability_bp)
    app.register_blueprint(deliberations_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(export_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(lifecycle_bp)
    app.register_blueprint(publication_bp)
    app.register_blueprint(disputes_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(network_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(api_bp)
    ext.csrf.exempt(api_bp)  # bearer tokens, never cookies: nothing for CSRF to ride on


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale
    from flask_login import current_user

    from coopdesa import access
    from coopdesa.i18n import (
        format_date_id,
        format_datetime_local,
        format_rupiah,
        install_fast_gettext,
    )

    install_fast_gettext(app)
    app.jinja_env.filters["tanggal"] = format_date_id
    app.jinja_env.filters["waktu"] = format_datetime_local
    app.jinja_env.filters["rupiah"] = format_rupiah

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "can": lambda action, target: access.can(current_user, action, target),
            "current_locale": str(get_locale() or "id"),
            "app_version": __version__,
        }


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _register_input_guard(app: Flask) -> None:
    """Refuse a NUL character anywhere in the input with a clear message: no database
    stores it in text, and PostgreSQL would otherwise answer with an error page."""
    from flask import abort
    from flask_babel import gettext as _

    @app.before_request
    def refuse_nul():
        if "\x00" in request.path or any(
                _contains_nul(v) for v in request.args.values()) or any(
                _contains_nul(v) for v in request.form.values()):
            abort(400, description=_("Isian mengandung karakter yang tidak sah (NUL). Hapus "
                                     "karakter itu lalu kirim lagi."))
        if request.is_json and _contains_nul(request.get_json(silent=True)):
            abort(400, description=_("Isian mengandung karakter yang tidak sah (NUL). Hapus "
                                     "karakter itu lalu kirim lagi."))


def _register_security_headers(app: Flask) -> None:
    csp = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
           "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response
