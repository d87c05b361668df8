"""The registry of parties: validation, the /pihak pages, locking, search and access."""

from __future__ import annotations

import html as html_lib
import re

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.actors import operations as ops
from coopdesa.actors.models import Actor, ActorCategory, ActorKind
from coopdesa.errors import ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.regions.models import Region
from tests.conftest import (
    BANJARNEGARA,
    DIENG,
    DIENG_KULON,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    MIROTO,
    PASSWORD,
    SEMBUNGAN,
    WONOSOBO,
    count_statements,
)
from tests.factories import ActorFactory, AdminFactory, UserFactory


def signed_in(app, user):
    """A second, independent browser signed in as ``user``."""
    client = app.test_client()
    response = client.post("/masuk", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def reload(actor_id: int) -> Actor:
    db.session.expire_all()
    return db.session.get(Actor, actor_id)


def fields_of(excinfo) -> set[str]:
    return set(excinfo.value.fields)


def text(response) -> str:
    return response.get_data(as_text=True)


def hidden_version(page: str) -> str:
    match = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page)
    assert match, "no version field on the form"
    return match.group(1)


FORM = {
    "kind": "koperasi", "name": "", "desa_code": "", "region_code": "", "nib": "",
    "npwp": "", "address": "", "contact_name": "", "phone": "", "email": "", "notes": "",
}


def form(**values) -> dict:
    return {**FORM, **values}


# --- operations: creating ------------------------------------------------------------------

def test_create_an_actor_of_every_kind_and_category(app):
    created = []
    for kind in ActorKind:
        if kind == ActorKind.DESA:
            data = {"kind": "desa", "desa_code": DIENG}
        else:
            data = {"kind": kind.value, "name": f"Pihak {kind.value}", "region_code": KEJAJAR}
        actor = ops.create_actor(data)
        assert actor.id is not None
        assert actor.kind == kind
        assert actor.category == kind.category
        created.append(actor)
    db.session.commit()
    assert {a.category for a in created} == set(ActorCategory)
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == len(ActorKind)
    swasta = next(a for a in created if a.kind == ActorKind.SWASTA)
    assert swasta.category == ActorCategory.USAHA
    assert swasta.desa_code is None
    assert swasta.region_code == KEJAJAR
    assert next(a for a in created if a.kind == ActorKind.KELOMPOK_NELAYAN).category == \
        ActorCategory.KELOMPOK_MASYARAKAT


def test_create_records_who_registered(app):
    secretary = UserFactory(role=Role.SEKRETARIS, desa_code=SEMBUNGAN)
    bkad_user = UserFactory(role=Role.BKAD)
    by_secretary = ops.create_actor({"kind": "lsm", "name": "LSM A"}, by=secretary)
    by_bkad = ops.create_actor({"kind": "lsm", "name": "LSM B"}, by=bkad_user)
    assert by_secretary.created_by_id == secretary.id
    assert by_secretary.owner_desa_code == SEMBUNGAN
    assert by_bkad.created_by_id == bkad_user.id
    assert by_bkad.owner_desa_code is None


def test_desa_actor_takes_its_name_from_the_register(app):
    actor = ops.create_actor({"kind": "desa", "desa_code": "3307132013",
                              "region_code": WONOSOBO})
    assert actor.name == "Desa Dieng"
    assert actor.desa_code == DIENG
    assert actor.region_code == DIENG  # the village itself, whatever was sent
    named = ops.create_actor({"kind": "desa", "desa_code": SEMBUNGAN,
                              "name": "Pemerintah Desa Sembungan"})
    assert named.name == "Pemerintah Desa Sembungan"


@pytest.mark.parametrize("code", [KELURAHAN_KEJAJAR, MIROTO])
def test_kelurahan_cannot_be_a_desa_actor(app, code):
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "desa", "desa_code": code})
    assert fields_of(info) == {"desa_code"}
    message = info.value.fields["desa_code"][0]
    assert "Kelurahan" in message and "BPD" in message
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 0


