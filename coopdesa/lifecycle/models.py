"""Change requests on an agreement in force, and the deliberated decision on each."""

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
from coopdesa.proposals.models import EndGround, Proposal


class ChangeKind(enum.StrEnum):
    PENUNDAAN = "penundaan"
    PELANJUTAN = "pelanjutan"
    PEMBATALAN = "pembatalan"
    PENGAKHIRAN = "pengakhiran"

    @property
    def label(self) -> str:
        return str(CHANGE_KIND_LABELS[self])


CHANGE_KIND_LABELS = {
    ChangeKind.PENUNDAAN: _l("Penundaan pelaksanaan"),
    ChangeKind.PELANJUTAN: _l("Pelanjutan setelah penundaan"),
    ChangeKind.PEMBATALAN: _l("Pembatalan kerja sama"),
    ChangeKind.PENGAKHIRAN: _l("Pengakhiran kerja sama"),
}


class ChangeState(enum.StrEnum):
    REQUESTED = "requested"  # waiting for the deliberation
    APPROVED = "approved"  # agreed; takes effect on effective_on
    APPLIED = "applied"  # in effect
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(CHANGE_STATE_LABELS[self])

    @property
    def badge(self) -> str:
        return {"requested": "info", "approved": "primary", "applied": "success",
                "rejected": "danger", "withdrawn": "secondary"}[self.value]


CHANGE_STATE_LABELS = {
    ChangeState.REQUESTED: _l("Menunggu musyawarah"),
    ChangeState.APPROVED: _l("Disepakati, menunggu tanggal berlaku"),
    ChangeState.APPLIED: _l("Berlaku"),
    ChangeState.REJECTED: _l("Tidak disepakati"),
    ChangeState.WITHDRAWN: _l("Ditarik"),
}
OPEN_CHANGE_STATES = frozenset({ChangeState.REQUESTED, ChangeState.APPROVED})


class AgreementChange(db.Model):
    """A request to postpone, resume, cancel or end an agreement, and its decision.

    The decision records the deliberation with every bound party (Pasal 145-146): when and
    where it was held and who represented each party (``representatives``: one entry per
    party of the agreement, ``{"party_id", "party", "name", "office"}``)."""

    __tablename__ = "agreement_change"
    __table_args__ = (
        sa.CheckConstraint("until IS NULL OR effective_on IS NULL OR until > effective_on",
                           name="until_after_effective"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[ChangeKind] = mapped_column(str_enum(ChangeKind, 16))
    state: Mapped[ChangeState] = mapped_column(str_enum(ChangeState, 12),
                                               default=ChangeState.REQUESTED, index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    #: The Pasal 147 ground asked for (cancellation and ending).
    end_ground: Mapped[EndGround | None] = mapped_column(str_enum(EndGround, 2))
    #: The agreement replacing this one (ground e).
    replacement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposal.id"))
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    requested_at: Mapped[created_at]

    # The deliberation and its decision.
    held_on: Mapped[dt.date | None]
    place: Mapped[str | None] = mapped_column(sa.String(200))
    representatives: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    effective_on: Mapped[dt.date | None]
    #: Postponement only: the day work resumes by itself (None: until a pelanjutan).
    until: Mapped[dt.date | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None]
    applied_at: Mapped[dt.datetime | None]
    withdrawn_note: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)

    proposal: Mapped[Proposal] = relationship(foreign_keys=[proposal_id])
    replacement: Mapped[Proposal | None] = relationship(foreign_keys=[replacement_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CHANGE_STATES
