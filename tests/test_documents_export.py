"""The auditor's export bundle: what the ZIP holds and that its hashes check out, the
filters, scope and refusals, rendering on the way (once), the page, the API and the CLI."""

from __future__ import annotations

import contextvars
import copy
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import subprocess
import zipfile

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from coopdesa.accounts.models import Role, User
from coopdesa.actors.operations import village_actor
from coopdesa.audit import operations as audit
from coopdesa.audit.models import AuditEntry
from coopdesa.db import utcnow
from coopdesa.documents import export as X
from coopdesa.documents import operations as docs
from coopdesa.documents import payload as P
from coopdesa.documents.cli import export_command
from coopdesa.documents.models import AgreementDocument, Paper
from coopdesa.errors import AccessDenied, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.models import Initiative, Kind, PartyRole, Proposal, ProposalParty
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region
from tests import document_helpers as D
from tests import proposal_helpers as H
from tests.conftest import BANJARNEGARA, DIENG, GARUNG, KEJAJAR, SEMBUNGAN, WONOSOBO
from tests.factories import AdminFactory, UserFactory

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")
_numbers = itertools.count(1)


@pytest.fixture
def web(app):
    """The app, with the export pages registered by create_app."""
    assert "export" in app.blueprints
    return app


# --- building agreements -------------------------------------------------------------------

def signed_unrendered(monkeypatch) -> AgreementDocument:
    """Dieng + Sembungan agreed and signed through the real operations, its final PDF not
    rendered yet (as after a failed render)."""
    s = D.agreed_antar_desa()
    with monkeypatch.context() as patch:
        patch.setattr(docs, "try_render", lambda document: None)
        D.sign_all(s)
    document = docs.document_of(s.reload())
    assert document.file_id is None
    return document


def fake_pdf(ref: str) -> bytes:
    return b"%PDF-1.7\n% coopdesa test " + ref.encode() + b"\n%%EOF\n"


def direct_agreement(*, desa_codes: tuple[str, ...] = (DIENG, SEMBUNGAN),
                     kind: str = "antar_desa", state: str = "active",
                     enacted: dt.date = dt.date(2026, 11, 22),
                     like: AgreementDocument | None = None,
                     rendered: bool = True) -> AgreementDocument:
    """A signed agreement written directly (for filters and volume): a proposal with its
    village parties, one audit entry, and its document; the payload built from the
    proposal, or copied from ``like`` (a real one, renderable) with its own identity."""
    n = next(_numbers)
    ref = f"KSD-2026-{90000 + n:05d}"
    title = f"Kerja sama uji ekspor {n}"
    proposal = Proposal(ref=ref, kind=Kind(kind), initiative=Initiative.DESA,
                        state=State(state), title=title, title_key=title.lower(), bidang=[],
                        kabupaten_code=desa_codes[0][:5], submitted_at=utcnow(),
                        start_date=H.START, end_date=H.END)
    for position, code in enumerate(desa_codes):
        proposal.parties.append(ProposalParty(
            actor=village_actor(code), desa_code=code, position=position,
            role=PartyRole.PEMRAKARSA if position == 0 else PartyRole.MITRA))
    db.session.add(proposal)
    db.session.flush()
    audit.record("proposal.create", object_type="proposal", object_id=proposal.id,
                 proposal_id=proposal.id, summary="Usulan dibuat (uji ekspor)")
    document = AgreementDocument(
        proposal_id=proposal.id, version_number=1, code=docs.new_code(), paper=Paper.F4,
        enacted_on=enacted, enacted_place="Dieng Kulon", payload={}, created_at=utcnow())
    db.session.add(document)
    db.session.flush()
    url = docs.verify_url(document.code)
    if like is None:
        document.payload = P.build(proposal, document=document, verify_url=url,
                                   version_number=1)
    else:
        data = copy.deepcopy(like.payload)
        data.update(ref=ref, title=title)
        data["document"] = {**data["document"], "code": document.code, "verify_url": url}
        document.payload = data
    if rendered:
        docs.store_final(document, fake_pdf(ref))
    db.session.commit()
    return document


def kecamatan_villages(kecamatan: str, n: int = 2) -> tuple[str, ...]:
    return tuple(db.session.scalars(
        sa.select(Region.code).where(Region.level == 4, Region.code.like(kecamatan + ".2%"))
        .order_by(Region.code).limit(n)))


# --- reading a bundle ----------------------------------------------------------------------

