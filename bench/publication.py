"""The villages' public page (/publik/desa/<kode>), the page villagers open from the QR code
on the notice board: 1,000 agreements in force between the villages of Kecamatan Kejajar,
so that each village page lists about a hundred. Measures a full render for an anonymous
visitor and the conditional request a browser or proxy cache repeats (304)."""

from __future__ import annotations

import sqlalchemy as sa

from bench.common import bench_app, database_urls, report, timed
from bench.export import generate_agreements
from coopdesa.extensions import db, limiter

COUNT = 1_000


def main() -> None:
    print("== public page per desa ==")
    for name, url in database_urls():
        print(f"-- {name}")
        with bench_app(url) as app:
            generate_agreements(COUNT)
            db.session.commit()
            from coopdesa.proposals.models import ProposalParty

            code, listed = db.session.execute(
                sa.select(ProposalParty.desa_code, sa.func.count())
                .where(ProposalParty.desa_code.is_not(None))
                .group_by(ProposalParty.desa_code)
                .order_by(sa.func.count().desc()).limit(1)).one()
            limiter.enabled = False  # one client asks thousands of times here
            client = app.test_client()
            path = f"/publik/desa/{code}"
            first = client.get(path)
            assert first.status_code == 200, first.status_code
            etag = first.headers["ETag"]

            report(f"full page, {listed} agreements",
                   timed(lambda c=client, p=path: _get(c, p, 200), repeat=30))
            report("If-None-Match (304)",
                   timed(lambda c=client, p=path, e=etag: _get(c, p, 304, e), repeat=100))


def _get(client, path: str, status: int, etag: str | None = None) -> None:
    response = client.get(path, headers={"If-None-Match": etag} if etag else {})
    assert response.status_code == status, (response.status_code, response.headers)


if __name__ == "__main__":
    main()
