"""The audit trail: the SHA-256 chain and its verification (CLI and admin page), the log
pages per proposal and across a jurisdiction, the CSV export, and the clock commands
(``lifecycle``, ``remind``) that write to it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.audit import operations as audit_ops
from coopdesa.audit.models import AuditEntry
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals import operations as ops
from coopdesa.proposals.models import Notification, Proposal
from coopdesa.proposals.states import State
from tests.conftest import (
    DIENG,
    GARUNG,
    KEJAJAR,
    SEMBUNGAN,
    TIENG,
    IsolatedClient,
    count_statements,
)
from tests.factories import AdminFactory, BkadFactory, UserFactory

SECTIONS = {
    "menimbang": "bahwa jalur pendakian Gunung Prau perlu dikelola bersama;",
    "tujuan": "Mengelola jalur pendakian bersama.",
    "ruang_lingkup": "Loket, kebersihan jalur dan pembagian hasil.",
    "bidang": ["usaha_bersama"],
    "tata_cara": "Dilaksanakan oleh BKAD.",
    "start_date": "2027-01-01",
    "end_date": "2029-12-31",
    "perubahan": "Dimusyawarahkan para pihak.",
}


@pytest.fixture
def people(app):
    bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN])
    return {
        "dieng": UserFactory(username="sekdes.dieng", role=Role.SEKRETARIS, desa_code=DIENG),
        "sembungan": UserFactory(username="sekdes.sembungan", role=Role.SEKRETARIS,
                                 desa_code=SEMBUNGAN),
        "bkad": UserFactory(username="bkad.dieng", role=Role.BKAD, bkad=bkad),
        "auditor": UserFactory(username="camat.kejajar", role=Role.AUDITOR,
                               jurisdiction_code=KEJAJAR),
        "auditor_garung": UserFactory(username="camat.garung", role=Role.AUDITOR,
                                      jurisdiction_code=GARUNG),
        "admin": AdminFactory(username="admin.kab"),
    }


def submitted_proposal(author, *, title: str = "Jalur pendakian Prau",
                       submit: bool = True) -> Proposal:
    """An antar_desa proposal of Dieng and Sembungan, complete, submitted (committed)."""
    proposal = ops.create_proposal(author, kind="antar_desa", initiative="desa", title=title,
                                   partner_desa_codes=[SEMBUNGAN])
    ops.update_sections(proposal, author, SECTIONS, expected_version=None)
    for party in list(proposal.parties):
        ops.update_party(proposal, author, party.id, {
            "signatory_name": f"Kepala {party.actor.name}", "hak": "Bagi hasil.",
            "kewajiban": "Menjaga jalur."}, expected_version=None)
    ops.set_funding(proposal, author, proposal.parties[0].id,
                    [{"source": "apb_desa", "amount": 10_000_000, "apbdes_year": 2027}],
                    expected_version=None)
    if submit:
        ops.transition(proposal, author, "submit")
    db.session.commit()
    return proposal


def entries() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def verify(runner):
    db.session.commit()
    db.session.expire_all()
    return runner.invoke(args=["coopdesa", "audit", "verify"])


# --- the chain ------------------------------------------------------------------------------

def test_every_entry_is_chained_to_the_previous_one(people):
    submitted_proposal(people["dieng"])
    chain = entries()
    assert len(chain) >= 6
    assert chain[0].prev_hash == "0" * 64
    assert [e.id for e in chain] == list(range(1, len(chain) + 1))
    for previous, entry in zip(chain, chain[1:], strict=False):
        assert entry.prev_hash == previous.hash
        assert entry.compute_hash() == entry.hash
    assert chain[-1].action == "proposal.transition.submit"
    assert chain[-1].actor_label == "sekdes.dieng"
    assert chain[-1].before == {"state": "draft"}
    assert audit_ops.verify_chain().ok


def test_verify_passes_on_a_fresh_chain(runner, people):
    submitted_proposal(people["dieng"])
    count = len(entries())
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"Rantai audit utuh: {count} entri" in result.output


def test_verify_on_an_empty_chain(runner, app):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "Rantai audit utuh: 0 entri" in result.output


def test_verify_names_an_entry_whose_summary_was_changed(runner, people):
    submitted_proposal(people["dieng"])
    db.session.execute(sa.text("UPDATE audit_entry SET summary = 'Tidak terjadi apa-apa' "
                               "WHERE id = 3"))
    result = verify(runner)
    assert result.exit_code == 1
    assert "entri 3" in result.output
    assert "telah diubah" in result.output


def test_verify_names_an_entry_whose_before_was_changed(runner, people):
    submitted_proposal(people["dieng"])
    last = entries()[-1].id
    db.session.execute(sa.text("UPDATE audit_entry SET after = :v WHERE id = :id"),
                       {"v": '{"state": "approved"}', "id": last})
    result = verify(runner)
    assert result.exit_code == 1
    assert f"entri {last}" in result.output


def test_verify_notices_the_last_entry_deleted(runner, people):
    submitted_proposal(people["dieng"])
    last = entries()[-1].id
    db.session.execute(sa.text("DELETE FROM audit_entry WHERE id = :id"), {"id": last})
    result = verify(runner)
    assert result.exit_code == 1
    assert f"pada entri {last}:" in result.output
    assert "hilang" in result.output


def test_verify_notices_a_middle_entry_deleted(runner, people):
    submitted_proposal(people["dieng"])
    db.session.execute(sa.text("DELETE FROM audit_entry WHERE id = 4"))
    result = verify(runner)
    assert result.exit_code == 1
    assert "pada entri 4:" in result.output
    assert "Entri 4 hilang" in result.output
    assert "3 entri sebelum entri 4 utuh" in result.output


def test_verify_notices_a_forged_replacement(runner, people):
    """Rewriting an entry and its own hash still breaks the link of the next one."""
    submitted_proposal(people["dieng"])
    entry = db.session.get(AuditEntry, 2)
    entry.summary = "Dipalsukan"
    entry.hash = entry.compute_hash()
    db.session.commit()
    result = verify(runner)
    assert result.exit_code == 1
    assert "pada entri 3:" in result.output


# --- pages ----------------------------------------------------------------------------------

def test_auditor_of_the_kecamatan_reads_the_log_and_another_does_not(client, login, people):
    proposal = submitted_proposal(people["dieng"])
    submitted_proposal(people["dieng"], title="Masih draf", submit=False)

    login(people["auditor"])
    page = client.get("/audit/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert proposal.ref in text and "proposal.transition.submit" in text
    assert "Masih draf" not in text  # drafts belong to their authors
    assert 'href="/audit/"' in text  # the nav link
    log = client.get(f"/audit/usulan/{proposal.id}")
    assert log.status_code == 200
    assert "sekdes.dieng" in log.get_data(as_text=True)

    client.post("/keluar")
    login(people["auditor_garung"])
    page = client.get("/audit/")
    assert page.status_code == 200
    assert proposal.ref not in page.get_data(as_text=True)
    assert client.get(f"/audit/usulan/{proposal.id}").status_code == 404
    assert client.get("/audit/ekspor.csv").get_data(as_text=True).count("\n") == 1


def test_secretary_is_refused_the_jurisdiction_log_but_reads_her_own(client, login, people):
    proposal = submitted_proposal(people["dieng"])
    login(people["dieng"])
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/ekspor.csv").status_code == 403
    assert client.get("/audit/verifikasi").status_code == 403
    assert 'href="/audit/"' not in client.get(f"/audit/usulan/{proposal.id}").get_data(
        as_text=True)
    assert client.get(f"/audit/usulan/{proposal.id}").status_code == 200
    client.post("/keluar")
    login(UserFactory(role=Role.SEKRETARIS, desa_code=TIENG))
    assert client.get(f"/audit/usulan/{proposal.id}").status_code == 404


def test_proposal_log_shows_before_and_after_escaped(client, login, people):
    proposal = submitted_proposal(people["dieng"], submit=False)
    ops.update_sections(proposal, people["dieng"],
                        {"tujuan": "<script>alert(1)</script> & lainnya"},
                        expected_version=None)
    db.session.commit()
    login(people["dieng"])
    text = client.get(f"/audit/usulan/{proposal.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; lainnya" in text
    assert "Sebelum" in text and "Sesudah" in text
    last = entries()[-1]
    assert last.hash[:12] in text
    assert "isi cocok dengan hash" in text
    assert "style=" not in text and "onclick" not in text


def test_jurisdiction_log_filters_and_paginates_in_constant_queries(app, client, login,
                                                                    people):
    first = submitted_proposal(people["dieng"])
    login(people["auditor"])

    def count_queries(url: str) -> tuple[int, str]:
        with count_statements() as statements:
            response = client.get(url)
        assert response.status_code == 200
        return len(statements), response.get_data(as_text=True)

    few, _text = count_queries("/audit/")
    for i in range(8):
        submitted_proposal(people["dieng"], title=f"Usulan ke-{i}")
    many, text = count_queries("/audit/")
    assert many == few, (few, many)
    assert "Halaman 1 dari 2" in text
    assert text.count('class="list-group-item audit-entry"') == 50
    _n, text = count_queries("/audit/?halaman=2")
    assert text.count('class="list-group-item audit-entry"') == len(entries()) - 50

    _n, text = count_queries("/audit/?action=proposal.transition")
    assert text.count("proposal.transition.submit") == 9
    assert "<code class=\"text-break\">proposal.update</code>" not in text
    _n, text = count_queries(f"/audit/?proposal={first.ref}")
    assert "Usulan ke-" not in text
    _n, text = count_queries("/audit/?user=orang.lain")
    assert "Tidak ada entri yang cocok" in text
    _n, text = count_queries("/audit/?date_from=bukan-tanggal")
    assert "Tanggal tidak valid" in text


def test_admin_reads_everything_and_verifies_on_a_page(client, login, people):
    submitted_proposal(people["dieng"])
    audit_ops.record("account.test", summary="Bukan tentang usulan", user=people["admin"],
                     object_type="user_account", object_id=people["admin"].id)
    db.session.commit()
    login(people["admin"])
    text = client.get("/audit/").get_data(as_text=True)
    assert "Bukan tentang usulan" in text and "tidak terkait usulan" in text
    page = client.get("/audit/verifikasi")
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    result = client.post("/audit/verifikasi")
    assert result.status_code == 200
    body = result.get_data(as_text=True)
    assert "Rantai audit utuh" in body and people["admin"].full_name in body

    db.session.execute(sa.text("UPDATE audit_entry SET summary = 'x' WHERE id = 2"))
    db.session.commit()
    body = client.post("/audit/verifikasi").get_data(as_text=True)
    assert "Isi entri 2 tidak cocok" in body


def test_verify_page_needs_the_csrf_token(app, people):
    from coopdesa import create_app

    csrf_app = create_app({"ENV_NAME": "testing", "WTF_CSRF_ENABLED": True,
                           "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                           "SERVER_NAME": "localhost"})
    csrf_app.test_client_class = IsolatedClient
    with csrf_app.app_context():
        client = csrf_app.test_client()
        page = client.get("/masuk").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        assert client.post("/masuk", data={"username": "admin.kab", "password":
                                           "rahasia-uji-2026", "csrf_token": token}
                           ).status_code == 302
        assert client.post("/audit/verifikasi").status_code == 400
        page = client.get("/audit/verifikasi").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/audit/verifikasi", data={"csrf_token": token})
        assert "Rantai audit utuh" in response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_csv_export_contains_the_entries_and_defuses_formulas(client, login, people):
    proposal = submitted_proposal(people["dieng"], title='=HYPERLINK("http://x","klik")')
    login(people["auditor"])
    response = client.get(f"/audit/ekspor.csv?proposal={proposal.ref}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(r["id"]) for r in rows] == [e.id for e in reversed(entries())]
    assert {r["proposal_ref"] for r in rows} == {proposal.ref}
    assert all(r["proposal_title"] == "'" + proposal.title for r in rows)
    assert not any(value.startswith(("=", "+", "-", "@"))
                   for row in rows for value in row.values() if value)
    create = next(r for r in rows if r["action"] == "proposal.create")
    assert '"title":"=HYPERLINK' in create["after"]

    only = client.get("/audit/ekspor.csv?action=proposal.transition").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(only)))) == 1
    assert client.get("/audit/ekspor.csv?date_to=kemarin").status_code == 422


# --- the clock ------------------------------------------------------------------------------

def _set_state(proposal: Proposal, state: State, **dates) -> None:
    db.session.execute(sa.update(Proposal).where(Proposal.id == proposal.id)
                       .values(state=state, **dates))
    db.session.commit()
    db.session.expire_all()


def test_lifecycle_activates_and_ends_by_the_term_and_is_idempotent(runner, people):
    today = local_today()
    starting = submitted_proposal(people["dieng"], title="Mulai berlaku")
    expiring = submitted_proposal(people["dieng"], title="Habis masa")
    waiting = submitted_proposal(people["dieng"], title="Belum mulai")
    _set_state(starting, State.SIGNED, start_date=today - dt.timedelta(days=2),
               end_date=today + dt.timedelta(days=300))
    _set_state(expiring, State.ACTIVE, start_date=today - dt.timedelta(days=400),
               end_date=today - dt.timedelta(days=5))
    _set_state(waiting, State.SIGNED, start_date=today + dt.timedelta(days=10),
               end_date=today + dt.timedelta(days=300))
    before = len(entries())

    result = runner.invoke(args=["coopdesa", "lifecycle", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    assert "mulai berlaku: 1" in result.output and "jangka waktu habis: 1" in result.output
    db.session.expire_all()
    assert db.session.get(Proposal, starting.id).state == State.ACTIVE
    ended = db.session.get(Proposal, expiring.id)
    assert ended.state == State.ENDED
    assert ended.end_ground.value == "i"
    assert ended.ended_on == today - dt.timedelta(days=4)
    assert db.session.get(Proposal, waiting.id).state == State.SIGNED
    log = entries()[before:]
    assert [(e.action, e.actor_label) for e in log] == [
        ("proposal.transition.activate", "sistem"), ("proposal.transition.end", "sistem")]
    assert log[1].after["ground"] == "i"

    again = runner.invoke(args=["coopdesa", "lifecycle", "--today", today.isoformat()])
    assert again.exit_code == 0, again.output
    assert "mulai berlaku: 0" in again.output and "jangka waktu habis: 0" in again.output
    assert len(entries()) == before + 2
    assert verify(runner).exit_code == 0


def test_lifecycle_with_a_later_today_ends_on_the_day_after_the_term(runner, people):
    today = local_today()
    proposal = submitted_proposal(people["dieng"])
    _set_state(proposal, State.ACTIVE, start_date=today - dt.timedelta(days=100),
               end_date=today + dt.timedelta(days=10))
    result = runner.invoke(args=["coopdesa", "lifecycle", "--today",
                                 (today + dt.timedelta(days=30)).isoformat()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    ended = db.session.get(Proposal, proposal.id)
    assert ended.state == State.ENDED
    assert ended.ended_on == today + dt.timedelta(days=11)


def test_lifecycle_refuses_a_bad_date_in_indonesian(runner, app):
    result = runner.invoke(args=["coopdesa", "lifecycle", "--today", "22-11-2026"])
    assert result.exit_code == 1
    assert "Gagal: tanggal --today" in result.output and "TTTT-BB-HH" in result.output


def test_remind_twice_creates_no_duplicates(runner, people):
    today = local_today()
    submitted_proposal(people["dieng"])  # awaits the BKAD
    ending = submitted_proposal(people["dieng"], title="Segera berakhir")
    _set_state(ending, State.ACTIVE, start_date=today - dt.timedelta(days=300),
               end_date=today + dt.timedelta(days=20))
    db.session.execute(sa.delete(Notification))
    db.session.commit()

    first = runner.invoke(args=["coopdesa", "remind", "--today", today.isoformat()])
    assert first.exit_code == 0, first.output
    assert "Pemberitahuan dibuat" in first.output
    count = db.session.scalar(sa.select(sa.func.count(Notification.id)))
    assert count > 0
    keys = set(db.session.scalars(sa.select(Notification.key)))
    # Within 30 days: the 30-day notice only (one notice per window).
    assert any(k.startswith("e30:") for k in keys)
    assert not any(k.startswith("e90:") for k in keys)
    assert any(k.startswith("a:") for k in keys)

    second = runner.invoke(args=["coopdesa", "remind", "--today", today.isoformat()])
    assert second.exit_code == 0, second.output
    assert "0 menunggu tindakan, 0 kerja sama segera berakhir" in second.output
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == count
    assert runner.invoke(args=["coopdesa", "remind", "--today", "besok"]).exit_code == 1
