"""The English catalogue: complete, in step with the source strings, and switched on by
/bahasa/<lang>.

The interface is written in Indonesian (the msgids); English comes from
coopdesa/translations/en/LC_MESSAGES/messages.po. After changing a user-facing string, run
``make extract-messages``, translate the new entries in messages.po, and run these tests.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "coopdesa" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")

#: The keywords of ``make extract-messages``: _l and lazy_gettext on top of babel's own
#: (_, gettext, ngettext, ...); templates via the Jinja2 extractor in babel.cfg.
EXTRACT_KEYWORDS = ("_l", "lazy_gettext")

#: A Python %-format placeholder: %(name)s, %(n)d, %s, %5.2f, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[a-zA-Z%]")


def _read_catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="en" if path.suffix == ".po" else None)


@pytest.fixture(autouse=True, scope="session")
def _compiled_catalogue():
    """Tests read English from the .mo. ``make install`` compiles it; running pytest
    directly after editing the .po must see the new strings too."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        catalog = _read_catalog(PO)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)  # fuzzy entries left out, as ``pybabel compile`` does
        partial = MO.with_name(f"{MO.name}.{os.getpid()}.tmp")
        partial.write_bytes(buffer.getvalue())
        partial.replace(MO)  # atomic: a parallel run never reads half a file


@pytest.fixture
def english(app):
    """Drop translations Flask-Babel may have cached before the .mo was (re)compiled."""
    app.extensions["babel"].instance.domain_instance.cache.clear()


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _forms(value) -> tuple[str, ...]:
    """msgid/msgstr as a tuple: plural entries already are one."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _show(msgid) -> str:
    return " / ".join(_forms(msgid))


def _top_folder(path: str) -> str:
    location = Path(path)
    if location.is_absolute():
        location = location.relative_to(ROOT)
    return location.parts[0]


def _extract(tmp_path: Path) -> Path:
    """Run ``pybabel extract`` exactly as ``make extract-messages`` does, into tmp_path."""
    out = tmp_path / "fresh.pot"
    argv = ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(out)]
    for keyword in EXTRACT_KEYWORDS:
        argv += ["-k", keyword]
    CommandLineInterface().run([*argv, str(ROOT)])
    return out


# --- the catalogue ---------------------------------------------------------------------


def test_catalogue_is_complete_and_not_fuzzy():
    catalog = _read_catalog(PO)
    assert not catalog.fuzzy, "the .po header is marked fuzzy: pybabel compile would skip it"
    messages = [m for m in catalog if m.id]
    assert messages, "the English catalogue is empty"
    untranslated = [_show(m.id) for m in messages if not all(s.strip() for s in _forms(m.string))]
    fuzzy = [_show(m.id) for m in messages if m.fuzzy]
    assert not (untranslated or fuzzy), (
        "untranslated:\n" + "\n".join(untranslated)
        + "\nfuzzy (review, then remove the flag):\n" + "\n".join(fuzzy))


def test_translations_keep_the_placeholders():
    bad = []
    for message in _read_catalog(PO):
        if not message.id:
            continue
        expected = set().union(*(_placeholders(i) for i in _forms(message.id)))
        for string in _forms(message.string):
            if _placeholders(string) != expected:
                bad.append(f"{_show(message.id)!r} -> {string!r}: expected {sorted(expected)}, "
                           f"found {sorted(_placeholders(string))}")
    assert not bad, "placeholders differ:\n" + "\n".join(bad)


def test_babel_checks_pass():
    """Babel's own checkers (python-format compatibility, plural forms)."""
    catalog = _read_catalog(PO)
    problems = [f"{_show(m.id)!r}: {'; '.join(map(str, errors))}"
                for m, errors in catalog.check()]
    assert not problems, "\n".join(problems)


