"""What each demo role sees and can do in a real browser (see conftest.py for the setup).

The shared live server is one process for the whole session, so these tests leave it as
they found it for each other: new accounts and actors get names no other test uses, and
nothing here fails a login on it (a failed login counts against the per-address limit).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, REPO_ROOT, follow, login, logout, snap, visit

pytestmark = pytest.mark.browser

NAV = "#nav-utama"
ENGLISH_CATALOGUE = REPO_ROOT / "coopdesa/translations/en/LC_MESSAGES/messages.mo"


def nav_link(page, name: str):
    return page.locator(NAV).get_by_role("link", name=name, exact=True)


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


# --- per role ---------------------------------------------------------------------------

# username -> (texts on the home page that show the role's scope, sees admin links)
ROLES = {
    "admin": (["Administrator", "Seluruh wilayah", "Desa/kelurahan terdaftar"], True),
    "sekdes.dieng": (["Sekretaris Desa", "Desa Anda", "Desa Dieng", "33.07.13.2013"], False),
    "bkad.dieng": (["Pengurus BKAD", "BKAD Dataran Tinggi Dieng", "Desa anggota",
                    "Desa Sembungan"], False),
    "camat.kejajar": (["Auditor / Pengawas", "Wilayah tugas", "Kejajar", "33.07.13"], False),
    "inspektorat.wonosobo": (["Auditor / Pengawas", "Wilayah tugas", "Wonosobo"], False),
}


@pytest.mark.parametrize("username", list(ROLES))
def test_home_page_and_navbar_per_role(page, username):
    texts, is_admin = ROLES[username]
    login(page, username)
    expect(page).to_have_url(re.compile(r"/$"))
    main = page.locator("main")
    for text in texts:
        expect(main).to_contain_text(text)
    # Every role has the common links; only the admin has Pengguna and BKAD.
    expect(nav_link(page, "Beranda")).to_be_visible()
    expect(nav_link(page, "Pihak")).to_be_visible()
    expect(nav_link(page, "Wilayah")).to_be_visible()
    if is_admin:
        expect(nav_link(page, "Pengguna")).to_be_visible()
        expect(nav_link(page, "BKAD")).to_be_visible()
    else:
        expect(nav_link(page, "Pengguna")).to_have_count(0)
        expect(nav_link(page, "BKAD")).to_have_count(0)
        expect(main.get_by_text("Pengguna dan peran")).to_have_count(0)
    # The user menu names the account and its scope.
    page.locator(f"{NAV} .dropdown-toggle").click()
    expect(page.locator(f"{NAV} .dropdown-menu")).to_be_visible()
    snap(page)


def test_sekretaris_gets_403_on_user_admin(page):
    login(page, "sekdes.dieng")
    response = visit(page, "/admin/pengguna")
    assert response.status == 403
    expect(page.locator("main h1")).to_have_text("Akses ditolak")
    expect(page.locator("main")).to_contain_text(
        "Hanya administrator yang dapat mengelola pengguna.")
    expect(page.locator("main").get_by_role("link", name="Kembali ke beranda")).to_be_visible()
    # The refusal page keeps the navbar, still without the admin links.
    expect(nav_link(page, "Pengguna")).to_have_count(0)


@pytest.mark.parametrize("username", ["camat.kejajar", "inspektorat.wonosobo"])
def test_auditor_cannot_register_actors(page, username):
    login(page, username)
    follow(page, lambda: nav_link(page, "Pihak").click())
    expect(page).to_have_url(re.compile(r"/pihak/$"))
    expect(page.locator("main h1")).to_have_text("Pihak kerja sama")
    expect(page.locator("main tbody tr").first).to_be_visible()  # they do read the list
    expect(page.get_by_role("link", name="Daftarkan pihak")).to_have_count(0)
    response = visit(page, "/pihak/baru")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("Auditor hanya dapat membaca")


# --- flows ------------------------------------------------------------------------------

def test_admin_creates_sekretaris_who_then_signs_in(page):
    login(page, "admin")
    follow(page, lambda: nav_link(page, "Pengguna").click())
    follow(page, lambda: page.get_by_role("link", name="Tambah pengguna").click())
    expect(page.locator("main h1")).to_have_text("Tambah pengguna")

    typed = {
        "#username": "sekdes.jojogan",
        "#full_name": "Nur Hidayati",
        "#office": "Sekretaris Desa Jojogan",
        "#email": "sekdes@jojogan.desa.id",
    }
    for selector, value in typed.items():
        page.locator(selector).fill(value)
    page.locator("#role").select_option("sekretaris")
    page.locator("#desa_code").fill("33.07.13.1008")  # Kelurahan Kejajar: not a desa
    page.locator("#password").fill("Kentang-Dieng-2026")
    snap(page)
    follow(page, lambda: page.locator("main form button[type=submit]").click())

    # Refused with the reason, next to the field and in the summary; nothing typed is lost.
    error = page.locator("#desa_code-error")
    expect(error).to_contain_text("Kelurahan Kejajar tidak dapat menjadi pihak")
    expect(error).to_contain_text("kelurahan tidak memiliki BPD")
    expect(page.locator("#desa_code")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#form-error-summary")).to_contain_text("Kelurahan")
    for selector, value in typed.items():
        expect(page.locator(selector)).to_have_value(value)
    expect(page.locator("#role")).to_have_value("sekretaris")
    expect(page.locator("#desa_code")).to_have_value("33.07.13.1008")

    page.locator("#desa_code").fill("33.07.13.2012")  # Desa Jojogan
    page.locator("#password").fill("Kentang-Dieng-2026")  # never sent back to the browser
    follow(page, lambda: page.locator("main form button[type=submit]").click())
    expect(page).to_have_url(re.compile(r"/admin/pengguna$"))
    expect(page.locator(".alert-success")).to_contain_text("sekdes.jojogan telah dibuat")
    row = page.locator("main tbody tr", has_text="sekdes.jojogan")
    expect(row).to_contain_text("Desa Jojogan")

    logout(page)
    expect(page.locator(".alert")).to_contain_text("Anda telah keluar")
    login(page, "sekdes.jojogan", "Kentang-Dieng-2026")
    expect(page.locator("main")).to_contain_text("Nur Hidayati")
    expect(page.locator("main")).to_contain_text("Desa Jojogan")
    expect(nav_link(page, "Pengguna")).to_have_count(0)


def test_sekretaris_registers_business_with_bad_nib_then_fixes_it(page):
    login(page, "sekdes.dieng")
    follow(page, lambda: nav_link(page, "Pihak").click())
    follow(page, lambda: page.get_by_role("link", name="Daftarkan pihak").click())
    expect(page.locator("main h1")).to_have_text("Daftarkan pihak")

    name = "CV Kentang Granola Dieng"
    page.locator("#kind").select_option(label="Badan usaha swasta")
    page.locator("#name").fill(name)
    page.locator("#region_code").fill("33.07.13.2013")
    page.locator("#nib").fill("91200012")  # 8 digits: an NIB has 13
    page.locator("#contact_name").fill("Pak Sugeng")
    follow(page, lambda: page.locator("main form button[type=submit]").click())

    nib_error = page.locator("#nib-error")
    expect(nib_error).to_have_text("NIB terdiri atas 13 angka.")
    expect(page.locator("#nib")).to_have_class(re.compile(r"\bis-invalid\b"))
    # "next to the field": the message sits right under the NIB input, in its form group.
    assert page.locator("#nib").evaluate(
        "el => el.parentElement.contains(document.getElementById('nib-error'))")
    expect(page.locator("#nib")).to_have_attribute("aria-describedby",
                                                   re.compile(r"nib-error"))
    expect(page.locator("#name")).to_have_value(name)
    expect(page.locator("#kind")).to_have_value("swasta")

    page.locator("#nib").fill("9120 0011 1222 3")  # spaces are allowed and removed
    follow(page, lambda: page.locator("main form button[type=submit]").click())
    expect(page).to_have_url(re.compile(r"/pihak/\d+$"))
    expect(page.locator("main h1")).to_have_text(name)
    expect(page.locator(".alert-success")).to_contain_text(f"{name} telah didaftarkan")
    details = page.locator("main dl")
    expect(details).to_contain_text("9120001112223")
    expect(details).to_contain_text("Dieng")
    expect(page.locator("main").get_by_role("link", name="Ubah")).to_be_visible()


def test_region_autocomplete_fills_datalist(page):
    login(page, "sekdes.dieng")
    follow(page, lambda: nav_link(page, "Wilayah").click())
    field = page.locator("#q")
    field.press_sequentially("dieng", delay=40)  # real keystrokes: input events
    list_id = field.get_attribute("list")
    assert list_id, "the region widget did not attach a <datalist> to the search field"
    page.wait_for_function(
        "id => document.querySelectorAll('#' + id + ' option').length > 0", arg=list_id)
    options = page.eval_on_selector_all(
        f"#{list_id} option", "els => els.map(o => ({value: o.value, label: o.label}))")
    assert len(options) > 0
    assert "33.07.13.2013" in [o["value"] for o in options], options  # Desa Dieng, Kejajar
    assert all("Dieng" in o["label"] or "DIENG" in o["label"].upper() for o in options)
    snap(page)
    # Choosing a code explains it under the field.
    field.fill("33.07.13.2013")
    field.dispatch_event("change")
    expect(page.locator(".region-hint")).to_contain_text("Dieng")
    follow(page, lambda: page.locator("main form[role=search] button[type=submit]").click())
    expect(page.locator("main .list-group")).to_contain_text("33.07.13.2013")


def test_language_switch_persists(page):
    login(page, "bkad.dieng")
    assert html_lang(page) == "id"
    follow(page, lambda: page.locator(".lang-bar").get_by_role("link", name="English").click())
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/\??$"))  # back where the switch was clicked
    expect(page.locator(".lang-bar a[lang=en]")).to_have_attribute("aria-current", "true")
    if ENGLISH_CATALOGUE.exists():  # compiled by `make install`; the .mo is not committed
        expect(page.locator("main h1")).to_have_text("Welcome, Bambang Sutrisno")
        expect(nav_link(page, "Home")).to_be_visible()
    # Navigating on keeps English: the choice lives in the session.
    follow(page, lambda: page.locator(f"{NAV} .nav-link[href$='/pihak/']").click())
    expect(page).to_have_url(re.compile(r"/pihak/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    if ENGLISH_CATALOGUE.exists():
        expect(page.locator("main h1")).to_have_text("Cooperation parties")
    visit(page, "/wilayah/?q=dieng")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The switch keeps the page and its query.
    follow(page, lambda: page.locator(".lang-bar").get_by_role("link",
                                                               name="Indonesia").click())
    expect(page).to_have_url(re.compile(r"/wilayah/\?q=dieng$"))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("main h1")).to_have_text("Daftar wilayah resmi")


def test_language_chosen_on_login_page_survives_login(page):
    visit(page, "/masuk")
    follow(page, lambda: page.locator(".lang-bar").get_by_role("link", name="English").click())
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#username").fill("camat.kejajar")
    page.locator("#password").fill("desa-maju-2026")
    follow(page, lambda: page.locator("main form button[type=submit]").click())
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_logout(page):
    login(page, "camat.kejajar")
    logout(page)
    expect(page.locator(".alert")).to_contain_text("Anda telah keluar")
    expect(page.locator(NAV)).to_have_count(0)  # no navbar menu for the anonymous
    visit(page, "/")
    expect(page).to_have_url(re.compile(r"/masuk\?next=%2F$"))


def test_anonymous_home_redirects_to_login(page):
    response = visit(page, "/")
    expect(page).to_have_url(re.compile(r"/masuk\?next=%2F$"))
    assert response.status == 200
    expect(page.locator("main h1")).to_have_text("Masuk ke coopdesa")
    expect(page.locator(".alert")).to_contain_text("Silakan masuk untuk membuka halaman ini.")
    # After signing in, the user lands where they were going.
    page.locator("#username").fill("sekdes.sembungan")
    page.locator("#password").fill("desa-maju-2026")
    follow(page, lambda: page.locator("main form button[type=submit]").click())
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("main")).to_contain_text("Desa Sembungan")


def test_phone_navbar_collapses_and_opens(new_page):
    page = new_page(viewport=PHONE)
    login(page, "sekdes.dieng")
    toggler = page.locator(".navbar-toggler")
    menu = page.locator(NAV)
    expect(toggler).to_be_visible()
    expect(menu).to_be_hidden()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    toggler.click()
    expect(menu).to_be_visible()
    expect(menu).to_have_class(re.compile(r"\bshow\b"))  # the opening animation has ended
    expect(toggler).to_have_attribute("aria-expanded", "true")
    for name in ("Beranda", "Pihak", "Wilayah"):
        expect(nav_link(page, name)).to_be_visible()
    snap(page)
    page.locator(f"{NAV} .dropdown-toggle").click()
    expect(page.locator(f"{NAV} form[action$='/keluar'] button")).to_be_visible()
    snap(page)
    follow(page, lambda: nav_link(page, "Pihak").click())
    expect(menu).to_be_hidden()  # collapsed again on the new page
    # Nothing is wider than the phone: no sideways scrolling on the main pages.
    for path in ("/", "/pihak/", "/wilayah/?q=dieng", "/pihak/baru", "/profil"):
        visit(page, path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px phone"


def test_wrong_password_six_times_gives_429(fresh_server, new_page):
    """The login limit (5 failures per minute, per address and per account name) is kept in
    memory by the server process and keyed by the client address, which is 127.0.0.1 for
    every test. Six failures against the shared server would lock every later test out of
    logging in for a minute, whatever the test order. So this test runs against a server of
    its own (``fresh_server``: own process, own copy of the database), whose limiter dies with
    it, and uses an account name no other test uses."""
    page = new_page(base_url=fresh_server)
    visit(page, "/masuk")
    for attempt in range(1, 7):
        page.locator("#username").fill("penyusup.uji")
        page.locator("#password").fill(f"salah-{attempt}")
        follow(page, lambda: page.locator("main form button[type=submit]").click())
        if attempt <= 5:
            expect(page.locator("main h1")).to_have_text("Masuk ke coopdesa")
            expect(page.locator("#password-error")).to_contain_text(
                "Nama pengguna atau kata sandi salah")
    expect(page.locator("main h1")).to_contain_text("Tunggu sebentar")
    expect(page.locator("main .lead")).to_have_text(
        "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi.")  # not "5 per 1 minute"
    expect(page.locator("main")).to_contain_text("Tunggu satu menit")
    # The limit is per address too: a real account is refused from here for now as well.
    visit(page, "/masuk")
    page.locator("#username").fill("admin")
    page.locator("#password").fill("desa-maju-2026")
    follow(page, lambda: page.locator("main form button[type=submit]").click())
    expect(page.locator("main h1")).to_contain_text("Tunggu sebentar")
