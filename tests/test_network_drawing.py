"""The server-side drawing of a cooperation network (coopdesa.network.drawing): the same data
gives the same SVG, every node of a kecamatan is labelled with no two labels overlapping,
nodes link to their pages, hostile names are escaped, a kabupaten-sized graph labels only
its main nodes but gives every node a tooltip, and WeasyPrint prints it."""

from __future__ import annotations

import io
import itertools
import random
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
import sqlalchemy as sa
from markupsafe import Markup
from pypdf import PdfReader

from coopdesa.actors.models import ActorKind
from coopdesa.extensions import db
from coopdesa.network import drawing
from coopdesa.network.graph import parse_scope, scope_graph
from coopdesa.network.metrics import compute
from coopdesa.network.stages import StageRule
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region
from tests.conftest import DIENG, GARUNG, KEJAJAR, WONOSOBO
from tests.network_helpers import agreement, third_party

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "Koperasi" \'Tani\''
RULE = StageRule()
#: Third parties of a kecamatan, with the long names real ones have.
LONG_NAMES = [
    ("Koperasi Produsen Kentang dan Sayuran Dataran Tinggi Dieng Makmur", ActorKind.KOPERASI),
    ("PT Perkebunan Teh Tambi Lestari Sejahtera Abadi", ActorKind.SWASTA),
    ("Dinas Pariwisata dan Kebudayaan Kabupaten Wonosobo", ActorKind.DINAS),
    ("Dinas Pertanian dan Ketahanan Pangan Kabupaten Wonosobo", ActorKind.DINAS),
    ("Yayasan Lestari Hulu Serayu untuk Konservasi Mata Air", ActorKind.LSM),
    ("Sekolah Tinggi Ilmu Pertanian Dieng Raya Wonosobo", ActorKind.PERGURUAN_TINGGI),
    ("Kelompok Tani Kentang Ngudi Makmur Patakbanteng", ActorKind.KELOMPOK_TANI),
    ("Masyarakat Adat Rambut Gimbal Dataran Tinggi Dieng", ActorKind.MASYARAKAT_ADAT),
    ("Majelis Taklim Al-Ikhlas Desa Jojogan", ActorKind.ORGANISASI_KEAGAMAAN),
    ("Tim Penggerak PKK Kecamatan Kejajar", ActorKind.ORGANISASI_PEREMPUAN),
    ("Karang Taruna Tunas Muda Sembungan Bersatu", ActorKind.ORGANISASI_KEPEMUDAAN),
    ("BUM Desa Bersama Dieng Lestari Sejahtera", ActorKind.BUM_DESA_BERSAMA),
    ("KOPERASI SIMPAN PINJAM SIKUNANG MANDIRI", ActorKind.KOPERASI),
    ("CV Carica dan Purwaceng Dieng Sari Rasa", ActorKind.SWASTA),
    ("Balai Pengelolaan Daerah Aliran Sungai Serayu Opak Progo", ActorKind.INSTANSI_PUSAT),
    ("Lembaga Pendamping Desa Mandiri Karesidenan Kedu", ActorKind.LSM),
    ("Gabungan Kelompok Tani Tambi Makmur Jaya", ActorKind.KELOMPOK_TANI),
    ("Kelompok Sadar Wisata Bukit Sikunir Sembungan", ActorKind.ORMAS),
    ("PT Wisata Alam Dieng Plateau Nusantara", ActorKind.SWASTA),
    (HOSTILE, ActorKind.KOPERASI),
]


# --- reading the SVG back ------------------------------------------------------------------

def _root(svg: Markup) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - our own output; raises unless well-formed


def _labels(svg: Markup, kinds: tuple[str, ...] = ("label",)
            ) -> list[tuple[str, float, float, float, str, bool]]:
    """The names of nodes (``label``), or also the group titles (``heading``)."""
    return [(t.text or "", float(t.get("x")), float(t.get("y")), float(t.get("font-size")),
             t.get("text-anchor"), t.get("font-weight") == "bold")
            for t in _root(svg).iter(SVG + "text") if t.get("class") in kinds]


