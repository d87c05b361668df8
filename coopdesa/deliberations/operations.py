"""Musyawarah records and the rules on them (UU 6/2014 Pasal 54, 92, 93; PP 43/2014 Pasal 80).

Every rule about meetings lives here: who records what, which proposals may be put on an
agenda, attendance by village and element, the quorum (copied from :class:`QuorumRule`
when the meeting is recorded), what makes a decision valid, its effect on the proposal,
and the gate on ``agree``. Each change writes an audit entry in the caller's transaction;
callers commit once. A refused operation raises before anything is written, or after a
flush the caller rolls back, so nothing is saved half-way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa import access
from coopdesa.access import Action
from coopdesa.audit import operations as audit
from coopdesa.db import is_id, utcnow
from coopdesa.deliberations.models import (
    OUTCOME_LABELS,
    AgendaItem,
    Attendee,
    Ballot,
    Element,
    Gender,
    Meeting,
    MeetingKind,
    MeetingVillage,
    Method,
    Outcome,
    QuorumRule,
)
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.models import Kind, Proposal
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region
from coopdesa.regions.operations import get_party_village

MAX_ATTENDEES = 500
MAX_AGENDA = 20
SIGNATORY_FIELDS = ("signed_chair", "signed_secretary", "signed_kepala_desa",
                    "signed_participant")


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


def _raise_all(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)


def _text(value: Any, field: str, errors: dict[str, list[str]], *, limit: int,
          required: bool = False, label: str | None = None) -> str | None:
    if value is not None and not isinstance(value, str):
        errors.setdefault(field, []).append(_("Harus berupa teks."))
        return None
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > limit:
        errors.setdefault(field, []).append(
            _("Terlalu panjang: paling banyak %(n)d karakter.", n=limit))
        return None
    if required and not text:
        errors.setdefault(field, []).append(
            _("%(label)s wajib diisi.", label=label) if label else _("Wajib diisi."))
        return None
    return text or None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "ya", "y", "yes")
    return bool(value)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta")


def parse_held_at(value: Any, field: str, errors: dict[str, list[str]]) -> dt.datetime | None:
    """A date and time (ISO, e.g. 2026-03-12T09:00); without an offset it is local time
    (COOPDESA_TIMEZONE, Asia/Jakarta by default). Returned in UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            errors[field] = [_("Waktu tidak valid; gunakan format TTTT-BB-HHTjj:mm "
                               "(misalnya 2026-03-12T09:00).")]
            return None
    else:
        errors[field] = [_("Tanggal dan jam musyawarah wajib diisi.")]
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone())
    moment = moment.astimezone(dt.UTC)
    if not 2000 <= moment.year <= 2100:
        errors[field] = [_("Tahun harus antara 2000 dan 2100.")]
        return None
    return moment


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(_zone()).strftime("%d-%m-%Y %H:%M")


# --- reading -------------------------------------------------------------------------------

def get_meeting(meeting_id: Any) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id) if is_id(meeting_id) else None
    if meeting is None:
        raise NotFoundError(_("Musyawarah tidak ditemukan."))
    return meeting


def current_rule(kind: MeetingKind) -> QuorumRule:
    rule = db.session.scalar(sa.select(QuorumRule).where(QuorumRule.meeting_kind == kind))
    if rule is None:  # the migration seeds both kinds; an admin never deletes them
        raise ConflictError(_("Aturan kuorum untuk %(kind)s belum ada; hubungi administrator.",
                              kind=kind.label))
    return rule


def meetings_of(proposal: Proposal) -> list[Meeting]:
    """Every meeting with ``proposal`` on its agenda, newest first."""
    return list(db.session.scalars(
        sa.select(Meeting).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.proposal_id == proposal.id)
        .order_by(Meeting.held_at.desc(), Meeting.id.desc())))


def village_name(code: str | None) -> str:
    region = db.session.get(Region, code) if code else None
    return region.name if region else (code or "-")


