"""Forms for signing in, passwords, users, BKADs and tokens. They parse; operations decide."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp
from wtforms.widgets import PasswordInput

from coopdesa.accounts.models import ROLE_LABELS, Role

REQUIRED = _l("Wajib diisi.")


class LoginForm(FlaskForm):
    username = StringField(_l("Nama pengguna"), validators=[DataRequired(REQUIRED),
                                                            Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired(REQUIRED),
                                                           Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Ingat saya di perangkat ini"))
    submit = SubmitField(_l("Masuk"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Kata sandi saat ini"),
                                     validators=[DataRequired(REQUIRED)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("Kata sandi baru"),
                                 validators=[DataRequired(REQUIRED), Length(max=256)],
                                 description=_l("Minimal 10 karakter."),
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Ulangi kata sandi baru"),
                            validators=[DataRequired(REQUIRED),
                                        EqualTo("new_password",
                                                _l("Kedua kata sandi baru tidak sama."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Ganti kata sandi"))


def role_choices() -> list[tuple[str, str]]:
    return [(r.value, str(ROLE_LABELS[r])) for r in Role]


class UserForm(FlaskForm):
    username = StringField(_l("Nama pengguna"), validators=[DataRequired(REQUIRED),
                                                            Length(max=64)])
    full_name = StringField(_l("Nama lengkap"), validators=[DataRequired(REQUIRED),
                                                            Length(max=120)])
    office = StringField(_l("Jabatan"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("Surel"), validators=[
        Optional(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Alamat surel tidak valid."))])
    role = SelectField(_l("Peran"), choices=role_choices, validators=[DataRequired(REQUIRED)])
    desa_code = StringField(_l("Desa (untuk sekretaris desa)"),
                            validators=[Optional(), Length(max=20)],
                            description=_l("Ketik nama atau kode desa."),
                            render_kw={"data-region-search": "party"})
    bkad_id = SelectField(_l("BKAD (untuk pengurus BKAD)"), coerce=int, choices=[],
                          validate_choice=False)
    jurisdiction_code = StringField(
        _l("Wilayah tugas (untuk auditor)"), validators=[Optional(), Length(max=20)],
        description=_l("Provinsi, kabupaten/kota atau kecamatan."),
        render_kw={"data-region-search": "jurisdiction"})
    # The admin's own typing is shown again after an error, so nothing is lost.
    password = PasswordField(_l("Kata sandi"), validators=[Optional(), Length(max=256)],
                             widget=PasswordInput(hide_value=False),
                             description=_l("Minimal 10 karakter. Kosongkan saat mengubah "
                                            "pengguna bila tidak ingin menggantinya."),
                             render_kw={"autocomplete": "new-password"})
    is_active = BooleanField(_l("Akun aktif"), default=True)
    submit = SubmitField(_l("Simpan"))


class BkadForm(FlaskForm):
    name = StringField(_l("Nama BKAD"), validators=[DataRequired(REQUIRED), Length(max=160)])
    decree = StringField(_l("Dasar pembentukan (Peraturan Bersama / SK)"),
                         validators=[Optional(), Length(max=200)])
    desa_codes = TextAreaField(
        _l("Desa anggota"), validators=[DataRequired(REQUIRED)],
        description=_l("Satu kode desa per baris, atau pisahkan dengan koma."),
        render_kw={"rows": 6, "data-region-search": "multi"})
    submit = SubmitField(_l("Simpan"))

    def desa_code_list(self) -> list[str]:
        raw = (self.desa_codes.data or "").replace(",", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]


class TokenForm(FlaskForm):
    name = StringField(_l("Nama token"), validators=[DataRequired(REQUIRED), Length(max=80)],
                       description=_l("Misalnya: aplikasi SIPADES kantor desa."))
    days = IntegerField(_l("Masa berlaku (hari)"), validators=[Optional(), NumberRange(1, 3650)],
                        description=_l("Kosongkan agar berlaku sampai dicabut."))
    submit = SubmitField(_l("Buat token"))


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected POST for logout, revoking and similar actions."""

    submit = SubmitField(_l("Lanjutkan"))
