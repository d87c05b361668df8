"""Hypothesis fuzzing of every HTML form: each POST route of the pages (from the URL map)
gets hostile values - long strings, unicode, control characters, HTML and script, numbers
at and past their limits, odd dates, missing fields, repeated fields, files - in the
fields of the WTForms classes its view builds, plus the inputs its page shows.

Whatever comes in, the answer is never a 5xx, and a submission that is not accepted is
refused clearly: a 4xx, or the page again (200) with the errors shown. Bounded and
derandomized: a few examples per form, the same ones on every run."""

from __future__ import annotations

import contextvars
import html
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, FileField, MultipleFileField, SelectFieldBase

from coopdesa.accounts.models import Role
from coopdesa.accounts.operations import create_token
from coopdesa.deliberations import operations as dops
from coopdesa.disputes import operations as dispute_ops
from coopdesa.extensions import db
from coopdesa.lifecycle import operations as life
from coopdesa.proposals import operations as ops
from coopdesa.proposals.states import State
from coopdesa.reports import operations as reports
from coopdesa.sustainability.models import Criterion
from tests import proposal_helpers as H
from tests.conftest import DIENG, AuthActions
from tests.factories import ActorFactory, AdminFactory, UserFactory
from tests.test_deliberations import past

#: Examples per form; COOPDESA_FUZZ_EXAMPLES=100 for a deeper run by hand.
EXAMPLES = int(os.environ.get("COOPDESA_FUZZ_EXAMPLES", "6"))

#: POST routes of the pages that take no form (none today); each needs a reason.
NOT_FORMS: dict[str, str] = {}

#: POST routes without fields to find (fuzzed all the same): buttons with no input but the
#: CSRF token, and forms the world cannot reach, whose answer comes before the form. Each
#: with the reason.
BLIND = {
    "audit.verify": "a button: no input but the CSRF token",
    "sustainability.criterion_toggle": "a button: no input but the CSRF token",
    "documents.upload_scan": "needs a final document, i.e. every party's signature and "
                             "PDF renders (seconds); tests/test_documents_* cover it",
    "documents.rerender": "needs a final document (see above)",
    "verify.show": "needs a final document's code (see above); unknown codes give 404",
    "jobs.start_export": "refused (403) to a village secretary; an admin would start real "
                         "background exports",
    "jobs.start": "refused (403) to a village secretary, as above",
}

#: Routes that answer 200 when they accept (they show a result instead of redirecting).
SHOW_RESULT = {"verify.show", "accounts.create_token", "audit.verify"}

# Signs, in a re-shown page, that the submission was refused and why.
ERROR_MARKS = ("is-invalid", "invalid-feedback", "alert-danger", "alert-warning")


#: A fresh ``g`` per request, as in production (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("fresh_request_globals")


# --- hostile values ------------------------------------------------------------------------

HOSTILE = [
    "", " ", "\t\n", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)", "{{ 7*7 }}", "{% raw %}", "' OR '1'='1' --", "; DROP TABLE user;",
    "../../../etc/passwd", "%00", "\u202egnp.exe", "\ufeff", "\u200b", "𝕏𝕐ℤ 😀", "ü" * 300,
    "=HYPERLINK(\"http://x\")", "0", "-1", "2147483647", "2147483648", "9" * 40, "1e309",
    "NaN", "inf", "-0", "1.5", "1,5", "٣", "Rp 1.000.000", "-25.000.000",
    "2026-02-30", "0000-00-00", "9999-12-31", "31/12/2026", "2026-13-01T25:61",
    "33.07.13.2013", "33.07.13.1008", "99.99.99.9999", "a" * 5000, "x\r\ny",
]
text_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=80),  # any unicode, control characters included (NUL is refused)
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), max_size=10),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(min_size=2000, max_size=20000, alphabet="abc <>&\"'\n"),
)
# A field is missing, sent once, or sent several times (a list where one value is expected).
field_values = st.one_of(st.none(), text_values, st.lists(text_values, min_size=2, max_size=3))
file_values = st.one_of(
    st.none(),
    st.sampled_from([b"", b"%PDF-1.7\n%%EOF", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0",
                     b"<html><script>alert(1)</script>", b"MZ\x90\x00"]),
    st.binary(max_size=2000),
)
file_names = st.sampled_from(["scan.pdf", "../../etc/passwd", "a.png", "x.exe", "", "ü.jpg",
                              "a" * 300 + ".pdf"])


# --- which fields each form has ------------------------------------------------------------

class Field:
    """What the fuzzer knows of one input: whether it takes a file, and values it would
    accept (select choices, a hidden input's value) to mix with the hostile ones."""

    def __init__(self, is_file: bool = False, known: set[str] | None = None):
        self.is_file = is_file
        self.known = known or set()


