"""What can be done with a proposal: create, edit sections and parties, move through the
lifecycle, comment and review. Every change writes an audit entry in the same transaction;
callers commit once per request or command."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts.models import Bkad, User, bkad_desa
from coopdesa.actors.models import Actor, ActorKind
from coopdesa.actors.operations import get_actor, village_actor
from coopdesa.audit import operations as audit
from coopdesa.db import is_id, utcnow
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today, parse_date
from coopdesa.proposals import sections as S
from coopdesa.proposals.models import (
    PARTY_ROLE_LABELS,
    Bidang,
    EndGround,
    FundingSource,
    Initiative,
    Judgment,
    Kind,
    PartyRole,
    Proposal,
    ProposalComment,
    ProposalFunding,
    ProposalParty,
    ProposalReview,
    ProposalVersion,
)
from coopdesa.proposals.states import (
    STATE_LABELS,
    TRANSITIONS,
    Performer,
    State,
    add_guard,
    guards,
)
from coopdesa.regions.models import Region
from coopdesa.regions.operations import get_party_village

COMMENT_EDIT_WINDOW = dt.timedelta(minutes=15)
MAX_TEXT = 20_000


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


def _text(value: Any, field: str, *, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(field, _("Harus berupa teks."))
    text = value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise _fail(field, _("Terlalu panjang: paling banyak %(n)d karakter.", n=limit))
    return text or None


#: What nearly every use of a proposal reads: its parties with their actors and funding.
#: Loaded with the proposal in two more statements instead of one per party (the proposal
#: page went from 25 statements to 20 with a two-village draft).
_WITH_PARTIES = (selectinload(Proposal.parties).options(
    joinedload(ProposalParty.actor), selectinload(ProposalParty.funding)),)


def get_proposal(proposal_id: int) -> Proposal:
    proposal = (db.session.get(Proposal, proposal_id, options=_WITH_PARTIES)
                if is_id(proposal_id) else None)
    if proposal is None:
        raise NotFoundError(_("Usulan kerja sama tidak ditemukan."))
    return proposal


def proposal_state_dict(proposal: Proposal) -> dict[str, Any]:
    return {"state": proposal.state.value, "version": proposal.version}


# --- parties -------------------------------------------------------------------------------

def _check_village_set(kind: Kind, villages: list[Region], field: str) -> None:
    """Refuse a set of party villages the law does not allow together."""
    kabupaten = {v.ancestor_code(2) for v in villages}
    if kind == Kind.ANTAR_DESA and len(kabupaten) > 1:
        raise _fail(field, _(
            "Kerja sama antar-Desa hanya dapat dilakukan oleh desa-desa dalam satu "
            "kabupaten/kota (Permendagri 96/2017 Pasal 3). Desa dari kabupaten/kota lain "
            "bekerja sama melalui kerja sama daerah."))
    if len(kabupaten) > 1:
        # Desa of different kabupaten/kota fall under regional cooperation rules: never
        # allowed silently, for a third-party agreement either (domain.md section 7).
        raise _fail(field, _(
            "Desa-desa pihak dalam satu perjanjian dengan pihak ketiga harus berada dalam "
            "satu kabupaten/kota; kerja sama lintas kabupaten/kota tunduk pada ketentuan "
            "kerja sama daerah. Buat perjanjian tersendiri untuk desa dari kabupaten/kota "
            "lain."))


def _party_for(proposal: Proposal, actor: Actor) -> ProposalParty | None:
    return next((p for p in proposal.parties if p.actor_id == actor.id), None)


def _resolve_actor(*, desa_code: str | None = None, actor_id: int | None = None,
                   field: str) -> Actor:
    if desa_code:
        get_party_village(desa_code, field=field)  # refuses kelurahan with the reason
        return village_actor(desa_code)
    if actor_id is None:
        raise _fail(field, _("Pilih desa atau pihak."))
    try:
        return get_actor(int(actor_id))
    except (NotFoundError, ValueError, TypeError):
        raise _fail(field, _("Pihak yang dipilih tidak ada dalam daftar pihak.")) from None


def add_party(proposal: Proposal, user: User, *, desa_code: str | None = None,
              actor_id: int | None = None, role: str = PartyRole.MITRA,
              signatory_name: str | None = None, signatory_office: str | None = None,
              record: bool = True) -> ProposalParty:
    """Add a village or a third-party actor as a party; refuses what the law refuses."""
    access.require(user, Action.EDIT, proposal)
    return _add_party(proposal, user, desa_code=desa_code, actor_id=actor_id, role=role,
                      signatory_name=signatory_name, signatory_office=signatory_office,
                      record=record)


def _add_party(proposal: Proposal, user: User, *, desa_code: str | None = None,
               actor_id: int | None = None, role: str = PartyRole.MITRA,
               signatory_name: str | None = None, signatory_office: str | None = None,
               record: bool = True) -> ProposalParty:
    _require_editable(proposal)
    field = "desa_code" if desa_code else "actor_id"
    actor = _resolve_actor(desa_code=desa_code, actor_id=actor_id, field=field)
    try:
        role = PartyRole(role)
    except ValueError:
        raise _fail("role", _("Peran pihak harus pemrakarsa atau mitra.")) from None
    if _party_for(proposal, actor) is not None:
        raise _fail(field, _("%(name)s sudah menjadi pihak dalam usulan ini.", name=actor.name))
    if actor.kind == ActorKind.DESA:
        villages = [db.session.get(Region, c) for c in proposal.desa_codes]
        villages.append(db.session.get(Region, actor.desa_code))
        _check_village_set(proposal.kind, villages, field)
    elif proposal.kind == Kind.ANTAR_DESA:
        raise _fail(field, _(
            "Kerja sama antar-Desa hanya beranggotakan desa. Untuk bekerja sama dengan "
            "%(name)s, buat usulan kerja sama dengan pihak ketiga.", name=actor.name))
    party = ProposalParty(
        actor=actor, desa_code=actor.desa_code, role=role,
        position=max((p.position for p in proposal.parties), default=-1) + 1,
        signatory_name=_text(signatory_name, "signatory_name", limit=120),
        signatory_office=_text(signatory_office, "signatory_office", limit=120)
        # An office in a legal document: Indonesian whatever the interface language.
        or (f"Kepala Desa {actor.desa.name}" if actor.desa else None),
    )
    proposal.parties.append(party)
    _refresh_derived(proposal)
    _touch(proposal)
    db.session.flush()
    if record:
        audit.record("proposal.party.add", user=user, object_type="proposal_party",
                     object_id=party.id, proposal_id=proposal.id,
                     summary=_l("Pihak ditambahkan: %(name)s (%(role)s)", name=actor.name,
                               role=PARTY_ROLE_LABELS[role]),
                     after={**_party_dict(party), "_version": proposal.version})
    return party


def remove_party(proposal: Proposal, user: User, party_id: int) -> None:
    access.require(user, Action.EDIT, proposal)
    _require_editable(proposal)
    party = next((p for p in proposal.parties if p.id == party_id), None)
    if party is None:
        raise NotFoundError(_("Pihak tidak ditemukan dalam usulan ini."))
    if party.desa_code and party.desa_code == getattr(user, "desa_code", None):
        raise _fail("party", _("Desa Anda sendiri tidak dapat dikeluarkan dari usulan yang "
                               "Anda susun; tarik usulan bila kerja sama dibatalkan."))
    if party.desa_code and party.role == PartyRole.PEMRAKARSA and not getattr(
            user, "is_admin", False):
        # Otherwise a partner could lock the initiating village out of its own draft.
        raise _fail("party", _("Desa pemrakarsa tidak dapat dikeluarkan oleh desa mitra; "
                               "bicarakan dengan desa pemrakarsa, atau minta penyusunnya "
                               "menarik usulan."))
    before = _party_dict(party)
    proposal.parties.remove(party)
    _refresh_derived(proposal)
    _touch(proposal)
    db.session.flush()
    audit.record("proposal.party.remove", user=user, object_type="proposal_party",
                 object_id=party_id, proposal_id=proposal.id,
                 summary=_l("Pihak dikeluarkan: %(name)s", name=before["name"]), before=before,
                 after={"_version": proposal.version})


def update_party(proposal: Proposal, user: User, party_id: int, data: dict[str, Any],
                 *, expected_version: int | None) -> ProposalParty:
    """Signatory, delegates, rights and obligations, and role of one party."""
    access.require(user, Action.EDIT, proposal)
    _require_editable(proposal)
    _check_version(proposal, expected_version)
    party = next((p for p in proposal.parties if p.id == party_id), None)
    if party is None:
        raise NotFoundError(_("Pihak tidak ditemukan dalam usulan ini."))
    before = _party_dict(party)
    if "role" in data:
        try:
            party.role = PartyRole(data["role"])
        except ValueError:
            raise _fail("role", _("Peran pihak harus pemrakarsa atau mitra.")) from None
    for key, limit in (("signatory_name", 120), ("signatory_office", 120),
                       ("delegates", 5000), ("hak", MAX_TEXT), ("kewajiban", MAX_TEXT)):
        if key in data:
            setattr(party, key, _text(data[key], key, limit=limit))
    _touch(proposal)
    _flush_versioned(proposal, expected_version)
    old, new = audit.changes(before, _party_dict(party))
    if new:
        audit.record("proposal.party.update", user=user, object_type="proposal_party",
                     object_id=party.id, proposal_id=proposal.id,
                     summary=_l("Data pihak %(name)s diubah", name=party.actor.name),
                     before=old, after={**new, "_version": proposal.version})
    return party


def set_funding(proposal: Proposal, user: User, party_id: int, rows: list[dict[str, Any]],
                *, expected_version: int | None) -> ProposalParty:
    """Replace one party's funding lines. Amounts in whole Rupiah; an APB Desa source needs
    its budget year."""
    access.require(user, Action.EDIT, proposal)
    _require_editable(proposal)
    _check_version(proposal, expected_version)
    party = next((p for p in proposal.parties if p.id == party_id), None)
    if party is None:
        raise NotFoundError(_("Pihak tidak ditemukan dalam usulan ini."))
    errors: dict[str, list[str]] = {}
    clean = []
    for i, row in enumerate(rows):
        prefix = f"funding-{i}-"
        try:
            source = FundingSource(row.get("source") or "")
        except ValueError:
            errors.setdefault(prefix + "source", []).append(_("Pilih sumber dana."))
            continue
        amount = _rupiah(row.get("amount"))
        if amount is None:
            errors.setdefault(prefix + "amount", []).append(
                _("Jumlah dalam rupiah, angka bulat tidak negatif (misalnya 25000000)."))
        year = row.get("apbdes_year")
        year = int(year) if isinstance(year, int | str) and str(year).strip().isdigit() else None
        if source == FundingSource.APB_DESA:
            if not party.desa_code:
                errors.setdefault(prefix + "source", []).append(
                    _("APB Desa hanya dapat menjadi sumber dana pihak desa."))
            if year is None or not 2000 <= year <= 2100:
                errors.setdefault(prefix + "apbdes_year", []).append(
                    _("Sebutkan tahun anggaran APB Desa (misalnya 2027)."))
        elif year is not None and not 2000 <= year <= 2100:
            errors.setdefault(prefix + "apbdes_year", []).append(_("Tahun tidak valid."))
        try:
            description = _text(row.get("description"), prefix + "description", limit=300)
        except ValidationError as exc:
            for k, v in exc.fields.items():
                errors.setdefault(k, []).extend(v)
            description = None
        clean.append(dict(source=source, amount=amount or 0,
                          apbdes_year=year if source == FundingSource.APB_DESA else None,
                          description=description))
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)
    before = [_funding_dict(f) for f in party.funding]
    party.funding = [ProposalFunding(**row) for row in clean]
    _touch(proposal)
    _flush_versioned(proposal, expected_version)
    after = [_funding_dict(f) for f in party.funding]
    if before != after:
        audit.record("proposal.funding.update", user=user, object_type="proposal_party",
                     object_id=party.id, proposal_id=proposal.id,
                     summary=_l("Pendanaan %(name)s diubah", name=party.actor.name),
                     before={"funding": before},
                     after={"funding": after, "_version": proposal.version})
    return party


def _rupiah(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        digits = re.sub(r"[\s.]|^Rp", "", value.strip(), flags=re.IGNORECASE)
        if digits.isdigit() and len(digits) <= 15:
            return int(digits)
    return None


def _party_dict(party: ProposalParty) -> dict[str, Any]:
    return {
        "actor_id": party.actor_id, "name": party.actor.name, "desa_code": party.desa_code,
        "role": party.role.value, "signatory_name": party.signatory_name,
        "signatory_office": party.signatory_office, "delegates": party.delegates,
        "hak": party.hak, "kewajiban": party.kewajiban,
    }


def _funding_dict(f: ProposalFunding) -> dict[str, Any]:
    return {"source": f.source.value, "amount": f.amount, "apbdes_year": f.apbdes_year,
            "description": f.description}


def _refresh_derived(proposal: Proposal) -> None:
    """Keep the kabupaten and an untouched dispute clause in step with the parties."""
    codes = proposal.desa_codes
    proposal.kabupaten_code = codes[0][:5] if codes else None
    if S.is_generated_dispute_route(proposal.perselisihan):
        proposal.perselisihan = S.dispute_route(proposal)


# --- creating and editing ------------------------------------------------------------------

def _next_ref(proposal: Proposal) -> str:
    return f"KSD-{utcnow().year}-{proposal.id:05d}"


def create_proposal(user: User, *, kind: str, initiative: str, title: str,
                    own_desa_code: str | None = None,
                    partner_desa_codes: list[str] | None = None,
                    third_party_actor_ids: list[int] | None = None) -> Proposal:
    """Start a draft for the user's village with its first parties.

    A sekretaris drafts for their own desa; an admin names the desa. The village is the
    pemrakarsa unless a third party took the initiative.
    """
    access.require(user, Action.CREATE, "proposal")
    try:
        kind = Kind(kind)
    except ValueError:
        raise _fail("kind", _("Pilih jenis kerja sama.")) from None
    try:
        initiative = Initiative(initiative)
    except ValueError:
        raise _fail("initiative", _("Pilih siapa yang berprakarsa.")) from None
    if kind == Kind.ANTAR_DESA and initiative == Initiative.PIHAK_KETIGA:
        raise _fail("initiative", _("Kerja sama antar-Desa selalu atas prakarsa desa."))
    title = _text(title, "title", limit=300)
    if not title:
        raise _fail("title", _("Judul wajib diisi, walau masih sementara."))
    own = getattr(user, "desa_code", None) or own_desa_code
    if not own:
        raise _fail("own_desa_code", _("Sebutkan desa yang menyusun usulan ini."))
    proposal = Proposal(kind=kind, initiative=initiative, title=title,
                        title_key=title.lower(), state=State.DRAFT, bidang=[],
                        mengingat=S.default_legal_basis(kind.value), created_by_id=user.id,
                        ref="KSD-DRAFT")
    db.session.add(proposal)
    db.session.flush()
    proposal.ref = _next_ref(proposal)
    own_role = PartyRole.MITRA if initiative == Initiative.PIHAK_KETIGA else PartyRole.PEMRAKARSA
    _add_party(proposal, user, desa_code=own, role=own_role, record=False)
    for code in partner_desa_codes or []:
        if code and code.strip():
            _add_party(proposal, user, desa_code=code, role=PartyRole.MITRA, record=False)
    for actor_id in third_party_actor_ids or []:
        third_role = (PartyRole.PEMRAKARSA if initiative == Initiative.PIHAK_KETIGA
                      else PartyRole.MITRA)
        _add_party(proposal, user, actor_id=actor_id, role=third_role, record=False)
    db.session.flush()
    audit.record("proposal.create", user=user, object_type="proposal", object_id=proposal.id,
                 proposal_id=proposal.id,
                 summary=_l("Usulan dibuat: %(title)s", title=title),
                 after={"ref": proposal.ref, "kind": kind.value,
                        "initiative": initiative.value, "title": title,
                        "parties": [_party_dict(p) for p in proposal.parties]})
    return proposal


def _require_editable(proposal: Proposal) -> None:
    if not proposal.is_editable:
        raise ConflictError(
            _("Usulan berstatus %(state)s tidak dapat diubah. Isi hanya dapat diubah saat "
              "draf atau saat perbaikan diminta.", state=proposal.state.label),
            details={"current": proposal_state_dict(proposal)})


def changes_since(proposal: Proposal, version: int) -> list[dict[str, Any]]:
    """What other people saved after ``version``: who, when, which sections."""
    from coopdesa.audit.models import AuditEntry

    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.proposal_id == proposal.id)
        .order_by(AuditEntry.id.desc()).limit(50)
    ).all()
    out = []
    for entry in entries:
        after = entry.after if isinstance(entry.after, dict) else {}
        if after.get("_version", 0) > version or (
                entry.action.startswith("proposal.transition") and
                (after.get("version") or 0) > version):
            out.append({"at": entry.logged_at, "by": entry.actor_label,
                        "summary": entry.summary, "fields": _changed_sections(entry)})
    return list(reversed(out))


def _changed_sections(entry) -> list[str]:
    """The section keys an audit entry of this proposal changed."""
    after = entry.after if isinstance(entry.after, dict) else {}
    if entry.action == "proposal.funding.update":
        return ["pendanaan"]
    if entry.action == "proposal.party.update":
        return sorted({"hak_kewajiban" if k in ("hak", "kewajiban") else "parties"
                       for k in after if not k.startswith("_")})
    if entry.action.startswith("proposal.party."):
        return ["parties"]
    return sorted(k for k in after if not k.startswith("_"))


def _stale_save(proposal: Proposal, expected_version: int | None) -> ConflictError:
    return ConflictError(
        # The lock counter moves with every save, so it is not shown: it would be mistaken
        # for the numbered versions frozen at each submission.
        _("Usulan ini telah diubah oleh orang lain sejak Anda membukanya. Isian Anda belum "
          "disimpan; periksa perubahan mereka di bawah, lalu simpan lagi."),
        details={"current": proposal_state_dict(proposal),
                 "changes": [dict(c, at=c["at"].isoformat())
                             for c in changes_since(proposal, expected_version)]
                 if expected_version is not None else []})


def _check_version(proposal: Proposal, expected_version: int | None) -> None:
    if expected_version is None or expected_version == proposal.version:
        return
    raise _stale_save(proposal, expected_version)


def _flush_versioned(proposal: Proposal, expected_version: int | None) -> None:
    """Flush a save. Two saves that both passed the version check race to the row: the
    later one's UPDATE finds the version moved (StaleDataError) and loses exactly like a
    stale form, with what the winner changed; the failed flush is rolled back here so that
    the winner's row can be read for that message."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise _stale_save(proposal, expected_version) from None


