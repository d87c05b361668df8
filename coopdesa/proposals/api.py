"""/api/v1/proposals: cooperation proposals, their parties, sections, lifecycle, review
comments, frozen versions and audit entries, on the same operations as the HTML pages.

Access (coopdesa.access): a proposal the caller may not read answers 404, exactly like one
that does not exist, so that a village never learns about another village's proposals
(and nobody learns about a draft but its authors). A proposal the caller may read but
not act on answers 403 with the reason. Writes name the ``version`` they were made on;
a stale one answers 409 with ``error.current`` (state, version) and ``error.changes``
(who saved what meanwhile). An illegal or stale transition answers 409 with
``error.current``; an incomplete submission 422 with ``error.fields`` naming the
missing sections.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, int_arg, json_body, path_param, query_param
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.proposals import sections as S
from coopdesa.proposals.diff import diff_snapshots
from coopdesa.proposals.models import (
    Bidang,
    Kind,
    PartyRole,
    Proposal,
    ProposalComment,
    ProposalParty,
    ProposalReview,
    ProposalVersion,
)
from coopdesa.proposals.queries import SORTS, ProposalFilters, list_proposals
from coopdesa.proposals.states import TRANSITIONS, State

TAG = "proposals"
#: The sections a PATCH may set (``jangka_waktu`` is start_date and end_date; rights,
#: obligations and funding belong to each party).
SECTION_FIELDS = ("title", "menimbang", "mengingat", "tujuan", "ruang_lingkup", "bidang",
                  "bidang_uraian", "tata_cara", "start_date", "end_date", "perubahan",
                  "perselisihan", "analisis_biaya_manfaat", "kerangka_acuan_kerja")
PARTY_FIELDS = ("role", "signatory_name", "signatory_office", "delegates", "hak",
                "kewajiban")
FUNDING_FIELDS = {"source", "amount", "apbdes_year", "description"}

_ID = path_param("proposal_id", "Proposal id.", type_="integer")
_PARTY = path_param("party_id", "Party id (within the proposal).", type_="integer")
_COMMENT = path_param("comment_id", "Comment id.", type_="integer")
PAGING_PARAMS = [
    query_param("page", "Page number.", type_="integer", minimum=1, maximum=10000),
    query_param("per_page", "Rows per page (1-100).", type_="integer", minimum=1,
                maximum=100),
]


# --- helpers -------------------------------------------------------------------------------

def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def readable_proposal(proposal_id: int) -> Proposal:
    """The proposal if the caller may read it; otherwise 404, as if it did not exist."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _required_version(data: dict[str, Any]) -> int:
    version = data.pop("version", None)
    if not isinstance(version, int) or isinstance(version, bool):
        message = _("Sertakan versi (bilangan bulat) yang Anda baca sebelum mengubah.")
        raise ValidationError(message, fields={"version": [message]})
    return version


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


def _string_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(key, _("Harus berupa daftar teks."))
    return value


def _int_list(data: dict[str, Any], key: str) -> list[int]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _invalid(key, _("Harus berupa daftar bilangan bulat."))
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(key, _("Harus berupa teks."))
    return value


def _user_ref(user) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "full_name": user.full_name}


# --- serialisation -------------------------------------------------------------------------

def funding_dict(f) -> dict[str, Any]:
    return {"id": f.id, "source": f.source.value, "source_label": f.source.label,
            "amount": f.amount, "apbdes_year": f.apbdes_year, "description": f.description}


def party_dict(party: ProposalParty, *, full: bool = True) -> dict[str, Any]:
    out = {"id": party.id, "actor_id": party.actor_id, "name": party.actor.name,
           "actor_kind": party.actor.kind.value, "desa_code": party.desa_code,
           "role": party.role.value, "role_label": party.role.label}
    if full:
        out.update({
            "position": party.position,
            "signatory_name": party.signatory_name,
            "signatory_office": party.signatory_office,
            "delegates": party.delegates,
            "hak": party.hak,
            "kewajiban": party.kewajiban,
            "funding": [funding_dict(f) for f in party.funding],
            "funding_total": sum(f.amount for f in party.funding),
        })
    return out


