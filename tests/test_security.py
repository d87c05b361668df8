"""Security gates: the Content-Security-Policy and the other headers on every kind of
response, templates without inline code (so the policy needs no 'unsafe-inline'), HSTS behind
a TLS-terminating proxy, and a production configuration that refuses weak settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from flask import Flask

from coopdesa import config as config_module
from coopdesa import create_app
from coopdesa.accounts.models import Role
from coopdesa.extensions import db, limiter
from tests.conftest import PASSWORD
from tests.factories import AdminFactory, UserFactory

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STRONG_SECRET = "s" * 40
HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture(autouse=True)
def own_limiter(app):
    """Creating another app re-initialises the shared Limiter object (one per process in
    production); give the session app its own storage back afterwards (every test here)."""
    saved = {name: getattr(limiter, name) for name in ("_storage", "_limiter", "_storage_dead")}
    yield
    for name, value in saved.items():
        setattr(limiter, name, value)


def csp_directives(response) -> dict[str, str]:
    csp = response.headers["Content-Security-Policy"]
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2]
            for d in csp.split(";") if d.strip()}


def assert_hardened(response) -> None:
    directives = csp_directives(response)
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "'unsafe-hashes'" not in csp and "*" not in csp
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- headers on every kind of response -----------------------------------------------------

@pytest.mark.parametrize("path, status, kind", [
    ("/masuk", 200, "text/html"),  # an HTML page
    ("/api/v1/openapi.json", 200, "application/json"),  # JSON
    ("/api/v1/me", 401, "application/json"),  # a JSON error
    ("/tidak-ada-halaman-ini", 404, "text/html"),  # an HTML error page
    ("/static/css/app.css", 200, "text/css"),  # static files
    ("/static/js/app.js", 200, "text/javascript"),
    ("/static/img/logo.svg", 200, "image/svg+xml"),
])
def test_headers_on_every_kind_of_response(client, path, status, kind):
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == kind
    assert_hardened(response)


def test_headers_on_method_and_size_errors(app, client):
    assert_hardened(client.put("/masuk"))  # 405
    assert client.put("/masuk").status_code == 405
    response = client.post("/masuk", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                           content_type="application/octet-stream")
    assert response.status_code == 413
    assert_hardened(response)


def test_headers_on_signed_in_pages(client, login):
    login(AdminFactory())
    for path in ("/", "/profil", "/admin/pengguna", "/audit/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_hardened(response)


# --- no inline code in templates or pages --------------------------------------------------

JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
TAG = re.compile(r"<([a-zA-Z][\w:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
EVENT_ATTR = re.compile(r"(?:^|\s)on[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"(?:^|\s)style\s*=", re.I)
SRC_ATTR = re.compile(r"(?:^|\s)src\s*=", re.I)
JS_URL = re.compile(r"javascript\s*:", re.I)


def inline_code(markup: str) -> list[str]:
    """What a CSP without 'unsafe-inline' would block in this markup."""
    problems = []
    for match in TAG.finditer(markup):
        name, attrs = match.group(1).lower(), match.group(2)
        if name == "script" and not SRC_ATTR.search(attrs):
            problems.append(f"inline <script>: {match.group(0)[:80]}")
        if name == "style":
            problems.append("<style> element")
        if EVENT_ATTR.search(attrs):
            problems.append(f"event handler attribute: {match.group(0)[:80]}")
        if STYLE_ATTR.search(attrs):
            problems.append(f"style attribute: {match.group(0)[:80]}")
        if JS_URL.search(attrs):
            problems.append(f"javascript: URL: {match.group(0)[:80]}")
    return problems


def test_the_scanner_finds_what_it_looks_for():
    bad = ('<script>alert(1)</script><a href="javascript:x()">a</a><b onclick="x()">'
           '<p style="color:red"><style>p{}</style><img src=x onerror=alert(1)>')
    found = " | ".join(inline_code(bad))
    for kind in ("inline <script>", "javascript: URL", "event handler", "style attribute",
                 "<style> element"):
        assert kind in found
    assert inline_code('<script src="/static/js/app.js" defer></script>'
                       '<div data-onclick="x" data-style="y" class="on">') == []


def test_no_template_has_inline_script_style_or_handlers():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 50
    problems = []
    for path in templates:
        # Jinja blocks are code, not markup: a macro argument named style= is no attribute.
        markup = JINJA.sub(" ", path.read_text(encoding="utf-8"))
        problems += [f"{path.relative_to(TEMPLATES)}: {p}" for p in inline_code(markup)]
    assert problems == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SEKRETARIS])
def test_rendered_pages_have_no_inline_code(app, client, login, role):
    """Every argument-free page as it reaches the browser, macros and widgets included."""
    login(UserFactory(role=role))
    seen = 0
    for rule in app.url_map.iter_rules():
        if (rule.arguments or "GET" not in rule.methods or rule.endpoint == "static"
                or rule.rule.startswith("/api/") or rule.rule == "/keluar"):
            continue
        response = client.get(rule.rule)
        assert response.status_code < 500, rule.rule
        if response.mimetype == "text/html" and response.status_code == 200:
            seen += 1
            assert inline_code(response.get_data(as_text=True)) == [], rule.rule
    assert seen >= 10


# --- HSTS behind a TLS-terminating proxy ---------------------------------------------------

@pytest.fixture
def proxied_app(app):
    """A second app configured as behind one nginx (COOPDESA_PROXY_COUNT=1)."""
    other = create_app({"ENV_NAME": "testing",
                        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "PROXY_COUNT": 1})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_hsts_behind_a_tls_terminating_proxy(proxied_app):
    client = proxied_app.test_client()
    response = client.get("/masuk", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert_hardened(response)
    plain = client.get("/masuk", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers


def test_forwarded_headers_are_ignored_without_a_configured_proxy(client, app):
    assert app.config["PROXY_COUNT"] == 0
    response = client.get("/masuk", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers  # anyone could send it


def test_the_proxy_setting_gives_each_visitor_their_own_rate_limit(proxied_app):
    """Behind nginx every request comes from 127.0.0.1; with the proxy trusted, the
    per-address login limit counts each visitor's own address."""
    client = proxied_app.test_client()
    limit = int(proxied_app.config["LOGIN_RATE_LIMIT"].split()[0])

    def fail(address: str, n: int):
        return client.post("/masuk", data={"username": f"tamu{n}", "password": "salah"},
                           headers={"X-Forwarded-For": address})

    for n in range(limit):
        assert fail("203.0.113.7", n).status_code == 200
    assert fail("203.0.113.7", limit).status_code == 429
    assert fail("198.51.100.9", limit + 1).status_code == 200  # another visitor


