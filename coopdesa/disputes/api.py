"""JSON API of the disputes area (PP 43/2014 Pasal 148)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, json_body, path_param
from coopdesa.api.openapi import SCHEMAS
from coopdesa.disputes import operations as ops
from coopdesa.disputes.models import Dispute, DisputeStep, Level, Outcome
from coopdesa.errors import NotFoundError
from coopdesa.extensions import db
from coopdesa.proposals import operations as proposal_ops

TAG = "disputes"
PROPOSAL_ID = path_param("proposal_id", "Proposal id", type_="integer")
DISPUTE_ID = path_param("dispute_id", "Dispute id", type_="integer")
OPEN_FIELDS = {"subject", "clauses", "description", "party_ids"}
STEP_FIELDS = {"level", "held_on", "place", "facilitator_name", "facilitator_office",
               "outcome", "summary", "terms", "court_name", "case_number", "signatories",
               "expected_version"}
WITHDRAW_FIELDS = {"reason", "expected_version"}

_str = {"type": "string"}
_nullable = {"type": ["string", "null"]}
SCHEMAS.update({
    "DisputeInput": {
        "type": "object", "additionalProperties": False,
        "required": ["subject", "clauses", "party_ids"],
        "properties": {
            "subject": {"type": "string", "maxLength": ops.MAX_SUBJECT},
            "clauses": {"type": "string", "description": "The Pasal/BAB concerned."},
            "description": _nullable,
            "party_ids": {"type": "array", "minItems": 2, "items": {"type": "integer"},
                          "description": "Ids of the agreement's parties in dispute."},
        },
    },
    "DisputeStepInput": {
        "type": "object", "additionalProperties": False,
        "required": ["level", "held_on", "place", "outcome", "summary"],
        "properties": {
            "level": {"type": "string", "enum": [v.value for v in Level]},
            "held_on": {"type": "string", "format": "date"},
            "place": {"type": "string", "maxLength": ops.MAX_PLACE},
            "facilitator_name": {"type": ["string", "null"], "maxLength": ops.MAX_NAME,
                                 "description": "Required for camat and bupati."},
            "facilitator_office": {"type": ["string", "null"], "maxLength": ops.MAX_NAME,
                                   "description": "Default and check: the official the "
                                                  "route names, e.g. \"Camat Kejajar\"."},
            "outcome": {"type": "string", "enum": [v.value for v in Outcome],
                        "description": "putusan only for pengadilan."},
            "summary": _str,
            "terms": {"type": ["string", "null"], "description": "Required when settled."},
            "court_name": {"type": ["string", "null"], "description": "pengadilan only."},
            "case_number": {"type": ["string", "null"], "description": "pengadilan only."},
            "signatories": {"type": "array", "description": "Required when settled: one per "
                            "disputing party.", "items": {"type": "object", "properties": {
                                "party_id": {"type": "integer"}, "name": _str,
                                "office": _str}}},
            "expected_version": {"type": "integer"},
        },
    },
    "DisputeWithdrawInput": {
        "type": "object", "additionalProperties": False, "required": ["reason"],
        "properties": {"reason": _str, "expected_version": {"type": "integer"}},
    },
    "Dispute": {
        "type": "object",
        "required": ["id", "proposal_id", "subject", "state", "parties", "route", "steps"],
        "properties": {
            "id": {"type": "integer"}, "proposal_id": {"type": "integer"},
            "subject": _str, "clauses": _str, "description": _nullable,
            "state": {"type": "string", "enum": ["open", "settled", "to_court", "withdrawn"]},
            "state_label": _str, "version": {"type": "integer"},
            "opened_at": {"type": "string", "format": "date-time"},
            "closed_at": _nullable, "close_reason": _nullable,
            "parties": {"type": "array", "items": {"type": "object", "properties": {
                "party_id": {"type": "integer"}, "name": _str, "desa_code": _nullable}}},
            "route": {"type": "array", "items": {"type": "object", "properties": {
                "level": _str, "label": _str, "official": _nullable,
                "optional": {"type": "boolean"},
                "status": {"type": "string", "enum": ["done", "current", "pending"]}}}},
            "steps": {"type": "array", "items": {"type": "object"}},
            "berita_acara_sha256": _nullable, "scan_sha256": _nullable,
        },
    },
    "DisputeList": {"type": "object", "required": ["items"],
                    "properties": {"items": {"type": "array",
                                             "items": {"$ref": "#/components/schemas/Dispute"}}}},
})


def _proposal(proposal_id: int):
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _dispute(dispute_id: int) -> Dispute:
    dispute = ops.get_dispute(dispute_id)
    if not access.can(current_user, Action.VIEW, dispute):
        raise NotFoundError(_("Perselisihan tidak ditemukan."))
    return dispute


def step_dict(s: DisputeStep) -> dict[str, Any]:
    return {"position": s.position, "level": s.level.value, "held_on": s.held_on.isoformat(),
            "place": s.place, "facilitator_name": s.facilitator_name,
            "facilitator_office": s.facilitator_office, "outcome": s.outcome.value,
            "summary": s.summary, "terms": s.terms, "court_name": s.court_name,
            "case_number": s.case_number, "signatories": list(s.signatories or [])}


def dispute_dict(d: Dispute) -> dict[str, Any]:
    return {
        "id": d.id, "proposal_id": d.proposal_id, "subject": d.subject, "clauses": d.clauses,
        "description": d.description, "state": d.state.value, "state_label": d.state.label,
        "version": d.version, "opened_at": d.opened_at.isoformat(),
        "closed_at": d.closed_at.isoformat() if d.closed_at else None,
        "close_reason": d.close_reason,
        "parties": [{"party_id": p.id, "name": p.name, "desa_code": p.desa_code}
                    for p in d.disputing_parties],
        "route": [{"level": r["level"].value, "label": str(r["label"]),
                   "official": r["official"], "optional": r["optional"],
                   "status": r["status"]} for r in ops.route_rows(d)],
        "steps": [step_dict(s) for s in d.steps],
        "berita_acara_sha256": d.berita_acara_sha256,
        "scan_sha256": d.scan.sha256 if d.scan else None,
    }


@endpoint("/proposals/<int:proposal_id>/disputes", summary="Disputes over an agreement",
          tag=TAG, params=[PROPOSAL_ID], responses={200: "DisputeList", 404: "Error"})
def list_disputes(proposal_id: int):
    proposal = _proposal(proposal_id)
    return jsonify({"items": [dispute_dict(d) for d in ops.disputes_of(proposal)]})


@endpoint("/proposals/<int:proposal_id>/disputes", method="POST", summary="Open a dispute",
          tag=TAG, params=[PROPOSAL_ID], body="DisputeInput",
          description="On an agreement that is signed, active or postponed, between at least "
                      "two of its parties. The route of PP 43/2014 Pasal 148 follows from "
                      "those parties.",
          responses={201: "Dispute", 403: "Error", 404: "Error", 409: "Error"})
def post_dispute(proposal_id: int):
    proposal = _proposal(proposal_id)
    dispute = ops.open_dispute(proposal, current_user, json_body(OPEN_FIELDS))
    db.session.commit()
    return jsonify(dispute_dict(dispute)), 201


@endpoint("/disputes/<int:dispute_id>", summary="One dispute with its route and steps",
          tag=TAG, params=[DISPUTE_ID], responses={200: "Dispute", 404: "Error"})
def get_dispute(dispute_id: int):
    return jsonify(dispute_dict(_dispute(dispute_id)))


@endpoint("/disputes/<int:dispute_id>/steps", method="POST",
          summary="Record the next settlement step", tag=TAG, params=[DISPUTE_ID],
          body="DisputeStepInput",
          description="The first step is always `musyawarah`. Then `camat` (villages of one "
                      "kecamatan), `bupati` (villages of different kecamatan) or, with a third "
                      "party, `pengadilan`. A settled step settles the dispute and renders "
                      "its berita acara.",
          responses={201: "Dispute", 403: "Error", 404: "Error", 409: "Error"})
def post_step(dispute_id: int):
    dispute = _dispute(dispute_id)
    ops.record_step(dispute, current_user, json_body(STEP_FIELDS))
    db.session.commit()
    return jsonify(dispute_dict(dispute)), 201


@endpoint("/disputes/<int:dispute_id>/withdraw", method="POST", summary="Withdraw a dispute",
          tag=TAG, params=[DISPUTE_ID], body="DisputeWithdrawInput",
          responses={200: "Dispute", 403: "Error", 404: "Error", 409: "Error"})
def post_withdraw(dispute_id: int):
    dispute = _dispute(dispute_id)
    data = json_body(WITHDRAW_FIELDS)
    ops.withdraw_dispute(dispute, current_user, data.get("reason"),
                         expected_version=data.get("expected_version"))
    db.session.commit()
    return jsonify(dispute_dict(dispute))


@endpoint("/disputes/<int:dispute_id>/berita-acara.pdf",
          summary="The berita acara of the settlement", tag=TAG, params=[DISPUTE_ID],
          responses={200: None, 404: "Error", 503: "Error"})
def get_berita_acara(dispute_id: int):
    from coopdesa.disputes.views import serve_berita_acara

    return serve_berita_acara(_dispute(dispute_id))
