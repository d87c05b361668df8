"""The page cache (coopdesa.pagecache) and the render cache (coopdesa.documents.render) with
the real Redis at 127.0.0.1:6379, database 4 (flushed before and after each test, and only
that one): a stored page is served again only to the same user at the same data
generation; every committed write, ORM or Core, makes it stale; a rollback does not; pages
with a flashed message are never stored; the CSRF token is the session's own; Redis down
means rendering as without a cache. Then identical PDF jobs rendered once, and render
processes at a lower priority."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from coopdesa import pagecache
from coopdesa.documents import render as R
from coopdesa.extensions import db
from tests.conftest import (
    DIENG,
    DIENG_KULON,
    PASSWORD,
    PATAKBANTENG,
    count_statements,
    redis_database,
)
from tests.proposal_helpers import antar_desa

REDIS_URL = os.environ.get("COOPDESA_TEST_PAGE_REDIS_URL", "redis://127.0.0.1:6379/4")
UNREACHABLE = "redis://127.0.0.1:1/0"
CSRF_VALUE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def redis_conn(app, monkeypatch):
    with redis_database(app, monkeypatch, REDIS_URL) as connection:
        yield connection


@pytest.fixture
def cached(app, redis_conn):
    """The page cache on the test app, as create_app sets it up with COOPDESA_REDIS_URL."""
    pagecache.init_app(app)
    yield redis_conn
    pagecache.unwatch_engine(db.engine)
    app.extensions.pop("coopdesa.pagecache", None)


def stored_pages(connection) -> list[bytes]:
    return [connection.get(key) for key in connection.scan_iter(pagecache.PAGE_PREFIX + "*")]


def generation(connection) -> int:
    return int(connection.get(pagecache.GENERATION_KEY) or 0)


def open_list(client) -> str:
    response = client.get("/kerja-sama/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def logged_in(login, user):
    client = login(user)
    client.get("/")  # the page after the login shows (and consumes) its welcome message
    return client


def test_a_stored_list_page_is_served_without_querying_the_proposals(cached, login):
    scenario = antar_desa(title="Air bersih Dieng")
    client = logged_in(login, scenario.author)
    first = open_list(client)
    assert "Air bersih Dieng" in first and len(stored_pages(cached)) == 1
    with count_statements() as statements:
        second = open_list(client)
    # Only the user is read (the session's revocation check); the page comes from Redis.
    assert len(statements) == 1 and "FROM user_account" in statements[0]
    assert CSRF_VALUE.sub("", second) == CSRF_VALUE.sub("", first)


def test_every_committed_write_makes_the_stored_pages_stale(cached, login):
    scenario = antar_desa(title="Air bersih Dieng")
    client = logged_in(login, scenario.author)
    open_list(client)
    before = generation(cached)
    antar_desa(title="Jalan usaha tani bersama", like=scenario)  # an ORM write, committed
    assert generation(cached) > before
    assert "Jalan usaha tani bersama" in open_list(client)

    # A Core UPDATE of a title, outside the ORM, is a write too.
    before = generation(cached)
    db.session.execute(sa.text("UPDATE proposal SET title = 'Judul diubah lewat SQL' "
                               "WHERE id = :id"), {"id": scenario.proposal.id})
    db.session.commit()
    assert generation(cached) == before + 1
    assert "Judul diubah lewat SQL" in open_list(client)


def test_a_rolled_back_write_and_a_read_leave_the_generation_alone(cached, login):
    scenario = antar_desa()
    before = generation(cached)
    db.session.execute(sa.text("UPDATE proposal SET title = 'tidak jadi' WHERE id = :id"),
                       {"id": scenario.proposal.id})
    db.session.rollback()
    db.session.execute(sa.select(sa.func.count()).select_from(sa.text("proposal")))
    db.session.commit()
    assert generation(cached) == before


def test_pages_are_never_shared_between_users(cached, app, login):
    dieng = antar_desa(title="Usulan milik Dieng", desa_codes=(DIENG, PATAKBANTENG))
    other = antar_desa(title="Usulan milik Dieng Kulon", desa_codes=(DIENG_KULON,),
                       with_bkad=False)
    client = logged_in(login, dieng.author)
    assert "Usulan milik Dieng" in open_list(client)
    client.post("/keluar")
    second = app.test_client()
    second.post("/masuk", data={"username": other.author.username, "password": PASSWORD})
    second.get("/")
    page = open_list(second)
    assert "Usulan milik Dieng Kulon" in page and "Usulan milik Dieng<" not in page
    assert len(stored_pages(cached)) == 2


def test_a_page_with_a_flashed_message_is_neither_stored_nor_served(cached, login):
    scenario = antar_desa()
    client = login(scenario.author)  # the welcome message waits in the session
    first = client.get("/kerja-sama/").get_data(as_text=True)
    assert 'class="alert' in first
    assert stored_pages(cached) == []
    assert 'class="alert' not in open_list(client)  # shown once, as always
    assert len(stored_pages(cached)) == 1


def test_a_stored_page_carries_the_sessions_own_csrf_token(cached, login):
    scenario = antar_desa()
    client = logged_in(login, scenario.author)
    first = open_list(client)
    token = CSRF_VALUE.search(first).group(1)
    [stored] = stored_pages(cached)
    assert token.encode() not in stored and pagecache.CSRF_MARK.encode() in stored
    second = open_list(client)
    served = CSRF_VALUE.search(second).group(1)
    assert pagecache.CSRF_MARK not in second and served
    from flask_wtf.csrf import validate_csrf

    with client.session_transaction() as session:
        raw = session["csrf_token"]
    from flask import session as flask_session

    with client.application.test_request_context():
        flask_session["csrf_token"] = raw
        validate_csrf(served)  # raises when the token is not this session's


def test_redis_down_the_page_is_rendered_as_without_a_cache(cached, app, login, monkeypatch,
                                                            caplog):
    scenario = antar_desa(title="Air bersih Dieng")
    client = logged_in(login, scenario.author)
    monkeypatch.setitem(app.config, "REDIS_URL", UNREACHABLE)
    app.extensions["coopdesa.pagecache"] = UNREACHABLE
    assert "Air bersih Dieng" in open_list(client)
    assert "page cache unavailable" in caplog.text


def test_without_redis_nothing_is_cached(app, login):
    assert not pagecache.configured(app) or app.config.get("REDIS_URL")
    scenario = antar_desa(title="Air bersih Dieng")
    client = logged_in(login, scenario.author)
    open_list(client)
    with count_statements() as statements:
        open_list(client)
    assert len(statements) > 1  # rendered from the database every time


def test_cache_clear_command(cached, runner):
    before = generation(cached)
    result = runner.invoke(args=["coopdesa", "cache", "clear"])
    assert result.exit_code == 0, result.output
    assert f"generasi data sekarang {before + 1}" in result.output


# --- the render cache ----------------------------------------------------------------------

def job(html: str = "<p>Naskah DRAF</p>", **extra) -> R.RenderJob:
    from flask import current_app

    return R.RenderJob(html=html, static_root=current_app.static_folder, **extra)


def test_an_identical_draft_is_rendered_once(app, redis_conn):
    calls = []

    def produce():
        calls.append(1)
        return b"%PDF-1.7 draft"

    config = {**app.config, "RENDER_CACHE_SECONDS": 60}
    assert R.cached_render(job(), config, produce) == b"%PDF-1.7 draft"
    assert R.cached_render(job(), config, produce) == b"%PDF-1.7 draft"
    assert len(calls) == 1
    # Anything else rendered differently is another key: text, paper, attachments.
    R.cached_render(job("<p>Naskah DRAF, diubah</p>"), config, produce)
    R.cached_render(job(paper="a4"), config, produce)
    R.cached_render(job(attachments=[("data.json", b"{}", "data")]), config, produce)
    assert len(calls) == 4
    assert 0 < redis_conn.ttl(R.job_key(job())) <= 60


def test_final_documents_and_disabled_caches_always_render(app, redis_conn):
    calls = []

    def produce():
        calls.append(1)
        return b"%PDF"

    config = {**app.config, "RENDER_CACHE_SECONDS": 60}
    for _ in range(2):
        R.cached_render(job(variant=R.FINAL_VARIANT), config, produce)
        R.cached_render(job(), {**config, "RENDER_CACHE_SECONDS": 0}, produce)
    assert len(calls) == 4
    assert list(redis_conn.scan_iter(R.CACHE_PREFIX + "*")) == []


def test_render_cache_down_renders_anyway(app, caplog):
    config = {**app.config, "REDIS_URL": UNREACHABLE, "RENDER_CACHE_SECONDS": 60}
    assert R.cached_render(job(), config, lambda: b"%PDF") == b"%PDF"
    assert "render cache unavailable" in caplog.text


def test_the_draft_pdf_route_uses_the_render_cache(app, redis_conn, login, monkeypatch):
    scenario = antar_desa()
    client = logged_in(login, scenario.author)
    monkeypatch.setitem(app.config, "RENDER_CACHE_SECONDS", 60)
    first = client.get(f"/dokumen/{scenario.proposal.id}/naskah.pdf")
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    assert len(list(redis_conn.scan_iter(R.CACHE_PREFIX + "*"))) == 1
    renders = []
    monkeypatch.setattr(R, "render_now", lambda job: renders.append(job) or b"%PDF-new")
    again = client.get(f"/dokumen/{scenario.proposal.id}/naskah.pdf")
    assert again.data == first.data and renders == []


def test_render_processes_run_at_a_lower_priority():
    pool = R.RenderPool(1, 0, nice=10)
    try:
        niceness = pool._get().apply(os.nice, (0,))
    finally:
        pool.reset()
    assert niceness == os.nice(0) + 10


def test_a_changed_template_is_not_served_from_stored_pages(app, tmp_path):
    """A deployment that changes a template (same data, same generation) stores new pages:
    the key holds the templates' fingerprint as the process loaded them."""
    folder = str(Path(app.root_path, app.template_folder))
    copy = tmp_path / "templates"
    shutil.copytree(folder, copy)
    before = pagecache.code_fingerprint(str(copy))
    page = copy / "proposals" / "index.html"
    page.write_text(page.read_text() + "\n{# changed #}\n")
    pagecache.code_fingerprint.cache_clear()  # a new process after the deployment
    assert pagecache.code_fingerprint(str(copy)) != before


