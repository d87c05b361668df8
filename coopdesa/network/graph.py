"""Scopes, filters and the graph of the agreements in a scope.

Nodes are actors: every desa by its code in the official register (so that a desa with no
agreement at all is a node too, an isolated one), every other party by its actor id. Edges
join the parties of each agreement; an edge's ``weight`` is the number of agreements the two
share, ``active`` the number of those that bind now, and it carries their kinds, bidang,
states and period. Addenda are not agreements of their own (they change one), and an
agreement whose public document an admin withholds (``publication``) is left out, so that
no drawing or export reveals what the public page hides.

Only agreements that were signed count: a draft or a proposal under review joins no one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import networkx as nx
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa.accounts.models import Bkad
from coopdesa.actors.models import Actor, ActorKind
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.models import Bidang, Proposal, ProposalParty
from coopdesa.proposals.states import State
from coopdesa.publication.models import PublicationWithholding
from coopdesa.regions.models import Region, RegionKind
from coopdesa.regions.operations import code_within

#: Agreements that bind now: signed (waiting for their start date), in force, postponed.
ACTIVE_STATES = (State.SIGNED, State.ACTIVE, State.POSTPONED)
NETWORK_STATES = (*ACTIVE_STATES, State.ENDED)
#: Region kinds that are villages under the Village Law; a kelurahan makes no agreements.
VILLAGE_KINDS = (RegionKind.DESA, RegionKind.DESA_ADAT)


class ScopeKind(enum.StrEnum):
    DESA = "desa"
    KECAMATAN = "kecamatan"
    KABUPATEN = "kabupaten"
    PROVINSI = "provinsi"
    NASIONAL = "nasional"
    BKAD = "bkad"

    @property
    def label(self) -> str:
        return str(SCOPE_LABELS[self])


SCOPE_LABELS = {
    ScopeKind.DESA: _l("Desa"),
    ScopeKind.KECAMATAN: _l("Kecamatan"),
    ScopeKind.KABUPATEN: _l("Kabupaten/kota"),
    ScopeKind.PROVINSI: _l("Provinsi"),
    ScopeKind.NASIONAL: _l("Nasional"),
    ScopeKind.BKAD: _l("BKAD"),
}
LEVEL_SCOPE = {1: ScopeKind.PROVINSI, 2: ScopeKind.KABUPATEN, 3: ScopeKind.KECAMATAN,
               4: ScopeKind.DESA}
#: Scopes small enough to be computed on demand with any filter; the larger ones read the
#: results stored by ``flask coopdesa network compute`` (active agreements, no filter).
LIVE_SCOPES = (ScopeKind.DESA, ScopeKind.KECAMATAN, ScopeKind.KABUPATEN, ScopeKind.BKAD)
EXAMPLES = {ScopeKind.DESA: "desa:33.07.13.2013", ScopeKind.KECAMATAN: "kecamatan:33.07.13",
            ScopeKind.KABUPATEN: "kabupaten:33.07", ScopeKind.PROVINSI: "provinsi:33",
            ScopeKind.BKAD: "bkad:1", ScopeKind.NASIONAL: "nasional"}
_SCOPE_TEXT = re.compile(r"^(desa|kecamatan|kabupaten|provinsi|nasional|bkad)"
                         r"(?::([0-9.]{1,20}))?(?::([12]))?$")


@dataclasses.dataclass(frozen=True)
class Scope:
    """What a network page covers. ``code`` is a region code, or a BKAD id as text;
    ``steps`` is the radius of a desa's ego network (1 or 2)."""

    kind: ScopeKind
    code: str = ""
    steps: int = 1
    label: str = ""
    #: The desa of a BKAD scope.
    members: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        """The scope as text: ``kecamatan:33.07.13``, ``desa:33.07.13.2013:2``, ``bkad:4``,
        ``nasional``; what URLs and exports use."""
        if self.kind is ScopeKind.NASIONAL:
            return "nasional"
        if self.kind is ScopeKind.DESA and self.steps == 2:
            return f"desa:{self.code}:2"
        return f"{self.kind.value}:{self.code}"

    @property
    def is_live(self) -> bool:
        return self.kind in LIVE_SCOPES

    @property
    def region_code(self) -> str | None:
        """The region the scope lies in (the kabupaten of a BKAD); None for the country."""
        if self.kind is ScopeKind.NASIONAL:
            return None
        if self.kind is ScopeKind.BKAD:
            return next(iter(sorted(self.members)), "")[:5] or None
        return self.code

    def contains(self, code: str | None) -> bool:
        """Whether a region code (a desa's, or where an actor sits) lies inside the scope."""
        if not code:
            return False
        if self.kind is ScopeKind.NASIONAL:
            return True
        if self.kind is ScopeKind.BKAD:
            return code in self.members
        return code == self.code or code.startswith(self.code + ".")


