"""The dashboard page ``/dasbor``: the agreements of the user's jurisdiction in numbers and
SVG charts (``coopdesa.network.dashboard`` computes, ``coopdesa.network.charts`` draws)."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from coopdesa import access
from coopdesa.access import Action, NetworkOf
from coopdesa.extensions import db
from coopdesa.i18n import format_rupiah
from coopdesa.network.charts import bar_chart, stacked_bars
from coopdesa.network.dashboard import (
    BIDANG_SHORT,
    KIND_SHORT,
    JurisdictionDashboard,
    jurisdiction_dashboard,
)
from coopdesa.network.graph import Scope, ScopeKind
from coopdesa.network.stages import Stage

bp = Blueprint("dashboard", __name__)

#: Overdue reports listed on the page; the rest are counted (all on /laporan/ringkasan).
OVERDUE_SHOWN = 20
#: Okabe-Ito colours: the two kinds, and the funding sources in turn.
KIND_COLOURS = ["#0072B2", "#CC79A7"]
FUNDING_COLOURS = ["#009E73", "#0072B2", "#E69F00", "#56B4E9", "#D55E00", "#CC79A7",
                   "#F0E442", "#999999"]


def network_url(key: str | None) -> str | None:
    """The network page of scope ``key`` when the user may open it and the page exists."""
    if not key:
        return None
    kind, _sep, code = key.partition(":")
    scope = Scope(ScopeKind(kind), code)
    if not access.can(current_user, Action.VIEW, NetworkOf(scope)):
        return None
    try:
        return url_for("network.scope", key=key)
    except BuildError:
        return None


def charts(data: JurisdictionDashboard) -> dict:
    stage_series = [(s.value, s.label, s.colour) for s in Stage]
    row_titles = {"kecamatan": _("Tahap desa per kecamatan"),
                  "kabupaten": _("Tahap desa per kabupaten/kota"),
                  "provinsi": _("Tahap desa per provinsi")}
    return {
        "state": bar_chart([(s.label, n) for s, n in data.by_state],
                           title=_("Usulan dan kerja sama menurut status")),
        "kind": bar_chart([(str(KIND_SHORT[k]), n) for k, n in data.by_kind],
                          title=_("Usulan dan kerja sama menurut jenis"),
                          colours=KIND_COLOURS),
        "bidang": bar_chart([(str(BIDANG_SHORT[b]), n) for b, n in data.by_bidang],
                            title=_("Usulan dan kerja sama menurut bidang")),
        "funding": bar_chart([(s.label, amount) for s, amount in data.funding],
                             title=_("Pendanaan kerja sama yang mengikat menurut sumber"),
                             colours=FUNDING_COLOURS, value_label=format_rupiah),
        "stages": stacked_bars(data.stages.rows,
                               title=row_titles.get(data.stages.row_level,
                                                    _("Tahap desa")),
                               series=stage_series),
    }


@bp.route("/dasbor")
@login_required
def index():
    access.require(current_user, Action.LIST, "proposal")
    data = jurisdiction_dashboard(current_user)
    db.session.commit()  # a stale stored network result may have been refreshed
    return render_template(
        "network/dashboard.html", data=data, charts=charts(data), stages=list(Stage),
        overdue_limit=OVERDUE_SHOWN,
        network_url=network_url(data.stages.network_key),
        own_network_url=network_url(f"desa:{current_user.desa_code}")
        if getattr(current_user, "desa_code", None) else None)