def run_export(user, filters=None, **kw) -> tuple[zipfile.ZipFile, X.ExportCounts]:
    sink = io.BytesIO()
    counts = X.export(user, filters or X.ExportFilters(), sink, **kw)
    data = sink.getvalue()
    assert counts.bytes == len(data)
    return zipfile.ZipFile(io.BytesIO(data)), counts


def manifest(bundle: zipfile.ZipFile) -> list[dict]:
    return json.loads(bundle.read("manifest.json"))


def refs(bundle: zipfile.ZipFile) -> list[str]:
    return [row["ref"] for row in manifest(bundle)]


def audit_rows(bundle: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(bundle.read("audit.csv").decode())))


def export_entries() -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "document.export").order_by(AuditEntry.id)))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the bundle ----------------------------------------------------------------------------

def test_the_bundle_holds_every_file_with_matching_hashes_and_renders_once(app, monkeypatch,
                                                                           tmp_path):
    real = signed_unrendered(monkeypatch)
    secretary = db.session.scalar(sa.select(User).where(User.role == Role.SEKRETARIS,
                                                         User.desa_code == DIENG))
    docs.attach_scan(real, secretary, PNG, "naskah ttd.png")
    db.session.commit()
    other = direct_agreement(state="ended", enacted=dt.date(2025, 3, 1))
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    real_ref, other_ref = real.proposal.ref, other.proposal.ref

    bundle, counts = run_export(auditor)
    assert (counts.agreements, counts.rendered, counts.failed, counts.scans) == (2, 1, 0, 1)
    names = bundle.namelist()
    real_name = f"{real_ref}-{real.code}"
    assert names == [f"agreements/{real_name}.pdf", f"scans/{real_name}.png",
                     f"agreements/{other_ref}-{other.code}.pdf", "manifest.csv",
                     "manifest.json", "audit.csv", "README.txt", "SHA256SUMS"]
    assert bundle.testzip() is None
    assert bundle.getinfo(names[0]).compress_type == zipfile.ZIP_STORED

    # Rendered now, stored once, and the ZIP holds exactly the stored bytes.
    db.session.expire_all()
    real = db.session.get(AgreementDocument, real.id)
    pdf = bundle.read(names[0])
    assert pdf.startswith(b"%PDF") and real.file_id is not None
    assert _sha(pdf) == real.sha256 == real.file.sha256
    assert bundle.read(names[1]) == PNG

    rows = manifest(bundle)
    assert [r["ref"] for r in rows] == [real_ref, other_ref]
    first = rows[0]
    assert first["code"] == real.code and first["kind"] == "antar_desa"
    assert first["state"] == "signed" and first["verify_url"].endswith(f"/verify/{real.code}")
    assert [p["desa_code"] for p in first["parties"]] == [DIENG, SEMBUNGAN]
    assert [p["role"] for p in first["parties"]] == ["pemrakarsa", "mitra"]
    assert [n["number"] for n in first["numbers"]] == ["1", "2"]
    assert first["start"] == "2027-01-01" and first["end"] == "2029-12-31"
    assert first["registered_sha256"] == real.sha256
    assert rows[1]["state"] == "ended" and rows[1]["enacted_on"] == "2025-03-01"
    for row in rows:
        for f in row["files"]:
            data = bundle.read(f["path"])
            assert (_sha(data), len(data)) == (f["sha256"], f["size"])
    with_csv = list(csv.DictReader(io.StringIO(bundle.read("manifest.csv").decode())))
    assert [(r["ref"], r["pdf_sha256"], r["scan_path"]) for r in with_csv] == [
        (real_ref, real.sha256, names[1]), (other_ref, other.sha256, "")]

    # SHA256SUMS names every other member; sha256sum -c agrees.
    sums = dict(reversed(line.split("  ", 1)) for line in
                bundle.read("SHA256SUMS").decode().splitlines())
    assert sorted(sums) == sorted(n for n in names if n != "SHA256SUMS")
    for name, digest in sums.items():
        assert _sha(bundle.read(name)) == digest, name
    bundle.extractall(tmp_path)
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    readme = bundle.read("README.txt").decode()
    assert "sha256sum -c SHA256SUMS" in readme and "PP 43/2014" in readme

    # audit.csv: every entry of the two agreements (the render just made included), in
    # chain order, and nothing else.
    proposal_ids = {real.proposal_id, other.proposal_id}
    expected = list(db.session.scalars(sa.select(AuditEntry.id).where(
        AuditEntry.proposal_id.in_(proposal_ids)).order_by(AuditEntry.id)))
    lines = audit_rows(bundle)
    assert [int(r["id"]) for r in lines] == expected and counts.audit_entries == len(expected)
    assert {r["proposal_ref"] for r in lines} == {real_ref, other_ref}
    assert "document.render" in {r["action"] for r in lines}

    # One document.export entry naming the manifest's hash; a second export renders
    # nothing and ships the same PDF.
    [entry] = export_entries()
    assert entry.actor_label == auditor.username and entry.proposal_id is None
    assert entry.after["manifest_sha256"] == _sha(bundle.read("manifest.json"))
    assert entry.after["agreements"] == 2 and entry.after["filters"] == {}
    again, counts2 = run_export(auditor)
    assert counts2.rendered == 0 and again.read(names[0]) == pdf
    assert len(export_entries()) == 2
    assert audit.verify_chain().ok


