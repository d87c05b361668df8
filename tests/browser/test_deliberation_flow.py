"""The deliberation gates clicked through (issue 4, "Done means"): the demo's Telaga Cebong
water proposal (Dieng + Sembungan, antar-Desa, awaiting deliberation) goes through the
Musyawarah Desa of Dieng (mufakat), the Musyawarah Desa of Sembungan (a vote, after one
refused total), the musyawarah antar-Desa recorded by the BKAD, a sustainability
assessment, and is then set as agreed by its author.

test_proposals_flow.py expects that proposal to stay awaiting deliberation on the shared
server, so this test runs on a server of its own (``fresh_server``: own process, own copy
of the database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, follow, login, snap, visit

pytestmark = pytest.mark.browser

TITLE = "Pengelolaan Bersama Air Bersih dari Telaga Cebong"
DIENG = "33.07.13.2013"
SEMBUNGAN = "33.07.13.2003"
#: Yesterday 09:00 local time: decisions are only recorded once a meeting has taken place.
HELD_AT = (dt.datetime.now(ZoneInfo("Asia/Jakarta")) - dt.timedelta(days=1)).strftime(
    "%Y-%m-%dT09:00")


def badge(page):
    return page.locator("main .state-badge").first


def open_proposal(page) -> int:
    visit(page, "/kerja-sama/")
    follow(page, lambda: page.locator("main").get_by_role("link", name=TITLE).first.click())
    expect(badge(page)).to_have_text("Menunggu musyawarah")
    match = re.search(r"/kerja-sama/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def record_meeting(page, pid: int, *, chair: str, secretary: str, place: str) -> None:
    """From the proposal page's Musyawarah panel to a new meeting page."""
    visit(page, f"/kerja-sama/{pid}")
    panel = page.locator("#musyawarah")
    follow(page, lambda: panel.get_by_role("link", name="Catat musyawarah").click())
    expect(page.locator("main h1")).to_have_text("Catat musyawarah")
    page.locator("#held_at").fill(HELD_AT)
    page.locator("#place").fill(place)
    page.locator("#chair_name").fill(chair)
    page.locator("#secretary_name").fill(secretary)
    snap(page)
    follow(page, lambda: page.get_by_role("button", name="Simpan musyawarah").click())
    expect(page).to_have_url(re.compile(r"/musyawarah/\d+$"))
    expect(page.locator(".alert-success")).to_contain_text("Musyawarah dicatat.")


def fill_attendance(page, rows: list[dict]) -> None:
    """Type the rows into the attendance table (its first rows are blank) and save."""
    for i, row in enumerate(rows):
        p = f"#attendees-{i}-"
        page.locator(p + "name").fill(row["name"])
        page.locator(p + "element").select_option(row["element"])
        if row.get("note"):
            page.locator(p + "element_note").fill(row["note"])
        page.locator(p + "gender").select_option(row["gender"])
        if row.get("desa"):
            page.locator(p + "desa_code").select_option(row["desa"])
        page.locator(p + "invited").set_checked(row.get("invited", True))
        page.locator(p + "present").set_checked(row.get("present", True))
        page.locator(p + "is_observer").set_checked(row.get("observer", False))
    snap(page)
    follow(page, lambda: page.get_by_role("button", name="Simpan daftar hadir").click())
    expect(page.locator(".alert-success")).to_contain_text("Daftar hadir disimpan")


def decision_form(page):
    return page.locator("form[action$='/keputusan']")


def gender_row(page, which: str):
    return page.locator("#hadir table").first.locator("tr", has=page.locator(
        "th", has_text=which))


def assert_fits(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width}px wide on a {PHONE['width']}px phone"


