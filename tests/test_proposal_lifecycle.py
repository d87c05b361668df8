"""The proposal lifecycle in the domain layer: the transition matrix per role, the third-party
reviewer setting, the clock (run_lifecycle) and notifications (notify_transition, remind).

Operations are called directly and committed like a request; refusals are rolled back like
the error handlers do, and must leave nothing behind.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry
from coopdesa.audit.operations import verify_chain
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals import operations as ops
from coopdesa.proposals.models import (
    EndGround,
    Judgment,
    Notification,
    Proposal,
    ProposalReview,
    ProposalVersion,
)
from coopdesa.proposals.notifications import notify_transition, remind
from coopdesa.proposals.states import SIGNED_STATES, TRANSITIONS, State
from tests import proposal_helpers as H
from tests.conftest import DIENG, KEJAJAR, PATAKBANTENG, SEMBUNGAN, TIENG
from tests.factories import AdminFactory, BkadFactory, UserFactory

S = State
#: The state machine as the issue describes it, written out independently of the code.
EXPECTED_SOURCES = {
    "submit": {S.DRAFT, S.CHANGES_REQUESTED},
    "start_review": {S.SUBMITTED},
    "request_changes": {S.IN_REVIEW},
    "approve": {S.IN_REVIEW},
    "reject": {S.IN_REVIEW},
    "agree": {S.AWAITING_DELIBERATION},
    "sign": {S.AGREED},
    "activate": {S.SIGNED},
    "end": {S.ACTIVE, S.POSTPONED},
    "postpone": {S.ACTIVE},
    "resume": {S.POSTPONED},
    "withdraw": {S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED,
                 S.AWAITING_DELIBERATION},
    # The effects of a musyawarah decision, performed by the system.
    "deliberation_reject": {S.AWAITING_DELIBERATION},
    "deliberation_changes": {S.AWAITING_DELIBERATION},
}
EXPECTED_TARGET = {
    "submit": S.SUBMITTED, "start_review": S.IN_REVIEW, "request_changes": S.CHANGES_REQUESTED,
    "approve": S.AWAITING_DELIBERATION, "reject": S.REJECTED, "agree": S.AGREED,
    "sign": S.SIGNED, "activate": S.ACTIVE, "end": S.ENDED, "withdraw": S.WITHDRAWN,
    "postpone": S.POSTPONED, "resume": S.ACTIVE,
    "deliberation_reject": S.REJECTED, "deliberation_changes": S.CHANGES_REQUESTED,
}
#: What each transition needs from the user to succeed once it is allowed.
ARGS = {
    "request_changes": {"points": ["Lengkapi peta jalur pendakian."]},
    "reject": {"points": ["Bertentangan dengan RTRW kabupaten."]},
    "withdraw": {"text": "Musyawarah Desa Dieng membatalkan rencana."},
    "end": {"ground": "a", "text": "Disepakati para pihak."},
    "postpone": {"text": "Musyawarah antar-Desa memutuskan penundaan."},
    "resume": {"text": "Masa penundaan selesai."},
}
#: Without musyawarah records (and signed documents) the gates refuse everyone.
GATES = {
    "agree": "Usulan belum disetujui dalam musyawarah",
    "sign": "Belum ditandatangani oleh",
}
ROLES = ("admin", "sek_party", "sek_other", "bkad_reviewing", "bkad_other", "ketua_bpd",
         "kepala_desa", "auditor")
#: Who reads an antar_desa proposal once it is submitted, and who also reads its drafts.
READS = {"admin", "sek_party", "bkad_reviewing", "ketua_bpd", "kepala_desa", "auditor"}
READS_DRAFTS = {"admin", "sek_party"}
#: Which transitions each role performs on an antar_desa proposal (state and gates aside).
PERFORMS = {
    # Postponing, resuming and ending need a recorded decision (coopdesa.lifecycle).
    "admin": set(TRANSITIONS) - {"postpone", "resume", "end"},
    "sek_party": {"submit", "agree", "withdraw"},
    "sek_other": set(),
    "bkad_reviewing": {"start_review", "request_changes", "approve", "reject"},
    "bkad_other": set(),
    "ketua_bpd": set(),  # reviews third-party proposals only
    "kepala_desa": set(),
    "auditor": set(),
}


def test_state_machine_is_the_documented_one():
    assert set(TRANSITIONS) == set(EXPECTED_SOURCES)
    for name, spec in TRANSITIONS.items():
        assert spec.sources == EXPECTED_SOURCES[name], name
        assert spec.target == EXPECTED_TARGET[name], name
    assert {n for n, t in TRANSITIONS.items() if t.needs_text} == {
        "request_changes", "reject", "end", "withdraw", "deliberation_reject",
        "deliberation_changes", "postpone", "resume"}


def expected_outcome(role: str, name: str, state: State) -> str:
    """"ok", "403", "409" (wrong state) or "gate" (409 with the gate's reason)."""
    visible = role in READS_DRAFTS if state == S.DRAFT else role in READS
    if not visible:
        return "403"
    if state not in EXPECTED_SOURCES[name]:
        return "409"
    if name not in PERFORMS[role]:
        return "403"
    if name in GATES:
        return "gate"
    return "ok"


MATRIX_USERS = {
    "admin": {"role": Role.ADMIN},
    "sek_party": {"role": Role.SEKRETARIS, "desa_code": DIENG},
    "sek_other": {"role": Role.SEKRETARIS, "desa_code": TIENG},
    "bkad_reviewing": {"role": Role.BKAD, "bkad": "reviewing"},
    "bkad_other": {"role": Role.BKAD, "bkad": None},  # set per test: Tieng + Patakbanteng
    "ketua_bpd": {"role": Role.KETUA_BPD, "desa_code": DIENG},
    "kepala_desa": {"role": Role.KEPALA_DESA, "desa_code": DIENG},
    "auditor": {"role": Role.AUDITOR, "jurisdiction_code": KEJAJAR},
}


def _attempt(proposal_id: int, role: str, user, name: str, state: State) -> None:
    """Reset the proposal to ``state`` (setup, committed), then try ``name`` as ``user``
    and check the outcome against the matrix above."""
    db.session.rollback()
    proposal = db.session.get(Proposal, proposal_id)
    H.set_state(proposal, state)
    before = H.counts(proposal_id)
    proposal = db.session.get(Proposal, proposal_id)
    expected = expected_outcome(role, name, state)
    if expected == "ok":
        ops.transition(proposal, user, name, **ARGS.get(name, {}))
        db.session.commit()
        after = H.counts(proposal_id)
        assert after.state == EXPECTED_TARGET[name].value
        assert after.version > before.version
        assert after.audit == before.audit + 1
        last = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last.action == f"proposal.transition.{name}"
        assert last.before == {"state": state.value}
        assert last.after["state"] == EXPECTED_TARGET[name].value
        assert last.user_id == user.id
        assert after.versions == before.versions + (1 if name == "submit" else 0)
        judged = name in ("approve", "request_changes", "reject")
        assert after.reviews == before.reviews + (1 if judged else 0)
        return
    errors = {"403": AccessDenied, "409": ConflictError, "gate": ConflictError}
    with pytest.raises(errors[expected]) as info:
        ops.transition(proposal, user, name, **ARGS.get(name, {}))
    db.session.rollback()
    if expected == "409":
        assert info.value.status == 409
        assert info.value.details["current"]["state"] == state.value
        assert "tidak dapat dilakukan pada usulan berstatus" in info.value.message
    elif expected == "gate":
        assert GATES[name] in info.value.message
        assert info.value.details["current"]["state"] == state.value
    else:
        assert info.value.status == 403 and info.value.message
        assert "current" not in info.value.details  # a refusal tells nothing of the state
    assert H.counts(proposal_id) == before, "a refused transition changed something"


@pytest.mark.parametrize("state", list(State), ids=str)
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_transition_matrix(app, subtests, name, state):
    """Every transition from every state, for every role (one subtest per role)."""
    other_bkad = BkadFactory(desa_codes=[TIENG, PATAKBANTENG])
    proposal_id, users = H.matrix_world({**MATRIX_USERS, "bkad_other": {
        "role": Role.BKAD, "bkad": other_bkad}})
    for role in ROLES:
        with subtests.test(role=role, expected=expected_outcome(role, name, state)):
            _attempt(proposal_id, role, users[role], name, state)


def test_available_transitions_are_those_the_matrix_allows(app):
    """What the pages offer as buttons: exactly the allowed and the gated transitions."""
    other_bkad = BkadFactory(desa_codes=[TIENG, PATAKBANTENG])
    proposal_id, users = H.matrix_world({**MATRIX_USERS, "bkad_other": {
        "role": Role.BKAD, "bkad": other_bkad}})
    proposal = db.session.get(Proposal, proposal_id)
    for state in State:
        proposal.state = state
        for role in ROLES:
            offered = {t.name for t in ops.available_transitions(proposal, users[role])}
            # Postponing, resuming and ending are offered on the status page, after a
            # recorded decision (tests/test_lifecycle.py), never as bare buttons.
            expected = {n for n in TRANSITIONS
                        if expected_outcome(role, n, state) in ("ok", "gate")
                        and n not in ("postpone", "resume", "end")}
            assert offered == expected, (role, state)
    db.session.rollback()


def test_matrix_expectations_cover_every_kind_of_outcome():
    outcomes = {expected_outcome(r, n, s) for r in ROLES for n in TRANSITIONS for s in State}
    assert outcomes == {"ok", "403", "409", "gate"}
    # Admins pass every check but the two gates.
    assert {expected_outcome("admin", n, s) for n in ("agree", "sign")
            for s in EXPECTED_SOURCES[n]} == {"gate"}


def test_stale_action_is_refused_with_the_current_state(app):
    scenario = H.antar_desa(submit=True)
    proposal, reviewer = scenario.proposal, scenario["bkad"]
    ops.transition(proposal, reviewer, "start_review", expected_state="submitted")
    db.session.commit()
    before = H.counts(proposal.id)
    # The author's page still shows "submitted": withdrawing on that basis is refused.
    with pytest.raises(ConflictError) as info:
        ops.transition(proposal, scenario.author, "withdraw", expected_state="submitted",
                       text="Batal.")
    db.session.rollback()
    assert info.value.details["current"] == {"state": "in_review",
                                             "version": before.version}
    assert "Sedang ditelaah" in info.value.message
    assert H.counts(proposal.id) == before


def test_unknown_transition_and_missing_texts_are_refused_by_field(app):
    scenario = H.antar_desa(submit=True)
    proposal, reviewer = scenario.proposal, scenario["bkad"]
    ops.transition(proposal, reviewer, "start_review")
    db.session.commit()
    before = H.counts(proposal.id)
    cases = [
        (scenario.author, "publish", {}, "action"),
        (reviewer, "request_changes", {"points": []}, "points"),
        (reviewer, "request_changes", {"points": ["   ", ""]}, "points"),
        (reviewer, "reject", {"points": None, "text": "alasan di catatan saja"}, "points"),
        (scenario.author, "withdraw", {"text": "  "}, "text"),
    ]
    for user, name, kwargs, field in cases:
        with pytest.raises(ValidationError) as info:
            ops.transition(proposal, user, name, **kwargs)
        db.session.rollback()
        assert field in info.value.fields, (name, info.value.fields)
        assert H.counts(proposal.id) == before


def test_end_needs_a_pasal_147_ground_and_a_past_date(app):
    scenario = H.antar_desa(submit=True)
    proposal = H.set_state(scenario.proposal, State.ACTIVE)
    before = H.counts(proposal.id)
    tomorrow = local_today() + dt.timedelta(days=1)
    for kwargs, field in (({}, "ground"), ({"ground": "z"}, "ground"),
                          ({"ground": "d", "ended_on": "kemarin"}, "ended_on"),
                          ({"ground": "d", "ended_on": tomorrow}, "ended_on")):
        with pytest.raises(ValidationError) as info:
            ops.transition(proposal, None, "end", **kwargs)
        assert field in info.value.fields
        # Refused before anything is set on the object, not only after the rollback.
        assert proposal.end_ground is None and proposal.state == State.ACTIVE
        db.session.rollback()
        assert H.counts(proposal.id) == before
    ops.transition(proposal, None, "end", ground="d", ended_on="2026-01-15",
                   text="Pihak mitra tidak menyetor bagian hasil.")
    db.session.commit()
    proposal = scenario.reload()
    assert proposal.state == State.ENDED
    assert proposal.end_ground == EndGround.D_WANPRESTASI
    assert proposal.ended_on == dt.date(2026, 1, 15)
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.after["ground"] == "d" and entry.after["ended_on"] == "2026-01-15"


def test_a_larger_bkad_sharing_the_villages_reads_but_does_not_review(app):
    """The reviewing BKAD is the smallest covering every party village."""
    scenario = H.antar_desa(submit=True)
    larger = BkadFactory(desa_codes=[DIENG, SEMBUNGAN, PATAKBANTENG])
    member = UserFactory(role=Role.BKAD, bkad=larger)
    proposal = scenario.proposal
    assert proposal.bkad_id == scenario.bkad.id
    assert ops.available_transitions(proposal, member) == []
    before = H.counts(proposal.id)
    with pytest.raises(AccessDenied, match="BKAD lain"):
        ops.transition(proposal, member, "start_review")
    db.session.rollback()
    assert H.counts(proposal.id) == before
    assert [t.name for t in ops.available_transitions(proposal, scenario["bkad"])] == [
        "start_review"]


def test_signed_states_are_those_reached_by_signing_and_never_left():
    """Pages skip looking for disputes, addenda and changes of status outside
    SIGNED_STATES: that is only right if signing leads into them and nothing leads out."""
    reached = {State.SIGNED}
    while True:
        more = {t.target for t in TRANSITIONS.values() if t.sources & reached} - reached
        if not more:
            break
        reached |= more
    assert reached == SIGNED_STATES
    into = {t.name for t in TRANSITIONS.values()
            if t.target in SIGNED_STATES and not t.sources <= SIGNED_STATES}
    assert into == {"sign"}


def test_reviewer_bkad_is_the_smallest_covering_bkad_then_the_oldest(app):
    scenario = H.antar_desa()
    proposal = scenario.proposal
    assert ops.reviewer_bkad(proposal) == scenario.bkad
    BkadFactory(desa_codes=[DIENG, SEMBUNGAN, PATAKBANTENG])  # larger: never chosen
    BkadFactory(desa_codes=[DIENG, TIENG])  # does not hold every party village
    assert ops.reviewer_bkad(proposal) == scenario.bkad
    same_size = BkadFactory(desa_codes=[SEMBUNGAN, DIENG])
    assert same_size.id > scenario.bkad.id
    assert ops.reviewer_bkad(proposal) == scenario.bkad  # equal size: the lower id


def test_inactive_reviewer_is_refused(app):
    scenario = H.antar_desa(submit=True)
    reviewer = scenario["bkad"]
    reviewer.is_active_account = False
    db.session.commit()
    with pytest.raises(AccessDenied, match="dinonaktifkan"):
        ops.transition(scenario.proposal, reviewer, "start_review")
    db.session.rollback()
    assert scenario.reload().state == State.SUBMITTED


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_the_system_performs_only_the_clock_and_gated_steps(app, name):
    """``user=None`` is the clock (flask coopdesa lifecycle): it may activate and end, and
    would agree or sign once the gates are satisfied; nothing an author or reviewer does."""
    scenario = H.antar_desa(submit=True)
    source = sorted(EXPECTED_SOURCES[name])[0]
    proposal = H.set_state(scenario.proposal, source)
    before = H.counts(proposal.id)
    if name in ("activate", "end", "deliberation_reject", "deliberation_changes",
                "postpone", "resume"):
        ops.transition(proposal, None, name, **ARGS.get(name, {}))
        db.session.commit()
        assert scenario.reload().state == EXPECTED_TARGET[name]
        entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.user_id, entry.actor_label) == (None, "sistem")
        return
    expected = ConflictError if name in GATES else AccessDenied
    with pytest.raises(expected) as info:
        ops.transition(proposal, None, name, **ARGS.get(name, {}))
    db.session.rollback()
    if name in GATES:
        assert GATES[name] in info.value.message
    assert H.counts(proposal.id) == before


