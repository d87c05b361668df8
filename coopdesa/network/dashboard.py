"""The dashboard of a user's jurisdiction (issue 6, "Seeing it"): the agreements the user
may read counted by state, kind and bidang (UU 6/2014 Pasal 92(1)), the funding promised
per source in Rupiah, the agreements whose term ends within 30 and 90 days, the overdue
implementation reports, and the stage of the desa on the seeds' scale of social networks
(bonding, bridging, networking; ``coopdesa.network.stages``).

Every figure comes from the query another area already owns where one exists: the scope
clause of the proposal list (``access.proposal_scope_clause``), the ending lists of the
home page (``proposals.queries.dashboard``), the overdue reports (``reports.operations``),
the stored network results (``network.store``, ``network.operations.overview``). The
number of statements does not grow with the number of agreements.

An addendum (*perubahan*) is not an agreement of its own: it is left out of the counts,
so that each agreement is counted once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa import access
from coopdesa.accounts.models import DESA_ROLES, Role, User
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.network import store
from coopdesa.network.graph import ACTIVE_STATES, Scope, ScopeKind, region_label
from coopdesa.network.models import NetworkNode, NetworkResult
from coopdesa.network.stages import Stage, current_rule, stage_reason
from coopdesa.proposals import queries as proposal_queries
from coopdesa.proposals.models import (
    Bidang,
    FundingSource,
    Kind,
    Proposal,
    ProposalFunding,
    ProposalParty,
)
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region
from coopdesa.regions.operations import code_within
from coopdesa.reports import operations as report_ops

#: Short names for the charts; the full legal wording is on the proposal pages.
KIND_SHORT = {
    Kind.ANTAR_DESA: _l("Antar-Desa"),
    Kind.PIHAK_KETIGA: _l("Dengan pihak ketiga"),
}
BIDANG_SHORT = {
    Bidang.USAHA_BERSAMA: _l("Usaha bersama (huruf a)"),
    Bidang.KEMASYARAKATAN: _l("Kemasyarakatan (huruf b)"),
    Bidang.KEAMANAN: _l("Keamanan dan ketertiban (huruf c)"),
}


@dataclasses.dataclass
class DesaStage:
    """One desa's stage, with the counts that decide it in plain words."""

    code: str
    label: str
    stage: Stage | None
    reason: str


@dataclasses.dataclass
class StagePanel:
    """The stage distribution of the desa in the user's jurisdiction."""

    #: What the distribution covers: "Kabupaten Wonosobo", a BKAD, a province, Indonesia.
    label: str
    #: {stage value: number of desa}
    counts: dict[str, int]
    #: [(kecamatan, kabupaten or province name, {stage value: number of desa})]
    rows: list[tuple[str, dict[str, int]]]
    #: "kecamatan", "kabupaten" or "provinsi": what each row is.
    row_level: str
    #: The network page showing the same (a scope key, ``network.graph.Scope.key``).
    network_key: str | None = None
    computed_at: dt.datetime | None = None
    #: Kabupaten whose stored result is out of date (provinces, the country).
    stale: int = 0
    #: Kabupaten recomputed on this reading because their agreements had changed.
    refreshed: int = 0
    #: A village role's own desa.
    own: DesaStage | None = None
    #: A BKAD's member desa.
    members: list[DesaStage] = dataclasses.field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclasses.dataclass
class JurisdictionDashboard:
    today: dt.date
    #: Proposals and agreements (not addenda) the user may read, per state, kind, bidang.
    by_state: list[tuple[State, int]]
    by_kind: list[tuple[Kind, int]]
    by_bidang: list[tuple[Bidang, int]]
    #: Rupiah promised per source in the agreements signed, in force or postponed.
    funding: list[tuple[FundingSource, int]]
    ending_30: list[Proposal]
    ending_90: list[Proposal]
    #: The end of each listed agreement's term (an addendum may have moved it).
    term_end: dict[int, dt.date]
    overdue: list[report_ops.Overdue]
    stages: StagePanel

    @property
    def total(self) -> int:
        return sum(n for _state, n in self.by_state)

    @property
    def binding(self) -> int:
        """Agreements signed, in force or postponed."""
        return sum(n for state, n in self.by_state if state in ACTIVE_STATES)

    @property
    def funding_total(self) -> int:
        return sum(amount for _source, amount in self.funding)


