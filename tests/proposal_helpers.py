"""Builders shared by the proposal tests: complete proposals with their users, the counts
that must not move when an operation is refused, and a fast bulk insert for list tests.

The scenario builders go through the domain operations (coopdesa.proposals.operations)
and commit as a request would; ``matrix_world`` and ``bulk_proposals`` write rows directly,
for speed, where a test needs many proposals or a fresh one per parametrised case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from coopdesa.accounts.models import Bkad, Role, User
from coopdesa.actors.models import Actor, ActorKind
from coopdesa.audit.models import AuditEntry
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.proposals.models import (
    FundingSource,
    Initiative,
    Kind,
    Notification,
    PartyRole,
    Proposal,
    ProposalComment,
    ProposalParty,
    ProposalReview,
    ProposalVersion,
)
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region
from tests.conftest import DIENG, SEMBUNGAN
from tests.factories import ActorFactory, BkadFactory, UserFactory

START = dt.date(2027, 1, 1)
END = dt.date(2029, 12, 31)

#: Every section an antar_desa proposal needs, besides those prefilled (title, mengingat,
#: perselisihan) and those kept per party (hak_kewajiban, pendanaan).
ANTAR_DESA_SECTIONS: dict[str, Any] = {
    "menimbang": "bahwa wisata Dataran Tinggi Dieng perlu dikelola bersama;\n"
                 "bahwa kerja sama antar-Desa memperkuat BUM Desa bersama;",
    "tujuan": "Mengelola jalur pendakian Gunung Prau secara bersama.",
    "ruang_lingkup": "Pengelolaan loket, kebersihan jalur dan pembagian hasil.",
    "bidang": ["usaha_bersama"],
    "tata_cara": "Pelaksanaan oleh BKAD; laporan triwulanan kepada para Kepala Desa.",
    "start_date": START.isoformat(),
    "end_date": END.isoformat(),
    "perubahan": "Perubahan dimusyawarahkan dalam musyawarah antar-Desa.",
}
PIHAK_KETIGA_SECTIONS: dict[str, Any] = {
    **{k: v for k, v in ANTAR_DESA_SECTIONS.items() if k != "bidang"},
    "bidang_uraian": "Pengelolaan homestay dan paket wisata.",
    "analisis_biaya_manfaat": "Biaya Rp25.000.000; manfaat PADes Rp40.000.000 per tahun.",
    "kerangka_acuan_kerja": "Latar belakang, maksud, keluaran, jadwal dan biaya.",
}


@dataclass
class Scenario:
    proposal: Proposal
    author: User
    users: dict[str, User] = field(default_factory=dict)
    bkad: Bkad | None = None
    third_party: Actor | None = None

    def __getitem__(self, key: str) -> User:
        return self.users[key]

    def reload(self) -> Proposal:
        self.proposal = db.session.get(Proposal, self.proposal.id)
        return self.proposal


def fill(proposal: Proposal, user: User, sections: dict[str, Any]) -> Proposal:
    """Fill every section and every party's signatory, rights, duties and funding."""
    ops.update_sections(proposal, user, sections, expected_version=None)
    for party in list(proposal.parties):
        ops.update_party(proposal, user, party.id, {
            "signatory_name": f"Penandatangan {party.actor.name}",
            "signatory_office": party.signatory_office or "Direktur",
            "hak": f"Hak {party.actor.name}",
            "kewajiban": f"Kewajiban {party.actor.name}",
        }, expected_version=None)
    first = proposal.parties[0]
    ops.set_funding(proposal, user, first.id, [
        {"source": "apb_desa", "amount": "25.000.000", "apbdes_year": 2027},
    ], expected_version=None)
    return proposal


def antar_desa(*, complete: bool = True, submit: bool = False,
               desa_codes: tuple[str, ...] = (DIENG, SEMBUNGAN), with_bkad: bool = True,
               title: str = "Pengelolaan bersama wisata Dieng",
               like: Scenario | None = None) -> Scenario:
    """An antar_desa proposal drafted by the first village's secretary with the others as
    partners, a BKAD of exactly those villages (with one member) and a secretary for each
    village. ``like`` reuses the users and BKAD of an earlier scenario."""
    if like is not None:
        bkad, users = like.bkad, dict(like.users)
    else:
        bkad = BkadFactory(desa_codes=list(desa_codes)) if with_bkad else None
        users = {}
        for code in desa_codes:
            users[f"sek:{code}"] = UserFactory(role=Role.SEKRETARIS, desa_code=code)
        if bkad is not None:
            users["bkad"] = UserFactory(role=Role.BKAD, bkad=bkad)
    author = users[f"sek:{desa_codes[0]}"]
    proposal = ops.create_proposal(author, kind="antar_desa", initiative="desa", title=title,
                                   partner_desa_codes=list(desa_codes[1:]))
    if complete:
        fill(proposal, author, ANTAR_DESA_SECTIONS)
    if submit:
        ops.transition(proposal, author, "submit")
    db.session.commit()
    return Scenario(proposal=proposal, author=author, users=users, bkad=bkad)