def _plain_box(text: str, x: float, y: float, size: float, anchor: str):
    """The box of a label by the rule of thumb: characters x font size x 0.6, from the
    ascent to the descent of the font."""
    w = len(text) * size * 0.6
    x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
    return (x0, y - drawing.ASCENT * size, x0 + w, y + drawing.DESCENT * size)


def _overlapping(boxes):
    return [(a, b) for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2)
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]


def _node_groups(svg: Markup) -> list[ET.Element]:
    nodes = next(g for g in _root(svg).iter(SVG + "g") if g.get("class") == "nodes")
    return list(nodes)


def _tooltip(element: ET.Element) -> str:
    return element.find(SVG + "title").text


def _href(key: str, attrs: dict) -> str | None:
    return None if key.startswith("actor:") and attrs["kind"] == "lsm" else f"/pihak/{key}"


# --- a kecamatan from the database ---------------------------------------------------------

@pytest.fixture
def kecamatan(app):
    """The 15 desa of Kecamatan Kejajar (its 16th village is a kelurahan), 20 third parties
    with long names (one hostile), two desa of Garung outside the scope, one agreement that
    has ended."""
    desa = list(db.session.scalars(
        sa.select(Region.code).where(Region.code.like(KEJAJAR + ".2%")).order_by(Region.code)))
    assert len(desa) == 15
    parties = [third_party(name, kind, KEJAJAR if i % 3 else WONOSOBO)
               for i, (name, kind) in enumerate(LONG_NAMES)]
    garung = list(db.session.scalars(
        sa.select(Region.code).where(Region.code.like(GARUNG + ".2%")).order_by(Region.code)))
    # Desa pairs along the road, a hub (Dieng), third parties with one to three desa.
    for a, b in itertools.pairwise(desa[:12]):
        agreement(a, b, commit=False)
    for i, party in enumerate(parties):
        members = [desa[(i * 5 + k) % 14] for k in range(1 + i % 3)]
        agreement(*members, party, commit=False)
    agreement(DIENG, *parties[:4], commit=False)
    agreement(DIENG, garung[0], commit=False)
    agreement(desa[3], garung[1], state=State.ENDED, commit=False)
    db.session.commit()
    graph = scope_graph(parse_scope(f"kecamatan:{KEJAJAR}"))
    return graph, compute(graph, RULE)


def test_every_node_of_a_kecamatan_is_labelled_and_no_labels_overlap(kecamatan):
    graph, metrics = kecamatan
    assert 36 <= graph.number_of_nodes() <= drawing.LABEL_ALL_MAX_NODES
    svg = drawing.draw(graph, metrics, title="Jaringan kerja sama Kecamatan Kejajar",
                       href=_href)
    labels = _labels(svg)
    assert len(labels) == graph.number_of_nodes()
    shown = sorted(text for text, *_rest in labels)
    assert shown == sorted(drawing._cut(graph.nodes[k]["label"]) for k in graph)
    assert any(text.endswith("\u2026") for text in shown)  # the long names are cut...
    tips = [_tooltip(g) for g in _node_groups(svg)]
    assert any(t.startswith(LONG_NAMES[0][0]) for t in tips)  # ...not in the tooltips
    # No two label boxes intersect, by the rule of thumb and by the drawing's own estimate
    # (wider for capitals).
    plain = [_plain_box(text, x, y, size, anchor) for text, x, y, size, anchor, _b in labels]
    assert _overlapping(plain) == []
    own = [drawing.label_box(x, y, text, size, anchor, bold=bold)
           for text, x, y, size, anchor, bold in _labels(svg, ("label", "heading"))]
    assert _overlapping(own) == []
    # Every label inside the drawing, whose height grew to hold them.
    _x, _y, width, height = map(float, _root(svg).get("viewBox").split())
    assert all(b[0] >= 0 and b[2] <= width and b[1] >= 0 and b[3] <= height for b in own)


