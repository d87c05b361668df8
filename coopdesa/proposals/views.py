"""The proposal pages: list, draft, edit, read, act on, comment on and compare proposals.

Each handler loads, checks access (coopdesa.access), calls proposals.operations and commits
once; the operations hold every rule (UU 6/2014 Pasal 91-93, PP 43/2014 Pasal 143-148,
Permendagri 96/2017).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts.models import Role
from coopdesa.accounts.views import safe_next
from coopdesa.actors.models import Actor, ActorKind
from coopdesa.db import utcnow
from coopdesa.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    ValidationError,
    json_error,
    wants_json,
)
from coopdesa.extensions import db
from coopdesa.pagecache import cached_page
from coopdesa.proposals import notifications, queries
from coopdesa.proposals import operations as ops
from coopdesa.proposals import sections as S
from coopdesa.proposals.diff import diff_snapshots
from coopdesa.proposals.forms import (
    AddPartyForm,
    CommentEditForm,
    CommentForm,
    ConfirmForm,
    PartyEditForm,
    ProposalCreateForm,
    ProposalEditForm,
    TransitionForm,
    lines,
    options,
)
from coopdesa.proposals.models import (
    BIDANG_LABELS,
    KIND_LABELS,
    Bidang,
    Kind,
    Proposal,
    ProposalComment,
    ProposalReview,
    ProposalVersion,
)
from coopdesa.proposals.states import TRANSITIONS, State
from coopdesa.regions.models import Region
from coopdesa.regions.operations import get_party_village

bp = Blueprint("proposals", __name__, url_prefix="/kerja-sama")

PER_PAGE = 50
#: Empty funding rows offered under each party's existing ones.
BLANK_FUNDING_ROWS = 2
CURRENT = "sekarang"


# --- helpers -------------------------------------------------------------------------------

def _page_number() -> int:
    try:
        return min(max(1, int(request.args.get("halaman", 1))), 10_000)
    except ValueError:
        return 1


def _load(proposal_id: int, action: Action = Action.VIEW) -> Proposal:
    """The proposal, if the user may read it; otherwise the same 404 as a missing one, so
    other villages learn nothing, not even that it exists (as in the API). Acts on a
    proposal the user can read but not act on are refused with the reason (403)."""
    proposal = ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    access.require(current_user, action, proposal)
    return proposal


def place_errors(form, error: DomainError, aliases: dict[str, str] | None = None) -> bool:
    """Put a domain error's field messages on ``form``'s visible fields; flash the message
    when none fits (so that every refusal is explained). Shared by the areas' views."""
    placed = False
    for name, messages in (error.fields or {}).items():
        field = form._fields.get((aliases or {}).get(name, name))
        if field is not None and field.type != "HiddenField":
            field.errors = list(field.errors or []) + list(messages)
            placed = True
    if not placed:
        flash(error.message, "danger")
    return placed


def _actor_choices(blank: str | None = None) -> list:
    """Every third party as a choice: columns, not entities, and one label per kind (a
    province has hundreds of parties, and this list is on every edit page)."""
    rows = db.session.execute(sa.select(Actor.id, Actor.name, Actor.kind)
                              .where(Actor.kind != ActorKind.DESA).order_by(Actor.name))
    kinds: dict[ActorKind, str] = {}
    choices = []
    for actor_id, name, kind in rows:
        if kind not in kinds:
            kinds[kind] = kind.label
        choices.append((actor_id, f"{name} ({kinds[kind]})"))
    return options(([("", blank)] if blank is not None else []) + choices)


def _rupiah_input(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}".replace(",", ".")


def _changes(error: ConflictError) -> list[dict[str, Any]]:
    """The stale-save details with real datetimes and section labels for the page."""
    out = []
    for change in error.details.get("changes") or []:
        at = change.get("at")
        if isinstance(at, str):
            try:
                at = dt.datetime.fromisoformat(at)
            except ValueError:
                at = None
        fields = [_section_label(k) for k in change.get("fields") or []
                  if k in S.SECTION_BY_KEY or k == "parties"]
        summary = change.get("summary") or ""
        out.append({"at": at, "by": change.get("by"), "summary": summary,
                    "fields": [f for f in fields if f not in summary]})
    return out


