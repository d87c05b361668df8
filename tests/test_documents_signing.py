"""Signing, the final PDF/A-3b (metadata, embedded JSON, QR), the signed scan, public
verification and the renderer's safety and limits."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from pypdf.generic import BooleanObject

from coopdesa.audit.models import AuditEntry
from coopdesa.audit.operations import verify_chain
from coopdesa.documents import operations as docs
from coopdesa.documents import render as R
from coopdesa.documents.models import AgreementDocument, Signature
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.states import State
from tests import document_helpers as D
from tests.conftest import DIENG, SEMBUNGAN
from tests.factories import UserFactory

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")


def _signed_antar_desa():
    s = D.agreed_antar_desa()
    D.sign_all(s)
    return s, docs.document_of(s.reload())


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# --- signing -------------------------------------------------------------------------------

def test_signatures_sign_the_agreement_and_render_the_final_pdf_once(app):
    s = D.agreed_antar_desa()
    proposal = s.reload()
    dieng, sembungan = proposal.parties
    docs.record_signature(proposal, s[f"sek:{DIENG}"], dieng.id, D.signature_data("3"))
    db.session.commit()
    assert s.reload().state == State.AGREED
    assert docs.document_of(proposal) is None
    assert docs.signing_refusal(proposal) == "Belum ditandatangani oleh: Desa Sembungan."

    docs.record_signature(s.reload(), s[f"sek:{SEMBUNGAN}"], sembungan.id,
                          D.signature_data("7"))
    db.session.commit()
    proposal = s.reload()
    # The term starts in 2027: signed, not yet active.
    assert proposal.state == State.SIGNED
    document = docs.document_of(proposal)
    assert document.file is not None and document.render_error is None
    pdf = document.file.data
    assert hashlib.sha256(pdf).hexdigest() == document.sha256 == document.file.sha256
    assert [p["number"] for p in document.payload["parties"]] == ["3", "7"]
    assert document.payload["draft"] is False
    actions = [e.action for e in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.proposal_id == proposal.id)
        .order_by(AuditEntry.id))]
    assert actions[-5:] == ["document.sign", "document.sign", "proposal.transition.sign",
                            "document.finalise", "document.render"]
    assert verify_chain().ok
    # Served from the store: the same bytes whatever happens to the renderer.
    assert docs.render_final(document).data == pdf
    text = _text(pdf)
    assert "NOMOR 3 TAHUN" in text.upper() and "NOMOR 7 TAHUN" in text.upper()
    assert "DRAF" not in text


def test_the_final_pdf_is_pdfa_3b_with_metadata_and_the_agreement_as_json(app):
    s, document = _signed_antar_desa()
    reader = PdfReader(io.BytesIO(document.file.data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "conformance" in xmp and ("B" in xmp)
    assert document.payload["title"] in xmp
    for party in document.payload["parties"]:
        assert party["name"] in xmp
    assert "Nomor 1 Tahun" in xmp and "Nomor 2 Tahun" in xmp
    attachments = reader.attachments
    assert list(attachments) == ["agreement.json"]
    embedded = json.loads(attachments["agreement.json"][0])
    assert embedded == json.loads(json.dumps(document.payload))
    assert embedded["schema"] == "coopdesa.agreement/1"
    assert embedded["document"]["code"] == document.code


def test_the_qr_code_decodes_to_the_verification_url(app, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    s, document = _signed_antar_desa()
    path = tmp_path / "final.pdf"
    path.write_bytes(document.file.data)
    url = f"https://coopdesa.example/verify/{document.code}"
    # A screen's resolution and a print's: the code is an image of one pixel per module,
    # drawn without interpolation, so it stays sharp at both.
    for dpi in (72, 150):
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path),
                        str(tmp_path / f"page{dpi}")], check=True)
        found = set()
        for png in sorted(tmp_path.glob(f"page{dpi}*.png")):
            found |= {r.text for r in zxingcpp.read_barcodes(Image.open(png))}
        assert found == {url}, dpi
    images = {image.indirect_reference.idnum: image
              for page in PdfReader(io.BytesIO(document.file.data)).pages
              for image in page.images}  # the pages share one resource dictionary
    (image,) = images.values()
    assert image.image.size == (37, 37)  # version 4 and a border of 2 modules
    assert image.indirect_reference.get_object()["/Interpolate"] == BooleanObject(False)
    assert document.code in _text(document.file.data)


def test_signing_is_refused_with_reasons_and_changes_nothing(app):
    s = D.agreed_antar_desa()
    proposal = s.reload()
    dieng, sembungan = proposal.parties
    outsider = UserFactory(role="sekretaris", desa_code="33.07.01.2001")
    with pytest.raises(Exception) as refused:
        docs.record_signature(proposal, outsider, dieng.id, D.signature_data("1"))
    assert refused.type.__name__ in ("AccessDenied", "NotFoundError")
    with pytest.raises(AccessDenied, match="dicatat oleh sekretaris desa itu sendiri"):
        docs.record_signature(proposal, s[f"sek:{SEMBUNGAN}"], dieng.id, D.signature_data("1"))
    with pytest.raises(ValidationError) as bad:
        docs.record_signature(proposal, s[f"sek:{DIENG}"], dieng.id, {
            "number": "", "signed_on": "2999-01-01", "place": "x" * 200, "method": "pena"})
    assert set(bad.value.fields) == {"number", "signed_on", "place", "method"}
    with pytest.raises(ValidationError) as tte:
        docs.record_signature(proposal, s[f"sek:{DIENG}"], dieng.id,
                              D.signature_data("1", method="elektronik"))
    assert "evidence" in tte.value.fields
    with pytest.raises(ValidationError) as not_pdf:
        docs.record_signature(proposal, s[f"sek:{DIENG}"], dieng.id,
                              D.signature_data("1", method="elektronik"),
                              evidence=(PNG, "ttd.pdf"))
    assert "harus berupa PDF" in not_pdf.value.fields["evidence"][0]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 0

    docs.record_signature(proposal, s[f"sek:{DIENG}"], dieng.id, D.signature_data("4"))
    db.session.commit()
    with pytest.raises(ConflictError, match="sudah dicatat"):
        docs.record_signature(s.reload(), s[f"sek:{DIENG}"], dieng.id, D.signature_data("5"))


def test_a_village_number_is_used_once_a_year(app):
    first = D.agreed_antar_desa()
    D.sign_all(first)
    second = D.agreed_antar_desa(like=first, title="Jalur pendakian Prau")
    proposal = second.reload()
    with pytest.raises(ValidationError) as taken:
        docs.record_signature(proposal, second[f"sek:{DIENG}"], proposal.parties[0].id,
                              D.signature_data("1"))
    assert "sudah dipakai" in taken.value.fields["number"][0]


def test_signing_before_agreement_is_refused(app):
    from tests import proposal_helpers as H

    s = H.antar_desa(submit=True)
    with pytest.raises(ConflictError, match="setelah usulan disepakati"):
        docs.record_signature(s.proposal, s.author, s.proposal.parties[0].id,
                              D.signature_data("1"))


def test_an_electronic_signature_keeps_the_signed_pdf(app):
    s = D.agreed_pihak_ketiga()
    proposal = s.reload()
    village, company = proposal.parties
    signed_pdf = b"%PDF-1.7\n% TTE BSrE\n%%EOF\n"
    docs.record_signature(proposal, s.author, company.id,
                          D.signature_data("045/PKS/CV-PL/XI/2026", method="elektronik"),
                          evidence=(signed_pdf, "tte.pdf"))
    docs.record_signature(proposal, s.author, village.id, D.signature_data("12/PKS/2026"))
    db.session.commit()
    document = docs.document_of(s.reload())
    signature = docs.signatures_of(s.proposal)[company.id]
    assert signature.evidence.sha256 == hashlib.sha256(signed_pdf).hexdigest()
    text = _text(document.file.data)
    assert "045/PKS/CV-PL/XI/2026" in text and "PIHAK KESATU" in text


def test_a_failed_render_leaves_the_agreement_signed_and_retry_works(app, monkeypatch):
    s = D.agreed_antar_desa()

    def broken(job, **_kw):
        raise R.RenderError("percobaan gagal")

    monkeypatch.setattr(R, "render", broken)
    D.sign_all(s)
    document = docs.document_of(s.reload())
    assert s.proposal.state == State.SIGNED
    assert document.file_id is None and document.render_error == "percobaan gagal"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(
        AgreementDocument.__table__)) == 1
    monkeypatch.undo()
    assert docs.try_render(document) is None
    db.session.commit()
    assert document.sha256 and document.render_error is None


# --- pages ---------------------------------------------------------------------------------

def test_the_documents_page_signs_through_the_form_and_keeps_input_on_error(app, login):
    s = D.agreed_antar_desa()
    proposal = s.reload()
    dieng = proposal.parties[0]
    client = login(s[f"sek:{DIENG}"])
    page = client.get(f"/dokumen/{proposal.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Catat tanda tangan" in body and "belum menandatangani" in body
    bad = client.post(f"/dokumen/{proposal.id}/tanda-tangan", data={
        "party_id": dieng.id, f"p{dieng.id}-party_id": dieng.id,
        f"p{dieng.id}-signer_name": "Slamet <b>Riyadi</b>",
        f"p{dieng.id}-signer_office": "Kepala Desa", f"p{dieng.id}-number": "",
        f"p{dieng.id}-signed_on": "2026-13-40", f"p{dieng.id}-place": "Dieng",
        f"p{dieng.id}-method": "basah"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Nomor dokumen wajib diisi." in text
    assert "Tanggal tidak valid" in text
    assert "Slamet &lt;b&gt;Riyadi&lt;/b&gt;" in text  # kept and escaped
    ok = client.post(f"/dokumen/{proposal.id}/tanda-tangan", data={
        "party_id": dieng.id, f"p{dieng.id}-signer_name": "Slamet Riyadi",
        f"p{dieng.id}-signer_office": "Kepala Desa", f"p{dieng.id}-number": "3",
        f"p{dieng.id}-signed_on": D.signature_data("3")["signed_on"],
        f"p{dieng.id}-place": "Dieng", f"p{dieng.id}-method": "basah"})
    assert ok.status_code == 302
    assert docs.signatures_of(s.reload())[dieng.id].signer_name == "Slamet Riyadi"


def test_draft_pdf_for_readers_and_404_for_other_villages(app, login):
    s = D.agreed_antar_desa()
    client = login(s[f"sek:{DIENG}"])
    response = client.get(f"/dokumen/{s.proposal.id}/naskah.pdf?kertas=a4")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert all("DRAF" in page.extract_text() for page in reader.pages)
    assert abs(float(reader.pages[0].mediabox.height) - 841.9) < 1
    client.post("/keluar")
    other = login(UserFactory(role="sekretaris", desa_code="33.07.01.2001"))
    assert other.get(f"/dokumen/{s.proposal.id}/naskah.pdf").status_code == 404
    assert other.get(f"/dokumen/{s.proposal.id}").status_code == 404


def test_final_pdf_download_is_the_stored_file(app, login):
    s, document = _signed_antar_desa()
    client = login(s[f"sek:{SEMBUNGAN}"])
    first = client.get(f"/dokumen/{s.proposal.id}/naskah.pdf")
    second = client.get(f"/dokumen/{s.proposal.id}/naskah.pdf")
    assert first.data == second.data == document.file.data


def test_scan_upload_checks_content_and_keeps_its_hash(app, login):
    s, document = _signed_antar_desa()
    client = login(s[f"sek:{DIENG}"])
    refused = client.post(f"/dokumen/{s.proposal.id}/pindaian",
                          data={"scan": (io.BytesIO(b"<html>bukan pdf</html>"), "scan.pdf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "bukan PDF, PNG atau JPEG" in refused.get_data(as_text=True)
    ok = client.post(f"/dokumen/{s.proposal.id}/pindaian",
                     data={"scan": (io.BytesIO(PNG), "../../etc/naskah ttd.png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    db.session.expire_all()
    document = docs.document_of(s.reload())
    assert document.scan.sha256 == hashlib.sha256(PNG).hexdigest()
    assert "/" not in document.scan.original_name and document.scan.name.endswith(".png")
    download = client.get(f"/dokumen/{s.proposal.id}/pindaian")
    assert download.data == PNG


# --- public verification -------------------------------------------------------------------

def test_verify_page_shows_identity_and_state_and_nothing_else(app, client):
    s, document = _signed_antar_desa()
    page = client.get(f"/verify/{document.code}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert document.payload["title"] in body and document.sha256 in body
    assert "Nomor 1 Tahun" in body and "Desa Dieng" in body
    assert "Ditandatangani, belum mulai berlaku" in body
    for secret in (s["bkad"].username, s["bkad"].full_name, "Hak Dieng", "Rp",
                   s.author.full_name):
        assert secret not in body
    loose = client.get(f"/verify/{document.code.lower().replace('-', '')}")
    assert loose.status_code == 302 and loose.location.endswith(document.code)
    assert client.get("/verify/0000-0000-0000").status_code == 404
    assert client.get("/verify/<script>").status_code == 404


def test_verify_upload_tells_identical_from_tampered(app, client):
    s, document = _signed_antar_desa()
    pdf = document.file.data
    same = client.post(f"/verify/{document.code}", content_type="multipart/form-data",
                       data={"document": (io.BytesIO(pdf), "naskah.pdf")})
    assert "COCOK: berkas ini sama persis" in same.get_data(as_text=True)
    tampered = pdf.replace(b"NOMOR", b"NOMER", 1) if b"NOMOR" in pdf else pdf[:-10] + b"x" * 10
    other = client.post(f"/verify/{document.code}", content_type="multipart/form-data",
                        data={"document": (io.BytesIO(tampered), "naskah.pdf")})
    assert "TIDAK COCOK" in other.get_data(as_text=True)
    api = client.get(f"/api/v1/verify/{document.code}?sha256={document.sha256}")
    assert api.status_code == 200 and api.json["matches"] is True
    assert api.json["status"] == "signed" and "reviewer" not in json.dumps(api.json)


def test_verify_is_rate_limited(app, client):
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [client.get("/verify/0000-0000-0000").status_code for _ in range(5)]
    finally:
        app.config["VERIFY_RATE_LIMIT"] = "30 per minute;300 per hour"
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]


def test_verify_shows_an_ended_or_replaced_agreement(app, client):
    from coopdesa.proposals import operations as ops

    s, document = _signed_antar_desa()
    ops.transition(s.reload(), None, "activate")
    ops.transition(s.reload(), None, "end", ground="e", text="Diganti perjanjian baru.")
    db.session.commit()
    body = client.get(f"/verify/{document.code}").get_data(as_text=True)
    assert "Diganti oleh perjanjian baru" in body and "Pasal 147" in body


# --- the renderer --------------------------------------------------------------------------

HOSTILE = """<html><head>
<link rel="stylesheet" href="http://127.0.0.1:9/x.css">
<link rel="attachment" href="file:///etc/passwd">
<style>@import url("http://169.254.169.254/latest/meta-data/");
body { background: url("file:///etc/hostname"); }</style></head><body>
<img src="http://127.0.0.1:9/a.png"><img src="file:///etc/passwd">
<img src="http://[fe80::1]/b.png"><img src="../../../../etc/passwd">
<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>
<img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'%3E%3Cimage href='http://127.0.0.1:9/c.png'/%3E%3C/svg%3E">
<p>isi</p></body></html>"""


def test_the_fetcher_loads_only_static_files_and_data_uris(app):
    root = app.static_folder
    fetcher = R.make_fetcher(root)
    for url in ("file:///etc/passwd", "http://127.0.0.1/", "https://example.org/",
                "http://169.254.169.254/", "http://[::1]/", "ftp://x/",
                f"file://{root}/../coopdesa/__init__.py", "file://evil.host/etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch(f"file://{root}/css/pdf.css").read().startswith(b"/*")
    assert fetcher.fetch("data:text/plain,hai").read() == b"hai"


def test_hostile_markup_fetches_and_embeds_nothing(app, monkeypatch):
    import urllib.request

    def no_network(*_a, **_kw):
        raise AssertionError("the renderer tried the network")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    job = R.RenderJob(html=HOSTILE, static_root=app.static_folder)
    R._resources.cache_clear()
    pdf = R.render_now(job)
    refused = R._resources(app.static_folder).fetcher.refused
    for url in ("http://127.0.0.1:9/x.css", "file:///etc/passwd", "http://127.0.0.1:9/a.png",
                "file:///etc/hostname"):
        assert url in refused
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"])
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        assert "/XObject" not in resources or not resources["/XObject"]
    assert b"root:" not in pdf


def test_a_missing_harfbuzz_subset_library_is_warned_about_loudly(app, monkeypatch, caplog):
    monkeypatch.setattr(R, "harfbuzz_subset_available", lambda: False)
    with caplog.at_level("WARNING"):
        R.warn_if_slow(app.logger)
    assert "libharfbuzz-subset" in caplog.text and "1.6-2x slower" in caplog.text
    caplog.clear()
    monkeypatch.setattr(R, "harfbuzz_subset_available", lambda: True)
    R.warn_if_slow(app.logger)
    assert caplog.text == ""


def test_pdf_streams_are_compressed_at_the_set_level(app):
    """pydyf's zlib compresses streams at PDF_ZLIB_LEVEL (pydyf itself asks for 9); the
    PDF's streams still inflate, and everything else is plain zlib."""
    import zlib

    import pydyf

    R.render_now(R.RenderJob(html="<p>isi</p>", static_root=app.static_folder))
    assert isinstance(pydyf.zlib, R.PdfZlib) and pydyf.zlib.level == R.PDF_ZLIB_LEVEL == 6
    data = b"Peraturan Bersama Kepala Desa " * 400
    packer = pydyf.zlib.compressobj(level=9)
    packed = packer.compress(data) + packer.flush()
    level6 = zlib.compressobj(6)
    assert packed == level6.compress(data) + level6.flush()
    assert pydyf.zlib.decompress(packed) == data
    assert pydyf.zlib.compress(data) == zlib.compress(data)
    stream = pydyf.Stream([b"BT /F1 12 Tf (isi) Tj ET"], compress=True)
    raw = stream.data
    body = raw[raw.index(b"stream\n") + 7:raw.rindex(b"\nendstream")]
    assert zlib.decompress(body) == b"BT /F1 12 Tf (isi) Tj ET"
    R._set_pdf_compression()  # idempotent
    assert pydyf.zlib.level == 6


