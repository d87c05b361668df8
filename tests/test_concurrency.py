"""Two people acting on one proposal at the same moment: exactly one wins, the other is told
so clearly (Indonesian page or JSON error with its code) and nothing of the loser's act is
written.

Each race is played three ways:

* deterministically, both interleavings: the winner commits before the loser loads (a
  stale page), and the winner commits while the loser's request is already under way
  (after its version/state check, before its write) - the second is injected with a hook
  that commits the winner's act from a second session (its own app context, its own
  database connection);
* for real, with two threads on two connections released by a barrier (PostgreSQL, where
  the app's row locks and version checks are what keeps the outcome at one winner; also
  run on SQLite, which serialises writers).
"""

from __future__ import annotations

import html
import re
import threading
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role, User
from coopdesa.audit.models import AuditEntry
from coopdesa.documents import operations as docs
from coopdesa.documents.models import Signature
from coopdesa.errors import ConflictError, DomainError
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.proposals.models import Proposal, ProposalReview
from coopdesa.proposals.states import State
from tests import document_helpers as D
from tests import proposal_helpers as H
from tests.conftest import PASSWORD
from tests.factories import UserFactory

# --- helpers -------------------------------------------------------------------------------


@contextmanager
def other_session(app):
    """A second app context: its own SQLAlchemy session on its own connection."""
    with app.app_context():
        try:
            yield db.session
            db.session.commit()
        finally:
            db.session.remove()


def as_other(app, fn, *ids: int) -> Any:
    """Run ``fn(*objects)`` in a second session and commit it (the winner's request);
    ``ids`` are (model, id) pairs loaded in that session."""
    with other_session(app) as session:
        return fn(*[session.get(model, pk) for model, pk in ids])


def browser(app, user):
    client = app.test_client()
    response = client.post("/masuk", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def fresh(proposal_id: int) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal_id)


def actions(proposal_id: int, prefix: str) -> list[str]:
    return list(db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.proposal_id == proposal_id,
                                           AuditEntry.action.startswith(prefix))
        .order_by(AuditEntry.id)))


def chain_ok() -> None:
    from coopdesa.audit.operations import verify_chain

    result = verify_chain()
    assert result.ok, result.problem


def edit_form(proposal: Proposal, version: int, **changes: str) -> dict[str, str]:
    """What the edit page posts for an antar_desa draft: the sections, every party's
    fields (unchanged) and the version the page was loaded with."""
    data = {"version": str(version), "title": proposal.title,
            "mengingat": proposal.mengingat or "", "perselisihan": proposal.perselisihan or "",
            "menimbang": proposal.menimbang or "", "tujuan": proposal.tujuan or "",
            "ruang_lingkup": proposal.ruang_lingkup or "", "tata_cara": proposal.tata_cara or "",
            "perubahan": proposal.perubahan or "", "bidang_uraian": "",
            "start_date": proposal.start_date.isoformat() if proposal.start_date else "",
            "end_date": proposal.end_date.isoformat() if proposal.end_date else ""}
    for party in proposal.parties:
        prefix = f"party-{party.id}-"
        data.update({prefix + "role": party.role.value,
                     prefix + "signatory_name": party.signatory_name or "",
                     prefix + "signatory_office": party.signatory_office or "",
                     prefix + "delegates": party.delegates or "",
                     prefix + "hak": party.hak or "", prefix + "kewajiban": party.kewajiban or ""})
        for i, funding in enumerate(party.funding):
            data.update({f"{prefix}funding-{i}-source": funding.source.value,
                         f"{prefix}funding-{i}-amount": str(funding.amount),
                         f"{prefix}funding-{i}-apbdes_year": str(funding.apbdes_year or ""),
                         f"{prefix}funding-{i}-description": funding.description or ""})
    data.update(changes)
    return data


WINNER_TEXT = "Tujuan yang disimpan lebih dahulu oleh Sembungan."
LOSER_TEXT = "Ketikan panjang sekretaris Dieng yang tidak boleh hilang."


@pytest.fixture
def draft():
    """An antar_desa draft of Dieng (author) and Sembungan, both secretaries can edit."""
    return H.antar_desa(complete=True)


