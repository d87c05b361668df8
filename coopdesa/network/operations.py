"""What a network page, its PDF report and its downloads show, computed once for all three.

Desa, kecamatan, kabupaten/kota and BKAD scopes are small enough to compute on request with
any filter (see docs/performance.md). A kabupaten with the default filter reads its stored
result instead (``store.fresh_result`` recomputes it first when the agreements changed).
The stage of each desa always comes from the stored result of its kabupaten, so it is the
same on every page and does not move with the filters: it describes the desa's partners in
the agreements that bind it now. Provinces and the country read the stored results per
kabupaten (``overview``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

import networkx as nx
import sqlalchemy as sa

from coopdesa.accounts.models import DESA_ROLES, Role, User
from coopdesa.extensions import db
from coopdesa.network import store
from coopdesa.network.graph import (
    VILLAGE_KINDS,
    NetworkFilters,
    Scope,
    ScopeKind,
    build_graph,
    load_rows,
    parse_scope,
    scope_graph,
    scope_villages,
)
from coopdesa.network.metrics import NetworkMetrics, NodeMetrics, compute
from coopdesa.network.models import NetworkNode, NetworkResult
from coopdesa.network.stages import Stage, StageRule, current_rule
from coopdesa.regions.models import Region
from coopdesa.regions.operations import code_within


@dataclasses.dataclass
class ScopeNetwork:
    scope: Scope
    filters: NetworkFilters
    graph: nx.Graph
    metrics: NetworkMetrics
    rule: StageRule
    #: When the stored result the stages (and, for a kabupaten, the metrics) come from was
    #: computed.
    computed_at: dt.datetime | None
    from_store: bool

    @property
    def stage_counts(self) -> dict[Stage, int]:
        return self.metrics.stage_counts

    def stage_rows(self) -> list[tuple[str, dict[str, int]]]:
        """The stage distribution per kecamatan (a kabupaten or BKAD scope) or per desa
        group, for the stacked bars: [(kecamatan name, {stage: count})]."""
        per: dict[str, dict[str, int]] = defaultdict(lambda: {s.value: 0 for s in Stage})
        for key, m in self.metrics.nodes.items():
            if m.stage is not None:
                per[self.graph.nodes[key]["kecamatan"]][m.stage.value] += 1
        names = _region_names(per)
        return [(names.get(code, code), per[code]) for code in sorted(per)]

    def desa_rows(self) -> list[tuple[str, dict, NodeMetrics]]:
        """The desa inside the scope, most bridging first."""
        rows = [(k, self.graph.nodes[k], m) for k, m in self.metrics.nodes.items()
                if m.stage is not None]
        return sorted(rows, key=lambda r: (-r[2].betweenness, -r[2].degree, r[1]["label"]))

    def partner_rows(self) -> list[tuple[str, dict, NodeMetrics]]:
        """Every other actor of the graph (third parties, desa outside the scope)."""
        rows = [(k, self.graph.nodes[k], m) for k, m in self.metrics.nodes.items()
                if m.stage is None]
        return sorted(rows, key=lambda r: (-r[2].betweenness, -r[2].degree, r[1]["label"]))


def _region_names(codes) -> dict[str, str]:
    codes = sorted(c for c in codes if c)
    if not codes:
        return {}
    return dict(db.session.execute(
        sa.select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def kabupaten_of(scope: Scope) -> list[str]:
    """The kabupaten/kota whose stored results hold the stages of the scope's desa."""
    if scope.kind is ScopeKind.BKAD:
        return sorted({code[:5] for code in scope.members})
    if scope.kind in (ScopeKind.DESA, ScopeKind.KECAMATAN, ScopeKind.KABUPATEN):
        return [scope.code[:5]]
    return []


def _metrics_from_store(graph: nx.Graph, result: NetworkResult,
                        nodes: dict[str, NetworkNode]) -> NetworkMetrics:
    out: dict[str, NodeMetrics] = {}
    groups: dict[int, list[str]] = defaultdict(list)
    for key in graph.nodes:
        row = nodes.get(key)
        m = NodeMetrics(key=key)
        if row is not None:
            _copy(row, m, everything=True)
            if row.community is not None:
                groups[row.community].append(key)
        out[key] = m
    communities = sorted((sorted(g) for g in groups.values() if len(g) >= 2),
                         key=lambda c: (-len(c), c[0]))
    isolated = sorted(k for k, m in out.items() if m.stage is not None and m.degree == 0)
    return NetworkMetrics(
        nodes=out, node_count=result.node_count, edge_count=result.edge_count,
        agreement_count=result.agreement_count, density=result.density,
        communities=communities, isolated=isolated, cross_kecamatan=result.cross_kecamatan,
        cross_kabupaten=result.cross_kabupaten, betweenness_exact=result.betweenness_exact)