@contextmanager
def recording_forms() -> Iterator[tuple[dict[str, Field], set[str]]]:
    """Record the fields of every FlaskForm a view builds, and the forms' class names."""
    seen: dict[str, Field] = {}
    classes: set[str] = set()
    original = FlaskForm.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        classes.add(type(self).__name__)
        for field in self:
            entry = seen.setdefault(field.name, Field())
            if isinstance(field, FileField | MultipleFileField):
                entry.is_file = True
            elif isinstance(field, BooleanField):
                entry.known |= {"y", "on"}
            elif isinstance(field, SelectFieldBase):
                entry.known |= {str(choice[0]) for choice in field.iter_choices()}

    FlaskForm.__init__ = init
    try:
        yield seen, classes
    finally:
        FlaskForm.__init__ = original


INPUT = re.compile(r"<(input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"[^>]*>", re.I)
VALUE = re.compile(r"\bvalue=\"([^\"]*)\"")
OPTION = re.compile(r"<option\b[^>]*\bvalue=\"([^\"]*)\"", re.I)


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.I | re.S)
ACTION = re.compile(r"\baction=\"([^\"]*)\"")


def inputs_of(markup: str) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for match in INPUT.finditer(markup):
        tag = match.group(0)
        entry = fields.setdefault(match.group(2), Field())
        entry.is_file |= 'type="file"' in tag
        value = VALUE.search(tag)
        if value:
            entry.known.add(html.unescape(value.group(1)))
        if match.group(1).lower() == "select":
            options = markup[match.end():markup.find("</select>", match.end())]
            entry.known |= {html.unescape(v) for v in OPTION.findall(options)}
    return fields


