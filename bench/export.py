"""The auditor's export bundle at 1,000 signed agreements: (a) none rendered yet, two
render workers (target: at least 10 documents/s); (b) all stored (target: at least
200 documents/s); memory flat in both (RSS sampled every 50 agreements)."""

from __future__ import annotations

import copy
import datetime as dt
import os
import resource
import tempfile
import time

import sqlalchemy as sa

from bench.common import bench_app, database_urls
from coopdesa.accounts.models import Role, User
from coopdesa.extensions import db

COUNT = 1_000
WORKERS = 2
CHUNK = 250
SECTION = ("Pengelolaan dilaksanakan secara terbuka, akuntabel dan partisipatif dengan "
           "melibatkan kelompok sadar wisata, BUM Desa bersama dan masyarakat sekitar jalur, "
           "serta dilaporkan secara berkala kepada para Kepala Desa.")


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _villages() -> list[str]:
    from coopdesa.regions.models import Region

    return list(db.session.scalars(
        sa.select(Region.code).where(Region.level == 4, Region.code.like("33.07.13.2%"))
        .order_by(Region.code)))


def _template(codes: list[str]):
    """One complete antar_desa proposal (agreed, not exported), signed by both villages:
    the source every generated agreement copies."""
    from coopdesa.actors.operations import village_actor
    from coopdesa.documents.models import AgreementDocument, Paper, Signature, SignMethod
    from coopdesa.proposals import sections as S
    from coopdesa.proposals.models import (
        Bidang,
        FundingSource,
        Initiative,
        Kind,
        PartyRole,
        Proposal,
        ProposalFunding,
        ProposalParty,
    )
    from coopdesa.proposals.states import State

    title = "Pengelolaan Bersama Jalur Pendakian Gunung Prau"
    proposal = Proposal(
        ref="KSD-2026-00000", kind=Kind.ANTAR_DESA, initiative=Initiative.DESA,
        state=State.AGREED, title=title, title_key=title.lower(),
        menimbang="bahwa jalur pendakian melintasi wilayah kedua desa;\n"
                  "bahwa kerja sama antar-Desa memperkuat BUM Desa bersama;",
        mengingat=S.default_legal_basis("antar_desa"), tujuan=SECTION,
        ruang_lingkup=f"{SECTION}\n{SECTION}", bidang=[Bidang.USAHA_BERSAMA.value],
        tata_cara=f"{SECTION}\n{SECTION}\n{SECTION}", perubahan=SECTION,
        perselisihan=f"{SECTION}\n{SECTION}", start_date=dt.date(2027, 1, 1),
        end_date=dt.date(2029, 12, 31), kabupaten_code=codes[0][:5],
        submitted_at=dt.datetime.now(dt.UTC))
    for position, code in enumerate(codes[:2]):
        proposal.parties.append(ProposalParty(
            actor=village_actor(code), desa_code=code, position=position,
            role=PartyRole.PEMRAKARSA if position == 0 else PartyRole.MITRA,
            signatory_name=f"Kepala Desa {code}", signatory_office="Kepala Desa",
            hak="Menerima bagian hasil usaha bersama.\nMemperoleh laporan triwulanan.",
            kewajiban="Menyediakan dana penyertaan.\nMenugaskan delegasi dalam BKAD.",
            funding=[ProposalFunding(source=FundingSource.APB_DESA, amount=25_000_000,
                                     apbdes_year=2027)]))
    db.session.add(proposal)
    db.session.flush()
    signatures = {}
    for party in proposal.parties:
        signatures[party.id] = Signature(
            proposal_id=proposal.id, party_id=party.id, signer_name=party.signatory_name,
            signer_office="Kepala Desa", method=SignMethod.BASAH,
            signed_on=dt.date(2026, 11, 22), place="Dieng Kulon", number="0")
    db.session.add_all(signatures.values())
    document = AgreementDocument(code="0000-0000-0000", paper=Paper.F4,
                                 enacted_on=dt.date(2026, 11, 22), enacted_place="Dieng Kulon",
                                 created_at=dt.datetime.now(dt.UTC))
    db.session.flush()
    return proposal, signatures, document


