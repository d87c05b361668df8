"""Opening a dispute, carrying it along the route of PP 43/2014 Pasal 148, withdrawing it,
and the berita acara of its settlement.

The route depends on the parties in dispute: first, always, a musyawarah of the parties;
if that does not settle it, villages of one kecamatan go to their Camat and villages of
different kecamatan of one kabupaten/kota to the Bupati/Wali Kota, whose settlement is
final; a dispute with a third party that is not settled goes to court (a Camat may
facilitate first when the agreement provides so). Every refusal says why, names the
field, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import flag_modified

from coopdesa import access
from coopdesa.access import Action, DisputeOf
from coopdesa.audit import operations as audit
from coopdesa.db import is_id, utcnow
from coopdesa.disputes.models import (
    Dispute,
    DisputeParty,
    DisputeState,
    DisputeStep,
    Level,
    Outcome,
)
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.files.operations import store_generated_pdf, store_upload
from coopdesa.i18n import local_today, parse_date
from coopdesa.proposals.models import Proposal, ProposalParty
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region, RegionKind

#: An agreement may be disputed once signed, while in force or postponed.
DISPUTABLE_STATES = frozenset({State.SIGNED, State.ACTIVE, State.POSTPONED})
#: Levels whose settlement is final (PP 43/2014 Pasal 148).
FINAL_LEVELS = frozenset({Level.CAMAT, Level.BUPATI})
MAX_SUBJECT = 300
MAX_TEXT = 10_000
MAX_NAME = 120
MAX_PLACE = 200
MAX_CASE = 80
#: Acting officials sign with these prefixes before the office.
ACTING_PREFIXES = ("plt.", "plt", "plh.", "plh", "pj.", "pj")


def _fail(field_name: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field_name: [message]})


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]], *, limit: int,
          required: str | None = None, multiline: bool = False) -> str | None:
    """A cleaned text value, or None; a message under ``key`` when wrong or missing."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        errors[key] = [_("Harus berupa teks.")]
        return None
    if multiline:
        value = (value or "").replace("\r\n", "\n").strip()
    else:
        value = " ".join((value or "").split())
    if not value:
        if required:
            errors[key] = [required]
        return None
    if len(value) > limit:
        errors[key] = [_("Paling banyak %(n)d karakter.", n=limit)]
    return value


def _check_version(dispute: Dispute, expected_version: Any) -> None:
    if expected_version is None or expected_version == "":
        return
    if str(expected_version) != str(dispute.version):
        raise ConflictError(_("Catatan perselisihan ini telah diubah oleh orang lain sejak "
                              "Anda membukanya. Muat ulang halaman, periksa perubahannya, "
                              "lalu kirim lagi."),
                            details={"current": {"state": dispute.state.value,
                                                 "version": dispute.version}})


# --- reading -------------------------------------------------------------------------------

def get_dispute(dispute_id: Any) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id) if is_id(dispute_id) else None
    if dispute is None:
        raise NotFoundError(_("Perselisihan tidak ditemukan."))
    return dispute


def disputes_of(proposal: Proposal) -> list[Dispute]:
    return list(db.session.scalars(sa.select(Dispute).where(Dispute.proposal_id == proposal.id)
                                   .order_by(Dispute.opened_at.desc(), Dispute.id.desc())))


def open_disputes_of(proposal: Proposal) -> list[Dispute]:
    return [d for d in disputes_of(proposal) if d.is_open]


# --- the route (Pasal 148) -----------------------------------------------------------------

@dataclass
class Route:
    """What Pasal 148 prescribes for a set of disputing parties."""

    third_party: bool
    #: The kecamatan (one, or None across kecamatan) and kabupaten/kota of the villages.
    kecamatan: Region | None
    kabupaten: Region | None
    #: The levels in order, as shown; ``optional`` levels may be skipped.
    levels: list[Level] = field(default_factory=list)
    optional: set[Level] = field(default_factory=set)

    def official(self, level: Level) -> str | None:
        """The title of the official of ``level`` for these parties: "Camat Kejajar"."""
        if level == Level.CAMAT and self.kecamatan is not None:
            return f"Camat {self.kecamatan.name}"
        if level == Level.BUPATI and self.kabupaten is not None:
            return f"{_head_title(self.kabupaten)} {_bare_name(self.kabupaten)}"
        return None


