"""``flask coopdesa export``: the auditor's export bundle from the command line, for
exports too large to wait for in a browser (see :mod:`coopdesa.documents.export`)."""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext

from coopdesa.errors import DomainError
from coopdesa.extensions import db


def _fail(error: DomainError) -> None:
    from coopdesa.cli import _fail as fail

    fail(error)


def _open_sink(fd: int):
    """The binary file the ZIP is written to (a seam for the disk-full test)."""
    return os.fdopen(fd, "wb")


def _write_failed(target: Path, error: OSError) -> None:
    if error.errno == errno.ENOSPC:
        reason = "disk penuh"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "tidak ada izin menulis"
    elif error.errno == errno.ENOENT:
        reason = "folder tujuan tidak ada"
    else:
        reason = error.strerror or str(error)
    click.secho(f"Gagal: ekspor tidak dapat ditulis ke {target} ({reason}). Tidak ada berkas "
                f"ZIP yang ditulis dan berkas sementara telah dihapus; perbaiki penyebabnya "
                f"lalu ulangi.", fg="red", err=True)
    sys.exit(1)


@click.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The ZIP to write (written to a temporary .part file in the same folder, "
                   "renamed to FILE only when complete, removed on failure).")
@click.option("--wilayah", help="Region code at any level, e.g. 33.07.")
@click.option("--kecamatan", help="Kecamatan code, e.g. 33.07.13.")
@click.option("--tahun", help="Year of enactment, e.g. 2026.")
@click.option("--status", help="signed, active or ended.")
@click.option("--jenis", help="antar_desa or pihak_ketiga.")
@click.option("--user", "username", metavar="USERNAME",
              help="Export what this user may read (default: everything, as the system).")
@click.option("--workers", type=click.IntRange(0, 64),
              help="Render processes for PDFs never rendered (default RENDER_WORKERS; 0: in "
                   "this process).")
@with_appcontext
def export_command(out: str, wilayah: str | None, kecamatan: str | None, tahun: str | None,
                   status: str | None, jenis: str | None, username: str | None,
                   workers: int | None) -> None:
    """Write the export bundle of signed agreements (PDFs, scans, manifest, audit extract)
    to a ZIP file; the export is recorded in the audit trail."""
    from coopdesa import access
    from coopdesa.access import Action
    from coopdesa.documents import export as X

    args = {"wilayah": wilayah, "kecamatan": kecamatan, "tahun": tahun, "status": status,
            "jenis": jenis}
    try:
        user = X.SYSTEM
        if username:
            from coopdesa.accounts.operations import find_user

            user = find_user(username)
        access.require(user, Action.EXPORT, "agreement_document")
        filters = X.ExportFilters.parse(args, user)
        total = X.count_documents(user, filters)
    except DomainError as error:
        _fail(error)
    target = Path(out)
    try:
        # Same folder as the target, so that the final rename is atomic; a unique name, so
        # that two exports to one file never write into each other's partial file.
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".part")
    except OSError as error:
        _write_failed(target, error)
    partial = Path(name)
    click.echo(f"Mengekspor {total} kerja sama ke {target} ...", err=True)
    try:
        with _open_sink(fd) as sink, click.progressbar(
                length=total, label="Mengekspor", show_pos=True, file=sys.stderr) as bar:
            counts = X.export(user, filters, sink, progress=bar.update, workers=workers)
            sink.flush()
            os.fsync(sink.fileno())  # a full disk shows here, not after the rename
        os.chmod(partial, 0o644)  # mkstemp makes it 0600; an export is meant to be handed on
        os.replace(partial, target)
    except DomainError as error:
        partial.unlink(missing_ok=True)
        _fail(error)
    except OSError as error:
        partial.unlink(missing_ok=True)
        db.session.rollback()
        _write_failed(target, error)
    except Exception as error:
        partial.unlink(missing_ok=True)
        db.session.rollback()
        click.secho(f"Gagal: ekspor terhenti karena kesalahan ({type(error).__name__}: "
                    f"{error}). Tidak ada berkas ZIP yang ditulis; kegagalan ini dicatat di "
                    f"jejak audit (document.export.failed). Rincian teknis di bawah.",
                    fg="red", err=True)
        raise
    except BaseException:
        partial.unlink(missing_ok=True)
        db.session.rollback()
        raise
    click.echo(f"Kerja sama: {counts.agreements}; PDF final dibuat sekarang: "
               f"{counts.rendered}; gagal dibuat: {counts.failed}; pindaian: {counts.scans}; "
               f"entri jejak audit: {counts.audit_entries}.")
    click.echo(f"SHA-256 manifest.json: {counts.manifest_sha256}")
    click.echo(f"Ditulis: {target} ({counts.bytes} bita)")