def quorum_text(meeting: Meeting) -> str:
    return _("hadir %(present)d dari %(invited)d undangan bersuara; kuorum %(needed)d "
             "(%(n)d/%(d)d)", present=len(meeting.voting_present),
             invited=len(meeting.voting_invitees), needed=meeting.quorum_needed,
             n=meeting.quorum_numerator, d=meeting.quorum_denominator)


def meeting_title(meeting: Meeting) -> str:
    if meeting.kind == MeetingKind.MUSYAWARAH_DESA:
        return _("Musyawarah Desa %(name)s", name=village_name(meeting.desa_code))
    return _("Musyawarah antar-Desa %(names)s",
             names=", ".join(village_name(c) for c in meeting.desa_codes))


# --- recording a meeting -------------------------------------------------------------------

def _may_act_on(user: Any, proposal: Proposal) -> str | None:
    """None if the user may put ``proposal`` on an agenda (its author or reviewer)."""
    if not access.can(user, Action.VIEW, proposal):
        return _("Usulan %(id)s tidak ditemukan.", id=proposal.id)
    if access.can(user, Action.PROPOSE, proposal) or access.can(user, Action.REVIEW, proposal):
        return None
    return _("Anda tidak dapat mencatat musyawarah untuk usulan %(ref)s: %(reason)s",
             ref=proposal.ref,
             reason=access.reason_refused(user, Action.PROPOSE, proposal) or "")


def _ids(value: Any, field: str, errors: dict[str, list[str]]) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int | str):
        value = [value]
    out: list[int] = []
    if not isinstance(value, list):
        errors.setdefault(field, []).append(_("Harus berupa daftar nomor usulan."))
        return out
    for v in value:
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v.strip())
        if not is_id(v):
            errors.setdefault(field, []).append(_("Nomor usulan tidak valid: %(v)s.", v=v))
            continue
        if v not in out:
            out.append(v)
    return out


def _codes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace(",", "\n").splitlines()
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for v in value:
        if isinstance(v, str) and v.strip() and v.strip() not in out:
            out.append(v.strip())
    return out


