"""Background jobs on the local backend: an export job end to end (page, API, download),
the real process pool once, failures (nothing kept), Redis unreachable (fallback or clear
failure), stale jobs, the other kinds, access (404 for anyone else's job) and the CLI."""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry
from coopdesa.db import utcnow
from coopdesa.documents import export as X
from coopdesa.documents.models import AgreementDocument
from coopdesa.errors import AccessDenied, ValidationError
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.jobs import operations as ops
from coopdesa.jobs import queue
from coopdesa.jobs.models import Job, JobKind, JobState
from coopdesa.network.models import NetworkResult
from tests.conftest import BANJARNEGARA, DIENG, WONOSOBO
from tests.factories import AdminFactory, UserFactory
from tests.test_documents_export import direct_agreement, signed_unrendered

UNREACHABLE_REDIS = "redis://127.0.0.1:6390/1"


def auditor(jurisdiction: str = WONOSOBO):
    return UserFactory(role=Role.AUDITOR, jurisdiction_code=jurisdiction)


def reload(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def zip_refs(data: bytes) -> list[str]:
    bundle = zipfile.ZipFile(io.BytesIO(data))
    assert bundle.testzip() is None
    return [row["ref"] for row in json.loads(bundle.read("manifest.json"))]


def actions(object_id: int | None = None) -> list[str]:
    stmt = sa.select(AuditEntry.action).where(AuditEntry.object_type == "job")
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def zip_files() -> int:
    return db.session.scalar(sa.select(sa.func.count(StoredFile.id)).where(
        StoredFile.content_type == "application/zip")) or 0


# --- an export job, end to end ---------------------------------------------------------

def test_export_job_from_the_export_page_to_the_download(app, login):
    a = direct_agreement()
    b = direct_agreement(desa_codes=(DIENG,), kind="pihak_ketiga", state="signed")
    user = auditor()
    client = login(user)

    page = client.get("/ekspor/", query_string={"jenis": "antar_desa"}).get_data(as_text=True)
    assert 'action="/tugas/ekspor"' in page and "Siapkan di latar belakang" in page
    assert 'name="csrf_token"' in page and 'name="jenis" value="antar_desa"' in page

    response = client.post("/tugas/ekspor", data={})
    assert response.status_code == 303
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    job = reload(job_id)
    assert (job.kind, job.state, job.backend) == (JobKind.EXPORT, JobState.SUCCEEDED, "local")
    assert (job.done, job.total) == (2, 2) and job.owner_id == user.id
    assert job.result_file is not None and job.result_file.content_type == "application/zip"
    assert "Ekspor selesai: 2 kerja sama" in job.message
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at

    detail = client.get(f"/tugas/{job_id}").get_data(as_text=True)
    assert 'data-state="succeeded"' in detail and "Selesai" in detail
    assert f'href="/tugas/{job_id}/unduh"' in detail
    assert 'value="2" max="2"' in detail  # the progress bar, without inline style
    assert 'http-equiv="refresh"' not in detail  # finished: no more refreshing

    download = client.get(f"/tugas/{job_id}/unduh")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert sorted(zip_refs(download.data)) == sorted([a.proposal.ref, b.proposal.ref])

    listing = client.get("/tugas/").get_data(as_text=True)
    assert f'data-job-id="{job_id}"' in listing
    assert actions(job_id) == ["job.submit", "job.finish"]
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "document.export")) == 1


def test_export_job_keeps_the_filters_and_refuses_bad_ones_on_the_export_page(app, login):
    a = direct_agreement()
    direct_agreement(desa_codes=(DIENG,), kind="pihak_ketiga")
    client = login(auditor())
    response = client.post("/tugas/ekspor", data={"jenis": "antar_desa"})
    job = reload(int(response.headers["Location"].rsplit("/", 1)[-1]))
    assert job.params == {"jenis": "antar_desa"}
    assert zip_refs(client.get(f"/tugas/{job.id}/unduh").data) == [a.proposal.ref]

    bad = client.post("/tugas/ekspor", data={"tahun": "1999"})
    assert bad.status_code == 400 and "Tahun harus bilangan" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1


