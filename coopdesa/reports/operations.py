"""Implementation reports: the reporting schedule, the periods it gives, filing a report,
its PDF, and the overdue reports (Permendagri 96/2017, pelaksanaan dan pelaporan).

Who reports to whom: for a kerja sama antar-Desa the BKAD reports to the Kepala Desa of
every party village, with copies (tembusan) to each BPD and to the Bupati/Wali Kota through
the Camat; for a kerja sama with a third party the Kepala Desa reports to the BPD, with a
copy to the Bupati/Wali Kota through the Camat. The addressees are computed from the law at
filing and kept with the report, which is final once filed.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa import access, i18n
from coopdesa.access import Action, ReportScheduleOf, ReportsOf
from coopdesa.accounts.models import Role, User
from coopdesa.audit import operations as audit
from coopdesa.db import is_id, utcnow
from coopdesa.errors import ConflictError, NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.files.operations import store_generated_pdf, store_upload
from coopdesa.proposals.models import (
    FundingSource,
    Kind,
    Proposal,
    ProposalFunding,
    ProposalParty,
)
from coopdesa.proposals.operations import effective_end_clause
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region, RegionKind
from coopdesa.reports.models import (
    AimStatus,
    ImplementationReport,
    ReportAim,
    ReportAttachment,
    ReportFunding,
    ReportPeriod,
    ReportSchedule,
)

#: Days after a period ends by which its report is due (setting COOPDESA_REPORT_DUE_DAYS).
REPORT_DUE_DAYS = 30
MAX_TEXT = 5000
MAX_AIM = 500
MAX_NOTE = 500
MAX_NAME = 120
MAX_ATTACHMENTS = 10
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
MAX_PERIODS = 200
#: The schedule is chosen at the signing step; in force, a change needs an addendum.
SCHEDULE_STATES = frozenset({State.AGREED, State.SIGNED})
#: States in which reports are filed (an ended agreement: for periods before its end).
FILING_STATES = frozenset({State.ACTIVE, State.POSTPONED, State.ENDED})


def _fail(field_name: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field_name: [message]})


def due_days() -> int:
    try:
        return max(0, int(current_app.config.get("REPORT_DUE_DAYS",
                                                 REPORT_DUE_DAYS)))
    except (TypeError, ValueError):
        return REPORT_DUE_DAYS


# --- schedule and periods ------------------------------------------------------------------

def schedule_of(proposal: Proposal) -> ReportSchedule | None:
    return db.session.scalar(sa.select(ReportSchedule).where(
        ReportSchedule.proposal_id == proposal.id))


def period_of(proposal: Proposal) -> ReportPeriod:
    schedule = schedule_of(proposal)
    return schedule.period if schedule is not None else ReportPeriod.YEARLY


def schedule_refusal(proposal: Proposal) -> str | None:
    if proposal.state in SCHEDULE_STATES:
        return None
    if proposal.state in FILING_STATES:
        return _("Jadwal pelaporan terkunci sejak kerja sama berlaku; perubahannya memerlukan "
                 "perubahan (adendum) perjanjian.")
    return _("Jadwal pelaporan ditetapkan pada tahap penandatanganan (setelah usulan "
             "disepakati).")


def set_schedule(proposal: Proposal, user: Any, period: Any) -> ReportSchedule:
    """Set how often ``proposal`` reports. Raises AccessDenied, ConflictError (locked) or
    ValidationError (``period``)."""
    access.require(user, Action.EDIT, ReportScheduleOf(proposal))
    refusal = schedule_refusal(proposal)
    if refusal is not None:
        raise ConflictError(refusal)
    try:
        chosen = ReportPeriod(str(period or ""))
    except ValueError:
        raise _fail("period", _("Pilih triwulanan, semesteran atau tahunan.")) from None
    schedule = schedule_of(proposal)
    before = schedule.period.value if schedule is not None else None
    if schedule is None:
        schedule = ReportSchedule(proposal_id=proposal.id, period=chosen)
        db.session.add(schedule)
    schedule.period = chosen
    schedule.set_by_id = getattr(user, "id", None)
    schedule.set_at = utcnow()
    db.session.flush()
    if before != chosen.value:
        audit.record("report.schedule", user=user, object_type="report_schedule",
                     object_id=schedule.id, proposal_id=proposal.id,
                     summary=_l("Jadwal pelaporan ditetapkan: %(label)s", label=chosen.label),
                     before={"period": before}, after={"period": chosen.value})
    return schedule


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if day.day <= 28:
        return dt.date(year, month, day.day)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _term_end(proposal: Any) -> dt.date | None:
    """The end of the term, as the latest addendum in force sets it (an extension adds
    periods); ``proposal`` may also be a row shape that carries it already."""
    if isinstance(proposal, Proposal):
        from coopdesa.lifecycle.operations import effective_end

        return effective_end(proposal)
    return proposal.end_date


def periods(proposal: Proposal, period: ReportPeriod | None = None, *,
            starting_by: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
    """The reporting periods from the start to the end of the term, in steps of 3, 6 or 12
    months counted from the start date; the last may be shorter. With ``starting_by``,
    only the periods that start on or before that day."""
    if getattr(proposal, "amends_id", None) is not None:
        return []  # an addendum's work is reported under the agreement it changes
    start, end = proposal.start_date, _term_end(proposal)
    if start is None or end is None or end < start:
        return []
    months = (period or period_of(proposal)).months
    out = []
    step = 0
    while len(out) < MAX_PERIODS:
        first = add_months(start, months * step)
        if first > end or (starting_by is not None and first > starting_by):
            break
        last = min(add_months(start, months * (step + 1)) - dt.timedelta(days=1), end)
        out.append((first, last))
        step += 1
    return out


def _in_force_through(state: State, ended_on: dt.date | None, period_end: dt.date) -> bool:
    """Whether the agreement was (or is) in force through the whole period, so that its
    report is owed."""
    if state in (State.ACTIVE, State.POSTPONED):
        return True
    return state == State.ENDED and ended_on is not None and ended_on >= period_end


def status_of(state: State, ended_on: dt.date | None, start: dt.date, end: dt.date,
              filed: bool, today: dt.date, *, days: int | None = None) -> str:
    """filed / future (not over yet) / due / overdue / not_required. ``days``: the days a
    report is due after its period (COOPDESA_REPORT_DUE_DAYS when not given)."""
    if filed:
        return "filed"
    if state not in FILING_STATES:
        return "future"
    if state == State.ENDED and (ended_on is None or ended_on < start):
        return "not_required"
    if today <= end:
        return "future"
    if not _in_force_through(state, ended_on, end):
        return "due"  # may be filed (partly in force), never overdue
    grace = due_days() if days is None else days
    return "overdue" if today > end + dt.timedelta(days=grace) else "due"


STATUS_LABELS = {
    "filed": _l("Sudah dilaporkan"),
    "future": _l("Belum berakhir"),
    "due": _l("Menunggu laporan"),
    "overdue": _l("Terlambat"),
    "not_required": _l("Tidak diperlukan"),
}
STATUS_BADGES = {"filed": "success", "future": "secondary", "due": "info",
                 "overdue": "danger", "not_required": "light"}


@dataclass
class PeriodInfo:
    start: dt.date
    end: dt.date
    due: dt.date
    status: str
    report: ImplementationReport | None = None

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def badge(self) -> str:
        return STATUS_BADGES[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {"period_start": self.start.isoformat(), "period_end": self.end.isoformat(),
                "due_on": self.due.isoformat(), "status": self.status,
                "status_label": self.label,
                "report_id": self.report.id if self.report is not None else None}


def reports_of(proposal: Proposal) -> list[ImplementationReport]:
    return list(db.session.scalars(
        sa.select(ImplementationReport).where(ImplementationReport.proposal_id == proposal.id)
        .order_by(ImplementationReport.period_start)))


def period_infos(proposal: Proposal, today: dt.date | None = None) -> list[PeriodInfo]:
    today = today or i18n.local_today()
    filed = {r.period_start: r for r in reports_of(proposal)}
    days = dt.timedelta(days=due_days())
    return [PeriodInfo(start, end, end + days,
                       status_of(proposal.state, proposal.ended_on, start, end,
                                 start in filed, today), filed.get(start))
            for start, end in periods(proposal)]


def filing_refusal(proposal: Proposal, start: dt.date, end: dt.date,
                   today: dt.date) -> str | None:
    if proposal.state not in FILING_STATES:
        return _("Laporan pelaksanaan disampaikan setelah kerja sama berlaku.")
    if proposal.state == State.ENDED and (proposal.ended_on is None
                                          or proposal.ended_on < start):
        return _("Kerja sama telah berakhir sebelum periode ini; laporannya tidak diperlukan.")
    over = end if proposal.state != State.ENDED else min(end, proposal.ended_on)
    if today < over:
        return _("Laporan periode ini baru dapat disampaikan setelah periode berakhir "
                 "(%(date)s).", date=i18n.format_date_id(over))
    return None


# --- addressees ----------------------------------------------------------------------------

def _regions(codes: set[str]) -> dict[str, Region]:
    if not codes:
        return {}
    return {r.code: r for r in db.session.scalars(
        sa.select(Region).where(Region.code.in_(sorted(codes))))}


def _head_of(region: Region | None) -> str:
    """"Bupati Wonosobo" or "Wali Kota Semarang"."""
    if region is None:
        return "Bupati/Wali Kota"
    if region.kind == RegionKind.KOTA:
        name = region.name.removeprefix("Kota ").strip()
        return f"Wali Kota {name}"
    return f"Bupati {region.name.removeprefix('Kabupaten ').strip()}"


def addressees(proposal: Proposal) -> list[dict[str, str]]:
    """To whom the report goes (``kepada``) and who gets a copy (``tembusan``), by law."""
    codes = proposal.desa_codes
    kecamatan = list(dict.fromkeys(".".join(c.split(".")[:3]) for c in codes))
    kabupaten = proposal.kabupaten_code or (".".join(codes[0].split(".")[:2])
                                            if codes else None)
    regions = _regions(set(codes) | set(kecamatan) | ({kabupaten} if kabupaten else set()))
    names = [regions[c].name if c in regions else c for c in codes]
    head = _head_of(regions.get(kabupaten) if kabupaten else None)
    to_head = [{"role": "tembusan",
                "name": f"{head} melalui Camat {regions[k].name if k in regions else k}"}
               for k in kecamatan]
    if proposal.kind == Kind.ANTAR_DESA:
        return ([{"role": "kepada", "name": f"Kepala Desa {n}"} for n in names]
                + [{"role": "tembusan", "name": f"BPD Desa {n}"} for n in names] + to_head)
    return [{"role": "kepada", "name": f"BPD Desa {n}"} for n in names] + to_head


def _reporting_village(proposal: Proposal, user: Any) -> str | None:
    codes = proposal.desa_codes
    code = getattr(user, "desa_code", None)
    return code if code in codes else (codes[0] if codes else None)


def reporter_label(proposal: Proposal, user: Any) -> str:
    """"BKAD Dieng Raya" for antar_desa, "Kepala Desa Dieng" for pihak_ketiga."""
    if proposal.kind == Kind.ANTAR_DESA:
        return proposal.bkad.name if proposal.bkad is not None else "BKAD"
    code = _reporting_village(proposal, user)
    region = db.session.get(Region, code) if code else None
    return f"Kepala Desa {region.name if region else code or ''}".strip()


def default_signer(proposal: Proposal, user: Any) -> str:
    """The name under the signature: a Kepala Desa signs themselves; a secretary files on
    behalf of the Kepala Desa who signed the agreement."""
    if proposal.kind == Kind.PIHAK_KETIGA and getattr(user, "role", None) != Role.KEPALA_DESA:
        code = _reporting_village(proposal, user)
        party = next((p for p in proposal.parties if p.desa_code == code), None)
        if party is not None and party.signatory_name:
            return party.signatory_name
    return getattr(user, "full_name", "") or ""


# --- funding and aims ----------------------------------------------------------------------

def planned_by_source(proposal_ids: list[int] | sa.Select) -> dict[int, dict[FundingSource,
                                                                            int]]:
    """{proposal id: {source: planned Rupiah}} from the agreements' pendanaan."""
    rows = db.session.execute(
        sa.select(ProposalParty.proposal_id, ProposalFunding.source,
                  sa.func.sum(ProposalFunding.amount))
        .join(ProposalFunding, ProposalFunding.party_id == ProposalParty.id)
        .where(ProposalParty.proposal_id.in_(proposal_ids))
        .group_by(ProposalParty.proposal_id, ProposalFunding.source))
    out: dict[int, dict[FundingSource, int]] = defaultdict(dict)
    for proposal_id, source, amount in rows:
        out[proposal_id][FundingSource(source)] = int(amount or 0)
    return out