def _head_title(kabupaten: Region) -> str:
    return "Wali Kota" if kabupaten.kind == RegionKind.KOTA else "Bupati"


def _bare_name(kabupaten: Region) -> str:
    return kabupaten.name.removeprefix("Kabupaten ").removeprefix("Kota ")


def route_for(parties: list[ProposalParty]) -> Route:
    villages = [db.session.get(Region, p.desa_code) for p in parties if p.desa_code]
    villages = [v for v in villages if v is not None]
    kecamatan_codes = {v.ancestor_code(3) for v in villages}
    kabupaten_codes = {v.ancestor_code(2) for v in villages}
    kecamatan = (db.session.get(Region, next(iter(kecamatan_codes)))
                 if len(kecamatan_codes) == 1 else None)
    kabupaten = (db.session.get(Region, next(iter(kabupaten_codes)))
                 if len(kabupaten_codes) == 1 else None)
    third = any(not p.desa_code for p in parties)
    route = Route(third_party=third, kecamatan=kecamatan, kabupaten=kabupaten,
                  levels=[Level.MUSYAWARAH])
    if third:
        if kecamatan is not None:
            route.levels.append(Level.CAMAT)
            route.optional.add(Level.CAMAT)
        route.levels.append(Level.PENGADILAN)
    elif kecamatan is not None:
        route.levels.append(Level.CAMAT)
    elif kabupaten is not None:
        route.levels.append(Level.BUPATI)
    return route


def route_of(dispute: Dispute) -> Route:
    return route_for(dispute.disputing_parties)


def route_rows(dispute: Dispute) -> list[dict[str, Any]]:
    """The route as an ordered list with each level's official and where the dispute is."""
    route = route_of(dispute)
    taken = [s.level for s in dispute.steps]
    current = taken[-1] if taken else Level.MUSYAWARAH
    rows = []
    for level in route.levels:
        status = "pending"
        if level in taken:
            status = "done"
        if level == current and dispute.is_open:
            status = "current"
        rows.append({"level": level, "label": level.label, "official": route.official(level),
                     "optional": level in route.optional, "status": status})
    return rows


def _office_forms(route: Route, level: Level) -> set[str]:
    """The spellings accepted for the official's office ("Camat Kejajar", "Camat
    Kecamatan Kejajar"), lower case."""
    forms: set[str] = set()
    if level == Level.CAMAT and route.kecamatan is not None:
        name = route.kecamatan.name.lower()
        forms |= {f"camat {name}", f"camat kecamatan {name}"}
    if level == Level.BUPATI and route.kabupaten is not None:
        name = _bare_name(route.kabupaten).lower()
        if route.kabupaten.kind == RegionKind.KOTA:
            forms |= {f"wali kota {name}", f"walikota {name}", f"wali kota kota {name}"}
        else:
            forms |= {f"bupati {name}", f"bupati kabupaten {name}"}
    return forms


def _normal_office(office: str) -> str:
    words = office.lower().replace(",", " ").split()
    while words and words[0] in ACTING_PREFIXES:
        words = words[1:]
    return " ".join(words)