@pytest.mark.parametrize(("code", "words"), [
    (KEJAJAR, "bukan desa"),
    ("33.07.13.2999", "tidak ada dalam daftar"),
    ("", "Pilih desa"),
])
def test_desa_actor_needs_a_real_village(app, code, words):
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "desa", "desa_code": code})
    assert fields_of(info) == {"desa_code"}
    assert words in info.value.fields["desa_code"][0]


def test_duplicate_desa_actor_is_refused(app):
    ops.create_actor({"kind": "desa", "desa_code": DIENG})
    db.session.commit()
    for code in (DIENG, "3307132013"):
        with pytest.raises(ValidationError) as info:
            ops.create_actor({"kind": "desa", "desa_code": code, "name": "Desa Dieng Lagi"})
        assert fields_of(info) == {"desa_code"}
        assert "sudah terdaftar" in info.value.fields["desa_code"][0]
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 1


def test_only_a_desa_actor_has_a_desa_code(app):
    actor = ops.create_actor({"kind": "swasta", "name": "PT Wisata", "desa_code": DIENG})
    assert actor.desa_code is None


def test_unknown_region_code_is_refused(app):
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "lsm", "name": "LSM", "region_code": "33.07.99"})
    assert fields_of(info) == {"region_code"}
    assert ops.create_actor({"kind": "lsm", "name": "LSM",
                             "region_code": "330713"}).region_code == KEJAJAR


@pytest.mark.parametrize(("raw", "stored"), [
    ("1234567890123", "1234567890123"),
    (" 1234 5678 90123 ", "1234567890123"),
])
def test_nib_of_13_digits_is_accepted(app, raw, stored):
    assert ops.create_actor({"kind": "swasta", "name": "PT A", "nib": raw}).nib == stored


@pytest.mark.parametrize("raw", ["123", "12345678901234", "123456789012a", "abcdefghijklm"])
def test_nib_must_be_13_digits(app, raw):
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "swasta", "name": "PT A", "nib": raw})
    assert info.value.fields == {"nib": ["NIB terdiri atas 13 angka."]}


@pytest.mark.parametrize("raw", ["01.234.567.8-524.000", "012345678524000"])
def test_valid_npwp_is_normalised(app, raw):
    actor = ops.create_actor({"kind": "swasta", "name": "PT A", "npwp": raw})
    assert actor.npwp == "01.234.567.8-524.000"


@pytest.mark.parametrize("raw", ["123", "01.234.567.8-524", "abc"])
def test_invalid_npwp_is_refused(app, raw):
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "swasta", "name": "PT A", "npwp": raw})
    assert fields_of(info) == {"npwp"}
    assert "NPWP tidak valid" in info.value.fields["npwp"][0]


@pytest.mark.parametrize("raw", ["0812 2711 4455", "+62 812-2711-4455", "6281227114455"])
def test_phone_is_normalised_to_e164(app, raw):
    actor = ops.create_actor({"kind": "lsm", "name": "LSM", "phone": raw})
    assert actor.phone == "+6281227114455"


@pytest.mark.parametrize("raw", ["12", "081", "telepon"])
def test_invalid_phone_is_refused(app, raw):
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "lsm", "name": "LSM", "phone": raw})
    assert fields_of(info) == {"phone"}
    assert "Nomor telepon tidak valid" in info.value.fields["phone"][0]


def test_email_is_checked(app):
    ok = ops.create_actor({"kind": "lsm", "name": "LSM", "email": " info@lsm.or.id "})
    assert ok.email == "info@lsm.or.id"
    for bad in ("bukan surel", "a@b", "@lsm.or.id", "a@@b.id"):
        with pytest.raises(ValidationError) as info:
            ops.create_actor({"kind": "lsm", "name": "LSM", "email": bad})
        assert info.value.fields == {"email": ["Alamat surel tidak valid."]}, bad


