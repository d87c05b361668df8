"""Implementation report pages: the periods of an agreement and their reports, filing a
report, a report and its PDF and attachments, the summary per jurisdiction, the proposal
panel (reporting schedule) and the dashboard card of overdue reports. Handlers load, check
access (coopdesa.access), call coopdesa.reports.operations and commit once."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access, i18n
from coopdesa.access import Action, ReportScheduleOf, ReportsOf
from coopdesa.documents import export
from coopdesa.errors import ConflictError, DomainError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.files import storage
from coopdesa.files.views import send_stored
from coopdesa.main.views import dashboard_panel
from coopdesa.proposals import notifications
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.models import Proposal
from coopdesa.proposals.views import detail_alert, detail_panel
from coopdesa.reports import charts
from coopdesa.reports import operations as ops
from coopdesa.reports.forms import ReportForm, ScheduleForm
from coopdesa.reports.models import ImplementationReport, ReportAttachment

bp = Blueprint("reports", __name__)

BLANK_AIM_ROWS = 2
BLANK_FUNDING_ROWS = 3
DASHBOARD_LIMIT = 10
_ROW_FIELD = re.compile(r"^(aims|funding)-(\d+)-(\w+)$")


def _load(proposal_id: int) -> Proposal:
    """The proposal if the user may read it (else the same 404 as a missing one)."""
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _load_report(report_id: int) -> ImplementationReport:
    report = ops.get_report(report_id)
    if not access.can(current_user, Action.VIEW, report):
        raise NotFoundError(_("Laporan pelaksanaan tidak ditemukan."))
    return report


def place_errors(form: ReportForm, error: DomainError) -> None:
    """Field messages on the form's fields, rows included ("funding-0-received")."""
    placed = False
    for name, messages in (error.fields or {}).items():
        match = _ROW_FIELD.match(name)
        target = None
        if match:
            rows = form[match.group(1)]
            index = int(match.group(2))
            if index < len(rows.entries):
                target = rows.entries[index].form._fields.get(match.group(3))
        else:
            target = form._fields.get(name)
        if target is not None:
            target.errors = list(target.errors or []) + list(messages)
            placed = True
    if not placed:
        flash(error.message, "danger")


def _form_messages(form: ReportForm) -> list[tuple[str, str, str]]:
    """(field id, label, message) of every error, rows included, for the summary."""
    out = []
    for field in form:
        if field.type == "FieldList":
            for entry in field.entries:
                for sub in entry.form:
                    out += [(sub.id, f"{sub.label.text} ({entry.id})", m) for m in sub.errors]
        elif field.type != "CSRFTokenField":
            out += [(field.id, field.label.text, m) for m in field.errors or []]
    return out


# --- proposal page panel, alert and dashboard card -----------------------------------------

@detail_panel
def _proposal_panel(proposal: Proposal, user: Any):
    if proposal.state not in (ops.SCHEDULE_STATES | ops.FILING_STATES):
        return None
    schedule = ops.schedule_of(proposal)
    form = None
    if ops.schedule_refusal(proposal) is None and access.can(
            user, Action.EDIT, ReportScheduleOf(proposal)):
        form = ScheduleForm(formdata=None)
        form.period.data = (schedule.period if schedule else ops.ReportPeriod.YEARLY).value
    infos = ops.period_infos(proposal) if proposal.state in ops.FILING_STATES else []
    return "reports/_panel.html", {
        "schedule": schedule, "period": ops.period_of(proposal), "schedule_form": form,
        "filed": sum(1 for p in infos if p.status == "filed"),
        "overdue": sum(1 for p in infos if p.status == "overdue"),
        "periods": len(infos), "reporting": proposal.state in ops.FILING_STATES,
    }


@detail_alert
def _overdue_alert(proposal: Proposal, user: Any):
    if proposal.state not in ops.FILING_STATES:
        return None
    late = [p for p in ops.period_infos(proposal) if p.status == "overdue"]
    if not late:
        return None
    return "reports/_alert.html", {"late": late}