def _touch(proposal: Proposal) -> None:
    proposal.updated_at = utcnow()


def update_sections(proposal: Proposal, user: User, data: dict[str, Any], *,
                    expected_version: int | None) -> Proposal:
    """Save any subset of the sections; incomplete is fine for a draft. A stale save is
    refused with what changed meanwhile; nothing is written then."""
    access.require(user, Action.EDIT, proposal)
    _require_editable(proposal)
    _check_version(proposal, expected_version)
    before = S.snapshot(proposal)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key in S.TEXT_SECTIONS + ("bidang_uraian",):
        if key in data:
            try:
                values[key] = _text(data[key], key, limit=300 if key == "title" else MAX_TEXT)
            except ValidationError as exc:
                errors.update(exc.fields)
    if "title" in values and not values["title"]:
        errors["title"] = [_("Judul wajib diisi.")]
    if "bidang" in data:
        raw = data["bidang"] or []
        if isinstance(raw, str):
            raw = [raw]
        try:
            chosen = [Bidang(b).value for b in raw]
        except (ValueError, TypeError):
            errors["bidang"] = [_("Bidang tidak dikenal; pilih dari bidang UU 6/2014 Pasal 92 "
                                  "ayat (1).")]
        else:
            if chosen and proposal.kind != Kind.ANTAR_DESA:
                errors["bidang"] = [_("Bidang Pasal 92 ayat (1) hanya untuk kerja sama "
                                      "antar-Desa; uraikan bidang kerja sama dengan pihak "
                                      "ketiga di kolom uraian.")]
            values["bidang"] = sorted(set(chosen))
    for key in ("start_date", "end_date"):
        if key in data:
            values[key] = parse_date(data[key], key, errors)
    start = values.get("start_date", proposal.start_date)
    end = values.get("end_date", proposal.end_date)
    if start and end and end <= start and "end_date" not in errors:
        errors["end_date"] = [_("Tanggal berakhir harus sesudah tanggal mulai.")]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)
    for key, value in values.items():
        setattr(proposal, key, value)
    if "title" in values:
        proposal.title_key = proposal.title.lower()
    _touch(proposal)
    _flush_versioned(proposal, expected_version)
    old, new = audit.changes(before, S.snapshot(proposal))
    if new:
        audit.record("proposal.update", user=user, object_type="proposal",
                     object_id=proposal.id, proposal_id=proposal.id,
                     summary=_l("Bagian diubah: %(names)s",
                               names=LazyString(lambda: ", ".join(
                                   str(S.SECTION_BY_KEY[k].label) if k in S.SECTION_BY_KEY
                                   else k for k in new))),
                     before=old, after={**new, "_version": proposal.version})
    return proposal


