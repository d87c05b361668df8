"""A proposal's road from draft to awaiting_deliberation, clicked through as people would
(issue 3, "Done means"): a village secretary drafts and submits it, a BKAD reviewer asks for
changes, the secretary fixes and resubmits, the reviewer approves. Around that: a hostile
title shown as text, a village outside the proposal refused, two tabs saving the same draft,
and the pages on a phone. See conftest.py for the live server and the screenshots.

The shared live server lives for the whole session, so everything made here carries a
marker no other test uses, and nothing here fails a login (the per-address login limit).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, follow, login, snap, visit

pytestmark = pytest.mark.browser

NAV = "#nav-utama"
HOSTILE = "<img src=x onerror=alert(1)>"
#: Unique in the shared database, hostile on purpose: it must come back as text.
TITLE = f"Embung bersama Dieng-Jojogan {HOSTILE} uji alur"
MARKER = "Embung bersama Dieng-Jojogan"
JOJOGAN = "33.07.13.2012"
DIENG = "33.07.13.2013"
YEAR = dt.date.today().year + 1

#: Another village is told the proposal is not found: it learns nothing, not even that it
#: exists.
REFUSED = "Usulan kerja sama tidak ditemukan."
GATE = "Usulan belum disetujui dalam musyawarah"
STALE = "Usulan ini telah diubah oleh orang lain sejak Anda membukanya."

SCOPE_V1 = "Pembangunan embung, perawatan saluran, dan pembagian air setiap musim kemarau."
SCOPE_V2 = ("Pembangunan embung, perawatan saluran, dan pembagian air menurut jumlah "
            "jiwa setiap bulan.")
POINTS = ["Jelaskan dasar pembagian air antara kedua desa.",
          "Tambahkan jadwal perawatan saluran."]


# --- helpers -------------------------------------------------------------------------------

def open_page(new_page, dialogs: list[str], **kwargs):
    """A new page (own context) on which any JavaScript dialog is recorded and dismissed:
    the test fails at the end if one ever opened (an injected ``alert(1)`` would)."""
    page = new_page(**kwargs)

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message} on {page.url}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def nav_link(page, name: str):
    return page.locator(NAV).get_by_role("link", name=name, exact=True)


def badge(page):
    """The state badge of the proposal (detail, edit and compare pages)."""
    return page.locator("main .state-badge").first


def proposal_id_of(page) -> int:
    match = re.search(r"/kerja-sama/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def party_card(page, desa_code: str):
    return page.locator("#hak-pendanaan .card[id^=pihak-]").filter(has_text=desa_code)


def party_field(page, desa_code: str, suffix: str):
    """A field of one party's sub-form, e.g. ``signatory_name`` or ``funding-0-amount``."""
    return party_card(page, desa_code).locator(f"[name$='-{suffix}']")


def click_save(page, then: str = "save") -> None:
    follow(page, lambda: page.locator(f"form.proposal-form button[name=then][value={then}]")
           .click())


def transition_button(page, label: str):
    return page.locator("main aside").get_by_role("button", name=label, exact=True)


def create_draft(page, title: str) -> int:
    """Kerja sama -> Susun usulan -> antar-Desa with Jojogan; lands on the edit page."""
    follow(page, lambda: nav_link(page, "Kerja sama").click())
    expect(page.locator("main h1")).to_have_text("Usulan dan kerja sama desa")
    follow(page, lambda: page.locator("main").get_by_role("link", name="Susun usulan").click())
    expect(page.locator("main h1")).to_have_text("Susun usulan kerja sama")
    page.get_by_label("Kerja sama antar-Desa (Peraturan Bersama Kepala Desa)").check()
    expect(page.get_by_label("Prakarsa desa")).to_be_checked()  # the default
    page.locator("#title").fill(title)
    page.locator("#partner_desa_codes").fill(JOJOGAN)
    snap(page)
    follow(page, lambda: page.locator("main form").get_by_role("button", name="Buat draf")
           .click())
    expect(page).to_have_url(re.compile(r"/kerja-sama/\d+/ubah$"))
    expect(page.locator(".alert-success")).to_contain_text("telah dibuat")
    expect(badge(page)).to_have_text("Draf")
    return proposal_id_of(page)


def assert_fits(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width}px wide on a {PHONE['width']}px phone"


# --- the whole road ------------------------------------------------------------------------