def test_minutes_pdf_from_the_meeting_page(app, login):
    from coopdesa.deliberations.operations import meetings_of

    s = D.agreed_antar_desa()
    meeting = meetings_of(s.reload())[0]
    client = login(s[f"sek:{DIENG}"])
    page = client.get(f"/musyawarah/{meeting.id}").get_data(as_text=True)
    assert f"/dokumen/musyawarah/{meeting.id}/berita-acara.pdf" in page
    pdf = client.get(f"/dokumen/musyawarah/{meeting.id}/berita-acara.pdf")
    assert pdf.status_code == 200 and "BERITA ACARA" in _text(pdf.data)
    client.post("/keluar")
    outsider = login(UserFactory(role="sekretaris", desa_code="33.07.01.2001"))
    assert outsider.get(f"/dokumen/musyawarah/{meeting.id}/berita-acara.pdf").status_code == 404


def test_oversized_input_is_refused_before_rendering(app):
    job = R.RenderJob(html="<p>" + "x" * (R.MAX_HTML_BYTES + 1) + "</p>",
                      static_root=app.static_folder)
    with pytest.raises(R.RenderError, match="too large"):
        R.render_now(job)


def test_a_render_over_time_is_stopped_and_the_pool_recovers(app):
    pool = R.RenderPool(workers=1, memory_mb=0)
    try:
        heavy = R.RenderJob(html="<table>" + "<tr><td>sel</td></tr>" * 40000 + "</table>",
                            static_root=app.static_folder)
        with pytest.raises(R.RenderError, match="longer than"):
            pool.render(heavy, timeout=0.5)
        light = R.RenderJob(html="<p>ringan</p>", static_root=app.static_folder)
        assert pool.render(light, timeout=60).startswith(b"%PDF")
    finally:
        pool.reset()


