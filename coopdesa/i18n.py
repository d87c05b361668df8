"""Dates, times and Rupiah as Indonesian readers expect them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import format_date, format_datetime
from lokal import format_rupiah as _format_rupiah
from lokal import terbilang

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")


def parse_date(value: object, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) from a form, a query string or JSON. Empty gives None; a
    bad value gives None and an Indonesian message under ``field`` in ``errors``."""
    from flask_babel import gettext as _

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = [_("Tanggal tidak valid; gunakan format TTTT-BB-HH.")]
        return None


def local_today() -> dt.date:
    """Today in the configured time zone (COOPDESA_TIMEZONE, Asia/Jakarta by default), not
    the server's: a term ends on the village's calendar day."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta")
    return dt.datetime.now(zone).date()


def request_translations():
    """``flask_babel.get_translations()``, kept for as long as the locale stays the same
    object (a request; ``force_locale`` sets another). A detail page asks for some 450
    translated strings, and Flask-Babel's lookup (domain, context, locale, cache key)
    costs more than the template around them (docs/performance.md, section Load)."""
    from flask import g
    from flask_babel import get_locale, get_translations

    state = g.get("_flask_babel") if g else None
    if state is None:
        return get_translations()
    locale = getattr(state, "babel_locale", None) or get_locale()
    cached = getattr(state, "coopdesa_translations", None)
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    state.coopdesa_translations = (locale, translations)
    return translations


def install_fast_gettext(app) -> None:
    """Templates' ``_()`` and ``ngettext()`` through :func:`request_translations` (the same
    catalogues and the same newstyle formatting and escaping as Flask-Babel installs)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)


def format_date_id(value: dt.date | dt.datetime | None, style: str = "long") -> str:
    """"22 November 2026" in Indonesian, in the user's language otherwise."""
    if value is None:
        return ""
    return format_date(value, format=style)


def format_datetime_local(value: dt.datetime | None, style: str = "medium") -> str:
    """A UTC datetime shown in the configured time zone (Asia/Jakarta by default)."""
    if value is None:
        return ""
    return format_datetime(value, format=style)


def format_rupiah(value: int | Decimal | None) -> str:
    if value is None:
        return ""
    return _format_rupiah(value)


def tanggal_huruf(day: dt.date) -> str:
    """The date in words, as agreements write it: "dua puluh dua November dua ribu dua
    puluh enam"."""
    return f"{terbilang(day.day)} {BULAN[day.month - 1]} {terbilang(day.year)}"


def nama_hari(day: dt.date) -> str:
    return HARI[day.weekday()]
