"""Meetings (musyawarah), their attendance, agenda items with decisions, quorum rules."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.accounts.models import User
from coopdesa.db import RegionCode, created_at, intpk, str_enum
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.proposals.models import Proposal
from coopdesa.regions.models import Region


class MeetingKind(enum.StrEnum):
    MUSYAWARAH_DESA = "musyawarah_desa"
    MUSYAWARAH_ANTAR_DESA = "musyawarah_antar_desa"

    @property
    def label(self) -> str:
        return str(MEETING_KIND_LABELS[self])


MEETING_KIND_LABELS = {
    MeetingKind.MUSYAWARAH_DESA: _l("Musyawarah Desa"),
    MeetingKind.MUSYAWARAH_ANTAR_DESA: _l("Musyawarah antar-Desa"),
}


class Element(enum.StrEnum):
    """Who attends (PP 43/2014 Pasal 80 as amended), plus delegates and observers."""

    PEMERINTAH_DESA = "pemerintah_desa"
    BPD = "bpd"
    TOKOH_ADAT = "tokoh_adat"
    TOKOH_AGAMA = "tokoh_agama"
    TOKOH_MASYARAKAT = "tokoh_masyarakat"
    TOKOH_PENDIDIKAN = "tokoh_pendidikan"
    KELOMPOK_TANI = "kelompok_tani"
    KELOMPOK_NELAYAN = "kelompok_nelayan"
    KELOMPOK_PERAJIN = "kelompok_perajin"
    KELOMPOK_PEREMPUAN = "kelompok_perempuan"
    PERLINDUNGAN_ANAK = "perlindungan_anak"
    MASYARAKAT_MISKIN = "masyarakat_miskin"
    LAINNYA = "lainnya"
    DELEGASI_DESA = "delegasi_desa"

    @property
    def label(self) -> str:
        return str(ELEMENT_LABELS[self])


ELEMENT_LABELS = {
    Element.PEMERINTAH_DESA: _l("Pemerintah Desa"),
    Element.BPD: _l("Badan Permusyawaratan Desa (BPD)"),
    Element.TOKOH_ADAT: _l("Tokoh adat"),
    Element.TOKOH_AGAMA: _l("Tokoh agama"),
    Element.TOKOH_MASYARAKAT: _l("Tokoh masyarakat"),
    Element.TOKOH_PENDIDIKAN: _l("Tokoh pendidikan"),
    Element.KELOMPOK_TANI: _l("Perwakilan kelompok tani"),
    Element.KELOMPOK_NELAYAN: _l("Perwakilan kelompok nelayan"),
    Element.KELOMPOK_PERAJIN: _l("Perwakilan kelompok perajin"),
    Element.KELOMPOK_PEREMPUAN: _l("Perwakilan kelompok perempuan"),
    Element.PERLINDUNGAN_ANAK: _l("Perwakilan pemerhati dan pelindung anak"),
    Element.MASYARAKAT_MISKIN: _l("Perwakilan kelompok masyarakat miskin"),
    Element.LAINNYA: _l("Unsur masyarakat lain"),
    Element.DELEGASI_DESA: _l("Delegasi desa (musyawarah antar-Desa)"),
}


class Gender(enum.StrEnum):
    L = "L"
    P = "P"


class Method(enum.StrEnum):
    MUFAKAT = "mufakat"
    VOTE = "vote"


class Ballot(enum.StrEnum):
    OPEN = "terbuka"
    SECRET = "tertutup"  # noqa: S105 - a secret ballot, not a password


class Outcome(enum.StrEnum):
    AGREED = "agreed"
    AGREED_WITH_CHANGES = "agreed_with_changes"
    REJECTED = "rejected"
    POSTPONED = "postponed"

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS[self])


OUTCOME_LABELS = {
    Outcome.AGREED: _l("Disepakati"),
    Outcome.AGREED_WITH_CHANGES: _l("Disepakati dengan perubahan"),
    Outcome.REJECTED: _l("Ditolak"),
    Outcome.POSTPONED: _l("Ditunda"),
}


class QuorumRule(db.Model):
    """The share of voting invitees who must be present, per meeting kind (data, not code:
    two thirds is guidance; an admin may set another rule)."""

    __tablename__ = "quorum_rule"
    __table_args__ = (
        sa.CheckConstraint("numerator > 0 AND denominator > 0 AND numerator <= denominator",
                           name="sane_ratio"),
    )

    id: Mapped[intpk]
    meeting_kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, 24), unique=True)
    numerator: Mapped[int]
    denominator: Mapped[int]
    basis: Mapped[str] = mapped_column(sa.String(300))


class Meeting(db.Model):
    __tablename__ = "meeting"

    id: Mapped[intpk]
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, 24), index=True)
    #: The village whose BPD holds a Musyawarah Desa; None for an antar-Desa meeting.
    desa_code: Mapped[str | None] = mapped_column(RegionCode, sa.ForeignKey("region.code"),
                                                  index=True)
    held_at: Mapped[dt.datetime]
    place: Mapped[str] = mapped_column(sa.String(200))
    organiser: Mapped[str] = mapped_column(sa.String(200))
    chair_name: Mapped[str] = mapped_column(sa.String(120))
    secretary_name: Mapped[str] = mapped_column(sa.String(120))
    #: The quorum rule in force when recorded, kept so later rule changes alter nothing.
    quorum_numerator: Mapped[int]
    quorum_denominator: Mapped[int]
    #: Held but adjourned for want of quorum: no valid decision.
    adjourned: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Signatories of the berita acara.
    signed_chair: Mapped[str | None] = mapped_column(sa.String(120))
    signed_secretary: Mapped[str | None] = mapped_column(sa.String(120))
    signed_kepala_desa: Mapped[str | None] = mapped_column(sa.String(120))
    signed_participant: Mapped[str | None] = mapped_column(sa.String(120))
    scan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[created_at]
    version: Mapped[int] = mapped_column(default=1)

    desa: Mapped[Region | None] = relationship(foreign_keys=[desa_code])
    villages: Mapped[list[MeetingVillage]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan")
    attendees: Mapped[list[Attendee]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Attendee.id")
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position")
    scan: Mapped[StoredFile | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def desa_codes(self) -> list[str]:
        """The villages taking part: the one desa, or every village of an antar-Desa."""
        if self.kind == MeetingKind.MUSYAWARAH_DESA:
            return [self.desa_code] if self.desa_code else []
        return [v.desa_code for v in self.villages]

    @property
    def voting_invitees(self) -> list[Attendee]:
        return [a for a in self.attendees if a.invited and not a.is_observer]

    @property
    def voting_present(self) -> list[Attendee]:
        return [a for a in self.voting_invitees if a.present]

    @property
    def quorum_needed(self) -> int:
        """Smallest number present meeting the ratio: ceil(invitees * n / d)."""
        invited = len(self.voting_invitees)
        return -(-invited * self.quorum_numerator // self.quorum_denominator)

    @property
    def quorum_met(self) -> bool:
        invited = len(self.voting_invitees)
        return invited > 0 and len(self.voting_present) >= self.quorum_needed

    def gender_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {"invited": {"L": 0, "P": 0},
                                              "present": {"L": 0, "P": 0}}
        for a in self.attendees:
            if a.invited:
                counts["invited"][a.gender.value] += 1
            if a.present:
                counts["present"][a.gender.value] += 1
        return counts


class MeetingVillage(db.Model):
    __tablename__ = "meeting_village"

    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                            primary_key=True)
    desa_code: Mapped[str] = mapped_column(RegionCode, sa.ForeignKey("region.code"),
                                           primary_key=True)
    meeting: Mapped[Meeting] = relationship(back_populates="villages")


class Attendee(db.Model):
    __tablename__ = "attendee"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    element: Mapped[Element] = mapped_column(str_enum(Element, 24))
    #: A locally added element's name when element is "lainnya".
    element_note: Mapped[str | None] = mapped_column(sa.String(120))
    gender: Mapped[Gender] = mapped_column(str_enum(Gender, 1))
    #: The attendee's village (for an antar-Desa meeting: the village they represent).
    desa_code: Mapped[str] = mapped_column(RegionCode, sa.ForeignKey("region.code"))
    invited: Mapped[bool] = mapped_column(default=True)
    present: Mapped[bool] = mapped_column(default=False)
    #: Observers attend but never vote and never count toward the quorum.
    is_observer: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")


class AgendaItem(db.Model):
    """One proposal on a meeting's agenda, and the decision taken on it."""

    __tablename__ = "agenda_item"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "proposal_id", name="uq_agenda_proposal"),
        sa.CheckConstraint("votes_for >= 0 AND votes_against >= 0 AND votes_abstain >= 0",
                           name="votes_not_negative"),
    )

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                            index=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    method: Mapped[Method | None] = mapped_column(str_enum(Method, 8))
    ballot: Mapped[Ballot | None] = mapped_column(str_enum(Ballot, 10))
    votes_for: Mapped[int] = mapped_column(default=0)
    votes_against: Mapped[int] = mapped_column(default=0)
    votes_abstain: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, 24))
    #: Agreed with changes: the changes, one per item.
    changes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="agenda")
    proposal: Mapped[Proposal] = relationship()

    @property
    def is_decided(self) -> bool:
        return self.outcome is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "proposal_id": self.proposal_id, "position": self.position,
            "method": self.method.value if self.method else None,
            "ballot": self.ballot.value if self.ballot else None,
            "votes": {"for": self.votes_for, "against": self.votes_against,
                      "abstain": self.votes_abstain},
            "outcome": self.outcome.value if self.outcome else None,
            "changes": self.changes or [], "notes": self.notes,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }
