"""The two backends a job runs on: the RQ queue "coopdesa" in Redis, or the app server's
local process pool (JOB_WORKERS spawned processes, each with its own app)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import weakref
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _

from coopdesa.jobs import operations as ops

log = logging.getLogger(__name__)

QUEUE_NAME = "coopdesa"
#: What the RQ queue calls (a dotted path: the worker imports it).
TASK_PATH = "coopdesa.jobs.tasks.run_job"
#: How long RQ keeps its own record of a job; the Job row is what users read.
RESULT_TTL = 24 * 3600
FAILURE_TTL = 7 * 24 * 3600


# --- Redis / RQ ----------------------------------------------------------------------------

def redis_connection(url: str):
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)


def rq_queue(connection=None):
    from rq import Queue

    return Queue(QUEUE_NAME, connection=connection or redis_connection(ops.redis_url()))


def enqueue_rq(job_id: int, rq_id: str, *, connection=None) -> None:
    timeout = int(current_app.config.get("JOB_TIMEOUT", 3600))
    rq_queue(connection).enqueue(
        TASK_PATH, job_id, job_id=rq_id, job_timeout=timeout, result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL, description=f"coopdesa job {job_id}")


def dispatch(job_id: int) -> None:
    """Hand a committed, queued job to its backend. Redis unreachable: JOB_FALLBACK."""
    from redis.exceptions import RedisError

    from coopdesa.extensions import db
    from coopdesa.jobs.models import Job

    job = db.session.get(Job, job_id)
    if job.backend == "rq":
        try:
            enqueue_rq(job_id, job.rq_id)
            return
        except (RedisError, OSError) as exc:
            log.warning("job %s: Redis unreachable (%s)", job_id, exc)
            if current_app.config.get("JOB_FALLBACK", "local") == "fail":
                ops.fail(job_id, _("Antrean tugas (Redis) tidak dapat dihubungi, sehingga "
                                   "tugas tidak dimulai. Coba lagi beberapa saat lagi atau "
                                   "hubungi administrator."))
                return
            ops.note_fallback(job_id, f"{type(exc).__name__}: {exc}")
    run_local(job_id)


def requeue_lost(connection) -> dict[str, int]:
    """At worker start: queued jobs Redis no longer holds (lost in a Redis restart, or the
    app stopped between commit and enqueue) are enqueued again; running jobs whose RQ job
    is gone or failed are marked failed."""
    import sqlalchemy as sa
    from rq.job import Job as RqJob
    from rq.job import JobStatus

    from coopdesa.extensions import db
    from coopdesa.jobs.models import Job, JobState

    counts = {"requeued": 0, "failed": 0}
    rows = db.session.execute(sa.select(Job.id, Job.state, Job.rq_id).where(
        Job.backend == "rq", Job.state.in_([JobState.QUEUED, JobState.RUNNING]))).all()
    for job_id, state, rq_id in rows:
        status = None
        if rq_id and RqJob.exists(rq_id, connection):
            status = RqJob.fetch(rq_id, connection=connection).get_status()
        if state == JobState.QUEUED and status is None:
            enqueue_rq(job_id, rq_id, connection=connection)
            counts["requeued"] += 1
        elif state == JobState.RUNNING and status in (None, JobStatus.FAILED,
                                                      JobStatus.STOPPED):
            ops.fail(job_id, ops.timeout_message())
            counts["failed"] += 1
    db.session.commit()
    return counts


# --- the local pool ------------------------------------------------------------------------

_executor: ProcessPoolExecutor | None = None
_executor_pid: int | None = None
_lock = threading.Lock()
#: Futures of the local jobs of this process still referenced, by job id (tests wait on
#: them; a finished one may be gone).
FUTURES: weakref.WeakValueDictionary[int, Future] = weakref.WeakValueDictionary()


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def forwarded_config(app: Flask) -> dict[str, Any]:
    """The app's settings a pool process builds its own app with (its database, ...)."""
    return {key: value for key, value in app.config.items()
            if key.isupper() and _plain(value) and key != "JOBS_EAGER"}


def executor(workers: int) -> ProcessPoolExecutor:
    """The pool of this process (re-made after a fork, or once broken)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ProcessPoolExecutor(
                max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn"))
            _executor_pid = os.getpid()
        return _executor


def shutdown_local(wait: bool = True) -> None:
    global _executor
    with _lock:
        pool, _executor = _executor, None
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=not wait)


def run_local(job_id: int) -> None:
    from coopdesa.jobs import tasks

    app = current_app._get_current_object()
    if app.config.get("JOBS_EAGER"):
        tasks.run_job(job_id)
        return
    config = forwarded_config(app)
    try:
        future = executor(int(app.config.get("JOB_WORKERS", 2))).submit(
            tasks.run_job, job_id, config)
    except RuntimeError:  # broken or shut down: one new pool, once
        shutdown_local(wait=False)
        future = executor(int(app.config.get("JOB_WORKERS", 2))).submit(
            tasks.run_job, job_id, config)
    FUTURES[job_id] = future

    def done(f: Future) -> None:
        exc = f.exception()
        if exc is None:
            return
        # The pool process died (killed, out of memory) before the task could say so.
        log.error("local job %s: %s", job_id, exc)
        with app.app_context():
            ops.fail(job_id, _("Proses yang menjalankan tugas berhenti sebelum tugas "
                               "selesai (%(error)s). Tidak ada hasil yang tersimpan; "
                               "jalankan lagi.", error=type(exc).__name__))

    future.add_done_callback(done)
