"""The access matrix over every object type, as seen over HTTP (issue 7, Security).

One world: an agreement of Dieng and Sembungan (village A) in force, with everything that
hangs on it (versions, comments, musyawarah with attendance, decisions and a signed scan,
a sustainability assessment with an attachment, signatures with TTE evidence, the final
PDF and its signed scan, an implementation report with an attachment, a settled dispute
with its berita acara and scan, a lifecycle request), and a draft of village A with a
comment. Every role (secretaries of A, of B in the same kecamatan and of a village in
another kabupaten, kepala desa and ketua BPD of A, kepala desa of B, BKAD members in and
out, auditors in and out of jurisdiction, admin, anonymous) asks for every route of
``app.url_map`` that takes a parameter, HTML and JSON API alike:

- reads: the roles that may read get 200, every other role 403 or 404 (anonymous: the login
  page or 401) and never the object, nor a byte of its file;
- writes: every role without the right is refused the same way and nothing is written
  (no audit entry, no stored file);
- lists, dashboards, exports and audit pages (no id): outsiders see none of the world's
  internal text.

``COVERAGE`` names a case for every such route; ``PUBLIC`` names, with the reason, the
routes deliberately open. A route added to the app without either makes
``test_every_route_is_covered`` fail.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.accounts.operations import create_token
from coopdesa.audit.models import AuditEntry
from coopdesa.deliberations import operations as dops
from coopdesa.disputes import operations as disputes
from coopdesa.documents import operations as docs
from coopdesa.extensions import db, limiter
from coopdesa.files.models import StoredFile
from coopdesa.i18n import local_today
from coopdesa.lifecycle import operations as life
from coopdesa.proposals import operations as ops
from coopdesa.proposals.models import Proposal, ProposalComment
from coopdesa.proposals.states import State
from coopdesa.reports import operations as reports
from coopdesa.sustainability import operations as sust
from tests import document_helpers as D
from tests import proposal_helpers as H
from tests.conftest import (
    DIENG,
    DIENG_KULON,
    GARUNG,
    KEJAJAR,
    PASSWORD,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
)
from tests.factories import AdminFactory, BkadFactory, UserFactory
from tests.test_deliberations import agree_all

# --- roles ---------------------------------------------------------------------------------

ROLES = ("sek_a", "sek_b", "sek_far", "kades_a", "bpd_a", "kades_b", "bkad_in", "bkad_out",
         "auditor_in", "auditor_out", "admin", "anonymous")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ADMIN = frozenset({"admin"})
#: Who reads the agreement of village A (submitted long ago, now in force).
READ_A = frozenset({"sek_a", "kades_a", "bpd_a", "bkad_in", "auditor_in", "admin"})
#: Who reads the never-submitted draft of village A: its authors only.
READ_DRAFT = frozenset({"sek_a", "admin"})
#: The network of a scope in Kabupaten Wonosobo (inside Kecamatan Kejajar): every village
#: role and BKAD member of the kabupaten, the auditor of Kejajar (access._network_read).
NETWORK_KEJAJAR = SIGNED_IN - {"sek_far", "auditor_out"}
#: The author's own acts on A (PROPOSE) and the admin.
AUTHORS = frozenset({"sek_a", "admin"})

# Internal text and file bytes that must never reach a role outside the village.
TITLE_ACTIVE = "Kerja sama uji akses ZQXACTIVE"
TITLE_DRAFT = "Draf uji akses ZQXDRAFT"
COMMENT = "Komentar internal ZQXCOMMENT"
DRAFT_COMMENT = "Komentar draf ZQXDRAFTCOMMENT"
DISPUTE = "Perselisihan internal ZQXDISPUTE"
REPORT = "Kegiatan laporan ZQXREPORT"
CHANGE = "Alasan penundaan ZQXCHANGE"
EVIDENCE = "Bukti penilaian ZQXEVIDENCE"
FILES = {
    "tte": b"%PDF-1.7\n% ZQXFILE-TTE\n%%EOF\n",
    "document_scan": b"%PDF-1.4\n% ZQXFILE-NASKAH\n%%EOF\n",
    "meeting_scan": b"%PDF-1.4\n% ZQXFILE-MUSYAWARAH\n%%EOF\n",
    "dispute_scan": b"%PDF-1.4\n% ZQXFILE-SENGKETA\n%%EOF\n",
    "report_attachment": b"%PDF-1.4\n% ZQXFILE-LAPORAN\n%%EOF\n",
    "assessment_attachment": b"%PDF-1.4\n% ZQXFILE-PENILAIAN\n%%EOF\n",
    "job_result": b"ZQXFILE-TUGAS hasil ekspor",
}
#: Text markers that are internal to village A (the active title is public by law, PP
#: 43/2014 Pasal 88, so it is not among them; it is checked only on refusals).
INTERNAL = (TITLE_DRAFT, COMMENT, DRAFT_COMMENT, DISPUTE, REPORT, CHANGE, EVIDENCE,
            "ZQXFILE")


# --- the world -----------------------------------------------------------------------------

@dataclass
class World:
    users: dict[str, Any]
    ids: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)


def _assess_with_attachment(s: H.Scenario) -> None:
    proposal = s.reload()
    answers: dict[str, dict[str, Any]] = {
        c.code: {"score": 3, "evidence": EVIDENCE} for c in sust.applicable_criteria(proposal)}
    first = next(iter(answers))
    answers[first]["attachment"] = sust.Upload(FILES["assessment_attachment"], "bukti.pdf")
    sust.create_assessment(proposal, s.author, answers, "Penilai Desa", "Sekretaris Desa")
    db.session.commit()


def _finished_job(owner) -> Any:
    """An export job of ``owner`` (helper A's coopdesa.jobs), finished with its result."""
    from coopdesa.db import utcnow
    from coopdesa.jobs import operations as jobs
    from coopdesa.jobs.models import Job, JobKind, JobState

    result = jobs.store_result(FILES["job_result"], "ekspor.zip", "application/zip",
                               owner.id)
    job = Job(kind=JobKind.EXPORT, owner_id=owner.id, params={}, state=JobState.SUCCEEDED,
              message="Selesai.", result_file_id=result.id, backend="local",
              finished_at=utcnow())
    db.session.add(job)
    db.session.commit()
    return job


def build_world() -> World:
    # Village A: Dieng (with its partner Sembungan) and everybody around it.
    s = H.antar_desa(submit=True, title=TITLE_ACTIVE)
    bkad_in = s["bkad"]
    ops.transition(s.proposal, bkad_in, "start_review")
    ops.add_comment(s.reload(), bkad_in, COMMENT)
    ops.transition(s.reload(), bkad_in, "approve")
    db.session.commit()
    agree_all(s)
    _assess_with_attachment(s)
    ops.transition(s.reload(), s.author, "agree")
    db.session.commit()

    proposal = s.reload()
    tte_party, paper_party = proposal.parties
    docs.record_signature(proposal, s.author, tte_party.id,
                          D.signature_data("1", method="elektronik"),
                          evidence=(FILES["tte"], "tte.pdf"))
    db.session.commit()
    docs.record_signature(s.reload(), s[f"sek:{SEMBUNGAN}"], paper_party.id,
                          D.signature_data("2"))
    db.session.commit()
    if s.reload().state == State.SIGNED:
        ops.transition(s.reload(), None, "activate")
        db.session.commit()
    assert s.reload().state == State.ACTIVE
    document = docs.document_of(s.reload())
    docs.attach_scan(document, s.author, FILES["document_scan"], "naskah.pdf")
    db.session.commit()

    meetings = dops.meetings_of(s.reload())
    desa_meeting = next(m for m in meetings if m.desa_code == DIENG)
    antar_meeting = next(m for m in meetings if m.kind.value == "musyawarah_antar_desa")
    dops.attach_scan(desa_meeting, s.author, FILES["meeting_scan"], "ba.pdf")
    db.session.commit()

    # Implementation report of the first (ended) period, with an attachment.
    start = local_today() - dt.timedelta(days=430)
    db.session.execute(sa.update(Proposal).where(Proposal.id == s.proposal.id)
                       .values(start_date=start, end_date=reports.add_months(start, 36)
                               - dt.timedelta(days=1)))
    db.session.commit()
    proposal = s.reload()
    first = reports.periods(proposal)[0]
    report = reports.file_report(proposal, bkad_in, {
        "period_start": first[0].isoformat(), "activities": REPORT,
        "outputs": "Satu loket.", "outcomes": "Kunjungan naik.", "problems": "Hujan.",
        "next_steps": "Papan petunjuk.",
        "aims": [{"aim": "Mengelola jalur pendakian Gunung Prau secara bersama.",
                  "status": "sebagian", "note": "Berjalan."}],
        "funding": [{"source": "apb_desa", "apbdes_year": 2027, "received": "20.000.000",
                     "spent": 17500000}],
    }, attachments=[(FILES["report_attachment"], "lampiran.pdf")])
    db.session.commit()

    # A dispute settled in musyawarah, with its berita acara and the signed scan.
    dispute = disputes.open_dispute(s.reload(), s.author, {
        "subject": DISPUTE, "clauses": "Pasal 6", "description": DISPUTE,
        "party_ids": [p.id for p in s.reload().parties]})
    db.session.commit()
    disputes.record_step(dispute, s.author, {
        "level": "musyawarah", "held_on": local_today().isoformat(), "place": "Balai Desa",
        "outcome": "settled", "summary": "Para pihak sepakat.", "terms": "Sepakat.",
        "signatories": [{"party_id": p.id, "name": f"Kades {p.name}",
                         "office": f"Kepala Desa {p.name}"}
                        for p in dispute.disputing_parties]})
    db.session.commit()
    assert dispute.berita_acara is not None
    disputes.attach_scan(dispute, s.author, FILES["dispute_scan"], "ba-sengketa.pdf")
    db.session.commit()

    # An open lifecycle request (postponement).
    change = life.request_change(s.reload(), s.author, {"kind": "penundaan",
                                                        "reason": CHANGE})
    db.session.commit()

    # The draft of village A, never submitted, with a comment.
    draft = H.antar_desa(like=s, title=TITLE_DRAFT)
    draft_comment = ops.add_comment(draft.reload(), s.author, DRAFT_COMMENT)
    db.session.commit()

    proposal = s.reload()
    assessment = sust.latest_assessment(proposal)
    answer = next(a for a in assessment.answers if a.attachment is not None)
    signature = docs.signatures_of(proposal)[tte_party.id]
    comment = db.session.scalar(sa.select(ProposalComment)
                                .where(ProposalComment.proposal_id == proposal.id))

    # Everybody else.
    bkad_out = BkadFactory(desa_codes=[TIENG, PATAKBANTENG])
    users = {
        "sek_a": s.author,
        "sek_b": UserFactory(role=Role.SEKRETARIS, desa_code=TIENG),
        "sek_far": UserFactory(role=Role.SEKRETARIS, desa_code=DIENG_KULON),
        "kades_a": UserFactory(role=Role.KEPALA_DESA, desa_code=DIENG),
        "bpd_a": UserFactory(role=Role.KETUA_BPD, desa_code=DIENG),
        "kades_b": UserFactory(role=Role.KEPALA_DESA, desa_code=TIENG),
        "bkad_in": bkad_in,
        "bkad_out": UserFactory(role=Role.BKAD, bkad=bkad_out),
        "auditor_in": UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR),
        "auditor_out": UserFactory(role=Role.AUDITOR, jurisdiction_code=GARUNG),
        "admin": AdminFactory(),
        "anonymous": None,
    }
    world = World(users=users, ids={
        "active": proposal.id,
        "draft": draft.proposal.id,
        "party": proposal.parties[0].id,
        "draft_party": draft.reload().parties[1].id,
        "comment": comment.id,
        "draft_comment": draft_comment.id,
        "version": 1,
        "meeting": antar_meeting.id,
        "desa_meeting": desa_meeting.id,
        "item": antar_meeting.agenda[0].id,
        "assessment": assessment.id,
        "answer": answer.id,
        "signature": signature.id,
        "report": report.id,
        "attachment": report.attachments[0].id,
        "dispute": dispute.id,
        "change": change.id,
        "bkad_in": bkad_in.bkad_id,
        "bkad_out": bkad_out.id,
        "user_b": users["sek_b"].id,
        "actor_b": None,  # filled below
        "criterion": sust.all_criteria()[0].id,
        "doc_code": document.code,
        "bkad_key": f"bkad:{bkad_in.bkad_id}",
    })
    from coopdesa.actors.operations import village_actor
    world.ids["actor_b"] = village_actor(TIENG).id
    world.ids["job"] = _finished_job(users["auditor_in"]).id
    for role, user in users.items():
        if user is not None:
            token, world.tokens[role] = create_token(user, "uji")
            db.session.flush()
            if role == "sek_b":
                world.ids["token_b"] = token.id
    # The UI and the export's README print "KSD-2026-00042" as an example reference; on
    # PostgreSQL (ids not reset between tests) a proposal may really have it. Then its
    # title, which is checked too, stands in for it.
    world.refs = {key: ref if ref != "KSD-2026-00042" else title
                  for key, ref, title in (("active", proposal.ref, TITLE_ACTIVE),
                                          ("draft", draft.proposal.ref, TITLE_DRAFT))}
    db.session.commit()
    return world