def test_the_real_process_pool_runs_an_export(app, monkeypatch):
    """Once, the real thing: a spawned pool process builds its own app from the
    submitting app's settings and writes to the same database."""
    a = direct_agreement()
    user = auditor()
    monkeypatch.setitem(app.config, "JOBS_EAGER", False)
    monkeypatch.setitem(app.config, "JOB_WORKERS", 1)
    try:
        job = ops.submit("export", user, {})
        assert job.state in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)
        future = queue.FUTURES.get(job.id)
        if future is not None:
            assert future.result(timeout=300) == "succeeded"
    finally:
        queue.shutdown_local(wait=True)
    job = reload(job.id)
    assert job.state == JobState.SUCCEEDED, job.message
    assert (job.done, job.total, job.backend) == (1, 1, "local")
    from coopdesa.files import storage

    assert zip_refs(storage.read(job.result_file)) == [a.proposal.ref]


# --- failures ----------------------------------------------------------------------------

def test_a_full_disk_fails_the_job_clearly_and_keeps_no_file(app, login, monkeypatch):
    direct_agreement()
    user = auditor()

    def full(self, zf, user):
        raise OSError(errno.ENOSPC, "No space left on device")
        yield b""  # pragma: no cover

    monkeypatch.setattr(X._Bundle, "_audit", full)
    before = db.session.scalar(sa.select(sa.func.count(StoredFile.id)))
    job = ops.submit("export", user, {})
    assert job.state == JobState.FAILED and job.result_file_id is None
    assert "Ruang disk server penuh" in job.message
    assert job.finished_at is not None
    assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == before
    assert actions(job.id) == ["job.submit", "job.fail"]

    page = login(user).get(f"/tugas/{job.id}").get_data(as_text=True)
    assert 'data-state="failed"' in page and "Ruang disk server penuh" in page
    assert "/unduh" not in page
    response = login(user).get(f"/tugas/{job.id}/unduh")
    assert response.status_code == 404


def test_an_error_while_storing_the_result_rolls_it_back(app, monkeypatch):
    direct_agreement()
    original = ops.store_result

    def store_then_fail(*args, **kwargs):
        original(*args, **kwargs)  # flushed, then the transaction fails
        raise RuntimeError("database went away")

    monkeypatch.setattr(ops, "store_result", store_then_fail)
    job = ops.submit("export", auditor(), {})
    assert job.state == JobState.FAILED and "RuntimeError" in job.message
    assert zip_files() == 0 and job.result_file_id is None


def test_a_job_that_outlives_its_timeout_is_failed_and_its_late_result_discarded(app,
                                                                               login):
    user = auditor()
    old = utcnow() - dt.timedelta(seconds=app.config["JOB_TIMEOUT"] + 120)
    job = Job(kind=JobKind.EXPORT, owner_id=user.id, params={}, state=JobState.RUNNING,
              backend="local", created_at=old, started_at=old, updated_at=old)
    db.session.add(job)
    db.session.commit()
    page = login(user).get(f"/tugas/{job.id}").get_data(as_text=True)
    assert 'data-state="failed"' in page and "batas waktu" in page
    # The process comes back late with a result: nothing is stored.
    assert ops.finish(job.id, "selesai", result=(b"PK\x05\x06" + b"\0" * 18, "x.zip",
                                                 "application/zip")) is False
    assert zip_files() == 0 and reload(job.id).state == JobState.FAILED


def test_a_job_is_run_once_even_if_handed_over_twice(app):
    from coopdesa.jobs import tasks

    job = ops.submit("export", auditor(), {})
    assert job.state == JobState.SUCCEEDED
    assert tasks.run_job(job.id) == "skipped"
    assert actions(job.id) == ["job.submit", "job.finish"]


# --- Redis configured but unreachable ------------------------------------------------------

def test_unreachable_redis_falls_back_to_the_local_pool_and_says_so(app, login, monkeypatch):
    a = direct_agreement()
    monkeypatch.setitem(app.config, "REDIS_URL", UNREACHABLE_REDIS)
    user = auditor()
    job = ops.submit("export", user, {})
    assert job.state == JobState.SUCCEEDED and job.backend == "local" and job.rq_id is None
    assert "Redis tidak dapat dihubungi" in job.note
    assert zip_refs(login(user).get(f"/tugas/{job.id}/unduh").data) == [a.proposal.ref]
    assert actions(job.id) == ["job.submit", "job.fallback", "job.finish"]
    assert "Redis tidak dapat dihubungi" in login(user).get(f"/tugas/{job.id}").get_data(
        as_text=True)


def test_unreachable_redis_with_fallback_off_fails_the_job_clearly(app, monkeypatch):
    direct_agreement()
    monkeypatch.setitem(app.config, "REDIS_URL", UNREACHABLE_REDIS)
    monkeypatch.setitem(app.config, "JOB_FALLBACK", "fail")
    job = ops.submit("export", auditor(), {})
    assert job.state == JobState.FAILED and job.backend == "rq"
    assert "Redis" in job.message and "tidak dimulai" in job.message
    assert zip_files() == 0
    assert actions(job.id) == ["job.submit", "job.fail"]


