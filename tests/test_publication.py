"""Public dissemination (PP 43/2014 Pasal 88): the public page of a desa shows its signed
agreements to anyone, and nothing else; an administrator withholds a document with a
recorded reason; the pages are cacheable, printable and constant in queries."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts.models import Role, User
from coopdesa.audit.models import AuditEntry
from coopdesa.deliberations.models import Attendee, Meeting
from coopdesa.documents import operations as docs
from coopdesa.documents.models import AgreementDocument, Paper
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.models import EndGround, ProposalComment
from coopdesa.proposals.states import State
from coopdesa.publication import operations as pub
from coopdesa.publication.models import PublicationWithholding
from tests import document_helpers as D
from tests import proposal_helpers as H
from tests.conftest import (
    DIENG,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
    count_statements,
)
from tests.factories import AdminFactory, UserFactory

PAGE = f"/publik/desa/{DIENG}"
MARK = "ZQXMARK"


def _html(response) -> str:
    return response.get_data(as_text=True)


def fake_agreements(n: int, like: AgreementDocument, *, author: User,
                    desa_codes: tuple[str, ...] = (DIENG, SEMBUNGAN),
                    title: str = "Kerja sama massal {i}", state: str = "active") -> list[int]:
    """``n`` agreements in ``state`` written directly, each with a final document whose
    payload is ``like``'s (retitled) and whose PDF is ``like``'s stored file."""
    ids = H.bulk_proposals(n, author=author, desa_codes=desa_codes, state=state, title=title)
    for i, pid in enumerate(ids):
        payload = copy.deepcopy(like.payload)
        payload["title"] = title.format(i=i)
        for party, desa in zip(payload["parties"], desa_codes, strict=False):
            party["desa_code"] = desa
        code = docs.new_code()
        payload["document"] = {**payload["document"], "code": code,
                               "verify_url": docs.verify_url(code)}
        db.session.add(AgreementDocument(
            proposal_id=pid, version_number=1, code=code, paper=Paper.F4,
            enacted_on=like.enacted_on, enacted_place=like.enacted_place, payload=payload,
            file_id=like.file_id, sha256=like.sha256, rendered_at=like.rendered_at))
    db.session.commit()
    return ids


def _in_force(kind: str, prefix: str, **kw) -> H.Scenario:
    """As document_helpers.active_agreement, numbering the signatures ``prefix``1, 2, ...
    (a village's number is unique per year)."""
    from coopdesa.proposals import operations as proposal_ops

    s = D.agreed_antar_desa(**kw) if kind == "antar_desa" else D.agreed_pihak_ketiga(**kw)
    for index, party in enumerate(list(s.reload().parties), start=1):
        user = s[f"sek:{party.desa_code}"] if party.desa_code else s.author
        docs.record_signature(s.reload(), user, party.id, D.signature_data(f"{prefix}{index}"))
        db.session.commit()
    if s.reload().state == State.SIGNED:
        proposal_ops.transition(s.proposal, None, "activate")
        db.session.commit()
    assert s.reload().state == State.ACTIVE
    return s


@pytest.fixture
def world(app):
    """Desa Dieng: an active antar_desa agreement (with Sembungan), an ended pihak_ketiga
    one; a draft, a submitted, and an agreed but unsigned proposal; and an agreement of
    two other villages."""
    active = _in_force("antar_desa", "", title="Wisata <script>alert(1)</script> Dieng")
    ended = _in_force("pihak_ketiga", "PK-", title="Homestay bersama CV Prau Lestari")
    proposal = ended.reload()
    proposal.state = State.ENDED
    proposal.ended_on = dt.date(2028, 6, 30)
    proposal.end_ground = EndGround.B_TUJUAN_TERCAPAI
    db.session.commit()
    H.antar_desa(like=active, title=f"Draf {MARK} satu")
    H.antar_desa(like=active, submit=True, title=f"Diajukan {MARK} dua")
    D.agreed_antar_desa(like=active, title=f"Disepakati {MARK} tiga")
    document = docs.document_of(active.reload())
    fake_agreements(1, document, author=active.author, desa_codes=(PATAKBANTENG, TIENG),
                    title=f"Desa lain {MARK} empat")
    return {"active": active, "ended": ended, "document": document,
            "ended_document": docs.document_of(ended.reload())}


def _plant_markers(world) -> None:
    """Put a unique marker where the public page must never look."""
    s = world["active"]
    proposal = s.reload()
    db.session.add(ProposalComment(proposal_id=proposal.id, author_id=s.author.id,
                                   body=f"komentar-{MARK}"))
    s["bkad"].full_name = f"Penelaah {MARK}"
    for user in db.session.scalars(sa.select(User)):
        user.email = f"{user.username}.{MARK.lower()}@example.org"
    db.session.execute(sa.update(Attendee).values(name=f"Hadirin {MARK}"))
    db.session.execute(sa.update(Meeting).values(chair_name=f"Pimpinan {MARK}",
                                                 notes=f"Suara {MARK}"))
    for key in ("document", "ended_document"):
        document = world[key]
        payload = copy.deepcopy(document.payload)
        for party in payload["parties"]:
            party["address"] = f"Alamat {MARK}"
            party["npwp"] = party["nib"] = f"NPWP{MARK}"
            party["delegates"] = [f"Utusan {MARK}"]
            party["hak"] = [f"Hak {MARK}"]
            party["kewajiban"] = [f"Kewajiban {MARK}"]
            for row in party["funding"]:
                row["description"] = f"Dana {MARK}"
        payload["sections"]["tujuan"] = [f"Tujuan {MARK}"]
        document.payload = payload
    db.session.commit()


# --- what an anonymous visitor sees ------------------------------------------------------------

def test_anonymous_visitor_sees_the_signed_agreements_of_the_desa(client, world):
    response = client.get(PAGE)
    assert response.status_code == 200
    html = _html(response)
    active, ended = world["document"], world["ended_document"]
    for document in (active, ended):
        assert f"/publik/dokumen/{document.code}.pdf" in html
        assert f"/verify/{document.code}" in html
        assert document.code in html
    assert "Berlaku" in html and "Berakhir" in html
    assert "b. tujuan kerja sama telah tercapai" in html  # the ended ground
    assert "Homestay bersama CV Prau Lestari" in html
    assert "CV Prau Lestari" in html and "Desa Sembungan" in html
    assert "Nomor 1 Tahun" in html and "Nomor 2 Tahun" in html
    for party in active.payload["parties"]:
        assert party["signature"]["name"] in html and party["signature"]["office"] in html
    # Hostile title: escaped, never markup.
    assert "<script>alert(1)</script>" not in html
    assert "Wisata &lt;script&gt;alert(1)&lt;/script&gt; Dieng" in html
    # Nothing that is not a signed agreement of Dieng.
    assert MARK not in html
    # Printed, the page shows the addresses of its PDFs.
    assert f"https://coopdesa.example/publik/dokumen/{active.code}.pdf" in html
    # The PDF is the stored final one, inline.
    pdf = client.get(f"/publik/dokumen/{active.code}.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data == active.file.data
    assert pdf.headers["Content-Disposition"].startswith("inline")


def test_partner_village_lists_the_shared_agreement_only(client, world):
    html = _html(client.get(f"/publik/desa/{SEMBUNGAN}"))
    assert world["document"].code in html
    assert world["ended_document"].code not in html  # Sembungan is no party to it
    other = _html(client.get(f"/publik/desa/{PATAKBANTENG}"))
    assert f"Desa lain {MARK} empat" in other and world["document"].code not in other


def test_no_review_meeting_funding_or_personal_data_on_the_page(client, world):
    _plant_markers(world)
    html = _html(client.get(PAGE))
    assert world["document"].code in html
    assert MARK not in html and MARK.lower() not in html
    assert "25.000.000" not in html and "25000000" not in html  # the funding rows
    assert "@" not in html.replace("@media", "")
    body = client.get(f"/api/v1/public/desa/{DIENG}/agreements").get_data(as_text=True)
    assert MARK not in body and MARK.lower() not in body and "25000000" not in body


def test_states_before_signing_are_not_public(client, world):
    draft = H.antar_desa(like=world["active"], title="Belum publik")
    document = world["document"]
    # An agreement back before signing (never in practice) would vanish from the page.
    for state in (State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.AGREED,
                  State.WITHDRAWN, State.REJECTED):
        H.set_state(world["active"].reload(), state)
        html = _html(client.get(PAGE))
        assert document.code not in html, state
        assert client.get(f"/publik/dokumen/{document.code}.pdf").status_code == 404
    for state in (State.SIGNED, State.POSTPONED):
        H.set_state(world["active"].reload(), state)
        html = _html(client.get(PAGE))
        assert document.code in html, state
    assert "Ditandatangani, belum mulai berlaku" not in html  # postponed now
    assert "ditunda" in html
    assert draft.proposal.title not in html


# --- not found, redirects, search -------------------------------------------------------------

@pytest.mark.parametrize("code, words", [
    ("99.99.99.9999", "Tidak ada desa dengan kode"),
    (KELURAHAN_KEJAJAR, "adalah kelurahan, bukan desa"),
    (KEJAJAR, "adalah kecamatan, bukan desa"),
    ("<b>x", "Tidak ada desa dengan kode"),
])
def test_unknown_or_non_village_code_is_a_plain_404(client, code, words):
    for path in (f"/publik/desa/{code}", f"/publik/desa/{code}/poster"):
        response = client.get(path)
        assert response.status_code == 404
        html = _html(response)
        assert words in html
        assert "<b>x" not in html
    api = client.get(f"/api/v1/public/desa/{code}/agreements")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_a_code_in_digits_redirects_to_the_dotted_page(client, app):
    response = client.get("/publik/desa/3307132013")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(PAGE)


def test_search_lists_villages_only(client, app):
    html = _html(client.get("/publik?q=kejajar"))
    assert "Kelurahan Kejajar" not in html
    html = _html(client.get("/publik?q=dieng"))
    assert f'href="/publik/desa/{DIENG}"' in html
    assert _html(client.get("/publik?q=<script>x</script>")).count("<script>") == 0
    assert client.get("/publik").status_code == 200


def test_unknown_document_code_is_a_plain_404(client, app):
    response = client.get("/publik/dokumen/0000-0000-0000.pdf")
    assert response.status_code == 404
    assert "Tidak ada dokumen publik dengan kode itu" in _html(response)


# --- withholding ---------------------------------------------------------------------------------

def test_admin_withholds_and_lifts_with_a_recorded_reason(client, login, world):
    proposal = world["active"].reload()
    document = world["document"]
    admin = AdminFactory()
    db.session.commit()
    login(admin)
    response = client.post(f"/publikasi/{proposal.id}/kecualikan", data={
        "legal_basis": "UU 14/2008 Pasal 17 huruf c", "reason": f"Alasan rahasia {MARK}"})
    assert response.status_code == 302
    client.post("/keluar")

    html = _html(client.get(PAGE))
    assert "Dokumen dikecualikan dari publikasi" in html
    assert "UU 14/2008 Pasal 17 huruf c" in html
    assert MARK not in html
    assert "Wisata &lt;script&gt;" in html  # still listed by title and state
    assert f"/publik/dokumen/{document.code}.pdf" not in html
    assert document.code not in html
    assert world["ended_document"].code in html  # the other one is untouched
    pdf = client.get(f"/publik/dokumen/{document.code}.pdf")
    assert pdf.status_code == 404
    assert "dikecualikan dari publikasi" in _html(pdf)
    body = client.get(f"/api/v1/public/desa/{DIENG}/agreements").get_json()
    withheld = [a for a in body["agreements"] if a["withheld"]]
    assert len(withheld) == 1 and withheld[0]["pdf_url"] is None
    assert withheld[0]["legal_basis"] == "UU 14/2008 Pasal 17 huruf c"
    assert MARK not in str(body)

    login(admin)
    assert client.post(f"/publikasi/{proposal.id}/cabut",
                       data={"lift_reason": "Masa kerahasiaan berakhir"}).status_code == 302
    client.post("/keluar")
    assert f"/publik/dokumen/{document.code}.pdf" in _html(client.get(PAGE))
    assert client.get(f"/publik/dokumen/{document.code}.pdf").status_code == 200
    assert H.audit_actions(proposal.id)[-2:] == ["publication.withhold", "publication.lift"]
    rows = db.session.scalars(sa.select(PublicationWithholding)).all()
    assert len(rows) == 1 and rows[0].lifted_by_id == admin.id
    assert rows[0].reason == f"Alasan rahasia {MARK}"


def test_only_an_admin_may_withhold(app, world):
    proposal = world["active"].reload()
    s = world["active"]
    target = access.PublicationOf(proposal)
    admin = AdminFactory()
    others = [s.author, s[f"sek:{SEMBUNGAN}"], s["bkad"],
              UserFactory(role=Role.KEPALA_DESA, desa_code=DIENG),
              UserFactory(role=Role.KETUA_BPD, desa_code=DIENG),
              UserFactory(role=Role.AUDITOR, jurisdiction_code="33.07")]
    db.session.commit()
    assert access.can(admin, Action.MANAGE, target)
    for user in others:
        assert not access.can(user, Action.MANAGE, target), user.role
        assert "administrator" in access.reason_refused(user, Action.MANAGE, target)
        assert access.can(user, Action.VIEW, target), user.role
        with pytest.raises(AccessDenied):
            pub.withhold(proposal, user, {"legal_basis": "x", "reason": "y"})
        db.session.rollback()
    outsider = UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG)
    assert not access.can(outsider, Action.VIEW, target)
    assert db.session.scalar(sa.select(sa.func.count(PublicationWithholding.id))) == 0


def test_refusals_over_http_change_nothing(client, login, world):
    s = world["active"]
    proposal = s.reload()
    # Logging out is recorded (user.logout); the refusals themselves record nothing.
    entries = sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action != "user.logout")
    before = db.session.scalar(entries)
    data = {"legal_basis": "UU 14/2008", "reason": "alasan"}
    # Anonymous: to the login page.
    response = client.post(f"/publikasi/{proposal.id}/kecualikan", data=data)
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    # A party village's secretary: 403 with the reason.
    login(s.author)
    response = client.post(f"/publikasi/{proposal.id}/kecualikan", data=data)
    assert response.status_code == 403
    assert "Hanya administrator" in _html(response)
    assert client.get(f"/publikasi/{proposal.id}").status_code == 200
    client.post("/keluar")
    # Another village's secretary: the proposal does not exist for them.
    login(UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG))
    assert client.post(f"/publikasi/{proposal.id}/kecualikan", data=data).status_code == 404
    assert client.get(f"/publikasi/{proposal.id}").status_code == 404
    client.post("/keluar")
    assert db.session.scalar(entries) == before
    assert db.session.scalar(sa.select(sa.func.count(PublicationWithholding.id))) == 0