# --- list ----------------------------------------------------------------------------------

@bp.route("/")
@cached_page
def index():
    access.require(current_user, Action.LIST, "proposal")
    filter_errors: dict[str, list[str]] = {}
    try:
        filters = queries.ProposalFilters.parse(request.args)
    except ValidationError as error:
        flash(_("Saringan tidak dapat dipakai: %(message)s Daftar ditampilkan tanpa saringan.",
                message=error.message), "warning")
        filter_errors = error.fields
        filters = queries.ProposalFilters()
    page = queries.list_proposals(current_user, filters, page=_page_number(), per_page=PER_PAGE)
    return render_template(
        "proposals/index.html", page=page, rows=_list_rows(page.items), filters=filters,
        filter_errors=filter_errors,
        states=list(State), kinds=list(Kind), kind_labels=KIND_LABELS,
        bidang_labels=BIDANG_LABELS, sorts=_sort_labels(),
        chosen_actor=db.session.get(Actor, filters.actor_id) if filters.actor_id else None,
        chosen_states=request.args.getlist("state"))


def _list_rows(items: list[Proposal]) -> list[dict[str, Any]]:
    """What the list shows of each proposal, computed once per row and shared by the phone
    cards and the table (the same texts as the macros of proposals/_macros.html). Dates,
    labels and links repeat across rows, so each is formatted once per page: the 50-row
    list is the busiest page, and per-row macro calls, url_for and Babel date formatting
    were most of its CPU time (docs/performance.md, section Load)."""
    from markupsafe import Markup

    from coopdesa.i18n import format_date_id

    detail_prefix = url_for("proposals.index")  # /kerja-sama/ + id = proposals.detail
    kind_labels = {Kind.ANTAR_DESA: _("Antar-Desa")}
    other_kind = _("Pihak ketiga")
    days: dict[dt.date, str] = {}
    states: dict[State, Markup] = {}

    def day(value: dt.date) -> str:
        if value not in days:
            days[value] = format_date_id(value)
        return days[value]

    rows = []
    for p in items:
        if p.state not in states:
            states[p.state] = Markup('<span class="badge text-bg-{} state-badge">{}</span>'
                                     ).format(p.state.badge, p.state.label)
        if p.start_date and p.end_date:
            period: str | Markup = f"{day(p.start_date)} \u2013 {day(p.end_date)}"
        elif p.start_date:
            period = _("mulai %(d)s", d=day(p.start_date))
        elif p.end_date:
            period = _("sampai %(d)s", d=day(p.end_date))
        else:
            period = Markup('<span class="text-muted">{}</span>').format(_("belum ditentukan"))
        rows.append({
            "href": f"{detail_prefix}{p.id}", "ref": p.ref, "title": p.title,
            "kind": kind_labels.get(p.kind, other_kind), "state": states[p.state],
            "parties": "; ".join(party.actor.name for party in p.parties),
            "period": period,
        })
    return rows


def _sort_labels() -> list[tuple[str, str]]:
    labels = {
        "updated": _("Terakhir diubah"), "oldest": _("Terlama diubah"),
        "title": _("Judul (A-Z)"), "start": _("Tanggal mulai"), "end": _("Tanggal berakhir"),
        "ref": _("Nomor terbaru"),
    }
    return [(key, labels.get(key, key)) for key in queries.SORTS]


# --- create --------------------------------------------------------------------------------

#: Where create_proposal's refusals belong on the form (add_party names its own fields).
_CREATE_FIELDS = {"desa_code": "partner_desa_codes", "actor_id": "third_party_actor_ids",
                  "role": "partner_desa_codes"}


