"""Operations on an agreement in force: addenda, and deliberated postponement, resumption,
cancellation and ending (PP 43/2014 Pasal 145-147). Shared by the HTML views, the JSON API
and the clock (``flask coopdesa lifecycle``).

An agreement's addenda are proposals whose ``amends_id`` names the original agreement;
requests and endings are always made on the original, and its state carries to its addenda
in force (see ``proposals.operations.transition``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa import access
from coopdesa.access import Action
from coopdesa.audit import operations as audit
from coopdesa.db import is_id, utcnow
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today, parse_date
from coopdesa.lifecycle.models import (
    OPEN_CHANGE_STATES,
    AgreementChange,
    ChangeKind,
    ChangeState,
)
from coopdesa.proposals import operations as proposal_ops
from coopdesa.proposals.models import EndGround, Proposal, ProposalFunding, ProposalParty
from coopdesa.proposals.states import FINAL_STATES, State

MAX_TEXT = 10_000
MAX_NAME = 120
#: States of an agreement that has been signed and not finished.
IN_FORCE = frozenset({State.SIGNED, State.ACTIVE, State.POSTPONED})
#: Which state each request starts from.
KIND_SOURCES = {
    ChangeKind.PENUNDAAN: frozenset({State.ACTIVE}),
    ChangeKind.PELANJUTAN: frozenset({State.POSTPONED}),
    ChangeKind.PEMBATALAN: frozenset({State.ACTIVE, State.POSTPONED}),
    ChangeKind.PENGAKHIRAN: frozenset({State.ACTIVE, State.POSTPONED}),
}
#: Grounds a deliberated ending may rest on; huruf i (the term expired) needs no
#: deliberation and has its own action, :func:`end_on_expiry`.
DELIBERATED_GROUNDS = tuple(g for g in EndGround if g != EndGround.I_JANGKA_WAKTU)
#: The copied content of an agreement when an addendum starts.
CONTENT_FIELDS = ("kind", "initiative", "title", "menimbang", "mengingat", "tujuan",
                  "ruang_lingkup", "bidang", "bidang_uraian", "tata_cara", "start_date",
                  "end_date", "perubahan", "perselisihan", "analisis_biaya_manfaat",
                  "kerangka_acuan_kerja", "kabupaten_code")
PARTY_FIELDS = ("actor_id", "desa_code", "role", "position", "signatory_name",
                "signatory_office", "delegates", "hak", "kewajiban")
ORDINALS = {1: "Pertama", 2: "Kedua", 3: "Ketiga", 4: "Keempat", 5: "Kelima", 6: "Keenam",
            7: "Ketujuh", 8: "Kedelapan", 9: "Kesembilan", 10: "Kesepuluh"}


class ChangesOf:
    """Target for access rules on the change requests of ``proposal``."""

    __tablename__ = "agreement_change"

    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


def _raise_all(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)


def _text(value: Any, field: str, errors: dict[str, list[str]], *, limit: int,
          required: bool = False, label: str = "") -> str | None:
    if value is not None and not isinstance(value, str):
        errors.setdefault(field, []).append(_("Harus berupa teks."))
        return None
    text = (value or "").strip().replace("\x00", "")
    if not text:
        if required:
            errors.setdefault(field, []).append(_("%(label)s wajib diisi.", label=label))
        return None
    if len(text) > limit:
        errors.setdefault(field, []).append(
            _("%(label)s terlalu panjang (paling banyak %(n)d karakter).", label=label,
              n=limit))
        return None
    return text


def amendment_label(proposal: Proposal) -> str:
    """"Perubahan Pertama", "Perubahan Kedua", ... of an addendum."""
    seq = proposal.amendment_seq or 0
    return _("Perubahan %(ordinal)s", ordinal=ORDINALS.get(seq, f"ke-{seq}"))


# --- reading -------------------------------------------------------------------------------

def root_of(proposal: Proposal) -> Proposal:
    """The original agreement an addendum changes (itself if it is one)."""
    return proposal.amends if proposal.amends_id is not None else proposal


def addenda_of(root: Proposal) -> list[Proposal]:
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.amends_id == root.id)
        .order_by(Proposal.amendment_seq)))


def addenda_in_force(root: Proposal) -> list[Proposal]:
    return [a for a in addenda_of(root) if a.state in IN_FORCE]


def effective_end(root: Proposal) -> dt.date | None:
    """The end of the term as the latest addendum in force sets it (an extension is a
    change like any other); once the agreement has ended, as its addenda (ended with it)
    had set it."""
    kept = IN_FORCE | {State.ENDED} if root.state == State.ENDED else IN_FORCE
    for addendum in reversed([a for a in addenda_of(root) if a.state in kept]):
        if addendum.end_date is not None:
            return addendum.end_date
    return root.end_date


def changes_of(proposal: Proposal) -> list[AgreementChange]:
    return list(db.session.scalars(
        sa.select(AgreementChange).where(AgreementChange.proposal_id == proposal.id)
        .order_by(AgreementChange.requested_at.desc(), AgreementChange.id.desc())))


def open_change(proposal: Proposal) -> AgreementChange | None:
    return db.session.scalar(
        sa.select(AgreementChange).where(AgreementChange.proposal_id == proposal.id,
                                         AgreementChange.state.in_(OPEN_CHANGE_STATES)))


def get_change(change_id: Any) -> AgreementChange:
    change = db.session.get(AgreementChange, change_id) if is_id(change_id) else None
    if change is None:
        raise NotFoundError(_("Permohonan perubahan status tidak ditemukan."))
    return change


def change_dict(change: AgreementChange) -> dict[str, Any]:
    return {
        "id": change.id, "proposal_id": change.proposal_id, "kind": change.kind.value,
        "kind_label": change.kind.label, "state": change.state.value,
        "state_label": change.state.label, "reason": change.reason,
        "end_ground": change.end_ground.value if change.end_ground else None,
        "replacement_id": change.replacement_id,
        "replacement_ref": change.replacement.ref if change.replacement else None,
        "requested_at": change.requested_at.isoformat(),
        "held_on": change.held_on.isoformat() if change.held_on else None,
        "place": change.place, "representatives": change.representatives or [],
        "decision_note": change.decision_note,
        "effective_on": change.effective_on.isoformat() if change.effective_on else None,
        "until": change.until.isoformat() if change.until else None,
        "decided_at": change.decided_at.isoformat() if change.decided_at else None,
        "applied_at": change.applied_at.isoformat() if change.applied_at else None,
        "withdrawn_note": change.withdrawn_note, "version": change.version,
    }


def _require_root(proposal: Proposal) -> None:
    if proposal.amends_id is not None:
        raise ConflictError(_(
            "%(ref)s adalah perubahan (adendum) atas %(root)s; ajukan penundaan, pembatalan "
            "atau pengakhiran pada kerja sama induknya.", ref=proposal.ref,
            root=proposal.amends.ref))


# --- requests and decisions ----------------------------------------------------------------

def request_refusal(proposal: Proposal, kind: ChangeKind) -> str | None:
    """Why a ``kind`` request cannot be made now, in plain words, or None."""
    if proposal.amends_id is not None:
        return _("Ajukan pada kerja sama induknya (%(root)s).", root=proposal.amends.ref)
    if proposal.state not in KIND_SOURCES[kind]:
        return _("%(kind)s tidak dapat diajukan untuk kerja sama berstatus %(state)s.",
                 kind=kind.label, state=proposal.state.label)
    current = open_change(proposal)
    if current is not None:
        return _("Masih ada permohonan %(kind)s yang belum selesai (%(state)s); selesaikan "
                 "atau tarik dahulu.", kind=current.kind.label.lower(),
                 state=current.state.label.lower())
    return None


def _replacement(value: Any, proposal: Proposal, user: Any,
                 errors: dict[str, list[str]]) -> Proposal | None:
    ref = value.strip().upper() if isinstance(value, str) else ""
    if not ref:
        errors.setdefault("replacement_ref", []).append(_(
            "Sebutkan nomor registrasi kerja sama baru yang menggantikan (mis. "
            "KSD-2026-00012)."))
        return None
    other = db.session.scalar(sa.select(Proposal).where(Proposal.ref == ref))
    if other is None or not access.can(user, Action.VIEW, other):
        errors.setdefault("replacement_ref", []).append(
            _("Kerja sama %(ref)s tidak ditemukan.", ref=ref))
        return None
    if other.id == proposal.id or other.amends_id == proposal.id:
        errors.setdefault("replacement_ref", []).append(_(
            "Pengganti harus perjanjian baru, bukan kerja sama ini atau perubahannya."))
        return None
    if other.state not in IN_FORCE:
        errors.setdefault("replacement_ref", []).append(_(
            "Kerja sama pengganti %(ref)s berstatus %(state)s; pengganti harus sudah "
            "ditandatangani.", ref=other.ref, state=other.state.label))
        return None
    if not set(other.desa_codes) & set(proposal.desa_codes):
        errors.setdefault("replacement_ref", []).append(_(
            "Kerja sama pengganti tidak melibatkan desa pihak kerja sama ini."))
        return None
    return other


def request_change(proposal: Proposal, user: Any, data: dict[str, Any]) -> AgreementChange:
    """Record a request to postpone, resume, cancel or end ``proposal``; it takes effect
    only through :func:`decide_change`."""
    access.require(user, Action.VIEW, proposal)
    access.require(user, Action.CREATE, ChangesOf(proposal))
    errors: dict[str, list[str]] = {}
    try:
        kind = ChangeKind(data.get("kind") or "")
    except ValueError:
        raise _fail("kind", _("Pilih jenis permohonan: penundaan, pelanjutan, pembatalan "
                              "atau pengakhiran.")) from None
    refusal = request_refusal(proposal, kind)
    if refusal is not None:
        raise ConflictError(refusal)
    reason = _text(data.get("reason"), "reason", errors, limit=MAX_TEXT, required=True,
                   label=_("Alasan"))
    ground = replacement = None
    if kind in (ChangeKind.PEMBATALAN, ChangeKind.PENGAKHIRAN):
        raw = data.get("end_ground") or ""
        try:
            ground = EndGround(raw) if isinstance(raw, str) else None
        except ValueError:
            ground = None
        if ground is None or ground == EndGround.I_JANGKA_WAKTU:
            errors.setdefault("end_ground", []).append(_(
                "Pilih dasar menurut PP 43/2014 Pasal 147 huruf a sampai h (berakhirnya "
                "jangka waktu, huruf i, tidak memerlukan musyawarah)."))
        elif ground == EndGround.E_DIGANTI:
            replacement = _replacement(data.get("replacement_ref"), proposal, user, errors)
    _raise_all(errors)
    change = AgreementChange(proposal_id=proposal.id, kind=kind, reason=reason,
                             end_ground=ground,
                             replacement_id=replacement.id if replacement else None,
                             requested_by_id=getattr(user, "id", None),
                             state=ChangeState.REQUESTED, representatives=[])
    db.session.add(change)
    db.session.flush()
    audit.record("agreement.change.request", user=user, object_type="agreement_change",
                 object_id=change.id, proposal_id=proposal.id,
                 summary=_l("Permohonan %(kind)s dicatat", kind=kind.label),
                 after=change_dict(change))
    return change


def _representatives(proposal: Proposal, value: Any,
                     errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One representative (name and office) for every party bound by the agreement: the
    deliberation includes all of them (Pasal 145)."""
    given: dict[int, dict[str, Any]] = {}
    if value is not None and not isinstance(value, list):
        errors.setdefault("representatives", []).append(
            _("Harus berupa daftar wakil para pihak."))
        return []
    for row in value or []:
        if isinstance(row, dict) and is_id(row.get("party_id")):
            given[row["party_id"]] = row
    out = []
    for party in proposal.parties:
        row = given.get(party.id, {})
        field = f"rep_{party.id}"
        name = _text(row.get("name"), f"{field}_name", errors, limit=MAX_NAME,
                     required=True, label=_("Nama wakil %(party)s", party=party.name))
        office = _text(row.get("office"), f"{field}_office", errors, limit=MAX_NAME,
                       required=True, label=_("Jabatan wakil %(party)s", party=party.name))
        out.append({"party_id": party.id, "party": party.name, "name": name,
                    "office": office})
    unknown = set(given) - {p.id for p in proposal.parties}
    if unknown:
        errors.setdefault("representatives", []).append(
            _("Wakil disebut untuk pihak yang tidak terikat kerja sama ini."))
    return out