# --- the routes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One request: ``endpoint`` with ``params`` (world id keys, or ``=literal``), by
    ``method``. For GET, ``allowed`` are the roles that get 200; for a write, the roles
    that hold the right (not sent: the write would change the world), every other role
    must be refused."""

    endpoint: str
    method: str
    params: tuple[tuple[str, str], ...]
    allowed: frozenset[str]
    query: str = ""
    data: tuple[tuple[str, str], ...] = ()

    @property
    def readers(self) -> frozenset[str]:
        """Who may read the object a write is about (and so may see it again in the page
        that refuses the write)."""
        values = {v for _k, v in self.params}
        if values & {DR, "draft_party", "draft_comment"}:
            return READ_DRAFT
        if values & {P, "party", "comment", "meeting", "item", "dispute", "change"}:
            return READ_A
        return frozenset()

    @property
    def label(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.params)
        return f"{self.method} {self.endpoint}({args}){self.query}"


def get(endpoint: str, allowed, query: str = "", **params: str) -> Case:
    return Case(endpoint, "GET", tuple(params.items()), frozenset(allowed), query)


def write(endpoint: str, allowed, method: str = "POST", data: dict | None = None,
          **params: str) -> Case:
    return Case(endpoint, method, tuple(params.items()), frozenset(allowed),
                data=tuple((data or {}).items()))


#: Who records a musyawarah antar-Desa of A: a secretary of one of its villages, the BKAD
#: reviewing a proposal on its agenda (access._meeting_record).
MEETING_EDITORS = frozenset({"sek_a", "bkad_in", "admin"})
#: Who comments on A once submitted: its authors and its reviewer (the BKAD).
COMMENTERS = frozenset({"sek_a", "bkad_in", "admin"})
#: Who acts on a dispute between Dieng and Sembungan: the secretary or kepala desa of a
#: village in dispute, the reviewing BKAD (access._dispute_act).
DISPUTERS = frozenset({"sek_a", "kades_a", "bkad_in", "admin"})
#: Who requests and records the postponement, cancellation or end of A.
CHANGERS = frozenset({"sek_a", "bkad_in", "admin"})
#: Who files implementation reports of an antar-Desa agreement: its BKAD.
REPORTERS = frozenset({"bkad_in", "admin"})

P = "active"   # the agreement in force
DR = "draft"   # the never-submitted draft

COVERAGE: dict[str, list[Case]] = {
    # accounts (the foundation's matrix, tests/test_access.py, has the finer cases)
    "accounts.edit_bkad": [get("accounts.edit_bkad", ADMIN, bkad_id="bkad_in"),
                           write("accounts.edit_bkad", ADMIN, bkad_id="bkad_out")],
    "accounts.edit_user": [get("accounts.edit_user", ADMIN, user_id="user_b"),
                           write("accounts.edit_user", ADMIN, user_id="user_b")],
    "accounts.revoke_token": [write("accounts.revoke_token", {"sek_b", "admin"},
                                    token_id="token_b")],
    # actors: every signed-in role reads the register of parties
    "actors.detail": [get("actors.detail", SIGNED_IN, actor_id="actor_b")],
    "actors.edit": [get("actors.edit", {"sek_b", "admin"}, actor_id="actor_b"),
                    write("actors.edit", {"sek_b", "admin"}, actor_id="actor_b")],
    "api.get_actor": [get("api.get_actor", SIGNED_IN, actor_id="actor_b")],
    "api.update_actor": [write("api.update_actor", {"sek_b", "admin"}, "PUT",
                               actor_id="actor_b")],
    "api.get_region": [get("api.get_region", SIGNED_IN, code="=" + DIENG)],
    "regions.detail": [get("regions.detail", SIGNED_IN, code="=" + DIENG)],
    # proposals, drafts, versions, comments, parties
    "proposals.detail": [get("proposals.detail", READ_A, proposal_id=P),
                         get("proposals.detail", READ_DRAFT, proposal_id=DR)],
    "proposals.compare": [get("proposals.compare", READ_A, proposal_id=P),
                          get("proposals.compare", READ_DRAFT, proposal_id=DR)],
    "proposals.edit": [get("proposals.edit", AUTHORS, proposal_id=DR),
                       write("proposals.edit", AUTHORS, proposal_id=DR),
                       write("proposals.edit", AUTHORS, proposal_id=P)],
    "proposals.add_comment": [write("proposals.add_comment", COMMENTERS, proposal_id=P),
                              write("proposals.add_comment", AUTHORS, proposal_id=DR)],
    "proposals.edit_comment": [
        write("proposals.edit_comment", {"bkad_in"}, proposal_id=P, comment_id="comment"),
        write("proposals.edit_comment", {"sek_a"}, proposal_id=DR,
              comment_id="draft_comment")],
    "proposals.strike_comment": [
        write("proposals.strike_comment", {"bkad_in", "admin"}, proposal_id=P,
              comment_id="comment"),
        write("proposals.strike_comment", AUTHORS, proposal_id=DR,
              comment_id="draft_comment")],
    "proposals.add_party": [write("proposals.add_party", AUTHORS, proposal_id=DR),
                            write("proposals.add_party", AUTHORS, proposal_id=P)],
    "proposals.remove_party": [
        write("proposals.remove_party", AUTHORS, proposal_id=DR, party_id="draft_party"),
        write("proposals.remove_party", AUTHORS, proposal_id=P, party_id="party")],
    "proposals.transition": [
        write("proposals.transition", AUTHORS, proposal_id=DR, name="=submit",
              data={"submit-expected_state": "draft"}),
        write("proposals.transition", {"bkad_in", "admin"}, proposal_id=P,
              name="=approve", data={"approve-expected_state": "active"})],
    "api.get_proposal_api": [get("api.get_proposal_api", READ_A, proposal_id=P),
                             get("api.get_proposal_api", READ_DRAFT, proposal_id=DR)],
    "api.update_proposal_api": [
        write("api.update_proposal_api", AUTHORS, "PATCH", proposal_id=P),
        write("api.update_proposal_api", AUTHORS, "PATCH", proposal_id=DR)],
    "api.transition_api": [write("api.transition_api", READ_A, proposal_id=P),
                           write("api.transition_api", READ_DRAFT, proposal_id=DR)],
    # A draft has no version to compare: 404 for everybody (the authors included).
    "api.diff_api": [get("api.diff_api", READ_A, proposal_id=P),
                     get("api.diff_api", (), proposal_id=DR)],
    "api.list_versions_api": [get("api.list_versions_api", READ_A, proposal_id=P),
                              get("api.list_versions_api", READ_DRAFT, proposal_id=DR)],
    "api.get_version_api": [get("api.get_version_api", READ_A, proposal_id=P,
                                number="version")],
    "api.list_comments_api": [get("api.list_comments_api", READ_A, proposal_id=P),
                              get("api.list_comments_api", READ_DRAFT, proposal_id=DR)],
    "api.add_comment_api": [write("api.add_comment_api", COMMENTERS, proposal_id=P),
                            write("api.add_comment_api", AUTHORS, proposal_id=DR)],
    "api.edit_comment_api": [
        write("api.edit_comment_api", {"bkad_in"}, "PATCH", proposal_id=P,
              comment_id="comment"),
        write("api.edit_comment_api", {"sek_a"}, "PATCH", proposal_id=DR,
              comment_id="draft_comment")],
    "api.strike_comment_api": [
        write("api.strike_comment_api", {"bkad_in", "admin"}, proposal_id=P,
              comment_id="comment"),
        write("api.strike_comment_api", AUTHORS, proposal_id=DR,
              comment_id="draft_comment")],
    "api.add_party_api": [write("api.add_party_api", AUTHORS, proposal_id=DR),
                          write("api.add_party_api", AUTHORS, proposal_id=P)],
    "api.update_party_api": [
        write("api.update_party_api", AUTHORS, "PATCH", proposal_id=DR,
              party_id="draft_party"),
        write("api.update_party_api", AUTHORS, "PATCH", proposal_id=P, party_id="party")],
    "api.remove_party_api": [
        write("api.remove_party_api", AUTHORS, "DELETE", proposal_id=DR,
              party_id="draft_party"),
        write("api.remove_party_api", AUTHORS, "DELETE", proposal_id=P, party_id="party")],
    "api.set_funding_api": [
        write("api.set_funding_api", AUTHORS, "PUT", proposal_id=DR, party_id="draft_party"),
        write("api.set_funding_api", AUTHORS, "PUT", proposal_id=P, party_id="party")],
    # audit entries of one proposal
    "audit.proposal_log": [get("audit.proposal_log", READ_A, proposal_id=P),
                           get("audit.proposal_log", READ_DRAFT, proposal_id=DR)],
    "api.proposal_audit": [get("api.proposal_audit", READ_A, proposal_id=P),
                           get("api.proposal_audit", READ_DRAFT, proposal_id=DR)],
    # musyawarah: meetings, attendance, decisions, signatories, scans
    "deliberations.detail": [get("deliberations.detail", READ_A, meeting_id="meeting"),
                             get("deliberations.detail", READ_A, meeting_id="desa_meeting")],
    "deliberations.download_scan": [get("deliberations.download_scan", READ_A,
                                        meeting_id="desa_meeting")],
    "deliberations.upload_scan": [write("deliberations.upload_scan", MEETING_EDITORS,
                                        meeting_id="meeting")],
    "deliberations.attendance": [write("deliberations.attendance", MEETING_EDITORS,
                                       meeting_id="meeting")],
    "deliberations.decide": [write("deliberations.decide", MEETING_EDITORS,
                                   meeting_id="meeting", item_id="item")],
    "deliberations.adjourn": [write("deliberations.adjourn", MEETING_EDITORS,
                                    meeting_id="meeting")],
    "deliberations.signatories": [write("deliberations.signatories", MEETING_EDITORS,
                                        meeting_id="meeting")],
    "documents.minutes_pdf": [get("documents.minutes_pdf", READ_A, meeting_id="meeting")],
    "api.get_meeting": [get("api.get_meeting", READ_A, meeting_id="meeting")],
    "api.proposal_meetings": [get("api.proposal_meetings", READ_A, proposal_id=P),
                              get("api.proposal_meetings", READ_DRAFT, proposal_id=DR)],
    "api.put_attendance": [write("api.put_attendance", MEETING_EDITORS, "PUT",
                                 meeting_id="meeting")],
    "api.post_decision": [write("api.post_decision", MEETING_EDITORS, meeting_id="meeting",
                                item_id="item")],
    "api.post_adjourn": [write("api.post_adjourn", MEETING_EDITORS, meeting_id="meeting")],
    "api.patch_signatories": [write("api.patch_signatories", MEETING_EDITORS, "PATCH",
                                    meeting_id="meeting")],
    "api.put_quorum_rule": [write("api.put_quorum_rule", ADMIN, "PUT",
                                  kind="=musyawarah_desa")],
    # sustainability: assessments, their attachments, stakeholder maps, criteria
    "sustainability.assessments": [
        get("sustainability.assessments", READ_A, proposal_id=P),
        get("sustainability.assessments", READ_DRAFT, proposal_id=DR)],
    "sustainability.assessment": [get("sustainability.assessment", READ_A,
                                      assessment_id="assessment")],
    "sustainability.attachment": [get("sustainability.attachment", READ_A,
                                      assessment_id="assessment", answer_id="answer")],
    "sustainability.new_assessment": [
        get("sustainability.new_assessment", AUTHORS, proposal_id=DR),
        write("sustainability.new_assessment", AUTHORS, proposal_id=DR),
        write("sustainability.new_assessment", COMMENTERS, proposal_id=P)],
    "sustainability.stakeholders": [
        get("sustainability.stakeholders", READ_A, proposal_id=P),
        get("sustainability.stakeholders", READ_DRAFT, proposal_id=DR),
        write("sustainability.stakeholders", AUTHORS, proposal_id=P),
        write("sustainability.stakeholders", AUTHORS, proposal_id=DR)],
    "sustainability.criterion_form": [
        get("sustainability.criterion_form", ADMIN, criterion_id="criterion"),
        write("sustainability.criterion_form", ADMIN, criterion_id="criterion")],
    "sustainability.criterion_toggle": [write("sustainability.criterion_toggle", ADMIN,
                                              criterion_id="criterion")],
    "documents.assessment_pdf": [get("documents.assessment_pdf", READ_A, proposal_id=P)],
    "api.list_assessments_api": [
        get("api.list_assessments_api", READ_A, proposal_id=P),
        get("api.list_assessments_api", READ_DRAFT, proposal_id=DR)],
    "api.get_assessment_api": [get("api.get_assessment_api", READ_A,
                                   assessment_id="assessment")],
    "api.create_assessment_api": [
        write("api.create_assessment_api", COMMENTERS, proposal_id=P),
        write("api.create_assessment_api", AUTHORS, proposal_id=DR)],
    "api.get_stakeholders_api": [
        get("api.get_stakeholders_api", READ_A, proposal_id=P),
        get("api.get_stakeholders_api", READ_DRAFT, proposal_id=DR)],
    "api.put_stakeholders_api": [
        write("api.put_stakeholders_api", AUTHORS, "PUT", proposal_id=P),
        write("api.put_stakeholders_api", AUTHORS, "PUT", proposal_id=DR)],
    "api.update_criterion_api": [write("api.update_criterion_api", ADMIN, "PATCH",
                                       criterion_id="criterion")],
    # agreement documents: final and draft PDF, signatures and TTE evidence, scans
    "documents.index": [get("documents.index", READ_A, proposal_id=P),
                        get("documents.index", READ_DRAFT, proposal_id=DR)],
    "documents.agreement_pdf": [get("documents.agreement_pdf", READ_A, proposal_id=P),
                                get("documents.agreement_pdf", READ_DRAFT, proposal_id=DR)],
    "documents.review_pdf": [get("documents.review_pdf", READ_A, proposal_id=P)],
    "documents.download_scan": [get("documents.download_scan", READ_A, proposal_id=P)],
    "documents.download_evidence": [get("documents.download_evidence", READ_A,
                                        proposal_id=P, signature_id="signature")],
    "documents.sign": [write("documents.sign", AUTHORS, proposal_id=P),
                       write("documents.sign", AUTHORS, proposal_id=DR)],
    "documents.complete": [write("documents.complete", AUTHORS, proposal_id=P)],
    "documents.rerender": [write("documents.rerender", AUTHORS, proposal_id=P)],
    "documents.upload_scan": [write("documents.upload_scan", AUTHORS, proposal_id=P)],
    "api.get_document_pdf": [get("api.get_document_pdf", READ_A, proposal_id=P),
                             get("api.get_document_pdf", READ_DRAFT, proposal_id=DR)],
    "api.get_signatures": [get("api.get_signatures", READ_A, proposal_id=P),
                           get("api.get_signatures", READ_DRAFT, proposal_id=DR)],
    "api.post_signature": [write("api.post_signature", AUTHORS, proposal_id=P),
                           write("api.post_signature", AUTHORS, proposal_id=DR)],
    # publication (withholding from the public pages)
    "publication.manage": [get("publication.manage", READ_A, proposal_id=P)],
    "publication.withhold": [write("publication.withhold", ADMIN, proposal_id=P)],
    "publication.lift": [write("publication.lift", ADMIN, proposal_id=P)],
    "api.get_publication": [get("api.get_publication", READ_A, proposal_id=P)],
    "api.post_publication_withhold": [write("api.post_publication_withhold", ADMIN,
                                            proposal_id=P)],
    "api.post_publication_lift": [write("api.post_publication_lift", ADMIN, proposal_id=P)],
    # implementation reports and their attachments
    "reports.index": [get("reports.index", READ_A, proposal_id=P)],
    "reports.detail": [get("reports.detail", READ_A, report_id="report")],
    "reports.pdf": [get("reports.pdf", READ_A, report_id="report")],
    "reports.attachment": [get("reports.attachment", READ_A, report_id="report",
                               attachment_id="attachment")],
    "reports.new": [get("reports.new", REPORTERS, proposal_id=P),
                    write("reports.new", REPORTERS, proposal_id=P)],
    "reports.set_schedule": [write("reports.set_schedule", AUTHORS, proposal_id=P)],
    "api.list_reports": [get("api.list_reports", READ_A, proposal_id=P)],
    "api.get_report": [get("api.get_report", READ_A, report_id="report")],
    "api.get_report_pdf": [get("api.get_report_pdf", READ_A, report_id="report")],
    "api.post_report": [write("api.post_report", REPORTERS, proposal_id=P)],
    "api.put_report_schedule": [write("api.put_report_schedule", AUTHORS, "PUT",
                                      proposal_id=P)],
    # disputes and their berita acara
    "disputes.detail": [get("disputes.detail", READ_A, dispute_id="dispute")],
    "disputes.berita_acara_pdf": [get("disputes.berita_acara_pdf", READ_A,
                                      dispute_id="dispute")],
    "disputes.download_scan": [get("disputes.download_scan", READ_A, dispute_id="dispute")],
    "disputes.create": [get("disputes.create", DISPUTERS, proposal_id=P),
                        write("disputes.create", DISPUTERS, proposal_id=P)],
    "disputes.record_step": [write("disputes.record_step", DISPUTERS, dispute_id="dispute")],
    "disputes.upload_scan": [write("disputes.upload_scan", DISPUTERS, dispute_id="dispute")],
    "disputes.withdraw": [write("disputes.withdraw", DISPUTERS, dispute_id="dispute")],
    "api.list_disputes": [get("api.list_disputes", READ_A, proposal_id=P)],
    "api.get_dispute": [get("api.get_dispute", READ_A, dispute_id="dispute")],
    "api.get_berita_acara": [get("api.get_berita_acara", READ_A, dispute_id="dispute")],
    "api.post_dispute": [write("api.post_dispute", DISPUTERS, proposal_id=P)],
    "api.post_step": [write("api.post_step", DISPUTERS, dispute_id="dispute")],
    "api.post_withdraw": [write("api.post_withdraw", DISPUTERS, dispute_id="dispute")],
    # lifecycle requests (postpone, resume, cancel, end) and addenda
    "lifecycle.index": [get("lifecycle.index", READ_A, proposal_id=P)],
    "lifecycle.change": [get("lifecycle.change", READ_A, proposal_id=P,
                             change_id="change")],
    "lifecycle.request_change": [write("lifecycle.request_change", CHANGERS, proposal_id=P)],
    "lifecycle.decide": [write("lifecycle.decide", CHANGERS, proposal_id=P,
                               change_id="change")],
    "lifecycle.withdraw": [write("lifecycle.withdraw", CHANGERS, proposal_id=P,
                                 change_id="change")],
    "lifecycle.end_on_expiry": [write("lifecycle.end_on_expiry", CHANGERS, proposal_id=P)],
    "lifecycle.start_addendum": [write("lifecycle.start_addendum", AUTHORS, proposal_id=P)],
    "api.get_agreement_changes": [get("api.get_agreement_changes", READ_A, proposal_id=P),
                                  get("api.get_agreement_changes", READ_DRAFT,
                                      proposal_id=DR)],
    "api.get_agreement_change": [get("api.get_agreement_change", READ_A,
                                     change_id="change")],
    "api.post_agreement_change": [write("api.post_agreement_change", CHANGERS,
                                        proposal_id=P)],
    "api.post_change_decision": [write("api.post_change_decision", CHANGERS,
                                       change_id="change")],
    "api.post_change_withdraw": [write("api.post_change_withdraw", CHANGERS,
                                       change_id="change")],
    "api.post_agreement_end_on_expiry": [write("api.post_agreement_end_on_expiry",
                                               CHANGERS, proposal_id=P)],
    "api.post_agreement_addendum": [write("api.post_agreement_addendum", AUTHORS,
                                          proposal_id=P)],
    # network scopes (what the public pages show, opened per kabupaten / jurisdiction)
    "network.scope": [get("network.scope", NETWORK_KEJAJAR, key="=kecamatan:" + KEJAJAR),
                      get("network.scope", NETWORK_KEJAJAR, key="=desa:" + DIENG),
                      get("network.scope", NETWORK_KEJAJAR, key="bkad_key")],
    "network.report_pdf": [get("network.report_pdf", NETWORK_KEJAJAR,
                               key="=kecamatan:" + KEJAJAR)],
    "network.download": [get("network.download", NETWORK_KEJAJAR, key="bkad_key",
                             fmt="=graphml")],
    # the same scopes through the JSON API (the scope is in the query string)
    "api.get_network": [get("api.get_network", NETWORK_KEJAJAR,
                            query="?scope=kecamatan:" + KEJAJAR),
                        get("api.get_network", NETWORK_KEJAJAR, query="?scope={bkad_key}")],
    "api.export_network": [get("api.export_network", NETWORK_KEJAJAR,
                               query="?scope={bkad_key}&format=graphml")],
    # background jobs (helper A's coopdesa.jobs): their owner's and the admin's only
    "jobs.detail": [get("jobs.detail", {"auditor_in", "admin"}, job_id="job")],
    "jobs.download": [get("jobs.download", {"auditor_in", "admin"}, job_id="job")],
    "api.get_job": [get("api.get_job", {"auditor_in", "admin"}, job_id="job")],
    "api.job_result": [get("api.job_result", {"auditor_in", "admin"}, job_id="job")],
}

#: Routes with a parameter that are open on purpose, and why.
PUBLIC: dict[str, str] = {
    "static": "the app's own CSS, JS and fonts",
    "bootstrap.static": "Bootstrap's CSS and JS",
    "main.set_language": "choosing the interface language (a cookie), nothing stored",
    "verify.show": "public verification of a document by the code printed on it "
                   "(identity and state only; tests/test_documents_signing.py)",
    "api.verify_code": "the same verification, as JSON",
    "publication.village": "PP 43/2014 Pasal 88: a village's signed agreements are public "
                           "(withheld ones left out; tests/test_publication.py)",
    "publication.poster": "the printable poster of the same public page",
    "publication.document_pdf": "the public final PDF by its verification code (withheld "
                                "documents refused; tests/test_publication.py)",
    "api.public_village_agreements": "the public village page as JSON",
}


# --- the checks ----------------------------------------------------------------------------

def _rules(app) -> dict[str, list]:
    rules: dict[str, list] = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.endpoint, []).append(rule)
    return rules


def _with_params(app) -> set[str]:
    return {endpoint for endpoint, rules in _rules(app).items()
            if any(rule.arguments for rule in rules)}


def test_every_route_is_covered(app):
    """A new route taking an id must be added to COVERAGE (or, with a reason, to PUBLIC)."""
    with_params = _with_params(app)
    missing = sorted(with_params - set(COVERAGE) - set(PUBLIC))
    assert not missing, f"routes with a parameter and no access case: {missing}"
    stale = sorted((set(COVERAGE) | set(PUBLIC)) - set(_rules(app)))
    assert not stale, f"cases for routes that no longer exist: {stale}"
    for endpoint, cases in COVERAGE.items():
        assert cases and all(c.endpoint == endpoint for c in cases), endpoint
        methods = {m for rule in _rules(app)[endpoint] if rule.arguments
                   for m in rule.methods - {"HEAD", "OPTIONS"}}
        covered = {c.method for c in cases}
        assert methods <= covered, (endpoint, methods - covered)


def _url(app, case: Case, world: World) -> str:
    values = {name: value[1:] if value.startswith("=") else world.ids[value]
              for name, value in case.params}
    adapter = app.url_map.bind("localhost")
    return adapter.build(case.endpoint, values, method=case.method) + case.query.format(
        **world.ids)


@dataclass
class Caller:
    role: str
    client: Any
    token: str | None

    def send(self, method: str, url: str, data: dict | None = None):
        headers = {}
        kwargs: dict[str, Any] = {}
        if url.startswith("/api/"):
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            if method != "GET":
                kwargs["json"] = data or {}
        elif method != "GET":
            kwargs["data"] = data or {}
        return self.client.open(url, method=method, headers=headers, **kwargs)


def _caller(app, world: World, role: str) -> Caller:
    client = app.test_client()
    user = world.users[role]
    if user is not None:
        limiter.reset()
        response = client.post("/masuk", data={"username": user.username,
                                               "password": PASSWORD})
        assert response.status_code == 302, (role, response.status_code)
    return Caller(role, client, world.tokens.get(role))


def _secrets(world: World) -> list[bytes]:
    return [m.encode() for m in (TITLE_ACTIVE, *INTERNAL)] + list(FILES.values())


def _leaks(body: bytes, secrets: list[bytes]) -> list[bytes]:
    found = [s for s in secrets if s in body]
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in archive.namelist():
                member = archive.read(name)
                found += [s for s in secrets if s in member or s in name.encode()]
    return found


def _refused(caller: Caller, url: str, response, world: World,
             may_read: bool = False) -> str | None:
    """None if ``response`` is a proper refusal that carries nothing of the object."""
    status = response.status_code
    if may_read:
        # A role that reads the object may be told why in the page itself: a refusal
        # (403/404), a conflict with the object's state (409), or the object's page with
        # the reason flashed (302, not to the login page). Nothing may change (checked by
        # the caller).
        if status in (403, 404, 409):
            return None
        if status == 302 and not response.headers["Location"].split("?")[0].endswith(
                "/masuk"):
            return None
        return f"status {status}"
    if caller.role == "anonymous":
        if url.startswith("/api/"):
            ok = status == 401
        else:
            ok = status == 302 and response.headers["Location"].split("?")[0].endswith(
                "/masuk")
    else:
        ok = status in (403, 404)
    if not ok:
        return f"status {status}"
    body = response.get_data()
    if body.startswith(b"%PDF") or response.mimetype in ("application/pdf", "image/png"):
        return "a file in a refusal"
    leaked = _leaks(body, _secrets(world))
    return f"leaked {leaked}" if leaked else None


def _fingerprint() -> tuple:
    def count(model):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    db.session.expire_all()
    return (count(AuditEntry), count(StoredFile), count(ProposalComment),
            db.session.scalar(sa.select(sa.func.sum(Proposal.version))),
            tuple(db.session.execute(sa.select(Proposal.id, Proposal.state)
                                     .order_by(Proposal.id)).all()))


@pytest.mark.parametrize("role", ROLES)
def test_every_object_route_for_every_role(app, role):
    world = build_world()
    caller = _caller(app, world, role)
    problems: list[str] = []
    count = 0
    for cases in COVERAGE.values():
        for case in cases:
            url = _url(app, case, world)
            if case.method == "GET":
                count += 1
                response = caller.send("GET", url)
                if role in case.allowed:
                    if response.status_code != 200:
                        problems.append(f"{case.label} {url}: {response.status_code}, "
                                        "expected 200")
                else:
                    why = _refused(caller, url, response, world)
                    if why:
                        problems.append(f"{case.label} {url}: {why}")
            elif role not in case.allowed:
                count += 1
                before = _fingerprint()
                response = caller.send(case.method, url, dict(case.data))
                why = _refused(caller, url, response, world, role in case.readers)
                if why:
                    problems.append(f"{case.label} {url}: {why}")
                if _fingerprint() != before:
                    problems.append(f"{case.label} {url}: a refused write changed data")
    assert count > 50
    assert not problems, "\n".join(problems)


# --- lists, dashboards, exports and audit pages ----------------------------------------------

#: GET routes without an id whose answer is a list: besides each of them, the variants
#: that name an object of A in the query string.
LIST_QUERIES = {
    "deliberations.create": ["?proposal={active}", "?proposal={draft}"],
    "audit.index": ["?proposal={active}", "?proposal={draft}"],
    "audit.export_csv": ["?proposal={active}", "?proposal={draft}"],
    "api.audit_entries": ["?proposal={active}", "?proposal={draft}"],
    "proposals.index": ["?q=ZQX"],
    "api.list_proposals_api": ["?q=ZQX"],
    "export.download": ["?wilayah=" + KEJAJAR, "?kecamatan=" + KEJAJAR],
    "api.export_agreements_zip": ["?wilayah=" + KEJAJAR, "?kecamatan=" + KEJAJAR],
}
#: Routes without an id that are open or carry nothing of any village.
LIST_SKIP = {"static", "bootstrap.static", "main.healthz", "api.openapi"}


def _list_urls(app, world: World) -> list[tuple[str, bool]]:
    """(url, whether it names the agreement of A in its query string)."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for endpoint, rules in sorted(_rules(app).items()):
        if endpoint in LIST_SKIP:
            continue
        for rule in rules:
            if rule.arguments or "GET" not in rule.methods:
                continue
            url = adapter.build(endpoint, {}, method="GET")
            urls.append((url, False))
            urls += [(url + q.format(**world.ids), "{active}" in q)
                     for q in LIST_QUERIES.get(endpoint, [])]
    return urls


