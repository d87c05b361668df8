"""Sustainability pages: assessments, the stakeholder map, the criteria (admin), and the
panel on the proposal page. Handlers load, check access, call
sustainability.operations and commit once."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action, AssessmentOf, StakeholderMapOf
from coopdesa.accounts.views import form_errors_from
from coopdesa.actors.models import KIND_LABELS
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.models import Proposal
from coopdesa.proposals.views import detail_panel
from coopdesa.sustainability import operations as ops
from coopdesa.sustainability.forms import (
    APPLIES_LABELS,
    BLANK_ROWS,
    CriterionForm,
    parse_assessment,
    parse_stakeholders,
)
from coopdesa.sustainability.models import (
    MAPPING_QUESTIONS,
    STAKEHOLDER_ROLE_LABELS,
    Answer,
    StakeholderRole,
)

bp = Blueprint("sustainability", __name__, url_prefix="/keberlanjutan")

VERDICT_BADGES = {"pass": "success", "pass_with_conditions": "warning", "fail": "danger"}


def _proposal(proposal_id: int, action: Action, target=AssessmentOf) -> Proposal:
    """The proposal if readable (else 404, as if missing), and the act allowed (else 403)."""
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    access.require(current_user, action, target(proposal))
    return proposal


def _common() -> dict[str, Any]:
    return {"verdict_badges": VERDICT_BADGES, "score_labels": ops.score_labels()}


# --- panel on the proposal page ------------------------------------------------------------

@detail_panel
def proposal_panel(proposal: Proposal, user) -> tuple[str, dict[str, Any]] | None:
    if not access.can(user, Action.VIEW, AssessmentOf(proposal)):
        return None
    assessments = ops.assessments_of(proposal)  # newest first
    return "sustainability/_panel.html", {
        "latest": assessments[0] if assessments else None,
        "count": len(assessments),
        "can_assess": (proposal.state in ops.ASSESSABLE_STATES
                       and access.can(user, Action.CREATE, AssessmentOf(proposal))),
        "can_map": access.can(user, Action.EDIT, StakeholderMapOf(proposal)),
        "stakeholders": ops.stakeholder_summary(proposal),
        "badges": VERDICT_BADGES,
    }


# --- assessments ---------------------------------------------------------------------------

@bp.route("/usulan/<int:proposal_id>/penilaian")
@login_required
def assessments(proposal_id: int):
    proposal = _proposal(proposal_id, Action.LIST)
    return render_template(
        "sustainability/assessments.html", proposal=proposal,
        assessments=ops.assessments_of(proposal),
        can_assess=(proposal.state in ops.ASSESSABLE_STATES
                    and access.can(current_user, Action.CREATE, AssessmentOf(proposal))),
        **_common())


@bp.route("/usulan/<int:proposal_id>/penilaian/baru", methods=["GET", "POST"])
@login_required
def new_assessment(proposal_id: int):
    proposal = _proposal(proposal_id, Action.CREATE)
    criteria = ops.applicable_criteria(proposal)
    errors: dict[str, list[str]] = {}
    typed: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        answers = parse_assessment(request.form, request.files, [c.code for c in criteria])
        typed = {code: {k: v for k, v in a.items() if k != "attachment"}
                 for code, a in answers.items()}
        try:
            assessment = ops.create_assessment(
                proposal, current_user, answers, request.form.get("signed_name"),
                request.form.get("signed_office"))
        except ValidationError as error:
            db.session.rollback()
            errors, status = error.fields, 422
            flash(error.message, "danger")
        except ConflictError as error:
            db.session.rollback()
            flash(error.message, "warning")
            return redirect(url_for("sustainability.assessments", proposal_id=proposal_id))
        else:
            db.session.commit()
            flash(_("Penilaian keberlanjutan versi %(n)d disimpan: %(verdict)s.",
                    n=assessment.number, verdict=assessment.verdict.label), "success")
            return redirect(url_for("sustainability.assessment", assessment_id=assessment.id))
    previous = ops.latest_assessment(proposal)
    if request.method == "GET" and previous is not None:
        # Start from the latest assessment: the assessor changes what has changed.
        typed = {a.criterion.code: {"score": str(a.score), "evidence": a.evidence or "",
                                    "mitigation": a.mitigation or ""}
                 for a in previous.answers}
    signed = {"name": request.form.get("signed_name", current_user.full_name),
              "office": request.form.get("signed_office", "")}
    return render_template(
        "sustainability/new.html", proposal=proposal, groups=ops.grouped(criteria),
        errors=errors, typed=typed, signed=signed, previous=previous, **_common()), status


def _readable_assessment(assessment_id: int):
    assessment = ops.get_assessment(assessment_id)
    if not access.can(current_user, Action.VIEW, AssessmentOf(assessment.proposal)):
        raise NotFoundError(_("Penilaian keberlanjutan tidak ditemukan."))
    return assessment


@bp.route("/penilaian/<int:assessment_id>")
@login_required
def assessment(assessment_id: int):
    item = _readable_assessment(assessment_id)
    return render_template("sustainability/assessment.html", assessment=item,
                           proposal=item.proposal, **_common())


@bp.route("/penilaian/<int:assessment_id>/lampiran/<int:answer_id>")
@login_required
def attachment(assessment_id: int, answer_id: int):
    item = _readable_assessment(assessment_id)
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.assessment_id != item.id or answer.attachment is None:
        raise NotFoundError(_("Lampiran tidak ditemukan."))
    stored = answer.attachment
    from coopdesa.files import storage

    return Response(storage.read(stored), mimetype=stored.content_type, headers={
        "Content-Disposition": f'attachment; filename="{stored.name}"'})


# --- stakeholder map -----------------------------------------------------------------------

def _rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(entries) + [{"actor_id": None, "name": "", "group_kind": "", "roles": [],
                             "notes": ""} for _i in range(BLANK_ROWS)]


@bp.route("/usulan/<int:proposal_id>/pemangku", methods=["GET", "POST"])
@login_required
def stakeholders(proposal_id: int):
    proposal = _proposal(proposal_id, Action.VIEW, StakeholderMapOf)
    can_edit = access.can(current_user, Action.EDIT, StakeholderMapOf(proposal))
    data = ops.stakeholder_dict(proposal)
    errors: dict[str, list[str]] = {}
    current = None
    status = 200
    answers, rows, version = data["answers"], _rows(data["entries"]), data["version"]
    if request.method == "POST":
        access.require(current_user, Action.EDIT, StakeholderMapOf(proposal))
        answers, entries, _rows_posted = parse_stakeholders(request.form,
                                                           len(MAPPING_QUESTIONS))
        rows = _rows(entries)
        raw_version = request.form.get("version", "")
        try:
            expected = int(raw_version) if raw_version.isdigit() else None
            ops.save_stakeholder_map(proposal, current_user, answers, entries, expected)
        except ConflictError as error:
            db.session.rollback()
            flash(error.message, "warning")
            current = ops.stakeholder_summary(proposal)
            version, status = current["version"], 409  # the next save applies to it
        except ValidationError as error:
            db.session.rollback()
            flash(error.message, "danger")
            status = 422
            # The page shows the posted non-blank entries in order, so "entries.3.name"
            # names the fourth row of the page again.
            errors = error.fields
        else:
            db.session.commit()
            flash(_("Pemetaan pemangku kepentingan disimpan."), "success")
            return redirect(url_for("proposals.detail", proposal_id=proposal.id)
                            + "#keberlanjutan")
    return render_template(
        "sustainability/stakeholders.html", proposal=proposal, can_edit=can_edit,
        questions=[str(q) for q in MAPPING_QUESTIONS], answers=answers, rows=rows,
        version=version, errors=errors, current=current,
        summary=ops.stakeholder_summary(proposal) if not can_edit else None,
        kinds=[(k.value, KIND_LABELS[k]) for k in ops.GROUP_KINDS],
        roles=[(r.value, STAKEHOLDER_ROLE_LABELS[r]) for r in StakeholderRole]), status


# --- criteria (admin) ----------------------------------------------------------------------

@bp.route("/kriteria")
@login_required
def criteria():
    access.require(current_user, Action.MANAGE, "criterion")
    return render_template("sustainability/criteria.html", criteria=ops.all_criteria(),
                           applies_labels=APPLIES_LABELS)


@bp.route("/kriteria/baru", methods=["GET", "POST"])
@bp.route("/kriteria/<int:criterion_id>/ubah", methods=["GET", "POST"])
@login_required
def criterion_form(criterion_id: int | None = None):
    criterion = ops.get_criterion(criterion_id) if criterion_id is not None else None
    access.require(current_user, Action.EDIT if criterion else Action.CREATE, "criterion")
    form = CriterionForm(obj=criterion) if request.method == "GET" else CriterionForm()
    if request.method == "GET" and criterion is not None:
        form.dimension.data = criterion.dimension.value
        form.applies_to.data = criterion.applies_to.value
    status = 200
    if form.validate_on_submit():
        try:
            if criterion is None:
                criterion = ops.create_criterion(current_user, form.values())
            else:
                ops.update_criterion(current_user, criterion, form.values())
        except ValidationError as error:
            db.session.rollback()
            criterion = ops.get_criterion(criterion_id) if criterion_id is not None else None
            form_errors_from(form, error)
            status = 422
        else:
            db.session.commit()
            flash(_("Kriteria %(code)s disimpan.", code=criterion.code), "success")
            return redirect(url_for("sustainability.criteria"))
    elif request.method == "POST":
        status = 422
    return render_template("sustainability/criterion_form.html", form=form,
                           criterion=criterion), status


@bp.route("/kriteria/<int:criterion_id>/aktif", methods=["POST"])
@login_required
def criterion_toggle(criterion_id: int):
    criterion = ops.get_criterion(criterion_id)
    access.require(current_user, Action.EDIT, "criterion")
    ops.update_criterion(current_user, criterion, {"is_active": not criterion.is_active})
    db.session.commit()
    flash(_("Kriteria %(code)s diaktifkan.", code=criterion.code) if criterion.is_active
          else _("Kriteria %(code)s dinonaktifkan.", code=criterion.code), "success")
    return redirect(url_for("sustainability.criteria"))
