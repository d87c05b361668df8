"""The JSON API under /api/v1.

Authenticated with ``Authorization: Bearer <token>`` only (never the session cookie, so
CSRF has nothing to ride on). Errors are ``{"error": {"code", "message", "fields"}}``.
Every endpoint is declared with :func:`endpoint`, which also describes it in the OpenAPI
document at /api/v1/openapi.json; a test checks that no route escapes the document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa.errors import ValidationError, json_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}


@dataclass
class Operation:
    rule: str
    method: str
    summary: str
    tag: str
    operation_id: str
    description: str = ""
    params: list[dict] = field(default_factory=list)
    body: str | None = None
    responses: dict[int, str | None] = field(default_factory=dict)
    public: bool = False


OPERATIONS: list[Operation] = []


def endpoint(rule: str, *, method: str = "GET", summary: str, tag: str,
             description: str = "", params: list[dict] | None = None,
             body: str | None = None, responses: dict[int, str | None] | None = None,
             public: bool = False) -> Callable:
    """Register ``fn`` on the API blueprint and describe it for the OpenAPI document.

    ``body`` and the values of ``responses`` name schemas in coopdesa.api.openapi.SCHEMAS.
    """

    def decorator(fn: Callable) -> Callable:
        OPERATIONS.append(Operation(
            rule=rule, method=method.upper(), summary=summary, tag=tag,
            operation_id=fn.__name__, description=description, params=params or [],
            body=body, responses=responses or {200: None}, public=public,
        ))
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=fn, methods=[method.upper()])
        if public:
            PUBLIC_ENDPOINTS.add(f"api.{fn.__name__}")
        return fn

    return decorator


def query_param(name: str, description: str, *, type_: str = "string",
                required: bool = False, **extra: Any) -> dict:
    fmt = extra.pop("format", None)
    schema = {"type": type_, **extra}
    if fmt and not required:  # an empty filter (?date_from=) means no filter, as in forms
        schema["anyOf"] = [{"format": fmt}, {"maxLength": 0}]
    elif fmt:
        schema["format"] = fmt
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}


def path_param(name: str, description: str, *, type_: str = "string", **extra: Any) -> dict:
    if type_ == "integer":  # an id: the routes match 1..MAX_ID only (larger numbers: 404)
        from coopdesa.db import MAX_ID

        extra = {"minimum": 1, "maximum": MAX_ID, **extra}
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": type_, **extra}}


def json_body(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object; unknown keys are refused by name, not ignored."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(_("Isi permintaan harus berupa objek JSON."))
    unknown = sorted(set(data) - allowed)
    if unknown:
        message = _("Kolom tidak dikenal.")
        raise ValidationError(_("Kolom tidak dikenal: %(names)s.", names=", ".join(unknown)),
                              fields={name: [message] for name in unknown})
    return data


def int_arg(name: str, default: int, *, low: int = 1, high: int = 10_000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        message = _("Harus bilangan bulat antara %(low)d dan %(high)d.", low=low, high=high)
        raise ValidationError(message, fields={name: [message]})
    return value


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return json_error(401, "unauthorized", _(
            "Sertakan token API yang masih berlaku: Authorization: Bearer <token>."))
    return None


@bp.after_request
def no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response