def test_two_musyawarah_desa_antar_desa_and_assessment_reach_agreed(new_page, fresh_server):
    # 1. Dieng: the BPD holds the Musyawarah Desa; the secretary records it, mufakat.
    dieng = new_page(base_url=fresh_server)
    login(dieng, "sekdes.dieng")
    pid = open_proposal(dieng)
    panel = dieng.locator("#musyawarah")
    expect(panel).to_contain_text("Musyawarah Desa Dieng")
    expect(panel).to_contain_text("Musyawarah Desa Sembungan")
    expect(panel).to_contain_text("Musyawarah antar-Desa")
    expect(panel.locator(".badge", has_text="belum")).to_have_count(3)
    expect(dieng.locator("#keberlanjutan")).to_contain_text(
        "Belum ada penilaian keberlanjutan")

    record_meeting(dieng, pid, chair="Suparman (Ketua BPD Dieng)", secretary="Sri Wahyuni",
                   place="Balai Desa Dieng")
    expect(dieng.locator("main h1")).to_have_text("Musyawarah Desa Dieng")
    expect(dieng.locator("main")).to_contain_text("BPD Desa Dieng")  # the organiser
    expect(dieng.locator("main header .badge")).to_have_text("Belum kuorum")
    fill_attendance(dieng, [
        {"name": "Slamet Budiono", "element": "pemerintah_desa", "gender": "L"},
        {"name": "Suparman", "element": "bpd", "gender": "L"},
        {"name": "Siti Aminah", "element": "kelompok_perempuan", "gender": "P"},
        {"name": "Karyono", "element": "kelompok_tani", "gender": "L", "present": False},
        # An observer is present but neither votes nor counts towards the quorum.
        {"name": "Rina Lestari", "element": "lainnya", "note": "Pendamping desa",
         "gender": "P", "observer": True},
    ])
    expect(dieng.locator("main header .badge")).to_have_text("Kuorum")
    expect(dieng.locator(".quorum-text")).to_have_text(
        "hadir 3 dari 4 undangan bersuara; kuorum 3 (2/3)")
    expect(gender_row(dieng, "Diundang").locator("td")).to_have_text(["3", "2"])
    expect(gender_row(dieng, "Hadir").locator("td")).to_have_text(["2", "2"])

    form = decision_form(dieng)
    form.get_by_label("Musyawarah mufakat").check()
    form.get_by_label("Disepakati", exact=True).check()
    form.locator("textarea[name$='-notes']").fill("Seluruh peserta bersuara sepakat.")
    snap(dieng)
    follow(dieng, lambda: form.get_by_role("button", name="Catat keputusan").click())
    expect(dieng.locator(".alert-success")).to_contain_text("Keputusan dicatat: Disepakati.")
    expect(dieng.locator("#agenda")).to_contain_text("mufakat")
    # Once decided, the attendance is a read-only list.
    expect(dieng.get_by_role("button", name="Simpan daftar hadir")).to_have_count(0)
    expect(dieng.locator("#hadir")).to_contain_text("peninjau")

    # 2. Sembungan: a vote; a total above the voters present is refused, input kept.
    sembungan = new_page(base_url=fresh_server)
    login(sembungan, "sekdes.sembungan")
    record_meeting(sembungan, pid, chair="Darmono (Ketua BPD Sembungan)",
                   secretary="Agus Priyanto", place="Balai Desa Sembungan")
    expect(sembungan.locator("main h1")).to_have_text("Musyawarah Desa Sembungan")
    fill_attendance(sembungan, [
        {"name": "Wahyono", "element": "pemerintah_desa", "gender": "L"},
        {"name": "Darmono", "element": "bpd", "gender": "L"},
        {"name": "Sumiyati", "element": "tokoh_masyarakat", "gender": "P"},
        {"name": "Kasmini", "element": "kelompok_perempuan", "gender": "P"},
        {"name": "Tukiman", "element": "kelompok_tani", "gender": "L", "present": False},
    ])
    expect(sembungan.locator(".quorum-text")).to_have_text(
        "hadir 4 dari 5 undangan bersuara; kuorum 4 (2/3)")
    form = decision_form(sembungan)
    form.get_by_label("Pemungutan suara (suara terbanyak)").check()
    form.get_by_label("Terbuka", exact=True).check()
    form.get_by_label("Setuju", exact=True).fill("4")
    form.get_by_label("Tidak setuju", exact=True).fill("1")
    form.get_by_label("Abstain", exact=True).fill("0")
    form.get_by_label("Disepakati", exact=True).check()
    form.locator("textarea[name$='-notes']").fill("Satu suara menolak pembagian 60:40.")
    follow(sembungan, lambda: form.get_by_role("button", name="Catat keputusan").click())
    form = decision_form(sembungan)
    expect(form.locator(".invalid-feedback")).to_contain_text(
        "Jumlah suara (5) melebihi peserta bersuara yang hadir (4).")
    expect(form.get_by_label("Setuju", exact=True)).to_have_value("4")
    expect(form.get_by_label("Tidak setuju", exact=True)).to_have_value("1")
    expect(form.get_by_label("Pemungutan suara (suara terbanyak)")).to_be_checked()
    expect(form.get_by_label("Disepakati", exact=True)).to_be_checked()
    expect(form.locator("textarea[name$='-notes']")).to_have_value(
        "Satu suara menolak pembagian 60:40.")
    form.get_by_label("Setuju", exact=True).fill("3")
    snap(sembungan)
    follow(sembungan, lambda: form.get_by_role("button", name="Catat keputusan").click())
    expect(sembungan.locator(".alert-success")).to_contain_text(
        "Keputusan dicatat: Disepakati.")
    expect(sembungan.locator("#agenda")).to_contain_text(
        "pemungutan suara terbuka: setuju 3, tidak setuju 1, abstain 0")

    # 3. The BKAD records the musyawarah antar-Desa with the delegates of both villages.
    bkad = new_page(base_url=fresh_server)
    login(bkad, "bkad.dieng")
    visit(bkad, f"/kerja-sama/{pid}")
    needs = bkad.locator("#musyawarah ul")
    expect(needs.locator("li", has_text="Musyawarah Desa Dieng").locator(".badge")) \
        .to_have_text("disepakati")
    expect(needs.locator("li", has_text="Musyawarah Desa Sembungan").locator(".badge")) \
        .to_have_text("disepakati")
    expect(needs.locator("li", has_text="Musyawarah antar-Desa").locator(".badge")) \
        .to_have_text("belum")
    follow(bkad, lambda: bkad.locator("#musyawarah").get_by_role(
        "link", name="Catat musyawarah").click())
    expect(bkad.get_by_label("Musyawarah antar-Desa", exact=True)).to_be_checked()
    bkad.locator("#held_at").fill(HELD_AT)
    bkad.locator("#place").fill("Aula Kecamatan Kejajar")
    bkad.locator("#chair_name").fill("Bambang Sutrisno")
    bkad.locator("#secretary_name").fill("Sekretaris BKAD")
    follow(bkad, lambda: bkad.get_by_role("button", name="Simpan musyawarah").click())
    expect(bkad.locator("main h1")).to_have_text(re.compile(
        r"^Musyawarah antar-Desa (Dieng, Sembungan|Sembungan, Dieng)$"))
    fill_attendance(bkad, [
        {"name": "Slamet Budiono", "element": "delegasi_desa", "gender": "L", "desa": DIENG},
        {"name": "Siti Aminah", "element": "delegasi_desa", "gender": "P", "desa": DIENG},
        {"name": "Wahyono", "element": "delegasi_desa", "gender": "L", "desa": SEMBUNGAN},
        {"name": "Kasmini", "element": "delegasi_desa", "gender": "P", "desa": SEMBUNGAN},
    ])
    expect(bkad.locator(".quorum-text")).to_have_text(
        "hadir 4 dari 4 undangan bersuara; kuorum 3 (2/3)")
    form = decision_form(bkad)
    form.get_by_label("Musyawarah mufakat").check()
    form.get_by_label("Disepakati", exact=True).check()
    follow(bkad, lambda: form.get_by_role("button", name="Catat keputusan").click())
    expect(bkad.locator(".alert-success")).to_contain_text("Keputusan dicatat: Disepakati.")

    # 4. The BKAD (the proposal's reviewer) assesses sustainability: every criterion
    # scored, with evidence; one low score carries a mitigation.
    visit(bkad, f"/kerja-sama/{pid}")
    follow(bkad, lambda: bkad.locator("#keberlanjutan").get_by_role(
        "link", name="Nilai keberlanjutan").click())
    expect(bkad.locator("main h1")).to_have_text("Nilai keberlanjutan")
    codes = bkad.locator(".criterion").evaluate_all(
        "cards => cards.map(c => c.id.replace('kriteria-', ''))")
    assert {"EKO-1", "PRI-2", "PRI-3"} <= set(codes), codes
    for code in codes:
        if code == "SOS-2":
            bkad.locator(f"#score-{code}-1").check()
            bkad.locator(f"#mitigation-{code}").fill(
                "Iuran dibebaskan bagi rumah tangga miskin mulai tahun kedua.")
        else:
            bkad.locator(f"#score-{code}-3").check()
            bkad.locator(f"#evidence-{code}").fill(f"Bukti {code}: notulen dan peta jaringan.")
    bkad.locator("#signed_office").fill("Ketua BKAD")
    snap(bkad)
    follow(bkad, lambda: bkad.get_by_role(
        "button", name="Tanda tangani dan simpan penilaian").click())
    expect(bkad.locator(".alert-success")).to_contain_text(
        "Penilaian keberlanjutan versi 1 disimpan: Memenuhi dengan syarat.")

    # 5. The author sets it as agreed; the panels show why it could.
    visit(dieng, f"/kerja-sama/{pid}")
    expect(dieng.locator("#musyawarah .badge", has_text="belum")).to_have_count(0)
    verdict = dieng.locator("#keberlanjutan .verdict")
    expect(verdict).to_contain_text("Memenuhi dengan syarat")
    expect(verdict).to_contain_text("SOS-2")
    follow(dieng, lambda: dieng.locator("main aside").get_by_role(
        "button", name="Tetapkan sebagai disepakati", exact=True).click())
    expect(badge(dieng)).to_have_text("Disepakati")
    expect(dieng.locator(".alert-warning")).to_have_count(0)

    # 6. The meeting and proposal pages on a phone.
    phone = new_page(viewport=PHONE, base_url=fresh_server)
    login(phone, "sekdes.dieng")
    visit(phone, f"/kerja-sama/{pid}")
    assert_fits(phone, "the proposal page")
    expect(badge(phone)).to_have_text("Disepakati")
    rows = phone.locator("#musyawarah tbody tr")
    expect(rows).to_have_count(3)
    for i in range(3):
        expect(rows.nth(i).locator("td").nth(1)).to_have_text("Disepakati")
    follow(phone, lambda: phone.locator("#musyawarah").get_by_role(
        "link", name="Musyawarah Desa Dieng").click())
    expect(phone.locator("main h1")).to_have_text("Musyawarah Desa Dieng")
    assert_fits(phone, "the meeting page")
    # The read-only attendance names the village, not its code.
    expect(phone.locator("#hadir tbody tr", has_text="Suparman")).to_contain_text("Dieng")
    expect(phone.locator("#hadir")).not_to_contain_text(DIENG)

    # 7. Issue 5: each village's secretary records its Kepala Desa's signature on the
    # documents page; the last one signs the agreement and makes the final PDF, which the
    # public verification page recognises byte for byte (and a changed copy it does not).
    follow(dieng, lambda: dieng.locator("#dokumen").get_by_role(
        "link", name="Buka dokumen dan penandatanganan").click())
    expect(dieng.locator("main h1")).to_have_text(TITLE)
    form = dieng.locator("form[action$='/tanda-tangan']")
    expect(form).to_have_count(1)  # only its own village's signature
    form.get_by_label("Nomor dokumen pihak ini").fill("")
    form.get_by_label("Tempat penandatanganan").fill("Balai Desa Dieng")
    follow(dieng, lambda: form.get_by_role("button", name="Simpan tanda tangan").click())
    expect(dieng.locator("main")).to_contain_text("Nomor dokumen wajib diisi.")
    form = dieng.locator("form[action$='/tanda-tangan']")
    expect(form.get_by_label("Tempat penandatanganan")).to_have_value("Balai Desa Dieng")
    form.get_by_label("Nomor dokumen pihak ini").fill("5")
    follow(dieng, lambda: form.get_by_role("button", name="Simpan tanda tangan").click())
    expect(dieng.locator(".alert-success")).to_contain_text("Tanda tangan dicatat.")

    visit(sembungan, f"/dokumen/{pid}")
    form = sembungan.locator("form[action$='/tanda-tangan']")
    form.get_by_label("Nomor dokumen pihak ini").fill("6")
    form.get_by_label("Tempat penandatanganan").fill("Balai Desa Sembungan")
    follow(sembungan, lambda: form.get_by_role("button", name="Simpan tanda tangan").click())
    expect(sembungan.locator(".alert-success")).to_contain_text(
        "Semua pihak telah menandatangani")
    code = sembungan.locator("main .verification-code").first.inner_text()
    sha = sembungan.locator("main code.sha256").inner_text()
    pdf = sembungan.request.get(f"{fresh_server}/dokumen/{pid}/naskah.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.body()).hexdigest() == sha

    visitor = new_page(viewport=PHONE, base_url=fresh_server)
    visit(visitor, "/verify")
    visitor.get_by_label("Kode verifikasi").fill(code.lower().replace("-", " "))
    follow(visitor, lambda: visitor.get_by_role("button", name="Periksa").click())
    expect(visitor.locator("main h1")).to_have_text("Dokumen terdaftar")
    expect(visitor.locator("main")).to_contain_text("Nomor 5 Tahun")
    expect(visitor.locator("main")).to_contain_text("Desa Sembungan")
    expect(visitor.locator("main")).not_to_contain_text("Bambang")  # no reviewer names
    assert_fits(visitor, "the verification page")
    visitor.get_by_label("Berkas PDF yang ingin dicocokkan").set_input_files(
        files=[{"name": "naskah.pdf", "mimeType": "application/pdf", "buffer": pdf.body()}])
    follow(visitor, lambda: visitor.get_by_role("button", name="Cocokkan", exact=True).click())
    expect(visitor.locator(".verify-result")).to_contain_text("COCOK: berkas ini sama persis")
    changed = pdf.body()[:-40] + b"%" + b" " * 39
    visitor.get_by_label("Berkas PDF yang ingin dicocokkan").set_input_files(
        files=[{"name": "naskah.pdf", "mimeType": "application/pdf", "buffer": changed}])
    follow(visitor, lambda: visitor.get_by_role("button", name="Cocokkan", exact=True).click())
    expect(visitor.locator(".verify-result")).to_contain_text("TIDAK COCOK")