def _bidang_sum(bidang: Bidang) -> sa.ColumnElement[int]:
    # The JSON list is stored as text on every engine: ["usaha_bersama", ...]; the
    # quotes make the match exact, "_" is escaped so it is no LIKE wildcard.
    pattern = '%"' + bidang.value.replace("_", "\\_") + '"%'
    return sa.func.sum(sa.case(
        (sa.cast(Proposal.bidang, sa.Text).like(pattern, escape="\\"), 1), else_=0))


def _counts(scope: sa.ColumnElement[bool]
            ) -> tuple[list[tuple[State, int]], list[tuple[Kind, int]],
                       list[tuple[Bidang, int]]]:
    """Counts per state, kind and bidang in one grouped statement."""
    stmt = (sa.select(Proposal.state, Proposal.kind, sa.func.count(Proposal.id),
                      *[_bidang_sum(b) for b in Bidang])
            .where(scope, Proposal.amends_id.is_(None))
            .group_by(Proposal.state, Proposal.kind))
    states: Counter[State] = Counter()
    kinds: Counter[Kind] = Counter()
    bidang: Counter[Bidang] = Counter()
    for state, kind, n, *per_bidang in db.session.execute(stmt):
        states[State(state)] += n
        kinds[Kind(kind)] += n
        for b, m in zip(Bidang, per_bidang, strict=True):
            bidang[b] += int(m or 0)
    return ([(s, states[s]) for s in State if states[s]],
            [(k, kinds[k]) for k in Kind if kinds[k]],
            [(b, bidang[b]) for b in Bidang if bidang[b]])


def _funding(scope: sa.ColumnElement[bool]) -> list[tuple[FundingSource, int]]:
    """Rupiah per source over the agreements that bind (signed, in force, postponed)."""
    ids = sa.select(Proposal.id).where(scope, Proposal.amends_id.is_(None),
                                       Proposal.state.in_(list(ACTIVE_STATES)))
    totals = dict(db.session.execute(
        sa.select(ProposalFunding.source, sa.func.sum(ProposalFunding.amount))
        .join(ProposalParty, ProposalParty.id == ProposalFunding.party_id)
        .where(ProposalParty.proposal_id.in_(ids))
        .group_by(ProposalFunding.source)).all())
    return [(s, int(totals[s])) for s in FundingSource if totals.get(s)]


def jurisdiction_dashboard(user: User, today: dt.date | None = None) -> JurisdictionDashboard:
    """Everything the dashboard of ``user`` shows, over the agreements the user may read.
    Reading the stages may recompute a stale stored network result (flushed; the caller
    commits)."""
    today = today or local_today()
    scope = access.proposal_scope_clause(user)
    by_state, by_kind, by_bidang = _counts(scope)
    home = proposal_queries.dashboard(user, today)
    return JurisdictionDashboard(
        today=today, by_state=by_state, by_kind=by_kind, by_bidang=by_bidang,
        funding=_funding(scope), ending_30=home.ending_30, ending_90=home.ending_90,
        term_end=home.term_end, overdue=report_ops.overdue_reports(scope, today),
        stages=stage_panel(user))


# --- stages --------------------------------------------------------------------------------

def _empty_counts() -> dict[str, int]:
    return {s.value: 0 for s in Stage}


