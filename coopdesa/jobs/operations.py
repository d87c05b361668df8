"""Starting, following and ending background jobs.

:func:`submit` checks the parameters and the right to start the job, commits the Job row
(with its ``job.submit`` audit entry) and only then hands it to a backend
(:mod:`coopdesa.jobs.queue`): the RQ queue "coopdesa" in Redis when COOPDESA_REDIS_URL is
set, else the app server's local process pool.

Redis configured but unreachable (JOB_FALLBACK): by default ("local") the job runs in the
local pool instead and the job says so in its ``note`` (and the audit entry
``job.fallback``); with "fail" it is marked failed at once with the reason. Either way the
job row exists and ends succeeded or failed: a job is never dropped silently. A job that
is still queued (local pool) or running JOB_TIMEOUT seconds (plus a grace minute) after it
started is marked failed when jobs are next read (:func:`expire_stale`), e.g. after its
process was killed; its late result, if any, is then discarded.

A task reports progress with :class:`Progress`; its work is committed in whole units (a
stored PDF, a kabupaten's network result); the job's result file is stored in the same
transaction that marks it succeeded, so a failed job leaves no result behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import time
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa import access
from coopdesa.access import Action, JobStart
from coopdesa.accounts.models import Role, User
from coopdesa.audit import operations as audit
from coopdesa.db import is_id, utcnow
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.jobs.models import Job, JobKind, JobState

log = logging.getLogger(__name__)

#: Seconds between two progress writes of one job (the last one is always written).
PROGRESS_INTERVAL = 1.0
#: Beyond JOB_TIMEOUT, how long a job may stay unfinished before it is marked failed.
GRACE_SECONDS = 60
#: Jobs shown per page.
PAGE_SIZE = 50
EXPORT_KEYS = ("wilayah", "kecamatan", "tahun", "status", "jenis")
PARAM_KEYS = {
    JobKind.EXPORT: set(EXPORT_KEYS),
    JobKind.RENDER: {"scope"},
    JobKind.NETWORK: {"scope", "stale_only"},
    JobKind.REMIND: {"today"},
}


# --- parameters ----------------------------------------------------------------------------

def parse_kind(value: Any) -> JobKind:
    try:
        return JobKind(str(value or "").strip())
    except ValueError:
        message = _("Jenis tugas harus salah satu dari: %(kinds)s.",
                    kinds=", ".join(k.value for k in JobKind))
        raise ValidationError(message, fields={"kind": [message]}) from None


def _scope_arg(params: dict[str, Any], *, max_level: int | None = None) -> str | None:
    from coopdesa.regions.models import Region
    from coopdesa.regions.operations import looks_like_code, normalize_code

    raw = str(params.get("scope") or "").strip()[:40]
    if not raw:
        return None
    message = None
    code = normalize_code(raw) if looks_like_code(raw) else None
    region = db.session.get(Region, code) if code else None
    if region is None:
        message = _("Kode wilayah %(code)s tidak terdaftar; tulis seperti 33.07.", code=raw)
    elif max_level is not None and region.level > max_level:
        message = _("Cakupan %(code)s bukan kode provinsi atau kabupaten/kota (misalnya 33 "
                    "atau 33.07).", code=code)
    if message:
        raise ValidationError(message, fields={"scope": [message]})
    return code


def clean_params(kind: JobKind, params: Any, owner: Any) -> tuple[dict[str, Any], str | None]:
    """The parameters of a ``kind`` job as stored, and the region it concerns. Unknown
    keys and bad values are refused by name."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        message = _("Parameter tugas harus berupa objek.")
        raise ValidationError(message, fields={"params": [message]})
    unknown = sorted(set(params) - PARAM_KEYS[kind])
    if unknown:
        message = _("Parameter tidak dikenal untuk tugas ini.")
        raise ValidationError(_("Parameter tidak dikenal: %(names)s.", names=", ".join(unknown)),
                              fields={f"params.{name}": [message] for name in unknown})
    if kind == JobKind.EXPORT:
        from coopdesa.documents.export import ExportFilters

        filters = ExportFilters.parse(params, owner)
        return filters.as_args(), filters.wilayah or filters.kecamatan
    if kind == JobKind.RENDER:
        scope = _scope_arg(params)
        return {"scope": scope}, scope
    if kind == JobKind.NETWORK:
        scope = _scope_arg(params, max_level=2)
        stale = params.get("stale_only", False)
        if isinstance(stale, str):
            stale = stale.strip().lower() in ("1", "true", "ya", "on", "yes")
        if not isinstance(stale, bool):
            message = _("stale_only harus true atau false.")
            raise ValidationError(message, fields={"stale_only": [message]})
        return {"scope": scope, "stale_only": stale}, scope
    raw = str(params.get("today") or "").strip()
    if raw:
        try:
            dt.date.fromisoformat(raw)
        except ValueError:
            message = _("Tanggal tidak valid; gunakan format TTTT-BB-HH (misalnya 2026-11-22).")
            raise ValidationError(message, fields={"today": [message]}) from None
    return {"today": raw or None}, None


