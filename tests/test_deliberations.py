"""Musyawarah records: quorum, attendance, decisions, their effect on the proposal, the
agree gate, the berita acara scan, the pages and the JSON API."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry
from coopdesa.deliberations import operations as dops
from coopdesa.deliberations.models import Meeting, MeetingKind, QuorumRule
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.proposals.states import State, guards
from tests import proposal_helpers as H
from tests.conftest import DIENG, PATAKBANTENG, SEMBUNGAN
from tests.factories import AdminFactory, UserFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def past(days: int = 1) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()


def future(days: int = 3) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


def awaiting(**kw) -> H.Scenario:
    """An antar_desa proposal (Dieng + Sembungan) in awaiting_deliberation."""
    s = H.antar_desa(submit=True, **kw)
    ops.transition(s.proposal, s["bkad"], "start_review")
    ops.transition(s.proposal, s["bkad"], "approve")
    db.session.commit()
    return s


def desa_meeting(s: H.Scenario, code: str, *, held_at: str | None = None, user=None) -> Meeting:
    meeting = dops.record_meeting(user or s[f"sek:{code}"], {
        "kind": "musyawarah_desa", "held_at": held_at or past(), "place": "Balai Desa",
        "chair_name": "Ketua BPD", "secretary_name": "Sekretaris BPD", "desa_code": code,
        "proposal_ids": [s.proposal.id]})
    db.session.commit()
    return meeting


def antar_meeting(s: H.Scenario, *, user=None, held_at: str | None = None) -> Meeting:
    meeting = dops.record_meeting(user or s["bkad"], {
        "kind": "musyawarah_antar_desa", "held_at": held_at or past(), "place": "Aula BKAD",
        "chair_name": "Ketua BKAD", "secretary_name": "Sekretaris BKAD",
        "villages": [DIENG, SEMBUNGAN], "proposal_ids": [s.proposal.id]})
    db.session.commit()
    return meeting


def people(code: str, invited: int, present: int, *, observers: int = 0,
           element: str = "tokoh_masyarakat") -> list[dict]:
    rows = [{"name": f"Peserta {i}", "element": element, "gender": "LP"[i % 2],
             "desa_code": code, "invited": True, "present": i < present}
            for i in range(invited)]
    rows += [{"name": f"Peninjau {i}", "element": "lainnya", "element_note": "LSM",
              "gender": "P", "desa_code": code, "invited": True, "present": True,
              "is_observer": True} for i in range(observers)]
    return rows


def quorate(meeting: Meeting, user) -> Meeting:
    rows = []
    for code in meeting.desa_codes:
        rows += people(code, 3, 3, element="delegasi_desa"
                       if meeting.kind == MeetingKind.MUSYAWARAH_ANTAR_DESA else "bpd")
    dops.set_attendance(meeting, user, rows)
    db.session.commit()
    return meeting


def decide(meeting: Meeting, user, outcome: str = "agreed", **extra):
    item = dops.record_decision(meeting, user, meeting.agenda[0].id,
                                {"method": "mufakat", "outcome": outcome, **extra})
    db.session.commit()
    return item


def agree_all(s: H.Scenario) -> None:
    for code in (DIENG, SEMBUNGAN):
        decide(quorate(desa_meeting(s, code), s[f"sek:{code}"]), s[f"sek:{code}"])
    decide(quorate(antar_meeting(s), s["bkad"]), s["bkad"])


# --- quorum ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("invited", "present", "observers", "met"), [
    (6, 4, 0, True),   # exactly two thirds
    (6, 3, 0, False),  # one short
    (6, 3, 2, False),  # observers present do not count
    (9, 6, 0, True),
    (5, 4, 0, True),   # ceil(10/3) = 4
    (5, 3, 0, False),
])
def test_quorum_edges(app, invited, present, observers, met):
    s = awaiting()
    meeting = desa_meeting(s, DIENG)
    dops.set_attendance(meeting, s[f"sek:{DIENG}"],
                        people(DIENG, invited, present, observers=observers))
    db.session.commit()
    assert len(meeting.voting_invitees) == invited
    assert meeting.quorum_met is met
    assert dops.quorum_text(meeting).startswith(f"hadir {present} dari {invited} undangan")


def test_no_attendance_is_no_quorum_and_decision_refused_then_adjourned(app):
    s = awaiting()
    sek = s[f"sek:{DIENG}"]
    meeting = desa_meeting(s, DIENG)
    dops.set_attendance(meeting, sek, people(DIENG, 6, 3))
    db.session.commit()
    with pytest.raises(ConflictError, match="tidak kuorum"):
        dops.record_decision(meeting, sek, meeting.agenda[0].id,
                             {"method": "mufakat", "outcome": "agreed"})
    db.session.rollback()
    dops.adjourn(meeting, sek, "Peserta kurang.")
    db.session.commit()
    assert meeting.adjourned
    with pytest.raises(ConflictError, match="ditunda"):
        dops.record_decision(meeting, sek, meeting.agenda[0].id,
                             {"method": "mufakat", "outcome": "agreed"})
    db.session.rollback()
    assert "Musyawarah Desa Dieng (belum ada keputusan)" in dops.gate_refusal(s.reload())


def test_adjourning_a_quorate_meeting_is_refused(app):
    s = awaiting()
    meeting = quorate(desa_meeting(s, DIENG), s[f"sek:{DIENG}"])
    with pytest.raises(ConflictError, match="kuorum"):
        dops.adjourn(meeting, s[f"sek:{DIENG}"])


# --- decisions -------------------------------------------------------------------------------

def test_vote_totals_exceeding_present_voters_refused(app):
    s = awaiting()
    sek = s[f"sek:{DIENG}"]
    meeting = desa_meeting(s, DIENG)
    dops.set_attendance(meeting, sek, people(DIENG, 3, 3, observers=2))
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    with pytest.raises(ValidationError) as refused:
        dops.record_decision(meeting, sek, meeting.agenda[0].id, {
            "method": "vote", "ballot": "terbuka", "votes_for": 3, "votes_against": 1,
            "outcome": "agreed"})
    assert "melebihi peserta bersuara yang hadir (3)" in refused.value.fields["votes_for"][0]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before
    assert db.session.get(Meeting, meeting.id).agenda[0].outcome is None


def test_vote_without_counts_or_ballot_refused_and_valid_vote_recorded(app):
    s = awaiting()
    sek = s[f"sek:{DIENG}"]
    meeting = quorate(desa_meeting(s, DIENG), sek)
    with pytest.raises(ValidationError) as refused:
        dops.record_decision(meeting, sek, meeting.agenda[0].id,
                             {"method": "vote", "outcome": "agreed"})
    assert set(refused.value.fields) >= {"ballot", "votes_for"}
    db.session.rollback()
    item = dops.record_decision(meeting, sek, meeting.agenda[0].id, {
        "method": "vote", "ballot": "tertutup", "votes_for": 2, "votes_against": 1,
        "outcome": "agreed"})
    db.session.commit()
    assert (item.votes_for, item.votes_against, item.ballot.value) == (2, 1, "tertutup")


def test_mufakat_needs_no_counts(app):
    s = awaiting()
    item = decide(quorate(desa_meeting(s, DIENG), s[f"sek:{DIENG}"]), s[f"sek:{DIENG}"])
    assert item.method.value == "mufakat"
    assert (item.votes_for, item.votes_against, item.votes_abstain) == (0, 0, 0)
    assert s.reload().state == State.AWAITING_DELIBERATION
    assert "meeting.decision" in H.audit_actions(s.proposal.id)


def test_decision_on_a_meeting_dated_in_the_future_refused(app):
    s = awaiting()
    meeting = quorate(desa_meeting(s, DIENG, held_at=future()), s[f"sek:{DIENG}"])
    with pytest.raises(ValidationError) as refused:
        decide(meeting, s[f"sek:{DIENG}"])
    assert "masa depan" in refused.value.fields["held_at"][0]


def test_agreed_with_changes_returns_the_proposal_to_its_authors(app):
    s = awaiting()
    meeting = quorate(desa_meeting(s, SEMBUNGAN), s[f"sek:{SEMBUNGAN}"])
    with pytest.raises(ValidationError) as refused:
        decide(meeting, s[f"sek:{SEMBUNGAN}"], "agreed_with_changes")
    assert "changes" in refused.value.fields
    db.session.rollback()
    decide(meeting, s[f"sek:{SEMBUNGAN}"], "agreed_with_changes",
           changes=["Bagi hasil 50:50", "Jangka waktu 2 tahun"])
    assert s.reload().state == State.CHANGES_REQUESTED
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "proposal.transition.deliberation_changes")).one()
    assert entry.user_id is None
    assert "Bagi hasil 50:50" in entry.after["text"]
    assert f"musyawarah #{meeting.id}" in entry.after["text"]


def test_rejection_moves_the_proposal_to_rejected_citing_the_meeting(app):
    s = awaiting()
    meeting = quorate(desa_meeting(s, DIENG), s[f"sek:{DIENG}"])
    decide(meeting, s[f"sek:{DIENG}"], "rejected", notes="Warga menolak.")
    assert s.reload().state == State.REJECTED
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "proposal.transition.deliberation_reject")).one()
    assert "Musyawarah Desa Dieng" in entry.after["text"]
    assert f"musyawarah #{meeting.id}" in entry.after["text"]


# --- attendance ------------------------------------------------------------------------------

def test_attendee_from_another_village_refused(app):
    s = awaiting()
    meeting = desa_meeting(s, DIENG)
    rows = people(DIENG, 2, 2) + [{"name": "Tamu", "element": "tokoh_adat", "gender": "L",
                                   "desa_code": PATAKBANTENG, "present": True}]
    with pytest.raises(ValidationError) as refused:
        dops.set_attendance(meeting, s[f"sek:{DIENG}"], rows)
    assert "desa lain" in refused.value.fields["attendees-2-desa_code"][0]
    db.session.rollback()
    assert db.session.get(Meeting, meeting.id).attendees == []
    with pytest.raises(ValidationError) as refused:
        dops.set_attendance(meeting, s[f"sek:{DIENG}"], people(DIENG, 1, 1,
                                                                element="delegasi_desa"))
    assert "attendees-0-element" in refused.value.fields


def test_attendance_validates_names_gender_and_elements(app):
    s = awaiting()
    meeting = desa_meeting(s, DIENG)
    with pytest.raises(ValidationError) as refused:
        dops.set_attendance(meeting, s[f"sek:{DIENG}"], [
            {"name": "", "element": "bpd", "gender": "L"},
            {"name": "A", "element": "raja", "gender": "X"},
            {"name": "B", "element": "lainnya", "gender": "P"}])
    assert set(refused.value.fields) == {"attendees-0-name", "attendees-1-element",
                                         "attendees-1-gender", "attendees-2-element_note"}


# --- who may record --------------------------------------------------------------------------

def test_meeting_for_a_proposal_the_user_may_not_touch_refused(app):
    s = awaiting()
    other = UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG)
    with pytest.raises(ValidationError) as refused:
        desa_meeting(s, PATAKBANTENG, user=other)
    assert "tidak ditemukan" in refused.value.fields["proposal_ids"][0]
    db.session.rollback()
    with pytest.raises(AccessDenied):
        desa_meeting(s, SEMBUNGAN, user=s[f"sek:{DIENG}"])  # another village's musyawarah
    db.session.rollback()
    auditor = UserFactory(role=Role.AUDITOR)
    with pytest.raises((AccessDenied, ValidationError)):
        desa_meeting(s, DIENG, user=auditor)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0


def test_only_proposals_awaiting_deliberation_and_of_the_villages(app):
    s = H.antar_desa(submit=True)
    with pytest.raises(ValidationError, match="menunggu musyawarah"):
        desa_meeting(s, DIENG)
    db.session.rollback()
    p3 = H.pihak_ketiga(submit=True)
    p3.proposal.state = State.AWAITING_DELIBERATION
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        dops.record_meeting(AdminFactory(), {
            "kind": "musyawarah_antar_desa", "held_at": past(), "place": "Aula",
            "organiser": "BKAD", "chair_name": "K", "secretary_name": "S",
            "villages": [DIENG, SEMBUNGAN], "proposal_ids": [p3.proposal.id]})
    assert "bukan kerja sama antar-Desa" in refused.value.fields["proposal_ids"][0]


def test_organiser_defaults_to_the_bpd_and_the_quorum_rule_is_copied(app):
    s = awaiting()
    meeting = desa_meeting(s, DIENG)
    assert meeting.organiser == "BPD Desa Dieng"
    assert (meeting.quorum_numerator, meeting.quorum_denominator) == (2, 3)
    assert antar_meeting(s).organiser == s.bkad.name


# --- the agree gate --------------------------------------------------------------------------

def _passing_assessment(s: H.Scenario) -> None:
    """When the sustainability area's agree guard is present, satisfy it too."""
    if importlib.util.find_spec("coopdesa.sustainability.operations") is None:
        return
    from coopdesa.sustainability import operations as sust

    proposal = s.reload()
    answers = {c.code: {"score": 3, "evidence": "Bukti lapangan."}
               for c in sust.applicable_criteria(proposal)}
    sust.create_assessment(proposal, s.author, answers, "Penilai Desa", "Sekretaris Desa")
    db.session.commit()


