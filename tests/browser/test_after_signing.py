"""Life after signing, clicked through: the demo's signed and active agreement "Pengelolaan
Bersama Sampah Kawasan Wisata Dieng" (Dieng + Sembungan, quarterly reports, its first
report overdue) gets its implementation reports filed by the BKAD, a dispute settled by the
Camat, an addendum that shortens its term to yesterday (reviewed, deliberated, assessed and
signed again), is then ended because its term expired (PP 43/2014 Pasal 147 huruf i), and is
seen by an anonymous visitor on Dieng's public page, with nothing that is not public.

It changes the demo agreement, so it runs on a server of its own (``fresh_server``).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, follow, login, snap, visit
from .test_deliberation_flow import (
    DIENG,
    SEMBUNGAN,
    assert_fits,
    badge,
    decision_form,
    fill_attendance,
    record_meeting,
)

pytestmark = pytest.mark.browser

TITLE = "Pengelolaan Bersama Sampah Kawasan Wisata Dieng"
#: The demo's proposals that never reached signing (coopdesa/demo.py): never public.
UNSIGNED_TITLES = (
    "Pengelolaan Bersama Air Bersih dari Telaga Cebong",  # awaiting deliberation
    "Pemasaran Bersama Kentang Dataran Tinggi Dieng",  # submitted
    "Pengelolaan Destinasi Wisata Bukit Sikunir",  # draft (Sembungan)
    "Pelatihan dan Sertifikasi Homestay Sembungan",  # in review (Sembungan)
)
TODAY = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
YESTERDAY = TODAY - dt.timedelta(days=1)

ACTIVITIES = "Pengumpulan sampah di jalur wisata Telaga Cebong setiap Sabtu dan Minggu."
OUTPUTS = "Tempat olah sampah terpadu beroperasi; 12 ton sampah terpilah."
OUTCOMES = "Jalur wisata bersih; penjualan bahan daur ulang dimulai."
ACTIVITIES_2 = "Penyuluhan pemilahan sampah kepada warga kedua desa."
DISPUTE_SUBJECT = "Pembagian hasil penjualan bahan daur ulang triwulan pertama"
DISPUTE_CLAUSES = "Pasal 6 (Hak dan Kewajiban) ayat (1)"
DISPUTE_DESCRIPTION = "Desa Sembungan menilai bagiannya kurang dari 50% yang disepakati."
STEP_1_SUMMARY = "Para Kepala Desa bertemu; perhitungan hasil penjualan belum disepakati."
STEP_2_SUMMARY = "Camat memfasilitasi pemeriksaan buku kas unit pengelola sampah."
STEP_2_TERMS = "Hasil penjualan dihitung ulang oleh BKAD.\nSelisihnya dibayarkan bulan depan."
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}")


def proposal_id(page) -> int:
    match = re.search(r"/kerja-sama/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def assert_pdf(page, url: str) -> bytes:
    """Fetch ``url`` in the page's session (its cookies) and check it is a PDF."""
    response = page.request.get(url)
    assert response.ok, f"{url}: HTTP {response.status}"
    body = response.body()
    assert body.startswith(b"%PDF"), f"{url} is not a PDF: {body[:60]!r}"
    return body


def file_report(page, row, *, activities: str, year: int, received: str, spent: str) -> None:
    """From a period row of the reports page, file that period's report."""
    follow(page, lambda: row.get_by_role("link", name="Sampaikan laporan").click())
    expect(page.locator("main h1")).to_have_text("Sampaikan laporan pelaksanaan")
    page.locator("#activities").fill(activities)
    page.locator("#outputs").fill(OUTPUTS)
    page.locator("#outcomes").fill(OUTCOMES)
    # The agreement's aim (its tujuan) is the first row; say how far it got.
    expect(page.locator("#aims-0-aim")).to_have_value(re.compile("bebas sampah"))
    page.locator("#aims-0-status").select_option("sebagian")
    page.locator("#aims-0-note").fill("Jalur Sikunir belum terlayani.")
    # The planned source (APB Desa) is the first funding row.
    page.locator("#funding-0-source").select_option("apb_desa")
    page.locator("#funding-0-apbdes_year").fill(str(year))
    page.locator("#funding-0-received").fill(received)
    page.locator("#funding-0-spent").fill(spent)
    expect(page.locator("#signer_name")).not_to_have_value("")
    snap(page)
    follow(page, lambda: page.locator("main form").get_by_role(
        "button", name="Sampaikan laporan").click())
    expect(page.locator(".alert-success")).to_contain_text("Laporan pelaksanaan disampaikan.")
    expect(page.locator("main h1")).to_contain_text("Laporan pelaksanaan periode")
    expect(page.locator("main")).to_contain_text(activities)
    expect(page.locator("main table").last).to_contain_text("APB Desa")