@bp.route("/baru", methods=["GET", "POST"])
@login_required
def create():
    access.require(current_user, Action.CREATE, "proposal")
    form = ProposalCreateForm()
    form.third_party_actor_ids.choices = _actor_choices()
    is_admin = current_user.role == Role.ADMIN
    if form.validate_on_submit():
        own = (form.own_desa_code.data or "").strip() if is_admin else None
        try:
            if own:
                # Checked first so that a refusal lands on the admin's own field, not the
                # partners' (create_proposal reports both as desa_code).
                get_party_village(own, field="own_desa_code")
            proposal = ops.create_proposal(
                current_user, kind=form.kind.data or "", initiative=form.initiative.data or "",
                title=form.title.data or "", own_desa_code=own or None,
                partner_desa_codes=form.partner_codes(),
                third_party_actor_ids=list(form.third_party_actor_ids.data or []))
        except ValidationError as error:
            db.session.rollback()
            place_errors(form, error, _CREATE_FIELDS)
        else:
            db.session.commit()
            flash(_("Draf %(ref)s telah dibuat. Lengkapi isinya, lalu ajukan untuk ditelaah.",
                    ref=proposal.ref), "success")
            return redirect(url_for("proposals.edit", proposal_id=proposal.id))
    status = 422 if form.errors else 200
    return render_template("proposals/new.html", form=form, is_admin=is_admin), status


# --- read ----------------------------------------------------------------------------------

def _comment_threads(proposal: Proposal) -> list[dict[str, Any]]:
    comments = db.session.scalars(
        sa.select(ProposalComment).where(ProposalComment.proposal_id == proposal.id)
        .options(joinedload(ProposalComment.author), joinedload(ProposalComment.struck_by))
        .order_by(ProposalComment.created_at, ProposalComment.id)).all()
    replies: dict[int, list[ProposalComment]] = {}
    for c in comments:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    return [{"comment": c, "replies": replies.get(c.id, [])}
            for c in comments if c.parent_id is None]


def _section_choices(proposal: Proposal) -> list:
    choices = [("", _("Seluruh usulan")), ("parties", _("Para pihak"))]
    choices += [(s.key, str(s.label)) for s in S.applicable_sections(proposal)]
    return options(choices)


def _section_label(key: str | None) -> str:
    if not key:
        return _("Seluruh usulan")
    if key == "parties":
        return _("Para pihak")
    return str(S.SECTION_BY_KEY[key].label) if key in S.SECTION_BY_KEY else key


def _label_transition_form(name: str, form: TransitionForm) -> TransitionForm:
    """The shared fields say what they mean for this transition."""
    if name == "request_changes":
        form.points.label.text = _("Poin perbaikan yang diminta (satu per baris)")
        form.text.label.text = _("Catatan tambahan (boleh kosong)")
    elif name == "reject":
        form.points.label.text = _("Alasan penolakan (satu per baris)")
        form.text.label.text = _("Catatan tambahan (boleh kosong)")
    elif name == "withdraw":
        form.text.label.text = _("Alasan penarikan")
    elif name == "end":
        form.text.label.text = _("Keterangan (boleh kosong)")
        form.ended_on.description = _("Kosongkan untuk hari ini.")
    return form


def _transition_forms(proposal: Proposal) -> list[tuple[Any, TransitionForm]]:
    out = []
    for spec in ops.available_transitions(proposal, current_user):
        form = TransitionForm(prefix=spec.name, formdata=None)
        form.expected_state.data = proposal.state.value
        out.append((spec, _label_transition_form(spec.name, form)))
    return out


#: Other areas (deliberations, sustainability, ...) show their part of a proposal on its
#: page by registering a function (proposal, user) -> (template name, context) or None;
#: the function does its own queries, the template only renders what it is given.
DETAIL_PANELS: list = []


def detail_panel(fn):
    """Register ``fn`` as a panel of the proposal page (see DETAIL_PANELS)."""
    DETAIL_PANELS.append(fn)
    return fn


#: Notices shown under the title, before anything else (an open dispute, a pending
#: postponement, an addendum in force): functions (proposal, user) -> (template, context)
#: or None, like DETAIL_PANELS.
DETAIL_ALERTS: list = []


