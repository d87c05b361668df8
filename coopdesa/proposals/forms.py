"""Forms for proposals: they parse input; proposals.operations decides what is allowed.

Validators here are deliberately light: lengths, dates, amounts and the legal rules are
checked by the operations, which speak for the HTML pages and the JSON API alike.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget, Select

from coopdesa.proposals.models import (
    BIDANG_LABELS,
    END_GROUND_LABELS,
    FUNDING_LABELS,
    INITIATIVE_LABELS,
    KIND_LABELS,
    PARTY_ROLE_LABELS,
)
from coopdesa.proposals.sections import SECTION_BY_KEY

#: Text sections edited as a textarea, in the order of the form.
TEXTAREA_SECTIONS = ("menimbang", "mengingat", "tujuan", "ruang_lingkup", "tata_cara",
                     "perubahan", "perselisihan", "analisis_biaya_manfaat",
                     "kerangka_acuan_kerja")


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(str(value), label) for value, label in pairs]


_NOTHING, _OPEN, _END = Markup(""), Markup('<option value="'), Markup("</option>")
_SELECTED, _CLOSE_TAG = Markup('" selected>'), Markup('">')


class LongSelect(Select):
    """A select for long lists (every third party of the register: hundreds in a province).
    WTForms builds each option through ``html_params``; a plain option (no extra
    attributes) is written directly here, with the same escaping and the same HTML. On the
    edit page with 400 parties this halves the page's CPU time (docs/performance.md)."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        label = choice.label if choice.label is not None else choice.value
        # Markup.join escapes the value and the label, and only them.
        return _NOTHING.join((_OPEN, choice.value, _SELECTED if choice.selected else _CLOSE_TAG,
                              label, _END))


def lines(text: str | None) -> list[str]:
    """One item per non-empty line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _section(key: str, field_cls=TextAreaField, **kw):
    section = SECTION_BY_KEY[key]
    return field_cls(section.label, description=section.help or "", **kw)


# --- create --------------------------------------------------------------------------------

class ProposalCreateForm(FlaskForm):
    kind = RadioField(_l("Jenis kerja sama"), validate_choice=False,
                      choices=options((k.value, v) for k, v in KIND_LABELS.items()))
    initiative = RadioField(_l("Prakarsa"), validate_choice=False, default="desa",
                            choices=options((k.value, v) for k, v in INITIATIVE_LABELS.items()))
    title = StringField(_l("Judul sementara"),
                        description=_l("Boleh diubah nanti, misalnya \u201cPengelolaan "
                                       "bersama air bersih Dieng\u201d."))
    own_desa_code = StringField(_l("Desa penyusun"),
                                description=_l("Kode desa yang menyusun usulan ini."),
                                render_kw={"data-region-search": "party"})
    partner_desa_codes = TextAreaField(
        _l("Desa mitra"),
        description=_l("Kode desa, satu per baris, misalnya 33.07.13.2003. Kelurahan tidak "
                       "dapat menjadi pihak."),
        render_kw={"rows": 3, "data-region-search": "multi", "spellcheck": "false"})
    third_party_actor_ids = SelectMultipleField(
        _l("Pihak ketiga"), coerce=int, validate_choice=False, widget=LongSelect(multiple=True),
        description=_l("Hanya untuk kerja sama dengan pihak ketiga. Tahan Ctrl (atau Cmd) "
                       "untuk memilih lebih dari satu; pihak baru didaftarkan di menu "
                       "Pihak."))

    def partner_codes(self) -> list[str]:
        return lines(self.partner_desa_codes.data)


# --- edit ----------------------------------------------------------------------------------

class ProposalEditForm(FlaskForm):
    version = HiddenField()
    title = _section("title", StringField)
    menimbang = _section("menimbang", render_kw={"rows": 4})
    mengingat = _section("mengingat", render_kw={"rows": 5})
    tujuan = _section("tujuan", render_kw={"rows": 3})
    ruang_lingkup = _section("ruang_lingkup", render_kw={"rows": 4})
    bidang = MultiCheckboxField(SECTION_BY_KEY["bidang"].label, validate_choice=False,
                                choices=options((b.value, v) for b, v in BIDANG_LABELS.items()))
    bidang_uraian = TextAreaField(_l("Uraian bidang kerja sama"), render_kw={"rows": 2})
    tata_cara = _section("tata_cara", render_kw={"rows": 5})
    start_date = StringField(_l("Tanggal mulai"), render_kw={"type": "date"})
    end_date = StringField(_l("Tanggal berakhir"), render_kw={"type": "date"})
    perubahan = _section("perubahan", render_kw={"rows": 4})
    perselisihan = _section("perselisihan", render_kw={"rows": 5})
    analisis_biaya_manfaat = _section("analisis_biaya_manfaat", render_kw={"rows": 5})
    kerangka_acuan_kerja = _section("kerangka_acuan_kerja", render_kw={"rows": 5})

    def section_data(self, keys: list[str]) -> dict:
        """The values operations.update_sections takes, for the sections shown."""
        data: dict = {}
        for key in ("title", *TEXTAREA_SECTIONS):
            if key in keys:
                data[key] = self[key].data or ""
        if "bidang" in keys:
            data["bidang"] = list(self.bidang.data or [])
            data["bidang_uraian"] = self.bidang_uraian.data or ""
        if "jangka_waktu" in keys:
            data["start_date"] = (self.start_date.data or "").strip()
            data["end_date"] = (self.end_date.data or "").strip()
        return data


def funding_source_choices() -> list[SelectChoice]:
    return options([("", _l("\u2014 sumber dana \u2014"))]
                   + [(k.value, v) for k, v in FUNDING_LABELS.items()])


class FundingRowForm(Form):
    source = SelectField(_l("Sumber dana"), choices=funding_source_choices,
                         validate_choice=False)
    amount = StringField(_l("Jumlah (Rp)"), render_kw={"inputmode": "numeric"})
    apbdes_year = StringField(_l("Tahun APB Desa"),
                              render_kw={"inputmode": "numeric", "maxlength": 4})
    description = StringField(_l("Keterangan"), render_kw={"maxlength": 300})

    def is_blank(self) -> bool:
        return not any((getattr(self, n).data or "").strip()
                       for n in ("source", "amount", "apbdes_year", "description"))

    def values(self) -> dict:
        return {n: (getattr(self, n).data or "").strip()
                for n in ("source", "amount", "apbdes_year", "description")}


class PartyEditForm(Form):
    """One party's sub-form inside the edit page; prefixed ``party-<id>-``."""

    role = SelectField(_l("Peran"), validate_choice=False,
                       choices=options((k.value, v) for k, v in PARTY_ROLE_LABELS.items()))
    signatory_name = StringField(_l("Nama penandatangan"), render_kw={"maxlength": 120})
    signatory_office = StringField(_l("Jabatan penandatangan"), render_kw={"maxlength": 120})
    delegates = TextAreaField(_l("Delegasi / utusan"),
                              description=_l("Satu nama per baris."), render_kw={"rows": 2})
    hak = TextAreaField(_l("Hak"), render_kw={"rows": 3})
    kewajiban = TextAreaField(_l("Kewajiban"), render_kw={"rows": 3})
    funding = FieldList(FormField(FundingRowForm), min_entries=0)

    def values(self) -> dict:
        return {n: getattr(self, n).data or "" for n in (
            "role", "signatory_name", "signatory_office", "delegates", "hak", "kewajiban")}


