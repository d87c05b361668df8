"""Signing, the final document, the signed scan and public verification.

PP 43/2014 Pasal 144: the agreement binds from its signing by every party; Permendagri
96/2017: a Peraturan Bersama Kepala Desa is signed by every Kepala Desa, a perjanjian
bersama by the Kepala Desa and the third party, on meterai (UU 10/2020). coopdesa records
each signature (who, when, where, how), moves the proposal to ``signed`` when the last one
is in (guarded by the musyawarah and sustainability gates), freezes the content and
renders the final PDF/A-3b once, keeping its SHA-256 and a public verification code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa import access, qr
from coopdesa.access import Action
from coopdesa.accounts.models import Role
from coopdesa.audit import operations as audit
from coopdesa.db import utcnow
from coopdesa.documents import payload as P
from coopdesa.documents import render as R
from coopdesa.documents.models import AgreementDocument, Paper, Signature, SignMethod
from coopdesa.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.files.operations import sniff, store_generated_pdf, store_upload
from coopdesa.i18n import local_today, parse_date
from coopdesa.proposals.models import EndGround, Proposal, ProposalParty, ProposalVersion
from coopdesa.proposals.states import State

MAX_NAME = 120
MAX_NUMBER = 80
#: Crockford base32: no I, L, O, U, so a code read aloud or typed is not misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
#: States whose document is final (signed and after).
FINAL_DOCUMENT_STATES = frozenset({State.SIGNED, State.ACTIVE, State.POSTPONED, State.ENDED})


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


# --- verification codes --------------------------------------------------------------------

def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(value: Any) -> str | None:
    """What a person typed (any case, spaces, O for 0, I/L for 1) as a stored code."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    text = value.upper().replace("O", "0").replace("I", "1").replace("L", "1")
    raw = "".join(ch for ch in text if ch not in " -")
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def verify_url(code: str) -> str:
    """The public verification address printed on (and encoded in the QR of) a document."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base and has_request_context():
        base = request.url_root.rstrip("/")
    if not base:
        base = "http://127.0.0.1:5000"
    return f"{base}/verify/{code}"


def printed_verify_url(document: AgreementDocument) -> str:
    """The verification address printed on (and encoded in) this document."""
    return (document.payload.get("document") or {}).get("verify_url") or verify_url(
        document.code)


def qr_data_uri(url: str) -> str:
    """The QR code of ``url`` as a PNG of one pixel per module, which pdf.css draws 25 mm
    wide with sharp edges (``image-rendering: pixelated``). The same code as an SVG path
    cost WeasyPrint about 3 % of a render to parse and draw (docs/performance.md)."""
    return qr.png_data_uri(url, scale=1, border=2)


# --- reading -------------------------------------------------------------------------------

def signatures_of(proposal: Proposal) -> dict[int, Signature]:
    rows = db.session.scalars(sa.select(Signature).where(Signature.proposal_id == proposal.id))
    return {s.party_id: s for s in rows}


def document_of(proposal: Proposal) -> AgreementDocument | None:
    return db.session.scalar(
        sa.select(AgreementDocument).where(AgreementDocument.proposal_id == proposal.id))


def find_by_code(code: Any) -> AgreementDocument | None:
    normal = normalise_code(code)
    if normal is None:
        return None
    return db.session.scalar(sa.select(AgreementDocument).where(AgreementDocument.code == normal))


def _latest_version(proposal: Proposal) -> int:
    return db.session.scalar(
        sa.select(sa.func.max(ProposalVersion.number))
        .where(ProposalVersion.proposal_id == proposal.id)) or 0


def unsigned_parties(proposal: Proposal) -> list[ProposalParty]:
    signed = signatures_of(proposal)
    return [p for p in proposal.parties if p.id not in signed]


# --- access --------------------------------------------------------------------------------

def sign_refusal(user: Any, proposal: Proposal, party: ProposalParty) -> str | None:
    """Who may record a party's signature: the secretary of that village; for a third
    party, the secretary of a party village (the third party has no account); admins."""
    reason = access.reason_refused(user, Action.PROPOSE, proposal)
    if reason is not None:
        return reason
    if user.role == Role.ADMIN or not party.desa_code:
        return None
    if party.desa_code != user.desa_code:
        return _("Tanda tangan %(name)s dicatat oleh sekretaris desa itu sendiri.",
                 name=party.actor.name)
    return None


# --- the gate ------------------------------------------------------------------------------

def signing_refusal(proposal: Proposal) -> str | None:
    """Guard of the ``sign`` transition: every party signed, and the musyawarah and
    sustainability gates still hold."""
    from coopdesa.deliberations.operations import gate_refusal
    from coopdesa.sustainability.operations import agree_guard

    missing = unsigned_parties(proposal)
    if missing:
        return _("Belum ditandatangani oleh: %(names)s.",
                 names=", ".join(p.actor.name for p in missing))
    return gate_refusal(proposal) or agree_guard(proposal)


# --- signing -------------------------------------------------------------------------------

def _clean(data: dict[str, Any], key: str, errors: dict[str, list[str]], *, limit: int,
           label: str, default: str | None = None) -> str:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        value = default
    if value is not None and not isinstance(value, str):
        errors[key] = [_("Harus berupa teks.")]
        return ""
    value = " ".join((value or "").split())
    if not value:
        errors[key] = [_("%(label)s wajib diisi.", label=label)]
    elif len(value) > limit:
        errors[key] = [_("Paling banyak %(n)d karakter.", n=limit)]
    return value


def record_signature(proposal: Proposal, user: Any, party_id: Any, data: dict[str, Any], *,
                     evidence: tuple[bytes, str | None] | None = None,
                     today: dt.date | None = None) -> Signature:
    """Record one party's signature; the last one signs the agreement (:func:`finalise`).
    Refuses, changing nothing, anything incomplete, stale or not the user's to record."""
    access.require(user, Action.VIEW, proposal)
    _lock(proposal)
    if proposal.state != State.AGREED:
        raise ConflictError(
            _("Tanda tangan dicatat setelah usulan disepakati dalam musyawarah; status usulan "
              "ini %(state)s.", state=proposal.state.label))
    party = next((p for p in proposal.parties if str(p.id) == str(party_id)), None)
    if party is None:
        raise _fail("party_id", _("Pihak itu tidak ada pada usulan ini."))
    reason = sign_refusal(user, proposal, party)
    if reason is not None:
        raise AccessDenied(reason)
    if party.id in signatures_of(proposal):
        raise ConflictError(_("Tanda tangan %(name)s sudah dicatat.", name=party.actor.name))

    errors: dict[str, list[str]] = {}
    name = _clean(data, "signer_name", errors, limit=MAX_NAME, label=_("Nama penanda tangan"),
                  default=party.signatory_name)
    office = _clean(data, "signer_office", errors, limit=MAX_NAME, label=_("Jabatan"),
                    default=party.signatory_office)
    place = _clean(data, "place", errors, limit=MAX_NAME, label=_("Tempat penandatanganan"))
    number = _clean(data, "number", errors, limit=MAX_NUMBER, label=_("Nomor dokumen"))
    try:
        method = SignMethod(data.get("method") or "")
    except ValueError:
        errors["method"] = [_("Pilih cara penandatanganan: basah atau elektronik.")]
        method = None
    today = today or local_today()
    signed_on = parse_date(data.get("signed_on"), "signed_on", errors)
    if signed_on is None and "signed_on" not in errors:
        errors["signed_on"] = [_("Tanggal penandatanganan wajib diisi.")]
    elif signed_on is not None and signed_on > today:
        errors["signed_on"] = [_("Tanggal penandatanganan tidak boleh di masa depan.")]
    elif signed_on is not None and proposal.state_changed_at is not None and (
            signed_on < proposal.state_changed_at.date() - dt.timedelta(days=1)):
        errors["signed_on"] = [_("Tanggal penandatanganan tidak boleh sebelum usulan "
                                 "disepakati (%(day)s).",
                                 day=proposal.state_changed_at.date().isoformat())]
    if number and party.desa_code and signed_on and "number" not in errors:
        taken = db.session.scalar(
            sa.select(Signature.id).join(ProposalParty, Signature.party_id == ProposalParty.id)
            .where(ProposalParty.desa_code == party.desa_code, Signature.number == number,
                   sa.extract("year", Signature.signed_on) == signed_on.year).limit(1))
        if taken:
            errors["number"] = [_("Nomor %(n)s tahun %(y)d sudah dipakai %(name)s untuk "
                                  "dokumen lain.", n=number, y=signed_on.year,
                                  name=party.actor.name)]
    if method == SignMethod.ELEKTRONIK and not evidence:
        errors["evidence"] = [_("Unggah PDF yang ditandatangani secara elektronik.")]
    if evidence and method == SignMethod.ELEKTRONIK and (sniff(evidence[0]) or ("",))[0] != (
            "application/pdf"):
        errors["evidence"] = [_("Dokumen bertanda tangan elektronik harus berupa PDF "
                                "(dilihat dari isinya).")]
    paper = data.get("paper") or Paper.F4.value
    if not isinstance(paper, str) or paper not in {p.value for p in Paper}:
        errors["paper"] = [_("Pilih ukuran kertas F4 atau A4.")]
    if errors:
        raise ValidationError(_("Periksa kembali isian tanda tangan."), fields=errors)

    stored = None
    if evidence and method == SignMethod.ELEKTRONIK:
        stored = store_upload(evidence[0], evidence[1], field="evidence", user=user)
    signature = Signature(
        proposal_id=proposal.id, party_id=party.id, signer_name=name, signer_office=office,
        method=method, signed_on=signed_on, place=place, number=number,
        evidence_id=stored.id if stored else None, recorded_by_id=user.id)
    db.session.add(signature)
    db.session.flush()
    audit.record("document.sign", user=user, object_type="proposal", object_id=proposal.id,
                 proposal_id=proposal.id,
                 summary=_l("Tanda tangan %(party)s dicatat (%(method)s)",
                            party=party.actor.name, method=method.label),
                 after={"party_id": party.id, "signer_name": name, "signer_office": office,
                        "method": method.value, "signed_on": signed_on.isoformat(),
                        "place": place, "number": number,
                        **({"evidence_sha256": stored.sha256} if stored else {})})
    if not unsigned_parties(proposal):
        finalise(proposal, user, paper=Paper(paper), today=today)
    return signature


