"""Shared fixtures: an app on a migrated database (SQLite, or PostgreSQL when
COOPDESA_TEST_DATABASE_URL is set), a small slice of the official register, and clean
tables between tests.

The schema is built by Alembic, as in production, never by ``create_all``.
"""

from __future__ import annotations

import contextvars
import os
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from flask.testing import FlaskClient

from coopdesa import create_app
from coopdesa.extensions import db, limiter

PASSWORD = "rahasia-uji-2026"

#: Regions loaded for tests: every provinsi and kabupaten/kota, plus whole kabupaten where
#: the scenarios live (Wonosobo, Banjarnegara) and Kota Semarang (Kelurahan Miroto).
TEST_REGION_PREFIXES = ("33.07", "33.04", "33.74.01")

_fast_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """argon2 with production costs makes hundreds of test logins slow; same code path."""
    import coopdesa.accounts.models as models
    import coopdesa.accounts.operations as operations

    original = models.password_hasher
    models.password_hasher = operations.password_hasher = _fast_hasher
    operations._DUMMY_HASH = _fast_hasher.hash("x")
    yield
    models.password_hasher = operations.password_hasher = original


def tree_difference(ours, theirs, path: str = "html") -> str | None:
    """Where two element trees differ (tag, attributes, text, tail, children), or None."""
    if ours.tag != theirs.tag:
        return f"{path}: <{ours.tag}> against <{theirs.tag}>"
    for what in ("attrib", "text", "tail"):
        mine, other = getattr(ours, what), getattr(theirs, what)
        if (mine or None) != (other or None):
            return f"{path}.{what}: {mine!r} against {other!r}"
    if len(ours) != len(theirs):
        return f"{path}: {len(ours)} children against {len(theirs)}"
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        found = tree_difference(a, b, f"{path}/{a.tag}[{index}]")
        if found:
            return found
    return None


@pytest.fixture(autouse=True, scope="session")
def _document_trees_checked():
    """Every document any test renders in this process is parsed by coopdesa's fast
    builder and by WeasyPrint's own HTML5 parser, and the two trees must be equal
    (coopdesa.documents.htmltree): the whole suite's documents are the builder's test."""
    import tinyhtml5

    from coopdesa.documents import htmltree

    original = htmltree.parse

    def checked(html):
        ours = original(html)
        if ours is not None:
            theirs = tinyhtml5.parse(html, namespace_html_elements=False)
            difference = tree_difference(ours, theirs)
            assert difference is None, f"htmltree differs from tinyhtml5 at {difference}"
        return ours

    htmltree.parse = checked
    yield
    htmltree.parse = original


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production.

    Tests run inside an app context (for factories and operations), which Flask would
    otherwise reuse for the client's requests: ``g._login_user`` and the SQLAlchemy session
    would leak from one request, and one client, to the next.
    """

    def open(self, *args, **kwargs):
        # Buffered, so a streamed body is read while its request context still exists.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@contextmanager
def count_statements():
    """Collect the SQL statements sent while the block runs (for constant-query tests)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


@contextmanager
def redis_database(app, monkeypatch, url: str):
    """The real Redis database ``url`` as the app's COOPDESA_REDIS_URL for one test: the
    test is skipped without Redis; only that database is flushed, before and after."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisConnectionError:  # pragma: no cover
        pytest.skip(f"no Redis at {url}")
    connection.flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    try:
        yield connection
    finally:
        connection.flushdb()
        connection.close()


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("COOPDESA_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


def _reset_database(app) -> None:
    """Drop everything so that migrations run on an empty database."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            meta = sa.MetaData()
            meta.reflect(bind=engine)
            meta.drop_all(bind=engine)
            with engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def test_region_rows() -> list[dict]:
    from coopdesa.regions.operations import official_regions

    return [
        row for row in official_regions()
        if row["level"] <= 2 or any(row["code"] == p or row["code"].startswith(p + ".")
                                    for p in TEST_REGION_PREFIXES)
    ]


