"""Public JSON of the dissemination pages (no token): a desa's signed agreements."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, json_body, path_param
from coopdesa.api.openapi import SCHEMAS
from coopdesa.errors import NotFoundError
from coopdesa.extensions import db, limiter
from coopdesa.proposals import operations as proposal_ops
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



# --- withholding (admins; PP 43/2014 Pasal 88 and the exceptions of UU 14/2008) ------------

SCHEMAS.update({
    "PublicationWithholding": {"type": "object", "properties": {
        "id": {"type": "integer"}, "proposal_id": {"type": "integer"},
        "legal_basis": {"type": "string"}, "reason": {"type": "string"},
        "withheld_at": {"type": "string"}, "lifted_at": {"type": ["string", "null"]},
        "lift_reason": {"type": ["string", "null"]}}},
    "PublicationStatus": {"type": "object", "properties": {
        "proposal_id": {"type": "integer"}, "public": {"type": "boolean"},
        "withheld": {"type": "boolean"},
        "history": {"type": "array",
                    "items": {"$ref": "#/components/schemas/PublicationWithholding"}}}},
    "WithholdInput": {"type": "object", "required": ["legal_basis", "reason"], "properties": {
        "legal_basis": {"type": "string", "description": "Shown to the public."},
        "reason": {"type": "string", "description": "Internal; never shown publicly."}}},
    "LiftInput": {"type": "object", "required": ["lift_reason"], "properties": {
        "lift_reason": {"type": "string"}}},
})
PROPOSAL_ID = path_param("proposal_id", "Proposal id", type_="integer")


def _proposal(proposal_id: int):
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _withholding_dict(w) -> dict:
    return {"id": w.id, "proposal_id": w.proposal_id, "legal_basis": w.legal_basis,
            "reason": w.reason, "withheld_at": w.withheld_at.isoformat(),
            "lifted_at": w.lifted_at.isoformat() if w.lifted_at else None,
            "lift_reason": w.lift_reason}


def _publication(proposal) -> dict:
    access.require(current_user, Action.VIEW, access.PublicationOf(proposal))
    return {"proposal_id": proposal.id, "public": ops.is_public(proposal),
            "withheld": ops.active_withholding(proposal.id) is not None,
            "history": [_withholding_dict(w) for w in ops.withholdings_of(proposal)]}


@endpoint("/proposals/<int:proposal_id>/publication", summary="Publication status and history",
          tag=TAG, params=[PROPOSAL_ID], responses={200: "PublicationStatus", 404: "Error"})
def get_publication(proposal_id: int):
    return jsonify(_publication(_proposal(proposal_id)))


@endpoint("/proposals/<int:proposal_id>/publication/withhold", method="POST",
          summary="Withhold the document from the public pages (admins)", tag=TAG,
          params=[PROPOSAL_ID], body="WithholdInput",
          responses={201: "PublicationStatus", 403: "Error", 404: "Error", 409: "Error"})
def post_publication_withhold(proposal_id: int):
    proposal = _proposal(proposal_id)
    ops.withhold(proposal, current_user, json_body({"legal_basis", "reason"}))
    db.session.commit()
    return jsonify(_publication(proposal)), 201


@endpoint("/proposals/<int:proposal_id>/publication/lift", method="POST",
          summary="Lift the withholding in force (admins)", tag=TAG, params=[PROPOSAL_ID],
          body="LiftInput",
          responses={200: "PublicationStatus", 403: "Error", 404: "Error", 409: "Error"})
def post_publication_lift(proposal_id: int):
    proposal = _proposal(proposal_id)
    ops.lift(proposal, current_user, json_body({"lift_reason"}))
    db.session.commit()
    return jsonify(_publication(proposal))
