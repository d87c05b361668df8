"""The cooperation network: hand-built networks whose metrics and stages are known, the
stage rule, the stored results and their refresh, access per role and scope, the pages."""

from __future__ import annotations

import networkx as nx
import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.actors.models import ActorKind
from coopdesa.errors import AccessDenied, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.network import graph as G
from coopdesa.network import metrics as M
from coopdesa.network import operations as ops
from coopdesa.network import store
from coopdesa.network.models import NetworkNode, NetworkResult
from coopdesa.network.stages import Stage, StageRule, stage_of, stage_reason
from coopdesa.proposals.states import State
from coopdesa.publication.models import PublicationWithholding
from tests.conftest import (
    BANJARNEGARA,
    DIENG,
    DIENG_KULON,
    GARUNG,
    KEJAJAR,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
    WONOSOBO,
)
from tests.factories import AdminFactory, BkadFactory, UserFactory
from tests.network_helpers import agreement, third_party

KEY = "desa:{}".format
RULE = StageRule()


@pytest.fixture
def kejajar(app):
    """Dieng is the hub of Kejajar: two desa, a business of the kabupaten and an NGO of the
    kecamatan; Sembungan and Patakbanteng once cooperated (ended); a withheld agreement, a
    draft and an addendum must change nothing."""
    pt = third_party("PT Wisata Alam Dieng", ActorKind.SWASTA, WONOSOBO)
    lsm = third_party("LSM Lestari Dieng", ActorKind.LSM, KEJAJAR)
    a1 = agreement(DIENG, SEMBUNGAN, bidang=("usaha_bersama",))
    agreement(DIENG, TIENG, bidang=("kemasyarakatan",))
    agreement(DIENG, pt, bidang=("usaha_bersama",))
    agreement(DIENG, lsm, bidang=("kemasyarakatan",), start=__import__("datetime").date(
        2027, 1, 1))
    agreement(SEMBUNGAN, PATAKBANTENG, state=State.ENDED)
    withheld = agreement(TIENG, PATAKBANTENG)
    db.session.add(PublicationWithholding(proposal_id=withheld.id, legal_basis="UU 14/2008",
                                          reason="uji"))
    agreement(DIENG, PATAKBANTENG, state=State.DRAFT)
    addendum = agreement(DIENG, SEMBUNGAN, commit=False)
    addendum.amends_id = a1.id
    addendum.amendment_seq = 1
    db.session.commit()
    return {"pt": pt, "lsm": lsm, "a1": a1}


def _network(key: str, **filters):
    scope = G.parse_scope(key)
    graph = G.scope_graph(scope, G.NetworkFilters.parse(filters))
    return graph, M.compute(graph, RULE)


# --- stage rule ----------------------------------------------------------------------------

@pytest.mark.parametrize(("partners", "kinds", "outside", "stage"), [
    (0, 0, 0, Stage.BONDING),
    (1, 1, 0, Stage.BRIDGING),
    (3, 3, 3, Stage.BRIDGING),          # "dua atau tiga komunitas"
    (4, 1, 4, Stage.BRIDGING),          # many, but all of one kind
    (4, 2, 0, Stage.BRIDGING),          # diverse, but none beyond the kecamatan
    (4, 2, 1, Stage.NETWORKING),
    (9, 5, 6, Stage.NETWORKING),
])
def test_stage_rule_defaults(partners, kinds, outside, stage):
    assert stage_of(partners, kinds, outside, RULE) is stage


def test_stage_reason_names_the_counts_and_what_is_missing(app):
    text = stage_reason(2, 1, 0, RULE)
    assert "2 mitra aktif" in text and "1 jenis mitra" in text
    assert "2 mitra lagi" in text and "1 jenis mitra lagi" in text
    assert "dari luar kecamatan" in text
    assert "tertutup" in stage_reason(0, 0, 0, RULE)
    assert "memenuhi aturan jejaring" in stage_reason(4, 2, 1, RULE)


