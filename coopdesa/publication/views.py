"""Public pages (no login): village search, a desa's signed agreements, their final PDFs
and a printable notice-board poster; and, signed in, the publication status of an
agreement with the administrator's withholding. Handlers load, check access, call
coopdesa.publication.operations and commit once."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import __version__, access
from coopdesa.access import Action
from coopdesa.documents import operations as docs
from coopdesa.errors import DomainError, NotFoundError
from coopdesa.extensions import db, limiter
from coopdesa.files.views import send_stored
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.models import Proposal
from coopdesa.proposals.views import detail_panel, place_errors
from coopdesa.publication import operations as ops
from coopdesa.publication.forms import LiftForm, SearchForm, WithholdForm

bp = Blueprint("publication", __name__)

#: Shared caches and browsers may keep a public page this long (seconds).
MAX_AGE = 300


def public_limit() -> str:
    return current_app.config["PUBLIC_RATE_LIMIT"]


def cacheable(response, *, etag: str | None = None, last_modified=None):
    """Mark a public response cacheable and answer 304 to a matching conditional request.

    The page depends on the language, which a session cookie may choose: the response
    varies on Cookie, and is private when the request carried a session (a signed-in user,
    or a visitor who picked a language), so a shared cache keeps only the anonymous page.
    """
    response.headers["Cache-Control"] = (f"private, max-age={MAX_AGE}" if session
                                         else f"public, max-age={MAX_AGE}")
    response.vary.add("Cookie")
    if etag:
        response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    return response.make_conditional(request)


def page_etag(page: ops.VillagePage, kind: str) -> str:
    """The ETag of a rendering of ``page``: its data, the language and the app version."""
    return f"{kind}-{page.etag}-{get_locale() or 'id'}-{__version__}"


def _not_modified(etag: str) -> bool:
    return request.if_none_match.contains(etag)


def _not_found(error: DomainError):
    return render_template("publication/not_found.html", message=error.message,
                           form=SearchForm(formdata=None)), 404


# --- public pages --------------------------------------------------------------------------

@bp.route("/publik")
@limiter.limit(public_limit)
def search():
    form = SearchForm(request.args)
    query = (form.q.data or "").strip()
    villages = ops.search_villages(query) if query and form.validate() else []
    response = current_app.make_response(render_template(
        "publication/search.html", form=form, query=query, villages=villages))
    return cacheable(response)


@bp.route("/publik/desa/<kode>")
@limiter.limit(public_limit)
def village(kode: str):
    try:
        page = ops.village_page(kode)
    except NotFoundError as error:
        return _not_found(error)
    if page.region.code != kode:
        return redirect(url_for("publication.village", kode=page.region.code), 301)
    etag = page_etag(page, "desa")
    if _not_modified(etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.make_response(render_template(
            "publication/village.html", page=page, region=page.region,
            agreements=page.agreements, url=ops.village_url(page.region.code)))
    return cacheable(response, etag=etag, last_modified=page.last_modified)


@bp.route("/publik/desa/<kode>/poster")
@limiter.limit(public_limit)
def poster(kode: str):
    try:
        page = ops.village_page(kode)
    except NotFoundError as error:
        return _not_found(error)
    if page.region.code != kode:
        return redirect(url_for("publication.poster", kode=page.region.code), 301)
    etag = page_etag(page, "poster")
    if _not_modified(etag):
        response = current_app.response_class(status=304)
    else:
        url = ops.village_url(page.region.code)
        response = current_app.make_response(render_template(
            "publication/poster.html", region=page.region, url=url,
            qr=ops.qr_png_data_uri(url), count=len(page.agreements)))
    return cacheable(response, etag=etag, last_modified=page.last_modified)


@bp.route("/publik/dokumen/<code>.pdf")
@limiter.limit(public_limit)
def document_pdf(code: str):
    try:
        document = ops.public_document(code)
    except NotFoundError as error:
        return _not_found(error)
    if document.code != code:
        return redirect(url_for("publication.document_pdf", code=document.code), 301)
    response = send_stored(document.file, inline=True)
    response.headers["Content-Disposition"] = f'inline; filename="{document.code}.pdf"'
    return cacheable(response, etag=document.sha256, last_modified=document.rendered_at)


# --- the proposal page panel and the administrator's withholding ----------------------------

def _village_links(proposal: Proposal) -> list[dict[str, Any]]:
    return [{"name": party.actor.name, "code": party.desa_code,
             "url": url_for("publication.village", kode=party.desa_code)}
            for party in proposal.village_parties]


def _status(proposal: Proposal) -> dict[str, Any] | None:
    """The publication status of ``proposal``, or None when it is not public (yet)."""
    if not ops.is_public(proposal):  # the state alone; spares a query for the others
        return None
    document = docs.document_of(proposal)
    if document is None:
        return None
    return {"document": document, "withholding": ops.active_withholding(proposal.id),
            "villages": _village_links(proposal)}


@detail_panel
def _proposal_panel(proposal: Proposal, user: Any):
    status = _status(proposal)
    if status is None:
        return None
    may_manage = access.can(user, Action.MANAGE, access.PublicationOf(proposal))
    return "publication/_panel.html", {
        "proposal": proposal, **status, "may_manage": may_manage,
        "may_view": access.can(user, Action.VIEW, access.PublicationOf(proposal)),
        "withhold_form": WithholdForm(formdata=None) if may_manage else None,
        "lift_form": LiftForm(formdata=None) if may_manage else None,
    }


def _load(proposal_id: int) -> Proposal:
    """The proposal if the user may read it (else the same 404 as a missing one)."""
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _manage_page(proposal: Proposal, *, status: int = 200,
                 withhold_form: WithholdForm | None = None, lift_form: LiftForm | None = None):
    access.require(current_user, Action.VIEW, access.PublicationOf(proposal))
    info = _status(proposal)
    if info is None:
        raise NotFoundError(_("Kerja sama ini belum memiliki dokumen final yang "
                              "dipublikasikan."))
    may_manage = access.can(current_user, Action.MANAGE, access.PublicationOf(proposal))
    return render_template(
        "publication/manage.html", proposal=proposal, **info, may_manage=may_manage,
        history=ops.withholdings_of(proposal),
        withhold_form=withhold_form or WithholdForm(formdata=None),
        lift_form=lift_form or LiftForm(formdata=None)), status


@bp.route("/publikasi/<int:proposal_id>")
@login_required
def manage(proposal_id: int):
    return _manage_page(_load(proposal_id))


@bp.route("/publikasi/<int:proposal_id>/kecualikan", methods=["POST"])
@login_required
def withhold(proposal_id: int):
    proposal = _load(proposal_id)
    access.require(current_user, Action.MANAGE, access.PublicationOf(proposal))
    form = WithholdForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _manage_page(proposal, status=400, withhold_form=form)
    try:
        ops.withhold(proposal, current_user, {"legal_basis": form.legal_basis.data or "",
                                              "reason": form.reason.data or ""})
    except DomainError as error:
        db.session.rollback()
        form = WithholdForm()
        place_errors(form, error)
        return _manage_page(_load(proposal_id), status=error.status, withhold_form=form)
    db.session.commit()
    flash(_("Dokumen dikecualikan dari publikasi. Halaman publik desa menampilkan dasar "
            "hukumnya tanpa tautan PDF."), "success")
    return redirect(url_for("publication.manage", proposal_id=proposal_id))


@bp.route("/publikasi/<int:proposal_id>/cabut", methods=["POST"])
@login_required
def lift(proposal_id: int):
    proposal = _load(proposal_id)
    access.require(current_user, Action.MANAGE, access.PublicationOf(proposal))
    form = LiftForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return _manage_page(proposal, status=400, lift_form=form)
    try:
        ops.lift(proposal, current_user, {"lift_reason": form.lift_reason.data or ""})
    except DomainError as error:
        db.session.rollback()
        form = LiftForm()
        place_errors(form, error)
        return _manage_page(_load(proposal_id), status=error.status, lift_form=form)
    db.session.commit()
    flash(_("Pengecualian dicabut; dokumen kembali dapat diunduh dari halaman publik."),
          "success")
    return redirect(url_for("publication.manage", proposal_id=proposal_id))
