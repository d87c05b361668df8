"""The agreement's content as plain data: what the document templates render and what the
final PDF embeds as ``agreement.json``, so that an archive can read it without coopdesa.

A payload is built from the live proposal for drafts, and frozen into the
AgreementDocument when the last party signs: the final PDF depends on nothing else.
Legal text is Indonesian whatever the interface language.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from flask_babel import force_locale

from coopdesa.extensions import db
from coopdesa.regions.models import Region

if TYPE_CHECKING:
    from coopdesa.documents.models import AgreementDocument
    from coopdesa.proposals.models import Proposal

SCHEMA = "coopdesa.agreement/1"
#: "a. ", "1. ", "1) ", "(a) ", "- " at the start of a line typed by the user: the document
#: numbers the items itself.
_ITEM_PREFIX = re.compile(r"^\s*(?:\(?[0-9]{1,2}[.)]|\(?[a-z][.)]|[-\u2022*])\s+", re.I)


def items(text: str | None) -> list[str]:
    """One item per non-empty line, without the numbering the user may have typed."""
    out = []
    for line in (text or "").splitlines():
        line = _ITEM_PREFIX.sub("", line).strip()
        if line:
            out.append(line)
    return out


def paragraphs(text: str | None) -> list[str]:
    """Paragraphs: lines of the text, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _region(code: str | None) -> Region | None:
    return db.session.get(Region, code) if code else None


def _region_dict(region: Region | None) -> dict[str, Any] | None:
    if region is None:
        return None
    return {"code": region.code, "name": region.name, "kind": region.kind.value,
            "kind_label": str(region.kind.label)}


def _party(party, signature=None) -> dict[str, Any]:
    actor = party.actor
    village = _region(party.desa_code)
    kecamatan = _region(village.ancestor_code(3)) if village else None
    kabupaten = _region(village.ancestor_code(2)) if village else None
    funding = [{
        "source": f.source.value, "source_label": str(f.source.label), "amount": f.amount,
        "apbdes_year": f.apbdes_year, "description": f.description or "",
    } for f in party.funding]
    out: dict[str, Any] = {
        "position": party.position,
        "role": party.role.value,
        "role_label": str(party.role.label),
        "is_village": party.desa_code is not None,
        "name": (village.display_name if village else actor.name),
        "actor_kind": actor.kind.value,
        "actor_kind_label": str(actor.kind.label),
        "desa_code": party.desa_code,
        "desa": _region_dict(village),
        "kecamatan": _region_dict(kecamatan),
        "kabupaten": _region_dict(kabupaten),
        "address": actor.address or "",
        "nib": actor.nib or "",
        "npwp": actor.npwp or "",
        "signatory_name": party.signatory_name or "",
        "signatory_office": party.signatory_office or "",
        "delegates": paragraphs(party.delegates),
        "hak": items(party.hak),
        "kewajiban": items(party.kewajiban),
        "funding": funding,
        "funding_total": sum(f["amount"] for f in funding),
        "number": None,
        "signature": None,
    }
    if signature is not None:
        out["number"] = signature.number
        out["signature"] = {
            "name": signature.signer_name, "office": signature.signer_office,
            "method": signature.method.value, "method_label": str(signature.method.label),
            "signed_on": signature.signed_on.isoformat(), "place": signature.place,
        }
    return out


def build(proposal: Proposal, *, signatures: dict[int, Any] | None = None,
          document: AgreementDocument | None = None, verify_url: str | None = None,
          version_number: int | None = None) -> dict[str, Any]:
    """The payload of ``proposal``; ``signatures`` maps party id to Signature."""
    with force_locale("id"):
        return _build(proposal, signatures or {}, document, verify_url, version_number)


def _build(proposal, signatures, document, verify_url, version_number) -> dict[str, Any]:
    from coopdesa.proposals.models import Bidang
    from coopdesa.proposals.states import State

    kabupaten = _region(proposal.kabupaten_code)
    parties = [_party(p, signatures.get(p.id)) for p in proposal.parties]
    total = sum(p["funding_total"] for p in parties)
    signed = document is not None
    payload: dict[str, Any] = {
        "schema": SCHEMA,
        "ref": proposal.ref,
        "kind": proposal.kind.value,
        "kind_label": str(proposal.kind.label),
        "initiative": proposal.initiative.value,
        "initiative_label": str(proposal.initiative.label),
        "title": proposal.title,
        "version": version_number,
        "state": (State.SIGNED if signed and proposal.state in (State.AGREED, State.SIGNED)
                  else proposal.state).value,
        "draft": not signed,
        "kabupaten": _region_dict(kabupaten),
        "bkad": ({"name": proposal.bkad.name} if proposal.bkad is not None else None),
        "sections": {
            "menimbang": items(proposal.menimbang),
            "mengingat": items(proposal.mengingat),
            "tujuan": paragraphs(proposal.tujuan),
            "ruang_lingkup": paragraphs(proposal.ruang_lingkup),
            "bidang": [str(Bidang(b).label) for b in proposal.bidang or []],
            "bidang_uraian": paragraphs(proposal.bidang_uraian),
            "tata_cara": paragraphs(proposal.tata_cara),
            "perubahan": paragraphs(proposal.perubahan),
            "perselisihan": paragraphs(proposal.perselisihan),
            "analisis_biaya_manfaat": paragraphs(proposal.analisis_biaya_manfaat),
            "kerangka_acuan_kerja": paragraphs(proposal.kerangka_acuan_kerja),
        },
        "period": {
            "start": proposal.start_date.isoformat() if proposal.start_date else None,
            "end": proposal.end_date.isoformat() if proposal.end_date else None,
        },
        "parties": parties,
        "funding_total": total,
        "enactment": None,
        "document": None,
    }
    if proposal.amends_id is not None:
        payload["amends"] = _amends(proposal)
    if document is not None:
        payload["enactment"] = {"date": document.enacted_on.isoformat(),
                                "place": document.enacted_place}
        payload["document"] = {"code": document.code, "verify_url": verify_url,
                               "paper": document.paper.value,
                               "created": document.created_at.isoformat()
                               if document.created_at else None}
    return payload


def _amends(proposal) -> dict[str, Any]:
    """What an addendum changes: the original agreement's instrument, as its heading names
    it ("Perubahan Pertama atas Peraturan Bersama Kepala Desa ... Nomor ... Tahun ...")."""
    import sqlalchemy as sa

    from coopdesa.documents.models import AgreementDocument
    from coopdesa.extensions import db
    from coopdesa.lifecycle.operations import amendment_label

    root = proposal.amends
    original = db.session.scalar(
        sa.select(AgreementDocument).where(AgreementDocument.proposal_id == root.id))
    numbers: list[str] = []
    year = None
    if original is not None:
        year = original.enacted_on.year
        numbers = [p["number"] for p in original.payload.get("parties", []) if p.get("number")]
    if root.kind.value == "antar_desa":
        # "Kepala Desa Dieng": the register's display name, as the heading has it.
        names = " dan ".join(f"Kepala {_region(p.desa_code).display_name}"
                             for p in root.village_parties)
        instrument = f"Peraturan Bersama {names}"
    else:
        instrument = "Perjanjian Kerja Sama"
    if numbers:
        instrument += " Nomor " + " dan Nomor ".join(numbers)
    if year:
        instrument += f" Tahun {year}"
    return {"seq": proposal.amendment_seq, "label": amendment_label(proposal),
            "ref": root.ref, "instrument": instrument,
            "code": original.code if original is not None else None}


def as_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)