def test_every_error_is_reported_at_once(app):
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "tidak-ada", "name": " ", "nib": "1", "npwp": "123",
                          "phone": "12", "email": "x", "region_code": "99.99"})
    assert fields_of(info) == {"kind", "name", "nib", "npwp", "phone", "email", "region_code"}
    assert all(len(messages) == 1 for messages in info.value.fields.values())
    assert info.value.message == info.value.fields["kind"][0]


def test_kind_desa_cannot_be_changed(app):
    village = ops.create_actor({"kind": "desa", "desa_code": DIENG})
    other = ops.create_actor({"kind": "lsm", "name": "LSM"})
    with pytest.raises(ValidationError) as info:
        ops.update_actor(village, {"kind": "lsm", "name": "X"},
                         expected_version=village.version)
    assert fields_of(info) == {"kind"}
    with pytest.raises(ValidationError):
        ops.update_actor(other, {"kind": "desa", "desa_code": SEMBUNGAN},
                         expected_version=other.version)


def test_update_advances_the_version_and_refuses_a_stale_one(app):
    actor = ops.create_actor({"kind": "lsm", "name": "LSM Lama"})
    db.session.commit()
    assert actor.version == 1
    ops.update_actor(actor, {"kind": "lsm", "name": "LSM Baru"}, expected_version=1)
    db.session.commit()
    assert reload(actor.id).version == 2
    with pytest.raises(ConflictError) as info:
        ops.update_actor(actor, {"kind": "lsm", "name": "LSM Basi"}, expected_version=1)
    current = info.value.details["current"]
    assert current["name"] == "LSM Baru"
    assert current["version"] == 2
    db.session.rollback()
    assert reload(actor.id).name == "LSM Baru"


# --- HTML form -----------------------------------------------------------------------------

def test_form_creates_and_redirects_to_the_detail_page(login):
    client = login(UserFactory())
    response = client.post("/pihak/baru", data=form(
        kind="swasta", name="CV Carica Dieng", region_code=DIENG, phone="0812 2711 4455",
        npwp="012345678524000"))
    assert response.status_code == 302
    actor = db.session.scalar(sa.select(Actor).where(Actor.name == "CV Carica Dieng"))
    assert actor is not None
    assert response.headers["Location"].endswith(f"/pihak/{actor.id}")
    page = text(client.get(f"/pihak/{actor.id}"))
    assert "CV Carica Dieng telah didaftarkan." in page
    assert "+6281227114455" in page
    assert "01.234.567.8-524.000" in page
    assert "Dieng, Kejajar, Kabupaten Wonosobo, Jawa Tengah" in page


def test_form_shows_indonesian_errors_and_keeps_the_input(login):
    client = login(UserFactory())
    typed = form(kind="koperasi", name="Koperasi Tani Makmur", region_code="33.07.13",
                 nib="12345", npwp="123", phone="0812", email="bukan-surel",
                 address="Jl. Raya Dieng No. 7", contact_name="Siti Aminah",
                 notes="Catatan uji yang panjang")
    response = client.post("/pihak/baru", data=typed)
    assert response.status_code == 200
    page = text(response)
    assert "Periksa kembali isian berikut:" in page
    for message in ("NIB terdiri atas 13 angka.", "NPWP tidak valid",
                    "Nomor telepon tidak valid", "Alamat surel tidak valid."):
        assert message in page
    for name in ("name", "region_code", "nib", "npwp", "phone", "email", "contact_name"):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(typed[name])}"', page) or \
            re.search(rf'value="{re.escape(typed[name])}"[^>]*name="{name}"', page), name
    assert re.search(r'name="address"[^>]*>\s*Jl\. Raya Dieng No\. 7</textarea>', page)
    assert re.search(r'name="notes"[^>]*>\s*Catatan uji yang panjang</textarea>', page)
    assert re.search(r'<option selected value="koperasi">|<option value="koperasi" selected',
                     page)
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 0


