"""Domain exceptions and the app's error handlers.

Operations raise the exceptions below; they are mapped to HTTP once, here. HTML clients get
a friendly page (or, for form errors, the form again with the message); JSON clients and
everything under /api/ get ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from coopdesa.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal the user can understand: ``message`` is shown as it is."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None,
                 details: dict[str, Any] | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.fields = fields or {}
        self.details = details or {}


class ValidationError(DomainError):
    status = 422
    code = "validation_failed"


class NotFoundError(DomainError):
    status = 404
    code = "not_found"


class AccessDenied(DomainError):
    status = 403
    code = "forbidden"


class ConflictError(DomainError):
    """The object changed meanwhile or is in a state that does not allow the action."""

    status = 409
    code = "conflict"


# HTTP status -> (code, default message); messages are translated at request time.
_HTTP_MESSAGES = {
    400: ("bad_request", _l("Permintaan tidak dapat dipahami.")),
    401: ("unauthorized", _l("Anda perlu masuk (login) terlebih dahulu.")),
    403: ("forbidden", _l("Anda tidak memiliki hak untuk membuka halaman ini.")),
    404: ("not_found", _l("Halaman atau data yang dicari tidak ada.")),
    405: ("method_not_allowed", _l("Metode permintaan ini tidak diizinkan di alamat ini.")),
    409: ("conflict", _l("Data telah berubah; muat ulang dan coba lagi.")),
    413: ("too_large", _l("Berkas atau isian terlalu besar.")),
    422: ("validation_failed", _l("Isian tidak valid.")),
    429: ("rate_limited", _l("Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi.")),
    500: ("server_error", _l("Terjadi kesalahan pada server. Kesalahan ini telah dicatat "
                             "untuk tim teknis.")),
}


def wants_json() -> bool:
    """True for the API and for clients that prefer JSON over HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def json_error(status: int, code: str, message: str, fields: dict | None = None,
               **extra: Any):
    body: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="coopdesa"'
    return response


def _render(status: int, message: str, *, code: str):
    if wants_json():
        return json_error(status, code, message)
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            return json_error(error.status, error.code, error.message, error.fields,
                              **error.details)
        return render_template("errors/error.html", status=error.status,
                               message=error.message), error.status

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        db.session.rollback()
        return _render(400, _("Formulir ini kedaluwarsa atau tidak sah. Muat ulang halaman, "
                              "lalu kirim lagi; isian yang belum terkirim perlu diketik "
                              "ulang."), code="csrf_failed")

    @app.errorhandler(StaleDataError)
    def handle_stale(error: StaleDataError):
        # Two saves raced past the version check; the later one loses, clearly.
        db.session.rollback()
        return _render(409, _("Data ini baru saja diubah oleh orang lain. Muat ulang halaman, "
                              "periksa perubahannya, lalu simpan lagi."), code="conflict")

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def handle_redis_down(error: Exception):
        # COOPDESA_REDIS_URL is set but Redis does not answer: the shared rate-limit counts
        # (and the job queue) are out of reach. Refuse clearly instead of guessing: no silent
        # per-worker fallback that would multiply the login limit by the number of workers.
        db.session.rollback()
        log.error("Redis unreachable on %s %s: %s", request.method, request.path, error)
        return _render(503, _("Layanan pendukung (Redis) sedang tidak tersedia. Coba lagi "
                              "beberapa saat lagi; bila berlanjut, hubungi tim teknis."),
                       code="service_unavailable")

    @app.errorhandler(OperationalError)
    def handle_database_unavailable(error: OperationalError):
        # The database restarted, refused a connection or stayed locked: only the requests
        # in flight see this (pool_pre_ping replaces dead connections for the next ones).
        # Nothing of the request was written (its transaction is rolled back); say so
        # plainly with 503 rather than a bare server error.
        try:
            db.session.rollback()
        except Exception:  # the connection may be gone: discard the session
            db.session.remove()
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  error.orig if error.orig is not None else error)
        return _render(503, _("Basis data sedang tidak dapat dihubungi; tidak ada yang "
                              "tersimpan dari permintaan ini. Coba lagi beberapa saat lagi."),
                       code="database_unavailable")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        code, default = _HTTP_MESSAGES.get(status, ("error", error.name))
        # abort(403, description=...) carries a specific, already translated message.
        description = error.description
        generic = type(error).description
        message = description if description and description != generic else str(default)
        if status == 429:
            message = str(default)  # Flask-Limiter's description is the limit: "5 per 1 minute"
        return _render(status, message, code=code)

    @app.errorhandler(500)
    def handle_server_error(error):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, _("Terjadi kesalahan pada server. Kesalahan ini telah dicatat "
                              "untuk tim teknis."), code="server_error")