@pytest.mark.parametrize("role", ["sek_b", "sek_far", "kades_b", "bkad_out", "auditor_out",
                                  "kades_a", "bpd_a", "bkad_in", "auditor_in"])
def test_lists_dashboards_exports_and_audit_show_nothing_outside(app, role):
    """Every GET route without an id, as a role outside A (nothing internal of A) or a role
    of A that is not its author (nothing of the draft)."""
    world = build_world()
    caller = _caller(app, world, role)
    if role in READ_A:
        secrets = [TITLE_DRAFT.encode(), DRAFT_COMMENT.encode(), world.refs["draft"].encode()]
    else:
        secrets = _secrets(world)
        secrets.remove(TITLE_ACTIVE.encode())  # public by law (the network, public pages)
        secrets.append(world.refs["draft"].encode())
    if role != "auditor_in":
        secrets.append(FILES["job_result"])
    problems = []
    urls = _list_urls(app, world)
    for url, names_a in urls:
        response = caller.send("GET", url)
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
        strict = names_a and role not in READ_A  # asked for A by id: not even its title
        leaked = _leaks(response.get_data(), secrets + (
            [TITLE_ACTIVE.encode(), world.refs[P].encode()] if strict else []))
        if leaked:
            problems.append(f"{url}: leaked {leaked}")
    assert len(urls) > 30
    assert not problems, "\n".join(problems)


