"""A dispute over an agreement, the parties in dispute and each settlement step taken."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.accounts.models import User
from coopdesa.db import created_at, intpk, str_enum
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.proposals.models import Proposal, ProposalParty


class DisputeState(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    TO_COURT = "to_court"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(DISPUTE_STATE_LABELS[self])

    @property
    def badge(self) -> str:
        return {"open": "danger", "settled": "success", "to_court": "dark",
                "withdrawn": "secondary"}[self.value]


DISPUTE_STATE_LABELS = {
    DisputeState.OPEN: _l("Dalam penyelesaian"),
    DisputeState.SETTLED: _l("Selesai"),
    DisputeState.TO_COURT: _l("Diajukan ke pengadilan"),
    DisputeState.WITHDRAWN: _l("Dicabut"),
}


class Level(enum.StrEnum):
    """The steps of PP 43/2014 Pasal 148, in the order they may be taken."""

    MUSYAWARAH = "musyawarah"
    CAMAT = "camat"
    BUPATI = "bupati"
    PENGADILAN = "pengadilan"

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])


LEVEL_LABELS = {
    Level.MUSYAWARAH: _l("Musyawarah para pihak"),
    Level.CAMAT: _l("Fasilitasi dan penyelesaian oleh Camat"),
    Level.BUPATI: _l("Fasilitasi dan penyelesaian oleh Bupati/Wali Kota"),
    Level.PENGADILAN: _l("Pengadilan"),
}


class Outcome(enum.StrEnum):
    SETTLED = "settled"
    NOT_SETTLED = "not_settled"
    #: The court has decided (only at the ``pengadilan`` level).
    PUTUSAN = "putusan"

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self])


OUTCOME_LABELS = {
    Outcome.SETTLED: _l("Sepakat, perselisihan selesai"),
    Outcome.NOT_SETTLED: _l("Tidak tercapai kesepakatan"),
    Outcome.PUTUSAN: _l("Diputus pengadilan"),
}


class Dispute(db.Model):
    __tablename__ = "dispute"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    #: The Pasal/BAB of the agreement the dispute concerns.
    clauses: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[DisputeState] = mapped_column(str_enum(DisputeState, 12),
                                                default=DisputeState.OPEN, index=True)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    opened_at: Mapped[created_at]
    closed_at: Mapped[dt.datetime | None]
    #: Why a dispute was withdrawn.
    close_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: The berita acara of the settlement as rendered by coopdesa, kept with its SHA-256.
    berita_acara_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    berita_acara_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    #: The scan of the berita acara signed on paper.
    scan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    #: Optimistic locking: every change names the version it was made on.
    version: Mapped[int] = mapped_column(default=1)

    proposal: Mapped[Proposal] = relationship()
    opened_by: Mapped[User | None] = relationship()
    parties: Mapped[list[DisputeParty]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeParty.id")
    steps: Mapped[list[DisputeStep]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeStep.position")
    berita_acara: Mapped[StoredFile | None] = relationship(foreign_keys=[berita_acara_id])
    scan: Mapped[StoredFile | None] = relationship(foreign_keys=[scan_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Dispute {self.id} {self.state}>"

    @property
    def disputing_parties(self) -> list[ProposalParty]:
        return sorted((p.party for p in self.parties), key=lambda p: (p.position, p.id))

    @property
    def is_open(self) -> bool:
        return self.state == DisputeState.OPEN

    @property
    def last_step(self) -> DisputeStep | None:
        return self.steps[-1] if self.steps else None


class DisputeParty(db.Model):
    """One agreement party in dispute."""

    __tablename__ = "dispute_party"
    __table_args__ = (sa.UniqueConstraint("dispute_id", "party_id", name="dispute_party_once"),)

    id: Mapped[intpk]
    dispute_id: Mapped[int] = mapped_column(sa.ForeignKey("dispute.id", ondelete="CASCADE"),
                                            index=True)
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal_party.id", ondelete="CASCADE"))

    dispute: Mapped[Dispute] = relationship(back_populates="parties")
    party: Mapped[ProposalParty] = relationship()


class DisputeStep(db.Model):
    """One step on the route of Pasal 148: when, where, who facilitated, and the outcome."""

    __tablename__ = "dispute_step"
    __table_args__ = (sa.UniqueConstraint("dispute_id", "position", name="step_position_once"),)

    id: Mapped[intpk]
    dispute_id: Mapped[int] = mapped_column(sa.ForeignKey("dispute.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int]
    level: Mapped[Level] = mapped_column(str_enum(Level, 12))
    held_on: Mapped[dt.date]
    place: Mapped[str] = mapped_column(sa.String(200))
    facilitator_name: Mapped[str | None] = mapped_column(sa.String(120))
    facilitator_office: Mapped[str | None] = mapped_column(sa.String(120))
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, 12))
    summary: Mapped[str] = mapped_column(sa.Text)
    #: What the parties agreed (required when settled).
    terms: Mapped[str | None] = mapped_column(sa.Text)
    court_name: Mapped[str | None] = mapped_column(sa.String(200))
    case_number: Mapped[str | None] = mapped_column(sa.String(80))
    #: For a settled step: [{"party_id", "name", "office"}] for each disputing party.
    signatories: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[created_at]

    dispute: Mapped[Dispute] = relationship(back_populates="steps")
    recorded_by: Mapped[User | None] = relationship()
