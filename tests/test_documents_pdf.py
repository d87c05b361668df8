"""The printed documents: Peraturan Bersama Kepala Desa and perjanjian kerja sama (drafts
and finals), berita acara, review record and sustainability assessment, rendered by
WeasyPrint and read back with pypdf: every required part, the numbers and dates in words,
DRAF marks, paper sizes, metadata, and user text shown as text, never interpreted."""

from __future__ import annotations

import datetime as dt
import io
import re
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from coopdesa.deliberations import operations as dops
from coopdesa.documents import payload as P
from coopdesa.documents import pdf, records
from coopdesa.documents.models import Paper, SignMethod
from coopdesa.documents.render import render_now
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.sustainability import operations as sops
from tests import proposal_helpers as H
from tests.conftest import DIENG, SEMBUNGAN

ENACTED = dt.date(2026, 11, 23)  # a Monday
CODE = "7KQM-4TZX-2PVA"
URL = f"https://coopdesa.example/verify/{CODE}"
F4 = (609.4, 935.4)
A4 = (595.3, 841.9)
HOSTILE = ('<b>x</b> <img src="http://127.0.0.1/x"> '
           '<link rel="attachment" href="file:///etc/passwd">')
PASAL_PERJANJIAN = (
    "DASAR HUKUM", "MAKSUD DAN TUJUAN", "RUANG LINGKUP", "PELAKSANAAN", "JANGKA WAKTU",
    "HAK DAN KEWAJIBAN", "PEMBIAYAAN", "PERUBAHAN, PENUNDAAN DAN PEMBATALAN",
    "PENYELESAIAN PERSELISIHAN", "LAIN-LAIN", "PENUTUP")


@pytest.fixture(autouse=True)
def _filters(app):
    if "rupiah_huruf" not in app.jinja_env.filters:
        pdf.init_app(app)


# --- helpers -------------------------------------------------------------------------------