def test_stage_rule_from_setting():
    assert StageRule.from_setting("") == StageRule()
    rule = StageRule.from_setting('{"networking_partners": 6, "networking_kinds": 3}')
    assert (rule.networking_partners, rule.networking_kinds) == (6, 3)
    assert stage_of(5, 3, 1, rule) is Stage.BRIDGING
    with pytest.raises(ValueError, match="unknown key 'partners'"):
        StageRule.from_setting('{"partners": 3}')
    with pytest.raises(ValueError, match="whole number"):
        StageRule.from_setting('{"networking_kinds": -1}')
    with pytest.raises(ValueError, match="whole number"):
        StageRule.from_setting('{"networking_kinds": "dua"}')
    with pytest.raises(ValueError, match="bridging_partners"):
        StageRule.from_setting('{"bridging_partners": 5, "networking_partners": 2}')
    with pytest.raises(ValueError):
        StageRule.from_setting("[1, 2]")


def test_a_bad_stage_rule_stops_the_start_up(tmp_path):
    from coopdesa import create_app

    with pytest.raises(ValueError, match="COOPDESA_NETWORK_STAGE_RULE"):
        create_app({"ENV_NAME": "testing", "NETWORK_STAGE_RULE": '{"x": 1}',
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


# --- the graph and its metrics -------------------------------------------------------------

def test_kecamatan_network_metrics_by_hand(kejajar):
    graph, m = _network(f"kecamatan:{KEJAJAR}")
    pt, lsm = f"actor:{kejajar['pt'].id}", f"actor:{kejajar['lsm'].id}"
    # 15 desa of Kejajar (the kelurahan makes no agreements) + the two third parties.
    desa = [k for k, a in graph.nodes(data=True) if a["kind"] == "desa"]
    assert len(desa) == 15 and "desa:33.07.13.1008" not in graph
    assert graph.number_of_nodes() == 17
    # Only the four agreements of Dieng bind now: no ended, withheld, draft or addendum.
    assert sorted(map(sorted, graph.edges())) == sorted(map(sorted, [
        (KEY(DIENG), KEY(SEMBUNGAN)), (KEY(DIENG), KEY(TIENG)), (KEY(DIENG), pt),
        (KEY(DIENG), lsm)]))
    assert graph.edges[KEY(DIENG), KEY(SEMBUNGAN)]["weight"] == 1  # the addendum is no tie
    assert m.agreement_count == 4 and m.edge_count == 4
    dieng = m.nodes[KEY(DIENG)]
    assert (dieng.degree, dieng.weighted_degree) == (4, 4)
    # A star: the 6 pairs of its 4 leaves all pass through Dieng; n = 17.
    assert dieng.betweenness == pytest.approx(6 / (16 * 15 / 2))
    assert m.nodes[KEY(SEMBUNGAN)].betweenness == 0
    assert dieng.categories == {"desa": 2, "usaha": 1, "masyarakat_sipil": 1}
    # The PT sits at the kabupaten, so outside the kecamatan; the LSM inside.
    assert (dieng.outside_kecamatan, dieng.outside_kabupaten) == (1, 0)
    assert dieng.stage is Stage.NETWORKING
    assert m.nodes[KEY(SEMBUNGAN)].stage is Stage.BRIDGING
    assert m.nodes[KEY(PATAKBANTENG)].stage is Stage.BONDING
    assert m.nodes[pt].stage is None  # stages are for desa
    assert m.density == pytest.approx(4 / (17 * 16 / 2), abs=1e-6)
    assert len(m.isolated) == 12 and KEY(PATAKBANTENG) in m.isolated
    assert m.communities == [sorted([KEY(DIENG), KEY(SEMBUNGAN), KEY(TIENG), pt, lsm])]
    assert dieng.community == 1 and m.nodes[KEY(PATAKBANTENG)].community is None
    assert m.stage_counts == {Stage.BONDING: 12, Stage.BRIDGING: 2, Stage.NETWORKING: 1}
    assert m.betweenness_exact


def test_filters_state_bidang_year(kejajar):
    graph, m = _network(f"kecamatan:{KEJAJAR}", state="all")
    tie = graph.edges[KEY(SEMBUNGAN), KEY(PATAKBANTENG)]
    assert (tie["weight"], tie["active"], tie["states"]) == (1, 0, "ended")
    # An ended tie is no active partner: Patakbanteng is still at bonding.
    assert m.nodes[KEY(PATAKBANTENG)].stage is Stage.BONDING
    assert KEY(PATAKBANTENG) not in m.isolated
    graph, m = _network(f"kecamatan:{KEJAJAR}", bidang="kemasyarakatan")
    assert graph.degree(KEY(DIENG)) == 2 and graph.degree(KEY(SEMBUNGAN)) == 0
    graph, m = _network(f"kecamatan:{KEJAJAR}", year="2026")
    assert f"actor:{kejajar['lsm'].id}" not in {n for n in graph if graph.degree(n)}
    with pytest.raises(ValidationError) as info:
        G.NetworkFilters.parse({"state": "x", "bidang": "y", "year": "26"})
    assert set(info.value.fields) == {"state", "bidang", "year"}


def test_ego_network_one_and_two_steps(kejajar):
    agreement(SEMBUNGAN, GARUNG + ".2001")
    one, _m = _network(f"desa:{SEMBUNGAN}")
    assert set(one) == {KEY(SEMBUNGAN), KEY(DIENG), KEY(GARUNG + ".2001")}
    two, m = _network(f"desa:{SEMBUNGAN}:2")
    assert {KEY(TIENG), f"actor:{kejajar['pt'].id}"} <= set(two)
    assert m.nodes[KEY(SEMBUNGAN)].stage is Stage.BRIDGING
    # Dieng is outside a desa scope: its stage is not this page's to give.
    assert m.nodes[KEY(DIENG)].stage is None


def test_cross_border_ties(app):
    agreement(DIENG, GARUNG + ".2001")
    koperasi = third_party("Koperasi Banjarnegara", ActorKind.KOPERASI, BANJARNEGARA)
    agreement(DIENG, koperasi)
    agreement(DIENG, DIENG_KULON)
    graph, m = _network(f"kabupaten:{WONOSOBO}")
    assert m.cross_kecamatan == 2  # Garung and Dieng Kulon; the koperasi has no kecamatan
    assert m.cross_kabupaten == 2  # the koperasi and Dieng Kulon
    assert graph.nodes[KEY(DIENG_KULON)]["inside"] is False
    assert m.nodes[KEY(DIENG)].outside_kabupaten == 2
    assert m.nodes[KEY(DIENG_KULON)].stage is None


def test_bkad_scope(app):
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN, TIENG])
    agreement(DIENG, SEMBUNGAN, TIENG)
    graph, m = _network(f"bkad:{bkad.id}")
    assert set(graph) == {KEY(DIENG), KEY(SEMBUNGAN), KEY(TIENG)}
    assert graph.number_of_edges() == 3  # one agreement of three parties: a triangle
    assert m.stage_counts[Stage.BRIDGING] == 3