def _winner_saves(app, s: H.Scenario):
    from tests.conftest import SEMBUNGAN

    partner = s[f"sek:{SEMBUNGAN}"]
    as_other(app, lambda p, u: ops.update_sections(p, u, {"tujuan": WINNER_TEXT},
                                                   expected_version=None),
             (Proposal, s.proposal.id), (User, partner.id))


@contextmanager
def after_check(monkeypatch, fn):
    """Run ``fn`` once, right after the loser's version check passed (before its write)."""
    original = ops._check_version
    done = []

    def hooked(proposal, expected_version):
        original(proposal, expected_version)
        if not done:
            done.append(True)
            fn()

    monkeypatch.setattr(ops, "_check_version", hooked)
    yield done
    monkeypatch.setattr(ops, "_check_version", original)


# --- (a) two users saving the same draft ---------------------------------------------------

@pytest.mark.parametrize("when", ["before_load", "after_check"])
def test_same_draft_saved_twice_html_loser_keeps_input_and_message(app, draft, monkeypatch,
                                                                   when):
    s = draft
    proposal = fresh(s.proposal.id)
    loaded = proposal.version
    data = edit_form(proposal, loaded, ruang_lingkup=LOSER_TEXT)
    client = browser(app, s.author)
    if when == "before_load":
        _winner_saves(app, s)
        response = client.post(f"/kerja-sama/{s.proposal.id}/ubah", data=data)
    else:
        with after_check(monkeypatch, lambda: _winner_saves(app, s)) as done:
            response = client.post(f"/kerja-sama/{s.proposal.id}/ubah", data=data)
        assert done, "the hook never ran"

    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "telah diubah oleh orang lain" in page and "Isian Anda belum disimpan" in page
    assert LOSER_TEXT in page  # the typed text is in the form again
    winner = fresh(s.proposal.id)
    assert winner.tujuan == WINNER_TEXT and winner.ruang_lingkup != LOSER_TEXT
    assert re.search(rf'name="version"[^>]*value="{winner.version}"', page) or re.search(
        rf'value="{winner.version}"[^>]*name="version"', page)
    assert actions(s.proposal.id, "proposal.update")[-1:] == ["proposal.update"]
    assert len(actions(s.proposal.id, "proposal.update")) == 2  # fill + the winner's
    chain_ok()

    # Saving again, now on the winner's version, applies the loser's text over theirs.
    data["version"] = str(winner.version)
    assert client.post(f"/kerja-sama/{s.proposal.id}/ubah", data=data).status_code == 302
    assert fresh(s.proposal.id).ruang_lingkup == LOSER_TEXT


@pytest.mark.parametrize("when", ["before_load", "after_check"])
def test_same_draft_saved_twice_api_loser_gets_409_conflict(app, api, draft, monkeypatch,
                                                           when):
    s = draft
    loaded = fresh(s.proposal.id).version
    client = api(s.author)
    body = {"version": loaded, "ruang_lingkup": LOSER_TEXT}
    if when == "before_load":
        _winner_saves(app, s)
        response = client.patch(f"/proposals/{s.proposal.id}", json=body)
    else:
        with after_check(monkeypatch, lambda: _winner_saves(app, s)) as done:
            response = client.patch(f"/proposals/{s.proposal.id}", json=body)
        assert done
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "conflict"
    assert "telah diubah oleh orang lain" in error["message"]
    winner = fresh(s.proposal.id)
    assert error["current"] == {"state": "draft", "version": winner.version}
    assert any("tujuan" in c["fields"] for c in error["changes"])
    assert winner.tujuan == WINNER_TEXT and winner.ruang_lingkup != LOSER_TEXT
    chain_ok()


def test_party_saved_while_the_draft_changed_api_loser_gets_409(app, api, draft,
                                                                 monkeypatch):
    """The same for a party's data (and funding, which shares the flush): the save that
    passed its version check but lost the race to the row is refused, nothing written."""
    s = draft
    proposal = fresh(s.proposal.id)
    party = proposal.parties[0]
    body = {"version": proposal.version, "hak": "Hak yang diketik oleh yang kalah"}
    with after_check(monkeypatch, lambda: _winner_saves(app, s)) as done:
        response = api(s.author).patch(f"/proposals/{s.proposal.id}/parties/{party.id}",
                                       json=body)
    assert done
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "conflict"
    db.session.expire_all()
    assert fresh(s.proposal.id).parties[0].hak != body["hak"]
    assert fresh(s.proposal.id).tujuan == WINNER_TEXT
    chain_ok()


