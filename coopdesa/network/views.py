"""Network pages under /jaringan: one page per scope (desa, kecamatan, kabupaten/kota,
province, country, BKAD) with the drawing, the metrics and the stages; the network report
PDF; GraphML, GEXF and CSV downloads. Handlers parse, check access (coopdesa.access,
rule "network"), call coopdesa.network.operations and commit once (a page may have
refreshed a stored result)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action, NetworkOf
from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.network import operations as ops
from coopdesa.network.graph import NetworkFilters, Scope, ScopeKind, parse_scope
from coopdesa.network.stages import Stage
from coopdesa.proposals.models import Bidang

bp = Blueprint("network", __name__, url_prefix="/jaringan")

EXPORT_FORMATS = {
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
    "simpul.csv": ("text/csv; charset=utf-8", "simpul.csv"),
    "sisi.csv": ("text/csv; charset=utf-8", "sisi.csv"),
}


def _scope(key: str, action: Action = Action.VIEW) -> Scope:
    try:
        scope = parse_scope(key)
    except ValidationError as exc:
        raise NotFoundError(exc.message) from None
    access.require(current_user, action, NetworkOf(scope))
    return scope


def _filters(scope: Scope) -> tuple[NetworkFilters, dict[str, list[str]]]:
    """The filters of the query string; a bad one is named and the default used instead,
    so the page still shows and says what was wrong."""
    try:
        filters = NetworkFilters.parse(request.args)
    except ValidationError as exc:
        return NetworkFilters(), exc.fields
    if not scope.is_live and not filters.is_default:
        return NetworkFilters(), {"state": [_(
            "Penyaring berlaku untuk kabupaten/kota, kecamatan, BKAD dan desa; provinsi "
            "dan nasional menampilkan hasil tersimpan kerja sama yang berlaku.")]}
    return filters, {}


def node_href(key: str, attrs: dict) -> str | None:
    if attrs.get("actor_id"):
        return url_for("actors.detail", actor_id=attrs["actor_id"])
    if key.startswith("desa:"):
        return url_for("regions.detail", code=key[5:])
    return None


def _file_slug(scope: Scope) -> str:
    return "jaringan-" + re.sub(r"[^0-9A-Za-z.]+", "-", scope.key).strip("-")


@bp.route("/")
@login_required
def index():
    return redirect(url_for(".scope", key=ops.default_scope(current_user).key))


@bp.route("/<key>")
@login_required
def scope(key: str):
    scope = _scope(key)
    filters, errors = _filters(scope)
    context = dict(scope=scope, filters=filters, errors=errors,
                   crumbs=ops.breadcrumbs(scope), children=ops.children(scope),
                   bidang_choices=list(Bidang), can_export=access.can(
                       current_user, Action.EXPORT, NetworkOf(scope)))
    if scope.is_live:
        from coopdesa.network.drawing import draw

        net = ops.live_network(scope, filters)
        drawing = draw(net.graph, net.metrics, title=_("Jaringan kerja sama %(scope)s",
                                                      scope=scope.label),
                       href=node_href, highlight=f"desa:{scope.code}"
                       if scope.kind is ScopeKind.DESA else None)
        db.session.commit()  # a stale stored result may have been refreshed
        rows = net.stage_rows()
        stage_chart = stacked_bars(
            rows, title=_("Tahap desa per kecamatan"), series=_stage_series()) \
            if len(rows) > 1 else None
        return render_template(
            "network/scope.html", net=net, drawing=drawing, stage_chart=stage_chart,
            category_labels={c.value: c.label for c in ActorCategory},
            kind_labels={k.value: k.label for k in ActorKind}, **context)
    overview = ops.overview(scope)
    db.session.commit()
    stage_chart = stacked_bars([(r.name, r.stage_counts) for r in overview.rows],
                               title=_("Tahap desa per wilayah"), series=_stage_series())
    return render_template("network/overview.html", overview=overview,
                           stage_chart=stage_chart, stages=list(Stage), **context)


def stacked_bars(*args, **kwargs):
    from coopdesa.network.charts import stacked_bars as chart

    return chart(*args, **kwargs)


def _stage_series() -> list[tuple[str, str, str]]:
    return [(s.value, s.label, s.colour) for s in Stage]


@bp.route("/<key>/laporan.pdf")
@login_required
def report_pdf(key: str):
    scope = _scope(key)
    if scope.kind not in (ScopeKind.KECAMATAN, ScopeKind.KABUPATEN, ScopeKind.BKAD):
        raise NotFoundError(_("Laporan jaringan dibuat untuk kecamatan, kabupaten/kota atau "
                              "BKAD."))
    filters, errors = _filters(scope)
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)
    from coopdesa.documents import operations as doc_ops
    from coopdesa.documents.views import _pdf_response, _render_or_503
    from coopdesa.network.report import report_job

    net = ops.live_network(scope, filters)
    paper = doc_ops.paper_arg(request.args.get("kertas"))
    data = _render_or_503(report_job(net, paper=paper))
    db.session.commit()
    return _pdf_response(data, _file_slug(scope) + ".pdf")


@bp.route("/<key>/unduh/<fmt>")
@login_required
def download(key: str, fmt: str):
    scope = _scope(key, Action.EXPORT)
    if fmt not in EXPORT_FORMATS:
        raise NotFoundError(_("Format unduhan tidak dikenal: pilih GraphML, GEXF atau CSV."))
    if not scope.is_live:
        raise NotFoundError(_("Unduhan jaringan dibuat per kabupaten/kota, kecamatan, BKAD "
                              "atau desa; untuk provinsi, unduh tiap kabupaten/kota."))
    filters, errors = _filters(scope)
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)
    from coopdesa.network import exports

    net = ops.live_network(scope, filters)
    db.session.commit()
    mimetype, suffix = EXPORT_FORMATS[fmt]
    stamp = dict(filters=net.filters, computed_at=net.computed_at)
    if fmt == "graphml":
        body: bytes | str = exports.graphml_bytes(net.graph, net.metrics, net.rule, **stamp)
    elif fmt == "gexf":
        body = exports.gexf_bytes(net.graph, net.metrics, net.rule, **stamp)
    elif fmt == "simpul.csv":
        body = exports.nodes_csv(net.graph, net.metrics, net.rule)
    else:
        body = exports.edges_csv(net.graph)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{_file_slug(scope)}.{suffix}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