@pytest.mark.parametrize("text", ["", "kota:33.07", "kecamatan", "desa:33.07.13.2013:3",
                                  "kecamatan:33.07.13:2", "nasional:33", "bkad:x",
                                  "kecamatan:../../etc"])
def test_bad_scopes_are_refused(app, text):
    with pytest.raises((ValidationError, NotFoundError)):
        G.parse_scope(text)


def test_scope_levels_must_match_the_register(app):
    with pytest.raises(NotFoundError):
        G.parse_scope(f"kecamatan:{WONOSOBO}")
    with pytest.raises(ValidationError, match="kelurahan"):
        G.parse_scope("desa:33.07.13.1008")
    assert G.parse_scope(f"desa:{DIENG}:2").key == f"desa:{DIENG}:2"
    assert G.parse_scope("nasional").key == "nasional"


def test_betweenness_is_sampled_with_a_fixed_seed_on_huge_graphs(monkeypatch):
    monkeypatch.setattr(M, "EXACT_BETWEENNESS_NODES", 10)
    monkeypatch.setattr(M, "BETWEENNESS_SAMPLES", 5)
    graph = nx.path_graph(30)
    first, exact = M.betweenness(graph)
    assert not exact and first == M.betweenness(graph)[0]


# --- stored results ------------------------------------------------------------------------

