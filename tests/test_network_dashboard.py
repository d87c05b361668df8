"""The dashboard of a user's jurisdiction (/dasbor): what each role sees and does not see,
counts by state, kind and bidang, funding per source in Rupiah, the ending lists, an
overdue report, the stage distribution of a hand-built network, escaping, the charts'
hidden tables, and a number of statements that does not grow with the agreements."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.actors.models import ActorKind
from coopdesa.db import utcnow
from coopdesa.extensions import db
from coopdesa.i18n import format_rupiah, local_today
from coopdesa.network import charts, store
from coopdesa.network.dashboard import jurisdiction_dashboard
from coopdesa.network.graph import VILLAGE_KINDS
from coopdesa.network.stages import Stage
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
from coopdesa.reports.operations import add_months
from tests.conftest import (
    BANJARNEGARA,
    DIENG,
    DIENG_KULON,
    KEJAJAR,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
    WONOSOBO,
    count_statements,
)
from tests.factories import AdminFactory, BkadFactory, UserFactory
from tests.network_helpers import agreement, third_party

HOSTILE = '<script>alert("x")</script> & "kutip" \'satu\''
LENGKONG = "33.07.12.2001"  # Kecamatan Garung
GEMBLENGAN = "33.07.12.2002"
BATUR = "33.04.16.2001"  # Kabupaten Banjarnegara
PAGE = "/dasbor"


def made(*parties, funding=(), **kw) -> Proposal:
    """An agreement (network_helpers.agreement) submitted unless a draft, with funding
    lines [(source, amount)] on its first party."""
    proposal = agreement(*parties, commit=False, **kw)
    if proposal.state != State.DRAFT:
        proposal.submitted_at = utcnow()
    first = db.session.scalar(sa.select(ProposalParty).where(
        ProposalParty.proposal_id == proposal.id, ProposalParty.position == 0))
    for source, amount in funding:
        db.session.add(ProposalFunding(
            party_id=first.id, source=source, amount=amount,
            apbdes_year=2026 if source == FundingSource.APB_DESA else None))
    db.session.commit()
    return proposal


@pytest.fixture
def world(app):
    """Kejajar: Dieng cooperates with Sembungan, Tieng, a business of the kabupaten (with a
    hostile name) and an NGO of the kecamatan (4 partners, 3 kinds, 1 outside its
    kecamatan: networking); Sembungan with Patakbanteng; two desa of Garung together; two
    desa of Banjarnegara together. Drafts, an addendum and agreements of other villages
    must stay out of the wrong dashboards."""
    today = local_today()
    pt = third_party(HOSTILE, ActorKind.SWASTA, WONOSOBO)
    lsm = third_party("LSM Lestari Dieng", ActorKind.LSM, KEJAJAR)
    start_old = today - dt.timedelta(days=430)
    p = {
        "ending30": made(DIENG, SEMBUNGAN, title="Jalur pendakian Prau",
                         bidang=("usaha_bersama",), start=today - dt.timedelta(days=200),
                         end=today + dt.timedelta(days=20),
                         funding=[(FundingSource.APB_DESA, 10_000_000)]),
        "ending90": made(DIENG, pt, title=HOSTILE, bidang=("usaha_bersama",
                                                           "kemasyarakatan"),
                         start=today - dt.timedelta(days=100),
                         end=today + dt.timedelta(days=60),
                         funding=[(FundingSource.PIHAK_KETIGA, 250_000_000),
                                  (FundingSource.APB_DESA, 5_000_000)]),
        "overdue": made(DIENG, TIENG, title="Pasar bersama Dieng-Tieng",
                        bidang=("kemasyarakatan",), start=start_old,
                        end=add_months(start_old, 36) - dt.timedelta(days=1)),
        "lsm": made(DIENG, lsm, title="Konservasi telaga", bidang=("keamanan",),
                    state=State.SIGNED, funding=[(FundingSource.SWADAYA, 1_500_000)]),
        "draft_dieng": made(DIENG, PATAKBANTENG, title="Draf rahasia Dieng",
                            state=State.DRAFT, funding=[(FundingSource.APBN, 9_000_000)]),
        "draft_sembungan": made(SEMBUNGAN, TIENG, title="Draf rahasia Sembungan",
                                state=State.DRAFT),
        "sembungan": made(SEMBUNGAN, PATAKBANTENG, title="Air bersih Sembungan",
                          bidang=("kemasyarakatan",),
                          funding=[(FundingSource.APBD_KABUPATEN, 40_000_000)]),
        "garung": made(LENGKONG, GEMBLENGAN, title="Irigasi Garung",
                       funding=[(FundingSource.BUM_DESA, 7_000_000)]),
        "banjarnegara": made(DIENG_KULON, BATUR, title="Wisata Dieng Kulon",
                             funding=[(FundingSource.APBN, 80_000_000)]),
        "ended": made(DIENG, SEMBUNGAN, title="Kerja sama lama", state=State.ENDED,
                      funding=[(FundingSource.LAINNYA, 3_000_000)]),
    }
    addendum = made(DIENG, SEMBUNGAN, title="Perubahan jalur pendakian",
                    state=State.SUBMITTED, funding=[(FundingSource.APB_DESA, 99_000_000)])
    addendum.amends_id = p["ending30"].id
    addendum.amendment_seq = 1
    db.session.commit()
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN])
    users = {
        "sekretaris": UserFactory(role=Role.SEKRETARIS, desa_code=DIENG),
        "kepala_desa": UserFactory(role=Role.KEPALA_DESA, desa_code=DIENG),
        "bkad": UserFactory(role=Role.BKAD, bkad=bkad),
        "auditor_kecamatan": UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR),
        "auditor_kabupaten": UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO),
        "auditor_banjarnegara": UserFactory(role=Role.AUDITOR,
                                            jurisdiction_code=BANJARNEGARA),
        "auditor_provinsi": UserFactory(role=Role.AUDITOR, jurisdiction_code="33"),
        "admin": AdminFactory(),
    }
    return {"p": p, "users": users, "pt": pt, "lsm": lsm, "addendum": addendum}


#: Titles each role sees (draft_sembungan is a Sembungan secretary's work in progress).
SEEN = {
    "sekretaris": {"ending30", "ending90", "overdue", "lsm", "draft_dieng", "ended"},
    "kepala_desa": {"ending30", "ending90", "overdue", "lsm", "ended"},
    "bkad": {"ending30", "ending90", "overdue", "lsm", "sembungan", "ended"},
    "auditor_kecamatan": {"ending30", "ending90", "overdue", "lsm", "sembungan", "ended"},
    "auditor_kabupaten": {"ending30", "ending90", "overdue", "lsm", "sembungan", "ended",
                          "garung"},
    "admin": {"ending30", "ending90", "overdue", "lsm", "draft_dieng", "draft_sembungan",
              "sembungan", "ended", "garung", "banjarnegara"},
}


def _expected(world, role):
    seen = [world["p"][key] for key in SEEN[role]]
    states: dict[State, int] = {}
    kinds: dict[Kind, int] = {}
    bidang: dict[Bidang, int] = {}
    funding: dict[FundingSource, int] = {}
    for p in seen:
        states[p.state] = states.get(p.state, 0) + 1
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
        for b in p.bidang:
            bidang[Bidang(b)] = bidang.get(Bidang(b), 0) + 1
        if p.state in (State.SIGNED, State.ACTIVE, State.POSTPONED):
            for party in p.parties:
                for line in party.funding:
                    funding[line.source] = funding.get(line.source, 0) + line.amount
    return states, kinds, bidang, funding


def _villages(prefix: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Region).where(
        Region.level == 4, Region.kind.in_([k.value for k in VILLAGE_KINDS]),
        code_within(Region.code, prefix))) or 0


# --- per role ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", sorted(SEEN))
def test_each_role_sees_only_its_agreements(world, login, role):
    user = world["users"][role]
    data = jurisdiction_dashboard(user)
    states, kinds, bidang, funding = _expected(world, role)
    assert dict(data.by_state) == states
    assert dict(data.by_kind) == kinds
    assert dict(data.by_bidang) == bidang
    assert dict(data.funding) == funding
    assert data.total == len(SEEN[role])  # the addendum is not counted on its own
    db.session.commit()

    response = login(user).get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Listed by title: the ending agreement and the overdue report, when in scope.
    assert ("Jalur pendakian Prau" in html) is ("ending30" in SEEN[role])
    assert ("Pasar bersama Dieng-Tieng" in html) is ("overdue" in SEEN[role])
    assert "Draf rahasia Sembungan" not in html
    assert "Perubahan jalur pendakian" not in html
    hidden = _hidden_tables(html)
    total = sum(funding.values())
    if total:
        assert format_rupiah(total) in html
    for source, amount in funding.items():
        assert [source.label, format_rupiah(amount)] in hidden, (role, source)
    for state, n in states.items():
        assert [state.label, str(n)] in hidden, (role, state)


def test_the_secretary_sees_its_own_draft_but_not_other_villages(world):
    data = jurisdiction_dashboard(world["users"]["sekretaris"])
    assert dict(data.by_state)[State.DRAFT] == 1
    assert dict(data.funding).get(FundingSource.APBN) is None  # a draft binds no one
    assert FundingSource.APBD_KABUPATEN not in dict(data.funding)  # Sembungan's agreement
    assert State.DRAFT not in dict(jurisdiction_dashboard(
        world["users"]["kepala_desa"]).by_state)


def test_funding_totals_in_rupiah(world, login):
    html = login(world["users"]["auditor_kabupaten"]).get(PAGE).get_data(as_text=True)
    # 10 + 5 (APB Desa) of the two agreements in force; the addendum's 99 million and the
    # ended agreement's are not counted.
    assert format_rupiah(15_000_000) in html
    assert format_rupiah(250_000_000) in html
    assert format_rupiah(99_000_000) not in html
    assert format_rupiah(10_000_000 + 250_000_000 + 5_000_000 + 1_500_000 + 40_000_000
                         + 7_000_000) in html


def test_ending_lists_link_to_the_agreements(world, login):
    data = jurisdiction_dashboard(world["users"]["kepala_desa"])
    assert [p.id for p in data.ending_30] == [world["p"]["ending30"].id]
    assert [p.id for p in data.ending_90] == [world["p"]["ending90"].id]
    db.session.commit()
    html = login(world["users"]["kepala_desa"]).get(PAGE).get_data(as_text=True)
    for key in ("ending30", "ending90"):
        assert f'href="/kerja-sama/{world["p"][key].id}"' in html


def test_an_overdue_report_is_listed_with_its_link(world, login):
    data = jurisdiction_dashboard(world["users"]["auditor_kecamatan"])
    [late] = data.overdue
    assert late.proposal_id == world["p"]["overdue"].id
    assert late.days_late(data.today) == 36
    db.session.commit()
    html = login(world["users"]["auditor_kecamatan"]).get(PAGE).get_data(as_text=True)
    assert f'href="/kerja-sama/{late.proposal_id}/laporan"' in html
    assert "terlambat 36 hari" in html
    assert jurisdiction_dashboard(world["users"]["auditor_banjarnegara"]).overdue == []


# --- stages --------------------------------------------------------------------------------

def test_stage_of_the_own_desa_and_its_kabupaten(world, login):
    panel = jurisdiction_dashboard(world["users"]["sekretaris"]).stages
    assert panel.own.stage is Stage.NETWORKING
    assert panel.own.reason.startswith("4 mitra aktif, 3 jenis mitra, 1 di luar")
    villages = _villages(WONOSOBO)
    # Dieng networking; Sembungan, Patakbanteng, Tieng, Lengkong, Gemblengan bridging.
    assert panel.counts == {"networking": 1, "bridging": 5, "bonding": villages - 6}
    rows = dict(panel.rows)
    assert rows["Kejajar"] == {"networking": 1, "bridging": 3,
                               "bonding": _villages(KEJAJAR) - 4}
    assert rows["Garung"]["bridging"] == 2
    assert panel.network_key == "kabupaten:33.07"
    db.session.commit()
    html = login(world["users"]["sekretaris"]).get(PAGE).get_data(as_text=True)
    assert 'href="/jaringan/kabupaten:33.07"' in html
    assert "Jejaring (networking)" in html and "memenuhi aturan jejaring" in html
    hidden = _hidden_tables(html)
    # bonding, bridging, networking, total
    assert ["Kejajar", str(_villages(KEJAJAR) - 4), "3", "1", str(_villages(KEJAJAR))] \
        in hidden


def test_stage_of_a_bkads_member_desa(world, login):
    panel = jurisdiction_dashboard(world["users"]["bkad"]).stages
    assert panel.counts == {"networking": 1, "bridging": 1, "bonding": 0}
    assert [(d.code, d.stage) for d in sorted(panel.members, key=lambda d: d.code)] == [
        (SEMBUNGAN, Stage.BRIDGING), (DIENG, Stage.NETWORKING)]
    db.session.commit()
    html = login(world["users"]["bkad"]).get(PAGE).get_data(as_text=True)
    assert "Desa anggota" in html


def test_stage_of_an_auditors_kecamatan_and_kabupaten(world):
    kec = jurisdiction_dashboard(world["users"]["auditor_kecamatan"]).stages
    assert kec.counts == {"networking": 1, "bridging": 3, "bonding": _villages(KEJAJAR) - 4}
    assert [name for name, _c in kec.rows] == ["Kejajar"]
    assert kec.network_key == f"kecamatan:{KEJAJAR}"
    kab = jurisdiction_dashboard(world["users"]["auditor_kabupaten"]).stages
    assert kab.counts["bridging"] == 5 and len(kab.rows) == len(
        {c[:8] for c in db.session.scalars(sa.select(Region.code).where(
            Region.level == 4, Region.kind.in_([k.value for k in VILLAGE_KINDS]),
            code_within(Region.code, WONOSOBO)))})


def test_a_province_reads_stored_results_and_says_when_they_are_stale(world, login,
                                                                      monkeypatch):
    user = world["users"]["auditor_provinsi"]
    monkeypatch.setattr(store, "REFRESH_ON_READ", 0)
    panel = jurisdiction_dashboard(user).stages
    assert panel.stale == 2  # Wonosobo and Banjarnegara were never computed
    db.session.commit()
    html = login(user).get(PAGE).get_data(as_text=True)
    assert "2 kabupaten/kota berubah sejak hasilnya dihitung" in html
    store.refresh_stale("33")
    db.session.commit()
    panel = jurisdiction_dashboard(user).stages
    assert panel.stale == 0
    rows = dict(panel.rows)
    assert rows["Kabupaten Wonosobo" if "Kabupaten Wonosobo" in rows else "Wonosobo"][
        "networking"] == 1
    assert panel.counts["bridging"] == 5 + 2  # Banjarnegara's two desa


def test_admin_sees_the_country_as_stored(world):
    store.refresh_stale()
    db.session.commit()
    panel = jurisdiction_dashboard(world["users"]["admin"]).stages
    assert panel.counts["networking"] == 1 and panel.counts["bridging"] == 7
    assert panel.network_key == "nasional" and panel.row_level == "provinsi"
    rows = dict(panel.rows)  # every province with desa in the register loaded
    assert rows["Jawa Tengah"]["networking"] == 1 and rows["Jawa Tengah"]["bridging"] == 7


# --- page ----------------------------------------------------------------------------------

def test_anonymous_is_sent_to_the_login(app, client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/masuk" in response.headers["Location"]


def test_hostile_names_and_titles_are_escaped(world, login):
    html = login(world["users"]["sekretaris"]).get(PAGE).get_data(as_text=True)
    assert HOSTILE not in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;kutip&#34;" in html
    assert "Dasbor" in html and 'href="/dasbor"' in html  # the nav link


def test_every_role_page_answers_with_charts_and_no_inline_style(world, login, client):
    for role in SEEN:
        response = login(world["users"][role]).get(PAGE)
        assert response.status_code == 200, role
        html = response.get_data(as_text=True)
        assert html.count('role="img"') >= 4, role
        assert " style=" not in html and "<script>" not in html.split("</main>")[0], role
        client.post("/keluar")


def test_statements_do_not_grow_with_the_agreements(world):
    user = world["users"]["sekretaris"]

    def measure() -> int:
        jurisdiction_dashboard(user)  # may refresh the stored result once
        db.session.commit()
        db.session.expire_all()
        with count_statements() as statements:
            jurisdiction_dashboard(user)
        return len(statements)

    before = measure()
    today = local_today()
    for i in range(8):
        made(DIENG, TIENG, title=f"Kerja sama tambahan {i}",
             end=today + dt.timedelta(days=10 + i),
             funding=[(FundingSource.APB_DESA, 1_000_000)])
        made(DIENG, title=f"Draf tambahan {i}", state=State.DRAFT)
    assert measure() == before
    assert before <= 20


# --- charts --------------------------------------------------------------------------------

def test_bar_chart_wraps_escapes_and_has_a_hidden_table(app):
    long_label = "Kegiatan kemasyarakatan, pelayanan, pembangunan dan pemberdayaan " * 3
    svg = str(charts.bar_chart([(HOSTILE, 3), (long_label, 1_250_000)], title=HOSTILE,
                               value_label=format_rupiah))
    assert HOSTILE not in svg and "&lt;script&gt;" in svg
    assert "<title" in svg and "<desc" in svg and 'width="100%"' in svg
    assert "viewBox=" in svg and "<script" not in svg and "style=" not in svg
    assert "\u2026" in svg  # the long label is cut in the drawing...
    assert [_strip(long_label), format_rupiah(1_250_000)] in _hidden_tables(svg)  # ...not here
    assert str(charts.bar_chart([], title="x")).startswith('<p class="text-muted')


def test_stacked_bars_count_each_segment_and_legend(app):
    series = [(s.value, s.label, s.colour) for s in Stage]
    svg = str(charts.stacked_bars(
        [("Kejajar", {"bonding": 12, "bridging": 3, "networking": 1}),
         (HOSTILE, {"bonding": 0, "bridging": 0, "networking": 0})],
        title="Tahap", series=series))
    assert HOSTILE not in svg
    for stage in Stage:
        assert f">{stage.label}</text>" in svg  # the legend
    assert ">12</text>" in svg and ">3</text>" in svg
    assert ["Kejajar", "12", "3", "1", "16"] in _hidden_tables(svg)
    assert str(charts.stacked_bars([], title="x", series=series)).startswith("<p")


def test_wrap_keeps_words_and_cuts_with_an_ellipsis():
    assert charts.wrap("satu dua tiga", 8) == ["satu dua", "tiga"]
    assert charts.wrap("a" * 20, 8, 2) == ["a" * 7 + "-", "a" * 7 + "\u2026"]
    assert charts.wrap("APBD kabupaten/kota", 12) == ["APBD", "kabupaten/", "kota"]
    assert charts.ink_on("#009E73") == "#000" and charts.ink_on("#0072B2") == "#fff"


def _strip(text: str) -> str:
    return " ".join(text.split())


def _hidden_tables(html: str) -> list[list[str]]:
    """The rows of every visually hidden table, as lists of unescaped cell texts."""
    import html as html_lib

    rows = []
    for table in re.findall(r'<div class="visually-hidden"><table>(.*?)</table></div>', html, re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            rows.append([_strip(html_lib.unescape(c)) for c in cells])
    return rows