@dashboard_panel
def _dashboard_card(user: Any):
    clause = ops.reporting_party_clause(user)
    if clause is None:
        return None
    items = ops.overdue_reports(clause)
    if not items:
        return None
    return "reports/_dashboard.html", {"overdue": items[:DASHBOARD_LIMIT], "count": len(items),
                                       "today": i18n.local_today()}


@notifications.remind_hook
def _remind(today):
    """``flask coopdesa remind``: each overdue report, once per period, to its reporters."""
    return ops.remind_overdue(today)


@export.agreement_files
def _export_reports(proposal_id: int, name: str):
    """The auditor's export: each filed report's stored PDF under reports/ (rendered and
    stored first if filing could not render it)."""
    from coopdesa.documents import render as R

    ids = db.session.scalars(sa.select(ImplementationReport.id).where(
        ImplementationReport.proposal_id == proposal_id)
        .order_by(ImplementationReport.period_start)).all()
    for report_id in ids:
        report = db.session.get(ImplementationReport, report_id)
        try:
            stored = ops.render_pdf(report)
        except R.RenderError as exc:
            current_app.logger.error("export: report PDF %s failed: %s", report_id, exc)
            continue
        path = f"reports/{name}-laporan-{report.period_start.isoformat()}.pdf"
        yield path, storage.read(stored), "report"


# --- pages ---------------------------------------------------------------------------------

@bp.route("/kerja-sama/<int:proposal_id>/laporan")
@login_required
def index(proposal_id: int):
    proposal = _load(proposal_id)
    access.require(current_user, Action.LIST, ReportsOf(proposal))
    infos = ops.period_infos(proposal)
    today = i18n.local_today()
    can_file = access.can(current_user, Action.CREATE, ReportsOf(proposal))
    fileable = {p.start for p in infos if p.report is None and can_file
                and ops.filing_refusal(proposal, p.start, p.end, today) is None}
    progress = ops.progress_of(proposal)
    return render_template(
        "reports/index.html", proposal=proposal, periods=infos, fileable=fileable,
        period=ops.period_of(proposal), progress=progress,
        filing_refusal=access.reason_refused(current_user, Action.CREATE, ReportsOf(proposal)),
        funds_chart=charts.funds_chart(progress, _("Dana direncanakan, diterima dan "
                                                   "dibelanjakan per sumber")),
        aims_chart=charts.aims_chart(progress, _("Capaian tujuan (laporan terakhir)")))


@bp.route("/kerja-sama/<int:proposal_id>/laporan/jadwal", methods=["POST"])
@login_required
def set_schedule(proposal_id: int):
    proposal = _load(proposal_id)
    access.require(current_user, Action.EDIT, ReportScheduleOf(proposal))
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            ops.set_schedule(proposal, current_user, form.period.data)
        except (ValidationError, ConflictError) as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("Jadwal pelaporan disimpan."), "success")
    else:
        flash(_("Pilih jadwal pelaporan yang tersedia."), "danger")
    return redirect(url_for("proposals.detail", proposal_id=proposal.id) + "#laporan")


def _period_choices(proposal: Proposal, infos: list[ops.PeriodInfo]) -> list[tuple[str, str]]:
    return [(p.start.isoformat(),
             f"{i18n.format_date_id(p.start)} \u2013 {i18n.format_date_id(p.end)}")
            for p in infos if p.report is None]


def _blank_form(proposal: Proposal, infos: list[ops.PeriodInfo], start: str) -> ReportForm:
    form = ReportForm(formdata=None)
    form.period_start.choices = _period_choices(proposal, infos)
    form.period_start.data = start
    for aim in ops.aims_from_tujuan(proposal):
        form.aims.append_entry({"aim": aim})
    for _i in range(BLANK_AIM_ROWS):
        form.aims.append_entry()
    planned = sorted({(f.source.value, f.apbdes_year) for party in proposal.parties
                      for f in party.funding}, key=lambda row: (row[0], row[1] or 0))
    for source, year in planned:
        form.funding.append_entry({"source": source, "apbdes_year": str(year or "")})
    for _i in range(BLANK_FUNDING_ROWS):
        form.funding.append_entry()
    form.signer_name.data = ops.default_signer(proposal, current_user)
    return form