# --- third-party review -------------------------------------------------------------------

@pytest.fixture
def reviewer_role(app):
    """Set THIRD_PARTY_REVIEWER_ROLE for one test and restore it afterwards."""
    original = app.config.get("THIRD_PARTY_REVIEWER_ROLE")

    def set_role(value: str) -> None:
        app.config["THIRD_PARTY_REVIEWER_ROLE"] = value

    yield set_role
    app.config["THIRD_PARTY_REVIEWER_ROLE"] = original


def _review_round(scenario: H.Scenario, reviewer, refused) -> None:
    proposal = scenario.proposal
    before = H.counts(proposal.id)
    for name in ("start_review",):
        with pytest.raises(AccessDenied) as info:
            ops.transition(proposal, refused, name)
        db.session.rollback()
        assert H.counts(proposal.id) == before
    ops.transition(proposal, reviewer, "start_review")
    db.session.commit()
    for name, kwargs in (("approve", {}), ("request_changes", ARGS["request_changes"]),
                         ("reject", ARGS["reject"])):
        with pytest.raises(AccessDenied) as info:
            ops.transition(proposal, refused, name, **kwargs)
        db.session.rollback()
        assert "ditelaah oleh" in info.value.message
    ops.transition(proposal, reviewer, "approve", text="Layak dimusyawarahkan.")
    db.session.commit()
    review = db.session.scalars(sa.select(ProposalReview)).one()
    assert review.reviewer_id == reviewer.id and review.judgment == Judgment.APPROVE
    assert scenario.reload().state == State.AWAITING_DELIBERATION


