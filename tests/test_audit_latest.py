"""tools/audit_latest.py, the fallback of `make security` when pip-audit cannot reach PyPI's
per-version data: against a local server that answers like PyPI's project endpoint."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "audit_latest.py"

PROJECTS = {
    "current": {"info": {"version": "2.0.0"}, "vulnerabilities": []},
    "vulnerable": {"info": {"version": "1.5"}, "vulnerabilities": [
        {"id": "PYSEC-2026-1", "aliases": ["CVE-2026-0001"], "fixed_in": ["1.6"],
         "withdrawn": None},
        {"id": "PYSEC-2025-9", "aliases": [], "fixed_in": [], "withdrawn": "2025-12-01"}]},
    "behind": {"info": {"version": "3.0"}, "vulnerabilities": []},
}


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("audit_latest", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_latest"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("audit_latest", None)


@pytest.fixture
def pypi(tool, monkeypatch):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            name = self.path.strip("/").removesuffix("/json")
            if name not in PROJECTS:
                self.send_error(404)
                return
            body = json.dumps(PROJECTS[name]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(tool, "BASE", f"http://127.0.0.1:{server.server_address[1]}")
    yield
    server.shutdown()
    server.server_close()


def run(tool, packages: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    return tool.report(tool.audit(packages, workers=2), out=out), out.getvalue()


def test_packages_at_their_latest_release_are_audited(tool, pypi):
    status, text = run(tool, {"current": "2.0"})  # 2.0 == 2.0.0
    assert status == 0
    assert "1 of 1 packages audited" in text and "0 known vulnerabilities" in text


def test_a_known_vulnerability_fails_and_is_named(tool, pypi):
    status, text = run(tool, {"current": "2.0.0", "vulnerable": "1.5"})
    assert status == 1
    assert "VULNERABLE vulnerable 1.5: PYSEC-2026-1 (CVE-2026-0001), fixed in 1.6" in text
    assert "PYSEC-2025-9" not in text  # withdrawn advisories are not reported


def test_a_package_below_its_latest_release_is_never_passed_in_silence(tool, pypi):
    status, text = run(tool, {"current": "2.0.0", "behind": "2.9"})
    assert status == 3
    assert "1 of 2 packages audited" in text
    assert "NOT AUDITED behind: installed 2.9, latest 3.0" in text


def test_a_package_the_index_does_not_know_is_not_audited(tool, pypi):
    status, text = run(tool, {"current": "2.0.0", "private-thing": "0.1"})
    assert status == 3
    assert "NOT AUDITED private-thing: could not be looked up" in text


def test_unreachable_data_is_reported_as_such(tool, monkeypatch):
    monkeypatch.setattr(tool, "BASE", "http://127.0.0.1:9")  # discard port: refused
    status, text = run(tool, {"current": "2.0.0"})
    assert status == 2
    assert "could not be reached" in text


def test_only_http_addresses_are_opened(tool, monkeypatch):
    monkeypatch.setattr(tool, "BASE", "file:///etc")
    finding = tool.look_up("passwd", "1.0")
    assert finding.error.startswith("not an HTTP address") and finding.latest is None


def test_editable_installs_are_skipped(tool):
    names = tool.installed(skip=set())
    assert "coopdesa" not in names  # installed with pip -e: our own code
    assert "flask" in names
    assert "flask" not in tool.installed(skip={"flask"})
