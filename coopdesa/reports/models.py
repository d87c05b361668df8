"""Reporting schedules and implementation reports of agreements in force.

Permendagri 96/2017 (pelaksanaan dan pelaporan): the BKAD reports on an antar-Desa
cooperation to the Kepala Desa of every party village, with copies to the BPD and to the
Bupati/Wali Kota through the Camat; for a cooperation with a third party the Kepala Desa
reports to the BPD, with a copy to the Bupati/Wali Kota through the Camat.
"""

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
from coopdesa.proposals.models import FundingSource, Proposal


class ReportPeriod(enum.StrEnum):
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"

    @property
    def label(self) -> str:
        return str(PERIOD_LABELS[self])

    @property
    def months(self) -> int:
        return {"quarterly": 3, "half_yearly": 6, "yearly": 12}[self.value]


PERIOD_LABELS = {
    ReportPeriod.QUARTERLY: _l("Triwulanan"),
    ReportPeriod.HALF_YEARLY: _l("Semesteran"),
    ReportPeriod.YEARLY: _l("Tahunan"),
}


class AimStatus(enum.StrEnum):
    TERCAPAI = "tercapai"
    SEBAGIAN = "sebagian"
    BELUM = "belum"

    @property
    def label(self) -> str:
        return str(AIM_STATUS_LABELS[self])


AIM_STATUS_LABELS = {
    AimStatus.TERCAPAI: _l("Tercapai"),
    AimStatus.SEBAGIAN: _l("Tercapai sebagian"),
    AimStatus.BELUM: _l("Belum tercapai"),
}


class ReportSchedule(db.Model):
    """How often an agreement reports; set at the signing step, locked once in force.
    No row means yearly."""

    __tablename__ = "report_schedule"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    period: Mapped[ReportPeriod] = mapped_column(str_enum(ReportPeriod, 12))
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    set_at: Mapped[created_at]

    set_by: Mapped[User | None] = relationship()


class ImplementationReport(db.Model):
    """One period's report; final once filed (never edited), its PDF rendered at filing."""

    __tablename__ = "implementation_report"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "period_start", name="report_period_once"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    activities: Mapped[str] = mapped_column(sa.Text)
    outputs: Mapped[str] = mapped_column(sa.Text)
    outcomes: Mapped[str] = mapped_column(sa.Text)
    problems: Mapped[str | None] = mapped_column(sa.Text)
    next_steps: Mapped[str | None] = mapped_column(sa.Text)
    #: [{"role": "kepada"|"tembusan", "name": "Kepala Desa Dieng"}], fixed at filing.
    addressees: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: "BKAD Dieng Raya" or "Kepala Desa Dieng", fixed at filing.
    reporter_label: Mapped[str] = mapped_column(sa.String(200))
    #: Name of the person signing for the reporter (Ketua BKAD / Kepala Desa).
    signer_name: Mapped[str] = mapped_column(sa.String(120))
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    filed_at: Mapped[created_at]
    file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    render_error: Mapped[str | None] = mapped_column(sa.String(500))

    proposal: Mapped[Proposal] = relationship()
    filed_by: Mapped[User | None] = relationship()
    file: Mapped[StoredFile | None] = relationship()
    aims: Mapped[list[ReportAim]] = relationship(
        cascade="all, delete-orphan", order_by="ReportAim.position")
    funding: Mapped[list[ReportFunding]] = relationship(
        cascade="all, delete-orphan", order_by="ReportFunding.position")
    attachments: Mapped[list[ReportAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="ReportAttachment.position")

    def __repr__(self) -> str:
        return f"<ImplementationReport {self.proposal_id} {self.period_start}>"


class ReportAim(db.Model):
    __tablename__ = "report_aim"

    id: Mapped[intpk]
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("implementation_report.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    aim: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[AimStatus] = mapped_column(str_enum(AimStatus, 10))
    note: Mapped[str | None] = mapped_column(sa.String(500))


class ReportFunding(db.Model):
    """Funds received and spent in the period from one source (whole Rupiah)."""

    __tablename__ = "report_funding"
    __table_args__ = (
        sa.CheckConstraint("received >= 0", name="received_not_negative"),
        sa.CheckConstraint("spent >= 0", name="spent_not_negative"),
    )

    id: Mapped[intpk]
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("implementation_report.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    source: Mapped[FundingSource] = mapped_column(str_enum(FundingSource, 16))
    apbdes_year: Mapped[int | None]
    received: Mapped[int] = mapped_column(sa.BigInteger)
    spent: Mapped[int] = mapped_column(sa.BigInteger)


class ReportAttachment(db.Model):
    """A photo or receipt (PDF, PNG, JPEG by content) filed with a report."""

    __tablename__ = "report_attachment"

    id: Mapped[intpk]
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("implementation_report.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id"))

    file: Mapped[StoredFile] = relationship()