def reported_by_source(proposal_ids: list[int] | sa.Select
                       ) -> dict[int, dict[FundingSource, tuple[int, int]]]:
    """{proposal id: {source: (received, spent)}} summed over every filed report."""
    rows = db.session.execute(
        sa.select(ImplementationReport.proposal_id, ReportFunding.source,
                  sa.func.sum(ReportFunding.received), sa.func.sum(ReportFunding.spent))
        .join(ReportFunding, ReportFunding.report_id == ImplementationReport.id)
        .where(ImplementationReport.proposal_id.in_(proposal_ids))
        .group_by(ImplementationReport.proposal_id, ReportFunding.source))
    out: dict[int, dict[FundingSource, tuple[int, int]]] = defaultdict(dict)
    for proposal_id, source, received, spent in rows:
        out[proposal_id][FundingSource(source)] = (int(received or 0), int(spent or 0))
    return out


def latest_aims(proposal_ids: list[int] | sa.Select) -> dict[int, dict[str, int]]:
    """{proposal id: {aim status: count}} in each agreement's latest period report."""
    latest = (sa.select(ImplementationReport.proposal_id,
                        sa.func.max(ImplementationReport.period_start).label("ps"))
              .where(ImplementationReport.proposal_id.in_(proposal_ids))
              .group_by(ImplementationReport.proposal_id).subquery())
    rows = db.session.execute(
        sa.select(ImplementationReport.proposal_id, ReportAim.status, sa.func.count())
        .join(latest, sa.and_(latest.c.proposal_id == ImplementationReport.proposal_id,
                              latest.c.ps == ImplementationReport.period_start))
        .join(ReportAim, ReportAim.report_id == ImplementationReport.id)
        .group_by(ImplementationReport.proposal_id, ReportAim.status))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for proposal_id, status, n in rows:
        out[proposal_id][AimStatus(status).value] = int(n)
    return out


