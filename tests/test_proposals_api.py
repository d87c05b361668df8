"""/api/v1/proposals: the whole review loop through the API, every error shape, and the
responses checked against the OpenAPI document."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals.models import Proposal, ProposalComment, ProposalVersion
from tests.conftest import (
    DIENG,
    DIENG_KULON,
    GARUNG,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    SEMBUNGAN,
    TIENG,
)
from tests.factories import ActorFactory, AdminFactory, BkadFactory, UserFactory


def assert_error(response, status: int, code: str, *fields: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.is_json, response.content_type
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if fields:
        assert set(error["fields"]) == set(fields), error
    return error


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_json()


# --- a scenario: Dieng and Sembungan (Kejajar) reviewed by their BKAD ------------------------

@pytest.fixture
def people(app):
    bkad = BkadFactory(name="BKAD Dataran Tinggi Dieng", desa_codes=[DIENG, SEMBUNGAN])
    return {
        "dieng": UserFactory(username="sekdes.dieng", role=Role.SEKRETARIS, desa_code=DIENG),
        "sembungan": UserFactory(username="sekdes.sembungan", role=Role.SEKRETARIS,
                                 desa_code=SEMBUNGAN),
        "tieng": UserFactory(username="sekdes.tieng", role=Role.SEKRETARIS, desa_code=TIENG),
        "bkad": UserFactory(username="bkad.dieng", role=Role.BKAD, bkad=bkad),
        "auditor": UserFactory(username="camat.kejajar", role=Role.AUDITOR,
                               jurisdiction_code=KEJAJAR),
        "auditor_garung": UserFactory(username="camat.garung", role=Role.AUDITOR,
                                      jurisdiction_code=GARUNG),
        "admin": AdminFactory(username="admin.kab"),
    }


SECTIONS = {
    "menimbang": "bahwa air bersih dari mata air Sikidang dimanfaatkan dua desa;\n"
                 "bahwa pengelolaan bersama lebih adil dan lestari;",
    "tujuan": "Mengelola air bersih bersama secara adil.",
    "ruang_lingkup": "Perawatan jaringan pipa dan pembagian debit.",
    "bidang": ["kemasyarakatan"],
    "tata_cara": "Pengelolaan oleh BKAD; laporan tiap triwulan.",
    "start_date": "2027-01-01",
    "end_date": "2029-12-31",
    "perubahan": "Perubahan dimusyawarahkan oleh para pihak (PP 43/2014 Pasal 145).",
}


def create_draft(caller, **extra) -> dict:
    body = {"kind": "antar_desa", "initiative": "desa", "title": "Pengelolaan air bersih",
            "partner_desa_codes": [SEMBUNGAN], **extra}
    return ok(caller.post("/proposals", json=body), 201)


def complete(caller, proposal: dict) -> dict:
    """Fill every required section, the parties' rights and funding: ready to submit."""
    pid = proposal["id"]
    proposal = ok(caller.patch(f"/proposals/{pid}",
                               json={**SECTIONS, "version": proposal["version"]}))
    for party in proposal["parties"]:
        proposal = ok(caller.patch(f"/proposals/{pid}/parties/{party['id']}", json={
            "version": proposal["version"], "signatory_name": f"Kepala {party['name']}",
            "hak": "Memperoleh air bersih.", "kewajiban": "Merawat jaringan pipa."}))
    dieng = next(p for p in proposal["parties"] if p["desa_code"] == DIENG)
    return ok(caller.put(f"/proposals/{pid}/parties/{dieng['id']}/funding", json={
        "version": proposal["version"],
        "funding": [{"source": "apb_desa", "amount": 25_000_000, "apbdes_year": 2027,
                     "description": "Pipa"}]}))


def move(caller, pid: int, action: str, **extra):
    return caller.post(f"/proposals/{pid}/transitions", json={"action": action, **extra})


# --- the happy path -------------------------------------------------------------------------