def proposal_summary(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.id, "ref": p.ref, "kind": p.kind.value, "kind_label": p.kind.label,
        "initiative": p.initiative.value, "state": p.state.value,
        "state_label": p.state.label, "title": p.title, "kabupaten_code": p.kabupaten_code,
        "bkad_id": p.bkad_id, "start_date": _iso(p.start_date), "end_date": _iso(p.end_date),
        "created_at": _iso(p.created_at), "updated_at": _iso(p.updated_at),
        "submitted_at": _iso(p.submitted_at), "version": p.version,
        "parties": [party_dict(party, full=False) for party in p.parties],
    }


def proposal_detail(p: Proposal, user) -> dict[str, Any]:
    reviews = db.session.scalars(
        sa.select(ProposalReview).where(ProposalReview.proposal_id == p.id)
        .options(joinedload(ProposalReview.reviewer)).order_by(ProposalReview.id)).all()
    sections: dict[str, Any] = {key: getattr(p, key) for key in S.TEXT_SECTIONS}
    sections.update(bidang=list(p.bidang or []), bidang_uraian=p.bidang_uraian,
                    start_date=_iso(p.start_date), end_date=_iso(p.end_date))
    editable = p.is_editable
    return {
        **proposal_summary(p),
        "sections": sections,
        "parties": [party_dict(party) for party in p.parties],
        "state_changed_at": _iso(p.state_changed_at),
        "ended_on": _iso(p.ended_on),
        "end_ground": p.end_ground.value if p.end_ground else None,
        "end_note": p.end_note,
        "is_editable": editable,
        "missing_sections": [{"key": s.key, "label": str(s.label)}
                             for s in S.missing_sections(p)],
        "submission_errors": ops.validate_for_submission(p) if editable else {},
        "available_transitions": [
            {"action": t.name, "label": str(t.label), "target": t.target.value,
             "needs_text": t.needs_text}
            for t in ops.available_transitions(p, user)],
        "permissions": {
            "edit": editable and access.can(user, Action.PROPOSE, p),
            "comment": access.can(user, Action.COMMENT, p),
            "read_audit": access.can(user, Action.READ_AUDIT, p),
        },
        "reviews": [{
            "id": r.id, "version_number": r.version_number, "judgment": r.judgment.value,
            "judgment_label": r.judgment.label, "points": list(r.points or []),
            "note": r.note, "reviewer": _user_ref(r.reviewer), "created_at": _iso(r.created_at),
        } for r in reviews],
    }


def comment_dict(c: ProposalComment) -> dict[str, Any]:
    return {
        "id": c.id, "proposal_id": c.proposal_id, "version_number": c.version_number,
        "section": c.section, "parent_id": c.parent_id, "author": _user_ref(c.author),
        "body": c.body, "created_at": _iso(c.created_at), "edited_at": _iso(c.edited_at),
        "editable_until": _iso(c.created_at + ops.COMMENT_EDIT_WINDOW),
        "struck_at": _iso(c.struck_at),
        "struck_by": c.struck_by.username if c.struck_by else None,
    }


def _detail_response(proposal: Proposal, status: int = 200):
    db.session.commit()
    return jsonify(proposal_detail(proposal, current_user)), status


# --- proposals -----------------------------------------------------------------------------

@endpoint(
    "/proposals", summary="Search the proposals the caller may read", tag=TAG,
    description="Scoped like the HTML list: a village's roles see their village's "
                "proposals (secretaries also their drafts), a BKAD its villages', an "
                "auditor those of the jurisdiction, an admin all.",
    params=[
        {"name": "state", "in": "query", "required": False, "style": "form", "explode": True,
         "description": "State; repeat the parameter to combine states.",
         "schema": {"type": "array", "items": {"type": "string",
                                               "enum": [s.value for s in State]}}},
        query_param("kind", "Kind of cooperation.", enum=[k.value for k in Kind]),
        query_param("bidang", "Field (UU 6/2014 Pasal 92(1)).",
                    enum=[b.value for b in Bidang]),
        query_param("desa", "A party desa code (PP.KK.CC.DDDD)."),
        query_param("kecamatan", "A kecamatan code: some party desa lies in it."),
        query_param("kabupaten", "The kabupaten/kota code of the parties."),
        query_param("actor", "A party actor id.", type_="integer"),
        query_param("date_from", "Term overlapping from this date.", format="date"),
        query_param("date_to", "Term overlapping up to this date.", format="date"),
        query_param("q", "Text in the title, or an exact reference.", maxLength=200),
        query_param("sort", "Order.", enum=list(SORTS)),
        *PAGING_PARAMS,
    ],
    responses={200: "ProposalPage", 422: "Error"},
)
def list_proposals_api():
    access.require(current_user, Action.LIST, "proposal")
    filters = ProposalFilters.parse(request.args)
    page = list_proposals(current_user, filters, page=int_arg("page", 1),
                          per_page=int_arg("per_page", 25, high=100))
    return jsonify({"items": [proposal_summary(p) for p in page.items], "total": page.total,
                    "page": page.page, "per_page": page.per_page, "pages": page.pages})


