"""Synthetic networks (issue 6, "Scale"): the generator's data obey the register and the
proposal rules, are the same for a seed and never go into production; the CLI generates
and stores results; the demo network sits in Kejajar; and the pages and the nightly
commands work with agreements that have no signature and no final document."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa

from coopdesa.actors.models import Actor, ActorKind
from coopdesa.actors.operations import village_actor
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.network import store
from coopdesa.network.models import NetworkNode, NetworkResult
from coopdesa.network.stages import Stage
from coopdesa.network.synthetic import REF_PREFIX, demo_network, generate
from coopdesa.proposals.models import (
    Bidang,
    EndGround,
    Initiative,
    Kind,
    PartyRole,
    Proposal,
    ProposalParty,
)
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region, RegionKind
from tests.conftest import DIENG, KEJAJAR, PATAKBANTENG, SEMBUNGAN, TIENG, WONOSOBO
from tests.factories import AdminFactory, UserFactory
from tests.network_helpers import agreement, third_party

HOSTILE = '<script>alert("x")</script> & "Mitra" \'Jahat\''


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _parties() -> dict[int, list[ProposalParty]]:
    by_proposal: dict[int, list[ProposalParty]] = {}
    for party in db.session.scalars(sa.select(ProposalParty).order_by(
            ProposalParty.proposal_id, ProposalParty.position)):
        by_proposal.setdefault(party.proposal_id, []).append(party)
    return by_proposal


def _snapshot() -> list[tuple]:
    """The generated network without its ids."""
    names = dict(db.session.execute(sa.select(Actor.id, Actor.name)).all())
    parties = _parties()
    return [(p.kind, p.initiative, p.state, p.title, tuple(p.bidang), p.start_date, p.end_date,
             p.ended_on, p.end_ground,
             tuple((names[x.actor_id], x.desa_code, x.role) for x in parties[p.id]))
            for p in db.session.scalars(sa.select(Proposal).order_by(Proposal.id))]


def _wipe() -> None:
    for model in (NetworkNode, NetworkResult, ProposalParty, Proposal, Actor):
        db.session.execute(sa.delete(model))
    db.session.commit()


# --- the generator -------------------------------------------------------------------------

def test_a_small_network_obeys_the_register_and_the_rules(app):
    today = local_today()
    result = generate(prefix=WONOSOBO, agreements=300, actors=40, seed=7)
    db.session.commit()
    assert result["agreements"] == _count(Proposal) == 300
    assert result["antar_desa"] + result["pihak_ketiga"] == 300
    assert 150 <= result["antar_desa"] <= 210  # about 60 %
    assert result["third_parties"] == 40
    assert result["parties"] == _count(ProposalParty)
    assert _count(Actor) == 40 + result["desa_actors"]

    villages = {code: kind for code, kind in db.session.execute(
        sa.select(Region.code, Region.kind).where(Region.level == 4))}
    wonosobo_desa = [c for c, k in villages.items() if c.startswith(WONOSOBO + ".")
                     and k in (RegionKind.DESA, RegionKind.DESA_ADAT)]
    assert result["villages"] == len(wonosobo_desa)
    # Skewed: some desa have many agreements, many (about a third) none.
    taking_part = result["desa_taking_part"]
    assert 0.45 * len(wonosobo_desa) <= taking_part <= 0.75 * len(wonosobo_desa)

    actors = {a.id: a for a in db.session.scalars(sa.select(Actor))}
    for actor in actors.values():
        if actor.kind == ActorKind.DESA:
            region = db.session.get(Region, actor.desa_code)
            assert actor.region_code == actor.desa_code
            assert actor.name == f"Desa {region.name}"
        else:
            assert actor.desa_code is None
            assert actor.region_code == WONOSOBO or actor.region_code.startswith(WONOSOBO + ".")
            assert len(actor.region_code) in (5, 8)  # a kabupaten or a kecamatan
    third_kinds = Counter(a.kind for a in actors.values() if a.kind != ActorKind.DESA)
    assert len(third_kinds) >= 6

    parties = _parties()
    refs = set()
    desa_agreements: Counter[str] = Counter()
    for p in db.session.scalars(sa.select(Proposal)):
        assert p.ref.startswith(REF_PREFIX) and len(p.ref) <= 20 and p.ref not in refs
        refs.add(p.ref)
        assert p.title_key == p.title.lower() and p.version == 1 and p.amends_id is None
        assert p.state in (State.ACTIVE, State.ENDED, State.SIGNED, State.POSTPONED)
        assert 1 <= len(p.bidang) <= 2 and all(Bidang(b) for b in p.bidang)
        assert p.start_date < p.end_date
        assert p.submitted_at is not None and p.created_at <= p.submitted_at
        assert p.state_changed_at is not None and p.updated_at >= p.state_changed_at
        if p.state == State.ENDED:
            assert p.end_ground in (EndGround.A_KESEPAKATAN, EndGround.I_JANGKA_WAKTU)
            assert p.start_date < p.ended_on <= today
            if p.end_ground == EndGround.I_JANGKA_WAKTU:
                assert p.ended_on == p.end_date + dt.timedelta(days=1)
        else:
            assert p.ended_on is None and p.end_ground is None
        if p.state in (State.ACTIVE, State.POSTPONED):
            assert p.start_date <= today < p.end_date
        if p.state == State.SIGNED:
            assert p.start_date > today
        members = parties[p.id]
        assert [m.position for m in members] == list(range(len(members)))
        desa = [m for m in members if m.desa_code]
        third = [m for m in members if not m.desa_code]
        for m in desa:
            assert villages[m.desa_code] in (RegionKind.DESA, RegionKind.DESA_ADAT)
            assert actors[m.actor_id].desa_code == m.desa_code
            desa_agreements[m.desa_code] += 1
        assert p.kabupaten_code == WONOSOBO == desa[0].desa_code[:5]
        assert {m.desa_code[:5] for m in desa} == {WONOSOBO}
        if p.kind == Kind.ANTAR_DESA:
            assert 2 <= len(desa) <= 5 and not third
            assert p.initiative == Initiative.DESA
        else:
            assert 1 <= len(desa) <= 3 and 1 <= len(third) <= 2
            assert all(actors[m.actor_id].kind != ActorKind.DESA for m in third)
        leaders = {m.actor_id for m in members if m.role == PartyRole.PEMRAKARSA}
        if p.initiative == Initiative.PIHAK_KETIGA:
            assert leaders == {m.actor_id for m in third}
        else:
            assert leaders == {members[0].actor_id} and members[0].desa_code
    states = Counter(p.state for p in db.session.scalars(sa.select(Proposal)))
    assert states[State.ACTIVE] > states[State.ENDED] > states[State.SIGNED]
    assert max(desa_agreements.values()) >= 4 * (sum(desa_agreements.values())
                                                  / len(desa_agreements))


def test_never_a_kelurahan_party(app):
    generate(prefix=KEJAJAR, agreements=120, actors=10, seed=3)
    db.session.commit()
    codes = set(db.session.scalars(sa.select(ProposalParty.desa_code).where(
        ProposalParty.desa_code.is_not(None))))
    kinds = set(db.session.scalars(sa.select(Region.kind).where(Region.code.in_(codes))))
    assert kinds <= {RegionKind.DESA, RegionKind.DESA_ADAT}
    assert "33.07.13.1008" not in codes  # Kelurahan Kejajar
    assert len(codes) >= 5


def test_the_same_seed_gives_the_same_network(app):
    today = dt.date(2026, 11, 23)
    generate(prefix=WONOSOBO, agreements=150, actors=20, seed=11, today=today)
    db.session.commit()
    first = _snapshot()
    _wipe()
    generate(prefix=WONOSOBO, agreements=150, actors=20, seed=11, today=today)
    db.session.commit()
    assert _snapshot() == first
    _wipe()
    generate(prefix=WONOSOBO, agreements=150, actors=20, seed=12, today=today)
    db.session.commit()
    assert _snapshot() != first


def test_existing_desa_actors_are_reused_and_ids_follow_the_existing_ones(app):
    kejajar = db.session.scalars(sa.select(Region.code).where(
        Region.parent_code == KEJAJAR, Region.kind == RegionKind.DESA)).all()
    existing = {code: village_actor(code).id for code in kejajar}
    before = agreement(DIENG, SEMBUNGAN)
    result = generate(prefix=KEJAJAR, agreements=200, actors=5, seed=2)
    db.session.commit()
    assert result["desa_actors"] == 0 and result["desa_reused"] == result["desa_taking_part"]
    assert dict(db.session.execute(sa.select(Actor.desa_code, Actor.id).where(
        Actor.desa_code.is_not(None))).all()) == existing
    used = set(db.session.scalars(sa.select(ProposalParty.actor_id).join(Proposal).where(
        Proposal.ref.startswith(REF_PREFIX), ProposalParty.desa_code.is_not(None))))
    assert used and used <= set(existing.values())
    assert db.session.scalar(sa.select(sa.func.min(Proposal.id))
                             .where(Proposal.ref.startswith(REF_PREFIX))) == before.id + 1
    # A proposal made afterwards through the ORM gets a free id (sequences moved on).
    after = agreement(DIENG, PATAKBANTENG)
    assert after.id > db.session.scalar(sa.select(sa.func.max(Proposal.id))
                                        .where(Proposal.ref.startswith(REF_PREFIX)))


def test_bad_requests_are_refused(app):
    with pytest.raises(NotFoundError):
        generate(prefix="99.99", agreements=10, actors=1)
    with pytest.raises(ValidationError):
        generate(prefix=WONOSOBO, agreements=-1, actors=1)
    with pytest.raises(ValidationError, match="Tidak ada desa"):
        generate(prefix="33.74.01", agreements=10, actors=1)  # kelurahan only
    assert _count(Proposal) == 0


def test_refused_in_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with pytest.raises(ConflictError, match="produksi"):
        generate(prefix=WONOSOBO, agreements=10, actors=2)
    with pytest.raises(ConflictError):
        demo_network()
    result = runner.invoke(args=["coopdesa", "network", "synthesize", "--prefix", WONOSOBO,
                                 "--agreements", "10", "--actors", "2"])
    assert result.exit_code == 1
    assert "Data sintetis tidak pernah dibuat dalam mode produksi" in result.stderr
    assert _count(Proposal) == 0 and _count(Actor) == 0


# --- the commands --------------------------------------------------------------------------

def test_cli_synthesize_then_compute_stores_results(app, runner):
    result = runner.invoke(args=["coopdesa", "network", "synthesize", "--prefix", WONOSOBO,
                                 "--agreements", "200", "--actors", "20", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "Kerja sama sintetis dibuat: 200" in result.stdout
    assert "Pihak ketiga baru: 20" in result.stdout
    assert _count(Proposal) == 200
    assert store.stale_codes(WONOSOBO) == [WONOSOBO]

    result = runner.invoke(args=["coopdesa", "network", "compute", "--scope", WONOSOBO])
    assert result.exit_code == 0, result.output
    assert "Jaringan dihitung: 1 kabupaten/kota" in result.stdout
    assert "Kabupaten Wonosobo, 33.07" in result.stdout
    stored = db.session.scalar(sa.select(NetworkResult).where(
        NetworkResult.scope_code == WONOSOBO))
    active = db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.state.in_([State.ACTIVE, State.SIGNED, State.POSTPONED])))
    assert stored.agreement_count == active
    villages = db.session.scalar(sa.select(sa.func.count()).select_from(Region).where(
        Region.level == 4, Region.code.startswith(WONOSOBO + "."),
        Region.kind.in_([RegionKind.DESA, RegionKind.DESA_ADAT])))
    assert stored.village_count == villages
    assert 0 < stored.isolated_count < villages
    assert sum(stored.stage_counts.values()) == villages
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NetworkNode).where(
        NetworkNode.result_id == stored.id)) == stored.node_count
    assert store.stale_codes(WONOSOBO) == []

    # Nothing changed: nothing to do. One agreement ends: its kabupaten is refreshed.
    result = runner.invoke(args=["coopdesa", "network", "compute", "--stale-only"])
    assert result.exit_code == 0, result.output
    assert "Jaringan dihitung: 0 kabupaten/kota" in result.stdout
    changed = db.session.scalar(sa.select(Proposal).where(Proposal.state == State.ACTIVE)
                                .order_by(Proposal.id).limit(1))
    changed.state = State.ENDED
    changed.ended_on = local_today()
    changed.end_ground = EndGround.A_KESEPAKATAN
    changed.state_changed_at = dt.datetime.now(dt.UTC)
    db.session.commit()
    assert store.stale_codes() == [WONOSOBO]
    result = runner.invoke(args=["coopdesa", "network", "compute", "--stale-only"])
    assert result.exit_code == 0, result.output
    assert "Jaringan dihitung: 1 kabupaten/kota" in result.stdout
    db.session.expire_all()
    assert db.session.get(NetworkResult, stored.id).agreement_count == active - 1
    assert store.stale_codes() == []


def test_cli_compute_refuses_a_bad_scope(runner):
    for scope in ("99", KEJAJAR):
        result = runner.invoke(args=["coopdesa", "network", "compute", "--scope", scope])
        assert result.exit_code == 1
        assert "bukan kode provinsi atau kabupaten/kota" in result.stderr
    result = runner.invoke(args=["coopdesa", "network", "synthesize", "--prefix", "99.99",
                                 "--agreements", "5"])
    assert result.exit_code == 1 and "tidak ada dalam daftar resmi" in result.stderr


def test_cli_compute_for_a_province(app, runner):
    generate(prefix=WONOSOBO, agreements=40, actors=5, seed=1)
    agreement(DIENG, third_party(HOSTILE, ActorKind.LSM))
    result = runner.invoke(args=["coopdesa", "network", "compute", "--scope", "33"])
    assert result.exit_code == 0, result.output
    provinces = db.session.scalar(sa.select(sa.func.count()).select_from(Region).where(
        Region.level == 2, Region.code.startswith("33.")))
    assert f"Jaringan dihitung: {provinces} kabupaten/kota" in result.stdout
    assert set(db.session.scalars(sa.select(NetworkResult.scope_code))) == set(
        db.session.scalars(sa.select(Region.code).where(Region.level == 2,
                                                         Region.code.startswith("33."))))
    label = db.session.scalar(sa.select(NetworkNode.label).where(
        NetworkNode.kind == ActorKind.LSM.value, NetworkNode.label == HOSTILE))
    assert label == HOSTILE  # stored as written; the pages escape it


# --- the demo network ----------------------------------------------------------------------

def _stages(code: str) -> dict[str, NetworkNode]:
    result = store.fresh_result(code)
    db.session.commit()
    return {n.desa_code: n for n in result.nodes if n.desa_code}


def test_demo_network_in_kejajar(app):
    dieng = village_actor(DIENG)
    db.session.commit()
    made = demo_network()
    db.session.commit()
    assert made["third_parties"] == 40
    assert 140 <= made["agreements"] <= 160
    assert _count(Proposal) == made["agreements"]
    assert db.session.scalars(sa.select(Actor.id).where(Actor.desa_code == DIENG)).all() \
        == [dieng.id]
    nodes = _stages(WONOSOBO)
    kejajar = {c: n for c, n in nodes.items() if c.startswith(KEJAJAR + ".")}
    assert len(kejajar) == 15  # every desa of Kejajar (Kelurahan Kejajar is not one)
    assert kejajar[DIENG].stage == Stage.NETWORKING
    assert kejajar[PATAKBANTENG].stage == Stage.NETWORKING
    stages = Counter(n.stage for n in kejajar.values())
    assert stages[Stage.NETWORKING] == 2 and stages[Stage.BRIDGING] >= 6
    assert kejajar[TIENG].stage == Stage.BONDING and kejajar[TIENG].degree == 0
    assert stages[Stage.BONDING] >= 3
    # A few dozen actors sit in Kejajar.
    inside = db.session.scalar(sa.select(sa.func.count()).select_from(Actor).where(
        Actor.region_code.startswith(KEJAJAR + ".") | (Actor.region_code == KEJAJAR)))
    assert inside >= 25
    # Again: nothing changes.
    assert demo_network() == {"agreements": 0, "third_parties": 0}
    assert _count(Proposal) == made["agreements"]


def test_demo_network_reuses_the_demo_parties(app):
    from coopdesa.demo import _ACTORS, load_demo

    load_demo()
    names = [a["name"] for a in _ACTORS]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Actor).where(
        Actor.name.in_(names))) == len(names)
    demo = db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        ~Proposal.ref.startswith(REF_PREFIX)))
    synthetic = db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.ref.startswith(REF_PREFIX)))
    assert demo == 5 and 140 <= synthetic <= 160
    third = db.session.scalar(sa.select(sa.func.count()).select_from(Actor).where(
        Actor.kind != ActorKind.DESA))
    assert third == len(names) + 40  # 10 more in Kejajar, 30 in the other kecamatan
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Actor).where(
        Actor.desa_code == SEMBUNGAN)) == 1
    # Tieng, the demo's desa outside the BKAD, stays isolated.
    assert _stages(WONOSOBO)[TIENG].degree == 0


# --- pages and nightly commands with synthetic agreements ----------------------------------

def test_pages_and_commands_work_with_synthetic_agreements(app, client, login, runner):
    generate(prefix=WONOSOBO, agreements=120, actors=15, seed=9)
    hostile = third_party(HOSTILE, ActorKind.LSM)
    marked = agreement(DIENG, hostile, SEMBUNGAN)
    db.session.commit()
    admin = AdminFactory()
    login(admin)
    kinds_seen = set()
    for state in (State.ACTIVE, State.ENDED, State.SIGNED, State.POSTPONED):
        for kind in Kind:
            proposal = db.session.scalar(sa.select(Proposal).where(
                Proposal.state == state, Proposal.kind == kind,
                Proposal.ref.startswith(REF_PREFIX)).limit(1))
            if proposal is None:
                continue
            kinds_seen.add((state, kind))
            response = client.get(f"/kerja-sama/{proposal.id}")
            assert response.status_code == 200, (state, kind)
            assert proposal.title in response.get_data(as_text=True)
            for extra in ("status-kerja-sama", "laporan"):
                assert client.get(f"/kerja-sama/{proposal.id}/{extra}").status_code == 200
    assert len(kinds_seen) >= 6
    page = client.get(f"/kerja-sama/{marked.id}").get_data(as_text=True)
    assert HOSTILE not in page and "&lt;script&gt;alert(" in page

    listing = client.get("/kerja-sama/")
    assert listing.status_code == 200 and REF_PREFIX in listing.get_data(as_text=True)
    assert client.get("/kerja-sama/?state=active").status_code == 200
    home = client.get("/")
    assert home.status_code == 200 and HOSTILE not in home.get_data(as_text=True)

    sekdes = UserFactory(username="sekdes.uji.dieng", desa_code=DIENG)
    village = app.test_client()
    assert village.post("/masuk", data={"username": sekdes.username,
                                        "password": "rahasia-uji-2026"}).status_code == 302
    assert village.get("/").status_code == 200
    assert village.get("/kerja-sama/").status_code == 200

    public = app.test_client()
    assert public.get("/publik").status_code == 200
    busiest = db.session.scalar(
        sa.select(ProposalParty.desa_code).where(ProposalParty.desa_code.is_not(None))
        .group_by(ProposalParty.desa_code).order_by(sa.func.count().desc()).limit(1))
    response = public.get(f"/publik/desa/{busiest}")
    assert response.status_code == 200
    # No final document, nothing public: the synthetic agreements stay off the page.
    assert REF_PREFIX not in response.get_data(as_text=True)

    result = runner.invoke(args=["coopdesa", "lifecycle"])
    assert result.exit_code == 0, result.output
    assert "Kerja sama mulai berlaku: 0; berakhir karena jangka waktu habis: 0" \
        in result.output
    result = runner.invoke(args=["coopdesa", "remind"])
    assert result.exit_code == 0, result.output

    # A year on: the signed ones start, those whose term ran out end, through the same
    # transitions as real agreements (no signature or document needed by then).
    later = (local_today() + dt.timedelta(days=400)).isoformat()
    signed = db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.state == State.SIGNED))
    result = runner.invoke(args=["coopdesa", "lifecycle", "--today", later])
    assert result.exit_code == 0, result.output
    assert f"Kerja sama mulai berlaku: {signed};" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.state == State.SIGNED)) == 0
    result = runner.invoke(args=["coopdesa", "remind", "--today", later])
    assert result.exit_code == 0, result.output