def level_refusal(dispute: Dispute, level: Level) -> str | None:
    """Why ``level`` is not the next step of ``dispute`` (Pasal 148), or None."""
    route = route_of(dispute)
    if not dispute.steps and level != Level.MUSYAWARAH:
        return _("Perselisihan diselesaikan lebih dahulu secara musyawarah oleh para pihak; "
                 "catat musyawarah itu sebelum langkah %(level)s (PP 43/2014 Pasal 148).",
                 level=level.label)
    if level == Level.MUSYAWARAH:
        return None
    if route.kabupaten is None and any(p.desa_code for p in dispute.disputing_parties):
        return _("Desa yang berselisih berada di kabupaten/kota yang berbeda; "
                 "penyelesaiannya mengikuti ketentuan kerja sama antar-daerah, bukan "
                 "Pasal 148 PP 43/2014.")
    if level == Level.CAMAT and route.kecamatan is None and route.third_party:
        return _("Camat memfasilitasi hanya bila desa yang berselisih berada dalam satu "
                 "kecamatan; perselisihan dengan pihak ketiga yang tidak selesai dengan "
                 "musyawarah diselesaikan melalui pengadilan.")
    if level == Level.CAMAT and route.kecamatan is None:
        return _("Desa yang berselisih berada di kecamatan yang berbeda; perselisihannya "
                 "diselesaikan oleh %(official)s, bukan oleh Camat.",
                 official=route.official(Level.BUPATI) or _("Bupati/Wali Kota"))
    if level == Level.BUPATI and route.third_party:
        return _("Perselisihan dengan pihak ketiga yang tidak selesai dengan musyawarah "
                 "diselesaikan melalui pengadilan, bukan oleh Bupati/Wali Kota.")
    if level == Level.BUPATI and route.kecamatan is not None:
        return _("Desa yang berselisih berada dalam satu kecamatan; perselisihannya "
                 "diselesaikan oleh %(official)s, bukan oleh Bupati/Wali Kota.",
                 official=route.official(Level.CAMAT))
    if level == Level.PENGADILAN and not route.third_party:
        return _("Perselisihan antar-Desa diselesaikan oleh Camat atau Bupati/Wali Kota dan "
                 "penyelesaiannya bersifat final; jalur pengadilan hanya untuk perselisihan "
                 "dengan pihak ketiga.")
    return None


# --- opening -------------------------------------------------------------------------------

def _party_ids(value: Any) -> list[int] | None:
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list):
        return None
    ids = []
    for item in value:
        if isinstance(item, bool):
            return None
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item.strip())
        if not is_id(item):
            return None
        ids.append(item)
    return ids


def open_dispute(proposal: Proposal, user: Any, data: dict[str, Any]) -> Dispute:
    """Record a dispute between at least two parties of a signed agreement.
    Raises AccessDenied, ConflictError (agreement not in force) or ValidationError."""
    access.require(user, Action.VIEW, proposal)
    access.require(user, Action.CREATE, DisputeOf(proposal))
    if proposal.state not in DISPUTABLE_STATES:
        raise ConflictError(_("Perselisihan dicatat atas kerja sama yang sudah "
                              "ditandatangani, sedang berlaku atau ditunda; status kerja "
                              "sama ini %(state)s.", state=proposal.state.label))
    errors: dict[str, list[str]] = {}
    subject = _text(data, "subject", errors, limit=MAX_SUBJECT,
                    required=_("Pokok perselisihan wajib diisi."))
    clauses = _text(data, "clauses", errors, limit=MAX_TEXT, multiline=True,
                    required=_("Sebutkan pasal atau bab perjanjian yang diperselisihkan."))
    description = _text(data, "description", errors, limit=MAX_TEXT, multiline=True)
    ids = _party_ids(data.get("party_ids"))
    parties: list[ProposalParty] = []
    if ids is None:
        errors["party_ids"] = [_("Pilih pihak yang berselisih.")]
    else:
        by_id = {p.id: p for p in proposal.parties}
        if any(i not in by_id for i in ids):
            errors["party_ids"] = [_("Pihak itu tidak ada pada kerja sama ini.")]
        else:
            parties = [by_id[i] for i in dict.fromkeys(ids)]
            if len(parties) < 2:
                errors["party_ids"] = [_("Perselisihan melibatkan sedikitnya dua pihak kerja "
                                         "sama.")]
    if errors:
        raise ValidationError(_("Periksa kembali isian perselisihan."), fields=errors)
    access.require(user, Action.CREATE, DisputeOf(proposal, parties))

    dispute = Dispute(proposal_id=proposal.id, proposal=proposal, subject=subject,
                      clauses=clauses, description=description,
                      opened_by_id=getattr(user, "id", None), state=DisputeState.OPEN,
                      opened_at=utcnow())
    dispute.parties = [DisputeParty(party_id=p.id, party=p) for p in parties]
    db.session.add(dispute)
    db.session.flush()
    audit.record("dispute.open", user=user, object_type="dispute", object_id=dispute.id,
                 proposal_id=proposal.id,
                 summary=_l("Perselisihan dicatat: %(subject)s", subject=subject),
                 after={"subject": subject, "clauses": clauses,
                        "parties": [p.name for p in parties]})
    return dispute