def record_meeting(user: Any, data: dict[str, Any]) -> Meeting:
    """Record a musyawarah desa or antar-Desa with its agenda; refuses, by field, what the
    user may not record and proposals that may not be deliberated there."""
    errors: dict[str, list[str]] = {}
    try:
        kind = MeetingKind(data.get("kind") or "")
    except ValueError:
        raise _fail("kind", _("Pilih jenis musyawarah: Musyawarah Desa atau musyawarah "
                              "antar-Desa.")) from None
    held_at = parse_held_at(data.get("held_at"), "held_at", errors)
    place = _text(data.get("place"), "place", errors, limit=200, required=True,
                  label=_("Tempat"))
    organiser = _text(data.get("organiser"), "organiser", errors, limit=200)
    chair = _text(data.get("chair_name"), "chair_name", errors, limit=120, required=True,
                  label=_("Nama pimpinan musyawarah"))
    secretary = _text(data.get("secretary_name"), "secretary_name", errors, limit=120,
                      required=True, label=_("Nama sekretaris musyawarah"))
    notes = _text(data.get("notes"), "notes", errors, limit=20_000)
    signatories = {k: _text(data.get(k), k, errors, limit=120) for k in SIGNATORY_FIELDS}

    desa: Region | None = None
    villages: list[Region] = []
    if kind == MeetingKind.MUSYAWARAH_DESA:
        try:
            desa = get_party_village(data.get("desa_code") or "", field="desa_code")
        except ValidationError as error:
            for k, v in error.fields.items():
                errors.setdefault(k, []).extend(v)
    else:
        for code in _codes(data.get("villages")):
            try:
                region = get_party_village(code, field="villages")
            except ValidationError as error:
                errors.setdefault("villages", []).extend(error.fields.get("villages", []))
                continue
            if region not in villages:
                villages.append(region)
        if len(villages) < 2 and "villages" not in errors:
            errors["villages"] = [_("Musyawarah antar-Desa dihadiri delegasi dua desa atau "
                                    "lebih.")]
        elif len({v.ancestor_code(2) for v in villages}) > 1:
            errors.setdefault("villages", []).append(_(
                "Desa-desa dalam musyawarah antar-Desa harus berada dalam satu "
                "kabupaten/kota (Permendagri 96/2017 Pasal 3)."))

    proposals: list[Proposal] = []
    ids = _ids(data.get("proposal_ids"), "proposal_ids", errors)
    if not ids and "proposal_ids" not in errors:
        errors["proposal_ids"] = [_("Pilih paling sedikit satu usulan untuk dimusyawarahkan.")]
    if len(ids) > MAX_AGENDA:
        errors["proposal_ids"] = [_("Paling banyak %(n)d usulan per musyawarah.", n=MAX_AGENDA)]
        ids = []
    meeting_codes = ({desa.code} if desa else set()) | {v.code for v in villages}
    for pid in ids:
        proposal = db.session.get(Proposal, pid)
        problem = (_("Usulan %(id)s tidak ditemukan.", id=pid) if proposal is None
                   else _may_act_on(user, proposal))
        if problem is None and proposal.state != State.AWAITING_DELIBERATION:
            problem = _("Usulan %(ref)s berstatus %(state)s; hanya usulan yang menunggu "
                        "musyawarah yang dapat dimusyawarahkan.", ref=proposal.ref,
                        state=proposal.state.label)
        if problem is None and kind == MeetingKind.MUSYAWARAH_DESA and desa is not None \
                and desa.code not in proposal.desa_codes:
            problem = _("Desa %(desa)s bukan pihak dalam usulan %(ref)s.", desa=desa.name,
                        ref=proposal.ref)
        if problem is None and kind == MeetingKind.MUSYAWARAH_ANTAR_DESA:
            if proposal.kind != Kind.ANTAR_DESA:
                problem = _("Usulan %(ref)s bukan kerja sama antar-Desa; usulan dengan pihak "
                            "ketiga dibahas dalam Musyawarah Desa.", ref=proposal.ref)
            elif villages:
                missing = [c for c in proposal.desa_codes if c not in meeting_codes]
                if missing:
                    problem = _("Desa pihak usulan %(ref)s belum diundang: %(names)s.",
                                ref=proposal.ref,
                                names=", ".join(village_name(c) for c in missing))
        if problem is not None:
            errors.setdefault("proposal_ids", []).append(problem)
        else:
            proposals.append(proposal)
    if organiser is None and "organiser" not in errors:
        if desa is not None:
            organiser = f"BPD Desa {desa.name}"  # the BPD holds it (UU 6/2014 Pasal 54)
        elif proposals and proposals[0].bkad is not None:
            organiser = proposals[0].bkad.name
        elif kind == MeetingKind.MUSYAWARAH_ANTAR_DESA:
            errors["organiser"] = [_("Sebutkan penyelenggara musyawarah antar-Desa.")]
    _raise_all(errors)

    rule = current_rule(kind)
    meeting = Meeting(
        kind=kind, desa_code=desa.code if desa else None, held_at=held_at, place=place,
        organiser=organiser, chair_name=chair, secretary_name=secretary, notes=notes,
        quorum_numerator=rule.numerator, quorum_denominator=rule.denominator,
        created_by_id=getattr(user, "id", None), **signatories)
    meeting.villages = [MeetingVillage(desa_code=v.code) for v in villages]
    meeting.agenda = [AgendaItem(proposal=p, proposal_id=p.id, position=i)
                      for i, p in enumerate(proposals)]
    access.require(user, Action.CREATE, meeting)
    db.session.add(meeting)
    db.session.flush()
    audit.record("meeting.create", user=user, object_type="meeting", object_id=meeting.id,
                 proposal_id=proposals[0].id if len(proposals) == 1 else None,
                 summary=_l("Musyawarah dicatat: %(title)s, %(when)s",
                            title=meeting_title(meeting), when=_local(meeting.held_at)),
                 after=meeting_record(meeting))
    for item in meeting.agenda if len(proposals) > 1 else []:
        audit.record("meeting.agenda", user=user, object_type="meeting", object_id=meeting.id,
                     proposal_id=item.proposal_id,
                     summary=_l("Usulan diagendakan dalam %(title)s", title=meeting_title(
                         meeting)), after={"meeting_id": meeting.id})
    return meeting