def _lock(proposal: Proposal) -> None:
    """Serialise signers of one proposal (PostgreSQL row lock; SQLite serialises writers
    anyway), so that two last signatures at once cannot both miss finalising."""
    db.session.execute(sa.select(Proposal.id).where(Proposal.id == proposal.id)
                       .with_for_update())
    db.session.refresh(proposal, ["state"])


def finalise(proposal: Proposal, user: Any, *, paper: Paper = Paper.F4,
             today: dt.date | None = None, render_now: bool = True) -> AgreementDocument:
    """Sign the agreement: the ``sign`` transition (its guard checks the signatures and the
    gates), the frozen document, activation if its term has begun, and the final PDF.
    A failed render leaves the agreement signed and the document waiting for a retry.
    Also completes an agreement moved to ``signed`` without its document (an admin's bare
    ``sign`` transition)."""
    from coopdesa.proposals.operations import transition

    if document_of(proposal) is not None:
        raise ConflictError(_("Dokumen final kerja sama ini sudah ada."))
    if proposal.state == State.AGREED:
        transition(proposal, None, "sign")
    elif proposal.state not in FINAL_DOCUMENT_STATES or unsigned_parties(proposal):
        raise ConflictError(signing_refusal(proposal) or _(
            "Dokumen final dibuat setelah semua pihak menandatangani."))
    signatures = signatures_of(proposal)
    last = max(signatures.values(), key=lambda s: (s.signed_on, s.id))
    document = AgreementDocument(
        proposal_id=proposal.id, version_number=_latest_version(proposal), code=new_code(),
        paper=paper, enacted_on=last.signed_on, enacted_place=last.place, payload={},
        created_at=utcnow())
    while db.session.scalar(sa.select(AgreementDocument.id)
                            .where(AgreementDocument.code == document.code)):
        document.code = new_code()  # pragma: no cover (1 in 2^60)
    document.payload = P.build(proposal, signatures=signatures, document=document,
                               verify_url=verify_url(document.code),
                               version_number=document.version_number)
    db.session.add(document)
    db.session.flush()
    audit.record("document.finalise", user=user, object_type="agreement_document",
                 object_id=document.id, proposal_id=proposal.id,
                 summary=_l("Dokumen final ditetapkan, kode verifikasi %(code)s",
                            code=document.code),
                 after={"code": document.code, "version": document.version_number,
                        "enacted_on": document.enacted_on.isoformat(),
                        "paper": document.paper.value})
    today = today or local_today()
    if proposal.state == State.SIGNED and proposal.start_date is not None and (
            proposal.start_date <= today):
        transition(proposal, None, "activate")
    if render_now:
        try_render(document)
    return document


