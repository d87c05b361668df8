"""Numbers no primary key can hold, in paths, filters and JSON, are refused (404 / 422),
never passed to the database driver (an overflow there is a server error)."""

from __future__ import annotations

import pytest

from coopdesa.accounts.models import Role
from tests import proposal_helpers as H
from tests.factories import AdminFactory, UserFactory

HUGE = 10**20
BEYOND_INTEGER = 2**31  # one past PostgreSQL's INTEGER


@pytest.mark.parametrize("number", [HUGE, BEYOND_INTEGER])
def test_api_paths_filters_and_bodies(api, number):
    scenario = H.antar_desa()
    pid = scenario.proposal.id
    caller = api(scenario.author)
    for path in (f"/actors/{number}", f"/proposals/{number}", f"/proposals/{pid}/comments/"
                 f"{number}/strike", f"/proposals/{pid}/versions/{number}"):
        method = caller.post if path.endswith("strike") else caller.get
        assert method(path).status_code == 404, path
    assert caller.get(f"/proposals?actor={number}").status_code == 422
    assert caller.post(f"/proposals/{pid}/comments",
                       json={"body": "x", "parent_id": number}).status_code == 422
    assert caller.post(f"/proposals/{pid}/parties", json={"actor_id": number}).status_code \
        == 422
    created = caller.post("/proposals", json={
        "kind": "pihak_ketiga", "initiative": "desa", "title": "Uji",
        "third_party_actor_ids": [number]})
    assert created.status_code == 422
    admin = api(AdminFactory())
    assert admin.get(f"/audit?proposal={number}").status_code == 200


@pytest.mark.parametrize("number", [HUGE, BEYOND_INTEGER])
def test_html_paths_and_filters(app, login, number):
    admin = login(AdminFactory())
    for path in (f"/kerja-sama/{number}", f"/pihak/{number}", f"/admin/pengguna/{number}",
                 f"/admin/bkad/{number}", f"/audit/usulan/{number}"):
        assert admin.get(path).status_code == 404, path
    page = admin.get(f"/kerja-sama/?actor={number}")
    assert page.status_code == 200
    assert "Saringan tidak dapat dipakai" in page.get_data(as_text=True)


def test_an_ordinary_user_gets_the_same(app, login):
    client = login(UserFactory(role=Role.SEKRETARIS))
    assert client.get(f"/kerja-sama/{HUGE}").status_code == 404
