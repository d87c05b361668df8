"""Rendering agreements warm: a two-village Peraturan Bersama Kepala Desa (5 F4 pages) and a
perjanjian of a village with a company (4 pages; target: at most 150 ms at the median for a
4-page agreement), memory over 300 renders in one process (target: growth under 20 MiB),
and the same through the worker pool the app uses."""

from __future__ import annotations

import io
import resource
import statistics
import tempfile
import time

from bench.common import report, timed
from coopdesa import create_app
from coopdesa.documents import render as R

REPEAT = 30
MEMORY_RENDERS = 300


def _village(code: str, name: str, position: int, role: str) -> dict:
    return {
        "position": position, "role": role, "role_label": role.title(), "is_village": True,
        "name": f"Desa {name}", "actor_kind": "desa", "actor_kind_label": "Desa",
        "desa_code": code,
        "desa": {"code": code, "name": name, "kind": "desa", "kind_label": "Desa"},
        "kecamatan": {"code": code[:8], "name": "Kejajar", "kind": "kecamatan",
                      "kind_label": "Kecamatan"},
        "kabupaten": {"code": code[:5], "name": "Wonosobo", "kind": "kabupaten",
                      "kind_label": "Kabupaten"},
        "address": "", "nib": "", "npwp": "",
        "signatory_name": f"Kepala Desa {name}", "signatory_office": f"Kepala Desa {name}",
        "delegates": ["Ketua BPD", "Tokoh masyarakat"],
        "hak": ["Menerima bagian hasil usaha bersama sesuai kesepakatan.",
                "Memperoleh laporan pelaksanaan setiap triwulan dari BKAD.",
                "Mengusulkan perubahan melalui musyawarah antar-Desa."],
        "kewajiban": ["Menyediakan dana penyertaan dari APB Desa tepat waktu.",
                      "Menugaskan delegasi dalam BKAD.",
                      "Menjaga kebersihan dan keamanan jalur di wilayahnya."],
        "funding": [{"source": "apb_desa", "source_label": "APB Desa", "amount": 25_000_000,
                     "apbdes_year": 2027, "description": "Penyertaan modal"}],
        "funding_total": 25_000_000, "number": str(position + 3),
        "signature": {"name": f"Kepala Desa {name}", "office": "Kepala Desa",
                      "method": "basah", "method_label": "Tanda tangan basah",
                      "signed_on": "2026-11-22", "place": "Dieng Kulon"},
    }


def sample_payload() -> dict:
    """A two-village agreement of typical length (five F4 pages as a final document)."""
    para = ("Pengelolaan dilaksanakan secara terbuka, akuntabel dan partisipatif dengan "
            "melibatkan kelompok sadar wisata, BUM Desa bersama dan masyarakat sekitar "
            "jalur, serta dilaporkan secara berkala kepada para Kepala Desa.")
    return {
        "schema": "coopdesa.agreement/1", "ref": "KSD-2026-00042", "kind": "antar_desa",
        "kind_label": "Kerja sama antar-Desa", "initiative": "desa",
        "initiative_label": "Prakarsa desa",
        "title": "Pengelolaan Bersama Jalur Pendakian Gunung Prau", "version": 2,
        "state": "signed", "draft": False,
        "kabupaten": {"code": "33.07", "name": "Wonosobo", "kind": "kabupaten",
                      "kind_label": "Kabupaten"},
        "bkad": {"name": "BKAD Dataran Tinggi Dieng"},
        "sections": {
            "menimbang": ["bahwa jalur pendakian Gunung Prau melintasi wilayah kedua desa "
                          "dan perlu dikelola bersama untuk kesejahteraan masyarakat;",
                          "bahwa kerja sama antar-Desa memperkuat BUM Desa bersama sesuai "
                          "Pasal 92 Undang-Undang Nomor 6 Tahun 2014 tentang Desa;"],
            "mengingat": ["Undang-Undang Nomor 6 Tahun 2014 tentang Desa;",
                          "Peraturan Pemerintah Nomor 43 Tahun 2014;",
                          "Peraturan Menteri Dalam Negeri Nomor 96 Tahun 2017;"],
            "tujuan": [para], "ruang_lingkup": [para, para],
            "bidang": ["Pengembangan usaha bersama yang dimiliki oleh Desa"],
            "bidang_uraian": [], "tata_cara": [para, para, para], "perubahan": [para],
            "perselisihan": [para, para], "analisis_biaya_manfaat": [],
            "kerangka_acuan_kerja": [],
        },
        "period": {"start": "2027-01-01", "end": "2029-12-31"},
        "parties": [_village("33.07.01.2004", "Dieng", 0, "pemrakarsa"),
                    _village("33.07.01.2013", "Sembungan", 1, "mitra")],
        "funding_total": 50_000_000,
        "enactment": {"date": "2026-11-22", "place": "Dieng Kulon"},
        "document": {"code": "7KQM-4TZX-2PVA",
                     "verify_url": "https://coopdesa.example/verify/7KQM-4TZX-2PVA",
                     "paper": "f4", "created": "2026-11-22T08:00:00+00:00"},
    }