def parse_scope(text: str | None) -> Scope:
    """A scope from its key; raises ValidationError (field ``scope``) or NotFoundError."""
    text = (text or "").strip()
    match = _SCOPE_TEXT.match(text)
    if not match:
        raise ValidationError(
            _("Cakupan jaringan tidak dikenal: tulis misalnya kecamatan:33.07.13, "
              "kabupaten:33.07, desa:33.07.13.2013, bkad:1 atau nasional."),
            fields={"scope": [_("Cakupan tidak dikenal.")]})
    kind, code, steps = ScopeKind(match[1]), match[2] or "", int(match[3] or 1)
    if kind is ScopeKind.NASIONAL:
        if code:
            raise ValidationError(_("Cakupan nasional tidak memakai kode."),
                                  fields={"scope": [_("Cakupan nasional tidak memakai kode.")]})
        return Scope(kind, label=str(_("Indonesia")))
    if not code:
        raise ValidationError(
            _("Tuliskan kode %(kind)s setelah titik dua, misalnya %(example)s.",
              kind=kind.label.lower(), example=EXAMPLES[kind]),
            fields={"scope": [_("Kode wilayah atau nomor BKAD belum ditulis.")]})
    if steps == 2 and kind is not ScopeKind.DESA:
        raise ValidationError(_("Dua langkah hanya berlaku untuk jaringan satu desa."),
                              fields={"scope": [_("Dua langkah hanya untuk desa.")]})
    if kind is ScopeKind.BKAD:
        bkad = db.session.get(Bkad, int(code)) if code.isdigit() else None
        if bkad is None:
            raise NotFoundError(_("BKAD tidak ditemukan."))
        return Scope(kind, str(bkad.id), label=bkad.name, members=bkad.desa_codes)
    region = db.session.get(Region, code) if code else None
    if region is None or LEVEL_SCOPE.get(region.level) is not kind:
        raise NotFoundError(_("Wilayah %(code)s bukan %(kind)s dalam daftar resmi.",
                              code=code or "-", kind=kind.label.lower()))
    if kind is ScopeKind.DESA and region.kind not in VILLAGE_KINDS:
        raise ValidationError(
            _("%(name)s adalah kelurahan: kelurahan tidak membuat kerja sama desa.",
              name=region.name), fields={"scope": [_("Kelurahan tidak punya jaringan desa.")]})
    return Scope(kind, code, steps, label=region_label(region))


def region_label(region: Region) -> str:
    if region.level == 4:
        from coopdesa.actors.operations import village_display_name

        return village_display_name(region)
    if region.level == 3:
        return f"{RegionKind(region.kind).label} {region.name}"
    return region.name


class StateFilter(enum.StrEnum):
    ACTIVE = "active"
    ALL = "all"

    @property
    def states(self) -> tuple[State, ...]:
        return ACTIVE_STATES if self is StateFilter.ACTIVE else NETWORK_STATES

    @property
    def label(self) -> str:
        return str(_l("Yang berlaku saja") if self is StateFilter.ACTIVE
                   else _l("Termasuk yang sudah berakhir"))


@dataclasses.dataclass(frozen=True)
class NetworkFilters:
    state: StateFilter = StateFilter.ACTIVE
    bidang: Bidang | None = None
    year: int | None = None

    @property
    def is_default(self) -> bool:
        return self == NetworkFilters()

    def to_args(self) -> dict[str, str]:
        out = {"state": self.state.value}
        if self.bidang:
            out["bidang"] = self.bidang.value
        if self.year:
            out["year"] = str(self.year)
        return out

    @classmethod
    def parse(cls, args: Mapping[str, Any]) -> NetworkFilters:
        """Filters from query arguments; raises ValidationError naming each bad field."""
        errors: dict[str, list[str]] = {}
        state = StateFilter.ACTIVE
        bidang = None
        year = None
        raw = (args.get("state") or "").strip()
        if raw:
            try:
                state = StateFilter(raw)
            except ValueError:
                errors["state"] = [_("Pilih \u201cactive\u201d (yang berlaku) atau "
                                     "\u201call\u201d (termasuk yang berakhir).")]
        raw = (args.get("bidang") or "").strip()
        if raw:
            try:
                bidang = Bidang(raw)
            except ValueError:
                errors["bidang"] = [_("Bidang kerja sama tidak dikenal.")]
        raw = (args.get("year") or "").strip()
        if raw:
            if raw.isdigit() and 1945 <= int(raw) <= 2200:
                year = int(raw)
            else:
                errors["year"] = [_("Tahun ditulis dengan empat angka, misalnya 2026.")]
        if errors:
            raise ValidationError(next(iter(errors.values()))[0], fields=errors)
        return cls(state, bidang, year)


