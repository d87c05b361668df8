"""The proposal list at 100,000 proposals: target under 100 ms at the median, with a
constant number of statements per page."""

from __future__ import annotations

import time

import sqlalchemy as sa

from bench.common import bench_app, database_urls, report, timed
from bench.datagen import generate_proposals
from coopdesa.accounts.models import Role, User
from coopdesa.extensions import db
from coopdesa.proposals.models import ProposalParty
from coopdesa.proposals.queries import ProposalFilters, list_proposals

COUNT = 100_000
REPEAT = 50


def _user(username: str, role: Role, **scope) -> User:
    user = User(username=username, full_name=username, role=role,
                password_hash="x", **scope)  # noqa: S106 - never logs in by password
    db.session.add(user)
    db.session.commit()
    return user


def _statements(user: User) -> int:
    seen = []

    def count(*_args, **_kw):
        seen.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    list_proposals(user, ProposalFilters(), page=1, per_page=50)
    sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def main() -> None:
    print(f"Proposal list (coopdesa.proposals.queries.list_proposals), {COUNT:,} proposals, "
          f"{REPEAT} calls each, 50 rows per page")
    for engine, url in database_urls():
        print(f"[{engine}]")
        with bench_app(url) as app:
            started = time.perf_counter()
            counts = generate_proposals(COUNT)
            print(f"  generated {counts} in {time.perf_counter() - started:.1f} s")
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(sa.text("ANALYZE"))
            busiest = db.session.execute(
                sa.select(ProposalParty.desa_code, sa.func.count())
                .where(ProposalParty.desa_code.is_not(None))
                .group_by(ProposalParty.desa_code).order_by(sa.func.count().desc()).limit(1)
            ).one()
            admin = _user("bench-admin", Role.ADMIN)
            sekretaris = _user("bench-sek", Role.SEKRETARIS, desa_code=busiest[0])
            auditor_kab = _user("bench-kab", Role.AUDITOR, jurisdiction_code=busiest[0][:5])
            auditor_prov = _user("bench-prov", Role.AUDITOR, jurisdiction_code="33")
            cases = [
                ("admin, no filter", admin, {}),
                ("admin, state=active", admin, {"state": ["active"]}),
                ("admin, text 'air bersih'", admin, {"q": "air bersih"}),
                ("admin, kecamatan + sort by title", admin,
                 {"kecamatan": busiest[0][:8], "sort": "title"}),
                (f"sekretaris of the busiest desa ({busiest[1]} proposals)", sekretaris, {}),
                ("auditor of its kabupaten", auditor_kab, {}),
                ("auditor of the province, state=submitted", auditor_prov,
                 {"state": ["submitted"]}),
                ("admin, page 200", admin, {"page": 200}),
            ]
            for label, user, args in cases:
                page = args.pop("page", 1)
                filters = ProposalFilters.parse(args)
                report(label, timed(
                    lambda u=user, f=filters, p=page: list_proposals(u, f, page=p),
                    REPEAT, warmup=3))
            print(f"  statements for one page of 50: {_statements(admin)}")
            if "proposals.index" in app.view_functions:
                client = app.test_client()
                with client.session_transaction() as session:
                    session["_user_id"] = admin.get_id()
                    session["_fresh"] = True
                assert client.get("/kerja-sama/").status_code == 200
                report("HTTP GET /kerja-sama/ (admin, real template)",
                       timed(lambda c=client: c.get("/kerja-sama/"), REPEAT, warmup=3))