def test_an_agreement_signed_without_its_document_can_be_completed(app, login):
    from coopdesa.proposals import operations as ops
    from tests.factories import AdminFactory

    s = D.agreed_antar_desa()
    proposal = s.reload()
    for index, party in enumerate(list(proposal.parties), start=1):
        db.session.add(Signature(proposal_id=proposal.id, party_id=party.id,
                                 signer_name="Kepala Desa", signer_office="Kepala Desa",
                                 method="basah", signed_on=D.local_today(), place="Dieng",
                                 number=str(index)))
    db.session.commit()
    ops.transition(s.reload(), AdminFactory(), "sign")  # an admin's bare transition
    db.session.commit()
    assert docs.document_of(s.proposal) is None
    client = login(s[f"sek:{DIENG}"])
    page = client.get(f"/dokumen/{s.proposal.id}").get_data(as_text=True)
    assert "Buat dokumen final" in page
    done = client.post(f"/dokumen/{s.proposal.id}/final")
    assert done.status_code == 302
    document = docs.document_of(s.reload())
    assert document is not None and document.sha256
    again = client.post(f"/dokumen/{s.proposal.id}/final", follow_redirects=True)
    assert "sudah ada" in again.get_data(as_text=True)


def test_a_forged_party_id_is_refused_with_a_message(app, login):
    s = D.agreed_antar_desa()
    client = login(s[f"sek:{DIENG}"])
    response = client.post(f"/dokumen/{s.proposal.id}/tanda-tangan",
                           data={"party_id": "<script>", "p-number": "1"})
    assert response.status_code == 422
    assert "Pihak itu tidak ada pada usulan ini." in response.get_data(as_text=True)