def test_stored_result_is_read_until_the_agreements_change(kejajar):
    first = store.fresh_result(WONOSOBO)
    db.session.commit()
    before = (first.fingerprint, first.computed_at)
    assert first.stage_counts["networking"] == 1
    again = store.fresh_result(WONOSOBO)  # unchanged: read, not recomputed
    assert (again.fingerprint, again.computed_at) == before
    assert WONOSOBO not in store.stale_codes("33")
    node = db.session.scalar(sa.select(NetworkNode).where(NetworkNode.desa_code == DIENG))
    assert node.stage is Stage.NETWORKING and node.degree == 4
    # A new agreement changes the fingerprint: the next read recomputes.
    agreement(SEMBUNGAN, TIENG)
    assert WONOSOBO in store.stale_codes("33")
    second = store.fresh_result(WONOSOBO)
    db.session.commit()
    assert (second.fingerprint, second.computed_at) != before
    assert second.agreement_count == 5
    assert db.session.scalar(sa.select(sa.func.count(NetworkResult.id))) == 1
    assert store.stale_codes(WONOSOBO) == []


@pytest.mark.parametrize("change", ["state", "withhold", "actor", "rule"])
def test_every_kind_of_change_makes_the_result_stale(kejajar, app, change):
    store.fresh_result(WONOSOBO)
    db.session.commit()
    if change == "state":
        kejajar["a1"].state = State.ENDED
        kejajar["a1"].state_changed_at = sa.func.now()
    elif change == "withhold":
        db.session.add(PublicationWithholding(proposal_id=kejajar["a1"].id,
                                              legal_basis="UU 14/2008", reason="uji"))
    elif change == "actor":
        kejajar["pt"].kind = ActorKind.KOPERASI
    else:
        app.extensions["coopdesa.network_rule"] = StageRule(networking_partners=9)
    db.session.commit()
    try:
        assert store.stale_codes(WONOSOBO) == [WONOSOBO]
    finally:
        app.extensions["coopdesa.network_rule"] = StageRule()


def test_compute_all_and_the_nightly_refresh(kejajar):
    assert store.stale_codes("33") == [WONOSOBO]  # the others have no agreement
    counts = store.compute_all(prefix="33")
    db.session.commit()
    assert counts["kabupaten"] == len(store.kabupaten_codes("33"))
    assert counts["agreements"] == 4
    assert store.stale_codes("33") == []
    assert store.lifecycle_hook(None) == {"network_refreshed": 0}
    agreement(SEMBUNGAN, TIENG)
    assert store.lifecycle_hook(None) == {"network_refreshed": 1}
    only = store.compute_all(prefix="33", only_stale=True)
    assert only["kabupaten"] == 0


def test_kabupaten_page_reads_the_store_and_agrees_with_live_metrics(kejajar):
    scope = G.parse_scope(f"kabupaten:{WONOSOBO}")
    stored = ops.live_network(scope)
    assert stored.from_store
    live = M.compute(G.scope_graph(scope), RULE)
    for key, m in live.nodes.items():
        s = stored.metrics.nodes[key]
        assert (s.degree, s.betweenness, s.stage) == (m.degree, m.betweenness, m.stage), key
    assert stored.metrics.isolated == live.isolated
    filtered = ops.live_network(scope, G.NetworkFilters.parse({"bidang": "kemasyarakatan"}))
    assert not filtered.from_store
    # Stages do not move with the filter.
    assert filtered.metrics.nodes[KEY(SEMBUNGAN)].stage is Stage.BRIDGING


