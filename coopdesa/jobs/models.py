"""A background job: what was asked, by whom, how far it got and where its result is."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.accounts.models import User
from coopdesa.db import intpk, str_enum, utcnow
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(_STATE_LABELS[self])

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)


_STATE_LABELS = {
    JobState.QUEUED: _l("Menunggu giliran"),
    JobState.RUNNING: _l("Sedang berjalan"),
    JobState.SUCCEEDED: _l("Selesai"),
    JobState.FAILED: _l("Gagal"),
}


class JobKind(enum.StrEnum):
    EXPORT = "export"
    RENDER = "render"
    NETWORK = "network"
    REMIND = "remind"

    @property
    def label(self) -> str:
        return str(_KIND_LABELS[self])


_KIND_LABELS = {
    JobKind.EXPORT: _l("Ekspor dokumen kerja sama (ZIP)"),
    JobKind.RENDER: _l("Pembuatan PDF final yang belum dibuat"),
    JobKind.NETWORK: _l("Perhitungan jaringan kerja sama"),
    JobKind.REMIND: _l("Pengingat dan pemberitahuan"),
}


class Job(db.Model):
    __tablename__ = "job"
    __table_args__ = (
        sa.Index("ix_job_owner_newest", "owner_id", "id"),
    )

    id: Mapped[intpk]
    kind: Mapped[JobKind] = mapped_column(str_enum(JobKind, 12))
    #: Who started it; None for a job started from the command line as the system.
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: What the task needs (export filters, a region code, a date), as plain JSON.
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[JobState] = mapped_column(str_enum(JobState, 12), index=True,
                                            default=JobState.QUEUED)
    #: Progress: ``done`` of ``total`` units (documents, kabupaten); total None if unknown.
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    #: What the user reads: the outcome, or why it failed (Indonesian, plain words).
    message: Mapped[str | None] = mapped_column(sa.String(500))
    #: How it was queued, e.g. that Redis was unreachable and the app ran it itself.
    note: Mapped[str | None] = mapped_column(sa.String(300))
    result_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    #: Last sign of life (start, progress, end).
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    #: "rq" (the Redis queue) or "local" (the app server's process pool).
    backend: Mapped[str] = mapped_column(sa.String(8))
    rq_id: Mapped[str | None] = mapped_column(sa.String(64))

    owner: Mapped[User | None] = relationship(lazy="joined")
    result_file: Mapped[StoredFile | None] = relationship()

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.state == JobState.SUCCEEDED else None
        return max(0, min(100, round(100 * self.done / self.total)))
