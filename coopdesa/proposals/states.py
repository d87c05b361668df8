"""The proposal lifecycle: states, the transitions between them, and pluggable guards.

draft -> submitted -> in_review -> changes_requested -> (resubmitted) -> submitted ...
in_review -> awaiting_deliberation -> agreed -> signed -> active -> ended
active -> postponed -> active (a deliberated penundaan and its end; coopdesa.lifecycle)
in_review -> rejected; draft/submitted/in_review/changes_requested/awaiting_deliberation
-> withdrawn. ``agree`` waits for the deliberation gates and ``sign`` for the document
step; their guards are registered by those areas with :func:`add_guard`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from coopdesa.proposals.models import Proposal


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    AWAITING_DELIBERATION = "awaiting_deliberation"
    AGREED = "agreed"
    SIGNED = "signed"
    ACTIVE = "active"
    POSTPONED = "postponed"
    ENDED = "ended"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])

    @property
    def badge(self) -> str:
        return STATE_BADGES.get(self, "secondary")


STATE_LABELS = {
    State.DRAFT: _l("Draf"),
    State.SUBMITTED: _l("Diajukan"),
    State.IN_REVIEW: _l("Sedang ditelaah"),
    State.CHANGES_REQUESTED: _l("Perlu perbaikan"),
    State.AWAITING_DELIBERATION: _l("Menunggu musyawarah"),
    State.AGREED: _l("Disepakati"),
    State.SIGNED: _l("Ditandatangani"),
    State.ACTIVE: _l("Berlaku"),
    State.POSTPONED: _l("Ditunda"),
    State.ENDED: _l("Berakhir"),
    State.REJECTED: _l("Ditolak"),
    State.WITHDRAWN: _l("Ditarik"),
}
STATE_BADGES = {
    State.DRAFT: "secondary",
    State.SUBMITTED: "info",
    State.IN_REVIEW: "primary",
    State.CHANGES_REQUESTED: "warning",
    State.AWAITING_DELIBERATION: "primary",
    State.AGREED: "success",
    State.SIGNED: "success",
    State.ACTIVE: "success",
    State.POSTPONED: "warning",
    State.ENDED: "dark",
    State.REJECTED: "danger",
    State.WITHDRAWN: "dark",
}
#: States whose content the authors may still edit.
EDITABLE_STATES = frozenset({State.DRAFT, State.CHANGES_REQUESTED})
#: States after which the proposal is an agreement (in force or finished).
FINAL_STATES = frozenset({State.ENDED, State.REJECTED, State.WITHDRAWN})
#: The states of an agreement that has been signed: ``sign`` leads into them and nothing
#: leads back out (tested against TRANSITIONS). Only these can have a dispute, an addendum
#: or a change of status, so pages skip looking for those on any other proposal.
SIGNED_STATES = frozenset({State.SIGNED, State.ACTIVE, State.POSTPONED, State.ENDED})


class Performer(enum.StrEnum):
    """Who performs a transition; the access module maps users onto these."""

    AUTHOR = "author"  # a secretary of a party village
    REVIEWER = "reviewer"  # the BKAD (antar_desa) or the village's reviewer (pihak_ketiga)
    SYSTEM = "system"  # gates satisfied by records (musyawarah, signatures), or the clock
    ADMIN = "admin"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[State]
    target: State
    performers: frozenset[Performer]
    label: object
    #: Whether the user must give a text (reasons, points) with the action.
    needs_text: bool = False


def _t(name, sources, target, performers, label, needs_text=False) -> Transition:
    return Transition(name, frozenset(sources), target, frozenset(performers), label,
                      needs_text)


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    _t("submit", {State.DRAFT, State.CHANGES_REQUESTED}, State.SUBMITTED,
       {Performer.AUTHOR}, _l("Ajukan untuk ditelaah")),
    _t("start_review", {State.SUBMITTED}, State.IN_REVIEW, {Performer.REVIEWER},
       _l("Mulai telaah")),
    _t("request_changes", {State.IN_REVIEW}, State.CHANGES_REQUESTED, {Performer.REVIEWER},
       _l("Minta perbaikan"), needs_text=True),
    _t("approve", {State.IN_REVIEW}, State.AWAITING_DELIBERATION, {Performer.REVIEWER},
       _l("Setujui untuk dimusyawarahkan")),
    _t("reject", {State.IN_REVIEW}, State.REJECTED, {Performer.REVIEWER}, _l("Tolak"),
       needs_text=True),
    _t("agree", {State.AWAITING_DELIBERATION}, State.AGREED, {Performer.AUTHOR, Performer.SYSTEM},
       _l("Tetapkan sebagai disepakati")),
    _t("sign", {State.AGREED}, State.SIGNED, {Performer.SYSTEM}, _l("Tandai ditandatangani")),
    _t("activate", {State.SIGNED}, State.ACTIVE, {Performer.SYSTEM}, _l("Mulai berlaku")),
    # Postponement and its end follow a deliberated decision (coopdesa.lifecycle).
    _t("postpone", {State.ACTIVE}, State.POSTPONED, {Performer.SYSTEM},
       _l("Tunda pelaksanaan kerja sama"), needs_text=True),
    _t("resume", {State.POSTPONED}, State.ACTIVE, {Performer.SYSTEM},
       _l("Lanjutkan pelaksanaan kerja sama"), needs_text=True),
    # Ending is the effect of the clock (huruf i) or of a deliberated decision recorded
    # through coopdesa.lifecycle (PP 43/2014 Pasal 145-147), never a bare click.
    _t("end", {State.ACTIVE, State.POSTPONED}, State.ENDED, {Performer.SYSTEM},
       _l("Akhiri kerja sama"), needs_text=True),
    _t("withdraw", {State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED,
                    State.AWAITING_DELIBERATION}, State.WITHDRAWN, {Performer.AUTHOR},
       _l("Tarik usulan"), needs_text=True),
    # The effects of a musyawarah decision (coopdesa.deliberations.operations).
    _t("deliberation_reject", {State.AWAITING_DELIBERATION}, State.REJECTED,
       {Performer.SYSTEM}, _l("Ditolak dalam musyawarah"), needs_text=True),
    _t("deliberation_changes", {State.AWAITING_DELIBERATION}, State.CHANGES_REQUESTED,
       {Performer.SYSTEM}, _l("Disepakati musyawarah dengan perubahan"), needs_text=True),
)}

Guard = Callable[["Proposal"], "str | None"]
_GUARDS: dict[str, list[Guard]] = {name: [] for name in TRANSITIONS}


def add_guard(transition: str, guard: Guard) -> Guard:
    """Register a check that must pass (return None) before ``transition`` happens; it
    returns the reason in plain words when it does not."""
    _GUARDS[transition].append(guard)
    return guard


def guards(transition: str) -> list[Guard]:
    return list(_GUARDS[transition])


def allowed_from(state: State) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources]
