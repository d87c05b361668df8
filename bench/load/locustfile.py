"""The mixed workload of issue 7: 50 users for 60 s against gunicorn on loopback.

24 secretaries read lists and their proposals and save drafts (two of their own each, and
one draft shared by the three secretaries of a village, to provoke conflicts), 10 BKAD
reviewers comment on proposals under review and race each other to start reviewing the
submitted ones, 16 auditors read lists, proposals and PDFs. Every write the server
acknowledged is written to LOAD_RESULTS (JSON) for bench/load/check.py. With LOAD_SESSIONS
(a JSON file), users log in only when the file holds no session of theirs yet.

    LOAD_DATA=data.json LOAD_RESULTS=acks.json locust -f bench/load/locustfile.py \
        --headless -u 50 -r 25 -t 60s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import collections
import html
import itertools
import json
import os
import random
import re
import threading
import uuid

import gevent
from locust import HttpUser, between, events, task

DATA = json.load(open(os.environ.get("LOAD_DATA", "load-data.json")))  # noqa: SIM115
RESULTS = os.environ.get("LOAD_RESULTS", "load-acks.json")
#: Session cookies by account: a run that finds one reuses it instead of logging in again
#: (the warm-up logs every account in; the measured run starts logged in, as users at work
#: are). A run writes the cookies of the accounts it logged in.
SESSIONS = os.environ.get("LOAD_SESSIONS")
KNOWN_SESSIONS: dict[str, str] = (
    json.load(open(SESSIONS)) if SESSIONS and os.path.exists(SESSIONS) else {})  # noqa: SIM115
NEW_SESSIONS: dict[str, str] = {}
COOKIE = "coopdesa_session"

_lock = threading.Lock()
ACKS: dict[str, list] = {"drafts": [], "comments": [], "start_review": []}
CONFLICTS = collections.Counter()
STATUS = collections.Counter()

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'<input[^>]*name="version"[^>]*value="(\d+)"')
TITLE = re.compile(r'<input[^>]*name="title"[^>]*value="([^"]*)"')
COMMENT_ANCHOR = re.compile(r"#komentar-(\d+)$")


def _ack(kind: str, record) -> None:
    with _lock:
        ACKS[kind].append(record)


@events.request.add_listener
def _count_status(name, response, exception, **_kw):
    code = getattr(response, "status_code", 0) if response is not None else 0
    with _lock:
        STATUS[f"{code // 100}xx" if code else "error"] += 1


@events.test_stop.add_listener
def _write_results(**_kw):
    with open(RESULTS, "w") as handle:
        json.dump({"acks": ACKS, "conflicts": CONFLICTS, "status": STATUS}, handle)
    if SESSIONS and NEW_SESSIONS:
        with open(SESSIONS, "w") as handle:
            json.dump({**KNOWN_SESSIONS, **NEW_SESSIONS}, handle)


class _Account(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    accounts: itertools.count

    def on_start(self) -> None:
        self.account = self.pick()
        # locust starts each second's users at the same instant: 10 first requests at once,
        # which no office produces (measured: the home page's p95 260-310 ms against 100-190
        # for the other pages). A random delay of up to a second spreads their arrival.
        gevent.sleep(random.uniform(0, 1.0))
        if self.username in KNOWN_SESSIONS:
            self.client.cookies.set(COOKIE, KNOWN_SESSIONS[self.username])
            home = self.client.get("/", name="home")
            self.csrf = CSRF.search(home.text).group(1)
            return
        page = self.client.get("/masuk", name="login form")
        token = CSRF.search(page.text).group(1)
        with self.client.post("/masuk", name="login", allow_redirects=False, catch_response=True,
                              data={"csrf_token": token, "username": self.username,
                                    "password": DATA["password"]}) as response:
            if response.status_code != 302:
                response.failure(f"login {self.username}: {response.status_code}")
                raise RuntimeError(f"login refused for {self.username}")
        home = self.client.get("/", name="home")
        self.csrf = CSRF.search(home.text).group(1)
        with _lock:
            NEW_SESSIONS[self.username] = self.client.cookies.get(COOKIE)

    @property
    def username(self) -> str:
        return self.account if isinstance(self.account, str) else self.account["username"]

    def list_page(self) -> None:
        self.client.get("/kerja-sama/", name="list")

    def filtered_list(self) -> None:
        state = random.choice(["active", "submitted", "draft", "ended"])
        self.client.get(f"/kerja-sama/?state={state}&page={random.randint(1, 3)}",
                        name="list filtered")


class Secretary(_Account):
    fixed_count = len(DATA["writers"])
    accounts = itertools.count()

    def pick(self):
        return DATA["writers"][next(Secretary.accounts) % len(DATA["writers"])]

    @task(3)
    def lists(self) -> None:
        self.list_page()

    @task(2)
    def detail(self) -> None:
        self.client.get(f"/kerja-sama/{random.choice(self.account['own'])}", name="detail")

    @task(3)
    def save_own_draft(self) -> None:
        self.save(random.choice(self.account["own"]), shared=False)

    @task(2)
    def save_shared_draft(self) -> None:
        self.save(self.account["shared"], shared=True)

    @task(1)
    def draft_pdf(self) -> None:
        self.client.get(f"/dokumen/{random.choice(self.account['own'])}/naskah.pdf",
                        name="pdf draft")

    def save(self, proposal_id: int, *, shared: bool) -> None:
        form = self.client.get(f"/kerja-sama/{proposal_id}/ubah", name="edit form")
        version = VERSION.search(form.text)
        title = TITLE.search(form.text)
        if version is None or title is None:
            return
        token = uuid.uuid4().hex
        with self.client.post(
                f"/kerja-sama/{proposal_id}/ubah", name="save draft", allow_redirects=False,
                catch_response=True,
                data={"csrf_token": self.csrf, "version": version.group(1),
                      "title": html.unescape(title.group(1)),
                      "tujuan": f"Tujuan {token}"}) as response:
            if response.status_code == 302:
                _ack("drafts", {"proposal": proposal_id, "token": token,
                                "user": self.username, "shared": shared})
                response.success()
            elif response.status_code == 409:  # another secretary saved first: expected
                with _lock:
                    CONFLICTS["save draft"] += 1
                response.success()
            else:
                response.failure(f"save {proposal_id}: {response.status_code}")


class Reviewer(_Account):
    fixed_count = len(DATA["reviewers"])
    accounts = itertools.count()

    def pick(self):
        return DATA["reviewers"][next(Reviewer.accounts) % len(DATA["reviewers"])]

    @task(3)
    def lists(self) -> None:
        self.list_page()

    @task(2)
    def detail(self) -> None:
        self.client.get(f"/kerja-sama/{random.choice(DATA['in_review'])}", name="detail")

    @task(3)
    def comment(self) -> None:
        proposal_id = random.choice(DATA["in_review"])
        body = f"Catatan telaah {uuid.uuid4().hex}"
        with self.client.post(f"/kerja-sama/{proposal_id}/komentar", name="comment",
                              allow_redirects=False, catch_response=True,
                              data={"csrf_token": self.csrf, "body": body,
                                    "section": "tujuan"}) as response:
            match = COMMENT_ANCHOR.search(response.headers.get("Location", ""))
            if response.status_code == 302 and match:
                _ack("comments", {"proposal": proposal_id, "id": int(match.group(1)),
                                  "body": body, "user": self.username})
                response.success()
            else:
                response.failure(f"comment {proposal_id}: {response.status_code}")

    @task(1)
    def start_review(self) -> None:
        proposal_id = random.choice(DATA["submitted"])
        with self.client.post(
                f"/kerja-sama/{proposal_id}/tindakan/start_review", name="start review",
                allow_redirects=False, catch_response=True,
                headers={"Accept": "application/json"},
                data={"start_review-csrf_token": self.csrf,
                      "start_review-expected_state": "submitted"}) as response:
            if response.status_code == 302:
                _ack("start_review", {"proposal": proposal_id, "user": self.username})
                response.success()
            elif response.status_code == 409:  # another reviewer started it first
                with _lock:
                    CONFLICTS["start review"] += 1
                response.success()
            else:
                response.failure(f"start_review {proposal_id}: {response.status_code}")

    @task(1)
    def review_pdf(self) -> None:
        self.client.get(f"/dokumen/{random.choice(DATA['in_review'])}/telaah.pdf",
                        name="pdf review record")


class Reader(_Account):
    fixed_count = len(DATA["readers"])
    accounts = itertools.count()

    def pick(self):
        return DATA["readers"][next(Reader.accounts) % len(DATA["readers"])]

    @task(4)
    def lists(self) -> None:
        self.list_page()

    @task(2)
    def filtered(self) -> None:
        self.filtered_list()

    @task(3)
    def detail(self) -> None:
        self.client.get(f"/kerja-sama/{random.choice(DATA['readable'])}", name="detail")

    @task(1)
    def agreement_pdf(self) -> None:
        self.client.get(f"/dokumen/{random.choice(DATA['readable'])}/naskah.pdf",
                        name="pdf draft")
