"""Audit entries chained by SHA-256, and the head row that serialises appenders."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.accounts.models import User
from coopdesa.db import utcnow
from coopdesa.extensions import db

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text for a value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    #: Assigned from AuditHead, never by the database, so the chain has no gaps.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    logged_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: Who acted, as text that outlives the account ("sekdes.dieng", "sistem").
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal.id"), index=True
    )
    summary: Mapped[str] = mapped_column(sa.String(300))
    before: Mapped[Any | None] = mapped_column(sa.JSON)
    after: Mapped[Any | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    user: Mapped[User | None] = relationship()

    def content(self) -> dict[str, Any]:
        """Exactly what the hash covers."""
        return {
            "id": self.id,
            "logged_at": self.logged_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "user_id": self.user_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "proposal_id": self.proposal_id,
            "summary": self.summary,
            "before": self.before,
            "after": self.after,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.content()).encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {**self.content(), "hash": self.hash}


class AuditHead(db.Model):
    """One row: the last entry's id and hash. Appenders update it first, which takes the
    write lock (SQLite) or the row lock (PostgreSQL) until their transaction ends, so two
    requests can never chain onto the same entry."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS_HASH)