def test_agree_gate_lists_what_is_missing_until_every_musyawarah_agreed(app):
    s = awaiting()
    author = s.author
    refusal = dops.gate_refusal(s.proposal)
    for label in ("Musyawarah Desa Dieng", "Musyawarah Desa Sembungan",
                  "Musyawarah antar-Desa"):
        assert label in refusal
    with pytest.raises(ConflictError, match="Musyawarah Desa Sembungan"):
        ops.transition(s.proposal, author, "agree")
    db.session.rollback()

    decide(quorate(desa_meeting(s, DIENG), author), author)
    refusal = dops.gate_refusal(s.reload())
    assert "Musyawarah Desa Dieng" not in refusal
    assert "Musyawarah Desa Sembungan (belum ada keputusan)" in refusal

    sek2 = s[f"sek:{SEMBUNGAN}"]
    postponed = quorate(desa_meeting(s, SEMBUNGAN), sek2)
    decide(postponed, sek2, "postponed")
    assert "Musyawarah Desa Sembungan (keputusan terakhir: Ditunda" in dops.gate_refusal(
        s.reload())
    decide(quorate(desa_meeting(s, SEMBUNGAN), sek2), sek2)
    refusal = dops.gate_refusal(s.reload())
    assert refusal is not None and "Sembungan" not in refusal
    assert "Musyawarah antar-Desa (belum ada keputusan)" in refusal

    decide(quorate(antar_meeting(s), s["bkad"]), s["bkad"])
    assert dops.gate_refusal(s.reload()) is None
    assert ops.DELIBERATION_GUARD in guards("agree")
    assert ops.DELIBERATION_GUARD(s.proposal) is None
    _passing_assessment(s)
    ops.transition(s.reload(), author, "agree")
    db.session.commit()
    assert s.reload().state == State.AGREED