def pihak_ketiga(*, complete: bool = True, submit: bool = False, initiative: str = "desa",
                 desa_codes: tuple[str, ...] = (DIENG,),
                 title: str = "Homestay Dieng bersama CV Prau Lestari",
                 like: Scenario | None = None) -> Scenario:
    """A pihak_ketiga proposal of the first village with the others and one private company,
    and the first village's secretary, Ketua BPD and Kepala Desa. ``like`` reuses the
    users and the company of an earlier scenario."""
    code = desa_codes[0]
    if like is not None:
        actor, users = like.third_party, dict(like.users)
    else:
        actor = ActorFactory(kind=ActorKind.SWASTA, name="CV Prau Lestari")
        users = {
            f"sek:{code}": UserFactory(role=Role.SEKRETARIS, desa_code=code),
            "ketua_bpd": UserFactory(role=Role.KETUA_BPD, desa_code=code),
            "kepala_desa": UserFactory(role=Role.KEPALA_DESA, desa_code=code),
        }
    author = users[f"sek:{code}"]
    proposal = ops.create_proposal(author, kind="pihak_ketiga", initiative=initiative,
                                   title=title, partner_desa_codes=list(desa_codes[1:]),
                                   third_party_actor_ids=[actor.id])
    if complete:
        sections = dict(PIHAK_KETIGA_SECTIONS)
        if initiative != "desa":
            sections.pop("analisis_biaya_manfaat")
            sections.pop("kerangka_acuan_kerja")
        fill(proposal, author, sections)
    if submit:
        ops.transition(proposal, author, "submit")
    db.session.commit()
    return Scenario(proposal=proposal, author=author, users=users, third_party=actor)


@dataclass(frozen=True)
class Counts:
    """What a refused operation must leave exactly as it was."""

    state: str
    version: int
    audit: int
    versions: int
    reviews: int
    comments: int
    notifications: int
    parties: int
    content: tuple


def counts(proposal_id: int) -> Counts:
    """Read from the database in two statements (the caller has rolled back)."""
    from coopdesa.proposals.models import ProposalFunding

    def n(model, *where):
        return sa.select(sa.func.count()).select_from(model).where(*where).scalar_subquery()

    party_ids = sa.select(ProposalParty.id).where(ProposalParty.proposal_id == proposal_id)
    numbers = db.session.execute(sa.select(
        n(AuditEntry),
        n(ProposalVersion, ProposalVersion.proposal_id == proposal_id),
        n(ProposalReview, ProposalReview.proposal_id == proposal_id),
        n(ProposalComment, ProposalComment.proposal_id == proposal_id),
        n(Notification),
        n(ProposalParty, ProposalParty.proposal_id == proposal_id),
        n(ProposalFunding, ProposalFunding.party_id.in_(party_ids)),
    )).one()
    row = db.session.execute(sa.select(Proposal.__table__)
                             .where(Proposal.id == proposal_id)).one()._asdict()
    # Every change of content, parties or funding touches the proposal row (updated_at,
    # version), so the row and the numbers above are the whole fingerprint.
    return Counts(
        state=str(row["state"]), version=row["version"], audit=numbers[0],
        versions=numbers[1], reviews=numbers[2], comments=numbers[3],
        notifications=numbers[4], parties=numbers[5],
        content=(numbers[6], tuple(sorted((k, repr(v)) for k, v in row.items()))),
    )


