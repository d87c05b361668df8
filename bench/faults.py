"""PostgreSQL restarted under load: gunicorn (2 workers) on its own database, a loop of
reads and writes from threads, and ``pg_ctlcluster ... restart`` in the middle.

    .venv/bin/python -m bench.faults [--duration 30] [--restart-at 10] [--threads 8]
                                     [--no-restart] [--port 8107]
    .venv/bin/python -m bench.faults --export-abort

Reports the requests and errors before, during and after the restart, the time until
requests succeed again (pool_pre_ping replaces the dead pooled connections by itself), and
checks afterwards that every write answered 201 is in the database exactly once and the
audit chain verifies. CAUTION: the restart cuts every connection to the cluster, other
users' included; the database ``coopdesa_faults`` is created and dropped by this script.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "coopdesa_faults"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/" + DB_NAME
PG_VERSION, PG_CLUSTER = "15", "main"
DIENG, SEMBUNGAN = "33.07.13.2013", "33.07.13.2003"


@dataclass
class Call:
    kind: str
    started: float
    ended: float
    status: int | None  # None: no HTTP answer (connection refused, reset, timeout)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 500


def _run(*cmd: str) -> subprocess.CompletedProcess:
    # Fixed PostgreSQL client commands with our own arguments, never user input.
    return subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603


def prepare() -> dict:
    """A fresh database with a slice of the register, a secretary, ten drafts and a
    token; returns what the load loop needs."""
    _run("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME)
    _run("createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME)
    from flask_migrate import upgrade

    from coopdesa import create_app
    from coopdesa.accounts.models import Bkad, Role, User, password_hasher
    from coopdesa.accounts.operations import create_token
    from coopdesa.extensions import db
    from coopdesa.proposals import operations as ops
    from coopdesa.regions.models import Region
    from coopdesa.regions.operations import load_regions, official_regions

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": PG})
    with app.app_context():
        upgrade()
        load_regions([r for r in official_regions()
                      if r["level"] <= 2 or r["code"].startswith("33.07.13")])
        bkad = Bkad(name="BKAD Dieng Sembungan", kabupaten_code="33.07")
        bkad.villages = [db.session.get(Region, DIENG), db.session.get(Region, SEMBUNGAN)]
        user = User(username="sekdes_faults", full_name="Sekretaris Uji", role=Role.SEKRETARIS,
                    desa_code=DIENG, password_hash=password_hasher.hash(secrets.token_hex(8)))
        db.session.add_all([bkad, user])
        db.session.commit()
        ids = []
        for i in range(10):
            proposal = ops.create_proposal(user, kind="antar_desa", initiative="desa",
                                           title=f"Usulan uji gangguan {i}",
                                           partner_desa_codes=[SEMBUNGAN])
            ids.append(proposal.id)
        _token, secret = create_token(user, "faults")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"ids": ids, "token": secret}


def add_agreements(data: dict) -> None:
    """Two active agreements and an admin's token: the first with its final PDF stored,
    the second never rendered (the export renders it on the way, and crashes there)."""
    from coopdesa import create_app
    from coopdesa.accounts.models import Role, User, password_hasher
    from coopdesa.accounts.operations import create_token
    from coopdesa.db import utcnow
    from coopdesa.documents import operations as docs
    from coopdesa.documents import payload as P
    from coopdesa.documents.models import AgreementDocument, Paper
    from coopdesa.extensions import db
    from coopdesa.proposals.models import Proposal
    from coopdesa.proposals.states import State

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": PG})
    with app.app_context():
        for i, pid in enumerate(data["ids"][:2]):
            proposal = db.session.get(Proposal, pid)
            proposal.state = State.ACTIVE
            document = AgreementDocument(
                proposal_id=pid, version_number=1, code=docs.new_code(), paper=Paper.F4,
                enacted_on=utcnow().date(), enacted_place="Dieng Kulon", payload={},
                created_at=utcnow())
            db.session.add(document)
            db.session.flush()
            document.payload = P.build(proposal, document=document, version_number=1,
                                       verify_url=docs.verify_url(document.code))
            if i == 0:
                pdf = b"%PDF-1.7\n" + b"% bench.faults\n" * 20_000 + b"%%EOF\n"
                docs.store_final(document, pdf)
        admin = User(username="admin_faults", full_name="Admin Uji", role=Role.ADMIN,
                     password_hash=password_hasher.hash(secrets.token_hex(8)))
        db.session.add(admin)
        db.session.flush()
        _token, data["admin_token"] = create_token(admin, "faults")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def export_abort(port: int) -> int:
    """A streamed export whose renderer crashes after the first agreement was sent."""
    import io
    import zipfile

    data = prepare()
    add_agreements(data)
    tmp = Path(tempfile.mkdtemp(prefix="coopdesa-faults-"))
    log_path = tmp / "gunicorn.log"
    server = start_gunicorn(port, log_path, config="bench/faults_gunicorn.py")
    received = bytearray()
    outcome = "complete"
    try:
        with requests.get(f"http://127.0.0.1:{port}/api/v1/exports/agreements.zip",
                          headers={"Authorization": f"Bearer {data['admin_token']}"},
                          stream=True, timeout=60) as response:
            status = response.status_code
            try:
                for chunk in response.iter_content(65536):
                    received.extend(chunk)
            except requests.RequestException as exc:
                outcome = f"cut off: {type(exc).__name__}: {str(exc)[:160]}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    try:
        zipfile.ZipFile(io.BytesIO(bytes(received)))
        readable = "a readable ZIP (WRONG)"
    except zipfile.BadZipFile:
        readable = "not a readable ZIP"
    notes = _audit_actions()
    log = log_path.read_text()
    print(f"HTTP {status}, {len(received)} bytes received, transfer {outcome}; "
          f"the bytes are {readable}")
    print(f"audit: document.export.failed x{notes.count('document.export.failed')}, "
          f"document.export x{notes.count('document.export')}")
    print("app log line: " + next((line.strip() for line in log.splitlines()
                                  if "export failed after" in line), "MISSING"))
    print(f"gunicorn log: {log_path}")
    _run("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME)
    return 0 if outcome != "complete" and readable.startswith("not") else 1


def _audit_actions() -> list[str]:
    from coopdesa import create_app
    from coopdesa.audit.models import AuditEntry
    from coopdesa.extensions import db

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": PG})
    with app.app_context():
        import sqlalchemy as sa

        actions = list(db.session.scalars(sa.select(AuditEntry.action)))
        db.session.remove()
        db.engine.dispose()
    return actions


def start_gunicorn(port: int, log_path: Path,
                   config: str = "gunicorn.conf.py") -> subprocess.Popen:
    env = {**os.environ, "COOPDESA_ENV": "production", "DATABASE_URL": PG,
           "SECRET_KEY": secrets.token_hex(32), "COOPDESA_WEB_BIND": f"127.0.0.1:{port}",
           "COOPDESA_WEB_WORKERS": "2", "COOPDESA_RENDER_WORKERS": "0",
           "COOPDESA_SECURE_COOKIES": "0", "COOPDESA_WEB_LOGLEVEL": "warning"}
    env.pop("COOPDESA_REDIS_URL", None)
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken by another server; pass --port")
    log = log_path.open("w")
    process = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / config)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(base + "/api/v1/openapi.json", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not start; see {log_path}")


def load_loop(base: str, data: dict, stop: threading.Event, calls: list[Call],
              lock: threading.Lock, seed: int) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {data['token']}"
    n = seed
    while not stop.is_set():
        n += 1
        pid = data["ids"][n % len(data["ids"])]
        if n % 5 == 0:
            kind, method, path = "write", "POST", f"/api/v1/proposals/{pid}/comments"
            body = {"body": f"Komentar uji {seed}-{n}", "section": "tujuan"}
        elif n % 5 == 1:
            kind, method, path, body = "detail", "GET", f"/api/v1/proposals/{pid}", None
        else:
            kind, method, path, body = "list", "GET", "/api/v1/proposals", None
        started = time.monotonic()
        try:
            response = session.request(method, base + path, json=body, timeout=15)
            call = Call(kind, started, time.monotonic(), response.status_code,
                        "" if response.status_code < 500 else response.text[:120])
        except requests.RequestException as exc:
            call = Call(kind, started, time.monotonic(), None, type(exc).__name__)
        with lock:
            calls.append(call)


def restart_postgres() -> tuple[float, float]:
    started = time.monotonic()
    _run("pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, PG_CLUSTER, "restart")
    return started, time.monotonic()


def check_database(written: int) -> tuple[int, bool, str]:
    from coopdesa import create_app
    from coopdesa.audit.operations import verify_chain
    from coopdesa.extensions import db
    from coopdesa.proposals.models import ProposalComment

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": PG})
    with app.app_context():
        import sqlalchemy as sa

        stored = db.session.scalar(sa.select(sa.func.count()).select_from(ProposalComment))
        bodies = db.session.scalar(sa.select(sa.func.count(sa.distinct(ProposalComment.body))))
        result = verify_chain()
        db.session.remove()
        db.engine.dispose()
    return stored, stored == bodies == written, result.message


def summarise(calls: list[Call], restart: tuple[float, float] | None, t0: float) -> dict:
    calls = sorted(calls, key=lambda c: c.started)
    out: dict = {"total": len(calls), "errors": sum(not c.ok for c in calls)}
    if restart is None:
        out["phases"] = {"all": (len(calls), out["errors"])}
        return out
    began, returned = restart
    failures = [c for c in calls if not c.ok]
    last_failure = max((c.ended for c in failures), default=began)
    recovered = next((c for c in calls if c.ok and c.started >= returned
                      and c.started >= last_failure), None)
    recovered_at = recovered.ended if recovered else None
    before = [c for c in calls if c.ended < began]
    after = [c for c in calls if recovered_at is not None and c.started > recovered_at]
    during = [c for c in calls if c not in before and c not in after]
    out.update(
        restart_at=began - t0, restart_seconds=returned - began,
        recovery_seconds=(recovered_at - began) if recovered_at else None,
        phases={name: (len(group), sum(not c.ok for c in group))
                for name, group in (("before", before), ("during", during),
                                    ("after", after))},
        failure_kinds=sorted({f"{c.status or c.error}" for c in failures}),
        first_failure=(min(c.started for c in failures) - began) if failures else None,
        last_failure=(last_failure - began) if failures else None,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--restart-at", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=8107)
    parser.add_argument("--no-restart", action="store_true",
                        help="Run the load without restarting PostgreSQL (a dry run).")
    parser.add_argument("--export-abort", action="store_true",
                        help="Instead: a streamed export under gunicorn whose renderer "
                             "crashes after the first agreement (no restart).")
    args = parser.parse_args(argv)
    if args.export_abort:
        return export_abort(args.port)
    if not args.no_restart and not shutil.which("pg_ctlcluster"):
        raise SystemExit("pg_ctlcluster not found")

    print(f"preparing database {DB_NAME} ...")
    data = prepare()
    tmp = Path(tempfile.mkdtemp(prefix="coopdesa-faults-"))
    log_path = tmp / "gunicorn.log"
    server = start_gunicorn(args.port, log_path)
    base = f"http://127.0.0.1:{args.port}"
    calls: list[Call] = []
    lock = threading.Lock()
    stop = threading.Event()
    restart = None
    try:
        t0 = time.monotonic()
        workers = [threading.Thread(target=load_loop, args=(base, data, stop, calls, lock,
                                                            i * 100_000), daemon=True)
                   for i in range(args.threads)]
        for worker in workers:
            worker.start()
        if not args.no_restart:
            time.sleep(args.restart_at)
            print(f"restarting PostgreSQL {PG_VERSION}/{PG_CLUSTER} at "
                  f"t={time.monotonic() - t0:.1f} s ...")
            restart = restart_postgres()
            print(f"  pg_ctlcluster returned after {restart[1] - restart[0]:.2f} s")
        time.sleep(max(0.0, args.duration - (time.monotonic() - t0)))
        stop.set()
        for worker in workers:
            worker.join(30)
    finally:
        stop.set()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)

    written = sum(1 for c in calls if c.kind == "write" and c.status == 201)
    summary = summarise(calls, restart, t0)
    stored, exact, chain = check_database(written)
    access_5xx = sum(1 for line in log_path.read_text().splitlines()
                     if '" 5' in line and "HTTP/1.1\" 5" in line)
    print(f"requests: {summary['total']} in {args.duration:.0f} s with {args.threads} threads, "
          f"errors: {summary['errors']} (5xx lines in gunicorn's access log: {access_5xx})")
    for name, (count, errors) in summary["phases"].items():
        print(f"  {name:<7} {count:6d} requests, {errors:4d} errors")
    if restart is not None:
        print(f"  restart began at t={summary['restart_at']:.1f} s, pg_ctlcluster took "
              f"{summary['restart_seconds']:.2f} s")
        if summary["first_failure"] is not None:
            print(f"  failures from +{summary['first_failure']:.2f} s to "
                  f"+{summary['last_failure']:.2f} s after the restart began: "
                  f"{', '.join(summary['failure_kinds'])}")
        recovery = summary["recovery_seconds"]
        print("  recovered (first success after the last failure) "
              + (f"{recovery:.2f} s after the restart began" if recovery is not None
                 else "NEVER"))
    print(f"writes answered 201: {written}; comments in the database: {stored} "
          f"({'each exactly once' if exact else 'MISMATCH'})")
    print(f"audit chain: {chain}")
    print(f"gunicorn log: {log_path}")
    _run("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME)
    ok = exact and summary["phases"].get("after", (0, 0))[1] == 0 and (
        restart is None or summary["recovery_seconds"] is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