#: Writes whose success would take away what later writes of the same role need; sent last.
LAST = ("proposals.remove_party", "api.remove_party_api", "accounts.revoke_token")


@pytest.mark.parametrize("role", ["sek_a", "sek_b", "kades_a", "bkad_in", "auditor_in",
                                  "admin"])
def test_writes_pass_the_access_check_for_those_who_hold_the_right(app, role):
    """The other half of the write matrix: a role holding the right is not refused (its
    empty or partial request fails on its content or the object's state instead: 4xx other
    than 401/403/404, or it succeeds)."""
    world = build_world()
    caller = _caller(app, world, role)
    cases = [case for cases in COVERAGE.values() for case in cases
             if case.method != "GET" and role in case.allowed]
    cases.sort(key=lambda case: case.endpoint in LAST)
    problems = []
    for case in cases:
        url = _url(app, case, world)
        response = caller.send(case.method, url, dict(case.data))
        status = response.status_code
        login = status == 302 and response.headers["Location"].split("?")[0].endswith(
            "/masuk")
        if status in (401, 403, 404) or status >= 500 or login:
            problems.append(f"{case.label} {url}: {status}")
    assert cases or role == "auditor_in"
    assert not problems, "\n".join(problems)


# --- ids in bodies and query strings -------------------------------------------------------

