"""Life after signing (PP 43/2014 Pasal 145-147): addenda that go through review,
musyawarah and signing again; postponement, resumption, cancellation and ending, each only
on a deliberated decision with every bound party; ending on the expiry of the term."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from coopdesa.audit.models import AuditEntry
from coopdesa.documents import operations as docs
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.lifecycle import operations as life
from coopdesa.lifecycle.models import AgreementChange, ChangeState
from coopdesa.proposals import operations as ops
from coopdesa.proposals.models import EndGround, Proposal
from coopdesa.proposals.states import State
from tests import document_helpers as D
from tests.conftest import DIENG, SEMBUNGAN, TIENG
from tests.factories import UserFactory
from tests.test_deliberations import agree_all

DAY = dt.timedelta(days=1)


def _reps(proposal: Proposal) -> list[dict]:
    return [{"party_id": p.id, "name": f"Wakil {p.name}", "office": "Kepala Desa"}
            for p in proposal.parties]


def decision(proposal: Proposal, outcome: str = "approved", **extra) -> dict:
    today = local_today()
    data = {"outcome": outcome, "held_on": today.isoformat(), "place": "Aula BKAD",
            "representatives": _reps(proposal), "effective_on": today.isoformat()}
    data.update(extra)
    return data


def changes_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AgreementChange.id))) or 0


def audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) or 0


def request(s, kind: str, **extra) -> AgreementChange:
    change = life.request_change(s.reload(), s.author, {"kind": kind,
                                                        "reason": "Alasan uji.", **extra})
    db.session.commit()
    return change


# --- postponement and resumption --------------------------------------------------------------

def test_postponement_needs_a_decision_and_resumes_by_itself(app):
    s = D.active_agreement()
    change = request(s, "penundaan")
    assert s.reload().state == State.ACTIVE  # a request alone changes nothing
    until = local_today() + 10 * DAY
    life.decide_change(change, s["bkad"], decision(s.proposal, until=until.isoformat()))
    db.session.commit()
    assert s.reload().state == State.POSTPONED
    assert db.session.get(AgreementChange, change.id).state == ChangeState.APPLIED
    assert docs.public_status(docs.document_of(s.proposal))["status"] == "postponed"
    # The clock resumes it once the decided period is over, not before.
    assert ops.run_lifecycle(until - DAY)["resumed"] == 0
    assert ops.run_lifecycle(until)["resumed"] == 1
    db.session.commit()
    assert s.reload().state == State.ACTIVE


def test_resumption_is_a_deliberated_request_too(app):
    s = D.active_agreement()
    life.decide_change(request(s, "penundaan"), s.author, decision(s.proposal))
    db.session.commit()
    with pytest.raises(ConflictError):
        request(s, "penundaan")  # already postponed
    db.session.rollback()
    resume = request(s, "pelanjutan")
    life.decide_change(resume, s.author, decision(s.proposal))
    db.session.commit()
    assert s.reload().state == State.ACTIVE


# --- cancellation and ending ---------------------------------------------------------------

def test_cancellation_takes_effect_on_its_decided_date(app):
    s = D.active_agreement()
    change = request(s, "pembatalan", end_ground="d")
    later = local_today() + 5 * DAY
    life.decide_change(change, s.author, decision(s.proposal, effective_on=later.isoformat()))
    db.session.commit()
    assert s.reload().state == State.ACTIVE
    assert db.session.get(AgreementChange, change.id).state == ChangeState.APPROVED
    assert ops.run_lifecycle(later)["changes_applied"] == 1
    db.session.commit()
    proposal = s.reload()
    assert proposal.state == State.ENDED
    assert proposal.end_ground == EndGround.D_WANPRESTASI
    assert proposal.ended_on == later


def test_nobody_ends_an_agreement_without_a_decision(app):
    s = D.active_agreement()
    for user in (s.author, s["bkad"]):
        with pytest.raises(AccessDenied):
            ops.transition(s.reload(), user, "end", ground="a", text="Tanpa musyawarah.")
        db.session.rollback()
    request(s, "pembatalan", end_ground="h")
    assert s.reload().state == State.ACTIVE


def test_rejected_request_changes_nothing_and_needs_a_note(app):
    s = D.active_agreement()
    change = request(s, "pengakhiran", end_ground="a")
    with pytest.raises(ValidationError) as info:
        life.decide_change(change, s.author, decision(s.proposal, "rejected"))
    assert "decision_note" in info.value.fields
    db.session.rollback()
    life.decide_change(change, s.author,
                       decision(s.proposal, "rejected", decision_note="Belum sepakat."))
    db.session.commit()
    assert s.reload().state == State.ACTIVE
    assert db.session.get(AgreementChange, change.id).state == ChangeState.REJECTED


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "tunda"}, "kind"),
    ({"kind": "penundaan", "reason": "  "}, "reason"),
    ({"kind": "pembatalan"}, "end_ground"),
    ({"kind": "pembatalan", "end_ground": "i"}, "end_ground"),  # huruf i needs no request
    ({"kind": "pengakhiran", "end_ground": "e"}, "replacement_ref"),
    ({"kind": "pengakhiran", "end_ground": "e", "replacement_ref": "KSD-1999-99999"},
     "replacement_ref"),
    ({"kind": "penundaan", "reason": "x" * 10_001}, "reason"),
    ({"kind": "penundaan", "reason": ["daftar"]}, "reason"),
])
def test_bad_requests_are_refused_by_field(app, data, field):
    s = D.active_agreement()
    before = (changes_count(), audit_count())
    with pytest.raises(ValidationError) as info:
        life.request_change(s.reload(), s.author, {"reason": "Alasan.", **data})
    assert field in info.value.fields
    db.session.rollback()
    assert (changes_count(), audit_count()) == before


def test_bad_decisions_are_refused_by_field(app):
    s = D.active_agreement()
    change = request(s, "penundaan")
    proposal = s.reload()
    tomorrow = (local_today() + DAY).isoformat()
    yesterday = (local_today() - DAY).isoformat()
    third = proposal.parties[1]
    cases = [
        (decision(proposal, outcome="mungkin"), "outcome"),
        (decision(proposal, held_on=tomorrow), "held_on"),
        (decision(proposal, held_on="besok"), "held_on"),
        (decision(proposal, place=""), "place"),
        (decision(proposal, representatives=_reps(proposal)[:1]), f"rep_{third.id}_name"),
        (decision(proposal, representatives=[{**r, "office": ""} for r in _reps(proposal)]),
         f"rep_{proposal.parties[0].id}_office"),
        (decision(proposal, effective_on=""), "effective_on"),
        (decision(proposal, held_on=local_today().isoformat(), effective_on=yesterday),
         "effective_on"),
        (decision(proposal, until=local_today().isoformat()), "until"),
        (decision(proposal, effective_on=(local_today() + 4000 * DAY).isoformat()),
         "effective_on"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as info:
            life.decide_change(change, s.author, data)
        assert field in info.value.fields, (field, info.value.fields)
        db.session.rollback()
        assert db.session.get(AgreementChange, change.id).state == ChangeState.REQUESTED
        assert s.reload().state == State.ACTIVE


def test_who_may_request_and_decide(app):
    s = D.active_agreement()
    outsider = UserFactory(role="sekretaris", desa_code=TIENG)  # another village
    auditor = UserFactory(role="auditor", jurisdiction_code="33.07")
    kepala = UserFactory(role="kepala_desa", desa_code=DIENG)
    db.session.commit()
    proposal = s.reload()
    for user in (outsider, auditor, kepala):
        with pytest.raises(AccessDenied):
            life.request_change(proposal, user, {"kind": "penundaan", "reason": "x"})
        db.session.rollback()
    change = request(s, "penundaan")
    for user in (outsider, auditor, kepala):
        with pytest.raises(AccessDenied):
            life.decide_change(change, user, decision(proposal))
        db.session.rollback()
    # The secretary of the other party village and the BKAD may.
    life.decide_change(change, s[f"sek:{SEMBUNGAN}"], decision(s.reload()))
    db.session.commit()
    assert s.reload().state == State.POSTPONED


def test_one_open_request_at_a_time_and_withdrawal(app):
    s = D.active_agreement()
    change = request(s, "penundaan")
    with pytest.raises(ConflictError):
        request(s, "pembatalan", end_ground="a")
    db.session.rollback()
    with pytest.raises(ValidationError):
        life.withdraw_change(change, s.author, " ")
    db.session.rollback()
    life.withdraw_change(change, s.author, "Tidak jadi.")
    db.session.commit()
    with pytest.raises(ConflictError):
        life.decide_change(db.session.get(AgreementChange, change.id), s.author,
                           decision(s.reload()))
    db.session.rollback()
    request(s, "pembatalan", end_ground="a")


def test_stale_decision_form_is_refused(app):
    s = D.active_agreement()
    change = request(s, "penundaan")
    with pytest.raises(ConflictError):
        life.decide_change(change, s.author, decision(s.reload(), version=change.version + 1))


def test_end_on_expiry_only_after_the_term(app):
    s = D.active_agreement()
    with pytest.raises(ConflictError) as info:
        life.end_on_expiry(s.reload(), s.author)
    assert "belum berakhir" in info.value.message
    db.session.rollback()
    proposal = s.reload()
    proposal.start_date = local_today() - 400 * DAY
    proposal.end_date = local_today() - 2 * DAY
    db.session.commit()
    life.end_on_expiry(s.reload(), s.author)
    db.session.commit()
    proposal = s.reload()
    assert proposal.state == State.ENDED
    assert proposal.end_ground == EndGround.I_JANGKA_WAKTU
    assert proposal.ended_on == local_today() - DAY


def test_replacement_links_the_new_agreement(app):
    old = D.active_agreement()
    new = D.active_agreement(title="Pengelolaan sampah terpadu (pengganti)", like=old, prefix="B")
    change = request(old, "pengakhiran", end_ground="e", replacement_ref=new.reload().ref)
    life.decide_change(change, old.author, decision(old.reload()))
    db.session.commit()
    proposal = old.reload()
    assert proposal.state == State.ENDED and proposal.replaced_by_id == new.proposal.id
    info = docs.public_status(docs.document_of(proposal))
    assert info["status"] == "replaced"
    assert info["replaced_by"] == docs.document_of(new.reload()).code


# --- addenda -------------------------------------------------------------------------------

def _through_signing(s, addendum: Proposal) -> None:
    a = dataclasses.replace(s, proposal=addendum)
    ops.transition(a.reload(), s.author, "submit")
    ops.transition(a.reload(), s["bkad"], "start_review")
    ops.transition(a.reload(), s["bkad"], "approve")
    db.session.commit()
    agree_all(a)
    D._assess(a)
    ops.transition(a.reload(), s.author, "agree")
    db.session.commit()
    D.sign_all(a, prefix=f"P{addendum.amendment_seq}-")
    proposal = a.reload()
    if proposal.state == State.SIGNED:
        ops.transition(proposal, None, "activate")
        db.session.commit()


def test_addendum_is_deliberated_signed_and_shown_on_the_original(app):
    s = D.active_agreement()
    root = s.reload()
    addendum = life.start_addendum(root, s.author)
    db.session.commit()
    assert addendum.state == State.DRAFT and addendum.amends_id == root.id
    assert addendum.amendment_seq == 1
    assert [p.actor_id for p in addendum.parties] == [p.actor_id for p in root.parties]
    assert sum(f.amount for p in addendum.parties for f in p.funding) == sum(
        f.amount for p in root.parties for f in p.funding)
    # Only one addendum in progress; none on an addendum itself.
    with pytest.raises(ConflictError):
        life.start_addendum(s.reload(), s.author)
    db.session.rollback()
    # An extension: the new term governs the original's end.
    addendum = db.session.get(Proposal, addendum.id)
    new_end = root.end_date + 365 * DAY
    ops.update_sections(addendum, s.author, {"end_date": new_end.isoformat()},
                        expected_version=addendum.version)
    db.session.commit()
    _through_signing(s, addendum)
    addendum = db.session.get(Proposal, addendum.id)
    assert addendum.state == State.ACTIVE
    root = s.reload()
    assert life.effective_end(root) == new_end
    # The extension counts everywhere the term does: reporting periods, the dashboard and
    # the reminders of agreements ending soon; the addendum reports through its agreement.
    from coopdesa.proposals import notifications, queries
    from coopdesa.reports import operations as reports

    assert reports.periods(root)[-1][1] == new_end
    assert reports.periods(db.session.get(Proposal, addendum.id)) == []
    board = queries.dashboard(s.author, today=new_end - 20 * DAY)
    assert [p.id for p in board.ending_30] == [root.id]
    assert board.term_end[root.id] == new_end
    assert queries.dashboard(s.author, today=root.end_date - 20 * DAY).ending_30 == []
    assert notifications.remind(new_end - 20 * DAY)["ending"] > 0
    # Its own number, PDF and code; the original's verification page links to it.
    mine, original = docs.document_of(addendum), docs.document_of(root)
    assert mine.code != original.code and mine.sha256 != original.sha256
    info = docs.public_status(original)
    assert info["status"] == "amended"
    assert [a["code"] for a in info["amendments"]] == [mine.code]
    assert docs.public_status(mine)["amends"] == original.code
    text = " ".join(page.extract_text() for page in PdfReader(
        io.BytesIO(mine.file.data)).pages)
    flat = " ".join(text.split()).upper()
    assert "PERUBAHAN PERTAMA ATAS PERATURAN BERSAMA KEPALA DESA DIENG DAN KEPALA DESA " \
        "SEMBUNGAN NOMOR 1 DAN NOMOR 2 TAHUN" in flat
    # The clock does not end the original on its first end date, and ending it ends the
    # addendum too.
    assert ops.run_lifecycle(root.end_date + DAY)["ended"] == 0
    assert ops.run_lifecycle(new_end + DAY)["ended"] == 1
    db.session.commit()
    assert s.reload().state == State.ENDED
    assert db.session.get(Proposal, addendum.id).state == State.ENDED


def test_addendum_refusals(app):
    s = D.active_agreement()
    auditor = UserFactory(role="auditor", jurisdiction_code="33.07")
    db.session.commit()
    with pytest.raises(AccessDenied):
        life.start_addendum(s.reload(), s["bkad"])
    db.session.rollback()
    with pytest.raises(AccessDenied):
        life.start_addendum(s.reload(), auditor)
    db.session.rollback()
    addendum = life.start_addendum(s.reload(), s.author)
    db.session.commit()
    with pytest.raises(ConflictError):
        life.request_change(addendum, s.author, {"kind": "penundaan", "reason": "x"})
    db.session.rollback()
    with pytest.raises(ConflictError):
        life.start_addendum(addendum, s.author)


# --- pages ---------------------------------------------------------------------------------

def test_status_pages_keep_input_and_explain(app, login):
    s = D.active_agreement()
    client = login(s.author)
    proposal_id = s.proposal.id
    page = client.get(f"/kerja-sama/{proposal_id}")
    assert "Buka status kerja sama" in page.text
    page = client.get(f"/kerja-sama/{proposal_id}/status-kerja-sama")
    assert page.status_code == 200 and "Susun perubahan (adendum)" in page.text
    hostile = "<script>alert(1)</script>"
    response = client.post(f"/kerja-sama/{proposal_id}/status-kerja-sama",
                           data={"kind": "pembatalan", "reason": hostile, "end_ground": ""})
    assert response.status_code == 422
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text and hostile not in \
        response.text
    assert "Pasal 147 huruf a sampai h" in response.text
    response = client.post(f"/kerja-sama/{proposal_id}/status-kerja-sama",
                           data={"kind": "penundaan", "reason": "Banjir di jalur."})
    assert response.status_code == 302
    change = db.session.scalar(sa.select(AgreementChange))
    url = f"/kerja-sama/{proposal_id}/status-kerja-sama/{change.id}"
    proposal = s.reload()
    form = {"version": change.version, "outcome": "approved",
            "held_on": local_today().isoformat(), "place": "Aula BKAD",
            "effective_on": local_today().isoformat()}
    first = proposal.parties[0]
    form[f"rep_{first.id}_name"] = "Pak Kades"
    form[f"rep_{first.id}_office"] = "Kepala Desa"
    response = client.post(url + "/keputusan", data=form)
    assert response.status_code == 422
    assert "Pak Kades" in response.text  # nothing typed is lost
    assert f'id="rep_{proposal.parties[1].id}_name-error"' in response.text
    for party in proposal.parties[1:]:
        form[f"rep_{party.id}_name"] = "Wakil"
        form[f"rep_{party.id}_office"] = "Kepala Desa"
    response = client.post(url + "/keputusan", data=form, follow_redirects=True)
    assert response.status_code == 200 and "Ditunda" in response.text
    db.session.expire_all()
    assert s.reload().state == State.POSTPONED
    detail = client.get(f"/kerja-sama/{proposal_id}")
    assert "sedang ditunda" in detail.text


def test_other_village_sees_nothing(app, login):
    s = D.active_agreement()
    outsider = UserFactory(role="sekretaris", desa_code=TIENG)
    db.session.commit()
    change = request(s, "penundaan")
    client = login(outsider)
    for url in (f"/kerja-sama/{s.proposal.id}/status-kerja-sama",
                f"/kerja-sama/{s.proposal.id}/status-kerja-sama/{change.id}"):
        assert client.get(url).status_code == 404
    assert client.post(f"/kerja-sama/{s.proposal.id}/perubahan").status_code == 404
    assert client.post(f"/kerja-sama/{s.proposal.id}/status-kerja-sama",
                       data={"kind": "penundaan", "reason": "x"}).status_code == 404


# --- JSON API ------------------------------------------------------------------------------

def test_api_request_decide_and_refusals(app, api):
    s = D.active_agreement()
    author = api(s.author)
    outsider = api(UserFactory(role="sekretaris", desa_code=TIENG))
    pid = s.proposal.id
    assert outsider.get(f"/proposals/{pid}/changes").status_code == 404
    assert outsider.post(f"/proposals/{pid}/changes",
                         json={"kind": "penundaan", "reason": "x"}).status_code == 404
    bad = author.post(f"/proposals/{pid}/changes", json={"kind": "pembatalan", "reason": "x",
                                                         "extra": 1})
    assert bad.status_code == 422 and "extra" in bad.json["error"]["fields"]
    bad = author.post(f"/proposals/{pid}/changes", json={"kind": "pembatalan", "reason": "x"})
    assert bad.status_code == 422 and "end_ground" in bad.json["error"]["fields"]
    created = author.post(f"/proposals/{pid}/changes",
                          json={"kind": "pembatalan", "reason": "Objek hilang.",
                                "end_ground": "g"})
    assert created.status_code == 201 and created.json["state"] == "requested"
    change_id = created.json["id"]
    assert outsider.get(f"/changes/{change_id}").status_code == 404
    proposal = s.reload()
    body = decision(proposal)
    bad = author.post(f"/changes/{change_id}/decision",
                      json={**body, "representatives": body["representatives"][:1]})
    assert bad.status_code == 422
    assert f"rep_{proposal.parties[1].id}_name" in bad.json["error"]["fields"]
    done = author.post(f"/changes/{change_id}/decision", json=body)
    assert done.status_code == 200 and done.json["state"] == "applied"
    status = author.get(f"/proposals/{pid}/changes").json
    assert status["state"] == "ended" and status["changes"][0]["end_ground"] == "g"
    again = author.post(f"/changes/{change_id}/withdraw", json={"note": "x"})
    assert again.status_code == 409


def test_api_addendum(app, api):
    s = D.active_agreement()
    response = api(s.author).post(f"/proposals/{s.proposal.id}/addendum")
    assert response.status_code == 201
    addendum = db.session.get(Proposal, response.json["addendum_id"])
    assert addendum.amends_id == s.proposal.id and addendum.state == State.DRAFT
    assert api(s["bkad"]).post(f"/proposals/{s.proposal.id}/addendum").status_code == 403


def test_decision_form_without_choices_explains_in_indonesian(app, login):
    s = D.active_agreement()
    change = request(s, "penundaan")
    client = login(s.author)
    response = client.post(
        f"/kerja-sama/{s.proposal.id}/status-kerja-sama/{change.id}/keputusan",
        data={"version": change.version, "place": "Balai <b>Desa</b>"})
    assert response.status_code == 422
    assert "Pilih keputusan musyawarah" in response.text
    assert "Not a valid choice" not in response.text
    assert "Balai &lt;b&gt;Desa&lt;/b&gt;" in response.text  # kept, escaped
    assert "Nama wakil" in response.text  # every party's missing representative explained