# --- lifecycle -----------------------------------------------------------------------------

def reviewer_bkad(proposal: Proposal) -> Bkad | None:
    """The BKAD whose villages include every party village (the smallest if several)."""
    codes = set(proposal.desa_codes)
    if not codes:
        return None
    holding_all = (
        sa.select(bkad_desa.c.bkad_id)
        .where(bkad_desa.c.desa_code.in_(codes))
        .group_by(bkad_desa.c.bkad_id)
        .having(sa.func.count() == len(codes))
    )
    smallest = db.session.scalar(
        sa.select(bkad_desa.c.bkad_id)
        .where(bkad_desa.c.bkad_id.in_(holding_all))
        .group_by(bkad_desa.c.bkad_id)
        .order_by(sa.func.count(), bkad_desa.c.bkad_id)
        .limit(1)
    )
    return db.session.get(Bkad, smallest) if smallest is not None else None


def validate_for_submission(proposal: Proposal) -> dict[str, list[str]]:
    """Everything that stops submission, by field: missing sections and party rules."""
    errors: dict[str, list[str]] = {}
    for section in S.missing_sections(proposal):
        errors.setdefault(section.key, []).append(_("Bagian ini wajib diisi sebelum diajukan."))
    villages = proposal.village_parties
    if proposal.kind == Kind.ANTAR_DESA:
        if len(villages) < 2:
            errors.setdefault("parties", []).append(
                _("Kerja sama antar-Desa memerlukan sekurang-kurangnya dua desa."))
        elif reviewer_bkad(proposal) is None:
            errors.setdefault("parties", []).append(
                _("Belum ada BKAD yang beranggotakan semua desa pihak. Minta admin kabupaten "
                  "membentuk atau melengkapi BKAD (UU 6/2014 Pasal 92 ayat (3))."))
    else:
        if not villages:
            errors.setdefault("parties", []).append(_("Sertakan sekurang-kurangnya satu desa."))
        if not proposal.third_parties:
            errors.setdefault("parties", []).append(
                _("Sertakan sekurang-kurangnya satu pihak ketiga."))
    if not any(p.role == PartyRole.PEMRAKARSA for p in proposal.parties):
        errors.setdefault("parties", []).append(_("Tentukan pihak pemrakarsa."))
    for party in proposal.parties:
        if not party.signatory_name or not party.signatory_office:
            errors.setdefault("parties", []).append(
                _("Lengkapi nama dan jabatan penandatangan %(name)s.", name=party.actor.name))
    return errors