@dataclass
class Progress:
    """Planned versus received versus spent per source, and aims met."""

    funds: dict[FundingSource, list[int]] = field(default_factory=dict)
    aims: dict[str, int] = field(default_factory=dict)

    def add(self, planned: dict[FundingSource, int],
            reported: dict[FundingSource, tuple[int, int]], aims: dict[str, int]) -> None:
        for source in FundingSource:
            p = planned.get(source, 0)
            received, spent = reported.get(source, (0, 0))
            if p or received or spent:
                row = self.funds.setdefault(source, [0, 0, 0])
                row[0] += p
                row[1] += received
                row[2] += spent
        for status, n in aims.items():
            self.aims[status] = self.aims.get(status, 0) + n

    @property
    def rows(self) -> list[tuple[FundingSource, int, int, int]]:
        return [(s, *self.funds[s]) for s in FundingSource if s in self.funds]

    @property
    def totals(self) -> tuple[int, int, int]:
        return (sum(v[0] for v in self.funds.values()), sum(v[1] for v in self.funds.values()),
                sum(v[2] for v in self.funds.values()))

    @property
    def aims_total(self) -> int:
        return sum(self.aims.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "funds": [{"source": s.value, "source_label": s.label, "planned": p,
                       "received": r, "spent": sp} for s, p, r, sp in self.rows],
            "aims": {status.value: self.aims.get(status.value, 0) for status in AimStatus},
        }


