"""Finding proposals: the scoped, filtered, paginated list and the dashboard queries.

A page costs a constant number of statements whatever its size: one count, one page of
proposals, one batch of parties with their actors.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from coopdesa import access
from coopdesa.accounts.models import Role, User
from coopdesa.db import is_id
from coopdesa.errors import ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today, parse_date
from coopdesa.proposals.models import Bidang, Kind, Proposal, ProposalParty
from coopdesa.proposals.states import State
from coopdesa.regions.operations import code_within, normalize_code

SORTS = {
    "updated": (Proposal.updated_at.desc(), Proposal.id.desc()),
    "oldest": (Proposal.updated_at.asc(), Proposal.id.asc()),
    "title": (Proposal.title_key.asc(), Proposal.id.asc()),
    # Undated drafts last on every engine (SQLite and PostgreSQL differ by default).
    "start": (Proposal.start_date.asc().nulls_last(), Proposal.id.asc()),
    "end": (Proposal.end_date.asc().nulls_last(), Proposal.id.asc()),
    "ref": (Proposal.id.desc(),),
}


@dataclass
class ProposalFilters:
    state: list[State] = field(default_factory=list)
    kind: Kind | None = None
    bidang: Bidang | None = None
    desa: str | None = None
    kecamatan: str | None = None
    kabupaten: str | None = None
    actor_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str | None = None
    sort: str = "updated"

    @classmethod
    def parse(cls, args: Any) -> ProposalFilters:
        """From query parameters (a MultiDict or dict); refuses bad values by name."""
        errors: dict[str, list[str]] = {}
        getlist = args.getlist if hasattr(args, "getlist") else (
            lambda k: args.get(k) if isinstance(args.get(k), list) else
            ([args[k]] if args.get(k) else []))
        out = cls()
        try:
            out.state = [State(s) for s in getlist("state") if s]
        except ValueError:
            errors["state"] = [_("Status tidak dikenal.")]
        for key, enum_cls in (("kind", Kind), ("bidang", Bidang)):
            raw = args.get(key)
            if raw:
                try:
                    setattr(out, key, enum_cls(raw))
                except ValueError:
                    errors[key] = [_("Nilai tidak dikenal.")]
        for key, level in (("desa", 4), ("kecamatan", 3), ("kabupaten", 2)):
            raw = (args.get(key) or "").strip()
            if raw:
                code = normalize_code(raw)
                if len(code.split(".")) != level:
                    errors[key] = [_("Kode wilayah tidak sesuai tingkatnya.")]
                setattr(out, key, code)
        raw = (args.get("actor") or "").strip()
        if raw:
            if raw.isdigit() and is_id(int(raw)):
                out.actor_id = int(raw)
            else:
                errors["actor"] = [_("Pihak tidak dikenal.")]
        for key in ("date_from", "date_to"):
            setattr(out, key, parse_date(args.get(key), key, errors))
        text = (args.get("q") or "").strip()
        out.text = text[:200] or None
        sort = args.get("sort") or "updated"
        if sort not in SORTS:
            errors["sort"] = [_("Urutan tidak dikenal.")]
        else:
            out.sort = sort
        if errors:
            raise ValidationError(next(iter(errors.values()))[0], fields=errors)
        return out

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        conds: list[sa.ColumnElement[bool]] = []

        def party(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
            # An uncorrelated IN runs the party lookup once through its index, instead of
            # once per proposal as a correlated EXISTS would.
            return Proposal.id.in_(sa.select(ProposalParty.proposal_id).where(cond))

        if self.state:
            conds.append(Proposal.state.in_(self.state))
        if self.kind:
            conds.append(Proposal.kind == self.kind)
        if self.bidang:
            # JSON list stored as text on every engine: ["usaha_bersama", ...]
            conds.append(sa.cast(Proposal.bidang, sa.Text).like(f'%"{self.bidang.value}"%'))
        if self.desa:
            conds.append(party(ProposalParty.desa_code == self.desa))
        if self.kecamatan:
            conds.append(party(code_within(ProposalParty.desa_code, self.kecamatan)))
        if self.kabupaten:
            conds.append(Proposal.kabupaten_code == self.kabupaten)
        if self.actor_id is not None:
            conds.append(party(ProposalParty.actor_id == self.actor_id))
        # A period filter keeps proposals whose term overlaps it; undated ones do not.
        if self.date_from:
            conds.append(Proposal.end_date >= self.date_from)
        if self.date_to:
            conds.append(Proposal.start_date <= self.date_to)
        if self.text:
            escaped = (self.text.lower().replace("\\", "\\\\").replace("%", "\\%")
                       .replace("_", "\\_"))
            conds.append(sa.or_(Proposal.title_key.like(f"%{escaped}%", escape="\\"),
                                Proposal.ref == self.text.upper()))
        return conds


@dataclass
class ProposalPage:
    items: list[Proposal]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_proposals(user: User, filters: ProposalFilters, *, page: int = 1,
                   per_page: int = 50) -> ProposalPage:
    """The proposals ``user`` may read that match ``filters``: three statements."""
    page = max(1, page)
    per_page = max(1, min(per_page, 100))
    where = [access.proposal_scope_clause(user), *filters.conditions()]
    total = db.session.scalar(sa.select(sa.func.count(Proposal.id)).where(*where)) or 0
    items = list(db.session.scalars(
        sa.select(Proposal).where(*where)
        .options(selectinload(Proposal.parties).joinedload(ProposalParty.actor))
        .order_by(*SORTS[filters.sort])
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return ProposalPage(items=items, total=total, page=page, per_page=per_page)


def awaiting_action_query(user: User) -> sa.Select:
    """Proposals waiting for this user to act, oldest change first."""
    base = sa.select(Proposal).where(access.proposal_scope_clause(user))
    if user.role == Role.SEKRETARIS:
        stmt = base.where(Proposal.state.in_([State.CHANGES_REQUESTED,
                                              State.AWAITING_DELIBERATION]))
    elif user.role == Role.BKAD:
        stmt = base.where(Proposal.kind == Kind.ANTAR_DESA, Proposal.bkad_id == user.bkad_id,
                          Proposal.state.in_([State.SUBMITTED, State.IN_REVIEW]))
    elif user.role in (Role.KEPALA_DESA, Role.KETUA_BPD):
        from flask import current_app

        if current_app.config.get("THIRD_PARTY_REVIEWER_ROLE") != user.role.value:
            return base.where(sa.false())
        stmt = base.where(Proposal.kind == Kind.PIHAK_KETIGA,
                          Proposal.state.in_([State.SUBMITTED, State.IN_REVIEW]))
    elif user.role == Role.ADMIN:
        stmt = base.where(Proposal.state.in_([State.SUBMITTED, State.IN_REVIEW]))
    else:
        return base.where(sa.false())
    return stmt.order_by(Proposal.updated_at.asc())


@dataclass
class Dashboard:
    awaiting: list[Proposal]
    drafts: list[Proposal]
    ending_30: list[Proposal]
    ending_90: list[Proposal]
    by_state: dict[State, int]
    #: The end of each listed agreement's term, as its latest addendum in force sets it.
    term_end: dict[int, dt.date] = field(default_factory=dict)


def dashboard(user: User, today: dt.date | None = None) -> Dashboard:
    today = today or local_today()
    scope = access.proposal_scope_clause(user)
    options = selectinload(Proposal.parties).joinedload(ProposalParty.actor)
    awaiting = list(db.session.scalars(awaiting_action_query(user).options(options).limit(20)))
    drafts: list[Proposal] = []
    if user.role == Role.SEKRETARIS:
        drafts = list(db.session.scalars(
            sa.select(Proposal).where(scope, Proposal.state == State.DRAFT)
            .options(options).order_by(Proposal.updated_at.desc()).limit(20)))
    from coopdesa.proposals.operations import effective_end_clause

    # One entry per agreement (its addenda share its term), at the term an addendum set.
    end = effective_end_clause()
    rows = db.session.execute(
        sa.select(Proposal, end).where(scope, Proposal.state == State.ACTIVE,
                                       Proposal.amends_id.is_(None), end >= today,
                                       end <= today + dt.timedelta(days=90))
        .options(options).order_by(end, Proposal.id)).all()
    ending = [p for p, _end in rows]
    term_end = {p.id: e for p, e in rows}
    limit_30 = today + dt.timedelta(days=30)
    by_state = dict(db.session.execute(
        sa.select(Proposal.state, sa.func.count()).where(scope).group_by(Proposal.state)
    ).all())  # Row is a tuple; Result.tuples() is deprecated in SQLAlchemy 2.1
    return Dashboard(
        awaiting=awaiting, drafts=drafts,
        ending_30=[p for p in ending if term_end[p.id] <= limit_30],
        ending_90=[p for p in ending if term_end[p.id] > limit_30], term_end=term_end,
        by_state=by_state,
    )
