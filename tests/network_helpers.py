"""Agreements made by hand for network tests: rows straight into the tables, in the state
asked for, so that a test can build a small network whose metrics are known."""

from __future__ import annotations

import datetime as dt
import itertools

from coopdesa.actors.models import Actor, ActorKind
from coopdesa.actors.operations import village_actor
from coopdesa.extensions import db
from coopdesa.proposals.models import (
    Initiative,
    Kind,
    PartyRole,
    Proposal,
    ProposalParty,
)
from coopdesa.proposals.states import State

_refs = itertools.count(1)


def third_party(name: str, kind: ActorKind = ActorKind.SWASTA,
                region_code: str | None = "33.07") -> Actor:
    actor = Actor(name=name, kind=kind, region_code=region_code)
    db.session.add(actor)
    db.session.flush()
    return actor


def agreement(*parties: str | Actor, state: State = State.ACTIVE,
              bidang: tuple[str, ...] = ("usaha_bersama",), start: dt.date = dt.date(2026, 1, 1),
              end: dt.date = dt.date(2028, 12, 31), title: str | None = None,
              commit: bool = True) -> Proposal:
    """An agreement between ``parties``: desa codes or third-party actors."""
    actors = [village_actor(p) if isinstance(p, str) else p for p in parties]
    kind = Kind.ANTAR_DESA if all(a.kind == ActorKind.DESA for a in actors) \
        else Kind.PIHAK_KETIGA
    n = next(_refs)
    title = title or f"Kerja sama uji jaringan {n}"
    proposal = Proposal(ref=f"NET-{n:06d}", kind=kind, initiative=Initiative.DESA,
                        state=state, title=title, title_key=title.lower(),
                        bidang=list(bidang), start_date=start, end_date=end,
                        kabupaten_code=next((a.desa_code[:5] for a in actors if a.desa_code),
                                            None))
    db.session.add(proposal)
    db.session.flush()
    for i, actor in enumerate(actors):
        db.session.add(ProposalParty(
            proposal_id=proposal.id, actor_id=actor.id, desa_code=actor.desa_code,
            role=PartyRole.PEMRAKARSA if i == 0 else PartyRole.MITRA, position=i))
    db.session.flush()
    if commit:
        db.session.commit()
    return proposal
