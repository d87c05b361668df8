"""The auditor's export bundle in the browser (/ekspor) and in the JSON API
(/api/v1/exports/agreements.zip): choose agreements by wilayah, kecamatan, year, state and
kind, see how many match, download one ZIP (see :mod:`coopdesa.documents.export`).

Auditors of a jurisdiction and admins only (access rule ("agreement_document", EXPORT));
everyone else gets the refusal with its reason (403). Bad filters answer 400 naming the
field: the form again in the browser, an error object in the API.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, query_param
from coopdesa.documents import export as X
from coopdesa.errors import ValidationError, json_error
from coopdesa.i18n import local_today
from coopdesa.proposals.models import Kind

export_bp = Blueprint("export", __name__, url_prefix="/ekspor")

#: The ``status`` choices of the form (the states with a final document).
STATUS_LABELS = (("signed", _l("Ditandatangani, belum berlaku")), ("active", _l("Berlaku")),
                 ("ended", _l("Berakhir")))


def _exporter() -> Any:
    """The signed-in user, if they may export (else AccessDenied: the 403 page)."""
    user = current_user._get_current_object()
    access.require(user, Action.EXPORT, "agreement_document")
    return user


def zip_response(user: Any, filters: X.ExportFilters) -> Response:
    """The bundle as a streamed download; nothing is cached on the way."""
    chunks = X.stream(user, filters)
    name = f"coopdesa-ekspor-{local_today().isoformat()}.zip"
    return Response(stream_with_context(chunks), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


def _page(user: Any, filters: X.ExportFilters, *, errors: dict[str, list[str]] | None = None,
          status: int = 200):
    data = X.page_data(user, filters)
    # After a refusal the form keeps what was typed, and the count is of no filter.
    values = {key: str(request.args.get(key) or "") for key in
              ("wilayah", "kecamatan", "tahun", "status", "jenis")} if errors else {
        key: value for key, value in filters.as_args().items()}
    return render_template(
        "documents/export.html", filters=filters, values=values, errors=errors or {},
        data=data, statuses=[(value, str(label)) for value, label in STATUS_LABELS],
        kinds=[(kind.value, kind.label) for kind in Kind],
        download_args=filters.as_args(), scope=str(getattr(user, "scope_label", "")),
    ), status


@export_bp.route("/")
@login_required
def index():
    user = _exporter()
    try:
        filters = X.ExportFilters.parse(request.args, user)
    except ValidationError as error:
        return _page(user, X.ExportFilters(), errors=error.fields, status=400)
    return _page(user, filters)


@export_bp.route("/dokumen.zip")
@login_required
def download():
    user = _exporter()
    try:
        filters = X.ExportFilters.parse(request.args, user)
    except ValidationError as error:
        return _page(user, X.ExportFilters(), errors=error.fields, status=400)
    return zip_response(user, filters)


# --- JSON API ------------------------------------------------------------------------------

FILTER_PARAMS = [
    query_param("wilayah", "Region code at any level (provinsi, kabupaten/kota, kecamatan, "
                "desa); inside an auditor's jurisdiction", examples=["33.07"]),
    query_param("kecamatan", "Kecamatan code", examples=["33.07.13"]),
    query_param("tahun", "Year of enactment (last signature)", type_="integer",
                minimum=X.YEAR_MIN, maximum=X.YEAR_MAX),
    query_param("status", "State of the agreement", enum=sorted(X.EXPORT_STATES)),
    query_param("jenis", "Kind of agreement", enum=[kind.value for kind in Kind]),
]


@endpoint("/exports/agreements.zip", summary="Export bundle of signed agreements (ZIP)",
          tag="documents", params=FILTER_PARAMS,
          description="Auditors (within their jurisdiction) and admins. A streamed ZIP "
                      "holding the final PDFs (`agreements/`), the signed scans (`scans/`), "
                      "`manifest.csv` and `manifest.json` (parties, dates, state, SHA-256 of "
                      "each file), `audit.csv` (the audit entries of those agreements), "
                      "`README.txt` and `SHA256SUMS`. Final PDFs not rendered yet are "
                      "rendered and stored on the way. Each export is recorded in the audit "
                      "trail (`document.export`).",
          responses={200: None, 400: "Error", 403: "Error"})
def export_agreements_zip():
    user = _exporter()
    try:
        filters = X.ExportFilters.parse(request.args, user)
    except ValidationError as error:
        return json_error(400, "invalid_filter", error.message, error.fields)
    return zip_response(user, filters)
