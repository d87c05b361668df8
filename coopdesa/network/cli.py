"""``flask coopdesa network ...``: the stored network results, and synthetic agreements to
load-test them (see docs/performance.md, "Network")."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from coopdesa.errors import DomainError
from coopdesa.extensions import db


def _fail(error: DomainError) -> None:
    from coopdesa.cli import _fail as fail

    fail(error)


def _progress(bar):
    """A ``progress(done, total)`` callback advancing a click progress bar."""
    seen = 0

    def advance(done: int, total: int) -> None:
        nonlocal seen
        if bar.length != total:
            bar.length = total
        bar.update(done - seen)
        seen = done

    return advance


@click.group("network")
def network_group() -> None:
    """The cooperation network: stored results per kabupaten/kota, synthetic load."""


@network_group.command("synthesize")
@click.option("--prefix", metavar="KODE",
              help="Only the desa under this region code, e.g. 33.07 (default: the whole "
                   "register).")
@click.option("--agreements", type=click.IntRange(0, 5_000_000), default=200_000,
              show_default=True, help="Agreements to create.")
@click.option("--actors", type=click.IntRange(0, 1_000_000), default=20_000,
              show_default=True, help="Third parties to create (desa actors come on top).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed on the same register gives the same network.")
@with_appcontext
def synthesize_command(prefix: str | None, agreements: int, actors: int, seed: int) -> None:
    """Create synthetic agreements between the desa of the register, for load tests.
    Never in production. The register must be loaded (flask coopdesa init)."""
    from coopdesa.network.synthetic import generate, refuse_in_production

    try:
        refuse_in_production()
        with click.progressbar(length=max(1, agreements), label="Membuat data sintetis",
                               file=sys.stderr) as bar:
            result = generate(prefix=prefix, agreements=agreements, actors=actors, seed=seed,
                              progress=_progress(bar))
    except DomainError as error:
        _fail(error)
    db.session.commit()
    from coopdesa.proposals.states import State

    states = ", ".join(f"{State(state).label.lower()} {n}"
                       for state, n in result["states"].items())
    click.echo(f"Kerja sama sintetis dibuat: {result['agreements']} "
               f"({result['antar_desa']} antar-Desa, {result['pihak_ketiga']} dengan pihak "
               f"ketiga; {states}), {result['parties']} pihak.")
    click.echo(f"Pihak ketiga baru: {result['third_parties']}; desa yang ikut: "
               f"{result['desa_taking_part']} dari {result['villages']} "
               f"({result['desa_actors']} pihak desa baru, {result['desa_reused']} sudah ada); "
               f"{result['seconds']} detik.")
    click.echo("Hitung jaringannya dengan: flask coopdesa network compute")


@network_group.command("compute")
@click.option("--scope", "scope", metavar="KODE",
              help="Only the kabupaten/kota under this provinsi or kabupaten code (default: "
                   "the whole country).")
@click.option("--stale-only", is_flag=True,
              help="Only the kabupaten/kota whose agreements changed since the last run.")
@with_appcontext
def compute_command(scope: str | None, stale_only: bool) -> None:
    """Compute and store the network metrics of every kabupaten/kota, from one read of the
    agreements; pages read the stored results instead of recomputing."""
    import datetime as dt

    from flask_babel import gettext as _

    from coopdesa.errors import ValidationError
    from coopdesa.network import store
    from coopdesa.regions.models import Region

    scope = (scope or "").strip() or None
    started = dt.datetime.now(dt.UTC)
    try:
        if scope:
            region = db.session.get(Region, scope)
            if region is None or region.level > 2:
                raise ValidationError(_("Cakupan %(code)s bukan kode provinsi atau "
                                        "kabupaten/kota dalam daftar resmi (misalnya 33 "
                                        "atau 33.07).", code=scope))
        with click.progressbar(length=1, label="Menghitung jaringan per kabupaten/kota",
                               show_pos=True, file=sys.stderr) as bar:
            result = store.compute_all(prefix=scope, only_stale=stale_only,
                                       progress=_progress(bar))
    except DomainError as error:
        _fail(error)
    db.session.commit()
    if not result["kabupaten"]:
        click.echo("Jaringan dihitung: 0 kabupaten/kota (tidak ada yang berubah).")
        return
    click.echo(f"Jaringan dihitung: {result['kabupaten']} kabupaten/kota, "
               f"{result['agreements']} kerja sama.")
    click.echo(f"Waktu: memuat {result['load_s']} detik, menghitung {result['compute_s']} "
               f"detik, seluruhnya {result['total_s']} detik; kabupaten/kota terlama "
               f"{result['slowest_kabupaten_s']} detik{_slowest(scope, started)}.")


def _slowest(prefix: str | None, since) -> str:
    """" (Kabupaten Wonosobo, 33.07)": the slowest result under ``prefix`` computed by
    this run."""
    import sqlalchemy as sa

    from coopdesa.network.models import NetworkResult
    from coopdesa.regions.models import Region
    from coopdesa.regions.operations import code_within

    stmt = (sa.select(NetworkResult.scope_code, Region.name)
            .join(Region, Region.code == NetworkResult.scope_code)
            .where(NetworkResult.computed_at >= since)
            .order_by(NetworkResult.elapsed_ms.desc()).limit(1))
    if prefix:
        stmt = stmt.where(code_within(NetworkResult.scope_code, prefix))
    row = db.session.execute(stmt).first()
    if row is None:
        return ""
    return f" ({row.name}, {row.scope_code})"
