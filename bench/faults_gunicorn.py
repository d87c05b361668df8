"""gunicorn settings for ``bench.faults --export-abort`` only: the app as deployed (gthread,
2 workers), with the PDF renderer of each worker replaced by one that crashes, so that a
streamed export fails after its first agreement. Never used outside that benchmark."""

from __future__ import annotations

import os

bind = [os.environ.get("COOPDESA_WEB_BIND", "127.0.0.1:8107")]
wsgi_app = "wsgi:app"
worker_class = "gthread"
workers = 2
threads = 4
timeout = 60
accesslog = "-"
errorlog = "-"
loglevel = "info"
control_socket_disable = True


def post_worker_init(worker) -> None:
    from coopdesa.documents import render

    def crash(job):
        raise RuntimeError("renderer crashed (bench.faults --export-abort)")

    render.render_now = crash
