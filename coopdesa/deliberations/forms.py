"""Forms for musyawarah records: they parse input; deliberations.operations decides.

The attendance table is parsed by the view from ``attendees-<i>-<field>`` inputs (a table
of rows, each re-shown as typed when the list is refused).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coopdesa.deliberations.models import MEETING_KIND_LABELS, OUTCOME_LABELS
from coopdesa.proposals.forms import options


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    kind = RadioField(_l("Jenis musyawarah"), validate_choice=False,
                      choices=options((k.value, v) for k, v in MEETING_KIND_LABELS.items()))
    held_at = StringField(_l("Tanggal dan jam"), render_kw={"type": "datetime-local"},
                          description=_l("Waktu setempat. Keputusan hanya dapat dicatat "
                                         "setelah musyawarah berlangsung."))
    place = StringField(_l("Tempat"), render_kw={"maxlength": 200})
    desa_code = SelectField(_l("Desa (Musyawarah Desa)"), validate_choice=False)
    villages = MultiCheckboxField(_l("Desa yang bermusyawarah (musyawarah antar-Desa)"),
                                  validate_choice=False)
    organiser = StringField(_l("Penyelenggara"), render_kw={"maxlength": 200},
                            description=_l("Kosongkan untuk \u201cBPD Desa ...\u201d "
                                           "(Musyawarah Desa) atau nama BKAD."))
    chair_name = StringField(_l("Pimpinan musyawarah"), render_kw={"maxlength": 120})
    secretary_name = StringField(_l("Sekretaris musyawarah"), render_kw={"maxlength": 120})
    notes = TextAreaField(_l("Catatan"), render_kw={"rows": 3})
    proposal_ids = MultiCheckboxField(_l("Usulan yang dimusyawarahkan"), validate_choice=False)


class DecisionForm(FlaskForm):
    method = RadioField(_l("Cara pengambilan keputusan"), validate_choice=False,
                        choices=options((("mufakat", _l("Musyawarah mufakat")),
                                         ("vote", _l("Pemungutan suara (suara terbanyak)")))))
    ballot = RadioField(_l("Pemungutan suara"), validate_choice=False,
                        choices=options((("terbuka", _l("Terbuka")),
                                         ("tertutup", _l("Tertutup (rahasia)")))))
    votes_for = IntegerField(_l("Setuju"), validators=[Optional()],
                             render_kw={"min": 0, "inputmode": "numeric"})
    votes_against = IntegerField(_l("Tidak setuju"), validators=[Optional()],
                                 render_kw={"min": 0, "inputmode": "numeric"})
    votes_abstain = IntegerField(_l("Abstain"), validators=[Optional()],
                                 render_kw={"min": 0, "inputmode": "numeric"})
    outcome = RadioField(_l("Hasil"), validate_choice=False,
                         choices=options((k.value, v) for k, v in OUTCOME_LABELS.items()))
    changes = TextAreaField(_l("Perubahan yang disepakati (satu per baris)"),
                            render_kw={"rows": 3})
    notes = TextAreaField(_l("Catatan keputusan"), render_kw={"rows": 2})


class AdjournForm(FlaskForm):
    notes = TextAreaField(_l("Keterangan penundaan"), render_kw={"rows": 2})


class SignatoriesForm(FlaskForm):
    signed_chair = StringField(_l("Pimpinan musyawarah"), render_kw={"maxlength": 120})
    signed_secretary = StringField(_l("Sekretaris"), render_kw={"maxlength": 120})
    signed_kepala_desa = StringField(_l("Kepala Desa"), render_kw={"maxlength": 120})
    signed_participant = StringField(_l("Wakil peserta"), render_kw={"maxlength": 120})


class ScanForm(FlaskForm):
    scan = FileField(_l("Pindaian berita acara bertanda tangan (PDF, PNG atau JPEG)"),
                     render_kw={"accept": "application/pdf,image/png,image/jpeg"})


class AttendanceMarker(FlaskForm):
    """Only the CSRF token; the rows are read from the request by the view."""

    add_rows = HiddenField()


class QuorumRuleForm(FlaskForm):
    """An admin's change of one meeting kind's quorum ratio."""

    numerator = IntegerField(_l("Pembilang"), validators=[
        InputRequired(_l("Wajib diisi.")), NumberRange(1, 100, _l("Antara 1 dan 100."))])
    denominator = IntegerField(_l("Penyebut"), validators=[
        InputRequired(_l("Wajib diisi.")), NumberRange(1, 100, _l("Antara 1 dan 100."))])
    basis = StringField(_l("Dasar aturan"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Simpan aturan"))