def meeting_record(meeting: Meeting) -> dict[str, Any]:
    """The meeting's own fields, for audit entries."""
    return {
        "kind": meeting.kind.value, "desa_code": meeting.desa_code,
        "villages": meeting.desa_codes, "held_at": meeting.held_at.isoformat(),
        "place": meeting.place, "organiser": meeting.organiser,
        "chair_name": meeting.chair_name, "secretary_name": meeting.secretary_name,
        "quorum": [meeting.quorum_numerator, meeting.quorum_denominator],
        "proposal_ids": [i.proposal_id for i in meeting.agenda],
        **{k: getattr(meeting, k) for k in SIGNATORY_FIELDS},
    }


def _require_edit(meeting: Meeting, user: Any) -> None:
    access.require(user, Action.EDIT, meeting)


def _require_open(meeting: Meeting) -> None:
    if meeting.adjourned:
        raise ConflictError(_("Musyawarah ini telah dicatat ditunda karena tidak kuorum; "
                              "tidak ada keputusan sah. Catat musyawarah baru."))


def _primary_proposal(meeting: Meeting) -> int | None:
    return meeting.agenda[0].proposal_id if len(meeting.agenda) == 1 else None


# --- attendance ----------------------------------------------------------------------------

def set_attendance(meeting: Meeting, user: Any, rows: list[dict[str, Any]]) -> Meeting:
    """Replace the attendance list. Refuses attendees from a village not in the meeting,
    unknown elements, bad gender, missing names; all rows or none are saved."""
    _require_edit(meeting, user)
    _require_open(meeting)
    if any(item.is_decided for item in meeting.agenda):
        raise ConflictError(_("Daftar hadir tidak dapat diubah setelah keputusan dicatat: "
                              "kuorum keputusan itu dihitung dari daftar ini."))
    if not isinstance(rows, list):
        raise _fail("attendees", _("Daftar hadir harus berupa daftar."))
    if len(rows) > MAX_ATTENDEES:
        raise _fail("attendees", _("Paling banyak %(n)d peserta.", n=MAX_ATTENDEES))
    errors: dict[str, list[str]] = {}
    codes = meeting.desa_codes
    clean: list[Attendee] = []
    for i, row in enumerate(rows):
        p = f"attendees-{i}-"
        if not isinstance(row, dict):
            errors[p + "name"] = [_("Baris tidak valid.")]
            continue
        name = _text(row.get("name"), p + "name", errors, limit=120, required=True,
                     label=_("Nama"))
        try:
            element = Element(row.get("element") or "")
        except ValueError:
            errors.setdefault(p + "element", []).append(_("Pilih unsur peserta."))
            element = None
        if element == Element.DELEGASI_DESA and meeting.kind != MeetingKind.MUSYAWARAH_ANTAR_DESA:
            errors.setdefault(p + "element", []).append(
                _("Delegasi desa hanya ada dalam musyawarah antar-Desa."))
        note = _text(row.get("element_note"), p + "element_note", errors, limit=120)
        if element == Element.LAINNYA and not note:
            errors.setdefault(p + "element_note", []).append(
                _("Sebutkan unsur masyarakat lain yang diwakili."))
        try:
            gender = Gender(row.get("gender") or "")
        except ValueError:
            errors.setdefault(p + "gender", []).append(
                _("Pilih jenis kelamin: L (laki-laki) atau P (perempuan)."))
            gender = None
        code = (row.get("desa_code") or "").strip() if isinstance(row.get("desa_code"),
                                                                  str) else None
        if not code and meeting.kind == MeetingKind.MUSYAWARAH_DESA:
            code = meeting.desa_code
        if not code:
            errors.setdefault(p + "desa_code", []).append(
                _("Pilih desa yang diwakili peserta."))
        elif code not in codes:
            errors.setdefault(p + "desa_code", []).append(
                _("%(name)s berasal dari desa lain (%(desa)s); peserta musyawarah ini hanya "
                  "dari %(allowed)s.", name=name or "-", desa=village_name(code),
                  allowed=", ".join(village_name(c) for c in codes)))
        if any(k.startswith(p) for k in errors):
            continue
        clean.append(Attendee(name=name, element=element, element_note=note, gender=gender,
                              desa_code=code, invited=_flag(row.get("invited", True)),
                              present=_flag(row.get("present")),
                              is_observer=_flag(row.get("is_observer"))))
    _raise_all(errors)
    before = {"attendees": len(meeting.attendees), "quorum_met": meeting.quorum_met}
    meeting.attendees = clean
    db.session.flush()
    audit.record("meeting.attendance", user=user, object_type="meeting", object_id=meeting.id,
                 proposal_id=_primary_proposal(meeting),
                 summary=_l("Daftar hadir %(title)s diperbarui: %(q)s",
                            title=meeting_title(meeting), q=quorum_text(meeting)),
                 before=before,
                 after={"attendees": [_attendee_dict(a) for a in meeting.attendees],
                        "quorum_met": meeting.quorum_met})
    return meeting


