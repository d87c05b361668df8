"""Small server-side SVG charts for the dashboard and the network pages: horizontal bars
(counts, Rupiah) and 100 % stacked bars (the stage of the desa per kecamatan or kabupaten).

As in ``coopdesa.reports.charts``: no script and no inline style (the CSP forbids both),
colours are SVG presentation attributes, every text is escaped, each chart carries a
<title>, a <desc> and a visually hidden table with the same numbers for screen readers.
The drawing is narrow (``WIDTH`` units) and scales with ``width="100%"``, so that its
text stays readable on a phone of 360-400 px; long labels wrap and are cut with an
ellipsis, their full text staying in the tooltip and the hidden table.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

from flask_babel import gettext as _
from markupsafe import Markup, escape

#: About the width of a phone's card in CSS pixels, so that the text keeps its size there.
WIDTH = 340
FONT = 14
SMALL = 12
#: Average advance of a character in the page's sans-serif font, in font sizes (the wide
#: DejaVu Sans of many Linux systems; narrower fonts just leave more room).
CHAR_EM = 0.6
BOLD_EM = 0.66
LINE_H = 17
BAR_H = 16
ROW_GAP = 10
LABEL_W = 132
MAX_LINES = 3
STACK_H = 22
#: Okabe-Ito blue, distinguishable with colour blindness and in greyscale print.
DEFAULT_COLOURS = ("#0072B2",)
INK = "#212529"
_ids = itertools.count(1)
#: The table for screen readers. The wrapper, not the table, is visually hidden: a table
#: grows to its content whatever its width, and a hidden one would still widen the page
#: on a phone.
_HIDDEN_OPEN = '<div class="visually-hidden"><table><caption>'
_HIDDEN_CLOSE = "</tbody></table></div>"


def _chart_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _chars(width: float, size: int = FONT) -> int:
    """How many characters fit in ``width`` units at font ``size`` (an estimate)."""
    return max(1, int(width / (size * CHAR_EM)))


def _text_w(text: str, size: int = FONT, *, bold: bool = False) -> float:
    return len(text) * size * (BOLD_EM if bold else CHAR_EM)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:max(1, limit - 1)].rstrip() + "\u2026"


def wrap(text: str, limit: int, max_lines: int = MAX_LINES) -> list[str]:
    """``text`` in lines of at most ``limit`` characters, words kept whole where they fit,
    at most ``max_lines`` lines, the last cut with an ellipsis when text is left over."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > limit:  # a word longer than a line is split
            if current:
                lines.append(current)
                current = ""
            cut = max(word.rfind("/", 0, limit), word.rfind("-", 0, limit)) + 1
            if cut:  # after a slash or a hyphen: "kabupaten/" "kota"
                lines.append(word[:cut])
            else:
                cut = limit - 1
                lines.append(word[:cut] + "-")
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if not lines:
        return [""]
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1:])
        lines = [*lines[:max_lines - 1], _cut(rest, limit)]
    return lines


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = FONT,
          weight: str = "normal", fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{escape(fill)}">{escape(text)}</text>')


def _lines(x: float, y: float, lines: list[str], *, size: int = FONT) -> str:
    """A text of several lines; ``y`` is the baseline of the first."""
    spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else LINE_H}">{escape(line)}'
                    f"</tspan>" for i, line in enumerate(lines))
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}">{spans}'
            f"</text>")


def ink_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (#rrggbb), by WCAG contrast."""
    value = colour.lstrip("#")
    if len(value) != 6:
        return "#000"
    try:
        channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        return "#000"
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#fff"


def _svg(cid: str, height: float, title: str, desc: str, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {math.ceil(height)}" '
            f'width="100%" role="img" aria-labelledby="{cid}-t {cid}-d" '
            f'preserveAspectRatio="xMinYMin meet" class="chart">'
            f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}'
            f'</desc>{"".join(parts)}</svg>')


def _empty() -> Markup:
    return Markup('<p class="text-muted small mb-0">{}</p>').format(
        _("Belum ada data untuk ditampilkan."))


