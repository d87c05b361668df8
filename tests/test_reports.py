"""Implementation reports (Permendagri 96/2017, pelaksanaan dan pelaporan): the schedule,
the periods, who files (and every refusal), the addressees, the PDF's text, overdue
reports on the dashboards and in remind, the summary with its SVG charts, and the export."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from coopdesa.access import ReportsOf, reason_refused
from coopdesa.accounts.models import Role
from coopdesa.audit.models import AuditEntry
from coopdesa.documents import export as X
from coopdesa.errors import AccessDenied, ConflictError, ValidationError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals.models import Notification, Proposal
from coopdesa.proposals.notifications import remind
from coopdesa.reports import operations as ops
from coopdesa.reports.models import ImplementationReport, ReportPeriod, ReportSchedule
from tests.conftest import BANJARNEGARA, DIENG, PATAKBANTENG, WONOSOBO
from tests.document_helpers import active_agreement, agreed_antar_desa
from tests.factories import UserFactory

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
HOSTILE = '<script>alert("x")</script>'


def _reports() -> int:
    return db.session.scalar(sa.select(sa.func.count(ImplementationReport.id))) or 0


def in_force(kind: str = "antar_desa"):
    """An active agreement whose first yearly period ended 66 days ago (report overdue
    since 36 days) and whose second period is running."""
    s = active_agreement(kind)
    start = local_today() - dt.timedelta(days=430)
    db.session.execute(sa.update(Proposal).where(Proposal.id == s.proposal.id)
                       .values(start_date=start, end_date=ops.add_months(start, 36)
                               - dt.timedelta(days=1)))
    db.session.commit()
    s.reload()
    return s


def report_data(proposal: Proposal, **extra) -> dict:
    first = ops.periods(proposal)[0]
    return {
        "period_start": first[0].isoformat(),
        "activities": "Pembersihan jalur pendakian dan pembangunan loket.",
        "outputs": "Satu loket terpadu; 4 km jalur bersih.",
        "outcomes": "Kunjungan naik 20 persen.",
        "problems": "Hujan deras pada bulan Februari.",
        "next_steps": "Penambahan papan petunjuk.",
        "aims": [{"aim": "Mengelola jalur pendakian Gunung Prau secara bersama.",
                  "status": "sebagian", "note": "Loket sudah berjalan."}],
        "funding": [{"source": "apb_desa", "apbdes_year": 2027, "received": "20.000.000",
                     "spent": 17500000}],
        **extra,
    }


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


# --- periods and schedule ------------------------------------------------------------------

def test_periods_follow_the_schedule_with_a_shorter_last_period():
    shape = ops._Shape(start_date=dt.date(2027, 1, 31), end_date=dt.date(2027, 12, 15))
    quarters = ops.periods(shape, ReportPeriod.QUARTERLY)
    assert quarters[0] == (dt.date(2027, 1, 31), dt.date(2027, 4, 29))
    assert quarters[1][0] == dt.date(2027, 4, 30)
    assert quarters[-1][1] == dt.date(2027, 12, 15) and len(quarters) == 4
    assert ops.periods(shape, ReportPeriod.YEARLY) == [(dt.date(2027, 1, 31),
                                                        dt.date(2027, 12, 15))]
    assert len(ops.periods(shape, ReportPeriod.HALF_YEARLY)) == 2


def test_schedule_is_set_at_signing_by_a_secretary_and_locked_once_in_force(app):
    s = agreed_antar_desa()
    proposal = s.reload()
    assert ops.period_of(proposal) == ReportPeriod.YEARLY  # no row: yearly
    with pytest.raises(AccessDenied):
        ops.set_schedule(proposal, s["bkad"], "quarterly")
    with pytest.raises(ValidationError) as bad:
        ops.set_schedule(proposal, s.author, "monthly")
    assert "period" in bad.value.fields
    ops.set_schedule(proposal, s.author, "quarterly")
    db.session.commit()
    assert ops.period_of(s.reload()) == ReportPeriod.QUARTERLY
    assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "report.schedule"))


def test_schedule_is_locked_once_in_force(app):
    active = in_force()
    with pytest.raises(ConflictError):
        ops.set_schedule(active.reload(), active.author, "half_yearly")


def test_schedule_form_on_the_proposal_panel(app, login):
    s = agreed_antar_desa()
    client = login(s.author)
    page = client.get(f"/kerja-sama/{s.proposal.id}").get_data(as_text=True)
    assert "Pelaksanaan dan pelaporan" in page and "Simpan jadwal" in page
    response = client.post(f"/kerja-sama/{s.proposal.id}/laporan/jadwal",
                           data={"period": "half_yearly"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(ReportSchedule.period)) == ReportPeriod.HALF_YEARLY


# --- who files -----------------------------------------------------------------------------

def test_a_report_by_the_wrong_party_is_refused_and_nothing_is_written(app, login, api):
    s = in_force("antar_desa")
    proposal = s.reload()
    other = UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG)
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    kades = UserFactory(role=Role.KEPALA_DESA, desa_code=DIENG)
    for user in (s.author, kades, auditor, other):
        assert reason_refused(user, "create", ReportsOf(proposal))
        with pytest.raises(AccessDenied):
            ops.file_report(proposal, user, report_data(proposal))
        db.session.rollback()
    assert "BKAD" in reason_refused(s.author, "create", ReportsOf(proposal))
    assert "Auditor" in reason_refused(auditor, "create", ReportsOf(proposal))

    # HTML: a party secretary may read (403 with the reason); another village sees 404.
    response = login(s.author).get(f"/kerja-sama/{proposal.id}/laporan/baru")
    assert response.status_code == 403
    assert "BKAD" in response.get_data(as_text=True)
    assert api(other).post(f"/proposals/{proposal.id}/reports",
                           json=report_data(proposal)).status_code == 404
    assert api(auditor).post(f"/proposals/{proposal.id}/reports",
                             json=report_data(proposal)).status_code == 403
    assert api(other).get(f"/proposals/{proposal.id}/reports").status_code == 404
    assert _reports() == 0


def test_pihak_ketiga_is_reported_by_the_village_to_its_bpd(app):
    s = in_force("pihak_ketiga")
    proposal = s.reload()
    with pytest.raises(AccessDenied):
        ops.file_report(proposal, s["ketua_bpd"], report_data(proposal))
    db.session.rollback()
    report = ops.file_report(proposal, s[f"sek:{DIENG}"], report_data(proposal))
    db.session.commit()
    assert report.reporter_label == "Kepala Desa Dieng"
    assert report.addressees == [
        {"role": "kepada", "name": "BPD Desa Dieng"},
        {"role": "tembusan", "name": "Bupati Wonosobo melalui Camat Kejajar"}]
    # The secretary files on behalf of the Kepala Desa who signed.
    assert report.signer_name == proposal.parties[0].signatory_name
    assert ops.reporter_label(proposal, s["kepala_desa"]) == "Kepala Desa Dieng"


# --- filing and the PDF --------------------------------------------------------------------

def test_bkad_files_a_final_report_whose_pdf_names_the_addressees(app):
    s = in_force("antar_desa")
    proposal = s.reload()
    report = ops.file_report(proposal, s["bkad"], report_data(proposal),
                             attachments=[(PNG, "kuitansi.png")])
    db.session.commit()
    assert [a["name"] for a in report.addressees] == [
        "Kepala Desa Dieng", "Kepala Desa Sembungan", "BPD Desa Dieng", "BPD Desa Sembungan",
        "Bupati Wonosobo melalui Camat Kejajar"]
    assert [a["role"] for a in report.addressees] == ["kepada"] * 2 + ["tembusan"] * 3
    assert report.reporter_label == s.bkad.name
    assert report.file_id is not None and report.sha256 == report.file.sha256
    text = pdf_text(report.file.data)
    for expected in ("LAPORAN PELAKSANAAN KERJA SAMA DESA", proposal.title.upper(),
                     "Kepala Desa Dieng", "Kepala Desa Sembungan", "BPD Desa Sembungan",
                     "Bupati Wonosobo melalui Camat Kejajar", "Tembusan",
                     "Peraturan Bersama Kepala Desa Nomor 1", "Pembersihan jalur pendakian",
                     "Tercapai sebagian", "Rp25.000.000", "Rp20.000.000", "Rp17.500.000",
                     "2027", f"Ketua {s.bkad.name}", "kuitansi.png"):
        assert expected in text, expected
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "report.file"))
    assert entry.proposal_id == proposal.id
    # Final: the same period again is refused.
    with pytest.raises(ConflictError):
        ops.file_report(proposal, s["bkad"], report_data(proposal))
    db.session.rollback()
    # A period not over yet cannot be reported.
    running = ops.periods(proposal)[1]
    with pytest.raises(ConflictError):
        ops.file_report(proposal, s["bkad"],
                        report_data(proposal, period_start=running[0].isoformat()))
    db.session.rollback()
    assert _reports() == 1


def test_bad_input_is_refused_by_field_in_the_api(app, api):
    s = in_force("antar_desa")
    proposal = s.reload()
    client = api(s["bkad"])
    bad = report_data(proposal, period_start="2001-01-01", outputs="",
                      aims=[{"aim": "Tujuan", "status": "hampir"}],
                      funding=[{"source": "apb_desa", "received": "-5", "spent": "x"},
                               {"source": "emas", "received": 1}],
                      surprise=1)
    response = client.post(f"/proposals/{proposal.id}/reports", json=bad)
    assert response.status_code == 422
    assert "surprise" in response.get_json()["error"]["fields"]
    del bad["surprise"]
    response = client.post(f"/proposals/{proposal.id}/reports", json=bad)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    for name in ("period_start", "outputs", "aims-0-status", "funding-0-received",
                 "funding-0-spent", "funding-0-apbdes_year", "funding-1-source"):
        assert name in fields, name
    response = client.post(f"/proposals/{proposal.id}/reports", json=report_data(
        proposal, attachments=[{"filename": "x.exe", "content_base64":
                                base64.b64encode(b"MZ not an image").decode()}]))
    assert response.status_code == 422
    assert "attachments" in response.get_json()["error"]["fields"]
    assert _reports() == 0

    response = client.post(f"/proposals/{proposal.id}/reports", json=report_data(
        proposal, attachments=[{"filename": "foto.png",
                                "content_base64": base64.b64encode(PNG).decode()}]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["funding"][0] == {"source": "apb_desa", "apbdes_year": 2027,
                                  "planned": 25000000, "received": 20000000,
                                  "spent": 17500000}
    assert body["attachments"][0]["name"] == "foto.png"
    listing = client.get(f"/proposals/{proposal.id}/reports").get_json()
    assert [p["status"] for p in listing["periods"]][:2] == ["filed", "future"]
    assert listing["reports"][0]["id"] == body["id"]
    pdf = client.get(f"/reports/{body['id']}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_the_html_form_files_a_report_keeps_input_on_errors_and_escapes_text(app, login):
    s = in_force("antar_desa")
    proposal = s.reload()
    client = login(s["bkad"])
    start = ops.periods(proposal)[0][0].isoformat()
    page = client.get(f"/kerja-sama/{proposal.id}/laporan/baru?periode={start}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mengelola jalur pendakian Gunung Prau secara bersama." in html  # from tujuan
    assert "Kepala Desa Sembungan" in html
    form = {"period_start": start, "activities": HOSTILE, "outputs": "Loket.",
            "outcomes": "", "signer_name": "Ketua Prau",
            "aims-0-aim": "Mengelola jalur", "aims-0-status": "tercapai",
            "funding-0-source": "apb_desa", "funding-0-apbdes_year": "",
            "funding-0-received": "1.000", "funding-0-spent": "500"}
    response = client.post(f"/kerja-sama/{proposal.id}/laporan/baru", data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "alert(&#34;x&#34;)" in html or "alert(&quot;x&quot;)" in html
    assert HOSTILE not in html and "Loket." in html
    form["outcomes"] = "Pengunjung naik."
    response = client.post(f"/kerja-sama/{proposal.id}/laporan/baru", data=form)
    assert response.status_code == 422
    assert "tahun anggaran APB Desa" in response.get_data(as_text=True)
    assert _reports() == 0
    form["funding-0-apbdes_year"] = "2027"
    form["attachments"] = [(io.BytesIO(PNG), "foto kegiatan.png")]
    response = client.post(f"/kerja-sama/{proposal.id}/laporan/baru", data=form,
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    report = db.session.scalar(sa.select(ImplementationReport))
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert HOSTILE not in detail and "&lt;script&gt;" in detail
    attachment = report.attachments[0]
    download = client.get(f"/laporan/{report.id}/lampiran/{attachment.id}")
    assert download.status_code == 200 and download.data == PNG
    assert client.get(f"/laporan/{report.id}.pdf").data.startswith(b"%PDF")
    listing = client.get(f"/kerja-sama/{proposal.id}/laporan").get_data(as_text=True)
    assert "Sudah dilaporkan" in listing and "<svg" in listing
    # Another village's user learns nothing of the report.
    other = UserFactory(role=Role.SEKRETARIS, desa_code=PATAKBANTENG)
    client.post("/keluar")
    outsider = login(other)
    assert outsider.get(f"/laporan/{report.id}").status_code == 404
    assert outsider.get(f"/laporan/{report.id}/lampiran/{attachment.id}").status_code == 404


# --- overdue -------------------------------------------------------------------------------

def test_an_overdue_report_shows_on_the_dashboards_and_in_remind(app, login):
    s = in_force("antar_desa")
    proposal = s.reload()
    [late] = ops.overdue_reports(sa.true())
    assert (late.proposal_id, late.start) == (proposal.id, proposal.start_date)
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    elsewhere = UserFactory(role=Role.AUDITOR, jurisdiction_code=BANJARNEGARA)
    for user, shown in ((s["bkad"], True), (auditor, True), (elsewhere, False),
                        (s.author, False)):
        client = login(user)
        page = client.get("/").get_data(as_text=True)
        assert ("Laporan pelaksanaan terlambat" in page) is shown, user.role
        client.post("/keluar")
    page = login(s["bkad"]).get(f"/kerja-sama/{proposal.id}").get_data(as_text=True)
    assert "Laporan pelaksanaan terlambat:" in page

    first = remind()
    assert first["reports_overdue"] == 1  # the BKAD's one member
    notice = db.session.scalar(sa.select(Notification).where(
        Notification.key == f"r:{proposal.id}:{proposal.start_date.isoformat()}"))
    assert notice.user_id == s["bkad"].id and proposal.ref in notice.message
    assert remind()["reports_overdue"] == 0  # once per period

    ops.file_report(proposal, s["bkad"], report_data(proposal), render=False)
    db.session.commit()
    assert ops.overdue_reports(sa.true()) == []


def test_due_days_come_from_the_config(app):
    s = in_force("antar_desa")
    before = app.config["REPORT_DUE_DAYS"]
    app.config["REPORT_DUE_DAYS"] = 90
    try:
        assert ops.overdue_reports(sa.true()) == []
        assert [p.status for p in ops.period_infos(s.reload())][:2] == ["due", "future"]
    finally:
        app.config["REPORT_DUE_DAYS"] = before


# --- summary, charts and export ------------------------------------------------------------

def test_summary_per_jurisdiction_with_escaped_svg_charts(app, login):
    s = in_force("antar_desa")
    db.session.execute(sa.update(Proposal).where(Proposal.id == s.proposal.id)
                       .values(title=HOSTILE))
    db.session.commit()
    proposal = s.reload()
    ops.file_report(proposal, s["bkad"], report_data(proposal), render=False)
    db.session.commit()
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    data = ops.summary(auditor)
    assert [g.name for g in data["groups"]] == ["Kejajar"]
    assert data["total"].totals == (25000000, 20000000, 17500000)
    assert data["total"].aims == {"sebagian": 1}
    page = login(auditor).get("/laporan/ringkasan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Kecamatan Kejajar" in html and html.count("<svg") >= 4
    assert "visually-hidden" in html and "<title" in html
    assert HOSTILE not in html
    elsewhere = UserFactory(role=Role.AUDITOR, jurisdiction_code=BANJARNEGARA)
    assert ops.summary(elsewhere)["agreements"] == []


def test_reports_join_the_auditors_export(app):
    s = in_force("antar_desa")
    proposal = s.reload()
    report = ops.file_report(proposal, s["bkad"], report_data(proposal))
    db.session.commit()
    auditor = UserFactory(role=Role.AUDITOR, jurisdiction_code=WONOSOBO)
    sink = io.BytesIO()
    X.export(auditor, X.ExportFilters(), sink, workers=0)
    bundle = zipfile.ZipFile(io.BytesIO(sink.getvalue()))
    [path] = [n for n in bundle.namelist() if n.startswith("reports/")]
    assert path.endswith(f"-laporan-{report.period_start.isoformat()}.pdf")
    assert bundle.read(path) == report.file.data
    [row] = json.loads(bundle.read("manifest.json"))
    [entry] = [f for f in row["files"] if f["role"] == "report"]
    assert entry["sha256"] == report.sha256 and entry["path"] == path
    assert f"{report.sha256}  {path}" in bundle.read("SHA256SUMS").decode()
    assert report.sha256 in bundle.read("manifest.csv").decode()


def test_add_months_keeps_the_day_or_takes_the_last_of_the_month():
    assert ops.add_months(dt.date(2026, 1, 15), 13) == dt.date(2027, 2, 15)
    assert ops.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert ops.add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert ops.add_months(dt.date(2026, 8, 31), 1) == dt.date(2026, 9, 30)
    assert ops.add_months(dt.date(2026, 3, 29), -1) == dt.date(2026, 2, 28)
    assert ops.add_months(dt.date(2026, 12, 28), 2) == dt.date(2027, 2, 28)


def test_periods_up_to_a_day_stop_there():
    shape = ops._Shape(start_date=dt.date(2024, 1, 31), end_date=dt.date(2026, 12, 31))
    every = ops.periods(shape, ReportPeriod.QUARTERLY)
    assert len(every) == 12 and every[0] == (dt.date(2024, 1, 31), dt.date(2024, 4, 29))
    assert every[-1][1] == dt.date(2026, 12, 31)
    early = ops.periods(shape, ReportPeriod.QUARTERLY, starting_by=dt.date(2024, 7, 31))
    assert early == every[:3]