def test_third_party_review_by_ketua_bpd_by_default(app, reviewer_role):
    assert app.config["THIRD_PARTY_REVIEWER_ROLE"] == "ketua_bpd"
    scenario = H.pihak_ketiga(submit=True)
    _review_round(scenario, scenario["ketua_bpd"], scenario["kepala_desa"])
    # The message names the configured role.
    assert "Ketua BPD" in ops._performer_refusal(
        scenario["kepala_desa"], scenario.proposal, TRANSITIONS["approve"])


def test_third_party_review_by_kepala_desa_when_configured(app, reviewer_role):
    reviewer_role("kepala_desa")
    scenario = H.pihak_ketiga(submit=True)
    _review_round(scenario, scenario["kepala_desa"], scenario["ketua_bpd"])


def test_third_party_reviewer_of_another_village_and_bkad_are_refused(app, reviewer_role):
    scenario = H.pihak_ketiga(submit=True)
    tieng_bpd = UserFactory(role=Role.KETUA_BPD, desa_code=TIENG)
    bkad_member = UserFactory(role=Role.BKAD, bkad=BkadFactory(desa_codes=[DIENG, SEMBUNGAN]))
    for user in (tieng_bpd, bkad_member, scenario.author):
        with pytest.raises(AccessDenied):
            ops.transition(scenario.proposal, user, "start_review")
        db.session.rollback()
    assert scenario.reload().state == State.SUBMITTED