def test_filters_select_by_kind_year_state_kecamatan_and_region(app):
    garung = kecamatan_villages(GARUNG)
    a = direct_agreement(kind="antar_desa", state="active", enacted=dt.date(2026, 5, 1))
    b = direct_agreement(desa_codes=(DIENG,), kind="pihak_ketiga", state="signed",
                         enacted=dt.date(2025, 5, 1))
    c = direct_agreement(desa_codes=garung, kind="antar_desa", state="ended",
                         enacted=dt.date(2026, 1, 1))
    admin = AdminFactory()
    every = [x.proposal.ref for x in (a, b, c)]
    cases = {
        (): every,
        (("jenis", "antar_desa"),): [every[0], every[2]],
        (("jenis", "pihak_ketiga"),): [every[1]],
        (("tahun", "2026"),): [every[0], every[2]],
        (("tahun", "2024"),): [],
        (("status", "signed"),): [every[1]],
        (("status", "ended"),): [every[2]],
        (("kecamatan", KEJAJAR),): [every[0], every[1]],
        (("kecamatan", GARUNG),): [every[2]],
        (("wilayah", garung[0]),): [every[2]],
        (("wilayah", "3307"),): every,
        (("wilayah", BANJARNEGARA),): [],
        (("kecamatan", KEJAJAR), ("tahun", "2026"), ("jenis", "antar_desa")): [every[0]],
    }
    for args, expected in cases.items():
        filters = X.ExportFilters.parse(dict(args), admin)
        assert X.count_documents(admin, filters) == len(expected), args
        bundle, counts = run_export(admin, filters)
        assert refs(bundle) == expected, args
        assert counts.agreements == len(expected)
    # A draft or agreed proposal never has its document exported (none should exist, but
    # the state decides, not the row).
    H.set_state(db.session.get(Proposal, a.proposal_id), State.AGREED)
    assert refs(run_export(admin)[0]) == every[1:]


def test_scope_an_auditor_elsewhere_gets_nothing_and_regions_outside_are_refused(app):
    a = direct_agreement()
    kejajar = UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR)
    elsewhere = UserFactory(role=Role.AUDITOR, jurisdiction_code=BANJARNEGARA)
    assert refs(run_export(kejajar)[0]) == [a.proposal.ref]
    bundle, counts = run_export(elsewhere)
    assert counts.agreements == 0 and manifest(bundle) == []
    assert audit_rows(bundle) == []
    assert bundle.read("audit.csv").decode().startswith("id,logged_at,")
    with pytest.raises(ValidationError) as refused:
        X.ExportFilters.parse({"wilayah": WONOSOBO}, kejajar)  # wider than Kejajar
    assert "luar yurisdiksi" in refused.value.fields["wilayah"][0]
    with pytest.raises(ValidationError) as refused:
        X.ExportFilters.parse({"kecamatan": GARUNG}, kejajar)
    assert set(refused.value.fields) == {"kecamatan"}
    for role, extra in ((Role.SEKRETARIS, {"desa_code": DIENG}), (Role.BKAD, {}),
                        (Role.KETUA_BPD, {"desa_code": DIENG})):
        with pytest.raises(AccessDenied):
            X.export(UserFactory(role=role, **extra), X.ExportFilters(), io.BytesIO())
    assert [e.actor_label for e in export_entries()] == [kejajar.username, elsewhere.username]


