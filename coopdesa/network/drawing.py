"""The drawing of a cooperation network, laid out on the server and written as SVG (issue 6),
so that the page works without JavaScript and prints (WeasyPrint embeds the same SVG in the
network report).

- **Layout**, deterministic: the same nodes and ties give byte-identical SVG whatever order
  they were added in. Up to ``SPRING_MAX_NODES`` nodes: each connected part laid out by
  stress majorization (the distance on paper follows the number of ties between two nodes,
  a hub's ties drawn longer so that its partners find room; no random start), turned
  lengthwise and packed in rows; the desa without any agreement set apart in a labelled
  grid below. Larger graphs (a kabupaten/kota of hundreds of desa): one box per kecamatan,
  the boxes placed so that kecamatan with many ties between them sit close (a seeded
  spring layout of the kecamatan), each laid out the same way inside its box with its
  isolated desa in a compact grid at the bottom, the ties across kecamatan pale; parties
  outside the scope on a ring around the boxes, each near the side its partners are on.
  About 0.15 s for 600 nodes.
- **Nodes**: colour and shape per actor category (Okabe-Ito palette, safe with colour
  blindness, the shape for greyscale print), area growing with the number of partners
  (square-root scale); parties outside the scope hollow and dashed. **Ties**: width by
  number of agreements; a tie whose agreements have all ended is grey and dashed.
- **Labels**: up to ``LABEL_ALL_MAX_NODES`` nodes every node has one; larger graphs label
  the most important nodes (partners, then betweenness). Labels never overlap each other:
  each tries positions around its node, then further out (with a dotted leader line); the
  canvas grows downwards when needed. Widths are estimated as characters x font size x
  ``CHAR_EM`` (more for capitals). Labels lie under the nodes, so that no node is hidden.
  Every node carries a ``<title>`` tooltip (name, kind, partners) and, when ``href`` gives
  one, a link.
- **Nothing to draw**: without any tie the caller gets the sentence "Belum ada kerja sama
  dalam cakupan ini." instead of a drawing.

Plain SVG only (no script, no inline style, no CSS variables, no filters, no
foreignObject): colours are presentation attributes, every text is escaped.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape

from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.network.metrics import NetworkMetrics

SEED = 20140115  # as coopdesa.network.metrics: UU 6/2014 was enacted on 15 January 2014
#: Up to this many nodes one force-directed layout; above, a box per kecamatan.
SPRING_MAX_NODES = 150
#: Up to this many nodes every node is labelled; above, only the most important ones.
LABEL_ALL_MAX_NODES = 120
#: Average advance of a character in font sizes (wide sans-serif fonts such as DejaVu Sans;
#: narrower ones just leave more room), the same figure as coopdesa.network.charts; capital
#: letters are wider (names written in capitals).
CHAR_EM = 0.6
CAPS_EM = 0.72
BOLD = 1.1
#: A label box spans from ASCENT above the baseline to DESCENT below it (in font sizes).
ASCENT = 0.9
DESCENT = 0.3
#: Longer names are cut with an ellipsis in the label; the tooltip keeps them whole.
LABEL_MAX_CHARS = 32
FONT = 12
SMALL_FONT = 11
PRINT_SCALE = 1.25

#: Okabe-Ito colours per actor category.
COLOURS = {
    ActorCategory.DESA.value: "#0072B2",  # blue
    ActorCategory.USAHA.value: "#E69F00",  # orange
    ActorCategory.PEMERINTAH.value: "#D55E00",  # vermillion
    ActorCategory.MASYARAKAT_SIPIL.value: "#009E73",  # bluish green
    ActorCategory.KELOMPOK_MASYARAKAT.value: "#CC79A7",  # reddish purple
}
SHAPES = {
    ActorCategory.DESA.value: "circle",
    ActorCategory.USAHA.value: "square",
    ActorCategory.PEMERINTAH.value: "diamond",
    ActorCategory.MASYARAKAT_SIPIL.value: "triangle",
    ActorCategory.KELOMPOK_MASYARAKAT.value: "hexagon",
}
INK = "#212529"
MUTED = "#6c757d"
#: Ties: grey, lighter for the ties across kecamatan in the large drawing; the ties whose
#: agreements have all ended lighter still and dashed.
TIE = "#8b8b8b"
TIE_FAINT = "#cfcfcf"
ENDED = "#a6a6a6"
ENDED_FAINT = "#dcdcdc"
LEADER = "#8c8c8c"
BOX_FILL = "#f8f9fa"
BOX_LINE = "#ced4da"
WEB_FONT = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
            "sans-serif")
#: The one family the PDF documents embed (static/css/pdf.css).
PRINT_FONT = "Liberation Serif, serif"

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


# --- geometry ------------------------------------------------------------------------------

def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Boxes:
    """Boxes in a spatial hash, to ask quickly whether a new one hits any."""

    CELL = 64.0

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], list[tuple[Box, str | None]]] = defaultdict(list)

    def _keys(self, box: Box) -> Iterable[tuple[int, int]]:
        c = self.CELL
        for i in range(math.floor(box[0] / c), math.floor(box[2] / c) + 1):
            for j in range(math.floor(box[1] / c), math.floor(box[3] / c) + 1):
                yield i, j

    def add(self, box: Box, owner: str | None = None) -> None:
        for k in self._keys(box):
            self._cells[k].append((box, owner))

    def hits(self, box: Box, ignore: str | None = None) -> bool:
        for k in self._keys(box):
            for other, owner in self._cells.get(k, ()):
                if (ignore is None or owner != ignore) and _overlap(box, other):
                    return True
        return False


@dataclass(frozen=True)
class TextMetrics:
    """Advances of characters in font sizes, for estimating the width of a label."""

    em: float = CHAR_EM
    caps: float = CAPS_EM
    bold: float = BOLD


WEB_TEXT = TextMetrics()
#: Liberation Serif, the PDF's font: narrower (measured 0.46 em on average in actors'
#: names, 0.47 at most).
PRINT_TEXT = TextMetrics(em=0.5, caps=0.68)


def text_width(text: str, size: float, *, bold: bool = False,
               metrics: TextMetrics = WEB_TEXT) -> float:
    """The estimated advance of ``text`` at font ``size``: never less than characters x
    size x ``CHAR_EM`` on screen."""
    caps = sum(1 for c in text if c.isupper())
    width = ((len(text) - caps) * metrics.em + caps * metrics.caps) * size
    return width * metrics.bold if bold else width


def label_box(x: float, baseline: float, text: str, size: float, anchor: str,
              *, bold: bool = False, metrics: TextMetrics = WEB_TEXT) -> Box:
    """The box a label takes, from its text element's attributes (tests use it too)."""
    w = text_width(text, size, bold=bold, metrics=metrics)
    x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
    return (x0, baseline - ASCENT * size, x0 + w, baseline + DESCENT * size)


