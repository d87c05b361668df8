"""Browser tests: the system Chromium (Debian's ``chromium``) driven by Playwright against a
real ``flask run`` server that serves the full region register and the demo data.

Never ``playwright install``: the browser is /usr/bin/chromium. Without it the tests are
skipped on a developer's machine and FAIL under CI (``CI=true``), so that a CI machine that
lost the package cannot pass by running nothing.

The live server is a subprocess with its own SQLite database in a temporary directory,
prepared by ``flask coopdesa init`` exactly as a new office would (migrations, register,
demo). It ignores COOPDESA_TEST_DATABASE_URL: these tests check the pages, not the database
engine, and the Makefile's PostgreSQL pass deselects them (``-m "not browser"``).

Every page a test visits is photographed to test-artifacts/screenshots/<test>_<n>.png for
people to look at; the helpers below (``visit``, ``follow``, ``login``, ``logout``) take the
pictures, and ``snap`` takes one of the current state (an open menu, a filled form).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags Chromium keeps dialling Google's hosts, which this
#: machine's closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

DEMO_PASSWORD = "desa-maju-2026"  # coopdesa.demo.DEMO_PASSWORD; printed by `coopdesa init`
SERVER_START_TIMEOUT = 60  # seconds


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Everything under tests/browser carries the ``browser`` mark, so ``-m "not browser"``
    (the Makefile's PostgreSQL pass) leaves it out, whichever file a test is in."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --- the live server -------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """``flask run`` in a subprocess, on its own SQLite database in ``workdir``."""

    def __init__(self, workdir: Path, name: str):
        self.workdir = workdir
        self.name = name
        self.database = workdir / "browser.sqlite"
        self.log_path = ARTIFACTS / f"live-server-{name}.log"
        self.secret_key = secrets.token_hex(32)
        self.process: subprocess.Popen | None = None
        self.url = ""

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Settings of the surrounding shell that would change what these tests see.
        for name in ("COOPDESA_TEST_DATABASE_URL", "COOPDESA_REDIS_URL",
                     "COOPDESA_LOGIN_RATE_LIMIT", "FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_HOST",
                     "FLASK_RUN_PORT", "FLASK_RUN_CERT", "FLASK_RUN_KEY"):
            env.pop(name, None)
        env.update({
            "COOPDESA_INSTANCE_PATH": str(self.workdir),
            "COOPDESA_ENV": "development",
            "COOPDESA_SECURE_COOKIES": "0",  # plain http on 127.0.0.1
            "DATABASE_URL": f"sqlite:///{self.database}",
            "SECRET_KEY": self.secret_key,
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def init(self) -> None:
        """Migrations, the whole official register and the demo (about 8 s)."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "coopdesa", "init"],
            cwd=REPO_ROOT, env=self.env(), capture_output=True, text=True, timeout=300,
            check=False,
        )
        if result.returncode != 0 or "sekdes.dieng" not in result.stdout:
            pytest.fail(f"`flask coopdesa init` failed (exit {result.returncode}):\n"
                        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}", pytrace=False)

    def clone(self, workdir: Path, name: str) -> LiveServer:
        """A new, stopped server on a consistent copy of this one's database."""
        other = LiveServer(workdir, name)
        source = sqlite3.connect(self.database)
        target = sqlite3.connect(other.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return other

    def start(self) -> str:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # the free port may be taken between probe and bind
            port = _free_port()
            with open(self.log_path, "w") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "run",
                     "--host", "127.0.0.1", "--port", str(port), "--no-reload",
                     "--no-debugger"],
                    cwd=REPO_ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            self.url = f"http://127.0.0.1:{port}"
            if self._wait_until_up():
                return self.url
            self.stop()
        pytest.fail(f"the live server did not answer on /masuk within {SERVER_START_TIMEOUT} s:"
                    f"\n{self.log_tail()}", pytrace=False)

    def _wait_until_up(self) -> bool:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/masuk", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        return False

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="session")
def live_server_instance(tmp_path_factory, browser) -> Iterator[LiveServer]:
    # Depends on ``browser`` so that a missing Chromium skips (or fails) before the 8 s init.
    server = LiveServer(tmp_path_factory.mktemp("browser-live"), "main")
    server.init()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server(live_server_instance) -> str:
    """Base URL of the shared server, e.g. ``http://127.0.0.1:38211``."""
    return live_server_instance.url