class PartyRow(NamedTuple):
    """One party of one agreement, as the network needs it."""

    proposal_id: int
    kind: str
    bidang: list[str] | None
    state: str
    start_date: dt.date | None
    end_date: dt.date | None
    actor_id: int
    desa_code: str | None
    actor_name: str
    actor_kind: str
    actor_region: str | None


def _kecamatan(code: str | None) -> str:
    return code[:8] if code and len(code) >= 8 else ""


def _kabupaten(code: str | None) -> str:
    return code[:5] if code and len(code) >= 5 else ""


def node_key(row_desa: str | None, actor_id: int) -> str:
    return f"desa:{row_desa}" if row_desa else f"actor:{actor_id}"


def _party_select(states: Iterable[State]) -> sa.Select:
    withheld = (sa.select(PublicationWithholding.id)
                .where(PublicationWithholding.proposal_id == Proposal.id,
                       PublicationWithholding.lifted_at.is_(None)).exists())
    return (
        # bidang as its JSON text, decoded once per agreement (load_rows), not per party.
        sa.select(Proposal.id, Proposal.kind, sa.type_coerce(Proposal.bidang, sa.Text),
                  Proposal.state,
                  Proposal.start_date, Proposal.end_date, ProposalParty.actor_id,
                  sa.func.coalesce(ProposalParty.desa_code, Actor.desa_code), Actor.name,
                  Actor.kind, Actor.region_code)
        .join(ProposalParty, ProposalParty.proposal_id == Proposal.id)
        .join(Actor, Actor.id == ProposalParty.actor_id)
        .where(Proposal.state.in_(list(states)), Proposal.amends_id.is_(None), ~withheld)
        .order_by(Proposal.id, ProposalParty.position, ProposalParty.id)
    )


def _year_clause(year: int) -> sa.ColumnElement[bool]:
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return sa.and_(sa.or_(Proposal.start_date.is_(None), Proposal.start_date <= last),
                   sa.or_(Proposal.end_date.is_(None), Proposal.end_date >= first))


def _touching(condition: sa.ColumnElement[bool]) -> sa.Select:
    """Ids of proposals with a party matching ``condition``."""
    return sa.select(ProposalParty.proposal_id).where(condition)


def load_rows(scope: Scope, filters: NetworkFilters = NetworkFilters()) -> list[PartyRow]:
    """Every party of every agreement touching the scope (one query; two for a 2-step ego
    network), filtered."""
    stmt = _party_select(filters.state.states)
    if filters.year:
        stmt = stmt.where(_year_clause(filters.year))
    if scope.kind is ScopeKind.DESA:
        ids = _touching(ProposalParty.desa_code == scope.code)
        if scope.steps == 2:
            partners = sa.select(ProposalParty.actor_id).where(ProposalParty.proposal_id.in_(ids))
            ids = _touching(ProposalParty.actor_id.in_(partners))
        stmt = stmt.where(Proposal.id.in_(ids))
    elif scope.kind is ScopeKind.BKAD:
        stmt = stmt.where(Proposal.id.in_(
            _touching(ProposalParty.desa_code.in_(sorted(scope.members)))))
    elif scope.kind is not ScopeKind.NASIONAL:
        stmt = stmt.where(Proposal.id.in_(_touching(code_within(ProposalParty.desa_code,
                                                                 scope.code))))
    decoded: dict[int, list[str]] = {}
    rows = []
    for pid, kind, bidang, *rest in db.session.execute(stmt):
        if pid not in decoded:
            # SQLite hands the JSON text over; psycopg decodes json columns itself.
            value = json.loads(bidang) if isinstance(bidang, str | bytes) else bidang
            decoded[pid] = value if isinstance(value, list) else []
        rows.append(PartyRow(pid, kind, decoded[pid], *rest))
    if filters.bidang:
        wanted = filters.bidang.value
        rows = [r for r in rows if wanted in (r.bidang or [])]
    return rows


