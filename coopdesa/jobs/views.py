"""Background jobs in the browser: /tugas (my jobs), /tugas/<id> (progress, refreshing
itself while the job runs), /tugas/<id>/unduh (the result), POST /tugas/ekspor (the export
of /ekspor as a job) and, for admins and auditors, POST /tugas/mulai (render, network,
remind). Anyone else's job answers 404."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action, JobStart
from coopdesa.accounts.models import Role
from coopdesa.errors import AccessDenied, NotFoundError, ValidationError
from coopdesa.files.views import send_stored
from coopdesa.jobs import operations as ops
from coopdesa.jobs.models import JobKind

bp = Blueprint("jobs", __name__, url_prefix="/tugas")

#: Kinds a user may start from /tugas (the export starts from /ekspor).
STARTABLE = (JobKind.RENDER, JobKind.NETWORK, JobKind.REMIND)


def _startable(user) -> list[JobKind]:
    """The kinds offered on the page: those the access rule ("job", CREATE) lets ``user``
    start in its own jurisdiction (the scope typed is checked again when it starts)."""
    return [kind for kind in STARTABLE
            if access.can(user, Action.CREATE, JobStart(kind.value, user.jurisdiction_code))]


def _index(*, errors: dict[str, list[str]] | None = None, status: int = 200):
    user = current_user._get_current_object()
    ops.expire_stale()
    everyone = user.role == Role.ADMIN and request.args.get("semua") == "1"
    jobs = ops.jobs_for(user, everyone=everyone)
    return render_template("jobs/index.html", jobs=jobs, everyone=everyone,
                           kinds=[(k.value, k.label) for k in _startable(user)],
                           errors=errors or {}, values=request.form), status


@bp.route("/")
@login_required
def index():
    return _index()


@bp.route("/<int:job_id>")
@login_required
def detail(job_id: int):
    ops.expire_stale()
    job = ops.get_job(job_id, current_user)
    return render_template("jobs/detail.html", job=job)


@bp.route("/<int:job_id>/unduh")
@login_required
def download(job_id: int):
    job = ops.get_job(job_id, current_user)
    if job.result_file is None:
        raise NotFoundError(_("Tugas ini belum memiliki berkas hasil."))
    return send_stored(job.result_file)


@bp.route("/ekspor", methods=["POST"])
@login_required
def start_export():
    from coopdesa.documents import export as X
    from coopdesa.documents import export_views

    user = export_views._exporter()
    try:
        filters = X.ExportFilters.parse(request.form, user)
    except ValidationError as error:
        return export_views._page(user, X.ExportFilters(), errors=error.fields, status=400)
    job = ops.submit(JobKind.EXPORT, user, filters.as_args())
    flash(_("Ekspor disiapkan di latar belakang (tugas #%(id)d). Halaman ini menunjukkan "
            "kemajuannya; unduh ZIP-nya di sini setelah selesai.", id=job.id), "success")
    return redirect(url_for("jobs.detail", job_id=job.id), 303)


@bp.route("/mulai", methods=["POST"])
@login_required
def start():
    user = current_user._get_current_object()
    kind_value = (request.form.get("kind") or "").strip()
    if kind_value not in [k.value for k in _startable(user)]:
        raise AccessDenied(access.reason_refused(user, Action.CREATE, JobStart(
            kind_value or "?", None)) or _("Tugas ini tidak dapat Anda mulai."))
    params: dict[str, object] = {"scope": request.form.get("scope") or None}
    if kind_value == JobKind.NETWORK.value:
        params["stale_only"] = request.form.get("stale_only") == "1"
    if kind_value == JobKind.REMIND.value:
        params = {}
    try:
        job = ops.submit(kind_value, user, params)
    except ValidationError as error:
        return _index(errors=error.fields or {"kind": [error.message]}, status=400)
    flash(_("Tugas #%(id)d dimulai.", id=job.id), "success")
    return redirect(url_for("jobs.detail", job_id=job.id), 303)
