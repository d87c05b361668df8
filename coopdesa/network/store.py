"""Stored results per kabupaten/kota, and when they are stale.

A kabupaten's result carries a *fingerprint* of what it was computed from: the agreements
touching its desa (count, last change of state, last edit), the parties of those agreements
(last edit, since an actor's kind changes its partners' stages), the withholdings of their
public documents and the stage rule. When the fingerprint read now differs, the result is
stale: a page of the kabupaten (or of a desa or kecamatan in it) recomputes it before
reading (well under a second, see docs/performance.md), the nightly ``flask coopdesa
lifecycle`` refreshes every stale one, and ``flask coopdesa network compute`` refreshes
the whole country from one read of the database.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coopdesa.actors.models import Actor
from coopdesa.db import utcnow
from coopdesa.extensions import db
from coopdesa.network.graph import (
    NETWORK_STATES,
    NetworkFilters,
    PartyRow,
    Scope,
    ScopeKind,
    build_graph,
    load_rows,
    region_label,
    scope_villages,
)
from coopdesa.network.metrics import NetworkMetrics, compute
from coopdesa.network.models import NetworkNode, NetworkResult
from coopdesa.network.stages import StageRule, current_rule
from coopdesa.proposals.models import Proposal, ProposalParty
from coopdesa.publication.models import PublicationWithholding
from coopdesa.regions.models import Region
from coopdesa.regions.operations import code_within

#: A stale result is recomputed on a page of a province or the country only when so few
#: are stale; beyond, the page shows the stored figures with their date and how many
#: kabupaten changed since (the nightly clock catches up).
REFRESH_ON_READ = 3


def _kab_of(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    return sa.func.substr(column, 1, 5)


def fingerprints(prefix: str | None = None) -> dict[str, str]:
    """The fingerprint of every kabupaten with agreements under ``prefix`` (a region code
    of any level, None for the country), in three grouped queries."""
    scoped = aliased(ProposalParty)   # the party whose desa places the agreement
    other = aliased(ProposalParty)    # every party of that agreement
    kab = _kab_of(scoped.desa_code)
    where = [Proposal.state.in_(list(NETWORK_STATES)), Proposal.amends_id.is_(None),
             scoped.desa_code.is_not(None)]
    if prefix:
        where.append(code_within(scoped.desa_code, prefix))
    parts: dict[str, list[str]] = defaultdict(list)
    stmt = (sa.select(kab, sa.func.count(sa.distinct(Proposal.id)),
                      sa.func.sum(Proposal.id), sa.func.max(Proposal.state_changed_at),
                      sa.func.max(Proposal.updated_at))
            .join(scoped, scoped.proposal_id == Proposal.id).where(*where).group_by(kab))
    for code, *values in db.session.execute(stmt):
        parts[code].append("p" + "|".join(str(v) for v in values))
    stmt = (sa.select(kab, sa.func.count(other.id), sa.func.max(Actor.updated_at))
            .select_from(Proposal).join(scoped, scoped.proposal_id == Proposal.id)
            .join(other, other.proposal_id == Proposal.id)
            .join(Actor, Actor.id == other.actor_id).where(*where).group_by(kab))
    for code, *values in db.session.execute(stmt):
        parts[code].append("a" + "|".join(str(v) for v in values))
    stmt = (sa.select(kab, sa.func.count(PublicationWithholding.id),
                      sa.func.max(PublicationWithholding.withheld_at),
                      sa.func.max(PublicationWithholding.lifted_at))
            .select_from(Proposal).join(scoped, scoped.proposal_id == Proposal.id)
            .join(PublicationWithholding, PublicationWithholding.proposal_id == Proposal.id)
            .where(*where).group_by(kab))
    for code, *values in db.session.execute(stmt):
        parts[code].append("w" + "|".join(str(v) for v in values))
    rule = json.dumps(current_rule().to_dict(), sort_keys=True)
    return {code: _digest(rule, parts[code]) for code in parts}


def _digest(rule: str, parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join([rule, *parts]).encode()).hexdigest()


def empty_fingerprint() -> str:
    """The fingerprint of a kabupaten without any agreement."""
    return _digest(json.dumps(current_rule().to_dict(), sort_keys=True), [])


def kabupaten_scope(code: str) -> Scope:
    region = db.session.get(Region, code)
    return Scope(ScopeKind.KABUPATEN, code, label=region_label(region) if region else code)


def compute_kabupaten(code: str, *, rows: list[PartyRow] | None = None,
                      villages: list[tuple[str, str, str]] | None = None,
                      fingerprint: str | None = None,
                      rule: StageRule | None = None) -> NetworkResult:
    """Compute and store the result of one kabupaten/kota (replacing the old one); flushes,
    the caller commits. ``rows``/``villages``/``fingerprint`` are read when not given."""
    started = time.perf_counter()
    scope = kabupaten_scope(code)
    if fingerprint is None:
        fingerprint = fingerprints(code).get(code) or empty_fingerprint()
    if rows is None:
        rows = load_rows(scope, NetworkFilters())
    if villages is None:
        villages = scope_villages(scope)
    graph = build_graph(rows, villages, scope=scope)
    metrics = compute(graph, rule or current_rule())
    return _store(code, graph, metrics, fingerprint, len(villages),
                  int((time.perf_counter() - started) * 1000))


def _store(code: str, graph, metrics: NetworkMetrics, fingerprint: str, villages: int,
           elapsed_ms: int) -> NetworkResult:
    # The row lock makes two requests refreshing the same kabupaten take turns (PostgreSQL;
    # SQLite writes one at a time anyway).
    result = db.session.scalar(sa.select(NetworkResult).where(NetworkResult.scope_code == code)
                               .with_for_update())
    if result is None:
        result = NetworkResult(scope_code=code)
        db.session.add(result)
    else:
        db.session.execute(sa.delete(NetworkNode).where(NetworkNode.result_id == result.id)
                           .execution_options(synchronize_session=False))
        db.session.expire(result, ["nodes"])
    result.fingerprint = fingerprint
    result.computed_at = utcnow()
    result.elapsed_ms = elapsed_ms
    result.node_count = metrics.node_count
    result.edge_count = metrics.edge_count
    result.agreement_count = metrics.agreement_count
    result.village_count = villages
    result.isolated_count = len(metrics.isolated)
    result.community_count = len(metrics.communities)
    result.density = metrics.density
    result.cross_kecamatan = metrics.cross_kecamatan
    result.cross_kabupaten = metrics.cross_kabupaten
    result.betweenness_exact = metrics.betweenness_exact
    result.stage_counts = {s.value: n for s, n in metrics.stage_counts.items()}
    db.session.flush()
    rows = []
    for key, attrs in graph.nodes(data=True):
        m = metrics.nodes[key]
        rows.append(dict(
            result_id=result.id, node_key=key, actor_id=attrs["actor_id"] or None,
            desa_code=key[5:] if key.startswith("desa:") else None, label=attrs["label"][:200],
            kind=attrs["kind"], region=attrs["region"], inside=attrs["inside"],
            degree=m.degree, weighted_degree=m.weighted_degree, betweenness=m.betweenness,
            community=m.community, categories=m.categories,
            outside_kecamatan=m.outside_kecamatan, outside_kabupaten=m.outside_kabupaten,
            stage=m.stage, active_partners=m.active_partners, active_kinds=m.active_kinds,
            active_outside=m.active_outside))
    if rows:
        # Core insert (executemany): a kabupaten's thousand rows without the ORM's
        # per-row bookkeeping (see docs/performance.md, "Network").
        db.session.execute(sa.insert(NetworkNode.__table__), rows)
    return result


def fresh_result(code: str) -> NetworkResult:
    """The stored result of kabupaten ``code``, recomputed first when stale or missing."""
    stored = db.session.scalar(sa.select(NetworkResult).where(NetworkResult.scope_code == code))
    now = fingerprints(code).get(code) or empty_fingerprint()
    if stored is not None and stored.fingerprint == now:
        return stored
    try:
        with db.session.begin_nested():
            return compute_kabupaten(code, fingerprint=now)
    except sa.exc.IntegrityError:
        # Another request stored the first result of this kabupaten at the same moment.
        return db.session.scalars(
            sa.select(NetworkResult).where(NetworkResult.scope_code == code)
            .execution_options(populate_existing=True)).one()


def stored_nodes(prefix: str | None) -> dict[str, NetworkNode]:
    """The stored metrics of every actor inside ``prefix`` (None: the country), by node key,
    from the result of the kabupaten each lies in. Read as stored (see ``stale_codes``)."""
    stmt = (sa.select(NetworkNode).join(NetworkResult)
            .where(NetworkNode.inside.is_(True)))
    if prefix:
        stmt = stmt.where(code_within(NetworkResult.scope_code, prefix[:5]) if len(prefix) > 5
                          else code_within(NetworkResult.scope_code, prefix))
    nodes = {}
    for node in db.session.scalars(stmt):
        if not prefix or node.region == prefix or node.region.startswith(prefix + "."):
            nodes.setdefault(node.node_key, node)
    return nodes


def kabupaten_codes(prefix: str | None = None) -> list[str]:
    stmt = sa.select(Region.code).where(Region.level == 2)
    if prefix:
        stmt = stmt.where(code_within(Region.code, prefix))
    return list(db.session.scalars(stmt.order_by(Region.code)))


def stale_codes(prefix: str | None = None) -> list[str]:
    """Kabupaten under ``prefix`` whose stored result is missing or out of date."""
    now = fingerprints(prefix)
    empty = empty_fingerprint()
    stored = dict(db.session.execute(
        sa.select(NetworkResult.scope_code, NetworkResult.fingerprint)
        .where(code_within(NetworkResult.scope_code, prefix) if prefix else sa.true())).all())
    # A kabupaten never computed and without any agreement has nothing to store: all its
    # desa are at bonding, which ``operations.overview`` counts from the register.
    return [code for code in kabupaten_codes(prefix)
            if stored.get(code) != now.get(code, empty)
            and (code in stored or code in now)]


def refresh_stale(prefix: str | None = None, *, limit: int | None = None) -> int:
    """Recompute the stale results under ``prefix`` (at most ``limit``); the count done."""
    codes = stale_codes(prefix)
    if limit is not None:
        codes = codes[:limit]
    for code in codes:
        compute_kabupaten(code)
    return len(codes)


def compute_all(*, prefix: str | None = None, only_stale: bool = False,
                progress: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Compute every kabupaten/kota under ``prefix`` from one read of the agreements and the
    register; with ``only_stale``, only those whose data changed. Flushes; the caller
    commits. Returns counts and timings for the command and the benchmark."""
    started = time.perf_counter()
    rule = current_rule()
    now = fingerprints(prefix)
    empty = empty_fingerprint()
    codes = stale_codes(prefix) if only_stale else kabupaten_codes(prefix)
    if only_stale and len(codes) <= 20:
        # A few changed kabupaten: each reads only its own agreements.
        slowest = 0.0
        agreements = 0
        for i, code in enumerate(codes, 1):
            t0 = time.perf_counter()
            agreements += compute_kabupaten(code, fingerprint=now.get(code, empty),
                                            rule=rule).agreement_count
            slowest = max(slowest, time.perf_counter() - t0)
            if progress:
                progress(i, len(codes))
        total = round(time.perf_counter() - started, 2)
        return {"kabupaten": len(codes), "agreements": agreements, "load_s": 0.0,
                "compute_s": total, "slowest_kabupaten_s": round(slowest, 3),
                "total_s": total}
    scope = Scope(ScopeKind.NASIONAL) if not prefix else Scope(
        ScopeKind.PROVINSI if len(prefix) == 2 else ScopeKind.KABUPATEN, prefix)
    wanted = set(codes)
    rows_by_kab: dict[str, list[PartyRow]] = defaultdict(list)
    by_agreement: dict[int, list[PartyRow]] = defaultdict(list)
    for row in load_rows(scope, NetworkFilters()):
        by_agreement[row.proposal_id].append(row)
    for parties in by_agreement.values():
        for kab in {p.desa_code[:5] for p in parties if p.desa_code} & wanted:
            rows_by_kab[kab].extend(parties)
    villages_by_kab: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for village in scope_villages(scope):
        villages_by_kab[village[0][:5]].append(village)
    loaded = time.perf_counter()
    slowest = 0.0
    for i, code in enumerate(codes, 1):
        t0 = time.perf_counter()
        compute_kabupaten(code, rows=rows_by_kab.get(code, []),
                          villages=villages_by_kab.get(code, []),
                          fingerprint=now.get(code, empty), rule=rule)
        slowest = max(slowest, time.perf_counter() - t0)
        if progress:
            progress(i, len(codes))
    return {"kabupaten": len(codes), "agreements": len(by_agreement),
            "load_s": round(loaded - started, 2),
            "compute_s": round(time.perf_counter() - loaded, 2),
            "slowest_kabupaten_s": round(slowest, 3),
            "total_s": round(time.perf_counter() - started, 2)}


def lifecycle_hook(today) -> dict[str, int]:
    """Nightly (``flask coopdesa lifecycle``): refresh every stale stored result."""
    return {"network_refreshed": refresh_stale()}


def _register() -> None:
    from coopdesa.proposals import operations as proposal_ops

    if lifecycle_hook not in proposal_ops.LIFECYCLE_AFTER_HOOKS:
        proposal_ops.LIFECYCLE_AFTER_HOOKS.append(lifecycle_hook)


_register()
