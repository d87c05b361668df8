"""Signing in and out, the user's own profile and tokens, and the admin pages for users
and BKADs."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts import operations as ops
from coopdesa.accounts.forms import (
    BkadForm,
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    TokenForm,
    UserForm,
)
from coopdesa.accounts.models import ApiToken, Bkad, Role, User
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: never an absolute URL an attacker could slip in."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def form_errors_from(form, error: ValidationError) -> None:
    """Put a domain ValidationError's field messages on the form; the rest as a flash."""
    placed = False
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
            placed = True
    if not placed:
        flash(error.message, "danger")


def _login_key() -> str:
    username = (request.form.get("username") or "").strip().lower()[:64]
    return f"login:{username}"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    # A refused login counts; a server-side failure (Redis down: 503) is no attempt.
    return response.status_code != 302 and response.status_code < 500


@bp.route("/masuk", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, key_func=_login_key, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = ops.authenticate(form.username.data, form.password.data)
        if user is None:
            db.session.rollback()
            form.password.errors = [_("Nama pengguna atau kata sandi salah, atau akun "
                                      "dinonaktifkan.")]
            return render_template("accounts/login.html", form=form), 200
        db.session.commit()
        language = session.get("lang")  # chosen on the login page: keep it, drop the rest
        session.clear()
        if language:
            session["lang"] = language
        login_user(user, remember=form.remember.data)
        session.permanent = True
        flash(_("Selamat datang, %(name)s.", name=user.full_name), "success")
        return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    return render_template("accounts/login.html", form=form)


@bp.route("/keluar", methods=["POST"])
@login_required
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        ops.end_sessions(current_user._get_current_object())
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("Anda telah keluar."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/profil")
@login_required
def profile():
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("accounts/profile.html", tokens=tokens, token_form=TokenForm(),
                           confirm_form=ConfirmForm())


@bp.route("/profil/kata-sandi", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_password(current_user, form.current_password.data, form.new_password.data)
        except ValidationError as error:
            db.session.rollback()
            form_errors_from(form, error)
        else:
            db.session.commit()
            # The nonce changed: keep this session, end the others. The real user object,
            # not the current_user proxy, or g._login_user would point at itself and the
            # next current_user lookup recurses until the process crashes.
            login_user(current_user._get_current_object())
            flash(_("Kata sandi telah diganti. Sesi di perangkat lain telah diakhiri."),
                  "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/profil/token", methods=["POST"])
@login_required
def create_token():
    access.require(current_user, Action.CREATE, ApiToken)
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = ops.create_token(current_user, form.name.data, days=form.days.data)
        except ValidationError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            return render_template("accounts/token_created.html", token=token, secret=secret)
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
    return redirect(url_for("accounts.profile"))


@bp.route("/profil/token/<int:token_id>/cabut", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(_("Token tidak ditemukan."))
    access.require(current_user, Action.DELETE, token)
    if ConfirmForm().validate_on_submit():
        ops.revoke_token(token)
        db.session.commit()
        flash(_("Token %(name)s telah dicabut.", name=token.name), "info")
    return redirect(url_for("accounts.profile"))


# --- administration: users ---------------------------------------------------------------

def _bkad_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(sa.select(Bkad.id, Bkad.name).order_by(Bkad.name)).all()
    return [(0, _("— tidak ada —"))] + [(r.id, r.name) for r in rows]


@bp.route("/admin/pengguna")
@login_required
def users():
    access.require(current_user, Action.LIST, User)
    role = request.args.get("peran") or None
    text = (request.args.get("q") or "").strip()
    stmt = sa.select(User).options(sa.orm.selectinload(User.desa),
                                   sa.orm.selectinload(User.bkad),
                                   sa.orm.selectinload(User.jurisdiction))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.username).like(like),
                                 sa.func.lower(User.full_name).like(like)))
    page = db.paginate(stmt.order_by(User.role, User.username), per_page=50, error_out=False)
    return render_template("accounts/users.html", page=page, role=role, q=text, roles=list(Role))


def _user_form_values(form: UserForm) -> dict:
    return {
        "full_name": form.full_name.data,
        "role": form.role.data,
        "desa_code": form.desa_code.data,
        "bkad_id": form.bkad_id.data or None,
        "jurisdiction_code": form.jurisdiction_code.data,
        "email": form.email.data,
        "office": form.office.data,
    }


@bp.route("/admin/pengguna/baru", methods=["GET", "POST"])
@login_required
def create_user():
    access.require(current_user, Action.CREATE, User)
    form = UserForm()
    form.bkad_id.choices = _bkad_choices()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors = [_("Kata sandi wajib diisi untuk pengguna baru.")]
        else:
            try:
                user = ops.create_user(username=form.username.data,
                                       password=form.password.data, **_user_form_values(form))
                user.is_active_account = bool(form.is_active.data)
            except ValidationError as error:
                db.session.rollback()
                form_errors_from(form, error)
            else:
                db.session.commit()
                flash(_("Pengguna %(name)s telah dibuat.", name=user.username), "success")
                return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=None)