def test_proposal_from_draft_to_awaiting_deliberation(new_page):
    dialogs: list[str] = []

    # 1. The secretary of Dieng drafts an antar-Desa proposal with Jojogan.
    author = open_page(new_page, dialogs)
    login(author, "sekdes.dieng")
    pid = create_draft(author, TITLE)
    expect(author.locator("#title")).to_have_value(TITLE)
    expect(party_card(author, DIENG)).to_be_visible()
    expect(party_card(author, JOJOGAN)).to_contain_text("Jojogan")

    # Submitting too early: saved as a draft, refused, with the missing sections listed.
    click_save(author, "submit")
    expect(author).to_have_url(re.compile(rf"/kerja-sama/{pid}/ubah$"))
    expect(author.locator(".alert-warning")).to_contain_text(
        "Draf disimpan, tetapi belum dapat diajukan.")
    refusal = author.locator(".alert-danger").first
    expect(refusal).to_contain_text("Usulan belum lengkap. Lengkapi: Menimbang (latar belakang)")
    expect(refusal).to_contain_text("Maksud dan tujuan")
    expect(refusal).to_contain_text("Pendanaan")
    checklist = author.locator(".checklist-card")
    expect(checklist).to_contain_text("Kelengkapan sebelum diajukan")
    for label in ("Menimbang (latar belakang)", "Maksud dan tujuan", "Ruang lingkup",
                  "Bidang kerja sama", "Tata cara dan ketentuan pelaksanaan", "Jangka waktu",
                  "Hak dan kewajiban para pihak", "Pendanaan",
                  "Tata cara perubahan, penundaan, dan pembatalan"):
        expect(checklist.locator("li.missing", has_text=label)).to_contain_text("belum")
    for label in ("Judul", "Mengingat (dasar hukum)", "Penyelesaian perselisihan"):
        expect(checklist.locator("li.done", has_text=label)).to_contain_text("terisi")
    expect(checklist).to_contain_text("Lengkapi nama dan jabatan penandatangan")
    expect(badge(author)).to_have_text("Draf")

    # Prefilled: the legal basis for antar-Desa, and PP 43/2014 Pasal 148's route for two
    # desa of one kecamatan: the Camat of Kejajar.
    expect(author.locator("#mengingat")).to_have_value(
        re.compile(r"^Undang-Undang Nomor 6 Tahun 2014 tentang Desa"))
    expect(author.locator("#mengingat")).to_have_value(
        re.compile(r"Peraturan Menteri Dalam Negeri Nomor 96 Tahun 2017"))
    expect(author.locator("#perselisihan")).to_have_value(
        re.compile(r"^Perselisihan yang timbul dalam pelaksanaan kerja sama ini diselesaikan "
                   r"terlebih dahulu secara musyawarah"))
    expect(author.locator("#perselisihan")).to_have_value(
        re.compile(r"perselisihan diselesaikan oleh Camat Kejajar; penyelesaiannya bersifat "
                   r"final.*\(PP 43/2014 Pasal 148\)", re.S))

    # Every section, as typed by a person (the hostile text goes into a section too).
    author.locator("#menimbang").fill(
        "bahwa warga Desa Dieng dan Desa Jojogan kekurangan air pada musim kemarau;\n"
        "bahwa embung bersama menampung air hujan untuk kedua desa;")
    author.locator("#tujuan").fill(f"Menjamin air bagi kedua desa. {HOSTILE}")
    author.locator("#ruang_lingkup").fill(SCOPE_V1)
    author.locator("input[name=bidang][value=kemasyarakatan]").check()
    author.locator("#tata_cara").fill(
        "BKAD membentuk unit pengelola embung yang beranggotakan wakil kedua desa.")
    author.locator("#start_date").fill(f"{YEAR}-01-01")
    author.locator("#end_date").fill(f"{YEAR + 2}-12-31")
    author.locator("#perubahan").fill(
        "Perubahan, penundaan, atau pembatalan dimusyawarahkan oleh para pihak.")
    for code, name, amount in ((DIENG, "Slamet Budiono", "25.000.000"),
                               (JOJOGAN, "Sutarno", "15.000.000")):
        party_field(author, code, "signatory_name").fill(name)
        party_field(author, code, "signatory_office").fill("Kepala Desa")
        party_field(author, code, "hak").fill("Memperoleh air dari embung bersama.")
        party_field(author, code, "kewajiban").fill("Merawat saluran di wilayahnya.")
        party_field(author, code, "funding-0-source").select_option("apb_desa")
        party_field(author, code, "funding-0-amount").fill(amount)
        party_field(author, code, "funding-0-apbdes_year").fill(str(YEAR))
        party_field(author, code, "funding-0-description").fill("Penyertaan APB Desa")
    snap(author)
    click_save(author)
    expect(author).to_have_url(re.compile(rf"/kerja-sama/{pid}/ubah$"))
    expect(author.locator(".alert-success")).to_contain_text("Draf disimpan.")
    expect(author.locator(".checklist-card")).to_contain_text(
        "Semua bagian wajib telah terisi.")
    expect(party_field(author, DIENG, "funding-0-amount")).to_have_value("25.000.000")
    expect(author.locator("input[name=bidang][value=kemasyarakatan]")).to_be_checked()

    # Read it back on the detail page, then submit from there.
    follow(author, lambda: author.get_by_role("link", name="Kembali ke usulan").click())
    expect(author).to_have_url(re.compile(rf"/kerja-sama/{pid}$"))
    pendanaan = author.locator("section[aria-labelledby=bagian-pendanaan]")
    expect(pendanaan).to_contain_text("Rp25.000.000")
    expect(pendanaan).to_contain_text(str(YEAR))
    expect(pendanaan.locator("tfoot")).to_contain_text("Rp40.000.000")
    expect(author.locator("section[aria-labelledby=bagian-perselisihan]")).to_contain_text(
        "Camat Kejajar")
    follow(author, lambda: transition_button(author, "Ajukan untuk ditelaah").click())
    expect(badge(author)).to_have_text("Diajukan")
    expect(author.locator(".alert-success")).to_contain_text("usulan kini berstatus Diajukan")
    expect(author.locator("section[aria-labelledby=versi-judul]")).to_contain_text("Versi 1")

    # 2. The hostile title and section come back as text, never as markup.
    expect(author.locator("main h1")).to_have_text(TITLE)
    expect(author.locator("section[aria-labelledby=bagian-tujuan]")).to_contain_text(HOSTILE)
    expect(author.locator("img[src=x]")).to_have_count(0)
    follow(author, lambda: nav_link(author, "Kerja sama").click())
    expect(author.locator("main table").get_by_role("link", name=TITLE)).to_be_visible()
    expect(author.locator("img[src=x]")).to_have_count(0)

    # 3. The secretary of Tieng (outside the proposal) neither lists it nor opens it.
    outsider = open_page(new_page, dialogs)
    login(outsider, "sekdes.tieng")
    follow(outsider, lambda: nav_link(outsider, "Kerja sama").click())
    expect(outsider.locator("main h1")).to_have_text("Usulan dan kerja sama desa")
    expect(outsider.locator("main")).not_to_contain_text(MARKER)
    for path in (f"/kerja-sama/{pid}", f"/kerja-sama/{pid}/ubah", f"/kerja-sama/{pid}/versi"):
        response = visit(outsider, path)
        assert response.status == 404, path
        expect(outsider.locator("main h1")).to_have_text("Tidak ditemukan")
        expect(outsider.locator("main .lead")).to_have_text(REFUSED)
        expect(outsider.locator("main")).not_to_contain_text(MARKER)

    # 4. The BKAD finds it waiting on the home page, reviews and asks for changes.
    reviewer = open_page(new_page, dialogs)
    login(reviewer, "bkad.dieng")
    waiting = reviewer.locator("section[aria-labelledby=menunggu-judul]")
    expect(waiting).to_contain_text("Menunggu tindakan Anda")
    follow(reviewer, lambda: waiting.get_by_role("link", name=TITLE).click())
    expect(reviewer).to_have_url(re.compile(rf"/kerja-sama/{pid}$"))
    expect(badge(reviewer)).to_have_text("Diajukan")
    expect(reviewer.locator("main h1")).to_have_text(TITLE)
    expect(reviewer.get_by_role("link", name="Ubah isi usulan")).to_have_count(0)
    follow(reviewer, lambda: transition_button(reviewer, "Mulai telaah").click())
    expect(badge(reviewer)).to_have_text("Sedang ditelaah")

    reviewer.locator("#section").select_option("ruang_lingkup")
    reviewer.locator("#body").fill("Bagaimana air dibagi bila embung hampir kering?")
    follow(reviewer, lambda: reviewer.get_by_role("button", name="Kirim komentar").click())
    expect(reviewer.locator(".alert-success")).to_contain_text("Komentar dikirim.")
    comment = reviewer.locator("#komentar article.comment").last
    expect(comment).to_contain_text("Bagaimana air dibagi bila embung hampir kering?")
    expect(comment.locator("header")).to_contain_text("Ruang lingkup")

    reviewer.locator("summary", has_text="Minta perbaikan").click()
    reviewer.locator("#request_changes-points").fill("\n".join(POINTS))
    snap(reviewer)
    follow(reviewer, lambda: reviewer.locator("form[action$='/tindakan/request_changes']")
           .get_by_role("button", name="Minta perbaikan").click())
    expect(badge(reviewer)).to_have_text("Perlu perbaikan")
    review = reviewer.locator(".review-request_changes").first
    for point in POINTS:
        expect(review).to_contain_text(point)

    # 5. The secretary sees the points, edits a section and resubmits.
    follow(author, lambda: author.get_by_role("link", name=TITLE).first.click())
    expect(badge(author)).to_have_text("Perlu perbaikan")
    for point in POINTS:
        expect(author.locator(".review-request_changes").first).to_contain_text(point)
    expect(author.locator("#komentar")).to_contain_text("hampir kering")
    follow(author, lambda: author.get_by_role("link", name="Ubah isi usulan").click())
    asked = author.locator(".card", has_text="Perbaikan yang diminta")
    for point in POINTS:
        expect(asked).to_contain_text(point)
    expect(author.locator("#ruang_lingkup")).to_have_value(SCOPE_V1)
    author.locator("#ruang_lingkup").fill(SCOPE_V2)
    click_save(author, "submit")
    expect(author).to_have_url(re.compile(rf"/kerja-sama/{pid}$"))
    expect(author.locator(".alert-success")).to_contain_text(
        "Draf disimpan dan diajukan untuk ditelaah.")
    expect(badge(author)).to_have_text("Diajukan")

    versions = author.locator("section[aria-labelledby=versi-judul]")
    expect(versions).to_contain_text("Versi 2")
    follow(author, lambda: versions.get_by_role("link", name="bandingkan dengan versi 1").click())
    expect(author).to_have_url(re.compile(rf"/kerja-sama/{pid}/versi\?a=1&b=2$"))
    expect(author.locator("main h1")).to_have_text("Bandingkan versi")
    expect(author.locator("main p[role=status]")).to_contain_text("1 bagian berubah")
    changed = author.locator(".diff-changed")
    expect(changed).to_have_count(1)
    expect(changed.locator("h2")).to_contain_text("Ruang lingkup")
    # Only the changed words are marked: added ones in <ins>, removed ones in <del>.
    expect(changed.locator("ins", has_text="menurut jumlah jiwa")).to_have_count(1)
    expect(changed.locator("ins", has_text="bulan")).to_have_count(1)
    expect(changed.locator("del", has_text="musim kemarau")).to_have_count(1)
    expect(changed.locator("ins, del").filter(has_text=re.compile("embung|setiap"))) \
        .to_have_count(0)
    expect(changed.locator(".diff-text")).to_contain_text("Pembangunan embung, perawatan")
    expect(author.locator(".diff-same", has_text="Maksud dan tujuan")).to_have_count(1)
    expect(author.locator("img[src=x]")).to_have_count(0)

    # 6. The BKAD reviews again and approves; the agreement step waits for the musyawarah.
    visit(reviewer, f"/kerja-sama/{pid}")
    expect(badge(reviewer)).to_have_text("Diajukan")
    follow(reviewer, lambda: transition_button(reviewer, "Mulai telaah").click())
    expect(badge(reviewer)).to_have_text("Sedang ditelaah")
    follow(reviewer, lambda: transition_button(reviewer, "Setujui untuk dimusyawarahkan")
           .click())
    expect(badge(reviewer)).to_have_text("Menunggu musyawarah")
    expect(reviewer.locator(".review-approve").first).to_contain_text("versi 2")
    expect(transition_button(reviewer, "Tetapkan sebagai disepakati")).to_have_count(0)

    visit(author, f"/kerja-sama/{pid}")
    expect(badge(author)).to_have_text("Menunggu musyawarah")
    expect(author.get_by_role("link", name="Ubah isi usulan")).to_have_count(0)
    agree = transition_button(author, "Tetapkan sebagai disepakati")
    expect(agree).to_be_visible()  # offered to the author, and refused by the gate
    follow(author, lambda: agree.click())
    expect(author).to_have_url(re.compile(rf"/kerja-sama/{pid}$"))
    expect(author.locator(".alert-warning")).to_contain_text(GATE)
    expect(badge(author)).to_have_text("Menunggu musyawarah")

    # 8 (for this proposal). Its pages fit a phone, long hostile title included.
    phone = open_page(new_page, dialogs, viewport=PHONE)
    login(phone, "sekdes.dieng")
    for path in ("/kerja-sama/", f"/kerja-sama/{pid}", f"/kerja-sama/{pid}/versi?a=1&b=2"):
        visit(phone, path)
        assert_fits(phone, path)
    expect(phone.locator("main h1")).to_have_text("Bandingkan versi")
    expect(phone.locator("img[src=x]")).to_have_count(0)

    assert not dialogs, f"a JavaScript dialog opened: {dialogs}"


