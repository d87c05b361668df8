"""Users, roles with scopes, BKADs and API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.db import RegionCode, created_at, intpk, str_enum, utcnow
from coopdesa.extensions import db
from coopdesa.regions.models import Region

password_hasher = PasswordHasher()


class Role(enum.StrEnum):
    ADMIN = "admin"
    SEKRETARIS = "sekretaris"
    BKAD = "bkad"
    AUDITOR = "auditor"
    KEPALA_DESA = "kepala_desa"
    KETUA_BPD = "ketua_bpd"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.SEKRETARIS: _l("Sekretaris Desa"),
    Role.BKAD: _l("Pengurus BKAD"),
    Role.AUDITOR: _l("Auditor / Pengawas"),
    Role.KEPALA_DESA: _l("Kepala Desa"),
    Role.KETUA_BPD: _l("Ketua BPD"),
}

#: Roles scoped to one desa.
DESA_ROLES = frozenset({Role.SEKRETARIS, Role.KEPALA_DESA, Role.KETUA_BPD})

bkad_desa = sa.Table(
    "bkad_desa",
    db.metadata,
    sa.Column("bkad_id", sa.ForeignKey("bkad.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("desa_code", RegionCode, sa.ForeignKey("region.code"), primary_key=True,
              index=True),
)


class Bkad(db.Model):
    """Badan Kerja Sama Antar-Desa: a named set of desa (PP 43/2014 Pasal 144)."""

    __tablename__ = "bkad"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(160), unique=True)
    #: The kabupaten/kota all member villages belong to (inter-village cooperation across
    #: kabupaten/kota falls under regional cooperation rules, Permendagri 96/2017 Pasal 3).
    kabupaten_code: Mapped[str] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), index=True
    )
    decree: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[created_at]

    kabupaten: Mapped[Region] = relationship(foreign_keys=[kabupaten_code])
    villages: Mapped[list[Region]] = relationship(
        secondary=bkad_desa, order_by=Region.name
    )

    def __repr__(self) -> str:
        return f"<Bkad {self.id} {self.name}>"

    @property
    def desa_codes(self) -> frozenset[str]:
        return frozenset(v.code for v in self.villages)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint(
            "(role NOT IN ('sekretaris', 'kepala_desa', 'ketua_bpd')) OR "
            "(desa_code IS NOT NULL)", name="village_role_has_desa"
        ),
        sa.CheckConstraint("(role != 'bkad') OR (bkad_id IS NOT NULL)", name="bkad_has_bkad"),
        sa.CheckConstraint(
            "(role != 'auditor') OR (jurisdiction_code IS NOT NULL)", name="auditor_has_scope"
        ),
    )

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    office: Mapped[str | None] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(
        str_enum(Role, 12)
    )
    desa_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), index=True
    )
    bkad_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bkad.id"), index=True)
    jurisdiction_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), index=True
    )
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    #: Changing this ends every session of the user (logout everywhere, password change).
    session_nonce: Mapped[str] = mapped_column(
        sa.String(32), default=lambda: secrets.token_hex(16)
    )
    created_at: Mapped[created_at]
    last_login_at: Mapped[dt.datetime | None]
    password_changed_at: Mapped[dt.datetime | None]

    desa: Mapped[Region | None] = relationship(foreign_keys=[desa_code])
    bkad: Mapped[Bkad | None] = relationship()
    jurisdiction: Mapped[Region | None] = relationship(foreign_keys=[jurisdiction_code])

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    # Flask-Login: the session holds id and nonce, so rotating the nonce revokes sessions.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.is_active_account

    def set_password(self, password: str) -> None:
        self.password_hash = password_hasher.hash(password)
        self.password_changed_at = utcnow()
        self.session_nonce = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        try:
            password_hasher.verify(self.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if password_hasher.check_needs_rehash(self.password_hash):
            self.password_hash = password_hasher.hash(password)
        return True

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def scope_label(self) -> str:
        if self.role in DESA_ROLES and self.desa is not None:
            return self.desa.display_name
        if self.role == Role.BKAD and self.bkad is not None:
            return self.bkad.name
        if self.role == Role.AUDITOR and self.jurisdiction is not None:
            # "Kecamatan Kejajar, Kabupaten Wonosobo, Jawa Tengah": the level named, so a
            # kecamatan is not mistaken for the kelurahan of the same name.
            _name, _sep, parents = self.jurisdiction.path.partition(", ")
            label = self.jurisdiction.display_name
            return f"{label}, {parents}" if parents else label
        return str(_l("Seluruh wilayah"))


class ApiToken(db.Model):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The first characters, so the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[created_at]
    last_used_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    TOKEN_PREFIX = "cds_"  # noqa: S105 - a public marker, not a secret

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return cls.TOKEN_PREFIX + secrets.token_urlsafe(32)

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > utcnow()
