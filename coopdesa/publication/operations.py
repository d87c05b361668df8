"""What the public may read about a village's agreements, and withholding a document.

PP 43/2014 Pasal 88: the peraturan bersama is disseminated to each village. The public page
of a desa lists the agreements it is a party to once signed (signed, active, postponed,
ended), from the content frozen in the final document (AgreementDocument.payload), never
from the live proposal: number, title, parties, bidang, period, state, enactment and the
signatories' names and offices, with the final PDF and its verification code. Nothing of
drafts, reviews, comments, votes, meetings, scans or funding.

An administrator may withhold a document where the law requires it (UU 14/2008 Pasal 17,
informasi yang dikecualikan): the agreement stays listed, without its PDF, with the legal
basis; the reason is internal. Both acts are in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, contains_eager

from coopdesa import access
from coopdesa.access import Action
from coopdesa.audit import operations as audit
from coopdesa.db import utcnow
from coopdesa.documents import operations as docs
from coopdesa.documents.models import AgreementDocument
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.models import Proposal, ProposalParty
from coopdesa.publication.models import MAX_LEGAL_BASIS, MAX_REASON, PublicationWithholding
from coopdesa.regions import operations as regions
from coopdesa.regions.models import PARTY_KINDS, Region, RegionKind

#: The states in which a signed agreement is public (signed and after).
PUBLIC_STATES = docs.FINAL_DOCUMENT_STATES


# --- villages ------------------------------------------------------------------------------

def public_village(code: Any) -> Region:
    """The desa or desa adat with ``code`` (dotted or digits). Raises NotFoundError with a
    plain explanation for an unknown code, a kelurahan or a region above a village."""
    text = code if isinstance(code, str) else ""
    normal = regions.normalize_code(text[:20]) if text.strip() else ""
    region = db.session.get(Region, normal) if normal else None
    if region is None:
        raise NotFoundError(_("Tidak ada desa dengan kode %(code)s dalam daftar wilayah "
                              "resmi.", code=text[:20] or "-"))
    if region.kind == RegionKind.KELURAHAN:
        raise NotFoundError(_("%(name)s adalah kelurahan, bukan desa. Kelurahan tidak membuat "
                              "kerja sama desa, jadi tidak ada halaman publik untuknya.",
                              name=region.display_name))
    if region.kind not in PARTY_KINDS:
        raise NotFoundError(_("%(name)s adalah %(kind)s, bukan desa. Setiap desa memiliki "
                              "halaman publiknya sendiri; cari desanya dengan nama.",
                              name=region.display_name, kind=region.kind.label.lower()))
    return region


def search_villages(query: str | None, *, limit: int = 30) -> list[Region]:
    """Desa and desa adat whose name or code matches ``query``."""
    text = (query or "").strip()[:100]
    if not text:
        return []
    return regions.search_regions(text, levels=(4,), parties_only=True, limit=limit)


def public_base_url() -> str:
    """The address the public reaches coopdesa at (COOPDESA_PUBLIC_URL, else this host)."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base and has_request_context():
        base = request.url_root.rstrip("/")
    return base or "http://127.0.0.1:5000"


def village_url(code: str) -> str:
    """The public page of a desa, as printed on its poster and encoded in its QR code."""
    return f"{public_base_url()}/publik/desa/{code}"


def document_url(code: str) -> str:
    """The public address of a final PDF, as printed on the desa page."""
    return f"{public_base_url()}/publik/dokumen/{code}.pdf"


def qr_png_data_uri(url: str) -> str:
    """A QR code of ``url`` as a PNG data URI (crisp when printed, readable by any phone)."""
    from coopdesa import qr

    return qr.png_data_uri(url, scale=10, border=4)


# --- the public list -----------------------------------------------------------------------

@dataclass
class VillagePage:
    """What the public page of ``region`` shows, with its cache validators."""

    region: Region
    agreements: list[dict[str, Any]] = field(default_factory=list)
    etag: str = ""
    last_modified: dt.datetime | None = None


