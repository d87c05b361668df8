"""The OpenAPI 3.1 document, built from the endpoints declared with ``api.endpoint``."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify

from coopdesa import __version__
from coopdesa.accounts.models import Role
from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.api import OPERATIONS, endpoint
from coopdesa.regions.models import RegionKind

_nullable_string = {"type": ["string", "null"]}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": {"type": "string", "examples": ["validation_failed"]},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "Messages per field name.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "additionalProperties": True,
            }
        },
    },
    "Region": {
        "type": "object",
        "required": ["code", "name", "level", "kind", "path", "may_be_party"],
        "properties": {
            "code": {"type": "string", "examples": ["33.07.13.2013"]},
            "name": {"type": "string"},
            "level": {"type": "integer", "minimum": 1, "maximum": 4},
            "kind": {"type": "string", "enum": [k.value for k in RegionKind]},
            "kind_label": {"type": "string"},
            "parent_code": _nullable_string,
            "path": {"type": "string"},
            "postal_code": _nullable_string,
            "may_be_party": {"type": "boolean",
                             "description": "Desa or desa adat (a kelurahan never is)."},
        },
    },
    "RegionList": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}}
        },
    },
    "RegionDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Region"},
            {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}}
            }},
        ]
    },
    "Actor": {
        "type": "object",
        "required": ["id", "name", "kind", "category", "version"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in ActorKind]},
            "kind_label": {"type": "string"},
            "category": {"type": "string", "enum": [c.value for c in ActorCategory]},
            "desa_code": _nullable_string,
            "region_code": _nullable_string,
            "region_path": _nullable_string,
            "nib": _nullable_string,
            "npwp": _nullable_string,
            "address": _nullable_string,
            "contact_name": _nullable_string,
            "phone": _nullable_string,
            "email": _nullable_string,
            "notes": _nullable_string,
            "version": {"type": "integer",
                        "description": "Send it back when updating (optimistic locking)."},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "ActorInput": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "enum": [k.value for k in ActorKind]},
            "name": {"type": "string", "maxLength": 200,
                     "description": "Required except for kind desa (taken from the register)."},
            "desa_code": {"type": ["string", "null"],
                          "description": "For kind desa: a desa or desa adat code."},
            "region_code": {"type": ["string", "null"]},
            "nib": {"type": ["string", "null"], "description": "13 digits."},
            "npwp": {"type": ["string", "null"]},
            "address": {"type": ["string", "null"], "maxLength": 500},
            "contact_name": {"type": ["string", "null"], "maxLength": 120},
            "phone": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "notes": {"type": ["string", "null"], "maxLength": 5000},
            "version": {"type": "integer",
                        "description": "On update: the version the edit was made on."},
        },
    },
    "ActorPage": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Actor"}},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    },
    "Me": {
        "type": "object",
        "required": ["id", "username", "full_name", "role", "scope"],
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "full_name": {"type": "string"},
            "office": _nullable_string,
            "email": _nullable_string,
            "role": {"type": "string", "enum": [r.value for r in Role]},
            "scope": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "desa_code": _nullable_string,
                    "bkad_id": {"type": ["integer", "null"]},
                    "jurisdiction_code": _nullable_string,
                    "desa_codes": {"type": ["array", "null"], "items": {"type": "string"}},
                },
            },
        },
    },
}

_ERROR_RESPONSES = {
    400: "Permintaan tidak dapat dipahami.",
    401: "Token tidak ada atau tidak berlaku.",
    403: "Peran atau wilayah Anda tidak mengizinkan tindakan ini.",
    404: "Data tidak ditemukan.",
    409: "Data telah berubah sejak dibaca (versi usang).",
    422: "Isian tidak valid; lihat error.fields.",
    429: "Terlalu banyak permintaan.",
}
_DEFAULT_ERRORS = (401, 429)


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def build_spec() -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {}
        for status, schema in op.responses.items():
            if status >= 400:
                continue
            entry: dict[str, Any] = {"description": "OK" if status < 300 else "Created"}
            if schema:
                entry["content"] = {"application/json": {"schema": _ref(schema)}}
            responses[str(status)] = entry
        errors = set(_DEFAULT_ERRORS if not op.public else (429,))
        errors |= {s for s in op.responses if s >= 400}
        if op.body:
            errors |= {400, 422}
        for status in sorted(errors):
            responses[str(status)] = {
                "description": _ERROR_RESPONSES.get(status, "Error"),
                "content": {"application/json": {"schema": _ref("Error")}},
            }
        operation: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": op.params,
            "responses": responses,
        }
        if op.description:
            operation["description"] = op.description
        if op.body:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(op.body)}},
            }
        if op.public:
            operation["security"] = []
        paths.setdefault(_path(op.rule), {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "coopdesa API",
            "version": __version__,
            "description": (
                "Kerja sama desa (UU 6/2014 Pasal 91-93, PP 43/2014 Pasal 143-148). "
                "Authenticate with `Authorization: Bearer <token>`; create a token on the "
                "profile page or with `flask coopdesa token create USER`."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }


@endpoint("/openapi.json", summary="This OpenAPI document", tag="meta", public=True,
          responses={200: None})
def openapi():
    return jsonify(build_spec())