def decide_change(change: AgreementChange, user: Any, data: dict[str, Any], *,
                  today: dt.date | None = None) -> AgreementChange:
    """Record the deliberation with every bound party and its decision; an approved
    change takes effect on its effective date (at once when that is today or earlier)."""
    proposal = change.proposal
    access.require(user, Action.VIEW, proposal)
    access.require(user, Action.EDIT, ChangesOf(proposal))
    expected = data.get("version")
    if expected is not None and str(expected) != str(change.version):
        raise ConflictError(_("Permohonan ini telah berubah sejak halaman Anda dimuat; muat "
                              "ulang halaman. Tidak ada yang diubah."))
    if change.state != ChangeState.REQUESTED:
        raise ConflictError(_("Keputusan atas permohonan ini sudah dicatat (%(state)s).",
                              state=change.state.label))
    today = today or local_today()
    errors: dict[str, list[str]] = {}
    outcome = data.get("outcome")
    if outcome not in ("approved", "rejected"):
        errors["outcome"] = [_("Pilih keputusan musyawarah: disepakati atau tidak "
                               "disepakati.")]
    held_on = parse_date(data.get("held_on"), "held_on", errors)
    if held_on is None and "held_on" not in errors:
        errors["held_on"] = [_("Tanggal musyawarah wajib diisi.")]
    elif held_on is not None:
        requested_on = change.requested_at.date()
        if held_on > today:
            errors["held_on"] = [_("Tanggal musyawarah tidak boleh di masa depan: keputusan "
                                   "dicatat setelah musyawarah berlangsung.")]
        elif held_on < requested_on - dt.timedelta(days=1):
            errors["held_on"] = [_("Musyawarah harus diadakan sesudah permohonan diajukan "
                                   "(%(day)s).", day=requested_on.isoformat())]
    place = _text(data.get("place"), "place", errors, limit=200, required=True,
                  label=_("Tempat musyawarah"))
    representatives = _representatives(proposal, data.get("representatives"), errors)
    note = _text(data.get("decision_note"), "decision_note", errors, limit=MAX_TEXT,
                 required=outcome == "rejected", label=_("Catatan keputusan"))
    effective_on = until = None
    if outcome == "approved":
        effective_on = parse_date(data.get("effective_on"), "effective_on", errors)
        if effective_on is None and "effective_on" not in errors:
            errors["effective_on"] = [_("Tanggal mulai berlakunya keputusan wajib diisi.")]
        elif effective_on is not None and held_on is not None and effective_on < held_on:
            errors["effective_on"] = [_("Keputusan tidak dapat berlaku sebelum "
                                        "musyawarahnya.")]
        if change.kind == ChangeKind.PENUNDAAN:
            until = parse_date(data.get("until"), "until", errors)
            if until is not None and effective_on is not None and until <= effective_on:
                errors["until"] = [_("Akhir penundaan harus sesudah tanggal mulai "
                                     "penundaan.")]
        end = effective_end(proposal)
        if (change.kind in (ChangeKind.PENUNDAAN, ChangeKind.PELANJUTAN) and effective_on
                and end and effective_on > end):
            errors.setdefault("effective_on", []).append(_(
                "Tanggal itu sesudah berakhirnya jangka waktu kerja sama (%(end)s).",
                end=end.isoformat()))
    _raise_all(errors)
    before = change_dict(change)
    change.held_on = held_on
    change.place = place
    change.representatives = representatives
    change.decision_note = note
    change.effective_on = effective_on
    change.until = until
    change.decided_by_id = getattr(user, "id", None)
    change.decided_at = utcnow()
    change.state = ChangeState.APPROVED if outcome == "approved" else ChangeState.REJECTED
    db.session.flush()
    audit.record("agreement.change.decide", user=user, object_type="agreement_change",
                 object_id=change.id, proposal_id=proposal.id,
                 summary=_l("Keputusan musyawarah atas %(kind)s: %(state)s",
                            kind=change.kind.label, state=change.state.label),
                 before={"state": before["state"]}, after=change_dict(change))
    if change.state == ChangeState.APPROVED and effective_on <= today:
        apply_change(change, today=today)
    return change