def forms_on_pages(app, clients, world) -> dict[str, dict[str, Field]]:
    """action path -> the inputs of the <form>s posting there, over every page the world
    can fill in (the attendance rows live on the meeting's page, the comment box on the
    proposal's, ...): views that read request.form directly are fuzzed with these."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, dict[str, Field]] = {}
    for rule in app.url_map.iter_rules():
        if ("GET" not in rule.methods or rule.rule.startswith(("/api/", "/static"))
                or re.search(r"\.(pdf|zip|csv|png|svg|json|gexf|graphml)$|unduh", rule.rule)):
            continue
        try:
            url = adapter.build(rule.endpoint, url_args(rule.endpoint, set(rule.arguments),
                                                        world))
        except KeyError:
            continue  # an argument the world has no value for
        for client in clients:
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            for form in FORM.finditer(response.get_data(as_text=True)):
                action = ACTION.search(form.group(1))
                path = urlsplit(html.unescape(action.group(1))).path if action else url
                merged = found.setdefault(path, {})
                for name, entry in inputs_of(form.group(2)).items():
                    mine = merged.setdefault(name, Field())
                    mine.is_file |= entry.is_file
                    mine.known |= entry.known
    return found


def form_fields(client, url: str, on_pages: dict[str, dict[str, Field]]
                ) -> tuple[dict[str, Field], set[str]]:
    """The inputs to fuzz at ``url`` and the names of the form classes its view builds."""
    fields = dict(on_pages.get(urlsplit(url).path, {}))
    with recording_forms() as (seen, classes):
        client.post(url, data={})  # the view builds its form(s): record their fields
    for name, entry in seen.items():
        mine = fields.setdefault(name, Field())
        mine.is_file |= entry.is_file
        mine.known |= entry.known
    fields.pop("csrf_token", None)
    return fields, classes


# --- a world in which every form has something to act on -----------------------------------

@pytest.fixture
def world(app):
    draft = H.antar_desa()
    author = draft.author
    # A proposal in review, approved by the BKAD, with a Musyawarah Desa and its agenda.
    reviewed = H.antar_desa(submit=True, like=draft, title="Air bersih bersama")
    ops.transition(reviewed.proposal, reviewed["bkad"], "start_review")
    ops.transition(reviewed.proposal, reviewed["bkad"], "approve")
    db.session.commit()
    meeting = dops.record_meeting(author, {
        "kind": "musyawarah_desa", "held_at": past(), "place": "Balai Desa",
        "chair_name": "Ketua BPD", "secretary_name": "Sekretaris BPD", "desa_code": DIENG,
        "proposal_ids": [reviewed.proposal.id]})
    db.session.commit()
    # An agreement in force, with a dispute and a requested change.
    active = H.antar_desa(submit=True, like=draft, title="Wisata Dieng")
    H.set_state(active.proposal, State.SIGNED)
    reports.set_schedule(active.reload(), author, "quarterly")
    H.set_state(active.reload(), State.ACTIVE)
    dispute = dispute_ops.open_dispute(active.reload(), author, {
        "subject": "Pembagian hasil", "clauses": "Pasal 6",
        "description": "Bagian hasil tidak sesuai.",
        "party_ids": [p.id for p in active.reload().parties]})
    db.session.commit()
    change = life.request_change(active.reload(), author, {"kind": "penundaan",
                                                           "reason": "Alasan uji."})
    db.session.commit()
    comment = ops.add_comment(draft.reload(), author, "Komentar uji")
    db.session.commit()
    token, _secret = create_token(author, "uji")
    admin = AdminFactory()
    victim = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    actor = ActorFactory()
    db.session.commit()
    criterion = db.session.scalar(db.select(Criterion).limit(1))
    return {
        "admin": admin, "author": author, "draft": draft.reload(), "reviewed": reviewed,
        "active": active.reload(), "meeting": meeting, "dispute": dispute, "change": change,
        "comment": comment, "token": token, "victim": victim, "actor": actor,
        "criterion": criterion, "bkad": draft.bkad,
    }


def url_args(endpoint: str, arguments: set[str], w: dict[str, Any]) -> dict[str, Any]:
    blueprint = endpoint.split(".")[0]
    proposal = {"proposals": w["draft"], "sustainability": w["draft"]}.get(
        blueprint, w["active"])
    values = {
        "proposal_id": proposal.id,
        "party_id": proposal.parties[-1].id,
        "comment_id": w["comment"].id,
        "name": "submit",
        "token_id": w["token"].id,
        "user_id": w["victim"].id,
        "bkad_id": w["bkad"].id,
        "actor_id": w["actor"].id,
        "meeting_id": w["meeting"].id,
        "item_id": w["meeting"].agenda[0].id,
        "dispute_id": w["dispute"].id,
        "change_id": w["change"].id,
        "criterion_id": w["criterion"].id,
        "code": "KSD-UJI-0001",
    }
    query = ({"usulan": w["reviewed"].proposal.id} if endpoint == "deliberations.create"
             else {})
    return {**{name: values[name] for name in arguments}, **query}  # KeyError: no value


ADMIN_PREFIXES = ("/admin/", "/keberlanjutan/kriteria", "/musyawarah/kuorum", "/audit/",
                  "/pihak/", "/publikasi/")


#: Posted after the others: submitting the draft ends its editing forms; logging out ends
#: the session every other form needs.
LAST = ("proposals.transition", "accounts.logout")


def post_routes(app) -> list:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "POST" in rule.methods and not rule.rule.startswith("/api/")),
                  key=lambda rule: (rule.endpoint in LAST, LAST.index(rule.endpoint)
                                    if rule.endpoint in LAST else 0, rule.rule))


def signed_in(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.username).status_code == 302
    return client


def to_form(values: dict[str, Any], fields: dict[str, Field]) -> MultiDict:
    data = MultiDict()
    for name, value in values.items():
        if value is None:
            continue
        if name in fields and fields[name].is_file:
            content, filename = value
            data.add(name, (io.BytesIO(content), filename))
        elif isinstance(value, list):
            for item in value:
                data.add(name, item)
        else:
            data.add(name, value)
    return data


def value_strategy(field: Field):
    if field.is_file:
        return st.one_of(st.none(), st.tuples(file_values, file_names))
    if field.known:  # an accepted value half of the time, so the checks behind it run too
        return st.one_of(st.sampled_from(sorted(field.known)), field_values)
    return field_values


def fuzz(app, client, endpoint: str, url: str, fields: dict[str, Field]) -> list[str]:
    """Post generated values to ``url``; the problems found (empty: none)."""
    strategies = {name: value_strategy(field) for name, field in fields.items()}
    # One extra field the form does not know.
    strategies["field_the_form_does_not_have"] = st.one_of(st.none(), text_values)
    problems: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(values=st.fixed_dictionaries({}, optional=strategies))
    def run(values):
        data = to_form(values, fields)
        try:
            response = contextvars.Context().run(
                client.post, url, data=data, content_type="multipart/form-data")
        finally:
            db.session.rollback()
        status = response.status_code
        if status >= 500:
            problems.append(f"{endpoint} {url}: {status} for {dict(data.lists())!r:.600}")
        elif status == 200 and endpoint not in SHOW_RESULT and response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            if not any(mark in page for mark in ERROR_MARKS):
                problems.append(f"{endpoint} {url}: 200 without a shown error for "
                                f"{dict(data.lists())!r:.600}")

    run()
    return problems


def test_every_post_route_of_the_pages_is_a_form_or_says_why(app):
    routes = post_routes(app)
    assert len(routes) > 40
    assert set(NOT_FORMS) <= {rule.endpoint for rule in routes}


def test_fuzz_every_form(app, world):
    admin = signed_in(app, world["admin"])
    author = signed_in(app, world["author"])
    anonymous = app.test_client()
    on_pages = forms_on_pages(app, [author, admin], world)
    problems: list[str] = []
    covered = []
    for rule in post_routes(app):
        if rule.endpoint in NOT_FORMS:
            continue
        url = app.url_map.bind("localhost").build(
            rule.endpoint, url_args(rule.endpoint, set(rule.arguments), world))
        if rule.endpoint in ("accounts.login", "verify.show"):
            client = anonymous
        elif rule.rule.startswith(ADMIN_PREFIXES):
            client = admin
        else:
            client = author
        fields, classes = form_fields(client, url, on_pages)
        problems += fuzz(app, client, rule.endpoint, url, fields)
        covered.append((rule.endpoint, fields, classes))
    assert problems == [], "\n".join(problems)
    # Every view built a WTForms form (a confirmation form may have no field but its CSRF
    # token) or showed inputs: none was fuzzed blind.
    blind = [endpoint for endpoint, fields, classes in covered
             if not (fields or classes) and endpoint not in BLIND]
    assert blind == [], blind
    assert len(covered) == len(post_routes(app)) - len(NOT_FORMS)
