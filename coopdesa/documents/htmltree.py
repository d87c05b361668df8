"""The element tree of a document's HTML, built fast, for WeasyPrint to lay out.

WeasyPrint parses HTML with tinyhtml5, a complete HTML5 parser written in Python: about
10 ms of a 200 ms render (docs/performance.md). The HTML of a coopdesa document comes from
its own templates (templates/pdf/), with user text escaped, so it is plain, well-nested
markup: the standard library's tokenizer (``html.parser``) and ``TreeBuilder`` build the
same tree in about 1.5 ms.

"The same tree" is checked, not assumed. :func:`parse` builds only what it can mirror
exactly: every end tag closes the element just opened, only the implicit ``<tbody>`` of the
HTML5 tree construction is added, whitespace outside the body goes where HTML5 puts it.
Anything else (markup an HTML5 parser would repair, comments, foreign SVG/MathML content,
``<pre>``, a ``<base>``, a NUL character ...) makes it return None, and the document is
parsed by WeasyPrint's own parser as before: a document is never laid out from a
different tree, at worst from a slower one. tests/test_documents_htmltree.py renders every
kind of document both ways and compares the PDF bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

#: Elements without content or end tag (HTML5 "void elements").
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen",
                  "link", "meta", "param", "source", "track", "wbr"})
#: What the documents' <head> holds; anything else would end the head in HTML5.
HEAD = frozenset({"meta", "title", "link"})
#: Start tags whose HTML5 handling this builder does not mirror: foreign content (namespaced
#: elements, case-adjusted attributes), newline-eating and raw-text elements, <base>
#: (changes the base URL), <style> and <script>, forms, frames, nested documents.
UNSUPPORTED = frozenset({"svg", "math", "pre", "listing", "textarea", "plaintext", "xmp",
                         "base", "style", "script", "noscript", "template", "iframe", "noembed",
                         "noframes", "frameset", "frame", "form", "select", "option",
                         "optgroup", "button", "html", "head", "body", "image", "isindex",
                         "ruby", "rb", "rp", "rt", "rtc"})
#: Start tags that close an open <p> in HTML5 (the "closes a p element" list).
CLOSES_P = frozenset({"address", "article", "aside", "blockquote", "center", "details",
                      "dialog", "dir", "div", "dl", "fieldset", "figcaption", "figure",
                      "footer", "header", "hgroup", "main", "menu", "nav", "ol", "p",
                      "search", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5",
                      "h6", "pre", "listing", "form", "plaintext", "table", "hr", "xmp"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: Start tags that close an open element of their group in HTML5 (<dd> closes a <dt> too).
CLOSES_OWN = {"li": ("li",), "dt": ("dt", "dd"), "dd": ("dt", "dd"), "a": ("a",),
              "nobr": ("nobr",)}
#: A named character reference and whether a semicolon ends it.
NAMED_REFERENCE = re.compile(r"&[A-Za-z][A-Za-z0-9]*(;?)")
#: Table-structure elements and where each may appear without HTML5 adding or moving one.
TABLE_PARENTS = {"caption": {"table"}, "colgroup": {"table"}, "col": {"colgroup"},
                 "thead": {"table"}, "tbody": {"table"}, "tfoot": {"table"},
                 "tr": {"tbody", "thead", "tfoot"}, "td": {"tr"}, "th": {"tr"}}
TABLE_INSIDES = frozenset({"table", "thead", "tbody", "tfoot", "tr", "colgroup"})
WHITESPACE = " \t\n\f"


class _Unsupported(Exception):
    """The markup needs HTML5 repairs this builder does not mirror."""


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tree = ET.TreeBuilder()
        #: Open elements; "tbody*" is a <tbody> HTML5 inserted (see ``_in_body``).
        self.stack: list[str] = []
        #: before-html, before-head, in-head, after-head, in-body, after-body, after-html
        self.mode = "before-html"
        self.body: Any = None
        self.trailing = ""
        self.doctype = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        if "&" in raw and any(not m.group(1) for m in NAMED_REFERENCE.finditer(raw)):
            # "&copy=1" in an attribute: HTML5 leaves it as written, html.parser decodes it.
            raise _Unsupported(tag)
        values: dict[str, str] = {}
        for name, value in attrs:  # HTML5 keeps the first of duplicated attributes
            values.setdefault(name, value or "")
        mode = self.mode
        if mode == "in-body":
            _expect(tag not in UNSUPPORTED and tag not in HEAD)
            self._in_body(tag, values)
        elif mode == "before-html":
            _expect(tag == "html" and self.doctype)  # without it HTML5 parses in quirks mode
            self._element(tag, values)
            self.mode = "before-head"
        elif mode == "before-head":
            _expect(tag == "head" and not values)
            self._element(tag, values)
            self.mode = "in-head"
        elif mode == "in-head":
            _expect(tag in HEAD and self.stack[-1] == "head")
            self._element(tag, values)
        elif mode == "after-head":
            _expect(tag == "body")
            self.body = self._element(tag, values)
            self.mode = "in-body"
        else:
            raise _Unsupported(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<br/>": HTML5 ignores the slash on void elements, and only there.
        _expect(tag in VOID)
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        stack = self.stack
        if stack and stack[-1] == "tbody*" and tag in ("table", "tbody"):
            stack.pop()
            self.tree.end("tbody")
            if tag == "tbody":
                return
        _expect(tag not in VOID and bool(stack) and stack[-1] == tag)
        stack.pop()
        self.tree.end(tag)
        if tag == "head":
            self.mode = "after-head"
        elif tag == "body":
            self.mode = "after-body"
        elif tag == "html":
            self.mode = "after-html"

    def _element(self, tag: str, values: dict[str, str]) -> Any:
        element = self.tree.start(tag, values)
        if tag in VOID:
            self.tree.end(tag)
        else:
            self.stack.append(tag)
        return element

    def _in_body(self, tag: str, values: dict[str, str]) -> None:
        stack = self.stack
        current = stack[-1]
        if tag in CLOSES_P and "p" in stack:
            raise _Unsupported(tag)  # HTML5 would close the <p> first
        if tag in HEADINGS and current in HEADINGS:
            raise _Unsupported(tag)
        if any(other in stack for other in CLOSES_OWN.get(tag, ())):
            raise _Unsupported(tag)
        if current == "tbody*":
            current = "tbody"
        if current in TABLE_INSIDES:
            # Inside table structure only table structure may start: HTML5 would move
            # anything else out of the table ("foster parenting").
            if tag == "tr" and current == "table":
                self.tree.start("tbody", {})  # HTML5 inserts it
                stack.append("tbody*")
                current = "tbody"
            _expect(current in TABLE_PARENTS.get(tag, ()))
        else:
            _expect(tag not in TABLE_PARENTS)  # a row or cell outside a table
        self._element(tag, values)

    def handle_data(self, data: str) -> None:
        mode = self.mode
        current = self.stack[-1] if self.stack else ""
        if mode == "in-body":
            if current in TABLE_INSIDES or current == "tbody*":
                # Directly in table structure HTML5 keeps whitespace, and moves anything
                # else out of the table.
                _expect(not data.strip(WHITESPACE))
            self.tree.data(data)
        elif mode == "in-head" and current == "title":
            self.tree.data(data)
        else:
            _expect(not data.strip(WHITESPACE))
            if mode in ("in-head", "after-head"):
                self.tree.data(data)  # HTML5 keeps it in <head>, or after it in <html>
            elif mode in ("after-body", "after-html"):
                self.trailing += data  # HTML5 appends it to <body>
            # before-html, before-head: HTML5 drops whitespace.

    def handle_decl(self, decl: str) -> None:
        _expect(self.mode == "before-html" and not self.doctype
                and decl.lower() == "doctype html")
        self.doctype = True

    def handle_comment(self, data: str) -> None:
        raise _Unsupported("comment")

    def handle_pi(self, data: str) -> None:
        raise _Unsupported("processing instruction")

    def unknown_decl(self, data: str) -> None:
        raise _Unsupported("declaration")


def _expect(condition: bool) -> None:
    if not condition:
        raise _Unsupported("markup")


def parse(html: str) -> ET.Element | None:
    """The ``<html>`` element WeasyPrint's parser (tinyhtml5, HTML elements without
    namespace) would build from ``html``, or None where this builder cannot be sure."""
    if "\x00" in html:
        return None
    # HTML5 input preprocessing: every CR LF and lone CR becomes LF.
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    builder = _Builder()
    try:
        builder.feed(html)
        builder.close()
    except (_Unsupported, AssertionError):
        return None
    if builder.mode not in ("after-body", "after-html"):
        return None
    root = builder.tree.close()
    if builder.trailing:
        body = builder.body
        if len(body):
            body[-1].tail = (body[-1].tail or "") + builder.trailing
        else:
            body.text = (body.text or "") + builder.trailing
    return root