def sign_for_village(page, pid: int, *, number: str, place: str, last: bool) -> None:
    """The secretary records their own village's signature on the documents page."""
    visit(page, f"/kerja-sama/{pid}")
    follow(page, lambda: page.locator("#dokumen").get_by_role(
        "link", name="Buka dokumen dan penandatanganan").click())
    form = page.locator("form[action$='/tanda-tangan']")
    expect(form).to_have_count(1)  # only its own village's signature
    form.get_by_label("Nomor dokumen pihak ini").fill(number)
    form.get_by_label("Tempat penandatanganan").fill(place)
    snap(page)
    follow(page, lambda: form.get_by_role("button", name="Simpan tanda tangan").click())
    expect(page.locator(".alert-success")).to_contain_text(
        "Semua pihak telah menandatangani" if last else "Tanda tangan dicatat.")


def test_reports_dispute_addendum_ending_and_public_page(new_page, fresh_server):
    # --- 1. The BKAD files the overdue implementation reports. -----------------------------
    bkad = new_page(base_url=fresh_server)
    login(bkad, "bkad.dieng")
    card = bkad.locator("section[aria-labelledby='laporan-terlambat-judul']")
    expect(card).to_contain_text("Laporan pelaksanaan terlambat")
    item = card.locator("li", has_text=TITLE).first
    expect(item).to_be_visible()
    first_period = re.search(r"Periode (.+?);", item.inner_text()).group(1)
    follow(bkad, lambda: item.get_by_role("link").click())
    expect(bkad.locator("main h1")).to_have_text("Laporan pelaksanaan")
    expect(bkad.locator("main")).to_contain_text("Jadwal pelaporan: Triwulanan")
    rows = bkad.locator("main table tbody tr")
    expect(rows.first.locator(".badge")).to_have_text("Terlambat")
    expect(rows.first.locator("td").first).to_have_text(first_period)
    pid = int(re.search(r"/kerja-sama/(\d+)/laporan", bkad.url).group(1))

    file_report(bkad, rows.first, activities=ACTIVITIES, year=TODAY.year,
                received="10.000.000", spent="7.500.000")
    expect(bkad.locator("main")).to_contain_text("Rp")
    pdf_link = bkad.get_by_role("link", name="Unduh PDF")
    assert_pdf(bkad, pdf_link.get_attribute("href"))

    follow(bkad, lambda: bkad.locator("main nav").get_by_role("link").click())
    rows = bkad.locator("main table tbody tr")
    expect(rows.first.locator(".badge")).to_have_text("Sudah dilaporkan")
    expect(rows.nth(1).locator(".badge")).to_have_text(re.compile("Terlambat|Menunggu laporan"))
    assert_pdf(bkad, rows.first.get_by_role("link", name="PDF").get_attribute("href"))
    file_report(bkad, rows.nth(1), activities=ACTIVITIES_2, year=TODAY.year,
                received="5.000.000", spent="4.000.000")
    visit(bkad, f"/kerja-sama/{pid}/laporan")
    expect(bkad.locator("main table tbody tr").nth(1).locator(".badge")).to_have_text(
        "Sudah dilaporkan")

    visit(bkad, "/")
    expect(bkad.locator("main")).not_to_contain_text(first_period)
    expect(bkad.locator("section[aria-labelledby='laporan-terlambat-judul']")
           .locator("li", has_text=TITLE)).to_have_count(0)

    # --- 2. Dieng records a dispute; the Camat settles it. ---------------------------------
    dieng = new_page(base_url=fresh_server)
    login(dieng, "sekdes.dieng")
    visit(dieng, f"/kerja-sama/{pid}")
    expect(badge(dieng)).to_have_text("Berlaku")
    follow(dieng, lambda: dieng.locator("#perselisihan").get_by_role(
        "link", name="Catat perselisihan").click())
    expect(dieng.locator("main h1")).to_have_text("Catat perselisihan")
    form = dieng.locator("main form")
    form.get_by_role("checkbox", name=re.compile("Dieng")).check()
    form.get_by_role("checkbox", name=re.compile("Sembungan")).check()
    form.get_by_label("Pokok perselisihan").fill(DISPUTE_SUBJECT)
    form.get_by_label("Pasal atau bab yang diperselisihkan").fill(DISPUTE_CLAUSES)
    form.get_by_label("Uraian perselisihan").fill(DISPUTE_DESCRIPTION)
    snap(dieng)
    follow(dieng, lambda: form.get_by_role("button", name="Simpan perselisihan").click())
    expect(dieng.locator(".alert-success")).to_contain_text("Perselisihan dicatat.")
    expect(dieng.locator("main h1")).to_have_text(DISPUTE_SUBJECT)
    dispute_url = dieng.url

    visit(dieng, f"/kerja-sama/{pid}")
    alert = dieng.locator("header .dispute-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Perselisihan dalam penyelesaian")
    expect(alert).to_contain_text(DISPUTE_SUBJECT)
    expect(alert).to_contain_text("menunggu musyawarah para pihak")
    follow(dieng, lambda: alert.get_by_role("link", name="Buka catatan perselisihan").click())
    expect(dieng).to_have_url(dispute_url)

    step = dieng.locator("#langkah-baru form")
    expect(step.get_by_label("Musyawarah para pihak")).to_be_checked()
    step.get_by_label("Tempat", exact=True).fill("Balai Desa Dieng")
    step.get_by_label("Tidak tercapai kesepakatan").check()
    step.get_by_label("Ringkasan jalannya penyelesaian").fill(STEP_1_SUMMARY)
    follow(dieng, lambda: step.get_by_role("button", name="Simpan langkah").click())
    expect(dieng.locator(".alert-success")).to_contain_text(
        "Langkah Musyawarah para pihak dicatat.")
    expect(dieng.locator("header .badge")).to_have_text("Dalam penyelesaian")
    # The route names the next official: the villages share the kecamatan Kejajar.
    expect(dieng.locator(".dispute-route")).to_contain_text("Pejabat: Camat Kejajar")

    step = dieng.locator("#langkah-baru form")
    step.get_by_label("Fasilitasi dan penyelesaian oleh Camat").check()
    step.get_by_label("Tempat", exact=True).fill("Aula Kecamatan Kejajar")
    step.get_by_label("Nama pejabat atau fasilitator").fill("Drs. Heri Susanto")
    step.get_by_label("Jabatan pejabat atau fasilitator").fill("Camat Kejajar")
    step.get_by_label("Sepakat, perselisihan selesai").check()
    step.get_by_label("Ringkasan jalannya penyelesaian").fill(STEP_2_SUMMARY)
    step.get_by_label("Isi kesepakatan penyelesaian (bila sepakat)").fill(STEP_2_TERMS)
    # The signatories default to each party's Kepala Desa.
    expect(step.get_by_label(re.compile(r"^Nama, .*Dieng"))).to_have_value("Slamet Budiono")
    expect(step.get_by_label(re.compile(r"^Nama, .*Sembungan"))).to_have_value("Wahyono")
    snap(dieng)
    follow(dieng, lambda: step.get_by_role("button", name="Simpan langkah").click())
    expect(dieng.locator(".alert-success")).to_contain_text(
        "Perselisihan selesai dengan kesepakatan.")
    expect(dieng.locator("header .badge")).to_have_text("Selesai")
    steps = dieng.locator(".dispute-step")
    expect(steps).to_have_count(2)
    expect(steps.nth(1)).to_contain_text("Camat Kejajar")
    expect(steps.nth(1)).to_contain_text("Selisihnya dibayarkan bulan depan.")
    assert_pdf(dieng, dieng.get_by_role("link", name="Unduh berita acara (PDF)")
               .get_attribute("href"))
    visit(dieng, f"/kerja-sama/{pid}")
    expect(dieng.locator(".dispute-alert")).to_have_count(0)
    expect(dieng.locator("#perselisihan")).to_contain_text("Selesai")

    # --- 3. An addendum shortens the term to yesterday. ------------------------------------
    follow(dieng, lambda: dieng.locator("#status-kerja-sama").get_by_role(
        "link", name="Buka status kerja sama").click())
    expect(dieng.locator("main h1")).to_have_text(TITLE)
    expect(dieng.get_by_role("button", name="Akhiri: jangka waktu habis")).to_have_count(0)
    follow(dieng, lambda: dieng.get_by_role("button", name="Susun perubahan (adendum)").click())
    expect(dieng.locator(".alert-success")).to_contain_text("Perubahan Pertama disusun")
    expect(dieng).to_have_url(re.compile(r"/kerja-sama/\d+/ubah$"))
    addendum = int(re.search(r"/kerja-sama/(\d+)/", dieng.url).group(1))
    assert addendum != pid
    dieng.locator("#end_date").fill(YESTERDAY.isoformat())
    snap(dieng)
    follow(dieng, lambda: dieng.get_by_role("button", name="Simpan dan ajukan").click())
    expect(dieng.locator(".alert-success")).to_contain_text("Draf disimpan dan diajukan")
    expect(badge(dieng)).to_have_text("Diajukan")
    expect(dieng.locator(".lifecycle-alert")).to_contain_text("Perubahan Pertama atas")

    visit(bkad, f"/kerja-sama/{addendum}")
    follow(bkad, lambda: bkad.get_by_role("button", name="Mulai telaah").click())
    expect(badge(bkad)).to_have_text("Sedang ditelaah")
    follow(bkad, lambda: bkad.get_by_role("button", name="Setujui untuk dimusyawarahkan")
           .click())
    expect(badge(bkad)).to_have_text("Menunggu musyawarah")

    record_meeting(dieng, addendum, chair="Suparman (Ketua BPD Dieng)",
                   secretary="Sri Wahyuni", place="Balai Desa Dieng")
    fill_attendance(dieng, [
        {"name": "Slamet Budiono", "element": "pemerintah_desa", "gender": "L"},
        {"name": "Suparman", "element": "bpd", "gender": "L"},
        {"name": "Siti Aminah", "element": "kelompok_perempuan", "gender": "P"},
    ])
    expect(dieng.locator("main header .badge")).to_have_text("Kuorum")
    form = decision_form(dieng)
    form.get_by_label("Musyawarah mufakat").check()
    form.get_by_label("Disepakati", exact=True).check()
    follow(dieng, lambda: form.get_by_role("button", name="Catat keputusan").click())
    expect(dieng.locator(".alert-success")).to_contain_text("Keputusan dicatat: Disepakati.")

    sembungan = new_page(base_url=fresh_server)
    login(sembungan, "sekdes.sembungan")
    record_meeting(sembungan, addendum, chair="Darmono (Ketua BPD Sembungan)",
                   secretary="Agus Priyanto", place="Balai Desa Sembungan")
    fill_attendance(sembungan, [
        {"name": "Wahyono", "element": "pemerintah_desa", "gender": "L"},
        {"name": "Darmono", "element": "bpd", "gender": "L"},
        {"name": "Kasmini", "element": "kelompok_perempuan", "gender": "P"},
    ])
    expect(sembungan.locator("main header .badge")).to_have_text("Kuorum")
    form = decision_form(sembungan)
    form.get_by_label("Musyawarah mufakat").check()
    form.get_by_label("Disepakati", exact=True).check()
    follow(sembungan, lambda: form.get_by_role("button", name="Catat keputusan").click())
    expect(sembungan.locator(".alert-success")).to_contain_text(
        "Keputusan dicatat: Disepakati.")

    visit(bkad, f"/kerja-sama/{addendum}")
    follow(bkad, lambda: bkad.locator("#musyawarah").get_by_role(
        "link", name="Catat musyawarah").click())
    expect(bkad.get_by_label("Musyawarah antar-Desa", exact=True)).to_be_checked()
    bkad.locator("#held_at").fill(
        dt.datetime.combine(YESTERDAY, dt.time(9)).strftime("%Y-%m-%dT%H:%M"))
    bkad.locator("#place").fill("Aula Kecamatan Kejajar")
    bkad.locator("#chair_name").fill("Bambang Sutrisno")
    bkad.locator("#secretary_name").fill("Sekretaris BKAD")
    follow(bkad, lambda: bkad.get_by_role("button", name="Simpan musyawarah").click())
    fill_attendance(bkad, [
        {"name": "Slamet Budiono", "element": "delegasi_desa", "gender": "L", "desa": DIENG},
        {"name": "Siti Aminah", "element": "delegasi_desa", "gender": "P", "desa": DIENG},
        {"name": "Wahyono", "element": "delegasi_desa", "gender": "L", "desa": SEMBUNGAN},
        {"name": "Kasmini", "element": "delegasi_desa", "gender": "P", "desa": SEMBUNGAN},
    ])
    expect(bkad.locator("main header .badge")).to_have_text("Kuorum")
    form = decision_form(bkad)
    form.get_by_label("Musyawarah mufakat").check()
    form.get_by_label("Disepakati", exact=True).check()
    follow(bkad, lambda: form.get_by_role("button", name="Catat keputusan").click())
    expect(bkad.locator(".alert-success")).to_contain_text("Keputusan dicatat: Disepakati.")

    visit(bkad, f"/kerja-sama/{addendum}")
    follow(bkad, lambda: bkad.locator("#keberlanjutan").get_by_role(
        "link", name="Nilai keberlanjutan").click())
    codes = bkad.locator(".criterion").evaluate_all(
        "cards => cards.map(c => c.id.replace('kriteria-', ''))")
    assert codes, "no sustainability criteria on the assessment page"
    for code in codes:
        bkad.locator(f"#score-{code}-3").check()
        bkad.locator(f"#evidence-{code}").fill(f"Bukti {code}: laporan pelaksanaan triwulan.")
    bkad.locator("#signed_office").fill("Ketua BKAD")
    follow(bkad, lambda: bkad.get_by_role(
        "button", name="Tanda tangani dan simpan penilaian").click())
    expect(bkad.locator(".alert-success")).to_contain_text("Penilaian keberlanjutan versi 1")

    visit(dieng, f"/kerja-sama/{addendum}")
    expect(dieng.locator("#musyawarah .badge", has_text="belum")).to_have_count(0)
    follow(dieng, lambda: dieng.locator("main aside").get_by_role(
        "button", name="Tetapkan sebagai disepakati", exact=True).click())
    expect(badge(dieng)).to_have_text("Disepakati")

    sign_for_village(dieng, addendum, number="P1-1", place="Balai Desa Dieng", last=False)
    sign_for_village(sembungan, addendum, number="P1-1", place="Balai Desa Sembungan",
                     last=True)
    addendum_code = sembungan.locator("main .verification-code").first.inner_text().strip()
    assert addendum_code

    visit(dieng, f"/kerja-sama/{addendum}")
    expect(badge(dieng)).to_have_text(re.compile("^(Berlaku|Ditandatangani)$"))
    expect(dieng.locator("#dokumen .verification-code")).to_have_text(addendum_code)
    visit(dieng, f"/kerja-sama/{pid}")
    expect(dieng.locator(".lifecycle-alert")).to_contain_text(
        "Kerja sama ini telah diubah dengan Perubahan Pertama")
    original_code = dieng.locator("#dokumen .verification-code").inner_text().strip()
    assert original_code and original_code != addendum_code

    visit(dieng, f"/verify/{original_code}")
    expect(dieng.locator("main h1")).to_have_text("Dokumen terdaftar")
    expect(dieng.locator("main dl")).to_contain_text("Diubah dengan")
    amended_by = dieng.locator(".verify-amendments a")
    expect(amended_by).to_have_text(addendum_code)
    follow(dieng, lambda: amended_by.click())
    expect(dieng.locator("main .verification-code")).to_have_text(addendum_code)
    expect(dieng.locator(".verify-amends")).to_have_text(original_code)

    # --- 4. The term as changed ended yesterday: end the agreement. ------------------------
    visit(dieng, f"/kerja-sama/{pid}/status-kerja-sama")
    expect(dieng.locator("#habis-judul")).to_have_text("Jangka waktu telah habis")
    follow(dieng, lambda: dieng.get_by_role("button", name="Akhiri: jangka waktu habis").click())
    expect(dieng.locator(".alert-success")).to_contain_text("Pasal 147 huruf i")
    expect(badge(dieng)).to_have_text("Berakhir")
    expect(dieng.locator("main header")).to_contain_text("i. berakhirnya masa perjanjian")
    visit(dieng, f"/kerja-sama/{pid}/status-kerja-sama")
    expect(dieng.locator("main")).to_contain_text("Dasar berakhir: i. berakhirnya masa perjanjian")

    # --- 5. The public page of Dieng, for anyone. ------------------------------------------
    visitor = new_page(base_url=fresh_server)
    visit(visitor, f"/publik/desa/{DIENG}")
    main = visitor.locator("main")
    expect(visitor.locator("main h1")).to_contain_text("Dieng")
    cards = main.locator("article.agreement")
    expect(cards).to_have_count(2)
    original = cards.filter(has=visitor.locator("code.verification-code", has_text=original_code))
    changed = cards.filter(has=visitor.locator("code.verification-code", has_text=addendum_code))
    expect(original).to_have_count(1)
    expect(changed).to_have_count(1)
    expect(original).to_contain_text(TITLE)
    expect(original.locator(".agreement-status")).to_have_text(re.compile("Berakhir"))
    expect(original).to_contain_text("berakhirnya masa perjanjian")
    # The addendum names the instrument it changes and links to its verification.
    expect(changed).to_contain_text("Perubahan Pertama atas Peraturan Bersama Kepala Desa")
    expect(changed.locator(f"a[href$='/verify/{original_code}']")).to_have_count(1)
    for card in (original, changed):
        expect(card.locator("a.pdf-link")).to_have_count(1)
    text = main.inner_text()
    html = visitor.content()
    secrets = (*UNSIGNED_TITLES,
               "Bambang Sutrisno",  # the BKAD's reviewer
               ACTIVITIES, ACTIVITIES_2, OUTPUTS, "Jalur Sikunir belum terlayani",  # reports
               DISPUTE_SUBJECT, DISPUTE_CLAUSES, DISPUTE_DESCRIPTION, STEP_1_SUMMARY,
               STEP_2_SUMMARY, "Selisihnya dibayarkan", "Heri Susanto")  # the dispute
    for secret in secrets:
        assert secret not in html, f"the public page shows {secret!r}"
    assert not EMAIL.search(text), f"an email address on the public page: {EMAIL.search(text)}"
    assert not EMAIL.search(html), f"an email address in the public HTML: {EMAIL.search(html)}"
    for card in (original, changed):
        href = card.locator("a.pdf-link").get_attribute("href")
        assert_pdf(visitor, href)
    expect(visitor.locator("#nav-utama")).to_have_count(0)  # no signed-in navigation

    phone = new_page(viewport=PHONE, base_url=fresh_server)
    visit(phone, f"/publik/desa/{DIENG}")
    expect(phone.locator("main article.agreement")).to_have_count(2)
    assert_fits(phone, "the public village page")
    snap(phone)
