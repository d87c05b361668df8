"""The fast builder of document trees (coopdesa.documents.htmltree): the same tree as
WeasyPrint's HTML5 parser (tinyhtml5) whenever it builds one, None whenever HTML5 would
repair the markup in a way it does not mirror, and the same PDF bytes either way.

Besides these tests, every document the suite renders is checked against tinyhtml5
(tests/conftest.py, ``_document_trees_checked``)."""

from __future__ import annotations

import pytest
import tinyhtml5
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from coopdesa.documents import htmltree, records, render
from coopdesa.documents import payload as P
from coopdesa.extensions import db
from coopdesa.proposals import operations as ops
from coopdesa.sustainability import operations as sops
from tests import proposal_helpers as H
from tests.conftest import tree_difference
from tests.test_documents_pdf import (  # noqa: F401 - _filters: the PDF filters, autouse
    HOSTILE,
    _filters,
    awaiting_deliberation,
    final_job,
    final_payload,
    musyawarah_desa,
)

HEAD = ('<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n<title>T</title>\n'
        "</head>\n")


def page(body: str, *, head: str = HEAD, tail: str = "</body>\n</html>\n") -> str:
    return f"{head}<body>{body}{tail}"


def same_as_html5(html: str) -> None:
    ours = htmltree.parse(html)
    assert ours is not None, "the builder gave up on markup it should handle"
    theirs = tinyhtml5.parse(html, namespace_html_elements=False)
    assert tree_difference(ours, theirs) is None


@pytest.mark.parametrize("html", [
    page('<div class="hi"><span class="hn">a.&#9;</span>teks</div>\n<p class="c b">x<br>y</p>'),
    # whitespace before, between and after the structural elements
    ' \n<!DOCTYPE html>\n\n<html>\n  <head>\n  <meta charset="utf-8">  </head>  \n'
    '  <body>\n<p>x</p>\n</body>  \n</html>\n\n',
    page("<p>x</p>", tail="</body>"),
    page("<p>x</p>", tail="</body>\n\n"),
    page(""),
    # a table without <tbody>, one with its sections, whitespace inside both
    page('<table class="ttd">\n  <tr><td>a</td>\n<td>b</td></tr>\n  <tr><td>c</td></tr>\n</table>'
         '<p>after</p>'),
    page("<table>\n<thead><tr><th>h</th></tr></thead>\n<tbody>\n<tr><td>1</td></tr>\n</tbody>"
         "\n</table>"),
    page("<table><tr><td><table><tr><td>nested</td></tr></table></td></tr></table>"),
    # references, in text and in attributes
    page('<p title="a &amp; b &quot;c&quot; &#39;d&#39; &#34">&lt;b&gt; &amp; &#9;&#x41;&copy; '
         "&nbsp;&mdash; &copy=1 &notit;</p>"),
    page("<dl><dt>a</dt><dd>b</dd></dl><ul><li>a</li><li>b</li></ul>"),
    # HTML5 turns CR LF and lone CR into LF
    page("<p>satu\r\ndua\rtiga</p>"),
    # upper-case names, duplicated and empty attributes, a void element written "<br/>"
    page('<DIV Class="a" class="b" hidden>x<BR/>y<img src="data:," alt></DIV>'),
    # formatting elements well nested, blocks inside inline elements
    page("<p><strong>a <em>b</em></strong> c</p><span><div>blok</div></span>"),
    # user text as the templates escape it
    page(f"<p>{escape(HOSTILE)}</p><div>{escape('<!-- x --> <svg> ]]> &amp;')}</div>"),
])
def test_plain_markup_gives_the_html5_tree(html):
    same_as_html5(html)


@pytest.mark.parametrize("html", [
    page("<!-- a comment -->"),
    page('<svg viewBox="0 0 1 1"><rect width="1" height="1"/></svg>'),
    page("<pre>\nx</pre>"),
    page("<p>a<div>b</div></p>"),                 # <div> closes the <p>
    page("<p>a<p>b</p></p>"),
    page("<b><i>x</b></i>"),                      # misnested
    page("<p>a</div>"),                           # an end tag that closes nothing open
    page("<div/>x"),                              # "/>" on an element that is not void
    page("x</br>"),
    page("<table>text</table>"),                  # foster parenting
    page("<table><td>x</td></table>"),            # implicit <tbody><tr>
    page("<table><tr><span>x</span></tr></table>"),
    page("<tr><td>x</td></tr>"),                  # a row outside a table
    page("<h2>a<h3>b</h3></h2>"),
    page("<ul><li>a<li>b</ul>"),
    page("<dl><dt>a<dd>b</dd></dt></dl>"),       # <dd> closes the <dt>
    page("<ruby>x<rt>a<rt>b</rt></rt></ruby>"),
    page('<p title="a&copy=1">x</p>'),           # HTML5 keeps "&copy" as written here
    page("<p>x\x00</p>"),
    page("<p>x</p>", tail=""),                   # never closed
    page("<p>x</p>", tail="</body><p>after</p></html>"),
    page("<p>x</p>", tail="</body>text</html>"),
    HEAD.replace("<!DOCTYPE html>\n", "") + "<body></body></html>",   # quirks mode
    HEAD.replace("<title>", '<base href="http://example.org/"><title>') + "<body></body></html>",
    HEAD.replace("<title>", "<style>p{}</style><title>") + "<body></body></html>",
    HEAD.replace("<title>", "<div></div><title>") + "<body></body></html>",
    "<!DOCTYPE html><html><body><p>x</p></body></html>",      # no <head>
])
def test_markup_html5_would_repair_goes_to_weasyprints_parser(html):
    assert htmltree.parse(html) is None