def _party_entry(party: dict[str, Any]) -> dict[str, Any]:
    return {"name": party["name"], "role_label": party["role_label"],
            "is_village": bool(party.get("is_village")), "desa_code": party.get("desa_code")}


def _bidang(payload: dict[str, Any]) -> list[str]:
    sections = payload.get("sections") or {}
    return list(sections.get("bidang") or []) or list(sections.get("bidang_uraian") or [])


def agreement_entry(document: AgreementDocument, withholding: PublicationWithholding | None,
                    *, desa_code: str | None = None, amended: bool = False,
                    replaced_by: str | None = None) -> dict[str, Any]:
    """The public facts of one agreement: picked field by field from the frozen payload, so
    that nothing else it holds (funding, addresses, NIB/NPWP, delegates, duties) leaks.
    ``document.proposal`` must be loaded; nothing here queries the database."""
    data = document.payload
    status = docs.public_state(document.proposal, amended=amended)
    parties = data.get("parties") or []
    own = next((p for p in parties if desa_code and p.get("desa_code") == desa_code), None)
    signatories = [{"party": p["name"], "name": p["signature"]["name"],
                    "office": p["signature"]["office"]}
                   for p in parties if p.get("signature")]
    available = document.file_id is not None and withholding is None
    entry = {
        "code": document.code,
        "title": data.get("title") or "",
        "kind": data.get("kind"),
        "kind_label": data.get("kind_label") or "",
        "number": own.get("number") if own else None,
        "year": document.enacted_on.year,
        "numbers": [{"party": p["name"], "number": p.get("number")} for p in parties],
        "parties": [_party_entry(p) for p in parties],
        "bidang": _bidang(data),
        "start": (data.get("period") or {}).get("start"),
        "end": (data.get("period") or {}).get("end"),
        "status": status["status"],
        "status_label": status["status_label"],
        "ended_on": status["ended_on"],
        "end_ground": status["end_ground"],
        "enacted_on": document.enacted_on.isoformat(),
        "enacted_place": document.enacted_place,
        "signatories": signatories,
        "verify_url": docs.printed_verify_url(document),
        "pdf_url": document_url(document.code) if available else None,
        "sha256": document.sha256 if available else None,
        "pdf_available": available,
        "withheld": withholding is not None,
        "legal_basis": withholding.legal_basis if withholding is not None else None,
        "amends": (data.get("amends") or {}).get("label"),
        "amends_instrument": (data.get("amends") or {}).get("instrument"),
        "amends_code": (data.get("amends") or {}).get("code"),
        "replaced_by": replaced_by if status["status"] == "replaced" else None,
    }
    if withholding is not None:
        # Withheld: listed by its number, title and state only, so that nothing of the
        # document's content is published (the verification code would open it).
        entry.update(code=None, verify_url=None, pdf_url=None, parties=[], bidang=[],
                     start=None, end=None, signatories=[], end_ground=None, amends_code=None,
                     amends_instrument=None,
                     replaced_by=None,
                     numbers=[n for n in entry["numbers"] if own and n["party"] == own["name"]])
    return entry