# --- the final PDF -------------------------------------------------------------------------

def final_job(document: AgreementDocument) -> R.RenderJob:
    from coopdesa.documents import pdf, records

    data = document.payload
    url = printed_verify_url(document)
    return records.agreement_job(
        data, draft=False, paper=document.paper.value, qr=qr_data_uri(url),
        code=document.code, verify_url=url, attachments=[pdf.payload_attachment(data)])


def store_final(document: AgreementDocument, data: bytes) -> StoredFile:
    """Keep ``data`` as the document's final PDF, once: a second call keeps the first."""
    if document.file_id is not None:
        return document.file
    stored = store_generated_pdf(data, f"{document.proposal.ref}-final.pdf")
    document.file_id = stored.id
    document.file = stored
    document.sha256 = stored.sha256
    document.rendered_at = utcnow()
    document.render_error = None
    audit.record("document.render", object_type="agreement_document", object_id=document.id,
                 proposal_id=document.proposal_id,
                 summary=_l("PDF final dibuat (SHA-256 %(sha)s)", sha=stored.sha256[:16]),
                 after={"sha256": stored.sha256, "size": stored.size})
    return stored


def render_final(document: AgreementDocument) -> StoredFile:
    """The stored final PDF, rendering it first if it never was. Raises RenderError."""
    if document.file_id is not None:
        return document.file
    return store_final(document, R.render(final_job(document)))


