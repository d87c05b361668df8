"""Appending to, reading and verifying the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from coopdesa.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from coopdesa.db import is_id, utcnow
from coopdesa.errors import ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import parse_date

SYSTEM_LABEL = "sistem"


def stored_text(text: Any) -> str:
    """Text that is stored (and hashed) is Indonesian whatever the interface language: a
    lazy string is rendered in Indonesian, so the trail reads the same for everyone and a
    re-rendered entry keeps its hash."""
    from flask_babel import force_locale

    with force_locale("id"):
        return str(text)


def record(action: str, *, summary: Any, user: Any = None, object_type: str,
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
        summary=stored_text(summary)[:300],
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
    #: What broke, for messages in the user's language: "missing", "link", "altered" or
    #: "truncated" (entries after the last one found were deleted).
    kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None

    @property
    def message(self) -> str:
        """The outcome in the user's language."""
        if self.ok:
            return ngettext("Rantai audit utuh: %(num)d entri.",
                            "Rantai audit utuh: %(num)d entri.", self.checked)
        n = self.broken_id
        if self.kind == "missing":
            return _("Entri %(id)d hilang dari rantai (dihapus).", id=n)
        if self.kind == "link":
            return _("Entri %(id)d tidak tersambung dengan hash entri sebelumnya (entri "
                     "disisipkan atau diubah).", id=n)
        if self.kind == "altered":
            return _("Isi entri %(id)d tidak cocok dengan hash-nya (entri telah diubah).",
                     id=n)
        if self.kind == "truncated":
            return _("Entri %(id)d dan sesudahnya hilang: rantai berakhir di entri %(last)d, "
                     "padahal kepala rantai mencatat lebih banyak entri.", id=n,
                     last=self.checked)
        return _("Rantai audit rusak pada entri %(id)d.", id=n)


