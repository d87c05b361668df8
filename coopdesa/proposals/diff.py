"""Comparing two frozen versions section by section, with the changed words marked."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from coopdesa.proposals.sections import SECTION_BY_KEY

_TOKEN = re.compile(r"\s+|[^\s]+")
#: The order sections are shown in, with the parties after the title.
ORDER = ("title", "parties", "menimbang", "mengingat", "tujuan", "ruang_lingkup", "bidang",
         "tata_cara", "jangka_waktu", "hak_kewajiban", "pendanaan", "perubahan",
         "perselisihan", "analisis_biaya_manfaat", "kerangka_acuan_kerja")


@dataclass
class SectionDiff:
    key: str
    label: str
    changed: bool
    html: Markup
    old: str
    new: str


def diff_words(old: str, new: str) -> Markup:
    """``new`` with inserted words in <ins> and removed words in <del>; all text escaped."""
    a = _TOKEN.findall(old or "")
    b = _TOKEN.findall(new or "")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(a[a1:a2]))))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(''.join(a[a1:a2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(''.join(b[b1:b2]))}</ins>")
    return Markup("".join(out))  # noqa: S704 - every piece above is escaped


def diff_snapshots(old: dict[str, str], new: dict[str, str]) -> list[SectionDiff]:
    keys = [k for k in ORDER if k in old or k in new]
    keys += sorted((set(old) | set(new)) - set(keys))
    result = []
    for key in keys:
        a, b = old.get(key, ""), new.get(key, "")
        label = str(SECTION_BY_KEY[key].label) if key in SECTION_BY_KEY else (
            "Para pihak" if key == "parties" else key)
        result.append(SectionDiff(key=key, label=label, changed=a != b,
                                  html=diff_words(a, b), old=a, new=b))
    return result