def _attendee_dict(a: Attendee) -> dict[str, Any]:
    return {"name": a.name, "element": a.element.value, "element_note": a.element_note,
            "gender": a.gender.value, "desa_code": a.desa_code, "invited": a.invited,
            "present": a.present, "is_observer": a.is_observer}


# --- decisions -----------------------------------------------------------------------------

def _count(value: Any, field: str, errors: dict[str, list[str]]) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        errors.setdefault(field, []).append(_("Jumlah suara harus bilangan bulat tidak "
                                              "negatif."))
        return 0
    return value


def _require_held(meeting: Meeting) -> None:
    if meeting.held_at > utcnow():
        raise _fail("held_at", _(
            "Musyawarah ini bertanggal %(when)s, masih di masa depan: keputusan baru dapat "
            "dicatat setelah musyawarah berlangsung.", when=_local(meeting.held_at)))


def record_decision(meeting: Meeting, user: Any, agenda_item_id: Any,
                    data: dict[str, Any]) -> AgendaItem:
    """Record the decision on one agenda item and apply its effect on the proposal."""
    _require_edit(meeting, user)
    item = next((i for i in meeting.agenda if i.id == agenda_item_id), None)
    if item is None:
        raise NotFoundError(_("Agenda tidak ditemukan dalam musyawarah ini."))
    _require_open(meeting)
    _require_held(meeting)
    if item.is_decided:
        raise ConflictError(_("Keputusan atas agenda ini sudah dicatat (%(outcome)s); "
                              "keputusan baru memerlukan musyawarah baru.",
                              outcome=item.outcome.label))
    if not meeting.quorum_met:
        raise ConflictError(_(
            "Musyawarah tidak kuorum (%(q)s): tidak ada keputusan yang sah. Lengkapi daftar "
            "hadir, atau catat musyawarah ini sebagai ditunda.", q=quorum_text(meeting)))
    proposal = item.proposal
    if proposal.state != State.AWAITING_DELIBERATION:
        raise ConflictError(_("Usulan %(ref)s kini berstatus %(state)s, tidak lagi menunggu "
                              "musyawarah.", ref=proposal.ref, state=proposal.state.label))
    errors: dict[str, list[str]] = {}
    try:
        method = Method(data.get("method") or "")
    except ValueError:
        errors["method"] = [_("Pilih cara pengambilan keputusan: mufakat atau pemungutan "
                              "suara.")]
        method = None
    try:
        outcome = Outcome(data.get("outcome") or "")
    except ValueError:
        errors["outcome"] = [_("Pilih hasil musyawarah.")]
        outcome = None
    votes = {k: _count(data.get(f"votes_{k}"), f"votes_{k}", errors)
             for k in ("for", "against", "abstain")}
    ballot = None
    if method == Method.VOTE:
        try:
            ballot = Ballot(data.get("ballot") or "")
        except ValueError:
            errors["ballot"] = [_("Pilih pemungutan suara terbuka atau tertutup.")]
        total = sum(votes.values())
        voters = len(meeting.voting_present)
        if total == 0 and "votes_for" not in errors:
            errors["votes_for"] = [_("Pemungutan suara memerlukan jumlah suara setuju, tidak "
                                     "setuju dan abstain.")]
        elif total > voters:
            errors["votes_for"] = [_(
                "Jumlah suara (%(total)d) melebihi peserta bersuara yang hadir (%(voters)d).",
                total=total, voters=voters)]
        elif outcome in (Outcome.AGREED, Outcome.AGREED_WITH_CHANGES) \
                and votes["for"] <= votes["against"]:
            errors["outcome"] = [_("Hasil \u201cdisepakati\u201d memerlukan suara setuju "
                                   "lebih banyak daripada suara tidak setuju.")]
        elif outcome == Outcome.REJECTED and votes["for"] > votes["against"]:
            errors["outcome"] = [_("Suara setuju lebih banyak; hasilnya bukan penolakan.")]
    elif method == Method.MUFAKAT and any(votes.values()):
        errors["votes_for"] = [_("Keputusan secara mufakat tidak memakai hitungan suara; "
                                 "kosongkan jumlah suara.")]
    changes: list[str] = []
    raw_changes = data.get("changes") or []
    if isinstance(raw_changes, str):
        raw_changes = raw_changes.splitlines()
    if not isinstance(raw_changes, list) or not all(isinstance(c, str) for c in raw_changes):
        errors["changes"] = [_("Perubahan harus berupa daftar teks.")]
    else:
        changes = [c.strip()[:2000] for c in raw_changes if c.strip()][:100]
    if outcome == Outcome.AGREED_WITH_CHANGES and not changes and "changes" not in errors:
        errors["changes"] = [_("Tuliskan perubahan yang disepakati, satu per baris.")]
    notes = _text(data.get("notes"), "notes", errors, limit=20_000)
    _raise_all(errors)

    item.method = method
    item.ballot = ballot
    item.votes_for, item.votes_against, item.votes_abstain = (
        (votes["for"], votes["against"], votes["abstain"]) if method == Method.VOTE
        else (0, 0, 0))
    item.outcome = outcome
    item.changes = changes if outcome == Outcome.AGREED_WITH_CHANGES else []
    item.notes = notes
    item.decided_at = utcnow()
    item.decided_by_id = getattr(user, "id", None)
    db.session.flush()
    title = meeting_title(meeting)
    audit.record("meeting.decision", user=user, object_type="agenda_item", object_id=item.id,
                 proposal_id=proposal.id,
                 summary=_l("Keputusan %(title)s (%(when)s): %(outcome)s", title=title,
                            when=_local(meeting.held_at), outcome=OUTCOME_LABELS[outcome]),
                 after={"meeting_id": meeting.id, **item.to_dict(),
                        "quorum": quorum_text(meeting)})
    cite = _("%(title)s tanggal %(when)s (musyawarah #%(id)d)", title=title,
             when=_local(meeting.held_at), id=meeting.id)
    from coopdesa.proposals import operations as proposal_ops

    if outcome == Outcome.REJECTED:
        text = _("Ditolak dalam %(cite)s.", cite=cite)
        if notes:
            text += "\n" + notes
        proposal_ops.transition(proposal, None, "deliberation_reject", text=text)
    elif outcome == Outcome.AGREED_WITH_CHANGES:
        text = _("Disepakati dengan perubahan dalam %(cite)s. Perubahan:", cite=cite)
        text += "".join(f"\n{n}. {c}" for n, c in enumerate(changes, 1))
        proposal_ops.transition(proposal, None, "deliberation_changes", text=text,
                                points=changes)
    return item