def detail_alert(fn):
    """Register ``fn`` as a notice at the top of the proposal page (see DETAIL_ALERTS)."""
    DETAIL_ALERTS.append(fn)
    return fn


def _render_detail(proposal: Proposal, *, status: int = 200,
                   comment_form: CommentForm | None = None,
                   failed_transition: tuple[str, TransitionForm] | None = None,
                   editing: dict[str, Any] | None = None,
                   replying: dict[str, Any] | None = None):
    transitions = _transition_forms(proposal)
    if failed_transition is not None:
        name, failed = failed_transition
        failed.expected_state.data = proposal.state.value
        _label_transition_form(name, failed)
        transitions = [(spec, failed if spec.name == name else form)
                       for spec, form in transitions]
    can_comment = access.can(current_user, Action.COMMENT, proposal)
    if comment_form is None and can_comment:
        comment_form = CommentForm(formdata=None)
    if comment_form is not None:
        comment_form.section.choices = _section_choices(proposal)
    versions = db.session.scalars(
        sa.select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
        .options(joinedload(ProposalVersion.created_by))
        .order_by(ProposalVersion.number)).all()
    reviews = db.session.scalars(
        sa.select(ProposalReview).where(ProposalReview.proposal_id == proposal.id)
        .options(joinedload(ProposalReview.reviewer))
        .order_by(ProposalReview.created_at.desc(), ProposalReview.id.desc())).all()
    submit_problems = ops.validate_for_submission(proposal) if proposal.is_editable else {}
    return render_template(
        "proposals/detail.html", proposal=proposal,
        sections=S.applicable_sections(proposal),
        missing=S.missing_sections(proposal) if proposal.is_editable else [],
        party_problems=submit_problems.get("parties", []),
        kabupaten=db.session.get(Region, proposal.kabupaten_code)
        if proposal.kabupaten_code else None,
        bidang_labels=[Bidang(b).label for b in proposal.bidang or []],
        transitions=transitions, reviews=reviews, versions=versions,
        threads=_comment_threads(proposal), comment_form=comment_form,
        can_comment=can_comment, section_label=_section_label,
        edit_deadline=utcnow() - ops.COMMENT_EDIT_WINDOW,
        can_edit=proposal.is_editable and access.can(current_user, Action.PROPOSE, proposal),
        audit_link=("audit.proposal_log" in current_app.view_functions
                    and access.can(current_user, Action.READ_AUDIT, proposal)),
        editing=editing, replying=replying, confirm=ConfirmForm(formdata=None),
        funding_total=sum(f.amount for p in proposal.parties for f in p.funding),
        panels=[panel for panel in (fn(proposal, current_user) for fn in DETAIL_PANELS)
                if panel is not None],
        alerts=[alert for alert in (fn(proposal, current_user) for fn in DETAIL_ALERTS)
                if alert is not None],
    ), status


@bp.route("/<int:proposal_id>")
@login_required
def detail(proposal_id: int):
    return _render_detail(_load(proposal_id))


# --- edit ----------------------------------------------------------------------------------

def _edit_form_data(proposal: Proposal) -> dict[str, Any]:
    data: dict[str, Any] = {key: getattr(proposal, key) or "" for key in S.TEXT_SECTIONS}
    data.update(
        version=str(proposal.version), bidang=list(proposal.bidang or []),
        bidang_uraian=proposal.bidang_uraian or "",
        start_date=proposal.start_date.isoformat() if proposal.start_date else "",
        end_date=proposal.end_date.isoformat() if proposal.end_date else "",
    )
    return data


def _party_forms(proposal: Proposal, formdata=None) -> dict[int, PartyEditForm]:
    forms: dict[int, PartyEditForm] = {}
    for party in proposal.parties:
        prefix = f"party-{party.id}"
        if formdata is not None and f"{prefix}-role" in formdata:
            forms[party.id] = PartyEditForm(formdata=formdata, prefix=prefix)
            continue
        rows = [{"source": f.source.value, "amount": _rupiah_input(f.amount),
                 "apbdes_year": str(f.apbdes_year or ""), "description": f.description or ""}
                for f in party.funding]
        rows += [{}] * BLANK_FUNDING_ROWS
        forms[party.id] = PartyEditForm(formdata=None, prefix=prefix, data={
            "role": party.role.value, "signatory_name": party.signatory_name or "",
            "signatory_office": party.signatory_office or "",
            "delegates": party.delegates or "", "hak": party.hak or "",
            "kewajiban": party.kewajiban or "", "funding": rows})
    return forms