def withdraw_change(change: AgreementChange, user: Any, note: Any) -> AgreementChange:
    proposal = change.proposal
    access.require(user, Action.VIEW, proposal)
    access.require(user, Action.CREATE, ChangesOf(proposal))
    if change.state != ChangeState.REQUESTED:
        raise ConflictError(_("Hanya permohonan yang belum diputuskan yang dapat ditarik; "
                              "permohonan ini %(state)s.", state=change.state.label.lower()))
    errors: dict[str, list[str]] = {}
    text = _text(note, "note", errors, limit=MAX_TEXT, required=True,
                 label=_("Alasan penarikan"))
    _raise_all(errors)
    change.state = ChangeState.WITHDRAWN
    change.withdrawn_note = text
    db.session.flush()
    audit.record("agreement.change.withdraw", user=user, object_type="agreement_change",
                 object_id=change.id, proposal_id=proposal.id,
                 summary=_l("Permohonan %(kind)s ditarik", kind=change.kind.label),
                 before={"state": "requested"}, after={"state": "withdrawn", "note": text})
    return change


def apply_change(change: AgreementChange, *, today: dt.date | None = None) -> bool:
    """Put an approved change into effect; the clock calls this on its effective date.
    Returns False (and closes the change with the reason) when the agreement has moved on
    so that it can no longer apply."""
    proposal = change.proposal
    today = today or local_today()
    summary = _("Keputusan musyawarah %(day)s: %(kind)s.", day=change.held_on.isoformat(),
                kind=change.kind.label)
    if proposal.state not in KIND_SOURCES[change.kind]:
        change.state = ChangeState.WITHDRAWN
        change.withdrawn_note = _("Tidak dapat diberlakukan: kerja sama berstatus %(state)s "
                                  "pada tanggal berlakunya.", state=proposal.state.label)
        db.session.flush()
        audit.record("agreement.change.lapse", user=None, object_type="agreement_change",
                     object_id=change.id, proposal_id=proposal.id,
                     summary=_l("Keputusan %(kind)s tidak dapat diberlakukan",
                                kind=change.kind.label),
                     after={"state": "withdrawn", "proposal_state": proposal.state.value})
        return False
    text = f"{summary} {change.decision_note or change.reason}".strip()
    if change.kind == ChangeKind.PENUNDAAN:
        proposal_ops.transition(proposal, None, "postpone", text=text)
    elif change.kind == ChangeKind.PELANJUTAN:
        proposal_ops.transition(proposal, None, "resume", text=text)
    else:
        if change.end_ground == EndGround.E_DIGANTI:
            proposal.replaced_by_id = change.replacement_id
        proposal_ops.transition(proposal, None, "end", ground=change.end_ground.value,
                                ended_on=min(change.effective_on, today), text=text,
                                today=today)
    change.state = ChangeState.APPLIED
    change.applied_at = utcnow()
    db.session.flush()
    return True