class Rendered:
    """A rendered PDF and its text, page by page, whitespace collapsed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reader = PdfReader(io.BytesIO(data))
        self.raw = [page.extract_text() or "" for page in self.reader.pages]
        self.pages = [_flat(text) for text in self.raw]
        self.text = " ".join(self.pages)

    def has(self, *parts: str) -> None:
        missing = [part for part in parts if _flat(part) not in self.text]
        assert not missing, f"missing {missing!r} in:\n{self.text[:4000]}"

    def headings(self) -> list[int]:
        """The numbers of the Pasal headings, in order (a heading is a line of its own)."""
        return [int(n) for raw in self.raw for n in re.findall(r"^Pasal (\d+)$", raw, re.M)]

    def size(self, index: int = 0) -> tuple[float, float]:
        box = self.reader.pages[index].mediabox
        return float(box.width), float(box.height)


def _flat(text: str) -> str:
    """Collapse whitespace; rejoin words broken after a hyphen at a line end."""
    text = " ".join(text.split())
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def render(job) -> Rendered:
    return Rendered(render_now(job))


def final_payload(proposal, numbers: list[str], *, place: str = "Dieng",
                  method: SignMethod = SignMethod.BASAH) -> dict:
    """The payload as it is frozen when the last party signs (signatures and document
    faked: only what payload.build reads)."""
    signatures = {
        party.id: SimpleNamespace(
            number=number, signer_name=party.signatory_name,
            signer_office=party.signatory_office, method=method, signed_on=ENACTED,
            place=place)
        for party, number in zip(proposal.parties, numbers, strict=True)}
    document = SimpleNamespace(enacted_on=ENACTED, enacted_place=place, code=CODE,
                               paper=Paper.F4, created_at=dt.datetime(2026, 11, 23,
                                                                      tzinfo=dt.UTC))
    return P.build(proposal, signatures=signatures, document=document, verify_url=URL)


def final_job(data: dict, **kw):
    from coopdesa.documents.operations import qr_data_uri

    return records.agreement_job(data, draft=False, qr=qr_data_uri(URL), code=CODE,
                                 verify_url=URL, attachments=[pdf.payload_attachment(data)],
                                 **kw)


def antar_desa_with_odd_amount(*, submit: bool = False) -> H.Scenario:
    """Dieng + Sembungan; Sembungan brings Rp1.001.000 ("satu juta seribu"). Submitted,
    the proposal has its reviewing BKAD."""
    s = H.antar_desa()
    sembungan = next(p for p in s.proposal.parties if p.desa_code == SEMBUNGAN)
    ops.set_funding(s.proposal, s.author, sembungan.id, [
        {"source": "apb_desa", "amount": "1.001.000", "apbdes_year": 2027,
         "description": "Kebersihan jalur"}], expected_version=None)
    if submit:
        ops.transition(s.proposal, s.author, "submit")
    db.session.commit()
    return s


def assert_draft_marks(doc: Rendered, ref: str) -> None:
    assert all("DRAF" in page for page in doc.pages), "DRAF missing on a page"
    assert all(f"{ref} · DRAF" in page for page in doc.pages), "running header missing"
    doc.has("belum ditandatangani; bukan dokumen resmi")
    assert re.search(r"Halaman 1 dari \d+", doc.pages[0])
    assert "/EmbeddedFiles" not in str(doc.reader.trailer["/Root"].get("/Names", {}))


def assert_final_marks(doc: Rendered, header: str) -> None:
    assert not any("DRAF" in page for page in doc.pages), "a final must not say DRAF"
    assert all(header in page for page in doc.pages), "running header missing"
    doc.has("Verifikasi keaslian:", URL, CODE)
    assert re.search(rf"Halaman 1 dari {len(doc.pages)}", doc.pages[0])
    names = doc.reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    assert "agreement.json" in names


# --- Peraturan Bersama Kepala Desa ----------------------------------------------------------

def assert_peraturan_bersama(doc: Rendered, data: dict) -> None:
    doc.has("KABUPATEN WONOSOBO",
            "PERATURAN BERSAMA KEPALA DESA DIENG DAN KEPALA DESA SEMBUNGAN",
            "TENTANG", data["title"].upper(), "DENGAN RAHMAT TUHAN YANG MAHA ESA",
            "KEPALA DESA DIENG DAN KEPALA DESA SEMBUNGAN,",
            "Menimbang", "a. bahwa wisata Dataran Tinggi Dieng perlu dikelola bersama;",
            "c. bahwa berdasarkan pertimbangan sebagaimana dimaksud dalam huruf a dan huruf b,",
            "Mengingat", "1. Undang-Undang Nomor 6 Tahun 2014 tentang Desa",
            "3. Peraturan Menteri Dalam Negeri Nomor 96 Tahun 2017",
            "Dengan Kesepakatan Bersama", "MEMUTUSKAN:", "Menetapkan",
            "BAB I KETENTUAN UMUM", "Pasal 1",
            # PP 43/2014 Pasal 143: the eight contents, and the BKAD (Permendagri 96/2017)
            "Ruang lingkup Kerja Sama Antar-Desa meliputi:",
            "Pengelolaan loket, kebersihan jalur dan pembagian hasil.",
            "Pasal 92 ayat (1) Undang-Undang Nomor 6 Tahun 2014",
            "pengembangan usaha bersama yang dimiliki oleh Desa",
            "TATA CARA DAN KETENTUAN PELAKSANAAN",
            "Pelaksanaan oleh BKAD; laporan triwulanan kepada para Kepala Desa.",
            "BADAN KERJA SAMA ANTAR-DESA",
            f"dilaksanakan oleh {data['bkad']['name']} sebagai Badan Kerja Sama Antar-Desa"
            if data["bkad"] else "dilaksanakan oleh Badan Kerja Sama Antar-Desa yang dibentuk",
            "JANGKA WAKTU", "sejak tanggal 1 Januari 2027 sampai dengan tanggal 31 Desember 2029",
            "HAK DAN KEWAJIBAN", "PENDANAAN",
            "Desa Dieng, dari APB Desa Tahun Anggaran 2027, sebesar Rp25.000.000 "
            "(dua puluh lima juta rupiah)",
            "Rp1.001.000 (satu juta seribu rupiah)",
            "sebesar Rp26.001.000 (dua puluh enam juta seribu rupiah)",
            "PERUBAHAN, PENUNDAAN, DAN PEMBATALAN",
            "Perubahan dimusyawarahkan dalam musyawarah antar-Desa.",
            "PENYELESAIAN PERSELISIHAN", "KETENTUAN PENUTUP",
            "Peraturan Bersama ini mulai berlaku pada tanggal ditetapkan.",
            "KEPALA DESA DIENG,", "KEPALA DESA SEMBUNGAN,")
    for party in data["parties"]:
        doc.has(f"{party['name']} berhak:", f"{party['name']} berkewajiban:",
                *party["hak"], *party["kewajiban"], party["signatory_name"].upper())
    for roman in ("II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"):
        doc.has(f"BAB {roman}")
    assert doc.headings() == list(range(1, 14))


def test_peraturan_bersama_draft_has_every_part_and_draf_on_every_page(app):
    s = antar_desa_with_odd_amount()
    data = P.build(s.proposal)
    doc = render(records.agreement_job(data, draft=True))
    assert_peraturan_bersama(doc, data)
    assert len(re.findall(r"NOMOR \.{5,} TAHUN \.{5,}", doc.text)) == 2
    doc.has("Ditetapkan di ....", "pada tanggal ....")
    assert_draft_marks(doc, data["ref"])
    assert "Verifikasi keaslian" not in doc.text
    assert 3 <= len(doc.pages) <= 6
    assert doc.size() == pytest.approx(F4, abs=1)


def test_peraturan_bersama_final_numbers_enactment_signatures_and_metadata(app):
    s = antar_desa_with_odd_amount(submit=True)
    data = final_payload(s.proposal, ["3", "4"])
    assert data["bkad"]["name"] == s.bkad.name
    doc = render(final_job(data))
    assert_peraturan_bersama(doc, data)
    doc.has("NOMOR 3 TAHUN 2026", "NOMOR 4 TAHUN 2026", "Ditetapkan di Dieng",
            "pada tanggal 23 November 2026")
    assert_final_marks(doc, "Peraturan Bersama Kepala Desa Nomor 3 Tahun 2026")
    meta = doc.reader.metadata
    assert meta.title == f"Peraturan Bersama Kepala Desa tentang {data['title']}"
    assert "Desa Dieng" in meta.author and "Desa Sembungan" in meta.author
    assert meta.subject == "Nomor 3 Tahun 2026; Nomor 4 Tahun 2026"
    assert data["ref"] in meta["/Keywords"] and CODE in meta["/Keywords"]
    assert meta.creation_date.date() == ENACTED
    assert doc.size() == pytest.approx(F4, abs=1)


def test_peraturan_bersama_on_a4_and_without_bkad(app):
    s = H.antar_desa(with_bkad=False)
    data = P.build(s.proposal)
    assert data["bkad"] is None
    doc = render(records.agreement_job(data, draft=True, paper="a4"))
    assert all(doc.size(i) == pytest.approx(A4, abs=1) for i in range(len(doc.pages)))
    doc.has("BADAN KERJA SAMA ANTAR-DESA",
            "dilaksanakan oleh Badan Kerja Sama Antar-Desa yang dibentuk oleh Desa yang "
            "bekerja sama melalui Musyawarah Antar-Desa.")


# --- perjanjian kerja sama ------------------------------------------------------------------

def assert_perjanjian(doc: Rendered, data: dict) -> None:
    doc.has("PERJANJIAN KERJA SAMA", "ANTARA", "PEMERINTAH DESA DIENG DAN CV PRAU LESTARI",
            "TENTANG", data["title"].upper(),
            "yang bertanda tangan di bawah ini:",
            "dalam hal ini bertindak dalam jabatannya untuk dan atas nama Pemerintah "
            "Desa Dieng, Kecamatan Kejajar, Kabupaten Wonosobo",
            "selanjutnya disebut PIHAK KESATU;", "selanjutnya disebut PIHAK KEDUA.",
            "PIHAK KESATU dan PIHAK KEDUA selanjutnya secara bersama-sama disebut PARA PIHAK",
            "dengan terlebih dahulu menerangkan hal-hal sebagai berikut:",
            "a. bahwa wisata Dataran Tinggi Dieng perlu dikelola bersama;",
            "Perjanjian ini dibuat berdasarkan:", "1. Undang-Undang Nomor 6 Tahun 2014",
            "Mengelola jalur pendakian Gunung Prau secara bersama.",
            "Pengelolaan homestay dan paket wisata.",
            "berpedoman pada Kerangka Acuan Kerja",
            "sejak tanggal 1 Januari 2027 sampai dengan tanggal 31 Desember 2029",
            "PIHAK KESATU berhak:", "PIHAK KEDUA berkewajiban:",
            "PIHAK KESATU (Desa Dieng), dari APB Desa Tahun Anggaran 2027, sebesar "
            "Rp25.000.000 (dua puluh lima juta rupiah)",
            "Perjanjian ini dibuat dalam rangkap 2 (dua) asli, masing-masing bermeterai "
            "cukup dan mempunyai kekuatan hukum yang sama",
            "PIHAK KESATU,", "PIHAK KEDUA,",
            "LAMPIRAN", "I. ANALISIS BIAYA DAN MANFAAT",
            "Biaya Rp25.000.000; manfaat PADes Rp40.000.000 per tahun.",
            "II. KERANGKA ACUAN KERJA", "Latar belakang, maksud, keluaran, jadwal dan biaya.")
    for number, heading in enumerate(PASAL_PERJANJIAN, 1):
        doc.has(f"Pasal {number} {heading}")
    assert doc.headings() == list(range(1, len(PASAL_PERJANJIAN) + 1))
    assert doc.text.count("Meterai Rp10.000") == 2
    for party in data["parties"]:
        doc.has(*party["hak"], *party["kewajiban"], party["signatory_name"].upper())


def test_perjanjian_draft_has_every_pasal_and_blank_opening(app):
    s = H.pihak_ketiga()
    data = P.build(s.proposal)
    doc = render(records.agreement_job(data, draft=True))
    assert_perjanjian(doc, data)
    assert re.search(r"Pada hari ini, \.{5,} tanggal \.{5,} bulan \.{5,} tahun \.{5,}, "
                     r"bertempat di \.{5,}", doc.text)
    assert len(re.findall(r"NOMOR: \.{10,}", doc.text)) == 2
    assert_draft_marks(doc, data["ref"])
    assert 3 <= len(doc.pages) <= 6
    assert doc.size() == pytest.approx(F4, abs=1)


def test_perjanjian_final_opening_in_words_numbers_and_signatures(app):
    s = H.pihak_ketiga()
    data = final_payload(s.proposal, ["12/PKS/XI/2026", "001/CV-PL/XI/2026"],
                         place="Balai Desa Dieng")
    doc = render(final_job(data))
    assert_perjanjian(doc, data)
    doc.has("NOMOR: 12/PKS/XI/2026", "NOMOR: 001/CV-PL/XI/2026",
            "Pada hari ini, Senin tanggal dua puluh tiga bulan November tahun dua ribu dua "
            "puluh enam (23 November 2026), bertempat di Balai Desa Dieng, yang bertanda "
            "tangan di bawah ini:")
    assert_final_marks(doc, "Perjanjian Nomor 12/PKS/XI/2026")
    assert doc.reader.metadata.subject == "Nomor 12/PKS/XI/2026; Nomor 001/CV-PL/XI/2026"
    assert "CV Prau Lestari" in doc.reader.metadata.author


def test_perjanjian_of_two_villages_and_a_company(app):
    s = H.pihak_ketiga(desa_codes=(DIENG, SEMBUNGAN))
    data = final_payload(s.proposal, ["1/PKS/XI/2026", "2/PKS/XI/2026", "3/CV/XI/2026"],
                         method=SignMethod.ELEKTRONIK)
    doc = render(final_job(data))
    doc.has("ANTARA PEMERINTAH DESA DIENG, PEMERINTAH DESA SEMBUNGAN DAN CV PRAU LESTARI",
            "selanjutnya disebut PIHAK KETIGA.",
            "PIHAK KESATU, PIHAK KEDUA, dan PIHAK KETIGA selanjutnya secara bersama-sama "
            "disebut PARA PIHAK", "rangkap 3 (tiga) asli", "PIHAK KETIGA,",
            "NOMOR: 3/CV/XI/2026", "ditandatangani secara elektronik")
    assert doc.text.count("Meterai Rp10.000") == 3
    assert doc.headings() == list(range(1, len(PASAL_PERJANJIAN) + 1))


def test_perjanjian_on_a4(app):
    s = H.pihak_ketiga()
    doc = render(records.agreement_job(P.build(s.proposal), draft=True, paper="a4"))
    assert doc.size() == pytest.approx(A4, abs=1)


def test_docnum_names_the_document():
    base = {"ref": "KSD-2026-00042", "kind": "antar_desa",
            "enactment": {"date": "2026-11-23", "place": "Dieng"},
            "parties": [{"number": "3"}, {"number": "4"}]}
    assert records.agreement_docnum(base, draft=True) == "KSD-2026-00042 · DRAF"
    assert records.agreement_docnum(base, draft=False) == \
        "Peraturan Bersama Kepala Desa Nomor 3 Tahun 2026"
    other = {**base, "kind": "pihak_ketiga", "parties": [{"number": "12/PKS/XI/2026"}]}
    assert records.agreement_docnum(other, draft=False) == "Perjanjian Nomor 12/PKS/XI/2026"


# --- hostile text ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["antar_desa", "pihak_ketiga"])
def test_user_markup_is_printed_as_text_and_loads_nothing(app, kind):
    s = H.antar_desa(title=HOSTILE) if kind == "antar_desa" else H.pihak_ketiga(title=HOSTILE)
    ops.update_sections(s.proposal, s.author, {
        "menimbang": f"bahwa {HOSTILE} tetap teks;\nbahwa kedua;"}, expected_version=None)
    db.session.commit()
    job = records.agreement_job(P.build(s.proposal), draft=True)
    assert "<img src=\"http://127.0.0.1" not in job.html
    assert "rel=\"attachment\"" not in job.html
    doc = render(job)
    doc.has(HOSTILE.upper())
    # WeasyPrint may break the line after a "/" of the URL: compare without whitespace.
    squeezed = re.sub(r"\s", "", doc.text)
    assert re.sub(r"\s", "", f"bahwa {HOSTILE} tetap teks;") in squeezed
    if kind == "antar_desa":  # the closing consideration quotes the title, then ";"
        assert re.sub(r"\s", "", f"Kepala Desa tentang {HOSTILE};") in squeezed
    assert "/EmbeddedFiles" not in str(doc.reader.trailer["/Root"].get("/Names", {}))
    for page in doc.reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        assert not any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())


# --- berita acara ---------------------------------------------------------------------------

def awaiting_deliberation() -> H.Scenario:
    s = H.antar_desa(submit=True)
    ops.transition(s.proposal, s["bkad"], "start_review")
    ops.transition(s.proposal, s["bkad"], "approve")
    db.session.commit()
    return s


def musyawarah_desa(s: H.Scenario):
    sek = s[f"sek:{DIENG}"]
    meeting = dops.record_meeting(sek, {
        "kind": "musyawarah_desa", "held_at": "2025-03-13T09:00", "place": "Balai Desa Dieng",
        "chair_name": "Ahmad Ketua BPD", "secretary_name": "Sri Sekretaris BPD",
        "desa_code": DIENG, "proposal_ids": [s.proposal.id]})
    rows = [{"name": f"Anggota BPD {i}", "element": "bpd", "gender": "LP"[i % 2],
             "desa_code": DIENG, "invited": True, "present": True} for i in range(4)]
    rows += [{"name": "Kyai Absen", "element": "tokoh_agama", "gender": "L", "desa_code": DIENG,
              "invited": True, "present": False},
             {"name": "Pendamping", "element": "lainnya", "element_note": "Pendamping desa",
              "gender": "P", "desa_code": DIENG, "invited": True, "present": True,
              "is_observer": True}]
    dops.set_attendance(meeting, sek, rows)
    db.session.commit()
    return meeting


def test_berita_acara_of_a_decided_musyawarah_desa(app):
    s = awaiting_deliberation()
    meeting = musyawarah_desa(s)
    sek = s[f"sek:{DIENG}"]
    dops.record_decision(meeting, sek, meeting.agenda[0].id, {
        "method": "vote", "ballot": "terbuka", "votes_for": 3, "votes_against": 1,
        "outcome": "agreed_with_changes",
        "changes": ["Jadwal laporan dibuat bulanan", "Pembagian hasil dirinci"],
        "notes": "Musyawarah berjalan tertib."})
    dops.set_signatories(meeting, sek, {"signed_chair": "Ahmad Ketua BPD",
                                        "signed_secretary": "Sri Sekretaris BPD",
                                        "signed_kepala_desa": "Budi Kepala Desa"})
    db.session.commit()
    doc = render(records.berita_acara_job(meeting))
    doc.has("BERITA ACARA", "MUSYAWARAH DESA DIENG",
            "Pada hari ini, Kamis tanggal tiga belas Maret dua ribu dua puluh lima "
            "(13 Maret 2025), pukul 09.00 WIB, bertempat di Balai Desa Dieng",
            "Ahmad Ketua BPD", "Sri Sekretaris BPD", f"BPD Desa {dops.village_name(DIENG)}",
            f"Usulan {s.proposal.ref}: {s.proposal.title}",
            "Badan Permusyawaratan Desa (BPD) 4 4", "Tokoh agama 1 0",
            "Jumlah peserta bersuara 5 4", "Diundang 3 3 6", "Hadir 2 3 5",
            "Peserta bersuara yang hadir 4 orang dari 5 orang yang diundang; kuorum yang "
            "disyaratkan 4 orang (2/3", "TERPENUHI",
            "Pemungutan suara terbuka", "setuju 3, tidak setuju 1, abstain 0",
            "Disepakati dengan perubahan", "1. Jadwal laporan dibuat bulanan;",
            "2. Pembagian hasil dirinci.", "Catatan: Musyawarah berjalan tertib.",
            "Pimpinan Musyawarah,", "Sekretaris Musyawarah,", "Kepala Desa Dieng,",
            "Budi Kepala Desa", "Wakil Peserta Musyawarah,")
    assert "TIDAK TERPENUHI" not in doc.text
    assert not any("DRAF" in page for page in doc.pages)
    assert re.search(r"Halaman 1 dari \d+", doc.pages[0])
    assert doc.size() == pytest.approx(F4, abs=1)
    assert doc.reader.metadata.title.startswith("Berita Acara Musyawarah Desa")


def test_berita_acara_awaiting_its_decision_is_a_draft(app):
    s = awaiting_deliberation()
    meeting = musyawarah_desa(s)
    doc = render(records.berita_acara_job(meeting, paper="a4"))
    assert all("DRAF" in page for page in doc.pages)
    doc.has("Keputusan atas agenda ini belum dicatat.", "Wakil Peserta Musyawarah, ....")
    assert doc.size() == pytest.approx(A4, abs=1)


# --- review record and assessment -----------------------------------------------------------

def test_review_record_lists_versions_and_judgments(app):
    s = H.antar_desa(submit=True)
    bkad = s["bkad"]
    ops.transition(s.proposal, bkad, "start_review")
    ops.transition(s.proposal, bkad, "request_changes", text="Mohon segera dilengkapi.",
                   points=["Lengkapi pendanaan Desa Sembungan", "Perjelas jadwal laporan"])
    ops.transition(s.proposal, s.author, "submit")
    ops.transition(s.proposal, bkad, "start_review")
    ops.transition(s.proposal, bkad, "approve", text="Siap dimusyawarahkan.")
    db.session.commit()
    doc = render(records.review_record_job(s.reload()))
    doc.has("CATATAN TELAAH USULAN KERJA SAMA DESA", s.proposal.ref, s.proposal.title,
            "Desa Dieng dan Desa Sembungan", s.bkad.name,
            "Telaah atas versi 1", "Perlu perbaikan",
            "1. Lengkapi pendanaan Desa Sembungan;", "2. Perjelas jadwal laporan.",
            "Catatan: Mohon segera dilengkapi.", "Telaah atas versi 2",
            "Disetujui untuk dimusyawarahkan", "Catatan: Siap dimusyawarahkan.",
            bkad.full_name, s.author.full_name, str(s.proposal.state.label))
    assert re.search(r"Versi .*\b1\b.*\b2\b", doc.text)
    assert not any("DRAF" in page for page in doc.pages)


def test_assessment_annex_groups_criteria_and_states_the_verdict(app):
    s = H.antar_desa()
    criteria = sops.applicable_criteria(s.proposal)
    low = next(c for c in criteria if not c.is_critical)
    answers = {c.code: {"score": 3, "evidence": f"Bukti {c.code}", "mitigation": ""}
               for c in criteria}
    answers[low.code] = {"score": 1, "evidence": "", "mitigation": "Pelatihan pengelola"}
    assessment = sops.create_assessment(s.proposal, s.author, answers, "Siti Aminah",
                                        "Sekretaris Desa")
    sops.save_stakeholder_map(s.proposal, s.author, ["Kelompok tani dan pemuda."] + [""] * 6,
                              [{"name": "Kelompok Tani Sido Makmur",
                                "group_kind": "kelompok_tani", "roles": ["perencanaan"],
                                "notes": "Anggota 40 orang"}], 0)
    db.session.commit()
    doc = render(records.assessment_job(assessment))
    doc.has("LAMPIRAN: PENILAIAN KEBERLANJUTAN KERJA SAMA", s.proposal.ref,
            "KESIMPULAN: MEMENUHI DENGAN SYARAT", "Pelatihan pengelola", "Siti Aminah",
            "Sekretaris Desa", "Kelompok Tani Sido Makmur", "Kelompok tani dan pemuda.",
            *(c.code for c in criteria), *(f"Bukti {c.code}" for c in criteria
                                           if c.code != low.code))
    for dimension in {c.dimension for c in criteria}:
        doc.has(dimension.label.upper())
    if any(c.is_critical for c in criteria):
        doc.has("WAJIB")
    assert not any("DRAF" in page for page in doc.pages)


def test_a_final_pdf_renders_to_the_same_bytes_every_time(app):
    """The same version gives the same file: in this process (the first render of the
    process included) and in a freshly spawned render worker."""
    from coopdesa.documents.render import RenderPool

    s = antar_desa_with_odd_amount(submit=True)
    job = final_job(final_payload(s.proposal, ["3", "4"]))
    here = render_now(job)
    assert render_now(job) == here
    pool = RenderPool(1, 0)
    try:
        assert pool.render(job, timeout=120) == here
    finally:
        pool.reset()
