"""Background jobs on the RQ backend with the real Redis at 127.0.0.1:6379, database 1
(flushed before and after each test, and only that one): enqueued after the commit, run
by rq's SimpleWorker in burst mode in this process, jobs lost by Redis enqueued again when
a worker starts, and ``flask coopdesa worker --burst`` itself."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.extensions import db
from coopdesa.jobs import operations as ops
from coopdesa.jobs import queue
from coopdesa.jobs.models import Job, JobState
from tests.conftest import WONOSOBO, redis_database
from tests.factories import AdminFactory, UserFactory
from tests.test_documents_export import direct_agreement

REDIS_URL = "redis://127.0.0.1:6379/1"


@pytest.fixture
def redis_conn(app, monkeypatch):
    with redis_database(app, monkeypatch, REDIS_URL) as connection:
        yield connection


def burst(connection) -> None:
    from rq import SimpleWorker

    worker = SimpleWorker([queue.rq_queue(connection)], connection=connection)
    worker.work(burst=True)


def reload(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def refs(data: bytes) -> list[str]:
    return [row["ref"] for row in json.loads(zipfile.ZipFile(io.BytesIO(data))
                                             .read("manifest.json"))]


def test_export_job_runs_on_the_rq_queue(app, redis_conn, api):
    a = direct_agreement()
    user = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    caller = api(user)
    response = caller.post("/jobs", json={"kind": "export"})
    assert response.status_code == 202
    body = response.get_json()
    assert (body["state"], body["backend"], body["result"]) == ("queued", "rq", None)
    job = reload(body["id"])
    rq_queue = queue.rq_queue(redis_conn)
    assert rq_queue.job_ids == [job.rq_id]
    assert caller.get(f"/jobs/{job.id}/result").status_code == 409

    burst(redis_conn)
    job = reload(job.id)
    assert job.state == JobState.SUCCEEDED, job.message
    assert (job.done, job.total) == (1, 1)
    result = caller.get(f"/jobs/{job.id}/result")
    assert result.status_code == 200 and refs(result.data) == [a.proposal.ref]
    assert rq_queue.count == 0


def test_a_failing_task_on_the_queue_fails_the_job_with_its_reason(app, redis_conn,
                                                                   monkeypatch):
    from coopdesa.documents import export as X

    direct_agreement()

    def boom(self, zf, user):
        raise RuntimeError("renderer crashed")
        yield b""  # pragma: no cover

    monkeypatch.setattr(X._Bundle, "_audit", boom)
    job = ops.submit("export", UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO))
    burst(redis_conn)
    job = reload(job.id)
    assert job.state == JobState.FAILED and "RuntimeError" in job.message
    assert job.result_file_id is None


def test_jobs_lost_by_redis_are_enqueued_again_when_a_worker_starts(app, redis_conn):
    job = ops.submit("network", AdminFactory(), {"scope": "33.07"})
    assert reload(job.id).state == JobState.QUEUED
    redis_conn.flushdb()  # Redis restarted without its data
    running = Job(kind=job.kind, owner_id=job.owner_id, params={}, state=JobState.RUNNING,
                  backend="rq", rq_id="coopdesa-gone", created_at=job.created_at,
                  started_at=job.created_at, updated_at=job.created_at)
    db.session.add(running)
    db.session.commit()

    assert queue.requeue_lost(redis_conn) == {"requeued": 1, "failed": 1}
    assert reload(running.id).state == JobState.FAILED
    burst(redis_conn)
    assert reload(job.id).state == JobState.SUCCEEDED
    assert queue.requeue_lost(redis_conn) == {"requeued": 0, "failed": 0}


def test_the_worker_command_runs_the_queue_in_burst_mode(app, redis_conn, runner):
    job = ops.submit("remind", AdminFactory(), {"today": "2026-11-23"})
    job_id = job.id
    assert job.state == JobState.QUEUED
    result = runner.invoke(args=["coopdesa", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    job = reload(job_id)
    assert job.state == JobState.SUCCEEDED, job.message
    assert "Pemberitahuan dibuat" in job.message
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1


def test_a_killed_work_horse_fails_its_job_at_once(app, redis_conn, runner, monkeypatch):
    import os
    import signal

    from coopdesa.jobs import tasks
    from coopdesa.jobs.models import JobKind

    def killed(owner, params, progress):
        progress.set_total(3)
        os.kill(os.getpid(), signal.SIGKILL)  # the forked work horse, not this process

    monkeypatch.setitem(tasks.TASKS, JobKind.REMIND, killed)
    job = ops.submit("remind", AdminFactory(), {})
    job_id = job.id
    result = runner.invoke(args=["coopdesa", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    job = reload(job_id)
    assert job.state == JobState.FAILED and "berhenti sebelum tugas selesai" in job.message
    assert (job.done, job.total) == (0, 3) and job.result_file_id is None
