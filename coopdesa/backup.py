"""``flask coopdesa backup`` and ``flask coopdesa restore``: the database and the files in
one ZIP archive (described in docs/backup.md).

The archive holds:

- ``database.sqlite`` (SQLite: a consistent copy made with the online backup API while the
  app keeps running) or ``database.pgdump`` (PostgreSQL: ``pg_dump -Fc`` of one exported
  snapshot, the same snapshot the table counts are taken from);
- ``files/<name>``: with an S3 object store, every object of a ``stored_file`` row (without
  one the bytes are already inside the database dump);
- ``manifest.json``: format, coopdesa version, Alembic revision, engine, creation time, the
  number of rows of every table and the SHA-256 and size of every other member.

The archive is written to a temporary file beside ``--out`` and renamed only when complete.
A restore checks every member's hash first, refuses a backup from a newer coopdesa (an
Alembic revision this code does not know) and a database that holds data unless ``--yes``
(and then writes a safety backup of it first), then migrates the result to the newest
revision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump/pg_restore, argument lists, never a shell
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from coopdesa.extensions import db
from coopdesa.files import storage

FORMAT = "coopdesa-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PGDUMP_MEMBER = "database.pgdump"
FILES_DIR = "files/"
CHUNK = 1024 * 1024
#: Tables the migrations fill with reference data: a database holding rows only in these
#: counts as empty (a fresh ``flask coopdesa init --no-demo``).
REFERENCE_TABLES = frozenset({"alembic_version", "region", "region_word", "quorum_rule",
                              "sustainability_criterion"})
#: Connection parameters of a database URL passed to libpq through its environment.
PG_QUERY_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
                "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
                "connect_timeout": "PGCONNECT_TIMEOUT", "host": "PGHOST", "port": "PGPORT"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (in Indonesian)."""


