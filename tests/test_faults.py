"""Faults: a process killed in the middle of a write, a full disk or a crashing renderer
during an export, a streamed export cut off mid-way, and Redis gone from under the rate
limiter. Each must end in a clear error and leave no partial record, file or ZIP.

(PostgreSQL restarted under load is measured by bench/faults.py, not here: it restarts a
server other tests share.)"""

from __future__ import annotations

import contextvars
import errno
import io
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from coopdesa.audit.models import AuditEntry
from coopdesa.audit.operations import verify_chain
from coopdesa.documents import cli as export_cli
from coopdesa.documents import render as R
from coopdesa.documents.cli import export_command
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.proposals.models import Proposal, ProposalParty
from tests.conftest import DIENG, PATAKBANTENG, SEMBUNGAN, TIENG
from tests.factories import AdminFactory, BkadFactory, UserFactory
from tests.test_documents_export import direct_agreement, fake_pdf

#: Run by the child process: create a proposal with three parties and its audit entry,
#: flush, report what it wrote (seen inside its own transaction), then wait before the
#: commit until it is killed.
CHILD = textwrap.dedent("""
    import json, sys, time
    import sqlalchemy as sa
    from sqlalchemy.orm import Session
    from coopdesa import create_app
    from coopdesa.extensions import db

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                      "SERVER_NAME": "localhost"})

    @sa.event.listens_for(Session, "before_commit")
    def pause(session):
        session.flush()
        pid = session.info["proposal_id"]
        seen = {
            "proposal_id": pid,
            "parties": session.execute(sa.text(
                "SELECT count(*) FROM proposal_party WHERE proposal_id = :p"), {"p": pid}
            ).scalar(),
            "audit": session.execute(sa.text(
                "SELECT count(*) FROM audit_entry WHERE proposal_id = :p"), {"p": pid}
            ).scalar(),
        }
        print(json.dumps(seen), flush=True)
        time.sleep(120)  # the parent kills us here, after the flush, before the commit

    with app.app_context():
        from coopdesa.accounts.models import User
        from coopdesa.proposals import operations as ops

        user = db.session.get(User, int(sys.argv[2]))
        proposal = ops.create_proposal(user, kind="antar_desa", initiative="desa",
                                       title="Usulan yang tidak pernah tersimpan",
                                       partner_desa_codes=sys.argv[3:])
        db.session.info["proposal_id"] = proposal.id
        db.session.commit()
    print("committed", flush=True)
""")


def test_a_process_killed_after_its_flush_leaves_no_partial_record(app, tmp_path):
    BkadFactory(desa_codes=[DIENG, SEMBUNGAN, TIENG])
    author = UserFactory(desa_code=DIENG)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    db.session.commit()
    url = db.engine.url.render_as_string(hide_password=False)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(script), url, str(author.id), SEMBUNGAN, TIENG],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COOPDESA_ENV": "testing"})
    watchdog = threading.Timer(120, child.kill)  # never hang the suite on a stuck child
    watchdog.start()
    try:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        seen = json.loads(line)
        # The child really wrote the rows, inside its transaction.
        assert seen["parties"] == 3 and seen["audit"] == 1
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait(30)
        child.stdout.close()
        child.stderr.close()

    db.session.rollback()
    pid = seen["proposal_id"]
    assert db.session.get(Proposal, pid) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProposalParty)
                             .where(ProposalParty.proposal_id == pid)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before
    assert verify_chain().ok

    # The next write goes through (no lock left behind) and extends the chain cleanly.
    proposal = ops.create_proposal(author, kind="antar_desa", initiative="desa",
                                   title="Usulan sesudah gangguan",
                                   partner_desa_codes=[PATAKBANTENG])
    db.session.commit()
    assert len(proposal.parties) == 2
    result = verify_chain()
    assert result.ok and result.checked == before + 1


# --- exports -------------------------------------------------------------------------------

def _failed_notes() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "document.export.failed").order_by(AuditEntry.id)))


