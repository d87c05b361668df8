"""Public JSON of the dissemination pages (no token): a desa's signed agreements."""

from __future__ import annotations

from flask import jsonify

from coopdesa.api import endpoint, path_param
from coopdesa.api.openapi import SCHEMAS
from coopdesa.extensions import limiter
from coopdesa.publication import operations as ops
from coopdesa.publication.views import cacheable, page_etag, public_limit

TAG = "publication"

_str = {"type": "string"}
_nullable = {"type": ["string", "null"]}
_strings = {"type": "array", "items": _str}

SCHEMAS.update({
    "PublicAgreement": {
        "type": "object",
        "required": ["code", "title", "numbers", "parties", "status", "status_label",
                     "pdf_available", "withheld"],
        "properties": {
            "code": {**_nullable,
                     "description": "Verification code (see /verify/{code}); null when "
                                    "the document is withheld."},
            "title": _str, "kind": _str, "kind_label": _str,
            "number": {**_nullable, "description": "This village's number of the document."},
            "year": {"type": "integer"},
            "numbers": {"type": "array", "items": {"type": "object", "properties": {
                "party": _str, "number": _nullable}}},
            "parties": {"type": "array", "items": {"type": "object", "properties": {
                "name": _str, "role_label": _str, "is_village": {"type": "boolean"},
                "desa_code": _nullable}}},
            "bidang": _strings,
            "start": {**_nullable, "format": "date"}, "end": {**_nullable, "format": "date"},
            "status": {"type": "string", "enum": ["signed", "active", "postponed", "amended",
                                                  "ended", "replaced"]},
            "status_label": _str,
            "ended_on": {**_nullable, "format": "date"}, "end_ground": _nullable,
            "enacted_on": {"type": "string", "format": "date"}, "enacted_place": _str,
            "signatories": {"type": "array", "items": {"type": "object", "properties": {
                "party": _str, "name": _str, "office": _str}}},
            "sha256": _nullable,
            "pdf_available": {"type": "boolean"},
            "pdf_url": _nullable,
            "verify_url": _nullable,
            "withheld": {"type": "boolean"},
            "amends": {**_nullable, "description": "What an addendum changes."},
            "amends_code": {**_nullable,
                            "description": "Verification code of the changed agreement."},
            "replaced_by": {**_nullable,
                            "description": "Verification code of the replacing agreement."},
            "legal_basis": {**_nullable,
                            "description": "Why the document is withheld (public text)."},
        },
    },
    "PublicVillageAgreements": {
        "type": "object",
        "required": ["desa", "url", "agreements"],
        "properties": {
            "desa": {"type": "object", "properties": {
                "code": _str, "name": _str, "kind_label": _str, "path": _str}},
            "url": {**_str, "description": "The public page of the village."},
            "agreements": {"type": "array",
                           "items": {"$ref": "#/components/schemas/PublicAgreement"}},
        },
    },
})


@endpoint("/public/desa/<kode>/agreements", summary="A village's signed agreements (public)",
          tag=TAG, public=True,
          description="PP 43/2014 Pasal 88. Signed, active, postponed and ended agreements "
                      "the desa is a party to, as on its public page; cacheable (ETag, "
                      "Last-Modified, 304 on If-None-Match).",
          params=[path_param("kode", "Kemendagri code of the desa, e.g. 33.07.13.2013")],
          responses={200: "PublicVillageAgreements", 404: "Error", 429: "Error"})
@limiter.limit(public_limit)
def public_village_agreements(kode: str):
    page = ops.village_page(kode)
    region = page.region
    response = jsonify({
        "desa": {"code": region.code, "name": region.display_name,
                 "kind_label": region.kind.label, "path": region.path},
        "url": ops.village_url(region.code),
        "agreements": page.agreements,
    })
    return cacheable(response, etag=page_etag(page, "json"),
                     last_modified=page.last_modified)