def _cut(text: str, limit: int = LABEL_MAX_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def _cut_to(text: str, width: float, size: float, metrics: TextMetrics, *,
            bold: bool = False) -> str:
    """``text`` cut (with an ellipsis) to fit ``width``."""
    limit = len(text)
    cut = text
    while limit > 1 and text_width(cut, size, bold=bold, metrics=metrics) > width:
        limit -= 1
        cut = _cut(text, limit)
    return cut


# --- the model of one drawing --------------------------------------------------------------

@dataclass
class _Node:
    key: str
    label: str
    kind: str
    category: str
    inside: bool
    degree: int
    betweenness: float
    group: str = ""
    x: float = 0.0
    y: float = 0.0
    r: float = 4.0
    isolated: bool = False


@dataclass
class _Label:
    key: str
    text: str
    x: float
    baseline: float
    anchor: str
    size: float
    bold: bool
    leader: tuple[float, float, float, float] | None = None


@dataclass
class _Canvas:
    width: int
    nodes: dict[str, _Node]
    text: TextMetrics = WEB_TEXT
    labels: list[_Label] = field(default_factory=list)
    label_boxes: _Boxes = field(default_factory=_Boxes)
    node_boxes: _Boxes = field(default_factory=_Boxes)
    extra: list[str] = field(default_factory=list)  # group boxes, headers (behind ties)
    bottom: float = 0.0

    def add_node_box(self, n: _Node) -> None:
        p = n.r + 3
        self.node_boxes.add((n.x - p, n.y - p, n.x + p, n.y + p), n.key)
        self.bottom = max(self.bottom, n.y + n.r)

    def add_label(self, label: _Label, box: Box | None = None) -> None:
        box = box or label_box(label.x, label.baseline, label.text, label.size,
                               label.anchor, bold=label.bold, metrics=self.text)
        self.label_boxes.add(_pad(box))
        self.labels.append(label)
        self.bottom = max(self.bottom, box[3])


def _pad(box: Box, p: float = 1.5) -> Box:
    return (box[0] - p, box[1] - p, box[2] + p, box[3] + p)


_RING0 = ((1, 0), (-1, 0), (0, 1), (0, -1), (0.7071, 0.7071), (0.7071, -0.7071),
          (-0.7071, 0.7071), (-0.7071, -0.7071))
_RING = tuple((round(math.cos(math.pi * i / 8), 4), round(math.sin(math.pi * i / 8), 4))
              for i in range(16))
_STEPS = (0, 5, 11, 18, 27, 38, 52, 70, 92, 120, 155, 200, 260, 340, 440, 560, 720, 900)


def _place(canvas: _Canvas, n: _Node, text: str, size: float, *, bold: bool = False,
           steps: tuple[int, ...] = _STEPS, strict_nodes_until: int = 3) -> bool:
    """Put the label of ``n`` at the first free position around it, further out step by
    step; a position over another node is only taken when none is free within
    ``strict_nodes_until`` steps. False when no position was free (the label is left
    out)."""
    w = text_width(text, size, bold=bold, metrics=canvas.text)
    h = (ASCENT + DESCENT) * size
    fallback: _Label | None = None
    for k, step in enumerate(steps):
        reach = n.r + 3 + step
        for ux, uy in _RING0 if k == 0 else _RING:
            sx = 1 if ux > 0.38 else -1 if ux < -0.38 else 0
            sy = 1 if uy > 0.38 else -1 if uy < -0.38 else 0
            cx = n.x + ux * reach + sx * w / 2
            cy = n.y + uy * reach + sy * h / 2
            x0, y0 = cx - w / 2, cy - h / 2
            if x0 < 2 or x0 + w > canvas.width - 2 or y0 < 2:
                continue
            anchor = "start" if sx > 0 else "end" if sx < 0 else "middle"
            x = x0 if sx > 0 else x0 + w if sx < 0 else cx
            label = _Label(n.key, text, round(x, 1), round(y0 + ASCENT * size, 1), anchor,
                           size, bold)
            # The box as the SVG's coordinates give it (after rounding): tests check those.
            box = label_box(label.x, label.baseline, text, size, anchor, bold=bold,
                            metrics=canvas.text)
            if canvas.label_boxes.hits(_pad(box)):
                continue
            if k:
                px, py = min(max(n.x, box[0]), box[2]), min(max(n.y, box[1]), box[3])
                dist = math.hypot(px - n.x, py - n.y) or 1.0
                label.leader = (n.x + (px - n.x) * n.r / dist, n.y + (py - n.y) * n.r / dist,
                                px, py)
            if not canvas.node_boxes.hits(box, ignore=n.key):
                canvas.add_label(label, box)
                return True
            if fallback is None:
                fallback = label
        if fallback is not None and k >= strict_nodes_until:
            break
    if fallback is None:
        return False
    canvas.add_label(fallback)
    return True


# --- layout --------------------------------------------------------------------------------

def _sorted_graph(graph: nx.Graph, keys: Iterable[str]) -> nx.Graph:
    """The subgraph on ``keys`` with nodes and edges in sorted order, so that a layout does
    not depend on the order the graph was built in."""
    wanted = sorted(keys)
    chosen = set(wanted)
    out = nx.Graph()
    out.add_nodes_from(wanted)
    edges = sorted((min(a, b), max(a, b), d.get("weight", 1) or 1)
                   for a, b, d in graph.subgraph(chosen).edges(data=True))
    out.add_weighted_edges_from(edges)
    return out


def _spring(graph: nx.Graph, iterations: int = 120) -> dict[str, tuple[float, float]]:
    if graph.number_of_nodes() == 1:
        return {next(iter(graph)): (0.0, 0.0)}
    pos = nx.spring_layout(graph, seed=SEED, weight="weight", iterations=iterations)
    return {k: (float(v[0]), float(v[1])) for k, v in pos.items()}


def _spread(nodes: list[_Node], gap: float, box: Box, rounds: int = 40) -> None:
    """Push apart nodes closer than their radii plus ``gap``, keeping them in ``box``."""
    if len(nodes) < 2:
        return
    xy = np.array([[n.x, n.y] for n in nodes], dtype=float)
    r = np.array([n.r for n in nodes], dtype=float)
    need = r[:, None] + r[None, :] + gap
    np.fill_diagonal(need, 0.0)
    lo = np.array([box[0], box[1]]) + r[:, None]
    hi = np.array([box[2], box[3]]) - r[:, None]
    for _round in range(rounds):
        delta = xy[:, None, :] - xy[None, :, :]
        dist = np.sqrt((delta ** 2).sum(axis=2))
        short = np.clip(need - dist, 0.0, None)
        np.fill_diagonal(short, 0.0)
        if not short.any():
            break
        safe = np.where(dist > 1e-6, dist, 1.0)
        unit = delta / safe[:, :, None]
        # Two nodes on the same spot move apart along a fixed direction.
        unit[dist <= 1e-6] = (0.6, 0.8)
        np.fill_diagonal(unit[:, :, 0], 0.0)
        np.fill_diagonal(unit[:, :, 1], 0.0)
        xy += (unit * (short / 2)[:, :, None]).sum(axis=1)
        xy = np.minimum(np.maximum(xy, lo), hi)
    for n, (x, y) in zip(nodes, xy, strict=True):
        n.x, n.y = float(x), float(y)


def _radius(degree: int, top: int, *, small: float, large: float) -> float:
    if top <= 0 or degree <= 0:
        return small
    return small + (large - small) * math.sqrt(degree / top)


def _grid(nodes: list[_Node], x0: float, y0: float, cell_w: float, cell_h: float,
          cols: int) -> float:
    """Nodes in rows of ``cols`` from (x0, y0); returns the bottom of the last row."""
    for i, n in enumerate(nodes):
        row, col = divmod(i, cols)
        n.x = x0 + col * cell_w + cell_w / 2
        n.y = y0 + row * cell_h + cell_h / 2
    rows = math.ceil(len(nodes) / cols) if nodes else 0
    return y0 + rows * cell_h


def _short(n: _Node) -> str:
    """The label without "Desa " in the large drawing, where the box already says
    kecamatan and the colour says desa (the tooltip keeps the whole name)."""
    if n.kind == ActorKind.DESA and n.label.startswith("Desa ") and \
            not n.label.startswith("Desa Adat "):
        return n.label[5:]
    return n.label


def _importance(n: _Node) -> tuple:
    return (-n.degree, -n.betweenness, n.label, n.key)


def _stress(graph: nx.Graph, keys: list[str]) -> dict[str, tuple[float, float]]:
    """A connected graph laid out by stress majorization (SMACOF): the distance on paper
    between two nodes follows the number of ties between them, so that the nodes spread
    evenly, with a tie about one unit long. Starts from classical scaling, so it needs no
    random start: the same graph gives the same picture."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    # A tie at a hub is drawn longer, so that the hub's many partners find room around it
    # for their labels.
    index = {k: i for i, k in enumerate(keys)}
    degree = dict(graph.degree())
    pairs = [(index[a], index[b], 0.6 + 0.4 * math.sqrt(max(degree[a], degree[b])))
             for a, b in graph.edges()]
    rows, cols, lengths = zip(*pairs, strict=True)
    d = shortest_path(csr_matrix((lengths, (rows, cols)), shape=(len(keys), len(keys))),
                      directed=False)
    n = len(keys)
    # Classical scaling: the two main axes of the double-centred squared distances.
    centre = np.eye(n) - 1.0 / n
    b = -0.5 * centre @ (d ** 2) @ centre
    values, vectors = np.linalg.eigh(b)
    x = vectors[:, -2:] * np.sqrt(np.clip(values[-2:], 1e-9, None))
    # Nodes of a symmetric graph (a star) may start on one spot; a fixed nudge parts them.
    x += np.random.default_rng(SEED).normal(scale=0.05, size=x.shape)
    with np.errstate(divide="ignore"):
        w = np.where(d > 0, d ** -2.0, 0.0)
    v = -w
    np.fill_diagonal(v, w.sum(axis=1))
    v_inv = np.linalg.pinv(v)
    last = math.inf
    for _round in range(150):
        gap = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
        with np.errstate(divide="ignore", invalid="ignore"):
            bz = np.where(gap > 1e-9, -w * d / gap, 0.0)
        np.fill_diagonal(bz, 0.0)
        np.fill_diagonal(bz, -bz.sum(axis=1))
        x = v_inv @ bz @ x
        stress = float((w * (gap - d) ** 2).sum())
        if last - stress < 1e-3 * last:
            break
        last = stress
    return {k: (float(px), float(py)) for k, (px, py) in zip(keys, x, strict=True)}


def _level(pos: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """``pos`` turned so that its longest spread lies across: a screen and a page are
    wider than tall."""
    xy = np.array(list(pos.values()))
    xy -= xy.mean(axis=0)
    _values, vectors = np.linalg.eigh(np.cov(xy.T))
    axis = vectors[:, -1]  # the direction of largest spread
    if axis[0] < 0:
        axis = -axis
    turned = xy @ np.array([[axis[0], -axis[1]], [axis[1], axis[0]]])
    return {k: (float(x), float(y)) for k, (x, y) in zip(pos, turned, strict=True)}


def _packed(graph: nx.Graph, keys: list[str]) -> dict[str, tuple[float, float]]:
    """Positions of ``keys`` (all with a tie) in units of about one tie: each connected
    part laid out on its own (Kamada-Kawai: even spacing, few crossings), largest first,
    packed in rows like words in lines."""
    sub = _sorted_graph(graph, keys)
    parts = sorted((sorted(c) for c in nx.connected_components(sub)),
                   key=lambda c: (-len(c), c[0]))
    laid: list[tuple[dict[str, tuple[float, float]], float, float]] = []
    for part in parts:
        if len(part) == 1:
            pos = {part[0]: (0.0, 0.0)}
        elif len(part) == 2:
            pos = {part[0]: (0.0, 0.0), part[1]: (1.0, 0.0)}
        else:
            pos = _level(_stress(sub.subgraph(part), part))
        lo_x = min(p[0] for p in pos.values())
        lo_y = min(p[1] for p in pos.values())
        pos = {k: (x - lo_x, y - lo_y) for k, (x, y) in pos.items()}
        laid.append((pos, max(p[0] for p in pos.values()), max(p[1] for p in pos.values())))
    gap = 1.0
    area = sum((w + gap) * (h + gap) for _p, w, h in laid)
    line = max(max(w for _p, w, _h in laid), math.sqrt(area * 1.5))
    out: dict[str, tuple[float, float]] = {}
    x = y = shelf = 0.0
    for pos, w, h in laid:
        if x and x + w > line:
            x, y, shelf = 0.0, y + shelf + gap, 0.0
        out.update({k: (x + px, y + py) for k, (px, py) in pos.items()})
        x += w + gap
        shelf = max(shelf, h)
    return out


def _layout_small(canvas: _Canvas, graph: nx.Graph, highlight: str | None,
                  label_all: bool, font: float) -> None:
    nodes = canvas.nodes
    width = canvas.width
    linked = [n for n in nodes.values() if not n.isolated]
    alone = sorted((n for n in nodes.values() if n.isolated), key=lambda n: (n.label, n.key))
    top = 20.0
    # Room for labels on both sides: a node's label goes left or right of it.
    margin = min(140.0, width * 0.14)
    pos = _packed(graph, [n.key for n in linked])
    span_x = max(p[0] for p in pos.values()) or 1.0
    span_y = max(p[1] for p in pos.values()) or 1.0
    inner_w = min(width - 2 * margin, 100.0 * span_x)  # a tie at most ~100 units long
    sx = inner_w / span_x
    # The height follows the layout's own shape, squeezed or stretched a little at most.
    sy = sx
    if span_y * sy > width * 0.75:
        sy = max(0.6 * sx, width * 0.75 / span_y)
    elif span_y * sy < 120:
        sy = min(120 / span_y, 1.5 * sx)
    left = (width - inner_w) / 2
    for n in linked:
        n.x = left + pos[n.key][0] * sx
        n.y = top + pos[n.key][1] * sy
    _spread(linked, 18.0, (8.0, top - 10, width - 8.0, top + span_y * sy + 10))
    for n in linked:
        canvas.add_node_box(n)
    order = sorted(linked, key=lambda n: (n.key != highlight, *_importance(n)))
    for n in order:
        if label_all or n.key == highlight or n in order[:max(25, len(order) // 5)]:
            _place(canvas, n, _cut(n.label), font, bold=n.key == highlight,
                   steps=_STEPS if label_all else _STEPS[:4])
    if not alone:
        return
    # Desa without any agreement: a labelled grid below, out of the way of the ties.
    y = canvas.bottom + 26
    heading = _("Desa tanpa kerja sama (%(n)s)", n=len(alone))
    canvas.add_label(_Label("", heading, 8.0, round(y, 1), "start", font, True))
    y += 10
    r = alone[0].r
    longest = max(text_width(_cut(n.label), font, metrics=canvas.text) for n in alone)
    cell_w = min(width - 16, 2 * r + 6 + longest + 14)
    cols = max(1, int((width - 16) // cell_w))
    cell_h = max(2 * r + 6, font * 1.5)
    _grid(alone, 8, y, cell_w, cell_h, cols)
    for n in alone:
        n.x -= cell_w / 2 - r - 1  # the node at the left of its cell, the label after it
        canvas.add_node_box(n)
        text = _cut(n.label)
        canvas.add_label(_Label(n.key, text, round(n.x + r + 5, 1),
                                      round(n.y + 0.35 * font, 1), "start", font, False))


def _layout_large(canvas: _Canvas, graph: nx.Graph, highlight: str | None,
                  names: Callable[[list[str]], dict[str, str]], font: float) -> None:
    nodes = canvas.nodes
    width = canvas.width
    inside = [n for n in nodes.values() if n.inside]
    outside = sorted((n for n in nodes.values() if not n.inside), key=lambda n: n.key)
    groups: dict[str, list[_Node]] = defaultdict(list)
    for n in inside:
        groups[n.group].append(n)
    keys = sorted(groups)
    # Where the groups go: a small layout of the groups themselves, ties between groups
    # pulling, read row by row into a grid.
    group_of = {n.key: n.group for n in inside}
    between: Counter[tuple[str, str]] = Counter()
    for a, b in graph.edges():
        ga, gb = group_of.get(a), group_of.get(b)
        if ga is not None and gb is not None and ga != gb:
            between[(min(ga, gb), max(ga, gb))] += 1
    count = len(keys)
    cols = max(1, min(count, round(math.sqrt(count * 1.25))))
    rows = math.ceil(count / cols)
    if between and count > 2:
        meta = nx.Graph()
        meta.add_nodes_from(keys)
        meta.add_weighted_edges_from((a, b, w) for (a, b), w in sorted(between.items()))
        gpos = _spring(meta, iterations=80)
        by_y = sorted(keys, key=lambda k: (gpos[k][1], k))
        order = []
        for i in range(rows):
            order += sorted(by_y[i * cols:(i + 1) * cols], key=lambda k: (gpos[k][0], k))
    else:
        order = keys
    ring = 58.0 if outside else 6.0
    gap = 8.0
    cell_w = (width - 2 * ring - (cols - 1) * gap) / cols
    pad = 8.0
    header_h = font + 10
    dot = 12.0  # grid step of the isolated desa
    inner = cell_w - 2 * pad
    # Each group's needs: its linked part laid out and scaled to the box's width (a tie at
    # most ``unit`` long), the isolated grid below it.
    unit = 34.0
    needs: dict[str, tuple[float, float, int]] = {}
    layouts: dict[str, tuple[dict[str, tuple[float, float]], float]] = {}
    for key in keys:
        linked = [n for n in groups[key] if not n.isolated]
        alone = [n for n in groups[key] if n.isolated]
        area_h = 0.0
        if linked:
            pos = _packed(graph, [n.key for n in linked])
            span_x = max(p[0] for p in pos.values())
            span_y = max(p[1] for p in pos.values())
            scale = min(unit, (inner - 12) / span_x if span_x else unit)
            area_h = max(24.0, span_y * scale + 12)
            layouts[key] = (pos, scale)
        per_row = max(1, int(inner // dot))
        alone_h = math.ceil(len(alone) / per_row) * dot if alone else 0.0
        needs[key] = (area_h, alone_h, per_row)
    region_names = names([k for k in keys if k])
    y = ring
    for i in range(rows):
        row = order[i * cols:(i + 1) * cols]
        row_h = max(header_h + needs[k][0] + (8 if needs[k][0] and needs[k][1] else 0)
                    + needs[k][1] + 2 * pad for k in row)
        shift = (cols - len(row)) * (cell_w + gap) / 2  # a short last row is centred
        for j, key in enumerate(row):
            x0 = ring + shift + j * (cell_w + gap)
            canvas.extra.append(
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{cell_w:.1f}" height="{row_h:.1f}" '
                f'rx="6" fill="{BOX_FILL}" stroke="{BOX_LINE}"/>')
            members = groups[key]
            name = region_names.get(key, key) if key else _("Tingkat kabupaten")
            title = _cut_to(f"{name} ({len(members)})", cell_w - 2 * pad, font,
                            canvas.text, bold=True)
            canvas.add_label(_Label("", title, round(x0 + pad, 1),
                                    round(y + pad + ASCENT * font, 1), "start", font, True))
            area_h, alone_h, per_row = needs[key]
            linked = [n for n in members if not n.isolated]
            if linked:
                pos, scale = layouts[key]
                span_x = max(p[0] for p in pos.values())
                top = y + pad + header_h + 6
                left = x0 + pad + 6 + (inner - 12 - span_x * scale) / 2
                for n in linked:
                    n.x = left + pos[n.key][0] * scale
                    n.y = top + pos[n.key][1] * scale
                _spread(linked, 4.0, (x0 + pad, top - 6, x0 + cell_w - pad, top + area_h),
                        rounds=25)
            alone = sorted((n for n in members if n.isolated), key=lambda n: n.key)
            if alone:
                top = y + pad + header_h + area_h + (8 if area_h else 0)
                _grid(alone, x0 + pad, top, inner / per_row, dot, per_row)
        y += row_h + gap
    grid_bottom = y - gap
    if outside:
        _ring(outside, graph, nodes, width, grid_bottom, ring)
    for n in nodes.values():
        canvas.add_node_box(n)
    labelled = sorted((n for n in nodes.values() if n.degree > 0),
                      key=lambda n: (n.key != highlight, *_importance(n)))
    quota = max(20, min(60, len(nodes) // 8))
    for n in labelled[:quota]:
        _place(canvas, n, _cut(_short(n), 26), font - 1, bold=n.key == highlight,
               steps=_STEPS[:5], strict_nodes_until=2)
    if highlight in nodes and nodes[highlight].degree == 0:
        _place(canvas, nodes[highlight], _cut(_short(nodes[highlight]), 26), font - 1,
               bold=True, steps=_STEPS[:5])


def _ring(outside: list[_Node], graph: nx.Graph, nodes: dict[str, _Node], width: int,
          bottom: float, ring: float) -> None:
    """Parties outside the scope on a rectangle around the boxes, each on the side its
    partners inside are on, spaced along the rectangle."""
    x0, y0, x1, y1 = ring / 2, ring / 2, width - ring / 2, bottom + ring / 2
    w, h = x1 - x0, y1 - y0
    perimeter = 2 * (w + h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    placed = {n.key for n in nodes.values() if n.inside}

    def along(angle: float) -> float:
        # Where the ray from the centre at ``angle`` meets the rectangle, as a distance
        # along it clockwise from the top-left corner.
        dx, dy = math.cos(angle), math.sin(angle)
        scale = min(w / 2 / abs(dx) if dx else math.inf, h / 2 / abs(dy) if dy else math.inf)
        px, py = cx + dx * scale, cy + dy * scale
        if abs(py - y0) < 1e-6:
            return px - x0
        if abs(px - x1) < 1e-6:
            return w + (py - y0)
        if abs(py - y1) < 1e-6:
            return w + h + (x1 - px)
        return 2 * w + h + (y1 - py)

    wanted = []
    for i, n in enumerate(outside):
        partners = [nodes[p] for p in sorted(graph.adj[n.key]) if p in placed]
        if partners:
            mx = sum(p.x for p in partners) / len(partners)
            my = sum(p.y for p in partners) / len(partners)
            angle = math.atan2(my - cy, mx - cx)
        else:
            angle = 2 * math.pi * i / len(outside)
        wanted.append((along(angle), n.key, n))
    wanted.sort(key=lambda t: (t[0], t[1]))
    step = perimeter / len(wanted)
    spacing = min(26.0, step)
    ts: list[float] = []
    for t, _key, _n in wanted:
        ts.append(max(t, ts[-1] + spacing) if ts else t)
    overflow = ts[-1] - (ts[0] + perimeter - spacing) if ts else 0.0
    if overflow > 0:  # wrapped past the first: shift everything back, evenly if needed
        ts = [t - overflow for t in ts]
        if ts[0] < 0:
            ts = [i * step for i in range(len(ts))]
    for t, (_t, _key, n) in zip(ts, wanted, strict=True):
        t %= perimeter
        if t < w:
            n.x, n.y = x0 + t, y0
        elif t < w + h:
            n.x, n.y = x1, y0 + t - w
        elif t < 2 * w + h:
            n.x, n.y = x1 - (t - w - h), y1
        else:
            n.x, n.y = x0, y1 - (t - 2 * w - h)


# --- writing SVG ---------------------------------------------------------------------------

def _shape(n: _Node, fill: str, stroke: str, extra: str = "") -> str:
    shape = SHAPES.get(n.category, "circle")
    x, y, r = n.x, n.y, n.r
    paint = f'fill="{fill}" stroke="{stroke}"{extra}'
    if shape == "square":
        s = r * 0.886
        return (f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" '
                f'height="{2 * s:.1f}" {paint}/>')
    if shape == "diamond":
        d = r * 1.2
        points = ((x, y - d), (x + d, y), (x, y + d), (x - d, y))
    elif shape == "triangle":
        d = r * 1.4
        points = ((x, y - d), (x + d * 0.866, y + d / 2), (x - d * 0.866, y + d / 2))
    elif shape == "hexagon":
        d = r * 1.08
        points = tuple((x + d * math.cos(math.pi / 3 * i), y + d * math.sin(math.pi / 3 * i))
                       for i in range(6))
    else:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {paint}/>'
    d_attr = "M" + "L".join(f"{px:.1f},{py:.1f}" for px, py in points) + "Z"
    return f'<path d="{d_attr}" {paint}/>'


def _node_svg(n: _Node, href: str | None, tip: str, highlight: bool) -> str:
    colour = COLOURS.get(n.category, MUTED)
    parts = [f"<title>{escape(tip)}</title>"]
    if highlight:
        parts.append(f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="{n.r + 4:.1f}" fill="none" '
                     f'stroke="{INK}" stroke-width="2.5"/>')
    if n.inside:
        parts.append(_shape(n, colour, "#ffffff", ' stroke-width="1"'))
    else:
        parts.append(_shape(n, "#ffffff", colour,
                            ' stroke-width="2" stroke-dasharray="3 2"'))
    body = "".join(parts)
    if href:
        return f'<a href="{escape(href)}">{body}</a>'
    return f"<g>{body}</g>"


def _label_svg(label: _Label, href: str | None, metrics: TextMetrics) -> str:
    box = label_box(label.x, label.baseline, label.text, label.size, label.anchor,
                    bold=label.bold, metrics=metrics)
    out = []
    if label.leader:
        x1, y1, x2, y2 = label.leader
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                   f'stroke="{LEADER}" stroke-width="1" stroke-dasharray="1 2"/>')
    out.append(f'<rect x="{box[0] - 1:.1f}" y="{box[1]:.1f}" width="{box[2] - box[0] + 2:.1f}" '
               f'height="{box[3] - box[1]:.1f}" rx="2" fill="#ffffff" fill-opacity="0.8"/>')
    weight = ' font-weight="bold"' if label.bold else ""
    kind = "label" if label.key else "heading"
    out.append(f'<text class="{kind}" x="{label.x}" y="{label.baseline}" '
               f'font-size="{label.size:g}" text-anchor="{label.anchor}"{weight} '
               f'fill="{INK}">{escape(label.text)}</text>')
    body = "".join(out)
    if href:
        # The node's own link again: a click on a name opens the party too. Out of the tab
        # order, so that a keyboard visits each party once.
        return f'<a href="{escape(href)}" tabindex="-1">{body}</a>'
    return f"<g>{body}</g>"


def _tie_svg(a: _Node, b: _Node, data: dict, top_weight: int, centre: str | None,
             large: bool) -> str:
    weight = int(data.get("weight") or 1)
    active = int(data.get("active") or 0)
    w = 1.0 + 2.6 * math.sqrt((weight - 1) / max(top_weight - 1, 1))
    # In the large drawing the ties across kecamatan stay in the background, so that the
    # groups read first.
    across = large and (a.group != b.group or not a.inside or not b.inside)
    if across:
        w = min(w * 0.7, 1.6)
    # Solid colours, not opacity: WeasyPrint draws stroke-opacity as opaque.
    if active:
        colour, dash = (TIE_FAINT if across else TIE), ""
    else:
        colour, dash = (ENDED_FAINT if across else ENDED), ' stroke-dasharray="5 4"'
    if centre in (a.key, b.key):
        colour = INK
    return (f'<line x1="{a.x:.1f}" y1="{a.y:.1f}" x2="{b.x:.1f}" y2="{b.y:.1f}" '
            f'stroke="{colour}" stroke-width="{w:.1f}"{dash}/>')


def _legend(categories: list[str], has_outside: bool, has_ended: bool, width: int,
            y: float, font: float, metrics: TextMetrics) -> tuple[list[str], float]:
    items: list[tuple[str, str]] = []
    for cat in categories:
        sample = _Node("", "", "", cat, True, 0, 0.0, r=6)
        items.append((ActorCategory(cat).label,
                      _shape(sample, COLOURS[cat], "#ffffff", ' stroke-width="1"')))
    if has_outside:
        sample = _Node("", "", "", "desa", False, 0, 0.0, r=6)
        items.append((_("Di luar cakupan"), _shape(
            sample, "#ffffff", MUTED, ' stroke-width="2" stroke-dasharray="3 2"')))
    items.append((_("Kerja sama berlaku"),
                  f'<line x1="-9" y1="0" x2="9" y2="0" stroke="{TIE}" stroke-width="2.5"/>'))
    if has_ended:
        items.append((_("Sudah berakhir semua"),
                      f'<line x1="-9" y1="0" x2="9" y2="0" stroke="{ENDED}" '
                      f'stroke-width="2" stroke-dasharray="5 4"/>'))
    note = _("Simpul makin besar makin banyak mitranya; garis makin tebal makin banyak "
             "kerja samanya.")
    parts = [f'<line x1="8" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="{BOX_LINE}"/>']
    x, y = 8.0, y + 18
    for text, sample in items:
        item_w = 26 + text_width(text, font, metrics=metrics) + 16
        if x > 8 and x + item_w > width - 8:
            x, y = 8.0, y + font + 10
        parts.append(f'<g transform="translate({x + 10:.1f} {y - font * 0.32:.1f})">'
                     f"{sample}</g>")
        parts.append(f'<text x="{x + 24:.1f}" y="{y:.1f}" font-size="{font:g}" '
                     f'fill="{INK}">{escape(text)}</text>')
        x += item_w
    limit = max(10, int((width - 16) / (font * metrics.em)))
    for line in _wrap(note, limit):
        y += font + 8
        parts.append(f'<text x="8" y="{y:.1f}" font-size="{font:g}" fill="{MUTED}">'
                     f"{escape(line)}</text>")
    return parts, y + font * DESCENT + 6


def _wrap(text: str, limit: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current] if current else lines


def _region_names(graph: nx.Graph) -> Callable[[list[str]], dict[str, str]]:
    """Names of kecamatan codes: from the graph (``graph.graph["region_names"]``) when its
    builder put them there, else from the register when there is an app to ask."""

    def lookup(codes: list[str]) -> dict[str, str]:
        names = dict(graph.graph.get("region_names") or {})
        missing = sorted(c for c in codes if c and c not in names)
        if missing and has_app_context():
            import sqlalchemy as sa

            from coopdesa.extensions import db
            from coopdesa.regions.models import Region

            names.update(db.session.execute(
                sa.select(Region.code, Region.name).where(Region.code.in_(missing))).all())
        return names

    return lookup


def _kind_label(kind: str) -> str:
    try:
        return ActorKind(kind).label
    except ValueError:
        return kind


def _digest(graph: nx.Graph, title: str) -> str:
    h = hashlib.sha256(title.encode())
    for key in sorted(graph.nodes):
        h.update(f"\x00{key}".encode())
    for a, b in sorted((min(a, b), max(a, b)) for a, b in graph.edges()):
        h.update(f"\x01{a}\x02{b}".encode())
    return h.hexdigest()[:10]


def _empty() -> Markup:
    return Markup('<p class="text-muted">{}</p>').format(
        _("Belum ada kerja sama dalam cakupan ini."))


def draw(graph: nx.Graph, metrics: NetworkMetrics, *, title: str,
         href: Callable[[str, dict], str | None] | None = None,
         highlight: str | None = None, width: int = 960, for_print: bool = False) -> Markup:
    """The network as an inline ``<svg>`` (``role="img"``, titled and described), scaling
    to its container's width; ``href(node_key, attrs)`` links a node (and its label) to
    its page. Without any tie (no agreement in the scope, or none left by the filters):
    the paragraph "Belum ada kerja sama dalam cakupan ini." instead of a drawing."""
    if graph.number_of_edges() == 0:
        return _empty()
    large = graph.number_of_nodes() > SPRING_MAX_NODES
    label_all = graph.number_of_nodes() <= LABEL_ALL_MAX_NODES
    # A page is narrower than a screen: the printed drawing's text is set larger, so that
    # it stays about 8 pt on A4 or F4.
    font = float(SMALL_FONT if large else FONT) * (PRINT_SCALE if for_print else 1.0)
    if highlight not in graph:
        highlight = None
    nodes: dict[str, _Node] = {}
    for key in sorted(graph.nodes):
        attrs = graph.nodes[key]
        m = metrics.nodes.get(key)
        degree = m.degree if m is not None else graph.degree(key)
        nodes[key] = _Node(
            key=key, label=str(attrs.get("label") or key), kind=str(attrs.get("kind", "")),
            category=str(attrs.get("category", "")), inside=bool(attrs.get("inside", True)),
            degree=int(degree), betweenness=float(m.betweenness if m is not None else 0.0),
            group=str(attrs.get("kecamatan") or ""), isolated=graph.degree(key) == 0)
    if large and len({n.group for n in nodes.values() if n.inside}) < 3:
        # One kecamatan (or a BKAD): its communities are the groups instead.
        for key, n in nodes.items():
            m = metrics.nodes.get(key)
            community = m.community if m is not None else None
            n.group = f"{_('Komunitas')} {community}" if community else ""
    top = max(n.degree for n in nodes.values())
    for n in nodes.values():
        n.r = _radius(n.degree, top, small=3.0, large=9.0) if large \
            else _radius(n.degree, top, small=5.0, large=15.0)
    canvas = _Canvas(width=width, nodes=nodes, text=PRINT_TEXT if for_print else WEB_TEXT)
    if large:
        _layout_large(canvas, graph, highlight, _region_names(graph), font)
    else:
        _layout_small(canvas, graph, highlight, label_all, font)

    links = {key: href(key, graph.nodes[key]) if href else None for key in nodes}
    top_weight = max(int(d.get("weight") or 1) for _a, _b, d in graph.edges(data=True))
    ties = sorted(((min(a, b), max(a, b), d) for a, b, d in graph.edges(data=True)),
                  key=lambda t: (int(t[2].get("active") or 0) > 0,
                                 int(t[2].get("weight") or 1), t[0], t[1]))
    has_ended = any(not int(d.get("active") or 0) for _a, _b, d in ties)
    body = [f'<g class="groups">{"".join(canvas.extra)}</g>', '<g class="ties">']
    body += [_tie_svg(nodes[a], nodes[b], d, top_weight, highlight, large)
             for a, b, d in ties]
    # Labels under the nodes: where a label had to lie over a node, the node stays whole.
    body.append('</g><g class="labels">')
    body += [_label_svg(label, links.get(label.key), canvas.text) for label in canvas.labels]
    body.append('</g><g class="nodes">')
    # Translated once per drawing, not once per node: hundreds of lookups cost more than
    # the layout.
    tip_text = _("%(name)s \u2013 %(kind)s \u2013 %(partners)s")
    outside_text = " \u2013 " + _("di luar cakupan")
    kinds: dict[str, str] = {}
    partners: dict[int, str] = {}
    for key, n in nodes.items():
        if n.kind not in kinds:
            kinds[n.kind] = _kind_label(n.kind)
        if n.degree not in partners:
            partners[n.degree] = ngettext("%(num)s mitra", "%(num)s mitra", n.degree)
        tip = tip_text % {"name": n.label, "kind": kinds[n.kind],
                          "partners": partners[n.degree]}
        if not n.inside:
            tip += outside_text
        body.append(_node_svg(n, links[key], tip, key == highlight))
    body.append("</g>")

    categories = [c.value for c in ActorCategory
                  if any(n.category == c.value for n in nodes.values())]
    legend, height = _legend(categories, any(not n.inside for n in nodes.values()),
                             has_ended, width, canvas.bottom + 14, font, canvas.text)
    body.append(f'<g class="legend">{"".join(legend)}</g>')

    ranked = sorted((n for n in nodes.values() if n.degree), key=_importance)[:3]
    desc = _("%(nodes)s pihak, %(ties)s hubungan dari %(agreements)s kerja sama.",
             nodes=len(nodes), ties=graph.number_of_edges(),
             agreements=metrics.agreement_count)
    if metrics.isolated:
        desc += " " + _("%(n)s desa belum bekerja sama.", n=len(metrics.isolated))
    if ranked:
        desc += " " + _("Mitra terbanyak: %(list)s.", list=", ".join(
            f"{n.label} ({n.degree})" for n in ranked))
    if large:
        desc += " " + _("Hanya pihak terpenting yang diberi nama; arahkan penunjuk ke "
                        "simpul untuk melihat namanya.")
    uid = "jaringan-" + _digest(graph, title)
    pan = "" if for_print else (
        ' data-pan-zoom=""'
        f' data-label-zoom="{escape(_("Perbesar atau perkecil gambar"))}"'
        f' data-label-zoom-in="{escape(_("Perbesar"))}"'
        f' data-label-reset="{escape(_("Tampilkan seluruhnya"))}"'
        f' data-label-zoom-out="{escape(_("Perkecil"))}"')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
           f'{math.ceil(height)}" width="100%" role="img" aria-labelledby="{uid}-t {uid}-d" '
           f'preserveAspectRatio="xMidYMin meet" class="network-graph" '
           f'font-family="{escape(PRINT_FONT if for_print else WEB_FONT)}"{pan}>'
           f'<title id="{uid}-t">{escape(title)}</title>'
           f'<desc id="{uid}-d">{escape(desc)}</desc>{"".join(body)}</svg>')
    return Markup(svg)  # noqa: S704 - every text above went through escape()