def _completed_exports() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "document.export"))


class FullDisk:
    """A file whose writes fail with ENOSPC once ``room`` bytes were written."""

    def __init__(self, real, room: int):
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if self.room < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


def _folder(tmp_path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir())


def test_cli_export_on_a_full_disk_says_so_and_leaves_no_partial_zip(app, tmp_path,
                                                                     monkeypatch):
    for _ in range(3):
        direct_agreement()
    out = tmp_path / "ekspor.zip"
    out.write_bytes(b"the previous export")  # must survive a failed one untouched
    written = []

    def sink(fd):
        real = os.fdopen(fd, "wb")
        written.append(real.name)
        return FullDisk(real, room=600)

    monkeypatch.setattr(export_cli, "_open_sink", sink)
    result = app.test_cli_runner().invoke(export_command, ["--out", str(out),
                                                           "--workers", "0"])
    assert result.exit_code == 1
    assert "disk penuh" in result.output and "Tidak ada berkas ZIP" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"the previous export"
    assert _folder(tmp_path) == ["ekspor.zip"]  # the partial file is gone
    [note] = _failed_notes()
    assert "ENOSPC" in note.after["error"] or "No space" in note.after["error"]
    assert _completed_exports() == 0
    assert verify_chain().ok


def test_cli_export_with_a_crashing_renderer_fails_clearly_without_a_zip(app, tmp_path,
                                                                        monkeypatch):
    direct_agreement()
    direct_agreement(rendered=False)

    def crash(job):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(R, "render_now", crash)
    out = tmp_path / "ekspor.zip"
    result = app.test_cli_runner().invoke(export_command, ["--out", str(out),
                                                           "--workers", "0"])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    assert "ekspor terhenti" in result.output and "renderer crashed" in result.output
    assert _folder(tmp_path) == []
    [note] = _failed_notes()
    assert note.after["agreements"] == 1 and "renderer crashed" in note.after["error"]
    assert _completed_exports() == 0


def test_cli_export_with_a_refusing_renderer_completes_and_names_the_failure(app, tmp_path,
                                                                             monkeypatch):
    """A render error of one document is not a failed export: the ZIP is complete and its
    manifest says which PDF is missing and why."""
    direct_agreement(rendered=False)

    def refuse(job):
        raise R.RenderError("font hilang")

    monkeypatch.setattr(R, "render_now", refuse)
    out = tmp_path / "ekspor.zip"
    result = app.test_cli_runner().invoke(export_command, ["--out", str(out),
                                                           "--workers", "0"])
    assert result.exit_code == 0, result.output
    assert "gagal dibuat: 1" in result.output
    with zipfile.ZipFile(out) as bundle:
        assert bundle.testzip() is None
        [row] = json.loads(bundle.read("manifest.json"))
        assert row["render_error"] == "font hilang"
    assert _folder(tmp_path) == ["ekspor.zip"]
    assert (out.stat().st_mode & 0o777) == 0o644
    assert _failed_notes() == []


def test_cli_export_into_a_missing_folder_says_so(app, tmp_path):
    result = app.test_cli_runner().invoke(export_command, [
        "--out", str(tmp_path / "tidak-ada" / "ekspor.zip")])
    assert result.exit_code == 1 and "folder tujuan tidak ada" in result.output


