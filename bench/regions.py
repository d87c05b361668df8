"""Region autocomplete over the full register (83,762 villages): target well under 50 ms."""

from __future__ import annotations

from bench.common import bench_app, database_urls, report, timed
from coopdesa.accounts.models import Role, User
from coopdesa.extensions import db
from coopdesa.regions.operations import search_regions

QUERIES = [
    ("name prefix 'dieng'", dict(query="dieng")),
    ("name prefix 'sumber' (many matches)", dict(query="sumber")),
    ("word inside the name 'sari'", dict(query="sari")),
    ("no match 'gimbal'", dict(query="gimbal")),
    ("code prefix '33.07.13'", dict(query="33.07.13")),
    ("parties only 'kejajar'", dict(query="kejajar", parties_only=True)),
    ("within kabupaten 33.07 'sari'", dict(query="sari", within="33.07")),
]
REPEAT = 200


def main() -> None:
    print("Region search (coopdesa.regions.operations.search_regions), "
          f"{REPEAT} calls each after warm-up")
    for engine, url in database_urls():
        print(f"[{engine}]")
        with bench_app(url) as app:
            for label, kwargs in QUERIES:
                report(label, timed(lambda kw=kwargs: search_regions(**kw), REPEAT))
            user = User(username="bench", full_name="Bench", role=Role.ADMIN,
                        password_hash="x")  # noqa: S106 - never logs in by password
            db.session.add(user)
            db.session.commit()
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
            url_path = "/wilayah/cari?q=sari&parties=1"
            assert client.get(url_path).status_code == 200
            report("HTTP GET " + url_path,
                   timed(lambda c=client, u=url_path: c.get(u), REPEAT))