def bar_chart(rows: list[tuple[str, int | float]], *, title: str,
              colours: list[str] | None = None,
              value_label: Callable[[int | float], str] = str) -> Markup:
    """Horizontal bars, one per row: the label on the left (wrapped, at most three lines),
    the bar, its value on the right as ``value_label`` writes it. ``colours`` are used in
    turn, one per row. Without rows: a short sentence instead of a chart."""
    if not rows:
        return _empty()
    cid = _chart_id("batang")
    palette = list(colours or DEFAULT_COLOURS)
    values = [value_label(v) for _label, v in rows]
    value_w = min(max(_text_w(v, bold=True) for v in values) + 8, WIDTH * 0.42)
    plot_w = WIDTH - LABEL_W - value_w
    top = max([v for _label, v in rows] + [0]) or 1
    limit = _chars(LABEL_W - 10)
    parts: list[str] = []
    y = 4.0
    for i, ((label, value), shown) in enumerate(zip(rows, values, strict=True)):
        lines = wrap(str(label), limit)
        row_h = max(len(lines) * LINE_H, BAR_H + 4)
        colour = palette[i % len(palette)]
        parts.append(_lines(0, y + FONT, lines))
        bar_y = y + (row_h - BAR_H) / 2 if len(lines) > 1 else y + 1
        w = plot_w * max(value, 0) / top
        if value and w < 1:
            w = 1.0
        parts.append(f'<rect x="{LABEL_W}" y="{bar_y:.1f}" width="{w:.1f}" height="{BAR_H}" '
                     f'fill="{escape(colour)}"><title>{escape(label)}: {escape(shown)}'
                     f"</title></rect>")
        parts.append(_text(LABEL_W + w + 4, bar_y + BAR_H - 3, shown, weight="bold"))
        y += row_h + ROW_GAP
    desc = "; ".join(f"{label}: {shown}" for (label, _v), shown in zip(rows, values,
                                                                       strict=True))
    table = [_HIDDEN_OPEN, str(escape(title)),
             '</caption><thead><tr><th scope="col">', str(escape(_("Uraian"))),
             '</th><th scope="col">', str(escape(_("Jumlah"))), "</th></tr></thead><tbody>"]
    for (label, _v), shown in zip(rows, values, strict=True):
        table.append(f'<tr><th scope="row">{escape(label)}</th><td>{escape(shown)}</td></tr>')
    table.append(_HIDDEN_CLOSE)
    svg = _svg(cid, y - ROW_GAP + 4, title, desc, parts)
    # Every interpolated text above went through escape().
    return Markup(f'<figure class="mb-2">{svg}{"".join(table)}</figure>')  # noqa: S704


def stacked_bars(rows: list[tuple[str, dict[str, int]]], *, title: str,
                 series: list[tuple[str, str, str]]) -> Markup:
    """One 100 % stacked bar per row (its label and total above it), the segments in the
    order of ``series`` = [(key, label, colour)], the legend on top; a segment shows its
    count when it is wide enough. Without rows (or only empty ones): a short sentence."""
    totals = [sum(counts.get(key, 0) for key, _l, _c in series) for _label, counts in rows]
    if not rows or not any(totals):
        return _empty()
    cid = _chart_id("tumpuk")
    parts: list[str] = []
    # Legend: swatch and label per series, wrapped over as many lines as needed.
    x, y = 0.0, 4.0
    for _key, label, colour in series:
        item_w = 16 + _text_w(label, SMALL) + 14
        if x and x + item_w > WIDTH:
            x, y = 0.0, y + LINE_H + 2
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" '
                     f'fill="{escape(colour)}"/>')
        parts.append(_text(x + 16, y + 10.5, label, size=SMALL))
        x += item_w
    y += LINE_H + 10
    for (label, counts), total in zip(rows, totals, strict=True):
        total_text = str(total)
        limit = _chars(WIDTH - _text_w(total_text, bold=True) - 12)
        parts.append(f"<g>{_text(0, y + FONT, _cut(str(label), limit))}"
                     f"{_text(WIDTH, y + FONT, total_text, anchor='end', weight='bold')}"
                     f"<title>{escape(label)}</title></g>")
        bar_y = y + LINE_H + 4
        if not total:
            parts.append(f'<rect x="0.5" y="{bar_y:.1f}" width="{WIDTH - 1}" '
                         f'height="{STACK_H}" fill="#f8f9fa" stroke="#ced4da"/>')
        x = 0.0
        for key, s_label, colour in series:
            n = counts.get(key, 0)
            if not n or not total:
                continue
            w = WIDTH * n / total
            share = round(100 * n / total)
            parts.append(f'<rect x="{x:.2f}" y="{bar_y:.1f}" width="{w:.2f}" '
                         f'height="{STACK_H}" fill="{escape(colour)}"><title>'
                         f"{escape(label)} \u2013 {escape(s_label)}: {n} ({share}%)"
                         f"</title></rect>")
            if w >= _text_w(str(n), SMALL + 1, bold=True) + 6:
                parts.append(_text(x + w / 2, bar_y + STACK_H / 2 + 4.5, str(n),
                                   anchor="middle", size=SMALL + 1, weight="bold",
                                   fill=ink_on(colour)))
            x += w
        y = bar_y + STACK_H + ROW_GAP + 2
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{s_label} {counts.get(key, 0)}"
                                 for key, s_label, _c in series)
        for label, counts in rows)
    table = [_HIDDEN_OPEN, str(escape(title)),
             '</caption><thead><tr><th scope="col">', str(escape(_("Wilayah"))), "</th>"]
    table += [f'<th scope="col">{escape(s_label)}</th>' for _k, s_label, _c in series]
    table.append(f'<th scope="col">{escape(_("Jumlah"))}</th></tr></thead><tbody>')
    for (label, counts), total in zip(rows, totals, strict=True):
        table.append(f'<tr><th scope="row">{escape(label)}</th>')
        table += [f"<td>{counts.get(key, 0)}</td>" for key, _l, _c in series]
        table.append(f"<td>{total}</td></tr>")
    table.append(_HIDDEN_CLOSE)
    svg = _svg(cid, y - ROW_GAP, title, desc, parts)
    # Every interpolated text above went through escape().
    return Markup(f'<figure class="mb-2">{svg}{"".join(table)}</figure>')  # noqa: S704