def _deliberation_gate(proposal: Proposal) -> str | None:
    """The Musyawarah Desa of every party village, and for antar_desa the musyawarah
    antar-Desa, must have agreed (coopdesa.deliberations.operations.gate_refusal)."""
    from coopdesa.deliberations.operations import gate_refusal

    return gate_refusal(proposal)


def _signing_gate(proposal: Proposal) -> str | None:
    """Every party has signed, and the deliberation and sustainability gates still hold
    (coopdesa.documents.operations.signing_refusal)."""
    from coopdesa.documents.operations import signing_refusal

    return signing_refusal(proposal)


DELIBERATION_GUARD = add_guard("agree", _deliberation_gate)
SIGNING_GUARD = add_guard("sign", _signing_gate)


def _performer_refusal(user: User | None, proposal: Proposal, transition) -> str | None:
    if user is None:
        return None if Performer.SYSTEM in transition.performers else _(
            "Tindakan ini memerlukan pengguna.")
    reasons = []
    if Performer.AUTHOR in transition.performers:
        reason = access.reason_refused(user, Action.PROPOSE, proposal)
        if reason is None:
            return None
        reasons.append(reason)
    if Performer.REVIEWER in transition.performers:
        reason = access.reason_refused(user, Action.REVIEW, proposal)
        if reason is None:
            return None
        reasons.append(reason)
    if getattr(user, "is_admin", False):
        return None
    if not reasons:
        return _("Tindakan ini dijalankan oleh sistem setelah syaratnya terpenuhi.")
    return reasons[0]


