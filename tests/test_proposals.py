"""Proposals in the domain layer: parties and the law on who may be one, completeness,
funding, versions and optimistic locking, comparison, review comments, the scoped list and
its filters, and the audit trail with its tamper detection.

Operations are called directly and committed like a request; refusals are rolled back like
the error handlers do, and must leave nothing behind.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry, AuditHead
from coopdesa.audit.operations import verify_chain
from coopdesa.db import utcnow
from coopdesa.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals import operations as ops
from coopdesa.proposals import sections as S
from coopdesa.proposals.diff import diff_snapshots, diff_words
from coopdesa.proposals.models import (
    Judgment,
    Proposal,
    ProposalComment,
    ProposalFunding,
    ProposalReview,
    ProposalVersion,
)
from coopdesa.proposals.queries import ProposalFilters, dashboard, list_proposals
from coopdesa.proposals.states import State
from tests import proposal_helpers as H
from tests.conftest import (
    DIENG,
    DIENG_KULON,
    GARUNG,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    MIROTO,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
)
from tests.factories import ActorFactory, AdminFactory, BkadFactory, UserFactory

#: A desa of Kecamatan Garung (33.07.12), Kabupaten Wonosobo: another kecamatan.
LENGKONG = "33.07.12.2001"


def n_rows(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def refused(exc_type, fn, *args, **kwargs):
    """Call ``fn`` expecting ``exc_type``; roll back as the error handler does."""
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    db.session.rollback()
    return info.value


# --- parties -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["antar_desa", "pihak_ketiga"])
@pytest.mark.parametrize("code", [KELURAHAN_KEJAJAR, MIROTO])
def test_a_kelurahan_is_never_a_party(app, kind, code):
    author = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    error = refused(ValidationError, ops.create_proposal, author, kind=kind, initiative="desa",
                    title="Dengan kelurahan", partner_desa_codes=[code])
    assert "BPD" in error.fields["desa_code"][0] and "elurahan" in error.fields["desa_code"][0]
    assert n_rows(Proposal) == 0 and n_rows(AuditEntry) == 0
    # Nor added later to an existing draft.
    scenario = H.antar_desa(complete=False) if kind == "antar_desa" else \
        H.pihak_ketiga(complete=False)
    before = H.counts(scenario.proposal.id)
    error = refused(ValidationError, ops.add_party, scenario.proposal, scenario.author,
                    desa_code=code)
    assert "BPD" in error.fields["desa_code"][0]
    assert H.counts(scenario.proposal.id) == before


def test_a_kelurahan_secretary_cannot_draft_for_the_kelurahan(app):
    lurah_staff = UserFactory(role=Role.SEKRETARIS, desa_code=KELURAHAN_KEJAJAR)
    error = refused(ValidationError, ops.create_proposal, lurah_staff, kind="antar_desa",
                    initiative="desa", title="Dari kelurahan", partner_desa_codes=[DIENG])
    assert "BPD" in error.message
    assert n_rows(Proposal) == 0


def test_antar_desa_across_kabupaten_is_refused_with_the_reason(app):
    author = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    error = refused(ValidationError, ops.create_proposal, author, kind="antar_desa",
                    initiative="desa", title="Lintas kabupaten", partner_desa_codes=[DIENG_KULON])
    assert "Permendagri 96/2017 Pasal 3" in error.fields["desa_code"][0]
    assert n_rows(Proposal) == 0
    scenario = H.antar_desa(complete=False)
    before = H.counts(scenario.proposal.id)
    error = refused(ValidationError, ops.add_party, scenario.proposal, scenario.author,
                    desa_code=DIENG_KULON)
    assert "satu kabupaten/kota" in error.message
    assert H.counts(scenario.proposal.id) == before


def test_third_party_agreement_across_kabupaten_is_not_silently_allowed(app):
    """domain.md section 7: desa of different kabupaten/kota fall under regional
    cooperation rules; a perjanjian binding Dieng (Wonosobo) and Dieng Kulon (Banjarnegara)
    with a company must not pass unnoticed."""
    scenario = H.pihak_ketiga(complete=False)
    before = H.counts(scenario.proposal.id)
    error = refused(ValidationError, ops.add_party, scenario.proposal, scenario.author,
                    desa_code=DIENG_KULON)
    assert "kabupaten/kota" in error.fields["desa_code"][0]
    assert H.counts(scenario.proposal.id) == before
    error = refused(ValidationError, ops.create_proposal, scenario.author, kind="pihak_ketiga",
                    initiative="desa", title="Lintas", partner_desa_codes=[DIENG_KULON],
                    third_party_actor_ids=[scenario.third_party.id])
    assert "kabupaten/kota" in error.message


def test_a_banjarnegara_village_may_make_its_own_third_party_agreement(app):
    """One village with a third party: no cross-kabupaten question arises."""
    author = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG_KULON)
    company = ActorFactory(name="CV Telaga Warna", region_code=DIENG_KULON)
    proposal = ops.create_proposal(author, kind="pihak_ketiga", initiative="pihak_ketiga",
                                   title="Parkir Telaga Warna",
                                   third_party_actor_ids=[company.id])
    db.session.commit()
    assert proposal.kabupaten_code == "33.04"
    assert [p.role.value for p in proposal.parties] == ["mitra", "pemrakarsa"]
    assert "Camat" in proposal.perselisihan and "pengadilan" in proposal.perselisihan


def test_antar_desa_has_only_villages_and_each_party_once(app):
    scenario = H.antar_desa(complete=False)
    company = ActorFactory(name="PT Geo Dipa")
    proposal, author = scenario.proposal, scenario.author
    before = H.counts(proposal.id)
    error = refused(ValidationError, ops.add_party, proposal, author, actor_id=company.id)
    assert "hanya beranggotakan desa" in error.fields["actor_id"][0]
    error = refused(ValidationError, ops.add_party, proposal, author, desa_code=SEMBUNGAN)
    assert "sudah menjadi pihak" in error.fields["desa_code"][0]
    error = refused(ValidationError, ops.add_party, proposal, author, actor_id=99999)
    assert "actor_id" in error.fields
    error = refused(ValidationError, ops.add_party, proposal, author, desa_code=PATAKBANTENG,
                    role="ketua")
    assert "role" in error.fields
    assert H.counts(proposal.id) == before
    # A third party twice in a third-party agreement is refused the same way.
    third = H.pihak_ketiga(complete=False, desa_codes=(TIENG,))
    error = refused(ValidationError, ops.add_party, third.proposal, third.author,
                    actor_id=third.third_party.id)
    assert "sudah menjadi pihak" in error.message


def test_add_and_remove_parties(app):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    party = ops.add_party(proposal, author, desa_code=PATAKBANTENG,
                          signatory_name="Slamet")
    db.session.commit()
    assert [p.desa_code for p in proposal.parties] == [DIENG, SEMBUNGAN, PATAKBANTENG]
    assert party.signatory_office == "Kepala Desa Patakbanteng" and party.position == 2
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "proposal.party.add" and entry.after["desa_code"] == PATAKBANTENG
    # Their own village stays: the secretary withdraws the proposal instead.
    own = proposal.parties[0]
    before = H.counts(proposal.id)
    error = refused(ValidationError, ops.remove_party, proposal, author, own.id)
    assert "Desa Anda sendiri" in error.fields["party"][0]
    assert H.counts(proposal.id) == before
    sembungan_sek = scenario[f"sek:{SEMBUNGAN}"]
    error = refused(ValidationError, ops.remove_party, proposal, sembungan_sek,
                    proposal.parties[1].id)
    assert "party" in error.fields
    refused(NotFoundError, ops.remove_party, proposal, author, 424242)
    ops.remove_party(proposal, author, party.id)
    db.session.commit()
    assert proposal.desa_codes == [DIENG, SEMBUNGAN]
    assert H.audit_actions(proposal.id)[-2:] == ["proposal.party.add",
                                                 "proposal.party.remove"]


def test_only_party_secretaries_edit(app):
    scenario = H.antar_desa(complete=False)
    proposal = scenario.proposal
    tieng = UserFactory(role=Role.SEKRETARIS, desa_code=TIENG)
    kepala = UserFactory(role=Role.KEPALA_DESA, desa_code=DIENG)
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR)
    party_id = proposal.parties[1].id
    before = H.counts(proposal.id)
    for user in (tieng, kepala, auditor, scenario["bkad"]):
        for fn, args, kwargs in (
            (ops.update_sections, ({"tujuan": "Disusupi"},), {"expected_version": None}),
            (ops.add_party, (), {"desa_code": PATAKBANTENG}),
            (ops.remove_party, (party_id,), {}),
            (ops.update_party, (party_id, {"hak": "x"}), {"expected_version": None}),
            (ops.set_funding, (party_id, [{"source": "swadaya", "amount": 1}]),
             {"expected_version": None}),
        ):
            refused(AccessDenied, fn, proposal, user, *args, **kwargs)
    assert H.counts(proposal.id) == before
    # The partner village's secretary co-drafts; an admin may too.
    ops.update_sections(proposal, scenario[f"sek:{SEMBUNGAN}"], {"tujuan": "Bersama"},
                        expected_version=None)
    ops.update_sections(proposal, AdminFactory(), {"ruang_lingkup": "Jalur"},
                        expected_version=None)
    db.session.commit()
    assert (proposal.tujuan, proposal.ruang_lingkup) == ("Bersama", "Jalur")


def test_only_secretaries_create(app):
    for user in (UserFactory(role=Role.KEPALA_DESA, desa_code=DIENG),
                 UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR),
                 UserFactory(role=Role.BKAD)):
        refused(AccessDenied, ops.create_proposal, user, kind="antar_desa", initiative="desa",
                title="x", own_desa_code=DIENG, partner_desa_codes=[SEMBUNGAN])
    author = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    for kwargs, field in (({"kind": "regional"}, "kind"), ({"initiative": "camat"}, "initiative"),
                          ({"initiative": "pihak_ketiga"}, "initiative"),
                          ({"title": "   "}, "title")):
        args = {"kind": "antar_desa", "initiative": "desa", "title": "Judul", **kwargs}
        error = refused(ValidationError, ops.create_proposal, author, **args)
        assert field in error.fields
    admin = AdminFactory()
    error = refused(ValidationError, ops.create_proposal, admin, kind="antar_desa",
                    initiative="desa", title="Oleh admin")
    assert "own_desa_code" in error.fields
    proposal = ops.create_proposal(admin, kind="antar_desa", initiative="desa",
                                   title="Oleh admin", own_desa_code=TIENG,
                                   partner_desa_codes=[PATAKBANTENG, " "])
    db.session.commit()
    assert proposal.desa_codes == [TIENG, PATAKBANTENG]
    assert proposal.ref == f"KSD-{utcnow().year}-{proposal.id:05d}"
    assert proposal.mengingat == S.default_legal_basis("antar_desa")
    assert n_rows(AuditEntry) == 1


def _route(*codes: str, kind: str = "antar_desa") -> str:
    if kind == "antar_desa":
        return H.antar_desa(complete=False, desa_codes=codes, with_bkad=False).proposal.perselisihan
    return H.pihak_ketiga(complete=False, desa_codes=codes).proposal.perselisihan


def test_dispute_clause_follows_pasal_148(app):
    within = _route(DIENG, SEMBUNGAN)
    assert within.startswith(S.DISPUTE_OPENING)
    assert "Camat Kejajar" in within and "Bupati" not in within
    assert "pengadilan" not in within
    across = _route(PATAKBANTENG, LENGKONG)
    assert "Bupati Wonosobo" in across and "Camat" not in across
    third = _route(TIENG, kind="pihak_ketiga")
    assert "Camat Kejajar" in third and "pengadilan" in third


def test_dispute_clause_changes_with_the_parties_unless_edited(app):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    assert "Camat Kejajar" in proposal.perselisihan
    party = ops.add_party(proposal, author, desa_code=LENGKONG)
    db.session.commit()
    assert "Bupati Wonosobo" in proposal.perselisihan
    ops.remove_party(proposal, author, party.id)
    db.session.commit()
    assert "Camat Kejajar" in proposal.perselisihan
    own = "Perselisihan diselesaikan oleh forum kepala desa yang disepakati bersama."
    ops.update_sections(proposal, author, {"perselisihan": own}, expected_version=None)
    ops.add_party(proposal, author, desa_code=LENGKONG)
    db.session.commit()
    assert proposal.perselisihan == own
    # Emptied again, it is written anew for the current parties.
    ops.update_sections(proposal, author, {"perselisihan": ""}, expected_version=None)
    ops.add_party(proposal, author, desa_code=PATAKBANTENG)
    db.session.commit()
    assert "Bupati Wonosobo" in proposal.perselisihan


# --- completeness --------------------------------------------------------------------------

REQUIRED_EVERYWHERE = {"menimbang", "tujuan", "ruang_lingkup", "bidang", "tata_cara",
                       "jangka_waktu", "hak_kewajiban", "pendanaan", "perubahan"}


def test_an_empty_draft_lists_every_missing_section(app):
    scenario = H.antar_desa(complete=False)
    proposal = scenario.proposal
    before = H.counts(proposal.id)
    error = refused(ValidationError, ops.transition, proposal, scenario.author, "submit")
    # Title, legal basis and dispute clause are prefilled; the KAK is not asked of antar_desa.
    assert set(error.fields) == REQUIRED_EVERYWHERE | {"parties"}
    assert error.message.startswith("Usulan belum lengkap")
    for key in REQUIRED_EVERYWHERE:
        assert str(S.SECTION_BY_KEY[key].label) in error.message
    assert any("penandatangan" in m for m in error.fields["parties"])
    assert H.counts(proposal.id) == before
    assert {s.key for s in S.missing_sections(proposal)} == REQUIRED_EVERYWHERE


@pytest.mark.parametrize("initiative, kak_required", [("desa", True), ("pihak_ketiga", False)])
def test_kak_and_cost_benefit_only_on_the_villages_initiative(app, initiative, kak_required):
    scenario = H.pihak_ketiga(complete=False, initiative=initiative)
    error = refused(ValidationError, ops.transition, scenario.proposal, scenario.author,
                    "submit")
    kak = {"analisis_biaya_manfaat", "kerangka_acuan_kerja"}
    assert (kak <= set(error.fields)) is kak_required
    # Filled except the KAK: a village initiative still may not submit.
    H.fill(scenario.proposal, scenario.author,
           {k: v for k, v in H.PIHAK_KETIGA_SECTIONS.items() if k not in kak})
    db.session.commit()
    if kak_required:
        error = refused(ValidationError, ops.transition, scenario.proposal, scenario.author,
                        "submit")
        assert set(error.fields) == kak
    else:
        ops.transition(scenario.proposal, scenario.author, "submit")
        db.session.commit()
        assert scenario.proposal.state == State.SUBMITTED


def test_third_party_agreement_needs_a_village_and_a_third_party(app):
    scenario = H.pihak_ketiga(complete=True)
    proposal = scenario.proposal
    company_party = proposal.third_parties[0]
    ops.remove_party(proposal, scenario.author, company_party.id)
    db.session.commit()
    error = refused(ValidationError, ops.transition, proposal, scenario.author, "submit")
    assert any("pihak ketiga" in m for m in error.fields["parties"])


def test_antar_desa_needs_two_villages_and_a_covering_bkad(app):
    scenario = H.antar_desa(complete=True, with_bkad=False)
    proposal, author = scenario.proposal, scenario.author
    before = H.counts(proposal.id)
    error = refused(ValidationError, ops.transition, proposal, author, "submit")
    assert list(error.fields) == ["parties"]
    assert "Belum ada BKAD" in error.message and "Pasal 92 ayat (3)" in error.message
    assert H.counts(proposal.id) == before
    # A BKAD covering only one of them is not enough.
    BkadFactory(desa_codes=[DIENG, PATAKBANTENG])
    error = refused(ValidationError, ops.transition, proposal, author, "submit")
    assert "Belum ada BKAD" in error.message
    # One village alone is no inter-village cooperation.
    ops.remove_party(proposal, author, proposal.parties[1].id)
    ops.update_party(proposal, author, proposal.parties[0].id, {"hak": "h", "kewajiban": "k"},
                     expected_version=None)
    db.session.commit()
    error = refused(ValidationError, ops.transition, proposal, author, "submit")
    assert "sekurang-kurangnya dua desa" in error.fields["parties"][0]
    # With the partner back and a BKAD of both, it goes.
    ops.add_party(proposal, author, desa_code=SEMBUNGAN, signatory_name="Kades Sembungan")
    ops.update_party(proposal, author, proposal.parties[1].id, {"hak": "h", "kewajiban": "k"},
                     expected_version=None)
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN, PATAKBANTENG])
    ops.transition(proposal, author, "submit")
    db.session.commit()
    assert proposal.state == State.SUBMITTED and proposal.bkad_id == bkad.id


def test_signatories_and_an_initiator_are_required(app):
    scenario = H.antar_desa(complete=True)
    proposal, author = scenario.proposal, scenario.author
    ops.update_party(proposal, author, proposal.parties[1].id,
                     {"signatory_name": "  ", "role": "mitra"}, expected_version=None)
    ops.update_party(proposal, author, proposal.parties[0].id, {"role": "mitra"},
                     expected_version=None)
    db.session.commit()
    error = refused(ValidationError, ops.transition, proposal, author, "submit")
    messages = error.fields["parties"]
    assert "Tentukan pihak pemrakarsa." in messages
    assert any("penandatangan Desa Sembungan" in m for m in messages)
    assert not any("Desa Dieng" in m for m in messages)


def test_period_end_after_start(app):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    before = H.counts(proposal.id)
    for data in ({"start_date": "2027-01-01", "end_date": "2027-01-01"},
                 {"start_date": "2027-01-02", "end_date": "2027-01-01"}):
        error = refused(ValidationError, ops.update_sections, proposal, author, data,
                        expected_version=None)
        assert list(error.fields) == ["end_date"]
    error = refused(ValidationError, ops.update_sections, proposal, author,
                    {"start_date": "1 Januari 2027"}, expected_version=None)
    assert "start_date" in error.fields
    assert H.counts(proposal.id) == before
    ops.update_sections(proposal, author, {"start_date": "2027-01-01"}, expected_version=None)
    db.session.commit()
    # Against the stored start date too.
    error = refused(ValidationError, ops.update_sections, proposal, author,
                    {"end_date": "2026-12-31"}, expected_version=None)
    assert "end_date" in error.fields
    ops.update_sections(proposal, author, {"end_date": "2027-01-02"}, expected_version=None)
    db.session.commit()
    assert (proposal.start_date, proposal.end_date) == (dt.date(2027, 1, 1),
                                                        dt.date(2027, 1, 2))


def test_bidang_values(app):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    for bad in (["pariwisata"], ["usaha_bersama", 7], "keamanan_laut"):
        error = refused(ValidationError, ops.update_sections, proposal, author,
                        {"bidang": bad}, expected_version=None)
        assert "Pasal 92" in error.fields["bidang"][0]
    ops.update_sections(proposal, author, {"bidang": ["keamanan", "usaha_bersama", "keamanan"]},
                        expected_version=None)
    db.session.commit()
    assert proposal.bidang == ["keamanan", "usaha_bersama"]
    third = H.pihak_ketiga(complete=False, desa_codes=(TIENG,))
    error = refused(ValidationError, ops.update_sections, third.proposal, third.author,
                    {"bidang": ["usaha_bersama"]}, expected_version=None)
    assert "hanya untuk kerja sama antar-Desa" in error.fields["bidang"][0]
    ops.update_sections(third.proposal, third.author,
                        {"bidang": [], "bidang_uraian": "Pengelolaan homestay"},
                        expected_version=None)
    db.session.commit()
    assert "bidang" not in {s.key for s in S.missing_sections(third.proposal)}


def test_text_sections_are_bounded_and_the_title_is_kept(app):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    for data, field in (({"tujuan": "x" * 20_001}, "tujuan"), ({"title": "j" * 301}, "title"),
                        ({"title": "  "}, "title"), ({"menimbang": 42}, "menimbang")):
        error = refused(ValidationError, ops.update_sections, proposal, author, data,
                        expected_version=None)
        assert field in error.fields
    ops.update_sections(proposal, author, {"title": "Wisata DIENG Terpadu",
                                           "tujuan": "  baris satu\r\nbaris dua  "},
                        expected_version=None)
    db.session.commit()
    assert proposal.title_key == "wisata dieng terpadu"
    assert proposal.tujuan == "baris satu\nbaris dua"


@pytest.mark.parametrize("amount, expected", [
    ("25.000.000", 25_000_000), ("Rp 1.500.000", 1_500_000), ("rp1.000", 1000),
    (" 750000 ", 750_000), (0, 0), (12_345, 12_345),
])
def test_funding_amounts_in_rupiah(app, amount, expected):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    party = ops.set_funding(proposal, author, proposal.parties[0].id,
                            [{"source": "apb_desa", "amount": amount, "apbdes_year": "2027"}],
                            expected_version=None)
    db.session.commit()
    assert [(f.amount, f.apbdes_year) for f in party.funding] == [(expected, 2027)]


@pytest.mark.parametrize("amount", ["-5", -5, "abc", "25,5", "25.000,00", 1.5, None, True,
                                    "9" * 16, ""])
def test_funding_refuses_garbage_amounts_by_row(app, amount):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    before = H.counts(proposal.id)
    error = refused(ValidationError, ops.set_funding, proposal, author, proposal.parties[0].id,
                    [{"source": "swadaya", "amount": "1.000"},
                     {"source": "swadaya", "amount": amount}], expected_version=None)
    assert list(error.fields) == ["funding-1-amount"]
    assert H.counts(proposal.id) == before


def test_funding_sources_and_apb_desa_year(app):
    scenario = H.pihak_ketiga(complete=False)
    proposal, author = scenario.proposal, scenario.author
    village, company = proposal.parties
    before = H.counts(proposal.id)
    error = refused(ValidationError, ops.set_funding, proposal, author, village.id, [
        {"source": "apb_desa", "amount": 10},
        {"source": "apb_desa", "amount": 10, "apbdes_year": 1999},
        {"source": "hibah", "amount": 10},
        {"source": "swadaya", "amount": 10, "apbdes_year": "3000"},
    ], expected_version=None)
    assert set(error.fields) == {"funding-0-apbdes_year", "funding-1-apbdes_year",
                                 "funding-2-source", "funding-3-apbdes_year"}
    error = refused(ValidationError, ops.set_funding, proposal, author, company.id,
                    [{"source": "apb_desa", "amount": 10, "apbdes_year": 2027}],
                    expected_version=None)
    assert "hanya dapat menjadi sumber dana pihak desa" in error.fields["funding-0-source"][0]
    refused(NotFoundError, ops.set_funding, proposal, author, 987654, [],
            expected_version=None)
    assert H.counts(proposal.id) == before
    ops.set_funding(proposal, author, company.id,
                    [{"source": "pihak_ketiga", "amount": "40.000.000", "apbdes_year": 2027,
                      "description": "Investasi homestay"}], expected_version=None)
    ops.set_funding(proposal, author, village.id,
                    [{"source": "apb_desa", "amount": "25.000.000", "apbdes_year": 2027},
                     {"source": "bum_desa", "amount": "5.000.000", "apbdes_year": 2027}],
                    expected_version=None)
    db.session.commit()
    lines = S.snapshot(proposal)["pendanaan"].splitlines()
    assert lines == [
        "Desa Dieng: APB Desa Rp25.000.000 (APB Desa 2027)",
        "Desa Dieng: BUM Desa / BUM Desa Bersama Rp5.000.000",
        "CV Prau Lestari: Dana pihak ketiga Rp40.000.000 - Investasi homestay",
    ]
    # Only an APB Desa line carries the APB Desa year.
    years = db.session.execute(sa.select(ProposalFunding.source, ProposalFunding.apbdes_year)
                               .order_by(ProposalFunding.id)).all()
    assert sorted((str(s), y) for s, y in years) == [
        ("apb_desa", 2027), ("bum_desa", None), ("pihak_ketiga", None)]
    # Replacing with the same lines records nothing new.
    count = n_rows(AuditEntry)
    ops.set_funding(proposal, author, village.id,
                    [{"source": "apb_desa", "amount": 25_000_000, "apbdes_year": 2027},
                     {"source": "bum_desa", "amount": 5_000_000}], expected_version=None)
    db.session.commit()
    assert n_rows(AuditEntry) == count


# --- versions, locking and comparison ------------------------------------------------------

def test_each_submission_freezes_a_version(app):
    scenario = H.antar_desa(complete=True)
    proposal, author, reviewer = scenario.proposal, scenario.author, scenario["bkad"]
    expected_v1 = S.snapshot(proposal)
    ops.transition(proposal, author, "submit")
    db.session.commit()
    ops.transition(proposal, reviewer, "start_review")
    ops.transition(proposal, reviewer, "request_changes", points=["Jelaskan tarif."])
    db.session.commit()
    ops.update_sections(proposal, author, {"tata_cara": "Tarif Rp20.000 per pendaki."},
                        expected_version=proposal.version)
    db.session.commit()
    ops.transition(proposal, author, "submit")
    db.session.commit()
    versions = db.session.scalars(sa.select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id).order_by(ProposalVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].snapshot == expected_v1
    assert versions[1].snapshot == S.snapshot(proposal)
    assert versions[0].created_by_id == author.id
    assert set(versions[0].snapshot) == set(S.TEXT_SECTIONS) | {
        "bidang", "jangka_waktu", "parties", "hak_kewajiban", "pendanaan"}
    changed = [d.key for d in diff_snapshots(versions[0].snapshot, versions[1].snapshot)
               if d.changed]
    assert changed == ["tata_cara"]
    submit_entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "proposal.transition.submit").order_by(AuditEntry.id)).all()
    assert [e.after["version_number"] for e in submit_entries] == [1, 2]


def test_a_stale_save_is_refused_with_what_changed_meanwhile(app):
    scenario = H.antar_desa(complete=False)
    proposal, author = scenario.proposal, scenario.author
    partner = scenario[f"sek:{SEMBUNGAN}"]
    seen = proposal.version  # the author opens the form
    ops.update_sections(proposal, partner, {"tujuan": "Tujuan dari Sembungan",
                                            "menimbang": "bahwa ..."}, expected_version=seen)
    db.session.commit()
    ops.update_party(proposal, partner, proposal.parties[1].id, {"hak": "Hak baru"},
                     expected_version=proposal.version)
    db.session.commit()
    ops.set_funding(proposal, partner, proposal.parties[1].id,
                    [{"source": "swadaya", "amount": "2.000.000"}],
                    expected_version=proposal.version)
    ops.add_party(proposal, partner, desa_code=PATAKBANTENG)
    db.session.commit()
    before = H.counts(proposal.id)
    error = refused(ConflictError, ops.update_sections, proposal, author,
                    {"tujuan": "Tujuan dari Dieng"}, expected_version=seen)
    assert error.status == 409
    assert "diubah oleh orang lain" in error.message
    assert error.details["current"] == {"state": "draft", "version": before.version}
    changes = error.details["changes"]
    assert [c["by"] for c in changes] == [partner.username] * 4
    assert [c["fields"] for c in changes] == [["menimbang", "tujuan"], ["hak_kewajiban"],
                                              ["pendanaan"], ["parties"]]
    assert all(dt.datetime.fromisoformat(c["at"]) for c in changes)
    assert H.counts(proposal.id) == before
    assert scenario.reload().tujuan == "Tujuan dari Sembungan"
    # The other saves check the version too.
    for fn, args in ((ops.update_party, (proposal.parties[0].id, {"hak": "x"})),
                     (ops.set_funding, (proposal.parties[0].id, []))):
        error = refused(ConflictError, fn, proposal, author, *args, expected_version=seen)
        assert error.details["changes"]
    assert H.counts(proposal.id) == before
    # Saved on the current version, it passes.
    ops.update_sections(proposal, author, {"tujuan": "Tujuan bersama"},
                        expected_version=before.version)
    db.session.commit()
    assert scenario.reload().tujuan == "Tujuan bersama"


def test_transitions_since_a_version_are_listed_as_changes(app):
    scenario = H.antar_desa(complete=True)
    proposal, author, reviewer = scenario.proposal, scenario.author, scenario["bkad"]
    seen = proposal.version
    ops.transition(proposal, author, "submit")
    ops.transition(proposal, reviewer, "start_review")
    ops.transition(proposal, reviewer, "request_changes", points=["Peta."])
    db.session.commit()
    error = refused(ConflictError, ops.update_sections, proposal, author, {"tujuan": "x"},
                    expected_version=seen)
    assert [c["by"] for c in error.details["changes"]] == [author.username,
                                                           reviewer.username,
                                                           reviewer.username]


def test_content_is_frozen_outside_draft_and_changes_requested(app):
    scenario = H.antar_desa(submit=True)
    proposal, author = scenario.proposal, scenario.author
    before = H.counts(proposal.id)
    for fn, args, kwargs in (
        (ops.update_sections, ({"tujuan": "x"},), {"expected_version": None}),
        (ops.add_party, (), {"desa_code": PATAKBANTENG}),
        (ops.remove_party, (proposal.parties[1].id,), {}),
        (ops.update_party, (proposal.parties[1].id, {"hak": "x"}), {"expected_version": None}),
        (ops.set_funding, (proposal.parties[1].id, []), {"expected_version": None}),
    ):
        error = refused(ConflictError, fn, proposal, author, *args, **kwargs)
        assert error.details["current"]["state"] == "submitted"
    assert H.counts(proposal.id) == before


def test_diff_marks_changed_sections_and_escapes_html(app):
    old = {"title": "Kerja sama wisata", "tujuan": "Mengelola jalur <b>Prau</b>",
           "ruang_lingkup": "Sama"}
    new = {"title": "Kerja sama wisata Dieng",
           "tujuan": "Mengelola jalur <script>alert(1)</script>", "ruang_lingkup": "Sama",
           "kerangka_acuan_kerja": "Baru & lengkap"}
    result = {d.key: d for d in diff_snapshots(old, new)}
    assert [d.key for d in diff_snapshots(old, new)][:2] == ["title", "tujuan"]
    assert {k for k, d in result.items() if d.changed} == {"title", "tujuan",
                                                           "kerangka_acuan_kerja"}
    assert str(result["title"].html) == "Kerja sama wisata<ins> Dieng</ins>"
    html = str(result["tujuan"].html)
    assert "<script>" not in html and "<b>" not in html
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in html
    assert "<del>&lt;b&gt;Prau&lt;/b&gt;</del>" in html
    assert str(result["kerangka_acuan_kerja"].html) == "<ins>Baru &amp; lengkap</ins>"
    assert result["ruang_lingkup"].html == "Sama" and not result["ruang_lingkup"].changed
    assert result["tujuan"].label == "Maksud dan tujuan"
    assert str(diff_words("a b c", "a c")) == "a <del>b </del>c"


# --- review and comments -------------------------------------------------------------------

def test_review_judgments(app):
    scenario = H.antar_desa(submit=True)
    proposal, reviewer = scenario.proposal, scenario["bkad"]
    ops.transition(proposal, reviewer, "start_review")
    ops.transition(proposal, reviewer, "request_changes",
                   points=[" Lengkapi peta ", "", "Rinci tarif"], text="Catatan umum")
    db.session.commit()
    review = db.session.scalars(sa.select(ProposalReview)).one()
    assert review.judgment == Judgment.REQUEST_CHANGES
    assert review.points == ["Lengkapi peta", "Rinci tarif"]
    assert review.note == "Catatan umum" and review.version_number == 1
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.after["points"] == ["Lengkapi peta", "Rinci tarif"]
    ops.transition(proposal, scenario.author, "submit")
    ops.transition(proposal, reviewer, "start_review")
    ops.transition(proposal, reviewer, "reject", points=["Bertentangan dengan RTRW"])
    db.session.commit()
    reviews = db.session.scalars(sa.select(ProposalReview).order_by(ProposalReview.id)).all()
    assert [(r.judgment, r.version_number) for r in reviews] == [
        (Judgment.REQUEST_CHANGES, 1), (Judgment.REJECT, 2)]
    assert proposal.state == State.REJECTED


def test_comment_threads_are_one_level(app):
    scenario = H.antar_desa(submit=True)
    proposal, author, reviewer = scenario.proposal, scenario.author, scenario["bkad"]
    root = ops.add_comment(proposal, reviewer, "Peta jalur belum ada.", section="ruang_lingkup")
    db.session.commit()
    reply = ops.add_comment(proposal, author, "Akan kami lampirkan.", parent_id=root.id)
    db.session.commit()
    reply2 = ops.add_comment(proposal, reviewer, "Terima kasih.", parent_id=reply.id,
                             section="tujuan")
    db.session.commit()
    assert (reply.parent_id, reply2.parent_id) == (root.id, root.id)
    assert {root.section, reply.section, reply2.section} == {"ruang_lingkup"}
    assert root.version_number == 1
    general = ops.add_comment(proposal, author, "Mohon ditelaah segera.")
    parties = ops.add_comment(proposal, author, "Tentang pihak.", section="parties")
    db.session.commit()
    assert general.section is None and parties.section == "parties"
    for kwargs, field in (({"section": "lampiran"}, "section"), ({"parent_id": 999}, "parent_id")):
        error = refused(ValidationError, ops.add_comment, proposal, author, "x", **kwargs)
        assert field in error.fields
    error = refused(ValidationError, ops.add_comment, proposal, author, "   ")
    assert "body" in error.fields
    other = H.antar_desa(submit=True, like=scenario, title="Usulan lain")
    error = refused(ValidationError, ops.add_comment, other.proposal, author, "salah utas",
                    parent_id=root.id)
    assert "parent_id" in error.fields
    assert H.audit_actions(proposal.id).count("proposal.comment.add") == 5


def test_comment_edit_window_and_strikes(app):
    scenario = H.antar_desa(submit=True)
    proposal, author, reviewer = scenario.proposal, scenario.author, scenario["bkad"]
    comment = ops.add_comment(proposal, reviewer, "Tarif terlalu tingi.")
    db.session.commit()
    ops.edit_comment(proposal, reviewer, comment.id, "Tarif terlalu tinggi.")
    db.session.commit()
    assert comment.body == "Tarif terlalu tinggi." and comment.edited_at is not None
    error = refused(AccessDenied, ops.edit_comment, proposal, author, comment.id, "Diubah")
    assert "penulis" in error.message
    refused(NotFoundError, ops.edit_comment, proposal, reviewer, 4242, "x")
    # Sixteen minutes later it is fixed for good.
    comment.created_at = utcnow() - dt.timedelta(minutes=16)
    db.session.commit()
    before = H.counts(proposal.id)
    error = refused(ConflictError, ops.edit_comment, proposal, reviewer, comment.id, "Lagi")
    assert "15 menit" in error.message
    assert H.counts(proposal.id) == before
    assert db.session.get(ProposalComment, comment.id).body == "Tarif terlalu tinggi."
    # Struck through, never deleted: by its author ...
    error = refused(AccessDenied, ops.strike_comment, proposal, author, comment.id)
    assert "penulis atau admin" in error.message
    ops.strike_comment(proposal, reviewer, comment.id)
    db.session.commit()
    struck = db.session.get(ProposalComment, comment.id)
    assert struck.struck_at is not None and struck.struck_by_id == reviewer.id
    assert struck.body == "Tarif terlalu tinggi."
    # ... striking twice changes nothing, and a struck comment is not edited.
    count = n_rows(AuditEntry)
    ops.strike_comment(proposal, reviewer, comment.id)
    db.session.commit()
    assert n_rows(AuditEntry) == count
    fresh = ops.add_comment(proposal, author, "Baru")
    db.session.commit()
    admin = AdminFactory()
    ops.strike_comment(proposal, admin, fresh.id)
    db.session.commit()
    error = refused(ConflictError, ops.edit_comment, proposal, author, fresh.id, "Ubah")
    assert "dicoret" in error.message
    assert db.session.get(ProposalComment, fresh.id).struck_by_id == admin.id
    assert n_rows(ProposalComment) == 2
    actions = H.audit_actions(proposal.id)
    assert actions[-5:] == ["proposal.comment.add", "proposal.comment.edit",
                            "proposal.comment.strike", "proposal.comment.add",
                            "proposal.comment.strike"]


def test_who_may_comment(app):
    scenario = H.pihak_ketiga(submit=False)
    proposal = scenario.proposal
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR)
    tieng = UserFactory(role=Role.SEKRETARIS, desa_code=TIENG)
    # A draft belongs to its authors: not even the village's reviewer comments on it.
    for user in (scenario["ketua_bpd"], scenario["kepala_desa"], auditor, tieng):
        refused(AccessDenied, ops.add_comment, proposal, user, "Catatan pada draf")
    ops.add_comment(proposal, scenario.author, "Catatan penyusun")
    db.session.commit()
    ops.transition(proposal, scenario.author, "submit")
    db.session.commit()
    error = refused(AccessDenied, ops.add_comment, proposal, auditor, "Catatan auditor")
    assert "Auditor hanya dapat membaca" in error.message
    refused(AccessDenied, ops.add_comment, proposal, tieng, "Dari Tieng")
    refused(AccessDenied, ops.add_comment, proposal, scenario["kepala_desa"], "Kades")
    ops.add_comment(proposal, scenario["ketua_bpd"], "Catatan BPD")
    ops.add_comment(proposal, AdminFactory(), "Catatan admin")
    db.session.commit()
    assert n_rows(ProposalComment) == 3
    assert [c.version_number for c in db.session.scalars(
        sa.select(ProposalComment).order_by(ProposalComment.id))] == [None, 1, 1]


# --- the list, its scope and its filters ---------------------------------------------------

def _ids(page) -> list[int]:
    return [p.id for p in page.items]


def test_list_scope_matches_the_view_rule(app):
    dieng = H.antar_desa(submit=False, title="Draf Dieng")
    submitted = H.antar_desa(submit=True, title="Diajukan Dieng", like=dieng)
    third = H.pihak_ketiga(submit=True, title="Homestay Dieng")
    users = {
        "admin": AdminFactory(),
        "sek_dieng": dieng.author,
        "sek_tieng": UserFactory(role=Role.SEKRETARIS, desa_code=TIENG),
        "bkad": dieng["bkad"],
        "bkad_other": UserFactory(role=Role.BKAD,
                                  bkad=BkadFactory(desa_codes=[TIENG, PATAKBANTENG])),
        "ketua_bpd": third["ketua_bpd"],
        "auditor_kejajar": UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR),
        "auditor_garung": UserFactory(role=Role.AUDITOR, jurisdiction_code=GARUNG),
        "auditor_wonosobo": UserFactory(role=Role.AUDITOR, jurisdiction_code="33.07"),
    }
    draft_id, submitted_id, third_id = (dieng.proposal.id, submitted.proposal.id,
                                        third.proposal.id)
    expected = {
        "admin": {draft_id, submitted_id, third_id},
        "sek_dieng": {draft_id, submitted_id, third_id},
        "sek_tieng": set(),
        "bkad": {submitted_id, third_id},
        "bkad_other": set(),
        "ketua_bpd": {submitted_id, third_id},
        "auditor_kejajar": {submitted_id, third_id},
        "auditor_garung": set(),
        "auditor_wonosobo": {submitted_id, third_id},
    }
    proposals = db.session.scalars(sa.select(Proposal)).all()
    for name, user in users.items():
        page = list_proposals(user, ProposalFilters())
        assert set(_ids(page)) == expected[name], name
        assert page.total == len(expected[name])
        readable = {p.id for p in proposals if access.can(user, Action.VIEW, p)}
        assert readable == expected[name], name
        # Whoever reads a proposal reads its audit trail; nobody else does.
        audit_readable = {p.id for p in proposals if access.can(user, Action.READ_AUDIT, p)}
        assert audit_readable == expected[name], name


def _filter_world():
    """Five proposals that differ in every filtered property (admin lists them all)."""
    admin = AdminFactory()
    company = ActorFactory(name="CV Prau Lestari")
    other_company = ActorFactory(name="PT Dieng Geo")

    def make(title, own, partners=(), kind="antar_desa", actors=(), bidang=(), start=None,
             end=None, state=State.SUBMITTED):
        proposal = ops.create_proposal(admin, kind=kind, initiative="desa", title=title,
                                       own_desa_code=own, partner_desa_codes=list(partners),
                                       third_party_actor_ids=[a.id for a in actors])
        ops.update_sections(proposal, admin, {"bidang": list(bidang), "start_date": start,
                                              "end_date": end}, expected_version=None)
        proposal.state = state
        db.session.commit()
        return proposal

    world = {
        "a": make("Wisata Dieng 100% _alami_", DIENG, [SEMBUNGAN], bidang=["usaha_bersama"],
                  start="2027-01-01", end="2029-12-31"),
        "b": make("Keamanan lintas kecamatan", DIENG, [LENGKONG], bidang=["keamanan"],
                  start="2030-01-01", end="2031-12-31", state=State.ACTIVE),
        "c": make("Homestay Dieng", DIENG, kind="pihak_ketiga", actors=[company],
                  start="2026-06-01", end="2027-05-31", state=State.DRAFT),
        "d": make("Air bersih Tieng", TIENG, [PATAKBANTENG],
                  bidang=["kemasyarakatan", "usaha_bersama"], start="2025-01-01",
                  end="2026-01-01", state=State.ENDED),
        "e": make("Parkir Telaga Warna", DIENG_KULON, kind="pihak_ketiga",
                  actors=[other_company], start="2028-01-01", end="2028-12-31"),
    }
    return admin, world, company


def test_every_filter(app):
    admin, w, company = _filter_world()
    ids = {v.id: k for k, v in w.items()}

    def names(**args) -> list[str]:
        filters = ProposalFilters.parse(MultiDict(args))
        return [ids[p.id] for p in list_proposals(admin, filters).items]

    def found(**args) -> set[str]:
        return set(names(**args))

    assert found() == set("abcde")
    assert found(state="submitted") == {"a", "e"}
    assert found(state=["draft", "ended"]) == {"c", "d"}
    assert found(kind="pihak_ketiga") == {"c", "e"}
    assert found(kind="antar_desa") == {"a", "b", "d"}
    assert found(bidang="usaha_bersama") == {"a", "d"}
    assert found(bidang="keamanan") == {"b"}
    assert found(desa=DIENG) == {"a", "b", "c"}
    assert found(desa="3307132003") == {"a"}  # Sembungan, undotted
    assert found(kecamatan=GARUNG) == {"b"}
    assert found(kecamatan=KEJAJAR) == {"a", "b", "c", "d"}
    assert found(kabupaten="33.04") == {"e"}
    assert found(kabupaten="33.07") == {"a", "b", "c", "d"}
    assert found(actor=str(company.id)) == {"c"}
    assert found(date_from="2030-06-01") == {"b"}
    assert found(date_to="2026-12-31") == {"c", "d"}
    assert found(date_from="2027-01-01", date_to="2027-12-31") == {"a", "c"}
    assert found(q="dieng") == {"a", "c"}
    assert found(q="DIENG 100%") == {"a"}
    assert found(q="%") == {"a"}  # a literal percent sign, not a wildcard
    assert found(q="_alami_") == {"a"}
    assert found(q="wisata_dieng") == set()  # "_" is no wildcard either
    assert found(q=w["d"].ref.lower()) == {"d"}
    assert found(q="dieng", kind="pihak_ketiga", state="draft") == {"c"}
    assert names(sort="title") == sorted("abcde", key=lambda k: w[k].title.lower())
    assert names(sort="start") == ["d", "c", "a", "e", "b"]
    assert names(sort="end") == ["d", "c", "e", "a", "b"]
    assert names(sort="ref") == ["e", "d", "c", "b", "a"]
    assert names(sort="updated") == list(reversed(names(sort="oldest")))


def test_filters_refuse_bad_values_by_field(app):
    bad = MultiDict([("state", "disetujui"), ("kind", "regional"), ("bidang", "pariwisata"),
                     ("desa", "33.07"), ("kecamatan", DIENG), ("kabupaten", "33"),
                     ("actor", "CV"), ("date_from", "2027-13-01"), ("date_to", "besok"),
                     ("sort", "acak")])
    with pytest.raises(ValidationError) as info:
        ProposalFilters.parse(bad)
    assert set(info.value.fields) == {"state", "kind", "bidang", "desa", "kecamatan",
                                      "kabupaten", "actor", "date_from", "date_to", "sort"}
    good = ProposalFilters.parse({"state": ["draft", "submitted"], "kind": "antar_desa",
                                  "desa": "3307132013", "q": "  x" * 100, "sort": "end"})
    assert good.state == [State.DRAFT, State.SUBMITTED] and good.desa == DIENG
    assert good.text is not None and len(good.text) <= 200
    empty = ProposalFilters.parse({})
    assert empty.conditions() == [] and empty.sort == "updated"


def test_pagination(app):
    author = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    H.bulk_proposals(12, author=author)
    first = list_proposals(author, ProposalFilters(), page=1, per_page=5)
    third = list_proposals(author, ProposalFilters(), page=3, per_page=5)
    beyond = list_proposals(author, ProposalFilters(), page=9, per_page=5)
    assert (first.total, first.pages, len(first.items), len(third.items)) == (12, 3, 5, 2)
    assert beyond.items == [] and beyond.total == 12
    assert not set(_ids(first)) & set(_ids(third))
    assert list_proposals(author, ProposalFilters(), per_page=1000).per_page == 100
    assert list_proposals(author, ProposalFilters(), page=-3).page == 1


@pytest.mark.parametrize("role", ["sekretaris", "bkad", "auditor", "admin"])
def test_a_page_costs_the_same_number_of_statements_whatever_its_size(app, role):
    author = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    H.bulk_proposals(60, author=author)
    user = {
        "sekretaris": author,
        "bkad": UserFactory(role=Role.BKAD, bkad=BkadFactory(desa_codes=[DIENG, SEMBUNGAN])),
        "auditor": UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR),
        "admin": AdminFactory(),
    }[role]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def page_cost(per_page: int, **filters) -> int:
        db.session.commit()  # every page starts from a fresh request state
        user.role, user.bkad  # noqa: B018 - the request loads its user before listing
        if user.bkad is not None:
            user.bkad.villages  # noqa: B018
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = list_proposals(user, ProposalFilters.parse(filters), per_page=per_page)
            for proposal in page.items:  # what the list template shows
                [(party.actor.name, party.desa_code, party.role) for party in proposal.parties]
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert len(page.items) == min(per_page, 60)
        return len(statements)

    small, large = page_cost(5), page_cost(50)
    assert small == large <= 3
    assert page_cost(5, kecamatan=KEJAJAR, q="massal") == page_cost(50, kecamatan=KEJAJAR,
                                                                     q="massal")


def test_dashboard(app):
    today = local_today()
    scenario = H.antar_desa(submit=False, title="Draf saya")
    back = H.antar_desa(submit=True, title="Dikembalikan", like=scenario)
    ops.transition(back.proposal, scenario["bkad"], "start_review")
    ops.transition(back.proposal, scenario["bkad"], "request_changes", points=["Peta"])
    soon = H.antar_desa(submit=True, title="Segera berakhir", like=scenario)
    later = H.antar_desa(submit=True, title="Berakhir nanti", like=scenario)
    for proposal, days in ((soon.proposal, 10), (later.proposal, 80)):
        proposal.state = State.ACTIVE
        proposal.start_date = today - dt.timedelta(days=300)
        proposal.end_date = today + dt.timedelta(days=days)
    db.session.commit()
    board = dashboard(scenario.author, today)
    assert [p.title for p in board.drafts] == ["Draf saya"]
    assert [p.title for p in board.awaiting] == ["Dikembalikan"]
    assert [p.title for p in board.ending_30] == ["Segera berakhir"]
    assert [p.title for p in board.ending_90] == ["Berakhir nanti"]
    assert board.by_state == {State.DRAFT: 1, State.CHANGES_REQUESTED: 1, State.ACTIVE: 2}
    reviewer_board = dashboard(scenario["bkad"], today)
    assert reviewer_board.drafts == [] and reviewer_board.awaiting == []
    assert State.DRAFT not in reviewer_board.by_state


# --- the audit trail -----------------------------------------------------------------------

def _realistic_flow() -> H.Scenario:
    scenario = H.antar_desa(submit=True)
    proposal, reviewer = scenario.proposal, scenario["bkad"]
    ops.transition(proposal, reviewer, "start_review")
    ops.add_comment(proposal, reviewer, "Lengkapi peta.", section="ruang_lingkup")
    ops.transition(proposal, reviewer, "request_changes", points=["Peta jalur."])
    db.session.commit()
    ops.update_sections(proposal, scenario.author, {"ruang_lingkup": "Jalur dan peta"},
                        expected_version=proposal.version)
    ops.transition(proposal, scenario.author, "submit")
    db.session.commit()
    return scenario


def test_every_operation_is_audited_in_order(app):
    scenario = _realistic_flow()
    proposal = scenario.proposal
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.id for e in entries] == list(range(1, len(entries) + 1))
    assert [e.action for e in entries] == [
        "proposal.create", "proposal.update", "proposal.party.update",
        "proposal.party.update", "proposal.funding.update", "proposal.transition.submit",
        "proposal.transition.start_review", "proposal.comment.add",
        "proposal.transition.request_changes", "proposal.update",
        "proposal.transition.submit"]
    assert all(e.proposal_id == proposal.id for e in entries)
    assert {e.actor_label for e in entries} == {scenario.author.username,
                                                scenario["bkad"].username}
    update = entries[-2]
    assert update.before == {"ruang_lingkup": H.ANTAR_DESA_SECTIONS["ruang_lingkup"]}
    assert update.after["ruang_lingkup"] == "Jalur dan peta"
    assert entries[0].after["parties"][1]["desa_code"] == SEMBUNGAN
    head = db.session.get(AuditHead, 1)
    assert (head.last_id, head.last_hash) == (entries[-1].id, entries[-1].hash)
    result = verify_chain()
    assert result.ok and result.checked == len(entries)


def test_a_rolled_back_operation_leaves_no_entry_and_no_gap(app):
    scenario = H.antar_desa(submit=False)
    proposal, author = scenario.proposal, scenario.author
    count = n_rows(AuditEntry)
    # Written, then the request fails later and rolls back.
    ops.update_sections(proposal, author, {"tujuan": "Batal"}, expected_version=None)
    assert n_rows(AuditEntry) == count + 1
    db.session.rollback()
    assert n_rows(AuditEntry) == count
    assert db.session.get(AuditHead, 1).last_id == count
    refused(ValidationError, ops.update_sections, proposal, author, {"end_date": "x"},
            expected_version=None)
    ops.update_sections(proposal, author, {"tujuan": "Tetap"}, expected_version=None)
    db.session.commit()
    ids = list(db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))
    assert ids == list(range(1, count + 2))
    assert verify_chain().ok


def _tamper(kind: str, entry_ids: list[int]) -> int:
    """Change the stored trail behind the application's back; returns the entry named."""
    table = AuditEntry.__table__
    middle = entry_ids[len(entry_ids) // 2]
    if kind == "summary":
        db.session.execute(sa.text("UPDATE audit_entry SET summary = :s WHERE id = :id"),
                           {"s": "Tidak ada yang terjadi", "id": middle})
    elif kind == "before":
        target = db.session.scalar(sa.select(table.c.id).where(
            table.c.action == "proposal.update").order_by(table.c.id.desc()))
        db.session.execute(sa.update(table).where(table.c.id == target)
                           .values(before={"ruang_lingkup": "Isi yang dipalsukan"}))
        middle = target
    elif kind == "rehashed":
        # A careful forger recomputes the altered entry's own hash: the next link breaks.
        entry = db.session.get(AuditEntry, middle)
        entry.summary = "Dipalsukan"
        entry.hash = entry.compute_hash()
        db.session.flush()
        middle += 1
    elif kind == "delete_middle":
        db.session.execute(sa.text("DELETE FROM audit_entry WHERE id = :id"), {"id": middle})
    elif kind == "delete_last":
        middle = entry_ids[-1]
        db.session.execute(sa.text("DELETE FROM audit_entry WHERE id = :id"), {"id": middle})
    db.session.commit()
    db.session.expire_all()
    return middle


@pytest.mark.parametrize("kind, problem", [
    ("summary", "altered"), ("before", "altered"), ("rehashed", "link"),
    ("delete_middle", "missing"), ("delete_last", "truncated"),
])
def test_tampering_is_detected_naming_the_entry(app, kind, problem):
    _realistic_flow()
    entry_ids = list(db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))
    assert verify_chain().ok
    broken = _tamper(kind, entry_ids)
    result = verify_chain()
    assert not result.ok
    assert result.broken_id == broken
    assert result.kind == problem
    assert str(broken) in result.message
    assert result.checked == broken - 1