def _copy(row: NetworkNode, m: NodeMetrics, *, everything: bool = False) -> None:
    m.stage = row.stage
    m.active_partners = row.active_partners
    m.active_kinds = row.active_kinds
    m.active_outside = row.active_outside
    if everything:
        m.degree = row.degree
        m.weighted_degree = row.weighted_degree
        m.betweenness = row.betweenness
        m.community = row.community
        m.categories = dict(row.categories or {})
        m.outside_kecamatan = row.outside_kecamatan
        m.outside_kabupaten = row.outside_kabupaten


def _stored_nodes(result: NetworkResult) -> dict[str, NetworkNode]:
    return {n.node_key: n for n in db.session.scalars(
        sa.select(NetworkNode).where(NetworkNode.result_id == result.id))}


def live_network(scope: Scope, filters: NetworkFilters | None = None) -> ScopeNetwork:
    """The network of a desa, kecamatan, kabupaten/kota or BKAD (``scope.is_live``)."""
    filters = filters or NetworkFilters()
    if not scope.is_live:
        raise ValueError(f"{scope.key} is read from the stored results (overview)")
    rule = current_rule()
    results = [store.fresh_result(code) for code in kabupaten_of(scope)]
    computed_at = min((r.computed_at for r in results), default=None)
    if scope.kind is ScopeKind.KABUPATEN and filters.is_default:
        result = results[0]
        graph = build_graph(load_rows(scope, filters), scope_villages(scope), scope=scope)
        metrics = _metrics_from_store(graph, result, _stored_nodes(result))
        return ScopeNetwork(scope, filters, graph, metrics, rule, computed_at, True)
    graph = scope_graph(scope, filters)
    metrics = compute(graph, rule)
    stored = {}
    if results:
        desa_keys = [k for k, m in metrics.nodes.items() if m.stage is not None]
        stored = {n.node_key: n for n in db.session.scalars(
            sa.select(NetworkNode).where(
                NetworkNode.result_id.in_([r.id for r in results]),
                NetworkNode.node_key.in_(desa_keys)))} if desa_keys else {}
    for key, m in metrics.nodes.items():
        if m.stage is not None and key in stored:
            _copy(stored[key], m)
    return ScopeNetwork(scope, filters, graph, metrics, rule, computed_at, False)


@dataclasses.dataclass
class OverviewRow:
    code: str
    name: str
    villages: int = 0
    agreements: int = 0
    nodes: int = 0
    edges: int = 0
    isolated: int = 0
    cross_kabupaten: int = 0
    stage_counts: dict[str, int] = dataclasses.field(
        default_factory=lambda: {s.value: 0 for s in Stage})
    computed_at: dt.datetime | None = None


@dataclasses.dataclass
class Overview:
    scope: Scope
    rows: list[OverviewRow]
    stale: int
    refreshed: int

    @property
    def stage_counts(self) -> dict[str, int]:
        total = {s.value: 0 for s in Stage}
        for row in self.rows:
            for stage, n in row.stage_counts.items():
                total[stage] = total.get(stage, 0) + n
        return total

    @property
    def computed_at(self) -> dt.datetime | None:
        return min((r.computed_at for r in self.rows if r.computed_at), default=None)


