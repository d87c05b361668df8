"""/api/v1/network and /api/v1/network/export: the JSON of a scope and its files, the stored
summary of a province or the country, errors and access per role, and the OpenAPI schemas
checked against real answers."""

from __future__ import annotations

import csv
import datetime as dt
import io

import networkx as nx
import pytest
from jsonschema import Draft202012Validator

from coopdesa.accounts.models import Role
from coopdesa.actors.models import ActorKind
from coopdesa.extensions import db
from coopdesa.proposals.states import State
from coopdesa.publication.models import PublicationWithholding
from tests.conftest import (
    BANJARNEGARA,
    DIENG,
    DIENG_KULON,
    GARUNG,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
    WONOSOBO,
)
from tests.factories import AdminFactory, BkadFactory, UserFactory
from tests.network_helpers import agreement, third_party
from tests.test_api import assert_error

KEY = "desa:{}".format
HOSTILE = "=cmd|' /C calc'!A0 <script>alert(\"x\")</script> & <b>"


@pytest.fixture
def network(app):
    """Dieng with two desa, a business with a hostile name and a desa of Banjarnegara; an
    ended tie; a withheld agreement and a draft that nothing may show."""
    pt = third_party(HOSTILE, ActorKind.SWASTA, WONOSOBO)
    agreement(DIENG, SEMBUNGAN, bidang=("usaha_bersama",))
    agreement(DIENG, PATAKBANTENG, bidang=("kemasyarakatan",))
    agreement(DIENG, pt, bidang=("usaha_bersama",))
    agreement(DIENG, DIENG_KULON, bidang=("keamanan",), start=dt.date(2027, 1, 1))
    agreement(SEMBUNGAN, PATAKBANTENG, state=State.ENDED, start=dt.date(2020, 1, 1),
              end=dt.date(2021, 12, 31))
    withheld = agreement(TIENG, SEMBUNGAN, title="Kerja sama rahasia Tieng")
    db.session.add(PublicationWithholding(proposal_id=withheld.id, legal_basis="UU 14/2008",
                                          reason="uji"))
    draft = agreement(DIENG, TIENG, state=State.DRAFT, title="Draf Dieng Tieng")
    db.session.commit()
    return {"pt": f"actor:{pt.id}", "withheld": withheld.id, "draft": draft.id}