def verify_chain(batch: int = 2000,
                 progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Walk every entry in order; report the first whose hash, link or number is wrong.
    ``progress`` is called with the number of entries checked after each batch."""
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
                                    f"entry {expected_id} is missing (next is {entry.id})",
                                    kind="missing")
            if entry.prev_hash != expected_prev:
                return VerifyResult(checked, entry.id,
                                    "prev_hash does not match the previous entry's hash",
                                    kind="link")
            if entry.compute_hash() != entry.hash:
                return VerifyResult(checked, entry.id,
                                    "content does not match its hash (entry was altered)",
                                    kind="altered")
            expected_prev = entry.hash
            expected_id += 1
            checked += 1
            last_seen = entry.id
        if progress is not None:
            progress(checked)
        db.session.expunge_all()
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.last_id != checked or head.last_hash != expected_prev):
        return VerifyResult(checked, checked + 1,
                            f"the head names entry {head.last_id}, but the chain ends at "
                            f"{checked} (entries after it were deleted)", kind="truncated")
    return VerifyResult(checked)


CSV_COLUMNS = ("id", "logged_at", "actor_label", "action", "object_type", "object_id",
               "proposal_id", "summary", "before", "after", "prev_hash", "hash")
#: With ``with_proposal``: which agreement each line is about, after ``proposal_id``.
CSV_PROPOSAL_COLUMNS = ("proposal_ref", "proposal_title")


def csv_lines(entries: Iterable[Any], *, with_proposal: bool = False) -> Iterator[str]:
    """The entries as CSV text, one line at a time (for streaming responses).

    ``entries`` yields AuditEntry objects, or with ``with_proposal`` (entry, proposal ref,
    proposal title) rows such as :func:`entries_statement` selects. Every user-typed cell
    is defused against spreadsheet formulas.
    """
    from coopdesa.audit.models import canonical_json

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    split = CSV_COLUMNS.index("proposal_id") + 1
    header = CSV_COLUMNS[:split] + CSV_PROPOSAL_COLUMNS + CSV_COLUMNS[split:] \
        if with_proposal else CSV_COLUMNS

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(header)
    yield flush()
    for item in entries:
        entry, extra = (item[0], list(item[1:3])) if with_proposal else (item, [])
        data = entry.to_dict()
        cells = [
            _cell(canonical_json(data[c])) if c in ("before", "after") and data[c] is not None
            else ("" if data[c] is None else _cell(data[c]))
            for c in CSV_COLUMNS
        ]
        if with_proposal:
            cells[split:split] = ["" if v is None else _cell(v) for v in extra]
        writer.writerow(cells)
        yield flush()


# --- reading -------------------------------------------------------------------------------

@dataclass
class AuditFilters:
    """What the cross-proposal audit list is narrowed by (query parameters of the same
    names on the HTML page, the CSV export and the JSON API)."""

    action: str | None = None
    proposal: str | None = None
    user: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def parse(cls, args: Any) -> AuditFilters:
        """From query parameters; refuses bad values by name."""
        errors: dict[str, list[str]] = {}
        out = cls()
        out.action = (args.get("action") or "").strip()[:60] or None
        out.user = (args.get("user") or "").strip()[:120] or None
        proposal = (args.get("proposal") or "").strip()[:20]
        if proposal:
            out.proposal = proposal.upper()
        for key in ("date_from", "date_to"):
            setattr(out, key, parse_date(args.get(key), key, errors))
        if out.date_from and out.date_to and out.date_to < out.date_from:
            errors["date_to"] = [_("Tanggal akhir harus sama dengan atau sesudah tanggal "
                                   "awal.")]
        if errors:
            raise ValidationError(next(iter(errors.values()))[0], fields=errors)
        return out

    def as_args(self) -> dict[str, str]:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in vars(self).items() if v}

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        from coopdesa.proposals.models import Proposal

        conds: list[sa.ColumnElement[bool]] = []
        if self.action:
            escaped = (self.action.replace("\\", "\\\\").replace("%", "\\%")
                       .replace("_", "\\_"))
            conds.append(AuditEntry.action.like(escaped + "%", escape="\\"))
        if self.proposal:
            if self.proposal.isdigit():
                number = int(self.proposal)
                conds.append(AuditEntry.proposal_id == number if is_id(number) else sa.false())
            else:
                conds.append(AuditEntry.proposal_id == sa.select(Proposal.id).where(
                    Proposal.ref == self.proposal).scalar_subquery())
        if self.user:
            conds.append(AuditEntry.actor_label == self.user)
        zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta")
        if self.date_from:
            start = dt.datetime.combine(self.date_from, dt.time.min, tzinfo=zone)
            conds.append(AuditEntry.logged_at >= start.astimezone(dt.UTC))
        if self.date_to:
            end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min,
                                      tzinfo=zone)
            conds.append(AuditEntry.logged_at < end.astimezone(dt.UTC))
        return conds


@dataclass
class AuditRow:
    entry: AuditEntry
    proposal_ref: str | None
    proposal_title: str | None


@dataclass
class AuditPage:
    items: list[AuditRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _scoped(user: Any, filters: AuditFilters | None, proposal_id: int | None):
    """(FROM with the proposal joined, WHERE) for the entries ``user`` may read.

    An auditor reads the entries of the proposals in their jurisdiction (the VIEW scope
    of the access module); an admin also reads entries that concern no proposal.
    """
    from coopdesa import access
    from coopdesa.proposals.models import Proposal

    where = list(filters.conditions()) if filters else []
    if proposal_id is not None:
        where.append(AuditEntry.proposal_id == proposal_id)
    if getattr(user, "is_admin", False):
        joined = sa.outerjoin(AuditEntry, Proposal, Proposal.id == AuditEntry.proposal_id)
    else:
        joined = sa.join(AuditEntry, Proposal, Proposal.id == AuditEntry.proposal_id)
        where.append(access.proposal_scope_clause(user))
    return joined, where


def entries_statement(user: Any, filters: AuditFilters | None = None, *,
                      proposal_id: int | None = None) -> sa.Select:
    """The readable entries, newest first, as (AuditEntry, proposal ref, proposal title)."""
    from coopdesa.proposals.models import Proposal

    joined, where = _scoped(user, filters, proposal_id)
    return (sa.select(AuditEntry, Proposal.ref, Proposal.title).select_from(joined)
            .where(*where).order_by(AuditEntry.id.desc()))


def list_entries(user: Any, filters: AuditFilters | None = None, *,
                 proposal_id: int | None = None, page: int = 1,
                 per_page: int = 50) -> AuditPage:
    """One page of the entries ``user`` may read: two statements whatever the size."""
    page = max(1, page)
    per_page = max(1, min(per_page, 200))
    joined, where = _scoped(user, filters, proposal_id)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(joined).where(*where)) or 0
    rows = db.session.execute(
        entries_statement(user, filters, proposal_id=proposal_id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    return AuditPage(items=[AuditRow(*row) for row in rows], total=total, page=page,
                     per_page=per_page)