_FUNDING_KEY = re.compile(r"^funding-(\d+)-(\w+)$")


def _place_party_error(form: PartyEditForm, error: ValidationError,
                       row_map: list[int] | None = None) -> None:
    for key, messages in error.fields.items():
        match = _FUNDING_KEY.match(key)
        if match and row_map is not None:
            index, name = int(match.group(1)), match.group(2)
            if index < len(row_map):
                row = form.funding.entries[row_map[index]].form
                if name in row._fields:
                    field = row._fields[name]
                    field.errors = list(field.errors or []) + list(messages)
                    continue
        field = form._fields.get(key)
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
        else:
            form.form_errors.append(error.message)


def _party_form_has_errors(form: PartyEditForm) -> bool:
    # FieldList only collects its entries' errors during validate(); ours are set by hand.
    if form.form_errors or any(f.errors for name, f in form._fields.items()
                               if name != "funding"):
        return True
    return any(f.errors for entry in form.funding.entries for f in entry.form)


def _render_edit(proposal: Proposal, *, form: ProposalEditForm | None = None,
                 party_forms: dict[int, PartyEditForm] | None = None,
                 add_form: AddPartyForm | None = None, conflict: ConflictError | None = None,
                 status: int = 200):
    if form is None:
        form = ProposalEditForm(formdata=None, data=_edit_form_data(proposal))
    if party_forms is None:
        party_forms = _party_forms(proposal)
    if add_form is None:
        add_form = AddPartyForm(formdata=None)
    add_form.actor_id.choices = _actor_choices(_("\u2014 tidak ada \u2014"))
    if proposal.kind == Kind.ANTAR_DESA:
        form.bidang_uraian.label.text = _("Uraian bidang (boleh kosong)")
    else:
        form.bidang_uraian.label.text = str(S.SECTION_BY_KEY["bidang"].label)
        form.bidang_uraian.description = _("Uraikan bidang kerja sama dengan pihak ketiga, "
                                           "misalnya pengelolaan wisata atau air bersih.")
    applicable = S.applicable_sections(proposal)
    problems = ops.validate_for_submission(proposal) if proposal.is_editable else {}
    party_errors = any(_party_form_has_errors(f) for f in party_forms.values())
    latest_review = db.session.scalars(
        sa.select(ProposalReview).where(ProposalReview.proposal_id == proposal.id)
        .options(joinedload(ProposalReview.reviewer))
        .order_by(ProposalReview.created_at.desc(), ProposalReview.id.desc()).limit(1)).first()
    return render_template(
        "proposals/edit.html", proposal=proposal, form=form, party_forms=party_forms,
        add_form=add_form, confirm=ConfirmForm(formdata=None),
        applicable={s.key for s in applicable}, sections=applicable,
        missing=S.missing_sections(proposal), party_problems=problems.get("parties", []),
        conflict=conflict, changes=_changes(conflict) if conflict else [],
        party_errors=party_errors,
        party_has_errors=_party_form_has_errors,
        can_submit=proposal.state in TRANSITIONS["submit"].sources,
        latest_review=latest_review if proposal.state == State.CHANGES_REQUESTED else None,
    ), status