def ok(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response


# --- the JSON of a scope ----------------------------------------------------------------

def test_network_of_a_kecamatan(api, network):
    response = ok(api(AdminFactory()).get(f"/network?scope=kecamatan:{KEJAJAR}"))
    assert response.is_json and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["scope"] == {"key": f"kecamatan:{KEJAJAR}", "kind": "kecamatan",
                             "code": KEJAJAR, "label": "Kecamatan Kejajar"}
    assert body["filters"] == {"state": "active", "bidang": None, "year": None}
    assert body["computed_at"]  # the stored result the stages come from
    nodes = {n["id"]: n for n in body["nodes"]}
    assert len(nodes) == body["summary"]["nodes"] == 17  # 15 desa, the PT, Dieng Kulon
    assert body["summary"]["edges"] == body["summary"]["agreements"] == 4
    dieng = nodes[KEY(DIENG)]
    assert dieng["metrics"]["degree"] == 4 and dieng["stage"] == "networking"
    assert dieng["metrics"]["betweenness"] == pytest.approx(6 / (16 * 15 / 2), abs=1e-6)
    assert nodes[KEY(TIENG)]["stage"] == "bonding"
    assert KEY(TIENG) in body["summary"]["isolated"]
    # The hostile name comes back as data, exactly as typed.
    assert nodes[network["pt"]]["label"] == HOSTILE
    assert nodes[network["pt"]]["inside"] is False and nodes[network["pt"]]["stage"] is None
    assert body["summary"]["stage_counts"] == {"bonding": 12, "bridging": 2,
                                               "networking": 1}


def test_withheld_and_draft_agreements_never_appear(api, network):
    caller = api(AdminFactory())
    hidden = {network["withheld"], network["draft"]}
    for query in (f"kecamatan:{KEJAJAR}&state=all", f"desa:{SEMBUNGAN}:2&state=all",
                  f"kabupaten:{WONOSOBO}", f"kabupaten:{WONOSOBO}&state=all"):
        body = ok(caller.get(f"/network?scope={query}")).get_json()
        ids = {i for e in body["edges"] for i in e["agreements"]}
        assert ids and not ids & hidden, query
        assert "rahasia" not in str(body) and "Draf Dieng" not in str(body)
        pairs = {frozenset((e["source"], e["target"])) for e in body["edges"]}
        assert frozenset((KEY(TIENG), KEY(SEMBUNGAN))) not in pairs
        assert frozenset((KEY(DIENG), KEY(TIENG))) not in pairs
    text = ok(caller.get(f"/network/export?scope=kecamatan:{KEJAJAR}&format=edges.csv"
                         "&state=all")).get_data(as_text=True)
    ids = {int(i) for row in csv.DictReader(io.StringIO(text))
           for i in row["agreements"].split()}
    assert len(ids) == 5 and not ids & hidden


def test_filters_through_the_api(api, network):
    caller = api(AdminFactory())
    base = f"/network?scope=kabupaten:{WONOSOBO}"

    def pairs(query: str) -> set[frozenset]:
        body = ok(caller.get(base + query)).get_json()
        return {frozenset((e["source"], e["target"])) for e in body["edges"]}

    ended = frozenset((KEY(SEMBUNGAN), KEY(PATAKBANTENG)))
    assert ended not in pairs("") and ended in pairs("&state=all")
    assert pairs("&bidang=keamanan") == {frozenset((KEY(DIENG), KEY(DIENG_KULON)))}
    assert pairs("&state=all&year=2021") == {ended}
    assert frozenset((KEY(DIENG), KEY(DIENG_KULON))) not in pairs("&year=2026")
    body = ok(caller.get(base + "&bidang=keamanan&year=2027")).get_json()
    assert body["filters"] == {"state": "active", "bidang": "keamanan", "year": 2027}
    # The stage is the desa's, from its agreements in force, whatever the filter.
    assert {n["id"]: n["stage"] for n in body["nodes"]}[KEY(DIENG)] == "networking"


def test_bkad_and_two_step_desa_scopes(api, network):
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN, PATAKBANTENG])
    caller = api(UserFactory(role=Role.BKAD, bkad=bkad))
    body = ok(caller.get(f"/network?scope=bkad:{bkad.id}")).get_json()
    assert body["scope"]["kind"] == "bkad" and body["scope"]["code"] == str(bkad.id)
    inside = {n["id"] for n in body["nodes"] if n["inside"]}
    assert inside == {KEY(DIENG), KEY(SEMBUNGAN), KEY(PATAKBANTENG)}
    body = ok(caller.get(f"/network?scope=desa:{SEMBUNGAN}:2")).get_json()
    assert body["scope"]["key"] == f"desa:{SEMBUNGAN}:2"
    assert network["pt"] in {n["id"] for n in body["nodes"]}  # two steps away, via Dieng


def test_province_and_country_answer_the_stored_summary(api, network):
    caller = api(AdminFactory())
    body = ok(caller.get("/network?scope=provinsi:33")).get_json()
    assert "nodes" not in body and body["scope"]["kind"] == "provinsi"
    rows = {r["code"]: r for r in body["summary"]["kabupaten"]}
    assert rows[WONOSOBO]["stage_counts"]["networking"] == 1
    assert rows[WONOSOBO]["stale"] is False
    assert body["summary"]["stage_counts"]["networking"] == 1
    body = ok(caller.get("/network?scope=nasional&state=active")).get_json()
    assert {r["code"] for r in body["summary"]["kabupaten"]} >= {WONOSOBO, BANJARNEGARA}


# --- errors -------------------------------------------------------------------------------

def test_without_a_token_is_401(client, network):
    for path in (f"/api/v1/network?scope=kecamatan:{KEJAJAR}",
                 f"/api/v1/network/export?scope=kecamatan:{KEJAJAR}&format=graphml"):
        assert_error(client.get(path), 401, "unauthorized")


