"""Audit the installed packages against PyPI's vulnerability data, through the project
endpoint, when pip-audit cannot (``make security`` runs this only then).

pip-audit asks PyPI for each installed version (``/pypi/NAME/VERSION/json``). Some PyPI
mirrors serve only the project endpoint (``/pypi/NAME/json``), which describes the latest
release, its ``vulnerabilities`` included (PyPI's JSON API documentation). For a package
installed at its latest release that is the same data pip-audit would read, so it is
audited here; a package installed below its latest release is reported as NOT audited,
never passed in silence.

    python tools/audit_latest.py [--skip NAME ...]

Exit status: 0 every package audited, no known vulnerability; 1 a known vulnerability
(listed); 3 no vulnerability among those audited, but some could not be audited (listed);
2 the data could not be reached at all.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

#: The project endpoint's base; a mirror can be named with PYPI_JSON_URL.
BASE = os.environ.get("PYPI_JSON_URL", "https://pypi.org/pypi").rstrip("/")
TIMEOUT = 30


@dataclass
class Finding:
    name: str
    installed: str
    latest: str | None = None
    vulnerabilities: list[dict] = field(default_factory=list)
    error: str | None = None

    @property
    def audited(self) -> bool:
        if self.latest is None:
            return False
        try:
            return Version(self.installed) == Version(self.latest)
        except InvalidVersion:
            return self.installed == self.latest


def installed(skip: set[str]) -> dict[str, str]:
    """Every distribution of this interpreter except editable installs (our own code)."""
    found: dict[str, str] = {}
    editable: set[str] = set()
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"] or "")
        if not name or name in skip:
            continue
        direct = dist.read_text("direct_url.json")
        if direct and json.loads(direct).get("dir_info", {}).get("editable"):
            editable.add(name)  # also seen as a bare *.egg-info from a source tree
        found.setdefault(name, dist.version)
    return {name: version for name, version in found.items() if name not in editable}


def look_up(name: str, version: str) -> Finding:
    finding = Finding(name, version)
    url = f"{BASE}/{name}/json"
    if not url.startswith(("https://", "http://")):
        finding.error = f"not an HTTP address: {url}"
        return finding
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 (checked)
            data = json.load(response)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        finding.error = str(exc)
        return finding
    finding.latest = (data.get("info") or {}).get("version")
    finding.vulnerabilities = [v for v in data.get("vulnerabilities") or []
                               if not v.get("withdrawn")]
    return finding


def audit(packages: dict[str, str], workers: int = 16) -> list[Finding]:
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda item: look_up(*item), sorted(packages.items())))


def report(findings: list[Finding], out=sys.stdout) -> int:
    reached = [f for f in findings if f.error is None]
    if not reached:
        print(f"audit: PyPI's project data could not be reached ({BASE}): "
              f"{findings[0].error if findings else 'no package'}", file=out)
        return 2
    audited = [f for f in reached if f.audited]
    vulnerable = [f for f in audited if f.vulnerabilities]
    missing = [f for f in findings if not f.audited]
    for f in vulnerable:
        for v in f.vulnerabilities:
            aliases = ", ".join(v.get("aliases") or [])
            fixed = ", ".join(v.get("fixed_in") or []) or "no fixed release"
            print(f"VULNERABLE {f.name} {f.installed}: {v.get('id')}"
                  f"{f' ({aliases})' if aliases else ''}, fixed in {fixed}", file=out)
    print(f"audit: {len(audited)} of {len(findings)} packages audited against PyPI's "
          f"vulnerability data (installed at their latest release); "
          f"{sum(len(f.vulnerabilities) for f in vulnerable)} known vulnerabilities", file=out)
    for f in missing:
        why = (f"could not be looked up: {f.error}" if f.error else
               f"installed {f.installed}, latest {f.latest}: the data describes the latest "
               f"release only")
        print(f"NOT AUDITED {f.name}: {why}", file=out)
    if vulnerable:
        return 1
    return 3 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", action="append", default=[],
                        help="a distribution not to audit (repeatable)")
    args = parser.parse_args(argv)
    return report(audit(installed({canonicalize_name(n) for n in args.skip})))


if __name__ == "__main__":
    sys.exit(main())
