"""From payloads and records to HTML (Jinja, templates/pdf/) to PDF (render.py).

Templates are ``.html`` so Jinja autoescapes every value: user text is shown, never
interpreted. The filters below write dates and amounts the way Indonesian legal documents
do, in Indonesian whatever the interface language.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from lokal import terbilang as _terbilang

from coopdesa.documents import render as R
from coopdesa.i18n import BULAN, HARI, format_rupiah

ROMAN = (("M", 1000), ("CM", 900), ("D", 500), ("CD", 400), ("C", 100), ("XC", 90),
         ("L", 50), ("XL", 40), ("X", 10), ("IX", 9), ("V", 5), ("IV", 4), ("I", 1))
#: Ordinal names of the parties in a perjanjian: PIHAK KESATU, PIHAK KEDUA, ...
PIHAK_ORDINALS = ("KESATU", "KEDUA", "KETIGA", "KEEMPAT", "KELIMA", "KEENAM", "KETUJUH",
                  "KEDELAPAN", "KESEMBILAN", "KESEPULUH")


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def terbilang(value: int | None) -> str:
    """1001000 -> "satu juta seribu" (lokal-id)."""
    return "" if value is None else _terbilang(int(value))


def rupiah_huruf(value: int | None) -> str:
    """10000000 -> "sepuluh juta rupiah"."""
    return "" if value is None else f"{_terbilang(int(value))} rupiah"


def tanggal_id(value: Any) -> str:
    """"22 November 2026", always in Indonesian."""
    day = _date(value)
    return f"{day.day} {BULAN[day.month - 1]} {day.year}" if day else ""


def tanggal_huruf(value: Any) -> str:
    """"dua puluh dua November dua ribu dua puluh enam"."""
    day = _date(value)
    return f"{_terbilang(day.day)} {BULAN[day.month - 1]} {_terbilang(day.year)}" if day else ""


def hari(value: Any) -> str:
    day = _date(value)
    return HARI[day.weekday()] if day else ""


def bulan(value: Any) -> str:
    day = _date(value)
    return BULAN[day.month - 1] if day else ""


def huruf(index: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "aa" (Menimbang items)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def romawi(number: int) -> str:
    out = ""
    for symbol, value in ROMAN:
        while number >= value:
            out += symbol
            number -= value
    return out


def pihak(index: int) -> str:
    """0 -> "KESATU" (the perjanjian's PIHAK KESATU)."""
    if index < len(PIHAK_ORDINALS):
        return PIHAK_ORDINALS[index]
    return f"KE-{index + 1}"


FILTERS = {
    "terbilang": terbilang,
    "rupiah_huruf": rupiah_huruf,
    "rupiah_id": format_rupiah,
    "tanggal_id": tanggal_id,
    "tanggal_huruf": tanggal_huruf,
    "hari": hari,
    "bulan": bulan,
    "huruf": huruf,
    "romawi": romawi,
    "pihak": pihak,
}


def init_app(app) -> None:
    app.jinja_env.filters.update(FILTERS)


def static_root() -> str:
    return str(current_app.static_folder)


def html(template: str, **context: Any) -> str:
    """Render a templates/pdf/ template in Indonesian."""
    with force_locale("id"):
        return render_template(f"pdf/{template}", **context)


def job(template: str, *, paper: str = "f4", final: bool = False,
        attachments: list[tuple[str, bytes, str]] | None = None,
        **context: Any) -> R.RenderJob:
    return R.RenderJob(html=html(template, **context), static_root=static_root(), paper=paper,
                       variant=R.FINAL_VARIANT if final else None,
                       attachments=attachments or [])


def payload_attachment(payload: dict[str, Any]) -> tuple[str, bytes, str]:
    data = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True).encode()
    return ("agreement.json", data,
            "Data terstruktur perjanjian kerja sama (coopdesa.agreement/1)")
