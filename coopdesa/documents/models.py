"""Signatures and the agreement document: what was signed, by whom and how, and the one
final PDF kept with its SHA-256 and its public verification code."""

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


class SignMethod(enum.StrEnum):
    #: Wet ink on the printed copy (with meterai for a perjanjian).
    BASAH = "basah"
    #: A certified electronic signature (BSrE TTE or another PSrE): the signed PDF is kept.
    ELEKTRONIK = "elektronik"

    @property
    def label(self) -> str:
        return str(SIGN_METHOD_LABELS[self])


SIGN_METHOD_LABELS = {
    SignMethod.BASAH: _l("Tanda tangan basah pada naskah cetak"),
    SignMethod.ELEKTRONIK: _l("Tanda tangan elektronik tersertifikasi (mis. BSrE)"),
}


class Paper(enum.StrEnum):
    F4 = "f4"
    A4 = "a4"

    @property
    def label(self) -> str:
        return {"f4": "F4 (215 \u00d7 330 mm)", "a4": "A4 (210 \u00d7 297 mm)"}[self.value]


class Signature(db.Model):
    """One party's signature on the agreement, recorded by a secretary or an admin."""

    __tablename__ = "signature"
    __table_args__ = (sa.UniqueConstraint("party_id", name="party_signs_once"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal_party.id", ondelete="CASCADE"))
    signer_name: Mapped[str] = mapped_column(sa.String(120))
    signer_office: Mapped[str] = mapped_column(sa.String(120))
    method: Mapped[SignMethod] = mapped_column(str_enum(SignMethod, 12))
    signed_on: Mapped[dt.date]
    place: Mapped[str] = mapped_column(sa.String(120))
    #: The party's own number for the document: the village's register number of its
    #: Peraturan Bersama ("3") or the third party's agreement number.
    number: Mapped[str] = mapped_column(sa.String(80))
    #: The electronically signed PDF (required for ``elektronik``).
    evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[created_at]

    party: Mapped[ProposalParty] = relationship()
    evidence: Mapped[StoredFile | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class AgreementDocument(db.Model):
    """The final document of a signed agreement. Created when the last party signs; its
    content (``payload``) is frozen then, its PDF rendered once and never replaced."""

    __tablename__ = "agreement_document"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    #: The frozen proposal version the parties signed.
    version_number: Mapped[int]
    #: Public verification code, e.g. "7KQM-4TZX-2PVA" (Crockford base32, no I/L/O/U).
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    paper: Mapped[Paper] = mapped_column(str_enum(Paper, 4), default=Paper.F4)
    enacted_on: Mapped[dt.date]
    enacted_place: Mapped[str] = mapped_column(sa.String(120))
    #: Everything the document shows, frozen at signing; also embedded in the PDF as JSON.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: The final PDF/A-3b (None until rendered: signing never waits on a failed render).
    file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    rendered_at: Mapped[dt.datetime | None]
    render_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: The scan of the signed paper copy.
    scan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    created_at: Mapped[created_at]

    proposal: Mapped[Proposal] = relationship()
    file: Mapped[StoredFile | None] = relationship(foreign_keys=[file_id])
    scan: Mapped[StoredFile | None] = relationship(foreign_keys=[scan_id])

    def __repr__(self) -> str:
        return f"<AgreementDocument {self.code} proposal={self.proposal_id}>"