def test_a_later_postponement_undoes_an_earlier_agreement_of_that_village(app):
    s = awaiting()
    agree_all(s)
    assert dops.gate_refusal(s.reload()) is None
    later = desa_meeting(s, DIENG)
    later.held_at = later.held_at + dt.timedelta(hours=12)
    db.session.commit()
    decide(quorate(later, s.author), s.author, "postponed")
    assert "Musyawarah Desa Dieng (keputusan terakhir: Ditunda" in dops.gate_refusal(
        s.reload())


def test_pihak_ketiga_needs_only_the_musyawarah_desa(app):
    s = H.pihak_ketiga(submit=True)
    ops.transition(s.proposal, s["ketua_bpd"], "start_review")
    ops.transition(s.proposal, s["ketua_bpd"], "approve")
    db.session.commit()
    assert dops.gate_refusal(s.proposal) == (
        "Usulan belum disetujui dalam musyawarah. Masih diperlukan persetujuan: "
        "Musyawarah Desa Dieng (belum ada keputusan).")
    decide(quorate(desa_meeting(s, DIENG), s.author), s.author)
    assert dops.gate_refusal(s.reload()) is None


# --- quorum rule changes ---------------------------------------------------------------------

def test_admin_changes_the_quorum_rule_new_meetings_use_it_old_keep_theirs(app, api):
    s = awaiting()
    old = desa_meeting(s, DIENG)
    admin = AdminFactory()
    refused = api(s.author).put("/quorum-rules/musyawarah_desa",
                                json={"numerator": 1, "denominator": 2})
    assert refused.status_code == 403
    bad = api(admin).put("/quorum-rules/musyawarah_desa",
                         json={"numerator": 3, "denominator": 2})
    assert bad.status_code == 422 and "numerator" in bad.get_json()["error"]["fields"]
    assert api(admin).put("/quorum-rules/bogus", json={"numerator": 1,
                                                       "denominator": 2}).status_code == 404
    ok = api(admin).put("/quorum-rules/musyawarah_desa",
                        json={"numerator": 1, "denominator": 2})
    assert ok.status_code == 200 and ok.get_json()["numerator"] == 1
    rules = api(s.author).get("/quorum-rules").get_json()["items"]
    assert {r["meeting_kind"]: r["numerator"] for r in rules}["musyawarah_desa"] == 1
    new = desa_meeting(s, DIENG)
    assert (new.quorum_numerator, new.quorum_denominator) == (1, 2)
    old = db.session.get(Meeting, old.id)
    assert (old.quorum_numerator, old.quorum_denominator) == (2, 3)
    for meeting in (old, new):
        dops.set_attendance(meeting, s.author, people(DIENG, 6, 3))
    db.session.commit()
    assert new.quorum_met and not old.quorum_met
    # restore the seeded rule for the other tests (quorum_rule is kept between tests)
    rule = db.session.scalar(sa.select(QuorumRule).where(
        QuorumRule.meeting_kind == MeetingKind.MUSYAWARAH_DESA))
    rule.numerator, rule.denominator = 2, 3
    db.session.commit()