def _listed(code: str):
    """One statement: the final documents of the agreements ``code`` is a party to, with
    their proposal, the withholding in force, the time of the latest lift, whether a signed
    addendum exists and the code of the agreement that replaced it."""
    last_lift = (sa.select(sa.func.max(PublicationWithholding.lifted_at))
                 .where(PublicationWithholding.proposal_id == AgreementDocument.proposal_id)
                 .correlate(AgreementDocument).scalar_subquery())
    addendum = aliased(Proposal)
    addendum_document = aliased(AgreementDocument)
    amended = sa.exists(
        sa.select(addendum.id)
        .join(addendum_document, addendum_document.proposal_id == addendum.id)
        .where(addendum.amends_id == Proposal.id, addendum.state.in_(sorted(PUBLIC_STATES)),
               addendum_document.file_id.is_not(None))
        .correlate(Proposal))
    successor = aliased(AgreementDocument)
    replaced_by = (sa.select(successor.code)
                   .where(successor.proposal_id == Proposal.replaced_by_id,
                          successor.file_id.is_not(None))
                   .correlate(Proposal).scalar_subquery())
    in_force = sa.and_(PublicationWithholding.proposal_id == AgreementDocument.proposal_id,
                       PublicationWithholding.lifted_at.is_(None))
    party_of = sa.select(ProposalParty.proposal_id).where(ProposalParty.desa_code == code)
    return db.session.execute(
        sa.select(AgreementDocument, PublicationWithholding, last_lift, amended, replaced_by)
        .join(AgreementDocument.proposal)
        .outerjoin(PublicationWithholding, in_force)
        .where(Proposal.state.in_(sorted(PUBLIC_STATES)), Proposal.id.in_(party_of))
        .options(contains_eager(AgreementDocument.proposal))
        .order_by(AgreementDocument.enacted_on.desc(), AgreementDocument.id.desc())
    ).all()


def village_page(code: Any) -> VillagePage:
    """The public page of the desa ``code`` in two statements (the region, the list).
    Raises NotFoundError as :func:`public_village`."""
    region = public_village(code)
    page = VillagePage(region=region)
    seen: set[int] = set()
    fingerprint: list[Any] = [region.code, region.name]
    stamps: list[dt.datetime] = []
    for document, withholding, lifted, amended, replaced_by in _listed(region.code):
        if document.id in seen:  # two withholdings in force cannot happen; never list twice
            continue
        seen.add(document.id)
        proposal = document.proposal
        page.agreements.append(agreement_entry(document, withholding, desa_code=region.code,
                                               amended=bool(amended), replaced_by=replaced_by))
        fingerprint.append([document.id, proposal.version, proposal.state.value,
                            bool(amended), replaced_by,
                            document.file_id, document.sha256,
                            withholding.id if withholding else None,
                            withholding.legal_basis if withholding else None])
        stamps += [t for t in (document.created_at, document.rendered_at, proposal.updated_at,
                               withholding.withheld_at if withholding else None, lifted)
                   if t is not None]
    raw = json.dumps(fingerprint, default=str, sort_keys=True).encode()
    page.etag = hashlib.sha256(raw).hexdigest()[:32]
    page.last_modified = max(stamps) if stamps else None
    return page


def public_document(code: Any) -> AgreementDocument:
    """The final document with verification ``code`` if the public may download it: its
    agreement is signed or later, its PDF exists and it is not withheld. Raises
    NotFoundError with the reason in plain words otherwise."""
    document = docs.find_by_code(code)
    if document is None or document.proposal.state not in PUBLIC_STATES:
        raise NotFoundError(_("Tidak ada dokumen publik dengan kode itu. Periksa kembali kode "
                              "verifikasi yang tertera pada dokumen."))
    if active_withholding(document.proposal_id) is not None:
        raise NotFoundError(_("Dokumen ini dikecualikan dari publikasi berdasarkan peraturan "
                              "perundang-undangan, sehingga tidak dapat diunduh di sini. "
                              "Keterangan kerja samanya tetap tercantum pada halaman desa."))
    if document.file_id is None:
        raise NotFoundError(_("PDF final dokumen ini belum tersedia. Coba lagi nanti."))
    return document


# --- withholding ---------------------------------------------------------------------------

def active_withholding(proposal_id: int) -> PublicationWithholding | None:
    return db.session.scalar(
        sa.select(PublicationWithholding)
        .where(PublicationWithholding.proposal_id == proposal_id,
               PublicationWithholding.lifted_at.is_(None))
        .order_by(PublicationWithholding.id.desc()).limit(1))


def withholdings_of(proposal: Proposal) -> list[PublicationWithholding]:
    """Every withholding of ``proposal``, latest first (the history)."""
    return list(db.session.scalars(
        sa.select(PublicationWithholding)
        .where(PublicationWithholding.proposal_id == proposal.id)
        .order_by(PublicationWithholding.withheld_at.desc(), PublicationWithholding.id.desc())))


