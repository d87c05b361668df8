"""The cooperation network as a person uses it: the secretary of Dieng opens "Jaringan",
reads the drawing of Kecamatan Kejajar (demo network), zooms, clicks a node to open the
party, goes to Dieng's own network, downloads the report; the same page on a phone; the
dashboard; a scope outside the user's kabupaten is refused with the reason."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, follow, login, snap, visit

pytestmark = pytest.mark.browser


def test_secretary_reads_the_kecamatan_network(page):
    login(page, "sekdes.dieng")
    follow(page, lambda: page.locator("#nav-utama").get_by_role(
        "link", name="Jaringan", exact=True).click())
    expect(page).to_have_url(re.compile(r"/jaringan/kecamatan:33\.07\.13$"))
    expect(page.locator("main h1")).to_contain_text("Kecamatan Kejajar")
    drawing = page.locator(".network-drawing svg.network-graph")
    expect(drawing).to_be_visible()
    # Every node of a kecamatan is labelled; Dieng is among them, as a link.
    dieng = drawing.locator("a", has_text="Desa Dieng").first
    expect(dieng).to_be_visible()
    # Zoom with the buttons the script adds (no inline style: no CSP error is logged).
    page.get_by_role("button", name="Perbesar").click()
    snap(page)
    page.get_by_role("button", name="Tampilkan seluruhnya").click()
    # The stage table explains each label.
    table = page.locator("#desa-judul + .table-responsive table")
    expect(table).to_contain_text("mitra aktif")
    expect(table).to_contain_text(re.compile(r"Jejaring \(networking\)|Jembatan \(bridging\)"))
    # A click on a third party in the drawing opens it.
    party = drawing.locator("a[href^='/pihak/']").first
    follow(page, lambda: party.click())
    expect(page).to_have_url(re.compile(r"/pihak/\d+$"))
    page.go_back()
    # Dieng's own network, two steps.
    follow(page, lambda: page.locator("#desa-judul + .table-responsive").get_by_role(
        "link", name="Desa Dieng", exact=True).click())
    expect(page.locator("main h1")).to_contain_text("Desa Dieng")
    follow(page, lambda: page.get_by_role("link", name="Mitra dari mitra (2 langkah)").click())
    expect(page).to_have_url(re.compile(r"/jaringan/desa:33\.07\.13\.2013:2"))
    # The filters keep what was chosen and the page says what a bad year is.
    visit(page, "/jaringan/kecamatan:33.07.13?year=20x6")
    expect(page.locator("#f-year")).to_have_value("20x6")
    expect(page.locator("main")).to_contain_text("Tahun ditulis dengan empat angka")
    # The report PDF.
    response = page.request.get("/jaringan/kecamatan:33.07.13/laporan.pdf")
    assert response.status == 200 and response.body().startswith(b"%PDF")
    # Another kabupaten is refused with the reason.
    response = visit(page, "/jaringan/kabupaten:33.04")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("kabupaten/kota desa Anda sendiri")


def test_auditor_reads_the_kabupaten_and_the_dashboard_on_a_phone(new_page):
    page = new_page(viewport=PHONE)
    login(page, "inspektorat.wonosobo")
    visit(page, "/jaringan/kabupaten:33.07")
    expect(page.locator("main h1")).to_contain_text("Wonosobo")
    expect(page.locator(".network-drawing svg")).to_be_visible()
    # The page itself does not scroll sideways; only the drawing does.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    visit(page, "/dasbor")
    expect(page.locator("main")).to_contain_text("Tahap")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