def test_nodes_link_to_their_pages_and_carry_tooltips(kecamatan):
    graph, metrics = kecamatan
    svg = drawing.draw(graph, metrics, title="Kejajar", href=_href)
    groups = _node_groups(svg)
    assert len(groups) == graph.number_of_nodes()
    expected = {_href(k, graph.nodes[k]) for k in graph} - {None}
    links = [g.get("href") for g in groups if g.tag == SVG + "a"]
    assert sorted(links) == sorted(expected)
    unlinked = [g for g in groups if g.tag == SVG + "g"]
    assert len(unlinked) == sum(1 for k in graph if _href(k, graph.nodes[k]) is None) == 2
    dieng = next(g for g in groups if g.get("href") == f"/pihak/desa:{DIENG}")
    degree = metrics.nodes[f"desa:{DIENG}"].degree
    assert _tooltip(dieng) == f"Desa Dieng \u2013 Desa / Desa Adat \u2013 {degree} mitra"
    outside = [_tooltip(g) for g in groups if "di luar cakupan" in _tooltip(g)]
    assert len(outside) == sum(1 for k in graph if not graph.nodes[k]["inside"]) >= 2
    # A click on a label opens the same page, without a second stop for the keyboard.
    label_links = [a for a in _root(svg).iter(SVG + "a") if a.get("tabindex") == "-1"]
    assert {a.get("href") for a in label_links} == expected


def test_hostile_names_are_escaped(kecamatan):
    graph, metrics = kecamatan
    svg = drawing.draw(graph, metrics, title=HOSTILE, href=_href)
    text = str(svg)
    assert "<script" not in text and HOSTILE not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;Koperasi&#34;" in text
    assert "style=" not in text and "foreignObject" not in text and "var(--" not in text
    assert _root(svg).find(SVG + "title").text == HOSTILE  # parsed back: the whole name
    assert any(HOSTILE in _tooltip(g) for g in _node_groups(svg))


def test_the_svg_describes_itself_and_scales(kecamatan):
    graph, metrics = kecamatan
    svg = drawing.draw(graph, metrics, title="Kejajar", href=_href)
    root = _root(svg)
    assert root.get("role") == "img" and root.get("width") == "100%"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(SVG + "title").get("id") == title_id
    desc = root.find(SVG + "desc")
    assert desc.get("id") == desc_id
    assert f"{graph.number_of_nodes()} pihak" in desc.text and "Desa Dieng" in desc.text
    assert root.get("data-pan-zoom") == "" and root.get("data-label-zoom-in") == "Perbesar"
    legend = " ".join(t.text for g in root.iter(SVG + "g") if g.get("class") == "legend"
                      for t in g.iter(SVG + "text"))
    for words in ("Desa", "Dunia usaha", "Pemerintah", "Masyarakat sipil",
                  "Kelompok masyarakat", "Di luar cakupan", "Kerja sama berlaku"):
        assert words in legend
    assert "Sudah berakhir semua" not in legend  # the default filter: active ties only
    printed = drawing.draw(graph, metrics, title="Kejajar", for_print=True)
    root = _root(printed)
    assert root.get("data-pan-zoom") is None and "Liberation Serif" in root.get("font-family")
    assert not [a for a in root.iter(SVG + "a")]  # no href given: no links