@pytest.fixture
def fresh_server(live_server_instance, tmp_path_factory) -> Iterator[str]:
    """A server of its own (own process, own copy of the database) for one test: its
    in-memory rate limiter and data start clean and die with it. Costs about a second."""
    server = live_server_instance.clone(tmp_path_factory.mktemp("browser-fresh"), "fresh")
    server.start()
    yield server.url
    server.stop()


# --- the browser -----------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = (f"{CHROMIUM} is missing: install Debian's package with "
                   "`apt-get install chromium` (never `playwright install`).")
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


class Camera:
    """Screenshots of one test: test-artifacts/screenshots/<test>_<n>.png."""

    def __init__(self, test_name: str):
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
        self.count = 0
        self.loads: dict[int, int] = {}  # id(page) -> documents loaded since the last picture
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob(f"{self.prefix}_*.png"):
            old.unlink()  # a previous run's pictures of this test

    def watch(self, page) -> None:
        self.loads[id(page)] = 0

        def loaded(_page) -> None:
            self.loads[id(page)] = self.loads.get(id(page), 0) + 1

        page.on("load", loaded)
        page._coopdesa_camera = self  # found again by the helpers below

    def snap(self, page) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}_{self.count:02d}.png"
        page.screenshot(path=str(path), full_page=True)
        self.loads[id(page)] = 0
        return path


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable[..., object]]:
    """Factory: ``new_page(viewport=PHONE, base_url=...)`` opens a page in a new context
    (fresh cookies). Pages are watched for JavaScript errors and closed after the test."""
    camera = Camera(request.node.name)
    contexts = []
    problems: list[str] = []

    def make(viewport: dict | None = None, base_url: str | None = None):
        context = browser.new_context(base_url=base_url or live_server,
                                      viewport=viewport or DESKTOP, locale="id-ID",
                                      timezone_id="Asia/Jakarta")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        camera.watch(page)
        page.on("pageerror", lambda error: problems.append(f"uncaught JS error: {error}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None)
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            if camera.loads.get(id(page)):
                with contextlib.suppress(Exception):
                    camera.snap(page)  # the last page the test left, unless already taken
        context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(new_page):
    """A desktop-sized page (1280x900) in a context of its own."""
    return new_page()


# --- helpers (import them: ``from .conftest import login, visit, ...``) ------------------

def snap(page) -> Path:
    """Screenshot the page as it is now."""
    return page._coopdesa_camera.snap(page)


def visit(page, path: str):
    """Open ``path`` (relative to the server) and photograph it; returns the response."""
    response = page.goto(path)
    snap(page)
    return response


def follow(page, action: Callable[[], object]) -> None:
    """Run ``action`` (a click or a submit) that loads a new document; photograph it."""
    with page.expect_navigation():
        action()
    snap(page)


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and land on the home page."""
    from playwright.sync_api import expect

    visit(page, "/masuk")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    follow(page, lambda: page.locator("main form button[type=submit]").click())
    expect(page.locator("main h1")).to_contain_text(re.compile(r"Selamat datang|Welcome"))


def logout(page) -> None:
    """Sign out through the user menu in the navbar."""
    from playwright.sync_api import expect

    page.locator("#nav-utama .dropdown-toggle").click()
    follow(page, lambda: page.locator("#nav-utama form[action$='/keluar'] button").click())
    expect(page).to_have_url(re.compile(r"/masuk"))