# --- (b) two reviewers deciding the same proposal ------------------------------------------

@pytest.fixture
def in_review():
    """A submitted antar_desa proposal under review by its BKAD, which has two members."""
    s = H.antar_desa(submit=True)
    ops.transition(s.proposal, s["bkad"], "start_review")
    db.session.commit()
    s.users["bkad2"] = UserFactory(role=Role.BKAD, bkad=s.bkad)
    return s


def _approve(app, s: H.Scenario):
    as_other(app, lambda p, u: ops.transition(p, u, "approve", expected_state="in_review"),
             (Proposal, s.proposal.id), (User, s["bkad"].id))


@contextmanager
def hook_once(monkeypatch, name: str, fn, *, after: bool = False):
    """Run ``fn`` once when the loser's request reaches ``ops.<name>`` (before it, or
    after it with ``after``)."""
    original = getattr(ops, name)
    done = []

    def hooked(*args, **kwargs):
        if not after and not done:
            done.append(True)
            fn()
        result = original(*args, **kwargs)
        if after and not done:
            done.append(True)
            fn()
        return result

    monkeypatch.setattr(ops, name, hooked)
    yield done
    monkeypatch.setattr(ops, name, original)


def _assert_one_decision(proposal_id: int) -> None:
    proposal = fresh(proposal_id)
    assert proposal.state == State.AWAITING_DELIBERATION
    reviews = db.session.scalars(sa.select(ProposalReview)
                                 .where(ProposalReview.proposal_id == proposal_id)).all()
    assert [r.judgment.value for r in reviews] == ["approve"]
    decisions = [a for a in actions(proposal_id, "proposal.transition.")
                 if a.rsplit(".", 1)[1] in ("approve", "request_changes", "reject")]
    assert decisions == ["proposal.transition.approve"]
    chain_ok()


#: Where the winner's decision lands in the loser's request: before it loads (a stale
#: page), before its row lock (PostgreSQL: the lock then waits for nothing), and after its
#: lock and state check, just before its write (SQLite only: on PostgreSQL the winner would
#: wait for the loser's lock, which is the point of the lock).
WHEN_DECIDING = ["before_load", "before_lock", "before_write"]


def _loser_request(client, s, monkeypatch, when, app, send):
    if when == "before_load":
        _approve(app, s)
        return send()
    if when == "before_write" and db.engine.dialect.name == "postgresql":
        pytest.skip("on PostgreSQL the loser holds the row lock here; the winner waits")
    name, after = ("_lock_state", False) if when == "before_lock" else ("_touch", False)
    with hook_once(monkeypatch, name, lambda: _approve(app, s), after=after) as done:
        response = send()
    assert done
    return response


@pytest.mark.parametrize("when", WHEN_DECIDING)
def test_two_reviewers_html_second_is_told_the_new_state(app, in_review, monkeypatch, when):
    s = in_review
    client = browser(app, s["bkad2"])
    form = {"request_changes-expected_state": "in_review",
            "request_changes-points": "Lengkapi rincian biaya.\nTambahkan peta lokasi."}

    def send():
        return client.post(f"/kerja-sama/{s.proposal.id}/tindakan/request_changes",
                           data=form)

    response = _loser_request(client, s, monkeypatch, when, app, send)
    assert response.status_code == 302
    page = html.unescape(client.get(f"/kerja-sama/{s.proposal.id}").get_data(as_text=True))
    assert ("Status usulan telah berubah menjadi Menunggu musyawarah sejak halaman Anda "
            "dimuat" in page or "baru saja diubah oleh orang lain; status kini Menunggu "
            "musyawarah" in page)
    _assert_one_decision(s.proposal.id)