def test_styles_of_outside_parties_ended_ties_and_the_centre(app):
    graph = _hand_graph()
    graph.nodes["actor:9"]["inside"] = False
    graph.edges["desa:1", "desa:2"]["active"] = 0
    metrics = compute(graph, RULE)
    svg = drawing.draw(graph, metrics, title="Uji", highlight="desa:1")
    root = _root(svg)
    groups = {_tooltip(g).split(" \u2013 ")[0]: g for g in _node_groups(svg)}
    hollow = next(e for e in groups["Mitra 9"] if e.tag != SVG + "title")
    assert hollow.get("fill") == "#ffffff" and hollow.get("stroke-dasharray")
    solid = next(e for e in groups["Desa Satu"] if e.tag == SVG + "circle"
                 and e.get("fill") != "none")
    assert solid.get("fill") == drawing.COLOURS["desa"]
    ring = [e for e in groups["Desa Satu"] if e.get("fill") == "none"]
    assert ring, "the centre is ringed"
    ties = [line for g in root.iter(SVG + "g") if g.get("class") == "ties"
            for line in g]
    dashed = [t for t in ties if t.get("stroke-dasharray")]
    assert len(dashed) == 1 and dashed[0].get("stroke") in (drawing.ENDED, drawing.INK)
    bold = [t for t in _labels(svg) if t[5]]
    assert [t[0] for t in bold] == ["Desa Satu"]
    assert "Sudah berakhir semua" in str(svg)


# --- built by hand: determinism, empty graphs, a kabupaten ---------------------------------

def _hand_graph(order: int = 1) -> nx.Graph:
    """Four desa and five partners; ``order`` -1 adds everything the other way round."""
    nodes = [("desa:1", "Desa Satu", "desa"), ("desa:2", "Desa Dua", "desa"),
             ("desa:3", "Desa Tiga", "desa"), ("desa:4", "Desa Empat", "desa")]
    nodes += [(f"actor:{i}", f"Mitra {i}", kind) for i, kind in
              zip(range(5, 10), ("koperasi", "pemda", "lsm", "kelompok_tani", "swasta"),
                  strict=True)]
    edges = [("desa:1", "desa:2", 2), ("desa:1", "actor:5", 1), ("desa:1", "actor:6", 1),
             ("desa:2", "actor:7", 1), ("desa:2", "desa:3", 1), ("actor:8", "desa:3", 3),
             ("desa:1", "actor:9", 1)]
    graph = nx.Graph(scope="kecamatan:99.01.01")
    for key, label, kind in nodes[::order]:
        graph.add_node(key, label=label, kind=kind, category=ActorKind(kind).category.value,
                       actor_id=0 if kind == "desa" else int(key[6:]), region="99.01.01",
                       kecamatan="99.01.01", kabupaten="99.01", inside=True)
    for a, b, w in edges[::order]:
        graph.add_edge(*((a, b)[::order]), weight=w, active=w, agreements="1", kinds="",
                       bidang="", states="active", start="", end="")
    return graph


def test_the_same_data_gives_the_same_svg(app):
    one, other = _hand_graph(), _hand_graph(-1)
    assert list(one.nodes) != list(other.nodes)
    first = drawing.draw(one, compute(one, RULE), title="Uji", href=_href)
    assert first == drawing.draw(one, compute(one, RULE), title="Uji", href=_href)
    assert first == drawing.draw(other, compute(other, RULE), title="Uji", href=_href)
    big, metrics = _kabupaten(300)
    assert drawing.draw(big, metrics, title="Besar") == drawing.draw(big, metrics,
                                                                     title="Besar")


def test_a_scope_without_agreements_gets_a_sentence(app):
    empty = nx.Graph()
    text = drawing.draw(empty, compute(empty, RULE), title="Kosong")
    assert isinstance(text, Markup)
    assert text == '<p class="text-muted">Belum ada kerja sama dalam cakupan ini.</p>'
    alone = _hand_graph()
    alone.remove_edges_from(list(alone.edges))  # desa, but no agreement (filtered away)
    assert drawing.draw(alone, compute(alone, RULE), title="Sepi") == text