def adjourn(meeting: Meeting, user: Any, notes: str | None = None) -> Meeting:
    """Record that the meeting was held and adjourned for want of quorum: no decision."""
    _require_edit(meeting, user)
    _require_open(meeting)
    _require_held(meeting)
    if any(item.is_decided for item in meeting.agenda):
        raise ConflictError(_("Musyawarah ini sudah mengambil keputusan; tidak dapat dicatat "
                              "ditunda."))
    if meeting.quorum_met:
        raise ConflictError(_("Musyawarah ini kuorum (%(q)s); catat keputusannya, bukan "
                              "penundaan.", q=quorum_text(meeting)))
    errors: dict[str, list[str]] = {}
    note = _text(notes, "notes", errors, limit=20_000)
    _raise_all(errors)
    meeting.adjourned = True
    if note:
        meeting.notes = f"{meeting.notes}\n\n{note}" if meeting.notes else note
    db.session.flush()
    audit.record("meeting.adjourn", user=user, object_type="meeting", object_id=meeting.id,
                 proposal_id=_primary_proposal(meeting),
                 summary=_l("%(title)s ditunda karena tidak kuorum: %(q)s",
                            title=meeting_title(meeting), q=quorum_text(meeting)),
                 before={"adjourned": False}, after={"adjourned": True})
    return meeting


