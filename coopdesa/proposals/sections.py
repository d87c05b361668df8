"""The sections of a proposal: which are required for which kind, their defaults, and
the frozen text form used for versions, comparison and documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from coopdesa.i18n import format_rupiah

if TYPE_CHECKING:
    from coopdesa.proposals.models import Proposal


@dataclass(frozen=True)
class Section:
    key: str
    label: object
    #: Which proposals require it: "all", "antar_desa", or "kak" (a third-party cooperation
    #: on the village's initiative, Permendagri 96/2017).
    required_for: str = "all"
    help: object = ""


SECTIONS: tuple[Section, ...] = (
    Section("title", _l("Judul"), help=_l("Tentang apa kerja sama ini, dalam satu kalimat.")),
    Section("menimbang", _l("Menimbang (latar belakang)"),
            help=_l("Satu pertimbangan per baris; akan dinomori a, b, c.")),
    Section("mengingat", _l("Mengingat (dasar hukum)"),
            help=_l("Satu peraturan per baris; akan dinomori 1, 2, 3.")),
    Section("tujuan", _l("Maksud dan tujuan")),
    Section("ruang_lingkup", _l("Ruang lingkup")),
    Section("bidang", _l("Bidang kerja sama"),
            help=_l("Untuk kerja sama antar-Desa: bidang menurut UU 6/2014 Pasal 92 ayat (1).")),
    Section("tata_cara", _l("Tata cara dan ketentuan pelaksanaan")),
    Section("jangka_waktu", _l("Jangka waktu")),
    Section("hak_kewajiban", _l("Hak dan kewajiban para pihak")),
    Section("pendanaan", _l("Pendanaan")),
    Section("perubahan", _l("Tata cara perubahan, penundaan, dan pembatalan")),
    Section("perselisihan", _l("Penyelesaian perselisihan")),
    Section("analisis_biaya_manfaat", _l("Analisis biaya dan manfaat"), required_for="kak"),
    Section("kerangka_acuan_kerja", _l("Kerangka Acuan Kerja (KAK)"), required_for="kak"),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)
SECTION_BY_KEY = {s.key: s for s in SECTIONS}

#: Plain-text sections stored as columns of the same name.
TEXT_SECTIONS = ("title", "menimbang", "mengingat", "tujuan", "ruang_lingkup", "tata_cara",
                 "perubahan", "perselisihan", "analisis_biaya_manfaat",
                 "kerangka_acuan_kerja")

LEGAL_BASIS = {
    "antar_desa": (
        "Undang-Undang Nomor 6 Tahun 2014 tentang Desa sebagaimana telah diubah terakhir "
        "dengan Undang-Undang Nomor 3 Tahun 2024;",
        "Peraturan Pemerintah Nomor 43 Tahun 2014 tentang Peraturan Pelaksanaan "
        "Undang-Undang Nomor 6 Tahun 2014 tentang Desa sebagaimana telah diubah terakhir "
        "dengan Peraturan Pemerintah Nomor 11 Tahun 2019;",
        "Peraturan Menteri Dalam Negeri Nomor 96 Tahun 2017 tentang Tata Cara Kerja Sama Desa "
        "di Bidang Pemerintahan Desa;",
    ),
    "pihak_ketiga": (
        "Undang-Undang Nomor 6 Tahun 2014 tentang Desa sebagaimana telah diubah terakhir "
        "dengan Undang-Undang Nomor 3 Tahun 2024, khususnya Pasal 91 dan Pasal 93;",
        "Peraturan Pemerintah Nomor 43 Tahun 2014 tentang Peraturan Pelaksanaan "
        "Undang-Undang Nomor 6 Tahun 2014 tentang Desa sebagaimana telah diubah terakhir "
        "dengan Peraturan Pemerintah Nomor 11 Tahun 2019;",
        "Peraturan Menteri Dalam Negeri Nomor 96 Tahun 2017 tentang Tata Cara Kerja Sama Desa "
        "di Bidang Pemerintahan Desa;",
    ),
}


def default_legal_basis(kind: str) -> str:
    return "\n".join(LEGAL_BASIS[kind])


def applies(section: Section, proposal: Proposal) -> bool:
    from coopdesa.proposals.models import Initiative, Kind

    if section.required_for == "kak":
        return (proposal.kind == Kind.PIHAK_KETIGA
                and proposal.initiative == Initiative.DESA)
    return True


def applicable_sections(proposal: Proposal) -> list[Section]:
    return [s for s in SECTIONS if applies(s, proposal)]


def _filled(text: str | None) -> bool:
    return bool(text and text.strip())


def missing_sections(proposal: Proposal) -> list[Section]:
    """The required sections not yet filled; a proposal is submitted only when empty."""
    from coopdesa.proposals.models import Kind

    missing = []
    for section in applicable_sections(proposal):
        key = section.key
        if key in TEXT_SECTIONS:
            ok = _filled(getattr(proposal, key))
        elif key == "bidang":
            ok = bool(proposal.bidang) if proposal.kind == Kind.ANTAR_DESA \
                else _filled(proposal.bidang_uraian)
        elif key == "jangka_waktu":
            ok = proposal.start_date is not None and proposal.end_date is not None
        elif key == "hak_kewajiban":
            ok = bool(proposal.parties) and all(
                _filled(p.hak) and _filled(p.kewajiban) for p in proposal.parties)
        elif key == "pendanaan":
            ok = any(p.funding for p in proposal.parties)
        else:  # pragma: no cover - every key is handled above
            ok = True
        if not ok:
            missing.append(section)
    return missing


DISPUTE_OPENING = ("Perselisihan yang timbul dalam pelaksanaan kerja sama ini diselesaikan "
                   "terlebih dahulu secara musyawarah dan mufakat oleh para pihak.")


def is_generated_dispute_route(text: str | None) -> bool:
    """Whether ``text`` is empty or still the clause :func:`dispute_route` wrote."""
    return not text or (text.startswith(DISPUTE_OPENING) and "(PP 43/2014 Pasal 148)" in text
                        and len(text) < 1200)


def dispute_route(proposal: Proposal) -> str:
    """The route PP 43/2014 Pasal 148 gives for these parties, as a default clause."""
    from coopdesa.extensions import db
    from coopdesa.proposals.models import Kind
    from coopdesa.regions.models import Region

    villages = [db.session.get(Region, code) for code in proposal.desa_codes]
    villages = [v for v in villages if v is not None]
    kecamatan = sorted({v.ancestor_code(3) for v in villages})
    kabupaten = sorted({v.ancestor_code(2) for v in villages})
    # Legal text is Indonesian whatever the interface language.
    lines = [DISPUTE_OPENING]
    if len(kecamatan) == 1 and kecamatan[0]:
        camat = db.session.get(Region, kecamatan[0])
        lines.append(
            "Apabila musyawarah tidak mencapai mufakat, perselisihan diselesaikan oleh Camat "
            f"{camat.name if camat else ''}; penyelesaiannya bersifat final dan dituangkan "
            "dalam berita acara yang ditandatangani para pihak dan Camat "
            "(PP 43/2014 Pasal 148).")
    elif len(kabupaten) == 1 and kabupaten[0]:
        kab = db.session.get(Region, kabupaten[0])
        title = "Wali Kota" if kab and kab.kind.value == "kota" else "Bupati"
        name = kab.name.removeprefix("Kabupaten ").removeprefix("Kota ") if kab else ""
        lines.append(
            "Apabila musyawarah tidak mencapai mufakat, perselisihan antar-Desa dari "
            f"kecamatan yang berbeda diselesaikan oleh {title} {name}; penyelesaiannya "
            "bersifat final dan dituangkan dalam berita acara yang ditandatangani para pihak "
            "dan pejabat yang memfasilitasi (PP 43/2014 Pasal 148).")
    if proposal.kind == Kind.PIHAK_KETIGA:
        lines.append(
            "Perselisihan dengan pihak ketiga yang tidak dapat diselesaikan secara musyawarah "
            "diselesaikan melalui pengadilan (PP 43/2014 Pasal 148).")
    return "\n".join(lines)


def snapshot(proposal: Proposal) -> dict[str, str]:
    """Every section as plain text: what a version freezes and what comparison reads.

    Labels are rendered in Indonesian, so versions frozen by users of different interface
    languages compare equal where the content is equal."""
    from flask_babel import force_locale

    with force_locale("id"):
        return _snapshot(proposal)


def _snapshot(proposal: Proposal) -> dict[str, str]:
    from coopdesa.proposals.models import Bidang

    out: dict[str, str] = {}
    for key in TEXT_SECTIONS:
        out[key] = (getattr(proposal, key) or "").strip()
    bidang = [Bidang(b).label for b in proposal.bidang or []]
    if proposal.bidang_uraian:
        bidang.append(proposal.bidang_uraian.strip())
    out["bidang"] = "\n".join(bidang)
    out["jangka_waktu"] = (
        f"{proposal.start_date.isoformat()} s.d. {proposal.end_date.isoformat()}"
        if proposal.start_date and proposal.end_date else ""
    )
    out["parties"] = "\n".join(
        f"{p.role.label}: {p.actor.name} ({p.desa_code or p.actor.kind.label}); "
        f"penandatangan {p.signatory_name or '-'}, {p.signatory_office or '-'}"
        for p in proposal.parties
    )
    out["hak_kewajiban"] = "\n\n".join(
        f"{p.actor.name}\nHak: {(p.hak or '').strip()}\nKewajiban: {(p.kewajiban or '').strip()}"
        for p in proposal.parties
    )
    out["pendanaan"] = "\n".join(
        f"{p.actor.name}: {f.source.label} {format_rupiah(f.amount)}"
        + (f" (APB Desa {f.apbdes_year})" if f.apbdes_year else "")
        + (f" - {f.description}" if f.description else "")
        for p in proposal.parties for f in p.funding
    )
    return out
