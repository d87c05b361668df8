"""/api/v1 musyawarah endpoints: meetings, attendance, decisions, adjournment, a proposal's
meetings and the quorum rules, on the same operations as the HTML pages.

A meeting the caller may not read answers 404, exactly like one that does not exist; one
the caller may read but not record answers 403 with the reason. Refused input answers 422
with ``error.fields``; a decision the meeting cannot take (no quorum, adjourned, already
decided) answers 409.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, json_body, path_param
from coopdesa.deliberations import operations as ops
from coopdesa.deliberations.models import Meeting, QuorumRule
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.api import readable_proposal

TAG = "deliberations"
_MEETING = path_param("meeting_id", "Meeting id.", type_="integer")
_ITEM = path_param("item_id", "Agenda item id (within the meeting).", type_="integer")
_PROPOSAL = path_param("proposal_id", "Proposal id.", type_="integer")
_KIND = path_param("kind", "Meeting kind.", enum=["musyawarah_desa", "musyawarah_antar_desa"])

MEETING_FIELDS = {"kind", "held_at", "place", "organiser", "chair_name", "secretary_name",
                  "desa_code", "villages", "proposal_ids", "notes", *ops.SIGNATORY_FIELDS}
ATTENDEE_FIELDS = {"name", "element", "element_note", "gender", "desa_code", "invited",
                   "present", "is_observer"}
DECISION_FIELDS = {"method", "ballot", "votes_for", "votes_against", "votes_abstain",
                   "outcome", "changes", "notes"}


def _readable(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not access.can(current_user, Action.VIEW, meeting):
        raise NotFoundError(_("Musyawarah tidak ditemukan."))
    return meeting


def meeting_dict(meeting: Meeting) -> dict[str, Any]:
    scan = meeting.scan
    return {
        "id": meeting.id, "kind": meeting.kind.value, "kind_label": meeting.kind.label,
        "title": ops.meeting_title(meeting), "desa_code": meeting.desa_code,
        "villages": meeting.desa_codes, "held_at": meeting.held_at.isoformat(),
        "place": meeting.place, "organiser": meeting.organiser,
        "chair_name": meeting.chair_name, "secretary_name": meeting.secretary_name,
        "notes": meeting.notes, "adjourned": meeting.adjourned,
        "quorum": {
            "numerator": meeting.quorum_numerator, "denominator": meeting.quorum_denominator,
            "voting_invited": len(meeting.voting_invitees),
            "voting_present": len(meeting.voting_present),
            "needed": meeting.quorum_needed, "met": meeting.quorum_met,
            "text": ops.quorum_text(meeting),
        },
        "gender_counts": meeting.gender_counts(),
        "attendees": [{"id": a.id, **ops._attendee_dict(a)} for a in meeting.attendees],
        "agenda": [{**item.to_dict(), "proposal_ref": item.proposal.ref,
                    "outcome_label": item.outcome.label if item.outcome else None}
                   for item in meeting.agenda],
        "signatories": {k.removeprefix("signed_"): getattr(meeting, k)
                        for k in ops.SIGNATORY_FIELDS},
        "scan": None if scan is None else {
            "original_name": scan.original_name, "content_type": scan.content_type,
            "size": scan.size, "sha256": scan.sha256,
            "download_url": url_for("deliberations.download_scan", meeting_id=meeting.id),
        },
        "version": meeting.version,
        "created_at": meeting.created_at.isoformat() if meeting.created_at else None,
    }


def _rule_dict(rule: QuorumRule) -> dict[str, Any]:
    return {"meeting_kind": rule.meeting_kind.value, "numerator": rule.numerator,
            "denominator": rule.denominator, "basis": rule.basis}


@endpoint("/meetings", method="POST", summary="Record a musyawarah with its agenda", tag=TAG,
          body="MeetingCreate", responses={201: "Meeting", 403: None},
          description="Musyawarah Desa: `desa_code` (recorded by that village's secretary). "
                      "Musyawarah antar-Desa: `villages` (2+ desa of one kabupaten; a "
                      "secretary of one of them or a member of the reviewing BKAD). Every "
                      "proposal in `proposal_ids` must await deliberation and involve the "
                      "meeting's villages. The current quorum rule is copied onto the "
                      "meeting.")
def create_meeting():
    data = json_body(MEETING_FIELDS)
    meeting = ops.record_meeting(current_user, data)
    db.session.commit()
    return jsonify(meeting_dict(meeting)), 201


@endpoint("/meetings/<int:meeting_id>", summary="A musyawarah", tag=TAG, params=[_MEETING],
          responses={200: "Meeting", 404: None})
def get_meeting(meeting_id: int):
    return jsonify(meeting_dict(_readable(meeting_id)))


@endpoint("/meetings/<int:meeting_id>/attendance", method="PUT",
          summary="Replace the attendance list", tag=TAG, params=[_MEETING],
          body="AttendanceInput", responses={200: "Meeting", 403: None, 404: None, 409: None},
          description="All rows or none are saved. Errors name `attendees-<i>-<field>`.")
def put_attendance(meeting_id: int):
    meeting = _readable(meeting_id)
    access.require(current_user, Action.EDIT, meeting)  # before the body: 403, not 422
    data = json_body({"attendees"})
    rows = data.get("attendees")
    if not isinstance(rows, list):
        message = _("Sertakan attendees: daftar peserta.")
        raise ValidationError(message, fields={"attendees": [message]})
    for i, row in enumerate(rows):
        unknown = sorted(set(row) - ATTENDEE_FIELDS) if isinstance(row, dict) else []
        if unknown:
            message = _("Kolom tidak dikenal: %(names)s.", names=", ".join(unknown))
            raise ValidationError(message, fields={f"attendees-{i}-{unknown[0]}": [message]})
    ops.set_attendance(meeting, current_user, rows)
    db.session.commit()
    return jsonify(meeting_dict(meeting))


@endpoint("/meetings/<int:meeting_id>/agenda/<int:item_id>/decision", method="POST",
          summary="Record the decision on an agenda item", tag=TAG, params=[_MEETING, _ITEM],
          body="DecisionInput", responses={200: "Meeting", 403: None, 404: None, 409: None},
          description="Refused (409) without quorum, on an adjourned or already decided "
                      "item; (422) when the meeting is dated in the future, when vote totals "
                      "exceed the voting members present or a vote has no counts. `rejected` "
                      "moves the proposal to rejected, `agreed_with_changes` back to "
                      "changes_requested, both citing the meeting.")
def post_decision(meeting_id: int, item_id: int):
    meeting = _readable(meeting_id)
    data = json_body(DECISION_FIELDS)
    ops.record_decision(meeting, current_user, item_id, data)
    db.session.commit()
    return jsonify(meeting_dict(meeting))


@endpoint("/meetings/<int:meeting_id>/adjourn", method="POST",
          summary="Record the meeting as held and adjourned for want of quorum", tag=TAG,
          params=[_MEETING], body="AdjournInput",
          responses={200: "Meeting", 403: None, 404: None, 409: None})
def post_adjourn(meeting_id: int):
    meeting = _readable(meeting_id)
    data = json_body({"notes"})
    ops.adjourn(meeting, current_user, data.get("notes"))
    db.session.commit()
    return jsonify(meeting_dict(meeting))


@endpoint("/meetings/<int:meeting_id>/signatories", method="PATCH",
          summary="Names signing the berita acara", tag=TAG, params=[_MEETING],
          body="SignatoriesInput", responses={200: "Meeting", 403: None, 404: None})
def patch_signatories(meeting_id: int):
    meeting = _readable(meeting_id)
    data = json_body(set(ops.SIGNATORY_FIELDS))
    ops.set_signatories(meeting, current_user, data)
    db.session.commit()
    return jsonify(meeting_dict(meeting))


@endpoint("/proposals/<int:proposal_id>/meetings", summary="A proposal's musyawarah", tag=TAG,
          params=[_PROPOSAL], responses={200: "ProposalMeetings", 404: None},
          description="Its meetings (newest first) and what the agree gate still needs.")
def proposal_meetings(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    meetings = [m for m in ops.meetings_of(proposal) if access.can(current_user, Action.VIEW, m)]
    needs = ops.gate_needs(proposal)
    return jsonify({
        "items": [meeting_dict(m) for m in meetings],
        "gate": {
            "satisfied": all(n.satisfied for n in needs),
            "message": ops.gate_refusal(proposal),
            "needs": [{"kind": n.kind.value, "desa_code": n.desa_code, "label": n.label,
                       "satisfied": n.satisfied, "status": n.status,
                       "meeting_id": n.item.meeting_id if n.item else None} for n in needs],
        },
    })


@endpoint("/quorum-rules", summary="Quorum rules per meeting kind", tag=TAG,
          responses={200: "QuorumRuleList"})
def quorum_rules():
    access.require(current_user, Action.LIST, "quorum_rule")
    return jsonify({"items": [_rule_dict(r) for r in ops.list_rules()]})


@endpoint("/quorum-rules/<kind>", method="PUT", summary="Change a quorum rule (admins)",
          tag=TAG, params=[_KIND], body="QuorumRuleInput",
          responses={200: "QuorumRule", 403: None, 404: None},
          description="Meetings already recorded keep the rule copied when recorded.")
def put_quorum_rule(kind: str):
    data = json_body({"numerator", "denominator", "basis"})
    rule = ops.set_quorum_rule(current_user, kind, data)
    db.session.commit()
    return jsonify(_rule_dict(rule))