def test_restore_drops_the_stored_pages(cached, app, login, tmp_path):
    from coopdesa.backup import make_backup, restore_backup

    scenario = antar_desa(title="Air bersih Dieng")
    archive = tmp_path / "cadangan.zip"
    make_backup(archive)
    client = logged_in(login, scenario.author)
    open_list(client)
    before = generation(cached)
    restore_backup(archive, yes=True, safety_backup=False)
    assert generation(cached) > before


def test_an_increment_missed_while_redis_was_down_is_made_up(cached, login, monkeypatch,
                                                           caplog):
    scenario = antar_desa(title="Air bersih Dieng")
    client = logged_in(login, scenario.author)
    open_list(client)
    before = generation(cached)

    class Down:
        def incr(self, key):
            raise ConnectionError("Redis down")

    with monkeypatch.context() as patch:
        patch.setattr(pagecache, "redis_client", lambda url: Down())
        db.session.execute(sa.text("UPDATE proposal SET title = 'Judul saat Redis mati' "
                                   "WHERE id = :id"), {"id": scenario.proposal.id})
        db.session.commit()
    assert "could not increment" in caplog.text
    assert generation(cached) == before  # Redis never saw the write
    # Redis is back: this process's next page increments first, so the stored page of
    # before the write is not served.
    assert "Judul saat Redis mati" in open_list(client)
    assert generation(cached) == before + 1
