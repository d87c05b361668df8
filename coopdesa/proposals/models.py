"""Proposals, their parties, funding, frozen versions, review comments and judgments."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.accounts.models import Bkad, User
from coopdesa.actors.models import Actor
from coopdesa.db import RegionCode, created_at, intpk, str_enum, utcnow
from coopdesa.extensions import db
from coopdesa.proposals.states import State


class Kind(enum.StrEnum):
    ANTAR_DESA = "antar_desa"
    PIHAK_KETIGA = "pihak_ketiga"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    Kind.ANTAR_DESA: _l("Kerja sama antar-Desa (Peraturan Bersama Kepala Desa)"),
    Kind.PIHAK_KETIGA: _l("Kerja sama dengan pihak ketiga (Perjanjian Bersama)"),
}


class Initiative(enum.StrEnum):
    DESA = "desa"
    PIHAK_KETIGA = "pihak_ketiga"

    @property
    def label(self) -> str:
        return str(INITIATIVE_LABELS[self])


INITIATIVE_LABELS = {
    Initiative.DESA: _l("Prakarsa desa"),
    Initiative.PIHAK_KETIGA: _l("Prakarsa pihak ketiga"),
}


class Bidang(enum.StrEnum):
    """UU 6/2014 Pasal 92(1): the fields of inter-village cooperation."""

    USAHA_BERSAMA = "usaha_bersama"
    KEMASYARAKATAN = "kemasyarakatan"
    KEAMANAN = "keamanan"

    @property
    def label(self) -> str:
        return str(BIDANG_LABELS[self])


BIDANG_LABELS = {
    Bidang.USAHA_BERSAMA: _l("Pengembangan usaha bersama yang dimiliki oleh Desa (Pasal 92 "
                             "ayat (1) huruf a)"),
    Bidang.KEMASYARAKATAN: _l("Kegiatan kemasyarakatan, pelayanan, pembangunan, dan "
                              "pemberdayaan masyarakat antar-Desa (huruf b)"),
    Bidang.KEAMANAN: _l("Bidang keamanan dan ketertiban (huruf c)"),
}


class PartyRole(enum.StrEnum):
    PEMRAKARSA = "pemrakarsa"
    MITRA = "mitra"

    @property
    def label(self) -> str:
        return str(PARTY_ROLE_LABELS[self])


PARTY_ROLE_LABELS = {PartyRole.PEMRAKARSA: _l("Pemrakarsa"), PartyRole.MITRA: _l("Mitra")}


class FundingSource(enum.StrEnum):
    APB_DESA = "apb_desa"
    BUM_DESA = "bum_desa"
    PIHAK_KETIGA = "pihak_ketiga"
    APBD_KABUPATEN = "apbd_kabupaten"
    APBD_PROVINSI = "apbd_provinsi"
    APBN = "apbn"
    SWADAYA = "swadaya"
    LAINNYA = "lainnya"

    @property
    def label(self) -> str:
        return str(FUNDING_LABELS[self])


FUNDING_LABELS = {
    FundingSource.APB_DESA: _l("APB Desa"),
    FundingSource.BUM_DESA: _l("BUM Desa / BUM Desa Bersama"),
    FundingSource.PIHAK_KETIGA: _l("Dana pihak ketiga"),
    FundingSource.APBD_KABUPATEN: _l("APBD kabupaten/kota"),
    FundingSource.APBD_PROVINSI: _l("APBD provinsi"),
    FundingSource.APBN: _l("APBN"),
    FundingSource.SWADAYA: _l("Swadaya masyarakat"),
    FundingSource.LAINNYA: _l("Sumber lain yang sah"),
}


class EndGround(enum.StrEnum):
    """PP 43/2014 Pasal 147: why a cooperation ends."""

    A_KESEPAKATAN = "a"
    B_TUJUAN_TERCAPAI = "b"
    C_KEADAAN_KAHAR = "c"
    D_WANPRESTASI = "d"
    E_DIGANTI = "e"
    F_BERTENTANGAN_HUKUM = "f"
    G_OBJEK_HILANG = "g"
    H_MERUGIKAN = "h"
    I_JANGKA_WAKTU = "i"

    @property
    def label(self) -> str:
        return str(END_GROUND_LABELS[self])


END_GROUND_LABELS = {
    EndGround.A_KESEPAKATAN: _l("a. atas kesepakatan para pihak"),
    EndGround.B_TUJUAN_TERCAPAI: _l("b. tujuan kerja sama telah tercapai"),
    EndGround.C_KEADAAN_KAHAR: _l("c. terdapat keadaan memaksa (force majeure)"),
    EndGround.D_WANPRESTASI: _l("d. salah satu pihak tidak melaksanakan atau melanggar "
                                "ketentuan kerja sama"),
    EndGround.E_DIGANTI: _l("e. dibuat perjanjian baru yang menggantikan"),
    EndGround.F_BERTENTANGAN_HUKUM: _l("f. bertentangan dengan peraturan perundang-undangan"),
    EndGround.G_OBJEK_HILANG: _l("g. objek kerja sama hilang"),
    EndGround.H_MERUGIKAN: _l("h. merugikan kepentingan masyarakat desa, daerah, atau "
                              "nasional"),
    EndGround.I_JANGKA_WAKTU: _l("i. berakhirnya masa perjanjian"),
}


class Proposal(db.Model):
    __tablename__ = "proposal"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date > start_date",
                           name="period_order"),
        sa.Index("ix_proposal_state_updated", "state", "updated_at"),
    )

    id: Mapped[intpk]
    #: Human reference, e.g. "KSD-2026-00042".
    ref: Mapped[str] = mapped_column(sa.String(20), unique=True)
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, 16), index=True)
    initiative: Mapped[Initiative] = mapped_column(str_enum(Initiative, 16))
    state: Mapped[State] = mapped_column(str_enum(State, 24), default=State.DRAFT, index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    #: Lower-case title for case-insensitive search on every engine.
    title_key: Mapped[str] = mapped_column(sa.String(300), index=True)

    # Sections (PP 43/2014 Pasal 143 and the Peraturan Bersama / Perjanjian outline).
    menimbang: Mapped[str | None] = mapped_column(sa.Text)
    mengingat: Mapped[str | None] = mapped_column(sa.Text)
    tujuan: Mapped[str | None] = mapped_column(sa.Text)
    ruang_lingkup: Mapped[str | None] = mapped_column(sa.Text)
    bidang: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    bidang_uraian: Mapped[str | None] = mapped_column(sa.Text)
    tata_cara: Mapped[str | None] = mapped_column(sa.Text)
    start_date: Mapped[dt.date | None] = mapped_column(index=True)
    end_date: Mapped[dt.date | None] = mapped_column(index=True)
    perubahan: Mapped[str | None] = mapped_column(sa.Text)
    perselisihan: Mapped[str | None] = mapped_column(sa.Text)
    analisis_biaya_manfaat: Mapped[str | None] = mapped_column(sa.Text)
    kerangka_acuan_kerja: Mapped[str | None] = mapped_column(sa.Text)

    #: The kabupaten/kota of the party villages (one for antar_desa by law).
    kabupaten_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("region.code"), index=True
    )
    #: The BKAD reviewing an antar_desa proposal, fixed at submission.
    bkad_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bkad.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    submitted_at: Mapped[dt.datetime | None]
    state_changed_at: Mapped[dt.datetime | None]
    ended_on: Mapped[dt.date | None]
    end_ground: Mapped[EndGround | None] = mapped_column(str_enum(EndGround, 2))
    end_note: Mapped[str | None] = mapped_column(sa.Text)
    #: A perubahan (addendum) names the agreement it changes (always the original one, so
    #: the addenda of one agreement are numbered 1, 2, ... in ``amendment_seq``).
    amends_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposal.id"), index=True)
    amendment_seq: Mapped[int | None]
    #: The agreement that replaced this one (PP 43/2014 Pasal 147 huruf e).
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposal.id"))
    #: Optimistic locking: every save names the version it was made on.
    version: Mapped[int] = mapped_column(default=1)

    parties: Mapped[list[ProposalParty]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="ProposalParty.position",
    )
    bkad: Mapped[Bkad | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    amends: Mapped[Proposal | None] = relationship(
        foreign_keys=[amends_id], remote_side="Proposal.id")
    replaced_by: Mapped[Proposal | None] = relationship(
        foreign_keys=[replaced_by_id], remote_side="Proposal.id")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Proposal {self.ref} {self.state}>"

    @property
    def desa_codes(self) -> list[str]:
        return [p.desa_code for p in self.parties if p.desa_code]

    @property
    def village_parties(self) -> list[ProposalParty]:
        return [p for p in self.parties if p.desa_code]

    @property
    def third_parties(self) -> list[ProposalParty]:
        return [p for p in self.parties if not p.desa_code]

    @property
    def is_editable(self) -> bool:
        from coopdesa.proposals.states import EDITABLE_STATES

        return self.state in EDITABLE_STATES


@sa.event.listens_for(Proposal.state, "set")
def _submitted_follows_state(target: Proposal, value: State, oldvalue: Any, initiator: Any):
    """Invariant: a draft has never been submitted; every later state (but a withdrawal
    straight from draft) has. Visibility to anyone but the authors rests on
    ``submitted_at``, so it must never disagree with the state, whoever sets it."""
    if value == State.DRAFT:
        target.submitted_at = None
    elif value != State.WITHDRAWN and target.submitted_at is None:
        target.submitted_at = utcnow()


class ProposalParty(db.Model):
    __tablename__ = "proposal_party"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "actor_id", name="party_once"),
        sa.Index("ix_proposal_party_desa_proposal", "desa_code", "proposal_id"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("actor.id"), index=True)
    #: Copied from the actor for a village party, so scope queries need no join.
    desa_code: Mapped[str | None] = mapped_column(RegionCode, sa.ForeignKey("region.code"))
    role: Mapped[PartyRole] = mapped_column(str_enum(PartyRole, 12))
    position: Mapped[int] = mapped_column(default=0)
    signatory_name: Mapped[str | None] = mapped_column(sa.String(120))
    signatory_office: Mapped[str | None] = mapped_column(sa.String(120))
    #: Delegates to the musyawarah antar-Desa / BKAD, one name per line.
    delegates: Mapped[str | None] = mapped_column(sa.Text)
    hak: Mapped[str | None] = mapped_column(sa.Text)
    kewajiban: Mapped[str | None] = mapped_column(sa.Text)

    proposal: Mapped[Proposal] = relationship(back_populates="parties")
    actor: Mapped[Actor] = relationship()
    funding: Mapped[list[ProposalFunding]] = relationship(
        back_populates="party", cascade="all, delete-orphan", order_by="ProposalFunding.id"
    )

    @property
    def name(self) -> str:
        return self.actor.name

    @property
    def is_village(self) -> bool:
        return self.desa_code is not None


class ProposalFunding(db.Model):
    __tablename__ = "proposal_funding"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[intpk]
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal_party.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[FundingSource] = mapped_column(str_enum(FundingSource, 16))
    #: Whole Rupiah.
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    #: The APB Desa year, required when the source is a village budget.
    apbdes_year: Mapped[int | None]
    description: Mapped[str | None] = mapped_column(sa.String(300))

    party: Mapped[ProposalParty] = relationship(back_populates="funding")


class ProposalVersion(db.Model):
    """The content frozen at each submission, for comparison and the record."""

    __tablename__ = "proposal_version"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "number", name="number_once"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship()


class ProposalComment(db.Model):
    """Review comments in threads; never edited after 15 minutes, never deleted."""

    __tablename__ = "proposal_comment"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    #: The frozen version it speaks about (None while the proposal was never submitted).
    version_number: Mapped[int | None]
    #: A section key, or None for the proposal as a whole.
    section: Mapped[str | None] = mapped_column(sa.String(40))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposal_comment.id"),
                                                  index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[created_at]
    edited_at: Mapped[dt.datetime | None]
    struck_at: Mapped[dt.datetime | None]
    struck_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    struck_by: Mapped[User | None] = relationship(foreign_keys=[struck_by_id])


class Judgment(enum.StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"

    @property
    def label(self) -> str:
        return str(JUDGMENT_LABELS[self])


JUDGMENT_LABELS = {
    Judgment.APPROVE: _l("Disetujui untuk dimusyawarahkan"),
    Judgment.REQUEST_CHANGES: _l("Perlu perbaikan"),
    Judgment.REJECT: _l("Ditolak"),
}


class ProposalReview(db.Model):
    """The judgment that ends a review round."""

    __tablename__ = "proposal_review"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    version_number: Mapped[int]
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    judgment: Mapped[Judgment] = mapped_column(str_enum(Judgment, 16))
    #: Required points (changes) or reasons (rejection), one per item.
    points: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[created_at]

    reviewer: Mapped[User] = relationship()


class Notification(db.Model):
    """An in-app notice; ``key`` makes reminders idempotent per user."""

    __tablename__ = "notification"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="key_once"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    key: Mapped[str] = mapped_column(sa.String(120))
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[created_at]
    read_at: Mapped[dt.datetime | None]
    emailed_at: Mapped[dt.datetime | None]

    proposal: Mapped[Proposal | None] = relationship()