def test_catalogue_compiles_and_translates(tmp_path):
    catalog = _read_catalog(PO)
    target = tmp_path / "en" / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True)
    with target.open("wb") as f:
        write_mo(f, catalog)
    compiled = Translations.load(str(tmp_path), ["en"], "messages")
    assert compiled.gettext("Masuk") == "Sign in"
    assert compiled.ngettext("%(num)d pihak", "%(num)d pihak", 1) % {"num": 1} == "1 party"
    assert compiled.ngettext("%(num)d pihak", "%(num)d pihak", 3) % {"num": 3} == "3 parties"
    # the .mo the app loads is the same catalogue
    installed = Translations.load(str(TRANSLATIONS), ["en"], "messages")
    assert installed.gettext("Masuk") == "Sign in"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The strings in the code now, as ``make extract-messages`` would find them."""
    return _read_catalog(_extract(tmp_path_factory.mktemp("extract")))


def test_every_source_string_has_a_translation(extracted):
    """A string added in coopdesa/**.py or templates/**.html without a translation fails
    here, by name: run ``make extract-messages`` and translate it."""
    fresh = {m.id for m in extracted if m.id}
    assert fresh, "extraction found no strings: is babel.cfg right?"
    translated = {m.id for m in _read_catalog(PO) if m.id}
    missing = sorted(_show(i) for i in fresh - translated)
    assert not missing, ("strings in the code with no entry in messages.po "
                         "(run make extract-messages, then translate):\n" + "\n".join(missing))


def test_catalogue_has_no_leftover_entries(extracted):
    """Strings removed from the code should leave the catalogue (pybabel update marks
    them obsolete)."""
    fresh = {m.id for m in extracted if m.id}
    translated = {m.id for m in _read_catalog(PO) if m.id}
    leftover = sorted(_show(i) for i in translated - fresh)
    assert not leftover, ("entries no longer in the code (run make extract-messages):\n"
                          + "\n".join(leftover))


def test_template_and_catalogue_agree():
    template = {m.id for m in _read_catalog(POT) if m.id}
    translated = {m.id for m in _read_catalog(PO) if m.id}
    missing = sorted(_show(i) for i in template - translated)
    assert not missing, "in messages.pot but not in messages.po:\n" + "\n".join(missing)


def test_extraction_covers_python_templates_plurals_and_placeholders(extracted):
    catalog = extracted
    sources = {_top_folder(path) for m in catalog if m.id for path, _line in m.locations}
    assert {"coopdesa", "templates"} <= sources
    assert ("%(num)d pihak", "%(num)d pihak") in {m.id for m in catalog if m.pluralizable}
    assert "python-format" in catalog["Nama pengguna %(name)s sudah dipakai."].flags
    assert catalog["Silakan masuk untuk membuka halaman ini."] is not None  # lazy _l


# --- switching language --------------------------------------------------------------


def _get(client, path: str, **query):
    # Each request gets its own app context (conftest's IsolatedClient), so the locale that
    # Flask-Babel caches on ``g`` is chosen afresh, as in production.
    return client.get(path, query_string=query)


def _page(client, path: str) -> str:
    response = _get(client, path)
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


def _html_lang(page: str) -> str | None:
    match = re.search(r'<html lang="([^"]*)"', page)
    return match.group(1) if match else None


def test_default_language_is_indonesian(client):
    page = _page(client, "/masuk")
    assert _html_lang(page) == "id"
    assert "Masuk ke coopdesa" in page
    assert "Sign in" not in page


def test_switch_to_english(client, english):
    response = _get(client, "/bahasa/en", next="/masuk")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/masuk"
    page = _page(client, "/masuk")
    assert _html_lang(page) == "en"
    assert "Sign in to coopdesa" in page
    assert ">Sign in</button>" in page
    assert "Masuk ke coopdesa" not in page
    # and back again
    _get(client, "/bahasa/id", next="/masuk")
    page = _page(client, "/masuk")
    assert _html_lang(page) == "id"
    assert "Masuk ke coopdesa" in page


def test_english_for_a_signed_in_user(login, english):
    user = UserFactory()
    client = login(user)
    _get(client, "/bahasa/en")
    home = _page(client, "/")
    assert _html_lang(home) == "en"
    assert f"Welcome, {user.full_name}" in home
    assert "Sign out" in home
    parties = _page(client, "/pihak/")
    assert "0 parties" in parties
    assert "Cooperation parties" in parties


def test_unknown_language_keeps_indonesian(client, english):
    response = _get(client, "/bahasa/xx", next="/masuk")
    assert response.status_code == 302
    page = _page(client, "/masuk")
    assert _html_lang(page) == "id"
    assert "Masuk ke coopdesa" in page
    # nor does an unknown code undo a choice already made
    _get(client, "/bahasa/en")
    _get(client, "/bahasa/xx")
    assert _html_lang(_page(client, "/masuk")) == "en"


@pytest.mark.parametrize("target", [
    "https://evil.example",
    "https://evil.example/masuk",
    "//evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
])
def test_language_switch_refuses_absolute_next(client, target):
    response = _get(client, "/bahasa/en", next=target)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == "/"
    assert "evil.example" not in response.headers["Location"]


def test_language_switch_backslash_next_stays_on_site(client):
    # Browsers read "/\evil.example" as "//evil.example"; the header must not allow that.
    response = _get(client, "/bahasa/en", next="/\\evil.example")
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location


def test_templates_translate_per_request_and_follow_force_locale(app):
    """Templates look translations up once per locale (coopdesa.i18n.request_translations):
    the language chosen by the session, and force_locale inside a request (documents and
    audit texts in Indonesian), are still followed."""
    from flask import render_template_string, session
    from flask_babel import force_locale

    template = "{{ _('Usulan dan kerja sama desa') }}"
    # Each request in its own app context, as in production (the test's own context would
    # keep Flask-Babel's per-context locale from one request to the next).
    with app.app_context(), app.test_request_context("/"):
        session["lang"] = "en"
        english = render_template_string(template)
        with force_locale("id"):
            assert render_template_string(template) == "Usulan dan kerja sama desa"
        assert render_template_string(template) == english != "Usulan dan kerja sama desa"
    with app.app_context(), app.test_request_context("/"):
        assert render_template_string(template) == "Usulan dan kerja sama desa"
