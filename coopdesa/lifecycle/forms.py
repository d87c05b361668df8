"""Forms of the lifecycle pages: parse input, nothing else (the rules live in
coopdesa.lifecycle.operations)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from coopdesa.lifecycle.models import CHANGE_KIND_LABELS
from coopdesa.lifecycle.operations import DELIBERATED_GROUNDS
from coopdesa.proposals.forms import options


class ChangeRequestForm(FlaskForm):
    # The operations check choices, with Indonesian messages naming the field.
    kind = SelectField(_l("Jenis permohonan"), validate_choice=False,
                       choices=options((k.value, lbl) for k, lbl in CHANGE_KIND_LABELS.items()))
    reason = TextAreaField(_l("Alasan"), validators=[Length(max=10_000)],
                           description=_l("Jelaskan mengapa, dengan merujuk tata cara "
                                          "perubahan, penundaan dan pembatalan dalam naskah "
                                          "kerja sama."))
    end_ground = SelectField(
        _l("Dasar pembatalan atau pengakhiran (PP 43/2014 Pasal 147)"), validate_choice=False,
        choices=options([("", _l("— pilih —"))] + [(g.value, g.label)
                                                    for g in DELIBERATED_GROUNDS]),
        validators=[Optional()])
    replacement_ref = StringField(_l("Nomor registrasi kerja sama pengganti (huruf e)"),
                                  validators=[Optional(), Length(max=20)],
                                  description=_l("Mis. KSD-2026-00012."))


class DecisionForm(FlaskForm):
    version = HiddenField()
    outcome = RadioField(_l("Keputusan musyawarah"), validate_choice=False,
                         choices=options([("approved", _l("Disepakati para pihak")),
                                          ("rejected", _l("Tidak disepakati"))]))
    held_on = DateField(_l("Tanggal musyawarah"), validators=[Optional()])
    place = StringField(_l("Tempat musyawarah"), validators=[Length(max=200)])
    effective_on = DateField(_l("Berlaku mulai tanggal"), validators=[Optional()],
                             description=_l("Wajib bila disepakati."))
    until = DateField(_l("Penundaan sampai tanggal (boleh kosong)"), validators=[Optional()],
                      description=_l("Kosongkan bila penundaan berlaku sampai ada keputusan "
                                     "pelanjutan."))
    decision_note = TextAreaField(_l("Catatan keputusan"), validators=[Length(max=10_000)],
                                  description=_l("Wajib bila tidak disepakati."))


class WithdrawForm(FlaskForm):
    note = TextAreaField(_l("Alasan penarikan"), validators=[Length(max=10_000)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""
