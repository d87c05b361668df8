"""Appending to, reading and verifying the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from coopdesa.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from coopdesa.db import utcnow
from coopdesa.extensions import db

SYSTEM_LABEL = "sistem"


def record(action: str, *, summary: str, user: Any = None, object_type: str,
           object_id: int | None = None, proposal_id: int | None = None,
           before: Any = None, after: Any = None) -> AuditEntry:
    """Append one entry in the caller's transaction; it commits or rolls back with it.

    The head row is updated before it is read, so concurrent appenders queue up behind
    the first one's lock instead of chaining onto the same predecessor.
    """
    head_table = AuditHead.__table__
    updated = db.session.execute(
        head_table.update().where(head_table.c.id == 1)
        .values(last_id=head_table.c.last_id + 1)
    ).rowcount
    if not updated:
        db.session.execute(head_table.insert().values(id=1, last_id=1,
                                                      last_hash=GENESIS_HASH))
    last_id, prev_hash = db.session.execute(
        sa.select(head_table.c.last_id, head_table.c.last_hash).where(head_table.c.id == 1)
    ).one()
    is_user = user is not None and getattr(user, "is_authenticated", False)
    entry = AuditEntry(
        id=last_id,
        logged_at=utcnow(),
        user_id=user.id if is_user else None,
        actor_label=(user.username if is_user else SYSTEM_LABEL)[:120],
        action=action[:60],
        object_type=object_type[:40],
        object_id=object_id,
        proposal_id=proposal_id,
        summary=summary[:300],
        before=before,
        after=after,
        prev_hash=prev_hash,
    )
    entry.hash = entry.compute_hash()
    db.session.add(entry)
    db.session.execute(head_table.update().where(head_table.c.id == 1)
                       .values(last_hash=entry.hash))
    db.session.flush()
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, for compact before/after records."""
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return ({k: before.get(k) for k in changed}, {k: after.get(k) for k in changed})


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Defuse spreadsheet formulas in user-typed text (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass
class VerifyResult:
    checked: int
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(batch: int = 2000) -> VerifyResult:
    """Walk every entry in order; report the first whose hash, link or number is wrong."""
    expected_prev = GENESIS_HASH
    expected_id = 1
    checked = 0
    last_seen = 0
    while True:
        rows = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.id > last_seen)
            .order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.id != expected_id:
                return VerifyResult(checked, expected_id,
                                    f"entry {expected_id} is missing (next is {entry.id})")
            if entry.prev_hash != expected_prev:
                return VerifyResult(checked, entry.id,
                                    "prev_hash does not match the previous entry's hash")
            if entry.compute_hash() != entry.hash:
                return VerifyResult(checked, entry.id,
                                    "content does not match its hash (entry was altered)")
            expected_prev = entry.hash
            expected_id += 1
            checked += 1
            last_seen = entry.id
        db.session.expunge_all()
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.last_id != checked or head.last_hash != expected_prev):
        return VerifyResult(checked, checked + 1,
                            f"the head names entry {head.last_id}, but the chain ends at "
                            f"{checked} (entries after it were deleted)")
    return VerifyResult(checked)


CSV_COLUMNS = ("id", "logged_at", "actor_label", "action", "object_type", "object_id",
               "proposal_id", "summary", "before", "after", "prev_hash", "hash")


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The entries as CSV text, one line at a time (for streaming responses)."""
    from coopdesa.audit.models import canonical_json

    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for entry in entries:
        data = entry.to_dict()
        writer.writerow([
            _cell(canonical_json(data[c])) if c in ("before", "after") and data[c] is not None
            else ("" if data[c] is None else _cell(data[c]))
            for c in CSV_COLUMNS
        ])
        yield flush()