def _region_names(codes) -> dict[str, str]:
    codes = sorted(c for c in codes if c)
    if not codes:
        return {}
    return dict(db.session.execute(
        sa.select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def _desa_nodes(result: NetworkResult, where: sa.ColumnElement[bool] | None = None
                ) -> list[NetworkNode]:
    """The desa of a stored kabupaten result (those inside it, with a stage)."""
    stmt = sa.select(NetworkNode).where(
        NetworkNode.result_id == result.id, NetworkNode.inside.is_(True),
        NetworkNode.desa_code.is_not(None), NetworkNode.stage.is_not(None))
    if where is not None:
        stmt = stmt.where(where)
    return list(db.session.scalars(stmt.order_by(NetworkNode.desa_code)))


def _per_kecamatan(nodes: list[NetworkNode]) -> tuple[dict[str, int],
                                                      list[tuple[str, dict[str, int]]]]:
    per: dict[str, dict[str, int]] = defaultdict(_empty_counts)
    total = _empty_counts()
    for node in nodes:
        per[node.desa_code[:8]][node.stage.value] += 1
        total[node.stage.value] += 1
    names = _region_names(per)
    rows = sorted(((names.get(code, code), per[code]) for code in per),
                  key=lambda row: row[0])
    return total, rows


def _desa_stage(node: NetworkNode) -> DesaStage:
    return DesaStage(node.desa_code or "", node.label, node.stage, stage_reason(
        node.active_partners, node.active_kinds, node.active_outside, current_rule()))


def _kabupaten_panel(code: str, *, within: str | None = None,
                     members: frozenset[str] | None = None) -> tuple[StagePanel,
                                                                     list[NetworkNode]]:
    """The panel of one kabupaten's stored result (recomputed first when stale), its desa
    limited to the region ``within`` or to ``members``."""
    result = store.fresh_result(code)
    where = None
    if within and within != code:
        where = code_within(NetworkNode.desa_code, within)
    elif members is not None:
        where = NetworkNode.desa_code.in_(sorted(members))
    nodes = _desa_nodes(result, where)
    counts, rows = _per_kecamatan(nodes)
    region = db.session.get(Region, within or code)
    label = region_label(region) if region is not None else (within or code)
    return StagePanel(label=label, counts=counts, rows=rows, row_level="kecamatan",
                      computed_at=result.computed_at), nodes


def _overview_panel(scope: Scope) -> StagePanel:
    from coopdesa.network import operations as network_ops

    overview = network_ops.overview(scope)
    rows = [(row.name, dict(row.stage_counts)) for row in overview.rows
            if any(row.stage_counts.values())]
    return StagePanel(label=scope.label, counts=overview.stage_counts, rows=rows,
                      row_level="kabupaten" if scope.kind is ScopeKind.PROVINSI
                      else "provinsi", network_key=scope.key,
                      computed_at=overview.computed_at, stale=overview.stale,
                      refreshed=overview.refreshed)


def stage_panel(user: User) -> StagePanel:
    """The stage distribution of the desa in ``user``'s jurisdiction, from the stored
    network results: a village role's kabupaten (and its own desa's stage with the
    reason), a BKAD's member desa, an auditor's kecamatan, kabupaten or province, the
    country for an admin."""
    if user.role in DESA_ROLES:
        if not user.desa_code:
            return StagePanel(label="", counts=_empty_counts(), rows=[], row_level="")
        kabupaten = user.desa_code[:5]
        panel, nodes = _kabupaten_panel(kabupaten)
        panel.network_key = f"kabupaten:{kabupaten}"
        own = next((n for n in nodes if n.desa_code == user.desa_code), None)
        panel.own = _desa_stage(own) if own is not None else None
        return panel
    if user.role == Role.BKAD:
        bkad = user.bkad
        if bkad is None:
            return StagePanel(label="", counts=_empty_counts(), rows=[], row_level="")
        panel, nodes = _kabupaten_panel(bkad.kabupaten_code, members=bkad.desa_codes)
        panel.label = bkad.name
        panel.network_key = f"kabupaten:{bkad.kabupaten_code}"
        panel.members = sorted((_desa_stage(n) for n in nodes), key=lambda d: d.label)
        return panel
    if user.role == Role.AUDITOR:
        code = user.jurisdiction_code or ""
        if len(code) >= 5:
            panel, _nodes = _kabupaten_panel(code[:5], within=code)
            panel.network_key = f"{'kabupaten' if len(code) == 5 else 'kecamatan'}:{code}"
            return panel
        if code:
            region = db.session.get(Region, code)
            return _overview_panel(Scope(ScopeKind.PROVINSI, code,
                                         label=region.name if region else code))
        return StagePanel(label="", counts=_empty_counts(), rows=[], row_level="")
    if user.role == Role.ADMIN:
        return _overview_panel(Scope(ScopeKind.NASIONAL, label=_("Indonesia")))
    return StagePanel(label="", counts=_empty_counts(), rows=[], row_level="")