def _peraturan_bersama_final() -> str:
    s = H.antar_desa()
    return final_job(final_payload(s.proposal, ["3", "4"])).html


def _peraturan_bersama_draft() -> str:
    return records.agreement_job(P.build(H.antar_desa().proposal), draft=True).html


def _perjanjian_draft_hostile() -> str:
    s = H.pihak_ketiga(title=HOSTILE)
    ops.update_sections(s.proposal, s.author, {"menimbang": f"bahwa {HOSTILE};"},
                        expected_version=None)
    db.session.commit()
    return records.agreement_job(P.build(s.proposal), draft=True, paper="a4").html


def _perjanjian_final() -> str:
    s = H.pihak_ketiga()
    return final_job(final_payload(s.proposal, ["12/PKS/XI/2026", "001/CV-PL/XI/2026"])).html


def _review_record() -> str:
    return records.review_record_job(awaiting_deliberation().reload()).html


def _berita_acara() -> str:
    return records.berita_acara_job(musyawarah_desa(awaiting_deliberation())).html


def _assessment() -> str:
    s = H.antar_desa()
    answers = {c.code: {"score": 2, "evidence": f"Bukti {c.code} {HOSTILE}", "mitigation": ""}
               for c in sops.applicable_criteria(s.proposal)}
    assessment = sops.create_assessment(s.proposal, s.author, answers, "Siti Aminah",
                                        "Sekretaris Desa")
    db.session.commit()
    return records.assessment_job(assessment).html


@pytest.mark.parametrize("document", [
    _peraturan_bersama_final, _peraturan_bersama_draft, _perjanjian_draft_hostile,
    _perjanjian_final, _review_record, _berita_acara, _assessment])
def test_every_kind_of_document_takes_the_fast_path_to_the_same_tree(app, document):
    html = document()
    ours = htmltree.parse(html)
    assert ours is not None, "the builder gave up"
    theirs = tinyhtml5.parse(html, namespace_html_elements=False)
    assert tree_difference(ours, theirs) is None


def test_the_final_pdf_is_the_same_bytes_from_either_parser(app, monkeypatch):
    s = H.antar_desa()
    job = final_job(final_payload(s.proposal, ["3", "4"]))
    fast = render.render_now(job)
    monkeypatch.setattr(htmltree, "parse", lambda html: None)
    assert render.render_now(job) == fast


def test_a_draft_with_user_markup_is_the_same_bytes_from_either_parser(app, monkeypatch):
    s = H.pihak_ketiga(title=HOSTILE)
    ops.update_sections(s.proposal, s.author, {"menimbang": f"bahwa {HOSTILE};"},
                        expected_version=None)
    db.session.commit()
    job = records.agreement_job(P.build(s.proposal), draft=True)
    assert htmltree.parse(job.html) is not None
    fast = render.render_now(job)
    monkeypatch.setattr(htmltree, "parse", lambda html: None)
    assert render.render_now(job) == fast


def test_a_record_is_the_same_bytes_from_either_parser(app, monkeypatch):
    meeting = musyawarah_desa(awaiting_deliberation())
    job = records.berita_acara_job(meeting)
    fast = render.render_now(job)
    monkeypatch.setattr(htmltree, "parse", lambda html: None)
    assert render.render_now(job) == fast


# --- any markup: the HTML5 tree or nothing ---------------------------------------------------

FRAGMENTS = [
    "<p>", "</p>", "<div>", "</div>", '<div class="hi">', "<span>", "</span>", "<b>", "</b>",
    "<i>", "</i>", "<br>", "<br/>", "</br>", "<h2>", "</h2>", "<h3>", "</h3>", "<table>",
    "</table>", "<tr>", "</tr>", "<td>", "</td>", "<tbody>", "</tbody>", "<thead>",
    "</thead>", "<li>", "</li>", "<ul>", "</ul>", '<img src="data:,">', "<!-- c -->",
    "<svg>", "</svg>", "<pre>", "</pre>", "<div/>", "<a>", "</a>", "x", "teks ", " ", "\n",
    "\r\n", "\t", "&amp;", "&lt;", "&#9;", "&copy;", "&nbsp", "<", ">", "&", '"', "\x00",
    "</body>", "<body>", "</html>", "<dl>", "<dt>", "<dd>", "</dd>", "</dt>", '<p title="&copy=1">',
    '<p title="&amp;">', "&copy=", "&#34",
]


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25))
def test_any_markup_gives_the_html5_tree_or_none(parts):
    html = page("".join(parts))
    ours = htmltree.parse(html)
    if ours is not None:
        theirs = tinyhtml5.parse(html, namespace_html_elements=False)
        assert tree_difference(ours, theirs) is None
