"""Forms of the dispute pages: they parse input; coopdesa.disputes.operations decides.

The signatories of a settled step are read by the view from ``sig-<party id>-name`` and
``sig-<party id>-office`` inputs, one pair per disputing party."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coopdesa.disputes.models import LEVEL_LABELS, OUTCOME_LABELS
from coopdesa.proposals.forms import options


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DisputeForm(FlaskForm):
    party_ids = MultiCheckboxField(_l("Pihak yang berselisih"), validate_choice=False,
                                   description=_l("Pilih sedikitnya dua pihak kerja sama."))
    subject = StringField(_l("Pokok perselisihan"), render_kw={"maxlength": 300})
    clauses = TextAreaField(_l("Pasal atau bab yang diperselisihkan"), render_kw={"rows": 2},
                            description=_l("Mis. \u201cPasal 6 (Hak dan Kewajiban) ayat "
                                           "(2)\u201d."))
    description = TextAreaField(_l("Uraian perselisihan"), render_kw={"rows": 4})


class StepForm(FlaskForm):
    expected_version = HiddenField()
    level = RadioField(_l("Tingkat penyelesaian"), validate_choice=False,
                       choices=options((k.value, v) for k, v in LEVEL_LABELS.items()))
    held_on = DateField(_l("Tanggal pelaksanaan"), validators=[Optional()])
    place = StringField(_l("Tempat"), render_kw={"maxlength": 200})
    facilitator_name = StringField(_l("Nama pejabat atau fasilitator"),
                                   render_kw={"maxlength": 120},
                                   description=_l("Wajib untuk Camat dan Bupati/Wali Kota."))
    facilitator_office = StringField(_l("Jabatan pejabat atau fasilitator"),
                                     render_kw={"maxlength": 120},
                                     description=_l("Kosongkan untuk jabatan menurut jalur "
                                                    "penyelesaian di atas."))
    court_name = StringField(_l("Nama pengadilan (hanya untuk pengadilan)"),
                             render_kw={"maxlength": 200})
    case_number = StringField(_l("Nomor perkara (hanya untuk pengadilan)"),
                              render_kw={"maxlength": 80})
    outcome = RadioField(_l("Hasil"), validate_choice=False,
                         choices=options((k.value, v) for k, v in OUTCOME_LABELS.items()))
    summary = TextAreaField(_l("Ringkasan jalannya penyelesaian"), render_kw={"rows": 3})
    terms = TextAreaField(_l("Isi kesepakatan penyelesaian (bila sepakat)"),
                          render_kw={"rows": 4},
                          description=_l("Satu butir per baris; dimuat dalam berita acara."))


class WithdrawForm(FlaskForm):
    expected_version = HiddenField()
    reason = TextAreaField(_l("Alasan pencabutan"), render_kw={"rows": 2})


class ScanForm(FlaskForm):
    scan = FileField(_l("Pindaian berita acara bertanda tangan (PDF, PNG atau JPEG)"),
                     render_kw={"accept": "application/pdf,image/png,image/jpeg"})
