"""Disputes (PP 43/2014 Pasal 148): the route computed from the parties in dispute, each
step and every refusal (a step before the musyawarah, the wrong official, the wrong level,
anything after closure), the berita acara PDF of a settlement by the Camat, the signed
scan, access per role in HTML and JSON, and hostile text shown as text."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry
from coopdesa.disputes import operations as ops
from coopdesa.disputes.models import Dispute, DisputeState, DisputeStep
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals.states import State
from tests import proposal_helpers as H
from tests.conftest import DIENG, KEJAJAR, PATAKBANTENG, SEMBUNGAN
from tests.document_helpers import active_agreement
from tests.factories import AdminFactory, UserFactory

#: A desa of Kecamatan Garung, Kabupaten Wonosobo: across kecamatan from Dieng.
LENGKONG = "33.07.12.2001"
HOSTILE = '<script>alert(1)</script><img src="http://127.0.0.1/x">'


# --- helpers -------------------------------------------------------------------------------

def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return _flat(" ".join(page.extract_text() or "" for page in reader.pages))


def open_data(s: H.Scenario, **extra) -> dict:
    return {"subject": "Pembagian hasil loket pendakian", "clauses": "Pasal 6 ayat (2)",
            "description": "Sembungan menilai bagian hasil tidak sesuai.",
            "party_ids": [p.id for p in s.reload().parties], **extra}


def step(level: str, outcome: str = "not_settled", **extra) -> dict:
    return {"level": level, "held_on": local_today().isoformat(), "place": "Balai Desa Dieng",
            "outcome": outcome, "summary": "Para pihak membahas pembagian hasil.", **extra}


def signatories(dispute: Dispute) -> list[dict]:
    return [{"party_id": p.id, "name": f"Kades {p.name}", "office": f"Kepala Desa {p.name}"}
            for p in dispute.disputing_parties]


def settled_by_camat(dispute: Dispute, **extra) -> dict:
    return step("camat", "settled", **{
        "facilitator_name": "Drs. Bambang Wibowo", "facilitator_office": "Camat Kejajar",
        "terms": "Bagi hasil loket 50:50 mulai bulan depan.\nLaporan bulanan bersama.",
        "signatories": signatories(dispute), **extra})


def active(kind: str = "antar_desa", desa_codes=(DIENG, SEMBUNGAN)) -> H.Scenario:
    """An agreement in force, fast: built as a proposal and put in ``active``."""
    if kind == "antar_desa":
        s = H.antar_desa(submit=True, desa_codes=desa_codes)
    else:
        s = H.pihak_ketiga(submit=True)
    H.set_state(s.proposal, State.ACTIVE)
    return s


def opened(s: H.Scenario, user=None, **extra) -> Dispute:
    dispute = ops.open_dispute(s.reload(), user or s.author, open_data(s, **extra))
    db.session.commit()
    return dispute


def fingerprint(dispute_id: int | None = None) -> tuple:
    """What a refused operation must leave unchanged."""
    steps = db.session.scalar(sa.select(sa.func.count(DisputeStep.id)))
    disputes = db.session.scalar(sa.select(sa.func.count(Dispute.id)))
    audit = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    state = version = None
    if dispute_id is not None:
        row = db.session.execute(sa.select(Dispute.state, Dispute.version)
                                 .where(Dispute.id == dispute_id)).one()
        state, version = row
    return steps, disputes, audit, state, version


def refused(exc_type, fn, *args, field: str | None = None, match: str | None = None,
            dispute_id: int | None = None, **kwargs):
    before = fingerprint(dispute_id)
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    db.session.rollback()
    assert fingerprint(dispute_id) == before
    if field is not None:
        assert field in info.value.fields, info.value.fields
        if match is not None:
            assert any(match in m for m in info.value.fields[field]), info.value.fields
    elif match is not None:
        assert match in info.value.message, info.value.message
    return info.value


# --- the happy path: settled by the Camat --------------------------------------------------

def test_dispute_settled_by_the_camat_through_the_pages(app, login):
    s = active_agreement("antar_desa")
    proposal = s.reload()
    sek = s[f"sek:{DIENG}"]
    client = login(sek)

    page = client.get(f"/kerja-sama/{proposal.id}").get_data(as_text=True)
    assert "Catat perselisihan" in page
    form = client.get(f"/kerja-sama/{proposal.id}/perselisihan/baru")
    assert form.status_code == 200
    response = client.post(f"/kerja-sama/{proposal.id}/perselisihan/baru", data={
        "subject": "Pembagian hasil loket pendakian", "clauses": "Pasal 6 ayat (2)",
        "description": "Bagian Sembungan belum dibayar.",
        "party_ids": [str(p.id) for p in proposal.parties]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    dispute = db.session.scalars(sa.select(Dispute)).one()
    assert dispute.state == DisputeState.OPEN

    # The agreement page shows the open dispute prominently.
    page = client.get(f"/kerja-sama/{proposal.id}").get_data(as_text=True)
    assert "alert-danger" in page and "Pembagian hasil loket pendakian" in page
    assert f"/perselisihan/{dispute.id}" in page

    # The route: musyawarah, then the Camat of Kejajar; now at the musyawarah.
    page = client.get(f"/perselisihan/{dispute.id}").get_data(as_text=True)
    assert "Camat Kejajar" in page and "posisi sekarang" in page
    assert page.index("Musyawarah para pihak") < page.index("Camat Kejajar")

    version = str(db.session.get(Dispute, dispute.id).version)
    response = client.post(f"/perselisihan/{dispute.id}/langkah", data={
        **step("musyawarah"), "expected_version": version})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    db.session.expire_all()  # the request committed in its own session
    dispute = db.session.get(Dispute, dispute.id)
    data = settled_by_camat(dispute)
    form_data = {k: v for k, v in data.items() if k != "signatories"}
    for row in data["signatories"]:
        form_data[f"sig-{row['party_id']}-name"] = row["name"]
        form_data[f"sig-{row['party_id']}-office"] = row["office"]
    form_data["expected_version"] = str(dispute.version)
    response = client.post(f"/perselisihan/{dispute.id}/langkah", data=form_data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]

    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute.id)
    assert dispute.state == DisputeState.SETTLED and dispute.closed_at is not None
    assert [s_.level.value for s_ in dispute.steps] == ["musyawarah", "camat"]
    assert dispute.berita_acara_id is not None
    stored = dispute.berita_acara
    assert hashlib.sha256(stored.data).hexdigest() == dispute.berita_acara_sha256

    pdf = client.get(f"/perselisihan/{dispute.id}/berita-acara.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == stored.data
    text = pdf_text(pdf.data)
    from coopdesa.documents import pdf as P

    for part in ("BERITA ACARA", "PENYELESAIAN PERSELISIHAN KERJA SAMA DESA",
                 "Peraturan Bersama Kepala Desa", proposal.title, "Nomor 1 Tahun",
                 P.hari(local_today()), P.tanggal_huruf(local_today()),
                 "Pembagian hasil loket pendakian", "Pasal 6 ayat (2)",
                 "Musyawarah para pihak", "Bagi hasil loket 50:50", "bersifat final",
                 "Camat Kejajar", "Drs. Bambang Wibowo",
                 *(f"Kades {p.name}" for p in proposal.parties)):
        assert _flat(part) in text, (part, text[:3000])

    # Settled: no alert any more, the panel lists it as "Selesai".
    page = client.get(f"/kerja-sama/{proposal.id}").get_data(as_text=True)
    assert "dispute-alert" not in page and "Selesai" in page
    actions = H.audit_actions(proposal.id)
    assert actions[-4:] == ["dispute.open", "dispute.step", "dispute.step", "dispute.render"]

    # A step after the settlement is refused (HTML and operation).
    response = client.post(f"/perselisihan/{dispute.id}/langkah", data=step("musyawarah"))
    assert response.status_code == 409
    refused(ConflictError, ops.record_step, dispute, sek, step("musyawarah"),
            match="sudah selesai", dispute_id=dispute.id)


def test_berita_acara_scan_is_checked_and_attached(app, login):
    s = active("antar_desa")
    dispute = opened(s)
    ops.record_step(dispute, s.author, step("musyawarah", "settled", terms="Sepakat.",
                                            signatories=signatories(dispute)))
    db.session.commit()
    assert dispute.state == DisputeState.SETTLED
    text = pdf_text(dispute.berita_acara.data)
    assert "bersifat final" not in text  # a musyawarah settlement, not an official's
    client = login(s.author)
    bad = client.post(f"/perselisihan/{dispute.id}/pindaian",
                      data={"scan": (io.BytesIO(b"MZ not a pdf"), "scan.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "bukan PDF" in bad.get_data(as_text=True)
    assert db.session.get(Dispute, dispute.id).scan_id is None
    good = client.post(f"/perselisihan/{dispute.id}/pindaian",
                       data={"scan": (io.BytesIO(b"%PDF-1.4 signed"), "ba.pdf")},
                       content_type="multipart/form-data")
    assert good.status_code == 302
    download = client.get(f"/perselisihan/{dispute.id}/pindaian")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 signed"


# --- routes --------------------------------------------------------------------------------

def test_route_across_kecamatan_needs_the_bupati(app, api):
    s = active("antar_desa", desa_codes=(DIENG, LENGKONG))
    dispute = opened(s)
    rows = ops.route_rows(dispute)
    assert [(r["level"].value, r["official"]) for r in rows] == [
        ("musyawarah", None), ("bupati", "Bupati Wonosobo")]
    client = api(s.author)
    assert client.post(f"/disputes/{dispute.id}/steps",
                       json=step("musyawarah")).status_code == 201
    camat = client.post(f"/disputes/{dispute.id}/steps", json=step(
        "camat", facilitator_name="X", facilitator_office="Camat Kejajar"))
    assert camat.status_code == 422
    assert "Bupati Wonosobo" in camat.get_json()["error"]["fields"]["level"][0]
    wrong_office = client.post(f"/disputes/{dispute.id}/steps", json=step(
        "bupati", facilitator_name="H. Afif", facilitator_office="Bupati Banjarnegara"))
    assert wrong_office.status_code == 422, wrong_office.get_json()
    assert wrong_office.get_json()["error"]["fields"].get("facilitator_office") == [
        "Langkah ini difasilitasi oleh Bupati Wonosobo, bukan Bupati Banjarnegara."]
    settled = client.post(f"/disputes/{dispute.id}/steps", json=step(
        "bupati", "settled", facilitator_name="H. Afif Nurhidayat",
        facilitator_office="Plt. Bupati Kabupaten Wonosobo", terms="Sepakat dibagi dua.",
        signatories=signatories(dispute)))
    assert settled.status_code == 201, settled.get_json()
    body = settled.get_json()
    assert body["state"] == "settled" and body["berita_acara_sha256"]
    text = pdf_text(api(s.author).get(f"/disputes/{dispute.id}/berita-acara.pdf").data)
    assert "bersifat final" in text and "H. Afif Nurhidayat" in text


def test_third_party_dispute_goes_to_court(app, api):
    s = active("pihak_ketiga")
    dispute = opened(s)
    rows = ops.route_rows(dispute)
    assert [r["level"].value for r in rows] == ["musyawarah", "camat", "pengadilan"]
    assert rows[1]["optional"] and rows[1]["official"] == "Camat Kejajar"
    client = api(s.author)
    first = client.post(f"/disputes/{dispute.id}/steps", json=step("pengadilan"))
    assert first.status_code == 422 and "musyawarah" in first.get_json()["error"]["fields"][
        "level"][0]
    assert client.post(f"/disputes/{dispute.id}/steps",
                       json=step("musyawarah")).status_code == 201
    bupati = client.post(f"/disputes/{dispute.id}/steps", json=step(
        "bupati", facilitator_name="X", facilitator_office="Bupati Wonosobo"))
    assert bupati.status_code == 422 and "pengadilan" in bupati.get_json()["error"]["fields"][
        "level"][0]
    missing = client.post(f"/disputes/{dispute.id}/steps", json=step("pengadilan"))
    assert set(missing.get_json()["error"]["fields"]) == {"court_name", "case_number"}
    settled = client.post(f"/disputes/{dispute.id}/steps", json=step(
        "pengadilan", "settled", court_name="PN Wonosobo", case_number="12/Pdt.G/2026/PN Wsb"))
    assert "outcome" in settled.get_json()["error"]["fields"]
    court = client.post(f"/disputes/{dispute.id}/steps", json=step(
        "pengadilan", court_name="Pengadilan Negeri Wonosobo",
        case_number="12/Pdt.G/2026/PN Wsb"))
    assert court.status_code == 201
    body = court.get_json()
    assert body["state"] == "to_court" and body["closed_at"]
    assert body["steps"][-1]["case_number"] == "12/Pdt.G/2026/PN Wsb"
    after = client.post(f"/disputes/{dispute.id}/steps", json=step("musyawarah"))
    assert after.status_code == 409
    assert client.get(f"/disputes/{dispute.id}/berita-acara.pdf").status_code == 404


def test_a_dispute_between_villages_of_a_third_party_agreement_follows_their_route(app):
    s = H.pihak_ketiga(submit=True, desa_codes=(DIENG, SEMBUNGAN))
    H.set_state(s.proposal, State.ACTIVE)
    villages = [p.id for p in s.reload().parties if p.desa_code]
    dispute = opened(s, party_ids=villages)
    assert [r["level"].value for r in ops.route_rows(dispute)] == ["musyawarah", "camat"]


# --- refusals of steps ---------------------------------------------------------------------

@pytest.fixture
def camat_dispute(app):
    s = active("antar_desa")
    return s, opened(s)


def test_no_official_step_before_the_musyawarah(camat_dispute):
    s, dispute = camat_dispute
    refused(ValidationError, ops.record_step, dispute, s.author, settled_by_camat(dispute),
            field="level", match="musyawarah", dispute_id=dispute.id)


@pytest.mark.parametrize(("data", "field", "match"), [
    ({"level": "bupati", "facilitator_name": "X", "facilitator_office": "Bupati Wonosobo"},
     "level", "Camat Kejajar"),
    ({"level": "pengadilan", "court_name": "PN", "case_number": "1"}, "level",
     "pihak ketiga"),
    ({"level": "camat", "facilitator_name": "X", "facilitator_office": "Camat Garung"},
     "facilitator_office", "Camat Kejajar, bukan Camat Garung"),
    ({"level": "camat", "facilitator_office": "Camat Kejajar"}, "facilitator_name", None),
    ({"level": "camat", "facilitator_name": "X", "outcome": "putusan"}, "outcome",
     "pengadilan"),
    ({"level": "camat", "facilitator_name": "X", "outcome": "settled"}, "terms", None),
    ({"level": "camat", "facilitator_name": "X", "outcome": "settled", "terms": "T"},
     "signatories", "penanda tangan setiap pihak"),
    ({"level": "camat", "facilitator_name": "X", "outcome": "settled", "terms": "T",
      "signatories": [{"party_id": 999999, "name": "A", "office": "B"}]},
     "signatories", "hanya untuk pihak yang berselisih"),
    ({"level": "naik_banding"}, "level", None),
    ({"held_on": "2999-01-01"}, "held_on", "masa depan"),
    ({"held_on": "kemarin"}, "held_on", "TTTT-BB-HH"),
    ({"place": "  "}, "place", None),
    ({"summary": ""}, "summary", None),
    ({"outcome": "menang"}, "outcome", None),
])
def test_step_refusals_name_the_field_and_write_nothing(camat_dispute, data, field, match):
    s, dispute = camat_dispute
    ops.record_step(dispute, s.author, step("musyawarah"))
    db.session.commit()
    refused(ValidationError, ops.record_step, dispute, s.author,
            {**step(data.get("level", "musyawarah")), **data}, field=field, match=match,
            dispute_id=dispute.id)


def test_a_step_before_the_previous_one_is_refused(camat_dispute):
    import datetime as dt

    s, dispute = camat_dispute
    ops.record_step(dispute, s.author, step("musyawarah"))
    db.session.commit()
    earlier = (local_today() - dt.timedelta(days=3)).isoformat()
    refused(ValidationError, ops.record_step, dispute, s.author,
            step("musyawarah", held_on=earlier), field="held_on", match="sebelum",
            dispute_id=dispute.id)


def test_stale_version_is_refused(camat_dispute, api):
    s, dispute = camat_dispute
    stale = dispute.version
    ops.record_step(dispute, s.author, step("musyawarah"))
    db.session.commit()
    response = api(s.author).post(f"/disputes/{dispute.id}/steps",
                                  json={**step("musyawarah"), "expected_version": stale})
    assert response.status_code == 409
    assert response.get_json()["error"]["current"]["version"] == dispute.version


def test_step_form_errors_are_shown_in_the_page_with_the_input_kept(camat_dispute, login):
    s, dispute = camat_dispute
    client = login(s.author)
    ops.record_step(dispute, s.author, step("musyawarah"))
    db.session.commit()
    response = client.post(f"/perselisihan/{dispute.id}/langkah", data={
        **step("camat", facilitator_name="Pak Camat", facilitator_office="Camat Garung"),
        "summary": "Ringkasan yang diketik"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Langkah ini difasilitasi oleh Camat Kejajar, bukan Camat Garung." in page
    assert 'value="Pak Camat"' in page and "Ringkasan yang diketik" in page
    assert len(db.session.get(Dispute, dispute.id).steps) == 1


# --- opening and withdrawing ---------------------------------------------------------------

@pytest.mark.parametrize(("extra", "field"), [
    ({"subject": ""}, "subject"),
    ({"clauses": " "}, "clauses"),
    ({"party_ids": []}, "party_ids"),
    ({"party_ids": "x"}, "party_ids"),
    ({"party_ids": [999999, 999998]}, "party_ids"),
    ({"subject": "x" * 301}, "subject"),
])
def test_open_refusals_name_the_field(app, extra, field):
    s = active("antar_desa")
    refused(ValidationError, ops.open_dispute, s.reload(), s.author, open_data(s, **extra),
            field=field)


def test_one_party_is_not_a_dispute(app):
    s = active("antar_desa")
    one = [s.reload().parties[0].id]
    refused(ValidationError, ops.open_dispute, s.reload(), s.author,
            open_data(s, party_ids=one + one), field="party_ids", match="dua pihak")


@pytest.mark.parametrize("state", [State.AGREED, State.ENDED, State.IN_REVIEW])
def test_only_an_agreement_in_force_can_be_disputed(app, state):
    s = active("antar_desa")
    H.set_state(s.proposal, state)
    refused(ConflictError, ops.open_dispute, s.reload(), s.author, open_data(s),
            match="ditandatangani")


@pytest.mark.parametrize("state", [State.SIGNED, State.POSTPONED])
def test_signed_and_postponed_agreements_can_be_disputed(app, state):
    s = active("antar_desa")
    H.set_state(s.proposal, state)
    assert opened(s).is_open


def test_withdraw_needs_a_reason_and_closes(camat_dispute, api):
    s, dispute = camat_dispute
    client = api(s.author)
    empty = client.post(f"/disputes/{dispute.id}/withdraw", json={"reason": " "})
    assert empty.status_code == 422 and "reason" in empty.get_json()["error"]["fields"]
    done = client.post(f"/disputes/{dispute.id}/withdraw",
                       json={"reason": "Para pihak berdamai di luar forum."})
    assert done.status_code == 200 and done.get_json()["state"] == "withdrawn"
    again = client.post(f"/disputes/{dispute.id}/withdraw", json={"reason": "lagi"})
    assert again.status_code == 409
    assert client.post(f"/disputes/{dispute.id}/steps",
                       json=step("musyawarah")).status_code == 409


def test_unknown_json_fields_are_refused_by_name(camat_dispute, api):
    s, dispute = camat_dispute
    response = api(s.author).post(f"/disputes/{dispute.id}/steps",
                                  json={**step("musyawarah"), "state": "settled"})
    assert response.status_code == 422 and "state" in response.get_json()["error"]["fields"]


# --- access --------------------------------------------------------------------------------

def test_access_matrix(camat_dispute, api, client, auth):
    s, dispute = camat_dispute
    proposal = s.reload()
    other = UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG)
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR)
    far_auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code="33.04")
    kades = UserFactory(role=Role.KEPALA_DESA, desa_code=SEMBUNGAN)
    ketua_bpd = UserFactory(role=Role.KETUA_BPD, desa_code=DIENG)
    admin = AdminFactory()

    # Cannot read the agreement: 404, as for one that does not exist, in the API and in
    # HTML (a village never learns of another village's agreements).
    for user in (other, far_auditor):
        assert api(user).get(f"/disputes/{dispute.id}").status_code == 404
        assert api(user).get(f"/proposals/{proposal.id}/disputes").status_code == 404
        assert api(user).post(f"/disputes/{dispute.id}/steps",
                              json=step("musyawarah")).status_code == 404
        auth.login(user.username)
        page = client.get(f"/perselisihan/{dispute.id}")
        assert page.status_code == 404
        assert dispute.subject not in page.get_data(as_text=True)
        assert client.get(f"/kerja-sama/{proposal.id}/perselisihan/baru").status_code == 404
        auth.logout()

    # Read only: the auditor of the kecamatan and the Ketua BPD.
    for user in (auditor, ketua_bpd):
        assert api(user).get(f"/disputes/{dispute.id}").status_code == 200
        response = api(user).post(f"/disputes/{dispute.id}/steps", json=step("musyawarah"))
        assert response.status_code == 403
        assert api(user).post(f"/proposals/{proposal.id}/disputes",
                              json=open_data(s)).status_code == 403
        auth.login(user.username)
        page = client.get(f"/perselisihan/{dispute.id}").get_data(as_text=True)
        assert "Catat langkah berikutnya" not in page
        assert client.post(f"/perselisihan/{dispute.id}/langkah",
                           data=step("musyawarah")).status_code == 403
        auth.logout()
    assert "Auditor hanya dapat membaca" in api(auditor).post(
        f"/disputes/{dispute.id}/steps", json=step("musyawarah")).get_json()["error"]["message"]

    # May act: the Kepala Desa of a disputing village, the reviewing BKAD, an admin.
    assert api(kades).post(f"/disputes/{dispute.id}/steps",
                           json=step("musyawarah")).status_code == 201
    assert api(s["bkad"]).post(f"/disputes/{dispute.id}/steps",
                               json=step("musyawarah")).status_code == 201
    assert api(admin).post(f"/proposals/{proposal.id}/disputes",
                           json=open_data(s)).status_code == 201
    assert len(api(auditor).get(f"/proposals/{proposal.id}/disputes").get_json()["items"]) == 2


def test_a_secretary_whose_village_is_not_in_dispute_may_not_act(app):
    s = H.pihak_ketiga(submit=True, desa_codes=(DIENG, SEMBUNGAN))
    H.set_state(s.proposal, State.ACTIVE)
    sembungan_sek = UserFactory(role=Role.SEKRETARIS, desa_code=SEMBUNGAN)
    proposal = s.reload()
    dieng_and_company = [p.id for p in proposal.parties if p.desa_code != SEMBUNGAN]
    refused(AccessDenied, ops.open_dispute, proposal, sembungan_sek,
            open_data(s, party_ids=dieng_and_company), match="desa yang berselisih")
    dispute = opened(s, party_ids=dieng_and_company)
    refused(AccessDenied, ops.record_step, dispute, sembungan_sek, step("musyawarah"),
            dispute_id=dispute.id)
    # ... while the BKAD never acts on a third-party agreement.
    bkad_user = UserFactory(role=Role.BKAD)
    refused(AccessDenied, ops.record_step, dispute, bkad_user, step("musyawarah"),
            dispute_id=dispute.id)


# --- hostile text --------------------------------------------------------------------------

def test_hostile_text_is_shown_as_text(camat_dispute, login):
    s, _dispute = camat_dispute
    dispute = opened(s, subject=HOSTILE, clauses=HOSTILE, description=HOSTILE)
    ops.record_step(dispute, s.author, step("musyawarah", summary=HOSTILE))
    ops.record_step(dispute, s.author, settled_by_camat(dispute, terms=HOSTILE,
                                                        place=HOSTILE))
    db.session.commit()
    client = login(s.author)
    for url in (f"/perselisihan/{dispute.id}", f"/kerja-sama/{s.proposal.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = pdf_text(dispute.berita_acara.data)
    assert "<script>alert(1)</script>" in text  # printed as the characters typed


def test_open_page_shows_errors_and_keeps_input(app, login):
    s = active("antar_desa")
    client = login(s.author)
    response = client.post(f"/kerja-sama/{s.proposal.id}/perselisihan/baru", data={
        "subject": "Sengketa air", "clauses": "", "party_ids": [str(s.reload().parties[0].id)]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Sebutkan pasal atau bab" in page and 'value="Sengketa air"' in page
    assert db.session.scalar(sa.select(sa.func.count(Dispute.id))) == 0