test_region_rows.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def app(tmp_path_factory, _fast_password_hashing):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory),
        "SERVER_NAME": "localhost",
    })
    app.instance_path = str(instance)
    app.test_client_class = IsolatedClient
    _reset_database(app)
    with app.app_context():
        from flask_migrate import upgrade

        from coopdesa.regions.operations import load_regions

        upgrade()
        load_regions(test_region_rows())
        _reference_rows.update(_reference_snapshot())
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


#: Reference data the migrations seed: kept between tests, put back when a test changed it.
REFERENCE_TABLES = ("quorum_rule", "sustainability_criterion")
_reference_rows: dict[str, list[dict]] = {}


def _reference_snapshot() -> dict[str, list[dict]]:
    return {name: [dict(row) for row in db.session.execute(
        db.metadata.tables[name].select().order_by(*db.metadata.tables[name].primary_key.columns)
    ).mappings()] for name in REFERENCE_TABLES}


def _clean_tables() -> None:
    # Reference data the migrations seed stays; everything a test made goes.
    keep = {"region", "region_word", "alembic_version", *REFERENCE_TABLES}
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in keep:
            db.session.execute(table.delete())
    db.session.commit()
    # A test that edited a quorum rule or a criterion (the admin pages, the fuzzers, the
    # access matrix) must not change what the next test finds.
    if _reference_rows and _reference_snapshot() != _reference_rows:
        for name in REFERENCE_TABLES:
            table = db.metadata.tables[name]
            db.session.execute(table.delete())
            db.session.execute(table.insert(), _reference_rows[name])
        db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(request):
    """Each test that uses ``app`` runs in an app context and leaves clean tables."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        limiter.reset()
        yield
        db.session.rollback()
        _clean_tables()
        db.session.remove()


@pytest.fixture
def fresh_request_globals(app):
    """A fresh ``g`` for every request, as in production: the test keeps one app context
    open, and Flask-Login's cached ``g._login_user`` would otherwise hide a session that
    has ended (sessions, fuzzing and schemathesis tests use it)."""
    from flask import g, request_started

    def clear(sender, **extra):
        for name in list(vars(g)):
            delattr(g, name)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = PASSWORD, **extra):
        return self._client.post("/masuk", data={"username": username, "password": password,
                                                 **extra})

    def logout(self):
        return self._client.post("/keluar")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login(client, auth):
    """Log ``client`` in as a user object; returns the client."""

    def do(user):
        response = auth.login(user.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do


@pytest.fixture
def api(app):
    """A client that calls /api/v1 with a bearer token for the given user."""
    from coopdesa.accounts.operations import create_token

    class Api:
        def __init__(self, user):
            _token, self.secret = create_token(user, "test")
            db.session.commit()
            self.client = app.test_client()

        def _headers(self, headers=None):
            return {"Authorization": f"Bearer {self.secret}", **(headers or {})}

        def get(self, path, **kw):
            return self.client.get("/api/v1" + path, headers=self._headers(kw.pop("headers",
                                                                                    None)), **kw)

        def post(self, path, **kw):
            return self.client.post("/api/v1" + path,
                                    headers=self._headers(kw.pop("headers", None)), **kw)

        def put(self, path, **kw):
            return self.client.put("/api/v1" + path,
                                   headers=self._headers(kw.pop("headers", None)), **kw)

        def patch(self, path, **kw):
            return self.client.patch("/api/v1" + path,
                                     headers=self._headers(kw.pop("headers", None)), **kw)

        def delete(self, path, **kw):
            return self.client.delete("/api/v1" + path,
                                      headers=self._headers(kw.pop("headers", None)), **kw)

    return Api


# Scenario codes (Kecamatan Kejajar, Kabupaten Wonosobo; see coopdesa.demo).
DIENG = "33.07.13.2013"
SEMBUNGAN = "33.07.13.2003"
PATAKBANTENG = "33.07.13.2014"
TIENG = "33.07.13.2010"
KELURAHAN_KEJAJAR = "33.07.13.1008"
KEJAJAR = "33.07.13"
GARUNG = "33.07.12"
WONOSOBO = "33.07"
DIENG_KULON = "33.04.16.2008"  # Kabupaten Banjarnegara: another kabupaten
BANJARNEGARA = "33.04"
MIROTO = "33.74.01.1001"