@pytest.mark.parametrize("scope", ["", "kota:33.07", "wilayah:33", f"kecamatan:{KEJAJAR}:2",
                                   "nasional:33", "desa:33.07.13.2013:3", "<script>",
                                   f"desa:{KELURAHAN_KEJAJAR}"])
def test_a_bad_scope_is_a_400_naming_scope(api, scope):
    caller = api(AdminFactory())
    assert_error(caller.get(f"/network?scope={scope}"), 400, "bad_request", "scope")
    assert_error(caller.get(f"/network/export?scope={scope}&format=gexf"), 400,
                 "bad_request", "scope")


def test_a_missing_scope_is_a_400(api):
    assert_error(api(AdminFactory()).get("/network"), 400, "bad_request", "scope")


@pytest.mark.parametrize("scope", ["kecamatan:33.07.99", "desa:33.07.13.2999",
                                   "kabupaten:33.99", "bkad:999999", "provinsi:99"])
def test_an_unknown_region_is_a_404(api, scope):
    error = assert_error(api(AdminFactory()).get(f"/network?scope={scope}"), 404,
                         "not_found")
    assert "tidak ditemukan" in error["message"] or "daftar resmi" in error["message"]


@pytest.mark.parametrize(("query", "fields"), [
    ("state=semua", {"state"}), ("bidang=pariwisata", {"bidang"}), ("year=26", {"year"}),
    ("year=tahun", {"year"}), ("state=x&bidang=y&year=1", {"state", "bidang", "year"}),
])
def test_a_bad_filter_is_a_400_naming_it(api, query, fields):
    caller = api(AdminFactory())
    for path in (f"/network?scope=kecamatan:{KEJAJAR}&{query}",
                 f"/network/export?scope=kecamatan:{KEJAJAR}&format=graphml&{query}"):
        assert_error(caller.get(path), 400, "bad_request", *fields)


@pytest.mark.parametrize(("query", "fields"), [
    ("state=all", {"state"}), ("bidang=keamanan", {"bidang"}), ("year=2026", {"year"}),
])
def test_filters_need_a_kabupaten_or_smaller(api, query, fields):
    caller = api(AdminFactory())
    for scope in ("provinsi:33", "nasional"):
        error = assert_error(caller.get(f"/network?scope={scope}&{query}"), 400,
                             "bad_request", *fields)
        assert "kabupaten/kota" in error["message"]


@pytest.mark.parametrize("fmt", ["", "xlsx", "csv", "GRAPHML", "../graphml"])
def test_an_unknown_format_is_a_400(api, network, fmt):
    assert_error(api(AdminFactory()).get(
        f"/network/export?scope=kecamatan:{KEJAJAR}&format={fmt}"), 400, "bad_request",
        "format")


@pytest.mark.parametrize("scope", ["provinsi:33", "nasional"])
def test_province_and_country_are_exported_per_kabupaten(api, scope):
    error = assert_error(api(AdminFactory()).get(
        f"/network/export?scope={scope}&format=graphml"), 400, "bad_request", "scope")
    assert "per kabupaten/kota" in error["message"]


# --- access -------------------------------------------------------------------------------

def _caller(kind: str):
    if kind == "admin":
        return AdminFactory()
    if kind == "sekretaris":
        return UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    if kind == "bkad":
        return UserFactory(role=Role.BKAD, bkad=BkadFactory(desa_codes=[DIENG, SEMBUNGAN]))
    if kind == "camat":
        return UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR)
    if kind == "inspektorat_banjarnegara":
        return UserFactory(role=Role.AUDITOR, jurisdiction_code=BANJARNEGARA)
    return UserFactory(role=Role.AUDITOR, jurisdiction_code="33")


SCOPES = [f"desa:{DIENG}", f"kecamatan:{KEJAJAR}", f"kecamatan:{GARUNG}",
          f"kabupaten:{WONOSOBO}", f"kabupaten:{BANJARNEGARA}", f"desa:{DIENG_KULON}",
          "provinsi:33", "nasional"]