def test_third_party_reviewers_are_notified_per_configuration(app, reviewer_role):
    scenario = H.pihak_ketiga(submit=False)
    reviewer_role("kepala_desa")
    ops.transition(scenario.proposal, scenario.author, "submit")
    db.session.commit()
    notified = set(db.session.scalars(sa.select(Notification.user_id)))
    assert notified == {scenario["kepala_desa"].id}


# --- the clock ----------------------------------------------------------------------------

def _agreement(state: State, start: dt.date, end: dt.date, title: str,
               like: H.Scenario | None = None) -> Proposal:
    scenario = H.antar_desa(submit=True, title=title, like=like)
    proposal = scenario.proposal
    proposal.start_date, proposal.end_date = start, end
    proposal.state = state
    db.session.commit()
    return proposal


def test_run_lifecycle_activates_and_ends_idempotently(app):
    today = local_today()
    day = dt.timedelta(days=1)
    world = H.antar_desa(submit=True, title="Draf lain")
    starting = _agreement(State.SIGNED, today, today + 365 * day, "Mulai hari ini", world)
    later = _agreement(State.SIGNED, today + day, today + 365 * day, "Mulai besok", world)
    expiring = _agreement(State.ACTIVE, today - 400 * day, today - day, "Berakhir kemarin",
                          world)
    last_day = _agreement(State.ACTIVE, today - 400 * day, today, "Hari terakhir", world)
    agreed = _agreement(State.AGREED, today - 10 * day, today + 10 * day,
                        "Belum ditandatangani", world)
    ids = {p.id: p.title for p in (starting, later, expiring, last_day, agreed)}
    audit_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))

    # The network result of the kabupaten is refreshed after the agreements changed.
    assert ops.run_lifecycle() == {"activated": 1, "ended": 1, "changes_applied": 0,
                                  "resumed": 0, "network_refreshed": 1}
    db.session.commit()
    states = {p.title: p.state for p in (db.session.get(Proposal, i) for i in ids)}
    assert states == {"Mulai hari ini": State.ACTIVE, "Mulai besok": State.SIGNED,
                      "Berakhir kemarin": State.ENDED, "Hari terakhir": State.ACTIVE,
                      "Belum ditandatangani": State.AGREED}
    ended = db.session.get(Proposal, expiring.id)
    assert ended.end_ground == EndGround.I_JANGKA_WAKTU
    assert ended.ended_on == today
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.id > audit_before).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["proposal.transition.activate",
                                           "proposal.transition.end"]
    assert {e.actor_label for e in entries} == {"sistem"}
    assert all(e.user_id is None for e in entries)

    assert ops.run_lifecycle() == {"activated": 0, "ended": 0, "changes_applied": 0,
                                  "resumed": 0, "network_refreshed": 0}
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == \
        audit_before + 2
    assert verify_chain().ok