def try_render(document: AgreementDocument) -> str | None:
    """Render the final PDF now; on failure note why on the document and return it."""
    try:
        render_final(document)
    except R.RenderError as exc:
        current_app.logger.error("final PDF of %s failed: %s", document.code, exc)
        document.render_error = str(exc)[:500]
        return document.render_error
    return None


# --- drafts and records --------------------------------------------------------------------

def draft_job(proposal: Proposal, paper: str = "f4") -> R.RenderJob:
    from coopdesa.documents import records

    signatures = signatures_of(proposal)
    data = P.build(proposal, signatures=signatures, version_number=_latest_version(proposal)
                   or None)
    return records.agreement_job(data, draft=True, paper=paper)


def paper_arg(value: Any) -> str:
    if isinstance(value, str) and value in {p.value for p in Paper}:
        return value
    return current_app.config.get("DEFAULT_PAPER", "f4")


# --- the signed scan -----------------------------------------------------------------------

def attach_scan(document: AgreementDocument, user: Any, data: bytes,
                filename: str | None) -> StoredFile:
    """Attach the scan of the signed paper copy (PDF, PNG or JPEG, checked by content).
    A later scan replaces the shown one; the earlier stays stored and in the audit log."""
    proposal = document.proposal
    access.require(user, Action.PROPOSE, proposal)
    stored = store_upload(data, filename, field="scan", user=user)
    before = {"sha256": document.scan.sha256} if document.scan else None
    document.scan_id = stored.id
    document.scan = stored
    audit.record("document.scan", user=user, object_type="agreement_document",
                 object_id=document.id, proposal_id=proposal.id,
                 summary=_l("Pindaian naskah bertanda tangan dilampirkan (%(name)s)",
                            name=stored.original_name),
                 before=before,
                 after={"sha256": stored.sha256, "size": stored.size,
                        "content_type": stored.content_type})
    return stored


