"""The cooperation network at national scale (issue 6, "Scale"): the full register (83,762
desa/kelurahan), 200,000 synthetic agreements and 20,000 third parties made by
``coopdesa.network.synthetic.generate`` (what ``flask coopdesa network synthesize`` runs),
then:

- ``store.compute_all()`` for the whole country, what ``flask coopdesa network compute``
  runs (target under 60 s);
- one kabupaten computed from the database, ``store.compute_kabupaten``, for 20 sampled
  kabupaten including the largest (target under 1 s);
- ``store.fresh_result`` on an unchanged kabupaten: a page's read path (the fingerprint);
- one agreement ends: ``stale_codes`` finds its kabupaten and ``fresh_result`` recomputes it.

SQLite always; PostgreSQL too with ``--postgres URL``, COOPDESA_BENCH_POSTGRES_URL or (as
the other benchmarks) COOPDESA_BENCH_DATABASE_URL. On PostgreSQL everything lives in the
schema ``coopdesa_bench_network``, dropped before and after: the ``public`` schema (the
test suite's) is never touched.

    .venv/bin/python -m bench network
    .venv/bin/python -m bench.network --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from contextlib import contextmanager

import sqlalchemy as sa

from bench.common import report, timed
from coopdesa import create_app
from coopdesa.extensions import db

SCHEMA = "coopdesa_bench_network"
AGREEMENTS = 200_000
ACTORS = 20_000
SAMPLE = 20


@contextmanager
def network_app(url: str):
    """An app on a fresh, migrated database (a schema of its own on PostgreSQL) holding the
    full official register."""
    with tempfile.TemporaryDirectory() as tmp:
        config = {"ENV_NAME": "testing",
                  "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/network.sqlite"}
        if url:
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {
                "pool_pre_ping": True,
                "connect_args": {"options": f"-csearch_path={SCHEMA}"}}
        app = create_app(config)
        app.instance_path = tmp
        with app.app_context():
            postgres = db.engine.dialect.name == "postgresql"
            if postgres:
                _reset_schema()
            from flask_migrate import upgrade

            from coopdesa.regions.operations import load_regions, official_regions

            upgrade()
            started = time.perf_counter()
            load_regions(official_regions())
            db.session.commit()
            print(f"  register loaded in {time.perf_counter() - started:.1f} s")
            try:
                yield app
            finally:
                db.session.rollback()
                db.session.remove()
                if postgres:
                    _reset_schema(create=False)
                db.engine.dispose()


def _reset_schema(*, create: bool = True) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        if create:
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))


def _analyze() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def run(agreements: int, actors: int, sample: int) -> dict:
    from coopdesa.network import store
    from coopdesa.network.models import NetworkResult
    from coopdesa.network.synthetic import generate
    from coopdesa.proposals.models import EndGround, Proposal, ProposalParty
    from coopdesa.proposals.states import State
    from coopdesa.regions.models import Region

    figures: dict = {}
    started = time.perf_counter()
    made = generate(agreements=agreements, actors=actors, seed=1)
    db.session.commit()
    figures["generate_s"] = round(time.perf_counter() - started, 1)
    print(f"  generated {made['agreements']:,} agreements ({made['antar_desa']:,} antar-Desa), "
          f"{made['parties']:,} parties, {made['third_parties']:,} third parties, "
          f"{made['desa_actors']:,} desa actors ({made['desa_taking_part']:,} of "
          f"{made['villages']:,} desa take part) in {figures['generate_s']} s")
    _analyze()

    started = time.perf_counter()
    result = store.compute_all()
    db.session.commit()
    figures["compute_all"] = result
    figures["compute_all_wall_s"] = round(time.perf_counter() - started, 1)
    print(f"  compute_all (whole country): {result['kabupaten']} kabupaten/kota, "
          f"{result['agreements']:,} agreements: load {result['load_s']} s, compute "
          f"{result['compute_s']} s, total {result['total_s']} s (wall with commit "
          f"{figures['compute_all_wall_s']} s); slowest kabupaten "
          f"{result['slowest_kabupaten_s']} s")
    isolated, villages, nodes = db.session.execute(sa.select(
        sa.func.sum(NetworkResult.isolated_count), sa.func.sum(NetworkResult.village_count),
        sa.func.sum(NetworkResult.node_count))).one()
    stages: dict[str, int] = {}
    for (counts,) in db.session.execute(sa.select(NetworkResult.stage_counts)):
        for stage, n in counts.items():
            stages[stage] = stages.get(stage, 0) + n
    print(f"  stored: {nodes:,} nodes; {isolated:,} of {villages:,} desa isolated "
          f"({isolated / villages:.0%}); stages {stages}")
    _analyze()

    # One kabupaten from the database: the largest by agreements and by desa, and others.
    biggest = db.session.execute(
        sa.select(NetworkResult.scope_code, NetworkResult.agreement_count,
                  NetworkResult.village_count, NetworkResult.node_count,
                  NetworkResult.edge_count)
        .order_by(NetworkResult.agreement_count.desc()).limit(1)).one()
    most_desa = db.session.scalar(sa.select(NetworkResult.scope_code)
                                  .order_by(NetworkResult.village_count.desc()).limit(1))
    codes = sorted(db.session.scalars(sa.select(NetworkResult.scope_code).where(
        NetworkResult.agreement_count > 0)))
    rng = random.Random(6)  # noqa: S311 - a sample, not a secret
    chosen = [biggest.scope_code] + ([most_desa] if most_desa != biggest.scope_code else [])
    chosen += rng.sample([c for c in codes if c not in chosen], min(sample - len(chosen),
                                                                   len(codes) - len(chosen)))
    times = {}
    for code in chosen:
        t0 = time.perf_counter()
        store.compute_kabupaten(code)
        db.session.commit()
        times[code] = time.perf_counter() - t0
    figures["kabupaten_median_s"] = round(statistics.median(times.values()), 3)
    figures["kabupaten_max_s"] = round(max(times.values()), 3)
    slowest = max(times, key=times.get)
    names = dict(db.session.execute(sa.select(Region.code, Region.name)
                                    .where(Region.code.in_(chosen))).all())
    print(f"  compute_kabupaten from the database, {len(chosen)} kabupaten: median "
          f"{figures['kabupaten_median_s']} s, max {figures['kabupaten_max_s']} s "
          f"({names[slowest]}, {slowest})")
    print(f"    largest by agreements: {names[biggest.scope_code]} ({biggest.scope_code}): "
          f"{biggest.agreement_count:,} agreements in force, {biggest.village_count} desa, "
          f"{biggest.node_count} nodes, {biggest.edge_count} edges: "
          f"{times[biggest.scope_code]:.3f} s")
    if most_desa != biggest.scope_code:
        print(f"    most desa: {names[most_desa]} ({most_desa}): {times[most_desa]:.3f} s")

    # A page's read path on an unchanged kabupaten: the fingerprint, then the stored rows.
    code = biggest.scope_code
    stats = timed(lambda: store.fresh_result(code), repeat=30, warmup=3)
    figures["fresh_unchanged_ms"] = round(stats["median"], 1)
    report(f"fresh_result({code}), unchanged", stats)
    stats = timed(lambda: store.stale_codes(), repeat=5, warmup=1)
    figures["stale_codes_ms"] = round(stats["median"], 1)
    report("stale_codes() for the country, nothing stale", stats)
    db.session.rollback()

    # One agreement of that kabupaten ends: its result is stale, the page recomputes it.
    proposal = db.session.scalar(
        sa.select(Proposal).join(ProposalParty).where(
            Proposal.state == State.ACTIVE, ProposalParty.desa_code.startswith(code + "."))
        .order_by(Proposal.id).limit(1))
    proposal.state = State.ENDED
    proposal.ended_on = proposal.start_date + dt.timedelta(days=1)
    proposal.end_ground = EndGround.A_KESEPAKATAN
    proposal.state_changed_at = dt.datetime.now(dt.UTC)
    db.session.commit()
    t0 = time.perf_counter()
    stale = store.stale_codes()
    figures["stale_after_change_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    assert stale == [code], stale
    t0 = time.perf_counter()
    store.fresh_result(code)
    db.session.commit()
    figures["refresh_after_change_s"] = round(time.perf_counter() - t0, 3)
    print(f"  after one agreement ended: stale_codes() found [{code}] in "
          f"{figures['stale_after_change_ms']} ms; fresh_result recomputed it in "
          f"{figures['refresh_after_change_s']} s")
    t0 = time.perf_counter()
    assert store.refresh_stale() == 0
    print(f"  refresh_stale() with nothing stale (the nightly lifecycle hook): "
          f"{time.perf_counter() - t0:.2f} s")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.network", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL",
                        default=os.environ.get("COOPDESA_BENCH_POSTGRES_URL")
                        or os.environ.get("COOPDESA_BENCH_DATABASE_URL"),
                        help="also run on this PostgreSQL database (its schema "
                             f"{SCHEMA} is dropped and recreated)")
    parser.add_argument("--agreements", type=int, default=AGREEMENTS)
    parser.add_argument("--actors", type=int, default=ACTORS)
    parser.add_argument("--sample", type=int, default=SAMPLE)
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv or [])
    print("== cooperation network at national scale ==")
    urls = [] if args.no_sqlite else [("sqlite", "")]
    if args.postgres:
        urls.append(("postgresql", args.postgres))
    for name, url in urls:
        print(f"-- {name}")
        with network_app(url):
            run(args.agreements, args.actors, args.sample)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
