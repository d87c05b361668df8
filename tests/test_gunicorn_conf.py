"""gunicorn.conf.py: loaded the way gunicorn loads it, every value a valid gunicorn setting."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from gunicorn.app.base import Application

from coopdesa import create_app

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
ENV = ("COOPDESA_WEB_BIND", "COOPDESA_WEB_WORKERS", "COOPDESA_WEB_THREADS",
       "COOPDESA_WEB_TIMEOUT", "COOPDESA_WEB_MAX_REQUESTS", "COOPDESA_WEB_PRELOAD",
       "COOPDESA_WEB_CONTROL_SOCKET", "COOPDESA_RENDER_TIMEOUT", "FORWARDED_ALLOW_IPS",
       "COOPDESA_WEB_GC_FREEZE")


class _Loader(Application):
    """gunicorn's own config loading, without parsing sys.argv or running anything."""

    def __init__(self) -> None:
        self.usage, self.prog, self.callable = None, None, None
        self.load_default_config()

    def init(self, parser, opts, args):  # pragma: no cover - never called
        return None

    def load(self):  # pragma: no cover - never called
        return None


@pytest.fixture
def load(monkeypatch):
    def load(**environ):
        for name in ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        loader = _Loader()
        module = loader.load_config_from_module_name_or_filename(str(CONF))
        return loader.cfg, module

    yield load
    sys.modules.pop("__config__", None)


def test_defaults(load):
    cfg, module = load()
    assert cfg.bind == ["127.0.0.1:8000"]
    assert cfg.wsgi_app == "wsgi:app"
    assert cfg.worker_class_str == "gthread"
    assert cfg.workers == module["default_workers"]()
    assert cfg.threads == 4
    # Longer than the PDF render limit (60 s), so the render pool answers first.
    assert cfg.timeout == 90
    assert cfg.graceful_timeout == 90
    # Keep-alive connections spread over the workers (gunicorn's own default is 1000).
    assert cfg.worker_connections == 8
    assert cfg.max_requests == 20000
    assert cfg.max_requests_jitter == 2000
    assert cfg.preload_app is False
    assert cfg.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert cfg.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}
    assert cfg.accesslog == "-"
    assert cfg.errorlog == "-"
    assert "%(M)s" in cfg.access_log_format
    assert cfg.proc_name == "coopdesa-web"
    assert cfg.control_socket_disable is True
    assert callable(cfg.post_fork)


def test_default_workers_rule():
    namespace: dict = {}
    exec(compile(CONF.read_text(), str(CONF), "exec"), namespace)  # noqa: S102 (our file)
    default_workers = namespace["default_workers"]
    assert default_workers(1) == 3
    assert default_workers(2) == 5
    assert default_workers(3) == 7
    assert default_workers(16) == 8  # capped: each worker has its own pool and renderers


def test_environment_overrides(load):
    cfg, _module = load(COOPDESA_WEB_BIND="0.0.0.0:9000", COOPDESA_WEB_WORKERS="2",
                        COOPDESA_WEB_THREADS="8", COOPDESA_RENDER_TIMEOUT="120",
                        COOPDESA_WEB_MAX_REQUESTS="0", COOPDESA_WEB_PRELOAD="yes",
                        FORWARDED_ALLOW_IPS="10.0.0.5",
                        COOPDESA_WEB_CONTROL_SOCKET="/run/coopdesa/gunicorn.ctl")
    assert cfg.bind == ["0.0.0.0:9000"]
    assert cfg.workers == 2
    assert cfg.threads == 8
    assert cfg.worker_connections == 16  # follows the threads
    assert cfg.timeout == 150
    assert cfg.max_requests == 0
    assert cfg.max_requests_jitter == 0
    assert cfg.preload_app is True
    assert cfg.forwarded_allow_ips == ["10.0.0.5"]
    assert cfg.control_socket_disable is False
    assert cfg.control_socket == "/run/coopdesa/gunicorn.ctl"