# --- steps ---------------------------------------------------------------------------------

def _signatories(dispute: Dispute, value: Any, errors: dict[str, list[str]]) -> list[dict]:
    """One name and office per disputing party, as given for a settled step."""
    parties = {p.id: p for p in dispute.disputing_parties}
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        errors["signatories"] = [_("Sebutkan nama dan jabatan penanda tangan setiap pihak "
                                   "yang berselisih.")]
        return []
    rows: dict[int, dict[str, str]] = {}
    problems: list[str] = []
    for item in value:
        pid = item.get("party_id")
        pid = int(pid) if isinstance(pid, str) and pid.isdigit() else pid
        if not isinstance(pid, int) or isinstance(pid, bool) or pid not in parties:
            problems.append(_("Penanda tangan hanya untuk pihak yang berselisih."))
            continue
        name, office = item.get("name"), item.get("office")
        if not isinstance(name, str) or not isinstance(office, str):
            problems.append(_("Nama dan jabatan penanda tangan %(party)s wajib diisi.",
                              party=parties[pid].name))
            continue
        name, office = " ".join(name.split()), " ".join(office.split())
        if not name or not office:
            problems.append(_("Nama dan jabatan penanda tangan %(party)s wajib diisi.",
                              party=parties[pid].name))
        elif len(name) > MAX_NAME or len(office) > MAX_NAME:
            problems.append(_("Nama dan jabatan paling banyak %(n)d karakter.", n=MAX_NAME))
        rows[pid] = {"party_id": pid, "name": name, "office": office}
    missing = [p.name for pid, p in parties.items() if pid not in rows]
    if missing:
        problems.append(_("Belum ada penanda tangan untuk: %(names)s.",
                          names=", ".join(missing)))
    if problems:
        errors["signatories"] = list(dict.fromkeys(problems))
    return [rows[pid] for pid in parties if pid in rows]