@endpoint("/proposals", method="POST", summary="Start a draft proposal", tag=TAG,
          description="A village secretary drafts for their own desa (an admin names it in "
                      "`own_desa_code`). Kelurahan and, for antar_desa, villages of another "
                      "kabupaten/kota are refused with the reason.",
          body="ProposalCreate", responses={201: "Proposal", 403: "Error", 422: "Error"})
def create_proposal_api():
    access.require(current_user, Action.CREATE, "proposal")
    data = json_body({"kind", "initiative", "title", "own_desa_code", "partner_desa_codes",
                      "third_party_actor_ids"})
    for key in ("kind", "initiative", "title", "own_desa_code"):
        _optional_text(data, key)
    proposal = ops.create_proposal(
        current_user, kind=data.get("kind") or "", initiative=data.get("initiative") or "",
        title=data.get("title") or "", own_desa_code=data.get("own_desa_code"),
        partner_desa_codes=_string_list(data, "partner_desa_codes"),
        third_party_actor_ids=_int_list(data, "third_party_actor_ids"),
    )
    return _detail_response(proposal, 201)


@endpoint("/proposals/<int:proposal_id>", summary="One proposal with its sections and parties",
          tag=TAG,
          description="Includes the transitions the caller may attempt now and the sections "
                      "still missing for submission.",
          params=[_ID], responses={200: "Proposal", 404: "Error"})
def get_proposal_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    return jsonify(proposal_detail(proposal, current_user))


@endpoint("/proposals/<int:proposal_id>", method="PATCH", summary="Save some sections",
          tag=TAG,
          description="Send any subset of the sections and the `version` you read. A draft "
                      "may stay incomplete. A stale version gets 409 with `error.current` "
                      "and `error.changes` (what others saved meanwhile); nothing is saved.",
          params=[_ID], body="ProposalSectionsInput",
          responses={200: "Proposal", 403: "Error", 404: "Error", 409: "Error", 422: "Error"})
def update_proposal_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.PROPOSE, proposal)
    data = json_body(set(SECTION_FIELDS) | {"version"})
    version = _required_version(data)
    ops.update_sections(proposal, current_user, data, expected_version=version)
    return _detail_response(proposal)


# --- parties -------------------------------------------------------------------------------

@endpoint("/proposals/<int:proposal_id>/parties", method="POST", summary="Add a party",
          tag=TAG,
          description="A desa (`desa_code`) or a registered actor (`actor_id`). Answers the "
                      "whole proposal, whose `version` has advanced.",
          params=[_ID], body="PartyInput",
          responses={201: "Proposal", 403: "Error", 404: "Error", 409: "Error", 422: "Error"})
def add_party_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.PROPOSE, proposal)
    data = json_body({"desa_code", "actor_id", "role", "signatory_name", "signatory_office"})
    for key in ("desa_code", "role", "signatory_name", "signatory_office"):
        _optional_text(data, key)
    actor_id = data.get("actor_id")
    if actor_id is not None and (not isinstance(actor_id, int) or isinstance(actor_id, bool)):
        raise _invalid("actor_id", _("Harus berupa bilangan bulat."))
    if not data.get("desa_code") and actor_id is None:
        message = _("Pilih desa atau pihak.")
        raise ValidationError(message, fields={"desa_code": [message], "actor_id": [message]})
    ops.add_party(proposal, current_user, desa_code=data.get("desa_code"), actor_id=actor_id,
                  role=data.get("role") or PartyRole.MITRA,
                  signatory_name=data.get("signatory_name"),
                  signatory_office=data.get("signatory_office"))
    return _detail_response(proposal, 201)


@endpoint("/proposals/<int:proposal_id>/parties/<int:party_id>", method="PATCH",
          summary="Change a party's role, signatory, delegates, rights and obligations",
          tag=TAG, params=[_ID, _PARTY], body="PartyUpdate",
          responses={200: "Proposal", 403: "Error", 404: "Error", 409: "Error", 422: "Error"})
