"""Fill the load-test database: the register (already loaded by ``flask coopdesa init``),
thousands of proposals for the lists, and the accounts and proposals the locust users work
on. Writes the accounts and their objects as JSON for the locustfile and the check.

    DATABASE_URL=... python -m bench.load.setup_data OUT.json
"""

from __future__ import annotations

import json
import sys
import time

import sqlalchemy as sa

from bench.datagen import generate_proposals
from coopdesa import create_app
from coopdesa.accounts import operations as accounts
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.regions.models import Region, RegionKind

#: The kecamatan whose villages draft and review (Kejajar, Kabupaten Wonosobo).
KECAMATAN = "33.07.13"
VILLAGES = 8
WRITERS_PER_VILLAGE = 3
OWN_DRAFTS = 2
REVIEWERS = 10
READERS = 16
SUBMITTED = 80  # submitted proposals the reviewers race to start reviewing
IN_REVIEW = 20  # proposals under review the reviewers comment on
BULK = 3000  # proposals of the whole province, for the lists
PASSWORD = "Beban-uji-coopdesa-2026"  # noqa: S105 - a throw-away load-test database

SECTIONS = {
    "menimbang": "bahwa pengelolaan air bersih perlu dilakukan bersama;",
    "tujuan": "Mengelola sumber air bersih bersama.",
    "ruang_lingkup": "Perawatan jaringan pipa dan pembagian air.",
    "bidang": ["usaha_bersama"],
    "tata_cara": "Pelaksanaan oleh BKAD; laporan triwulanan.",
    "start_date": "2027-01-01",
    "end_date": "2029-12-31",
    "perubahan": "Perubahan dimusyawarahkan dalam musyawarah antar-Desa.",
}


def _fill(proposal, user) -> None:
    ops.update_sections(proposal, user, SECTIONS, expected_version=None)
    for party in list(proposal.parties):
        ops.update_party(proposal, user, party.id, {
            "signatory_name": f"Kepala {party.actor.name}", "signatory_office": "Kepala Desa",
            "hak": "Menerima bagian air.", "kewajiban": "Merawat jaringan pipa.",
        }, expected_version=None)
    ops.set_funding(proposal, user, proposal.parties[0].id, [
        {"source": "apb_desa", "amount": "25.000.000", "apbdes_year": 2027}],
        expected_version=None)


def _user(username: str, role: str, **scope):
    return accounts.create_user(username=username, full_name=username.replace(".", " ").title(),
                                password=PASSWORD, role=role, **scope)


def main(out: str) -> None:
    started = time.perf_counter()
    app = create_app()
    with app.app_context():
        villages = db.session.scalars(
            sa.select(Region.code).where(Region.level == 4, Region.code.like(KECAMATAN + ".%"),
                                         Region.kind.in_([RegionKind.DESA,
                                                          RegionKind.DESA_ADAT]))
            .order_by(Region.code).limit(VILLAGES)).all()
        assert len(villages) == VILLAGES, villages
        counts = generate_proposals(BULK, province="33")
        print(f"bulk proposals: {counts}")
        if db.engine.dialect.name == "postgresql":
            # generate_proposals writes its ids itself: move the sequence past them.
            db.session.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('proposal', 'id'), "
                "(SELECT max(id) FROM proposal))"))

        bkad = accounts.create_bkad(name="BKAD Uji Beban Kejajar", desa_codes=villages)
        admin = _user("admin.beban", "admin")
        writers, shared = [], {}
        for v, code in enumerate(villages):
            group = [_user(f"sek.beban.{v}.{k}", "sekretaris", desa_code=code)
                     for k in range(WRITERS_PER_VILLAGE)]
            partner = villages[(v + 1) % VILLAGES]
            shared_draft = ops.create_proposal(group[0], kind="antar_desa", initiative="desa",
                                               title=f"Draf bersama desa {code}",
                                               partner_desa_codes=[partner])
            shared[code] = shared_draft
            for user in group:
                own = [ops.create_proposal(user, kind="antar_desa", initiative="desa",
                                           title=f"Draf {user.username} nomor {n}",
                                           partner_desa_codes=[partner])
                       for n in range(OWN_DRAFTS)]
                writers.append((user, own, shared_draft))
        reviewers = [_user(f"bkad.beban.{i}", "bkad", bkad_id=bkad.id) for i in range(REVIEWERS)]
        readers = [_user(f"auditor.beban.{i}", "auditor", jurisdiction_code="33.07")
                   for i in range(READERS)]
        db.session.flush()

        submitted, in_review = [], []
        for n in range(SUBMITTED + IN_REVIEW):
            author, _own, _shared = writers[n % len(writers)]
            partner = villages[(villages.index(author.desa_code) + 1) % VILLAGES]
            proposal = ops.create_proposal(author, kind="antar_desa", initiative="desa",
                                           title=f"Usulan air bersih {n}",
                                           partner_desa_codes=[partner])
            _fill(proposal, author)
            ops.transition(proposal, author, "submit")
            if n >= SUBMITTED:
                ops.transition(proposal, reviewers[0], "start_review")
                in_review.append(proposal.id)
            else:
                submitted.append(proposal.id)
        db.session.commit()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("ANALYZE"))
        data = {
            "password": PASSWORD,
            "admin": admin.username,
            "writers": [{"username": u.username, "own": [p.id for p in own],
                         "shared": s.id} for u, own, s in writers],
            "reviewers": [u.username for u in reviewers],
            "readers": [u.username for u in readers],
            "submitted": submitted,
            "in_review": in_review,
            "readable": in_review + submitted[:20],
        }
    with open(out, "w") as handle:
        json.dump(data, handle, indent=1)
    print(f"load data written to {out} in {time.perf_counter() - started:.1f} s: "
          f"{len(data['writers'])} writers, {len(data['reviewers'])} reviewers, "
          f"{len(data['readers'])} readers")


if __name__ == "__main__":
    main(sys.argv[1])