@pytest.mark.parametrize("when", WHEN_DECIDING)
def test_two_reviewers_api_second_gets_409_with_current_state(app, api, in_review,
                                                              monkeypatch, when):
    s = in_review
    client = api(s["bkad2"])

    def send():
        return client.post(f"/proposals/{s.proposal.id}/transitions",
                           json={"action": "reject", "expected_state": "in_review",
                                 "points": ["Tidak sesuai RPJM Desa."]})

    response = _loser_request(client, s, monkeypatch, when, app, send)
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and error["message"]
    assert error["current"]["state"] == "awaiting_deliberation"
    _assert_one_decision(s.proposal.id)


# --- (c) a signature racing a withdrawal ----------------------------------------------------
#
# The state machine keeps the two apart: a proposal is withdrawn up to awaiting_deliberation
# and signed only once agreed. A withdrawal sent from a page loaded before the agreement, or
# an act sent at the same moment, must still be refused clearly, never half-applied.

@pytest.fixture
def agreed():
    return D.agreed_antar_desa()


def _first_party(s: H.Scenario):
    proposal = fresh(s.proposal.id)
    party = proposal.parties[0]
    return party, s[f"sek:{party.desa_code}"]


def _sign(app, s: H.Scenario, number: str = "7"):
    party, user = _first_party(s)
    as_other(app, lambda p, u: docs.record_signature(p, u, party.id, D.signature_data(number)),
             (Proposal, s.proposal.id), (User, user.id))


@pytest.mark.parametrize("when", ["before_load", "before_lock"])
def test_withdrawal_after_a_signature_is_refused_html_and_api(app, api, agreed, monkeypatch,
                                                              when):
    s = agreed
    client = browser(app, s.author)
    form = {"withdraw-expected_state": "agreed", "withdraw-text": "Desa mundur."}

    def send():
        return client.post(f"/kerja-sama/{s.proposal.id}/tindakan/withdraw", data=form)

    if when == "before_load":
        _sign(app, s)
        response = send()
    else:
        with hook_once(monkeypatch, "_lock_state", lambda: _sign(app, s)) as done:
            response = send()
        assert done
    assert response.status_code == 302
    page = html.unescape(client.get(f"/kerja-sama/{s.proposal.id}").get_data(as_text=True))
    assert "Tarik usulan" in page and "tidak dapat dilakukan" in page
    reply = api(s.author).post(f"/proposals/{s.proposal.id}/transitions",
                               json={"action": "withdraw", "text": "Desa mundur."})
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "conflict"
    assert fresh(s.proposal.id).state == State.AGREED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 1
    assert actions(s.proposal.id, "proposal.transition.withdraw") == []
    chain_ok()


def test_signature_after_a_withdrawal_is_refused_html_and_api(app, api):
    """The withdrawal wins (the proposal was withdrawn while awaiting the musyawarah): a
    signature sent afterwards, from a form or the API, is refused with the state."""
    s = H.antar_desa(submit=True)
    ops.transition(s.proposal, s["bkad"], "start_review")
    ops.transition(s.proposal, s["bkad"], "approve")
    db.session.commit()
    as_other(app, lambda p, u: ops.transition(p, u, "withdraw", text="Batal."),
             (Proposal, s.proposal.id), (User, s.author.id))
    party, user = _first_party(s)
    data = D.signature_data("9")
    client = browser(app, user)
    response = client.post(f"/dokumen/{s.proposal.id}/tanda-tangan", data={
        "party_id": str(party.id), **{f"p{party.id}-{k}": v for k, v in data.items()}})
    assert response.status_code == 409
    assert "setelah usulan disepakati" in html.unescape(response.get_data(as_text=True))
    reply = api(user).post(f"/proposals/{s.proposal.id}/signatures",
                           json={"party_id": party.id, **data})
    assert reply.status_code == 409, reply.get_json()
    error = reply.get_json()["error"]
    assert error["code"] == "conflict" and "Ditarik" in error["message"]
    assert fresh(s.proposal.id).state == State.WITHDRAWN
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0
    chain_ok()


# --- real races: two threads, two connections, one barrier ----------------------------------