def test_bad_input_is_refused_by_field_in_indonesian(client, login, world):
    proposal = world["active"].reload()
    login(AdminFactory())
    response = client.post(f"/publikasi/{proposal.id}/kecualikan",
                           data={"legal_basis": "  ", "reason": "<b>alasan</b>"})
    assert response.status_code == 422
    html = _html(response)
    assert "Dasar hukum pengecualian wajib diisi." in html
    assert "&lt;b&gt;alasan&lt;/b&gt;" in html  # kept, escaped
    response = client.post(f"/publikasi/{proposal.id}/kecualikan",
                           data={"legal_basis": "x" * 201, "reason": "r"})
    assert response.status_code == 422 and "Paling banyak 200 karakter." in _html(response)
    response = client.post(f"/publikasi/{proposal.id}/cabut", data={"lift_reason": ""})
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(PublicationWithholding.id))) == 0
    # Lifting what is not withheld, withholding twice: 409.
    response = client.post(f"/publikasi/{proposal.id}/cabut", data={"lift_reason": "x"})
    assert response.status_code == 409
    data = {"legal_basis": "<i>UU 14/2008</i>", "reason": "r"}
    assert client.post(f"/publikasi/{proposal.id}/kecualikan", data=data).status_code == 302
    assert client.post(f"/publikasi/{proposal.id}/kecualikan", data=data).status_code == 409
    html = _html(client.get(PAGE))
    assert "&lt;i&gt;UU 14/2008&lt;/i&gt;" in html and "<i>UU 14/2008</i>" not in html


