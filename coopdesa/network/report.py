"""The network report PDF of a kecamatan, a kabupaten/kota or a BKAD: the drawing, the
summary, the stage distribution and the metrics of every desa, rendered by the same safe
document renderer as the agreements (coopdesa.documents.render)."""

from __future__ import annotations

from flask_babel import force_locale

from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.documents import pdf
from coopdesa.documents.render import RenderJob
from coopdesa.i18n import local_today
from coopdesa.network.operations import ScopeNetwork
from coopdesa.network.stages import Stage


def report_job(net: ScopeNetwork, *, paper: str = "f4") -> RenderJob:
    from coopdesa.network.drawing import draw

    with force_locale("id"):
        drawing = draw(net.graph, net.metrics, title=f"Jaringan kerja sama {net.scope.label}",
                       for_print=True)
        context = dict(
            net=net, drawing=drawing, today=local_today(), stages=list(Stage),
            stage_rows=net.stage_rows(), desa_rows=net.desa_rows(),
            partner_rows=net.partner_rows(),
            category_letters={"desa": "D", "usaha": "U", "pemerintah": "P",
                              "masyarakat_sipil": "S", "kelompok_masyarakat": "K"},
            filter_labels=_filter_labels(net),
            category_labels={c.value: c.label for c in ActorCategory},
            kind_labels={k.value: k.label for k in ActorKind},
            stage_labels={s: s.label for s in Stage})
        return pdf.job("network_report.html", paper=paper, draft=False,
                       docnum=f"Laporan Jaringan Kerja Sama {net.scope.label}", **context)


def _filter_labels(net: ScopeNetwork) -> list[str]:
    labels = [net.filters.state.label]
    if net.filters.bidang:
        labels.append(f"bidang {net.filters.bidang.label}")
    if net.filters.year:
        labels.append(f"tahun {net.filters.year}")
    return labels