def test_form_without_kind_or_name(login):
    client = login(UserFactory())
    page = text(client.post("/pihak/baru", data=form(kind="", name="",
                                                     contact_name="Pak Darto")))
    assert "Pilih jenis pihak." in page
    assert 'value="Pak Darto"' in page
    page = text(client.post("/pihak/baru", data=form(kind="lsm", name="")))
    assert "Nama pihak wajib diisi." in page
    page = text(client.post("/pihak/baru", data=form(kind="desa", desa_code=MIROTO)))
    assert "Kelurahan Miroto tidak dapat menjadi pihak" in page
    assert f'value="{MIROTO}"' in page
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 0


HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'


def assert_escaped(page: str) -> None:
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert '"><img' not in page


def test_hostile_input_is_stored_verbatim_and_rendered_escaped(login):
    client = login(UserFactory())
    name = HOSTILE_NAME + " " + HOSTILE_ATTR
    response = client.post("/pihak/baru", data=form(
        kind="lsm", name=name, contact_name=HOSTILE_ATTR, address=HOSTILE_NAME,
        notes=HOSTILE_ATTR + "\n" + HOSTILE_NAME))
    assert response.status_code == 302
    actor = db.session.scalar(sa.select(Actor))
    assert actor.name == name
    assert actor.contact_name == HOSTILE_ATTR
    assert actor.address == HOSTILE_NAME
    assert actor.notes == HOSTILE_ATTR + "\n" + HOSTILE_NAME

    detail = text(client.get(f"/pihak/{actor.id}"))  # also shows the flash with the name
    assert_escaped(detail)
    assert html_lib.escape(HOSTILE_NAME, quote=False) in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert html_lib.unescape(detail).count(HOSTILE_NAME) >= 3  # title, heading, address

    listing = text(client.get("/pihak/"))
    assert_escaped(listing)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    searched = text(client.get("/pihak/", query_string={"q": HOSTILE_ATTR}))
    assert_escaped(searched)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in searched  # the query found it

    edit = text(client.get(f"/pihak/{actor.id}/ubah"))
    assert_escaped(edit)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in edit


def test_hostile_input_is_escaped_when_the_form_comes_back(login):
    client = login(UserFactory())
    page = text(client.post("/pihak/baru", data=form(kind="lsm", name=HOSTILE_ATTR,
                                                     email=HOSTILE_NAME)))
    assert "Alamat surel tidak valid." in page
    assert_escaped(page)
    assert "&lt;script&gt;" in page


# --- optimistic locking --------------------------------------------------------------------

def test_two_edits_from_the_same_version(app, login):
    actor = ActorFactory(name="Koperasi Awal", kind=ActorKind.KOPERASI)
    first = login(AdminFactory())
    second = signed_in(app, AdminFactory())

    opened = text(first.get(f"/pihak/{actor.id}/ubah"))
    assert hidden_version(opened) == "1"
    assert hidden_version(text(second.get(f"/pihak/{actor.id}/ubah"))) == "1"

    saved = second.post(f"/pihak/{actor.id}/ubah", data=form(
        kind="koperasi", name="Koperasi Sumber Rejeki", region_code=KEJAJAR,
        phone="0812 2711 4455", version="1"))
    assert saved.status_code == 302
    assert reload(actor.id).version == 2

    late = first.post(f"/pihak/{actor.id}/ubah", data=form(
        kind="koperasi", name="Koperasi Tani Makmur", region_code=KEJAJAR,
        contact_name="Pak Darto", version="1"))
    assert late.status_code == 200
    page = text(late)
    assert "telah diubah oleh orang lain" in page
    assert 'value="Koperasi Tani Makmur"' in page  # what this user typed stays
    assert 'value="Pak Darto"' in page
    assert "Data terbaru yang disimpan orang lain:" in page
    assert "Koperasi Sumber Rejeki" in page  # the other person's saved values
    assert "+6281227114455" in page
    assert hidden_version(page) == "2"  # the next save applies to the current record
    current = reload(actor.id)
    assert current.name == "Koperasi Sumber Rejeki"
    assert current.contact_name is None
    assert current.version == 2

    again = first.post(f"/pihak/{actor.id}/ubah", data=form(
        kind="koperasi", name="Koperasi Tani Makmur", region_code=KEJAJAR,
        contact_name="Pak Darto", version=hidden_version(page)))
    assert again.status_code == 302
    current = reload(actor.id)
    assert current.name == "Koperasi Tani Makmur"
    assert current.contact_name == "Pak Darto"
    assert current.version == 3


