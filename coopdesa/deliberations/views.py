"""The musyawarah pages: record a meeting from a proposal, its attendance, decisions,
adjournment, berita acara signatories and scan. Each handler loads, checks access, calls
deliberations.operations and commits once; the rules live in the operations."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action
from coopdesa.db import utcnow
from coopdesa.deliberations import operations as ops
from coopdesa.deliberations.forms import (
    AdjournForm,
    AttendanceMarker,
    DecisionForm,
    MeetingForm,
    QuorumRuleForm,
    ScanForm,
    SignatoriesForm,
)
from coopdesa.deliberations.models import ELEMENT_LABELS, Element, Meeting, MeetingKind
from coopdesa.errors import DomainError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.files.views import send_stored
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.forms import options
from coopdesa.proposals.models import Kind, Proposal
from coopdesa.proposals.states import State
from coopdesa.proposals.views import detail_panel, place_errors

bp = Blueprint("deliberations", __name__, url_prefix="/musyawarah")

BLANK_ROWS = 5
ATTENDEE_FIELDS = ("name", "element", "element_note", "gender", "desa_code")
ATTENDEE_FLAGS = ("invited", "present", "is_observer")


def _load(meeting_id: int, action: Action = Action.VIEW) -> Meeting:
    """The meeting if the user may read it (else the same 404 as a missing one)."""
    meeting = ops.get_meeting(meeting_id)
    if not access.can(current_user, Action.VIEW, meeting):
        raise NotFoundError(_("Musyawarah tidak ditemukan."))
    access.require(current_user, action, meeting)
    return meeting


# --- the proposal page panel ---------------------------------------------------------------

@detail_panel
def _proposal_panel(proposal: Proposal, user: Any):
    meetings = [m for m in ops.meetings_of(proposal) if access.can(user, Action.VIEW, m)]
    waiting = proposal.state == State.AWAITING_DELIBERATION
    if not meetings and not waiting:
        return None
    may_record = waiting and access.can(user, Action.CREATE, "meeting") and (
        access.can(user, Action.PROPOSE, proposal) or access.can(user, Action.REVIEW, proposal))
    rows = []
    for m in meetings:
        item = next(i for i in m.agenda if i.proposal_id == proposal.id)
        rows.append({"meeting": m, "item": item, "title": ops.meeting_title(m)})
    needs = ops.gate_needs(proposal) if waiting else []
    return "deliberations/_panel.html", {
        "proposal": proposal, "rows": rows, "needs": needs, "may_record": may_record,
        "waiting": waiting}


# --- recording a meeting -------------------------------------------------------------------

def _proposal_from_args() -> Proposal:
    raw = request.values.get("usulan", "")
    if not raw.isdigit():
        abort(404)
    proposal = proposal_ops.get_proposal(int(raw))
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


@bp.route("/baru", methods=["GET", "POST"])
@login_required
def create():
    access.require(current_user, Action.CREATE, "meeting")
    proposal = _proposal_from_args()
    form = MeetingForm()
    villages = [(c, ops.village_name(c)) for c in proposal.desa_codes]
    own = [(c, n) for c, n in villages if getattr(current_user, "desa_code", None) == c]
    form.desa_code.choices = options(own or villages)
    form.villages.choices = options(villages)
    form.proposal_ids.choices = options([(proposal.id, f"{proposal.ref} {proposal.title}")])
    if request.method == "GET":
        desa_first = bool(own) or proposal.kind != Kind.ANTAR_DESA
        form.kind.data = (MeetingKind.MUSYAWARAH_DESA if desa_first
                          else MeetingKind.MUSYAWARAH_ANTAR_DESA).value
        form.villages.data = [c for c, _n in villages]
        form.proposal_ids.data = [str(proposal.id)]
    if form.validate_on_submit():
        data = {k: form[k].data for k in ("kind", "held_at", "place", "organiser",
                                          "chair_name", "secretary_name", "notes")}
        data["desa_code"] = form.desa_code.data
        data["villages"] = list(form.villages.data or [])
        data["proposal_ids"] = list(form.proposal_ids.data or [])
        try:
            meeting = ops.record_meeting(current_user, data)
        except (ValidationError, DomainError) as error:
            db.session.rollback()
            place_errors(form, error)
        else:
            db.session.commit()
            flash(_("Musyawarah dicatat. Isi daftar hadir, lalu catat keputusannya."),
                  "success")
            return redirect(url_for("deliberations.detail", meeting_id=meeting.id))
    status = 422 if form.errors else 200
    return render_template("deliberations/new.html", form=form, proposal=proposal), status


# --- the meeting page ----------------------------------------------------------------------

def _rows_from_meeting(meeting: Meeting) -> list[dict[str, Any]]:
    return [{"name": a.name, "element": a.element.value, "element_note": a.element_note or "",
             "gender": a.gender.value, "desa_code": a.desa_code, "invited": a.invited,
             "present": a.present, "is_observer": a.is_observer} for a in meeting.attendees]


def _blank_row(meeting: Meeting) -> dict[str, Any]:
    return {"name": "", "element": "", "element_note": "", "gender": "",
            "desa_code": meeting.desa_code or "", "invited": True, "present": False,
            "is_observer": False}


def _rows_from_form(meeting: Meeting) -> list[dict[str, Any]]:
    """The typed rows, blank ones left out (their numbers re-counted)."""
    indices = sorted({int(k.split("-")[1]) for k in request.form
                      if k.startswith("attendees-") and k.count("-") == 2
                      and k.split("-")[1].isdigit()})
    rows = []
    for i in indices[:ops.MAX_ATTENDEES + BLANK_ROWS]:
        row: dict[str, Any] = {f: (request.form.get(f"attendees-{i}-{f}") or "").strip()
                               for f in ATTENDEE_FIELDS}
        if not row["name"] and not row["element_note"]:
            continue  # an unused row
        for flag in ATTENDEE_FLAGS:
            row[flag] = bool(request.form.get(f"attendees-{i}-{flag}"))
        rows.append(row)
    return rows


def _render(meeting: Meeting, *, status: int = 200, rows: list[dict] | None = None,
            row_errors: dict[str, list[str]] | None = None, extra_rows: int = BLANK_ROWS,
            decision_forms: dict[int, DecisionForm] | None = None,
            signatories: SignatoriesForm | None = None, scan_form: ScanForm | None = None,
            adjourn_form: AdjournForm | None = None):
    may_edit = access.can(current_user, Action.EDIT, meeting)
    rows = list(rows if rows is not None else _rows_from_meeting(meeting))
    rows += [_blank_row(meeting) for _i in range(extra_rows)]
    forms = {}
    for item in meeting.agenda:
        form = (decision_forms or {}).get(item.id) or DecisionForm(
            prefix=f"d{item.id}", formdata=None)
        forms[item.id] = form
    if signatories is None:
        signatories = SignatoriesForm(formdata=None, obj=meeting)
        signatories.signed_chair.data = signatories.signed_chair.data or meeting.chair_name
        signatories.signed_secretary.data = (signatories.signed_secretary.data
                                             or meeting.secretary_name)
    elements = [(e.value, ELEMENT_LABELS[e]) for e in Element
                if e != Element.DELEGASI_DESA or meeting.kind == MeetingKind.MUSYAWARAH_ANTAR_DESA]
    decided = any(i.is_decided for i in meeting.agenda)
    return render_template(
        "deliberations/detail.html", meeting=meeting, title=ops.meeting_title(meeting),
        quorum=ops.quorum_text(meeting), counts=meeting.gender_counts(), may_edit=may_edit,
        rows=rows, row_errors=row_errors or {}, elements=elements,
        villages=[(c, ops.village_name(c)) for c in meeting.desa_codes],
        decision_forms=forms, signatories=signatories, scan_form=scan_form or ScanForm(),
        adjourn_form=adjourn_form or AdjournForm(formdata=None),
        attendance_marker=AttendanceMarker(formdata=None), decided=decided,
        future=meeting.held_at > utcnow(),
        agenda_proposals={i.id: i.proposal for i in meeting.agenda},
    ), status


@bp.route("/<int:meeting_id>")
@login_required
def detail(meeting_id: int):
    return _render(_load(meeting_id))


@bp.route("/<int:meeting_id>/hadir", methods=["POST"])
@login_required
def attendance(meeting_id: int):
    meeting = _load(meeting_id, Action.EDIT)
    rows = _rows_from_form(meeting)
    if request.form.get("add_rows"):
        # More rows asked for: nothing saved, the typed rows come back with blanks after.
        return _render(meeting, rows=rows, extra_rows=BLANK_ROWS * 2)
    try:
        ops.set_attendance(meeting, current_user, rows)
    except ValidationError as error:
        db.session.rollback()
        meeting = _load(meeting_id, Action.EDIT)
        flash(_("Daftar hadir belum disimpan: %(message)s", message=error.message), "danger")
        return _render(meeting, status=422, rows=rows, row_errors=error.fields)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _render(_load(meeting_id), status=error.status, rows=rows)
    db.session.commit()
    flash(_("Daftar hadir disimpan: %(q)s.", q=ops.quorum_text(meeting)), "success")
    return redirect(url_for("deliberations.detail", meeting_id=meeting.id, _anchor="hadir"))


@bp.route("/<int:meeting_id>/agenda/<int:item_id>/keputusan", methods=["POST"])
@login_required
def decide(meeting_id: int, item_id: int):
    meeting = _load(meeting_id, Action.EDIT)
    form = DecisionForm(prefix=f"d{item_id}")
    form.validate_on_submit()  # only parses; the operation decides
    data = {
        "method": form.method.data, "ballot": form.ballot.data,
        "votes_for": form.votes_for.raw_data[0] if form.votes_for.raw_data else None,
        "votes_against": form.votes_against.raw_data[0] if form.votes_against.raw_data
        else None,
        "votes_abstain": form.votes_abstain.raw_data[0] if form.votes_abstain.raw_data
        else None,
        "outcome": form.outcome.data, "changes": form.changes.data or "",
        "notes": form.notes.data,
    }
    for key in ("votes_for", "votes_against", "votes_abstain"):
        form[key].errors = []
    try:
        item = ops.record_decision(meeting, current_user, item_id, data)
    except DomainError as error:
        db.session.rollback()
        meeting = _load(meeting_id, Action.EDIT)
        place_errors(form, error)
        return _render(meeting, status=error.status, decision_forms={item_id: form})
    db.session.commit()
    flash(_("Keputusan dicatat: %(outcome)s.", outcome=item.outcome.label), "success")
    return redirect(url_for("deliberations.detail", meeting_id=meeting.id,
                            _anchor=f"agenda-{item_id}"))


@bp.route("/<int:meeting_id>/tunda", methods=["POST"])
@login_required
def adjourn(meeting_id: int):
    meeting = _load(meeting_id, Action.EDIT)
    form = AdjournForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.adjourn(meeting, current_user, form.notes.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _render(_load(meeting_id), status=error.status, adjourn_form=form)
    db.session.commit()
    flash(_("Musyawarah dicatat ditunda karena tidak kuorum."), "info")
    return redirect(url_for("deliberations.detail", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/penanda-tangan", methods=["POST"])
@login_required
def signatories(meeting_id: int):
    meeting = _load(meeting_id, Action.EDIT)
    form = SignatoriesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.set_signatories(meeting, current_user, {k: form[k].data for k in
                                                    ops.SIGNATORY_FIELDS})
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        return _render(_load(meeting_id), status=error.status, signatories=form)
    db.session.commit()
    flash(_("Penanda tangan berita acara disimpan."), "success")
    return redirect(url_for("deliberations.detail", meeting_id=meeting.id,
                            _anchor="berita-acara"))


@bp.route("/<int:meeting_id>/pindaian", methods=["POST"])
@login_required
def upload_scan(meeting_id: int):
    meeting = _load(meeting_id, Action.EDIT)
    form = ScanForm()
    form.validate_on_submit()
    upload = request.files.get("scan")
    data = b""
    if upload:
        with upload.stream as stream:  # a large upload is spooled to a temporary file
            data = stream.read()
    try:
        ops.attach_scan(meeting, current_user, data, upload.filename if upload else None)
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        return _render(_load(meeting_id), status=error.status, scan_form=form)
    db.session.commit()
    flash(_("Pindaian berita acara disimpan."), "success")
    return redirect(url_for("deliberations.detail", meeting_id=meeting.id,
                            _anchor="berita-acara"))


@bp.route("/<int:meeting_id>/pindaian", methods=["GET"])
@login_required
def download_scan(meeting_id: int):
    meeting = _load(meeting_id)
    if meeting.scan is None:
        raise NotFoundError(_("Belum ada pindaian berita acara."))
    return send_stored(meeting.scan)


# --- quorum rules (admin) ------------------------------------------------------------------

@bp.route("/kuorum", methods=["GET", "POST"])
@login_required
def quorum_rules():
    """The quorum ratio per meeting kind: data an admin may change (guidance is two thirds);
    meetings already recorded keep the ratio they were recorded with."""
    rules = {kind: ops.current_rule(kind) for kind in MeetingKind}
    may_manage = access.can(current_user, Action.MANAGE, next(iter(rules.values())))
    if request.method == "POST" and request.form.get("kind") not in {k.value for k in rules}:
        # Not silently ignored: the page names what was wrong (found by fuzzing).
        abort(400, description=_("Jenis musyawarah tidak dikenal; pilih aturan kuorum dari "
                                 "halaman ini lalu simpan lagi."))
    forms = {}
    for kind, rule in rules.items():
        posted = request.method == "POST" and request.form.get("kind") == kind.value
        form = QuorumRuleForm(prefix=kind.value, formdata=request.form if posted else None)
        if not posted:
            form.numerator.data, form.denominator.data = rule.numerator, rule.denominator
            form.basis.data = rule.basis
        forms[kind] = form
        if posted and may_manage and form.validate():
            try:
                ops.set_quorum_rule(current_user, kind.value, {
                    "numerator": form.numerator.data, "denominator": form.denominator.data,
                    "basis": form.basis.data or ""})
            except ValidationError as error:
                db.session.rollback()
                place_errors(form, error)
            else:
                db.session.commit()
                flash(_("Aturan kuorum %(kind)s disimpan.", kind=kind.label), "success")
                return redirect(url_for("deliberations.quorum_rules"))
        elif posted and not may_manage:
            access.require(current_user, Action.MANAGE, rules[kind])
    return render_template("deliberations/quorum_rules.html", rules=rules, forms=forms,
                           may_manage=may_manage)