# --- public verification -------------------------------------------------------------------

def public_state(proposal: Proposal, *, amended: bool) -> dict[str, Any]:
    """The state as the public reads it (/verify and the villages' public pages):
    ``amended`` says whether a signed addendum of the agreement exists; callers listing
    many agreements load that fact in their own query."""
    state = proposal.state
    if state == State.ENDED and proposal.end_ground == EndGround.E_DIGANTI:
        status, label = "replaced", _("Diganti oleh perjanjian baru")
    elif state in (State.ACTIVE, State.SIGNED) and amended:
        status, label = "amended", _("Berlaku dengan perubahan")
    elif state == State.ENDED:
        status, label = "ended", _("Berakhir")
    elif state == State.ACTIVE:
        status, label = "active", _("Berlaku")
    elif state == State.POSTPONED:
        status, label = "postponed", _("Pelaksanaannya ditunda")
    else:
        status, label = "signed", _("Ditandatangani, belum mulai berlaku")
    ended = state == State.ENDED
    return {
        "status": status, "status_label": label,
        "ended_on": proposal.ended_on.isoformat() if ended and proposal.ended_on else None,
        "end_ground": proposal.end_ground.label if ended and proposal.end_ground else None,
    }


def public_status(document: AgreementDocument) -> dict[str, Any]:
    """What /verify/<code> may show: the document's identity and state, nothing else."""
    proposal = document.proposal
    data = document.payload
    state = proposal.state
    amendments = _amendments(proposal)
    words = public_state(proposal, amended=bool(amendments))
    numbers = [{"party": p["name"], "number": p["number"]} for p in data["parties"]]
    return {
        "code": document.code,
        "title": data["title"],
        "kind": data["kind"],
        "kind_label": data["kind_label"],
        "numbers": numbers,
        "year": document.enacted_on.year,
        "parties": [{"name": p["name"], "role_label": p["role_label"]}
                    for p in data["parties"]],
        "enacted_on": document.enacted_on.isoformat(),
        "enacted_place": document.enacted_place,
        "start": data["period"]["start"],
        "end": data["period"]["end"],
        **words,
        "sha256": document.sha256,
        "amendments": amendments,
        "amends": (data.get("amends") or {}).get("code"),
        "amends_label": (data.get("amends") or {}).get("label"),
        "replaced_by": _code_of(proposal.replaced_by) if state == State.ENDED else None,
    }


def _code_of(proposal: Proposal | None) -> str | None:
    document = document_of(proposal) if proposal is not None else None
    return document.code if document is not None and document.file_id else None


def _amendments(proposal: Proposal) -> list[dict[str, Any]]:
    """The signed addenda of an agreement, for its verification page (coopdesa.lifecycle
    keeps them as proposals whose ``amends_id`` names the agreement)."""
    rows = db.session.execute(
        sa.select(Proposal, AgreementDocument)
        .join(AgreementDocument, AgreementDocument.proposal_id == Proposal.id)
        .where(Proposal.amends_id == proposal.id, Proposal.state.in_(FINAL_DOCUMENT_STATES),
               AgreementDocument.file_id.is_not(None))
        .order_by(Proposal.amendment_seq)).all()
    return [{"code": d.code, "label": (d.payload.get("amends") or {}).get("label"),
             "enacted_on": d.enacted_on.isoformat()} for _p, d in rows]


def matches(document: AgreementDocument, data: bytes) -> bool:
    """Whether ``data`` is byte for byte the registered final PDF."""
    return bool(document.sha256) and secrets.compare_digest(
        hashlib.sha256(data).hexdigest(), document.sha256)


def get_document(proposal: Proposal) -> AgreementDocument:
    document = document_of(proposal)
    if document is None:
        raise NotFoundError(_("Usulan ini belum memiliki dokumen final."))
    return document