# --- search and pagination -----------------------------------------------------------------

@pytest.fixture
def registry(app):
    def make(**values):
        actor = ops.create_actor(values)
        db.session.commit()
        return actor.id

    return {
        "koperasi": make(kind="koperasi", name="Koperasi Sumber Rejeki", region_code=KEJAJAR),
        "cv": make(kind="swasta", name="CV Dieng Wisata", region_code=DIENG,
                   nib="1234567890123"),
        "lsm": make(kind="lsm", name="LSM Peduli dieng", region_code=DIENG_KULON),
        "desa": make(kind="desa", desa_code=DIENG),
        "tani": make(kind="kelompok_tani", name="Kelompok Tani Sembungan",
                     region_code=SEMBUNGAN),
        "dinas": make(kind="dinas", name="Dinas PMD Wonosobo", region_code=WONOSOBO),
        "persen": make(kind="ormas", name="Gerakan 100% Desa"),
        "garis": make(kind="ormas", name="Forum_Pemuda"),
    }


def found(**filters) -> set[int]:
    return {a.id for a in ops.search_actors(**filters).items}


def test_search_actors_by_text(registry):
    r = registry
    assert found(text="dieng") == {r["cv"], r["lsm"], r["desa"]}
    assert found(text="  DIENG wisata ") == {r["cv"]}
    assert found(text="1234567890123") == {r["cv"]}
    assert found(text="%") == {r["persen"]}
    assert found(text="_") == {r["garis"]}
    assert found(text="m_d") == set()
    assert found(text="tidak ada") == set()
    assert len(found()) == len(r)


def test_search_actors_by_kind_and_category(registry):
    r = registry
    assert found(kind="koperasi") == {r["koperasi"]}
    assert found(kind="desa") == {r["desa"]}
    assert found(category="usaha") == {r["koperasi"], r["cv"]}
    assert found(category="pemerintah") == {r["dinas"]}
    assert found(category="kelompok_masyarakat") == {r["tani"]}
    assert found(category="masyarakat_sipil") == {r["lsm"], r["persen"], r["garis"]}
    assert found(category="usaha", text="dieng") == {r["cv"]}
    with pytest.raises(ValidationError) as info:
        ops.search_actors(kind="bukan")
    assert fields_of(info) == {"kind"}
    with pytest.raises(ValidationError) as info:
        ops.search_actors(category="bukan")
    assert fields_of(info) == {"category"}


def test_search_actors_by_region_prefix(registry):
    r = registry
    assert found(region=KEJAJAR) == {r["koperasi"], r["cv"], r["desa"], r["tani"]}
    assert found(region=WONOSOBO) == {r["koperasi"], r["cv"], r["desa"], r["tani"], r["dinas"]}
    assert found(region="3307") == found(region=WONOSOBO)
    assert found(region=BANJARNEGARA) == {r["lsm"]}
    assert found(region=DIENG) == {r["cv"], r["desa"]}
    assert found(region="33.0") == set()  # a prefix of digits is not a region
    assert found(region=WONOSOBO, text="dieng") == {r["cv"], r["desa"]}


def test_nul_bytes_are_dropped_not_a_server_error(registry, login):
    # PostgreSQL refuses NUL in text parameters: that must never reach the database
    actor = ops.create_actor({"kind": "lsm", "name": "LSM\x00 Peduli Tani",
                              "notes": "a\x00b", "region_code": "33.07\x00"})
    db.session.commit()
    assert actor.name == "LSM Peduli Tani"
    assert actor.notes == "ab"
    assert actor.region_code == WONOSOBO
    assert found(text="peduli tani\x00") == {actor.id}
    assert found(region="33.04\x00") == {registry["lsm"]}
    with pytest.raises(ValidationError) as info:
        ops.create_actor({"kind": "desa", "desa_code": SEMBUNGAN + "\x00x"})
    assert fields_of(info) == {"desa_code"}

    # Over HTTP the app refuses NUL before any view runs, with a message.
    client = login(UserFactory())
    for response in (client.get("/pihak/?q=peduli%00"), client.get("/pihak/?wilayah=33.07%00"),
                     client.post("/pihak/baru", data=form(kind="lsm", name="Forum\x00 Warga"))):
        assert response.status_code == 400
        assert "NUL" in text(response)
    assert not db.session.scalar(sa.select(Actor.id).where(Actor.name.like("Forum%Warga")))