def test_operations_refuse_unpublished_and_duplicate(app, world):
    admin = AdminFactory()
    draft = H.antar_desa(like=world["active"], title="Draf")
    with pytest.raises(Exception) as info:
        pub.withhold(draft.proposal, admin, {"legal_basis": "x", "reason": "y"})
    assert info.value.status == 404
    db.session.rollback()
    proposal = world["active"].reload()
    with pytest.raises(ValidationError) as info:
        pub.withhold(proposal, admin, {"legal_basis": 5, "reason": None})
    assert set(info.value.fields) == {"legal_basis", "reason"}
    pub.withhold(proposal, admin, {"legal_basis": "x", "reason": "y"})
    with pytest.raises(ConflictError):
        pub.withhold(proposal, admin, {"legal_basis": "x", "reason": "y"})


def test_proposal_page_panel(client, login, world):
    proposal = world["active"].reload()
    login(world["active"].author)
    html = _html(client.get(f"/kerja-sama/{proposal.id}"))
    assert 'id="publikasi"' in html
    assert f'href="/publik/desa/{DIENG}"' in html and f'href="/publik/desa/{SEMBUNGAN}"' in html
    assert "Kecualikan dari publikasi" not in html
    client.post("/keluar")
    login(AdminFactory())
    html = _html(client.get(f"/kerja-sama/{proposal.id}"))
    assert "Kecualikan dari publikasi" in html and 'name="legal_basis"' in html
    draft = H.antar_desa(like=world["active"], title="Draf")
    assert 'id="publikasi"' not in _html(client.get(f"/kerja-sama/{draft.proposal.id}"))