def end_on_expiry(proposal: Proposal, user: Any, *, today: dt.date | None = None) -> Proposal:
    """End an agreement whose term has expired (Pasal 147 huruf i): no deliberation is
    needed, only the date. The clock does the same every night."""
    access.require(user, Action.VIEW, proposal)
    access.require(user, Action.CREATE, ChangesOf(proposal))
    _require_root(proposal)
    today = today or local_today()
    if proposal.state not in (State.ACTIVE, State.POSTPONED):
        raise ConflictError(_("Kerja sama berstatus %(state)s tidak dapat diakhiri.",
                              state=proposal.state.label))
    end = effective_end(proposal)
    if end is None or end >= today:
        raise ConflictError(_(
            "Jangka waktu kerja sama ini belum berakhir (sampai %(end)s). Sebelum itu kerja "
            "sama hanya dapat diakhiri atau dibatalkan dengan keputusan musyawarah para "
            "pihak (PP 43/2014 Pasal 145-147).", end=end.isoformat() if end else "—"))
    proposal_ops.transition(proposal, None, "end", ground=EndGround.I_JANGKA_WAKTU.value,
                            ended_on=min(end + dt.timedelta(days=1), today), today=today,
                            text=_("Jangka waktu kerja sama telah berakhir pada %(end)s.",
                                   end=end.isoformat()))
    audit.record("agreement.end_on_expiry", user=user, object_type="proposal",
                 object_id=proposal.id, proposal_id=proposal.id,
                 summary=_l("Kerja sama diakhiri karena jangka waktunya habis"),
                 after={"ground": "i", "term_end": end.isoformat()})
    return proposal