def test_run_lifecycle_with_a_given_day(app):
    """``flask coopdesa lifecycle --today``: the clock's day, also in the future."""
    today = local_today()
    proposal = _agreement(State.SIGNED, today + dt.timedelta(days=30),
                          today + dt.timedelta(days=100), "Nanti")
    zero = {"changes_applied": 0, "resumed": 0, "network_refreshed": 1}
    assert ops.run_lifecycle(today + dt.timedelta(days=29)) == {"activated": 0, "ended": 0,
                                                               **zero}
    assert ops.run_lifecycle(today + dt.timedelta(days=30)) == {"activated": 1, "ended": 0,
                                                               **zero}
    # A signed agreement whose whole term passed unnoticed starts and ends in one run.
    missed = _agreement(State.SIGNED, today - dt.timedelta(days=90),
                        today - dt.timedelta(days=30), "Terlewat")
    result = ops.run_lifecycle(today + dt.timedelta(days=200))
    assert result == {"activated": 1, "ended": 2,
                                                                **zero}
    assert db.session.get(Proposal, missed.id).state == State.ENDED
    db.session.commit()
    proposal = db.session.get(Proposal, proposal.id)
    assert proposal.state == State.ENDED
    assert proposal.ended_on == today + dt.timedelta(days=101)  # the day after the term