def progress_of(proposal: Proposal) -> Progress:
    progress = Progress()
    ids = [proposal.id]
    progress.add(planned_by_source(ids).get(proposal.id, {}),
                 reported_by_source(ids).get(proposal.id, {}),
                 latest_aims(ids).get(proposal.id, {}))
    return progress


def aims_from_tujuan(proposal: Proposal) -> list[str]:
    """The agreement's aims, one per non-empty line of its ``tujuan``."""
    lines = [line.strip(" \t-\u2022;") for line in (proposal.tujuan or "").splitlines()]
    return [line[:MAX_AIM] for line in lines if line][:30]


# --- filing --------------------------------------------------------------------------------

def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]], *, required: bool,
          limit: int = MAX_TEXT) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        text = ""
    elif not isinstance(value, str):
        errors[key] = [_("Harus berupa teks.")]
        return None
    else:
        text = value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        errors[key] = [_("Terlalu panjang: paling banyak %(n)d karakter.", n=limit)]
        return None
    if required and not text:
        errors[key] = [_("Wajib diisi.")]
        return None
    return text or None


def parse_rupiah(value: Any) -> int | None:
    """Whole Rupiah from 25000000, "25.000.000" or "Rp 25.000.000"; None if not that."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 10**15 else None
    if value is None or value == "":
        return 0
    if not isinstance(value, str):
        return None
    text = value.strip().removeprefix("Rp").removeprefix("rp").strip()
    text = text.replace(".", "").replace(" ", "")
    if text.endswith(",00"):
        text = text[:-3]
    if not text.isdigit() or len(text) > 15:
        return None
    return int(text)


def _date_arg(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or len(value) > 20:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _aims(rows: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if rows is None:
        return []
    if not isinstance(rows, list) or len(rows) > 50:
        errors["aims"] = [_("Daftar tujuan tidak valid (paling banyak 50).")]
        return []
    out = []
    for i, row in enumerate(rows):
        prefix = f"aims-{i}-"
        if not isinstance(row, dict):
            errors[prefix + "aim"] = [_("Tidak valid.")]
            continue
        sub: dict[str, list[str]] = {}
        aim = _text(row, "aim", sub, required=False, limit=MAX_AIM)
        note = _text(row, "note", sub, required=False, limit=MAX_NOTE)
        for key, messages in sub.items():
            errors[prefix + key] = messages
        status = row.get("status")
        if not aim:
            if status or note:
                errors.setdefault(prefix + "aim", [_("Tuliskan tujuannya.")])
            continue
        try:
            status = AimStatus(str(status or ""))
        except ValueError:
            errors[prefix + "status"] = [_("Pilih tercapai, sebagian atau belum.")]
            continue
        out.append({"aim": aim, "status": status, "note": note})
    return out


def _funding(rows: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if rows is None:
        return []
    if not isinstance(rows, list) or len(rows) > 30:
        errors["funding"] = [_("Daftar dana tidak valid (paling banyak 30 baris).")]
        return []
    out = []
    seen: set[tuple[FundingSource, int | None]] = set()
    for i, row in enumerate(rows):
        prefix = f"funding-{i}-"
        if not isinstance(row, dict):
            errors[prefix + "source"] = [_("Tidak valid.")]
            continue
        blank = not row.get("source") and all(
            row.get(k) in (None, "", 0) for k in ("received", "spent", "apbdes_year"))
        if blank:
            continue
        try:
            source = FundingSource(str(row.get("source") or ""))
        except ValueError:
            errors[prefix + "source"] = [_("Pilih sumber dana.")]
            continue
        amounts = {}
        for key in ("received", "spent"):
            amounts[key] = parse_rupiah(row.get(key))
            if amounts[key] is None:
                errors[prefix + key] = [_("Jumlah dalam rupiah, angka bulat tidak negatif "
                                          "(misalnya 25000000).")]
        raw_year = row.get("apbdes_year")
        year = None
        if raw_year not in (None, ""):
            text = str(raw_year).strip() if isinstance(raw_year, int | str) else ""
            year = int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else -1
            if year == -1:
                errors[prefix + "apbdes_year"] = [_("Tahun tidak valid.")]
        if source == FundingSource.APB_DESA and year is None:
            errors[prefix + "apbdes_year"] = [
                _("Sebutkan tahun anggaran APB Desa (misalnya 2027).")]
        if source != FundingSource.APB_DESA:
            year = None
        key = (source, year)
        if key in seen:
            errors[prefix + "source"] = [_("Sumber dana ini sudah dicantumkan.")]
        seen.add(key)
        out.append({"source": source, "apbdes_year": year,
                    "received": amounts["received"] or 0, "spent": amounts["spent"] or 0})
    return out


def get_report(report_id: Any) -> ImplementationReport:
    report = db.session.get(ImplementationReport, report_id) if is_id(report_id) else None
    if report is None:
        raise NotFoundError(_("Laporan pelaksanaan tidak ditemukan."))
    return report


def file_report(proposal: Proposal, user: Any, data: dict[str, Any], *,
                attachments: list[tuple[bytes, str | None]] | None = None,
                today: dt.date | None = None, render: bool = True) -> ImplementationReport:
    """File the report of the period starting ``data["period_start"]``.

    ``data`` holds period_start, activities, outputs, outcomes, problems, next_steps,
    signer_name, aims [{aim, status, note}] and funding [{source, apbdes_year, received,
    spent}]. Raises AccessDenied (wrong party), ValidationError naming the fields,
    ConflictError (period already reported, or the agreement not reporting)."""
    access.require(user, Action.CREATE, ReportsOf(proposal))
    today = today or i18n.local_today()
    errors: dict[str, list[str]] = {}
    start = _date_arg(data.get("period_start"))
    chosen = next(((s, e) for s, e in periods(proposal) if s == start), None)
    if chosen is None:
        errors["period_start"] = [_("Pilih salah satu periode pelaporan kerja sama ini.")]
    texts = {key: _text(data, key, errors, required=key in ("activities", "outputs",
                                                            "outcomes"))
             for key in ("activities", "outputs", "outcomes", "problems", "next_steps")}
    signer = _text(data, "signer_name", errors, required=False, limit=MAX_NAME)
    aims = _aims(data.get("aims"), errors)
    funding = _funding(data.get("funding"), errors)
    files = list(attachments or [])
    if len(files) > MAX_ATTACHMENTS:
        errors["attachments"] = [_("Paling banyak %(n)d lampiran.", n=MAX_ATTACHMENTS)]
    if errors or chosen is None:
        raise ValidationError(next(iter(errors.values()))[0], fields=errors)
    refusal = filing_refusal(proposal, chosen[0], chosen[1], today)
    if refusal is not None:
        raise ConflictError(refusal)
    if db.session.scalar(sa.select(ImplementationReport.id).where(
            ImplementationReport.proposal_id == proposal.id,
            ImplementationReport.period_start == chosen[0])) is not None:
        raise ConflictError(_("Laporan periode ini sudah disampaikan; laporan yang sudah "
                              "disampaikan bersifat final."))
    stored = [store_upload(raw, name, field="attachments", user=user,
                           max_bytes=ATTACHMENT_MAX_BYTES) for raw, name in files]
    report = ImplementationReport(
        proposal_id=proposal.id, period_start=chosen[0], period_end=chosen[1],
        activities=texts["activities"], outputs=texts["outputs"],
        outcomes=texts["outcomes"], problems=texts["problems"],
        next_steps=texts["next_steps"], addressees=addressees(proposal),
        reporter_label=reporter_label(proposal, user)[:200],
        signer_name=(signer or default_signer(proposal, user) or "-")[:MAX_NAME],
        filed_by_id=getattr(user, "id", None) if isinstance(user, User) else None,
        filed_at=utcnow())
    report.aims = [ReportAim(position=i, **row) for i, row in enumerate(aims)]
    report.funding = [ReportFunding(position=i, **row) for i, row in enumerate(funding)]
    report.attachments = [ReportAttachment(position=i, file_id=f.id)
                          for i, f in enumerate(stored)]
    report.proposal = proposal
    db.session.add(report)
    db.session.flush()
    audit.record("report.file", user=user, object_type="implementation_report",
                 object_id=report.id, proposal_id=proposal.id,
                 summary=_l("Laporan pelaksanaan periode %(start)s s.d. %(end)s disampaikan "
                            "oleh %(who)s", start=chosen[0].isoformat(),
                            end=chosen[1].isoformat(), who=report.reporter_label),
                 after={"period_start": chosen[0].isoformat(),
                        "period_end": chosen[1].isoformat(),
                        "addressees": report.addressees,
                        "funding": [{"source": f.source.value, "apbdes_year": f.apbdes_year,
                                     "received": f.received, "spent": f.spent}
                                    for f in report.funding],
                        "aims": [{"aim": a.aim, "status": a.status.value}
                                 for a in report.aims],
                        "attachments": [f.sha256 for f in stored]})
    if render:
        try_render(report)
    return report


# --- the PDF -------------------------------------------------------------------------------

def report_context(report: ImplementationReport) -> dict[str, Any]:
    from coopdesa.documents import operations as docs
    from coopdesa.documents.records import agreement_docnum

    proposal = report.proposal
    document = docs.document_of(proposal)
    payload = document.payload if document is not None else None
    numbers = [{"party": p.get("name"), "number": p.get("number")}
               for p in (payload or {}).get("parties", []) if p.get("number")]
    planned = planned_by_source([proposal.id]).get(proposal.id, {})
    rows = []
    for f in report.funding:
        rows.append({"source_label": f.source.label, "apbdes_year": f.apbdes_year,
                     "planned": planned.get(f.source), "received": f.received,
                     "spent": f.spent})
    for source, amount in planned.items():
        if all(f.source != source for f in report.funding):
            rows.append({"source_label": source.label, "apbdes_year": None,
                         "planned": amount, "received": 0, "spent": 0})
    return {
        "id": report.id, "ref": proposal.ref, "title": proposal.title,
        "kind": proposal.kind.value, "kind_label": str(proposal.kind.label),
        "docnum": agreement_docnum(payload, draft=False) if payload else proposal.ref,
        "numbers": numbers, "parties": [p.name for p in proposal.parties],
        "start": report.period_start, "end": report.period_end,
        "kepada": [a["name"] for a in report.addressees if a.get("role") == "kepada"],
        "tembusan": [a["name"] for a in report.addressees if a.get("role") == "tembusan"],
        "activities": _paras(report.activities), "outputs": _paras(report.outputs),
        "outcomes": _paras(report.outcomes), "problems": _paras(report.problems),
        "next_steps": _paras(report.next_steps),
        "funding": rows,
        "totals": {k: sum(r[k] or 0 for r in rows) for k in ("planned", "received", "spent")},
        "aims": [{"aim": a.aim, "status_label": str(a.status.label), "note": a.note or ""}
                 for a in report.aims],
        "attachments": [a.file.original_name for a in report.attachments],
        "reporter": report.reporter_label,
        "office": ("Ketua " + report.reporter_label
                   if proposal.kind == Kind.ANTAR_DESA else report.reporter_label),
        "signer": report.signer_name,
        "filed_on": _local_date(report.filed_at),
    }


def _local_date(moment: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta")
    return moment.astimezone(zone).date()


def _paras(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def report_job(report: ImplementationReport, *, paper: str | None = None):
    """The report as a RenderJob (templates/pdf/laporan_pelaksanaan.html)."""
    from flask_babel import force_locale

    from coopdesa.documents import pdf

    with force_locale("id"):
        rep = report_context(report)
    paper = paper or current_app.config.get("DEFAULT_PAPER", "f4")
    docnum = (f"Laporan Pelaksanaan {rep['ref']}, periode {pdf.tanggal_id(rep['start'])} "
              f"s.d. {pdf.tanggal_id(rep['end'])}")
    return pdf.job("laporan_pelaksanaan.html", paper=paper if paper in ("f4", "a4") else "f4",
                   rep=rep, draft=False, docnum=docnum)


def store_pdf(report: ImplementationReport, data: bytes) -> StoredFile:
    """Keep ``data`` as the report's PDF, once: a second call keeps the first."""
    if report.file_id is not None:
        return report.file
    stored = store_generated_pdf(
        data, f"{report.proposal.ref}-laporan-{report.period_start.isoformat()}.pdf")
    report.file_id = stored.id
    report.file = stored
    report.sha256 = stored.sha256
    report.render_error = None
    audit.record("report.render", object_type="implementation_report", object_id=report.id,
                 proposal_id=report.proposal_id,
                 summary=_l("PDF laporan pelaksanaan dibuat (SHA-256 %(sha)s)",
                            sha=stored.sha256[:16]),
                 after={"sha256": stored.sha256, "size": stored.size})
    return stored


