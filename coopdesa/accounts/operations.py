"""What can be done with accounts, BKADs and API tokens.

Every function validates its input and raises :class:`ValidationError` naming the field;
callers commit (one commit per request or command).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets

import sqlalchemy as sa
from argon2.exceptions import VerificationError
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa.accounts.models import DESA_ROLES, ApiToken, Bkad, Role, User, password_hasher
from coopdesa.db import is_id, utcnow
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.regions.models import Region
from coopdesa.regions.operations import get_party_village, normalize_code

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
# A hash to verify against when the username is unknown, so timing does not tell.
_DUMMY_HASH = password_hasher.hash(secrets.token_hex(8))


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


def check_password_strength(password: str, *, username: str = "", field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise _fail(field, _("Kata sandi minimal %(n)d karakter.", n=MIN_PASSWORD_LENGTH))
    if username and username.lower() in password.lower():
        raise _fail(field, _("Kata sandi tidak boleh memuat nama pengguna."))
    if len(set(password)) < 4:
        raise _fail(field, _("Kata sandi terlalu mudah ditebak; gunakan lebih banyak variasi."))


def _resolve_scope(role: Role, desa_code: str | None, bkad_id: int | None,
                   jurisdiction_code: str | None) -> dict:
    scope: dict = {"desa_code": None, "bkad_id": None, "jurisdiction_code": None}
    if role in DESA_ROLES:
        if not desa_code:
            raise _fail("desa_code", _("%(role)s harus terhubung ke satu desa.",
                                       role=role.label))
        scope["desa_code"] = get_party_village(desa_code, field="desa_code").code
    elif role == Role.BKAD:
        if not bkad_id:
            raise _fail("bkad_id", _("Pengurus BKAD harus terhubung ke satu BKAD."))
        if db.session.get(Bkad, bkad_id) is None:
            raise _fail("bkad_id", _("BKAD yang dipilih tidak ada."))
        scope["bkad_id"] = bkad_id
    elif role == Role.AUDITOR:
        code = normalize_code(jurisdiction_code or "")
        region = db.session.get(Region, code) if code else None
        if region is None or region.level > 3:
            raise _fail("jurisdiction_code", _(
                "Wilayah tugas auditor harus berupa provinsi, kabupaten/kota atau kecamatan "
                "yang ada dalam daftar resmi."))
        scope["jurisdiction_code"] = region.code
    return scope


def create_user(*, username: str, full_name: str, password: str, role: Role | str,
                desa_code: str | None = None, bkad_id: int | None = None,
                jurisdiction_code: str | None = None, email: str | None = None,
                office: str | None = None) -> User:
    """Create an account with a role and its scope. Raises ValidationError naming the field."""
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        raise _fail("username", _(
            "Nama pengguna 3-64 karakter: huruf kecil, angka, titik, garis bawah atau tanda "
            "hubung, diawali huruf atau angka."))
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise _fail("username", _("Nama pengguna %(name)s sudah dipakai.", name=username))
    full_name = (full_name or "").strip()
    if not full_name:
        raise _fail("full_name", _("Nama lengkap wajib diisi."))
    try:
        role = Role(role)
    except ValueError:
        raise _fail("role", _("Peran tidak dikenal.")) from None
    check_password_strength(password, username=username)
    user = User(username=username, full_name=full_name[:120], role=role,
                email=(email or "").strip() or None, office=(office or "").strip() or None,
                **_resolve_scope(role, desa_code, bkad_id, jurisdiction_code))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, *, full_name: str, role: Role | str, desa_code: str | None,
                bkad_id: int | None, jurisdiction_code: str | None, email: str | None,
                office: str | None, is_active: bool) -> User:
    full_name = (full_name or "").strip()
    if not full_name:
        raise _fail("full_name", _("Nama lengkap wajib diisi."))
    try:
        role = Role(role)
    except ValueError:
        raise _fail("role", _("Peran tidak dikenal.")) from None
    scope = _resolve_scope(role, desa_code, bkad_id, jurisdiction_code)
    scope_changed = (role != user.role or any(getattr(user, k) != v for k, v in scope.items()))
    user.full_name = full_name[:120]
    user.role = role
    for key, value in scope.items():
        setattr(user, key, value)
    user.email = (email or "").strip() or None
    user.office = (office or "").strip() or None
    if user.is_active_account and not is_active or scope_changed:
        user.session_nonce = secrets.token_hex(16)  # end the sessions of the old rights
    user.is_active_account = is_active
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Takes the same time either way."""
    username = (username or "").strip().lower()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        # Spend the time a real check takes, so the answer does not tell who exists.
        with contextlib.suppress(VerificationError):
            password_hasher.verify(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or "") or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password; ends every other session of the user."""
    if not user.check_password(current or ""):
        raise _fail("current_password", _("Kata sandi saat ini salah."))
    if current == new:
        raise _fail("new_password", _("Kata sandi baru harus berbeda dari yang lama."))
    check_password_strength(new, username=user.username, field="new_password")
    user.set_password(new)


def reset_password(user: User, new: str) -> None:
    """An administrator sets a new password; every session of the user ends."""
    check_password_strength(new, username=user.username, field="password")
    user.set_password(new)


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session and remember-me cookie carries the
    session nonce, so a new one makes each copy of an old cookie worthless on the server,
    not only the one this browser drops. API tokens are left alone (revoked one by one)."""
    from coopdesa.audit.operations import record

    user.session_nonce = secrets.token_hex(16)
    record("user.logout", summary=_l("%(name)s keluar; semua sesinya diakhiri.",
                                     name=user.username),
           user=user, object_type="user", object_id=user.id)
    db.session.flush()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id) if is_id(user_id) else None
    if user is None:
        raise NotFoundError(_("Pengguna tidak ditemukan."))
    return user


