"""``flask coopdesa worker`` (the RQ worker) and ``flask coopdesa jobs ...`` (start and
list background jobs from the command line)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from coopdesa.errors import DomainError
from coopdesa.extensions import db


def _fail(error: DomainError) -> None:
    from coopdesa.cli import _fail as fail

    fail(error)


def _worker_class():
    from rq import Worker

    class AppWorker(Worker):
        """Forks a work horse per job, in the app context of this command; the horse
        leaves the parent's database connections alone and opens its own."""

        def main_work_horse(self, job, queue):
            db.engine.dispose(close=False)
            super().main_work_horse(job, queue)

    return AppWorker


def horse_killed(rq_job, retpid, ret_val, rusage) -> None:
    """The work horse died (killed, out of memory) before the task could say so: the job
    is marked failed now, not when its time limit runs out."""
    from flask_babel import gettext as _

    from coopdesa.jobs import operations as ops

    job_id = rq_job.args[0] if rq_job.args else None
    if not isinstance(job_id, int):
        return
    ops.fail(job_id, _("Proses yang menjalankan tugas berhenti sebelum tugas selesai "
                       "(status %(status)s). Tidak ada hasil yang tersimpan; jalankan lagi.",
                       status=ret_val))
    db.session.remove()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run the background job worker on the RQ queue "coopdesa" in COOPDESA_REDIS_URL."""
    from redis.exceptions import RedisError

    from coopdesa.jobs import queue

    url = current_app.config.get("REDIS_URL")
    if not url:
        click.secho("COOPDESA_REDIS_URL tidak diatur: tugas latar belakang dijalankan di "
                    "dalam aplikasi (kumpulan proses lokal, COOPDESA_JOB_WORKERS), tanpa "
                    "proses pekerja terpisah. Atur COOPDESA_REDIS_URL untuk memakai antrean "
                    "Redis.", fg="yellow", err=True)
        sys.exit(1)
    connection = queue.redis_connection(url)
    try:
        connection.ping()
        counts = queue.requeue_lost(connection)
    except RedisError as exc:
        db.session.rollback()
        click.secho(f"Gagal: Redis di {_safe(url)} tidak dapat dihubungi ({exc}).", fg="red",
                    err=True)
        sys.exit(1)
    if counts["requeued"] or counts["failed"]:
        click.echo(f"Tugas dimasukkan lagi ke antrean: {counts['requeued']}; ditandai gagal "
                   f"(pekerjanya berhenti): {counts['failed']}.", err=True)
    db.session.remove()
    db.engine.dispose()  # the work horses open their own connections
    worker = _worker_class()([queue.QUEUE_NAME], connection=connection,
                             work_horse_killed_handler=horse_killed)
    click.echo(f"Pekerja tugas latar belakang pada antrean \"{queue.QUEUE_NAME}\" "
               f"({_safe(url)}){' - mode burst' if burst else ''}.", err=True)
    worker.work(burst=burst, logging_level="INFO")


def _safe(url: str) -> str:
    """The Redis address without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: start one, list the latest."""


@jobs_group.command("start")
@click.argument("kind", type=click.Choice(["export", "render", "network", "remind"]))
@click.option("--scope", metavar="KODE", help="Region code (render, network).")
@click.option("--stale-only", is_flag=True, help="network: only the changed kabupaten/kota.")
@click.option("--today", metavar="TTTT-BB-HH", help="remind: act as if today were this date.")
@click.option("--wilayah", help="export: region code.")
@click.option("--kecamatan", help="export: kecamatan code.")
@click.option("--tahun", help="export: year of enactment.")
@click.option("--status", help="export: signed, active or ended.")
@click.option("--jenis", help="export: antar_desa or pihak_ketiga.")
@click.option("--user", "username", metavar="USERNAME",
              help="Start it as this user (default: the system; the result is an admin's).")
@with_appcontext
def jobs_start(kind: str, scope, stale_only, today, wilayah, kecamatan, tahun, status, jenis,
               username) -> None:
    """Start a background job on the queue (or the local pool) and print its id."""
    from coopdesa.jobs import operations as ops

    params = {
        "export": {"wilayah": wilayah, "kecamatan": kecamatan, "tahun": tahun,
                   "status": status, "jenis": jenis},
        "render": {"scope": scope},
        "network": {"scope": scope, "stale_only": stale_only},
        "remind": {"today": today},
    }[kind]
    try:
        owner = None
        if username:
            from coopdesa.accounts.operations import find_user

            owner = find_user(username)
        if not current_app.config.get("REDIS_URL"):
            # No queue: the job runs in this command (a pool would keep it waiting anyway).
            current_app.config["JOBS_EAGER"] = True
            click.echo("COOPDESA_REDIS_URL tidak diatur: tugas dijalankan sekarang oleh "
                       "perintah ini.", err=True)
        job = ops.submit(kind, owner, {k: v for k, v in params.items() if v is not None})
    except DomainError as error:
        _fail(error)
    click.echo(f"Tugas #{job.id} ({job.kind.value}): {job.state.label} [{job.backend}]"
               + (f" - {job.note}" if job.note else "")
               + (f" - {job.message}" if job.message else ""))
    if job.state.value == "failed":
        sys.exit(1)


@jobs_group.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@with_appcontext
def jobs_list(limit: int) -> None:
    """The latest jobs of every user."""
    import sqlalchemy as sa

    from coopdesa.jobs import operations as ops
    from coopdesa.jobs.models import Job

    ops.expire_stale()
    for job in db.session.scalars(sa.select(Job).order_by(Job.id.desc()).limit(limit)):
        owner = job.owner.username if job.owner else "sistem"
        progress = f"{job.done}/{job.total}" if job.total is not None else "-"
        click.echo(f"#{job.id:<6} {job.kind.value:<8} {job.state.value:<10} {progress:<10} "
                   f"{job.backend:<6} {owner:<20} {job.message or ''}")