def render_pdf(report: ImplementationReport) -> StoredFile:
    """The stored PDF, rendering it first if it never was. Raises RenderError."""
    from coopdesa.documents import render as R

    if report.file_id is not None:
        return report.file
    return store_pdf(report, R.render(report_job(report)))


def try_render(report: ImplementationReport) -> str | None:
    from coopdesa.documents import render as R

    try:
        render_pdf(report)
    except R.RenderError as exc:
        current_app.logger.error("report PDF %s failed: %s", report.id, exc)
        report.render_error = str(exc)[:500]
        return report.render_error
    return None


# --- overdue reports -----------------------------------------------------------------------

@dataclass
class Overdue:
    proposal_id: int
    ref: str
    title: str
    kind: Kind
    bkad_id: int | None
    start: dt.date
    end: dt.date
    due: dt.date

    def days_late(self, today: dt.date) -> int:
        return (today - self.due).days


def reporting_party_clause(user: Any) -> sa.ColumnElement[bool] | None:
    """The agreements whose overdue reports ``user`` sees: those they report on (the BKAD
    for antar_desa, the village's Kepala Desa and secretary for pihak_ketiga), all in an
    auditor's jurisdiction, all for an admin; None for other roles."""
    role = getattr(user, "role", None)
    if role in (Role.ADMIN, Role.AUDITOR):
        return access.proposal_scope_clause(user)
    if role == Role.BKAD:
        return sa.and_(access.proposal_scope_clause(user), Proposal.kind == Kind.ANTAR_DESA,
                       Proposal.bkad_id == user.bkad_id)
    if role in (Role.KEPALA_DESA, Role.SEKRETARIS):
        return sa.and_(access.proposal_scope_clause(user), Proposal.kind == Kind.PIHAK_KETIGA)
    return None


