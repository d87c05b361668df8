"""Sustainability assessments (verdict rule, versioning, the agree gate), stakeholder maps
and the criteria admin, through operations, pages and the JSON API."""

from __future__ import annotations

import base64
import re

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.states import State, guards
from coopdesa.sustainability import operations as ops
from coopdesa.sustainability.models import Answer, Assessment, Criterion, StakeholderMap, Verdict
from tests import proposal_helpers as H
from tests.conftest import DIENG, SEMBUNGAN
from tests.factories import AdminFactory, BkadFactory, UserFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_CRITERION_COLUMNS = ("code", "dimension", "label", "description", "applies_to",
                      "is_critical", "position", "is_active")


@pytest.fixture(autouse=True)
def _restore_criteria(app):
    """Criteria are seeded reference data that the suite keeps between tests: put back
    what a test added or changed."""
    seeded = {c.id: {k: getattr(c, k) for k in _CRITERION_COLUMNS}
              for c in db.session.scalars(sa.select(Criterion))}
    yield
    db.session.rollback()
    db.session.execute(sa.delete(Answer))
    db.session.execute(sa.delete(Criterion).where(Criterion.id.not_in(list(seeded))))
    for cid, values in seeded.items():
        db.session.execute(sa.update(Criterion).where(Criterion.id == cid).values(**values))
    db.session.commit()


def codes(proposal) -> list[str]:
    return [c.code for c in ops.applicable_criteria(proposal)]


def all_threes(proposal, **overrides) -> dict:
    answers = {code: {"score": 3, "evidence": f"Bukti {code}", "mitigation": ""}
               for code in codes(proposal)}
    for code, answer in overrides.items():
        answers[code.replace("_", "-")] = answer
    return answers


def assess(scenario, user=None, **overrides) -> Assessment:
    assessment = ops.create_assessment(scenario.proposal, user or scenario.author,
                                       all_threes(scenario.proposal, **overrides),
                                       "Siti Aminah", "Sekretaris Desa")
    db.session.commit()
    return assessment


# --- applicability -------------------------------------------------------------------------

def test_applicable_criteria_follow_kind_and_initiative(app):
    antar = H.antar_desa(submit=True)
    desa_initiative = H.pihak_ketiga(submit=True)
    third_initiative = H.pihak_ketiga(initiative="pihak_ketiga", like=desa_initiative,
                                      title="Homestay atas prakarsa pihak ketiga")
    common = {"EKO-1", "EKO-2", "SOS-1", "SOS-2", "KOM-1", "KOM-2", "KEL-1", "KEL-2",
              "PRI-1", "PRI-2"}
    assert set(codes(antar.proposal)) == common | {"PRI-3"}
    assert set(codes(desa_initiative.proposal)) == common | {"EKO-3", "PRI-4"}
    assert set(codes(third_initiative.proposal)) == common
    # by dimension: ecology first, principles last
    assert codes(antar.proposal)[0] == "EKO-1" and codes(antar.proposal)[-1] == "PRI-3"


def test_a_deactivated_criterion_is_no_longer_asked(app):
    s = H.antar_desa(submit=True)
    criterion = db.session.scalar(sa.select(Criterion).where(Criterion.code == "SOS-2"))
    ops.update_criterion(AdminFactory(), criterion, {"is_active": False})
    db.session.commit()
    assert "SOS-2" not in codes(s.proposal)
    answers = all_threes(s.proposal)
    assert "SOS-2" not in answers
    assert ops.create_assessment(s.proposal, s.author, answers, "A", None).verdict \
        == Verdict.PASS


# --- the verdict rule ----------------------------------------------------------------------

def test_all_threes_pass(app):
    s = H.antar_desa(submit=True)
    assessment = assess(s)
    assert assessment.verdict == Verdict.PASS
    assert assessment.number == 1
    assert assessment.reasons == ["Semua kriteria bernilai 2 atau 3 tanpa syarat mitigasi."]
    assert len(assessment.answers) == len(codes(s.proposal))
    assert assessment.signed_name == "Siti Aminah" and assessment.signed_at is not None


def test_zero_on_an_ecological_criterion_fails(app):
    s = H.antar_desa(submit=True)
    assessment = assess(s, EKO_1={"score": 0, "mitigation": "Kajian daya dukung dahulu."})
    assert assessment.verdict == Verdict.FAIL
    assert assessment.reasons[0].startswith("EKO-1 Tidak merusak lingkungan bernilai 0")
    assert any("Kajian daya dukung dahulu." in r for r in assessment.reasons)


