"""Pages for an agreement in force: its status, change requests with their deliberated
decisions, addenda, and ending when the term has expired (PP 43/2014 Pasal 145-147)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action
from coopdesa.errors import DomainError, NotFoundError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.lifecycle import operations as ops
from coopdesa.lifecycle.forms import ChangeRequestForm, ConfirmForm, DecisionForm, WithdrawForm
from coopdesa.lifecycle.models import AgreementChange, ChangeKind, ChangeState
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.models import Proposal
from coopdesa.proposals.states import SIGNED_STATES, State
from coopdesa.proposals.views import detail_alert, detail_panel, place_errors

bp = Blueprint("lifecycle", __name__, url_prefix="/kerja-sama")

#: States in which an agreement's page shows its life after signing.
SHOWN = frozenset({State.SIGNED, State.ACTIVE, State.POSTPONED, State.ENDED})


def _load(proposal_id: int) -> Proposal:
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _change(proposal: Proposal, change_id: int) -> AgreementChange:
    change = ops.get_change(change_id)
    if change.proposal_id != proposal.id:
        raise NotFoundError(_("Permohonan perubahan status tidak ditemukan."))
    return change


def _may_record(proposal: Proposal) -> bool:
    return access.can(current_user, Action.CREATE, ops.ChangesOf(proposal))


# --- on the proposal page ------------------------------------------------------------------

@detail_panel
def _panel(proposal: Proposal, user: Any):
    if proposal.amends_id is None and proposal.state not in SHOWN:
        return None
    root = ops.root_of(proposal)
    return "lifecycle/_panel.html", {
        "proposal": proposal, "root": root, "addenda": ops.addenda_of(root),
        "changes": ops.changes_of(root)[:5], "effective_end": ops.effective_end(root),
        "is_addendum": proposal.amends_id is not None,
        "label": ops.amendment_label(proposal) if proposal.amends_id else None}


@detail_alert
def _alert(proposal: Proposal, user: Any):
    if proposal.amends_id is None and proposal.state not in SIGNED_STATES:
        return None  # no addendum, postponement or change of status before signing
    notes: list[tuple[str, str, str | None]] = []
    if proposal.amends_id is not None:
        notes.append(("info", _("%(label)s atas kerja sama %(ref)s \u201c%(title)s\u201d.",
                                label=ops.amendment_label(proposal), ref=proposal.amends.ref,
                                title=proposal.amends.title),
                      url_for("proposals.detail", proposal_id=proposal.amends_id)))
    else:
        for addendum in ops.addenda_in_force(proposal):
            notes.append(("info", _("Kerja sama ini telah diubah dengan %(label)s (%(ref)s).",
                                    label=ops.amendment_label(addendum), ref=addendum.ref),
                          url_for("proposals.detail", proposal_id=addendum.id)))
    if proposal.state == State.POSTPONED:
        notes.append(("warning", _("Pelaksanaan kerja sama ini sedang ditunda berdasarkan "
                                   "keputusan musyawarah para pihak."),
                      url_for("lifecycle.index", proposal_id=ops.root_of(proposal).id)))
    pending = ops.open_change(proposal) if proposal.amends_id is None else None
    if pending is not None and pending.state == ChangeState.APPROVED:
        notes.append(("warning", _("%(kind)s telah disepakati dan berlaku mulai %(day)s.",
                                   kind=pending.kind.label, day=pending.effective_on.isoformat()),
                      url_for("lifecycle.change", proposal_id=proposal.id,
                              change_id=pending.id)))
    elif pending is not None:
        notes.append(("info", _("Permohonan %(kind)s menunggu musyawarah para pihak.",
                                kind=pending.kind.label.lower()),
                      url_for("lifecycle.change", proposal_id=proposal.id,
                              change_id=pending.id)))
    return ("lifecycle/_alert.html", {"notes": notes}) if notes else None


# --- the status page -----------------------------------------------------------------------

def _render_index(proposal: Proposal, *, form: ChangeRequestForm | None = None,
                  status: int = 200):
    root = ops.root_of(proposal)
    may_record = _may_record(root)
    kinds = [k for k in ChangeKind if ops.request_refusal(root, k) is None]
    if form is None and may_record and kinds:
        form = ChangeRequestForm(formdata=None)
    if form is not None:
        form.kind.choices = [c for c in form.kind.choices
                             if c.value in {k.value for k in kinds}] or form.kind.choices
    end = ops.effective_end(root)
    return render_template(
        "lifecycle/index.html", proposal=root, changes=ops.changes_of(root),
        addenda=ops.addenda_of(root), effective_end=end, may_record=may_record,
        request_form=form if may_record and kinds else None,
        addendum_refusal=ops.addendum_refusal(root),
        may_propose=access.can(current_user, Action.PROPOSE, root),
        may_end_on_expiry=(may_record and root.state in (State.ACTIVE, State.POSTPONED)
                           and end is not None and end < local_today()),
        confirm=ConfirmForm(formdata=None), label=ops.amendment_label), status


@bp.route("/<int:proposal_id>/status-kerja-sama")
@login_required
def index(proposal_id: int):
    return _render_index(_load(proposal_id))


@bp.route("/<int:proposal_id>/status-kerja-sama", methods=["POST"])
@login_required
def request_change(proposal_id: int):
    proposal = _load(proposal_id)
    form = ChangeRequestForm()
    if not form.validate_on_submit():
        return _render_index(proposal, form=form, status=422)
    try:
        change = ops.request_change(proposal, current_user, {
            "kind": form.kind.data, "reason": form.reason.data,
            "end_ground": form.end_ground.data, "replacement_ref": form.replacement_ref.data})
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        return _render_index(_load(proposal_id), form=form, status=error.status)
    db.session.commit()
    flash(_("Permohonan %(kind)s dicatat. Catat keputusannya setelah dimusyawarahkan dengan "
            "semua pihak.", kind=change.kind.label.lower()), "success")
    return redirect(url_for("lifecycle.change", proposal_id=proposal.id, change_id=change.id))


def _representative_rows(proposal: Proposal, change: AgreementChange,
                         typed: dict[str, str] | None) -> list[dict[str, Any]]:
    saved = {r.get("party_id"): r for r in change.representatives or []}
    rows = []
    for party in proposal.parties:
        key = f"rep_{party.id}"
        row = saved.get(party.id, {})
        rows.append({
            "party": party, "key": key,
            "name": (typed or {}).get(f"{key}_name", row.get("name") or ""),
            "office": (typed or {}).get(f"{key}_office", row.get("office") or "")})
    return rows


def _render_change(proposal: Proposal, change: AgreementChange, *,
                   form: DecisionForm | None = None, withdraw: WithdrawForm | None = None,
                   typed: dict[str, str] | None = None,
                   field_errors: dict[str, list[str]] | None = None, status: int = 200):
    may_record = _may_record(proposal) and change.state == ChangeState.REQUESTED
    if form is None and may_record:
        form = DecisionForm(formdata=None, version=change.version)
        form.held_on.data = local_today()
    if withdraw is None and may_record:
        withdraw = WithdrawForm(formdata=None)
    return render_template(
        "lifecycle/change.html", proposal=proposal, change=change,
        form=form if may_record else None, withdraw=withdraw if may_record else None,
        representatives=_representative_rows(proposal, change, typed),
        field_errors=field_errors or {}), status


@bp.route("/<int:proposal_id>/status-kerja-sama/<int:change_id>")
@login_required
def change(proposal_id: int, change_id: int):
    proposal = _load(proposal_id)
    return _render_change(proposal, _change(proposal, change_id))


@bp.route("/<int:proposal_id>/status-kerja-sama/<int:change_id>/keputusan", methods=["POST"])
@login_required
def decide(proposal_id: int, change_id: int):
    proposal = _load(proposal_id)
    item = _change(proposal, change_id)
    form = DecisionForm()
    typed = {k: v for k, v in request.form.items() if k.startswith("rep_")}
    if not form.validate_on_submit():
        return _render_change(proposal, item, form=form, typed=typed, status=422)
    representatives = [{"party_id": p.id, "name": typed.get(f"rep_{p.id}_name"),
                        "office": typed.get(f"rep_{p.id}_office")} for p in proposal.parties]
    try:
        ops.decide_change(item, current_user, {
            "version": form.version.data, "outcome": form.outcome.data,
            "held_on": form.held_on.data, "place": form.place.data,
            "effective_on": form.effective_on.data, "until": form.until.data,
            "decision_note": form.decision_note.data, "representatives": representatives})
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        proposal = _load(proposal_id)
        return _render_change(proposal, _change(proposal, change_id), form=form, typed=typed,
                              field_errors=error.fields, status=error.status)
    db.session.commit()
    item = _change(_load(proposal_id), change_id)
    if item.state == ChangeState.APPLIED:
        flash(_("Keputusan dicatat dan telah berlaku: kerja sama kini berstatus %(state)s.",
                state=item.proposal.state.label), "success")
    elif item.state == ChangeState.APPROVED:
        flash(_("Keputusan dicatat; berlaku mulai %(day)s.",
                day=item.effective_on.isoformat()), "success")
    else:
        flash(_("Keputusan dicatat: permohonan tidak disepakati."), "info")
    return redirect(url_for("lifecycle.change", proposal_id=proposal_id, change_id=change_id))


@bp.route("/<int:proposal_id>/status-kerja-sama/<int:change_id>/tarik", methods=["POST"])
@login_required
def withdraw(proposal_id: int, change_id: int):
    proposal = _load(proposal_id)
    item = _change(proposal, change_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _render_change(proposal, item, withdraw=form, status=422)
    try:
        ops.withdraw_change(item, current_user, form.note.data)
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error, aliases={"note": "note"})
        proposal = _load(proposal_id)
        return _render_change(proposal, _change(proposal, change_id), withdraw=form,
                              status=error.status)
    db.session.commit()
    flash(_("Permohonan ditarik."), "info")
    return redirect(url_for("lifecycle.index", proposal_id=proposal_id))


@bp.route("/<int:proposal_id>/perubahan", methods=["POST"])
@login_required
def start_addendum(proposal_id: int):
    proposal = _load(proposal_id)
    ConfirmForm().validate_on_submit()
    try:
        addendum = ops.start_addendum(proposal, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _render_index(_load(proposal_id), status=error.status)
    db.session.commit()
    flash(_("%(label)s disusun sebagai draf %(ref)s dengan isi kerja sama yang berlaku. Ubah "
            "bagian yang perlu diubah, lalu ajukan untuk ditelaah, dimusyawarahkan dan "
            "ditandatangani.", label=ops.amendment_label(addendum), ref=addendum.ref),
          "success")
    return redirect(url_for("proposals.edit", proposal_id=addendum.id))


@bp.route("/<int:proposal_id>/akhiri-jangka-waktu", methods=["POST"])
@login_required
def end_on_expiry(proposal_id: int):
    proposal = _load(proposal_id)
    ConfirmForm().validate_on_submit()
    try:
        ops.end_on_expiry(proposal, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return _render_index(_load(proposal_id), status=error.status)
    db.session.commit()
    flash(_("Kerja sama diakhiri karena jangka waktunya telah habis (PP 43/2014 Pasal 147 "
            "huruf i)."), "success")
    return redirect(url_for("proposals.detail", proposal_id=proposal_id))
