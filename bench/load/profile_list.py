"""CPU time of the 50-row proposal list page, in-process (the Flask test client, the real
templates, PostgreSQL), and where it goes. CPU time, unlike wall time, does not depend on
what else the machine runs, so it tells what two workers can serve:

    DATABASE_URL=... python -m bench.load.profile_list [USERNAME] [--profile]
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time

import sqlalchemy as sa

from coopdesa import create_app
from coopdesa.extensions import db

REQUESTS = 200


def main(argv: list[str]) -> None:
    data = json.load(open("/tmp/coopdesa-load/data.json"))  # noqa: S108, SIM115
    username = next((a for a in argv if not a.startswith("--")), data["admin"])
    app = create_app({"WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False,
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    response = client.post("/masuk", data={"username": username,
                                           "password": data["password"]})
    assert response.status_code == 302, response.status_code
    statements = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *a, **k: statements.append(1))
    for _ in range(20):  # warm-up: templates compiled, pools filled
        assert client.get("/kerja-sama/").status_code == 200
    statements.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(REQUESTS):
        client.get("/kerja-sama/")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{username}: {REQUESTS} x GET /kerja-sama/: CPU {cpu / REQUESTS * 1000:.2f} ms, "
          f"wall {wall / REQUESTS * 1000:.2f} ms per request, "
          f"{len(statements) / REQUESTS:.1f} SQL statements per request")
    if "--profile" in argv:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(100):
            client.get("/kerja-sama/")
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main(sys.argv[1:])
