"""JSON API of background jobs: list mine, read one, download its result, start one."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa.accounts.models import Role
from coopdesa.api import endpoint, int_arg, json_body, path_param, query_param
from coopdesa.api.openapi import SCHEMAS
from coopdesa.errors import ConflictError, NotFoundError
from coopdesa.files.views import send_stored
from coopdesa.jobs import operations as ops
from coopdesa.jobs.models import Job, JobKind, JobState

TAG = "jobs"
JOB_ID = path_param("job_id", "Job id", type_="integer")
_str = {"type": "string"}
_nullable = {"type": ["string", "null"]}
_time = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS.update({
    "Job": {
        "type": "object",
        "required": ["id", "kind", "state", "done", "total", "message", "backend",
                     "params", "created_at", "result"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in JobKind]},
            "kind_label": _str,
            "state": {"type": "string", "enum": [s.value for s in JobState]},
            "state_label": _str,
            "done": {"type": "integer", "minimum": 0},
            "total": {"type": ["integer", "null"]},
            "percent": {"type": ["integer", "null"]},
            "message": {**_nullable, "description": "The outcome, or why it failed "
                                                    "(Indonesian)."},
            "note": {**_nullable, "description": "E.g. that Redis was unreachable and the "
                                                 "app server ran the job itself."},
            "backend": {"type": "string", "enum": ["rq", "local"]},
            "params": {"type": "object"},
            "owner": _nullable,
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": _time,
            "finished_at": _time,
            "result": {
                "type": ["object", "null"],
                "properties": {"url": _str, "name": _str, "content_type": _str,
                               "size": {"type": "integer"}, "sha256": _str},
            },
        },
    },
    "JobList": {"type": "object", "required": ["items"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/Job"}}}},
    "JobInput": {
        "type": "object", "additionalProperties": False, "required": ["kind"],
        "properties": {
            "kind": {"type": "string", "enum": [k.value for k in JobKind]},
            "params": {
                "type": "object",
                "description": "export: wilayah, kecamatan, tahun, status, jenis (as "
                               "/exports/agreements.zip); render: scope (a region code); "
                               "network: scope (provinsi or kabupaten code), stale_only; "
                               "remind: today (YYYY-MM-DD).",
            },
        },
    },
})


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def job_dict(job: Job) -> dict[str, Any]:
    result = None
    if job.result_file is not None:
        f = job.result_file
        result = {"url": url_for("api.job_result", job_id=job.id), "name": f.original_name,
                  "content_type": f.content_type, "size": f.size, "sha256": f.sha256}
    return {
        "id": job.id, "kind": job.kind.value, "kind_label": job.kind.label,
        "state": job.state.value, "state_label": job.state.label, "done": job.done,
        "total": job.total, "percent": job.percent, "message": job.message,
        "note": job.note, "backend": job.backend, "params": job.params or {},
        "owner": job.owner.username if job.owner else None,
        "created_at": job.created_at.isoformat(), "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at), "result": result,
    }


@endpoint("/jobs", summary="My background jobs, newest first", tag=TAG,
          params=[query_param("limit", "At most this many", type_="integer", minimum=1,
                              maximum=200),
                  query_param("all", "Admins: every user's jobs", enum=["0", "1"])],
          responses={200: "JobList", 422: "Error"})
def list_jobs():
    user = current_user._get_current_object()
    limit = int_arg("limit", ops.PAGE_SIZE, high=200)
    ops.expire_stale()
    everyone = user.role == Role.ADMIN and request.args.get("all") == "1"
    return jsonify({"items": [job_dict(j) for j in ops.jobs_for(user, limit=limit,
                                                                 everyone=everyone)]})


@endpoint("/jobs/<int:job_id>", summary="A background job: state, progress, result", tag=TAG,
          params=[JOB_ID], responses={200: "Job", 404: "Error"},
          description="Another user's job answers 404, as one that does not exist.")
def get_job(job_id: int):
    ops.expire_stale()
    return jsonify(job_dict(ops.get_job(job_id, current_user)))


@endpoint("/jobs/<int:job_id>/result", summary="Download a job's result (e.g. the export "
          "ZIP)", tag=TAG, params=[JOB_ID], responses={200: None, 404: "Error", 409: "Error"},
          description="409 while the job has not finished; 404 if it ended without a "
                      "result file.")
def job_result(job_id: int):
    job = ops.get_job(job_id, current_user)
    if job.result_file is None:
        if not job.state.finished:
            raise ConflictError(_("Tugas belum selesai; coba lagi setelah statusnya "
                                  "succeeded."))
        raise NotFoundError(_("Tugas ini tidak memiliki berkas hasil."))
    return send_stored(job.result_file)


@endpoint("/jobs", method="POST", summary="Start a background job", tag=TAG,
          body="JobInput", responses={202: "Job", 403: "Error", 422: "Error"},
          description="export needs the export right (auditors, admins); render and "
                      "network admins, and auditors for a scope inside their jurisdiction; "
                      "remind admins. Answers 202 with the job; follow it at "
                      "/jobs/{job_id}.")
def start_job():
    data = json_body({"kind", "params"})
    job = ops.submit(ops.parse_kind(data.get("kind")), current_user._get_current_object(),
                     data.get("params"))
    response = jsonify(job_dict(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_job", job_id=job.id)
    return response