def test_draft_review_change_request_resubmit_and_approve(api, people):
    author, reviewer = api(people["dieng"]), api(people["bkad"])

    created = create_draft(author)
    pid = created["id"]
    assert created["state"] == "draft" and created["version"] >= 1
    assert created["ref"].startswith("KSD-")
    assert [(p["desa_code"], p["role"]) for p in created["parties"]] == [
        (DIENG, "pemrakarsa"), (SEMBUNGAN, "mitra")]
    assert "Undang-Undang Nomor 6 Tahun 2014" in created["sections"]["mengingat"]
    assert "Camat" in created["sections"]["perselisihan"]  # PP 43/2014 Pasal 148 route
    missing = {s["key"] for s in created["missing_sections"]}
    assert {"tujuan", "ruang_lingkup", "bidang", "jangka_waktu", "hak_kewajiban",
            "pendanaan"} <= missing
    assert {t["action"] for t in created["available_transitions"]} == {"submit", "withdraw"}
    assert created["permissions"] == {"edit": True, "comment": True, "read_audit": True}

    ready = complete(author, created)
    assert ready["missing_sections"] == []
    assert ready["submission_errors"] == {}
    assert ready["sections"]["bidang"] == ["kemasyarakatan"]
    assert ready["sections"]["start_date"] == "2027-01-01"
    dieng = next(p for p in ready["parties"] if p["desa_code"] == DIENG)
    assert dieng["funding"][0]["amount"] == 25_000_000
    assert dieng["funding_total"] == 25_000_000
    assert dieng["signatory_office"] == "Kepala Desa Dieng"

    # the BKAD does not see a draft at all
    assert_error(reviewer.get(f"/proposals/{pid}"), 404, "not_found")

    submitted = ok(move(author, pid, "submit", expected_state="draft"))
    assert submitted["state"] == "submitted"
    assert submitted["bkad_id"] == people["bkad"].bkad_id
    assert submitted["is_editable"] is False and submitted["permissions"]["edit"] is False

    seen = ok(reviewer.get(f"/proposals/{pid}"))
    assert {t["action"] for t in seen["available_transitions"]} == {"start_review"}
    assert ok(move(reviewer, pid, "start_review"))["state"] == "in_review"
    comment = ok(reviewer.post(f"/proposals/{pid}/comments",
                               json={"section": "tujuan", "body": "Sebutkan debitnya."}), 201)
    assert comment["section"] == "tujuan" and comment["author"]["username"] == "bkad.dieng"
    changes = ok(move(reviewer, pid, "request_changes",
                      points=["Sebutkan debit air per desa."], text="Hampir lengkap."))
    assert changes["state"] == "changes_requested"
    assert changes["reviews"][-1]["judgment"] == "request_changes"
    assert changes["reviews"][-1]["points"] == ["Sebutkan debit air per desa."]

    reply = ok(author.post(f"/proposals/{pid}/comments",
                           json={"parent_id": comment["id"], "body": "Sudah ditambahkan."}),
               201)
    assert reply["parent_id"] == comment["id"] and reply["section"] == "tujuan"
    current = ok(author.get(f"/proposals/{pid}"))
    edited = ok(author.patch(f"/proposals/{pid}", json={
        "version": current["version"],
        "tujuan": "Mengelola air bersih bersama secara adil: 2 liter per detik per desa."}))
    assert edited["state"] == "changes_requested"
    assert ok(move(author, pid, "submit"))["state"] == "submitted"

    ok(move(reviewer, pid, "start_review"))
    approved = ok(move(reviewer, pid, "approve"))
    assert approved["state"] == "awaiting_deliberation"
    assert approved["reviews"][-1]["judgment"] == "approve"

    versions = ok(author.get(f"/proposals/{pid}/versions"))["items"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["created_by"]["username"] == "sekdes.dieng"
    snapshot = ok(author.get(f"/proposals/{pid}/versions/1"))["snapshot"]
    assert snapshot["tujuan"] == "Mengelola air bersih bersama secara adil."
    diff = ok(reviewer.get(f"/proposals/{pid}/diff?a=1&b=2"))
    by_key = {s["key"]: s for s in diff["sections"]}
    assert by_key["tujuan"]["changed"] is True and by_key["title"]["changed"] is False
    assert "<ins>" in by_key["tujuan"]["html"]
    assert ok(reviewer.get(f"/proposals/{pid}/diff"))["a"] == 1  # default: last two

    comments = ok(author.get(f"/proposals/{pid}/comments"))["items"]
    assert [c["id"] for c in comments] == [comment["id"], reply["id"]]

    log = ok(author.get(f"/proposals/{pid}/audit"))
    actions = [e["action"] for e in log["items"]]
    assert actions[0] == "proposal.transition.approve"  # newest first
    assert actions[-1] == "proposal.create"
    assert "proposal.transition.request_changes" in actions
    assert all(e["proposal_ref"] == created["ref"] for e in log["items"])

    listing = ok(reviewer.get("/proposals?state=awaiting_deliberation"))
    assert [p["id"] for p in listing["items"]] == [pid]


def test_list_filters_paging_and_scope(api, people):
    author = api(people["dieng"])
    first = create_draft(author, title="Air bersih Sikidang")
    create_draft(author, title="Wisata Telaga Warna")
    ok(api(people["tieng"]).post("/proposals", json={
        "kind": "antar_desa", "initiative": "desa", "title": "Jalan Tieng"}), 201)

    body = ok(author.get("/proposals?per_page=1&sort=title"))
    assert body["total"] == 2 and body["pages"] == 2 and body["per_page"] == 1
    assert body["items"][0]["title"] == "Air bersih Sikidang"
    assert ok(author.get("/proposals?q=telaga"))["total"] == 1
    assert ok(author.get(f"/proposals?q={first['ref']}"))["items"][0]["id"] == first["id"]
    assert ok(author.get("/proposals?state=draft&state=submitted"))["total"] == 2
    assert ok(author.get("/proposals?state=submitted"))["total"] == 0
    assert ok(author.get(f"/proposals?desa={SEMBUNGAN}"))["total"] == 2
    assert ok(author.get(f"/proposals?kecamatan={KEJAJAR}"))["total"] == 2
    assert ok(api(people["admin"]).get("/proposals"))["total"] == 3
    assert ok(api(people["auditor"]).get("/proposals"))["total"] == 0  # drafts only
    assert ok(api(people["tieng"]).get("/proposals"))["total"] == 1

    assert_error(author.get("/proposals?state=bogus"), 422, "validation_failed", "state")
    assert_error(author.get("/proposals?sort=bogus"), 422, "validation_failed", "sort")
    assert_error(author.get("/proposals?per_page=101"), 422, "validation_failed", "per_page")
    assert_error(author.get("/proposals?desa=33.07"), 422, "validation_failed", "desa")


def test_third_party_proposal_and_party_management(api, people):
    author = api(people["dieng"])
    actor = ActorFactory(name="CV Kentang Dieng")
    created = create_draft(author, kind="pihak_ketiga", partner_desa_codes=[],
                           third_party_actor_ids=[actor.id])
    pid = created["id"]
    assert "kerangka_acuan_kerja" in {s["key"] for s in created["missing_sections"]}
    assert [p["actor_kind"] for p in created["parties"]] == ["desa", "swasta"]

    added = ok(author.post(f"/proposals/{pid}/parties",
                           json={"desa_code": SEMBUNGAN, "role": "mitra",
                                 "signatory_name": "Slamet"}), 201)
    assert [p["desa_code"] for p in added["parties"]] == [DIENG, None, SEMBUNGAN]
    assert added["version"] > created["version"]
    sembungan = added["parties"][-1]
    removed = ok(author.delete(f"/proposals/{pid}/parties/{sembungan['id']}"))
    assert len(removed["parties"]) == 2

    assert_error(author.post(f"/proposals/{pid}/parties", json={"desa_code": KELURAHAN_KEJAJAR}),
                 422, "validation_failed", "desa_code")
    assert_error(author.post(f"/proposals/{pid}/parties", json={}), 422, "validation_failed",
                 "desa_code", "actor_id")
    assert_error(author.post(f"/proposals/{pid}/parties", json={"actor_id": "satu"}), 422,
                 "validation_failed", "actor_id")
    own = created["parties"][0]
    assert_error(author.delete(f"/proposals/{pid}/parties/{own['id']}"), 422,
                 "validation_failed", "party")
    assert_error(author.delete(f"/proposals/{pid}/parties/999999"), 404, "not_found")
    bad_funding = author.put(f"/proposals/{pid}/parties/{own['id']}/funding", json={
        "version": removed["version"],
        "funding": [{"source": "apb_desa", "amount": -1}, {"source": "x", "nilai": 1}]})
    assert_error(bad_funding, 422, "validation_failed", "funding-1-nilai")
    bad_funding = author.put(f"/proposals/{pid}/parties/{own['id']}/funding", json={
        "version": removed["version"], "funding": [{"source": "apb_desa", "amount": -1}]})
    assert_error(bad_funding, 422, "validation_failed", "funding-0-amount",
                 "funding-0-apbdes_year")
    assert_error(author.put(f"/proposals/{pid}/parties/{own['id']}/funding",
                            json={"version": removed["version"], "funding": "banyak"}),
                 422, "validation_failed", "funding")


def test_antar_desa_across_kabupaten_is_refused(api, people):
    response = api(people["dieng"]).post("/proposals", json={
        "kind": "antar_desa", "initiative": "desa", "title": "Lintas kabupaten",
        "partner_desa_codes": [DIENG_KULON]})
    error = assert_error(response, 422, "validation_failed", "desa_code")
    assert "Permendagri 96/2017" in error["message"]
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


# --- error shapes ---------------------------------------------------------------------------

def test_without_a_token_every_proposal_endpoint_is_401(client, api, people):
    pid = create_draft(api(people["dieng"]))["id"]
    for method, path in [("get", "/proposals"), ("post", "/proposals"),
                         ("get", f"/proposals/{pid}"), ("patch", f"/proposals/{pid}"),
                         ("post", f"/proposals/{pid}/transitions"),
                         ("get", f"/proposals/{pid}/comments"),
                         ("get", f"/proposals/{pid}/audit"), ("get", "/audit")]:
        response = getattr(client, method)("/api/v1" + path, json={})
        assert_error(response, 401, "unauthorized")


def test_other_villages_get_404_as_if_it_did_not_exist(api, people):
    author = api(people["dieng"])
    pid = create_draft(author)["id"]
    stranger = api(people["tieng"])
    missing = stranger.get("/proposals/999999")
    hidden = stranger.get(f"/proposals/{pid}")
    assert_error(hidden, 404, "not_found")
    assert hidden.get_json()["error"]["message"] == missing.get_json()["error"]["message"]
    for method, path, body in [
        ("patch", f"/proposals/{pid}", {"version": 1, "title": "Diambil alih"}),
        ("post", f"/proposals/{pid}/transitions", {"action": "withdraw", "text": "x"}),
        ("post", f"/proposals/{pid}/parties", {"desa_code": TIENG}),
        ("get", f"/proposals/{pid}/comments", None),
        ("post", f"/proposals/{pid}/comments", {"body": "Halo"}),
        ("get", f"/proposals/{pid}/versions", None),
        ("get", f"/proposals/{pid}/diff", None),
        ("get", f"/proposals/{pid}/audit", None),
    ]:
        kwargs = {"json": body} if body is not None else {}
        assert_error(getattr(stranger, method)(path, **kwargs), 404, "not_found")
    # a Garung auditor does not learn of a Dieng proposal either, even once submitted
    db.session.execute(sa.update(Proposal).values(state="submitted",
                                                  submitted_at=sa.func.current_timestamp()))
    db.session.commit()
    assert_error(api(people["auditor_garung"]).get(f"/proposals/{pid}"), 404, "not_found")
    assert ok(api(people["auditor"]).get(f"/proposals/{pid}"))["id"] == pid


def test_readers_who_may_not_act_get_403(api, people):
    author = api(people["dieng"])
    proposal = complete(author, create_draft(author))
    pid = proposal["id"]
    ok(move(author, pid, "submit"))
    version = ok(author.get(f"/proposals/{pid}"))["version"]
    auditor, reviewer = api(people["auditor"]), api(people["bkad"])

    error = assert_error(auditor.patch(f"/proposals/{pid}", json={"version": version,
                                                                   "title": "x"}),
                         403, "forbidden")
    assert "sekretaris" in error["message"]
    assert_error(reviewer.patch(f"/proposals/{pid}", json={"version": version, "title": "x"}),
                 403, "forbidden")
    assert_error(move(auditor, pid, "start_review"), 403, "forbidden")
    assert_error(move(author, pid, "start_review"), 403, "forbidden")
    assert_error(auditor.post(f"/proposals/{pid}/comments", json={"body": "Catatan"}), 403,
                 "forbidden")
    assert_error(auditor.post("/proposals", json={"kind": "antar_desa", "initiative": "desa",
                                                  "title": "x"}), 403, "forbidden")
    comment = ok(reviewer.post(f"/proposals/{pid}/comments", json={"body": "Catatan"}), 201)
    assert_error(author.patch(f"/proposals/{pid}/comments/{comment['id']}",
                              json={"body": "Diubah"}), 403, "forbidden")
    assert_error(author.post(f"/proposals/{pid}/comments/{comment['id']}/strike"), 403,
                 "forbidden")
    # nothing changed meanwhile
    assert ok(author.get(f"/proposals/{pid}"))["version"] == version


def test_stale_version_is_409_with_current_and_changes(api, people):
    dieng, sembungan = api(people["dieng"]), api(people["sembungan"])
    created = create_draft(dieng)
    pid, version = created["id"], created["version"]
    ok(sembungan.patch(f"/proposals/{pid}", json={"version": version,
                                                   "tujuan": "Versi Sembungan"}))
    response = dieng.patch(f"/proposals/{pid}", json={"version": version,
                                                      "tujuan": "Versi Dieng"})
    error = assert_error(response, 409, "conflict")
    assert error["current"] == {"state": "draft", "version": version + 1}
    assert [c["by"] for c in error["changes"]] == ["sekdes.sembungan"]
    assert error["changes"][0]["fields"] == ["tujuan"]
    dt.datetime.fromisoformat(error["changes"][0]["at"])
    assert ok(dieng.get(f"/proposals/{pid}"))["sections"]["tujuan"] == "Versi Sembungan"

    party = created["parties"][1]
    assert_error(dieng.patch(f"/proposals/{pid}/parties/{party['id']}",
                             json={"version": version, "hak": "x"}), 409, "conflict")
    assert_error(dieng.put(f"/proposals/{pid}/parties/{party['id']}/funding",
                           json={"version": version, "funding": []}), 409, "conflict")


def test_illegal_or_stale_transition_is_409_with_the_current_state(api, people):
    author = api(people["dieng"])
    pid = create_draft(author)["id"]
    error = assert_error(move(author, pid, "approve"), 409, "conflict")
    assert error["current"]["state"] == "draft"
    error = assert_error(move(author, pid, "withdraw", text="x", expected_state="submitted"),
                         409, "conflict")
    assert error["current"]["state"] == "draft"
    ok(move(author, pid, "withdraw", text="Batal."))
    error = assert_error(move(author, pid, "withdraw", text="Lagi."), 409, "conflict")
    assert error["current"]["state"] == "withdrawn"
    assert_error(author.patch(f"/proposals/{pid}", json={"version": 99, "tujuan": "x"}), 409,
                 "conflict")


def test_validation_errors_are_422_naming_the_fields(api, people):
    author = api(people["dieng"])
    created = create_draft(author)
    pid = created["id"]

    error = assert_error(move(author, pid, "submit"), 422, "validation_failed")
    assert {"tujuan", "ruang_lingkup", "bidang", "jangka_waktu", "hak_kewajiban",
            "pendanaan", "parties"} <= set(error["fields"])
    assert "Lengkapi" in error["message"]

    assert_error(author.patch(f"/proposals/{pid}", json={"title": "x", "judul": "y",
                                                         "version": 1}),
                 422, "validation_failed", "judul")
    assert_error(author.patch(f"/proposals/{pid}", json={"title": "Tanpa versi"}), 422,
                 "validation_failed", "version")
    assert_error(author.patch(f"/proposals/{pid}", json={"title": "x", "version": True}), 422,
                 "validation_failed", "version")
    assert_error(author.patch(f"/proposals/{pid}", json={
        "version": created["version"], "start_date": "2027-05-01", "end_date": "2027-01-01"}),
        422, "validation_failed", "end_date")
    assert_error(author.patch(f"/proposals/{pid}", json={
        "version": created["version"], "bidang": ["pariwisata"]}),
        422, "validation_failed", "bidang")
    assert_error(author.patch(f"/proposals/{pid}", data="bukan json",
                              content_type="application/json"), 422, "validation_failed")
    assert_error(author.post("/proposals", json={"kind": "antar_desa", "initiative": "desa",
                                                 "title": "x", "mitra": []}),
                 422, "validation_failed", "mitra")
    assert_error(author.post("/proposals", json={"kind": "antar_desa", "initiative": "desa",
                                                 "title": "x",
                                                 "partner_desa_codes": SEMBUNGAN}),
                 422, "validation_failed", "partner_desa_codes")
    assert_error(author.post("/proposals", json={"kind": "lain", "initiative": "desa",
                                                 "title": "x"}),
                 422, "validation_failed", "kind")
    assert_error(move(author, pid, "terbang"), 422, "validation_failed", "action")
    assert_error(author.post(f"/proposals/{pid}/transitions", json={}), 422,
                 "validation_failed", "action")
    assert_error(move(author, pid, "withdraw", alasan="x"), 422, "validation_failed", "alasan")
    assert_error(move(author, pid, "withdraw"), 422, "validation_failed", "text")
    assert_error(move(author, pid, "withdraw", points="x"), 422, "validation_failed", "points")
    assert_error(author.post(f"/proposals/{pid}/comments", json={"body": ""}), 422,
                 "validation_failed", "body")
    assert_error(author.post(f"/proposals/{pid}/comments", json={"body": "x", "section": "z"}),
                 422, "validation_failed", "section")
    assert_error(author.get(f"/proposals/{pid}/diff"), 404, "not_found")  # no version yet
    assert ok(author.get(f"/proposals/{pid}"))["version"] == created["version"]


def test_comments_edit_window_and_strike(api, people):
    author = api(people["dieng"])
    pid = create_draft(author)["id"]
    comment = ok(author.post(f"/proposals/{pid}/comments", json={"body": "Draf awal."}), 201)
    assert comment["section"] is None and comment["struck_at"] is None
    edited = ok(author.patch(f"/proposals/{pid}/comments/{comment['id']}",
                             json={"body": "Draf awal, direvisi."}))
    assert edited["body"] == "Draf awal, direvisi." and edited["edited_at"]

    stored = db.session.get(ProposalComment, comment["id"])
    stored.created_at = stored.created_at - dt.timedelta(minutes=16)
    db.session.commit()
    error = assert_error(author.patch(f"/proposals/{pid}/comments/{comment['id']}",
                                      json={"body": "Terlambat"}), 409, "conflict")
    assert "15 menit" in error["message"]
    struck = ok(author.post(f"/proposals/{pid}/comments/{comment['id']}/strike"))
    assert struck["struck_at"] and struck["struck_by"] == "sekdes.dieng"
    assert struck["body"] == "Draf awal, direvisi."  # never deleted
    assert_error(author.patch(f"/proposals/{pid}/comments/999999", json={"body": "x"}), 404,
                 "not_found")


def test_version_not_found(api, people):
    author = api(people["dieng"])
    proposal = complete(author, create_draft(author))
    ok(move(author, proposal["id"], "submit"))
    assert_error(author.get(f"/proposals/{proposal['id']}/versions/7"), 404, "not_found")
    assert_error(author.get(f"/proposals/{proposal['id']}/diff?a=1&b=3"), 404, "not_found")
    assert_error(author.get(f"/proposals/{proposal['id']}/diff?a=0"), 422, "validation_failed",
                 "a")
    assert db.session.scalar(sa.select(sa.func.count(ProposalVersion.id))) == 1


def test_audit_across_the_jurisdiction(api, people):
    author = api(people["dieng"])
    proposal = complete(author, create_draft(author))
    ok(move(author, proposal["id"], "submit"))

    kejajar = ok(api(people["auditor"]).get("/audit"))
    assert kejajar["total"] >= 5
    assert {e["proposal_id"] for e in kejajar["items"]} == {proposal["id"]}
    assert ok(api(people["auditor_garung"]).get("/audit"))["total"] == 0
    assert_error(api(people["dieng"]).get("/audit"), 403, "forbidden")
    assert_error(api(people["bkad"]).get("/audit"), 403, "forbidden")

    auditor = api(people["auditor"])
    only = ok(auditor.get("/audit?action=proposal.transition"))["items"]
    assert [e["action"] for e in only] == ["proposal.transition.submit"]
    assert ok(auditor.get(f"/audit?proposal={proposal['ref']}"))["total"] == kejajar["total"]
    assert ok(auditor.get("/audit?proposal=KSD-1999-00001"))["total"] == 0
    assert ok(auditor.get("/audit?user=sekdes.dieng"))["total"] == kejajar["total"]
    assert ok(auditor.get("/audit?user=orang.lain"))["total"] == 0
    today = local_today()
    tomorrow = today + dt.timedelta(days=1)
    assert ok(auditor.get(f"/audit?date_from={today - dt.timedelta(days=1)}"))["total"] == \
        kejajar["total"]
    assert ok(auditor.get(f"/audit?date_from={tomorrow}"))["total"] == 0
    paged = ok(auditor.get("/audit?per_page=2&page=2"))
    assert paged["page"] == 2 and len(paged["items"]) == 2
    assert_error(auditor.get("/audit?date_from=kemarin"), 422, "validation_failed",
                 "date_from")


# --- the OpenAPI document -------------------------------------------------------------------

@pytest.fixture
def spec(client):
    return ok(client.get("/api/v1/openapi.json"))


def _check(spec: dict, path: str, method: str, status: int, body) -> None:
    operation = spec["paths"][path][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    root = {**schema, "components": spec["components"]}
    validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, (path, method, [f"{list(e.absolute_path)}: {e.message}"
                                       for e in errors])


def test_every_proposal_route_is_documented(app, spec):
    routes = {r.rule for r in app.url_map.iter_rules()
              if r.rule.startswith(("/api/v1/proposals", "/api/v1/audit"))}
    # The proposal's own endpoints, plus those the deliberation, sustainability and
    # documents areas hang under a proposal.
    assert {"/api/v1/proposals/<int:proposal_id>/meetings",
            "/api/v1/proposals/<int:proposal_id>/assessments",
            "/api/v1/proposals/<int:proposal_id>/stakeholders",
            "/api/v1/proposals/<int:proposal_id>/signatures",
            "/api/v1/proposals/<int:proposal_id>/document.pdf",
            # life after signing: addenda and changes, reports, disputes
            "/api/v1/proposals/<int:proposal_id>/changes",
            "/api/v1/proposals/<int:proposal_id>/addendum",
            "/api/v1/proposals/<int:proposal_id>/end-on-expiry",
            "/api/v1/proposals/<int:proposal_id>/reports",
            "/api/v1/proposals/<int:proposal_id>/report-schedule",
            "/api/v1/proposals/<int:proposal_id>/disputes",
            "/api/v1/proposals/<int:proposal_id>/publication"} <= routes
    assert len(routes) == 28
    methods = {(p, m) for p, ops_ in spec["paths"].items() for m in ops_}
    for pair in [("/proposals", "get"), ("/proposals", "post"),
                 ("/proposals/{proposal_id}", "patch"),
                 ("/proposals/{proposal_id}/parties/{party_id}", "delete"),
                 ("/proposals/{proposal_id}/parties/{party_id}/funding", "put"),
                 ("/proposals/{proposal_id}/transitions", "post"),
                 ("/proposals/{proposal_id}/diff", "get"), ("/audit", "get")]:
        assert pair in methods
    body = spec["paths"]["/proposals/{proposal_id}"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith(
        "ProposalSectionsInput")


def test_proposal_responses_match_their_schemas(api, spec, people):
    author, reviewer = api(people["dieng"]), api(people["bkad"])
    created = create_draft(author)
    pid = created["id"]
    _check(spec, "/proposals", "post", 201, created)
    ready = complete(author, created)
    _check(spec, "/proposals/{proposal_id}/parties/{party_id}/funding", "put", 200, ready)
    _check(spec, "/proposals", "get", 200, ok(author.get("/proposals")))
    submitted = ok(move(author, pid, "submit"))
    _check(spec, "/proposals/{proposal_id}/transitions", "post", 200, submitted)
    ok(move(reviewer, pid, "start_review"))
    changes = ok(move(reviewer, pid, "request_changes", points=["Lengkapi."]))
    _check(spec, "/proposals/{proposal_id}", "get", 200, changes)
    comment = ok(reviewer.post(f"/proposals/{pid}/comments", json={"body": "Baik."}), 201)
    _check(spec, "/proposals/{proposal_id}/comments", "post", 201, comment)
    _check(spec, "/proposals/{proposal_id}/comments", "get", 200,
           ok(author.get(f"/proposals/{pid}/comments")))
    patched = ok(author.patch(f"/proposals/{pid}", json={"version": changes["version"],
                                                         "tujuan": "Baru."}))
    _check(spec, "/proposals/{proposal_id}", "patch", 200, patched)
    ok(move(author, pid, "submit"))
    _check(spec, "/proposals/{proposal_id}/versions", "get", 200,
           ok(author.get(f"/proposals/{pid}/versions")))
    _check(spec, "/proposals/{proposal_id}/versions/{number}", "get", 200,
           ok(author.get(f"/proposals/{pid}/versions/2")))
    _check(spec, "/proposals/{proposal_id}/diff", "get", 200,
           ok(author.get(f"/proposals/{pid}/diff?a=1&b=2")))
    _check(spec, "/proposals/{proposal_id}/audit", "get", 200,
           ok(author.get(f"/proposals/{pid}/audit")))
    _check(spec, "/audit", "get", 200, ok(api(people["admin"]).get("/audit")))

    stale = author.patch(f"/proposals/{pid}", json={"version": 1, "tujuan": "x"})
    _check(spec, "/proposals/{proposal_id}", "patch", 409, stale.get_json())
    _check(spec, "/proposals/{proposal_id}", "get", 404,
           api(people["tieng"]).get(f"/proposals/{pid}").get_json())
    _check(spec, "/proposals/{proposal_id}/transitions", "post", 422,
           move(author, pid, "terbang").get_json())
    _check(spec, "/audit", "get", 403, api(people["tieng"]).get("/audit").get_json())


def test_audit_entries_of_the_api_are_chained(api, people):
    author = api(people["dieng"])
    complete(author, create_draft(author))
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.id for e in entries] == list(range(1, len(entries) + 1))
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == previous.hash
        assert entry.compute_hash() == entry.hash