def available_transitions(proposal: Proposal, user: User) -> list:
    """Transitions this user could attempt now (guards are checked when attempted)."""
    # Postponing, resuming and ending follow a recorded decision (coopdesa.lifecycle pages),
    # never a bare button, not even an administrator's.
    return [t for t in TRANSITIONS.values()
            if t.name not in CASCADING
            and proposal.state in t.sources and _performer_refusal(user, proposal, t) is None
            and (Performer.SYSTEM not in t.performers or Performer.AUTHOR in t.performers
                 or getattr(user, "is_admin", False))]


def transition(proposal: Proposal, user: User | None, name: str, *,
               expected_state: str | None = None, text: str | None = None,
               points: list[str] | None = None, ground: str | None = None,
               ended_on: dt.date | str | None = None,
               today: dt.date | None = None) -> Proposal:
    """Move ``proposal`` by transition ``name``; refuses illegal or stale moves with the
    current state, and anything the user may not do, and changes nothing then.
    ``today`` (default: the real date) bounds ``ended_on``; the clock passes its own."""
    spec = TRANSITIONS.get(name)
    if spec is None:
        raise _fail("action", _("Tindakan %(name)s tidak dikenal.", name=name))
    if user is not None:
        # Someone who may not read the proposal learns nothing of it, not even its state.
        access.require(user, Action.VIEW, proposal)
    _lock_state(proposal)
    if expected_state is not None and expected_state != proposal.state.value:
        raise ConflictError(
            _("Status usulan telah berubah menjadi %(state)s sejak halaman Anda dimuat; "
              "tidak ada yang diubah.", state=proposal.state.label),
            details={"current": proposal_state_dict(proposal)})
    if proposal.state not in spec.sources:
        raise ConflictError(
            _("Tindakan \u201c%(action)s\u201d tidak dapat dilakukan pada usulan berstatus "
              "%(state)s.", action=spec.label, state=proposal.state.label),
            details={"current": proposal_state_dict(proposal)})
    refusal = _performer_refusal(user, proposal, spec)
    if refusal is None and user is not None and name in CASCADING:
        # Not even an administrator: these follow a decision recorded with every party.
        refusal = _("Penundaan, pelanjutan dan berakhirnya kerja sama dicatat di halaman "
                    "status kerja sama, dengan keputusan musyawarah para pihak (PP 43/2014 "
                    "Pasal 145-147).")
    if refusal is not None:
        from coopdesa.errors import AccessDenied

        raise AccessDenied(refusal)
    for guard in guards(name):
        reason = guard(proposal)
        if reason:
            raise ConflictError(reason, details={"current": proposal_state_dict(proposal)})
    text = _text(text, "text", limit=MAX_TEXT)
    clean_points = [p.strip()[:2000] for p in (points or []) if p and p.strip()]
    before_state = proposal.state
    extra: dict[str, Any] = {}
    if name == "submit":
        errors = validate_for_submission(proposal)
        if errors:
            missing = [str(S.SECTION_BY_KEY[k].label) for k in errors if k in S.SECTION_BY_KEY]
            message = (_("Usulan belum lengkap. Lengkapi: %(names)s.", names=", ".join(missing))
                       if missing else next(iter(errors.values()))[0])
            raise ValidationError(message, fields=errors)
        if proposal.kind == Kind.ANTAR_DESA:
            proposal.bkad_id = reviewer_bkad(proposal).id
        number = _freeze_version(proposal, user)
        proposal.submitted_at = utcnow()
        extra["version_number"] = number
    elif name in ("request_changes", "reject"):
        if not clean_points:
            field = "points"
            raise _fail(field, _("Tuliskan poin perbaikan yang diminta.") if
                        name == "request_changes" else _("Tuliskan alasan penolakan."))
        _record_review(proposal, user, Judgment.REQUEST_CHANGES if name == "request_changes"
                       else Judgment.REJECT, clean_points, text)
        extra["points"] = clean_points
    elif name == "approve":
        _record_review(proposal, user, Judgment.APPROVE, clean_points, text)
    elif name == "end":
        try:
            end_ground = EndGround(ground or "")
        except ValueError:
            raise _fail("ground", _("Pilih dasar berakhirnya kerja sama menurut PP 43/2014 "
                                    "Pasal 147 (huruf a sampai i).")) from None
        errors: dict[str, list[str]] = {}
        today = today or local_today()
        day = parse_date(ended_on, "ended_on", errors) or today
        if errors:
            raise ValidationError(errors["ended_on"][0], fields=errors)
        if day > today:
            raise _fail("ended_on", _("Tanggal berakhir tidak boleh di masa depan."))
        proposal.end_ground = end_ground
        proposal.ended_on = day
        proposal.end_note = text
        extra.update(ground=proposal.end_ground.value, ended_on=day.isoformat())
    elif name == "withdraw":
        if not text:
            raise _fail("text", _("Tuliskan alasan penarikan usulan."))
        proposal.end_note = text
    proposal.state = spec.target
    proposal.state_changed_at = utcnow()
    _touch(proposal)
    try:
        db.session.flush()
    except StaleDataError:
        # Changed by someone else after the lock above was read (SQLite, or a change that
        # kept the state): this act loses and nothing of it is written.
        db.session.rollback()
        raise ConflictError(
            _("Usulan ini baru saja diubah oleh orang lain; status kini %(state)s. Tindakan "
              "Anda tidak dijalankan: muat ulang halaman, periksa perubahannya, lalu putuskan "
              "lagi.", state=proposal.state.label),
            details={"current": proposal_state_dict(proposal)}) from None
    audit.record(f"proposal.transition.{name}", user=user, object_type="proposal",
                 object_id=proposal.id, proposal_id=proposal.id,
                 summary=_l("%(action)s: %(old)s \u2192 %(new)s", action=spec.label,
                            old=STATE_LABELS[before_state], new=STATE_LABELS[spec.target]),
                 before={"state": before_state.value},
                 after={"state": spec.target.value, "version": proposal.version,
                        **({"text": text} if text else {}), **extra})
    from coopdesa.proposals.notifications import notify_transition

    notify_transition(proposal, name, user)
    if name in CASCADING and proposal.amends_id is None:
        # An agreement's addenda in force share its fate (coopdesa.lifecycle).
        addenda = db.session.scalars(
            sa.select(Proposal).where(Proposal.amends_id == proposal.id,
                                      Proposal.state.in_(spec.sources))).all()
        for addendum in addenda:
            transition(addendum, None, name, text=text, ground=ground, ended_on=ended_on,
                       today=today)
    return proposal