def _uploads() -> list[tuple[bytes, str | None]]:
    out = []
    for upload in request.files.getlist("attachments"):
        if not upload or not upload.filename:
            continue
        with upload.stream as stream:
            out.append((stream.read(), upload.filename))
    return out


@bp.route("/kerja-sama/<int:proposal_id>/laporan/baru", methods=["GET", "POST"])
@login_required
def new(proposal_id: int):
    proposal = _load(proposal_id)
    access.require(current_user, Action.CREATE, ReportsOf(proposal))
    infos = ops.period_infos(proposal)
    planned = ops.planned_by_source([proposal.id]).get(proposal.id, {})
    status = 200
    if request.method == "GET":
        start = request.args.get("periode") or next(
            (p.start.isoformat() for p in infos if p.status in ("overdue", "due")), "")
        form = _blank_form(proposal, infos, start)
    else:
        form = ReportForm()
        form.period_start.choices = _period_choices(proposal, infos)
        if form.validate_on_submit():
            data = {key: form[key].data for key in (
                "period_start", "activities", "outputs", "outcomes", "problems",
                "next_steps", "signer_name")}
            data["aims"] = [entry.form.data for entry in form.aims.entries]
            data["funding"] = [entry.form.data for entry in form.funding.entries]
            try:
                report = ops.file_report(proposal, current_user, data,
                                         attachments=_uploads())
            except (ValidationError, ConflictError) as error:
                db.session.rollback()
                place_errors(form, error)
                status = 409 if isinstance(error, ConflictError) else 422
            else:
                db.session.commit()
                flash(_("Laporan pelaksanaan disampaikan."), "success")
                return redirect(url_for("reports.detail", report_id=report.id))
        else:
            status = 400
    return render_template("reports/new.html", proposal=proposal, form=form,
                           planned=planned, messages=_form_messages(form),
                           addressees=ops.addressees(proposal),
                           reporter=ops.reporter_label(proposal, current_user)), status


@bp.route("/laporan/<int:report_id>")
@login_required
def detail(report_id: int):
    report = _load_report(report_id)
    planned = ops.planned_by_source([report.proposal_id]).get(report.proposal_id, {})
    return render_template("reports/detail.html", report=report, proposal=report.proposal,
                           planned=planned)


@bp.route("/laporan/<int:report_id>.pdf")
@login_required
def pdf(report_id: int):
    return serve_pdf(_load_report(report_id))


def serve_pdf(report: ImplementationReport):
    """The stored PDF (rendered and stored now if filing could not render it)."""
    from coopdesa.documents import render as R

    try:
        stored = ops.render_pdf(report)
    except R.RenderError as exc:
        db.session.rollback()
        current_app.logger.error("report PDF failed: %s", exc)
        abort(503, description=_("PDF laporan tidak dapat dibuat saat ini. Coba lagi beberapa "
                                 "saat lagi."))
    db.session.commit()
    return send_stored(stored, inline=True)


@bp.route("/laporan/<int:report_id>/lampiran/<int:attachment_id>")
@login_required
def attachment(report_id: int, attachment_id: int):
    report = _load_report(report_id)
    item = db.session.get(ReportAttachment, attachment_id)
    if item is None or item.report_id != report.id:
        raise NotFoundError(_("Lampiran tidak ditemukan."))
    return send_stored(item.file)


@bp.route("/laporan/ringkasan")
@login_required
def summary():
    access.require(current_user, Action.LIST, "implementation_report_summary")
    data = ops.summary(current_user)
    return render_template(
        "reports/summary.html", data=data, charts=charts,
        scope=str(getattr(current_user, "scope_label", "")))
