"""JSON API of the documents area: signatures, the final document, verification."""

from __future__ import annotations

import base64
import binascii

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, json_body, path_param
from coopdesa.documents import operations as ops
from coopdesa.documents.models import AgreementDocument, Signature
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db, limiter
from coopdesa.proposals import operations as proposal_ops

TAG = "documents"
PROPOSAL_ID = path_param("proposal_id", "Proposal id", type_="integer")
SIGNATURE_FIELDS = {"party_id", "signer_name", "signer_office", "number", "signed_on",
                    "place", "method", "paper", "evidence_base64", "evidence_filename"}


def _proposal(proposal_id: int):
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def signature_dict(s: Signature) -> dict:
    return {"id": s.id, "party_id": s.party_id, "party": s.party.actor.name,
            "signer_name": s.signer_name, "signer_office": s.signer_office,
            "method": s.method.value, "signed_on": s.signed_on.isoformat(), "place": s.place,
            "number": s.number,
            "evidence_sha256": s.evidence.sha256 if s.evidence else None}


def document_dict(d: AgreementDocument | None) -> dict | None:
    if d is None:
        return None
    return {"code": d.code, "verify_url": ops.printed_verify_url(d),
            "version": d.version_number, "paper": d.paper.value,
            "enacted_on": d.enacted_on.isoformat(), "enacted_place": d.enacted_place,
            "sha256": d.sha256, "rendered": d.file_id is not None,
            "render_error": d.render_error,
            "scan_sha256": d.scan.sha256 if d.scan else None}


def _state(proposal) -> dict:
    signatures = ops.signatures_of(proposal)
    return {
        "proposal_id": proposal.id, "state": proposal.state.value,
        "signatures": [signature_dict(s) for s in signatures.values()],
        "unsigned_parties": [{"party_id": p.id, "name": p.actor.name}
                             for p in proposal.parties if p.id not in signatures],
        "document": document_dict(ops.document_of(proposal)),
    }


@endpoint("/proposals/<int:proposal_id>/signatures", summary="Signatures and final document",
          tag=TAG, params=[PROPOSAL_ID], responses={200: "SigningState", 404: "Error"})
def get_signatures(proposal_id: int):
    return jsonify(_state(_proposal(proposal_id)))


@endpoint("/proposals/<int:proposal_id>/signatures", method="POST",
          summary="Record one party's signature", tag=TAG, params=[PROPOSAL_ID],
          description="The last signature signs the agreement: the proposal moves to "
                      "`signed` (or `active` when its term has begun) and the final PDF/A-3b "
                      "is rendered once. For `method: elektronik` send the signed PDF as "
                      "`evidence_base64`.",
          body="SignatureInput",
          responses={201: "SigningState", 400: "Error", 403: "Error", 404: "Error",
                     409: "Error"})
def post_signature(proposal_id: int):
    proposal = _proposal(proposal_id)
    data = json_body(SIGNATURE_FIELDS)
    evidence = None
    if data.get("evidence_base64"):
        try:
            raw = base64.b64decode(str(data["evidence_base64"]), validate=True)
        except (binascii.Error, ValueError):
            message = _("Bukan base64 yang sah.")
            raise ValidationError(message, fields={"evidence_base64": [message]}) from None
        evidence = (raw, str(data.get("evidence_filename") or "tte.pdf")[:200])
    ops.record_signature(proposal, current_user, data.get("party_id"), data, evidence=evidence)
    db.session.commit()
    return jsonify(_state(proposal)), 201


@endpoint("/proposals/<int:proposal_id>/document.pdf", summary="The agreement as PDF",
          tag=TAG, params=[PROPOSAL_ID],
          description="The stored final PDF once signed, else a DRAF rendering (query "
                      "`kertas=f4|a4`).",
          responses={200: None, 404: "Error", 503: "Error"})
def get_document_pdf(proposal_id: int):
    from coopdesa.documents.views import serve_agreement

    return serve_agreement(_proposal(proposal_id))


@endpoint("/verify/<code>", summary="Public verification of a final document", tag=TAG,
          params=[path_param("code", "Verification code printed on the document")],
          responses={200: "Verification", 404: "Error", 429: "Error"}, public=True)
@limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
def verify_code(code: str):
    document = ops.find_by_code(code)
    if document is None:
        raise NotFoundError(_("Tidak ada dokumen dengan kode verifikasi itu."))
    info = ops.public_status(document)
    if request.args.get("sha256"):
        info["matches"] = request.args["sha256"].strip().lower() == (document.sha256 or "")
    return jsonify(info)