# --- notifications ------------------------------------------------------------------------

def _notices() -> list[tuple[int, str]]:
    rows = db.session.execute(sa.select(Notification.user_id, Notification.key))
    return sorted(tuple(row) for row in rows)


def test_notify_transition_targets(app):
    scenario = H.antar_desa(submit=False)
    proposal, author = scenario.proposal, scenario.author
    sembungan = scenario[f"sek:{SEMBUNGAN}"]
    reviewer = scenario["bkad"]
    second_reviewer = UserFactory(role=Role.BKAD, bkad=scenario.bkad)
    UserFactory(role=Role.BKAD, bkad=scenario.bkad, is_active_account=False)
    db.session.execute(sa.delete(Notification))

    ops.transition(proposal, author, "submit")
    db.session.commit()
    notified = {uid for uid, _key in _notices()}
    assert notified == {reviewer.id, second_reviewer.id}  # reviewers, not the author

    db.session.execute(sa.delete(Notification))
    ops.transition(proposal, reviewer, "start_review")
    ops.transition(proposal, reviewer, "request_changes", points=["Perbaiki peta."])
    db.session.commit()
    by_user: dict[int, list[str]] = {}
    for uid, key in _notices():
        by_user.setdefault(uid, []).append(key.split(":")[2])
    # Both party secretaries hear of the review; the acting reviewer never does.
    assert set(by_user) == {author.id, sembungan.id}
    assert sorted(by_user[author.id]) == ["request_changes", "start_review"]
    message = db.session.scalars(sa.select(Notification.message).where(
        Notification.key.like(f"t:{proposal.id}:request_changes:%"))).first()
    assert proposal.ref in message and "perlu diperbaiki" in message

    # The same event twice (same version) is noted once.
    db.session.execute(sa.delete(Notification))
    notify_transition(proposal, "request_changes", reviewer)
    notify_transition(proposal, "request_changes", reviewer)
    db.session.flush()
    assert len(_notices()) == 2

    # Withdrawing notifies the other party and the reviewers, never the author who acted.
    db.session.execute(sa.delete(Notification))
    ops.transition(proposal, author, "withdraw", text="Batal.")
    db.session.commit()
    assert {uid for uid, _key in _notices()} == {sembungan.id, reviewer.id,
                                                 second_reviewer.id}