def update_party_api(proposal_id: int, party_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.PROPOSE, proposal)
    data = json_body(set(PARTY_FIELDS) | {"version"})
    version = _required_version(data)
    ops.update_party(proposal, current_user, party_id, data, expected_version=version)
    return _detail_response(proposal)


@endpoint("/proposals/<int:proposal_id>/parties/<int:party_id>", method="DELETE",
          summary="Remove a party", tag=TAG,
          description="The author's own village cannot be removed (withdraw the proposal "
                      "instead). Answers the whole proposal.",
          params=[_ID, _PARTY],
          responses={200: "Proposal", 403: "Error", 404: "Error", 409: "Error", 422: "Error"})
def remove_party_api(proposal_id: int, party_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.PROPOSE, proposal)
    ops.remove_party(proposal, current_user, party_id)
    return _detail_response(proposal)


@endpoint("/proposals/<int:proposal_id>/parties/<int:party_id>/funding", method="PUT",
          summary="Replace a party's funding lines", tag=TAG,
          description="Whole Rupiah; an `apb_desa` source needs its `apbdes_year`. Errors "
                      "name the line: `funding-0-amount`.",
          params=[_ID, _PARTY], body="FundingUpdate",
          responses={200: "Proposal", 403: "Error", 404: "Error", 409: "Error", 422: "Error"})
def set_funding_api(proposal_id: int, party_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.PROPOSE, proposal)
    data = json_body({"version", "funding"})
    version = _required_version(data)
    rows = data.get("funding")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _invalid("funding", _("Harus berupa daftar objek sumber dana."))
    unknown: dict[str, list[str]] = {}
    for i, row in enumerate(rows):
        for key in sorted(set(row) - FUNDING_FIELDS):
            unknown[f"funding-{i}-{key}"] = [_("Kolom tidak dikenal.")]
    if unknown:
        raise ValidationError(_("Kolom tidak dikenal: %(names)s.", names=", ".join(unknown)),
                              fields=unknown)
    ops.set_funding(proposal, current_user, party_id, rows, expected_version=version)
    return _detail_response(proposal)


# --- lifecycle -----------------------------------------------------------------------------

@endpoint("/proposals/<int:proposal_id>/transitions", method="POST",
          summary="Move the proposal through its lifecycle", tag=TAG,
          description="`action` is one of: " + ", ".join(TRANSITIONS) + ". Send "
                      "`expected_state` to refuse a stale action. `points` are required for "
                      "request_changes and reject, `text` for withdraw, `ground` (PP 43/2014 "
                      "Pasal 147, a-i) for end. An illegal or stale action gets 409 with "
                      "`error.current`; an incomplete submission 422 with `error.fields`.",
          params=[_ID], body="TransitionInput",
          responses={200: "Proposal", 403: "Error", 404: "Error", 409: "Error", 422: "Error"})
def transition_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    data = json_body({"action", "expected_state", "text", "points", "ground", "ended_on"})
    for key in ("action", "expected_state", "text", "ground", "ended_on"):
        _optional_text(data, key)
    action = data.get("action")
    if not action:
        raise _invalid("action", _("Sebutkan tindakan (action)."))
    ops.transition(proposal, current_user, action, expected_state=data.get("expected_state"),
                   text=data.get("text"), points=_string_list(data, "points"),
                   ground=data.get("ground"), ended_on=data.get("ended_on"))
    return _detail_response(proposal)


# --- comments ------------------------------------------------------------------------------

@endpoint("/proposals/<int:proposal_id>/comments", summary="The review comments, in order",
          tag=TAG,
          description="Struck comments stay, with `struck_at`; replies name `parent_id`.",
          params=[_ID], responses={200: "CommentList", 404: "Error"})
def list_comments_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    comments = db.session.scalars(
        sa.select(ProposalComment).where(ProposalComment.proposal_id == proposal.id)
        .options(joinedload(ProposalComment.author), joinedload(ProposalComment.struck_by))
        .order_by(ProposalComment.id)).all()
    return jsonify({"items": [comment_dict(c) for c in comments]})


@endpoint("/proposals/<int:proposal_id>/comments", method="POST", summary="Comment or reply",
          tag=TAG, params=[_ID], body="CommentInput",
          responses={201: "Comment", 403: "Error", 404: "Error", 422: "Error"})