def test_overview_of_a_province(kejajar):
    overview = ops.overview(G.parse_scope("provinsi:33"))
    db.session.commit()
    assert (overview.refreshed, overview.stale) == (1, 0)  # Wonosobo, computed on read
    rows = {r.code: r for r in overview.rows}
    wonosobo = rows[WONOSOBO]
    assert wonosobo.stage_counts == {"bonding": wonosobo.villages - 3, "bridging": 2,
                                     "networking": 1}
    # Banjarnegara has no agreement and no stored result: all its desa at bonding.
    assert rows[BANJARNEGARA].stage_counts["bonding"] == rows[BANJARNEGARA].villages > 0
    assert rows[BANJARNEGARA].agreements == 0
    assert overview.stage_counts["networking"] == 1
    country = ops.overview(G.parse_scope("nasional"))
    jateng = next(r for r in country.rows if r.code == "33")
    assert jateng.stage_counts["networking"] == 1 and jateng.agreements == 4


# --- access --------------------------------------------------------------------------------

def _user(kind: str):
    if kind == "admin":
        return AdminFactory()
    if kind == "sekretaris":
        return UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    if kind == "kepala_desa":
        return UserFactory(role=Role.KEPALA_DESA, desa_code=SEMBUNGAN)
    if kind == "bkad":
        return UserFactory(role=Role.BKAD, bkad=BkadFactory(desa_codes=[DIENG, SEMBUNGAN]))
    if kind == "camat":
        return UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR)
    if kind == "inspektorat":
        return UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    return UserFactory(role=Role.AUDITOR, jurisdiction_code="33")


SCOPES = [f"desa:{DIENG}", f"desa:{TIENG}:2", f"kecamatan:{KEJAJAR}", f"kecamatan:{GARUNG}",
          f"kabupaten:{WONOSOBO}", f"kabupaten:{BANJARNEGARA}", "provinsi:33", "nasional"]
ALLOWED = {
    "admin": set(SCOPES),
    "sekretaris": set(SCOPES[:5]) | {"bkad"},
    "kepala_desa": set(SCOPES[:5]) | {"bkad"},
    "bkad": set(SCOPES[:5]) | {"bkad"},
    "camat": {f"desa:{DIENG}", f"desa:{TIENG}:2", f"kecamatan:{KEJAJAR}", "bkad"},
    "inspektorat": set(SCOPES[:5]) | {"bkad"},
    "provinsi": set(SCOPES[:7]) | {"bkad"},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_network_access_matrix(app, role):
    from coopdesa import access
    from coopdesa.access import Action, NetworkOf

    user = _user(role)
    bkad = BkadFactory(desa_codes=[DIENG, TIENG])
    for key in [*SCOPES, f"bkad:{bkad.id}"]:
        scope = G.parse_scope(key)
        expected = (key if not key.startswith("bkad:") else "bkad") in ALLOWED[role] or \
            role == "admin"
        for action in (Action.VIEW, Action.EXPORT):
            assert access.can(user, action, NetworkOf(scope)) is expected, (role, key, action)
        if not expected:
            with pytest.raises(AccessDenied) as info:
                access.require(user, Action.VIEW, NetworkOf(scope))
            assert "kabupaten" in info.value.message or "pengawasan" in info.value.message


def test_default_scope_per_role(app):
    assert ops.default_scope(_user("sekretaris")).key == f"kecamatan:{KEJAJAR}"
    assert ops.default_scope(_user("camat")).key == f"kecamatan:{KEJAJAR}"
    assert ops.default_scope(_user("inspektorat")).key == f"kabupaten:{WONOSOBO}"
    assert ops.default_scope(_user("provinsi")).key == "provinsi:33"
    assert ops.default_scope(_user("admin")).key == "nasional"
    assert ops.default_scope(_user("bkad")).kind is G.ScopeKind.BKAD


def test_betweenness_agrees_with_networkx():
    graph = nx.relabel_nodes(nx.gnm_random_graph(120, 260, seed=3), lambda n: f"desa:{n}")
    graph.add_nodes_from(["desa:lonely"])  # an isolated node
    ours, exact = M.betweenness(graph)
    assert exact
    reference = nx.betweenness_centrality(graph, normalized=True)
    assert ours.keys() == reference.keys()
    assert max(abs(ours[k] - reference[k]) for k in ours) < 1e-12
    assert M.betweenness(nx.path_graph(2))[0] == {0: 0.0, 1: 0.0}