def overview(scope: Scope) -> Overview:
    """A province (one row per kabupaten/kota) or the country (one row per province), from
    the stored results. A province refreshes up to ``store.REFRESH_ON_READ`` stale
    kabupaten first; the country reads the results as stored (the nightly clock and
    ``flask coopdesa network compute`` keep them current)."""
    prefix = scope.code if scope.kind is ScopeKind.PROVINSI else None
    refreshed = stale = 0
    if prefix:
        stale_now = store.stale_codes(prefix)
        if len(stale_now) <= store.REFRESH_ON_READ:
            for code in stale_now:
                store.compute_kabupaten(code)
            refreshed = len(stale_now)
        else:
            stale = len(stale_now)
    level = 2 if prefix else 1
    regions = db.session.execute(
        sa.select(Region.code, Region.name).where(
            Region.level == level, code_within(Region.code, prefix) if prefix else sa.true())
        .order_by(Region.code)).all()
    rows = {code: OverviewRow(code, name) for code, name in regions}
    results = db.session.scalars(sa.select(NetworkResult).where(
        code_within(NetworkResult.scope_code, prefix) if prefix else sa.true()))
    seen: set[str] = set()
    for result in results:
        key = result.scope_code if prefix else result.scope_code[:2]
        row = rows.get(key)
        if row is None:
            continue
        seen.add(result.scope_code)
        row.villages += result.village_count
        row.agreements += result.agreement_count
        row.nodes += result.node_count
        row.edges += result.edge_count
        row.isolated += result.isolated_count
        row.cross_kabupaten += result.cross_kabupaten
        for stage, n in (result.stage_counts or {}).items():
            row.stage_counts[stage] = row.stage_counts.get(stage, 0) + n
        if row.computed_at is None or result.computed_at < row.computed_at:
            row.computed_at = result.computed_at
    unseen = [code for code in store.kabupaten_codes(prefix) if code not in seen]
    if unseen:
        # Never computed: without agreements (else they would be stale), so every desa is
        # at bonding; counted from the register in one query.
        kab = sa.func.substr(Region.code, 1, 5)
        villages = dict(db.session.execute(
            sa.select(kab, sa.func.count()).where(
                Region.level == 4, Region.kind.in_([k.value for k in VILLAGE_KINDS]),
                code_within(Region.code, prefix) if prefix else sa.true())
            .group_by(kab)).all())
        for code in unseen:
            row = rows.get(code if prefix else code[:2])
            if row is not None:
                row.villages += villages.get(code, 0)
                row.isolated += villages.get(code, 0)
                row.stage_counts[Stage.BONDING.value] += villages.get(code, 0)
    return Overview(scope, list(rows.values()), stale, refreshed)


def default_scope(user: User) -> Scope:
    """Where the network pages open for ``user``: its kecamatan (village roles), its BKAD,
    its jurisdiction (auditors), the country (admins)."""
    if user.role in DESA_ROLES and user.desa_code:
        return parse_scope(f"kecamatan:{user.desa_code[:8]}")
    if user.role == Role.BKAD and user.bkad is not None:
        return parse_scope(f"bkad:{user.bkad.id}")
    if user.role == Role.AUDITOR and user.jurisdiction_code:
        code = user.jurisdiction_code
        level = {2: "provinsi", 5: "kabupaten", 8: "kecamatan"}.get(len(code), "desa")
        return parse_scope(f"{level}:{code}")
    return parse_scope("nasional")


def breadcrumbs(scope: Scope) -> list[tuple[str, str]]:
    """[(scope key, label)] from the country down to the scope's parent."""
    code = scope.region_code or ""
    crumbs = [("nasional", "Indonesia")]
    parts = [code[:2], code[:5], code[:8]]
    kinds = ["provinsi", "kabupaten", "kecamatan"]
    wanted = [p for p in parts if p and len(p) < len(code)] if scope.kind is not \
        ScopeKind.BKAD else [p for p in parts[:2] if p]
    names = _region_names(wanted)
    for part in wanted:
        kind = kinds[[2, 5, 8].index(len(part))]
        crumbs.append((f"{kind}:{part}", names.get(part, part)))
    return crumbs


def children(scope: Scope) -> list[tuple[str, str]]:
    """The scopes one level down: [(key, label)]."""
    if scope.kind is ScopeKind.NASIONAL:
        level, prefix, kind = 1, None, "provinsi"
    elif scope.kind is ScopeKind.PROVINSI:
        level, prefix, kind = 2, scope.code, "kabupaten"
    elif scope.kind is ScopeKind.KABUPATEN:
        level, prefix, kind = 3, scope.code, "kecamatan"
    else:
        return []
    stmt = sa.select(Region.code, Region.name).where(Region.level == level)
    if prefix:
        stmt = stmt.where(code_within(Region.code, prefix))
    return [(f"{kind}:{code}", name) for code, name in
            db.session.execute(stmt.order_by(Region.name))]