def _say(message: str) -> None:
    click.echo(message, err=True)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Hashing:
    """A writer passing bytes on while counting them and taking their SHA-256."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> int:
        self.digest.update(chunk)
        self.size += len(chunk)
        self.out.write(chunk)
        return len(chunk)


@dataclass
class Snapshot:
    """What the manifest says about the database at the moment of the copy."""

    revision: str | None
    counts: dict[str, int]
    files: list[tuple[str, str, int]] = field(default_factory=list)  # in the object store
    server_version: str | None = None
    tool_version: str | None = None


# --- PostgreSQL tools ----------------------------------------------------------------------

def _tool_major(path: Path) -> tuple[int, str]:
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True,  # noqa: S603
                         check=True, timeout=30).stdout.strip()
    found = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not found:
        raise BackupError(f"Versi {path} tidak dapat dibaca: {out!r}")
    return int(found.group(1)), out


def pg_tool(name: str, needed_major: int) -> tuple[Path, str]:
    """The ``pg_dump``/``pg_restore`` binary of at least ``needed_major``: from
    COOPDESA_PG_BIN, Debian's /usr/lib/postgresql/<major>/bin, or the PATH."""
    candidates: list[Path] = []
    if os.environ.get("COOPDESA_PG_BIN"):
        candidates.append(Path(os.environ["COOPDESA_PG_BIN"]) / name)
    candidates.append(Path(f"/usr/lib/postgresql/{needed_major}/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    seen: list[str] = []
    for path in candidates:
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        major, text = _tool_major(path)
        if major >= needed_major:
            return path, text
        seen.append(f"{path} ({text})")
    if not seen:
        raise BackupError(
            f"{name} tidak ditemukan. Pasang klien PostgreSQL {needed_major} (Debian: "
            f"apt-get install postgresql-client-{needed_major}) atau tunjukkan foldernya "
            "dengan COOPDESA_PG_BIN.")
    raise BackupError(
        f"{name} terlalu lama untuk server PostgreSQL {needed_major}: {'; '.join(seen)}. "
        f"Pasang postgresql-client-{needed_major} atau tunjukkan foldernya dengan "
        "COOPDESA_PG_BIN.")


def pg_environment(url: sa.engine.URL) -> dict[str, str]:
    """libpq settings for a child process: the URL goes through the environment, never
    through arguments (visible to every user in ``ps``) or a shell. Other PG* variables of
    the environment (PGPASSFILE, PGSSLROOTCERT, ...) apply as they do to the app's own
    connections; the URL's parts override them."""
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port),
                       ("PGUSER", url.username), ("PGPASSWORD", url.password),
                       ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    for key, value in url.query.items():
        name = PG_QUERY_ENV.get(key)
        if name is None:
            raise BackupError(f"Parameter {key!r} dalam DATABASE_URL tidak didukung oleh "
                              "cadangan/pemulihan.")
        env[name] = value if isinstance(value, str) else value[-1]
    env["PGAPPNAME"] = "coopdesa-backup"
    return env


def _server_major(conn: sa.Connection) -> tuple[int, str]:
    number = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
    text = conn.exec_driver_sql("SHOW server_version").scalar_one()
    return number // 10000, str(text)


# --- reading the database ------------------------------------------------------------------

def _table_names(conn: sa.Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        names = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name").scalars()
    else:
        names = conn.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").scalars()
    return list(names)


def _counts(conn: sa.Connection) -> dict[str, int]:
    return {name: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) or 0
            for name in _table_names(conn)}


def _revision(conn: sa.Connection, tables: dict[str, int]) -> str | None:
    if "alembic_version" not in tables:
        return None
    return conn.scalar(sa.select(sa.column("version_num"))
                       .select_from(sa.table("alembic_version")))


def _snapshot(conn: sa.Connection, with_files: bool) -> Snapshot:
    counts = _counts(conn)
    files: list[tuple[str, str, int]] = []
    if with_files and "stored_file" in counts:
        rows = conn.execute(sa.text(
            "SELECT name, sha256, size FROM stored_file WHERE data IS NULL ORDER BY id"))
        files = [(r[0], r[1], r[2]) for r in rows]
    return Snapshot(revision=_revision(conn, counts), counts=counts, files=files)


# --- backup --------------------------------------------------------------------------------

@contextmanager
def atomic_output(out: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``out``, renamed to it only if the block succeeds."""
    out = out.resolve()
    if out.is_dir():
        raise BackupError(f"{out} adalah folder; sebutkan nama berkas arsip (.zip).")
    if not out.parent.is_dir():
        raise BackupError(f"Folder {out.parent} tidak ada.")
    fd, temp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _write_member(zf: zipfile.ZipFile, name: str, source: Callable[[IO[bytes]], Any],
                  members: dict[str, dict[str, Any]], *, compress: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=_utc_now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    with zf.open(info, "w", force_zip64=True) as member:
        writer = _Hashing(member)
        source(writer)
    members[name] = {"sha256": writer.digest.hexdigest(), "size": writer.size}


def _copy_file(path: Path) -> Callable[[IO[bytes]], None]:
    def copy(out: IO[bytes]) -> None:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                out.write(chunk)
    return copy


def _backup_sqlite(zf: zipfile.ZipFile, members: dict, work: Path) -> Snapshot:
    path = db.engine.url.database
    if not path or path == ":memory:":
        raise BackupError("Basis data SQLite dalam memori tidak dapat dicadangkan.")
    source_path = Path(path)
    if not source_path.is_file():
        raise BackupError(f"Berkas basis data {source_path} tidak ada.")
    copy = work / "copy.sqlite"
    _say(f"Menyalin basis data SQLite {source_path} "
         f"({source_path.stat().st_size / 2**20:.1f} MB) dengan backup API ...")
    with closing(sqlite3.connect(source_path, timeout=30)) as src, \
            closing(sqlite3.connect(copy)) as dst:
        # One step: a read transaction for the whole copy; in WAL mode writers go on.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")
    engine = sa.create_engine(f"sqlite:///{copy}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            snapshot = _snapshot(conn, with_files=True)
            integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    finally:
        engine.dispose()
    if integrity != "ok":
        raise BackupError(f"Salinan basis data tidak utuh: {integrity}")
    snapshot.server_version = sqlite3.sqlite_version
    _say("Menulis database.sqlite ke arsip ...")
    _write_member(zf, SQLITE_MEMBER, _copy_file(copy), members, compress=True)
    return snapshot


def _backup_postgresql(zf: zipfile.ZipFile, members: dict) -> Snapshot:
    engine = db.engine
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            major, server_text = _server_major(conn)
            tool, tool_text = pg_tool("pg_dump", major)
            snapshot_id = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            snapshot = _snapshot(conn, with_files=True)
            snapshot.server_version, snapshot.tool_version = server_text, tool_text
            _say(f"Menjalankan {tool} (PostgreSQL {server_text}) ...")
            args = [str(tool), "--format=custom", f"--snapshot={snapshot_id}",
                    "--no-password"]
            with tempfile.TemporaryFile() as errors:
                process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                    args, stdout=subprocess.PIPE, stderr=errors,
                    env=pg_environment(engine.url))
                pipe: IO[bytes] = process.stdout  # type: ignore[assignment]

                def copy(out: IO[bytes]) -> None:
                    for chunk in iter(lambda: pipe.read(CHUNK), b""):
                        out.write(chunk)

                try:
                    _write_member(zf, PGDUMP_MEMBER, copy, members, compress=False)
                finally:
                    pipe.close()
                    code = process.wait()
                if code != 0:
                    errors.seek(0)
                    message = errors.read().decode(errors="replace").strip()
                    raise BackupError(f"pg_dump gagal (kode {code}): {message[-2000:]}")
    return snapshot


def _backup_files(zf: zipfile.ZipFile, members: dict, files: list[tuple[str, str, int]]) -> None:
    if not files:
        return
    store = storage.object_store()
    if store is None:
        raise BackupError(
            f"{len(files)} berkas tersimpan di luar basis data (data kosong), tetapi "
            "COOPDESA_S3_BUCKET tidak diatur; atur penyimpanan objek yang sama dulu.")
    _say(f"Menyalin {len(files)} berkas dari {store.describe()} ...")
    with click.progressbar(files, label="Berkas", show_pos=True, file=sys.stderr) as bar:
        for name, sha256, _size in bar:
            _write_member(zf, FILES_DIR + name,
                          lambda out, n=name, h=sha256: store.copy_to(n, h, out),
                          members, compress=False)


def make_backup(out: Path) -> dict[str, Any]:
    """Write the archive to ``out`` atomically; return its manifest."""
    from coopdesa import __version__

    engine_name = db.engine.dialect.name
    if engine_name not in ("sqlite", "postgresql"):
        raise BackupError(f"Mesin basis data {engine_name} tidak didukung.")
    db.session.rollback()  # nothing of this session's own transaction goes in
    members: dict[str, dict[str, Any]] = {}
    with atomic_output(out) as handle, \
            tempfile.TemporaryDirectory(dir=out.resolve().parent,
                                        prefix=f".{out.name}.") as work, \
            zipfile.ZipFile(handle, "w", allowZip64=True) as zf:
        if engine_name == "sqlite":
            snapshot = _backup_sqlite(zf, members, Path(work))
        else:
            snapshot = _backup_postgresql(zf, members)
        _backup_files(zf, members, snapshot.files)
        store = storage.object_store()
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "coopdesa_version": __version__,
            "alembic_revision": snapshot.revision,
            "engine": engine_name,
            "server_version": snapshot.server_version,
            "dump_tool": snapshot.tool_version,
            "created_at": _utc_now().isoformat(timespec="seconds"),
            "counts": snapshot.counts,
            "files": {"store": "s3" if snapshot.files else "database",
                      "object_store": store.describe() if store else None,
                      "count": len(snapshot.files)},
            "members": members,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


# --- restore -------------------------------------------------------------------------------

def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        raise BackupError("Arsip tidak memuat manifest.json: bukan cadangan coopdesa.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError("manifest.json bukan milik cadangan coopdesa.")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(f"Format cadangan {manifest['format_version']} lebih baru dari "
                          "yang dikenal versi coopdesa ini; perbarui coopdesa dulu.")
    return manifest


def check_members(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every member the manifest names is there with its SHA-256, and nothing else."""
    members = manifest.get("members") or {}
    present = set(zf.namelist()) - {MANIFEST}
    if present != set(members):
        missing, extra = sorted(set(members) - present), sorted(present - set(members))
        raise BackupError(f"Isi arsip tidak sesuai manifest (hilang: {missing[:5]}, "
                          f"tambahan: {extra[:5]}).")
    with click.progressbar(sorted(members), label="Memeriksa SHA-256", show_pos=True,
                           file=sys.stderr) as bar:
        for name in bar:
            digest = hashlib.sha256()
            with zf.open(name) as member:
                for chunk in iter(lambda m=member: m.read(CHUNK), b""):
                    digest.update(chunk)
            if digest.hexdigest() != members[name]["sha256"]:
                raise BackupError(f"Arsip rusak: SHA-256 {name} tidak cocok dengan manifest.")


def check_revision(revision: str | None) -> None:
    """Refuse a backup made by a newer coopdesa (a revision these migrations don't know)."""
    from alembic.script import ScriptDirectory

    from coopdesa import MIGRATIONS_DIR

    if revision is None:
        return
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise BackupError(
            f"Cadangan dibuat oleh versi coopdesa yang lebih baru (revisi basis data "
            f"{revision}; versi ini sampai {script.get_current_head()}). Perbarui coopdesa "
            "dulu, lalu pulihkan.")


def target_state(conn: sa.Connection) -> dict[str, int]:
    """Rows of every table of the target that holds data beyond the reference tables."""
    return {name: n for name, n in _counts(conn).items()
            if n and name not in REFERENCE_TABLES}


def _extract(zf: zipfile.ZipFile, name: str, path: Path) -> None:
    with zf.open(name) as member, path.open("wb") as out:
        shutil.copyfileobj(member, out, CHUNK)


def _restore_sqlite(zf: zipfile.ZipFile, work: Path) -> None:
    path = db.engine.url.database
    if not path or path == ":memory:":
        raise BackupError("Tidak dapat memulihkan ke basis data SQLite dalam memori.")
    copy = work / "restore.sqlite"
    _extract(zf, SQLITE_MEMBER, copy)
    db.session.remove()
    db.engine.dispose()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _say(f"Memulihkan basis data SQLite ke {path} ...")
    with closing(sqlite3.connect(copy)) as src, \
            closing(sqlite3.connect(path, timeout=30)) as dst:
        src.backup(dst, pages=-1)


def _drop_postgresql_tables(conn: sa.Connection) -> None:
    names = _table_names(conn)
    if names:
        quote = conn.dialect.identifier_preparer.quote
        statement = "DROP TABLE IF EXISTS " + ", ".join(quote(n) for n in names) + " CASCADE"
        conn.exec_driver_sql(statement)


#: Entries of ``pg_restore --list`` about schemas themselves: the target's schema exists.
_SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA |ACL - SCHEMA )")


def _restore_postgresql(zf: zipfile.ZipFile, work: Path, manifest: dict[str, Any]) -> None:
    engine = db.engine
    db.session.remove()
    with engine.connect() as conn:
        major, _text = _server_major(conn)
    found = re.search(r"(\d+)", manifest.get("dump_tool") or "")
    tool, _tool_text = pg_tool("pg_restore", max(major, int(found.group(1)) if found else 0))
    dump = work / "database.pgdump"
    _extract(zf, PGDUMP_MEMBER, dump)
    env = pg_environment(engine.url)
    listing = subprocess.run([str(tool), "--list", str(dump)],  # noqa: S603 - no shell
                             capture_output=True, text=True, env=env, check=False)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore --list gagal: {listing.stderr.strip()[-2000:]}")
    toc = work / "toc.list"
    toc.write_text("\n".join(line for line in listing.stdout.splitlines()
                             if not _SCHEMA_ENTRY.match(line)) + "\n")
    # Only now, with the tools and the dump checked, the target's tables go.
    with engine.begin() as conn:
        _drop_postgresql_tables(conn)
    engine.dispose()
    _say(f"Menjalankan {tool} ...")
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [str(tool), "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", "--no-password", f"--use-list={toc}",
         f"--dbname={env['PGDATABASE']}", str(dump)],
        capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore gagal (kode {result.returncode}): "
                          f"{result.stderr.strip()[-2000:]}")


