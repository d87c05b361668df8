"""Criteria, versioned assessments with scored answers, and the stakeholder map."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.accounts.models import User
from coopdesa.actors.models import Actor
from coopdesa.db import created_at, intpk, str_enum
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.proposals.models import Proposal


class Dimension(enum.StrEnum):
    EKOLOGI = "ekologi"
    SOSIAL_EKONOMI = "sosial_ekonomi"
    KOMUNITAS = "komunitas"
    KELEMBAGAAN = "kelembagaan"
    PRINSIP = "prinsip"

    @property
    def label(self) -> str:
        return str(DIMENSION_LABELS[self])


DIMENSION_LABELS = {
    Dimension.EKOLOGI: _l("Keberlanjutan ekologis"),
    Dimension.SOSIAL_EKONOMI: _l("Keberlanjutan sosial-ekonomi"),
    Dimension.KOMUNITAS: _l("Keberlanjutan komunitas"),
    Dimension.KELEMBAGAAN: _l("Keberlanjutan kelembagaan"),
    Dimension.PRINSIP: _l("Prinsip kerja sama"),
}


class AppliesTo(enum.StrEnum):
    ALL = "all"
    ANTAR_DESA = "antar_desa"
    PIHAK_KETIGA = "pihak_ketiga"
    #: A third-party cooperation on the village's initiative (Permendagri 96/2017).
    PIHAK_KETIGA_DESA = "pihak_ketiga_desa"


class Verdict(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    PASS_WITH_CONDITIONS = "pass_with_conditions"  # noqa: S105
    FAIL = "fail"

    @property
    def label(self) -> str:
        return str(VERDICT_LABELS[self])


VERDICT_LABELS = {
    Verdict.PASS: _l("Memenuhi"),
    Verdict.PASS_WITH_CONDITIONS: _l("Memenuhi dengan syarat"),
    Verdict.FAIL: _l("Tidak memenuhi"),
}


class Criterion(db.Model):
    __tablename__ = "sustainability_criterion"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    dimension: Mapped[Dimension] = mapped_column(str_enum(Dimension, 16))
    label: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    applies_to: Mapped[AppliesTo] = mapped_column(str_enum(AppliesTo, 20),
                                                  default=AppliesTo.ALL)
    #: A score of 0 on a critical criterion fails the assessment (ecology, independence).
    is_critical: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class Assessment(db.Model):
    """One signed assessment of a proposal; a new one never overwrites an old one."""

    __tablename__ = "sustainability_assessment"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "number", name="uq_assessment_number"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int]
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: As signed: the assessor's name and office at the time.
    signed_name: Mapped[str] = mapped_column(sa.String(120))
    signed_office: Mapped[str | None] = mapped_column(sa.String(120))
    signed_at: Mapped[dt.datetime]
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict, 24))
    #: Why the verdict is what it is, one sentence per reason (Indonesian, as stored).
    reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[created_at]

    proposal: Mapped[Proposal] = relationship()
    assessor: Mapped[User] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Answer.id")


class Answer(db.Model):
    __tablename__ = "sustainability_answer"
    __table_args__ = (
        sa.UniqueConstraint("assessment_id", "criterion_id", name="uq_answer_criterion"),
        sa.CheckConstraint("score >= 0 AND score <= 3", name="score_range"),
    )

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sustainability_assessment.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("sustainability_criterion.id"))
    #: 0 not met, 1 partly, 2 mostly, 3 fully met.
    score: Mapped[int]
    evidence: Mapped[str | None] = mapped_column(sa.Text)
    mitigation: Mapped[str | None] = mapped_column(sa.Text)
    attachment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))

    assessment: Mapped[Assessment] = relationship(back_populates="answers")
    criterion: Mapped[Criterion] = relationship()
    attachment: Mapped[StoredFile | None] = relationship()


class StakeholderRole(enum.StrEnum):
    """Seed 002's roles of community groups."""

    PERENCANAAN = "perencanaan"
    PENERIMA_MANFAAT = "penerima_manfaat"
    UTUSAN_BPD_BKAD = "utusan_bpd_bkad"
    PESERTA_MUSYAWARAH = "peserta_musyawarah"
    PENYUSUNAN_PERATURAN = "penyusunan_peraturan"

    @property
    def label(self) -> str:
        return str(STAKEHOLDER_ROLE_LABELS[self])


STAKEHOLDER_ROLE_LABELS = {
    StakeholderRole.PERENCANAAN: _l("Terlibat dalam perencanaan dan pemberdayaan"),
    StakeholderRole.PENERIMA_MANFAAT: _l("Kelompok penerima manfaat"),
    StakeholderRole.UTUSAN_BPD_BKAD: _l("Mengutus wakil ke BPD atau BKAD"),
    StakeholderRole.PESERTA_MUSYAWARAH: _l("Terlibat dalam musyawarah desa"),
    StakeholderRole.PENYUSUNAN_PERATURAN: _l("Terlibat dalam pembahasan peraturan"),
}

#: Seed 002's seven questions for mapping key actors.
MAPPING_QUESTIONS = (
    _l("Siapa atau kelompok mana yang selalu terlibat membantu kegiatan di desa? Mengapa, dan "
       "apa manfaatnya bagi kelompok itu?"),
    _l("Apakah ada kesamaan yang mengikat anggota jaringan itu (keluarga, tetangga, mata "
       "pencaharian, lainnya)?"),
    _l("Apakah mereka membentuk jaringan untuk menanggulangi hal-hal lain juga, atau hanya "
       "untuk kegiatan ini?"),
    _l("Jika untuk hal lain juga, hal apa saja, dan mengapa bisa menjalar ke sana (atau "
       "sebaliknya)?"),
    _l("Apa hubungan kelompok ini dengan jaringan atau kelompok lain (bersaing, saling "
       "mendukung, tidak terkait) dan mengapa?"),
    _l("Apa hubungan kelompok ini dengan pemerintah desa: dukungan nyata, pasif, atau "
       "menghambat? Mengapa?"),
    _l("Sejak kapan jaringan ini ada, bagaimana riwayat dan perubahannya, dan mengapa?"),
)


class StakeholderMap(db.Model):
    """Per proposal: the key-actor map of seed 002 and the answers to its seven questions."""

    __tablename__ = "stakeholder_map"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    #: Answers to MAPPING_QUESTIONS, in order.
    answers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[dt.datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    entries: Mapped[list[StakeholderEntry]] = relationship(
        back_populates="map", cascade="all, delete-orphan", order_by="StakeholderEntry.id")

    __mapper_args__ = {"version_id_col": version}


class StakeholderEntry(db.Model):
    __tablename__ = "stakeholder_entry"

    id: Mapped[intpk]
    map_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stakeholder_map.id", ondelete="CASCADE"), index=True)
    #: A registered actor (a community group, an NGO...), or just a name.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actor.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    #: An ActorKind value describing the group (kelompok_tani, masyarakat_adat, ...).
    group_kind: Mapped[str] = mapped_column(sa.String(24))
    roles: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str | None] = mapped_column(sa.Text)

    map: Mapped[StakeholderMap] = relationship(back_populates="entries")
    actor: Mapped[Actor | None] = relationship()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "actor_id": self.actor_id, "name": self.name,
                "group_kind": self.group_kind, "roles": list(self.roles or []),
                "notes": self.notes}
