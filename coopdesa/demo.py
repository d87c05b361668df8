"""A believable demo in one real kecamatan: Kejajar, Kabupaten Wonosobo (the Dieng plateau).

Six desa cooperate through a BKAD on potato farming, water and tourism (four proposals at
different points of their life, made through the operations so the audit trail is real);
Kelurahan Kejajar sits in the same kecamatan to show why a kelurahan cannot be a party;
Desa Tieng is outside the BKAD so that village isolation can be seen. Businesses, a dinas,
the Camat's office, an NGO and seed 002's community groups complete the cast. Never
loaded in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from coopdesa.accounts import operations as accounts
from coopdesa.accounts.models import Bkad, User
from coopdesa.actors import operations as actors
from coopdesa.actors.models import Actor
from coopdesa.extensions import db
from coopdesa.i18n import local_today

KECAMATAN = "33.07.13"  # Kejajar
KABUPATEN = "33.07"  # Kabupaten Wonosobo
KELURAHAN = "33.07.13.1008"  # Kejajar (kelurahan): refused as a party
DEMO_PASSWORD = "desa-maju-2026"  # noqa: S105 - printed for the demo on purpose

VILLAGES = {
    "dieng": "33.07.13.2013",
    "sembungan": "33.07.13.2003",
    "patakbanteng": "33.07.13.2014",
    "jojogan": "33.07.13.2012",
    "parikesit": "33.07.13.2011",
    "sikunang": "33.07.13.2002",
    "tieng": "33.07.13.2010",
}
BKAD_NAME = "BKAD Dataran Tinggi Dieng"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str
    scope: str


DEMO_ACCOUNTS = (
    DemoAccount("admin", "admin", DEMO_PASSWORD, "seluruh wilayah"),
    DemoAccount("sekretaris", "sekdes.dieng", DEMO_PASSWORD, "Desa Dieng"),
    DemoAccount("sekretaris", "sekdes.sembungan", DEMO_PASSWORD, "Desa Sembungan"),
    DemoAccount("sekretaris", "sekdes.tieng", DEMO_PASSWORD, "Desa Tieng (di luar BKAD)"),
    DemoAccount("ketua_bpd", "bpd.sembungan", DEMO_PASSWORD,
                "Desa Sembungan (menelaah kerja sama pihak ketiga)"),
    DemoAccount("kepala_desa", "kades.dieng", DEMO_PASSWORD, "Desa Dieng"),
    DemoAccount("kepala_desa", "kades.sembungan", DEMO_PASSWORD, "Desa Sembungan"),
    DemoAccount("bkad", "bkad.dieng", DEMO_PASSWORD, BKAD_NAME),
    DemoAccount("auditor", "camat.kejajar", DEMO_PASSWORD, "Kecamatan Kejajar"),
    DemoAccount("auditor", "inspektorat.wonosobo", DEMO_PASSWORD, "Kabupaten Wonosobo"),
)

_USERS = {
    "admin": dict(full_name="Admin Kabupaten Wonosobo", role="admin",
                  office="Dinas PMD Kabupaten Wonosobo"),
    "sekdes.dieng": dict(full_name="Sri Wahyuni", role="sekretaris", desa="dieng",
                         office="Sekretaris Desa Dieng"),
    "sekdes.sembungan": dict(full_name="Agus Priyanto", role="sekretaris", desa="sembungan",
                             office="Sekretaris Desa Sembungan"),
    "sekdes.tieng": dict(full_name="Siti Khotimah", role="sekretaris", desa="tieng",
                         office="Sekretaris Desa Tieng"),
    "bpd.sembungan": dict(full_name="Sugeng Riyanto", role="ketua_bpd", desa="sembungan",
                          office="Ketua BPD Sembungan"),
    "kades.dieng": dict(full_name="Slamet Budiono", role="kepala_desa", desa="dieng",
                        office="Kepala Desa Dieng"),
    "kades.sembungan": dict(full_name="Wahyono", role="kepala_desa", desa="sembungan",
                            office="Kepala Desa Sembungan"),
    "bkad.dieng": dict(full_name="Bambang Sutrisno", role="bkad", office="Ketua BKAD"),
    "camat.kejajar": dict(full_name="Drs. Heri Susanto", role="auditor",
                          jurisdiction=KECAMATAN, office="Camat Kejajar"),
    "inspektorat.wonosobo": dict(full_name="Ratna Dewi, S.E.", role="auditor",
                                 jurisdiction=KABUPATEN,
                                 office="Auditor Inspektorat Kabupaten Wonosobo"),
}

_ACTORS = (
    dict(name="BUM Desa Bersama Dieng Lestari", kind="bum_desa_bersama", region_code=KECAMATAN,
         nib="9120001234567", address="Jl. Raya Dieng Km 1, Kejajar, Wonosobo",
         contact_name="Slamet Riyadi", phone="0812 2711 4455"),
    dict(name="BUM Desa Sembungan Sejahtera", kind="bum_desa", region_code=VILLAGES["sembungan"],
         address="Desa Sembungan, Kejajar", contact_name="Mulyono", phone="0813 2700 1122"),
    dict(name="Koperasi Produsen Kentang Dieng Makmur", kind="koperasi",
         region_code=VILLAGES["patakbanteng"], nib="9120009876543",
         address="Dusun Patak Banteng, Kejajar", contact_name="Warsito",
         phone="0852 2588 3344"),
    dict(name="PT Wisata Alam Dieng", kind="swasta", region_code=KABUPATEN,
         nib="9120005551234", npwp="01.234.567.8-524.000",
         address="Jl. Sumbing No. 12, Wonosobo", contact_name="Hendra Wijaya",
         phone="(0286) 321456", email="kemitraan@wisataalamdieng.co.id"),
    dict(name="Dinas Pariwisata dan Kebudayaan Kabupaten Wonosobo", kind="dinas",
         region_code=KABUPATEN, address="Jl. Pemuda No. 2, Wonosobo",
         phone="(0286) 321194"),
    dict(name="Kecamatan Kejajar", kind="kecamatan", region_code=KECAMATAN,
         address="Jl. Raya Kejajar, Wonosobo"),
    dict(name="Yayasan Lestari Hulu Serayu", kind="lsm", region_code=KABUPATEN,
         address="Jl. Tumenggung Jogonegoro 5, Wonosobo", contact_name="Dewi Anggraini",
         email="sekretariat@lestarihuluserayu.or.id"),
    dict(name="Kelompok Tani Kentang Ngudi Makmur", kind="kelompok_tani",
         region_code=VILLAGES["patakbanteng"], contact_name="Pak Darmo"),
    dict(name="Masyarakat Adat Rambut Gimbal Dieng", kind="masyarakat_adat",
         region_code=VILLAGES["dieng"]),
    dict(name="Majelis Taklim Al-Ikhlas Jojogan", kind="organisasi_keagamaan",
         region_code=VILLAGES["jojogan"]),
    dict(name="TP PKK Desa Dieng", kind="organisasi_perempuan", region_code=VILLAGES["dieng"],
         contact_name="Ibu Suharti"),
    dict(name="Karang Taruna Tunas Muda Sembungan", kind="organisasi_kepemudaan",
         region_code=VILLAGES["sembungan"]),
)


def demo_loaded() -> bool:
    return db.session.scalar(sa.select(User.id).where(User.username == "sekdes.dieng")) is not None


def load_demo() -> tuple[DemoAccount, ...]:
    """Create the demo scenario once; a second call changes nothing."""
    if demo_loaded():
        return DEMO_ACCOUNTS
    for code in VILLAGES.values():
        actors.village_actor(code)
    bkad = db.session.scalar(sa.select(Bkad).where(Bkad.name == BKAD_NAME))
    if bkad is None:
        bkad = accounts.create_bkad(
            name=BKAD_NAME,
            desa_codes=[VILLAGES[k] for k in ("dieng", "sembungan", "patakbanteng", "jojogan",
                                              "parikesit", "sikunang")],
            decree="Peraturan Bersama Kepala Desa se-Dataran Tinggi Dieng Nomor 1 Tahun 2024",
        )
    for username, spec in _USERS.items():
        accounts.create_user(
            username=username, full_name=spec["full_name"], password=DEMO_PASSWORD,
            role=spec["role"], office=spec.get("office"),
            desa_code=VILLAGES[spec["desa"]] if "desa" in spec else None,
            bkad_id=bkad.id if spec["role"] == "bkad" else None,
            jurisdiction_code=spec.get("jurisdiction"),
        )
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    existing = set(db.session.scalars(sa.select(Actor.name)))
    for data in _ACTORS:
        if data["name"] not in existing:
            actors.create_actor(dict(data), by=admin)
    db.session.flush()
    _demo_proposals()
    from coopdesa.network.synthetic import demo_network

    demo_network()  # the cooperation network around Kejajar (coopdesa.network.synthetic)
    db.session.commit()
    return DEMO_ACCOUNTS


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _fill(proposal, user: User, sections: dict, parties: dict) -> None:
    """Fill sections, then each party's signatory, rights, obligations and funding."""
    from coopdesa.proposals import operations as ops

    ops.update_sections(proposal, user, sections, expected_version=None)
    for party in list(proposal.parties):
        spec = parties[party.desa_code or party.actor.name]
        ops.update_party(proposal, user, party.id, spec["party"], expected_version=None)
        if spec.get("funding"):
            ops.set_funding(proposal, user, party.id, spec["funding"], expected_version=None)