def test_actor_list_page_filters(registry, login):
    client = login(UserFactory())
    page = text(client.get("/pihak/", query_string={"kategori": "usaha"}))
    assert "Koperasi Sumber Rejeki" in page and "CV Dieng Wisata" in page
    assert "Dinas PMD Wonosobo" not in page
    page = text(client.get("/pihak/", query_string={"wilayah": BANJARNEGARA}))
    assert "LSM Peduli dieng" in page and "CV Dieng Wisata" not in page
    page = text(client.get("/pihak/", query_string={"jenis": "bukan"}))
    assert "Jenis pihak tidak dikenal." in page  # told, and shown everything instead


@pytest.fixture
def thirty_actors(app):
    villages = db.session.scalars(
        sa.select(Region.code).where(Region.level == 4, Region.code.like("33.07.%"))
        .order_by(Region.code).limit(30)
    ).all()
    assert len(villages) == 30
    ActorFactory.reset_sequence(100)
    actors = [ActorFactory(region_code=code) for code in villages]  # 30 different regions
    return sorted(actors, key=lambda a: (a.name, a.id))


def test_pagination(thirty_actors, login):
    first = ops.search_actors(page=1)
    second = ops.search_actors(page=2)
    assert (first.total, first.pages, first.per_page) == (30, 2, 25)
    assert len(first.items) == 25
    assert len(second.items) == 5
    expected = [a.id for a in thirty_actors]
    assert [a.id for a in first.items + second.items] == expected
    assert ops.search_actors(page=3).items == []
    assert len(ops.search_actors(page=2, per_page=10).items) == 10
    assert ops.search_actors(per_page=1000).per_page == 100

    client = login(UserFactory())
    page_one = text(client.get("/pihak/"))
    assert "30 pihak" in page_one
    assert "Halaman 1 dari 2" in page_one
    assert "halaman=2" in page_one
    page_two = text(client.get("/pihak/", query_string={"halaman": 2}))
    assert "Halaman 2 dari 2" in page_two
    for actor in thirty_actors[:25]:
        assert f"/pihak/{actor.id}\"" in page_one
        assert f"/pihak/{actor.id}\"" not in page_two
    for actor in thirty_actors[25:]:
        assert f"/pihak/{actor.id}\"" in page_two
        assert f"/pihak/{actor.id}\"" not in page_one
    for bad in ("abc", "-3", "0", "99999999999999999999"):
        response = client.get("/pihak/", query_string={"halaman": bad})
        assert response.status_code == 200, bad
    assert "Halaman 1 dari 2" in text(client.get("/pihak/?halaman=-3"))


def test_a_page_of_25_costs_as_many_queries_as_a_page_of_5(thirty_actors, login):
    def measured(**kwargs):
        db.session.close()  # nothing cached in the identity map
        with count_statements() as statements:
            page = ops.search_actors(**kwargs)
            rows = [a.to_dict() for a in page.items]
        assert all(row["region_path"] for row in rows)
        return len(rows), len(statements)

    assert measured(page=1) == (25, 2)
    assert measured(page=2) == (5, 2)

    client = login(UserFactory())
    client.get("/pihak/")  # warm up

    def page_queries(number: int) -> int:
        with count_statements() as statements:
            response = client.get("/pihak/", query_string={"halaman": number})
        assert response.status_code == 200
        return len(statements)

    assert page_queries(1) == page_queries(2)


