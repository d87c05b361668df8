"""``flask coopdesa backup`` / ``restore``: a backup restored into an empty database holds
every agreement, audit entry and file byte for byte (SQLite, or PostgreSQL into a database
made for the test), with files in the database or in an S3 object store (moto); a database
holding data, a newer revision and a damaged archive are refused; a failed backup leaves no
file behind."""

from __future__ import annotations

import errno
import json
import secrets
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from coopdesa import MIGRATIONS_DIR, create_app
from coopdesa import backup as B
from coopdesa.audit.models import AuditEntry
from coopdesa.documents import operations as docs
from coopdesa.documents.models import AgreementDocument
from coopdesa.extensions import db
from coopdesa.files import storage
from coopdesa.files.models import StoredFile
from tests import document_helpers as D
from tests.conftest import DIENG
from tests.s3_helpers import make_bucket, moto_server_fixture, object_keys, s3_fixture  # noqa: F401
from tests.test_documents_export import direct_agreement

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")
HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


# --- a second database to restore into -----------------------------------------------------

class Targets:
    """Empty databases on the test's engine (a new SQLite file, or a new PostgreSQL database
    ``test_restore_<random>`` on the same server), each with its own app."""

    def __init__(self, app, tmp_path: Path) -> None:
        self.source_url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.tmp_path = tmp_path
        self.apps: list = []
        self.databases: list[str] = []

    def _admin(self) -> sa.Engine:
        return sa.create_engine(self.source_url.set(database="postgres"),
                                isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    def new(self, **settings):
        n = len(self.apps)
        if self.source_url.get_backend_name() == "sqlite":
            url = f"sqlite:///{self.tmp_path}/restored-{n}.sqlite"
        else:
            name = f"test_restore_{secrets.token_hex(4)}"
            engine = self._admin()
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            engine.dispose()
            self.databases.append(name)
            url = self.source_url.set(database=name).render_as_string(hide_password=False)
        target = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url,
                             **settings})
        target.instance_path = str(self.tmp_path / f"instance-{n}")
        self.apps.append(target)
        return target

    def close(self) -> None:
        for target in self.apps:
            with target.app_context():
                db.session.remove()
                db.engine.dispose()
        if self.databases:
            engine = self._admin()
            with engine.connect() as conn:
                for name in self.databases:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            engine.dispose()


@pytest.fixture
def targets(app, tmp_path):
    made = Targets(app, tmp_path)
    yield made
    made.close()


def run(target_app, *args: str):
    """``flask coopdesa ...`` against ``target_app`` (its own app context)."""
    with target_app.app_context():
        return target_app.test_cli_runner().invoke(args=["coopdesa", *args])


# --- what is compared ----------------------------------------------------------------------