def overdue_reports(where: sa.ColumnElement[bool], today: dt.date | None = None
                    ) -> list[Overdue]:
    """Every overdue report of the agreements matching ``where``, oldest due first. Two
    statements whatever the number of agreements."""
    today = today or i18n.local_today()
    days = dt.timedelta(days=due_days())
    candidates = (sa.select(Proposal.id).where(
        where, Proposal.state.in_(sorted(FILING_STATES)), Proposal.start_date.is_not(None),
        Proposal.amends_id.is_(None),  # an addendum reports through its agreement
        effective_end_clause().is_not(None), Proposal.start_date < today - days))
    rows = db.session.execute(
        sa.select(Proposal.id, Proposal.ref, Proposal.title, Proposal.kind, Proposal.state,
                  Proposal.start_date, effective_end_clause(), Proposal.ended_on,
                  Proposal.bkad_id, ReportSchedule.period)
        .outerjoin(ReportSchedule, ReportSchedule.proposal_id == Proposal.id)
        .where(Proposal.id.in_(candidates)).order_by(Proposal.id)).all()
    filed: dict[int, set[dt.date]] = defaultdict(set)
    for proposal_id, start in db.session.execute(
            sa.select(ImplementationReport.proposal_id, ImplementationReport.period_start)
            .where(ImplementationReport.proposal_id.in_(candidates))):
        filed[proposal_id].add(start)
    out = []
    # Only periods that ended more than ``days`` ago can be overdue: each agreement's
    # periods are generated up to there, not to the end of its term (the home page of an
    # auditor or admin runs this over every agreement in force of the jurisdiction).
    last_start = today - days
    for (pid, ref, title, kind, state, start, end, ended_on, bkad_id, period) in rows:
        shape = _Shape(start_date=start, end_date=end)
        for p_start, p_end in periods(shape, ReportPeriod(period or "yearly"),
                                      starting_by=last_start):
            if p_end + days >= today:
                break
            if status_of(State(state), ended_on, p_start, p_end,
                         p_start in filed[pid], today, days=days.days) == "overdue":
                out.append(Overdue(pid, ref, title, Kind(kind), bkad_id, p_start, p_end,
                                   p_end + days))
    out.sort(key=lambda o: (o.due, o.ref))
    return out


