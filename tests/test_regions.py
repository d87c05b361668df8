"""The official region register: codes, party villages, search and the /wilayah pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.regions.models import Region, RegionKind, RegionWord
from coopdesa.regions.operations import (
    code_within,
    get_party_village,
    get_region,
    name_words,
    normalize_code,
    search_regions,
)
from tests.conftest import (
    BANJARNEGARA,
    DIENG,
    DIENG_KULON,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    MIROTO,
    SEMBUNGAN,
    WONOSOBO,
    count_statements,
)
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _word_index(app):
    """Restore the region word index if it is empty.

    conftest's _clean_tables keeps only "region" and "alembic_version", so "region_word"
    (derived from region, filled once by load_regions) is emptied after the first test of
    the session and word search finds nothing. Remove this once region_word is kept there.
    """
    if db.session.scalar(sa.select(sa.func.count()).select_from(RegionWord)):
        return
    rows = db.session.execute(sa.select(Region.code, Region.name_key)).all()
    words = [{"word": w, "code": code} for code, key in rows for w in name_words(key)]
    db.session.execute(sa.insert(RegionWord), words)
    db.session.commit()


def codes(regions) -> list[str]:
    return [r.code for r in regions]


# --- codes ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("3374011001", "33.74.01.1001"),
    ("33.74.01.1001", "33.74.01.1001"),
    (" 3307132013 ", "33.07.13.2013"),
    ("330713", "33.07.13"),
    ("3307", "33.07"),
    ("33", "33"),
    ("33.07.13.", "33.07.13"),
])
def test_normalize_code(raw, expected):
    assert normalize_code(raw) == expected


def _covered(code: str, prefix: str) -> bool:
    value = sa.literal(code, sa.String(13))
    if db.engine.dialect.name == "postgresql":
        value = sa.collate(value, "C")  # as the region code columns are declared
    return bool(db.session.scalar(sa.select(code_within(value, prefix))))


@pytest.mark.parametrize(("code", "covered"), [
    ("33.07", True),
    ("33.07.13", True),
    ("33.07.13.2013", True),
    ("33.070", False),
    ("33.070.1", False),
    ("33.08", False),
    ("33.06.99", False),
    ("33", False),
    ("34.07", False),
])
def test_code_within_is_a_range_on_the_dotted_code(app, code, covered):
    assert _covered(code, WONOSOBO) is covered


def test_code_within_selects_exactly_the_subtree(app):
    inside = db.session.scalars(
        sa.select(Region.code).where(code_within(Region.code, KEJAJAR))
    ).all()
    expected = db.session.scalars(
        sa.select(Region.code).where(sa.or_(Region.code == KEJAJAR,
                                            Region.parent_code == KEJAJAR))
    ).all()
    assert sorted(inside) == sorted(expected)
    assert DIENG in inside and KELURAHAN_KEJAJAR in inside
    assert len(inside) == 17  # the kecamatan and its 16 desa/kelurahan


# --- party villages ------------------------------------------------------------------------

def test_party_village_accepts_a_desa(app):
    region = get_party_village(DIENG)
    assert region.code == DIENG
    assert region.name == "Dieng"
    assert region.kind == RegionKind.DESA
    assert get_party_village("3307132013").code == DIENG  # undotted input


def test_party_village_accepts_a_desa_adat(app):
    adat = db.session.scalar(
        sa.select(Region).where(Region.kind == RegionKind.DESA_ADAT).limit(1))
    if adat is None:
        pytest.skip("no desa adat in the test slice of the register (the register's desa "
                    "adat are in 91.03, Kabupaten Jayapura; add it to TEST_REGION_PREFIXES)")
    assert get_party_village(adat.code).code == adat.code


@pytest.mark.parametrize("code", [MIROTO, KELURAHAN_KEJAJAR])
def test_party_village_refuses_a_kelurahan(app, code):
    with pytest.raises(ValidationError) as info:
        get_party_village(code, field="pihak_kedua")
    error = info.value
    assert "Kelurahan" in error.message
    assert "BPD" in error.message
    assert list(error.fields) == ["pihak_kedua"]
    assert error.fields["pihak_kedua"] == [error.message]


def test_party_village_refuses_a_kecamatan(app):
    with pytest.raises(ValidationError) as info:
        get_party_village(KEJAJAR)
    error = info.value
    assert "bukan desa" in error.message
    assert "Kejajar" in error.message
    assert list(error.fields) == ["desa_code"]


@pytest.mark.parametrize("code", ["33.07.13.2999", "99.99.99.9999", "", "bukan-kode"])
def test_party_village_refuses_an_unknown_code(app, code):
    with pytest.raises(ValidationError) as info:
        get_party_village(code, field="desa")
    error = info.value
    assert "tidak ada dalam daftar wilayah resmi" in error.message
    assert list(error.fields) == ["desa"]


def test_get_region_unknown_code_is_not_found(app):
    assert get_region("3307").code == WONOSOBO
    with pytest.raises(NotFoundError):
        get_region("33.07.99")


def test_region_kind_follows_the_code(app):
    villages = db.session.scalars(sa.select(Region).where(Region.level == 4)).all()
    kinds = {"1": RegionKind.KELURAHAN, "2": RegionKind.DESA, "3": RegionKind.DESA_ADAT}
    assert len(villages) > 500
    for region in villages:
        assert region.kind == kinds[region.code.split(".")[3][0]], region
        assert region.may_be_party is (region.kind != RegionKind.KELURAHAN)
    assert {r.kind for r in villages} >= {RegionKind.KELURAHAN, RegionKind.DESA}
    assert db.session.get(Region, MIROTO).kind == RegionKind.KELURAHAN
    assert db.session.get(Region, KELURAHAN_KEJAJAR).kind == RegionKind.KELURAHAN
    assert db.session.get(Region, SEMBUNGAN).kind == RegionKind.DESA


def test_nul_bytes_in_a_code_are_not_a_server_error(app, login):
    # PostgreSQL refuses NUL in text parameters: that must never reach the database
    assert normalize_code("33.07\x00") == WONOSOBO
    assert get_region("33.07\x00").code == WONOSOBO
    assert codes(search_regions("dieng", within="33.04\x00")) == [DIENG_KULON]
    with pytest.raises(ValidationError):
        get_party_village("33.07.13\x00")
    # Over HTTP the app refuses NUL before any view runs, with a message.
    client = login(UserFactory())
    for path in ("/wilayah/33.07%00", "/wilayah/cari?q=dieng&within=33.04%00",
                 "/wilayah/?q=die%00ng"):
        response = client.get(path)
        assert response.status_code == 400
        assert "NUL" in response.get_data(as_text=True)


# --- search --------------------------------------------------------------------------------

def test_search_by_name_prefix(app):
    found = codes(search_regions("dieng"))
    assert found[:2] == [DIENG, DIENG_KULON]
    assert codes(search_regions("  DIENG ")) == found  # case and spaces do not matter


def test_search_by_a_word_inside_the_name(app):
    # Within Jawa Tengah, so the test holds on the slice and on the full register alike.
    found = search_regions("kulon", within="33", limit=50)
    assert DIENG_KULON in codes(found)
    assert all("kulon" in r.name.lower() for r in found)
    # prefix matches come before word matches
    assert codes(search_regions("dieng kulon")) == [DIENG_KULON]


def test_search_by_code_prefix_lists_the_kecamatan_first(app):
    found = codes(search_regions("33.07.13"))
    assert found[0] == KEJAJAR
    assert DIENG in found and KELURAHAN_KEJAJAR in found
    assert all(c == KEJAJAR or c.startswith(KEJAJAR + ".") for c in found)
    assert codes(search_regions("330713"))[0] == KEJAJAR
    assert codes(search_regions("3307132013")) == [DIENG]


def test_search_within_narrows(app):
    assert codes(search_regions("dieng", within=BANJARNEGARA)) == [DIENG_KULON]
    assert codes(search_regions("dieng", within=KEJAJAR)) == [DIENG]
    assert codes(search_regions("dieng", within="3304")) == [DIENG_KULON]


def test_search_parties_only_excludes_kelurahan(app):
    assert MIROTO in codes(search_regions("miroto"))
    assert search_regions("miroto", parties_only=True) == []
    kejajar = search_regions("kejajar", parties_only=True)
    assert KELURAHAN_KEJAJAR not in codes(kejajar)
    assert KEJAJAR not in codes(kejajar)
    in_kecamatan = search_regions(KEJAJAR, parties_only=True, limit=50)
    assert len(in_kecamatan) == 15  # 16 villages, one of them a kelurahan
    assert all(r.kind in (RegionKind.DESA, RegionKind.DESA_ADAT) for r in in_kecamatan)


def test_search_levels_filter(app):
    assert codes(search_regions("kejajar")) == [KEJAJAR, KELURAHAN_KEJAJAR]
    assert codes(search_regions("kejajar", levels=(3,))) == [KEJAJAR]
    assert codes(search_regions("kejajar", levels=(4,))) == [KELURAHAN_KEJAJAR]
    kabupaten = search_regions("wonosobo", levels=(2,))
    assert codes(kabupaten) == [WONOSOBO]
    assert search_regions("wonosobo", levels=(1,)) == []


def test_search_limit_is_respected_and_capped(app):
    assert len(search_regions("33.07", limit=3)) == 3
    assert len(search_regions("", limit=7)) == 7
    assert len(search_regions("", limit=500)) == 50
    assert len(search_regions("33", limit=1000)) == 50
    assert len(search_regions("33", limit=0)) == 1


@pytest.mark.parametrize("query", ["%", "_", "%%", "d%ng", "di_ng", "%ieng", "_ieng", "\\",
                                   "_ulon", "%ulon", "k%n", "dieng _ulon", "d_eng kulon"])
def test_search_like_metacharacters_are_not_wildcards(app, query):
    found = codes(search_regions(query))
    assert DIENG not in found
    assert DIENG_KULON not in found, found


def test_search_underscore_and_percent_match_nothing_alone(app):
    assert search_regions("%") == []
    assert search_regions("_") == []
    assert search_regions("%", within=KEJAJAR) == []


def test_search_empty_query_lists_by_code(app):
    first = search_regions("")
    assert codes(first) == sorted(codes(first))
    assert first[0].level == 1
    inside = codes(search_regions("", within=KEJAJAR, limit=50))
    assert inside[0] == KEJAJAR
    assert len(inside) == 17
    assert codes(search_regions("   ", within=KEJAJAR, levels=(3,))) == [KEJAJAR]


@pytest.mark.parametrize(("query", "kwargs"), [
    ("dieng", {}),
    ("kulon", {}),
    ("kulon", {"within": BANJARNEGARA, "parties_only": True, "levels": (4,)}),
    ("33.07.13", {}),
    ("", {}),
    ("zzzz", {}),
])
def test_search_issues_at_most_two_statements(app, query, kwargs):
    search_regions("warm up")
    with count_statements() as statements:
        search_regions(query, **kwargs)
    assert 1 <= len(statements) <= 2, statements


# --- pages and the widget endpoint ---------------------------------------------------------

def test_widget_search_endpoint(login):
    client = login(UserFactory())
    response = client.get("/wilayah/cari?q=dieng&parties=1")
    assert response.status_code == 200
    assert response.is_json
    items = response.get_json()["items"]
    assert [i["code"] for i in items[:2]] == [DIENG, DIENG_KULON]
    dieng = items[0]
    assert dieng["name"] == "Dieng"
    assert dieng["kind"] == "desa"
    assert dieng["may_be_party"] is True
    assert dieng["parent_code"] == KEJAJAR
    assert "Kejajar" in dieng["path"]
    narrowed = client.get(f"/wilayah/cari?q=dieng&within={BANJARNEGARA}").get_json()
    assert [i["code"] for i in narrowed["items"]] == [DIENG_KULON]
    kelurahan = client.get("/wilayah/cari?q=miroto&parties=1").get_json()
    assert kelurahan["items"] == []
    limited = client.get("/wilayah/cari?q=33&limit=2").get_json()
    assert len(limited["items"]) == 2
    bad_limit = client.get("/wilayah/cari?q=33&limit=abc")
    assert bad_limit.status_code == 200


def test_widget_search_needs_login(client):
    response = client.get("/wilayah/cari?q=dieng&parties=1")
    assert response.status_code == 302
    assert "/masuk" in response.headers["Location"]
    assert client.get("/wilayah/").status_code == 302
    assert client.get(f"/wilayah/{KEJAJAR}").status_code == 302


def test_browse_page_with_query(login):
    client = login(UserFactory())
    response = client.get("/wilayah/?q=dieng")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hasil pencarian" in html
    assert f"/wilayah/{DIENG}" in html
    assert f"/wilayah/{DIENG_KULON}" in html
    assert "Jawa Tengah" in html  # the provinsi list
    none = client.get("/wilayah/?q=tidakadanamaini").get_data(as_text=True)
    assert "Tidak ada wilayah yang cocok." in none
    kelurahan = client.get("/wilayah/?q=miroto").get_data(as_text=True)
    assert "bukan pihak" in kelurahan


def test_region_page_lists_children(login):
    client = login(UserFactory())
    response = client.get(f"/wilayah/{KEJAJAR}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Kecamatan Kejajar" in html
    assert "Wilayah di bawahnya (16)" in html
    for code in (DIENG, SEMBUNGAN, KELURAHAN_KEJAJAR):
        assert f"/wilayah/{code}" in html
    assert f'href="/wilayah/{WONOSOBO}"' in html  # breadcrumb


def test_kelurahan_page_warns_it_cannot_be_a_party(login):
    client = login(UserFactory())
    html = client.get(f"/wilayah/{KELURAHAN_KEJAJAR}").get_data(as_text=True)
    assert "Kelurahan tidak dapat menjadi pihak kerja sama desa" in html
    assert "BPD" in html
    desa = client.get(f"/wilayah/{DIENG}").get_data(as_text=True)
    assert "dapat menjadi pihak kerja sama desa" in desa
    assert "Kelurahan tidak dapat menjadi pihak" not in desa


def test_unknown_region_page_is_404(login):
    client = login(UserFactory())
    response = client.get("/wilayah/33.07.99.9999")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "tidak ada dalam daftar resmi" in response.get_data(as_text=True)