#: Transitions of an agreement that its addenda in force follow.
CASCADING = frozenset({"postpone", "resume", "end"})


def _lock_state(proposal: Proposal) -> None:
    """Serialise acts on one proposal (a row lock held to the commit on PostgreSQL; SQLite
    serialises writers anyway) and read its state as committed: of two reviewers deciding
    at once, the second sees the first one's decision and is refused with it, instead of
    deciding over it."""
    if not sa.inspect(proposal).persistent:
        return
    db.session.execute(sa.select(Proposal.id).where(Proposal.id == proposal.id)
                       .with_for_update())
    db.session.refresh(proposal, ["state"])


def _freeze_version(proposal: Proposal, user: User | None) -> int:
    last = db.session.scalar(
        sa.select(sa.func.max(ProposalVersion.number))
        .where(ProposalVersion.proposal_id == proposal.id)) or 0
    version = ProposalVersion(proposal_id=proposal.id, number=last + 1,
                              snapshot=S.snapshot(proposal),
                              created_by_id=user.id if user else None)
    db.session.add(version)
    return version.number


def _record_review(proposal: Proposal, user: User, judgment: Judgment, points: list[str],
                   note: str | None) -> ProposalReview:
    number = db.session.scalar(
        sa.select(sa.func.max(ProposalVersion.number))
        .where(ProposalVersion.proposal_id == proposal.id)) or 0
    review = ProposalReview(proposal_id=proposal.id, version_number=number,
                            reviewer_id=user.id, judgment=judgment, points=points, note=note)
    db.session.add(review)
    return review