@dataclass
class _Shape:
    """The two dates :func:`periods` reads, without loading a Proposal."""

    start_date: dt.date | None
    end_date: dt.date | None


def reporting_users(items: list[Overdue]) -> dict[int, list[User]]:
    """The users of the reporting party of each agreement in ``items`` (by proposal id):
    the BKAD's accounts, or the party villages' Kepala Desa and secretaries."""
    ids = sorted({o.proposal_id for o in items})
    bkad_ids = sorted({o.bkad_id for o in items if o.kind == Kind.ANTAR_DESA and o.bkad_id})
    villages: dict[int, set[str]] = defaultdict(set)
    if ids:
        for pid, code in db.session.execute(
                sa.select(ProposalParty.proposal_id, ProposalParty.desa_code)
                .where(ProposalParty.proposal_id.in_(ids),
                       ProposalParty.desa_code.is_not(None))):
            villages[pid].add(code)
    codes = sorted(set().union(*villages.values())) if villages else []
    active = User.is_active_account.is_(True)
    by_bkad: dict[int, list[User]] = defaultdict(list)
    if bkad_ids:
        for user in db.session.scalars(sa.select(User).where(
                active, User.role == Role.BKAD, User.bkad_id.in_(bkad_ids))):
            by_bkad[user.bkad_id].append(user)
    by_desa: dict[str, list[User]] = defaultdict(list)
    if codes:
        for user in db.session.scalars(sa.select(User).where(
                active, User.role.in_([Role.KEPALA_DESA, Role.SEKRETARIS]),
                User.desa_code.in_(codes))):
            by_desa[user.desa_code].append(user)
    out: dict[int, list[User]] = {}
    for o in items:
        if o.kind == Kind.ANTAR_DESA:
            out[o.proposal_id] = list(by_bkad.get(o.bkad_id or 0, []))
        else:
            out[o.proposal_id] = [u for code in sorted(villages[o.proposal_id])
                                  for u in by_desa.get(code, [])]
    return out