def table_rows() -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key."""
    out = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        out[table.name] = [tuple(row) for row in
                           db.session.execute(sa.select(table).order_by(*order))]
    out["alembic_version"] = list(db.session.execute(sa.text(
        "SELECT version_num FROM alembic_version")))
    return out


def file_bytes() -> dict[str, bytes]:
    return {f.name: storage.read(f) for f in
            db.session.scalars(sa.select(StoredFile).order_by(StoredFile.id))}


def build_data() -> dict:
    """A rendered agreement with its scan, two more agreements, their audit entries."""
    s = D.active_agreement()
    document = docs.document_of(s.reload())
    docs.attach_scan(document, s[f"sek:{DIENG}"], PNG, "naskah ttd.png")
    db.session.commit()
    direct_agreement()
    direct_agreement(state="ended")
    counts = {"agreements": db.session.scalar(
        sa.select(sa.func.count()).select_from(AgreementDocument)),
        "audit": db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
        "files": db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))}
    assert counts["agreements"] == 3 and counts["files"] >= 4 and counts["audit"] > 10
    return counts


def assert_same_as_source(target_app, rows, files) -> None:
    with target_app.app_context():
        restored_rows = table_rows()
        assert restored_rows.keys() == rows.keys()
        for name in rows:
            assert restored_rows[name] == rows[name], name
        assert file_bytes() == files
    verified = run(target_app, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "Rantai audit utuh" in verified.output


# --- the round trip ------------------------------------------------------------------------

def test_a_backup_restored_into_an_empty_database_is_the_same_byte_for_byte(
        app, runner, targets, tmp_path):
    counts = build_data()
    rows, files = table_rows(), file_bytes()
    out = tmp_path / "cadangan.zip"
    result = runner.invoke(args=["coopdesa", "backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Cadangan ditulis" in result.output

    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        dump = "database.sqlite" if db.engine.dialect.name == "sqlite" else "database.pgdump"
        assert sorted(zf.namelist()) == sorted([dump, "manifest.json"])
        assert zf.testzip() is None
    assert manifest["engine"] == db.engine.dialect.name
    assert manifest["alembic_revision"] == HEAD
    assert manifest["counts"]["agreement_document"] == counts["agreements"]
    assert manifest["counts"]["audit_entry"] == counts["audit"]
    assert manifest["counts"]["stored_file"] == counts["files"]
    assert manifest["files"] == {"store": "database", "object_store": None, "count": 0}
    assert set(manifest["members"]) == {dump}
    assert manifest["created_at"] and manifest["coopdesa_version"]

    target = targets.new()
    restored = run(target, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    assert "Dipulihkan dari" in restored.output
    assert_same_as_source(target, rows, files)


def test_restoring_over_data_needs_yes_and_keeps_a_safety_backup(app, runner, targets,
                                                                   tmp_path):
    direct_agreement()
    first = tmp_path / "pertama.zip"
    assert runner.invoke(args=["coopdesa", "backup", "--out", str(first)]).exit_code == 0
    direct_agreement()
    rows, files = table_rows(), file_bytes()
    second = tmp_path / "kedua.zip"
    assert runner.invoke(args=["coopdesa", "backup", "--out", str(second)]).exit_code == 0

    target = targets.new()
    assert run(target, "restore", str(first)).exit_code == 0
    refused = run(target, "restore", str(second))
    assert refused.exit_code == 1
    assert "tidak kosong" in refused.output and "--yes" in refused.output
    with target.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(
            AgreementDocument)) == 1

    replaced = run(target, "restore", str(second), "--yes")
    assert replaced.exit_code == 0, replaced.output
    assert "cadangan pengaman" in replaced.output
    assert_same_as_source(target, rows, files)
    [safety] = Path(target.instance_path).glob("pre-restore-*.zip")
    with zipfile.ZipFile(safety) as zf:
        assert json.loads(zf.read("manifest.json"))["counts"]["agreement_document"] == 1


def _rewrite(source: Path, dest: Path, change) -> None:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, change(item.filename, zin.read(item.filename)))


def test_a_newer_revision_and_a_damaged_archive_are_refused(app, runner, targets, tmp_path):
    direct_agreement()
    out = tmp_path / "cadangan.zip"
    assert runner.invoke(args=["coopdesa", "backup", "--out", str(out)]).exit_code == 0

    def newer(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["alembic_revision"] = "0099"
        return json.dumps(manifest).encode()

    def damaged(name, data):
        return data if name == "manifest.json" else data[:-1] + bytes([data[-1] ^ 1])

    _rewrite(out, tmp_path / "baru.zip", newer)
    _rewrite(out, tmp_path / "rusak.zip", damaged)
    (tmp_path / "bukan.zip").write_bytes(b"bukan arsip")
    target = targets.new()
    for name, message in (("baru.zip", "versi coopdesa yang lebih baru (revisi basis data "
                                       "0099"),
                          ("rusak.zip", "Arsip rusak: SHA-256"),
                          ("bukan.zip", "bukan arsip ZIP"),
                          ("tidak-ada.zip", "tidak ada")):
        result = run(target, "restore", str(tmp_path / name))
        assert result.exit_code == 1, result.output
        assert message in result.output, result.output
    with target.app_context(), db.engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []


def test_a_failed_backup_leaves_no_file_and_keeps_the_previous_one(app, runner, tmp_path,
                                                                   monkeypatch):
    direct_agreement()
    folder = tmp_path / "cadangan"
    folder.mkdir()
    out = folder / "harian.zip"
    out.write_bytes(b"cadangan kemarin")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    result = runner.invoke(args=["coopdesa", "backup", "--out", str(out)])
    assert result.exit_code == 1
    assert "tidak dapat ditulis" in result.output and "No space left" in result.output
    assert [p.name for p in folder.iterdir()] == ["harian.zip"]
    assert out.read_bytes() == b"cadangan kemarin"


# --- with an object store ------------------------------------------------------------------

def test_with_s3_the_backup_holds_the_objects_and_restores_them(app, runner, s3, targets,
                                                                tmp_path, moto_server):
    build_data()
    rows, files = table_rows(), file_bytes()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)
                             .where(StoredFile.data.is_not(None))) == 0
    out = tmp_path / "cadangan-s3.zip"
    result = runner.invoke(args=["coopdesa", "backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for name, data in files.items():
            assert zf.read(f"files/{name}") == data
    assert manifest["files"]["store"] == "s3" and manifest["files"]["count"] == len(files)

    # Into another deployment with its own bucket: the objects go there.
    bucket = make_bucket(moto_server)
    with_s3 = targets.new(S3_BUCKET=bucket, S3_ENDPOINT_URL=moto_server,
                          S3_REGION="us-east-1", S3_PREFIX="pulih/")
    restored = run(with_s3, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    assert_same_as_source(with_s3, rows, files)
    store = with_s3.extensions["coopdesa.storage"]
    assert object_keys(store) == sorted(f"pulih/{name}" for name in files)

    # Into a deployment keeping files in the database: the bytes go into the column.
    plain = targets.new()
    restored = run(plain, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    with plain.app_context():
        for f in db.session.scalars(sa.select(StoredFile)):
            assert f.data == files[f.name]
        assert file_bytes() == files


def test_backup_of_files_outside_the_database_needs_the_object_store(app, runner, s3,
                                                                    tmp_path):
    direct_agreement()
    app.extensions["coopdesa.storage"] = None
    result = runner.invoke(args=["coopdesa", "backup", "--out", str(tmp_path / "x.zip")])
    assert result.exit_code == 1 and "COOPDESA_S3_BUCKET tidak diatur" in result.output
    assert list(tmp_path.iterdir()) == []


# --- PostgreSQL tools ----------------------------------------------------------------------

def test_the_database_url_goes_to_pg_tools_through_the_environment():
    url = sa.engine.make_url(
        "postgresql+psycopg://coop:s3cr%40t@db.example:6543/coopdesa?sslmode=require")
    env = B.pg_environment(url)
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"],
            env["PGDATABASE"], env["PGSSLMODE"]) == ("db.example", "6543", "coop", "s3cr@t",
                                                    "coopdesa", "require")
    with pytest.raises(B.BackupError, match="'target_session_attrs'"):
        B.pg_environment(url.update_query_dict({"target_session_attrs": "any"}))


def test_missing_or_too_old_pg_tools_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("COOPDESA_PG_BIN", raising=False)
    with pytest.raises(B.BackupError, match="pg_dump tidak ditemukan.*postgresql-client-99"):
        B.pg_tool("pg_dump", 99)
    monkeypatch.setenv("PATH", "/usr/bin")
    with pytest.raises(B.BackupError, match="pg_dump terlalu lama untuk server PostgreSQL 99"):
        B.pg_tool("pg_dump", 99)


def test_a_backup_of_an_older_revision_is_migrated_to_the_newest_after_restore(
        app, targets, tmp_path):
    from flask_migrate import upgrade

    previous = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(HEAD).down_revision
    source = targets.new()
    with source.app_context():
        upgrade(revision=previous)
    out = tmp_path / "lama.zip"
    made = run(source, "backup", "--out", str(out))
    assert made.exit_code == 0, made.output
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("manifest.json"))["alembic_revision"] == previous
    target = targets.new()
    restored = run(target, "restore", str(out))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == HEAD