def test_remind_awaiting_actions_and_endings_idempotently(app, reviewer_role):
    today = local_today()
    waiting_review = H.antar_desa(submit=True, title="Menunggu telaah")
    changes = H.antar_desa(submit=True, title="Perlu perbaikan", like=waiting_review)
    ops.transition(changes.proposal, changes["bkad"], "start_review")
    ops.transition(changes.proposal, changes["bkad"], "request_changes", points=["Peta."])
    ending_soon = _agreement(State.ACTIVE, today - dt.timedelta(days=300),
                             today + dt.timedelta(days=20), "Berakhir 20 hari", waiting_review)
    ending_later = _agreement(State.ACTIVE, today - dt.timedelta(days=300),
                              today + dt.timedelta(days=60), "Berakhir 60 hari",
                              waiting_review)
    far = _agreement(State.ACTIVE, today - dt.timedelta(days=300),
                     today + dt.timedelta(days=200), "Berakhir 200 hari", waiting_review)
    third = H.pihak_ketiga(submit=True, title="Pihak ketiga menunggu")
    db.session.execute(sa.delete(Notification))
    db.session.commit()

    first = remind(today)
    db.session.commit()
    keys = {key for _uid, key in _notices()}
    # Awaiting: the BKAD of the submitted one, the authors of the one sent back, the
    # third-party reviewer (Ketua BPD); no reminder for the far or the agreed.
    assert f"a:{waiting_review.proposal.id}:submitted:{waiting_review.proposal.version}" in keys
    awaiting_users = {uid for uid, key in _notices() if key.startswith("a:")}
    assert waiting_review["bkad"].id in awaiting_users
    assert changes.author.id in awaiting_users
    assert third["ketua_bpd"].id in awaiting_users
    assert third["kepala_desa"].id not in awaiting_users
    ending_keys = {key for key in keys if key.startswith("e")}
    # One notice per window: the one already within 30 days gets only the 30-day notice.
    assert ending_keys == {f"e30:{ending_soon.id}", f"e90:{ending_later.id}"}
    assert f"e90:{far.id}" not in keys
    assert first["awaiting"] > 0 and first["ending"] > 0 and first["emailed"] == 0

    second = remind(today)
    db.session.commit()
    assert {k: second[k] for k in ("awaiting", "ending", "emailed")} == {
        "awaiting": 0, "ending": 0, "emailed": 0}
    assert not any(second.values())  # the other areas' reminders are idempotent too
    assert {key for _uid, key in _notices()} == keys

    # A later change of state is a new thing to act on.
    ops.transition(waiting_review.proposal, waiting_review["bkad"], "start_review")
    db.session.commit()
    assert remind(today)["awaiting"] >= 1


