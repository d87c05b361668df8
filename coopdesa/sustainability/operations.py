"""Sustainability assessments, the agree gate, stakeholder maps and criteria (seed 002).

Every rule of the area lives here; views and the API parse input, check access, call these
functions and commit once.

The verdict rule (documented for secretaries in the assessment form too):

1. ``fail`` when any *critical* criterion scores 0. Critical criteria are data
   (``Criterion.is_critical``): the ecological ones and PRI-2 (independence: no new
   dependency on a third party) as seeded;
2. otherwise ``pass_with_conditions`` when any answer records a mitigation (a score of 0
   or 1 must have one; a higher score may have one);
3. otherwise ``pass``.

Answers: every applicable, active criterion is answered with a score 0-3 (0 not met,
1 partly, 2 mostly, 3 fully met); a score of 0 or 1 requires a mitigation; a score of 2 or
3 requires evidence (a claim that a criterion is met must say on what it rests). Reasons are
stored in Indonesian whatever the interface language.

Who assesses: a secretary of a party village (also while drafting: a self-check before
submission), the reviewer once submitted (BKAD for antar_desa, the village's
THIRD_PARTY_REVIEWER_ROLE for pihak_ketiga) and an admin; see coopdesa.access. In which
states: from draft up to awaiting_deliberation; after the agreement (or once rejected or
withdrawn) the record of assessments is closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from coopdesa.actors.models import Actor, ActorKind
from coopdesa.audit import operations as audit
from coopdesa.db import is_id, utcnow
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.files.operations import store_upload
from coopdesa.proposals.models import Initiative, Kind, Proposal
from coopdesa.proposals.states import FINAL_STATES, State, add_guard
from coopdesa.sustainability.models import (
    MAPPING_QUESTIONS,
    Answer,
    AppliesTo,
    Assessment,
    Criterion,
    Dimension,
    StakeholderEntry,
    StakeholderMap,
    StakeholderRole,
    Verdict,
)

SCORES = (0, 1, 2, 3)
#: Scores below this need a mitigation; from it on, evidence.
LOW_SCORE_BELOW = 2
MAX_TEXT = 5000
MAX_NAME = 120
MAX_ENTRIES = 100
MAX_ENTRY_NOTES = 2000
#: States in which an assessment may be made.
ASSESSABLE_STATES = frozenset({State.DRAFT, State.SUBMITTED, State.IN_REVIEW,
                               State.CHANGES_REQUESTED, State.AWAITING_DELIBERATION})
#: ActorKind values a stakeholder entry may describe (any group but a village itself).
GROUP_KINDS = tuple(k for k in ActorKind if k is not ActorKind.DESA)
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")


def score_labels() -> dict[int, str]:
    return {0: _("0 · tidak terpenuhi"), 1: _("1 · sebagian kecil"),
            2: _("2 · sebagian besar"), 3: _("3 · terpenuhi penuh")}


def _invalid(errors: dict[str, list[str]], summary: str | None = None) -> ValidationError:
    first = summary or next(iter(errors.values()))[0]
    return ValidationError(first, fields=errors)


def _text(value: Any, key: str, errors: dict[str, list[str]], *, limit: int = MAX_TEXT,
          required: bool = False, required_message: str | None = None) -> str | None:
    if value is not None and not isinstance(value, str):
        errors.setdefault(key, []).append(_("Harus berupa teks."))
        return None
    text = (value or "").strip()
    if len(text) > limit:
        errors.setdefault(key, []).append(
            _("Paling banyak %(n)d karakter.", n=limit))
    elif required and not text:
        errors.setdefault(key, []).append(required_message or _("Wajib diisi."))
    return text or None


# --- criteria ------------------------------------------------------------------------------

def applies(criterion: Criterion, proposal: Proposal) -> bool:
    if criterion.applies_to == AppliesTo.ALL:
        return True
    if criterion.applies_to == AppliesTo.ANTAR_DESA:
        return proposal.kind == Kind.ANTAR_DESA
    if criterion.applies_to == AppliesTo.PIHAK_KETIGA:
        return proposal.kind == Kind.PIHAK_KETIGA
    if criterion.applies_to == AppliesTo.PIHAK_KETIGA_DESA:
        return proposal.kind == Kind.PIHAK_KETIGA and proposal.initiative == Initiative.DESA
    return False


def all_criteria(*, active_only: bool = False) -> list[Criterion]:
    dimension_order = {d: i for i, d in enumerate(Dimension)}
    stmt = sa.select(Criterion)
    if active_only:
        stmt = stmt.where(Criterion.is_active.is_(True))
    rows = db.session.scalars(stmt).all()
    return sorted(rows, key=lambda c: (dimension_order.get(c.dimension, 99), c.position,
                                       c.code))


def applicable_criteria(proposal: Proposal) -> list[Criterion]:
    """The active criteria that apply to ``proposal``, by dimension then position."""
    return [c for c in all_criteria(active_only=True) if applies(c, proposal)]


def grouped(criteria: list[Criterion]) -> list[tuple[Dimension, list[Criterion]]]:
    out: dict[Dimension, list[Criterion]] = {}
    for criterion in criteria:
        out.setdefault(criterion.dimension, []).append(criterion)
    return list(out.items())


def get_criterion(criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id) if is_id(criterion_id) else None
    if criterion is None:
        raise NotFoundError(_("Kriteria tidak ditemukan."))
    return criterion


CRITERION_FIELDS = ("code", "dimension", "label", "description", "applies_to", "is_critical",
                    "position", "is_active")


def _criterion_values(data: dict[str, Any], *, partial: bool,
                      current: Criterion | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if not partial or "code" in data:
        code = data.get("code")
        code = code.strip().upper() if isinstance(code, str) else ""
        if not CODE_PATTERN.match(code):
            errors["code"] = [_("Kode 1-40 huruf besar, angka atau tanda hubung, mis. "
                                "EKO-4.")]
        else:
            clash = db.session.scalar(sa.select(Criterion.id).where(
                sa.func.upper(Criterion.code) == code))
            if clash is not None and (current is None or clash != current.id):
                errors["code"] = [_("Kode %(code)s sudah dipakai kriteria lain.", code=code)]
            out["code"] = code
    if not partial or "dimension" in data:
        try:
            out["dimension"] = Dimension(data.get("dimension"))
        except ValueError:
            errors["dimension"] = [_("Pilih salah satu dimensi keberlanjutan.")]
    if not partial or "applies_to" in data:
        try:
            out["applies_to"] = AppliesTo(data.get("applies_to") or "all")
        except ValueError:
            errors["applies_to"] = [_("Pilih cakupan berlakunya kriteria.")]
    if not partial or "label" in data:
        out["label"] = _text(data.get("label"), "label", errors, limit=200, required=True)
    if not partial or "description" in data:
        out["description"] = _text(data.get("description"), "description", errors,
                                   required=True) or ""
    for key in ("is_critical", "is_active"):
        if key in data or (not partial and key == "is_critical"):
            value = data.get(key, False)
            if not isinstance(value, bool):
                errors[key] = [_("Harus benar atau salah (true/false).")]
            else:
                out[key] = value
    if "position" in data:
        value = data.get("position")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
            errors["position"] = [_("Harus bilangan bulat antara 0 dan 10000.")]
        else:
            out["position"] = value
    if errors:
        raise _invalid(errors)
    return out


def create_criterion(user, data: dict[str, Any]) -> Criterion:
    values = _criterion_values(data, partial=False)
    if "position" not in values:
        values["position"] = (db.session.scalar(sa.select(sa.func.max(Criterion.position)).where(
            Criterion.dimension == values["dimension"])) or 0) + 1
    criterion = Criterion(**{"is_active": True, **values})
    db.session.add(criterion)
    db.session.flush()
    audit.record("criterion.create", user=user, object_type="sustainability_criterion",
                 object_id=criterion.id,
                 summary=_("Kriteria keberlanjutan %(code)s ditambahkan.", code=criterion.code),
                 after=criterion_dict(criterion))
    return criterion


def update_criterion(user, criterion: Criterion, data: dict[str, Any]) -> Criterion:
    """Change or (``is_active`` false) deactivate a criterion. Past assessments keep their
    answers; a deactivated criterion is no longer asked."""
    values = _criterion_values(data, partial=True, current=criterion)
    before = criterion_dict(criterion)
    for key, value in values.items():
        setattr(criterion, key, value)
    db.session.flush()
    old, new = audit.changes(before, criterion_dict(criterion))
    if new:
        audit.record("criterion.update", user=user, object_type="sustainability_criterion",
                     object_id=criterion.id, before=old, after=new,
                     summary=_("Kriteria keberlanjutan %(code)s diubah.", code=criterion.code))
    return criterion


def criterion_dict(c: Criterion) -> dict[str, Any]:
    return {"id": c.id, "code": c.code, "dimension": c.dimension.value,
            "dimension_label": c.dimension.label, "label": c.label,
            "description": c.description, "applies_to": c.applies_to.value,
            "is_critical": bool(c.is_critical), "position": c.position,
            "is_active": bool(c.is_active)}


# --- assessments ---------------------------------------------------------------------------

@dataclass
class Upload:
    """An uploaded attachment, as received (checked by store_upload)."""

    data: bytes
    filename: str | None = None


def compute_verdict(scored: list[tuple[Criterion, int, str | None]]) -> tuple[Verdict,
                                                                            list[str]]:
    """The verdict and its reasons (Indonesian) for (criterion, score, mitigation) rows."""
    with force_locale("id"):
        failures = [
            _("%(code)s %(label)s bernilai 0 (tidak terpenuhi), padahal kriteria ini wajib "
              "terpenuhi.", code=c.code, label=c.label)
            for c, score, _m in scored if c.is_critical and score == 0]
        conditions = [
            _("%(code)s %(label)s bernilai %(score)d; syarat mitigasi: %(mitigation)s",
              code=c.code, label=c.label, score=score, mitigation=_clip(mitigation))
            for c, score, mitigation in scored if mitigation]
        if failures:
            return Verdict.FAIL, failures + conditions
        if conditions:
            return Verdict.PASS_WITH_CONDITIONS, conditions
        return Verdict.PASS, [_("Semua kriteria bernilai 2 atau 3 tanpa syarat mitigasi.")]


def _clip(text: str | None, limit: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _score(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in SCORES else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number in SCORES else None
    return None


def create_assessment(proposal: Proposal, user, answers: dict[str, dict[str, Any]],
                      signed_name: str | None, signed_office: str | None) -> Assessment:
    """Record a new signed assessment (number = previous + 1); refuse by field."""
    if proposal.state not in ASSESSABLE_STATES:
        raise ConflictError(_("Penilaian keberlanjutan hanya dapat dibuat sebelum usulan "
                              "disepakati (keadaan sekarang: %(state)s).",
                              state=proposal.state.label),
                            details={"current": {"state": proposal.state.value,
                                                 "version": proposal.version}})
    if not isinstance(answers, dict):
        raise _invalid({"answers": [_("Jawaban harus berupa objek per kode kriteria.")]})
    criteria = applicable_criteria(proposal)
    by_code = {c.code: c for c in criteria}
    errors: dict[str, list[str]] = {}
    missing = [c.code for c in criteria if not isinstance(answers.get(c.code), dict)
               or answers[c.code].get("score") in (None, "")]
    unknown = sorted(set(answers) - set(by_code))
    for code in missing:
        errors[f"answers.{code}.score"] = [_("Beri nilai 0-3 untuk kriteria ini.")]
    for code in unknown:
        errors[f"answers.{code}"] = [_("Kriteria ini tidak berlaku untuk usulan ini atau "
                                       "tidak dikenal.")]
    scored: list[tuple[Criterion, int, str | None, str | None, Any]] = []
    for criterion in criteria:
        raw = answers.get(criterion.code)
        if criterion.code in missing or not isinstance(raw, dict):
            continue
        prefix = f"answers.{criterion.code}"
        score = _score(raw.get("score"))
        if score is None:
            errors[f"{prefix}.score"] = [_("Nilai harus 0, 1, 2 atau 3.")]
            continue
        mitigation = _text(raw.get("mitigation"), f"{prefix}.mitigation", errors,
                           required=score < LOW_SCORE_BELOW,
                           required_message=_("Nilai 0 atau 1 wajib disertai mitigasi: "
                                              "langkah untuk memenuhi kriteria ini."))
        evidence = _text(raw.get("evidence"), f"{prefix}.evidence", errors,
                         required=score >= LOW_SCORE_BELOW,
                         required_message=_("Nilai 2 atau 3 wajib disertai bukti atau "
                                            "dasar penilaian."))
        scored.append((criterion, score, evidence, mitigation, raw.get("attachment")))
    name = _text(signed_name, "signed_name", errors, limit=MAX_NAME, required=True,
                 required_message=_("Tuliskan nama penilai yang menandatangani."))
    office = _text(signed_office, "signed_office", errors, limit=MAX_NAME)
    if errors:
        summary = None
        if missing:
            summary = _("Kriteria berikut belum dinilai: %(codes)s.", codes=", ".join(missing))
        raise _invalid(errors, summary)
    answer_rows = []
    for criterion, score, evidence, mitigation, attachment in scored:
        stored = None
        if isinstance(attachment, Upload):
            stored = store_upload(attachment.data, attachment.filename, user=user,
                                  field=f"answers.{criterion.code}.attachment")
        answer_rows.append(Answer(criterion=criterion, score=score, evidence=evidence,
                                  mitigation=mitigation, attachment=stored))
    verdict, reasons = compute_verdict([(c, s, m) for c, s, _e, m, _a in scored])
    number = (db.session.scalar(sa.select(sa.func.max(Assessment.number)).where(
        Assessment.proposal_id == proposal.id)) or 0) + 1
    assessment = Assessment(proposal=proposal, number=number, assessor_id=user.id,
                            signed_name=name, signed_office=office, signed_at=utcnow(),
                            verdict=verdict, reasons=reasons, answers=answer_rows)
    db.session.add(assessment)
    db.session.flush()
    audit.record("assessment.create", user=user, object_type="sustainability_assessment",
                 object_id=assessment.id, proposal_id=proposal.id,
                 summary=_("Penilaian keberlanjutan versi %(n)d: %(verdict)s.", n=number,
                           verdict=verdict.label),
                 after={"number": number, "verdict": verdict.value,
                        "scores": {c.code: s for c, s, _e, _m, _a in scored}})
    return assessment


def assessments_of(proposal: Proposal) -> list[Assessment]:
    """Newest first."""
    return list(db.session.scalars(sa.select(Assessment).where(
        Assessment.proposal_id == proposal.id).order_by(Assessment.number.desc())))


def latest_assessment(proposal: Proposal) -> Assessment | None:
    return db.session.scalar(sa.select(Assessment).where(
        Assessment.proposal_id == proposal.id).order_by(Assessment.number.desc()).limit(1))


def get_assessment(assessment_id: int) -> Assessment:
    assessment = db.session.get(Assessment, assessment_id) if is_id(assessment_id) else None
    if assessment is None:
        raise NotFoundError(_("Penilaian keberlanjutan tidak ditemukan."))
    return assessment


def assessment_dict(a: Assessment, *, answers: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id, "proposal_id": a.proposal_id, "number": a.number,
        "verdict": a.verdict.value, "verdict_label": a.verdict.label,
        "reasons": list(a.reasons or []),
        "assessor": {"id": a.assessor.id, "username": a.assessor.username,
                     "full_name": a.assessor.full_name},
        "signed_name": a.signed_name, "signed_office": a.signed_office,
        "signed_at": a.signed_at.isoformat(),
    }
    if answers:
        out["answers"] = [{
            "criterion_id": ans.criterion_id, "code": ans.criterion.code,
            "dimension": ans.criterion.dimension.value, "label": ans.criterion.label,
            "is_critical": bool(ans.criterion.is_critical), "score": ans.score,
            "evidence": ans.evidence, "mitigation": ans.mitigation,
            "attachment": ({"id": ans.attachment.id, "name": ans.attachment.original_name,
                            "content_type": ans.attachment.content_type,
                            "size": ans.attachment.size} if ans.attachment else None),
        } for ans in a.answers]
    return out


def agree_guard(proposal: Proposal) -> str | None:
    """The move to ``agreed`` needs a latest assessment that does not fail."""
    latest = latest_assessment(proposal)
    if latest is None:
        return _("Belum ada penilaian keberlanjutan untuk usulan ini; buat penilaian "
                 "keberlanjutan sebelum menetapkannya sebagai disepakati.")
    if latest.verdict == Verdict.FAIL:
        return _("Penilaian keberlanjutan terakhir (versi %(n)d) tidak memenuhi: %(reasons)s",
                 n=latest.number, reasons=" ".join(latest.reasons or []))
    return None


add_guard("agree", agree_guard)


# --- stakeholder map -----------------------------------------------------------------------

def stakeholder_map_of(proposal: Proposal) -> StakeholderMap | None:
    return db.session.scalar(sa.select(StakeholderMap).where(
        StakeholderMap.proposal_id == proposal.id))


def stakeholder_dict(proposal: Proposal, smap: StakeholderMap | None = None) -> dict[str, Any]:
    smap = smap if smap is not None else stakeholder_map_of(proposal)
    answers = list(smap.answers or []) if smap else []
    answers += [""] * (len(MAPPING_QUESTIONS) - len(answers))
    return {
        "proposal_id": proposal.id,
        "version": smap.version if smap else 0,
        "updated_at": smap.updated_at.isoformat() if smap and smap.updated_at else None,
        "answers": answers[:len(MAPPING_QUESTIONS)],
        "entries": [e.to_dict() for e in smap.entries] if smap else [],
    }


def save_stakeholder_map(proposal: Proposal, user, answers: list[Any],
                         entries: list[dict[str, Any]],
                         expected_version: int | None) -> StakeholderMap:
    """Replace the map's answers and entries; ``expected_version`` is the version read
    (0 when there was no map yet). A stale one is refused with the current data."""
    if proposal.state in FINAL_STATES:
        raise ConflictError(_("Usulan ini sudah %(state)s; pemetaan tidak dapat diubah lagi.",
                              state=proposal.state.label.lower()))
    smap = stakeholder_map_of(proposal)
    current_version = smap.version if smap else 0
    if expected_version is None or expected_version != current_version:
        raise ConflictError(
            _("Pemetaan ini telah diubah orang lain (versi %(n)d). Periksa data terbaru, lalu "
              "simpan lagi.", n=current_version),
            details={"current": stakeholder_dict(proposal, smap)})
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, list) or len(answers) > len(MAPPING_QUESTIONS):
        errors["answers"] = [_("Jawaban berupa daftar berisi paling banyak %(n)d teks.",
                               n=len(MAPPING_QUESTIONS))]
        answers = []
    clean_answers = [_text(value, f"answers.{i}", errors) or ""
                     for i, value in enumerate(answers)]
    clean_answers += [""] * (len(MAPPING_QUESTIONS) - len(clean_answers))
    if not isinstance(entries, list):
        errors["entries"] = [_("Daftar kelompok harus berupa daftar.")]
        entries = []
    if len(entries) > MAX_ENTRIES:
        errors["entries"] = [_("Paling banyak %(n)d kelompok.", n=MAX_ENTRIES)]
        entries = []
    rows: list[StakeholderEntry] = []
    for i, entry in enumerate(entries):
        prefix = f"entries.{i}"
        if not isinstance(entry, dict):
            errors[prefix] = [_("Setiap kelompok berupa objek.")]
            continue
        actor = None
        actor_id = entry.get("actor_id")
        if actor_id not in (None, ""):
            actor = db.session.get(Actor, actor_id) if is_id(actor_id) else None
            if actor is None or actor.kind == ActorKind.DESA:
                errors[f"{prefix}.actor_id"] = [_("Pihak terdaftar tidak ditemukan atau "
                                                  "berupa desa.")]
        name = _text(entry.get("name"), f"{prefix}.name", errors, limit=200,
                     required=actor is None,
                     required_message=_("Tuliskan nama kelompok."))
        kind = entry.get("group_kind") or (actor.kind.value if actor is not None else None)
        if kind not in {k.value for k in GROUP_KINDS}:
            errors[f"{prefix}.group_kind"] = [_("Pilih jenis kelompok.")]
        roles = entry.get("roles") or []
        valid_roles = {r.value for r in StakeholderRole}
        if not isinstance(roles, list) or not all(r in valid_roles for r in roles):
            errors[f"{prefix}.roles"] = [_("Peran tidak dikenal.")]
            roles = []
        notes = _text(entry.get("notes"), f"{prefix}.notes", errors, limit=MAX_ENTRY_NOTES)
        rows.append(StakeholderEntry(
            actor=actor, name=name or (actor.name if actor is not None else ""),
            group_kind=kind or "", notes=notes,
            roles=[r.value for r in StakeholderRole if r.value in roles]))
    if errors:
        raise _invalid(errors)
    before = stakeholder_dict(proposal, smap) if smap else None
    user_id = user.id  # read first: loading it may autoflush
    with db.session.no_autoflush:  # one INSERT or UPDATE: the version moves by one
        if smap is None:
            smap = StakeholderMap(proposal_id=proposal.id)
            db.session.add(smap)
        smap.answers = clean_answers
        smap.entries = rows
        smap.updated_at = utcnow()
        smap.updated_by_id = user_id
    db.session.flush()
    after = stakeholder_dict(proposal, smap)
    audit.record("stakeholder_map.save", user=user, object_type="stakeholder_map",
                 object_id=smap.id, proposal_id=proposal.id,
                 summary=_("Pemetaan pemangku kepentingan disimpan (%(n)d kelompok).",
                           n=len(rows)),
                 before={"entries": len(before["entries"])} if before else None,
                 after={"version": after["version"], "entries": len(rows)})
    return smap


def stakeholder_summary(proposal: Proposal) -> dict[str, Any]:
    """The map as plain data for pages and document templates (Indonesian labels)."""
    from coopdesa.actors.models import KIND_LABELS
    from coopdesa.sustainability.models import STAKEHOLDER_ROLE_LABELS

    data = stakeholder_dict(proposal)
    with force_locale("id"):
        questions = [str(q) for q in MAPPING_QUESTIONS]
        groups = []
        for entry in data["entries"]:
            kind = entry["group_kind"]
            groups.append({
                **entry,
                "group_kind_label": str(KIND_LABELS[ActorKind(kind)])
                if kind in ActorKind._value2member_map_ else kind,
                "role_labels": [str(STAKEHOLDER_ROLE_LABELS[StakeholderRole(r)])
                                for r in entry["roles"]],
            })
    return {
        "exists": data["version"] > 0,
        "version": data["version"],
        "questions": [{"number": i + 1, "question": q, "answer": a}
                      for i, (q, a) in enumerate(zip(questions, data["answers"],
                                                     strict=True))],
        "groups": groups,
    }
