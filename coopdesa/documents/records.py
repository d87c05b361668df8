"""Render jobs for the documents coopdesa prints: the agreement and its records.

* The agreement itself, from its payload (:mod:`coopdesa.documents.payload`): a
  Peraturan Bersama Kepala Desa for a kerja sama antar-Desa (UU 6/2014 Pasal 92 ayat (2);
  PP 43/2014 Pasal 88) or a perjanjian bersama with a third party (UU 6/2014 Pasal 93),
  both carrying the contents PP 43/2014 Pasal 143 requires: ruang lingkup, bidang, tata cara
  dan ketentuan pelaksanaan, jangka waktu, hak dan kewajiban, pendanaan, tata cara
  perubahan, penundaan dan pembatalan, and penyelesaian perselisihan; a Peraturan Bersama
  also names the BKAD that carries the cooperation out (Permendagri 96/2017).
* The berita acara of a Musyawarah Desa or musyawarah antar-Desa (UU 6/2014 Pasal 54;
  PP 43/2014 Pasal 80), the review record of a proposal, and the sustainability assessment
  as an annex.

Every function returns a :class:`~coopdesa.documents.render.RenderJob`; rendering is the
caller's business (``render.render`` in workers, ``render.render_now`` in tests). Text is
Indonesian whatever the interface language, and every value reaches the templates escaped.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale

from coopdesa.documents import pdf
from coopdesa.documents.render import RenderJob

if TYPE_CHECKING:
    from coopdesa.accounts.models import User
    from coopdesa.deliberations.models import AgendaItem, Meeting
    from coopdesa.proposals.models import Proposal
    from coopdesa.sustainability.models import Assessment

#: Templates by agreement kind.
AGREEMENT_TEMPLATES = {"antar_desa": "peraturan_bersama.html",
                       "pihak_ketiga": "perjanjian.html"}


# --- shared helpers ------------------------------------------------------------------------

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta")


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored (UTC) moment in the configured time zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(_zone())


def _clock(moment: dt.datetime) -> str:
    """"09.00 WIB": the Indonesian way of writing a time, with the zone's abbreviation."""
    return f"{moment:%H.%M} {moment.tzname() or ''}".strip()


def _user(user: User | None) -> dict[str, str]:
    """Name and office of a user as a record shows them."""
    if user is None:
        return {"name": "Sistem", "role": ""}
    from coopdesa.deliberations.operations import village_name

    role = str(user.role.label)
    if getattr(user, "desa_code", None):
        role = f"{role} {village_name(user.desa_code)}"
    elif getattr(user, "bkad", None) is not None:
        role = f"{role}, {user.bkad.name}"
    return {"name": user.full_name, "role": role}


def _proposal_header(proposal: Proposal) -> dict[str, Any]:
    return {
        "ref": proposal.ref, "title": proposal.title, "kind": proposal.kind.value,
        "kind_label": str(proposal.kind.label), "state_label": str(proposal.state.label),
        "parties": [party.name for party in proposal.parties],
    }


# --- the agreement -------------------------------------------------------------------------

def agreement_docnum(payload: dict[str, Any], *, draft: bool) -> str:
    """The running header: "KSD-2026-00042 · DRAF", or the first party's number when final
    ("Peraturan Bersama Kepala Desa Nomor 3 Tahun 2026", "Perjanjian Nomor 12/PKS/XI/2026")."""
    number = next((p.get("number") for p in payload.get("parties", []) if p.get("number")),
                  None)
    if draft or not number:
        return f"{payload['ref']} \u00b7 DRAF" if draft else payload["ref"]
    if payload["kind"] == "antar_desa":
        year = (payload.get("enactment") or {}).get("date", "")[:4]
        return f"Peraturan Bersama Kepala Desa Nomor {number} Tahun {year}".strip()
    return f"Perjanjian Nomor {number}"