@bp.route("/admin/pengguna/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    user = ops.get_user(user_id)
    access.require(current_user, Action.EDIT, user)
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    form.bkad_id.choices = _bkad_choices()
    if request.method == "GET":
        form.is_active.data = user.is_active_account
        form.bkad_id.data = user.bkad_id or 0
        form.role.data = user.role.value
    form.username.data = user.username  # usernames are not renamed
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != Role.ADMIN.value
                                           or not form.is_active.data):
            flash(_("Anda tidak dapat mencabut hak admin atau menonaktifkan akun Anda "
                    "sendiri."), "danger")
        else:
            try:
                ops.update_user(user, is_active=bool(form.is_active.data),
                                **_user_form_values(form))
                if form.password.data:
                    ops.reset_password(user, form.password.data)
            except ValidationError as error:
                db.session.rollback()
                form_errors_from(form, error)
            else:
                db.session.commit()
                flash(_("Pengguna %(name)s telah diperbarui.", name=user.username), "success")
                return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user)


# --- administration: BKAD ----------------------------------------------------------------

@bp.route("/admin/bkad")
@login_required
def bkads():
    access.require(current_user, Action.LIST, Bkad)
    rows = db.session.scalars(
        sa.select(Bkad).options(sa.orm.selectinload(Bkad.villages),
                                sa.orm.selectinload(Bkad.kabupaten))
        .order_by(Bkad.name)
    ).all()
    return render_template("accounts/bkads.html", bkads=rows)


@bp.route("/admin/bkad/baru", methods=["GET", "POST"])
@login_required
def create_bkad():
    access.require(current_user, Action.CREATE, Bkad)
    form = BkadForm()
    if form.validate_on_submit():
        try:
            bkad = ops.create_bkad(name=form.name.data, desa_codes=form.desa_code_list(),
                                   decree=form.decree.data)
        except ValidationError as error:
            db.session.rollback()
            form_errors_from(form, error)
        else:
            db.session.commit()
            flash(_("BKAD %(name)s telah dibuat.", name=bkad.name), "success")
            return redirect(url_for("accounts.bkads"))
    return render_template("accounts/bkad_form.html", form=form, bkad=None)


@bp.route("/admin/bkad/<int:bkad_id>", methods=["GET", "POST"])
@login_required
def edit_bkad(bkad_id: int):
    bkad = ops.get_bkad(bkad_id)
    access.require(current_user, Action.EDIT, bkad)
    form = BkadForm()
    if request.method == "GET":
        form.name.data = bkad.name
        form.decree.data = bkad.decree
        form.desa_codes.data = "\n".join(v.code for v in bkad.villages)
    if form.validate_on_submit():
        try:
            ops.update_bkad(bkad, name=form.name.data, desa_codes=form.desa_code_list(),
                            decree=form.decree.data)
        except ValidationError as error:
            db.session.rollback()
            form_errors_from(form, error)
        else:
            db.session.commit()
            flash(_("BKAD %(name)s telah diperbarui.", name=bkad.name), "success")
            return redirect(url_for("accounts.bkads"))
    return render_template("accounts/bkad_form.html", form=form, bkad=bkad)