# --- fast and cacheable --------------------------------------------------------------------------

def test_cache_headers_etag_and_no_session_cookie(client, login, world):
    for path in (PAGE, f"/api/v1/public/desa/{DIENG}/agreements", f"{PAGE}/poster"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "public, max-age=300"
        assert "Cookie" in response.headers["Vary"]
        assert response.headers.get("Set-Cookie") is None, path
        assert response.last_modified is not None
        etag = response.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
    etag = client.get(PAGE).headers["ETag"]
    # A withholding changes what is shown, so the ETag.
    pub.withhold(world["active"].reload(), AdminFactory(), {"legal_basis": "x", "reason": "y"})
    db.session.commit()
    response = client.get(PAGE, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    pdf = client.get(f"/publik/dokumen/{world['ended_document'].code}.pdf")
    assert pdf.headers["Cache-Control"] == "public, max-age=300"
    # A signed-in user's copy stays out of shared caches.
    login(world["active"].author)
    assert client.get(PAGE).headers["Cache-Control"] == "private, max-age=300"


def test_statements_do_not_grow_with_the_number_of_agreements(client, world):
    def statements() -> int:
        with count_statements() as seen:
            assert client.get(PAGE).status_code == 200
        return len(seen)

    few = statements()
    fake_agreements(20, world["document"], author=UserFactory(role=Role.SEKRETARIS,
                                                              desa_code=DIENG))
    pub.withhold(world["ended"].reload(), AdminFactory(), {"legal_basis": "x", "reason": "y"})
    db.session.commit()
    assert _html(client.get(PAGE)).count('class="card mb-3 agreement"') == 22
    many = statements()
    assert few == many == 2  # the region, the list


def test_api_returns_the_same_data(client, world):
    from jsonschema import Draft202012Validator

    from coopdesa.api.openapi import SCHEMAS

    response = client.get(f"/api/v1/public/desa/{DIENG}/agreements")  # no token
    assert response.status_code == 200
    body = response.get_json()
    schema = {**SCHEMAS["PublicVillageAgreements"], "components": {"schemas": SCHEMAS}}
    errors = list(Draft202012Validator(schema).iter_errors(body))
    assert not errors, errors
    assert body["desa"]["code"] == DIENG
    assert body["url"] == f"https://coopdesa.example/publik/desa/{DIENG}"
    codes = {a["code"]: a for a in body["agreements"]}
    assert set(codes) == {world["document"].code, world["ended_document"].code}
    entry = codes[world["document"].code]
    assert entry["status"] == "active" and entry["pdf_available"]
    assert entry["pdf_url"] == (
        f"https://coopdesa.example/publik/dokumen/{world['document'].code}.pdf")
    assert entry["number"] == "1"
    assert codes[world["ended_document"].code]["status"] == "ended"


# --- the poster ----------------------------------------------------------------------------

def test_poster_qr_code_decodes_to_the_desa_page(client, world):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    response = client.get(f"{PAGE}/poster")
    assert response.status_code == 200
    html = _html(response)
    url = f"https://coopdesa.example/publik/desa/{DIENG}"
    assert url in html
    data_uri = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    image = Image.open(io.BytesIO(base64.b64decode(data_uri)))
    assert {r.text for r in zxingcpp.read_barcodes(image)} == {url}
    assert "<script" not in html


def test_a_replaced_agreement_names_its_successor(client, world):
    ended = world["ended"].reload()
    ended.end_ground = EndGround.E_DIGANTI
    ended.replaced_by_id = world["active"].proposal.id
    db.session.commit()
    body = client.get(f"/api/v1/public/desa/{DIENG}/agreements").get_json()
    entry = next(a for a in body["agreements"] if a["code"] == world["ended_document"].code)
    assert entry["status"] == "replaced"
    assert entry["replaced_by"] == world["document"].code
    html = _html(client.get(PAGE))
    assert "Diganti oleh perjanjian baru" in html
    assert f'href="/verify/{world["document"].code}"' in html


def test_withholding_through_the_api(app, api, client):
    s = D.active_agreement()
    admin = AdminFactory()
    db.session.commit()
    pid = s.proposal.id
    code = docs.document_of(s.reload()).code
    # Only admins withhold; a party's secretary reads the status, an outsider gets 404.
    refused = api(s.author).post(f"/proposals/{pid}/publication/withhold",
                                 json={"legal_basis": "UU 14/2008 Pasal 17", "reason": "x"})
    assert refused.status_code == 403
    assert api(UserFactory(role="sekretaris", desa_code=TIENG)).get(
        f"/proposals/{pid}/publication").status_code == 404
    bad = api(admin).post(f"/proposals/{pid}/publication/withhold",
                          json={"legal_basis": " ", "reason": 5})
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"legal_basis", "reason"}
    done = api(admin).post(f"/proposals/{pid}/publication/withhold",
                           json={"legal_basis": "UU 14/2008 Pasal 17 huruf b",
                                 "reason": "Memuat data pribadi penerima manfaat."})
    assert done.status_code == 201 and done.json["withheld"] is True
    assert client.get(f"/publik/dokumen/{code}.pdf").status_code == 404
    assert api(admin).post(f"/proposals/{pid}/publication/withhold",
                           json={"legal_basis": "x", "reason": "y"}).status_code == 409
    lifted = api(admin).post(f"/proposals/{pid}/publication/lift",
                             json={"lift_reason": "Data pribadi telah dihitamkan."})
    assert lifted.status_code == 200 and lifted.json["withheld"] is False
    assert len(api(s.author).get(f"/proposals/{pid}/publication").json["history"]) == 1
    assert client.get(f"/publik/dokumen/{code}.pdf").status_code == 200
