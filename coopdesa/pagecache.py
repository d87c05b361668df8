"""Rendered pages of the busiest read views, kept in Redis between writes.

The 50-row proposal list is what every user opens first and most often; rendering it
(query, 50 rows, the layout) costs about 26 ms of CPU, while serving the same bytes again
costs about a tenth of that (docs/performance.md, section Load). So a view decorated with
:func:`cached_page` keeps its whole HTML page in Redis under a key made of

- the data generation: a counter that every committed database write increments
  (:func:`watch_engine`: the engine marks a connection that ran INSERT, UPDATE or DELETE;
  when a connection comes back to the pool after committing such a transaction, the
  counter goes up). Any write of any table makes every stored page stale at once, so a
  page never shows data older than the last commit, whatever its query reads: access
  rules, names, states, memberships;
- the user (a page is never shared between users), the language, the endpoint and its
  arguments, and the query string;
- the templates and the app's version as this process loaded them (a deployment that
  changes a template does not serve pages of the old one).

The counter is read before the user is loaded and before the view queries anything, and
incremented only after the commit: a page rendered from data older than a commit is
therefore stored under an older generation than the one readers use after that commit.
Pages carrying a flashed message are neither served from nor written to the cache, and the
session's CSRF token is put back into a stored page (it differs per session and time).

Only with Redis (``COOPDESA_REDIS_URL``): the generation must be shared by every process
that writes (the web workers, the RQ worker, the command line). Without Redis, or with
``COOPDESA_PAGE_CACHE_SECONDS=0``, nothing is cached. A Redis error never fails a page: the
page is rendered as without the cache; a failed increment is logged and made up by the
same process's next page once Redis answers (stored pages expire after
``PAGE_CACHE_SECONDS`` in any case). A write made outside coopdesa (psql)
increments nothing; ``flask coopdesa cache clear`` drops every stored page (``flask
coopdesa restore`` does it itself).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_login import current_user, login_required

log = logging.getLogger(__name__)

GENERATION_KEY = "coopdesa:pages:generation"
PAGE_PREFIX = "coopdesa:page:"
#: Stands in a stored page for the session's CSRF token.
CSRF_MARK = "\x00coopdesa-csrf\x00"
#: Pages larger than this are not stored.
MAX_PAGE_BYTES = 2 * 1024 * 1024
#: Statement prefixes that write (text() statements; compiled ones say so themselves).
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "REPLAC")

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def redis_client(url: str):
    """One client (with its connection pool) per Redis address and process."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            from redis import Redis

            client = _clients[url] = Redis.from_url(url, socket_connect_timeout=0.5,
                                                    socket_timeout=0.5)
        return client


def configured(app: Flask) -> bool:
    return bool(app.config.get("REDIS_URL")) and int(app.config.get("PAGE_CACHE_SECONDS", 0)) > 0