@bp.route("/<int:proposal_id>/ubah", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    proposal = _load(proposal_id, Action.PROPOSE)
    if request.method == "GET":
        if not proposal.is_editable:
            flash(_("Usulan berstatus %(state)s tidak dapat diubah. Isi hanya dapat diubah saat "
                    "draf atau saat perbaikan diminta.", state=proposal.state.label), "info")
            return redirect(url_for("proposals.detail", proposal_id=proposal.id))
        return _render_edit(proposal)

    form = ProposalEditForm()
    party_forms = _party_forms(proposal, request.form)
    if not form.validate_on_submit():
        return _render_edit(proposal, form=form, party_forms=party_forms, status=400)
    version = (form.version.data or "").strip()
    expected = int(version) if version.isdigit() else 0
    keys = [s.key for s in S.applicable_sections(proposal)]
    failed = False
    try:
        # The version is checked once, here; the party and funding saves below belong to
        # the same transaction and would only see this request's own increments.
        try:
            ops.update_sections(proposal, current_user, form.section_data(keys),
                                expected_version=expected)
        except ValidationError as error:
            place_errors(form, error)
            failed = True
        for party_id, party_form in party_forms.items():
            if f"party-{party_id}-role" not in request.form:
                continue  # added meanwhile by this user elsewhere: nothing typed for it
            try:
                ops.update_party(proposal, current_user, party_id, party_form.values(),
                                 expected_version=None)
            except ValidationError as error:
                _place_party_error(party_form, error)
                failed = True
            rows, row_map = [], []
            for index, entry in enumerate(party_form.funding.entries):
                if not entry.form.is_blank():
                    rows.append(entry.form.values())
                    row_map.append(index)
            try:
                ops.set_funding(proposal, current_user, party_id, rows, expected_version=None)
            except ValidationError as error:
                _place_party_error(party_form, error, row_map)
                failed = True
    except ConflictError as error:
        db.session.rollback()
        form.version.data = str(proposal.version)  # saving again applies over theirs
        return _render_edit(proposal, form=form, party_forms=party_forms, conflict=error,
                            status=409)
    except DomainError as error:  # a party removed meanwhile, or a refusal
        db.session.rollback()
        flash(error.message, "danger")
        return _render_edit(proposal, form=form, party_forms=party_forms,
                            status=error.status)
    if failed:
        db.session.rollback()
        form.version.data = str(proposal.version)
        return _render_edit(proposal, form=form, party_forms=party_forms, status=422)

    if request.form.get("then") == "submit":
        try:
            ops.transition(proposal, current_user, "submit",
                           expected_state=proposal.state.value)
        except DomainError as error:
            # Refusals come before the submission writes anything: the draft is kept.
            db.session.commit()
            flash(_("Draf disimpan, tetapi belum dapat diajukan."), "warning")
            if isinstance(error, ValidationError):
                _flash_submit_problems(error)
            else:
                flash(error.message, "warning")
            return redirect(url_for("proposals.edit", proposal_id=proposal.id))
        db.session.commit()
        flash(_("Draf disimpan dan diajukan untuk ditelaah."), "success")
        return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    db.session.commit()
    flash(_("Draf disimpan."), "success")
    return redirect(url_for("proposals.edit", proposal_id=proposal.id))


def _flash_submit_problems(error: ValidationError) -> None:
    flash(error.message, "danger")
    for key, messages in error.fields.items():
        if key not in S.SECTION_BY_KEY:
            for message in messages:
                if message != error.message:
                    flash(message, "danger")


_ADD_PARTY_FIELDS = {"party": "desa_code"}


@bp.route("/<int:proposal_id>/pihak", methods=["POST"])
@login_required
def add_party(proposal_id: int):
    proposal = _load(proposal_id, Action.PROPOSE)
    form = AddPartyForm()
    form.actor_id.choices = _actor_choices(_("\u2014 tidak ada \u2014"))
    if not form.validate_on_submit():
        return _render_edit(proposal, add_form=form, status=400)
    desa_code = (form.desa_code.data or "").strip() or None
    actor_id = form.actor_id.data if (form.actor_id.data or "").isdigit() else None
    try:
        party = ops.add_party(proposal, current_user, desa_code=desa_code,
                              actor_id=int(actor_id) if actor_id else None,
                              role=form.role.data or "mitra")
    except ValidationError as error:
        db.session.rollback()
        place_errors(form, error, _ADD_PARTY_FIELDS)
        return _render_edit(proposal, add_form=form, status=422)
    except ConflictError as error:
        db.session.rollback()
        flash(error.message, "warning")
        return redirect(url_for("proposals.detail", proposal_id=proposal.id))
    db.session.commit()
    flash(_("%(name)s ditambahkan sebagai pihak.", name=party.actor.name), "success")
    return redirect(url_for("proposals.edit", proposal_id=proposal.id, _anchor="para-pihak"))


@bp.route("/<int:proposal_id>/pihak/<int:party_id>/keluarkan", methods=["POST"])
@login_required
def remove_party(proposal_id: int, party_id: int):
    proposal = _load(proposal_id, Action.PROPOSE)
    if ConfirmForm().validate_on_submit():
        name = next((p.actor.name for p in proposal.parties if p.id == party_id), None)
        try:
            ops.remove_party(proposal, current_user, party_id)
        except ConflictError as error:
            db.session.rollback()
            flash(error.message, "warning")
            return redirect(url_for("proposals.detail", proposal_id=proposal.id))
        except ValidationError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("%(name)s dikeluarkan dari usulan.", name=name), "info")
    return redirect(url_for("proposals.edit", proposal_id=proposal.id, _anchor="para-pihak"))


