"""The network pages, the report PDF and the downloads, through the browser's eyes (test
client): per role and scope, with hostile names, bad filters and refusals."""

from __future__ import annotations

import io

import networkx as nx
import pytest
from pypdf import PdfReader

from coopdesa.accounts.models import Role
from coopdesa.actors.models import ActorKind
from tests.conftest import BANJARNEGARA, DIENG, KEJAJAR, SEMBUNGAN, TIENG, WONOSOBO
from tests.factories import AdminFactory, UserFactory
from tests.network_helpers import agreement, third_party

HOSTILE = '<script>alert("x")</script> & "Koperasi" \'Tani\''


@pytest.fixture
def network(app):
    evil = third_party(HOSTILE, ActorKind.KOPERASI, WONOSOBO)
    agreement(DIENG, SEMBUNGAN, title="Air bersih")
    agreement(DIENG, TIENG, evil, title="Pemasaran kentang")
    return evil


@pytest.fixture
def sekdes(app):
    return UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)


def test_index_opens_the_users_kecamatan(network, sekdes, login):
    client = login(sekdes)
    response = client.get("/jaringan/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/jaringan/kecamatan:{KEJAJAR}")


def test_kecamatan_page(network, sekdes, login):
    client = login(sekdes)
    html = client.get(f"/jaringan/kecamatan:{KEJAJAR}").get_data(as_text=True)
    assert "Jaringan kerja sama Kecamatan Kejajar" in html
    assert "<svg" in html and "data-pan-zoom" in html
    assert "Desa Dieng" in html
    assert "Jembatan (bridging): 3" in html and "Jejaring (networking): 0" in html
    # Dieng: Sembungan, Tieng and the koperasi (of the kabupaten: outside the kecamatan).
    assert "3 mitra aktif, 2 jenis mitra, 1 di luar kecamatannya" in html
    assert "Desa tanpa kerja sama" in html
    # Hostile text is escaped everywhere (the drawing, the tables).
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "svg-pan-zoom.min.js" in html and "js/network.js" in html
    assert f"/jaringan/kecamatan:{KEJAJAR}/laporan.pdf" in html
    assert f"/jaringan/desa:{DIENG}" in html


def test_desa_and_kabupaten_pages(network, sekdes, login):
    client = login(sekdes)
    html = client.get(f"/jaringan/desa:{DIENG}:2").get_data(as_text=True)
    assert "Mitra dari mitra (2 langkah)" in html and "Desa Sembungan" in html
    html = client.get(f"/jaringan/kabupaten:{WONOSOBO}").get_data(as_text=True)
    assert "Kabupaten Wonosobo" in html and "Kejajar" in html
    assert "Tahap desa per kecamatan" in html  # the stacked bars per kecamatan


def test_bad_filters_are_named_and_the_page_still_shows(network, sekdes, login):
    client = login(sekdes)
    html = client.get(f"/jaringan/kecamatan:{KEJAJAR}?year=20x6&bidang=nope"
                      ).get_data(as_text=True)
    assert "Tahun ditulis dengan empat angka" in html or "Bidang kerja sama tidak dikenal" \
        in html
    assert "is-invalid" in html and "Desa Dieng" in html


def test_filters_change_the_drawing(network, sekdes, login):
    client = login(sekdes)
    all_html = client.get(f"/jaringan/kecamatan:{KEJAJAR}").get_data(as_text=True)
    none_html = client.get(f"/jaringan/kecamatan:{KEJAJAR}?year=2099").get_data(as_text=True)
    assert all_html.count("<line") > none_html.count("<line") or \
        all_html.count("<path") > none_html.count("<path")


@pytest.mark.parametrize(("path", "status"), [
    (f"/jaringan/kabupaten:{BANJARNEGARA}", 403),
    ("/jaringan/provinsi:33", 403),
    ("/jaringan/nasional", 403),
    ("/jaringan/kecamatan:99.99.99", 404),
    ("/jaringan/apa-saja", 404),
    (f"/jaringan/kabupaten:{BANJARNEGARA}/unduh/graphml", 403),
    (f"/jaringan/kabupaten:{BANJARNEGARA}/laporan.pdf", 403),
    (f"/jaringan/kecamatan:{KEJAJAR}/unduh/exe", 404),
])
def test_refusals_say_why(network, sekdes, login, path, status):
    response = login(sekdes).get(path)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    if status == 403:
        assert "kabupaten/kota desa Anda sendiri" in html
    assert "Desa Sembungan" not in html and "<svg" not in html


def test_anonymous_is_sent_to_login(network, client):
    response = client.get(f"/jaringan/kecamatan:{KEJAJAR}")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


def test_province_and_country_overview_for_admin(network, login):
    client = login(AdminFactory())
    html = client.get("/jaringan/provinsi:33").get_data(as_text=True)
    assert "Kabupaten Wonosobo" in html and "Per kabupaten/kota" in html
    assert "dihitung ulang" in html  # Wonosobo changed: computed on read
    html = client.get("/jaringan/nasional").get_data(as_text=True)
    assert "Jawa Tengah" in html.upper().title() or "JAWA TENGAH" in html
    html = client.get("/jaringan/provinsi:33?bidang=keamanan").get_data(as_text=True)
    assert "Penyaring berlaku untuk kabupaten/kota" in html


def test_downloads(network, sekdes, login):
    client = login(sekdes)
    base = f"/jaringan/kecamatan:{KEJAJAR}/unduh/"
    response = client.get(base + "graphml")
    assert response.status_code == 200
    assert 'filename="jaringan-kecamatan-33.07.13.graphml"' in \
        response.headers["Content-Disposition"]
    graph = nx.read_graphml(io.BytesIO(response.data))
    assert graph.has_edge(f"desa:{DIENG}", f"desa:{SEMBUNGAN}")
    assert any(d.get("label") == HOSTILE for _n, d in graph.nodes(data=True))
    assert client.get(base + "gexf").status_code == 200
    nodes = client.get(base + "simpul.csv").get_data(as_text=True)
    assert "Desa Dieng" in nodes.splitlines()[1:].__str__()
    edges = client.get(base + "sisi.csv").get_data(as_text=True)
    assert edges.count("\n") == 5  # header, Dieng-Sembungan, and a triangle of three
    response = client.get(base + "graphml?year=abc")
    assert response.status_code == 422  # ValidationError, as elsewhere in the HTML pages


def test_report_pdf(network, sekdes, login, tmp_path):
    response = login(sekdes).get(f"/jaringan/kecamatan:{KEJAJAR}/laporan.pdf?kertas=a4")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(response.data)).pages)
    for part in ("LAPORAN JARINGAN KERJA SAMA DESA", "KECAMATAN KEJAJAR", "A. RINGKASAN",
                 "B. GAMBAR JARINGAN", "C. TAHAP JARINGAN SOSIAL DESA", "D. DESA",
                 "Desa Dieng", "DESA TANPA KERJA SAMA", '<script>alert("x")</script>'):
        assert part in text, part
    desa_only = login(sekdes).get(f"/jaringan/desa:{DIENG}/laporan.pdf")
    assert desa_only.status_code == 404