def race(app, *acts):
    """Run each ``act(session)`` in its own thread and app context (own connection); all
    load first, then meet at a barrier and act at once. Returns, per act, "ok" or the
    DomainError it raised (any other exception fails the test)."""
    barrier = threading.Barrier(len(acts), timeout=30)
    results: list[Any] = [None] * len(acts)

    def run(index, act):
        with app.app_context():
            try:
                go = act()  # loads what it needs, returns the act itself
                barrier.wait()
                go()
                db.session.commit()
                results[index] = "ok"
            except DomainError as error:
                db.session.rollback()
                results[index] = error
            except BaseException as error:  # noqa: BLE001 - reported to the test below
                db.session.rollback()
                results[index] = ("unexpected", repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, act)) for i, act in enumerate(acts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(not t.is_alive() for t in threads)
    assert not [r for r in results if isinstance(r, tuple)], results
    return results


def _one_winner(results) -> DomainError:
    assert sorted("ok" if r == "ok" else "lost" for r in results) == ["lost", "ok"], results
    loser = next(r for r in results if r != "ok")
    assert isinstance(loser, ConflictError), loser
    assert loser.status == 409 and loser.code == "conflict" and loser.message
    return loser


@pytest.mark.parametrize("round_", range(3))
def test_race_two_saves_of_one_draft(app, draft, round_):
    from tests.conftest import SEMBUNGAN

    s = draft
    version = fresh(s.proposal.id).version
    db.session.commit()

    def saver(user_id: int, key: str, text: str):
        def load():
            proposal = db.session.get(Proposal, s.proposal.id)
            user = db.session.get(User, user_id)
            proposal.parties  # noqa: B018 - loaded before the barrier, as a request would
            return lambda: ops.update_sections(proposal, user, {key: text},
                                               expected_version=version)
        return load

    results = race(app, saver(s.author.id, "ruang_lingkup", "Dari Dieng"),
                   saver(s[f"sek:{SEMBUNGAN}"].id, "tujuan", "Dari Sembungan"))
    loser = _one_winner(results)
    assert "telah diubah oleh orang lain" in loser.message
    proposal = fresh(s.proposal.id)
    assert proposal.version == version + 1
    written = (proposal.ruang_lingkup == "Dari Dieng", proposal.tujuan == "Dari Sembungan")
    assert sorted(written) == [False, True]  # exactly the winner's save, whole
    chain_ok()


@pytest.mark.parametrize("round_", range(3))
def test_race_two_reviewers(app, in_review, round_):
    s = in_review

    def decider(user_id: int, name: str, points: list[str]):
        def load():
            proposal = db.session.get(Proposal, s.proposal.id)
            user = db.session.get(User, user_id)
            return lambda: ops.transition(proposal, user, name, expected_state="in_review",
                                          points=points)
        return load

    results = race(app, decider(s["bkad"].id, "approve", []),
                   decider(s["bkad2"].id, "reject", ["Tidak sesuai."]))
    loser = _one_winner(results)
    assert loser.details["current"]["state"] in ("awaiting_deliberation", "rejected")
    proposal = fresh(s.proposal.id)
    reviews = db.session.scalars(sa.select(ProposalReview)
                                 .where(ProposalReview.proposal_id == s.proposal.id)).all()
    assert len(reviews) == 1
    assert proposal.state == {"approve": State.AWAITING_DELIBERATION,
                              "reject": State.REJECTED}[reviews[0].judgment.value]
    chain_ok()


def test_race_signature_and_withdrawal(app, agreed):
    s = agreed
    party, signer = _first_party(s)

    def sign():
        proposal = db.session.get(Proposal, s.proposal.id)
        user = db.session.get(User, signer.id)
        return lambda: docs.record_signature(proposal, user, party.id,
                                             D.signature_data("11"))

    def withdraw():
        proposal = db.session.get(Proposal, s.proposal.id)
        user = db.session.get(User, s.author.id)
        return lambda: ops.transition(proposal, user, "withdraw", text="Mundur.",
                                      expected_state="agreed")

    results = race(app, sign, withdraw)
    loser = _one_winner(results)
    assert results[0] == "ok" and loser is results[1]
    assert fresh(s.proposal.id).state == State.AGREED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 1
    chain_ok()