# --- comments ------------------------------------------------------------------------------

def add_comment(proposal: Proposal, user: User, body: str, *, section: str | None = None,
                parent_id: int | None = None) -> ProposalComment:
    access.require(user, Action.COMMENT, proposal)
    body = _text(body, "body", limit=10_000)
    if not body:
        raise _fail("body", _("Komentar tidak boleh kosong."))
    if section and section not in S.SECTION_BY_KEY and section != "parties":
        raise _fail("section", _("Bagian yang dikomentari tidak dikenal."))
    if parent_id is not None:
        parent = db.session.get(ProposalComment, parent_id) if is_id(parent_id) else None
        if parent is None or parent.proposal_id != proposal.id:
            raise _fail("parent_id", _("Komentar yang dibalas tidak ada dalam usulan ini."))
        section = parent.section
        parent_id = parent.parent_id or parent.id  # one level of threads
    number = db.session.scalar(
        sa.select(sa.func.max(ProposalVersion.number))
        .where(ProposalVersion.proposal_id == proposal.id))
    comment = ProposalComment(proposal_id=proposal.id, version_number=number,
                              section=section or None, parent_id=parent_id,
                              author_id=user.id, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record("proposal.comment.add", user=user, object_type="proposal_comment",
                 object_id=comment.id, proposal_id=proposal.id,
                 summary=_l("Komentar ditambahkan"),
                 after={"section": comment.section, "body": body, "parent_id": parent_id})
    return comment


def _own_comment(comment_id: int, proposal: Proposal) -> ProposalComment:
    comment = (db.session.get(ProposalComment, comment_id) if is_id(comment_id) else None)
    if comment is None or comment.proposal_id != proposal.id:
        raise NotFoundError(_("Komentar tidak ditemukan."))
    return comment


def edit_comment(proposal: Proposal, user: User, comment_id: int, body: str) -> ProposalComment:
    comment = _own_comment(comment_id, proposal)
    if comment.author_id != user.id:
        from coopdesa.errors import AccessDenied

        raise AccessDenied(_("Hanya penulis yang dapat menyunting komentarnya."))
    if comment.struck_at is not None:
        raise ConflictError(_("Komentar yang dicoret tidak dapat disunting."))
    if utcnow() - comment.created_at > COMMENT_EDIT_WINDOW:
        raise ConflictError(_("Komentar hanya dapat disunting dalam 15 menit setelah ditulis; "
                              "tulis komentar baru untuk meralat."))
    body = _text(body, "body", limit=10_000)
    if not body:
        raise _fail("body", _("Komentar tidak boleh kosong."))
    before = comment.body
    comment.body = body
    comment.edited_at = utcnow()
    db.session.flush()
    audit.record("proposal.comment.edit", user=user, object_type="proposal_comment",
                 object_id=comment.id, proposal_id=proposal.id,
                 summary=_l("Komentar disunting"), before={"body": before},
                 after={"body": body})
    return comment


def strike_comment(proposal: Proposal, user: User, comment_id: int) -> ProposalComment:
    """Comments are never deleted: the author (or an admin) strikes one through."""
    comment = _own_comment(comment_id, proposal)
    if comment.author_id != user.id and not getattr(user, "is_admin", False):
        from coopdesa.errors import AccessDenied

        raise AccessDenied(_("Hanya penulis atau admin yang dapat mencoret komentar."))
    if comment.struck_at is None:
        comment.struck_at = utcnow()
        comment.struck_by_id = user.id
        db.session.flush()
        audit.record("proposal.comment.strike", user=user, object_type="proposal_comment",
                     object_id=comment.id, proposal_id=proposal.id,
                     summary=_l("Komentar dicoret"), after={"struck": True})
    return comment


# --- the clock -----------------------------------------------------------------------------

#: Other areas' nightly work (coopdesa.lifecycle: decisions whose day has come), run by
#: :func:`run_lifecycle` after activation and before the term check: functions
#: (today) -> {name: count}.
LIFECYCLE_HOOKS: list = []
#: Run last, once every agreement is in its new state (the network's stored results).
LIFECYCLE_AFTER_HOOKS: list = []


@functools.cache
def effective_end_clause() -> sa.ColumnElement:
    """SQL for the end of an agreement's term: that of its latest addendum in force (an
    extension is a change like any other), else its own. Built once per process: SQL
    expressions are immutable, and building this one (an aliased mapper, a correlated
    subquery) cost about 1.5 ms each time, three times on every home page."""
    addendum = aliased(Proposal)
    latest = (sa.select(addendum.end_date)
              .where(addendum.amends_id == Proposal.id,
                     addendum.state.in_((State.SIGNED, State.ACTIVE, State.POSTPONED)),
                     addendum.end_date.is_not(None))
              .order_by(addendum.amendment_seq.desc()).limit(1)
              .correlate(Proposal).scalar_subquery())
    return sa.func.coalesce(latest, Proposal.end_date)


def run_lifecycle(today: dt.date | None = None) -> dict[str, int]:
    """Start signed agreements whose term has begun, apply decisions whose day has come,
    and end agreements whose term has expired (PP 43/2014 Pasal 147 huruf i), with their
    addenda. Safe to run repeatedly from cron."""
    today = today or local_today()
    started = ended = 0
    to_start = db.session.scalars(
        sa.select(Proposal).where(Proposal.state == State.SIGNED,
                                  Proposal.start_date <= today)).all()
    for proposal in to_start:
        transition(proposal, None, "activate")
        started += 1
    counts: dict[str, int] = {}
    for hook in LIFECYCLE_HOOKS:
        for key, n in hook(today).items():
            counts[key] = counts.get(key, 0) + n
    end = effective_end_clause()
    to_end = db.session.execute(
        sa.select(Proposal, end).where(Proposal.state.in_((State.ACTIVE, State.POSTPONED)),
                                       Proposal.amends_id.is_(None), end < today)
    ).all()
    for proposal, term_end in to_end:
        if proposal.state == State.ENDED:  # ended with an agreement processed before it
            continue
        transition(proposal, None, "end", ground=EndGround.I_JANGKA_WAKTU.value,
                   ended_on=min(term_end + dt.timedelta(days=1), today),
                   text=_("Jangka waktu kerja sama telah berakhir."), today=today)
        ended += 1
    for hook in LIFECYCLE_AFTER_HOOKS:
        for key, n in hook(today).items():
            counts[key] = counts.get(key, 0) + n
    return {"activated": started, "ended": ended, **counts}


def configured_third_party_reviewer_role() -> str:
    return current_app.config.get("THIRD_PARTY_REVIEWER_ROLE", "ketua_bpd")
