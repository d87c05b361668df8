"""Registering, editing and finding actors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from lokal import parse_npwp, parse_phone

from coopdesa.accounts.models import Role, User
from coopdesa.actors.models import Actor, ActorCategory, ActorKind
from coopdesa.db import is_id
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.regions.models import Region
from coopdesa.regions.operations import code_within, get_party_village, normalize_code

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NIB = re.compile(r"^\d{13}$")
EDITABLE_FIELDS = ("name", "kind", "desa_code", "region_code", "nib", "npwp", "address",
                   "contact_name", "phone", "email", "notes")


class _Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _clean(data: dict[str, Any], field: str, limit: int, errors: _Errors) -> str | None:
    """A text field: refused (not coerced or cut) when it is not text or too long."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(field, _("Harus berupa teks."))
        return None
    # NUL is dropped: PostgreSQL refuses it in text columns (a 500, not a message)
    text = value.replace("\x00", "").strip()
    if len(text) > limit:
        errors.add(field, _("Terlalu panjang: paling banyak %(n)d karakter.", n=limit))
        return None
    return text or None


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise actor fields; collect every problem before refusing."""
    errors = _Errors()
    out: dict[str, Any] = {}
    fail = errors.add

    try:
        kind = ActorKind(data.get("kind") or "")
    except ValueError:
        fail("kind", _("Pilih jenis pihak."))
        kind = None
    out["kind"] = kind
    name = _clean(data, "name", 200, errors)
    desa_code = _clean(data, "desa_code", 20, errors)
    if kind == ActorKind.DESA:
        if not desa_code:
            fail("desa_code", _("Pilih desa dari daftar wilayah resmi."))
        else:
            try:
                village = get_party_village(desa_code, field="desa_code")
            except ValidationError as exc:
                for field, msgs in exc.fields.items():
                    errors.setdefault(field, []).extend(msgs)
            else:
                out["desa_code"] = village.code
                out["region_code"] = village.code
                name = name or village_display_name(village)
    else:
        out["desa_code"] = None
    if not name and kind != ActorKind.DESA:  # a desa's name comes from the register
        fail("name", _("Nama pihak wajib diisi."))
    out["name"] = name
    if "region_code" not in out:
        region_code = _clean(data, "region_code", 20, errors)
        if region_code:
            code = normalize_code(region_code)
            if db.session.get(Region, code) is None:
                fail("region_code", _("Kode wilayah %(code)s tidak ada dalam daftar resmi.",
                                      code=region_code))
            out["region_code"] = code
        else:
            out["region_code"] = None
    nib = _clean(data, "nib", 20, errors)
    if nib:
        nib = re.sub(r"\s", "", nib)
        if not _NIB.match(nib):
            fail("nib", _("NIB terdiri atas 13 angka."))
    out["nib"] = nib
    npwp = _clean(data, "npwp", 30, errors)
    if npwp:
        info = parse_npwp(npwp)
        if not info.valid:
            fail("npwp", _("NPWP tidak valid: periksa 15 atau 16 angkanya."))
        else:
            npwp = info.formatted15 or info.npwp16
    out["npwp"] = npwp
    phone = _clean(data, "phone", 30, errors)
    if phone:
        info = parse_phone(phone)
        if not info.valid:
            fail("phone", _("Nomor telepon tidak valid: awali dengan 0, 62 atau +62."))
        else:
            phone = info.e164
    out["phone"] = phone
    email = _clean(data, "email", 254, errors)
    if email and not _EMAIL.match(email):
        fail("email", _("Alamat surel tidak valid."))
    out["email"] = email
    out["address"] = _clean(data, "address", 500, errors)
    out["contact_name"] = _clean(data, "contact_name", 120, errors)
    out["notes"] = _clean(data, "notes", 5000, errors)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationError(first, fields=errors)
    return out


def _check_desa_unique(desa_code: str | None, exclude_id: int | None = None) -> None:
    if not desa_code:
        return
    stmt = sa.select(Actor.id).where(Actor.desa_code == desa_code)
    if exclude_id is not None:
        stmt = stmt.where(Actor.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        message = _("Desa ini sudah terdaftar sebagai pihak.")
        raise ValidationError(message, fields={"desa_code": [message]})


def create_actor(data: dict[str, Any], *, by: User | None = None) -> Actor:
    """Register an actor from form or JSON data; raises ValidationError naming fields."""
    values = _validated(data)
    _check_desa_unique(values.get("desa_code"))
    actor = Actor(**values)
    if by is not None:
        actor.created_by_id = by.id
        if by.role == Role.SEKRETARIS:
            actor.owner_desa_code = by.desa_code
    db.session.add(actor)
    db.session.flush()
    return actor


def update_actor(actor: Actor, data: dict[str, Any], *, expected_version: int | None) -> Actor:
    """Apply an edit made on ``expected_version``; a stale edit raises ConflictError."""
    if expected_version is not None and expected_version != actor.version:
        raise ConflictError(
            _("Data pihak ini telah diubah oleh orang lain sejak Anda membukanya. Periksa "
              "perubahan di bawah, lalu simpan lagi."),
            details={"current": actor.to_dict()},
        )
    values = _validated(data)
    if values["kind"] != actor.kind and ActorKind.DESA in (values["kind"], actor.kind):
        message = _("Jenis pihak desa tidak dapat diubah menjadi jenis lain, atau sebaliknya.")
        raise ValidationError(message, fields={"kind": [message]})
    _check_desa_unique(values.get("desa_code"), exclude_id=actor.id)
    for key, value in values.items():
        setattr(actor, key, value)
    db.session.flush()
    return actor


def get_actor(actor_id: int) -> Actor:
    actor = db.session.get(Actor, actor_id) if is_id(actor_id) else None
    if actor is None:
        raise NotFoundError(_("Pihak tidak ditemukan."))
    return actor


def village_display_name(village: Region) -> str:
    """"Desa Dieng"; a desa adat whose official name already says so is not doubled."""
    label = village.kind.label
    if village.name.lower().startswith(label.lower()):
        return village.name
    return f"{label} {village.name}"


def village_actor(code: str) -> Actor:
    """The actor representing desa ``code``, registered on first use."""
    village = get_party_village(code)
    actor = db.session.scalar(sa.select(Actor).where(Actor.desa_code == village.code))
    if actor is None:
        actor = Actor(name=village_display_name(village), kind=ActorKind.DESA,
                      desa_code=village.code, region_code=village.code)
        db.session.add(actor)
        db.session.flush()
    return actor


@dataclass
class ActorPage:
    items: list[Actor]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_actors(*, text: str | None = None, kind: str | None = None,
                  category: str | None = None, region: str | None = None,
                  page: int = 1, per_page: int = 25,
                  third_parties_only: bool = False) -> ActorPage:
    """Actors matching the filters, by name; two queries whatever the page size."""
    filters: list[sa.ColumnElement[bool]] = []
    text = (text or "").replace("\x00", "")
    if text and text.strip():
        pattern = "%" + text.strip().lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        filters.append(sa.or_(sa.func.lower(Actor.name).like(pattern, escape="\\"),
                              Actor.nib == text.strip()))
    if kind:
        try:
            filters.append(Actor.kind == ActorKind(kind))
        except ValueError:
            raise ValidationError(_("Jenis pihak tidak dikenal."),
                                  fields={"kind": [_("Jenis pihak tidak dikenal.")]}) from None
    if category:
        try:
            cat = ActorCategory(category)
        except ValueError:
            raise ValidationError(_("Kategori pihak tidak dikenal."),
                                  fields={"category": [_("Kategori pihak tidak dikenal.")]}) \
                from None
        filters.append(Actor.kind.in_([k for k in ActorKind if k.category == cat]))
    if region and region.strip():
        filters.append(code_within(Actor.region_code, normalize_code(region)))
    if third_parties_only:
        filters.append(Actor.kind != ActorKind.DESA)
    page = max(1, page)
    per_page = max(1, min(per_page, 100))
    total = db.session.scalar(sa.select(sa.func.count(Actor.id)).where(*filters)) or 0
    items = list(db.session.scalars(
        sa.select(Actor).where(*filters)
        .options(sa.orm.joinedload(Actor.region))
        .order_by(Actor.name, Actor.id)
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return ActorPage(items=items, total=total, page=page, per_page=per_page)