# --- berita acara --------------------------------------------------------------------------

def set_signatories(meeting: Meeting, user: Any, data: dict[str, Any]) -> Meeting:
    """Names of those who sign the berita acara: chair, secretary, Kepala Desa and one
    participants' representative."""
    _require_edit(meeting, user)
    errors: dict[str, list[str]] = {}
    values = {k: _text(data.get(k), k, errors, limit=120) for k in SIGNATORY_FIELDS
              if k in data}
    _raise_all(errors)
    before = {k: getattr(meeting, k) for k in values}
    for k, v in values.items():
        setattr(meeting, k, v)
    db.session.flush()
    old, new = audit.changes(before, values)
    if new:
        audit.record("meeting.signatories", user=user, object_type="meeting",
                     object_id=meeting.id, proposal_id=_primary_proposal(meeting),
                     summary=_l("Penanda tangan berita acara %(title)s diperbarui",
                                title=meeting_title(meeting)), before=old, after=new)
    return meeting


def attach_scan(meeting: Meeting, user: Any, data: bytes, filename: str | None, *,
                max_bytes: int | None = None) -> Meeting:
    """Keep the signed berita acara scan (PDF, PNG or JPEG, checked by its content)."""
    from coopdesa.files.operations import MAX_UPLOAD_BYTES, store_upload

    _require_edit(meeting, user)
    stored = store_upload(data, filename, field="scan", user=user,
                          max_bytes=max_bytes or MAX_UPLOAD_BYTES)
    before = meeting.scan_id
    meeting.scan_id = stored.id
    meeting.scan = stored
    db.session.flush()
    audit.record("meeting.scan", user=user, object_type="meeting", object_id=meeting.id,
                 proposal_id=_primary_proposal(meeting),
                 summary=_l("Pindaian berita acara %(title)s diunggah (%(name)s)",
                            title=meeting_title(meeting), name=stored.original_name),
                 before={"scan_id": before},
                 after={"scan_id": stored.id, "sha256": stored.sha256,
                        "content_type": stored.content_type, "size": stored.size})
    return meeting


# --- quorum rules --------------------------------------------------------------------------

def list_rules() -> list[QuorumRule]:
    return list(db.session.scalars(sa.select(QuorumRule).order_by(QuorumRule.meeting_kind)))


def set_quorum_rule(user: Any, kind: str, data: dict[str, Any]) -> QuorumRule:
    """Change a kind's ratio (admins only). Meetings already recorded keep their copy."""
    try:
        meeting_kind = MeetingKind(kind)
    except ValueError:
        raise NotFoundError(_("Jenis musyawarah tidak dikenal.")) from None
    rule = current_rule(meeting_kind)
    access.require(user, Action.MANAGE, rule)
    errors: dict[str, list[str]] = {}
    numbers = {}
    for key in ("numerator", "denominator"):
        value = data.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            errors[key] = [_("Harus bilangan bulat 1 sampai 100.")]
        numbers[key] = value
    if not errors and numbers["numerator"] > numbers["denominator"]:
        errors["numerator"] = [_("Pembilang tidak boleh lebih besar daripada penyebut: "
                                 "kuorum paling tinggi seluruh undangan hadir.")]
    basis = _text(data.get("basis"), "basis", errors, limit=300) if "basis" in data else None
    _raise_all(errors)
    before = {"numerator": rule.numerator, "denominator": rule.denominator,
              "basis": rule.basis}
    rule.numerator, rule.denominator = numbers["numerator"], numbers["denominator"]
    if basis:
        rule.basis = basis
    db.session.flush()
    audit.record("quorum_rule.update", user=user, object_type="quorum_rule", object_id=rule.id,
                 summary=_l("Aturan kuorum %(kind)s diubah: %(old)s menjadi %(new)s",
                            kind=meeting_kind.label,
                            old=f"{before['numerator']}/{before['denominator']}",
                            new=f"{rule.numerator}/{rule.denominator}"),
                 before=before, after={"numerator": rule.numerator,
                                       "denominator": rule.denominator, "basis": rule.basis})
    return rule