# --- production refuses weak settings ------------------------------------------------------

def production(**extra) -> Flask:
    return create_app({"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       **extra})


@pytest.mark.parametrize("secret", sorted(config_module.WEAK_SECRETS - {""}) + [
    None, "", "short-but-random-8f2a", config_module.TestingConfig.SECRET_KEY[:31]])
def test_production_refuses_a_default_or_weak_secret(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        production(SECRET_KEY=secret)


def test_production_refuses_debug_mode():
    with pytest.raises(RuntimeError, match="debug"):
        production(SECRET_KEY=STRONG_SECRET, DEBUG=True)


def test_production_from_the_environment_refuses_a_missing_secret(monkeypatch):
    monkeypatch.setenv("COOPDESA_ENV", "production")
    monkeypatch.setattr(config_module.ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_session_cookie_is_secure_httponly_lax():
    prod = production(SECRET_KEY=STRONG_SECRET)
    assert not prod.debug and not prod.testing
    response = prod.test_client().get("/masuk")  # the CSRF token opens a session
    assert response.status_code == 200
    cookies = [c for c in response.headers.getlist("Set-Cookie")
               if c.startswith("coopdesa_session=")]
    assert cookies, response.headers
    flags = {part.strip().split("=")[0].lower() for part in cookies[0].split(";")}
    assert {"secure", "httponly"} <= flags
    assert "SameSite=Lax" in cookies[0]
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    with prod.app_context():
        db.engine.dispose()


# --- rate limits shared by workers through Redis -------------------------------------------

REDIS_URL = os.environ.get("COOPDESA_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")

@pytest.fixture
def redis_db():
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    connection.flushdb()  # the test's own database only
    yield connection
    connection.flushdb()
    connection.close()


def app_with(app, **settings) -> Flask:
    return create_app({"ENV_NAME": "testing",
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       **settings})


def dispose(*apps: Flask) -> None:
    for other in apps:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_redis_url_setting_stores_rate_limits_in_redis():
    script = ("from coopdesa.config import ProductionConfig as C; "
              "print(C.REDIS_URL, C.RATELIMIT_STORAGE_URI)")
    env = {**os.environ, "COOPDESA_REDIS_URL": REDIS_URL}
    env.pop("COOPDESA_ENV", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [REDIS_URL, REDIS_URL]


def test_login_failures_count_across_workers_through_redis(app, redis_db, own_limiter):
    """Worker 1 fails the limit's worth of logins; worker 2, another app with its own Redis
    connection, refuses the next one, because both count in Redis. (In one process the two
    apps share the Limiter object, but each create_app gives it a new storage: the memory
    control below shows that nothing but Redis carries the count over.)"""
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    first = app_with(app, RATELIMIT_STORAGE_URI=REDIS_URL)
    second = None
    try:
        client = first.test_client()
        for _ in range(limit):
            response = client.post("/masuk", data={"username": "tamu-redis",
                                                   "password": "salah"})
            assert response.status_code == 200
        first_storage = limiter.storage
        assert any(True for _key in redis_db.scan_iter("LIMITS*"))

        second = app_with(app, RATELIMIT_STORAGE_URI=REDIS_URL)
        assert limiter.storage is not first_storage  # a fresh connection, no shared memory
        response = second.test_client().post("/masuk", data={"username": "tamu-redis",
                                                             "password": "salah"})
        assert response.status_code == 429
        assert "Retry-After" in response.headers
    finally:
        dispose(first, *([second] if second else []))


def test_without_redis_each_worker_counts_alone(app, own_limiter):
    """The control: with in-memory storage a second worker knows nothing of the first's
    failures, which is why production sets COOPDESA_REDIS_URL."""
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    first = app_with(app, RATELIMIT_STORAGE_URI="memory://")
    try:
        for _ in range(limit):
            first.test_client().post("/masuk", data={"username": "tamu-mem", "password": "x"})
        second = app_with(app, RATELIMIT_STORAGE_URI="memory://")
        response = second.test_client().post("/masuk", data={"username": "tamu-mem",
                                                             "password": "x"})
        assert response.status_code == 200
        dispose(second)
    finally:
        dispose(first)


def test_redis_down_fails_clearly(app, own_limiter, caplog):
    """COOPDESA_REDIS_URL set but Redis unreachable: rate-limited requests answer 503 with
    a clear message and a logged error (no silent per-worker fallback); the rest works."""
    down = app_with(app, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/2")
    try:
        client = down.test_client()
        assert client.get("/masuk").status_code == 200  # the page itself is not limited
        user = UserFactory()
        with caplog.at_level("ERROR", logger="coopdesa.errors"):
            response = client.post("/masuk", data={"username": user.username,
                                                   "password": PASSWORD})
        assert response.status_code == 503
        assert "Redis" in response.get_data(as_text=True)
        assert "tidak tersedia" in response.get_data(as_text=True)
        assert any("Redis unreachable" in r.getMessage() for r in caplog.records)
        api = client.get("/api/v1/verify/TIDAKADA")  # a rate-limited JSON endpoint
        assert api.status_code == 503
        assert api.get_json()["error"]["code"] == "service_unavailable"
        assert client.get("/api/v1/openapi.json").status_code == 200
    finally:
        dispose(down)