def test_zero_on_independence_fails(app):
    s = H.pihak_ketiga(submit=True)
    assessment = assess(s, PRI_2={"score": 0, "mitigation": "Alih pengetahuan ke BUM Desa."})
    assert assessment.verdict == Verdict.FAIL
    assert "PRI-2" in assessment.reasons[0]


def test_zero_on_a_social_criterion_with_mitigation_passes_with_conditions(app):
    s = H.antar_desa(submit=True)
    assessment = assess(s, SOS_1={"score": 0, "evidence": "",
                                  "mitigation": "Kuota tenaga kerja warga 60%."})
    assert assessment.verdict == Verdict.PASS_WITH_CONDITIONS
    assert assessment.reasons == [
        "SOS-1 Meningkatkan kesejahteraan warga bernilai 0; syarat mitigasi: Kuota tenaga "
        "kerja warga 60%."]


def test_one_on_a_critical_criterion_is_not_a_failure(app):
    s = H.antar_desa(submit=True)
    assessment = assess(s, EKO_2={"score": 1, "mitigation": "Batasi 300 pendaki sehari."})
    assert assessment.verdict == Verdict.PASS_WITH_CONDITIONS


def test_a_mitigation_on_a_high_score_is_a_condition(app):
    s = H.antar_desa(submit=True)
    assessment = assess(s, KEL_1={"score": 3, "evidence": "SK BKAD",
                                  "mitigation": "Laporan triwulanan diumumkan."})
    assert assessment.verdict == Verdict.PASS_WITH_CONDITIONS


def test_reasons_are_stored_in_indonesian_whatever_the_language(app):
    from flask_babel import force_locale

    s = H.antar_desa(submit=True)
    with app.test_request_context(), force_locale("en"):
        assessment = ops.create_assessment(s.proposal, s.author, all_threes(s.proposal),
                                           "A", None)
    assert assessment.reasons == ["Semua kriteria bernilai 2 atau 3 tanpa syarat mitigasi."]


# --- refusals ------------------------------------------------------------------------------