# --- the other kinds ---------------------------------------------------------------------

def test_render_job_renders_final_pdfs_never_rendered_in_scope(app, monkeypatch):
    document = signed_unrendered(monkeypatch)
    job = ops.submit("render", AdminFactory(), {"scope": "33.07"})
    assert job.state == JobState.SUCCEEDED, job.message
    assert (job.done, job.total) == (1, 1) and "PDF final dibuat: 1" in job.message
    assert db.session.get(AgreementDocument, document.id).file_id is not None
    again = ops.submit("render", AdminFactory(), {})
    assert (again.done, again.total) == (0, 0) and "PDF final dibuat: 0" in again.message


def test_render_and_network_for_auditors_only_inside_their_jurisdiction(app):
    inside = auditor(WONOSOBO)
    job = ops.submit("network", inside, {"scope": WONOSOBO})
    assert job.state == JobState.SUCCEEDED and job.total == 1
    assert db.session.scalar(sa.select(NetworkResult.scope_code)) == WONOSOBO
    with pytest.raises(AccessDenied, match="yurisdiksi"):
        ops.submit("network", inside, {"scope": BANJARNEGARA})
    with pytest.raises(AccessDenied, match="yurisdiksi"):
        ops.submit("render", inside, {})
    with pytest.raises(AccessDenied, match="administrator"):
        ops.submit("remind", inside, {})
    with pytest.raises(AccessDenied):
        ops.submit("render", UserFactory(role=Role.SEKRETARIS, desa_code=DIENG),
                   {"scope": DIENG})
    with pytest.raises(ValidationError) as refused:
        ops.submit("network", inside, {"scope": "33.07.13"})
    assert "scope" in refused.value.fields


def test_remind_job_creates_the_notices_as_the_command_does(app):
    job = ops.submit("remind", AdminFactory(), {"today": "2026-11-23"})
    assert job.state == JobState.SUCCEEDED and "Pemberitahuan dibuat" in job.message
    with pytest.raises(ValidationError) as refused:
        ops.submit("remind", AdminFactory(), {"today": "23-11-2026"})
    assert "today" in refused.value.fields


def test_admin_starts_jobs_from_the_jobs_page(app, login):
    client = login(AdminFactory())
    page = client.get("/tugas/").get_data(as_text=True)
    assert 'action="/tugas/mulai"' in page and 'value="network"' in page
    response = client.post("/tugas/mulai", data={"kind": "network", "scope": "33.07"})
    assert response.status_code == 303
    bad = client.post("/tugas/mulai", data={"kind": "network", "scope": "99.99"})
    assert bad.status_code == 400 and "tidak terdaftar" in bad.get_data(as_text=True)


# --- access ------------------------------------------------------------------------------

def test_only_the_owner_and_admins_see_a_job_others_get_404(app, client, login, api):
    direct_agreement()
    owner = auditor(WONOSOBO)
    job = ops.submit("export", owner, {})
    paths = (f"/tugas/{job.id}", f"/tugas/{job.id}/unduh")

    elsewhere = auditor(BANJARNEGARA)
    secretary = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    for other in (elsewhere, secretary):
        c = login(other)
        for path in paths:
            assert c.get(path).status_code == 404, (other.role, path)
        assert f'data-job-id="{job.id}"' not in c.get("/tugas/").get_data(as_text=True)
        for path in (f"/jobs/{job.id}", f"/jobs/{job.id}/result"):
            response = api(other).get(path)
            assert response.status_code == 404
            assert response.get_json()["error"]["code"] == "not_found"
        c.post("/keluar")

    admin = login(AdminFactory())
    assert admin.get(paths[0]).status_code == 200 and admin.get(paths[1]).status_code == 200
    everyone = admin.get("/tugas/", query_string={"semua": "1"}).get_data(as_text=True)
    assert f'data-job-id="{job.id}"' in everyone
    admin.post("/keluar")

    for path in paths + ("/tugas/",):
        response = client.get(path)
        assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    assert client.get(f"/api/v1/jobs/{job.id}").status_code == 401
    assert login(secretary).post("/tugas/ekspor").status_code == 403


# --- the JSON API ----------------------------------------------------------------------------