def _demo_proposals() -> None:
    """Four proposals at different points of their life, made through the operations so
    that the audit trail, versions and review records are real."""

    from coopdesa.proposals import operations as ops

    dieng, sembungan = _user("sekdes.dieng"), _user("sekdes.sembungan")
    bkad_user = _user("bkad.dieng")
    # Third-party proposals are reviewed by the role COOPDESA_THIRD_PARTY_REVIEWER names.
    reviewer_role = current_app.config.get("THIRD_PARTY_REVIEWER_ROLE", "ketua_bpd")
    village_reviewer = _user("bpd.sembungan" if reviewer_role == "ketua_bpd"
                             else "kades.sembungan")
    year = local_today().year + 1

    def village(code: str, kades: str, hak: str, kewajiban: str, amount: int) -> dict:
        return {"party": {"signatory_name": kades, "signatory_office": "Kepala Desa",
                          "delegates": "Ketua BPD\nTokoh masyarakat", "hak": hak,
                          "kewajiban": kewajiban},
                "funding": [{"source": "apb_desa", "amount": amount, "apbdes_year": year,
                             "description": "Penyertaan dalam APB Desa"}]}

    # 1. Air bersih Telaga Cebong: reviewed, changes requested, resubmitted, approved.
    air = ops.create_proposal(dieng, kind="antar_desa", initiative="desa",
                              title="Pengelolaan Bersama Air Bersih dari Telaga Cebong",
                              partner_desa_codes=[VILLAGES["sembungan"]])
    _fill(air, dieng, {
        "menimbang": "bahwa sumber air Telaga Cebong dimanfaatkan bersama oleh warga Desa "
                     "Dieng dan Desa Sembungan;\nbahwa pengelolaan bersama diperlukan agar "
                     "pembagian air adil dan daya dukung telaga terjaga;",
        "tujuan": "Menjamin air bersih bagi warga kedua desa sepanjang tahun.",
        "ruang_lingkup": "Perawatan jaringan pipa, pembagian debit, dan iuran pemeliharaan.",
        "bidang": ["kemasyarakatan"],
        "tata_cara": "BKAD membentuk unit pengelola air yang beranggotakan wakil kedua desa; "
                     "pembagian debit ditetapkan setiap musim kemarau.",
        "start_date": f"{year}-01-01", "end_date": f"{year + 4}-12-31",
        "perubahan": "Perubahan, penundaan, atau pembatalan dimusyawarahkan oleh para pihak "
                     "dan dituangkan dalam peraturan bersama perubahan.",
    }, {
        VILLAGES["dieng"]: village(VILLAGES["dieng"], "Slamet Budiono",
                                   "Memperoleh 60% debit air pada musim kemarau.",
                                   "Merawat jaringan pipa di wilayah Desa Dieng.", 40_000_000),
        VILLAGES["sembungan"]: village(VILLAGES["sembungan"], "Wahyono",
                                       "Memperoleh 40% debit air pada musim kemarau.",
                                       "Menjaga kawasan tangkapan air Telaga Cebong.",
                                       25_000_000),
    })
    ops.transition(air, dieng, "submit")
    ops.transition(air, bkad_user, "start_review")
    ops.add_comment(air, bkad_user, "Mohon jelaskan dasar pembagian 60:40.",
                    section="hak_kewajiban")
    ops.transition(air, bkad_user, "request_changes",
                   points=["Jelaskan dasar pembagian debit 60:40 (jumlah jiwa per desa).",
                           "Tambahkan iuran pemeliharaan per rumah tangga."])
    ops.update_sections(air, dieng, {
        "ruang_lingkup": "Perawatan jaringan pipa, pembagian debit menurut jumlah jiwa, dan "
                         "iuran pemeliharaan Rp5.000 per rumah tangga per bulan.",
    }, expected_version=None)
    ops.transition(air, dieng, "submit")
    ops.transition(air, bkad_user, "start_review")
    ops.transition(air, bkad_user, "approve")

    # 2. Kentang: submitted to the BKAD, awaiting review.
    kentang = ops.create_proposal(dieng, kind="antar_desa", initiative="desa",
                                  title="Pemasaran Bersama Kentang Dataran Tinggi Dieng",
                                  partner_desa_codes=[VILLAGES["patakbanteng"],
                                                      VILLAGES["sikunang"]])
    _fill(kentang, dieng, {
        "menimbang": "bahwa petani kentang ketiga desa menjual hasil panen secara terpisah "
                     "dengan harga rendah;",
        "tujuan": "Meningkatkan harga jual kentang melalui pemasaran bersama.",
        "ruang_lingkup": "Pengumpulan, sortasi, dan penjualan bersama melalui BUM Desa "
                         "Bersama Dieng Lestari.",
        "bidang": ["usaha_bersama"],
        "tata_cara": "Hasil panen dikumpulkan di gudang bersama dan dijual oleh BUM Desa "
                     "Bersama.",
        "start_date": f"{year}-03-01", "end_date": f"{year + 2}-02-28",
        "perubahan": "Dimusyawarahkan dalam musyawarah antar-Desa.",
    }, {
        code: village(code, name, "Memperoleh bagi hasil sesuai volume panen.",
                      "Menyertakan modal dan mendata petani.", 15_000_000)
        for code, name in ((VILLAGES["dieng"], "Slamet Budiono"),
                           (VILLAGES["patakbanteng"], "Parjo"),
                           (VILLAGES["sikunang"], "Suroto"))
    })
    ops.transition(kentang, dieng, "submit")

    # 3. Wisata Sikunir with a business: a draft of Sembungan, with the cost-benefit
    # analysis still to write.
    actor = db.session.scalar(sa.select(Actor).where(Actor.name == "PT Wisata Alam Dieng"))
    wisata = ops.create_proposal(sembungan, kind="pihak_ketiga", initiative="desa",
                                 title="Pengelolaan Destinasi Wisata Bukit Sikunir",
                                 third_party_actor_ids=[actor.id])
    ops.update_sections(wisata, sembungan, {
        "tujuan": "Meningkatkan pendapatan asli desa dari wisata matahari terbit Sikunir "
                  "tanpa merusak kawasan.",
        "ruang_lingkup": "Tiket masuk, parkir, dan jalur pendakian Bukit Sikunir.",
        "bidang_uraian": "Pengembangan usaha wisata desa",
    }, expected_version=None)

    # 4. A pihak ketiga proposal under the BPD's review, for the reviewer account.
    homestay = ops.create_proposal(sembungan, kind="pihak_ketiga", initiative="desa",
                                   title="Pelatihan dan Sertifikasi Homestay Sembungan",
                                   third_party_actor_ids=[
                                       db.session.scalar(sa.select(Actor.id).where(
                                           Actor.name == "Dinas Pariwisata dan Kebudayaan "
                                                         "Kabupaten Wonosobo"))])
    _fill(homestay, sembungan, {
        "menimbang": "bahwa homestay warga belum memenuhi standar layanan wisata;",
        "tujuan": "Tiga puluh homestay bersertifikat dalam dua tahun.",
        "ruang_lingkup": "Pelatihan pengelola, pendampingan, dan sertifikasi homestay.",
        "bidang_uraian": "Pemberdayaan masyarakat di bidang pariwisata",
        "tata_cara": "Dinas menyediakan pelatih; desa menyiapkan peserta dan tempat.",
        "start_date": f"{year}-02-01", "end_date": f"{year + 1}-12-31",
        "perubahan": "Dimusyawarahkan dalam Musyawarah Desa dan disepakati para pihak.",
        "analisis_biaya_manfaat": "Biaya pelatihan Rp60.000.000; tambahan pendapatan warga "
                                  "diperkirakan Rp300.000.000 per tahun.",
        "kerangka_acuan_kerja": "Latar belakang, tujuan, keluaran (30 homestay "
                                "bersertifikat), jadwal, dan anggaran terlampir.",
    }, {
        VILLAGES["sembungan"]: village(VILLAGES["sembungan"], "Wahyono",
                                       "Memperoleh pelatihan dan sertifikasi.",
                                       "Menyiapkan peserta dan tempat pelatihan.", 10_000_000),
        "Dinas Pariwisata dan Kebudayaan Kabupaten Wonosobo": {
            "party": {"signatory_name": "Kepala Dinas", "signatory_office":
                      "Kepala Dinas Pariwisata dan Kebudayaan", "hak": "Memperoleh data "
                      "homestay untuk promosi daerah.", "kewajiban": "Menyediakan pelatih "
                      "dan biaya sertifikasi."},
            "funding": [{"source": "apbd_kabupaten", "amount": 50_000_000,
                         "description": "DPA Dinas Pariwisata"}]},
    })
    ops.transition(homestay, sembungan, "submit")
    ops.transition(homestay, village_reviewer, "start_review")

    # 5. Sampah wisata: deliberated, assessed, signed by both Kepala Desa and in force,
    # with its final PDF and public verification code.
    _signed_agreement(village, dieng, sembungan, bkad_user)


