"""Forms of the reports pages: parse input, nothing else (the rules are in
coopdesa.reports.operations, which also names the fields it refuses)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from coopdesa.proposals.forms import options
from coopdesa.proposals.models import FUNDING_LABELS
from coopdesa.reports.models import AIM_STATUS_LABELS, PERIOD_LABELS

TEXT_MAX = 5000
ATTACH_ACCEPT = {"accept": "application/pdf,image/png,image/jpeg", "multiple": True}


class ScheduleForm(FlaskForm):
    period = SelectField(_l("Jadwal pelaporan"),
                         choices=options((p.value, label) for p, label in PERIOD_LABELS.items()),
                         validators=[InputRequired()])


class AimRowForm(Form):
    aim = StringField(_l("Tujuan"), validators=[Optional(), Length(max=500)])
    status = SelectField(_l("Capaian"), validate_choice=False, choices=options(
        [("", _l("— pilih —"))] + [(s.value, label) for s, label in AIM_STATUS_LABELS.items()]))
    note = StringField(_l("Keterangan"), validators=[Optional(), Length(max=500)])


class FundingRowForm(Form):
    source = SelectField(_l("Sumber dana"), validate_choice=False, choices=options(
        [("", _l("— pilih —"))] + [(s.value, label) for s, label in FUNDING_LABELS.items()]))
    apbdes_year = StringField(_l("Tahun APB Desa"), validators=[Optional(), Length(max=4)])
    received = StringField(_l("Diterima (Rp)"), validators=[Optional(), Length(max=30)])
    spent = StringField(_l("Dibelanjakan (Rp)"), validators=[Optional(), Length(max=30)])


class ReportForm(FlaskForm):
    period_start = SelectField(_l("Periode pelaporan"), validate_choice=False,
                               validators=[InputRequired()])
    activities = TextAreaField(_l("Kegiatan yang telah dilaksanakan"),
                               validators=[InputRequired(), Length(max=TEXT_MAX)],
                               render_kw={"rows": 5})
    outputs = TextAreaField(_l("Keluaran (output)"),
                            validators=[InputRequired(), Length(max=TEXT_MAX)],
                            render_kw={"rows": 4})
    outcomes = TextAreaField(_l("Hasil dan manfaat (outcome) terhadap tujuan kerja sama"),
                             validators=[InputRequired(), Length(max=TEXT_MAX)],
                             render_kw={"rows": 4})
    problems = TextAreaField(_l("Permasalahan"), validators=[Optional(), Length(max=TEXT_MAX)],
                             render_kw={"rows": 3})
    next_steps = TextAreaField(_l("Rencana tindak lanjut"),
                               validators=[Optional(), Length(max=TEXT_MAX)],
                               render_kw={"rows": 3})
    signer_name = StringField(_l("Nama penanda tangan laporan"),
                              description=_l("Ketua BKAD atau Kepala Desa yang menandatangani "
                                             "laporan."),
                              validators=[InputRequired(), Length(max=120)])
    aims = FieldList(FormField(AimRowForm), min_entries=0, max_entries=50)
    funding = FieldList(FormField(FundingRowForm), min_entries=0, max_entries=30)
    attachments = MultipleFileField(
        _l("Lampiran (foto, kuitansi): PDF, PNG atau JPEG, paling banyak 10 berkas, "
           "masing-masing paling besar 5 MB"), render_kw=ATTACH_ACCEPT)
