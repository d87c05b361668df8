"""Sessions end on the server: after logout or disabling, a copy of the old session or
remember-me cookie, replayed from another browser, is refused; so are a disabled user's API
tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from coopdesa.accounts import operations as ops
from coopdesa.audit.models import AuditEntry
from coopdesa.extensions import db
from tests.conftest import PASSWORD, AuthActions
from tests.factories import AdminFactory, UserFactory

SESSION = "coopdesa_session"
REMEMBER = "remember_token"


#: A fresh ``g`` per request, as in production (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("fresh_request_globals")


def signed_in(client) -> bool:
    response = client.get("/profil")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/masuk"
    return False


def replay(app, **cookies: str):
    """A new browser holding copies of the given cookies and nothing else."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value, domain="localhost")
    return other


def cookie(client, name: str) -> str:
    found = client.get_cookie(name, domain="localhost")
    assert found is not None, f"no {name} cookie"
    return found.value


def test_a_copied_session_cookie_is_refused_after_logout(app, client, login):
    user = UserFactory()
    login(user)
    stolen = cookie(client, SESSION)
    assert signed_in(replay(app, **{SESSION: stolen}))  # the copy works while signed in

    response = client.post("/keluar")
    assert response.status_code == 302
    assert not signed_in(client)
    assert not signed_in(replay(app, **{SESSION: stolen}))


def test_logout_ends_the_sessions_of_other_browsers_too(app, client, login):
    user = UserFactory()
    login(user)
    elsewhere = app.test_client()
    assert AuthActions(elsewhere).login(user.username).status_code == 302
    assert signed_in(elsewhere)

    client.post("/keluar")
    assert not signed_in(elsewhere)
    # Signing in again gives a fresh, working session.
    assert AuthActions(client).login(user.username).status_code == 302
    assert signed_in(client)


def test_logout_is_in_the_audit_trail(client, login):
    user = UserFactory()
    login(user)
    nonce = user.session_nonce
    client.post("/keluar")
    db.session.expire_all()
    assert db.session.get(type(user), user.id).session_nonce != nonce
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.logout"))
    assert entry is not None
    assert (entry.user_id, entry.object_type, entry.object_id) == (user.id, "user", user.id)
    assert user.username in entry.summary


def test_a_copied_remember_me_cookie_is_refused_after_logout(app, client):
    user = UserFactory()
    response = AuthActions(client).login(user.username, PASSWORD, remember="y")
    assert response.status_code == 302
    remembered = cookie(client, REMEMBER)
    # The remember-me cookie alone signs a new browser in while the user is signed in.
    assert signed_in(replay(app, **{REMEMBER: remembered}))

    client.post("/keluar")
    assert not signed_in(replay(app, **{REMEMBER: remembered}))
    assert not signed_in(replay(app, **{REMEMBER: remembered, SESSION: "x"}))


def test_a_disabled_users_cookies_are_refused(app, client, login):
    user = UserFactory()
    AuthActions(client).login(user.username, PASSWORD, remember="y")
    stolen = {SESSION: cookie(client, SESSION), REMEMBER: cookie(client, REMEMBER)}
    assert signed_in(replay(app, **stolen))

    ops.update_user(user, full_name=user.full_name, role=user.role, desa_code=user.desa_code,
                    bkad_id=None, jurisdiction_code=None, email=None, office=None,
                    is_active=False)
    db.session.commit()
    assert not signed_in(client)
    assert not signed_in(replay(app, **stolen))
    assert not signed_in(replay(app, **{REMEMBER: stolen[REMEMBER]}))


def test_an_admin_disabling_a_user_ends_the_users_sessions(app, client, login):
    user = UserFactory()
    victim = app.test_client()
    assert AuthActions(victim).login(user.username).status_code == 302
    stolen = cookie(victim, SESSION)

    login(AdminFactory())
    page = client.get(f"/admin/pengguna/{user.id}")
    assert page.status_code == 200, page.status_code
    data = {"full_name": user.full_name, "role": user.role.value,
            "desa_code": user.desa_code or "", "email": "", "office": "",
            "jurisdiction_code": "", "bkad_id": "0"}  # is_active left out: unticked
    response = client.post(f"/admin/pengguna/{user.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    db.session.expire_all()
    assert not db.session.get(type(user), user.id).is_active_account
    assert not signed_in(victim)
    assert not signed_in(replay(app, **{SESSION: stolen}))


def test_api_tokens_of_a_disabled_user_are_refused(app, api):
    user = UserFactory()
    caller = api(user)
    assert caller.get("/me").status_code == 200
    ops.update_user(user, full_name=user.full_name, role=user.role, desa_code=user.desa_code,
                    bkad_id=None, jurisdiction_code=None, email=None, office=None,
                    is_active=False)
    db.session.commit()
    for path in ("/me", "/proposals"):
        response = caller.get(path)
        assert response.status_code == 401, (path, response.status_code)
        assert response.is_json


def test_session_cookies_do_not_authenticate_the_api(app, client, login):
    login(UserFactory())
    assert client.get("/api/v1/me").status_code == 401
