"""Documents pages: the agreement (draft or final) and the records as PDF, signing, the
signed scan, and the public verification page. Handlers load, check access, call
coopdesa.documents.operations and commit once."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action
from coopdesa.deliberations import operations as meeting_ops
from coopdesa.documents import operations as ops
from coopdesa.documents import render as R
from coopdesa.documents.forms import (
    RenderForm,
    ScanForm,
    SignatureForm,
    VerifyCodeForm,
    VerifyUploadForm,
)
from coopdesa.documents.models import Paper, SignMethod
from coopdesa.errors import DomainError, NotFoundError
from coopdesa.extensions import db, limiter
from coopdesa.files import storage
from coopdesa.files.views import send_stored
from coopdesa.i18n import local_today
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.models import Proposal
from coopdesa.proposals.states import State
from coopdesa.proposals.views import detail_panel, place_errors
from coopdesa.sustainability import operations as sustainability_ops

bp = Blueprint("documents", __name__, url_prefix="/dokumen")
public_bp = Blueprint("verify", __name__, url_prefix="/verify")


def _load(proposal_id: int) -> Proposal:
    """The proposal if the user may read it (else the same 404 as a missing one)."""
    proposal = proposal_ops.get_proposal(proposal_id)
    if not access.can(current_user, Action.VIEW, proposal):
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def _read_upload(name: str) -> tuple[bytes, str | None]:
    upload = request.files.get(name)
    if not upload:
        return b"", None
    with upload.stream as stream:  # a large upload is spooled to a temporary file
        return stream.read(), upload.filename


def _pdf_response(data: bytes, filename: str, *, inline: bool = True):
    response = send_file(io.BytesIO(data), mimetype="application/pdf",
                         as_attachment=not inline, download_name=filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _render_or_503(job: R.RenderJob) -> bytes:
    try:
        return R.render(job)
    except R.RenderError as exc:
        current_app.logger.error("PDF render failed: %s", exc)
        abort(503, description=_("Dokumen PDF tidak dapat dibuat saat ini (%(why)s). Coba "
                                 "lagi beberapa saat lagi; jika tetap gagal, hubungi "
                                 "administrator.", why=str(exc)[:200]))


def _records():
    from coopdesa.documents import records  # imports WeasyPrint: only when a PDF is asked

    return records


# --- the proposal page panel ---------------------------------------------------------------

@detail_panel
def _proposal_panel(proposal: Proposal, user: Any):
    document = ops.document_of(proposal)
    signatures = ops.signatures_of(proposal) if proposal.state in (
        State.AGREED, *ops.FINAL_DOCUMENT_STATES) else {}
    return "documents/_panel.html", {
        "proposal": proposal, "document": document, "signed": len(signatures),
        "parties": len(proposal.parties)}


# --- the documents page --------------------------------------------------------------------

def _signature_forms(proposal: Proposal, signatures: dict, failed: tuple[int, SignatureForm]
                     | None = None) -> dict[int, SignatureForm]:
    forms = {}
    if proposal.state != State.AGREED:
        return forms
    for party in proposal.parties:
        if party.id in signatures or ops.sign_refusal(current_user, proposal, party):
            continue
        if failed is not None and failed[0] == party.id:
            forms[party.id] = failed[1]
            continue
        form = SignatureForm(prefix=f"p{party.id}", formdata=None)
        form.party_id.data = str(party.id)
        form.signer_name.data = party.signatory_name
        form.signer_office.data = party.signatory_office
        form.signed_on.data = local_today()
        form.paper.data = current_app.config.get("DEFAULT_PAPER", "f4")
        forms[party.id] = form
    return forms


def _render_page(proposal: Proposal, *, status: int = 200,
                 failed: tuple[int, SignatureForm] | None = None,
                 scan_form: ScanForm | None = None):
    signatures = ops.signatures_of(proposal)
    document = ops.document_of(proposal)
    meetings = [m for m in meeting_ops.meetings_of(proposal)
                if access.can(current_user, Action.VIEW, m)]
    assessment = sustainability_ops.latest_assessment(proposal)
    if assessment is not None and not access.can(
            current_user, Action.VIEW, access.AssessmentOf(proposal)):
        assessment = None
    refusal = ops.signing_refusal(proposal) if proposal.state == State.AGREED else None
    return render_template(
        "documents/index.html", proposal=proposal, signatures=signatures, document=document,
        forms=_signature_forms(proposal, signatures, failed), meetings=meetings,
        meeting_title=meeting_ops.meeting_title, assessment=assessment, refusal=refusal,
        scan_form=scan_form or ScanForm(formdata=None),
        render_form=RenderForm(formdata=None),
        may_attach=document is not None and access.can(current_user, Action.PROPOSE, proposal),
        may_complete=document is None and proposal.state in (
            State.AGREED, *ops.FINAL_DOCUMENT_STATES) and not ops.unsigned_parties(proposal)
        and access.can(current_user, Action.PROPOSE, proposal),
        papers=list(Paper), reviewed=bool(proposal.submitted_at),
        verify_url=ops.printed_verify_url(document) if document else None,
    ), status


@bp.route("/<int:proposal_id>")
@login_required
def index(proposal_id: int):
    return _render_page(_load(proposal_id))


@bp.route("/<int:proposal_id>/tanda-tangan", methods=["POST"])
@login_required
def sign(proposal_id: int):
    proposal = _load(proposal_id)
    party_id = request.form.get("party_id", "")
    prefix = f"p{party_id}" if party_id.isdigit() else "p"
    form = SignatureForm(prefix=prefix)  # keeps what was typed; the operation validates
    party_id = request.form.get(f"{prefix}-party_id") or party_id
    data = {name: request.form.get(f"{prefix}-{name}") for name in (
        "signer_name", "signer_office", "number", "signed_on", "place", "method", "paper")}
    evidence = _read_upload(f"{prefix}-evidence")
    try:
        ops.record_signature(proposal, current_user, party_id, data,
                             evidence=evidence if evidence[0] else None)
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        proposal = _load(proposal_id)
        failed = (int(party_id), form) if str(party_id).isdigit() else None
        return _render_page(proposal, status=error.status, failed=failed)
    db.session.commit()
    document = ops.document_of(proposal)
    if document is not None:
        if document.render_error:
            flash(_("Semua pihak telah menandatangani dan kerja sama tercatat "
                    "ditandatangani, tetapi PDF final belum dapat dibuat: %(why)s. Tekan "
                    "\u201cBuat ulang PDF final\u201d untuk mencoba lagi.",
                    why=document.render_error), "warning")
        else:
            flash(_("Semua pihak telah menandatangani. Dokumen final dibuat dengan kode "
                    "verifikasi %(code)s.", code=document.code), "success")
    else:
        flash(_("Tanda tangan dicatat."), "success")
    return redirect(url_for("documents.index", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/final", methods=["POST"])
@login_required
def complete(proposal_id: int):
    """Make the final document of an agreement every party has signed but that has none
    (normally the last signature does it)."""
    proposal = _load(proposal_id)
    access.require(current_user, Action.PROPOSE, proposal)
    RenderForm().validate_on_submit()
    try:
        document = ops.finalise(proposal, current_user,
                                paper=Paper(ops.paper_arg(request.form.get("kertas"))))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("documents.index", proposal_id=proposal_id))
    db.session.commit()
    flash(_("Dokumen final dibuat dengan kode verifikasi %(code)s.", code=document.code),
          "success")
    return redirect(url_for("documents.index", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/render", methods=["POST"])
@login_required
def rerender(proposal_id: int):
    proposal = _load(proposal_id)
    access.require(current_user, Action.PROPOSE, proposal)
    RenderForm().validate_on_submit()
    document = ops.get_document(proposal)
    error = ops.try_render(document)
    db.session.commit()
    if error:
        flash(_("PDF final belum dapat dibuat: %(why)s", why=error), "danger")
    else:
        flash(_("PDF final tersedia."), "success")
    return redirect(url_for("documents.index", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/naskah.pdf")
@login_required
def agreement_pdf(proposal_id: int):
    """The final PDF from the store once signed; before that a DRAF on the chosen paper."""
    return serve_agreement(_load(proposal_id))


def serve_agreement(proposal: Proposal):
    """The response for the agreement PDF of a proposal the user may read."""
    document = ops.document_of(proposal)
    if document is not None:
        if document.file_id is None:
            error = ops.try_render(document)
            db.session.commit()
            if error:
                abort(503, description=_("PDF final belum dapat dibuat: %(why)s", why=error))
        return _pdf_response(storage.read(document.file), f"{proposal.ref}-final.pdf")
    paper = ops.paper_arg(request.args.get("kertas"))
    data = _render_or_503(ops.draft_job(proposal, paper))
    return _pdf_response(data, f"{proposal.ref}-draf-{paper}.pdf")


@bp.route("/<int:proposal_id>/telaah.pdf")
@login_required
def review_pdf(proposal_id: int):
    proposal = _load(proposal_id)
    if not proposal.submitted_at:
        raise NotFoundError(_("Usulan ini belum pernah diajukan, jadi belum ada catatan "
                              "telaah."))
    paper = ops.paper_arg(request.args.get("kertas"))
    data = _render_or_503(_records().review_record_job(proposal, paper=paper))
    return _pdf_response(data, f"{proposal.ref}-catatan-telaah.pdf")


@bp.route("/<int:proposal_id>/keberlanjutan.pdf")
@login_required
def assessment_pdf(proposal_id: int):
    proposal = _load(proposal_id)
    access.require(current_user, Action.VIEW, access.AssessmentOf(proposal))
    assessment = sustainability_ops.latest_assessment(proposal)
    if assessment is None:
        raise NotFoundError(_("Belum ada penilaian keberlanjutan untuk usulan ini."))
    paper = ops.paper_arg(request.args.get("kertas"))
    data = _render_or_503(_records().assessment_job(assessment, paper=paper))
    return _pdf_response(data, f"{proposal.ref}-lampiran-keberlanjutan.pdf")


@bp.route("/musyawarah/<int:meeting_id>/berita-acara.pdf")
@login_required
def minutes_pdf(meeting_id: int):
    meeting = meeting_ops.get_meeting(meeting_id)
    if not access.can(current_user, Action.VIEW, meeting):
        raise NotFoundError(_("Musyawarah tidak ditemukan."))
    paper = ops.paper_arg(request.args.get("kertas"))
    data = _render_or_503(_records().berita_acara_job(meeting, paper=paper))
    return _pdf_response(data, f"berita-acara-musyawarah-{meeting.id}.pdf")


@bp.route("/<int:proposal_id>/pindaian", methods=["POST"])
@login_required
def upload_scan(proposal_id: int):
    proposal = _load(proposal_id)
    form = ScanForm()
    form.validate_on_submit()
    data, filename = _read_upload("scan")
    try:
        ops.attach_scan(ops.get_document(proposal), current_user, data, filename)
    except DomainError as error:
        db.session.rollback()
        place_errors(form, error)
        return _render_page(_load(proposal_id), status=error.status, scan_form=form)
    db.session.commit()
    flash(_("Pindaian naskah bertanda tangan disimpan."), "success")
    return redirect(url_for("documents.index", proposal_id=proposal.id, _anchor="pindaian"))


@bp.route("/<int:proposal_id>/pindaian", methods=["GET"])
@login_required
def download_scan(proposal_id: int):
    document = ops.get_document(_load(proposal_id))
    if document.scan is None:
        raise NotFoundError(_("Belum ada pindaian naskah bertanda tangan."))
    return send_stored(document.scan)


@bp.route("/<int:proposal_id>/tanda-tangan/<int:signature_id>/bukti")
@login_required
def download_evidence(proposal_id: int, signature_id: int):
    proposal = _load(proposal_id)
    signature = next((s for s in ops.signatures_of(proposal).values()
                      if s.id == signature_id), None)
    if signature is None or signature.method != SignMethod.ELEKTRONIK or not signature.evidence:
        raise NotFoundError(_("Dokumen bertanda tangan elektronik tidak ditemukan."))
    return send_stored(signature.evidence)


# --- public verification (no login) --------------------------------------------------------

def _verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


@public_bp.route("", methods=["GET"])
@limiter.limit(_verify_limit)
def lookup():
    form = VerifyCodeForm(request.args)
    if request.args and form.validate():
        code = ops.normalise_code(form.kode.data)
        if code is not None:
            return redirect(url_for("verify.show", code=code))
        form.kode.errors = [_("Kode verifikasi terdiri atas 12 huruf/angka, mis. "
                              "7KQM-4TZX-2PVA.")]
    return render_template("documents/verify_lookup.html", form=form), (
        400 if form.kode.errors else 200)


@public_bp.route("/<code>", methods=["GET", "POST"])
@limiter.limit(_verify_limit)
def show(code: str):
    document = ops.find_by_code(code)
    if document is None:
        return render_template("documents/verify_lookup.html",
                               form=VerifyCodeForm(formdata=None, kode=code[:40]),
                               not_found=True), 404
    if document.code != code:
        return redirect(url_for("verify.show", code=document.code))
    form = VerifyUploadForm()
    result = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data, _name = _read_upload("document")
            if not data:
                form.document.errors = [_("Pilih berkas PDF yang ingin dicocokkan.")]
                status = 400
            else:
                result = ops.matches(document, data)
        else:
            status = 400
    return render_template("documents/verify.html", info=ops.public_status(document),
                           form=form, result=result), status