def scope_villages(scope: Scope) -> list[tuple[str, str, str]]:
    """(code, name, kind) of every desa the scope holds, agreements or not: the isolated
    ones are found among these."""
    stmt = sa.select(Region.code, Region.name, Region.kind).where(
        Region.level == 4, Region.kind.in_([k.value for k in VILLAGE_KINDS]))
    if scope.kind is ScopeKind.DESA:
        stmt = stmt.where(Region.code == scope.code)
    elif scope.kind is ScopeKind.BKAD:
        stmt = stmt.where(Region.code.in_(sorted(scope.members)))
    elif scope.kind is not ScopeKind.NASIONAL:
        stmt = stmt.where(code_within(Region.code, scope.code))
    return [(c, n, str(k)) for c, n, k in db.session.execute(stmt.order_by(Region.code))]


def _village_name(name: str, kind: str) -> str:
    label = RegionKind(kind).label
    return name if name.lower().startswith(label.lower()) else f"{label} {name}"


def build_graph(rows: Iterable[PartyRow], villages: Iterable[tuple[str, str, str]] = (),
                *, scope: Scope) -> nx.Graph:
    """The undirected weighted graph of ``rows``; ``villages`` are added as nodes even
    without an agreement. Node and edge attributes are plain values (str, int, float,
    bool) so that GraphML and GEXF carry them unchanged."""
    graph = nx.Graph(scope=scope.key, scope_label=scope.label)
    for code, name, kind in villages:
        _add_node(graph, f"desa:{code}", label=_village_name(name, kind), kind="desa",
                  actor_id=0, region=code, scope=scope)
    by_agreement: dict[int, list[PartyRow]] = defaultdict(list)
    for row in rows:
        by_agreement[row.proposal_id].append(row)
    for agreement_id, parties in by_agreement.items():
        keys = []
        for party in parties:
            key = node_key(party.desa_code, party.actor_id)
            if key in graph:
                if not graph.nodes[key]["actor_id"]:
                    graph.nodes[key]["actor_id"] = party.actor_id
                    graph.nodes[key]["label"] = party.actor_name
            else:
                kind = str(party.actor_kind)
                _add_node(graph, key, label=party.actor_name, kind=kind,
                          actor_id=party.actor_id,
                          region=party.desa_code if kind == ActorKind.DESA
                          else (party.actor_region or ""), scope=scope)
            keys.append(key)
        first = parties[0]
        state = str(first.state)
        active = State(state) in ACTIVE_STATES
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                if a == b:
                    continue
                _add_tie(graph, a, b, agreement_id, first, state, active)
    for _a, _b, data in graph.edges(data=True):
        data["agreements"] = " ".join(str(i) for i in sorted(data.pop("_ids")))
        for name in ("kinds", "bidang", "states"):
            data[name] = " ".join(sorted(data.pop("_" + name)))
        data["start"] = data["start"].isoformat() if data["start"] else ""
        data["end"] = data["end"].isoformat() if data["end"] else ""
    return graph


def _add_node(graph: nx.Graph, key: str, *, label: str, kind: str, actor_id: int,
              region: str | None, scope: Scope) -> None:
    kind_enum = ActorKind(kind)
    graph.add_node(key, label=label, kind=kind, category=kind_enum.category.value,
                   actor_id=actor_id, region=region or "", kecamatan=_kecamatan(region),
                   kabupaten=_kabupaten(region), inside=scope.contains(region))


def _add_tie(graph: nx.Graph, a: str, b: str, agreement_id: int, row: PartyRow,
             state: str, active: bool) -> None:
    if graph.has_edge(a, b):
        data = graph.edges[a, b]
    else:
        graph.add_edge(a, b, weight=0, active=0, _ids=set(), _kinds=set(), _bidang=set(),
                       _states=set(), start=None, end=None)
        data = graph.edges[a, b]
    if agreement_id in data["_ids"]:
        return
    data["_ids"].add(agreement_id)
    data["weight"] += 1
    data["active"] += int(active)
    data["_kinds"].add(str(row.kind))
    data["_bidang"].update(row.bidang or ())
    data["_states"].add(state)
    if row.start_date and (data["start"] is None or row.start_date < data["start"]):
        data["start"] = row.start_date
    if row.end_date and (data["end"] is None or row.end_date > data["end"]):
        data["end"] = row.end_date


def scope_graph(scope: Scope, filters: NetworkFilters = NetworkFilters()) -> nx.Graph:
    """The graph of a scope, computed now from the database."""
    graph = build_graph(load_rows(scope, filters), scope_villages(scope), scope=scope)
    if scope.kind is ScopeKind.DESA:
        centre = f"desa:{scope.code}"
        graph = nx.ego_graph(graph, centre, radius=scope.steps).copy()
    return graph
