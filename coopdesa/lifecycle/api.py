"""JSON API of life after signing: change requests and their decisions, addenda, and ending
on the expiry of the term (PP 43/2014 Pasal 145-147)."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, json_body, path_param
from coopdesa.api.openapi import SCHEMAS
from coopdesa.errors import NotFoundError
from coopdesa.extensions import db
from coopdesa.lifecycle import operations as ops
from coopdesa.proposals import operations as proposal_ops

TAG = "lifecycle"
PROPOSAL_ID = path_param("proposal_id", "Proposal id", type_="integer")
CHANGE_ID = path_param("change_id", "Change request id", type_="integer")
_STR = {"type": ["string", "null"]}

SCHEMAS.update({
    "AgreementChange": {"type": "object", "properties": {
        "id": {"type": "integer"}, "proposal_id": {"type": "integer"},
        "kind": {"type": "string",
                 "enum": ["penundaan", "pelanjutan", "pembatalan", "pengakhiran"]},
        "kind_label": {"type": "string"},
        "state": {"type": "string",
                  "enum": ["requested", "approved", "applied", "rejected", "withdrawn"]},
        "state_label": {"type": "string"}, "reason": {"type": "string"},
        "end_ground": _STR, "replacement_id": {"type": ["integer", "null"]},
        "replacement_ref": _STR, "requested_at": {"type": "string"},
        "held_on": _STR, "place": _STR,
        "representatives": {"type": "array", "items": {"type": "object", "properties": {
            "party_id": {"type": "integer"}, "party": {"type": "string"},
            "name": {"type": "string"}, "office": {"type": "string"}}}},
        "decision_note": _STR, "effective_on": _STR, "until": _STR, "decided_at": _STR,
        "applied_at": _STR, "withdrawn_note": _STR, "version": {"type": "integer"}}},
    "AgreementStatus": {"type": "object", "properties": {
        "proposal_id": {"type": "integer"}, "ref": {"type": "string"},
        "state": {"type": "string"}, "amends_id": {"type": ["integer", "null"]},
        "addendum_id": {"type": "integer", "description": "The new draft (POST addendum)."},
        "effective_end": _STR,
        "addenda": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "ref": {"type": "string"},
            "seq": {"type": "integer"}, "state": {"type": "string"}}}},
        "changes": {"type": "array", "items": {"$ref": "#/components/schemas/"
                                                        "AgreementChange"}}}},
    "ChangeRequestInput": {"type": "object", "required": ["kind", "reason"], "properties": {
        "kind": {"type": "string",
                 "enum": ["penundaan", "pelanjutan", "pembatalan", "pengakhiran"]},
        "reason": {"type": "string", "maxLength": 10000},
        "end_ground": {"type": "string", "enum": list("abcdefgh"),
                       "description": "PP 43/2014 Pasal 147; pembatalan and pengakhiran."},
        "replacement_ref": {"type": "string",
                            "description": "Ground e: the replacing agreement's ref."}}},
    "ChangeDecisionInput": {
        "type": "object",
        "required": ["outcome", "held_on", "place", "representatives"],
        "properties": {
            "outcome": {"type": "string", "enum": ["approved", "rejected"]},
            "held_on": {"type": "string", "format": "date"},
            "place": {"type": "string", "maxLength": 200},
            "representatives": {
                "type": "array",
                "description": "One per party bound by the agreement (Pasal 145).",
                "items": {"type": "object", "required": ["party_id", "name", "office"],
                          "properties": {"party_id": {"type": "integer"},
                                         "name": {"type": "string", "maxLength": 120},
                                         "office": {"type": "string", "maxLength": 120}}}},
            "effective_on": {"type": "string", "format": "date"},
            "until": {"type": "string", "format": "date"},
            "decision_note": {"type": "string", "maxLength": 10000},
            "version": {"type": "integer"}}},
    "WithdrawInput": {"type": "object", "required": ["note"], "properties": {
        "note": {"type": "string", "maxLength": 10000}}},
})


def _proposal(proposal_id: int):
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _change(change_id: int):
    change = ops.get_change(change_id)
    if not access.can(current_user, Action.VIEW, change.proposal):
        raise NotFoundError(_("Permohonan perubahan status tidak ditemukan."))
    return change


def _status(proposal) -> dict:
    root = ops.root_of(proposal)
    end = ops.effective_end(root)
    return {"proposal_id": root.id, "ref": root.ref, "state": root.state.value,
            "amends_id": proposal.amends_id,
            "effective_end": end.isoformat() if end else None,
            "addenda": [{"id": a.id, "ref": a.ref, "seq": a.amendment_seq,
                         "state": a.state.value} for a in ops.addenda_of(root)],
            "changes": [ops.change_dict(c) for c in ops.changes_of(root)]}


@endpoint("/proposals/<int:proposal_id>/changes", summary="Status, addenda and change requests",
          tag=TAG, params=[PROPOSAL_ID], responses={200: "AgreementStatus", 404: "Error"})
def get_agreement_changes(proposal_id: int):
    return jsonify(_status(_proposal(proposal_id)))


@endpoint("/proposals/<int:proposal_id>/changes", method="POST",
          summary="Request a postponement, resumption, cancellation or ending", tag=TAG,
          params=[PROPOSAL_ID], body="ChangeRequestInput",
          description="Nothing changes until the decision of a deliberation with every bound "
                      "party is recorded (POST /changes/{change_id}/decision).",
          responses={201: "AgreementChange", 403: "Error", 404: "Error", 409: "Error"})
def post_agreement_change(proposal_id: int):
    proposal = _proposal(proposal_id)
    data = json_body({"kind", "reason", "end_ground", "replacement_ref"})
    change = ops.request_change(proposal, current_user, data)
    db.session.commit()
    return jsonify(ops.change_dict(change)), 201


@endpoint("/changes/<int:change_id>", summary="One change request", tag=TAG,
          params=[CHANGE_ID], responses={200: "AgreementChange", 404: "Error"})
def get_agreement_change(change_id: int):
    return jsonify(ops.change_dict(_change(change_id)))


@endpoint("/changes/<int:change_id>/decision", method="POST",
          summary="Record the deliberation and its decision", tag=TAG, params=[CHANGE_ID],
          body="ChangeDecisionInput",
          description="An approved change takes effect on `effective_on` (at once when that "
                      "is today or earlier; otherwise `flask coopdesa lifecycle` applies it).",
          responses={200: "AgreementChange", 403: "Error", 404: "Error", 409: "Error"})
def post_change_decision(change_id: int):
    change = _change(change_id)
    data = json_body({"outcome", "held_on", "place", "representatives", "effective_on",
                      "until", "decision_note", "version"})
    ops.decide_change(change, current_user, data)
    db.session.commit()
    return jsonify(ops.change_dict(change))


@endpoint("/changes/<int:change_id>/withdraw", method="POST",
          summary="Withdraw an undecided request", tag=TAG, params=[CHANGE_ID],
          body="WithdrawInput",
          responses={200: "AgreementChange", 403: "Error", 404: "Error", 409: "Error"})
def post_change_withdraw(change_id: int):
    change = _change(change_id)
    data = json_body({"note"})
    ops.withdraw_change(change, current_user, data.get("note"))
    db.session.commit()
    return jsonify(ops.change_dict(change))


@endpoint("/proposals/<int:proposal_id>/addendum", method="POST",
          summary="Start an addendum (perubahan)", tag=TAG, params=[PROPOSAL_ID],
          description="Creates a draft with the agreement's content in force; it goes "
                      "through review, musyawarah and signing like any proposal.",
          responses={201: "AgreementStatus", 403: "Error", 404: "Error", 409: "Error"})
def post_agreement_addendum(proposal_id: int):
    proposal = _proposal(proposal_id)
    addendum = ops.start_addendum(proposal, current_user)
    db.session.commit()
    return jsonify({**_status(proposal), "addendum_id": addendum.id}), 201


@endpoint("/proposals/<int:proposal_id>/end-on-expiry", method="POST",
          summary="End an agreement whose term has expired (Pasal 147 huruf i)", tag=TAG,
          params=[PROPOSAL_ID],
          responses={200: "AgreementStatus", 403: "Error", 404: "Error", 409: "Error"})
def post_agreement_end_on_expiry(proposal_id: int):
    proposal = _proposal(proposal_id)
    ops.end_on_expiry(proposal, current_user)
    db.session.commit()
    return jsonify(_status(proposal))