# --- the agree gate ------------------------------------------------------------------------

@dataclass
class GateNeed:
    """One deliberation the proposal needs: whose, and where it stands."""

    kind: MeetingKind
    desa_code: str | None
    label: str
    item: AgendaItem | None

    @property
    def satisfied(self) -> bool:
        return self.item is not None and self.item.outcome == Outcome.AGREED

    @property
    def status(self) -> str:
        if self.item is None:
            return _("belum ada keputusan")
        return _("keputusan terakhir: %(outcome)s (musyawarah #%(id)d, %(when)s)",
                 outcome=self.item.outcome.label, id=self.item.meeting_id,
                 when=_local(self.item.meeting.held_at))


def _entered_deliberation_at(proposal: Proposal) -> dt.datetime | None:
    """When the proposal last entered awaiting_deliberation: its state change while it is
    there; afterwards (agreed, and the signing gate) the approving review's time."""
    if proposal.state == State.AWAITING_DELIBERATION:
        return proposal.state_changed_at
    from coopdesa.proposals.models import Judgment, ProposalReview

    return db.session.scalar(
        sa.select(sa.func.max(ProposalReview.created_at))
        .where(ProposalReview.proposal_id == proposal.id,
               ProposalReview.judgment == Judgment.APPROVE))


def _valid_decisions(proposal: Proposal) -> list[AgendaItem]:
    """Decisions on ``proposal`` taken by quorate, non-adjourned meetings since it last
    entered awaiting_deliberation (a decision on an earlier version does not count), newest
    meeting first."""
    items = db.session.scalars(
        sa.select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.proposal_id == proposal.id, AgendaItem.outcome.is_not(None),
               Meeting.adjourned.is_(False))
        .order_by(Meeting.held_at.desc(), AgendaItem.decided_at.desc(),
                  AgendaItem.id.desc())).all()
    since = _entered_deliberation_at(proposal)
    return [i for i in items if i.meeting.quorum_met
            and (since is None or i.decided_at is None or i.decided_at >= since)]


def gate_needs(proposal: Proposal) -> list[GateNeed]:
    decisions = _valid_decisions(proposal)
    needs = []
    for code in proposal.desa_codes:
        latest = next((i for i in decisions if i.meeting.kind == MeetingKind.MUSYAWARAH_DESA
                       and i.meeting.desa_code == code), None)
        needs.append(GateNeed(MeetingKind.MUSYAWARAH_DESA, code,
                              _("Musyawarah Desa %(name)s", name=village_name(code)), latest))
    if proposal.kind == Kind.ANTAR_DESA:
        latest = next((i for i in decisions
                       if i.meeting.kind == MeetingKind.MUSYAWARAH_ANTAR_DESA), None)
        needs.append(GateNeed(MeetingKind.MUSYAWARAH_ANTAR_DESA, None,
                              _("Musyawarah antar-Desa"), latest))
    return needs


def gate_refusal(proposal: Proposal) -> str | None:
    """None when every party village's Musyawarah Desa (and, for antar_desa, the
    musyawarah antar-Desa) agreed in its latest valid decision; else what is missing."""
    missing = [n for n in gate_needs(proposal) if not n.satisfied]
    if not missing:
        return None
    return _("Usulan belum disetujui dalam musyawarah. Masih diperlukan persetujuan: "
             "%(list)s.", list="; ".join(f"{n.label} ({n.status})" for n in missing))
