"""Provinsi, kabupaten/kota, kecamatan and desa/kelurahan in one self-referencing table."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from coopdesa.db import RegionCode, ordered_string, str_enum
from coopdesa.extensions import db


class RegionKind(enum.StrEnum):
    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KOTA = "kota"
    KECAMATAN = "kecamatan"
    DISTRIK = "distrik"
    KELURAHAN = "kelurahan"
    DESA = "desa"
    DESA_ADAT = "desa_adat"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    RegionKind.PROVINSI: _l("Provinsi"),
    RegionKind.KABUPATEN: _l("Kabupaten"),
    RegionKind.KOTA: _l("Kota"),
    RegionKind.KECAMATAN: _l("Kecamatan"),
    RegionKind.DISTRIK: _l("Distrik"),
    RegionKind.KELURAHAN: _l("Kelurahan"),
    RegionKind.DESA: _l("Desa"),
    RegionKind.DESA_ADAT: _l("Desa Adat"),
}

#: Kinds that may be a party to kerja sama desa (UU 6/2014 Pasal 91).
PARTY_KINDS = frozenset({RegionKind.DESA, RegionKind.DESA_ADAT})


class Region(db.Model):
    __tablename__ = "region"

    #: Dotted Kemendagri code: "33", "33.07", "33.07.13", "33.07.13.2013".
    code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: Lower-case name without punctuation, for indexed prefix search.
    name_key: Mapped[str] = mapped_column(ordered_string(120), index=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    kind: Mapped[RegionKind] = mapped_column(
        str_enum(RegionKind, 12)
    )
    parent_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), index=True
    )
    #: The region with its parents, nearest first:
    #: "Dieng, Kejajar, Kabupaten Wonosobo, Jawa Tengah".
    path: Mapped[str] = mapped_column(sa.String(255))
    postal_code: Mapped[str | None] = mapped_column(sa.String(5))

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"

    @property
    def is_village(self) -> bool:
        return self.level == 4

    @property
    def may_be_party(self) -> bool:
        """Whether this region may be a party to kerja sama desa (desa or desa adat)."""
        return self.kind in PARTY_KINDS

    @property
    def kind_label(self) -> str:
        return self.kind.label

    @property
    def display_name(self) -> str:
        if self.level == 4:
            return f"{self.kind.label} {self.name}"
        if self.level == 3:
            return f"{self.kind.label} {self.name}"
        return self.name

    def ancestor_code(self, level: int) -> str | None:
        """The code of this region's ancestor at ``level`` (1 provinsi .. 4 desa)."""
        parts = self.code.split(".")
        if level > len(parts):
            return None
        return ".".join(parts[:level])

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "parent_code": self.parent_code,
            "path": self.path,
            "postal_code": self.postal_code,
            "may_be_party": self.may_be_party,
        }


class RegionWord(db.Model):
    """Each word of each region name, so a search for a word inside a name ("sari" in
    "Karang Sari") is an index range scan instead of a scan of 91,599 names."""

    __tablename__ = "region_word"

    word: Mapped[str] = mapped_column(ordered_string(60), primary_key=True)
    code: Mapped[str] = mapped_column(
        RegionCode, sa.ForeignKey("region.code", ondelete="CASCADE"), primary_key=True,
        index=True
    )