def matrix_world(users: dict[str, dict[str, Any]]) -> tuple[int, dict[str, User]]:
    """A complete antar_desa proposal Dieng + Sembungan already submitted once (BKAD fixed,
    version 1 frozen), written directly in one commit, and one user per entry of ``users``
    (name -> User columns; "bkad": "reviewing" makes a member of the reviewing BKAD).
    For the transition matrix, which builds one per test; other tests use the operations.
    """
    import coopdesa.accounts.models as account_models
    from coopdesa.actors.operations import village_actor
    from coopdesa.proposals import sections as S
    from coopdesa.proposals.models import ProposalFunding

    bkad = Bkad(name="BKAD Dieng Sembungan", kabupaten_code=DIENG[:5])
    bkad.villages = [db.session.get(Region, DIENG), db.session.get(Region, SEMBUNGAN)]
    db.session.add(bkad)
    proposal = Proposal(
        ref="KSD-2026-99999", kind=Kind.ANTAR_DESA, initiative=Initiative.DESA,
        state=State.SUBMITTED,
        title="Pengelolaan bersama wisata Dieng",
        title_key="pengelolaan bersama wisata dieng", bkad=bkad,
        mengingat=S.default_legal_basis("antar_desa"),
        **{k: v for k, v in ANTAR_DESA_SECTIONS.items() if k not in ("start_date",
                                                                     "end_date")},
        start_date=START, end_date=END,
    )
    for position, code in enumerate((DIENG, SEMBUNGAN)):
        actor = village_actor(code)
        proposal.parties.append(ProposalParty(
            actor=actor, desa_code=code,
            role=PartyRole.PEMRAKARSA if position == 0 else PartyRole.MITRA,
            position=position, signatory_name=f"Kepala {code}",
            signatory_office=f"Kepala Desa {code}", hak="Hak", kewajiban="Kewajiban",
            funding=[ProposalFunding(source=FundingSource.APB_DESA, amount=25_000_000,
                                     apbdes_year=2027)] if position == 0 else []))
    db.session.add(proposal)
    db.session.flush()
    proposal.perselisihan = S.dispute_route(proposal)
    db.session.add(ProposalVersion(proposal_id=proposal.id, number=1,
                                   snapshot=S.snapshot(proposal)))
    made: dict[str, User] = {}
    password_hash = account_models.password_hasher.hash("rahasia-uji-2026")
    for i, (name, columns) in enumerate(users.items()):
        columns = dict(columns)
        if columns.get("bkad") == "reviewing":
            columns["bkad"] = bkad
        made[name] = User(username=f"matrix{i}", full_name=name, password_hash=password_hash,
                          **columns)
        db.session.add(made[name])
    db.session.commit()
    return proposal.id, made


def set_state(proposal: Proposal, state) -> Proposal:
    """Put ``proposal`` in ``state`` for a test's setup (no transition, no audit)."""
    proposal.state = state
    db.session.commit()
    return proposal


def audit_actions(proposal_id: int | None = None) -> list[str]:
    stmt = sa.select(AuditEntry.action).order_by(AuditEntry.id)
    if proposal_id is not None:
        stmt = stmt.where(AuditEntry.proposal_id == proposal_id)
    return list(db.session.scalars(stmt))


def bulk_proposals(n: int, *, author: User, desa_codes: tuple[str, ...] = (DIENG, SEMBUNGAN),
                   state: str = "submitted", kind: str = "antar_desa",
                   title: str = "Usulan massal {i}") -> list[int]:
    """Insert ``n`` proposals with their village parties directly (no audit), for list and
    query-count tests. Returns their ids."""
    from coopdesa.actors.operations import village_actor
    from coopdesa.db import utcnow

    actors = [village_actor(code) for code in desa_codes]
    db.session.flush()
    now = utcnow()
    proposal_table = Proposal.__table__
    ids = []
    for i in range(n):
        ids.append(db.session.execute(proposal_table.insert().values(
            ref=f"KSD-BULK-{author.id}-{i:05d}"[:20], kind=kind, initiative="desa",
            state=state, title=title.format(i=i), title_key=title.format(i=i).lower(),
            bidang=[], kabupaten_code=desa_codes[0][:5], created_by_id=author.id,
            created_at=now, updated_at=now + dt.timedelta(seconds=i), version=1,
            submitted_at=None if state == "draft" else now,
        )).inserted_primary_key[0])
    db.session.execute(ProposalParty.__table__.insert(), [
        {"proposal_id": pid, "actor_id": actor.id, "desa_code": actor.desa_code,
         "role": "pemrakarsa" if pos == 0 else "mitra", "position": pos}
        for pid in ids for pos, actor in enumerate(actors)
    ])
    db.session.commit()
    return ids
