"""The network for analysts: GraphML and GEXF (Gephi, networkx, igraph, R), CSV node and
edge lists, and the JSON of ``/api/v1/network``.

Everything here works on a graph of ``graph.scope_graph`` (or ``operations.live_network``)
and its ``metrics.compute`` result, except :func:`stored_summary`, which reads the results
stored per kabupaten/kota for a province or the country. Actor names are user input: the
CSV cells are guarded against formula injection (OWASP "CSV injection") and the XML
formats drop the few characters XML 1.0 cannot carry, so a hostile name stays data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any
from urllib.parse import urlencode
from xml.etree.ElementTree import SubElement

import networkx as nx
import sqlalchemy as sa

from coopdesa.actors.models import ActorCategory
from coopdesa.extensions import db
from coopdesa.network import store
from coopdesa.network.graph import VILLAGE_KINDS, NetworkFilters, Scope, ScopeKind
from coopdesa.network.metrics import NetworkMetrics
from coopdesa.network.models import NetworkResult
from coopdesa.network.stages import Stage, StageRule
from coopdesa.regions.models import Region
from coopdesa.regions.operations import code_within

CATEGORIES = [c.value for c in ActorCategory]
NODE_COLUMNS = [
    "id", "label", "kind", "category", "actor_id", "region", "kecamatan", "kabupaten",
    "inside", "degree", "weighted_degree", "betweenness", "community", "stage",
    "stage_reason", *(f"partners_{c}" for c in CATEGORIES), "outside_kecamatan",
    "outside_kabupaten",
]
EDGE_COLUMNS = ["source", "target", "weight", "active", "agreements", "kinds", "bidang",
                "states", "start", "end"]
#: Download formats: content type and file suffix.
FORMATS = {
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
    "nodes.csv": ("text/csv; charset=utf-8", "nodes.csv"),
    "edges.csv": ("text/csv; charset=utf-8", "edges.csv"),
}

# Characters XML 1.0 cannot hold at all (lxml refuses them, ElementTree writes a file no
# reader accepts): C0 controls other than tab, LF and CR, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _xml_safe(value: Any) -> Any:
    return _NOT_XML.sub("", value) if isinstance(value, str) else value


def _cell(value: Any) -> Any:
    """A CSV cell: text that a spreadsheet would run as a formula gets a leading
    apostrophe; booleans are written true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def filters_text(filters: NetworkFilters | None) -> str:
    """The filters as a query string (``state=active&bidang=keamanan``); empty if unknown."""
    return urlencode(filters.to_args()) if filters is not None else ""


def _moment(computed_at: dt.datetime | None) -> str:
    moment = computed_at or dt.datetime.now(dt.UTC)
    return moment.isoformat(timespec="seconds")


def annotated(graph: nx.Graph, metrics: NetworkMetrics, rule: StageRule, *,
              filters: NetworkFilters | None = None,
              computed_at: dt.datetime | None = None) -> nx.Graph:
    """A copy of ``graph`` with the metrics of each node as attributes (degree,
    weighted_degree, betweenness, community (-1: none), stage ("": none), stage_reason,
    partners_<category>, outside_kecamatan, outside_kabupaten) and the scope, filters,
    computed_at (when the stored stages were computed, else now), betweenness_exact and
    stage_rule as graph attributes. Every value is a str, int, float or bool, so GraphML
    and GEXF carry it unchanged."""
    out = nx.Graph()
    out.graph.update({
        "scope": str(graph.graph.get("scope", "")),
        "scope_label": _xml_safe(str(graph.graph.get("scope_label", ""))),
        "filters": filters_text(filters),
        "computed_at": _moment(computed_at),
        "betweenness_exact": bool(metrics.betweenness_exact),
        "stage_rule": json.dumps(rule.to_dict(), sort_keys=True),
    })
    for key, attrs in graph.nodes(data=True):
        m = metrics.nodes[key]
        data = {name: _xml_safe(value) for name, value in attrs.items()}
        data.update(
            degree=int(m.degree), weighted_degree=int(m.weighted_degree),
            betweenness=float(m.betweenness),
            community=int(m.community) if m.community is not None else -1,
            stage=m.stage.value if m.stage is not None else "",
            stage_reason=m.reason(rule) if m.stage is not None else "",
        )
        for category in CATEGORIES:
            data[f"partners_{category}"] = int(m.categories.get(category, 0))
        data.update(outside_kecamatan=int(m.outside_kecamatan),
                    outside_kabupaten=int(m.outside_kabupaten))
        out.add_node(key, **data)
    for a, b, attrs in graph.edges(data=True):
        out.add_edge(a, b, **{name: _xml_safe(value) for name, value in attrs.items()})
    return out


