"""CPU time of each request of the mixed workload (bench/load/locustfile.py), in-process
(the Flask test client, the real templates, PostgreSQL, no page or render cache), so that
the cost of each kind of request is known whatever else the machine runs:

    DATABASE_URL=... python -m bench.load.profile_pages [DATA_JSON] [--profile NAME
        [--sort cumulative|tottime]]

Needs the database and data file of `LOAD_SETUP_ONLY=1 bench/load/run.sh`.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import random
import re
import statistics
import sys
import time

from coopdesa import create_app

ROUNDS = 30
VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="(\d+)"')
TITLE = re.compile(r'<input[^>]*name="title"[^>]*value="([^"]*)"')


def main(argv: list[str]) -> None:
    import html

    path = next((a for a in argv if a.endswith(".json")), "/tmp/coopdesa-load/data.json")  # noqa: S108
    data = json.load(open(path))  # noqa: SIM115
    app = create_app({"WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False,
                      "RATELIMIT_ENABLED": False, "RENDER_WORKERS": 0, "REDIS_URL": None,
                      "PAGE_CACHE_SECONDS": 0, "RENDER_CACHE_SECONDS": 0})

    def client_for(username: str):
        client = app.test_client()
        started = time.process_time()
        response = client.post("/masuk", data={"username": username,
                                               "password": data["password"]})
        assert response.status_code == 302, response.status_code
        client.get("/")
        return client, time.process_time() - started

    writer = data["writers"][0]
    secretary, login_cpu = client_for(writer["username"])
    reviewer, _ = client_for(data["reviewers"][0])
    reader, _ = client_for(data["readers"][0])

    def save():
        proposal_id = writer["own"][0]
        form = secretary.get(f"/kerja-sama/{proposal_id}/ubah").get_data(as_text=True)
        return secretary.post(f"/kerja-sama/{proposal_id}/ubah", data={
            "version": VERSION.search(form).group(1),
            "title": html.unescape(TITLE.search(form).group(1)),
            "tujuan": f"Tujuan {random.random()}"})  # noqa: S311

    cases = {
        "home (secretary)": lambda: secretary.get("/"),
        "home (auditor)": lambda: reader.get("/"),
        "home (bkad)": lambda: reviewer.get("/"),
        "list (secretary)": lambda: secretary.get("/kerja-sama/"),
        "list (auditor)": lambda: reader.get("/kerja-sama/"),
        "list filtered (auditor)": lambda: reader.get("/kerja-sama/?state=active&page=2"),
        "detail (secretary)": lambda: secretary.get(f"/kerja-sama/{writer['own'][0]}"),
        "detail (auditor)": lambda: reader.get(f"/kerja-sama/{data['readable'][0]}"),
        "detail in review (bkad)": lambda: reviewer.get(f"/kerja-sama/{data['in_review'][0]}"),
        "edit form": lambda: secretary.get(f"/kerja-sama/{writer['own'][0]}/ubah"),
        "edit form + save draft": save,
        "comment": lambda: reviewer.post(f"/kerja-sama/{data['in_review'][0]}/komentar",
                                         data={"body": "Catatan", "section": "tujuan"}),
        "pdf draft": lambda: secretary.get(f"/dokumen/{writer['own'][0]}/naskah.pdf"),
        "pdf review record": lambda: reviewer.get(f"/dokumen/{data['in_review'][0]}/telaah.pdf"),
    }
    print(f"login (Argon2 included): {login_cpu * 1000:.1f} ms CPU")
    for name, call in cases.items():
        rounds = 5 if name.startswith("pdf") else ROUNDS
        for _ in range(2):
            response = call()
            assert response.status_code in (200, 302), (name, response.status_code)
        times = []
        for _ in range(rounds):
            started = time.process_time()
            call()
            times.append(time.process_time() - started)
        # The median and the least of the rounds: on a shared or virtual machine the mean
        # moves by 20-30 % from run to run, these much less.
        print(f"{name}: {statistics.median(times) * 1000:.1f} ms CPU "
              f"(least {min(times) * 1000:.1f})")
    if "--profile" in argv:
        name = argv[argv.index("--profile") + 1]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(ROUNDS):
            cases[name]()
        profiler.disable()
        stats = pstats.Stats(profiler)
        order = argv[argv.index("--sort") + 1].split(",") if "--sort" in argv else ["cumulative"]
        stats.sort_stats(*order).print_stats(40)


if __name__ == "__main__":
    main(sys.argv[1:])