def _kabupaten(size: int, seed: int = 7) -> tuple[nx.Graph, object]:
    """A kabupaten of ``size`` nodes: 12 kecamatan of desa (a third without agreements),
    third parties of the kabupaten, partners outside it."""
    rng = random.Random(seed)  # noqa: S311 - test data
    graph = nx.Graph(scope="kabupaten:99.01",
                     region_names={f"99.01.{k:02d}": f"Kec {k}" for k in range(1, 13)})
    desa = []
    for i in range(size - size // 6):
        code = f"99.01.{i % 12 + 1:02d}.{2001 + i // 12}"
        graph.add_node(f"desa:{code}", label=f"Desa Contoh {i}", kind="desa",
                       category="desa", actor_id=0, region=code, kecamatan=code[:8],
                       kabupaten="99.01", inside=True)
        desa.append(f"desa:{code}")
    kinds = ("koperasi", "dinas", "lsm", "kelompok_tani", "swasta")
    for j in range(size // 6):
        inside = j % 3 != 0
        region = "99.01" if inside else "33.07"
        graph.add_node(f"actor:{j}", label=f"Mitra Dengan Nama Panjang {j}",
                       kind=kinds[j % 5], category=ActorKind(kinds[j % 5]).category.value,
                       actor_id=j + 1, region=region, kecamatan="", kabupaten=region,
                       inside=inside)
    active = desa[: len(desa) * 2 // 3]
    for _ in range(size):
        a = rng.choice(active)
        b = rng.choice(active[:40] + [f"actor:{j}" for j in range(size // 6)])
        if a != b:
            graph.add_edge(a, b, weight=1, active=rng.choice((0, 1, 1)), agreements="1",
                           kinds="", bidang="", states="", start="", end="")
    return graph, compute(graph, RULE)


def test_a_kabupaten_labels_its_main_nodes_and_gives_every_node_a_tooltip(app):
    graph, metrics = _kabupaten(420)
    assert graph.number_of_nodes() > drawing.SPRING_MAX_NODES
    svg = drawing.draw(graph, metrics, title="Kabupaten", href=_href)
    groups = _node_groups(svg)
    assert len(groups) == graph.number_of_nodes()
    names = {_tooltip(g).split(" \u2013 ")[0] for g in groups}
    assert names == {graph.nodes[k]["label"] for k in graph}
    labels = _labels(svg)
    assert 10 <= len(labels) < graph.number_of_nodes() // 4
    own = [drawing.label_box(x, y, text, size, anchor, bold=bold)
           for text, x, y, size, anchor, bold in _labels(svg, ("label", "heading"))]
    assert _overlapping(own) == []
    # The best connected desa is named, without "Desa " (the box and colour say it).
    top = max((k for k in graph if k.startswith("desa:")),
              key=lambda k: (metrics.nodes[k].degree, metrics.nodes[k].betweenness))
    assert graph.nodes[top]["label"][5:] in {t[0] for t in labels}
    # One box per kecamatan, titled with its name, and one for the kabupaten's own parties.
    headers = sorted(t[0] for t in _labels(svg, ("heading",)))
    assert len(headers) == 13
    assert headers[0] == "Kec 1 (30)" and headers[-1].startswith("Tingkat kabupaten (")


def test_a_kabupaten_is_drawn_quickly(app):
    import time

    graph, metrics = _kabupaten(600)
    drawing.draw(graph, metrics, title="Pemanasan")
    started = time.perf_counter()
    drawing.draw(graph, metrics, title="Besar", href=_href)
    # About 0.15 s on a developer's machine (docs: < 0.3 s); generous for a busy CI runner.
    assert time.perf_counter() - started < 2.0


def test_weasyprint_prints_the_drawing(app):
    from weasyprint import HTML

    graph = _hand_graph()
    svg = drawing.draw(graph, compute(graph, RULE), title="Uji", for_print=True)
    pdf = HTML(string=f"<html><body><div>{svg}</div></body></html>").write_pdf()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for name in ("Desa Satu", "Mitra 8", "Kerja sama berlaku"):
        assert name in text
