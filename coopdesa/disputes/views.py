"""Dispute pages: open a dispute from the agreement page, follow its route (PP 43/2014
Pasal 148), record each step, withdraw it, and the berita acara with its signed scan.
Handlers load, check access, call coopdesa.disputes.operations and commit once."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action, DisputeOf
from coopdesa.disputes import operations as ops
from coopdesa.disputes.forms import DisputeForm, ScanForm, StepForm, WithdrawForm
from coopdesa.disputes.models import Dispute, DisputeState
from coopdesa.errors import DomainError, NotFoundError
from coopdesa.extensions import db
from coopdesa.files import storage
from coopdesa.files.views import send_stored
from coopdesa.i18n import local_today
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.forms import options
from coopdesa.proposals.models import Proposal
from coopdesa.proposals.states import SIGNED_STATES
from coopdesa.proposals.views import detail_alert, detail_panel, place_errors

bp = Blueprint("disputes", __name__)

STEP_FIELDS = ("level", "held_on", "place", "facilitator_name", "facilitator_office",
               "court_name", "case_number", "outcome", "summary", "terms", "expected_version")


def _proposal(proposal_id: int) -> Proposal:
    """The proposal if the user may read it, else the same 404 as a missing one: a village
    never learns of another village's agreements (as everywhere else)."""
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _load(dispute_id: int) -> Dispute:
    dispute = ops.get_dispute(dispute_id)
    if not access.can(current_user, Action.VIEW, dispute):
        raise NotFoundError(_("Perselisihan tidak ditemukan."))
    return dispute


def _read_upload(name: str) -> tuple[bytes, str | None]:
    upload = request.files.get(name)
    if not upload:
        return b"", None
    with upload.stream as stream:
        return stream.read(), upload.filename


# --- the agreement page --------------------------------------------------------------------

def _current_step_label(dispute: Dispute) -> str:
    step = dispute.last_step
    if step is None:
        return _("menunggu musyawarah para pihak")
    return f"{step.level.label}: {step.outcome.label.lower()}"


@detail_alert
def _open_dispute_alert(proposal: Proposal, user: Any):
    if proposal.state not in SIGNED_STATES:  # none can exist: spares the query
        return None
    disputes = [d for d in ops.open_disputes_of(proposal) if access.can(user, Action.VIEW, d)]
    if not disputes:
        return None
    return "disputes/_alert.html", {
        "rows": [{"dispute": d, "current": _current_step_label(d)} for d in disputes]}


@detail_panel
def _disputes_panel(proposal: Proposal, user: Any):
    if proposal.state not in SIGNED_STATES:  # none can exist, none can be opened
        return None
    disputes = [d for d in ops.disputes_of(proposal) if access.can(user, Action.VIEW, d)]
    may_open = proposal.state in ops.DISPUTABLE_STATES and access.can(
        user, Action.CREATE, DisputeOf(proposal))
    if not disputes and not may_open:
        return None
    return "disputes/_panel.html", {"proposal": proposal, "disputes": disputes,
                                    "may_open": may_open}


# --- opening -------------------------------------------------------------------------------

@bp.route("/kerja-sama/<int:proposal_id>/perselisihan/baru", methods=["GET", "POST"])
@login_required
def create(proposal_id: int):
    proposal = _proposal(proposal_id)
    access.require(current_user, Action.CREATE, DisputeOf(proposal))
    form = DisputeForm()
    form.party_ids.choices = options((p.id, f"{p.name} ({p.role.label})")
                                     for p in proposal.parties)
    status = 200
    if request.method == "POST":
        data = {"subject": form.subject.data, "clauses": form.clauses.data,
                "description": form.description.data,
                "party_ids": list(form.party_ids.data or [])}
        try:
            dispute = ops.open_dispute(proposal, current_user, data)
        except DomainError as error:
            db.session.rollback()
            place_errors(form, error)
            proposal = _proposal(proposal_id)
            status = error.status
        else:
            db.session.commit()
            flash(_("Perselisihan dicatat. Catat musyawarah para pihak sebagai langkah "
                    "pertama penyelesaiannya."), "success")
            return redirect(url_for("disputes.detail", dispute_id=dispute.id))
    return render_template("disputes/new.html", form=form, proposal=proposal), status


# --- the dispute page ----------------------------------------------------------------------

def _signatory_rows(dispute: Dispute, typed: bool) -> list[dict[str, Any]]:
    rows = []
    for party in dispute.disputing_parties:
        if typed:
            name = request.form.get(f"sig-{party.id}-name", "")
            office = request.form.get(f"sig-{party.id}-office", "")
        else:
            name, office = party.signatory_name or "", party.signatory_office or ""
        rows.append({"party": party, "name": name, "office": office})
    return rows