HOSTILE_TEXT = ('<link rel="attachment" href="file:///etc/passwd">'
                '<img src="http://169.254.169.254/latest"><style>@import url(http://127.0.0.1/x);'
                '</style><svg><image href="file:///etc/passwd"/></svg>'
                '<b>tebal</b> {{ 7*7 }} &amp; \u202e')


def test_hostile_text_in_every_user_field_is_printed_not_fetched(app, monkeypatch):
    """Every text section, every party field and the funding description carry markup;
    the draft shows it as text and fetches and embeds nothing."""
    import urllib.request

    from coopdesa.proposals import operations as ops
    from coopdesa.proposals.sections import TEXT_SECTIONS
    from tests import proposal_helpers as H

    def no_network(*_a, **_kw):
        raise AssertionError("the renderer tried the network")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    s = H.antar_desa()
    proposal = s.reload()
    ops.update_sections(proposal, s.author, {
        key: (f"Judul {HOSTILE_TEXT}"[:300] if key == "title" else HOSTILE_TEXT)
        for key in TEXT_SECTIONS} | {"bidang_uraian": HOSTILE_TEXT}, expected_version=None)
    for party in proposal.parties:
        ops.update_party(proposal, s.author, party.id, {
            "signatory_name": "<b>Kades</b>", "signatory_office": "<i>Kepala</i>",
            "delegates": HOSTILE_TEXT, "hak": HOSTILE_TEXT, "kewajiban": HOSTILE_TEXT},
            expected_version=None)
    ops.set_funding(proposal, s.author, proposal.parties[0].id, [
        {"source": "apb_desa", "amount": "1.001.000", "apbdes_year": 2027,
         "description": HOSTILE_TEXT[:300]}], expected_version=None)
    db.session.commit()
    pdf = R.render_now(docs.draft_job(s.reload()))
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        assert "/XObject" not in resources or not resources["/XObject"]
    text = _text(pdf)
    assert 'rel="attachment"' in text and "<b>tebal</b>" in text and "{{ 7*7 }}" in text
    assert "<B>KADES</B>" in text.upper()
    assert "satu juta seribu rupiah" in text
    assert b"root:" not in pdf


def test_api_signature_with_hostile_json_types_is_refused_by_field(app, api):
    s = D.agreed_antar_desa()
    proposal = s.reload()
    party = proposal.parties[0]
    client = api(s[f"sek:{DIENG}"])
    response = client.post(f"/proposals/{proposal.id}/signatures", json={
        "party_id": party.id, "number": ["1"], "signed_on": {"y": 2026}, "place": 7,
        "method": ["basah"], "paper": ["a4"], "signer_name": None})
    assert response.status_code == 422, response.json
    assert {"number", "signed_on", "place", "method", "paper"} <= set(
        response.json["error"]["fields"])
    bad = client.post(f"/proposals/{proposal.id}/signatures",
                      json={"party_id": [party.id], "evidence_base64": "***"})
    assert bad.status_code == 422 and "evidence_base64" in bad.json["error"]["fields"]
    ok = client.post(f"/proposals/{proposal.id}/signatures", json={
        "party_id": party.id, **D.signature_data("9")})
    assert ok.status_code == 201 and ok.json["signatures"][0]["number"] == "9"