def test_admin_sees_every_review_waiting(app):
    scenario = H.antar_desa(submit=True)
    admin = AdminFactory()
    db.session.execute(sa.delete(Notification))
    remind()
    db.session.commit()
    assert any(uid == admin.id for uid, _ in _notices())
    assert scenario.proposal.state == State.SUBMITTED


def test_full_walk_with_a_change_request_keeps_every_record(app):
    """draft -> submitted -> in_review -> changes_requested -> submitted -> in_review ->
    awaiting_deliberation, then the gate holds."""
    scenario = H.antar_desa(submit=False)
    proposal, author, reviewer = scenario.proposal, scenario.author, scenario["bkad"]
    ops.transition(proposal, author, "submit")
    ops.transition(proposal, reviewer, "start_review")
    ops.transition(proposal, reviewer, "request_changes",
                   points=["Tambahkan peta jalur.", "Rinci pembagian hasil."])
    db.session.commit()
    ops.update_sections(proposal, author, {"ruang_lingkup": "Loket, jalur dan peta jalur."},
                        expected_version=proposal.version)
    ops.transition(proposal, author, "submit")
    ops.transition(proposal, reviewer, "start_review")
    ops.transition(proposal, reviewer, "approve")
    db.session.commit()
    assert scenario.reload().state == State.AWAITING_DELIBERATION
    versions = db.session.scalars(sa.select(ProposalVersion).order_by(
        ProposalVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[1].snapshot["ruang_lingkup"] == "Loket, jalur dan peta jalur."
    reviews = db.session.scalars(sa.select(ProposalReview).order_by(ProposalReview.id)).all()
    assert [(r.judgment, r.version_number) for r in reviews] == [
        (Judgment.REQUEST_CHANGES, 1), (Judgment.APPROVE, 2)]
    assert reviews[0].points == ["Tambahkan peta jalur.", "Rinci pembagian hasil."]
    with pytest.raises(ConflictError, match=GATES["agree"]):
        ops.transition(proposal, author, "agree")
    db.session.rollback()
    assert H.audit_actions(proposal.id)[-7:] == [
        "proposal.transition.submit", "proposal.transition.start_review",
        "proposal.transition.request_changes", "proposal.update",
        "proposal.transition.submit", "proposal.transition.start_review",
        "proposal.transition.approve"]
    assert verify_chain().ok