def graphml_bytes(graph: nx.Graph, metrics: NetworkMetrics, rule: StageRule, *,
                  filters: NetworkFilters | None = None,
                  computed_at: dt.datetime | None = None) -> bytes:
    """The annotated graph as GraphML (UTF-8); ``nx.read_graphml`` gives it back."""
    buffer = io.BytesIO()
    nx.write_graphml(annotated(graph, metrics, rule, filters=filters,
                               computed_at=computed_at), buffer, encoding="utf-8")
    return buffer.getvalue()


def gexf_bytes(graph: nx.Graph, metrics: NetworkMetrics, rule: StageRule, *,
               filters: NetworkFilters | None = None,
               computed_at: dt.datetime | None = None) -> bytes:
    """The annotated graph as GEXF 1.2 (UTF-8) for Gephi. GEXF reserves ``start`` and
    ``end`` for dynamic graphs, so an edge's period is ``start_date`` / ``end_date`` here;
    the graph attributes go into the meta description, which GEXF has room for."""
    g = annotated(graph, metrics, rule, filters=filters, computed_at=computed_at)
    for _a, _b, attrs in g.edges(data=True):
        attrs["start_date"] = attrs.pop("start", "")
        attrs["end_date"] = attrs.pop("end", "")
    meta = dict(g.graph)
    g.graph = {"name": meta["scope"]}
    writer = nx.readwrite.gexf.GEXFWriter(encoding="utf-8")
    writer.add_graph(g)
    description = SubElement(writer.xml.find("meta"), "description")
    description.text = "; ".join(f"{k}={v}" for k, v in meta.items())
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _csv(header: list[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def nodes_csv(graph: nx.Graph, metrics: NetworkMetrics, rule: StageRule) -> str:
    """One row per actor with the columns of ``NODE_COLUMNS`` (community -1 and stage
    empty where there is none), as in the GraphML."""
    g = annotated(graph, metrics, rule)
    return _csv(NODE_COLUMNS, ([key, *(attrs[c] for c in NODE_COLUMNS[1:])]
                               for key, attrs in g.nodes(data=True)))


def _ordered_edges(graph: nx.Graph):
    for a, b, attrs in graph.edges(data=True):
        yield (a, b, attrs) if a <= b else (b, a, attrs)


def edges_csv(graph: nx.Graph) -> str:
    """One row per tie with the columns of ``EDGE_COLUMNS``; ``agreements``, ``kinds``,
    ``bidang`` and ``states`` are space-separated lists."""
    rows = sorted(_ordered_edges(graph), key=lambda e: (e[0], e[1]))
    return _csv(EDGE_COLUMNS, ([a, b, *(_xml_safe(attrs[c]) for c in EDGE_COLUMNS[2:])]
                               for a, b, attrs in rows))


def scope_json(scope: Scope) -> dict[str, Any]:
    return {"key": scope.key, "kind": scope.kind.value, "code": scope.code or None,
            "label": scope.label}


def filters_json(filters: NetworkFilters) -> dict[str, Any]:
    return {"state": filters.state.value,
            "bidang": filters.bidang.value if filters.bidang else None,
            "year": filters.year}


def _stage_counts(counts) -> dict[str, int]:
    # Stage is a StrEnum: the stored {"bonding": n} and the computed {Stage: n} both work.
    return {stage.value: int(counts.get(stage) or 0) for stage in Stage}


def network_json(scope: Scope, filters: NetworkFilters, graph: nx.Graph,
                 metrics: NetworkMetrics, rule: StageRule, *,
                 computed_at: dt.datetime | None = None) -> dict[str, Any]:
    """The network of a live scope as the API answers it: scope, filters, summary, nodes
    (with their metrics and stage) and edges (with their agreements)."""
    nodes = []
    for key, attrs in graph.nodes(data=True):
        m = metrics.nodes[key]
        nodes.append({
            "id": key, "label": attrs["label"], "kind": attrs["kind"],
            "category": attrs["category"], "actor_id": attrs["actor_id"] or None,
            "region": attrs["region"] or None, "kecamatan": attrs["kecamatan"] or None,
            "kabupaten": attrs["kabupaten"] or None, "inside": bool(attrs["inside"]),
            "metrics": {
                "degree": m.degree, "weighted_degree": m.weighted_degree,
                "betweenness": m.betweenness, "community": m.community,
                "partners": {c: int(m.categories.get(c, 0)) for c in CATEGORIES},
                "outside_kecamatan": m.outside_kecamatan,
                "outside_kabupaten": m.outside_kabupaten,
            },
            "stage": m.stage.value if m.stage is not None else None,
            "stage_reason": m.reason(rule) if m.stage is not None else None,
        })
    edges = [{
        "source": a, "target": b, "weight": attrs["weight"], "active": attrs["active"],
        "agreements": [int(i) for i in attrs["agreements"].split()],
        "kinds": attrs["kinds"].split(), "bidang": attrs["bidang"].split(),
        "states": attrs["states"].split(), "start": attrs["start"] or None,
        "end": attrs["end"] or None,
    } for a, b, attrs in sorted(_ordered_edges(graph), key=lambda e: (e[0], e[1]))]
    return {
        "scope": scope_json(scope),
        "filters": filters_json(filters),
        "computed_at": computed_at.isoformat() if computed_at else None,
        "stage_rule": rule.to_dict(),
        "summary": {
            "nodes": metrics.node_count, "edges": metrics.edge_count,
            "agreements": metrics.agreement_count, "density": metrics.density,
            "communities": len(metrics.communities), "isolated": list(metrics.isolated),
            "cross_kecamatan": metrics.cross_kecamatan,
            "cross_kabupaten": metrics.cross_kabupaten,
            "betweenness_exact": metrics.betweenness_exact,
            "stage_counts": _stage_counts(metrics.stage_counts),
        },
        "nodes": nodes,
        "edges": edges,
    }


def stored_summary(scope: Scope) -> dict[str, Any]:
    """A province or the country from the results stored per kabupaten/kota (agreements
    in force, no filter): one row per kabupaten/kota, ``stale`` when its agreements changed
    since it was computed, and the stage counts summed. As on the province page, a province
    with at most ``store.REFRESH_ON_READ`` stale kabupaten recomputes them first (flushes;
    the caller commits); the country is read as stored. A kabupaten never computed has no
    agreement (else it would be stale): its desa are counted from the register, every one
    isolated and at bonding, and its ``computed_at`` is null."""
    if scope.kind not in (ScopeKind.PROVINSI, ScopeKind.NASIONAL):
        raise ValueError(f"{scope.key} is computed live (network_json)")
    prefix = scope.code if scope.kind is ScopeKind.PROVINSI else None

    def within(column):
        return code_within(column, prefix) if prefix else sa.true()

    stale = store.stale_codes(prefix)
    if prefix and stale and len(stale) <= store.REFRESH_ON_READ:
        for code in stale:
            store.compute_kabupaten(code)
        stale = []
    stale_set = set(stale)
    names = dict(db.session.execute(
        sa.select(Region.code, Region.name).where(Region.level == 2, within(Region.code))
    ).all())
    results = {r.scope_code: r for r in db.session.scalars(
        sa.select(NetworkResult).where(within(NetworkResult.scope_code)))}
    codes = store.kabupaten_codes(prefix)
    villages: dict[str, int] = {}
    if any(code not in results for code in codes):
        kab = sa.func.substr(Region.code, 1, 5)
        villages = dict(db.session.execute(
            sa.select(kab, sa.func.count()).where(
                Region.level == 4, Region.kind.in_([k.value for k in VILLAGE_KINDS]),
                within(Region.code)).group_by(kab)).all())
    rows = []
    total = {stage.value: 0 for stage in Stage}
    for code in codes:
        result = results.get(code)
        if result is not None:
            counts = _stage_counts(result.stage_counts or {})
            row = {
                "computed_at": result.computed_at.isoformat(), "nodes": result.node_count,
                "edges": result.edge_count, "agreements": result.agreement_count,
                "villages": result.village_count, "isolated": result.isolated_count,
                "density": result.density, "communities": result.community_count,
                "cross_kecamatan": result.cross_kecamatan,
                "cross_kabupaten": result.cross_kabupaten,
            }
        else:
            n = int(villages.get(code, 0))
            counts = _stage_counts({Stage.BONDING: n})
            row = {"computed_at": None, "nodes": n, "edges": 0, "agreements": 0,
                   "villages": n, "isolated": n, "density": 0.0, "communities": 0,
                   "cross_kecamatan": 0, "cross_kabupaten": 0}
        for stage, n in counts.items():
            total[stage] += n
        rows.append({"code": code, "name": names.get(code, code),
                     "stale": code in stale_set, **row, "stage_counts": counts})
    return {"scope": scope_json(scope), "filters": filters_json(NetworkFilters()),
            "summary": {"kabupaten": rows, "stage_counts": total}}


def filename(scope: Scope, fmt: str) -> str:
    """``jaringan-kecamatan-33.07.13.graphml``: the scope key in a file name."""
    slug = re.sub(r"[^0-9A-Za-z.]+", "-", scope.key).strip("-")
    return f"jaringan-{slug}.{FORMATS[fmt][1]}"