def test_api_starts_follows_and_downloads_a_job(app, api):
    a = direct_agreement()
    caller = api(auditor())
    response = caller.post("/jobs", json={"kind": "export", "params": {"jenis": "antar_desa"}})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["state"] == "succeeded" and body["kind"] == "export"
    assert body["params"] == {"jenis": "antar_desa"} and body["done"] == body["total"] == 1
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{body['id']}")
    assert body["result"]["url"] == f"/api/v1/jobs/{body['id']}/result"

    one = caller.get(f"/jobs/{body['id']}").get_json()
    assert one["id"] == body["id"] and one["result"]["sha256"] == body["result"]["sha256"]
    assert [j["id"] for j in caller.get("/jobs").get_json()["items"]] == [body["id"]]
    result = caller.get(f"/jobs/{body['id']}/result")
    assert result.status_code == 200 and zip_refs(result.data) == [a.proposal.ref]


def test_api_refuses_bad_input_by_name_and_roles_without_the_right(app, api):
    caller = api(auditor())
    bad_kind = caller.post("/jobs", json={"kind": "mining"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["error"]["fields"]
    unknown = caller.post("/jobs", json={"kind": "export", "params": {"foo": 1}})
    assert unknown.status_code == 422
    assert "params.foo" in unknown.get_json()["error"]["fields"]
    extra = caller.post("/jobs", json={"kind": "export", "owner": 1})
    assert extra.status_code == 422 and "owner" in extra.get_json()["error"]["fields"]
    year = caller.post("/jobs", json={"kind": "export", "params": {"tahun": "1999"}})
    assert year.status_code == 422 and "tahun" in year.get_json()["error"]["fields"]
    secretary = api(UserFactory(role=Role.SEKRETARIS, desa_code=DIENG))
    refused = secretary.post("/jobs", json={"kind": "export"})
    assert refused.status_code == 403
    assert "auditor wilayah" in refused.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_api_result_of_an_unfinished_job_is_a_conflict(app, api):
    user = auditor()
    job = Job(kind=JobKind.EXPORT, owner_id=user.id, params={}, state=JobState.QUEUED,
              backend="rq", rq_id="coopdesa-x", created_at=utcnow(), updated_at=utcnow())
    db.session.add(job)
    db.session.commit()
    response = api(user).get(f"/jobs/{job.id}/result")
    assert response.status_code == 409
    assert api(user).get(f"/jobs/{job.id}").get_json()["state"] == "queued"


def test_jobs_are_in_the_openapi_document(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/jobs"]) == {"get", "post"}
    assert "get" in spec["paths"]["/jobs/{job_id}"]
    assert "get" in spec["paths"]["/jobs/{job_id}/result"]
    assert spec["paths"]["/jobs"]["post"]["requestBody"]["content"]["application/json"][
        "schema"] == {"$ref": "#/components/schemas/JobInput"}
    assert {"Job", "JobList", "JobInput"} <= set(spec["components"]["schemas"])


# --- the command line ------------------------------------------------------------------------

def test_worker_without_redis_explains_and_exits_1(app, runner):
    result = runner.invoke(args=["coopdesa", "worker", "--burst"])
    assert result.exit_code == 1 and "COOPDESA_REDIS_URL" in result.output


def test_cli_starts_and_lists_jobs(app, runner):
    result = runner.invoke(args=["coopdesa", "jobs", "start", "network", "--scope", "33.07"])
    assert result.exit_code == 0, result.output
    assert "network" in result.output and "Selesai" in result.output
    listing = runner.invoke(args=["coopdesa", "jobs", "list"])
    assert listing.exit_code == 0 and "succeeded" in listing.output and "sistem" in listing.output
    bad = runner.invoke(args=["coopdesa", "jobs", "start", "render", "--scope", "99"])
    assert bad.exit_code == 1 and "tidak terdaftar" in bad.output


@pytest.mark.parametrize("who, offered", [
    ("admin", ["render", "network", "remind"]),
    ("auditor", ["render", "network"]),
    ("sekretaris", []),
])
def test_the_jobs_page_offers_what_the_access_rule_allows(app, login, who, offered):
    user = {"admin": AdminFactory, "auditor": auditor,
            "sekretaris": lambda: UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)}[who]()
    db.session.commit()
    client = login(user)
    html = client.get("/tugas/").get_data(as_text=True)
    shown = [kind for kind in ("render", "network", "remind", "export")
             if f'<option value="{kind}"' in html]
    assert shown == offered
    assert ("mulai-judul" in html) == bool(offered)
    if not offered:
        refused = client.post("/tugas/mulai", data={"kind": "render", "scope": WONOSOBO})
        assert refused.status_code == 403