class AddPartyForm(FlaskForm):
    desa_code = StringField(_l("Kode desa"), render_kw={"data-region-search": "party",
                                                        "spellcheck": "false"},
                            description=_l("Desa atau desa adat, misalnya 33.07.13.2003."))
    actor_id = SelectField(_l("atau pihak ketiga"), coerce=str, validate_choice=False,
                           widget=LongSelect())
    role = SelectField(_l("Peran"), validate_choice=False, default="mitra",
                       choices=options((k.value, v) for k, v in PARTY_ROLE_LABELS.items()))


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token (remove a party, strike a comment, mark read)."""


# --- lifecycle and review ------------------------------------------------------------------

def end_ground_choices() -> list[SelectChoice]:
    return options([("", _l("\u2014 pilih dasar (PP 43/2014 Pasal 147) \u2014"))]
                   + [(k.value, v) for k, v in END_GROUND_LABELS.items()])


class TransitionForm(FlaskForm):
    """Every transition's input; each button's form uses the transition name as prefix."""

    expected_state = HiddenField()
    points = TextAreaField(_l("Poin"), render_kw={"rows": 4})
    text = TextAreaField(_l("Catatan"), render_kw={"rows": 3})
    ground = SelectField(_l("Dasar berakhirnya kerja sama"), choices=end_ground_choices,
                         validate_choice=False)
    ended_on = StringField(_l("Tanggal berakhir"), render_kw={"type": "date"})


# --- comments ------------------------------------------------------------------------------

class CommentForm(FlaskForm):
    section = SelectField(_l("Tentang bagian"), validate_choice=False, coerce=str)
    parent_id = HiddenField()
    body = TextAreaField(_l("Komentar"), render_kw={"rows": 3})


class CommentEditForm(FlaskForm):
    body = TextAreaField(_l("Komentar"), render_kw={"rows": 3})
