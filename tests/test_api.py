"""/api/v1: bearer authentication, JSON errors, regions, actors and the OpenAPI document."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from coopdesa.accounts.models import Role
from coopdesa.actors import operations as ops
from coopdesa.actors.models import Actor
from coopdesa.extensions import db
from tests.conftest import (
    BANJARNEGARA,
    DIENG,
    DIENG_KULON,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    MIROTO,
    SEMBUNGAN,
    WONOSOBO,
)
from tests.factories import ActorFactory, AdminFactory, BkadFactory, UserFactory


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    """The response is the API's JSON error with ``status``, ``code`` and exactly
    ``fields`` (when given); returns the error object."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json, response.content_type
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if fields:
        assert set(error["fields"]) == set(fields), error
        for name in fields:
            assert error["fields"][name] and all(isinstance(m, str)
                                                 for m in error["fields"][name])
    return error


def reload(actor_id: int) -> Actor:
    db.session.expire_all()
    return db.session.get(Actor, actor_id)


# --- authentication ------------------------------------------------------------------------

def test_me_for_an_admin(api):
    admin = AdminFactory(username="admin-uji", office="Dinas PMD")
    body = api(admin).get("/me").get_json()
    assert body["id"] == admin.id
    assert body["username"] == "admin-uji"
    assert body["office"] == "Dinas PMD"
    assert body["role"] == "admin"
    assert body["scope"] == {"label": "Seluruh wilayah", "desa_code": None, "bkad_id": None,
                             "jurisdiction_code": None, "desa_codes": None}


def test_me_for_a_secretary(api):
    user = UserFactory(role=Role.SEKRETARIS, desa_code=SEMBUNGAN)
    body = api(user).get("/me").get_json()
    assert body["role"] == "sekretaris"
    assert body["scope"]["desa_code"] == SEMBUNGAN
    assert body["scope"]["desa_codes"] == [SEMBUNGAN]
    assert body["scope"]["label"] == "Desa Sembungan"
    assert body["scope"]["bkad_id"] is None


def test_me_for_a_bkad_member(api):
    bkad = BkadFactory(name="BKAD Dataran Tinggi Dieng", desa_codes=[DIENG, SEMBUNGAN])
    user = UserFactory(role=Role.BKAD, bkad=bkad)
    body = api(user).get("/me").get_json()
    assert body["role"] == "bkad"
    assert body["scope"]["bkad_id"] == bkad.id
    assert body["scope"]["desa_codes"] == sorted([DIENG, SEMBUNGAN])
    assert body["scope"]["label"] == "BKAD Dataran Tinggi Dieng"
    assert body["scope"]["desa_code"] is None


def test_me_for_an_auditor(api):
    user = UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR)
    body = api(user).get("/me").get_json()
    assert body["role"] == "auditor"
    assert body["scope"]["jurisdiction_code"] == KEJAJAR
    assert body["scope"]["desa_codes"] is None
    assert "Kejajar" in body["scope"]["label"]
    assert body["scope"]["label"].endswith("Kabupaten Wonosobo, Jawa Tengah")


def test_no_token_is_401_with_www_authenticate(client):
    for path in ("/api/v1/me", "/api/v1/actors", "/api/v1/regions?q=dieng"):
        response = client.get(path)
        error = assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Bearer" in error["message"]
    posted = client.post("/api/v1/actors", json={"kind": "lsm", "name": "X"})
    assert_error(posted, 401, "unauthorized")
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 0


@pytest.mark.parametrize("header", [
    "Bearer cds_tidak-ada-token-seperti-ini",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "cds_tanpa-skema",
])
def test_a_bad_token_is_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert_error(response, 401, "unauthorized")
    assert "WWW-Authenticate" in response.headers


def test_a_revoked_token_is_401(api):
    from coopdesa.accounts.models import ApiToken
    from coopdesa.accounts.operations import revoke_token

    caller = api(UserFactory())
    assert caller.get("/me").status_code == 200
    token = db.session.scalar(sa.select(ApiToken))
    revoke_token(token)
    db.session.commit()
    assert_error(caller.get("/me"), 401, "unauthorized")