def enabled() -> bool:
    """Only where init_app watched the engines for this Redis (not when a setting changed
    afterwards: pages would then be stored without the generation moving on writes)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.extensions.get("coopdesa.pagecache")
    return url is not None and url == app.config.get("REDIS_URL") and configured(app)


# --- the generation ------------------------------------------------------------------------

def _wrote(conn, cursor, statement, parameters, context, executemany) -> None:
    compiled_write = context is not None and (
        context.isinsert or context.isupdate or context.isdelete)
    if compiled_write or statement.lstrip()[:6].upper() in _WRITES:
        conn.info["coopdesa_wrote"] = True


def _committing(conn) -> None:
    if conn.info.pop("coopdesa_wrote", False):
        conn.info["coopdesa_committed"] = True


def _rolling_back(conn) -> None:
    conn.info.pop("coopdesa_wrote", None)


def watch_engine(engine: sa.Engine, redis_url: str) -> None:
    """Increment the generation after every committed write through ``engine``: when the
    connection that committed it goes back to the pool (a Session returns it at the end of
    each transaction)."""
    if engine in _WATCHED:
        return

    def checked_in(dbapi_connection, record) -> None:
        if record.info.pop("coopdesa_committed", False):
            bump(redis_url)

    listeners = (("before_cursor_execute", _wrote), ("commit", _committing),
                 ("rollback", _rolling_back), ("checkin", checked_in))
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    _WATCHED[engine] = listeners


def unwatch_engine(engine: sa.Engine) -> None:
    for name, listener in _WATCHED.pop(engine, ()):
        sa.event.remove(engine, name, listener)


_WATCHED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


#: Set when this process committed a write but could not increment the generation (Redis
#: unreachable): its next read of the generation increments it first, so pages stored
#: before the write are not served once Redis is back.
_owed = threading.Event()


def bump(redis_url: str) -> None:
    try:
        redis_client(redis_url).incr(GENERATION_KEY)
        _owed.clear()
    except Exception as exc:  # noqa: BLE001 - Redis down must not fail the write's request
        _owed.set()
        log.warning("page cache: could not increment the data generation (%s); done on "
                    "this process's next page, stored pages expire on their own", exc)


def generation() -> int | None:
    client = redis_client(current_app.config["REDIS_URL"])
    try:
        if _owed.is_set():
            value = client.incr(GENERATION_KEY)
            _owed.clear()
        else:
            value = client.get(GENERATION_KEY)
    except Exception as exc:  # noqa: BLE001
        log.warning("page cache unavailable: %s", exc)
        return None
    return int(value or 0)


def clear() -> int:
    """Drop every stored page (the generation goes up). Returns the new generation."""
    return int(redis_client(current_app.config["REDIS_URL"]).incr(GENERATION_KEY))


# --- the decorator -------------------------------------------------------------------------

@lru_cache(maxsize=4)
def code_fingerprint(template_folder: str) -> str:
    """The templates and the app's version, as this process loaded them: a deployment that
    changes a template stores new pages instead of serving the old ones."""
    from coopdesa import __version__

    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(template_folder).rglob("*.html")):
        stat = path.stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _key(generation_: int) -> str:
    from flask_babel import get_locale

    parts = "\x1f".join((
        code_fingerprint(str(Path(current_app.root_path, current_app.template_folder or ""))),
        str(generation_),
        str(current_user.get_id()), str(get_locale()),
        request.endpoint or "", repr(sorted((request.view_args or {}).items())),
        request.query_string.decode("latin-1"),
    ))
    return PAGE_PREFIX + hashlib.sha256(parts.encode("utf-8", "surrogatepass")).hexdigest()


def cached_page(view):
    """Serve ``view`` (a GET view of logged-in users, used *instead of* login_required)
    from the page cache when it is enabled. Access checks inside ``view`` ran for the same
    user at the same data generation when the page was stored."""

    @login_required
    def serve(*args, **kwargs):
        generation_ = g.pop("page_generation", None)
        if generation_ is None or "_flashes" in session:
            return view(*args, **kwargs)
        from flask_wtf.csrf import generate_csrf

        key = _key(generation_)
        client = redis_client(current_app.config["REDIS_URL"])
        try:
            stored = client.get(key)
        except Exception as exc:  # noqa: BLE001
            log.warning("page cache unavailable: %s", exc)
            return view(*args, **kwargs)
        if stored is not None:
            body = stored.decode("utf-8").replace(CSRF_MARK, generate_csrf())
            return current_app.response_class(body, mimetype="text/html")
        response = current_app.make_response(view(*args, **kwargs))
        if (response.status_code == 200 and response.mimetype == "text/html"
                and not response.direct_passthrough and "_flashes" not in session
                and response.content_length is not None
                and response.content_length <= MAX_PAGE_BYTES):
            page = response.get_data(as_text=True)
            token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
            if token:
                page = page.replace(token, CSRF_MARK)
            try:
                client.set(key, page.encode("utf-8"),
                           ex=int(current_app.config["PAGE_CACHE_SECONDS"]))
            except Exception as exc:  # noqa: BLE001
                log.warning("page cache unavailable: %s", exc)
        return response

    @wraps(view)
    def entry(*args, **kwargs):
        # Before login_required loads the user and before the view reads anything.
        if request.method == "GET" and enabled():
            g.page_generation = generation()
        return serve(*args, **kwargs)

    return entry


def init_app(app: Flask) -> None:
    if not configured(app):
        return
    from coopdesa.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            watch_engine(engine, app.config["REDIS_URL"])
    app.extensions["coopdesa.pagecache"] = app.config["REDIS_URL"]
