"""/api/v1 audit entries: per proposal (whoever may read it) and across a jurisdiction
(auditors and admins), with the filters of the HTML page."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, int_arg, path_param, query_param
from coopdesa.audit import operations as audit_ops
from coopdesa.errors import NotFoundError
from coopdesa.extensions import db
from coopdesa.proposals.api import PAGING_PARAMS
from coopdesa.proposals.models import Proposal

FILTER_PARAMS = [
    query_param("action", "Action prefix, e.g. `proposal.transition`.", maxLength=60),
    query_param("proposal", "Proposal id or reference (KSD-2026-00042).", maxLength=20),
    query_param("user", "Username of whoever acted (`sistem` for the clock).",
                maxLength=120),
    query_param("date_from", "Logged on or after this day (local time).", format="date"),
    query_param("date_to", "Logged on or before this day (local time).", format="date"),
]


def entry_dict(row: audit_ops.AuditRow) -> dict[str, Any]:
    return {**row.entry.to_dict(), "proposal_ref": row.proposal_ref}


def page_dict(page: audit_ops.AuditPage) -> dict[str, Any]:
    return {"items": [entry_dict(r) for r in page.items], "total": page.total,
            "page": page.page, "per_page": page.per_page, "pages": page.pages}


@endpoint("/proposals/<int:proposal_id>/audit", summary="The audit entries of one proposal",
          tag="audit",
          description="Newest first; for whoever may read the proposal (others get 404). "
                      "Each entry carries its SHA-256 `hash` and the previous entry's "
                      "`prev_hash`; `flask coopdesa audit verify` checks the whole chain.",
          params=[path_param("proposal_id", "Proposal id.", type_="integer"),
                  *PAGING_PARAMS],
          responses={200: "AuditPage", 404: "Error", 422: "Error"})
def proposal_audit(proposal_id: int):
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not access.can(current_user, Action.READ_AUDIT, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    page = audit_ops.list_entries(current_user, proposal_id=proposal.id,
                                  page=int_arg("page", 1),
                                  per_page=int_arg("per_page", 50, high=100))
    return jsonify(page_dict(page))


@endpoint("/audit", summary="Audit entries across the caller's jurisdiction", tag="audit",
          description="For auditors (the proposals of their jurisdiction) and admins "
                      "(everything, including entries about no proposal). Newest first.",
          params=[*FILTER_PARAMS, *PAGING_PARAMS],
          responses={200: "AuditPage", 403: "Error", 422: "Error"})
def audit_entries():
    access.require(current_user, Action.LIST, "audit")
    filters = audit_ops.AuditFilters.parse(request.args)
    page = audit_ops.list_entries(current_user, filters, page=int_arg("page", 1),
                                  per_page=int_arg("per_page", 50, high=100))
    return jsonify(page_dict(page))