def test_a_session_cookie_does_not_authenticate_the_api(client, login):
    user = UserFactory()
    login(user)
    assert client.get("/pihak/").status_code == 200  # signed in for the HTML pages
    response = client.get("/api/v1/me")
    assert_error(response, 401, "unauthorized")
    assert client.post("/api/v1/actors", json={"kind": "lsm", "name": "X"}).status_code == 401


def test_unknown_api_path_is_a_json_404(api, client):
    assert_error(api(UserFactory()).get("/nothing"), 404, "not_found")
    assert_error(api(UserFactory()).get("/actors/bukan-angka"), 404, "not_found")
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    assert_error(client.delete("/api/v1/me"), 405, "method_not_allowed")
    assert_error(client.post("/api/v1/openapi.json"), 405, "method_not_allowed")


def test_api_responses_are_not_cached(api):
    assert api(UserFactory()).get("/me").headers["Cache-Control"] == "no-store"


# --- regions -------------------------------------------------------------------------------

def test_regions_search(api):
    caller = api(UserFactory(role=Role.AUDITOR))
    items = caller.get("/regions?q=dieng").get_json()["items"]
    assert [i["code"] for i in items[:2]] == [DIENG, DIENG_KULON]
    within = caller.get(f"/regions?q=dieng&within={BANJARNEGARA}").get_json()["items"]
    assert [i["code"] for i in within] == [DIENG_KULON]
    assert caller.get("/regions?q=miroto&parties=1").get_json()["items"] == []
    assert [i["code"] for i in caller.get("/regions?q=miroto").get_json()["items"]] == [MIROTO]
    levels = caller.get("/regions?q=kejajar&level=3").get_json()["items"]
    assert [i["code"] for i in levels] == [KEJAJAR]
    both = caller.get("/regions?q=kejajar&level=3&level=4").get_json()["items"]
    assert [i["code"] for i in both] == [KEJAJAR, KELURAHAN_KEJAJAR]
    assert len(caller.get("/regions?q=33&limit=3").get_json()["items"]) == 3
    assert_error(caller.get("/regions?q=33&limit=500"), 422, "validation_failed", "limit")
    assert_error(caller.get("/regions?q=33&limit=abc"), 422, "validation_failed", "limit")
    assert_error(caller.get("/regions?q=33&level=9"), 422, "validation_failed", "level")
    by_code = caller.get("/regions?q=33.07.13").get_json()["items"]
    assert by_code[0]["code"] == KEJAJAR
    assert by_code[0]["kind"] == "kecamatan"


