"""Synthetic but plausible data at scale, inserted in bulk (no audit entries: this is load
for read benchmarks, not a history)."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from coopdesa.actors.models import Actor, ActorKind
from coopdesa.db import utcnow
from coopdesa.extensions import db
from coopdesa.proposals.models import Initiative, Kind, PartyRole, Proposal, ProposalParty
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region, RegionKind

WORDS = ("air bersih", "jalan desa", "pasar bersama", "wisata alam", "pengelolaan sampah",
         "irigasi", "kentang", "kopi", "BUM Desa bersama", "keamanan lingkungan",
         "posyandu", "pelatihan pemuda", "hutan desa", "embung", "energi surya")
STATES = [State.DRAFT] * 10 + [State.SUBMITTED] * 10 + [State.IN_REVIEW] * 10 + \
    [State.CHANGES_REQUESTED] * 5 + [State.AWAITING_DELIBERATION] * 10 + \
    [State.AGREED] * 5 + [State.SIGNED] * 5 + [State.ACTIVE] * 30 + [State.ENDED] * 10 + \
    [State.REJECTED] * 3 + [State.WITHDRAWN] * 2


def generate_proposals(count: int, *, province: str = "33", seed: int = 42,
                       chunk: int = 5000) -> dict[str, int]:
    """``count`` proposals between the desa of ``province`` (same kecamatan mostly) and
    with a few hundred third parties; returns counts."""
    rng = random.Random(seed)
    villages = db.session.execute(
        sa.select(Region.code).where(Region.level == 4,
                                     Region.kind.in_([RegionKind.DESA, RegionKind.DESA_ADAT]),
                                     Region.code.like(province + ".%"))
        .order_by(Region.code)).scalars().all()
    by_kecamatan: dict[str, list[str]] = {}
    for code in villages:
        by_kecamatan.setdefault(code[:8], []).append(code)
    existing = set(db.session.scalars(sa.select(Actor.desa_code).where(
        Actor.desa_code.is_not(None))))
    db.session.execute(sa.insert(Actor), [
        {"name": f"Desa {code}", "kind": ActorKind.DESA, "desa_code": code,
         "region_code": code, "version": 1, "created_at": utcnow(), "updated_at": utcnow()}
        for code in villages if code not in existing])
    third = [{"name": f"CV Mitra Desa {i:04d}", "kind": ActorKind.SWASTA,
              "region_code": province, "version": 1, "created_at": utcnow(),
              "updated_at": utcnow()} for i in range(400)]
    db.session.execute(sa.insert(Actor), third)
    actor_of = dict(db.session.execute(
        sa.select(Actor.desa_code, Actor.id).where(Actor.desa_code.is_not(None))).tuples().all())
    third_ids = db.session.scalars(
        sa.select(Actor.id).where(Actor.name.like("CV Mitra Desa %"))).all()
    start_id = (db.session.scalar(sa.select(sa.func.max(Proposal.id))) or 0) + 1
    kecamatan_codes = sorted(by_kecamatan)
    now = utcnow()
    parties = 0
    for base in range(0, count, chunk):
        proposals, party_rows = [], []
        for offset in range(min(chunk, count - base)):
            pid = start_id + base + offset
            kec = rng.choice(kecamatan_codes)
            members = by_kecamatan[kec]
            antar = rng.random() < 0.7 and len(members) >= 2
            state = rng.choice(STATES)
            start = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(0, 1800))
            title = f"Kerja sama {rng.choice(WORDS)} {rng.choice(WORDS)} {pid}"
            updated = now - dt.timedelta(minutes=rng.randrange(0, 2_000_000))
            proposals.append({
                "id": pid, "ref": f"KSD-{start.year}-{pid:05d}",
                "kind": Kind.ANTAR_DESA if antar else Kind.PIHAK_KETIGA,
                "initiative": Initiative.DESA, "state": state, "title": title,
                "title_key": title.lower(),
                "bidang": ["kemasyarakatan"] if antar else [],
                "start_date": start,
                "end_date": start + dt.timedelta(days=365 * rng.choice((1, 2, 3, 5))),
                "kabupaten_code": kec[:5], "created_at": updated, "updated_at": updated,
                "submitted_at": None if state == State.DRAFT else updated,
                "version": 1,
            })
            chosen = rng.sample(members, 2) if antar else [rng.choice(members)]
            for position, code in enumerate(chosen):
                party_rows.append({"proposal_id": pid, "actor_id": actor_of[code],
                                   "desa_code": code, "position": position,
                                   "role": PartyRole.PEMRAKARSA if position == 0
                                   else PartyRole.MITRA})
            if not antar:
                party_rows.append({"proposal_id": pid, "actor_id": rng.choice(third_ids),
                                   "desa_code": None, "position": 1,
                                   "role": PartyRole.MITRA})
        db.session.execute(sa.insert(Proposal), proposals)
        db.session.execute(sa.insert(ProposalParty), party_rows)
        parties += len(party_rows)
    db.session.commit()
    return {"proposals": count, "parties": parties, "villages": len(villages)}