@pytest.mark.parametrize(("args", "field"), [
    ({"tahun": "1999"}, "tahun"),
    ({"tahun": "dua ribu"}, "tahun"),
    ({"status": "draft"}, "status"),
    ({"jenis": "lainnya"}, "jenis"),
    ({"kecamatan": "33.07"}, "kecamatan"),
    ({"wilayah": "99.99"}, "wilayah"),
    ({"wilayah": "bukan kode"}, "wilayah"),
])
def test_bad_filters_answer_400_naming_the_field(web, login, api, args, field):
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    with pytest.raises(ValidationError) as refused:
        X.ExportFilters.parse(args, auditor)
    message = refused.value.fields[field][0]
    client = login(auditor)
    for path in ("/ekspor/", "/ekspor/dokumen.zip"):
        response = client.get(path, query_string=args)
        assert response.status_code == 400, path
        page = response.get_data(as_text=True)
        assert f'id="{field}-error"' in page and message.split("%")[0][:20] in page
    response = api(auditor).get("/exports/agreements.zip", query_string=args)
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == [field]
    assert export_entries() == []


# --- the page, the download and the API ----------------------------------------------------

def test_page_shows_choices_and_count_and_the_zip_downloads(web, login):
    a = direct_agreement(state="active")
    direct_agreement(desa_codes=(DIENG,), kind="pihak_ketiga", state="signed",
                     enacted=dt.date(2025, 2, 2))
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    client = login(auditor)
    page = client.get("/ekspor/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-count="2"' in html and f'value="{KEJAJAR}"' in html
    assert 'value="2026"' in html and 'value="2025"' in html and "Unduh ZIP" in html
    filtered = client.get("/ekspor/", query_string={"jenis": "antar_desa", "tahun": "2026"})
    assert 'data-count="1"' in filtered.get_data(as_text=True)
    assert "/ekspor/dokumen.zip?" in filtered.get_data(as_text=True)

    # Streamed as a server does it: the body is read after the view has returned, in the
    # request's own (context-variable) context, not the test's.
    server = contextvars.Context()
    response = server.run(FlaskClient.open, client, "/ekspor/dokumen.zip",
                          query_string={"jenis": "antar_desa"}, buffered=False)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    body = server.run(lambda: b"".join(response.response))
    server.run(response.close)
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="coopdesa-ekspor-')
    assert disposition.endswith('.zip"')
    bundle = zipfile.ZipFile(io.BytesIO(body))
    assert refs(bundle) == [a.proposal.ref]
    db.session.expire_all()
    [entry] = export_entries()
    assert entry.actor_label == auditor.username
    assert entry.after["filters"] == {"jenis": "antar_desa"}


def test_api_streams_the_same_bundle_for_a_token(web, api):
    a = direct_agreement()
    admin = AdminFactory()
    response = api(admin).get("/exports/agreements.zip", query_string={"status": "active"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert refs(zipfile.ZipFile(io.BytesIO(response.data))) == [a.proposal.ref]
    assert len(export_entries()) == 1


@pytest.mark.parametrize("role", [Role.SEKRETARIS, Role.BKAD, Role.KEPALA_DESA])
def test_other_roles_are_refused_on_the_page_the_download_and_the_api(web, login, api,
                                                                     role):
    direct_agreement()
    user = UserFactory(role=role, desa_code=None if role == Role.BKAD else DIENG)
    client = login(user)
    for path in ("/ekspor/", "/ekspor/dokumen.zip"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "auditor wilayah dan administrator" in response.get_data(as_text=True)
    response = api(user).get("/exports/agreements.zip")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert export_entries() == []


def test_anonymous_is_sent_to_the_login_page(web, client):
    response = client.get("/ekspor/dokumen.zip")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


# --- rendering in the worker pool ----------------------------------------------------------

def test_unrendered_documents_render_in_a_worker_pool_in_order(app, monkeypatch):
    real = signed_unrendered(monkeypatch)
    clone = direct_agreement(like=real, state="signed", rendered=False)
    admin = AdminFactory()
    try:
        bundle, counts = run_export(admin, workers=1)
    finally:
        from coopdesa.documents import render as R

        R.shutdown_pools()
    assert (counts.rendered, counts.failed) == (2, 0)
    rows = manifest(bundle)
    assert [r["ref"] for r in rows] == [real.proposal.ref, clone.proposal.ref]
    db.session.expire_all()
    for row, document in zip(rows, (real, clone), strict=True):
        stored = db.session.get(AgreementDocument, document.id)
        [pdf] = [f for f in row["files"] if f["role"] == "final"]
        data = bundle.read(pdf["path"])
        assert data.startswith(b"%PDF") and _sha(data) == stored.sha256 == pdf["sha256"]
    assert run_export(admin, workers=1)[1].rendered == 0  # stored: no pool needed


def test_a_render_that_times_out_fails_alone_and_the_others_are_sent_again(app,
                                                                          monkeypatch):
    """The pool kills every job when one overruns; the export sends the rest again."""
    from coopdesa.documents import render as R

    class Pending:
        def __init__(self, hangs: bool) -> None:
            self.hangs = hangs

        def ready(self) -> bool:
            return not self.hangs

    class Pool:
        submitted = 0

        def submit(self, job):
            Pool.submitted += 1
            return Pending(hangs=Pool.submitted == 1)

        def wait(self, pending, timeout):
            if pending.hangs:
                raise R.RenderError(f"rendering took longer than {timeout:g} s")
            return b"%PDF-1.7 rendered by the fake pool"

    monkeypatch.setattr(R, "pool_for", lambda workers, memory_mb: Pool())
    slow, *others = [direct_agreement(rendered=False) for _ in range(3)]
    bundle, counts = run_export(AdminFactory(), workers=1)
    assert (counts.agreements, counts.rendered, counts.failed) == (3, 2, 1)
    assert Pool.submitted == 3 + 2  # the two others were in flight: sent again
    rows = manifest(bundle)
    assert rows[0]["render_error"] == "rendering took longer than 60 s"
    assert [len(r["files"]) for r in rows] == [0, 1, 1]
    db.session.expire_all()
    assert db.session.get(AgreementDocument, slow.id).file_id is None
    assert all(db.session.get(AgreementDocument, d.id).file_id for d in others)


def test_a_failed_render_is_listed_without_a_file_and_noted_on_the_document(app,
                                                                            monkeypatch):
    from coopdesa.documents import render as R

    broken = direct_agreement(rendered=False)
    fine = direct_agreement()

    def refuse(job):
        raise R.RenderError("font hilang")

    monkeypatch.setattr(R, "render_now", refuse)
    bundle, counts = run_export(AdminFactory())
    assert (counts.agreements, counts.rendered, counts.failed) == (2, 0, 1)
    rows = manifest(bundle)
    assert rows[0]["files"] == [] and rows[0]["render_error"] == "font hilang"
    assert rows[1]["files"][0]["sha256"] == fine.sha256
    assert "PERHATIAN: 1 PDF final" in bundle.read("README.txt").decode()
    db.session.expire_all()
    assert db.session.get(AgreementDocument, broken.id).render_error == "font hilang"


# --- the command line ----------------------------------------------------------------------

def test_cli_writes_the_zip_atomically_and_records_the_system_export(app, tmp_path):
    a = direct_agreement()
    direct_agreement(desa_codes=(DIENG,), kind="pihak_ketiga")
    runner = app.test_cli_runner()
    out = tmp_path / "ekspor.zip"
    result = runner.invoke(export_command, ["--out", str(out), "--jenis", "antar_desa",
                                            "--workers", "0"])
    assert result.exit_code == 0, result.output
    assert "Kerja sama: 1;" in result.output and str(out) in result.output
    assert not (tmp_path / "ekspor.zip.part").exists()
    with zipfile.ZipFile(out) as bundle:
        assert refs(bundle) == [a.proposal.ref]
    [entry] = export_entries()
    assert entry.actor_label == "sistem (CLI)" and entry.user_id is None
    assert entry.after["filters"] == {"jenis": "antar_desa"}

    # As a user: their scope and their right to export.
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=BANJARNEGARA)
    result = runner.invoke(export_command, ["--out", str(out), "--user", auditor.username])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as bundle:
        assert refs(bundle) == []
    secretary = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    refused = runner.invoke(export_command, ["--out", str(tmp_path / "x.zip"), "--user",
                                             secretary.username])
    assert refused.exit_code == 1 and "auditor wilayah" in refused.output
    assert not (tmp_path / "x.zip").exists()


def test_cli_refuses_bad_filters_and_leaves_nothing_behind_on_failure(app, tmp_path,
                                                                     monkeypatch):
    direct_agreement()
    runner = app.test_cli_runner()
    out = tmp_path / "ekspor.zip"
    bad = runner.invoke(export_command, ["--out", str(out), "--tahun", "1999"])
    assert bad.exit_code == 1 and "tahun:" in bad.output
    assert not out.exists() and not (tmp_path / "ekspor.zip.part").exists()

    def boom(self, zf, user):
        raise RuntimeError("disk penuh")
        yield b""  # pragma: no cover

    monkeypatch.setattr(X._Bundle, "_audit", boom)
    failed = runner.invoke(export_command, ["--out", str(out)])
    assert failed.exit_code == 1 and isinstance(failed.exception, RuntimeError)
    assert not out.exists() and not (tmp_path / "ekspor.zip.part").exists()
    assert export_entries() == []
