"""Actors: villages, businesses, government bodies, civil society and community groups."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.db import RegionCode, created_at, intpk, str_enum, utcnow
from coopdesa.extensions import db
from coopdesa.regions.models import Region


class ActorCategory(enum.StrEnum):
    """Seed 002's three actors, plus the villages themselves and community groups."""

    DESA = "desa"
    USAHA = "usaha"
    PEMERINTAH = "pemerintah"
    MASYARAKAT_SIPIL = "masyarakat_sipil"
    KELOMPOK_MASYARAKAT = "kelompok_masyarakat"

    @property
    def label(self) -> str:
        return str(CATEGORY_LABELS[self])


CATEGORY_LABELS = {
    ActorCategory.DESA: _l("Desa"),
    ActorCategory.USAHA: _l("Dunia usaha"),
    ActorCategory.PEMERINTAH: _l("Pemerintah"),
    ActorCategory.MASYARAKAT_SIPIL: _l("Masyarakat sipil"),
    ActorCategory.KELOMPOK_MASYARAKAT: _l("Kelompok masyarakat"),
}


class ActorKind(enum.StrEnum):
    DESA = "desa"
    BUM_DESA = "bum_desa"
    BUM_DESA_BERSAMA = "bum_desa_bersama"
    KOPERASI = "koperasi"
    SWASTA = "swasta"
    PEMDA = "pemda"
    DINAS = "dinas"
    KECAMATAN = "kecamatan"
    INSTANSI_PUSAT = "instansi_pusat"
    LSM = "lsm"
    PERGURUAN_TINGGI = "perguruan_tinggi"
    ORMAS = "ormas"
    KELOMPOK_TANI = "kelompok_tani"
    KELOMPOK_NELAYAN = "kelompok_nelayan"
    MASYARAKAT_ADAT = "masyarakat_adat"
    ORGANISASI_KEAGAMAAN = "organisasi_keagamaan"
    ORGANISASI_PEREMPUAN = "organisasi_perempuan"
    ORGANISASI_KEPEMUDAAN = "organisasi_kepemudaan"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def category(self) -> ActorCategory:
        return KIND_CATEGORY[self]

    @property
    def is_third_party(self) -> bool:
        """A party other than a desa: may sign a perjanjian bersama as pihak ketiga."""
        return self is not ActorKind.DESA


KIND_LABELS = {
    ActorKind.DESA: _l("Desa / Desa Adat"),
    ActorKind.BUM_DESA: _l("BUM Desa"),
    ActorKind.BUM_DESA_BERSAMA: _l("BUM Desa Bersama"),
    ActorKind.KOPERASI: _l("Koperasi"),
    ActorKind.SWASTA: _l("Badan usaha swasta"),
    ActorKind.PEMDA: _l("Pemerintah daerah"),
    ActorKind.DINAS: _l("Dinas / perangkat daerah"),
    ActorKind.KECAMATAN: _l("Pemerintah kecamatan (Camat)"),
    ActorKind.INSTANSI_PUSAT: _l("Instansi pemerintah pusat"),
    ActorKind.LSM: _l("LSM / NGO"),
    ActorKind.PERGURUAN_TINGGI: _l("Perguruan tinggi"),
    ActorKind.ORMAS: _l("Organisasi kemasyarakatan"),
    ActorKind.KELOMPOK_TANI: _l("Organisasi tani lokal"),
    ActorKind.KELOMPOK_NELAYAN: _l("Kelompok nelayan"),
    ActorKind.MASYARAKAT_ADAT: _l("Masyarakat adat"),
    ActorKind.ORGANISASI_KEAGAMAAN: _l("Organisasi keagamaan"),
    ActorKind.ORGANISASI_PEREMPUAN: _l("Organisasi perempuan"),
    ActorKind.ORGANISASI_KEPEMUDAAN: _l("Organisasi kepemudaan"),
}

KIND_CATEGORY = {
    ActorKind.DESA: ActorCategory.DESA,
    ActorKind.BUM_DESA: ActorCategory.USAHA,
    ActorKind.BUM_DESA_BERSAMA: ActorCategory.USAHA,
    ActorKind.KOPERASI: ActorCategory.USAHA,
    ActorKind.SWASTA: ActorCategory.USAHA,
    ActorKind.PEMDA: ActorCategory.PEMERINTAH,
    ActorKind.DINAS: ActorCategory.PEMERINTAH,
    ActorKind.KECAMATAN: ActorCategory.PEMERINTAH,
    ActorKind.INSTANSI_PUSAT: ActorCategory.PEMERINTAH,
    ActorKind.LSM: ActorCategory.MASYARAKAT_SIPIL,
    ActorKind.PERGURUAN_TINGGI: ActorCategory.MASYARAKAT_SIPIL,
    ActorKind.ORMAS: ActorCategory.MASYARAKAT_SIPIL,
    ActorKind.KELOMPOK_TANI: ActorCategory.KELOMPOK_MASYARAKAT,
    ActorKind.KELOMPOK_NELAYAN: ActorCategory.KELOMPOK_MASYARAKAT,
    ActorKind.MASYARAKAT_ADAT: ActorCategory.KELOMPOK_MASYARAKAT,
    ActorKind.ORGANISASI_KEAGAMAAN: ActorCategory.KELOMPOK_MASYARAKAT,
    ActorKind.ORGANISASI_PEREMPUAN: ActorCategory.KELOMPOK_MASYARAKAT,
    ActorKind.ORGANISASI_KEPEMUDAAN: ActorCategory.KELOMPOK_MASYARAKAT,
}


class Actor(db.Model):
    __tablename__ = "actor"
    __table_args__ = (
        sa.CheckConstraint("(kind != 'desa') OR (desa_code IS NOT NULL)", name="desa_has_code"),
        sa.CheckConstraint("(kind = 'desa') OR (desa_code IS NULL)", name="only_desa_has_code"),
    )

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[ActorKind] = mapped_column(
        str_enum(ActorKind, 24),
        index=True,
    )
    #: For kind desa: the village in the official register (one actor per desa).
    desa_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), unique=True
    )
    #: Where the actor sits: a region code at any level (used for jurisdiction scopes).
    region_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), index=True
    )
    #: Nomor Induk Berusaha (OSS) for a business; other registration numbers go in notes.
    nib: Mapped[str | None] = mapped_column(sa.String(13))
    npwp: Mapped[str | None] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(500))
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    #: The village whose secretary registered the actor (edit rights), if any.
    owner_desa_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    desa: Mapped[Region | None] = relationship(foreign_keys=[desa_code])
    region: Mapped[Region | None] = relationship(foreign_keys=[region_code])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Actor {self.id} {self.kind} {self.name}>"

    @property
    def category(self) -> ActorCategory:
        return self.kind.category

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "category": self.category.value,
            "desa_code": self.desa_code,
            "region_code": self.region_code,
            "region_path": self.region.path if self.region else None,
            "nib": self.nib,
            "npwp": self.npwp,
            "address": self.address,
            "contact_name": self.contact_name,
            "phone": self.phone,
            "email": self.email,
            "notes": self.notes,
            "version": self.version,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }
