"""JSON API of implementation reports: the periods and reports of an agreement, filing a
report (field-named errors), one report and its PDF, and the reporting schedule."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action, ReportsOf
from coopdesa.api import endpoint, json_body, path_param
from coopdesa.api.openapi import SCHEMAS
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.models import FundingSource
from coopdesa.reports import operations as ops
from coopdesa.reports.models import AimStatus, ImplementationReport, ReportPeriod

TAG = "reports"
PROPOSAL_ID = path_param("proposal_id", "Proposal id", type_="integer")
REPORT_ID = path_param("report_id", "Report id", type_="integer")
REPORT_FIELDS = {"period_start", "activities", "outputs", "outcomes", "problems",
                 "next_steps", "signer_name", "aims", "funding", "attachments"}

_RUPIAH = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
           "description": "Whole Rupiah: 25000000 or \"25.000.000\"."}
SCHEMAS.update({
    "ReportPeriodInfo": {
        "type": "object",
        "required": ["period_start", "period_end", "due_on", "status"],
        "properties": {
            "period_start": {"type": "string", "format": "date"},
            "period_end": {"type": "string", "format": "date"},
            "due_on": {"type": "string", "format": "date"},
            "status": {"type": "string",
                       "enum": ["filed", "future", "due", "overdue", "not_required"]},
            "status_label": {"type": "string"},
            "report_id": {"type": ["integer", "null"]},
        },
    },
    "ImplementationReport": {
        "type": "object",
        "required": ["id", "proposal_id", "period_start", "period_end", "addressees"],
        "properties": {
            "id": {"type": "integer"}, "proposal_id": {"type": "integer"},
            "ref": {"type": "string"},
            "period_start": {"type": "string", "format": "date"},
            "period_end": {"type": "string", "format": "date"},
            "activities": {"type": "string"}, "outputs": {"type": "string"},
            "outcomes": {"type": "string"}, "problems": {"type": ["string", "null"]},
            "next_steps": {"type": ["string", "null"]},
            "addressees": {"type": "array", "items": {
                "type": "object", "properties": {
                    "role": {"type": "string", "enum": ["kepada", "tembusan"]},
                    "name": {"type": "string"}}}},
            "reporter": {"type": "string"}, "signer_name": {"type": "string"},
            "filed_at": {"type": "string", "format": "date-time"},
            "filed_by": {"type": ["string", "null"]},
            "aims": {"type": "array", "items": {"type": "object", "properties": {
                "aim": {"type": "string"},
                "status": {"type": "string", "enum": [s.value for s in AimStatus]},
                "note": {"type": ["string", "null"]}}}},
            "funding": {"type": "array", "items": {"type": "object", "properties": {
                "source": {"type": "string", "enum": [s.value for s in FundingSource]},
                "apbdes_year": {"type": ["integer", "null"]},
                "planned": {"type": "integer"}, "received": {"type": "integer"},
                "spent": {"type": "integer"}}}},
            "attachments": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "content_type": {"type": "string"},
                "size": {"type": "integer"}, "sha256": {"type": "string"}}}},
            "pdf_sha256": {"type": ["string", "null"]},
        },
    },
    "ReportList": {
        "type": "object",
        "required": ["proposal_id", "schedule", "periods", "reports"],
        "properties": {
            "proposal_id": {"type": "integer"},
            "schedule": {"type": "string", "enum": [p.value for p in ReportPeriod]},
            "due_days": {"type": "integer"},
            "periods": {"type": "array", "items": {"$ref": "#/components/schemas/"
                                                           "ReportPeriodInfo"}},
            "reports": {"type": "array", "items": {"$ref": "#/components/schemas/"
                                                           "ImplementationReport"}},
            "progress": {"type": "object"},
        },
    },
    "ReportInput": {
        "type": "object", "additionalProperties": False,
        "required": ["period_start", "activities", "outputs", "outcomes"],
        "properties": {
            "period_start": {"type": "string", "format": "date",
                             "description": "The start of one of the agreement's periods."},
            "activities": {"type": "string", "maxLength": 5000},
            "outputs": {"type": "string", "maxLength": 5000},
            "outcomes": {"type": "string", "maxLength": 5000},
            "problems": {"type": "string", "maxLength": 5000},
            "next_steps": {"type": "string", "maxLength": 5000},
            "signer_name": {"type": "string", "maxLength": 120,
                            "description": "Ketua BKAD / Kepala Desa signing the report."},
            "aims": {"type": "array", "maxItems": 50, "items": {
                "type": "object", "required": ["aim", "status"], "properties": {
                    "aim": {"type": "string", "maxLength": 500},
                    "status": {"type": "string", "enum": [s.value for s in AimStatus]},
                    "note": {"type": "string", "maxLength": 500}}}},
            "funding": {"type": "array", "maxItems": 30, "items": {
                "type": "object", "required": ["source"], "properties": {
                    "source": {"type": "string", "enum": [s.value for s in FundingSource]},
                    "apbdes_year": {"type": "integer",
                                    "description": "Required for apb_desa."},
                    "received": _RUPIAH, "spent": _RUPIAH}}},
            "attachments": {"type": "array", "maxItems": 10, "items": {
                "type": "object", "required": ["content_base64"], "properties": {
                    "filename": {"type": "string", "maxLength": 200},
                    "content_base64": {"type": "string",
                                       "description": "PDF, PNG or JPEG (by content)."}}}},
        },
    },
    "ReportScheduleInput": {
        "type": "object", "additionalProperties": False, "required": ["period"],
        "properties": {"period": {"type": "string", "enum": [p.value for p in ReportPeriod]}},
    },
})


def _proposal(proposal_id: int):
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _report(report_id: int) -> ImplementationReport:
    report = ops.get_report(report_id)
    if not access.can(current_user, Action.VIEW, report):
        raise NotFoundError(_("Laporan pelaksanaan tidak ditemukan."))
    return report


def report_dict(report: ImplementationReport,
                planned: dict[FundingSource, int] | None = None) -> dict[str, Any]:
    if planned is None:
        planned = ops.planned_by_source([report.proposal_id]).get(report.proposal_id, {})
    return {
        "id": report.id, "proposal_id": report.proposal_id, "ref": report.proposal.ref,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "activities": report.activities, "outputs": report.outputs,
        "outcomes": report.outcomes, "problems": report.problems,
        "next_steps": report.next_steps, "addressees": list(report.addressees or []),
        "reporter": report.reporter_label, "signer_name": report.signer_name,
        "filed_at": report.filed_at.isoformat(),
        "filed_by": report.filed_by.username if report.filed_by else None,
        "aims": [{"aim": a.aim, "status": a.status.value, "note": a.note}
                 for a in report.aims],
        "funding": [{"source": f.source.value, "apbdes_year": f.apbdes_year,
                     "planned": planned.get(f.source, 0), "received": f.received,
                     "spent": f.spent} for f in report.funding],
        "attachments": [{"name": a.file.original_name, "content_type": a.file.content_type,
                         "size": a.file.size, "sha256": a.file.sha256}
                        for a in report.attachments],
        "pdf_sha256": report.sha256,
    }


def _attachments(value: Any) -> list[tuple[bytes, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        message = _("Harus berupa daftar berkas.")
        raise ValidationError(message, fields={"attachments": [message]})
    out = []
    for i, item in enumerate(value):
        key = f"attachments-{i}-content_base64"
        raw = item.get("content_base64") if isinstance(item, dict) else None
        try:
            data = base64.b64decode(str(raw or ""), validate=True)
        except (binascii.Error, ValueError):
            data = None
        if not data:
            message = _("Bukan base64 yang sah.")
            raise ValidationError(message, fields={key: [message]})
        out.append((data, str(item.get("filename") or "lampiran")[:200]))
    return out


@endpoint("/proposals/<int:proposal_id>/reports", summary="Reporting periods and reports",
          tag=TAG, params=[PROPOSAL_ID], responses={200: "ReportList", 404: "Error"})
def list_reports(proposal_id: int):
    proposal = _proposal(proposal_id)
    planned = ops.planned_by_source([proposal.id]).get(proposal.id, {})
    return jsonify({
        "proposal_id": proposal.id, "schedule": ops.period_of(proposal).value,
        "due_days": ops.due_days(),
        "periods": [p.as_dict() for p in ops.period_infos(proposal)],
        "reports": [report_dict(r, planned) for r in ops.reports_of(proposal)],
        "progress": ops.progress_of(proposal).as_dict(),
    })


@endpoint("/proposals/<int:proposal_id>/reports", method="POST",
          summary="File an implementation report", tag=TAG, params=[PROPOSAL_ID],
          description="antar_desa: a member of the agreement's BKAD; pihak_ketiga: the "
                      "Kepala Desa or the secretary of a party village. Final once filed; the "
                      "PDF is rendered at filing. Errors name the fields (`aims-0-status`, "
                      "`funding-1-apbdes_year`, ...).",
          body="ReportInput",
          responses={201: "ImplementationReport", 400: "Error", 403: "Error", 404: "Error",
                     409: "Error"})
def post_report(proposal_id: int):
    proposal = _proposal(proposal_id)
    data = json_body(REPORT_FIELDS)
    access.require(current_user, Action.CREATE, ReportsOf(proposal))
    report = ops.file_report(proposal, current_user, data,
                             attachments=_attachments(data.get("attachments")))
    db.session.commit()
    return jsonify(report_dict(report)), 201


@endpoint("/reports/<int:report_id>", summary="One implementation report", tag=TAG,
          params=[REPORT_ID], responses={200: "ImplementationReport", 404: "Error"})
def get_report(report_id: int):
    return jsonify(report_dict(_report(report_id)))


@endpoint("/reports/<int:report_id>/report.pdf", summary="The report as PDF", tag=TAG,
          params=[REPORT_ID], responses={200: None, 404: "Error", 503: "Error"})
def get_report_pdf(report_id: int):
    from coopdesa.reports.views import serve_pdf

    return serve_pdf(_report(report_id))


@endpoint("/proposals/<int:proposal_id>/report-schedule", method="PUT",
          summary="Set the reporting schedule", tag=TAG, params=[PROPOSAL_ID],
          description="A party village's secretary, while the proposal is `agreed` or "
                      "`signed`; locked once the agreement is in force.",
          body="ReportScheduleInput",
          responses={200: "ReportScheduleInput", 400: "Error", 403: "Error", 404: "Error",
                     409: "Error"})
def put_report_schedule(proposal_id: int):
    proposal = _proposal(proposal_id)
    data = json_body({"period"})
    schedule = ops.set_schedule(proposal, current_user, data.get("period"))
    db.session.commit()
    return jsonify({"period": schedule.period.value})
