"""Forms of the sustainability pages. The assessment and the stakeholder map have a field
set that depends on data (criteria, rows), so they are parsed from ``request.form`` here
into the plain structures that sustainability.operations validates."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from coopdesa.proposals.forms import options
from coopdesa.sustainability.models import DIMENSION_LABELS, AppliesTo, Dimension
from coopdesa.sustainability.operations import Upload

APPLIES_LABELS = {
    AppliesTo.ALL: _l("Semua usulan"),
    AppliesTo.ANTAR_DESA: _l("Kerja sama antar-Desa"),
    AppliesTo.PIHAK_KETIGA: _l("Kerja sama dengan pihak ketiga"),
    AppliesTo.PIHAK_KETIGA_DESA: _l("Kerja sama dengan pihak ketiga atas prakarsa desa"),
}
#: Blank rows offered under the existing entries of a stakeholder map.
BLANK_ROWS = 3


class CriterionForm(FlaskForm):
    code = StringField(_l("Kode"), validators=[DataRequired(_l("Wajib diisi.")),
                                               Length(max=40)],
                       description=_l("Huruf besar, angka dan tanda hubung, mis. EKO-4."))
    dimension = SelectField(_l("Dimensi"), choices=lambda: options(
        [(d.value, DIMENSION_LABELS[d]) for d in Dimension]))
    label = StringField(_l("Nama kriteria"), validators=[DataRequired(_l("Wajib diisi.")),
                                                         Length(max=200)])
    description = TextAreaField(_l("Uraian"), validators=[DataRequired(_l("Wajib diisi.")),
                                                          Length(max=5000)],
                                render_kw={"rows": 3})
    applies_to = SelectField(_l("Berlaku untuk"), choices=lambda: options(
        [(a.value, APPLIES_LABELS[a]) for a in AppliesTo]))
    position = IntegerField(_l("Urutan"), validators=[Optional(), NumberRange(0, 10_000)])
    is_critical = BooleanField(_l("Kriteria wajib: nilai 0 membuat penilaian tidak memenuhi"))
    is_active = BooleanField(_l("Aktif (ditanyakan pada penilaian baru)"), default=True)

    def values(self) -> dict[str, Any]:
        out = {name: getattr(self, name).data for name in (
            "code", "dimension", "label", "description", "applies_to", "is_critical",
            "is_active")}
        if self.position.data is not None:
            out["position"] = self.position.data
        return out


def parse_assessment(form: MultiDict, files: MultiDict, codes: list[str]) -> dict[str, Any]:
    """{code: {score, evidence, mitigation, attachment?}} from the posted form."""
    answers: dict[str, Any] = {}
    for code in codes:
        answer: dict[str, Any] = {
            "score": form.get(f"score-{code}", ""),
            "evidence": form.get(f"evidence-{code}", ""),
            "mitigation": form.get(f"mitigation-{code}", ""),
        }
        upload: FileStorage | None = files.get(f"attachment-{code}")
        if upload is not None and upload.filename:
            answer["attachment"] = Upload(upload.read(), upload.filename)
        answers[code] = answer
    return answers


def parse_stakeholders(form: MultiDict,
                       questions: int) -> tuple[list[str], list[dict], list[int]]:
    """(answers, entries, row of each entry) from the posted map form; wholly blank rows
    are dropped (the row numbers put refusals back on the row they came from)."""
    answers = [form.get(f"answer-{i}", "") for i in range(questions)]
    entries = []
    row_numbers = []
    try:
        rows = min(int(form.get("rows", "0")), 200)
    except ValueError:
        rows = 0
    for i in range(rows):
        entry = {
            "actor_id": form.get(f"entry-{i}-actor_id") or None,
            "name": form.get(f"entry-{i}-name", ""),
            "group_kind": form.get(f"entry-{i}-group_kind", ""),
            "roles": form.getlist(f"entry-{i}-roles"),
            "notes": form.get(f"entry-{i}-notes", ""),
        }
        if entry["actor_id"] is not None:
            entry["actor_id"] = int(entry["actor_id"]) if entry["actor_id"].isdigit() else -1
        if not any((entry["actor_id"], entry["name"].strip(), entry["group_kind"],
                    entry["roles"], entry["notes"].strip())):
            continue
        entries.append(entry)
        row_numbers.append(i)
    return answers, entries, row_numbers
