"""A believable demo in one real kecamatan: Kejajar, Kabupaten Wonosobo (the Dieng plateau).

Six desa cooperate through a BKAD on potato farming, water and tourism; Kelurahan Kejajar
sits in the same kecamatan to show why a kelurahan cannot be a party; Desa Tieng is outside
the BKAD so that village isolation can be seen. Businesses, a dinas, the Camat's office, an
NGO and seed 002's community groups complete the cast. Never loaded in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coopdesa.accounts import operations as accounts
from coopdesa.accounts.models import Bkad, User
from coopdesa.actors import operations as actors
from coopdesa.actors.models import Actor
from coopdesa.extensions import db

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
    db.session.commit()
    return DEMO_ACCOUNTS