def _signed_agreement(village, dieng: User, sembungan: User, bkad_user: User) -> None:
    """An agreement carried through every gate by the operations, as the pages would."""
    import datetime as dt

    from coopdesa.deliberations import operations as meetings
    from coopdesa.documents import operations as documents
    from coopdesa.proposals import operations as ops
    from coopdesa.reports import operations as reports
    from coopdesa.sustainability import operations as sustainability

    today = local_today()
    # In force for seven months, reporting every quarter (as its tata cara says): two
    # quarters have ended, the first report is overdue, whatever the day the demo loads.
    month = today.year * 12 + today.month - 1 - 7
    start = dt.date(month // 12, month % 12 + 1, 1)
    end = dt.date(start.year + 3, start.month, 1) - dt.timedelta(days=1)
    sampah = ops.create_proposal(dieng, kind="antar_desa", initiative="desa",
                                 title="Pengelolaan Bersama Sampah Kawasan Wisata Dieng",
                                 partner_desa_codes=[VILLAGES["sembungan"]])
    _fill(sampah, dieng, {
        "menimbang": "bahwa sampah dari kunjungan wisata ke Telaga Cebong dan Bukit Sikunir "
                     "mencemari lahan pertanian dan sumber air kedua desa;\nbahwa pengelolaan "
                     "sampah lebih berdaya guna bila dilakukan bersama melalui BUM Desa "
                     "Bersama;",
        "tujuan": "Kawasan wisata bebas sampah dan pendapatan dari daur ulang bagi kedua "
                  "desa.",
        "ruang_lingkup": "Pengumpulan sampah di jalur wisata, pemilahan di tempat olah "
                         "sampah terpadu, penjualan bahan daur ulang, dan penyuluhan warga.",
        "bidang": ["kemasyarakatan", "usaha_bersama"],
        "tata_cara": "BKAD menugaskan unit pengelola sampah; setiap desa menyediakan dua "
                     "petugas; laporan keuangan dan kegiatan disampaikan setiap triwulan "
                     "kepada para Kepala Desa.",
        "start_date": start.isoformat(), "end_date": end.isoformat(),
        "perubahan": "Perubahan, penundaan, atau pembatalan dimusyawarahkan dalam "
                     "musyawarah antar-Desa dan dituangkan dalam peraturan bersama "
                     "perubahan.",
    }, {
        VILLAGES["dieng"]: village(VILLAGES["dieng"], "Slamet Budiono",
                                   "Memperoleh 50% hasil penjualan bahan daur ulang.",
                                   "Menyediakan lahan tempat olah sampah terpadu.",
                                   1_001_000),
        VILLAGES["sembungan"]: village(VILLAGES["sembungan"], "Wahyono",
                                       "Memperoleh 50% hasil penjualan bahan daur ulang.",
                                       "Menyediakan kendaraan pengangkut sampah.",
                                       20_000_000),
    })
    ops.transition(sampah, dieng, "submit")
    ops.transition(sampah, bkad_user, "start_review")
    ops.transition(sampah, bkad_user, "approve")
    held = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)

    def deliberate(user: User, data: dict, element: str) -> None:
        meeting = meetings.record_meeting(user, {
            "held_at": held.isoformat(), "place": "Balai Desa", "proposal_ids": [sampah.id],
            **data})
        rows = [{"name": f"{name} ({code[-4:]})", "element": element, "gender": "LP"[i % 2],
                 "desa_code": code, "invited": True, "present": True}
                for code in meeting.desa_codes
                for i, name in enumerate(("Sutrisno", "Siti Aminah", "Darmaji"))]
        meetings.set_attendance(meeting, user, rows)
        meetings.record_decision(meeting, user, meeting.agenda[0].id,
                                 {"method": "mufakat", "outcome": "agreed"})

    for code, user in ((VILLAGES["dieng"], dieng), (VILLAGES["sembungan"], sembungan)):
        deliberate(user, {"kind": "musyawarah_desa", "desa_code": code,
                          "chair_name": "Ketua BPD", "secretary_name": "Sekretaris BPD"},
                   "bpd")
    deliberate(bkad_user, {"kind": "musyawarah_antar_desa", "chair_name": "Bambang Sutrisno",
                           "secretary_name": "Sekretaris BKAD",
                           "villages": [VILLAGES["dieng"], VILLAGES["sembungan"]]},
               "delegasi_desa")
    answers = {c.code: {"score": 3, "evidence": "Dibahas dalam musyawarah; bukti terlampir."}
               for c in sustainability.applicable_criteria(sampah)}
    sustainability.create_assessment(sampah, dieng, answers, "Sri Wahyuni",
                                     "Sekretaris Desa Dieng")
    ops.transition(sampah, dieng, "agree")
    reports.set_schedule(sampah, dieng, "quarterly")
    for number, (party, user) in enumerate(zip(sampah.parties, (dieng, sembungan),
                                               strict=True), start=1):
        documents.record_signature(sampah, user, party.id, {
            "number": str(number), "signed_on": today.isoformat(), "place": "Dieng Kulon",
            "method": "basah"}, today=today)