def remind_overdue(today: dt.date | None = None) -> dict[str, int]:
    """One notice per overdue report period to each user of its reporting party."""
    from coopdesa.proposals import notifications

    today = today or i18n.local_today()
    items = overdue_reports(sa.true(), today)
    users = reporting_users(items)
    created = 0
    for o in items:
        message = (f"Laporan pelaksanaan {o.ref} \u201c{o.title}\u201d periode "
                   f"{o.start.isoformat()} s.d. {o.end.isoformat()} terlambat; batas "
                   f"penyampaian {o.due.isoformat()}.")
        created += notifications.notify(users.get(o.proposal_id, []),
                                        f"r:{o.proposal_id}:{o.start.isoformat()}",
                                        db.session.get(Proposal, o.proposal_id), message)
    return {"reports_overdue": created}


# --- summary per jurisdiction --------------------------------------------------------------

SUMMARY_STATES = (State.ACTIVE, State.POSTPONED, State.ENDED)


@dataclass
class Group:
    code: str
    name: str
    agreements: list[dict[str, Any]] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)


def summary(user: Any, today: dt.date | None = None) -> dict[str, Any]:
    """Planned versus received versus spent per source and aims met, per agreement and
    per kecamatan (auditors, admins) or per village (village roles, BKAD), over the
    agreements ``user`` may read; plus the overdue reports among them."""
    today = today or i18n.local_today()
    scope = access.proposal_scope_clause(user)
    ids = sa.select(Proposal.id).where(scope, Proposal.state.in_(SUMMARY_STATES))
    agreements = db.session.execute(
        sa.select(Proposal.id, Proposal.ref, Proposal.title, Proposal.kind, Proposal.state)
        .where(Proposal.id.in_(ids)).order_by(Proposal.ref).limit(2000)).all()
    planned = planned_by_source(ids)
    reported = reported_by_source(ids)
    aims = latest_aims(ids)
    by_village = getattr(user, "role", None) not in (Role.ADMIN, Role.AUDITOR)
    own = access.scope_desa_codes(user) or frozenset()
    keys: dict[int, list[str]] = defaultdict(list)
    for pid, code in db.session.execute(
            sa.select(ProposalParty.proposal_id, ProposalParty.desa_code)
            .where(ProposalParty.proposal_id.in_(ids), ProposalParty.desa_code.is_not(None))
            .order_by(ProposalParty.position)):
        if by_village:
            key = code if code in own else None
        else:
            key = ".".join(code.split(".")[:3])
            if getattr(user, "role", None) == Role.AUDITOR and not access.covers_region(
                    user, code):
                key = None
        if key and key not in keys[pid]:
            keys[pid].append(key)
    names = {r.code: r.name for r in db.session.scalars(sa.select(Region).where(
        Region.code.in_(sorted({k for v in keys.values() for k in v}))))}
    groups: dict[str, Group] = {}
    total = Progress()
    rows = []
    for pid, ref, title, kind, state in agreements:
        p = Progress()
        p.add(planned.get(pid, {}), reported.get(pid, {}), aims.get(pid, {}))
        total.add(planned.get(pid, {}), reported.get(pid, {}), aims.get(pid, {}))
        row = {"id": pid, "ref": ref, "title": title, "kind": Kind(kind),
               "state": State(state), "progress": p}
        rows.append(row)
        for key in keys.get(pid, []):
            group = groups.setdefault(key, Group(key, names.get(key, key)))
            group.agreements.append(row)
            group.progress.add(planned.get(pid, {}), reported.get(pid, {}), aims.get(pid, {}))
    return {
        "agreements": rows, "total": total,
        "groups": sorted(groups.values(), key=lambda g: g.name),
        "by_village": by_village,
        "overdue": overdue_reports(scope, today),
        "today": today,
    }