def record_step(dispute: Dispute, user: Any, data: dict[str, Any], *,
                today: dt.date | None = None) -> DisputeStep:
    """Record the next step on the route. A settled step settles the dispute and makes its
    berita acara; a court step sends it to court. Raises AccessDenied, ConflictError
    (closed, or changed meanwhile: ``data["expected_version"]``) or ValidationError."""
    proposal = dispute.proposal
    access.require(user, Action.VIEW, dispute)
    access.require(user, Action.EDIT, dispute)
    _check_version(dispute, data.get("expected_version"))
    if not dispute.is_open:
        raise ConflictError(_("Perselisihan ini sudah %(state)s; tidak ada langkah "
                              "penyelesaian lagi yang dapat dicatat.",
                              state=dispute.state.label.lower()))
    errors: dict[str, list[str]] = {}
    try:
        level = Level(data.get("level") or "")
    except ValueError:
        level = None
        errors["level"] = [_("Pilih tingkat penyelesaian.")]
    if level is not None:
        refusal = level_refusal(dispute, level)
        if refusal:
            errors["level"] = [refusal]
    today = today or local_today()
    held_on = parse_date(data.get("held_on"), "held_on", errors)
    if held_on is None and "held_on" not in errors:
        errors["held_on"] = [_("Tanggal pelaksanaan wajib diisi.")]
    elif held_on is not None and held_on > today:
        errors["held_on"] = [_("Tanggal pelaksanaan tidak boleh di masa depan.")]
    elif held_on is not None and dispute.steps and held_on < dispute.steps[-1].held_on:
        errors["held_on"] = [_("Tanggal pelaksanaan tidak boleh sebelum langkah "
                               "sebelumnya (%(day)s).",
                               day=dispute.steps[-1].held_on.isoformat())]
    place = _text(data, "place", errors, limit=MAX_PLACE,
                  required=_("Tempat pelaksanaan wajib diisi."))
    official = level in (Level.CAMAT, Level.BUPATI)
    facilitator_name = _text(data, "facilitator_name", errors, limit=MAX_NAME,
                             required=_("Nama pejabat yang memfasilitasi wajib diisi.")
                             if official else None)
    facilitator_office = _text(data, "facilitator_office", errors, limit=MAX_NAME)
    if official and "level" not in errors:
        route = route_of(dispute)
        expected = route.official(level)
        if facilitator_office is None:
            facilitator_office = expected
        elif _normal_office(facilitator_office) not in _office_forms(route, level):
            errors["facilitator_office"] = [
                _("Langkah ini difasilitasi oleh %(expected)s, bukan %(given)s.",
                  expected=expected, given=facilitator_office)]
    court_name = case_number = None
    if level == Level.PENGADILAN:
        court_name = _text(data, "court_name", errors, limit=MAX_PLACE,
                           required=_("Nama pengadilan wajib diisi."))
        case_number = _text(data, "case_number", errors, limit=MAX_CASE,
                            required=_("Nomor perkara wajib diisi."))
    try:
        outcome = Outcome(data.get("outcome") or "")
    except ValueError:
        outcome = None
        errors["outcome"] = [_("Pilih hasil langkah ini.")]
    if outcome is not None and level is not None:
        if level == Level.PENGADILAN and outcome == Outcome.SETTLED:
            errors["outcome"] = [_("Untuk pengadilan pilih \u201cTidak tercapai "
                                   "kesepakatan\u201d (perkara diajukan) atau \u201cDiputus "
                                   "pengadilan\u201d.")]
        elif level != Level.PENGADILAN and outcome == Outcome.PUTUSAN:
            errors["outcome"] = [_("Putusan hanya dijatuhkan oleh pengadilan.")]
    summary = _text(data, "summary", errors, limit=MAX_TEXT, multiline=True,
                    required=_("Ringkasan jalannya penyelesaian wajib diisi."))
    settled = outcome == Outcome.SETTLED
    terms = _text(data, "terms", errors, limit=MAX_TEXT, multiline=True,
                  required=_("Tuliskan isi kesepakatan penyelesaian.") if settled else None)
    signatories = _signatories(dispute, data.get("signatories"), errors) if settled else []
    if errors:
        raise ValidationError(_("Periksa kembali isian langkah penyelesaian."), fields=errors)

    step = DisputeStep(
        dispute_id=dispute.id, position=len(dispute.steps) + 1, level=level, held_on=held_on,
        place=place, facilitator_name=facilitator_name, facilitator_office=facilitator_office,
        outcome=outcome, summary=summary, terms=terms if settled else None,
        court_name=court_name, case_number=case_number, signatories=signatories,
        recorded_by_id=getattr(user, "id", None), recorded_at=utcnow())
    dispute.steps.append(step)
    before = {"state": dispute.state.value}
    if settled:
        dispute.state = DisputeState.SETTLED
        dispute.closed_at = utcnow()
    elif level == Level.PENGADILAN:
        dispute.state = DisputeState.TO_COURT
        dispute.closed_at = utcnow()
    else:
        flag_modified(dispute, "subject")  # a step moves the version: racing steps conflict
    db.session.flush()
    audit.record("dispute.step", user=user, object_type="dispute", object_id=dispute.id,
                 proposal_id=proposal.id,
                 summary=_l("Langkah penyelesaian perselisihan dicatat: %(level)s, %(outcome)s",
                            level=level.label, outcome=outcome.label),
                 before=before,
                 after={"state": dispute.state.value, "level": level.value,
                        "held_on": held_on.isoformat(), "place": place,
                        "facilitator_name": facilitator_name,
                        "facilitator_office": facilitator_office, "outcome": outcome.value,
                        **({"court_name": court_name, "case_number": case_number}
                           if level == Level.PENGADILAN else {})})
    if settled:
        try_render(dispute)
    return step


