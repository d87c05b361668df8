"""gunicorn settings for coopdesa: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be changed from the environment (docs/deploy.md, docs/configuration.md):

- ``COOPDESA_WEB_BIND``: address to listen on (default ``127.0.0.1:8000``; nginx in front).
- ``COOPDESA_WEB_WORKERS``: worker processes (default 2 x cores + 1, at most 8).
- ``COOPDESA_WEB_THREADS``: threads per worker (default 4, gthread worker).
- ``COOPDESA_WEB_TIMEOUT``: seconds before a silent worker is killed (default: the PDF
  render limit ``COOPDESA_RENDER_TIMEOUT`` + 30, so a slow render is stopped by the
  render pool with a clear message, never by gunicorn with a bare 502).
- ``COOPDESA_WEB_CONNECTIONS``: connections one worker holds at once, busy or kept alive
  (default 2 x threads, so that keep-alive connections spread over the workers).
- ``COOPDESA_WEB_MAX_REQUESTS``: requests before a worker is replaced (default 20000, with
  a jitter of a tenth so that workers are not all replaced at once; 0 turns it off).
- ``COOPDESA_WEB_PRELOAD``: ``1`` loads the app in the master before forking (less memory,
  but a ``HUP`` reload then keeps the old code); default off.
- ``COOPDESA_WEB_GC_FREEZE``: ``0`` turns off the garbage-collector freeze below (default on).
- ``FORWARDED_ALLOW_IPS``: the proxies whose ``X-Forwarded-Proto`` is believed (gunicorn's
  own variable; default loopback, where nginx runs).
"""

from __future__ import annotations

import os

_TRUE = {"1", "true", "yes", "on"}


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise RuntimeError(f"{name}={raw!r} must be at least {minimum}")
    return value


def default_workers(cores: int | None = None) -> int:
    """2 x cores + 1 (gunicorn's rule of thumb), capped at 8: each worker holds its own
    database pool and PDF render processes, so more workers cost memory and connections."""
    cores = cores or os.cpu_count() or 1
    return min(2 * cores + 1, 8)


wsgi_app = "wsgi:app"
bind = [os.environ.get("COOPDESA_WEB_BIND", "127.0.0.1:8000")]

worker_class = "gthread"
workers = _int("COOPDESA_WEB_WORKERS", default_workers(), minimum=1)
threads = _int("COOPDESA_WEB_THREADS", 4, minimum=1)
# How many connections one gthread worker holds at once (busy and kept alive). gunicorn's
# default, 1000, lets the first worker take every keep-alive connection nginx keeps open
# while the others idle: measured with wrk on 2 workers, one at 100 % of a core, the other
# idle, 206 requests/s instead of 279 (docs/performance.md, section Load).
worker_connections = _int("COOPDESA_WEB_CONNECTIONS", 2 * threads, minimum=threads)

# A PDF is rendered in coopdesa's render pool, stopped after COOPDESA_RENDER_TIMEOUT
# seconds (default 60); gunicorn must wait longer than that, or it would kill the whole
# worker (and every other request it serves) before the app can answer with its message.
_render_timeout = int(float(os.environ.get("COOPDESA_RENDER_TIMEOUT", "60")))
timeout = _int("COOPDESA_WEB_TIMEOUT", _render_timeout + 30, minimum=1)
# On a restart (deploy, HUP, max_requests) requests in flight, a render included, finish.
graceful_timeout = timeout
# nginx keeps upstream connections open (keepalive in deploy/nginx/coopdesa.conf).
keepalive = 5

# A replaced worker imports the app again (4-5 s of CPU here): 2000 requests, replaced
# every 13 s or so at 300 requests/s on 2 workers, cost the list page a tenth of its
# throughput (279 against 315 requests/s).
max_requests = _int("COOPDESA_WEB_MAX_REQUESTS", 20000)
max_requests_jitter = max_requests // 10

# Not preloaded by default: every worker imports the app and opens its own database pool
# after the fork. When preloaded, post_fork below throws away any connection the master
# opened, so that no two processes ever share a socket to PostgreSQL.
preload_app = os.environ.get("COOPDESA_WEB_PRELOAD", "").strip().lower() in _TRUE

# nginx on the same machine sets X-Forwarded-Proto; only loopback is believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Only the header nginx sets (deploy/nginx/coopdesa.conf). gunicorn's default also checks
# X-Forwarded-Ssl and X-Forwarded-Protocol, and refuses a request in which a client put one
# of those with another value: nginx passes them through, so they are not looked at.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Logs to stdout/stderr: systemd's journal (or docker) keeps them. %(M)s: milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("COOPDESA_WEB_LOGLEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'

proc_name = "coopdesa-web"
# The heartbeat file in memory, not on a disk that may stall (gunicorn's advice).
if os.path.isdir("/dev/shm"):  # noqa: S108 (a directory, not a temp file of ours)
    worker_tmp_dir = "/dev/shm"  # noqa: S108
# gunicorn >= 25.1 opens a control socket in $HOME by default; two instances on one host
# would fight over it. Off unless asked for.
control_socket_disable = not os.environ.get("COOPDESA_WEB_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["COOPDESA_WEB_CONTROL_SOCKET"]


def post_fork(server, worker) -> None:
    """After the fork, drop any database connection inherited from the master (only
    possible with preload_app): each worker opens its own."""
    import sys

    wsgi = sys.modules.get("wsgi")
    app = getattr(wsgi, "app", None)
    if app is None:
        return
    from coopdesa.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


# The cyclic garbage collector, left alone, walks every object of the process in a full
# collection: about 200,000 after the app import and its first pages, with the worker's
# other threads stopped (it holds the GIL): 110 ms on an idle worker, 140 ms to 1.7 s
# under the mixed load, 4-8 times per worker in two minutes (docs/performance.md, Load). Objects
# alive after the import and after the first pages (templates, compiled SQL, catalogues)
# live as long as the worker: gc.freeze() moves them out of the collector's sight, and a
# full collection then takes a few milliseconds. Freezing again after the first 100 and
# 1000 requests takes in what the first pages built. The cost: a frozen object that later
# ends up in garbage cycles (a request in flight at that moment, a cache entry evicted
# afterwards) is never collected. That is bounded by what was alive at the last freeze,
# never grows after it, and goes with the worker at max_requests.
GC_FREEZE = os.environ.get("COOPDESA_WEB_GC_FREEZE", "1").strip().lower() not in {
    "0", "false", "no", "off"}
GC_FREEZE_AFTER_REQUESTS = (100, 1000)


def post_worker_init(worker) -> None:
    """Once the worker has imported the app: collect, then freeze what is left."""
    if GC_FREEZE:
        import gc

        gc.collect()
        gc.freeze()


def post_request(worker, req, environ, resp) -> None:
    """After the first pages have filled the caches, freeze again (see GC_FREEZE)."""
    if not GC_FREEZE:
        return
    # worker.nr counts requests started; threads finish out of order, so compare, not match.
    pending = worker.__dict__.setdefault("coopdesa_gc_freeze_at",
                                         list(GC_FREEZE_AFTER_REQUESTS))
    if pending and worker.nr >= pending[0]:
        import gc

        del pending[0]
        gc.freeze()