def generate_agreements(count: int) -> None:
    """``count`` active agreements between pairs of Kejajar villages, inserted directly:
    proposals, parties, signatures, documents (payload built once, then copied), no PDF."""
    from coopdesa.actors.operations import village_actor
    from coopdesa.audit import operations as audit
    from coopdesa.documents import operations as docs
    from coopdesa.documents import payload as P
    from coopdesa.documents.models import AgreementDocument, Signature
    from coopdesa.proposals.models import Proposal, ProposalParty
    from coopdesa.proposals.states import State

    codes = _villages()
    proposal, signatures, document = _template(codes)
    base = P.build(proposal, signatures=signatures, document=document,
                   verify_url=docs.verify_url(document.code), version_number=1)
    row = db.session.execute(sa.select(Proposal.__table__)
                             .where(Proposal.id == proposal.id)).one()._asdict()
    parties = [db.session.execute(sa.select(ProposalParty.__table__)
                                  .where(ProposalParty.id == p.id)).one()._asdict()
               for p in proposal.parties]
    actor_of = {code: village_actor(code).id for code in codes}
    next_proposal = (db.session.scalar(sa.select(sa.func.max(Proposal.id))) or 0) + 1
    next_party = (db.session.scalar(sa.select(sa.func.max(ProposalParty.id))) or 0) + 1
    now = dt.datetime.now(dt.UTC)
    for start in range(0, count, CHUNK):
        proposals, party_rows, signature_rows, documents = [], [], [], []
        for i in range(start, min(count, start + CHUNK)):
            pid = next_proposal + i
            pair = (codes[i % len(codes)], codes[(i * 7 + 1) % len(codes)])
            if pair[0] == pair[1]:
                pair = (pair[0], codes[(i + 1) % len(codes)])
            title = f"{row['title']} {i + 1}"
            proposals.append({**row, "id": pid, "ref": f"KSD-2026-{i + 1:05d}",
                              "title": title, "title_key": title.lower(),
                              "state": State.ACTIVE, "created_at": now, "updated_at": now})
            data = copy.deepcopy(base)
            code = docs.new_code()
            data.update(ref=f"KSD-2026-{i + 1:05d}", title=title, state="active")
            data["document"].update(code=code, verify_url=docs.verify_url(code))
            for position, party in enumerate(parties):
                party_id = next_party + 2 * i + position
                party_rows.append({**party, "id": party_id, "proposal_id": pid,
                                   "desa_code": pair[position],
                                   "actor_id": actor_of[pair[position]]})
                number = str(i + 1)
                signature_rows.append({
                    "proposal_id": pid, "party_id": party_id,
                    "signer_name": party["signatory_name"], "signer_office": "Kepala Desa",
                    "method": "basah", "signed_on": dt.date(2026, 11, 22),
                    "place": "Dieng Kulon", "number": number, "recorded_at": now})
                data["parties"][position].update(number=number, desa_code=pair[position])
            documents.append({"proposal_id": pid, "version_number": 1, "code": code,
                              "paper": "f4", "enacted_on": dt.date(2026, 11, 22),
                              "enacted_place": "Dieng Kulon", "payload": data,
                              "created_at": now})
        db.session.execute(sa.insert(Proposal), proposals)
        db.session.execute(sa.insert(ProposalParty), party_rows)
        db.session.execute(sa.insert(Signature), signature_rows)
        db.session.execute(sa.insert(AgreementDocument), documents)
        for item in proposals:  # a short history per agreement, chained as usual
            audit.record("proposal.transition.sign", object_type="proposal",
                         object_id=item["id"], proposal_id=item["id"],
                         summary="Kerja sama ditandatangani (data bangku uji)")
        db.session.commit()


def _run(label: str, user, workers: int, count: int) -> None:
    from coopdesa.documents import export as X

    samples: list[float] = []
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if done % 50 == 0:
            samples.append(_rss_mib())

    before = _rss_mib()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryFile() as sink:
        started, cpu = time.perf_counter(), time.process_time()
        counts = X.export(user, X.ExportFilters(), sink, progress=progress, workers=workers)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert counts.agreements == count, counts
    print(f"  {label:<40} {counts.agreements / elapsed:7.1f} documents/s "
          f"({counts.agreements} in {elapsed:.1f} s; rendered {counts.rendered}, failed "
          f"{counts.failed}; ZIP {counts.bytes / 2**20:.1f} MiB; audit entries "
          f"{counts.audit_entries})")
    print(f"  {'':<40} CPU of this process (reading, payloads and HTML, storing, ZIP; "
          f"not the renders): {1000 * cpu / counts.agreements:.1f} ms per document")
    middle = samples[len(samples) // 2] if samples else before
    print(f"  {'':<40} RSS {before:.0f} -> {_rss_mib():.0f} MiB; max sampled "
          f"{max(samples, default=before):.0f} MiB, growth over the second half "
          f"{max(samples, default=before) - middle:+.1f} MiB; peak RSS "
          f"{peak_before:.0f} -> {peak_after:.0f} MiB")


def _render_ceiling(workers: int) -> None:
    """One render in this process (warm), for reading (a): the workers cannot beat
    ``workers`` renders at a time, and they share the machine's CPUs."""
    import statistics

    from coopdesa.documents import operations as docs
    from coopdesa.documents import render as R
    from coopdesa.documents.models import AgreementDocument

    job = docs.final_job(db.session.scalars(sa.select(AgreementDocument).limit(1)).one())
    R.render_now(job)
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        R.render_now(job)
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples)
    print(f"  one final PDF, warm, in process: median {median * 1000:.0f} ms -> at most "
          f"{workers / median:.1f} documents/s with {workers} workers on "
          f"{min(workers, R.cpu_count())} free CPUs")


def main() -> None:
    from coopdesa.documents import render as R

    print(f"Export bundle (coopdesa.documents.export), {COUNT:,} signed agreements, "
          f"{WORKERS} render workers")
    print(f"  HarfBuzz subsetting available: {R.harfbuzz_subset_available()}; "
          f"CPUs {R.cpu_count()}")
    for engine, url in database_urls():
        print(f"[{engine}]")
        with bench_app(url):
            started = time.perf_counter()
            generate_agreements(COUNT)
            print(f"  generated {COUNT} agreements in {time.perf_counter() - started:.1f} s")
            admin = User(username="bench-admin", full_name="bench-admin", role=Role.ADMIN,
                         password_hash="x")  # noqa: S106 - never logs in by password
            db.session.add(admin)
            db.session.commit()
            _render_ceiling(WORKERS)
            try:
                _run(f"(a) none rendered, {WORKERS} workers", admin, WORKERS, COUNT)
                _run("(b) all stored", admin, WORKERS, COUNT)
            finally:
                R.shutdown_pools()
    if os.environ.get("COOPDESA_BENCH_DATABASE_URL") is None:
        print("  (set COOPDESA_BENCH_DATABASE_URL to run on PostgreSQL too)")