# --- the berita acara scan -------------------------------------------------------------------

def test_scan_upload_checked_by_content_and_size_and_downloaded(app, client, login,
                                                                monkeypatch):
    # A smaller cap than the real 10 MB, so the test sends kilobytes, not megabytes.
    monkeypatch.setattr("coopdesa.files.operations.MAX_UPLOAD_BYTES", 4096)
    s = awaiting()
    meeting = desa_meeting(s, DIENG)
    login(s.author)
    url = f"/musyawarah/{meeting.id}/pindaian"
    exe = client.post(url, data={"scan": (io.BytesIO(b"MZ\x90\x00" * 50),
                                          "berita-acara.pdf")},
                      content_type="multipart/form-data")
    assert exe.status_code == 422
    assert "bukan PDF" in exe.get_data(as_text=True)
    big = PDF + b"0" * 4096
    large = client.post(url, data={"scan": (io.BytesIO(big), "ba.pdf")},
                        content_type="multipart/form-data")
    assert large.status_code == 422
    assert "terlalu besar" in large.get_data(as_text=True)
    assert db.session.get(Meeting, meeting.id).scan_id is None
    ok = client.post(url, data={"scan": (io.BytesIO(PDF), "BA Dieng.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).scan_id is not None
    got = client.get(url)
    assert got.status_code == 200
    assert got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.data == PDF
    assert "meeting.scan" in H.audit_actions()
    client.post("/keluar")
    login(UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG))
    assert client.get(url).status_code == 404
    assert client.get(f"/musyawarah/{meeting.id}").status_code == 404


# --- pages -----------------------------------------------------------------------------------

def test_pages_record_a_meeting_attendance_and_decision(app, client, login):
    s = awaiting()
    login(s.author)
    page = client.get(f"/kerja-sama/{s.proposal.id}").get_data(as_text=True)
    assert "Catat musyawarah" in page and "Musyawarah Desa Sembungan" in page
    form = client.get(f"/musyawarah/baru?usulan={s.proposal.id}")
    assert form.status_code == 200
    bad = client.post(f"/musyawarah/baru?usulan={s.proposal.id}", data={
        "kind": "musyawarah_desa", "held_at": "", "place": "Balai Desa Dieng",
        "desa_code": DIENG, "chair_name": "", "secretary_name": "Sri",
        "proposal_ids": [str(s.proposal.id)]})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Balai Desa Dieng" in text and "wajib diisi" in text
    created = client.post(f"/musyawarah/baru?usulan={s.proposal.id}", data={
        "kind": "musyawarah_desa", "held_at": past()[:16], "place": "Balai Desa Dieng",
        "desa_code": DIENG, "chair_name": "Pak Ketua", "secretary_name": "Sri",
        "proposal_ids": [str(s.proposal.id)]})
    assert created.status_code == 302
    meeting = db.session.scalars(sa.select(Meeting)).one()
    url = f"/musyawarah/{meeting.id}"
    rows = {"attendees-0-name": "Budi", "attendees-0-element": "bpd",
            "attendees-0-gender": "L", "attendees-0-desa_code": DIENG,
            "attendees-0-invited": "1", "attendees-0-present": "1",
            "attendees-1-name": "Siti", "attendees-1-element": "kelompok_perempuan",
            "attendees-1-gender": "P", "attendees-1-desa_code": PATAKBANTENG,
            "attendees-1-invited": "1", "attendees-1-present": "1",
            "attendees-2-name": "", "attendees-2-element": "", "attendees-2-gender": ""}
    refused = client.post(url + "/hadir", data=rows)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "desa lain" in text and 'value="Siti"' in text and 'value="Budi"' in text
    more = client.post(url + "/hadir", data={**rows, "add_rows": "1"})
    assert more.status_code == 200 and 'value="Siti"' in more.get_data(as_text=True)
    rows["attendees-1-desa_code"] = DIENG
    assert client.post(url + "/hadir", data=rows).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "hadir 2 dari 2 undangan bersuara; kuorum 2 (2/3)" in page
    item_id = meeting.agenda[0].id
    too_many = client.post(f"{url}/agenda/{item_id}/keputusan", data={
        f"d{item_id}-method": "vote", f"d{item_id}-ballot": "terbuka",
        f"d{item_id}-votes_for": "3", f"d{item_id}-outcome": "agreed"})
    assert too_many.status_code == 422
    assert "melebihi" in too_many.get_data(as_text=True)
    done = client.post(f"{url}/agenda/{item_id}/keputusan", data={
        f"d{item_id}-method": "mufakat", f"d{item_id}-outcome": "agreed"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).agenda[0].outcome.value == "agreed"
    signed = client.post(url + "/penanda-tangan", data={
        "signed_chair": "Pak Ketua", "signed_secretary": "Sri",
        "signed_kepala_desa": "Kades Dieng", "signed_participant": "Budi"})
    assert signed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).signed_kepala_desa == "Kades Dieng"
    page = client.get(f"/kerja-sama/{s.proposal.id}").get_data(as_text=True)
    assert "Disepakati" in page and url in page


# --- JSON API --------------------------------------------------------------------------------

def test_api_meetings_attendance_decision_and_errors(app, api):
    s = awaiting()
    client = api(s.author)
    body = {"kind": "musyawarah_desa", "held_at": past(), "place": "Balai Desa",
            "chair_name": "Ketua", "secretary_name": "Sekretaris", "desa_code": DIENG,
            "proposal_ids": [s.proposal.id]}
    assert client.post("/meetings", json={**body, "extra": 1}).status_code == 422
    missing = client.post("/meetings", json={**body, "place": ""})
    assert missing.status_code == 422
    assert "place" in missing.get_json()["error"]["fields"]
    created = client.post("/meetings", json=body)
    assert created.status_code == 201, created.get_json()
    meeting = created.get_json()
    assert meeting["organiser"] == "BPD Desa Dieng"
    assert meeting["quorum"]["numerator"] == 2
    mid, item_id = meeting["id"], meeting["agenda"][0]["id"]
    no_quorum = client.post(f"/meetings/{mid}/agenda/{item_id}/decision",
                            json={"method": "mufakat", "outcome": "agreed"})
    assert no_quorum.status_code == 409
    assert no_quorum.get_json()["error"]["code"] == "conflict"
    stranger = client.put(f"/meetings/{mid}/attendance", json={"attendees": [
        {"name": "Tamu", "element": "bpd", "gender": "L", "desa_code": SEMBUNGAN}]})
    assert stranger.status_code == 422
    assert "attendees-0-desa_code" in stranger.get_json()["error"]["fields"]
    ok = client.put(f"/meetings/{mid}/attendance", json={"attendees": people(DIENG, 3, 2)})
    assert ok.status_code == 200
    assert ok.get_json()["quorum"] | {} == {**ok.get_json()["quorum"], "met": True,
                                           "needed": 2, "voting_present": 2}
    votes = client.post(f"/meetings/{mid}/agenda/{item_id}/decision", json={
        "method": "vote", "ballot": "terbuka", "votes_for": 2, "votes_against": 1,
        "outcome": "agreed"})
    assert votes.status_code == 422
    assert "votes_for" in votes.get_json()["error"]["fields"]
    decided = client.post(f"/meetings/{mid}/agenda/{item_id}/decision",
                          json={"method": "mufakat", "outcome": "agreed"})
    assert decided.status_code == 200
    assert decided.get_json()["agenda"][0]["outcome"] == "agreed"
    listed = client.get(f"/proposals/{s.proposal.id}/meetings").get_json()
    assert [m["id"] for m in listed["items"]] == [mid]
    assert not listed["gate"]["satisfied"]
    assert {n["label"]: n["satisfied"] for n in listed["gate"]["needs"]}[
        "Musyawarah Desa Dieng"] is True
    other = api(UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG))
    assert other.get(f"/meetings/{mid}").status_code == 404
    assert other.get(f"/proposals/{s.proposal.id}/meetings").status_code == 404
    partner = api(s[f"sek:{SEMBUNGAN}"])  # reads the joint proposal's meeting, may not edit
    assert partner.get(f"/meetings/{mid}").status_code == 200
    assert partner.post(f"/meetings/{mid}/adjourn", json={}).status_code == 403


def test_api_adjourn(app, api):
    s = awaiting()
    meeting = desa_meeting(s, DIENG)
    dops.set_attendance(meeting, s.author, people(DIENG, 6, 1))
    db.session.commit()
    response = api(s.author).post(f"/meetings/{meeting.id}/adjourn", json={"notes": "Sepi"})
    assert response.status_code == 200 and response.get_json()["adjourned"] is True
    again = api(s.author).post(f"/meetings/{meeting.id}/adjourn", json={})
    assert again.status_code == 409


def test_openapi_documents_the_deliberation_endpoints(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/meetings", "/meetings/{meeting_id}", "/meetings/{meeting_id}/attendance",
                 "/meetings/{meeting_id}/agenda/{item_id}/decision",
                 "/meetings/{meeting_id}/adjourn", "/proposals/{proposal_id}/meetings",
                 "/quorum-rules", "/quorum-rules/{kind}"):
        assert path in spec["paths"], path
    assert "MeetingCreate" in spec["components"]["schemas"]