def withdraw_dispute(dispute: Dispute, user: Any, reason: Any, *,
                     expected_version: Any = None) -> Dispute:
    """Withdraw an open dispute (the parties no longer pursue it); a reason is required."""
    access.require(user, Action.VIEW, dispute)
    access.require(user, Action.EDIT, dispute)
    _check_version(dispute, expected_version)
    if not dispute.is_open:
        raise ConflictError(_("Hanya perselisihan yang masih dalam penyelesaian yang dapat "
                              "dicabut; perselisihan ini %(state)s.",
                              state=dispute.state.label.lower()))
    errors: dict[str, list[str]] = {}
    text = _text({"reason": reason}, "reason", errors, limit=MAX_TEXT, multiline=True,
                 required=_("Alasan pencabutan wajib diisi."))
    if errors:
        raise ValidationError(errors["reason"][0], fields=errors)
    dispute.state = DisputeState.WITHDRAWN
    dispute.closed_at = utcnow()
    dispute.close_reason = text
    db.session.flush()
    audit.record("dispute.withdraw", user=user, object_type="dispute", object_id=dispute.id,
                 proposal_id=dispute.proposal_id,
                 summary=_l("Perselisihan dicabut: %(subject)s", subject=dispute.subject),
                 before={"state": DisputeState.OPEN.value},
                 after={"state": dispute.state.value, "reason": text})
    return dispute


# --- the berita acara ----------------------------------------------------------------------

def settling_step(dispute: Dispute) -> DisputeStep | None:
    return next((s for s in reversed(dispute.steps) if s.outcome == Outcome.SETTLED), None)


def _agreement(proposal: Proposal) -> dict[str, Any]:
    from coopdesa.documents import operations as docs

    document = docs.document_of(proposal)
    signatures = docs.signatures_of(proposal)
    antar = proposal.kind.value == "antar_desa"
    year = document.enacted_on.year if document is not None else None
    numbers = []
    for party in proposal.parties:
        signature = signatures.get(party.id)
        if signature is None:
            continue
        if antar:
            text = f"Nomor {signature.number}" + (f" Tahun {year}" if year else "")
        else:
            text = f"Nomor {signature.number}"
        numbers.append({"party": party.name, "number": text})
    return {"ref": proposal.ref, "title": proposal.title,
            "kind_label": "Peraturan Bersama Kepala Desa" if antar else "Perjanjian Bersama",
            "numbers": numbers, "code": document.code if document is not None else None}


def berita_acara_context(dispute: Dispute) -> dict[str, Any]:
    step = settling_step(dispute)
    if step is None:
        raise NotFoundError(_("Perselisihan ini belum diselesaikan dengan kesepakatan, jadi "
                              "belum ada berita acara penyelesaian."))
    names = {s["party_id"]: s for s in step.signatories}
    parties = [{"name": p.name, "role_label": str(p.role.label),
                "signer": names.get(p.id, {}).get("name", ""),
                "office": names.get(p.id, {}).get("office", "")}
               for p in dispute.disputing_parties]
    official = None
    if step.facilitator_name:
        official = {"name": step.facilitator_name, "office": step.facilitator_office or ""}
    return {
        "id": dispute.id, "agreement": _agreement(dispute.proposal),
        "subject": dispute.subject,
        "clauses": [line for line in dispute.clauses.splitlines() if line.strip()],
        "description": [line for line in (dispute.description or "").splitlines()
                        if line.strip()],
        "parties": parties, "held_on": step.held_on, "place": step.place,
        "level": step.level.value, "level_label": str(step.level.label),
        "final": step.level in FINAL_LEVELS and not route_of(dispute).third_party,
        "official": official,
        "steps": [{"position": s.position, "level_label": str(s.level.label),
                   "held_on": s.held_on, "place": s.place,
                   "facilitator": ", ".join(x for x in (s.facilitator_name,
                                                        s.facilitator_office) if x),
                   "outcome_label": str(s.outcome.label),
                   "summary": [line for line in s.summary.splitlines() if line.strip()]}
                  for s in dispute.steps],
        "terms": [line for line in (step.terms or "").splitlines() if line.strip()],
    }