# --- two tabs, one draft -------------------------------------------------------------------

def test_stale_save_keeps_input_and_saves_again(new_page):
    dialogs: list[str] = []
    tab_a = open_page(new_page, dialogs)
    login(tab_a, "sekdes.dieng")
    pid = create_draft(tab_a, "Uji simpan bersamaan Dieng-Jojogan")

    tab_b = open_page(new_page, dialogs)  # the same secretary, on another device
    login(tab_b, "sekdes.dieng")
    visit(tab_b, f"/kerja-sama/{pid}/ubah")  # opened before A saves
    expect(tab_b.locator("main h1")).to_contain_text("Ubah usulan")

    tab_a.locator("#tujuan").fill("Tujuan menurut tab A.")
    click_save(tab_a)
    expect(tab_a.locator(".alert-success")).to_contain_text("Draf disimpan.")

    typed_b = {"#tujuan": "Tujuan menurut tab B.",
               "#ruang_lingkup": "Ruang lingkup menurut tab B."}
    for selector, value in typed_b.items():
        tab_b.locator(selector).fill(value)
    party_field(tab_b, JOJOGAN, "signatory_name").fill("Sutarno")
    click_save(tab_b)
    stale = tab_b.locator("#perubahan-lain")
    expect(stale).to_contain_text(STALE)
    expect(stale).to_contain_text("sekdes.dieng")  # who changed it meanwhile (the log's name)
    expect(stale).to_contain_text("Maksud dan tujuan")  # and what
    expect(stale).to_contain_text("Isian Anda tetap di formulir di bawah")
    for selector, value in typed_b.items():
        expect(tab_b.locator(selector)).to_have_value(value)
    expect(party_field(tab_b, JOJOGAN, "signatory_name")).to_have_value("Sutarno")

    click_save(tab_b)  # again, knowingly over A's change
    expect(tab_b.locator(".alert-success")).to_contain_text("Draf disimpan.")
    expect(tab_b.locator("#perubahan-lain")).to_have_count(0)
    for selector, value in typed_b.items():
        expect(tab_b.locator(selector)).to_have_value(value)

    visit(tab_a, f"/kerja-sama/{pid}")  # A sees B's words now
    expect(tab_a.locator("section[aria-labelledby=bagian-tujuan]")).to_contain_text(
        "Tujuan menurut tab B.")
    expect(tab_a.locator("section[aria-labelledby=bagian-parties]")).to_contain_text("Sutarno")
    assert not dialogs, f"a JavaScript dialog opened: {dialogs}"


# --- phone ---------------------------------------------------------------------------------

def test_proposal_pages_fit_a_phone(new_page):
    """The list (cards instead of the table) and a proposal with versions, a review and a
    comment (the demo's Telaga Cebong water agreement) on a 390 px wide phone."""
    page = new_page(viewport=PHONE)
    login(page, "sekdes.dieng")
    visit(page, "/kerja-sama/")
    assert_fits(page, "the proposal list")
    cards = page.locator("main .proposal-cards")
    expect(cards).to_be_visible()
    expect(page.locator("main .proposal-table")).to_be_hidden()
    water = cards.get_by_role("link", name="Pengelolaan Bersama Air Bersih dari Telaga Cebong")
    follow(page, lambda: water.click())
    expect(badge(page)).to_have_text("Menunggu musyawarah")
    assert_fits(page, "the proposal detail")
    expect(page.locator("#komentar")).to_contain_text("dasar pembagian 60:40")
    follow(page, lambda: page.get_by_role("link", name="bandingkan dengan versi 1").click())
    assert_fits(page, "the version comparison")
    expect(page.locator(".diff-changed ins").first).to_be_visible()
