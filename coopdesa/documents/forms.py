"""Forms of the documents pages: parse and validate input, nothing else (the rules are in
coopdesa.documents.operations)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FileField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from coopdesa.documents.models import SIGN_METHOD_LABELS, Paper
from coopdesa.proposals.forms import options

PDF_ACCEPT = {"accept": "application/pdf"}
SCAN_ACCEPT = {"accept": "application/pdf,image/png,image/jpeg"}


class SignatureForm(FlaskForm):
    party_id = HiddenField()
    signer_name = StringField(_l("Nama penanda tangan"),
                              validators=[InputRequired(), Length(max=120)])
    signer_office = StringField(_l("Jabatan"), validators=[InputRequired(), Length(max=120)])
    number = StringField(_l("Nomor dokumen pihak ini"),
                         description=_l("Nomor dari register pihak itu sendiri, mis. \u201c3\u201d "
                                        "untuk Peraturan Bersama Kepala Desa Nomor 3, atau "
                                        "\u201c045/PKS/XI/2026\u201d."),
                         validators=[InputRequired(), Length(max=80)])
    signed_on = DateField(_l("Tanggal penandatanganan"), validators=[InputRequired()])
    place = StringField(_l("Tempat penandatanganan"),
                        validators=[InputRequired(), Length(max=120)])
    method = RadioField(_l("Cara penandatanganan"),
                        choices=options((m.value, lbl) for m, lbl in SIGN_METHOD_LABELS.items()),
                        default="basah", validators=[InputRequired()])
    evidence = FileField(_l("PDF bertanda tangan elektronik (hanya untuk tanda tangan "
                            "elektronik)"), render_kw=PDF_ACCEPT)
    paper = SelectField(_l("Kertas dokumen final"),
                        description=_l("Dipakai ketika tanda tangan terakhir dicatat."),
                        choices=options((p.value, p.label) for p in Paper), default="f4",
                        validators=[Optional()])


class ScanForm(FlaskForm):
    scan = FileField(_l("Pindaian naskah bertanda tangan (PDF, PNG atau JPEG)"),
                     render_kw=SCAN_ACCEPT)


class RenderForm(FlaskForm):
    """Only the CSRF token: retry rendering the final PDF."""


class VerifyCodeForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search box, changes nothing

    kode = StringField(_l("Kode verifikasi"), validators=[InputRequired(), Length(max=40)])


class VerifyUploadForm(FlaskForm):
    document = FileField(_l("Berkas PDF yang ingin dicocokkan"), render_kw=PDF_ACCEPT)