@pytest.mark.parametrize("role", ["sek_b", "bkad_out", "kades_a"])
def test_an_id_in_a_body_is_refused_like_an_unknown_one(app, role):
    """Putting A's proposals on an agenda (HTML form and JSON) by a role that may not: the
    same answer as for an id that does not exist, without A's title, ref or anything
    recorded."""
    world = build_world()
    caller = _caller(app, world, role)
    missing = 10_000
    before = _fingerprint()
    for pid in (world.ids[P], world.ids[DR]):
        answers = []
        for target in (pid, missing):
            body = {"kind": "musyawarah_antar_desa", "held_at": "2026-01-05T09:00",
                    "place": "Balai", "chair_name": "Ketua", "secretary_name": "Sekretaris",
                    "villages": [DIENG, SEMBUNGAN], "proposal_ids": [target]}
            api = caller.send("POST", "/api/v1/meetings", body)
            assert api.status_code in (403, 404, 422), api.status_code
            error = api.get_json()["error"]
            answers.append((api.status_code, error["code"],
                            repr(error.get("fields")).replace(str(target), "<id>")))
            unreadable = [TITLE_DRAFT.encode(), world.refs[DR].encode()]
            if role not in READ_A:
                unreadable += [TITLE_ACTIVE.encode(), world.refs[P].encode()]
            assert not _leaks(api.get_data(), unreadable)
        if role != "kades_a" or pid == world.ids[DR]:
            # kades_a reads the active agreement: it may be told why it cannot act on it
            assert answers[0] == answers[1], answers
    assert _fingerprint() == before