# --- lifecycle -----------------------------------------------------------------------------

@bp.route("/<int:proposal_id>/tindakan/<name>", methods=["POST"])
@login_required
def transition(proposal_id: int, name: str):
    proposal = _load(proposal_id)
    spec = TRANSITIONS.get(name)
    if spec is None:
        abort(404)
    form = TransitionForm(prefix=name)
    back = url_for("proposals.detail", proposal_id=proposal.id)
    if not form.validate_on_submit():
        flash(_("Formulir kedaluwarsa. Muat ulang halaman lalu kirim lagi."), "danger")
        return redirect(back)
    try:
        ops.transition(proposal, current_user, name,
                       expected_state=(form.expected_state.data or "").strip() or None,
                       text=form.text.data or None, points=lines(form.points.data),
                       ground=form.ground.data or None,
                       ended_on=(form.ended_on.data or "").strip() or None)
    except ConflictError as error:
        db.session.rollback()
        if wants_json():
            return json_error(409, error.code, error.message, error.fields, **error.details)
        flash(error.message, "warning")
        return redirect(back)
    except ValidationError as error:
        db.session.rollback()
        if name == "submit":
            _flash_submit_problems(error)
            if access.can(current_user, Action.PROPOSE, proposal):
                return redirect(url_for("proposals.edit", proposal_id=proposal.id))
            return redirect(back)
        place_errors(form, error)
        return _render_detail(proposal, status=422, failed_transition=(name, form))
    db.session.commit()
    flash(_("%(action)s: usulan kini berstatus %(state)s.", action=spec.label,
            state=proposal.state.label), "success")
    return redirect(back)


# --- comments ------------------------------------------------------------------------------

def _comment_anchor(proposal: Proposal, comment_id: int | None = None) -> str:
    return url_for("proposals.detail", proposal_id=proposal.id,
                   _anchor=f"komentar-{comment_id}" if comment_id else "komentar")


@bp.route("/<int:proposal_id>/komentar", methods=["POST"])
@login_required
def add_comment(proposal_id: int):
    proposal = _load(proposal_id)
    form = CommentForm()
    form.section.choices = _section_choices(proposal)
    raw_parent = (form.parent_id.data or "").strip()
    parent_id = int(raw_parent) if raw_parent.isdigit() else None
    if not form.validate_on_submit():
        flash(_("Formulir kedaluwarsa. Muat ulang halaman lalu kirim lagi."), "danger")
        return redirect(_comment_anchor(proposal))
    try:
        comment = ops.add_comment(proposal, current_user, form.body.data or "",
                                  section=form.section.data or None, parent_id=parent_id)
    except ValidationError as error:
        db.session.rollback()
        if parent_id is not None:
            messages = [m for ms in error.fields.values() for m in ms] or [error.message]
            return _render_detail(proposal, status=422, replying={
                "parent_id": parent_id, "body": form.body.data or "", "errors": messages})
        place_errors(form, error, {"parent_id": "body"})
        return _render_detail(proposal, status=422, comment_form=form)
    db.session.commit()
    flash(_("Komentar dikirim."), "success")
    return redirect(_comment_anchor(proposal, comment.id))