def agreement_job(payload: dict[str, Any], *, draft: bool, paper: str = "f4",
                  qr: str | None = None, code: str | None = None,
                  verify_url: str | None = None,
                  attachments: list[tuple[str, bytes, str]] | None = None) -> RenderJob:
    """The agreement as a Peraturan Bersama (antar_desa) or a perjanjian (pihak_ketiga);
    final (PDF/A-3b, with its QR verification box) when not ``draft``."""
    template = AGREEMENT_TEMPLATES[payload["kind"]]
    return pdf.job(template, paper=paper, final=not draft, attachments=attachments,
                   doc=payload, draft=draft, docnum=agreement_docnum(payload, draft=draft),
                   qr=None if draft else qr, code=code, verify_url=verify_url)


# --- berita acara --------------------------------------------------------------------------

def _attendance(meeting: Meeting) -> dict[str, Any]:
    """Invited and present per element and per village, observers apart, and by gender."""
    from coopdesa.deliberations.operations import village_name

    elements: dict[str, dict[str, Any]] = {}
    villages: dict[str, dict[str, Any]] = {}
    observers = {"invited": 0, "present": 0}
    for a in meeting.attendees:
        if a.is_observer:
            observers["invited"] += int(a.invited)
            observers["present"] += int(a.present)
            continue
        label = a.element_note if a.element_note and a.element.value == "lainnya" \
            else str(a.element.label)
        for bucket, key, name in ((elements, label, label),
                                  (villages, a.desa_code, village_name(a.desa_code))):
            row = bucket.setdefault(key, {"label": name, "invited": 0, "present": 0})
            row["invited"] += int(a.invited)
            row["present"] += int(a.present)
    return {"elements": list(elements.values()), "villages": list(villages.values()),
            "observers": observers, "gender": meeting.gender_counts(),
            "invited": len(meeting.voting_invitees), "present": len(meeting.voting_present)}


def _decision(item: AgendaItem) -> dict[str, Any]:
    method = None
    if item.method is not None:
        method = "Musyawarah untuk mufakat" if item.method.value == "mufakat" else (
            f"Pemungutan suara {item.ballot.value if item.ballot else ''}".strip())
    return {
        "ref": item.proposal.ref, "title": item.proposal.title,
        "kind_label": str(item.proposal.kind.label),
        "parties": [party.name for party in item.proposal.parties],
        "decided": item.outcome is not None, "method": method,
        "is_vote": item.method is not None and item.method.value == "vote",
        "votes": {"for": item.votes_for, "against": item.votes_against,
                  "abstain": item.votes_abstain},
        "outcome": item.outcome.value if item.outcome else None,
        "outcome_label": str(item.outcome.label) if item.outcome else None,
        "changes": list(item.changes or []), "notes": item.notes or "",
    }


def berita_acara_context(meeting: Meeting) -> dict[str, Any]:
    from coopdesa.deliberations import operations as dops

    held = _local(meeting.held_at)
    antar = meeting.kind.value == "musyawarah_antar_desa"
    return {
        "id": meeting.id, "antar_desa": antar, "kind_label": str(meeting.kind.label),
        "title": dops.meeting_title(meeting),
        "villages": [dops.village_name(code) for code in meeting.desa_codes],
        "held_date": held.date(), "held_time": _clock(held), "place": meeting.place,
        "organiser": meeting.organiser, "chair": meeting.chair_name,
        "secretary": meeting.secretary_name,
        "quorum": {"needed": meeting.quorum_needed, "met": meeting.quorum_met,
                   "n": meeting.quorum_numerator, "d": meeting.quorum_denominator},
        "attendance": _attendance(meeting), "adjourned": meeting.adjourned,
        "agenda": [_decision(item) for item in meeting.agenda],
        "notes": [line for line in (meeting.notes or "").splitlines() if line.strip()],
        "signed": {"chair": meeting.signed_chair, "secretary": meeting.signed_secretary,
                   "kepala_desa": meeting.signed_kepala_desa,
                   "participant": meeting.signed_participant},
    }


