"""Where file bytes live: the database by default, an S3-compatible object store (moto on
127.0.0.1) when configured; objects of rolled-back transactions removed; checksums checked
on read; an unreachable bucket stops the start-up."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from coopdesa import create_app
from coopdesa.audit import operations as audit
from coopdesa.documents import operations as docs
from coopdesa.extensions import db
from coopdesa.files import storage
from coopdesa.files.models import StoredFile
from coopdesa.files.operations import store_generated_pdf, store_upload
from tests import document_helpers as D
from tests.conftest import DIENG
from tests.s3_helpers import make_bucket, moto_server_fixture, object_keys, s3_fixture  # noqa: F401

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.7\n% coopdesa storage test\n%%EOF\n"
STATIC = Path(__file__).resolve().parent.parent / "static"


def column_data(stored: StoredFile) -> bytes | None:
    """What the ``data`` column holds, read past the ORM."""
    return db.session.execute(sa.text("SELECT data FROM stored_file WHERE id = :id"),
                              {"id": stored.id}).scalar_one()


def static_tree() -> dict[str, int]:
    return {str(p.relative_to(STATIC)): p.stat().st_mtime_ns
            for p in STATIC.rglob("*") if p.is_file()}


# --- the default: the database -------------------------------------------------------------

def test_without_an_object_store_the_bytes_stay_in_the_database(app):
    assert storage.object_store() is None
    before = static_tree()
    stored = store_upload(PNG, "pindaian.png", field="scan")
    db.session.commit()
    assert bytes(column_data(stored)) == PNG
    assert stored.size == len(PNG) and stored.sha256 == hashlib.sha256(PNG).hexdigest()
    db.session.expire_all()
    stored = db.session.get(StoredFile, stored.id)
    assert storage.read(stored) == PNG and storage.open_stream(stored).read() == PNG
    assert static_tree() == before


def test_boto3_is_imported_only_when_an_object_store_is_configured(tmp_path):
    code = ("import sys; from coopdesa import create_app; "
            "create_app({'ENV_NAME': 'testing', "
            f"'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/x.sqlite'}}); "
            "print('boto3' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout.strip() == "False"


# --- with S3 -------------------------------------------------------------------------------

def test_with_s3_the_object_holds_the_bytes_and_the_column_stays_null(app, s3):
    before = static_tree()
    stored = store_upload(PNG, "pindaian.png", field="scan")
    pdf = store_generated_pdf(PDF, "naskah.pdf")
    db.session.commit()
    assert column_data(stored) is None and column_data(pdf) is None
    assert object_keys(s3) == sorted([f"coopdesa/{stored.name}", f"coopdesa/{pdf.name}"])
    obj = s3.client.get_object(Bucket=s3.bucket, Key=f"coopdesa/{stored.name}")
    assert obj["Body"].read() == PNG
    assert obj["Metadata"]["sha256"] == hashlib.sha256(PNG).hexdigest() == stored.sha256
    db.session.expire_all()
    stored = db.session.get(StoredFile, stored.id)
    assert storage.read(stored) == PNG
    with storage.open_stream(stored) as stream:
        assert stream.read() == PNG
    assert storage.read(db.session.get(StoredFile, pdf.id)) == PDF
    assert static_tree() == before


def test_with_s3_final_pdfs_and_scans_are_served_from_the_store(app, s3, login):
    s = D.active_agreement()
    document = docs.document_of(s.reload())
    secretary = s[f"sek:{DIENG}"]
    docs.attach_scan(document, secretary, PNG, "naskah ttd.png")
    db.session.commit()
    final_id, scan_id = document.file_id, document.scan_id
    assert column_data(document.file) is None and column_data(document.scan) is None
    keys = object_keys(s3)
    assert f"coopdesa/{document.file.name}" in keys and f"coopdesa/{document.scan.name}" in keys

    client = login(secretary)
    final = client.get(f"/dokumen/{s.proposal.id}/naskah.pdf")
    assert final.status_code == 200 and final.data.startswith(b"%PDF")
    assert hashlib.sha256(final.data).hexdigest() == document.sha256
    scan = client.get(f"/dokumen/{s.proposal.id}/pindaian")
    assert scan.status_code == 200 and scan.data == PNG
    assert scan.headers["Content-Length"] == str(len(PNG))
    assert db.session.get(StoredFile, final_id) and db.session.get(StoredFile, scan_id)


def test_rows_from_before_the_store_was_configured_are_still_read_from_the_database(app,
                                                                                   moto_server):
    legacy = store_upload(PNG, "lama.png", field="scan")
    db.session.commit()
    store = storage.S3Store(bucket=make_bucket(moto_server), endpoint_url=moto_server,
                            region="us-east-1")
    app.extensions["coopdesa.storage"] = store
    try:
        db.session.expire_all()
        assert storage.read(db.session.get(StoredFile, legacy.id)) == PNG
        assert object_keys(store) == []
    finally:
        app.extensions["coopdesa.storage"] = None


# --- transactions --------------------------------------------------------------------------

def test_a_rolled_back_transaction_removes_its_objects_and_a_commit_keeps_them(app, s3):
    kept = store_upload(PNG, "tetap.png", field="scan")
    db.session.commit()
    gone = store_upload(PDF, "batal.pdf", field="scan")
    # Written before the commit ...
    assert f"coopdesa/{gone.name}" in object_keys(s3)
    db.session.rollback()
    # ... and removed with the rollback; the committed one stays.
    assert object_keys(s3) == [f"coopdesa/{kept.name}"]


def test_a_rolled_back_savepoint_removes_only_its_own_objects(app, s3):
    outer = store_upload(PNG, "luar.png", field="scan")
    outer_name = outer.name
    savepoint = db.session.begin_nested()
    inner = store_upload(PDF, "dalam.pdf", field="scan")
    inner_name = inner.name
    savepoint.rollback()
    assert object_keys(s3) == [f"coopdesa/{outer_name}"]
    with db.session.begin_nested():
        committed_inner = store_upload(PDF, "dalam2.pdf", field="scan")
    db.session.commit()
    assert object_keys(s3) == sorted([f"coopdesa/{outer_name}",
                                      f"coopdesa/{committed_inner.name}"])
    assert f"coopdesa/{inner_name}" not in object_keys(s3)


def test_a_session_closed_without_commit_removes_its_objects(app, s3):
    store_upload(PNG, "tutup.png", field="scan")
    assert len(object_keys(s3)) == 1
    db.session.remove()
    assert object_keys(s3) == []


def test_an_operation_failing_after_the_upload_leaves_no_object_and_no_row(app, s3,
                                                                           monkeypatch, login):
    s = D.active_agreement()
    existing = object_keys(s3)
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile))
    client = login(s[f"sek:{DIENG}"])

    def fail(*args, **kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(audit, "record", fail)
    with pytest.raises(RuntimeError, match="audit trail unavailable"):
        client.post(f"/dokumen/{s.proposal.id}/pindaian",
                    data={"scan": (io.BytesIO(PNG), "naskah.png")},
                    content_type="multipart/form-data")
    assert object_keys(s3) == existing
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == rows


# --- checksums -----------------------------------------------------------------------------

def test_changed_bytes_in_the_store_are_refused_on_read(app, s3, login):
    s = D.active_agreement()
    document = docs.document_of(s.reload())
    docs.attach_scan(document, s[f"sek:{DIENG}"], PNG, "naskah.png")
    db.session.commit()
    name = document.scan.name
    s3.client.put_object(Bucket=s3.bucket, Key=f"coopdesa/{name}", Body=PNG + b"tampered")
    db.session.expire_all()
    stored = db.session.get(StoredFile, document.scan_id)
    with pytest.raises(storage.ChecksumError, match=f"stored file {name}.*SHA-256"):
        storage.read(stored)
    with pytest.raises(storage.ChecksumError):
        storage.open_stream(stored)
    client = login(s[f"sek:{DIENG}"])
    with pytest.raises(storage.ChecksumError):
        client.get(f"/dokumen/{s.proposal.id}/pindaian")
    s3.client.delete_object(Bucket=s3.bucket, Key=f"coopdesa/{name}")
    with pytest.raises(storage.StorageError, match="cannot read"):
        storage.read(stored)


# --- start-up ------------------------------------------------------------------------------

def _s3_app(tmp_path, **settings):
    return create_app({"ENV_NAME": "testing",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/s3.sqlite",
                       "S3_REGION": "us-east-1", **settings})


def test_start_up_checks_the_bucket(tmp_path, moto_server):
    bucket = make_bucket(moto_server)
    app = _s3_app(tmp_path, S3_BUCKET=bucket, S3_ENDPOINT_URL=moto_server, S3_PREFIX="p/")
    store = app.extensions["coopdesa.storage"]
    assert (store.bucket, store.prefix, store.endpoint_url) == (bucket, "p/", moto_server)

    with pytest.raises(storage.StorageError,
                       match="COOPDESA_S3_BUCKET is set but the bucket s3://tidak-ada/"):
        _s3_app(tmp_path, S3_BUCKET="tidak-ada", S3_ENDPOINT_URL=moto_server)
    with pytest.raises(storage.StorageError, match="cannot be reached"):
        _s3_app(tmp_path, S3_BUCKET=bucket,
                S3_ENDPOINT_URL="http://127.0.0.1:9")  # discard port: nothing listens


def test_with_s3_the_auditors_export_holds_the_stored_bytes(app, s3):
    from coopdesa.accounts.models import Role
    from tests.factories import UserFactory
    from tests.test_documents_export import direct_agreement, fake_pdf, run_export

    documents = [direct_agreement(), direct_agreement(state="ended")]
    assert all(column_data(d.file) is None for d in documents)
    bundle, counts = run_export(UserFactory(role=Role.AUDITOR, jurisdiction_code="33.07"))
    assert counts.agreements == 2
    for document in documents:
        path = f"agreements/{document.proposal.ref}-{document.code}.pdf"
        assert bundle.read(path) == fake_pdf(document.proposal.ref)
