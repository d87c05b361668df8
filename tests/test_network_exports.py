"""Network exports for analysts: GraphML that networkx reads back to the same graph, GEXF for
Gephi, CSV node and edge lists guarded against formula injection, and the JSON of the API,
on hand-built networks whose figures are known."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET  # noqa: S405  (parsing our own output)

import networkx as nx
import pytest

from coopdesa.actors.models import ActorKind
from coopdesa.extensions import db
from coopdesa.network import exports
from coopdesa.network import operations as ops
from coopdesa.network.graph import NetworkFilters, parse_scope
from coopdesa.network.stages import Stage
from coopdesa.proposals.states import State
from coopdesa.publication.models import PublicationWithholding
from tests.conftest import (
    DIENG,
    DIENG_KULON,
    KEJAJAR,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
    WONOSOBO,
)
from tests.network_helpers import agreement, third_party

KEY = "desa:{}".format
HOSTILE = "=HYPERLINK(\"http://x\",\"<script>alert('x')</script> & \"\"co\"\"\")"


@pytest.fixture
def hub(app):
    """Dieng is the hub: two desa, a business of the kabupaten with a hostile name, a desa
    of Banjarnegara; an ended tie, a withheld agreement and a draft that must not show."""
    pt = third_party(HOSTILE, ActorKind.SWASTA, WONOSOBO)
    agreement(DIENG, SEMBUNGAN, bidang=("usaha_bersama",))
    agreement(DIENG, PATAKBANTENG, bidang=("kemasyarakatan",))
    agreement(DIENG, pt, bidang=("usaha_bersama", "kemasyarakatan"))
    agreement(DIENG, DIENG_KULON, bidang=("keamanan",), start=dt.date(2027, 1, 1))
    agreement(SEMBUNGAN, PATAKBANTENG, state=State.ENDED, start=dt.date(2020, 1, 1),
              end=dt.date(2021, 12, 31))
    withheld = agreement(TIENG, SEMBUNGAN)
    db.session.add(PublicationWithholding(proposal_id=withheld.id, legal_basis="UU 14/2008",
                                          reason="uji"))
    agreement(DIENG, TIENG, state=State.DRAFT)
    db.session.commit()
    return {"pt": f"actor:{pt.id}"}


def _net(key: str, **filters):
    return ops.live_network(parse_scope(key), NetworkFilters.parse(filters))


def _plain(graph: nx.Graph) -> nx.Graph:
    """The graph as read_graphml gives it back, minus the defaults it adds."""
    graph.graph.pop("node_default", None)
    graph.graph.pop("edge_default", None)
    return graph


# --- GraphML and GEXF -------------------------------------------------------------------

def test_graphml_reloads_in_networkx_to_the_same_graph(hub):
    net = _net(f"kecamatan:{KEJAJAR}", state="all")
    data = exports.graphml_bytes(net.graph, net.metrics, net.rule, filters=net.filters,
                                 computed_at=net.computed_at)
    assert data.startswith(b"<?xml") and b"encoding='utf-8'" in data[:60].lower().replace(
        b'"', b"'")
    expected = exports.annotated(net.graph, net.metrics, net.rule, filters=net.filters,
                                 computed_at=net.computed_at)
    reloaded = _plain(nx.read_graphml(io.BytesIO(data)))
    assert nx.utils.graphs_equal(reloaded, expected)
    # graphs_equal compares nodes, edges, attributes and graph attributes; spell out a few.
    assert set(reloaded) == set(net.graph) and reloaded.number_of_nodes() == 17
    assert {frozenset(e) for e in reloaded.edges} == {frozenset(e) for e in net.graph.edges}
    for a, b, attrs in net.graph.edges(data=True):
        assert reloaded.edges[a, b]["weight"] == attrs["weight"]
        assert reloaded.edges[a, b]["agreements"] == attrs["agreements"]
    dieng = reloaded.nodes[KEY(DIENG)]
    assert dieng["degree"] == 4 and dieng["weighted_degree"] == 4
    assert dieng["stage"] == "networking" and dieng["inside"] is True
    assert dieng["partners_desa"] == 3 and dieng["partners_usaha"] == 1
    assert dieng["outside_kecamatan"] == 2 and dieng["outside_kabupaten"] == 1
    assert "jejaring" in dieng["stage_reason"]
    assert reloaded.nodes[hub["pt"]]["label"] == HOSTILE
    assert reloaded.nodes[hub["pt"]]["stage"] == "" and \
        reloaded.nodes[hub["pt"]]["community"] >= 1
    assert reloaded.nodes[KEY("33.07.13.2001")]["community"] == -1  # isolated
    assert reloaded.graph["scope"] == f"kecamatan:{KEJAJAR}"
    assert reloaded.graph["filters"] == "state=all"
    assert reloaded.graph["betweenness_exact"] is True
    assert dt.datetime.fromisoformat(reloaded.graph["computed_at"]).tzinfo is not None


def test_annotated_values_are_types_graphml_and_gexf_accept(hub):
    net = _net(f"kabupaten:{WONOSOBO}")
    graph = exports.annotated(net.graph, net.metrics, net.rule)
    allowed = (str, int, float, bool)
    for _key, attrs in graph.nodes(data=True):
        assert all(isinstance(v, allowed) for v in attrs.values()), attrs
        assert set(exports.NODE_COLUMNS[1:]) <= set(attrs)
    for _a, _b, attrs in graph.edges(data=True):
        assert all(isinstance(v, allowed) for v in attrs.values()), attrs
    assert all(isinstance(v, allowed) for v in graph.graph.values())
    assert graph.graph["filters"] == ""  # not given: unknown, not invented
    # the source graph is left as it was
    assert "degree" not in net.graph.nodes[KEY(DIENG)]


def test_gexf_parses_for_gephi_and_networkx(hub):
    net = _net(f"kecamatan:{KEJAJAR}")
    data = exports.gexf_bytes(net.graph, net.metrics, net.rule, filters=net.filters)
    root = ET.fromstring(data)  # noqa: S314  (well-formed XML, our own output)
    ns = {"g": "http://www.gexf.net/1.2draft"}
    assert root.find("g:graph", ns).get("mode") == "static"  # no dynamic start/end
    assert f"scope=kecamatan:{KEJAJAR}" in root.find("g:meta/g:description", ns).text
    reloaded = nx.read_gexf(io.BytesIO(data))
    assert set(reloaded) == set(net.graph)
    assert {frozenset(e) for e in reloaded.edges} == {frozenset(e) for e in net.graph.edges}
    assert reloaded.nodes[hub["pt"]]["label"] == HOSTILE
    assert reloaded.nodes[KEY(DIENG)]["betweenness"] == pytest.approx(
        net.metrics.nodes[KEY(DIENG)].betweenness)
    assert reloaded.nodes[KEY(DIENG)]["stage"] == "networking"
    tie = reloaded.edges[KEY(DIENG), KEY(SEMBUNGAN)]
    assert tie["weight"] == 1 and tie["start_date"] == "2026-01-01"
    assert tie["end_date"] == "2028-12-31"


def test_characters_xml_cannot_hold_are_dropped_not_fatal(app):
    actor = third_party("CV Bel\x07 \x1bRusak\ufffe", ActorKind.SWASTA, KEJAJAR)
    agreement(DIENG, actor)
    net = _net(f"desa:{DIENG}")
    for data, read in ((exports.graphml_bytes(net.graph, net.metrics, net.rule),
                        nx.read_graphml),
                       (exports.gexf_bytes(net.graph, net.metrics, net.rule), nx.read_gexf)):
        assert read(io.BytesIO(data)).nodes[f"actor:{actor.id}"]["label"] == "CV Bel Rusak"


# --- CSV ----------------------------------------------------------------------------------

def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_nodes_csv_columns_rows_and_formula_guard(hub):
    net = _net(f"kecamatan:{KEJAJAR}")
    text = exports.nodes_csv(net.graph, net.metrics, net.rule)
    header = next(csv.reader(io.StringIO(text)))
    assert header == ["id", "label", "kind", "category", "actor_id", "region", "kecamatan",
                      "kabupaten", "inside", "degree", "weighted_degree", "betweenness",
                      "community", "stage", "stage_reason", "partners_desa",
                      "partners_usaha", "partners_pemerintah", "partners_masyarakat_sipil",
                      "partners_kelompok_masyarakat", "outside_kecamatan",
                      "outside_kabupaten"]
    rows = {r["id"]: r for r in _rows(text)}
    assert len(rows) == net.graph.number_of_nodes() == 17
    dieng = rows[KEY(DIENG)]
    assert (dieng["degree"], dieng["stage"], dieng["inside"]) == ("4", "networking", "true")
    assert dieng["kecamatan"] == KEJAJAR and dieng["kabupaten"] == WONOSOBO
    assert float(dieng["betweenness"]) == pytest.approx(net.metrics.nodes[KEY(DIENG)]
                                                        .betweenness)
    # A label a spreadsheet would run as a formula is kept as text, whole.
    assert rows[hub["pt"]]["label"] == "'" + HOSTILE
    assert rows[hub["pt"]]["stage"] == "" and rows[hub["pt"]]["inside"] == "false"
    assert rows[KEY(DIENG_KULON)]["inside"] == "false"
    assert rows[KEY(PATAKBANTENG)]["stage"] == "bridging"


@pytest.mark.parametrize("name", ["=1+1", "+62 812", "-5", "@SUM(A1)", "\tTab", "\rCR"])
def test_every_formula_start_is_guarded(app, name):
    actor = third_party(name, ActorKind.LSM, KEJAJAR)
    agreement(DIENG, actor)
    net = _net(f"desa:{DIENG}")
    rows = {r["id"]: r for r in _rows(exports.nodes_csv(net.graph, net.metrics, net.rule))}
    assert rows[f"actor:{actor.id}"]["label"] == "'" + name
    assert rows[KEY(DIENG)]["label"] == "Desa Dieng"  # plain text is left alone


def test_edges_csv(hub):
    net = _net(f"kecamatan:{KEJAJAR}", state="all")
    text = exports.edges_csv(net.graph)
    assert text.splitlines()[0] == ("source,target,weight,active,agreements,kinds,bidang,"
                                    "states,start,end")
    rows = _rows(text)
    assert len(rows) == net.graph.number_of_edges() == 5
    assert all(r["source"] < r["target"] for r in rows)
    by_pair = {(r["source"], r["target"]): r for r in rows}
    ended = by_pair[(KEY(SEMBUNGAN), KEY(PATAKBANTENG))]
    assert (ended["weight"], ended["active"], ended["states"]) == ("1", "0", "ended")
    assert (ended["start"], ended["end"]) == ("2020-01-01", "2021-12-31")
    mixed = by_pair[(hub["pt"], KEY(DIENG))]
    assert mixed["bidang"] == "kemasyarakatan usaha_bersama"
    assert mixed["kinds"] == "pihak_ketiga"


# --- JSON ---------------------------------------------------------------------------------

def test_json_of_a_path_by_hand(app):
    """Sembungan - Dieng - Patakbanteng: Dieng lies on the only path between the other two,
    so its normalized betweenness is 1 and theirs 0."""
    agreement(DIENG, SEMBUNGAN)
    agreement(DIENG, PATAKBANTENG)
    net = _net(f"desa:{DIENG}")
    body = exports.network_json(net.scope, net.filters, net.graph, net.metrics, net.rule,
                                computed_at=net.computed_at)
    assert body["scope"] == {"key": f"desa:{DIENG}", "kind": "desa", "code": DIENG,
                             "label": "Desa Dieng"}
    assert body["filters"] == {"state": "active", "bidang": None, "year": None}
    summary = body["summary"]
    assert (summary["nodes"], summary["edges"], summary["agreements"]) == (3, 2, 2)
    assert summary["density"] == pytest.approx(2 / 3, abs=1e-6)
    assert summary["isolated"] == [] and summary["communities"] == 1
    assert summary["stage_counts"] == {"bonding": 0, "bridging": 1, "networking": 0}
    nodes = {n["id"]: n for n in body["nodes"]}
    b, a, c = nodes[KEY(DIENG)], nodes[KEY(SEMBUNGAN)], nodes[KEY(PATAKBANTENG)]
    assert (b["metrics"]["degree"], b["metrics"]["betweenness"]) == (2, 1.0)
    assert (a["metrics"]["degree"], a["metrics"]["betweenness"]) == (1, 0.0)
    assert c["metrics"]["betweenness"] == 0.0
    assert b["metrics"]["partners"] == {"desa": 2, "usaha": 0, "pemerintah": 0,
                                        "masyarakat_sipil": 0, "kelompok_masyarakat": 0}
    # Two desa partners of one kind, none beyond the kecamatan: bridging, and why.
    assert b["stage"] == "bridging" and b["inside"] is True
    assert "2 mitra aktif" in b["stage_reason"]
    # The partners lie outside a desa scope: their stage is not this answer's to give.
    assert a["stage"] is None and a["stage_reason"] is None and a["inside"] is False
    assert isinstance(b["actor_id"], int) and b["kecamatan"] == KEJAJAR
    edges = {(e["source"], e["target"]): e for e in body["edges"]}
    edge = edges[(KEY(SEMBUNGAN), KEY(DIENG))]  # source < target
    assert edge["weight"] == 1 and edge["active"] == 1 and len(edge["agreements"]) == 1
    assert edge["kinds"] == ["antar_desa"] and edge["states"] == ["active"]
    assert (edge["start"], edge["end"]) == ("2026-01-01", "2028-12-31")


def test_json_filters_and_stages_that_do_not_move(hub):
    base = _net(f"kecamatan:{KEJAJAR}")
    body = exports.network_json(base.scope, base.filters, base.graph, base.metrics,
                                base.rule)
    pairs = {frozenset((e["source"], e["target"])) for e in body["edges"]}
    assert frozenset((KEY(SEMBUNGAN), KEY(PATAKBANTENG))) not in pairs  # ended
    assert frozenset((KEY(TIENG), KEY(SEMBUNGAN))) not in pairs          # withheld
    assert frozenset((KEY(DIENG), KEY(TIENG))) not in pairs              # draft
    assert KEY(TIENG) in body["summary"]["isolated"]
    assert len(pairs) == 4

    every = _net(f"kecamatan:{KEJAJAR}", state="all")
    assert every.graph.has_edge(KEY(SEMBUNGAN), KEY(PATAKBANTENG))
    assert not every.graph.has_edge(KEY(TIENG), KEY(SEMBUNGAN))

    security = _net(f"kecamatan:{KEJAJAR}", bidang="keamanan")
    body = exports.network_json(security.scope, security.filters, security.graph,
                                security.metrics, security.rule)
    assert [(e["source"], e["target"]) for e in body["edges"]] == [(KEY(DIENG_KULON),
                                                                    KEY(DIENG))]
    assert body["filters"]["bidang"] == "keamanan"
    # The stage comes from the agreements in force, whatever the filter shows.
    assert {n["id"]: n["stage"] for n in body["nodes"]}[KEY(DIENG)] == "networking"
    assert body["summary"]["stage_counts"]["networking"] == 1

    past = _net(f"kecamatan:{KEJAJAR}", state="all", year="2021")
    assert {frozenset(e) for e in past.graph.edges} == {
        frozenset((KEY(SEMBUNGAN), KEY(PATAKBANTENG)))}
    current = _net(f"kecamatan:{KEJAJAR}", year="2026")
    assert not current.graph.has_edge(KEY(DIENG), KEY(DIENG_KULON))  # starts in 2027
    assert current.graph.has_edge(KEY(DIENG), KEY(SEMBUNGAN))


def test_stored_summary_of_a_province(hub):
    body = exports.stored_summary(parse_scope("provinsi:33"))
    rows = {r["code"]: r for r in body["summary"]["kabupaten"]}
    assert len(rows) == 35  # every kabupaten/kota of Jawa Tengah
    wonosobo = rows[WONOSOBO]
    # Two stale kabupaten (Wonosobo, Banjarnegara) are refreshed first, as on the page.
    assert wonosobo["stale"] is False and wonosobo["computed_at"]
    assert wonosobo["name"] == "Kabupaten Wonosobo"
    assert (wonosobo["agreements"], wonosobo["edges"]) == (4, 4)
    assert wonosobo["stage_counts"]["networking"] == 1
    assert rows["33.04"]["stale"] is False and rows["33.04"]["stage_counts"]["bridging"] == 1
    # Kota Semarang has no agreement and was never computed: its kelurahan are no desa.
    assert rows["33.74"]["computed_at"] is None and rows["33.74"]["villages"] == 0
    assert rows["33.74"]["stale"] is False
    total = body["summary"]["stage_counts"]
    assert total == {s.value: sum(r["stage_counts"][s.value] for r in rows.values())
                     for s in Stage}
    assert total["bonding"] == sum(r["isolated"] for r in rows.values()) > 0
    assert body["scope"]["kind"] == "provinsi"


def test_stored_summary_of_the_country_is_read_as_stored(hub):
    body = exports.stored_summary(parse_scope("nasional"))
    rows = {r["code"]: r for r in body["summary"]["kabupaten"]}
    assert len(rows) > 500
    # Never computed, yet with agreements: stale, and counted from the register.
    assert rows[WONOSOBO]["stale"] is True and rows[WONOSOBO]["computed_at"] is None
    assert rows[WONOSOBO]["villages"] == rows[WONOSOBO]["stage_counts"]["bonding"] > 200
    assert body["summary"]["stage_counts"]["networking"] == 0
    assert exports.stored_summary(parse_scope("provinsi:33"))["summary"]["stage_counts"][
        "networking"] == 1
    db.session.commit()
    body = exports.stored_summary(parse_scope("nasional"))
    row = {r["code"]: r for r in body["summary"]["kabupaten"]}[WONOSOBO]
    assert row["stale"] is False and row["stage_counts"]["networking"] == 1
    with pytest.raises(ValueError, match="live"):
        exports.stored_summary(parse_scope(f"kecamatan:{KEJAJAR}"))


def test_file_names(app):
    assert exports.filename(parse_scope(f"kecamatan:{KEJAJAR}"), "graphml") == \
        "jaringan-kecamatan-33.07.13.graphml"
    assert exports.filename(parse_scope(f"desa:{DIENG}:2"), "nodes.csv") == \
        "jaringan-desa-33.07.13.2013-2.nodes.csv"