def apply_due(today: dt.date | None = None) -> dict[str, int]:
    """The clock's part: approved changes whose day has come, and postponements whose
    ``until`` has passed (the agreement resumes by itself). Safe to run repeatedly."""
    today = today or local_today()
    applied = resumed = 0
    due = db.session.scalars(
        sa.select(AgreementChange)
        .where(AgreementChange.state == ChangeState.APPROVED,
               AgreementChange.effective_on <= today)
        .order_by(AgreementChange.effective_on, AgreementChange.id)).all()
    for change in due:
        applied += apply_change(change, today=today)
    postponed = db.session.scalars(
        sa.select(Proposal).where(Proposal.state == State.POSTPONED,
                                  Proposal.amends_id.is_(None))).all()
    for proposal in postponed:
        last = db.session.scalar(
            sa.select(AgreementChange)
            .where(AgreementChange.proposal_id == proposal.id,
                   AgreementChange.kind == ChangeKind.PENUNDAAN,
                   AgreementChange.state == ChangeState.APPLIED)
            .order_by(AgreementChange.applied_at.desc(), AgreementChange.id.desc()).limit(1))
        if last is not None and last.until is not None and last.until <= today:
            proposal_ops.transition(proposal, None, "resume", text=_(
                "Masa penundaan yang diputuskan dalam musyawarah %(day)s berakhir pada "
                "%(until)s.", day=last.held_on.isoformat(), until=last.until.isoformat()))
            resumed += 1
    return {"changes_applied": applied, "resumed": resumed}