def berita_acara_job(dispute: Dispute, *, paper: str = "f4"):
    from flask_babel import force_locale

    from coopdesa.documents import pdf

    with force_locale("id"):
        ba = berita_acara_context(dispute)
    docnum = (f"Berita Acara Penyelesaian Perselisihan {ba['agreement']['ref']}, "
              f"{pdf.tanggal_id(ba['held_on'])}")
    return pdf.job("berita_acara_perselisihan.html", paper=paper, ba=ba, draft=False,
                   docnum=docnum)


def store_berita_acara(dispute: Dispute, data: bytes) -> StoredFile:
    """Keep ``data`` as the dispute's berita acara, once: a second call keeps the first."""
    if dispute.berita_acara_id is not None:
        return dispute.berita_acara
    stored = store_generated_pdf(
        data, f"{dispute.proposal.ref}-berita-acara-perselisihan-{dispute.id}.pdf")
    dispute.berita_acara_id = stored.id
    dispute.berita_acara = stored
    dispute.berita_acara_sha256 = stored.sha256
    audit.record("dispute.render", object_type="dispute", object_id=dispute.id,
                 proposal_id=dispute.proposal_id,
                 summary=_l("Berita acara penyelesaian perselisihan dibuat (SHA-256 %(sha)s)",
                            sha=stored.sha256[:16]),
                 after={"sha256": stored.sha256, "size": stored.size})
    return stored


def render_berita_acara(dispute: Dispute) -> StoredFile:
    """The stored berita acara, rendering it first if it never was. Raises RenderError."""
    from coopdesa.documents import render as R

    if dispute.berita_acara_id is not None:
        return dispute.berita_acara
    return store_berita_acara(dispute, R.render(berita_acara_job(dispute)))


def try_render(dispute: Dispute) -> str | None:
    """Render the berita acara now; a failure leaves the settlement recorded and the PDF
    to be made when it is first asked for."""
    from coopdesa.documents import render as R

    try:
        render_berita_acara(dispute)
    except R.RenderError as exc:
        current_app.logger.error("berita acara of dispute %s failed: %s", dispute.id, exc)
        return str(exc)[:500]
    return None


def attach_scan(dispute: Dispute, user: Any, data: bytes, filename: str | None) -> StoredFile:
    """Attach the scan of the berita acara signed on paper (PDF, PNG or JPEG by content).
    A later scan replaces the shown one; the earlier stays stored and in the audit log."""
    access.require(user, Action.VIEW, dispute)
    access.require(user, Action.EDIT, dispute)
    if dispute.state != DisputeState.SETTLED:
        raise ConflictError(_("Pindaian berita acara dilampirkan setelah perselisihan "
                              "selesai dengan kesepakatan."))
    stored = store_upload(data, filename, field="scan", user=user)
    before = {"sha256": dispute.scan.sha256} if dispute.scan else None
    dispute.scan_id = stored.id
    dispute.scan = stored
    db.session.flush()
    audit.record("dispute.scan", user=user, object_type="dispute", object_id=dispute.id,
                 proposal_id=dispute.proposal_id,
                 summary=_l("Pindaian berita acara penyelesaian perselisihan dilampirkan "
                            "(%(name)s)", name=stored.original_name),
                 before=before, after={"sha256": stored.sha256, "size": stored.size,
                                       "content_type": stored.content_type})
    return stored