@bp.route("/<int:proposal_id>/komentar/<int:comment_id>/ubah", methods=["POST"])
@login_required
def edit_comment(proposal_id: int, comment_id: int):
    proposal = _load(proposal_id)
    form = CommentEditForm(prefix=f"c{comment_id}")
    if not form.validate_on_submit():
        flash(_("Formulir kedaluwarsa. Muat ulang halaman lalu kirim lagi."), "danger")
        return redirect(_comment_anchor(proposal, comment_id))
    try:
        ops.edit_comment(proposal, current_user, comment_id, form.body.data or "")
    except (ValidationError, ConflictError) as error:
        db.session.rollback()
        return _render_detail(proposal, status=error.status, editing={
            "comment_id": comment_id, "body": form.body.data or "",
            "errors": [m for ms in error.fields.values() for m in ms] or [error.message]})
    db.session.commit()
    flash(_("Komentar disunting."), "success")
    return redirect(_comment_anchor(proposal, comment_id))


@bp.route("/<int:proposal_id>/komentar/<int:comment_id>/coret", methods=["POST"])
@login_required
def strike_comment(proposal_id: int, comment_id: int):
    proposal = _load(proposal_id)
    if ConfirmForm().validate_on_submit():
        ops.strike_comment(proposal, current_user, comment_id)
        db.session.commit()
        flash(_("Komentar dicoret. Teksnya tetap tersimpan sebagai catatan."), "info")
    return redirect(_comment_anchor(proposal, comment_id))


# --- versions ------------------------------------------------------------------------------

def _version_arg(name: str, numbers: list[int]) -> int | str | None:
    raw = (request.args.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw == CURRENT:
        return CURRENT
    if raw.isdigit() and int(raw) in numbers:
        return int(raw)
    flash(_("Versi %(v)s tidak ada; perbandingan bawaan ditampilkan.", v=raw[:10]), "warning")
    return None


@bp.route("/<int:proposal_id>/versi")
@login_required
def compare(proposal_id: int):
    proposal = _load(proposal_id)
    versions = db.session.scalars(
        sa.select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
        .options(joinedload(ProposalVersion.created_by))
        .order_by(ProposalVersion.number)).all()
    by_number = {v.number: v for v in versions}
    numbers = list(by_number)
    a = _version_arg("a", numbers)
    b = _version_arg("b", numbers)
    if a is None or b is None:
        if len(numbers) >= 2:
            a, b = numbers[-2], numbers[-1]
        elif numbers:
            a, b = numbers[-1], CURRENT
        else:
            a = b = None
    diffs = []
    if a is not None and b is not None:
        def snap(which):
            return S.snapshot(proposal) if which == CURRENT else by_number[which].snapshot

        applicable = {s.key for s in S.applicable_sections(proposal)} | {"parties"}
        # Sections that never applied to this kind (e.g. a KAK for antar-Desa) stay out.
        diffs = [d for d in diff_snapshots(snap(a), snap(b))
                 if d.key in applicable or d.changed or d.old or d.new]
    return render_template("proposals/compare.html", proposal=proposal, versions=versions,
                           by_number=by_number, a=a, b=b, diffs=diffs, current=CURRENT,
                           changed=sum(1 for d in diffs if d.changed))


# --- notifications -------------------------------------------------------------------------

@bp.route("/notifikasi/dibaca", methods=["POST"])
@login_required
def mark_read():
    if ConfirmForm().validate_on_submit():
        raw = (request.form.get("notification_id") or "").strip()
        count = notifications.mark_read(current_user,
                                        int(raw) if raw.isdigit() else None)
        db.session.commit()
        if count:
            flash(_("Pemberitahuan ditandai sudah dibaca."), "info")
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))