# --- addenda -------------------------------------------------------------------------------

def addendum_refusal(proposal: Proposal) -> str | None:
    if proposal.amends_id is not None:
        return _("Perubahan disusun atas kerja sama induknya (%(root)s).",
                 root=proposal.amends.ref)
    if proposal.state not in (State.ACTIVE, State.POSTPONED):
        return _("Perubahan (adendum) hanya dapat disusun untuk kerja sama yang berlaku; "
                 "kerja sama ini berstatus %(state)s.", state=proposal.state.label)
    busy = [a for a in addenda_of(proposal)
            if a.state not in IN_FORCE and a.state not in FINAL_STATES]
    if busy:
        return _("Perubahan %(ref)s masih dalam proses (%(state)s); selesaikan atau tarik "
                 "dahulu.", ref=busy[0].ref, state=busy[0].state.label)
    return None


def start_addendum(root: Proposal, user: Any) -> Proposal:
    """Start a perubahan: a new draft with the agreement's current content (its latest
    addendum in force, else the original) that goes through review, the musyawarah gates
    and signing again, and gets its own number, PDF and verification code."""
    access.require(user, Action.VIEW, root)
    access.require(user, Action.PROPOSE, root)
    refusal = addendum_refusal(root)
    if refusal is not None:
        raise ConflictError(refusal)
    in_force = addenda_in_force(root)
    source = in_force[-1] if in_force else root
    seq = (db.session.scalar(sa.select(sa.func.max(Proposal.amendment_seq))
                             .where(Proposal.amends_id == root.id)) or 0) + 1
    addendum = Proposal(state=State.DRAFT, ref="KSD-DRAFT", amends_id=root.id,
                        amendment_seq=seq, created_by_id=getattr(user, "id", None),
                        title_key=source.title.lower(),
                        **{f: getattr(source, f) for f in CONTENT_FIELDS})
    addendum.bidang = list(source.bidang or [])
    db.session.add(addendum)
    db.session.flush()
    addendum.ref = proposal_ops._next_ref(addendum)
    for party in source.parties:
        copy = ProposalParty(proposal_id=addendum.id,
                             **{f: getattr(party, f) for f in PARTY_FIELDS})
        copy.funding = [ProposalFunding(source=f.source, amount=f.amount,
                                        apbdes_year=f.apbdes_year, description=f.description)
                        for f in party.funding]
        addendum.parties.append(copy)
    db.session.flush()
    audit.record("agreement.addendum.start", user=user, object_type="proposal",
                 object_id=addendum.id, proposal_id=addendum.id,
                 summary=_l("%(label)s atas %(ref)s disusun", label=amendment_label(addendum),
                            ref=root.ref),
                 after={"ref": addendum.ref, "amends": root.ref, "seq": seq,
                        "copied_from": source.ref})
    audit.record("agreement.addendum.start", user=user, object_type="proposal",
                 object_id=root.id, proposal_id=root.id,
                 summary=_l("Perubahan %(ref)s mulai disusun", ref=addendum.ref),
                 after={"addendum": addendum.ref, "seq": seq})
    return addendum


if apply_due not in proposal_ops.LIFECYCLE_HOOKS:
    proposal_ops.LIFECYCLE_HOOKS.append(apply_due)