def is_public(proposal: Proposal) -> bool:
    """Whether ``proposal`` appears on the public pages (once it has a final document)."""
    return proposal.state in PUBLIC_STATES


def _text(data: dict[str, Any], key: str, limit: int, errors: dict[str, list[str]],
          label: Any) -> str:
    value = data.get(key)
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[key] = [_("Harus berupa teks.")]
    elif not text:
        errors[key] = [_("%(label)s wajib diisi.", label=label)]
    elif len(text) > limit:
        errors[key] = [_("Paling banyak %(n)d karakter.", n=limit)]
    return text


def _lock(proposal: Proposal) -> None:
    """Serialise withholding and lifting on one agreement (PostgreSQL row lock)."""
    db.session.execute(sa.select(Proposal.id).where(Proposal.id == proposal.id)
                       .with_for_update())


def withhold(proposal: Proposal, user: Any, data: dict[str, Any]) -> PublicationWithholding:
    """Withhold the document of ``proposal`` from the public pages. ``data`` holds
    ``legal_basis`` (public) and ``reason`` (internal). Raises AccessDenied (not an admin),
    NotFoundError (no final document), ConflictError (already withheld), ValidationError."""
    access.require(user, Action.MANAGE, access.PublicationOf(proposal))
    document = docs.document_of(proposal)
    if document is None or not is_public(proposal):
        raise NotFoundError(_("Kerja sama ini belum memiliki dokumen final yang "
                              "dipublikasikan."))
    errors: dict[str, list[str]] = {}
    legal_basis = _text(data, "legal_basis", MAX_LEGAL_BASIS, errors,
                        _l("Dasar hukum pengecualian"))
    reason = _text(data, "reason", MAX_REASON, errors, _l("Alasan"))
    if errors:
        raise ValidationError(_("Periksa kembali isian pengecualian."), fields=errors)
    _lock(proposal)
    if active_withholding(proposal.id) is not None:
        raise ConflictError(_("Dokumen ini sudah dikecualikan dari publikasi."))
    withholding = PublicationWithholding(
        proposal_id=proposal.id, legal_basis=legal_basis, reason=reason,
        withheld_by_id=user.id, withheld_at=utcnow())
    db.session.add(withholding)
    db.session.flush()
    audit.record("publication.withhold", user=user, object_type="publication_withholding",
                 object_id=withholding.id, proposal_id=proposal.id,
                 summary=_l("Dokumen %(code)s dikecualikan dari publikasi (%(basis)s)",
                            code=document.code, basis=legal_basis[:80]),
                 after={"legal_basis": legal_basis, "reason": reason})
    return withholding


def lift(proposal: Proposal, user: Any, data: dict[str, Any]) -> PublicationWithholding:
    """End the withholding in force on ``proposal``; ``data`` holds ``lift_reason``.
    Raises AccessDenied, ConflictError (nothing withheld) or ValidationError."""
    access.require(user, Action.MANAGE, access.PublicationOf(proposal))
    errors: dict[str, list[str]] = {}
    lift_reason = _text(data, "lift_reason", MAX_REASON, errors, _l("Alasan pencabutan"))
    if errors:
        raise ValidationError(_("Periksa kembali isian pencabutan."), fields=errors)
    _lock(proposal)
    withholding = active_withholding(proposal.id)
    if withholding is None:
        raise ConflictError(_("Dokumen ini tidak sedang dikecualikan dari publikasi."))
    withholding.lifted_at = utcnow()
    withholding.lifted_by_id = user.id
    withholding.lift_reason = lift_reason
    db.session.flush()
    audit.record("publication.lift", user=user, object_type="publication_withholding",
                 object_id=withholding.id, proposal_id=proposal.id,
                 summary=_l("Pengecualian publikasi dicabut; dokumen kembali dapat diunduh "
                            "publik"),
                 before={"legal_basis": withholding.legal_basis},
                 after={"lift_reason": lift_reason})
    return withholding