# --- starting ------------------------------------------------------------------------------

def redis_url() -> str | None:
    return current_app.config.get("REDIS_URL") or None


def submit(kind: Any, owner: User | None, params: Any = None) -> Job:
    """Start a job for ``owner`` (None: the system, from the command line). Commits the
    Job row, then enqueues it; returns it (possibly finished already, in tests)."""
    from coopdesa.jobs import queue

    kind = parse_kind(kind)
    cleaned, scope = clean_params(kind, params, owner)
    if owner is not None:
        access.require(owner, Action.CREATE, JobStart(kind.value, scope))
    backend = "rq" if redis_url() else "local"
    job = Job(kind=kind, owner_id=owner.id if owner is not None else None, params=cleaned,
              state=JobState.QUEUED, done=0, backend=backend,
              rq_id=f"coopdesa-{secrets.token_hex(8)}" if backend == "rq" else None,
              created_at=utcnow(), updated_at=utcnow())
    db.session.add(job)
    db.session.flush()
    audit.record("job.submit", user=owner, object_type="job", object_id=job.id,
                 summary=_l("Tugas latar belakang #%(id)d dimulai: %(kind)s",
                            id=job.id, kind=kind.value),
                 after={"kind": kind.value, "params": cleaned, "backend": backend})
    db.session.commit()
    job_id = job.id
    queue.dispatch(job_id)
    db.session.expire_all()
    return db.session.get(Job, job_id)


def note_fallback(job_id: int, reason: str) -> None:
    """Redis was unreachable: the job moves to the local pool, and says so."""
    job = db.session.get(Job, job_id)
    job.backend = "local"
    job.rq_id = None
    job.note = _("Antrean Redis tidak dapat dihubungi saat tugas dimulai; tugas dijalankan "
                 "oleh server aplikasi.")
    audit.record("job.fallback", object_type="job", object_id=job.id,
                 summary=_l("Redis tidak dapat dihubungi; tugas #%(id)d dijalankan di server "
                            "aplikasi", id=job.id),
                 after={"reason": reason[:200]})
    db.session.commit()


# --- running -------------------------------------------------------------------------------

def claim(job_id: int) -> bool:
    """Mark the job running if it is still queued; False if it was taken or ended."""
    now = utcnow()
    updated = db.session.execute(
        sa.update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, started_at=now, updated_at=now)).rowcount
    db.session.commit()
    return bool(updated)