def find_user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFoundError(_("Pengguna %(name)s tidak ditemukan.", name=username))
    return user


# --- API tokens ----------------------------------------------------------------------------

def create_token(user: User, name: str, *, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it and the secret, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise _fail("name", _("Beri nama token agar mudah dikenali."))
    secret = ApiToken.generate()
    token = ApiToken(user_id=user.id, name=name[:80], token_hash=ApiToken.hash(secret),
                     prefix=secret[:12],
                     expires_at=utcnow() + dt.timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.flush()
    return token, secret


def user_for_token(secret: str) -> User | None:
    """The active user owning the usable token ``secret``, or None."""
    if not secret or not secret.startswith(ApiToken.TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret))
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        token.last_used_at = now  # written at most every few minutes, not on every call
    return token.user


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


# --- BKAD ----------------------------------------------------------------------------------

def _bkad_villages(desa_codes: list[str]) -> list[Region]:
    codes = [c for c in dict.fromkeys(normalize_code(c) for c in desa_codes if c and c.strip())]
    if len(codes) < 2:
        raise _fail("desa_codes", _("BKAD beranggotakan sekurang-kurangnya dua desa."))
    villages = [get_party_village(code, field="desa_codes") for code in codes]
    kabupaten = {v.ancestor_code(2) for v in villages}
    if len(kabupaten) > 1:
        raise _fail("desa_codes", _(
            "Semua desa anggota BKAD harus berada dalam satu kabupaten/kota; kerja sama desa "
            "lintas kabupaten/kota tunduk pada aturan kerja sama daerah (Permendagri 96/2017)."))
    return villages


def create_bkad(*, name: str, desa_codes: list[str], decree: str | None = None) -> Bkad:
    name = (name or "").strip()
    if not name:
        raise _fail("name", _("Nama BKAD wajib diisi."))
    if db.session.scalar(sa.select(Bkad.id).where(Bkad.name == name)) is not None:
        raise _fail("name", _("BKAD bernama %(name)s sudah ada.", name=name))
    villages = _bkad_villages(desa_codes)
    bkad = Bkad(name=name[:160], decree=(decree or "").strip() or None,
                kabupaten_code=villages[0].ancestor_code(2), villages=villages)
    db.session.add(bkad)
    db.session.flush()
    return bkad


def update_bkad(bkad: Bkad, *, name: str, desa_codes: list[str], decree: str | None) -> Bkad:
    name = (name or "").strip()
    if not name:
        raise _fail("name", _("Nama BKAD wajib diisi."))
    clash = db.session.scalar(sa.select(Bkad.id).where(Bkad.name == name, Bkad.id != bkad.id))
    if clash is not None:
        raise _fail("name", _("BKAD bernama %(name)s sudah ada.", name=name))
    villages = _bkad_villages(desa_codes)
    bkad.name = name[:160]
    bkad.decree = (decree or "").strip() or None
    bkad.kabupaten_code = villages[0].ancestor_code(2)
    bkad.villages = villages
    db.session.flush()
    return bkad


def get_bkad(bkad_id: int) -> Bkad:
    bkad = db.session.get(Bkad, bkad_id) if is_id(bkad_id) else None
    if bkad is None:
        raise NotFoundError(_("BKAD tidak ditemukan."))
    return bkad
