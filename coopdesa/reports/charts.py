"""Server-side SVG charts of implementation progress: planned versus received versus spent
funds per source, and aims met. No script, no inline style (the CSP forbids both): colours
are SVG presentation attributes. Every text is escaped; each chart carries a <title>, a
<desc> and a visually hidden table with the same numbers for screen readers."""

from __future__ import annotations

import itertools

from flask_babel import gettext as _
from markupsafe import Markup, escape

from coopdesa.i18n import format_rupiah
from coopdesa.reports.models import AimStatus
from coopdesa.reports.operations import Progress

WIDTH = 640
LABEL_W = 200
BAR_H = 14
GAP = 4
GROUP_GAP = 14
#: Colour-blind-safe (Okabe-Ito) colours of the three series and of the aim statuses.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73")
AIM_COLOURS = {AimStatus.TERCAPAI: "#009E73", AimStatus.SEBAGIAN: "#E69F00",
               AimStatus.BELUM: "#999999"}
_ids = itertools.count(1)


def _chart_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="#212529">{escape(text)}</text>')


def funds_chart(progress: Progress, title: str) -> Markup:
    """Horizontal bars "direncanakan / diterima / dibelanjakan" per funding source."""
    rows = progress.rows
    series = (_("Direncanakan"), _("Diterima"), _("Dibelanjakan"))
    cid = _chart_id("dana")
    if not rows:
        return Markup('<p class="text-muted small">{}</p>').format(
            _("Belum ada data pendanaan."))
    top = max([max(p, r, s) for _src, p, r, s in rows] + [1])
    legend_h = 24
    group_h = 3 * BAR_H + 2 * GAP
    height = legend_h + len(rows) * (group_h + GROUP_GAP) + 4
    plot_w = WIDTH - LABEL_W - 120
    parts = []
    x = LABEL_W
    for colour, name in zip(SERIES_COLOURS, series, strict=True):
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 16, 14, name, size=11))
        x += 120
    y = legend_h
    for source, *values in rows:
        parts.append(_text(LABEL_W - 8, y + group_h / 2 + 4, source.label, anchor="end",
                           weight="bold"))
        for i, (value, colour) in enumerate(zip(values, SERIES_COLOURS, strict=True)):
            by = y + i * (BAR_H + GAP)
            w = max(0.0, plot_w * value / top)
            parts.append(f'<rect x="{LABEL_W}" y="{by}" width="{w:.1f}" height="{BAR_H}" '
                         f'fill="{colour}"><title>{escape(series[i])}: '
                         f'{escape(format_rupiah(value))}</title></rect>')
            parts.append(_text(LABEL_W + w + 4, by + BAR_H - 3, format_rupiah(value),
                               size=10))
        y += group_h + GROUP_GAP
    desc = "; ".join(
        f"{source.label}: " + ", ".join(f"{name} {format_rupiah(v)}"
                                        for name, v in zip(series, values, strict=True))
        for source, *values in rows)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           f'width="100%" role="img" aria-labelledby="{cid}-t {cid}-d" '
           f'preserveAspectRatio="xMinYMin meet" class="chart">'
           f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}'
           f'</desc>{"".join(parts)}</svg>')
    # The hidden class sits on a wrapper: a table grows to its content whatever its width,
    # and would widen the page on a phone.
    table = ['<div class="visually-hidden"><table><caption>', str(escape(title)), '</caption>',
             '<thead><tr><th scope="col">', str(escape(_("Sumber dana"))), '</th>']
    table += [f'<th scope="col">{escape(name)}</th>' for name in series]
    table.append('</tr></thead><tbody>')
    for source, *values in rows:
        table.append(f'<tr><th scope="row">{escape(source.label)}</th>')
        table += [f"<td>{escape(format_rupiah(v))}</td>" for v in values]
        table.append("</tr>")
    table.append("</tbody></table></div>")
    # Every interpolated text above went through escape().
    return Markup(f'<figure class="mb-3">{svg}{"".join(table)}</figure>')  # noqa: S704


def aims_chart(progress: Progress, title: str) -> Markup:
    """One stacked bar: aims met, partly met and not met (latest report)."""
    total = progress.aims_total
    cid = _chart_id("tujuan")
    if not total:
        return Markup('<p class="text-muted small">{}</p>').format(
            _("Belum ada laporan capaian tujuan."))
    height = 58
    plot_w = WIDTH - 8
    parts = []
    x = 4.0
    legend_x = 4
    for status in AimStatus:
        n = progress.aims.get(status.value, 0)
        w = plot_w * n / total
        if n:
            parts.append(f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="22" '
                         f'fill="{AIM_COLOURS[status]}"><title>{escape(status.label)}: {n}'
                         f'</title></rect>')
            if w > 24:
                parts.append(f'<text x="{x + w / 2:.1f}" y="20" font-size="12" '
                             f'text-anchor="middle" fill="#000">{n}</text>')
        x += w
        parts.append(f'<rect x="{legend_x}" y="38" width="12" height="12" '
                     f'fill="{AIM_COLOURS[status]}"/>')
        parts.append(_text(legend_x + 16, 48, f"{status.label} ({n})", size=11))
        legend_x += 200
    desc = ", ".join(f"{s.label}: {progress.aims.get(s.value, 0)}" for s in AimStatus)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
           f'width="100%" role="img" aria-labelledby="{cid}-t {cid}-d" class="chart">'
           f'<title id="{cid}-t">{escape(title)}</title><desc id="{cid}-d">{escape(desc)}'
           f'</desc>{"".join(parts)}</svg>')
    rows = "".join(f'<tr><th scope="row">{escape(s.label)}</th>'
                   f"<td>{progress.aims.get(s.value, 0)}</td></tr>" for s in AimStatus)
    table = (f'<div class="visually-hidden"><table><caption>{escape(title)}</caption>'
             f'<thead><tr><th scope="col">{escape(_("Status"))}</th>'
             f'<th scope="col">{escape(_("Jumlah tujuan"))}</th></tr></thead>'
             f"<tbody>{rows}</tbody></table></div>")
    # Every interpolated text above went through escape().
    return Markup(f'<figure class="mb-3">{svg}{table}</figure>')  # noqa: S704
