"""The actor form: parses input; actors.operations validates identifiers and regions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from coopdesa.actors.models import KIND_LABELS, ActorKind


def kind_choices() -> list[tuple[str, str]]:
    return [("", _l("— pilih jenis —"))] + [(k.value, KIND_LABELS[k]) for k in ActorKind]


class ActorForm(FlaskForm):
    kind = SelectField(_l("Jenis pihak"), choices=kind_choices,
                       validators=[DataRequired(_l("Pilih jenis pihak."))])
    name = StringField(_l("Nama"), validators=[Optional(), Length(max=200)],
                       description=_l("Untuk desa, nama diambil dari daftar wilayah resmi bila "
                                      "dikosongkan."))
    desa_code = StringField(_l("Desa (bila pihak berupa desa)"), validators=[Optional(),
                                                                        Length(max=20)],
                            render_kw={"data-region-search": "party"})
    region_code = StringField(_l("Wilayah kedudukan"), validators=[Optional(), Length(max=20)],
                              description=_l("Kode atau nama provinsi, kabupaten/kota, "
                                             "kecamatan atau desa."),
                              render_kw={"data-region-search": "any"})
    nib = StringField(_l("NIB (Nomor Induk Berusaha)"), validators=[Optional(), Length(max=20)])
    npwp = StringField(_l("NPWP"), validators=[Optional(), Length(max=30)])
    address = TextAreaField(_l("Alamat"), validators=[Optional(), Length(max=500)],
                            render_kw={"rows": 2})
    contact_name = StringField(_l("Narahubung"), validators=[Optional(), Length(max=120)])
    phone = StringField(_l("Telepon"), validators=[Optional(), Length(max=30)],
                        render_kw={"inputmode": "tel"})
    email = StringField(_l("Surel"), validators=[Optional(), Length(max=254)],
                        render_kw={"inputmode": "email"})
    notes = TextAreaField(_l("Catatan"), validators=[Optional(), Length(max=5000)],
                          render_kw={"rows": 3})
    version = HiddenField()
    submit = SubmitField(_l("Simpan"))

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "kind", "name", "desa_code", "region_code", "nib", "npwp", "address",
            "contact_name", "phone", "email", "notes")}
