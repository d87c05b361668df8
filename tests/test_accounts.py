"""Signing in and out, passwords, rate limiting, cookies, CSRF, the admin pages for users
and BKADs, and API tokens."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import g, request_started

from coopdesa import create_app
from coopdesa.accounts.models import ApiToken, Bkad, Role, User
from coopdesa.accounts.operations import create_token
from coopdesa.db import utcnow
from coopdesa.extensions import db
from tests.conftest import (
    DIENG,
    DIENG_KULON,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    PASSWORD,
    SEMBUNGAN,
    TIENG,
    WONOSOBO,
    AuthActions,
)
from tests.factories import AdminFactory, BkadFactory, UserFactory

WRONG_LOGIN = "Nama pengguna atau kata sandi salah"
NEW_PASSWORD = "kentang-dieng-2027"


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    """Give every test request a fresh ``g``, as production does.

    conftest keeps one app context open for the whole test and a test request reuses it,
    so Flask-Login's cached ``g._login_user`` would carry one client's user into another
    client's request (and hide a session that should have ended).
    """

    def clear(sender, **extra):
        for name in list(vars(g)):  # not vars(g).clear(): that crashes CPython 3.11
            delattr(g, name)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def is_signed_in(client) -> bool:
    response = client.get("/profil")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/masuk"
    return False


def second_client(app, user) -> object:
    other = app.test_client()
    assert AuthActions(other).login(user.username).status_code == 302
    assert is_signed_in(other)
    return other


# --- signing in and out --------------------------------------------------------------------

def test_login_succeeds_and_greets_the_user(client, auth):
    user = UserFactory()
    response = auth.login(user.username)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"
    page = client.get("/")
    assert page.status_code == 200
    body = text(page)
    assert f"Selamat datang, {user.full_name}." in body
    assert user.full_name in body
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_login_accepts_the_username_in_any_case(client, auth):
    UserFactory(username="sekdes.dieng")
    assert auth.login("  SekDes.Dieng ").status_code == 302


@pytest.mark.parametrize("case", ["wrong_password", "unknown_user", "empty_password"])
def test_login_failure_shows_the_same_message(client, auth, case):
    user = UserFactory()
    username, password = {
        "wrong_password": (user.username, "bukan-sandinya-123"),
        "unknown_user": ("tidak.ada", PASSWORD),
        "empty_password": (user.username, ""),
    }[case]
    response = auth.login(username, password)
    assert response.status_code == 200
    body = text(response)
    if case == "empty_password":
        assert "Wajib diisi." in body
    else:
        assert WRONG_LOGIN in body
    assert not is_signed_in(client)


def test_disabled_account_cannot_sign_in(client, auth):
    user = UserFactory(is_active_account=False)
    response = auth.login(user.username)
    assert response.status_code == 200
    assert WRONG_LOGIN in text(response)
    assert not is_signed_in(client)


def test_disabling_an_account_ends_its_open_session(app, client, login):
    user = UserFactory()
    login(user)
    user.is_active_account = False
    db.session.commit()
    assert not is_signed_in(client)


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "https://evil.example/masuk", "http:evil.example",
    "///evil.example", "/\t/evil.example", "javascript:alert(1)", "evil.example",
])
def test_login_refuses_an_open_redirect(client, target):
    user = UserFactory()
    response = client.post("/masuk", query_string={"next": target},
                           data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert "evil" not in response.headers["Location"]
    assert location.netloc in ("", "localhost")
    assert location.path == "/"


def test_login_follows_a_local_next(client):
    user = UserFactory()
    response = client.post("/masuk", query_string={"next": "/pihak/?q=kentang"},
                           data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/pihak/?q=kentang")


def test_logout_is_post_only(client, login):
    login(UserFactory())
    response = client.get("/keluar")
    assert response.status_code == 405
    assert is_signed_in(client)  # a GET (a link, an <img>) cannot sign anyone out

    response = client.post("/keluar")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/masuk"
    assert not is_signed_in(client)


def test_signed_in_user_visiting_login_goes_home(client, login):
    login(UserFactory())
    response = client.get("/masuk")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"


# --- passwords -----------------------------------------------------------------------------

def _change(client, current, new, confirm=None):
    return client.post("/profil/kata-sandi", data={
        "current_password": current, "new_password": new,
        "confirm": new if confirm is None else confirm})


@pytest.mark.parametrize(("current", "new", "confirm", "message"), [
    ("salah-sama-sekali", NEW_PASSWORD, None, "Kata sandi saat ini salah."),
    (PASSWORD, "pendek1", None, "Kata sandi minimal 10 karakter."),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "Kedua kata sandi baru tidak sama."),
    (PASSWORD, PASSWORD, None, "Kata sandi baru harus berbeda dari yang lama."),
    (PASSWORD, "aaaaaaaaaaaaaa", None, "terlalu mudah ditebak"),
])
def test_change_password_refusals(client, login, current, new, confirm, message):
    user = UserFactory()
    old_hash = user.password_hash
    login(user)
    response = _change(client, current, new, confirm)
    assert response.status_code == 200
    assert message in text(response)
    db.session.refresh(user)
    assert user.password_hash == old_hash
    assert is_signed_in(client)


def test_change_password_ends_other_sessions(app, client, auth, login):
    user = UserFactory()
    login(user)
    elsewhere = second_client(app, user)

    response = _change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/profil"
    assert "Kata sandi telah diganti" in text(client.get("/profil"))

    assert is_signed_in(client)  # this session goes on
    assert not is_signed_in(elsewhere)  # the old cookie elsewhere no longer works
    db.session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    assert user.password_changed_at is not None

    auth.logout()
    assert auth.login(user.username, PASSWORD).status_code == 200
    assert auth.login(user.username, NEW_PASSWORD).status_code == 302


def test_passwords_are_stored_as_argon2id(client, login):
    admin = AdminFactory()
    login(admin)
    client.post("/admin/pengguna/baru", data=_user_form(
        username="sekdes.sembungan", role="sekretaris", desa_code=SEMBUNGAN))
    user = db.session.scalar(sa.select(User).where(User.username == "sekdes.sembungan"))
    assert user is not None
    for account in (admin, user):
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash


# --- rate limiting -------------------------------------------------------------------------

def test_failed_logins_are_rate_limited(app, client, auth):
    assert app.config["LOGIN_RATE_LIMIT"] == "5 per minute;20 per hour"
    user = UserFactory()
    for _attempt in range(5):
        assert auth.login(user.username, "bukan-sandinya-1").status_code == 200
    response = auth.login(user.username, PASSWORD)  # even the right password now waits
    assert response.status_code == 429
    body = text(response)
    assert "Terlalu banyak percobaan" in body
    assert "Tunggu" in body
    assert "per 1 minute" not in body
    assert not is_signed_in(client)


def test_rate_limit_counts_the_account_across_addresses(app, auth):
    user = UserFactory()
    for attempt in range(5):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"10.0.0.{attempt + 1}"
        assert AuthActions(other).login(user.username, "bukan-sandinya-1").status_code == 200
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    assert AuthActions(fresh).login(user.username).status_code == 429
    # Another account from that new address is not affected.
    assert AuthActions(fresh).login(UserFactory().username).status_code == 302


def test_successful_logins_do_not_count(client, auth):
    user = UserFactory()
    for _attempt in range(4):
        assert auth.login(user.username, "bukan-sandinya-1").status_code == 200
    for _attempt in range(3):
        assert auth.login(user.username).status_code == 302
        auth.logout()
    assert auth.login(user.username, "bukan-sandinya-1").status_code == 200  # fifth failure
    assert auth.login(user.username, "bukan-sandinya-1").status_code == 429


def test_rate_limited_api_style_client_gets_json(client, auth):
    for _attempt in range(5):
        auth.login("tidak.ada", "bukan-sandinya-1")
    response = client.post("/masuk", data={"username": "tidak.ada", "password": "x" * 12},
                           headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert "Terlalu banyak percobaan" in response.get_json()["error"]["message"]


# --- cookies and CSRF ----------------------------------------------------------------------

def test_session_cookie_flags(app, auth):
    user = UserFactory()
    response = auth.login(user.username)
    cookies = [h for h in response.headers.getlist("Set-Cookie")
               if h.startswith(app.config["SESSION_COOKIE_NAME"] + "=")]
    assert cookies, response.headers
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Lax" in cookies[0]
    assert app.config["SESSION_COOKIE_NAME"] == "coopdesa_session"


def test_production_cookies_are_secure():
    prod = create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 40,
                       "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod.config["ALLOW_DEMO"] is False
    assert not prod.debug and not prod.testing


@pytest.fixture
def csrf_app(app):
    csrf_app = create_app({
        "ENV_NAME": "testing",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "WTF_CSRF_ENABLED": True,
    })
    yield csrf_app
    with csrf_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_without_csrf_token_is_refused(csrf_app):
    user = UserFactory()
    client = csrf_app.test_client()
    response = client.post("/masuk", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    body = text(response)
    assert "kedaluwarsa atau tidak sah" in body and "Muat ulang halaman" in body
    assert "CSRF" not in body  # Flask-WTF's English description is not shown
    assert not is_signed_in(client)

    # With the token from the form, the same request succeeds: the refusal was the CSRF.
    page = client.get("/masuk").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, page
    response = client.post("/masuk", data={"username": user.username, "password": PASSWORD,
                                            "csrf_token": token.group(1)})
    assert response.status_code == 302
    assert is_signed_in(client)


def test_logout_without_csrf_token_keeps_the_session(csrf_app):
    user = UserFactory()
    client = csrf_app.test_client()
    page = client.get("/masuk").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/masuk", data={"username": user.username, "password": PASSWORD,
                                "csrf_token": token})
    assert is_signed_in(client)
    assert client.post("/keluar").status_code == 400  # a cross-site form cannot sign out
    assert is_signed_in(client)
    json_refusal = client.post("/keluar", headers={"Accept": "application/json"})
    assert json_refusal.status_code == 400
    error = json_refusal.get_json()["error"]
    assert error["code"] == "csrf_failed"
    assert "kedaluwarsa" in error["message"]


# --- administration: users -----------------------------------------------------------------

def _user_form(**values) -> dict:
    data = {"username": "pengguna.baru", "full_name": "Pengguna Baru", "office": "",
            "email": "", "role": "sekretaris", "desa_code": "", "bkad_id": "0",
            "jurisdiction_code": "", "password": NEW_PASSWORD, "is_active": "y"}
    data.update(values)
    return data


def _user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_admin_sees_users(client, login):
    admin = AdminFactory()
    other = UserFactory(full_name="Sri Wahyuni")
    login(admin)
    response = client.get("/admin/pengguna")
    assert response.status_code == 200
    assert other.username in text(response) and "Sri Wahyuni" in text(response)
    filtered = client.get("/admin/pengguna", query_string={"peran": "admin"})
    assert admin.username in text(filtered) and other.username not in text(filtered)


@pytest.mark.parametrize(("values", "message"), [
    ({"role": "sekretaris", "desa_code": KELURAHAN_KEJAJAR}, "Kelurahan Kejajar tidak dapat "
                                                            "menjadi pihak"),
    ({"role": "sekretaris", "desa_code": KEJAJAR}, "bukan desa"),
    ({"role": "sekretaris", "desa_code": ""}, "harus terhubung ke satu desa"),
    ({"role": "auditor", "jurisdiction_code": DIENG}, "Wilayah tugas auditor harus berupa "
                                                      "provinsi, kabupaten/kota atau kecamatan"),
    ({"role": "bkad", "bkad_id": "0"}, "Pengurus BKAD harus terhubung ke satu BKAD"),
    ({"role": "bkad", "bkad_id": "999999"}, "BKAD yang dipilih tidak ada"),
    ({"role": "admin", "password": ""}, "Kata sandi wajib diisi untuk pengguna baru"),
    ({"role": "admin", "password": "pendek"}, "Kata sandi minimal 10 karakter"),
    ({"role": "admin", "username": "X"}, "Nama pengguna 3-64 karakter"),
])
def test_admin_create_user_refusals(client, login, values, message):
    login(AdminFactory())
    data = _user_form(**values)
    response = client.post("/admin/pengguna/baru", data=data)
    assert response.status_code == 200
    assert message in text(response)
    assert _user(data["username"].lower()) is None


def test_admin_create_user_refuses_a_taken_username(client, login):
    login(AdminFactory())
    UserFactory(username="sekdes.dieng")
    response = client.post("/admin/pengguna/baru", data=_user_form(
        username="sekdes.dieng", role="sekretaris", desa_code=DIENG))
    assert response.status_code == 200
    assert "sudah dipakai" in text(response)


@pytest.mark.parametrize(("values", "check"), [
    ({"role": "sekretaris", "desa_code": "3307132013"},
     lambda u, bkad: u.role == Role.SEKRETARIS and u.desa_code == DIENG),
    ({"role": "auditor", "jurisdiction_code": WONOSOBO},
     lambda u, bkad: u.role == Role.AUDITOR and u.jurisdiction_code == WONOSOBO),
    ({"role": "bkad"},
     lambda u, bkad: u.role == Role.BKAD and u.bkad_id == bkad.id and u.desa_code is None),
    ({"role": "admin", "desa_code": DIENG},
     lambda u, bkad: u.role == Role.ADMIN and u.desa_code is None),
])
def test_admin_creates_users_of_each_role(client, login, values, check):
    bkad = BkadFactory()
    login(AdminFactory())
    if values["role"] == "bkad":
        values = {**values, "bkad_id": str(bkad.id)}
    response = client.post("/admin/pengguna/baru", data=_user_form(**values))
    assert response.status_code == 302, text(response)[:2000]
    assert urlsplit(response.headers["Location"]).path == "/admin/pengguna"
    user = _user("pengguna.baru")
    assert user is not None and check(user, bkad)
    assert user.is_active_account

    # and the new account signs in with the password the admin set
    other = app_client_login(client, "pengguna.baru", NEW_PASSWORD)
    assert other.status_code == 302


def app_client_login(client, username, password):
    fresh = client.application.test_client()
    return AuthActions(fresh).login(username, password)


def _edit_form(user: User, **values) -> dict:
    data = {"full_name": user.full_name, "office": user.office or "", "email": user.email or "",
            "role": user.role.value, "desa_code": user.desa_code or "",
            "bkad_id": str(user.bkad_id or 0), "jurisdiction_code": user.jurisdiction_code or "",
            "password": "", "is_active": "y"}
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_edit_changes_role_and_scope_and_ends_sessions(app, client, login):
    target = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    their_session = second_client(app, target)
    login(AdminFactory())

    response = client.post(f"/admin/pengguna/{target.id}", data=_edit_form(
        target, role="auditor", desa_code="", jurisdiction_code=KEJAJAR))
    assert response.status_code == 302, text(response)[:2000]
    db.session.refresh(target)
    assert target.role == Role.AUDITOR
    assert target.jurisdiction_code == KEJAJAR and target.desa_code is None
    assert not is_signed_in(their_session)  # rights changed: sign in again


def test_admin_edit_of_contact_details_keeps_sessions(app, client, login):
    target = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    their_session = second_client(app, target)
    login(AdminFactory())
    response = client.post(f"/admin/pengguna/{target.id}", data=_edit_form(
        target, full_name="Sri Wahyuni, S.E.", email="sri@dieng.desa.id"))
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.full_name == "Sri Wahyuni, S.E." and target.email == "sri@dieng.desa.id"
    assert is_signed_in(their_session)


def test_admin_edit_deactivates_and_resets_password(app, client, login):
    target = UserFactory()
    their_session = second_client(app, target)
    login(AdminFactory())
    form = _edit_form(target, password=NEW_PASSWORD)
    form.pop("is_active")
    assert client.post(f"/admin/pengguna/{target.id}", data=form).status_code == 302
    db.session.refresh(target)
    assert not target.is_active_account
    assert not is_signed_in(their_session)
    assert app_client_login(client, target.username, NEW_PASSWORD).status_code == 200


def test_admin_edit_refuses_a_kelurahan(client, login):
    target = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    login(AdminFactory())
    response = client.post(f"/admin/pengguna/{target.id}",
                           data=_edit_form(target, desa_code=KELURAHAN_KEJAJAR))
    assert response.status_code == 200
    assert "Kelurahan Kejajar tidak dapat menjadi pihak" in text(response)
    db.session.refresh(target)
    assert target.desa_code == DIENG


@pytest.mark.parametrize("change", [{"role": "sekretaris", "desa_code": DIENG},
                                    {"is_active": None}])
def test_admin_cannot_demote_or_disable_self(client, login, change):
    admin = AdminFactory()
    login(admin)
    response = client.post(f"/admin/pengguna/{admin.id}", data=_edit_form(admin, **change))
    assert response.status_code == 200
    assert "tidak dapat mencabut hak admin atau menonaktifkan akun Anda sendiri" in text(
        response)
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN and admin.is_active_account
    assert is_signed_in(client)


def test_edit_page_of_a_missing_user_is_404(client, login):
    login(AdminFactory())
    assert client.get("/admin/pengguna/999999").status_code == 404


# --- administration: BKAD ------------------------------------------------------------------

def _bkad_form(codes: list[str], name: str = "BKAD Dataran Tinggi Dieng") -> dict:
    return {"name": name, "decree": "Peraturan Bersama Kepala Desa Nomor 1 Tahun 2024",
            "desa_codes": "\n".join(codes)}


@pytest.mark.parametrize(("codes", "message"), [
    ([DIENG], "BKAD beranggotakan sekurang-kurangnya dua desa."),
    ([DIENG, DIENG], "BKAD beranggotakan sekurang-kurangnya dua desa."),
    ([DIENG, KELURAHAN_KEJAJAR], "Kelurahan Kejajar tidak dapat menjadi pihak"),
    ([DIENG, DIENG_KULON], "Semua desa anggota BKAD harus berada dalam satu kabupaten/kota"),
    ([DIENG, "33.07.13.9999"], "tidak ada dalam daftar wilayah resmi"),
])
def test_admin_create_bkad_refusals(client, login, codes, message):
    login(AdminFactory())
    response = client.post("/admin/bkad/baru", data=_bkad_form(codes))
    assert response.status_code == 200
    assert message in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Bkad.id))) == 0


def test_cross_kabupaten_refusal_gives_the_legal_reason(client, login):
    login(AdminFactory())
    response = client.post("/admin/bkad/baru", data=_bkad_form([DIENG, DIENG_KULON]))
    assert "Permendagri 96/2017" in text(response)


def test_admin_creates_a_bkad(client, login):
    login(AdminFactory())
    response = client.post("/admin/bkad/baru", data={
        "name": "BKAD Dataran Tinggi Dieng", "decree": "",
        "desa_codes": f"{DIENG}, 3307132003\n\n{TIENG}"})
    assert response.status_code == 302, text(response)[:2000]
    bkad = db.session.scalar(sa.select(Bkad))
    assert bkad.name == "BKAD Dataran Tinggi Dieng"
    assert bkad.kabupaten_code == WONOSOBO
    assert bkad.desa_codes == {DIENG, SEMBUNGAN, TIENG}
    assert "BKAD Dataran Tinggi Dieng" in text(client.get("/admin/bkad"))

    # a second BKAD with the same name is refused
    response = client.post("/admin/bkad/baru", data=_bkad_form([DIENG, SEMBUNGAN]))
    assert response.status_code == 200 and "sudah ada" in text(response)


def test_admin_edits_a_bkad(client, login):
    bkad = BkadFactory(name="BKAD Lama", desa_codes=[DIENG, SEMBUNGAN])
    login(AdminFactory())
    page = client.get(f"/admin/bkad/{bkad.id}")
    assert page.status_code == 200 and DIENG in text(page)

    refused = client.post(f"/admin/bkad/{bkad.id}",
                          data=_bkad_form([DIENG, DIENG_KULON], name="BKAD Baru"))
    assert refused.status_code == 200
    assert "satu kabupaten/kota" in text(refused)
    db.session.expire_all()
    assert bkad.name == "BKAD Lama" and bkad.desa_codes == {DIENG, SEMBUNGAN}

    saved = client.post(f"/admin/bkad/{bkad.id}", data=_bkad_form([TIENG, SEMBUNGAN],
                                                                  name="BKAD Baru"))
    assert saved.status_code == 302
    db.session.expire_all()
    assert bkad.name == "BKAD Baru" and bkad.desa_codes == {TIENG, SEMBUNGAN}


def test_bkad_refusal_on_edit_for_too_few_villages(client, login):
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN])
    login(AdminFactory())
    response = client.post(f"/admin/bkad/{bkad.id}", data=_bkad_form([DIENG]))
    assert response.status_code == 200
    assert "sekurang-kurangnya dua desa" in text(response)


# --- API tokens ----------------------------------------------------------------------------

def _bearer(app, secret: str, path: str = "/api/v1/me"):
    return app.test_client().get(path, headers={"Authorization": f"Bearer {secret}"})


def _create_token_on_profile(client, name="SIPADES kantor desa", days=""):
    response = client.post("/profil/token", data={"name": name, "days": days})
    assert response.status_code == 200, response.status_code
    found = re.search(r'value="(cds_[A-Za-z0-9_-]+)"', response.get_data(as_text=True))
    assert found, "the new token is shown once"
    return found.group(1), response


def test_token_created_on_the_profile_is_shown_once_and_works(app, client, login):
    user = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    login(user)
    secret, page = _create_token_on_profile(client)
    assert "tidak akan ditampilkan lagi" in text(page)

    profile = text(client.get("/profil"))
    assert "SIPADES kantor desa" in profile
    assert secret not in profile and secret[:12] in profile  # only the prefix, afterwards

    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.token_hash == ApiToken.hash(secret) and secret not in token.token_hash
    assert token.expires_at is None

    response = _bearer(app, secret)
    assert response.status_code == 200
    me = response.get_json()
    assert me["username"] == user.username
    assert me["role"] == "sekretaris"
    assert me["scope"]["desa_codes"] == [DIENG]
    assert response.headers["Cache-Control"] == "no-store"


def test_token_with_a_lifetime_expires(app, client, login):
    user = UserFactory()
    login(user)
    secret, _page = _create_token_on_profile(client, days="30")
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    remaining = token.expires_at - utcnow()
    assert dt.timedelta(days=29) < remaining <= dt.timedelta(days=30)
    assert _bearer(app, secret).status_code == 200

    token.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    response = _bearer(app, secret)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_token_form_refuses_a_bad_lifetime(client, login):
    user = UserFactory()
    login(user)
    response = client.post("/profil/token", data={"name": "uji", "days": "0"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_revoked_token_gets_401(app, client, login):
    user = UserFactory()
    login(user)
    secret, _page = _create_token_on_profile(client)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert _bearer(app, secret).status_code == 200

    response = client.post(f"/profil/token/{token.id}/cabut")
    assert response.status_code == 302
    db.session.refresh(token)
    assert token.revoked_at is not None
    assert _bearer(app, secret).status_code == 401
    assert "dicabut" in text(client.get("/profil"))


def test_token_of_a_disabled_user_gets_401(app):
    user = UserFactory()
    _token, secret = create_token(user, "uji")
    db.session.commit()
    assert _bearer(app, secret).status_code == 200
    user.is_active_account = False
    db.session.commit()
    assert _bearer(app, secret).status_code == 401


def test_another_users_token_cannot_be_revoked(app, client, login):
    owner = UserFactory()
    token, secret = create_token(owner, "milik orang lain")
    db.session.commit()
    login(UserFactory())
    response = client.post(f"/profil/token/{token.id}/cabut")
    assert response.status_code == 403
    assert "Token ini milik pengguna lain." in text(response)
    db.session.refresh(token)
    assert token.revoked_at is None
    assert _bearer(app, secret).status_code == 200


def test_revoking_a_missing_token_is_404(client, login):
    login(UserFactory())
    assert client.post("/profil/token/999999/cabut").status_code == 404


def test_admin_may_revoke_any_token(app, client, login):
    owner = UserFactory()
    token, secret = create_token(owner, "uji")
    db.session.commit()
    login(AdminFactory())
    assert client.post(f"/profil/token/{token.id}/cabut").status_code == 302
    assert _bearer(app, secret).status_code == 401


def test_me_reports_each_scope(app, api):
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN])
    bkad_me = api(UserFactory(role=Role.BKAD, bkad=bkad)).get("/me").get_json()
    assert bkad_me["scope"]["bkad_id"] == bkad.id
    assert bkad_me["scope"]["desa_codes"] == sorted([DIENG, SEMBUNGAN])
    auditor_me = api(UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)).get(
        "/me").get_json()
    assert auditor_me["scope"]["jurisdiction_code"] == WONOSOBO
    assert auditor_me["scope"]["desa_codes"] is None