class Progress:
    """``done`` of ``total`` for one job, written (and committed with the task's finished
    units) at most every PROGRESS_INTERVAL seconds, and always when done reaches total."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.done = 0
        self.total: int | None = None
        self._written = 0.0

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._write()

    def __call__(self, done: int, total: int | None = None) -> None:
        """``progress(done, total)`` as network.store.compute_all calls it."""
        self.done = done
        if total is not None:
            self.total = total
        if (self.total is not None and self.done >= self.total) or (
                time.monotonic() - self._written >= PROGRESS_INTERVAL):
            self._write()

    def advance(self, n: int = 1) -> None:
        """``progress(1)`` after each unit, as documents.export.export calls it."""
        self(self.done + n)

    def _write(self) -> None:
        db.session.execute(sa.update(Job).where(Job.id == self.job_id, Job.state ==
                                                JobState.RUNNING)
                           .values(done=self.done, total=self.total, updated_at=utcnow()))
        db.session.commit()
        self._written = time.monotonic()


def store_result(source: IO[bytes] | bytes, name: str, content_type: str,
                 owner_id: int | None) -> StoredFile:
    """Keep a job's result as a StoredFile, where every file is kept (the database by
    default); flushes."""
    data = source if isinstance(source, bytes) else source.read()
    extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
    stored = StoredFile(name=f"{secrets.token_hex(16)}.{extension}"[:80],
                        original_name=name[:200], content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), created_by_id=owner_id)
    try:
        from coopdesa.files import storage
    except ImportError:  # a tree without the object store: the bytes go in the row
        stored.data = data
    else:
        storage.put(stored, data)  # the row, or the object store when one is configured
    db.session.add(stored)
    db.session.flush()
    return stored


def finish(job_id: int, message: str, *, result: tuple[Any, str, str] | None = None,
           done: int | None = None) -> bool:
    """Mark the job succeeded with ``message`` and its ``result`` (source, name, content
    type), in one transaction; False (nothing stored) if it was no longer running."""
    job = db.session.get(Job, job_id)
    if job is None or job.state != JobState.RUNNING:
        db.session.rollback()
        log.warning("job %s finished but is no longer running; result discarded", job_id)
        return False
    file_id = None
    if result is not None:
        file_id = store_result(result[0], result[1], result[2], job.owner_id).id
    now = utcnow()
    values: dict[str, Any] = {"state": JobState.SUCCEEDED, "message": message[:500],
                              "result_file_id": file_id, "finished_at": now,
                              "updated_at": now}
    if done is not None:
        values.update(done=done, total=max(done, job.total or 0))
    elif job.total is not None:
        values["done"] = job.total
    updated = db.session.execute(sa.update(Job).where(
        Job.id == job_id, Job.state == JobState.RUNNING).values(**values)).rowcount
    if not updated:
        db.session.rollback()
        return False
    audit.record("job.finish", user=job.owner, object_type="job", object_id=job_id,
                 summary=_l("Tugas latar belakang #%(id)d selesai", id=job_id),
                 after={"kind": job.kind.value, "result_file_id": file_id})
    db.session.commit()
    return True


def fail(job_id: int, message: str) -> bool:
    """Mark an unfinished job failed with ``message`` (nothing of its result is kept)."""
    db.session.rollback()
    now = utcnow()
    updated = db.session.execute(
        sa.update(Job).where(Job.id == job_id,
                             Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .values(state=JobState.FAILED, message=str(message)[:500], finished_at=now,
                updated_at=now)).rowcount
    if not updated:
        db.session.rollback()
        return False
    job = db.session.get(Job, job_id)
    audit.record("job.fail", user=job.owner, object_type="job", object_id=job_id,
                 summary=_l("Tugas latar belakang #%(id)d gagal", id=job_id),
                 after={"kind": job.kind.value, "message": str(message)[:300]})
    db.session.commit()
    return True


def failure_message(exc: BaseException) -> str:
    """What a user reads when a task raised ``exc``."""
    import errno

    from coopdesa.errors import DomainError

    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return _("Ruang disk server penuh, sehingga berkas hasil tidak dapat ditulis. Tidak "
                 "ada berkas yang tersimpan; hubungi administrator lalu jalankan lagi.")
    name = type(exc).__name__
    if name == "JobTimeoutException":
        return timeout_message()
    return _("Tugas gagal karena kesalahan di server (%(error)s). Kesalahan ini telah "
             "dicatat; jalankan lagi atau hubungi administrator.", error=name)


def timeout_message() -> str:
    return _("Tugas tidak selesai dalam batas waktu %(minutes)d menit, atau proses yang "
             "menjalankannya berhenti. Tidak ada hasil yang tersimpan; jalankan lagi.",
             minutes=max(1, int(current_app.config.get("JOB_TIMEOUT", 3600)) // 60))


def expire_stale() -> int:
    """Mark failed the jobs that should have ended by now (their process died or hung):
    running longer than JOB_TIMEOUT plus a grace minute, or waiting as long in the local
    pool. Jobs waiting in Redis stay: they run when a worker comes back."""
    limit = utcnow() - dt.timedelta(
        seconds=int(current_app.config.get("JOB_TIMEOUT", 3600)) + GRACE_SECONDS)
    stale = list(db.session.scalars(sa.select(Job.id).where(sa.or_(
        sa.and_(Job.state == JobState.RUNNING, Job.started_at < limit),
        sa.and_(Job.state == JobState.QUEUED, Job.backend == "local",
                Job.created_at < limit)))))
    for job_id in stale:
        fail(job_id, timeout_message())
    return len(stale)


# --- reading -------------------------------------------------------------------------------

def jobs_for(user: User, *, limit: int = PAGE_SIZE, everyone: bool = False) -> list[Job]:
    """The user's jobs, newest first (an admin's ``everyone``: all jobs)."""
    stmt = sa.select(Job).order_by(Job.id.desc()).limit(limit)
    if not (everyone and user.role == Role.ADMIN):
        stmt = stmt.where(Job.owner_id == user.id)
    return list(db.session.scalars(stmt))


def get_job(job_id: Any, user: User) -> Job:
    """The job, if ``user`` may see it; anyone else's answers NotFoundError (404)."""
    job = db.session.get(Job, job_id) if is_id(job_id) else None
    if job is None or not access.can(user, Action.VIEW, job):
        raise NotFoundError(_("Tugas tidak ditemukan."))
    return job