ALLOWED = {
    "admin": set(SCOPES),
    "sekretaris": set(SCOPES[:4]),
    "bkad": set(SCOPES[:4]),
    "camat": {f"desa:{DIENG}", f"kecamatan:{KEJAJAR}"},
    "inspektorat_banjarnegara": {f"kabupaten:{BANJARNEGARA}", f"desa:{DIENG_KULON}"},
    "provinsi": set(SCOPES[:7]),
}
REFUSALS = {
    "sekretaris": "kabupaten/kota desa Anda sendiri",
    "bkad": "kabupaten/kota desa Anda sendiri",
    "camat": "di luar wilayah pengawasan Anda",
    "inspektorat_banjarnegara": "di luar wilayah pengawasan Anda",
    "provinsi": "di luar wilayah pengawasan Anda",
}


@pytest.mark.parametrize("kind", list(ALLOWED))
def test_access_matrix(api, network, kind):
    caller = api(_caller(kind))
    for scope in SCOPES:
        allowed = scope in ALLOWED[kind]
        view = caller.get(f"/network?scope={scope}")
        export = caller.get(f"/network/export?scope={scope}&format=nodes.csv")
        if allowed:
            assert view.status_code == 200, (kind, scope, view.get_json())
            live = not scope.startswith(("provinsi", "nasional"))
            assert export.status_code == (200 if live else 400), (kind, scope)
        else:
            for response in (view, export):
                error = assert_error(response, 403, "forbidden")
                assert REFUSALS[kind] in error["message"], (kind, scope)


def test_a_bkad_member_reads_its_own_bkad_not_another_kabupaten(api, network):
    own = BkadFactory(desa_codes=[DIENG, SEMBUNGAN])
    other = BkadFactory(kabupaten_code=BANJARNEGARA,
                        desa_codes=[DIENG_KULON, "33.04.16.2001"])
    caller = api(UserFactory(role=Role.BKAD, bkad=own))
    ok(caller.get(f"/network?scope=bkad:{own.id}"))
    ok(caller.get(f"/network/export?scope=bkad:{own.id}&format=gexf"))
    assert_error(caller.get(f"/network?scope=bkad:{other.id}"), 403, "forbidden")


# --- files --------------------------------------------------------------------------------

def test_graphml_export_reloads_to_the_graph_the_json_describes(api, network):
    caller = api(UserFactory(role=Role.SEKRETARIS, desa_code=DIENG))
    response = ok(caller.get(f"/network/export?scope=kecamatan:{KEJAJAR}&format=graphml"
                             "&state=all"))
    assert response.content_type == "application/graphml+xml"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="jaringan-kecamatan-33.07.13.graphml"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    graph = nx.read_graphml(io.BytesIO(response.data))
    body = ok(caller.get(f"/network?scope=kecamatan:{KEJAJAR}&state=all")).get_json()
    assert set(graph) == {n["id"] for n in body["nodes"]}
    assert {frozenset(e) for e in graph.edges} == {frozenset((e["source"], e["target"]))
                                                   for e in body["edges"]}
    for node in body["nodes"]:
        attrs = graph.nodes[node["id"]]
        assert attrs["label"] == node["label"]
        assert attrs["degree"] == node["metrics"]["degree"]
        assert attrs["betweenness"] == pytest.approx(node["metrics"]["betweenness"])
        assert attrs["stage"] == (node["stage"] or "")
    for edge in body["edges"]:
        tie = graph.edges[edge["source"], edge["target"]]
        assert tie["weight"] == edge["weight"] and tie["active"] == edge["active"]
    assert graph.nodes[network["pt"]]["label"] == HOSTILE
    assert graph.graph["filters"] == "state=all"
    assert graph.graph["scope"] == f"kecamatan:{KEJAJAR}"


