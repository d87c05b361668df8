"""Configuration: environments, the secret key, database URLs and security headers."""

from __future__ import annotations

import importlib
import os
import stat
from pathlib import Path

import pytest

import coopdesa.config as config_module
from coopdesa import create_app

STRONG_SECRET = "3f9c0a7e1b6d4c2a8e5f7b9d1c3a5e7f"  # 32 characters


def make_app(**config):
    base = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    return create_app({**base, **config})


@pytest.fixture
def reload_config(monkeypatch):
    """Re-read the environment into coopdesa.config (its classes read it at import)."""

    def reload(**environ):
        for name, value in environ.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        importlib.reload(config_module)

    yield reload
    monkeypatch.undo()
    importlib.reload(config_module)


# --- environments --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    (None, "development"), ("", "development"), ("development", "development"),
    ("testing", "testing"), ("production", "production"), (" Production ", "production"),
])
def test_config_for_known_environments(name, expected):
    assert config_module.config_for(name) is config_module.CONFIGS[expected]


@pytest.mark.parametrize("name", ["staging", "prod", "dev"])
def test_unknown_environment_is_an_error(monkeypatch, name):
    with pytest.raises(RuntimeError, match=rf"COOPDESA_ENV='{name}' is not one of"):
        config_module.config_for(name)
    monkeypatch.setenv("COOPDESA_ENV", name)
    with pytest.raises(RuntimeError, match="development, production, testing"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_environment_variable_picks_the_config(monkeypatch, tmp_path):
    monkeypatch.setenv("COOPDESA_ENV", "testing")
    monkeypatch.setenv("COOPDESA_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["ENV_NAME"] == "testing" and app.testing


# --- the secret key ------------------------------------------------------------------------

@pytest.mark.parametrize("secret", [None, "", "changeme", "dev", "secret", "x" * 31,
                                    STRONG_SECRET[:-1]])
def test_production_refuses_a_missing_or_weak_secret(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        make_app(ENV_NAME="production", SECRET_KEY=secret)


def test_production_accepts_a_strong_secret():
    app = make_app(ENV_NAME="production", SECRET_KEY=STRONG_SECRET)
    assert app.config["SECRET_KEY"] == STRONG_SECRET
    assert app.config["ALLOW_DEMO"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_debug_mode():
    with pytest.raises(RuntimeError, match="debug mode"):
        make_app(ENV_NAME="production", SECRET_KEY=STRONG_SECRET, DEBUG=True)


def test_production_reads_secret_key_from_the_environment(reload_config, tmp_path):
    reload_config(COOPDESA_ENV="production", SECRET_KEY="kependekan",
                  COOPDESA_INSTANCE_PATH=str(tmp_path), DATABASE_URL="sqlite://")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    reload_config(SECRET_KEY=STRONG_SECRET)
    app = create_app()
    assert app.config["SECRET_KEY"] == STRONG_SECRET
    assert not (tmp_path / "secret_key").exists()  # production never invents one


def test_development_creates_a_private_secret_once(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    monkeypatch.setenv("COOPDESA_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("COOPDESA_ENV", raising=False)

    first = make_app(ENV_NAME="development", SECRET_KEY=None)
    key_file = instance / "secret_key"
    assert first.instance_path == str(instance)
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    assert len(key) == 64 and int(key, 16) >= 0  # 32 random bytes, hex
    assert first.config["SECRET_KEY"] == key

    mtime = key_file.stat().st_mtime_ns
    second = make_app(ENV_NAME="development", SECRET_KEY=None)
    assert second.config["SECRET_KEY"] == key  # sessions survive a restart
    assert key_file.stat().st_mtime_ns == mtime


def test_each_installation_gets_its_own_secret(monkeypatch, tmp_path):
    keys = set()
    for name in ("a", "b"):
        monkeypatch.setenv("COOPDESA_INSTANCE_PATH", str(tmp_path / name))
        keys.add(make_app(ENV_NAME="development", SECRET_KEY=None).config["SECRET_KEY"])
    assert len(keys) == 2


def test_development_keeps_a_given_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("COOPDESA_INSTANCE_PATH", str(tmp_path))
    app = make_app(ENV_NAME="development", SECRET_KEY="dari-lingkungan")
    assert app.config["SECRET_KEY"] == "dari-lingkungan"
    assert not (tmp_path / "secret_key").exists()


def test_development_cookies_work_over_plain_http(monkeypatch, tmp_path):
    monkeypatch.setenv("COOPDESA_INSTANCE_PATH", str(tmp_path))
    app = make_app(ENV_NAME="development", SECRET_KEY="x")
    if os.environ.get("COOPDESA_SECURE_COOKIES") is None:
        assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# --- database URLs -------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "used"), [
    ("postgres://coop:rahasia@db.internal:5432/coopdesa",
     "postgresql+psycopg://coop:rahasia@db.internal:5432/coopdesa"),
    ("postgresql://coop@db.internal/coopdesa", "postgresql+psycopg://coop@db.internal/coopdesa"),
    ("postgresql+psycopg://coop@db.internal/coopdesa",
     "postgresql+psycopg://coop@db.internal/coopdesa"),
    ("sqlite:////srv/coopdesa/coopdesa.sqlite", "sqlite:////srv/coopdesa/coopdesa.sqlite"),
])
def test_database_url_is_normalised(given, used):
    app = make_app(ENV_NAME="testing", SQLALCHEMY_DATABASE_URI=given)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used


def test_database_url_from_the_environment(reload_config, tmp_path):
    reload_config(COOPDESA_ENV="testing", COOPDESA_INSTANCE_PATH=str(tmp_path),
                  DATABASE_URL="postgres://coop:rahasia@db.internal/coopdesa")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://coop:rahasia@db.internal/coopdesa")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    with app.app_context():
        from coopdesa.extensions import db

        assert db.engine.dialect.name == "postgresql"
        assert db.engine.dialect.driver == "psycopg"


def test_sqlite_gets_a_busy_timeout_instead_of_pre_ping(monkeypatch, tmp_path):
    # A relative SQLite path lives in the instance folder (Flask-SQLAlchemy creates it).
    monkeypatch.setenv("COOPDESA_INSTANCE_PATH", str(tmp_path))
    app = make_app(ENV_NAME="testing", SQLALCHEMY_DATABASE_URI="sqlite:///x.sqlite")
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "pool_pre_ping" not in options
    assert options["connect_args"]["timeout"] == 15


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    monkeypatch.setenv("COOPDESA_INSTANCE_PATH", str(instance))
    app = create_app({"ENV_NAME": "development", "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": None})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(
        Path(instance) / "coopdesa.sqlite")
    assert instance.is_dir()


# --- security headers ----------------------------------------------------------------------

def test_security_headers_on_a_page(client):
    response = client.get("/masuk")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_pages_need_no_inline_script_or_style(client):
    """The CSP forbids inline code, so the page must not rely on any."""
    page = client.get("/masuk").get_data(as_text=True)
    assert "<script>" not in page and "<script type" not in page
    assert " style=" not in page and "<style" not in page
    assert " onclick=" not in page and " onload=" not in page


def test_headers_on_errors_and_api(client):
    for response in (client.get("/tidak-ada"), client.get("/api/v1/me")):
        assert response.status_code in (401, 404)
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_over_https(client):
    response = client.get("/masuk", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains")
