"""The audit trail in the browser: per proposal, across a jurisdiction, as CSV, and the
admin's check of the whole SHA-256 chain.

A proposal the user may not read answers 404 here as in the API, so the log does not
reveal that another village's proposal exists.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action
from coopdesa.audit import operations as audit_ops
from coopdesa.db import utcnow
from coopdesa.errors import ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.models import Proposal

bp = Blueprint("audit", __name__, url_prefix="/audit")

PER_PAGE = 50
#: Action prefixes offered in the filter (free text is accepted too).
ACTION_CHOICES = (
    ("proposal.create", "Usulan dibuat"),
    ("proposal.update", "Bagian diubah"),
    ("proposal.party", "Pihak"),
    ("proposal.funding", "Pendanaan"),
    ("proposal.transition", "Perubahan status"),
    ("proposal.comment", "Komentar"),
)


def _page_number() -> int:
    try:
        return min(max(1, int(request.args.get("halaman", 1))), 10_000)
    except ValueError:
        return 1


def _readable(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("ya") if value else _("tidak")
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_readable(v)}" for k, v in sorted(value.items())
                         if v not in (None, "", [], {}))
    if isinstance(value, list):
        if any(isinstance(v, dict | list) for v in value):
            return "\n".join(f"{i}. {_readable(v)}" for i, v in enumerate(value, 1))
        return ", ".join(_readable(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def pairs(value: Any) -> list[tuple[str, str]]:
    """Before/after JSON as (key, readable value) pairs; the template escapes both.
    Internal keys (``_version``) are shown without their underscore."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [(str(k).lstrip("_"), _readable(v)) for k, v in sorted(value.items())]
    return [("", _readable(value))]


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"audit_pairs": pairs, "action_choices": ACTION_CHOICES}


def _filters() -> audit_ops.AuditFilters:
    try:
        return audit_ops.AuditFilters.parse(request.args)
    except ValidationError as error:
        flash(error.message, "warning")
        return audit_ops.AuditFilters()


@bp.route("/usulan/<int:proposal_id>")
@login_required
def proposal_log(proposal_id: int):
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not access.can(current_user, Action.READ_AUDIT, proposal):
        abort(404)
    page = audit_ops.list_entries(current_user, proposal_id=proposal.id,
                                  page=_page_number(), per_page=PER_PAGE)
    return render_template("audit/proposal_log.html", proposal=proposal, page=page)


@bp.route("/")
@login_required
def index():
    access.require(current_user, Action.LIST, "audit")
    filters = _filters()
    page = audit_ops.list_entries(current_user, filters, page=_page_number(),
                                  per_page=PER_PAGE)
    return render_template("audit/index.html", page=page, filters=filters)


@bp.route("/ekspor.csv")
@login_required
def export_csv():
    access.require(current_user, Action.EXPORT, "audit")
    try:
        filters = audit_ops.AuditFilters.parse(request.args)
    except ValidationError as error:
        abort(422, description=error.message)
    statement = audit_ops.entries_statement(current_user, filters)

    def generate():
        # Runs while the response streams, after the view's own session was closed: the
        # query belongs to the session of the context stream_with_context pushes again.
        rows = db.session.execute(statement.execution_options(yield_per=500))
        yield from audit_ops.csv_lines(rows, with_proposal=True)

    name = f"coopdesa-jejak-audit-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/verifikasi", methods=["GET", "POST"])
@login_required
def verify():
    access.require(current_user, Action.MANAGE, "audit")
    result = None
    if request.method == "POST":  # CSRF is checked by CSRFProtect before we get here
        user = current_user._get_current_object()
        result = audit_ops.verify_chain()
        # verify_chain empties the session as it walks; the page still shows the user.
        if user not in db.session:
            db.session.add(user)
    return render_template("audit/verify.html", result=result)