def test_explicit_timeout_wins(load):
    cfg, _module = load(COOPDESA_WEB_TIMEOUT="45")
    assert cfg.timeout == 45
    assert cfg.graceful_timeout == 45


@pytest.mark.parametrize("value", ["many", "0", "-1"])
def test_bad_worker_count_refused(load, value, capsys):
    # gunicorn prints "Failed to read config file" and exits, naming nothing else; the
    # traceback it prints carries our message.
    with pytest.raises(SystemExit):
        load(COOPDESA_WEB_WORKERS=value)
    assert "COOPDESA_WEB_WORKERS" in capsys.readouterr().err


def test_post_fork_drops_inherited_connections(load, monkeypatch, tmp_path):
    """With preload, the master's pool is replaced in each worker after the fork."""
    from coopdesa.extensions import db

    cfg, _module = load()
    app = create_app({"ENV_NAME": "testing",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fork.sqlite'}"})
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        db.session.remove()
        engine = db.engine
        before = engine.pool
        assert before.checkedin() == 1  # the master holds an open connection
    monkeypatch.setitem(sys.modules, "wsgi", types.SimpleNamespace(app=app))
    cfg.post_fork(None, None)
    assert engine.pool is not before
    assert engine.pool.checkedin() == 0
    with app.app_context():
        engine.dispose()


def test_post_fork_without_preloaded_app(load, monkeypatch):
    cfg, _module = load()
    monkeypatch.delitem(sys.modules, "wsgi", raising=False)
    cfg.post_fork(None, None)  # nothing loaded yet: nothing to drop, no error


@pytest.fixture
def freezes(monkeypatch):
    """Record gc.collect/gc.freeze calls instead of freezing the test process."""
    import gc

    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    return calls


def test_gc_freeze_after_import_and_after_the_first_pages(load, freezes):
    """The objects a worker keeps for good are frozen once the app is imported, and again
    after its 100th and 1000th requests, each once, whatever order threads finish in."""
    cfg, _module = load()
    worker = types.SimpleNamespace(nr=0)
    cfg.post_worker_init(worker)
    assert freezes == ["collect", "freeze"]
    freezes.clear()
    seen = []
    for nr in [*range(1, 99), 101, 100, 102, *range(103, 999), 1003, 1001, *range(1004, 3000)]:
        worker.nr = nr
        before = len(freezes)
        cfg.post_request(worker, None, {}, None)
        if len(freezes) > before:
            seen.append(nr)
    assert seen == [101, 1003]
    assert freezes == ["freeze", "freeze"]


def test_gc_freeze_can_be_turned_off(load, freezes):
    cfg, _module = load(COOPDESA_WEB_GC_FREEZE="0")
    worker = types.SimpleNamespace(nr=0)
    cfg.post_worker_init(worker)
    for nr in range(1, 1500):
        worker.nr = nr
        cfg.post_request(worker, None, {}, None)
    assert freezes == []


def test_proxy_count_believes_nginx_for_client_address(tmp_path):
    """Behind nginx (COOPDESA_PROXY_COUNT=1) the rate limits see the visitor's address."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    url = f"sqlite:///{tmp_path / 'proxy.sqlite'}"
    plain = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    assert not isinstance(plain.wsgi_app, ProxyFix)  # default: no header is believed
    proxied = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url,
                          "PROXY_COUNT": 1})
    middleware = proxied.wsgi_app
    assert isinstance(middleware, ProxyFix)
    seen: dict = {}
    middleware.app = lambda environ, start_response: seen.update(environ) or []
    middleware({"REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
                "HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.9",
                "HTTP_X_FORWARDED_PROTO": "https"}, None)
    assert seen["REMOTE_ADDR"] == "203.0.113.9"  # the address nginx saw, not a forged one
    assert seen["wsgi.url_scheme"] == "https"
