"""Forms of the publication pages: parse and validate input, nothing else (the rules are in
coopdesa.publication.operations)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from coopdesa.publication.models import MAX_LEGAL_BASIS, MAX_REASON


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search box on a public page: no session, nothing changes

    q = StringField(_l("Nama atau kode desa"),
                    description=_l("Mis. \u201cDieng\u201d atau \u201c33.07.13.2013\u201d."),
                    validators=[Length(max=100)])


class WithholdForm(FlaskForm):
    legal_basis = StringField(
        _l("Dasar hukum pengecualian"),
        description=_l("Ditampilkan kepada publik, mis. \u201cUU 14/2008 Pasal 17 huruf "
                       "b\u201d."),
        validators=[Length(max=MAX_LEGAL_BASIS)])
    reason = TextAreaField(
        _l("Alasan"),
        description=_l("Catatan internal: tidak ditampilkan kepada publik, tercatat dalam "
                       "jejak audit."),
        validators=[Length(max=MAX_REASON)], render_kw={"rows": 3})


class LiftForm(FlaskForm):
    lift_reason = TextAreaField(_l("Alasan pencabutan"),
                                validators=[Length(max=MAX_REASON)], render_kw={"rows": 2})