def test_gexf_and_csv_exports(api, network):
    caller = api(AdminFactory())
    base = f"/network/export?scope=desa:{DIENG}:2&format="
    gexf = ok(caller.get(base + "gexf"))
    assert gexf.content_type == "application/gexf+xml"
    assert 'filename="jaringan-desa-33.07.13.2013-2.gexf"' in \
        gexf.headers["Content-Disposition"]
    assert nx.read_gexf(io.BytesIO(gexf.data)).nodes[network["pt"]]["label"] == HOSTILE

    nodes = ok(caller.get(base + "nodes.csv"))
    assert nodes.content_type == "text/csv; charset=utf-8"
    assert nodes.headers["Content-Disposition"].endswith('.nodes.csv"')
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(nodes.get_data(as_text=True)))}
    assert rows[network["pt"]]["label"] == "'" + HOSTILE  # no formula for a spreadsheet
    assert rows[KEY(DIENG)]["stage"] == "networking"

    edges = ok(caller.get(base + "edges.csv"))
    assert edges.headers["Content-Disposition"].endswith('.edges.csv"')
    lines = edges.get_data(as_text=True).splitlines()
    assert lines[0] == "source,target,weight,active,agreements,kinds,bidang,states,start,end"
    assert len(lines) == 1 + 4  # Dieng's four ties in force
    # Two steps from Dieng reach Sembungan and Patakbanteng's ended tie, with state=all.
    every = ok(caller.get(base + "edges.csv&state=all")).get_data(as_text=True)
    assert len(every.splitlines()) == 1 + 5


# --- OpenAPI ------------------------------------------------------------------------------

@pytest.fixture
def spec(client):
    return ok(client.get("/api/v1/openapi.json")).get_json()


def _validator(spec: dict, schema: dict) -> Draft202012Validator:
    root = {**schema, "components": spec["components"]}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check(validator: Draft202012Validator, body) -> None:
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_openapi_documents_both_paths(spec):
    get = spec["paths"]["/network"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"scope", "state", "bidang", "year"}
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NetworkResponse"}
    assert {"400", "401", "403", "404"} <= set(get["responses"])
    export = spec["paths"]["/network/export"]["get"]
    formats = next(p for p in export["parameters"] if p["name"] == "format")
    assert formats["schema"]["enum"] == ["graphml", "gexf", "nodes.csv", "edges.csv"]
    assert {"400", "401", "403", "404"} <= set(export["responses"])
    for name in ("Network", "NetworkSummary", "NetworkNode", "NetworkEdge"):
        assert name in spec["components"]["schemas"]


def test_real_answers_match_the_schemas(api, spec, network):
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN])
    caller = api(AdminFactory())
    response = _validator(spec, spec["paths"]["/network"]["get"]["responses"]["200"][
        "content"]["application/json"]["schema"])
    network_schema = _validator(spec, {"$ref": "#/components/schemas/Network"})
    summary_schema = _validator(spec, {"$ref": "#/components/schemas/NetworkSummary"})
    for query in (f"kecamatan:{KEJAJAR}", f"kecamatan:{KEJAJAR}&state=all",
                  f"kabupaten:{WONOSOBO}", f"kabupaten:{WONOSOBO}&bidang=keamanan",
                  f"desa:{DIENG}", f"desa:{TIENG}:2", f"bkad:{bkad.id}&year=2026",
                  f"kecamatan:{GARUNG}"):
        body = ok(caller.get(f"/network?scope={query}")).get_json()
        _check(response, body)
        _check(network_schema, body)
        assert not summary_schema.is_valid(body)
    for query in ("provinsi:33", "nasional"):
        body = ok(caller.get(f"/network?scope={query}")).get_json()
        _check(response, body)
        _check(summary_schema, body)
        assert not network_schema.is_valid(body)
    error = _validator(spec, spec["paths"]["/network"]["get"]["responses"]["400"][
        "content"]["application/json"]["schema"])
    for path, status in ((f"/network?scope=kecamatan:{KEJAJAR}&year=x", 400),
                         ("/network?scope=kecamatan:33.07.99", 404),
                         (f"/network/export?scope=kecamatan:{KEJAJAR}&format=x", 400)):
        answer = caller.get(path)
        assert answer.status_code == status
        _check(error, answer.get_json())
    sekretaris = api(UserFactory(role=Role.SEKRETARIS, desa_code=DIENG))
    _check(error, sekretaris.get(f"/network?scope=kabupaten:{BANJARNEGARA}").get_json())