def _company(position: int) -> dict:
    return {
        "position": position, "role": "mitra", "role_label": "Mitra", "is_village": False,
        "name": "PT Wisata Alam Dieng", "actor_kind": "swasta",
        "actor_kind_label": "Badan usaha swasta", "desa_code": None, "desa": None,
        "kecamatan": None, "kabupaten": None, "address": "Jl. Sumbing No. 12, Wonosobo",
        "nib": "9120005551234", "npwp": "01.234.567.8-524.000",
        "signatory_name": "Budi Santoso", "signatory_office": "Direktur Utama",
        "delegates": [],
        "hak": ["Mengelola loket tiket dan parkir sesuai standar pelayanan yang disepakati.",
                "Menerima bagian hasil sebesar 40 % dari pendapatan bersih."],
        "kewajiban": ["Membangun dan merawat fasilitas parkir dan jalur pendakian.",
                      "Melaporkan pendapatan setiap bulan kepada Pemerintah Desa.",
                      "Mengutamakan tenaga kerja dari warga desa."],
        "funding": [{"source": "pihak_ketiga", "source_label": "Pihak ketiga",
                     "amount": 150_000_000, "apbdes_year": None,
                     "description": "Pembangunan fasilitas parkir"}],
        "funding_total": 150_000_000, "number": "001/PKS-WAD/XI/2026",
        "signature": {"name": "Budi Santoso", "office": "Direktur Utama", "method": "basah",
                      "method_label": "Tanda tangan basah", "signed_on": "2026-11-22",
                      "place": "Sembungan"},
    }


def sample_perjanjian_payload() -> dict:
    """A perjanjian kerja sama of a village with a company (pihak ketiga), its sections as
    long as the Peraturan Bersama's above: four F4 pages."""
    data = sample_payload()
    village = _village("33.07.13.2003", "Sembungan", 0, "pemrakarsa")
    village["number"] = "12/PKS/XI/2026"
    village["delegates"] = []
    village["hak"] = ["Menerima bagian hasil sebesar 60 % dari pendapatan bersih.",
                      "Memperoleh laporan pendapatan setiap bulan dari PIHAK KEDUA."]
    village["kewajiban"] = ["Menyediakan lahan parkir dan jalur pendakian milik desa.",
                            "Menjaga keamanan dan ketertiban kawasan bersama warga."]
    village["signature"]["place"] = "Sembungan"
    data.update(
        ref="KSD-2026-00043", kind="pihak_ketiga",
        kind_label="Kerja sama dengan pihak ketiga (Perjanjian Bersama)",
        title="Pengelolaan Destinasi Wisata Bukit Sikunir", bkad=None,
        parties=[village, _company(1)], funding_total=175_000_000,
        enactment={"date": "2026-11-22", "place": "Sembungan"})
    data["sections"] = {**data["sections"], "menimbang": [], "bidang": [],
                        "bidang_uraian": ["Pengembangan usaha wisata desa"]}
    return data


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _cpu_median(fn, repeat: int = REPEAT) -> float:
    """Median CPU time of ``fn`` in this process, in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        fn()
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    from coopdesa.documents import operations as docs
    from coopdesa.documents import pdf, records

    print("Agreement rendering (WeasyPrint), one process; then the worker pool")
    print(f"  HarfBuzz subsetting available: {R.harfbuzz_subset_available()}")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ENV_NAME": "testing",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.sqlite"})
        with app.test_request_context():
            def final_of(data: dict):
                url = data["document"]["verify_url"]
                return records.agreement_job(
                    data, draft=False, paper="f4", qr=docs.qr_data_uri(url),
                    code=data["document"]["code"], verify_url=url,
                    attachments=[pdf.payload_attachment(data)])

            data = sample_payload()
            final = final_of(data)
            draft = records.agreement_job(data, draft=True, paper="f4")
            perjanjian = final_of(sample_perjanjian_payload())
        started = time.perf_counter()
        first = R.render_now(final)
        cold = 1000 * (time.perf_counter() - started)
        print(f"  first render (cold: fonts, stylesheets) {cold:.0f} ms, "
              f"{_pages(first)} pages, {len(first) / 1024:.0f} KiB")
        report("final PDF/A-3b, warm, in process", timed(lambda: R.render_now(final), REPEAT))
        print(f"  {'':<48} CPU median {_cpu_median(lambda: R.render_now(final)):7.2f} ms "
              "(process time: less moved by other load on the machine)")
        report("draft, warm, in process", timed(lambda: R.render_now(draft), REPEAT))
        print(f"  {'':<48} CPU median {_cpu_median(lambda: R.render_now(draft)):7.2f} ms")
        print(f"  perjanjian with a company (sample_perjanjian_payload), "
              f"{_pages(R.render_now(perjanjian))} pages:")
        report("final PDF/A-3b perjanjian, warm, in process",
               timed(lambda: R.render_now(perjanjian), REPEAT))
        print(f"  {'':<48} CPU median "
              f"{_cpu_median(lambda: R.render_now(perjanjian)):7.2f} ms")

        before = _rss_mib()
        samples = []
        for i in range(MEMORY_RENDERS):
            R.render_now(final)
            if i % 50 == 49:
                samples.append(_rss_mib())
        print(f"  RSS over {MEMORY_RENDERS} renders: {before:.1f} -> {_rss_mib():.1f} MiB "
              f"(growth {_rss_mib() - before:+.1f} MiB; every 50: "
              f"{', '.join(f'{s:.0f}' for s in samples)})")

        pool = R.RenderPool(workers=2, memory_mb=2048)
        try:
            pool.render(final, 120)
            pool.render(final, 120)
            report("final, through the pool (1 at a time)",
                   timed(lambda: pool.render(final, 120), REPEAT, warmup=2))
            count = 60
            started = time.perf_counter()
            for result in pool.imap([final] * count):
                assert result.startswith(b"%PDF")
            elapsed = time.perf_counter() - started
            print(f"  pool of 2 workers, {count} renders: {count / elapsed:.1f} documents/s "
                  f"(median single {statistics.median([elapsed / count * 2]) * 1000:.0f} ms)")
        finally:
            pool.reset()