def test_a_streamed_download_failing_midway_is_cut_off_logged_and_noted(app, api, caplog):
    first = direct_agreement(rendered=False)
    direct_agreement(rendered=False)
    calls = []

    def flaky(job):
        calls.append(job)
        if len(calls) == 1:
            return fake_pdf(first.proposal.ref)
        raise RuntimeError("renderer crashed")

    admin = AdminFactory()
    client = api(admin)
    received = bytearray()
    failure: list[BaseException] = []

    def download():
        # Opened and read in one context (the isolated client would buffer the body).
        response = FlaskClient.open(client.client, "/api/v1/exports/agreements.zip",
                                    headers=client._headers(), buffered=False)
        assert response.status_code == 200  # the headers went out before the failure
        try:
            for chunk in response.response:
                received.extend(chunk)
        except RuntimeError as exc:
            failure.append(exc)
        finally:
            response.close()

    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.ERROR):
        patch.setattr(R, "render_now", flaky)
        contextvars.Context().run(download)

    assert failure and "renderer crashed" in str(failure[0])
    assert received  # the first agreement was already on its way...
    with pytest.raises(zipfile.BadZipFile):  # ...but what arrived is no usable ZIP
        zipfile.ZipFile(io.BytesIO(bytes(received)))
    assert any("export failed after 1 agreements" in r.getMessage() for r in caplog.records)
    [note] = _failed_notes()
    assert note.actor_label == admin.username and note.after["agreements"] == 1
    assert _completed_exports() == 0
    assert verify_chain().ok


# --- Redis gone from under the rate limiter ------------------------------------------------

LOGIN_CHILD = textwrap.dedent("""
    import json, sys
    from coopdesa import create_app

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                      "SERVER_NAME": "localhost", "RATELIMIT_STORAGE_URI": sys.argv[2],
                      "REDIS_URL": sys.argv[2]})
    out = []
    for password, accept in ((sys.argv[4], "text/html"), ("salah-sekali", "text/html"),
                             ("salah-sekali", "application/json")):
        client = app.test_client()
        response = client.post("/masuk", data={"username": sys.argv[3],
                                               "password": password},
                               headers={"Accept": accept})
        out.append({"status": response.status_code,
                    "body": response.get_data(as_text=True)[-4000:]})
    print(json.dumps(out))
""")


def test_login_with_redis_down_fails_clearly_never_500(app, tmp_path):
    """COOPDESA_REDIS_URL set, nothing listening there: the shared login limit cannot be
    counted. The app refuses clearly (503, Indonesian message, JSON code) rather than
    crashing or silently dropping the limit. Run in a child process: the limiter is one
    object per process, shared by every app the tests create."""
    from tests.conftest import PASSWORD

    user = UserFactory(desa_code=DIENG)
    db.session.commit()
    script = tmp_path / "login.py"
    script.write_text(LOGIN_CHILD)
    url = db.engine.url.render_as_string(hide_password=False)
    dead = "redis://127.0.0.1:1/4"  # port 1: nothing listens there
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(script), url, dead, user.username, PASSWORD],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "COOPDESA_ENV": "testing", "COOPDESA_REDIS_URL": dead},
        check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(r["status"] != 500 for r in results), results
    good, bad_html, bad_json = results
    for result in (good, bad_html):
        assert result["status"] in (302, 200, 401, 503)
        if result["status"] == 503:
            assert "Redis" in result["body"] and "tidak tersedia" in result["body"]
    if bad_json["status"] == 503:
        error = json.loads(bad_json["body"])["error"]
        assert error["code"] == "service_unavailable" and error["message"]


def test_a_database_that_drops_the_connection_gives_503_not_500(client, login):
    """PostgreSQL restarting under a request: that request is told plainly (503), with
    nothing stored, and the next request works (bench/faults.py measures the real
    restart)."""
    from sqlalchemy.exc import OperationalError

    user = UserFactory(role="sekretaris", desa_code=DIENG)
    db.session.commit()
    login(user)
    dropped = {"armed": True}

    def drop_once(conn, cursor, statement, parameters, context, executemany):
        if dropped["armed"] and "FROM proposal" in statement:
            dropped["armed"] = False
            raise OperationalError(statement, parameters, Exception(
                "server closed the connection unexpectedly"))

    sa.event.listen(db.engine, "before_cursor_execute", drop_once)
    try:
        page = client.get("/kerja-sama/")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", drop_once)
    assert not dropped["armed"]
    assert page.status_code == 503
    assert "Basis data sedang tidak dapat dihubungi" in page.get_data(as_text=True)
    assert client.get("/kerja-sama/").status_code == 200