def berita_acara_job(meeting: Meeting, *, paper: str = "f4",
                     draft: bool | None = None) -> RenderJob:
    """The berita acara of ``meeting``. A draft (watermarked) while an agenda item awaits
    its decision and the meeting was not adjourned, unless ``draft`` says otherwise."""
    if draft is None:
        draft = not meeting.adjourned and any(i.outcome is None for i in meeting.agenda)
    with force_locale("id"):
        ba = berita_acara_context(meeting)
    docnum = f"Berita Acara {ba['title']}, {pdf.tanggal_id(ba['held_date'])}"
    return pdf.job("berita_acara.html", paper=paper, ba=ba, draft=draft,
                   docnum=docnum + (" \u00b7 DRAF" if draft else ""))


# --- review record -------------------------------------------------------------------------

def _reviewing_body(proposal: Proposal) -> str:
    from coopdesa.accounts.models import Role
    from coopdesa.deliberations.operations import village_name

    if proposal.kind.value == "antar_desa":
        return proposal.bkad.name if proposal.bkad is not None else \
            "Badan Kerja Sama Antar-Desa (belum ditetapkan)"
    role = Role(current_app.config.get("THIRD_PARTY_REVIEWER_ROLE", "ketua_bpd")).label
    villages = ", ".join(village_name(code) for code in proposal.desa_codes)
    return f"{role} Desa {villages}"


def review_record_context(proposal: Proposal) -> dict[str, Any]:
    import sqlalchemy as sa

    from coopdesa.extensions import db
    from coopdesa.proposals.models import ProposalReview, ProposalVersion

    versions = db.session.scalars(sa.select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id).order_by(ProposalVersion.number))
    reviews = db.session.scalars(sa.select(ProposalReview).where(
        ProposalReview.proposal_id == proposal.id).order_by(ProposalReview.created_at,
                                                            ProposalReview.id))
    return {
        **_proposal_header(proposal), "body": _reviewing_body(proposal),
        "state_changed": _local(proposal.state_changed_at),
        "versions": [{"number": v.number, "at": _local(v.created_at),
                      "by": _user(v.created_by)} for v in versions],
        "reviews": [{"version": r.version_number, "at": _local(r.created_at),
                     "by": _user(r.reviewer), "judgment": r.judgment.value,
                     "judgment_label": str(r.judgment.label), "points": list(r.points or []),
                     "note": r.note or ""} for r in reviews],
    }


def review_record_job(proposal: Proposal, *, paper: str = "f4") -> RenderJob:
    """The review record of ``proposal``: frozen versions and every judgment on them."""
    with force_locale("id"):
        rec = review_record_context(proposal)
    return pdf.job("review_record.html", paper=paper, rec=rec, draft=False,
                   docnum=f"Catatan Telaah Usulan {rec['ref']}")


# --- sustainability assessment -------------------------------------------------------------

def assessment_context(assessment: Assessment) -> dict[str, Any]:
    from coopdesa.sustainability import operations as sops
    from coopdesa.sustainability.models import Dimension

    data = sops.assessment_dict(assessment)
    scores = sops.score_labels()
    groups = []
    for dimension in Dimension:
        rows = [{**answer, "score_label": scores[answer["score"]]}
                for answer in data["answers"] if answer["dimension"] == dimension.value]
        if rows:
            groups.append({"label": dimension.label, "answers": rows})
    summary = sops.stakeholder_summary(assessment.proposal)
    return {
        **data, **{"proposal": _proposal_header(assessment.proposal)}, "groups": groups,
        "signed_on": _local(assessment.signed_at), "stakeholders": summary,
    }


def assessment_job(assessment: Assessment, *, paper: str = "f4") -> RenderJob:
    """The sustainability assessment as an annex to the proposal (seed 002's four
    sustainabilities and the principles of cooperation)."""
    with force_locale("id"):
        ass = assessment_context(assessment)
    ref = ass["proposal"]["ref"]
    return pdf.job("assessment.html", paper=paper, ass=ass, draft=False,
                   docnum=f"Lampiran Penilaian Keberlanjutan {ref} (penilaian ke-{ass['number']})")