def add_comment_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    data = json_body({"section", "parent_id", "body"})
    _optional_text(data, "section")
    parent_id = data.get("parent_id")
    if parent_id is not None and (not isinstance(parent_id, int) or isinstance(parent_id, bool)):
        raise _invalid("parent_id", _("Harus berupa bilangan bulat."))
    comment = ops.add_comment(proposal, current_user, data.get("body") or "",
                              section=data.get("section"), parent_id=parent_id)
    db.session.commit()
    return jsonify(comment_dict(comment)), 201


@endpoint("/proposals/<int:proposal_id>/comments/<int:comment_id>", method="PATCH",
          summary="Correct one's own comment (within 15 minutes)", tag=TAG,
          description="After 15 minutes a comment is never edited (409); write a new one.",
          params=[_ID, _COMMENT], body="CommentEdit",
          responses={200: "Comment", 403: "Error", 404: "Error", 409: "Error", 422: "Error"})
def edit_comment_api(proposal_id: int, comment_id: int):
    proposal = readable_proposal(proposal_id)
    data = json_body({"body"})
    _optional_text(data, "body")
    comment = ops.edit_comment(proposal, current_user, comment_id, data.get("body") or "")
    db.session.commit()
    return jsonify(comment_dict(comment))


@endpoint("/proposals/<int:proposal_id>/comments/<int:comment_id>/strike", method="POST",
          summary="Strike a comment through (comments are never deleted)", tag=TAG,
          params=[_ID, _COMMENT], responses={200: "Comment", 403: "Error", 404: "Error"})
def strike_comment_api(proposal_id: int, comment_id: int):
    proposal = readable_proposal(proposal_id)
    comment = ops.strike_comment(proposal, current_user, comment_id)
    db.session.commit()
    return jsonify(comment_dict(comment))


# --- versions ------------------------------------------------------------------------------

def _version_dict(v: ProposalVersion, *, snapshot: bool = False) -> dict[str, Any]:
    out = {"number": v.number, "created_at": _iso(v.created_at),
           "created_by": _user_ref(v.created_by)}
    if snapshot:
        out["snapshot"] = v.snapshot
    return out


def _version(proposal: Proposal, number: int, field: str | None = None) -> ProposalVersion:
    version = db.session.scalar(
        sa.select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id,
                                         ProposalVersion.number == number))
    if version is None:
        raise NotFoundError(_("Versi %(n)d tidak ada pada usulan ini.", n=number),
                            fields={field: [_("Versi tidak ada.")]} if field else None)
    return version


@endpoint("/proposals/<int:proposal_id>/versions",
          summary="The versions frozen at each submission", tag=TAG, params=[_ID],
          responses={200: "VersionList", 404: "Error"})
def list_versions_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    versions = db.session.scalars(
        sa.select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
        .options(joinedload(ProposalVersion.created_by)).order_by(ProposalVersion.number)
    ).all()
    return jsonify({"items": [_version_dict(v) for v in versions]})


@endpoint("/proposals/<int:proposal_id>/versions/<int:number>",
          summary="One frozen version: every section as text", tag=TAG,
          params=[_ID, path_param("number", "Version number (1, 2, ...).", type_="integer")],
          responses={200: "Version", 404: "Error"})
def get_version_api(proposal_id: int, number: int):
    proposal = readable_proposal(proposal_id)
    return jsonify(_version_dict(_version(proposal, number), snapshot=True))


@endpoint("/proposals/<int:proposal_id>/diff", summary="Compare two versions section by section",
          tag=TAG,
          description="`html` is the new text with removed words in <del> and inserted words "
                      "in <ins>, every piece escaped. Without `a` and `b`: the last version "
                      "against the one before.",
          params=[_ID,
                  query_param("a", "The older version number.", type_="integer", minimum=1),
                  query_param("b", "The newer version number.", type_="integer", minimum=1)],
          responses={200: "Diff", 404: "Error", 422: "Error"})
def diff_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    latest = db.session.scalar(sa.select(sa.func.max(ProposalVersion.number))
                               .where(ProposalVersion.proposal_id == proposal.id))
    if latest is None:
        raise NotFoundError(_("Usulan ini belum pernah diajukan, jadi belum ada versi untuk "
                              "dibandingkan."))
    b = int_arg("b", latest)
    a = int_arg("a", max(1, b - 1))
    old, new = _version(proposal, a, "a"), _version(proposal, b, "b")
    return jsonify({"a": a, "b": b, "sections": [
        {"key": d.key, "label": d.label, "changed": d.changed, "old": d.old, "new": d.new,
         "html": str(d.html)}
        for d in diff_snapshots(old.snapshot, new.snapshot)]})