def test_low_score_without_mitigation_is_refused_by_field(app):
    s = H.antar_desa(submit=True)
    answers = all_threes(s.proposal, SOS_2={"score": 1, "evidence": "x", "mitigation": " "})
    with pytest.raises(ValidationError) as caught:
        ops.create_assessment(s.proposal, s.author, answers, "A", None)
    assert set(caught.value.fields) == {"answers.SOS-2.mitigation"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0


def test_high_score_needs_evidence(app):
    s = H.antar_desa(submit=True)
    answers = all_threes(s.proposal, KOM_1={"score": 2, "evidence": ""})
    with pytest.raises(ValidationError) as caught:
        ops.create_assessment(s.proposal, s.author, answers, "A", None)
    assert set(caught.value.fields) == {"answers.KOM-1.evidence"}


def test_missing_criteria_are_refused_naming_them(app):
    s = H.antar_desa(submit=True)
    answers = all_threes(s.proposal)
    del answers["EKO-2"], answers["PRI-3"]
    with pytest.raises(ValidationError) as caught:
        ops.create_assessment(s.proposal, s.author, answers, "A", None)
    assert "EKO-2" in caught.value.message and "PRI-3" in caught.value.message
    assert set(caught.value.fields) == {"answers.EKO-2.score", "answers.PRI-3.score"}


@pytest.mark.parametrize("score", [4, -1, "tiga", True, 2.5])
def test_scores_outside_zero_to_three_are_refused(app, score):
    s = H.antar_desa(submit=True)
    answers = all_threes(s.proposal, KEL_2={"score": score, "evidence": "x"})
    with pytest.raises(ValidationError) as caught:
        ops.create_assessment(s.proposal, s.author, answers, "A", None)
    assert "answers.KEL-2.score" in caught.value.fields


def test_criteria_that_do_not_apply_and_long_texts_are_refused(app):
    s = H.antar_desa(submit=True)
    answers = all_threes(s.proposal, EKO_3={"score": 3, "evidence": "x"},
                         SOS_1={"score": 3, "evidence": "x" * 5001})
    with pytest.raises(ValidationError) as caught:
        ops.create_assessment(s.proposal, s.author, answers, "", "y" * 121)
    assert set(caught.value.fields) == {"answers.EKO-3", "answers.SOS-1.evidence",
                                        "signed_name", "signed_office"}


def test_no_assessment_after_agreement(app):
    s = H.antar_desa(submit=True)
    H.set_state(s.proposal, State.AGREED)
    with pytest.raises(ConflictError):
        ops.create_assessment(s.proposal, s.author, all_threes(s.proposal), "A", None)


# --- versioning and audit ------------------------------------------------------------------

def test_a_second_assessment_is_number_two_and_leaves_the_first(app):
    s = H.antar_desa(submit=True)
    first = assess(s, EKO_1={"score": 0, "mitigation": "Belum ada kajian."})
    second = assess(s, user=s["bkad"])
    db.session.expire_all()
    first = db.session.get(Assessment, first.id)
    assert (first.number, first.verdict) == (1, Verdict.FAIL)
    assert {a.criterion.code: a.score for a in first.answers}["EKO-1"] == 0
    assert (second.number, second.verdict) == (2, Verdict.PASS)
    assert ops.latest_assessment(s.proposal).id == second.id
    assert H.audit_actions(s.proposal.id)[-2:] == ["assessment.create", "assessment.create"]


# --- the agree gate ------------------------------------------------------------------------

def test_agree_gate_refuses_without_an_assessment(app):
    s = H.antar_desa(submit=True)
    assert ops.agree_guard in guards("agree")
    reason = ops.agree_guard(s.proposal)
    assert reason.startswith("Belum ada penilaian keberlanjutan")


def test_agree_gate_refuses_when_the_latest_fails_and_passes_when_it_does_not(app):
    s = H.antar_desa(submit=True)
    assess(s)
    assert ops.agree_guard(s.proposal) is None
    assess(s, PRI_2={"score": 0, "mitigation": "Belum ada rencana alih kelola."})
    reason = ops.agree_guard(s.proposal)
    assert reason.startswith("Penilaian keberlanjutan terakhir (versi 2) tidak memenuhi: ")
    assert "PRI-2" in reason
    assess(s, SOS_1={"score": 1, "mitigation": "Pelatihan pemandu warga."})
    assert ops.agree_guard(s.proposal) is None  # the latest passes with conditions


def test_the_transition_to_agreed_is_refused_with_the_reason(app):
    s = H.antar_desa(submit=True)
    H.set_state(s.proposal, State.AWAITING_DELIBERATION)
    from coopdesa.proposals import operations as proposal_ops

    with pytest.raises(ConflictError) as caught:
        proposal_ops.transition(s.proposal, s.author, "agree")
    # another area's gate (musyawarah) may refuse first; ours must be among the guards
    assert caught.value.message


# --- access --------------------------------------------------------------------------------

def test_who_may_assess(app):
    from coopdesa import access
    from coopdesa.access import Action, AssessmentOf

    s = H.antar_desa(submit=True)
    target = AssessmentOf(s.proposal)
    other_village = UserFactory(role=Role.SEKRETARIS, desa_code="33.07.13.2014")
    auditor = UserFactory(role=Role.AUDITOR)
    other_bkad = UserFactory(role=Role.BKAD, bkad=BkadFactory(desa_codes=[DIENG, SEMBUNGAN]))
    assert access.can(s.author, Action.CREATE, target)
    assert access.can(s[f"sek:{SEMBUNGAN}"], Action.CREATE, target)
    assert access.can(s["bkad"], Action.CREATE, target)
    assert not access.can(other_bkad, Action.CREATE, target)
    assert access.can(auditor, Action.VIEW, target)
    assert "Auditor" in access.reason_refused(auditor, Action.CREATE, target)
    assert not access.can(other_village, Action.VIEW, target)
    with pytest.raises(AccessDenied):
        access.require(other_village, Action.CREATE, target)


def test_third_party_reviewer_may_assess(app):
    from coopdesa import access
    from coopdesa.access import Action, AssessmentOf

    s = H.pihak_ketiga(submit=True)
    role = app.config["THIRD_PARTY_REVIEWER_ROLE"]
    other = "kepala_desa" if role == "ketua_bpd" else "ketua_bpd"
    assert access.can(s[role], Action.CREATE, AssessmentOf(s.proposal))
    assert not access.can(s[other], Action.CREATE, AssessmentOf(s.proposal))


def test_pages_hide_other_villages_and_keep_auditors_reading(app, login, client):
    s = H.antar_desa(submit=True)
    assessment = assess(s)
    login(UserFactory(role=Role.SEKRETARIS, desa_code="33.07.13.2014"))
    pid = s.proposal.id
    assert client.get(f"/keberlanjutan/usulan/{pid}/penilaian").status_code == 404
    assert client.get(f"/keberlanjutan/penilaian/{assessment.id}").status_code == 404
    assert client.get(f"/keberlanjutan/usulan/{pid}/penilaian/baru").status_code == 404
    client.post("/keluar")
    login(UserFactory(role=Role.AUDITOR))
    assert client.get(f"/keberlanjutan/penilaian/{assessment.id}").status_code == 200
    assert client.get(f"/keberlanjutan/usulan/{pid}/penilaian/baru").status_code == 403
    response = client.post(f"/keberlanjutan/usulan/{pid}/pemangku",
                           data={"version": "0", "rows": "0"})
    assert response.status_code == 403


# --- pages ---------------------------------------------------------------------------------

def _form(proposal, **overrides) -> dict:
    data = {"signed_name": "Siti Aminah", "signed_office": "Sekretaris Desa"}
    for code in codes(proposal):
        data.update({f"score-{code}": "3", f"evidence-{code}": f"Bukti {code}",
                     f"mitigation-{code}": ""})
    data.update(overrides)
    return data


def test_proposal_page_shows_verdict_reasons_and_links(app, login, client):
    s = H.antar_desa(submit=True)
    login(s.author)
    page = client.get(f"/kerja-sama/{s.proposal.id}").get_data(as_text=True)
    assert "Belum ada penilaian keberlanjutan" in page
    assert "Nilai keberlanjutan" in page
    assess(s, SOS_1={"score": 1, "mitigation": "Pelatihan pemandu warga."})
    page = client.get(f"/kerja-sama/{s.proposal.id}").get_data(as_text=True)
    assert "Memenuhi dengan syarat" in page
    assert "Pelatihan pemandu warga." in page
    assert f"/keberlanjutan/usulan/{s.proposal.id}/penilaian" in page
    assert "Pemetaan pemangku kepentingan" in page


def test_assessment_form_records_and_shows_it(app, login, client):
    s = H.antar_desa(submit=True)
    login(s.author)
    url = f"/keberlanjutan/usulan/{s.proposal.id}/penilaian/baru"
    page = client.get(url).get_data(as_text=True)
    assert "Keberlanjutan ekologis" in page and "PRI-3" in page and "EKO-3" not in page
    assert " style=" not in page and "<script>" not in page
    response = client.post(url, data=_form(s.proposal))
    assert response.status_code == 302
    assessment = db.session.scalar(sa.select(Assessment))
    assert assessment.verdict == Verdict.PASS
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Siti Aminah" in shown and "Bukti EKO-1" in shown and "Memenuhi" in shown


def test_assessment_form_errors_sit_by_their_fields_and_keep_input(app, login, client):
    s = H.antar_desa(submit=True)
    login(s.author)
    url = f"/keberlanjutan/usulan/{s.proposal.id}/penilaian/baru"
    data = _form(s.proposal, **{"score-SOS-2": "1", "evidence-SOS-2": "Catatan saya",
                                "mitigation-SOS-2": ""})
    del data["score-KEL-1"]
    response = client.post(url, data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="answers-SOS-2-mitigation-error"' in page
    assert 'id="answers-KEL-1-score-error"' in page
    assert "Catatan saya" in page
    assert re.search(r'id="score-SOS-2-1" value="1"\s+checked', page)
    assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0


def test_attachment_is_checked_by_content(app, login, client):
    import io

    s = H.antar_desa(submit=True)
    login(s.author)
    url = f"/keberlanjutan/usulan/{s.proposal.id}/penilaian/baru"
    bad = _form(s.proposal)
    bad["attachment-EKO-1"] = (io.BytesIO(b"MZ not a pdf"), "kajian.pdf")
    response = client.post(url, data=bad, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="answers-EKO-1-attachment-error"' in response.get_data(as_text=True)
    good = _form(s.proposal)
    good["attachment-EKO-1"] = (io.BytesIO(PDF), "kajian.pdf")
    response = client.post(url, data=good, content_type="multipart/form-data")
    assert response.status_code == 302
    assessment = db.session.scalar(sa.select(Assessment))
    answer = next(a for a in assessment.answers if a.criterion.code == "EKO-1")
    assert answer.attachment.content_type == "application/pdf"
    download = client.get(f"/keberlanjutan/penilaian/{assessment.id}/lampiran/{answer.id}")
    assert download.status_code == 200 and download.data == PDF


def test_assessment_list_shows_history(app, login, client):
    s = H.antar_desa(submit=True)
    assess(s, EKO_1={"score": 0, "mitigation": "x"})
    assess(s)
    login(s["bkad"])
    page = client.get(f"/keberlanjutan/usulan/{s.proposal.id}/penilaian").get_data(
        as_text=True)
    assert "Versi 2" in page and "Versi 1" in page and "Tidak memenuhi" in page


# --- stakeholder map -----------------------------------------------------------------------

ENTRY = {"name": "Kelompok Tani Sido Makmur", "group_kind": "kelompok_tani",
         "roles": ["perencanaan", "penerima_manfaat"], "notes": "Anggota 40 orang"}


def test_stakeholder_map_save_summary_and_stale_refusal(app):
    s = H.antar_desa(submit=True)
    answers = ["Kelompok tani dan pemuda."] + [""] * 6
    smap = ops.save_stakeholder_map(s.proposal, s.author, answers, [ENTRY], 0)
    db.session.commit()
    assert smap.version == 1
    summary = ops.stakeholder_summary(s.proposal)
    assert summary["questions"][0]["answer"] == "Kelompok tani dan pemuda."
    assert len(summary["questions"]) == 7
    assert summary["groups"][0]["group_kind_label"] == "Organisasi tani lokal"
    assert summary["groups"][0]["role_labels"][0].startswith("Terlibat dalam perencanaan")
    ops.save_stakeholder_map(s.proposal, s[f"sek:{SEMBUNGAN}"], answers,
                             [ENTRY, {**ENTRY, "name": "Pokdarwis", "group_kind":
                                      "organisasi_kepemudaan", "roles": []}], 1)
    db.session.commit()
    assert ops.stakeholder_dict(s.proposal)["version"] == 2
    with pytest.raises(ConflictError) as caught:
        ops.save_stakeholder_map(s.proposal, s.author, answers, [], 1)
    assert caught.value.details["current"]["version"] == 2
    assert len(caught.value.details["current"]["entries"]) == 2
    assert H.audit_actions(s.proposal.id).count("stakeholder_map.save") == 2


def test_stakeholder_map_refuses_bad_entries_by_field(app):
    s = H.antar_desa(submit=True)
    with pytest.raises(ValidationError) as caught:
        ops.save_stakeholder_map(s.proposal, s.author, [], [
            {"name": "", "group_kind": "kelompok_tani"},
            {"name": "Desa X", "group_kind": "desa", "roles": ["raja"]},
        ], 0)
    assert set(caught.value.fields) == {"entries.0.name", "entries.1.group_kind",
                                        "entries.1.roles"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(StakeholderMap.id))) == 0


def test_stakeholder_form_keeps_input_when_stale(app, login, client):
    s = H.antar_desa(submit=True)
    ops.save_stakeholder_map(s.proposal, s[f"sek:{SEMBUNGAN}"], [], [ENTRY], 0)
    db.session.commit()
    login(s.author)
    url = f"/keberlanjutan/usulan/{s.proposal.id}/pemangku"
    page = client.get(url).get_data(as_text=True)
    assert "Sejak kapan jaringan ini ada" in page  # the seventh question
    assert 'name="version" value="1"' in page
    response = client.post(url, data={
        "version": "0", "rows": "2", "answer-0": "Jawaban saya yang belum tersimpan",
        "entry-0-name": "Kelompok Nelayan Telaga", "entry-0-group_kind": "kelompok_nelayan",
        "entry-0-roles": ["peserta_musyawarah"], "entry-1-name": ""})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Jawaban saya yang belum tersimpan" in page
    assert "Kelompok Nelayan Telaga" in page
    assert "Kelompok Tani Sido Makmur" in page  # the current data, shown
    assert 'name="version" value="1"' in page
    response = client.post(url, data={"version": "1", "rows": "1",
                                      "entry-0-name": "Kelompok Nelayan Telaga",
                                      "entry-0-group_kind": ""})
    assert response.status_code == 422
    assert 'id="entries-0-group_kind-error"' in response.get_data(as_text=True)
    response = client.post(url, data={"version": "1", "rows": "1",
                                      "entry-0-name": "Kelompok Nelayan Telaga",
                                      "entry-0-group_kind": "kelompok_nelayan"})
    assert response.status_code == 302
    assert ops.stakeholder_summary(s.proposal)["groups"][0]["name"] == \
        "Kelompok Nelayan Telaga"


def test_reviewers_read_the_map_but_do_not_edit_it(app, login, client):
    s = H.antar_desa(submit=True)
    ops.save_stakeholder_map(s.proposal, s.author, [], [ENTRY], 0)
    db.session.commit()
    login(s["bkad"])
    url = f"/keberlanjutan/usulan/{s.proposal.id}/pemangku"
    page = client.get(url).get_data(as_text=True)
    assert "Kelompok Tani Sido Makmur" in page and 'name="version"' not in page
    assert client.post(url, data={"version": "1", "rows": "0"}).status_code == 403


# --- criteria admin ------------------------------------------------------------------------

def test_criteria_admin_is_for_admins_only(app, login, client):
    login(UserFactory(role=Role.SEKRETARIS))
    assert client.get("/keberlanjutan/kriteria").status_code == 403
    assert client.post("/keberlanjutan/kriteria/baru", data={}).status_code == 403


def test_admin_adds_edits_and_deactivates_criteria(app, login, client):
    login(AdminFactory())
    page = client.get("/keberlanjutan/kriteria").get_data(as_text=True)
    assert "PRI-2" in page and "Memandirikan" in page
    response = client.post("/keberlanjutan/kriteria/baru", data={
        "code": "eko-9", "dimension": "ekologi", "label": "Sampah dikelola",
        "description": "Sampah wisata dipilah dan diangkut.", "applies_to": "antar_desa",
        "is_critical": "y", "is_active": "y"})
    assert response.status_code == 302
    criterion = db.session.scalar(sa.select(Criterion).where(Criterion.code == "EKO-9"))
    assert criterion.is_critical and criterion.applies_to.value == "antar_desa"
    duplicate = client.post("/keberlanjutan/kriteria/baru", data={
        "code": "EKO-1", "dimension": "ekologi", "label": "X", "description": "Y",
        "applies_to": "all"})
    assert duplicate.status_code == 422
    assert "sudah dipakai" in duplicate.get_data(as_text=True)
    response = client.post(f"/keberlanjutan/kriteria/{criterion.id}/aktif")
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(Criterion, criterion.id).is_active
    actions = list(db.session.scalars(sa.select(AuditEntry.action)))
    assert actions == ["criterion.create", "criterion.update"]


# --- JSON API ------------------------------------------------------------------------------

def _api_answers(proposal, **overrides) -> dict:
    return all_threes(proposal, **overrides)


def test_api_assessment_round_trip(app, api):
    s = H.antar_desa(submit=True)
    caller = api(s.author)
    listing = caller.get(f"/proposals/{s.proposal.id}/assessments").get_json()
    assert listing["items"] == []
    assert [c["code"] for c in listing["criteria"]] == codes(s.proposal)
    body = {"answers": _api_answers(s.proposal, SOS_1={"score": 1, "mitigation": "Kuota"}),
            "signed_name": "Siti Aminah", "signed_office": "Sekretaris Desa"}
    body["answers"]["EKO-1"]["attachment"] = {
        "filename": "kajian.pdf", "content_base64": base64.b64encode(PDF).decode()}
    response = caller.post(f"/proposals/{s.proposal.id}/assessments", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["number"] == 1 and created["verdict"] == "pass_with_conditions"
    assert created["answers"][0]["attachment"]["content_type"] == "application/pdf"
    fetched = caller.get(f"/assessments/{created['id']}").get_json()
    assert fetched["reasons"] == created["reasons"]
    assert len(caller.get(f"/proposals/{s.proposal.id}/assessments").get_json()["items"]) \
        == 1


def test_api_refusals_name_fields(app, api):
    s = H.antar_desa(submit=True)
    caller = api(s.author)
    answers = _api_answers(s.proposal, EKO_2={"score": 0})
    del answers["KOM-2"]
    response = caller.post(f"/proposals/{s.proposal.id}/assessments",
                           json={"answers": answers, "signed_name": "A"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"answers.KOM-2.score", "answers.EKO-2.mitigation"}
    assert "KOM-2" in error["message"]
    bad_file = _api_answers(s.proposal)
    bad_file["EKO-1"]["attachment"] = {"filename": "x.pdf",
                                       "content_base64": base64.b64encode(b"GIF89a").decode()}
    error = caller.post(f"/proposals/{s.proposal.id}/assessments",
                        json={"answers": bad_file, "signed_name": "A"}).get_json()["error"]
    assert set(error["fields"]) == {"answers.EKO-1.attachment"}
    error = caller.post(f"/proposals/{s.proposal.id}/assessments",
                        json={"answers": {}, "signed_name": "A", "x": 1}).get_json()["error"]
    assert set(error["fields"]) == {"x"}


def test_api_access(app, api):
    s = H.antar_desa(submit=True)
    assessment = assess(s)
    outsider = api(UserFactory(role=Role.SEKRETARIS, desa_code="33.07.13.2014"))
    assert outsider.get(f"/proposals/{s.proposal.id}/assessments").status_code == 404
    assert outsider.get(f"/assessments/{assessment.id}").status_code == 404
    assert outsider.get(f"/proposals/{s.proposal.id}/stakeholders").status_code == 404
    auditor = api(UserFactory(role=Role.AUDITOR))
    assert auditor.get(f"/assessments/{assessment.id}").status_code == 200
    response = auditor.post(f"/proposals/{s.proposal.id}/assessments",
                            json={"answers": _api_answers(s.proposal), "signed_name": "A"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_api_stakeholders_put_needs_version_and_refuses_stale(app, api):
    s = H.antar_desa(submit=True)
    caller = api(s.author)
    url = f"/proposals/{s.proposal.id}/stakeholders"
    empty = caller.get(url).get_json()
    assert empty == {"proposal_id": s.proposal.id, "version": 0, "updated_at": None,
                     "answers": [""] * 7, "entries": []}
    error = caller.put(url, json={"entries": [ENTRY]}).get_json()["error"]
    assert set(error["fields"]) == {"version"}
    saved = caller.put(url, json={"version": 0, "answers": ["a"], "entries": [ENTRY]})
    assert saved.status_code == 200
    assert saved.get_json()["version"] == 1
    assert saved.get_json()["entries"][0]["roles"] == ["perencanaan", "penerima_manfaat"]
    stale = caller.put(url, json={"version": 0, "entries": []})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["current"]["version"] == 1
    error = caller.put(url, json={"version": 1, "entries": [{**ENTRY, "colour": "x"}]})
    assert set(error.get_json()["error"]["fields"]) == {"entries.0.colour"}
    bkad = api(s["bkad"])
    assert bkad.get(url).status_code == 200
    assert bkad.put(url, json={"version": 1, "entries": []}).status_code == 403


def test_api_criteria(app, api):
    user = api(UserFactory(role=Role.SEKRETARIS))
    items = user.get("/criteria").get_json()["items"]
    assert {c["code"] for c in items} >= {"EKO-1", "PRI-2", "PRI-4"}
    assert next(c for c in items if c["code"] == "PRI-2")["is_critical"] is True
    new = {"code": "SOS-9", "dimension": "sosial_ekonomi", "label": "Upah layak",
           "description": "Upah pekerja warga tidak di bawah UMK."}
    assert user.post("/criteria", json=new).status_code == 403
    admin = api(AdminFactory())
    created = admin.post("/criteria", json=new)
    assert created.status_code == 201
    assert created.get_json()["applies_to"] == "all"
    duplicate = admin.post("/criteria", json={**new, "label": "Lagi"})
    assert duplicate.status_code == 422
    assert set(duplicate.get_json()["error"]["fields"]) == {"code"}
    cid = created.get_json()["id"]
    patched = admin.patch(f"/criteria/{cid}", json={"is_active": False, "label": "Upah"})
    assert patched.status_code == 200 and patched.get_json()["is_active"] is False
    assert admin.patch(f"/criteria/{cid}", json={"dimension": "x"}).status_code == 422
    assert user.patch(f"/criteria/{cid}", json={"label": "x"}).status_code == 403
    assert admin.patch("/criteria/999999", json={"label": "x"}).status_code == 404