def _render(dispute: Dispute, *, status: int = 200, step_form: StepForm | None = None,
            withdraw_form: WithdrawForm | None = None, scan_form: ScanForm | None = None,
            signatory_errors: list[str] | None = None, typed: bool = False):
    may_edit = access.can(current_user, Action.EDIT, dispute)
    if step_form is None:
        step_form = StepForm(formdata=None)
        step_form.held_on.data = local_today()
        step_form.level.data = "musyawarah" if not dispute.steps else None
    step_form.expected_version.data = str(dispute.version)
    withdraw_form = withdraw_form or WithdrawForm(formdata=None)
    withdraw_form.expected_version.data = str(dispute.version)
    route = ops.route_of(dispute)
    return render_template(
        "disputes/detail.html", dispute=dispute, proposal=dispute.proposal,
        route=ops.route_rows(dispute), third_party=route.third_party,
        may_edit=may_edit and dispute.is_open,
        may_attach=may_edit and dispute.state == DisputeState.SETTLED,
        step_form=step_form, withdraw_form=withdraw_form,
        scan_form=scan_form or ScanForm(formdata=None),
        signatories=_signatory_rows(dispute, typed), signatory_errors=signatory_errors or [],
        settling=ops.settling_step(dispute)), status


@bp.route("/perselisihan/<int:dispute_id>")
@login_required
def detail(dispute_id: int):
    return _render(_load(dispute_id))


@bp.route("/perselisihan/<int:dispute_id>/langkah", methods=["POST"])
@login_required
def record_step(dispute_id: int):
    dispute = _load(dispute_id)
    access.require(current_user, Action.EDIT, dispute)
    form = StepForm()
    data: dict[str, Any] = {name: request.form.get(name) for name in STEP_FIELDS}
    data["signatories"] = [
        {"party_id": p.id, "name": request.form.get(f"sig-{p.id}-name", ""),
         "office": request.form.get(f"sig-{p.id}-office", "")}
        for p in dispute.disputing_parties]
    try:
        step = ops.record_step(dispute, current_user, data)
    except DomainError as error:
        db.session.rollback()
        sig_errors = list(error.fields.get("signatories", []))
        fields = {k: v for k, v in error.fields.items() if k != "signatories"}
        if fields or not sig_errors:
            place_errors(form, type(error)(error.message, fields=fields))
        return _render(_load(dispute_id), status=error.status, step_form=form,
                       signatory_errors=sig_errors, typed=True)
    db.session.commit()
    if dispute.state == DisputeState.SETTLED:
        flash(_("Perselisihan selesai dengan kesepakatan. Berita acara penyelesaian dapat "
                "diunduh, dicetak dan ditandatangani."), "success")
    elif dispute.state == DisputeState.TO_COURT:
        flash(_("Perselisihan dicatat diajukan ke pengadilan."), "info")
    else:
        flash(_("Langkah %(level)s dicatat.", level=step.level.label), "success")
    return redirect(url_for("disputes.detail", dispute_id=dispute.id))


@bp.route("/perselisihan/<int:dispute_id>/cabut", methods=["POST"])
@login_required
def withdraw(dispute_id: int):
    dispute = _load(dispute_id)
    access.require(current_user, Action.EDIT, dispute)
    form = WithdrawForm()
    try:
        ops.withdraw_dispute(dispute, current_user, form.reason.data,
                             expected_version=form.expected_version.data)
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        return _render(_load(dispute_id), status=error.status, withdraw_form=form)
    db.session.commit()
    flash(_("Perselisihan dicabut."), "success")
    return redirect(url_for("disputes.detail", dispute_id=dispute.id))


def serve_berita_acara(dispute: Dispute):
    """The stored berita acara of a settled dispute, rendered and kept on first request
    if rendering failed at settlement."""
    from coopdesa.documents import render as R

    if dispute.berita_acara_id is None:
        ops.berita_acara_context(dispute)  # 404 unless settled
        try:
            ops.render_berita_acara(dispute)
        except R.RenderError as exc:
            db.session.rollback()
            current_app.logger.error("berita acara of dispute %s failed: %s", dispute.id, exc)
            abort(503, description=_("Berita acara belum dapat dibuat: %(why)s",
                                     why=str(exc)[:200]))
        db.session.commit()
    stored = dispute.berita_acara
    response = send_file(storage.open_stream(stored), mimetype="application/pdf",
                         as_attachment=False, download_name=stored.original_name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/perselisihan/<int:dispute_id>/berita-acara.pdf")
@login_required
def berita_acara_pdf(dispute_id: int):
    return serve_berita_acara(_load(dispute_id))


@bp.route("/perselisihan/<int:dispute_id>/pindaian", methods=["POST"])
@login_required
def upload_scan(dispute_id: int):
    dispute = _load(dispute_id)
    access.require(current_user, Action.EDIT, dispute)
    form = ScanForm()
    data, filename = _read_upload("scan")
    try:
        ops.attach_scan(dispute, current_user, data, filename)
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        return _render(_load(dispute_id), status=error.status, scan_form=form)
    db.session.commit()
    flash(_("Pindaian berita acara bertanda tangan disimpan."), "success")
    return redirect(url_for("disputes.detail", dispute_id=dispute.id, _anchor="berita-acara"))


@bp.route("/perselisihan/<int:dispute_id>/pindaian", methods=["GET"])
@login_required
def download_scan(dispute_id: int):
    dispute = _load(dispute_id)
    if dispute.scan is None:
        abort(404, description=_("Belum ada pindaian berita acara bertanda tangan."))
    return send_stored(dispute.scan)