def _restore_files(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> int:
    names = sorted(n for n in manifest["members"] if n.startswith(FILES_DIR))
    if not names:
        return 0
    store = storage.object_store()
    where = store.describe() if store else "basis data (kolom data)"
    table = sa.table("stored_file", sa.column("name"), sa.column("sha256"), sa.column("data"))
    with click.progressbar(names, label=f"Memulihkan berkas ke {where}", show_pos=True,
                           file=sys.stderr) as bar:
        for member in bar:
            name = member[len(FILES_DIR):]
            sha256 = manifest["members"][member]["sha256"]
            row = db.session.execute(sa.select(table.c.sha256).where(table.c.name == name)
                                     ).first()
            if row is None or row[0] != sha256:
                raise BackupError(f"Berkas {name} dalam arsip tidak cocok dengan barisnya "
                                  "di stored_file.")
            if store is not None:
                with zf.open(member) as handle:
                    store.put_file(name, handle, sha256)
            else:
                db.session.execute(sa.update(table).where(table.c.name == name)
                                   .values(data=zf.read(member)))
                db.session.commit()
    return len(names)


def restore_backup(archive: Path, *, yes: bool, safety_backup: bool = True) -> dict[str, Any]:
    """Restore ``archive`` into the configured database (and object store)."""
    from flask_migrate import upgrade

    if not archive.is_file():
        raise BackupError(f"Arsip {archive} tidak ada.")
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise BackupError(f"{archive} bukan arsip ZIP yang utuh: {exc}") from None
    with zf:
        manifest = read_manifest(zf)
        engine_name = db.engine.dialect.name
        if manifest["engine"] != engine_name:
            raise BackupError(
                f"Cadangan ini dari {manifest['engine']}, basis data tujuan {engine_name}; "
                "pulihkan ke mesin yang sama.")
        check_revision(manifest.get("alembic_revision"))
        check_members(zf, manifest)
        db.session.rollback()
        with db.engine.connect() as conn:
            holding = target_state(conn)
        if holding:
            summary = ", ".join(f"{name}: {n}" for name, n in sorted(holding.items())[:8])
            if not yes:
                raise BackupError(
                    f"Basis data tujuan tidak kosong ({summary}). Pemulihan akan MENGGANTI "
                    "seluruh isinya; ulangi dengan --yes bila memang itu maksudnya.")
            if safety_backup:
                safe = Path(current_app.instance_path) / (
                    "pre-restore-" + _utc_now().strftime("%Y%m%dT%H%M%SZ") + ".zip")
                _say(f"Basis data tujuan berisi data ({summary}); cadangan pengaman dulu: "
                     f"{safe}")
                safe.parent.mkdir(parents=True, exist_ok=True)
                make_backup(safe)
        with tempfile.TemporaryDirectory(prefix="coopdesa-restore-") as work:
            if engine_name == "sqlite":
                _restore_sqlite(zf, Path(work))
            else:
                _restore_postgresql(zf, Path(work), manifest)
        db.engine.dispose()
        with db.engine.connect() as conn:
            counts = _counts(conn)
        wrong = {name: (n, counts.get(name)) for name, n in manifest["counts"].items()
                 if counts.get(name) != n}
        if wrong:
            raise BackupError(f"Jumlah baris setelah pemulihan tidak cocok: {wrong}")
        restored_files = _restore_files(zf, manifest)
    _say("Menjalankan migrasi sampai revisi terbaru ...")
    upgrade()
    _forget_stored_pages()
    return {"manifest": manifest, "files": restored_files}


def _forget_stored_pages() -> None:
    """pg_restore and the SQLite file copy bypass the engine events that make stored pages
    stale (coopdesa.pagecache): drop them all after a restore."""
    from coopdesa import pagecache

    if not pagecache.configured(current_app):
        return
    try:
        pagecache.clear()
    except Exception as exc:  # noqa: BLE001 - the restore itself succeeded
        _say(f"PERINGATAN: tembolok halaman di Redis tidak dapat dikosongkan ({exc}); "
             "jalankan 'flask coopdesa cache clear' setelah Redis tersedia.")


# --- commands ------------------------------------------------------------------------------

def _fail(message: str) -> None:
    db.session.rollback()
    click.secho(f"Gagal: {message}", fg="red", err=True)
    sys.exit(1)


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The archive to write (.zip); written to a temporary file and renamed.")
@with_appcontext
def backup_command(out: Path) -> None:
    """Back up the database and the files into one ZIP archive (safe while the app runs)."""
    try:
        manifest = make_backup(out)
    except BackupError as exc:
        _fail(str(exc))
    except storage.StorageError as exc:
        _fail(f"penyimpanan berkas: {exc}")
    except OSError as exc:
        _fail(f"arsip {out} tidak dapat ditulis ({exc}); tidak ada berkas yang tertinggal.")
    rows = sum(manifest["counts"].values())
    click.echo(f"Cadangan ditulis: {out} ({out.stat().st_size / 2**20:.1f} MB; "
               f"{manifest['engine']}, revisi {manifest['alembic_revision']}, {rows} baris, "
               f"{manifest['files']['count']} berkas dari penyimpanan objek).")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True,
              help="Replace a database that holds data (a safety backup is written first).")
@click.option("--no-safety-backup", is_flag=True,
              help="With --yes: do not back up the database being replaced.")
@with_appcontext
def restore_command(archive: Path, yes: bool, no_safety_backup: bool) -> None:
    """Restore a backup into the configured database (stop the app first)."""
    try:
        result = restore_backup(archive, yes=yes, safety_backup=not no_safety_backup)
    except BackupError as exc:
        _fail(str(exc))
    except storage.StorageError as exc:
        _fail(f"penyimpanan berkas: {exc}")
    except OSError as exc:
        _fail(f"pemulihan dari {archive} terhenti: {exc}")
    manifest = result["manifest"]
    click.echo(f"Dipulihkan dari {archive}: cadangan {manifest['created_at']}, revisi "
               f"{manifest['alembic_revision']}, {sum(manifest['counts'].values())} baris, "
               f"{result['files']} berkas. Periksa: flask coopdesa audit verify")