def test_region_detail_with_children(api):
    caller = api(UserFactory())
    response = caller.get(f"/regions/{KEJAJAR}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == KEJAJAR
    assert body["name"] == "Kejajar"
    assert body["level"] == 3
    assert body["parent_code"] == WONOSOBO
    assert body["may_be_party"] is False
    children = {c["code"]: c for c in body["children"]}
    assert len(children) == 16
    assert children[DIENG]["may_be_party"] is True
    assert children[KELURAHAN_KEJAJAR]["kind"] == "kelurahan"
    assert children[KELURAHAN_KEJAJAR]["may_be_party"] is False
    assert caller.get("/regions/3307132013").get_json()["code"] == DIENG
    assert caller.get(f"/regions/{DIENG}").get_json()["children"] == []


def test_unknown_region_is_a_json_404(api):
    error = assert_error(api(UserFactory()).get("/regions/33.07.99"), 404, "not_found")
    assert "33.07.99" in error["message"]


# --- actors: reading -----------------------------------------------------------------------

@pytest.fixture
def some_actors(app):
    ids = {}
    for key, values in {
        "koperasi": {"kind": "koperasi", "name": "Koperasi Sumber Rejeki", "region_code": DIENG},
        "lsm": {"kind": "lsm", "name": "LSM Peduli Dieng", "region_code": DIENG_KULON},
        "desa": {"kind": "desa", "desa_code": DIENG},
        "dinas": {"kind": "dinas", "name": "Dinas PMD", "region_code": WONOSOBO},
    }.items():
        ids[key] = ops.create_actor(values).id
    db.session.commit()
    return ids


def test_actor_list_filters(api, some_actors):
    caller = api(UserFactory(role=Role.AUDITOR))

    def ids(query: str) -> set[int]:
        response = caller.get("/actors" + query)
        assert response.status_code == 200, response.get_json()
        return {item["id"] for item in response.get_json()["items"]}

    a = some_actors
    assert ids("") == set(a.values())
    assert ids("?q=dieng") == {a["lsm"], a["desa"]}
    assert ids("?kind=koperasi") == {a["koperasi"]}
    assert ids("?category=pemerintah") == {a["dinas"]}
    assert ids(f"?region={KEJAJAR}") == {a["koperasi"], a["desa"]}
    assert ids(f"?region={WONOSOBO}&q=dieng") == {a["desa"]}
    assert ids("?q=tidak-ada") == set()
    assert_error(caller.get("/actors?kind=bukan"), 422, "validation_failed", "kind")
    assert_error(caller.get("/actors?category=bukan"), 422, "validation_failed", "category")


def test_actor_list_pagination(api):
    ActorFactory.create_batch(7)
    caller = api(UserFactory())
    first = caller.get("/actors?per_page=5").get_json()
    assert (first["total"], first["page"], first["per_page"], first["pages"]) == (7, 1, 5, 2)
    assert len(first["items"]) == 5
    second = caller.get("/actors?per_page=5&page=2").get_json()
    assert second["page"] == 2
    assert len(second["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert caller.get("/actors?page=3&per_page=5").get_json()["items"] == []
    default = caller.get("/actors").get_json()
    assert (default["page"], default["per_page"], default["pages"]) == (1, 25, 1)


@pytest.mark.parametrize(("query", "field"), [
    ("page=abc", "page"),
    ("page=0", "page"),
    ("page=100000", "page"),
    ("page=-1", "page"),
    ("page=1.5", "page"),
    ("per_page=0", "per_page"),
    ("per_page=101", "per_page"),
    ("per_page=x", "per_page"),
])
def test_actor_list_bad_paging_is_422(api, query, field):
    response = api(UserFactory()).get("/actors?" + query)
    assert_error(response, 422, "validation_failed", field)


def test_get_one_actor(api, some_actors):
    caller = api(UserFactory())
    body = caller.get(f"/actors/{some_actors['desa']}").get_json()
    assert body["id"] == some_actors["desa"]
    assert body["name"] == "Desa Dieng"
    assert body["kind"] == "desa"
    assert body["category"] == "desa"
    assert body["desa_code"] == DIENG
    assert body["region_path"].startswith("Dieng, Kejajar")
    assert body["version"] == 1
    assert_error(caller.get("/actors/999999"), 404, "not_found")


# --- actors: writing -----------------------------------------------------------------------

def test_create_actor(api):
    user = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    response = api(user).post("/actors", json={
        "kind": "swasta", "name": "CV Carica Dieng", "region_code": "3307132013",
        "nib": "1234567890123", "npwp": "012345678524000", "phone": "0812 2711 4455",
        "email": "halo@carica.id", "address": None, "notes": "Olahan carica",
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["name"] == "CV Carica Dieng"
    assert body["category"] == "usaha"
    assert body["region_code"] == DIENG
    assert body["npwp"] == "01.234.567.8-524.000"
    assert body["phone"] == "+6281227114455"
    assert body["address"] is None
    assert body["version"] == 1
    stored = reload(body["id"])
    assert stored.created_by_id == user.id
    assert stored.owner_desa_code == DIENG


def test_create_desa_actor_and_refuse_a_kelurahan(api):
    caller = api(UserFactory())
    created = caller.post("/actors", json={"kind": "desa", "desa_code": DIENG})
    assert created.status_code == 201
    assert created.get_json()["name"] == "Desa Dieng"
    error = assert_error(caller.post("/actors", json={"kind": "desa", "desa_code": MIROTO}),
                         422, "validation_failed", "desa_code")
    assert "BPD" in error["fields"]["desa_code"][0]
    assert_error(caller.post("/actors", json={"kind": "desa", "desa_code": DIENG}),
                 422, "validation_failed", "desa_code")


def test_create_actor_validation_errors_name_each_field(api):
    response = api(UserFactory()).post("/actors", json={
        "kind": "swasta", "name": "", "nib": "123", "npwp": "123", "phone": "12",
        "email": "bukan surel", "region_code": "99.99.99",
    })
    error = assert_error(response, 422, "validation_failed",
                         "name", "nib", "npwp", "phone", "email", "region_code")
    assert error["fields"]["nib"] == ["NIB terdiri atas 13 angka."]
    assert_error(api(UserFactory()).post("/actors", json={"name": "Tanpa jenis"}),
                 422, "validation_failed", "kind")
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 0


def test_unknown_json_keys_are_refused_by_name(api):
    response = api(UserFactory()).post("/actors", json={
        "kind": "lsm", "name": "LSM", "colour": "merah", "id": 7, "created_by_id": 1,
    })
    error = assert_error(response, 422, "validation_failed", "colour", "id", "created_by_id")
    assert "colour" in error["message"]
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 0


@pytest.mark.parametrize("kwargs", [
    {"json": [{"kind": "lsm", "name": "LSM"}]},
    {"json": "lsm"},
    {"json": 42},
    {"json": None},
    {"data": "{not json", "content_type": "application/json"},
    {"data": "", "content_type": "application/json"},
    {"data": {"kind": "lsm", "name": "LSM"}},  # form-encoded
    {"data": "kind=lsm&name=LSM", "content_type": "text/plain"},
])
@pytest.mark.parametrize("method", ["post", "put"])
def test_a_body_that_is_not_a_json_object_is_refused(api, kwargs, method):
    actor = ActorFactory()
    caller = api(AdminFactory())
    path = "/actors" if method == "post" else f"/actors/{actor.id}"
    response = getattr(caller, method)(path, **kwargs)
    assert response.status_code in (400, 415, 422)
    assert response.is_json
    assert response.get_json()["error"]["code"] in ("bad_request", "validation_failed",
                                                    "unsupported_media_type")
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": ["lsm"], "name": "LSM"}, "kind"),
    ({"kind": {"lsm": 1}, "name": "LSM"}, "kind"),
    ({"kind": "desa", "desa_code": ["33.07.13.2013"]}, "desa_code"),
    ({"kind": "desa", "desa_code": 3307132013.5}, "desa_code"),
    ({"kind": "lsm", "name": "LSM", "region_code": 5}, "region_code"),
    ({"kind": "lsm", "name": "LSM", "phone": 812}, "phone"),
])
def test_wrong_json_types_are_a_422(api, body, field):
    response = api(AdminFactory()).post("/actors", json=body)
    assert_error(response, 422, "validation_failed", field)


def test_nul_bytes_are_refused_by_name_not_a_server_error(api):
    # PostgreSQL refuses NUL in text; the app refuses it first, with a message.
    caller = api(AdminFactory())
    for response in (
        caller.post("/actors", json={"kind": "lsm", "name": "LSM\x00 Baru"}),
        caller.post("/actors", json={"kind": "lsm", "name": "LSM", "notes": ["x\x00y"]}),
        caller.get("/actors?q=baru%00"),
        caller.get("/actors?region=33.07%00"),
        caller.get("/regions/33.07%00"),
        caller.get("/regions?q=dieng&within=33.04%00"),
    ):
        error = assert_error(response, 400, "bad_request")
        assert "NUL" in error["message"]
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == 0


def test_put_requires_the_version(api):
    actor = ActorFactory(name="PT Lama")
    caller = api(AdminFactory())
    body = {"kind": "swasta", "name": "PT Baru"}
    for version in (None, "1", True, 1.5):
        payload = body if version is None else {**body, "version": version}
        assert_error(caller.put(f"/actors/{actor.id}", json=payload), 422,
                     "validation_failed", "version")
    assert reload(actor.id).name == "PT Lama"


def test_put_updates_and_advances_the_version(api):
    actor = ActorFactory(name="PT Lama")
    caller = api(AdminFactory())
    response = caller.put(f"/actors/{actor.id}", json={"kind": "swasta", "name": "PT Baru",
                                                       "phone": "0812 2711 4455",
                                                       "version": 1})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "PT Baru"
    assert body["phone"] == "+6281227114455"
    assert body["version"] == 2
    assert reload(actor.id).version == 2
    assert_error(caller.put(f"/actors/{actor.id}", json={"kind": "swasta", "name": "",
                                                         "version": 2}),
                 422, "validation_failed", "name")
    assert_error(caller.put("/actors/999999", json={"kind": "swasta", "name": "X",
                                                    "version": 1}), 404, "not_found")


def test_put_with_a_stale_version_is_409_with_the_current_record(api):
    actor = ActorFactory(name="PT Awal")
    first, second = api(AdminFactory()), api(AdminFactory())
    assert second.put(f"/actors/{actor.id}", json={"kind": "swasta", "name": "PT Kedua",
                                                   "version": 1}).status_code == 200
    late = first.put(f"/actors/{actor.id}", json={"kind": "swasta", "name": "PT Pertama",
                                                  "version": 1})
    error = assert_error(late, 409, "conflict")
    assert "diubah oleh orang lain" in error["message"]
    assert error["current"]["id"] == actor.id
    assert error["current"]["name"] == "PT Kedua"
    assert error["current"]["version"] == 2
    assert reload(actor.id).name == "PT Kedua"
    retried = first.put(f"/actors/{actor.id}", json={"kind": "swasta", "name": "PT Pertama",
                                                     "version": error["current"]["version"]})
    assert retried.status_code == 200
    assert retried.get_json()["version"] == 3


def test_auditor_cannot_write(api, some_actors):
    caller = api(UserFactory(role=Role.AUDITOR))
    error = assert_error(caller.post("/actors", json={"kind": "lsm", "name": "LSM"}),
                         403, "forbidden")
    assert "Auditor hanya dapat membaca" in error["message"]
    error = assert_error(caller.put(f"/actors/{some_actors['lsm']}",
                                    json={"kind": "lsm", "name": "X", "version": 1}),
                         403, "forbidden")
    assert "Auditor" in error["message"]
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == len(some_actors)


def test_secretary_cannot_edit_another_village_actor_through_the_api(api):
    owner = UserFactory(role=Role.SEKRETARIS, desa_code=SEMBUNGAN)
    actor = ops.create_actor({"kind": "lsm", "name": "LSM Sembungan"}, by=owner)
    db.session.commit()
    caller = api(UserFactory(role=Role.SEKRETARIS, desa_code=DIENG))
    error = assert_error(caller.put(f"/actors/{actor.id}",
                                    json={"kind": "lsm", "name": "X", "version": 1}),
                         403, "forbidden")
    assert "desa lain" in error["message"]
    assert api(owner).put(f"/actors/{actor.id}", json={
        "kind": "lsm", "name": "LSM Sembungan Lestari", "version": 1}).status_code == 200


# --- OpenAPI -------------------------------------------------------------------------------

@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")  # no token
    assert response.status_code == 200
    return response.get_json()


def test_openapi_document_is_valid_openapi_3_1(spec):
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _spec_path(rule: str) -> str:
    path = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)
    return path.removeprefix("/api/v1")


def test_every_api_route_is_in_the_openapi_document(app, spec):
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert len(routes) >= 6
    declared = {(path, method.upper()) for path, ops_ in spec["paths"].items()
                for method in ops_ if method in {"get", "put", "post", "patch", "delete"}}
    expected = set()
    for rule in routes:
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            expected.add((_spec_path(rule.rule), method))
    assert expected - declared == set()
    assert declared - expected == set()  # and nothing is documented that does not exist
    assert ("/actors/{actor_id}", "PUT") in declared
    assert ("/regions/{code}", "GET") in declared


def test_every_operation_documents_its_responses(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert responses, where
            assert any(code.startswith("2") for code in responses), where
            for code, response in responses.items():
                if int(code) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, where
            public = operation.get("security") == []
            if not public:
                assert "401" in responses, where
            if "requestBody" in operation:
                assert "422" in responses, where
            for name in re.findall(r"{(\w+)}", path):
                assert any(p["in"] == "path" and p["name"] == name
                           for p in operation["parameters"]), where


def _validator(spec: dict, path: str, method: str, status: int) -> Draft202012Validator:
    operation = spec["paths"][path][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    root = {**schema, "components": spec["components"]}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check(validator: Draft202012Validator, body) -> None:
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_responses_match_their_declared_schemas(api, spec, some_actors):
    bkad_user = UserFactory(role=Role.BKAD)
    callers = [api(u) for u in (AdminFactory(), UserFactory(), bkad_user,
                                UserFactory(role=Role.AUDITOR))]
    me = _validator(spec, "/me", "get", 200)
    for caller in callers:
        _check(me, caller.get("/me").get_json())
    caller = callers[0]

    regions = _validator(spec, "/regions", "get", 200)
    for query in ("?q=dieng", "?q=33.07.13", "?q=", "?q=kejajar&level=4"):
        body = caller.get("/regions" + query).get_json()
        assert body["items"]
        _check(regions, body)
    region = _validator(spec, "/regions/{code}", "get", 200)
    for code in (KEJAJAR, MIROTO, "33"):
        _check(region, caller.get(f"/regions/{code}").get_json())

    page = _validator(spec, "/actors", "get", 200)
    body = caller.get("/actors").get_json()
    assert len(body["items"]) == len(some_actors)
    _check(page, body)
    actor = _validator(spec, "/actors/{actor_id}", "get", 200)
    for actor_id in some_actors.values():
        _check(actor, caller.get(f"/actors/{actor_id}").get_json())
    created = caller.post("/actors", json={"kind": "swasta", "name": "PT Penuh",
                                           "nib": "1234567890123", "email": "a@b.id"})
    _check(_validator(spec, "/actors", "post", 201), created.get_json())
    updated = caller.put(f"/actors/{created.get_json()['id']}",
                         json={"kind": "swasta", "name": "PT Penuh Sekali", "version": 1})
    _check(_validator(spec, "/actors/{actor_id}", "put", 200), updated.get_json())

    # a wrong body really fails the check
    with pytest.raises(AssertionError):
        _check(actor, {"id": "satu", "name": "X", "kind": "bukan", "category": "desa",
                       "version": 1})


def test_error_responses_match_the_error_schema(api, client, spec):
    caller = api(UserFactory(role=Role.AUDITOR))
    actor = ActorFactory()
    cases = [
        (client.get("/api/v1/me"), "/me", "get", 401),
        (caller.get("/regions/99"), "/regions/{code}", "get", 404),
        (caller.get("/actors?page=0"), "/actors", "get", 422),
        (caller.post("/actors", json={"kind": "lsm", "name": "X"}), "/actors", "post", 403),
        (api(AdminFactory()).post("/actors", json={"x": 1}), "/actors", "post", 422),
        (api(AdminFactory()).put(f"/actors/{actor.id}", json={"kind": "swasta", "name": "Y",
                                                              "version": 99}),
         "/actors/{actor_id}", "put", 409),
    ]
    for response, path, method, status in cases:
        assert response.status_code == status, (path, response.get_json())
        _check(_validator(spec, path, method, status), response.get_json())