# --- access --------------------------------------------------------------------------------

def test_secretary_edits_own_village_and_own_registrations_only(app, login):
    dieng_secretary = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    colleague = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    sembungan_secretary = UserFactory(role=Role.SEKRETARIS, desa_code=SEMBUNGAN)
    village = ops.create_actor({"kind": "desa", "desa_code": DIENG})
    by_colleague = ops.create_actor({"kind": "lsm", "name": "LSM Dieng"}, by=colleague)
    by_sembungan = ops.create_actor({"kind": "lsm", "name": "LSM Sembungan"},
                                    by=sembungan_secretary)
    sembungan_village = ops.create_actor({"kind": "desa", "desa_code": SEMBUNGAN})
    db.session.commit()
    ids = village.id, by_colleague.id, by_sembungan.id, sembungan_village.id

    client = login(dieng_secretary)
    for actor_id in ids[:2]:
        assert client.get(f"/pihak/{actor_id}/ubah").status_code == 200
        assert ">Ubah</a>" in text(client.get(f"/pihak/{actor_id}"))
    saved = client.post(f"/pihak/{ids[0]}/ubah", data=form(
        kind="desa", desa_code=DIENG, name="Pemerintah Desa Dieng", version="1"))
    assert saved.status_code == 302
    assert reload(ids[0]).name == "Pemerintah Desa Dieng"

    refused = client.get(f"/pihak/{ids[2]}/ubah")
    assert refused.status_code == 403
    assert "didaftarkan oleh desa lain" in text(refused)
    posted = client.post(f"/pihak/{ids[2]}/ubah", data=form(kind="lsm", name="Diambil alih",
                                                            version="1"))
    assert posted.status_code == 403
    assert reload(ids[2]).name == "LSM Sembungan"
    assert client.get(f"/pihak/{ids[3]}/ubah").status_code == 403
    detail = client.get(f"/pihak/{ids[2]}")
    assert detail.status_code == 200  # still readable
    assert ">Ubah</a>" not in text(detail)


def test_bkad_edits_only_what_it_registered(app, login):
    bkad_user = UserFactory(role=Role.BKAD)
    other = UserFactory(role=Role.BKAD)
    own = ops.create_actor({"kind": "lsm", "name": "LSM Milik BKAD"}, by=bkad_user)
    theirs = ops.create_actor({"kind": "lsm", "name": "LSM BKAD Lain"}, by=other)
    db.session.commit()
    client = login(bkad_user)
    assert client.get(f"/pihak/{own.id}/ubah").status_code == 200
    assert client.get(f"/pihak/{theirs.id}/ubah").status_code == 403


def test_auditor_reads_but_cannot_register_or_edit(app, login):
    actor = ActorFactory()
    auditor = UserFactory(role=Role.AUDITOR)
    client = login(auditor)
    listing = client.get("/pihak/")
    assert listing.status_code == 200
    assert "Daftarkan pihak" not in text(listing)
    assert "CV Usaha Uji" in text(listing)
    refused = client.get("/pihak/baru")
    assert refused.status_code == 403
    assert "Auditor hanya dapat membaca" in text(refused)
    assert client.post("/pihak/baru", data=form(kind="lsm", name="X")).status_code == 403
    assert client.get(f"/pihak/{actor.id}").status_code == 200
    assert client.get(f"/pihak/{actor.id}/ubah").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 1

    secretary = signed_in(app, UserFactory())
    assert "Daftarkan pihak" in text(secretary.get("/pihak/"))
    assert secretary.get("/pihak/baru").status_code == 200


def test_actor_pages_need_login(client, app):
    actor = ActorFactory()
    for path in ("/pihak/", "/pihak/baru", f"/pihak/{actor.id}", f"/pihak/{actor.id}/ubah"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/masuk" in response.headers["Location"]


def test_unknown_actor_is_404(login):
    client = login(UserFactory())
    assert client.get("/pihak/999999").status_code == 404
    assert client.get("/pihak/999999/ubah").status_code == 404
