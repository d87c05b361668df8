"""The auditor's export bundle: the signed agreements of a jurisdiction as one ZIP.

An auditor (inspektorat, camat, the dinas PMD) checks that each kerja sama desa was made as
PP 43/2014 Pasal 143-148 and Permendagri 96/2017 require: its contents, who signed it and
when, how it was carried out, changed or ended. The bundle gives them, for the agreements
they select (wilayah, kecamatan, year of enactment, state, kind):

* ``agreements/<ref>-<code>.pdf``: each final PDF/A-3b, byte for byte as stored;
* ``scans/<ref>-<code>.<ext>``: the scan of the signed paper copy, where one is attached;
* ``manifest.csv`` and ``manifest.json``: one row per agreement (numbers, title, kind,
  state, parties with their desa codes, dates) with the SHA-256 of each of its files;
* ``audit.csv``: every audit entry of those agreements, in chain order, with its hashes;
* ``README.txt`` (Indonesian) and ``SHA256SUMS`` (``sha256sum -c SHA256SUMS``).

The ZIP is written as it is produced (a non-seekable sink, data descriptors), agreement
by agreement, so memory stays flat whatever the number of agreements: documents are read
in keyset batches, PDF bytes one at a time, and the manifests and checksums are spooled to
temporary files until their turn. Final PDFs never rendered are rendered on the way in the
worker pool (:mod:`coopdesa.documents.render`), in order and with a bounded look-ahead,
then stored once (:func:`coopdesa.documents.operations.store_final`). A completed export
is recorded in the audit trail as ``document.export`` with the SHA-256 of manifest.json.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
import tempfile
import zipfile
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts.models import Role, User
from coopdesa.audit import operations as audit
from coopdesa.audit.models import AuditEntry
from coopdesa.documents import operations as ops
from coopdesa.documents import render as R
from coopdesa.documents.models import AgreementDocument
from coopdesa.errors import ValidationError
from coopdesa.extensions import db
from coopdesa.files.models import StoredFile
from coopdesa.proposals.models import Kind, Proposal, ProposalParty
from coopdesa.proposals.states import State
from coopdesa.regions.models import Region
from coopdesa.regions.operations import code_within, looks_like_code, normalize_code

log = logging.getLogger(__name__)

#: Agreements read per statement (keyset pagination by id).
BATCH = 200
#: Audit entries read per statement.
AUDIT_BATCH = 500
#: Freshly rendered PDFs stored per commit.
COMMIT_EVERY = 25
#: Renders in flight at most (per worker: 4), whatever the number of workers.
MAX_WINDOW = 50
#: Manifests and checksums stay in memory up to this size, then go to a temporary file.
SPOOL_BYTES = 1024 * 1024
COPY_CHUNK = 64 * 1024
YEAR_MIN, YEAR_MAX = 2000, 2100
#: ``status`` values: the states that have a final document.
EXPORT_STATES = {"signed": State.SIGNED, "active": State.ACTIVE, "postponed": State.POSTPONED,
                 "ended": State.ENDED}
SCAN_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
MANIFEST_CSV_COLUMNS = (
    "ref", "code", "verify_url", "title", "kind", "state", "enacted_on", "enacted_place",
    "start", "end", "numbers", "parties", "pdf_path", "pdf_sha256", "pdf_size",
    "scan_path", "scan_sha256", "scan_size", "render_error", "other_files")
#: Other areas add files of each agreement (e.g. implementation reports under reports/)
#: with :func:`agreement_files`: a function (proposal id, entry name) -> iterable of
#: (path in the ZIP, bytes, role), called once per agreement, one file at a time.
EXTRA_FILES: list[Callable[[int, str], Any]] = []


def agreement_files(fn: Callable[[int, str], Any]) -> Callable[[int, str], Any]:
    EXTRA_FILES.append(fn)
    return fn
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- who exports ---------------------------------------------------------------------------

class SystemExporter:
    """``flask coopdesa export`` without ``--user``: the whole register, as an admin would
    see it; the audit trail names it "sistem (CLI)"."""

    id = None
    username = "sistem (CLI)"
    full_name = "Sistem (CLI)"
    role = Role.ADMIN
    is_active = True
    is_authenticated = True
    is_anonymous = False
    is_admin = True
    desa_code = None
    jurisdiction_code = None
    bkad = None
    scope_label = "Seluruh wilayah"


SYSTEM = SystemExporter()


# --- filters -------------------------------------------------------------------------------

def _fail(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors[key] = [message]


def _region_arg(args: Any, key: str, level: int | None, user: Any,
                errors: dict[str, list[str]]) -> str | None:
    """A region code from ``args[key]``: well formed, registered, of ``level`` (if given)
    and, for an auditor, inside their jurisdiction."""
    raw = str(args.get(key) or "").strip()[:40]
    if not raw:
        return None
    if not looks_like_code(raw):
        _fail(errors, key, _("Kode wilayah tidak valid; tulis seperti 33.07.13."))
        return None
    code = normalize_code(raw)
    if level is not None and len(code.split(".")) != level:
        _fail(errors, key, _("Kode kecamatan terdiri atas tiga bagian, mis. 33.07.13."))
        return None
    if db.session.get(Region, code) is None:
        _fail(errors, key, _("Kode wilayah %(code)s tidak terdaftar.", code=code))
        return None
    if getattr(user, "role", None) == Role.AUDITOR and not access.covers_region(user, code):
        _fail(errors, key, _("Wilayah %(code)s berada di luar yurisdiksi Anda (%(scope)s).",
                             code=code, scope=user.scope_label))
        return None
    return code


def _in_region(code: str) -> sa.ColumnElement[bool]:
    """Agreements of ``code``: by the proposal's kabupaten for a provinsi or kabupaten
    (indexed), else by a party village below it."""
    if len(code.split(".")) <= 2:
        return code_within(Proposal.kabupaten_code, code)
    return Proposal.id.in_(sa.select(ProposalParty.proposal_id)
                           .where(code_within(ProposalParty.desa_code, code)))


@dataclass
class ExportFilters:
    """What the export is narrowed by (query parameters and CLI options of the same
    names). Everything is optional: no filter exports every agreement in scope."""

    #: A region code at any level (provinsi, kabupaten/kota, kecamatan or desa).
    wilayah: str | None = None
    #: A kecamatan code.
    kecamatan: str | None = None
    #: The year of enactment (the last signature).
    tahun: int | None = None
    status: State | None = None
    jenis: Kind | None = None

    @classmethod
    def parse(cls, args: Any, user: Any = None) -> ExportFilters:
        """From query parameters (a MultiDict or dict); refuses bad values by name. With
        ``user``, an auditor's regions must lie in their jurisdiction."""
        errors: dict[str, list[str]] = {}
        out = cls()
        out.wilayah = _region_arg(args, "wilayah", None, user, errors)
        out.kecamatan = _region_arg(args, "kecamatan", 3, user, errors)
        raw = str(args.get("tahun") or "").strip()
        if raw:
            if raw.isdigit() and YEAR_MIN <= int(raw) <= YEAR_MAX:
                out.tahun = int(raw)
            else:
                _fail(errors, "tahun", _("Tahun harus bilangan antara %(low)d dan %(high)d.",
                                         low=YEAR_MIN, high=YEAR_MAX))
        raw = str(args.get("status") or "").strip()
        if raw:
            if raw in EXPORT_STATES:
                out.status = EXPORT_STATES[raw]
            else:
                _fail(errors, "status", _("Status harus signed (ditandatangani), active "
                                          "(berlaku) atau ended (berakhir)."))
        raw = str(args.get("jenis") or "").strip()
        if raw:
            try:
                out.jenis = Kind(raw)
            except ValueError:
                _fail(errors, "jenis", _("Jenis harus antar_desa atau pihak_ketiga."))
        if errors:
            raise ValidationError(next(iter(errors.values()))[0], fields=errors)
        return out

    def as_args(self) -> dict[str, str]:
        """The filters as query parameters (also what the audit entry records)."""
        values = {"wilayah": self.wilayah, "kecamatan": self.kecamatan,
                  "tahun": str(self.tahun) if self.tahun else None,
                  "status": self.status.value if self.status else None,
                  "jenis": self.jenis.value if self.jenis else None}
        return {k: v for k, v in values.items() if v}

    def describe(self) -> str:
        """The filters in words, for README.txt."""
        parts = []
        if self.wilayah:
            parts.append(f"wilayah {self.wilayah}")
        if self.kecamatan:
            parts.append(f"kecamatan {self.kecamatan}")
        if self.tahun:
            parts.append(f"tahun penetapan {self.tahun}")
        if self.status:
            parts.append(f"status {self.status.value} ({self.status.label})")
        if self.jenis:
            parts.append(f"jenis {self.jenis.value}")
        return "; ".join(parts) or "tanpa saringan (semua kerja sama dalam cakupan)"

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        conds: list[sa.ColumnElement[bool]] = []
        for code in (self.wilayah, self.kecamatan):
            if code:
                conds.append(_in_region(code))
        if self.tahun:
            conds.append(AgreementDocument.enacted_on >= dt.date(self.tahun, 1, 1))
            conds.append(AgreementDocument.enacted_on < dt.date(self.tahun + 1, 1, 1))
        if self.status:
            conds.append(Proposal.state == self.status)
        if self.jenis:
            conds.append(Proposal.kind == self.jenis)
        return conds


# --- what is exported ----------------------------------------------------------------------

def _where(user: Any, filters: ExportFilters) -> list[sa.ColumnElement[bool]]:
    return [access.proposal_scope_clause(user),
            Proposal.state.in_(sorted(ops.FINAL_DOCUMENT_STATES)), *filters.conditions()]


def documents_statement(user: Any, filters: ExportFilters) -> sa.Select:
    """The agreement documents ``user`` may read that match ``filters``, by id."""
    return (sa.select(AgreementDocument)
            .join(Proposal, Proposal.id == AgreementDocument.proposal_id)
            .where(*_where(user, filters)).order_by(AgreementDocument.id))


def count_documents(user: Any, filters: ExportFilters) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AgreementDocument.id))
        .join(Proposal, Proposal.id == AgreementDocument.proposal_id)
        .where(*_where(user, filters))) or 0


def audit_statement(user: Any, filters: ExportFilters, last_document_id: int) -> sa.Select:
    """Every audit entry of the exported agreements (documents up to
    ``last_document_id``), as (entry, proposal ref, proposal title), in chain order."""
    return (sa.select(AuditEntry, Proposal.ref, Proposal.title)
            .join(Proposal, Proposal.id == AuditEntry.proposal_id)
            .join(AgreementDocument, AgreementDocument.proposal_id == Proposal.id)
            .where(*_where(user, filters), AgreementDocument.id <= last_document_id)
            .order_by(AuditEntry.id))


@dataclass
class ExportCounts:
    agreements: int = 0
    #: Final PDFs rendered (and stored) by this export.
    rendered: int = 0
    #: Final PDFs that could not be rendered: listed in the manifest without a file.
    failed: int = 0
    scans: int = 0
    #: Size of the ZIP.
    bytes: int = 0
    audit_entries: int = 0
    manifest_sha256: str = ""


@dataclass
class _Entry:
    """One agreement on its way into the ZIP: plain data, no ORM object kept."""

    id: int
    proposal_id: int
    ref: str
    code: str
    state: State
    enacted_on: dt.date
    enacted_place: str
    payload: dict[str, Any]
    file_id: int | None
    sha256: str | None
    scan_id: int | None
    #: Freshly rendered bytes (saves reading them back from the store).
    pdf: bytes | None = None
    job: R.RenderJob | None = None
    pending: Any = None
    render_error: str | None = None

    @property
    def name(self) -> str:
        return _UNSAFE_NAME.sub("_", f"{self.ref}-{self.code}")


class _Sink:
    """A write-only, non-seekable file for zipfile; the bundle drains it between writes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        #: Bytes written so far, and those not drained yet.
        self.total = 0
        self.buffered = 0

    def write(self, data: bytes) -> int:
        if data:
            self._parts.append(bytes(data))
            self.total += len(data)
            self.buffered += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.buffered = 0
        return data


def _cell(value: Any) -> str:
    """A CSV cell with spreadsheet formulas in user-typed text defused."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta")


# --- the bundle ----------------------------------------------------------------------------

class _Bundle:
    """One export: :meth:`chunks` yields the ZIP's bytes in order."""

    def __init__(self, user: Any, filters: ExportFilters, *, workers: int | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        access.require(user, Action.EXPORT, "agreement_document")
        # A User is looked up again by id when the bundle runs: a streamed response runs
        # after the view's session is gone.
        self.user_id = user.id if isinstance(user, User) else None
        self.system = None if isinstance(user, User) else user
        self.filters = filters
        config = current_app.config
        self.workers = int(config.get("RENDER_WORKERS", 2) if workers is None else workers)
        self.memory_mb = int(config.get("RENDER_MEMORY_MB", 0))
        self.timeout = float(config.get("RENDER_TIMEOUT", 60))
        self.window = max(2, min(MAX_WINDOW, 4 * self.workers))
        self.progress = progress
        self.counts = ExportCounts()
        self.sink = _Sink()
        self.last_document_id = 0
        self._uncommitted = 0
        self._moment = dt.datetime.now(_zone())

    # -- helpers ------------------------------------------------------------------------

    def _user(self) -> Any:
        if self.user_id is None:
            return self.system
        return db.session.get(User, self.user_id)

    def _drain(self) -> Iterator[bytes]:
        data = self.sink.drain()
        if data:
            yield data

    def _info(self, path: str, *, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, self._moment.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def _add(self, zf: zipfile.ZipFile, path: str, data: bytes, *,
             compress: bool = False) -> dict[str, Any]:
        zf.writestr(self._info(path, compress=compress), data)
        digest = hashlib.sha256(data).hexdigest()
        self._sums.write(f"{digest}  {path}\n".encode())
        return {"path": path, "sha256": digest, "size": len(data)}

    def _copy(self, zf: zipfile.ZipFile, path: str,
              source: IO[bytes]) -> Generator[bytes, None, str]:
        """Copy a spooled file into the ZIP in chunks; its SHA-256 goes to SHA256SUMS and
        is returned (``digest = yield from ...``)."""
        source.seek(0)
        digest = hashlib.sha256()
        with zf.open(self._info(path, compress=True), "w", force_zip64=True) as dest:
            while chunk := source.read(COPY_CHUNK):
                dest.write(chunk)
                digest.update(chunk)
                yield from self._drain()
        self._sums.write(f"{digest.hexdigest()}  {path}\n".encode())
        yield from self._drain()
        return digest.hexdigest()

    def _commit(self) -> None:
        if self._uncommitted:
            db.session.commit()
            self._uncommitted = 0

    # -- reading the agreements ---------------------------------------------------------

    def _entries(self, user: Any) -> Iterator[_Entry]:
        """The agreements in id order, read :data:`BATCH` at a time as plain columns (no
        ORM object stays behind in the session)."""
        d = AgreementDocument
        statement = documents_statement(user, self.filters).with_only_columns(
            d.id, d.proposal_id, Proposal.ref, d.code, Proposal.state, d.enacted_on,
            d.enacted_place, d.payload, d.file_id, d.sha256, d.scan_id)
        last = 0
        while True:
            batch = [_Entry(*row) for row in db.session.execute(
                statement.where(d.id > last).limit(BATCH))]
            if not batch:
                return
            last = batch[-1].id
            yield from batch

    # -- rendering what was never rendered ----------------------------------------------

    def _job(self, entry: _Entry) -> R.RenderJob:
        return ops.final_job(db.session.get(AgreementDocument, entry.id))

    def _store(self, entry: _Entry, pdf: bytes) -> None:
        document = db.session.get(AgreementDocument, entry.id)
        fresh = document.file_id is None
        stored = ops.store_final(document, pdf)
        entry.file_id, entry.sha256 = stored.id, stored.sha256
        # Someone else may have stored one meanwhile: theirs is the final document.
        entry.pdf = pdf if stored.sha256 == hashlib.sha256(pdf).hexdigest() else None
        if fresh:
            self.counts.rendered += 1
            self._uncommitted += 1
        if self._uncommitted >= COMMIT_EVERY:
            self._commit()

    def _failed(self, entry: _Entry, message: str) -> None:
        log.error("export: final PDF of %s failed: %s", entry.code, message)
        entry.render_error = message[:500]
        document = db.session.get(AgreementDocument, entry.id)
        document.render_error = entry.render_error
        self.counts.failed += 1
        self._uncommitted += 1

    def _render_here(self, entry: _Entry) -> None:
        try:
            pdf = R.render_now(self._job(entry))
        except R.RenderError as exc:
            self._failed(entry, str(exc))
        else:
            self._store(entry, pdf)

    def _collect(self, pool: R.RenderPool, entry: _Entry, ahead: deque[_Entry]) -> None:
        try:
            pdf = pool.wait(entry.pending, self.timeout)
        except R.RenderError as exc:
            if not entry.pending.ready():
                # Timed out: the pool was reset with every job in it; send the others again.
                for other in ahead:
                    if other.job is not None:
                        other.pending = pool.submit(other.job)
            self._failed(entry, str(exc))
        else:
            self._store(entry, pdf)
        finally:
            entry.job = entry.pending = None

    def _rendered(self, entries: Iterator[_Entry]) -> Iterator[_Entry]:
        """``entries`` in order, each with its final PDF stored (or its render error)."""
        if self.workers <= 0:
            for entry in entries:
                if entry.file_id is None:
                    self._render_here(entry)
                yield entry
            return
        pool = R.pool_for(self.workers, self.memory_mb)
        ahead: deque[_Entry] = deque()
        in_flight = 0
        source = iter(entries)
        exhausted = False
        while True:
            while not exhausted and in_flight < self.window and len(ahead) < BATCH:
                entry = next(source, None)
                if entry is None:
                    exhausted = True
                elif entry.file_id is None:
                    entry.job = self._job(entry)
                    entry.pending = pool.submit(entry.job)
                    in_flight += 1
                    ahead.append(entry)
                else:
                    ahead.append(entry)
            if not ahead:
                return
            entry = ahead.popleft()
            if entry.pending is not None:
                in_flight -= 1
                self._collect(pool, entry, ahead)
            yield entry

    # -- writing ------------------------------------------------------------------------

    def _file_bytes(self, file_id: int) -> tuple[str, bytes]:
        """Content type and bytes of a stored file, without keeping an ORM object."""
        from coopdesa.files import storage

        row = db.session.execute(sa.select(StoredFile.content_type, StoredFile.name,
                                           StoredFile.sha256, StoredFile.data)
                                 .where(StoredFile.id == file_id)).one()
        return row.content_type, storage.read(row)

    def _agreement(self, zf: zipfile.ZipFile, entry: _Entry) -> Iterator[bytes]:
        files: list[dict[str, Any]] = []
        if entry.file_id is not None:
            data = entry.pdf if entry.pdf is not None else self._file_bytes(entry.file_id)[1]
            entry.pdf = None
            files.append({"role": "final", **self._add(
                zf, f"agreements/{entry.name}.pdf", data)})
            del data
            yield from self._drain()
        if entry.scan_id is not None:
            content_type, data = self._file_bytes(entry.scan_id)
            extension = SCAN_EXTENSIONS.get(content_type, "bin")
            files.append({"role": "scan", **self._add(
                zf, f"scans/{entry.name}.{extension}", data)})
            del data
            self.counts.scans += 1
            yield from self._drain()
        for extra in EXTRA_FILES:
            for path, data, role in extra(entry.proposal_id, entry.name):
                files.append({"role": role, **self._add(zf, path, data)})
                del data
                yield from self._drain()
        self._manifest(entry, files)
        self.counts.agreements += 1
        self.last_document_id = entry.id
        if self.progress is not None:
            self.progress(1)

    def _manifest(self, entry: _Entry, files: list[dict[str, Any]]) -> None:
        row = manifest_row(entry, files)
        separator = b"[\n" if self.counts.agreements == 0 else b",\n"
        self._json.write(separator + json.dumps(row, ensure_ascii=False).encode())
        pdf = next((f for f in files if f["role"] == "final"), {})
        scan = next((f for f in files if f["role"] == "scan"), {})
        buffer = io.StringIO()
        csv.writer(buffer).writerow([_cell(v) for v in (
            row["ref"], row["code"], row["verify_url"], row["title"], row["kind"],
            row["state"], row["enacted_on"], row["enacted_place"], row["start"], row["end"],
            "; ".join(f"{n['party']}: {n['number'] or '-'}" for n in row["numbers"]),
            "; ".join(f"{p['name']} ({p['role']}"
                      + (f", {p['desa_code']}" if p["desa_code"] else "") + ")"
                      for p in row["parties"]),
            pdf.get("path"), pdf.get("sha256"), pdf.get("size"),
            scan.get("path"), scan.get("sha256"), scan.get("size"), row["render_error"],
            "; ".join(f"{f['path']} ({f['sha256']})" for f in files
                      if f["role"] not in ("final", "scan")))])
        self._csv.write(buffer.getvalue().encode())

    def _audit_rows(self, user: Any) -> Iterator[Any]:
        statement = audit_statement(user, self.filters, self.last_document_id)
        last = 0
        while True:
            rows = db.session.execute(
                statement.where(AuditEntry.id > last).limit(AUDIT_BATCH)).all()
            if not rows:
                return
            last = rows[-1][0].id
            self.counts.audit_entries += len(rows)
            yield from rows
            del rows  # released: the session keeps clean objects only weakly

    def _audit(self, zf: zipfile.ZipFile, user: Any) -> Iterator[bytes]:
        digest = hashlib.sha256()
        with zf.open(self._info("audit.csv", compress=True), "w", force_zip64=True) as dest:
            if self.last_document_id:
                for line in audit.csv_lines(self._audit_rows(user), with_proposal=True):
                    data = line.encode()
                    dest.write(data)
                    digest.update(data)
                    if self.sink.buffered > COPY_CHUNK:
                        yield from self._drain()
            else:
                data = next(audit.csv_lines([], with_proposal=True)).encode()
                dest.write(data)
                digest.update(data)
        self._sums.write(f"{digest.hexdigest()}  audit.csv\n".encode())
        yield from self._drain()

    def _readme(self, user: Any) -> bytes:
        return readme_text(
            moment=self._moment, who=getattr(user, "username", "?"),
            scope=str(getattr(user, "scope_label", "")), filters=self.filters,
            counts=self.counts).encode("utf-8")

    def _record(self, user: Any) -> None:
        counts = self.counts
        audit.record(
            "document.export", user=user, object_type="agreement_document",
            summary=_l("Ekspor %(n)d dokumen kerja sama (SHA-256 manifest.json %(sha)s)",
                       n=counts.agreements, sha=counts.manifest_sha256[:16]),
            after={"by": getattr(user, "username", None), "filters": self.filters.as_args(),
                   "agreements": counts.agreements, "rendered": counts.rendered,
                   "failed": counts.failed, "scans": counts.scans,
                   "audit_entries": counts.audit_entries,
                   "manifest_sha256": counts.manifest_sha256})
        db.session.commit()

    def chunks(self) -> Iterator[bytes]:
        """The ZIP, in pieces of at most a few hundred KiB (one PDF), in order."""
        user = self._user()
        self._json = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115
        self._csv = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115
        self._sums = tempfile.SpooledTemporaryFile(SPOOL_BYTES)  # noqa: SIM115
        try:
            header = io.StringIO()
            csv.writer(header).writerow(MANIFEST_CSV_COLUMNS)
            self._csv.write(header.getvalue().encode())
            zf = zipfile.ZipFile(self.sink, "w")  # noqa: SIM115 (closed only on success)
            for entry in self._rendered(self._entries(user)):
                yield from self._agreement(zf, entry)
            self._commit()
            self._json.write(b"[\n]\n" if self.counts.agreements == 0 else b"\n]\n")
            yield from self._copy(zf, "manifest.csv", self._csv)
            self.counts.manifest_sha256 = yield from self._copy(zf, "manifest.json", self._json)
            yield from self._audit(zf, user)
            user = self._user()
            readme = self._readme(user)
            self._sums.write(f"{hashlib.sha256(readme).hexdigest()}  README.txt\n".encode())
            zf.writestr(self._info("README.txt", compress=True), readme)
            yield from self._drain()
            self._sums.seek(0)
            zf.writestr(self._info("SHA256SUMS", compress=True), self._sums.read())
            zf.close()
            self.counts.bytes = self.sink.total
            # Recorded before the last bytes (the central directory) go out: every usable
            # ZIP has its entry in the trail.
            self._record(user)
            yield from self._drain()
        except GeneratorExit:
            self._commit()  # keep what was rendered before the client went away
            raise
        except Exception as exc:
            # Failed mid-way: the bytes sent so far lack the central directory, so no
            # reader takes them for a complete ZIP; the error goes on (a streamed download
            # is cut off, the CLI removes its file) and is logged and noted in the trail.
            self.note_failure(exc)
            raise
        finally:
            for spool in (self._json, self._csv, self._sums):
                spool.close()

    def note_failure(self, exc: BaseException) -> None:
        """Log an export that failed mid-way and note it in the audit trail (once)."""
        if getattr(self, "_failure_noted", False):
            return
        self._failure_noted = True
        reason = f"{type(exc).__name__}: {exc}"[:300]
        log.error("export failed after %d agreements (%d bytes): %s",
                  self.counts.agreements, self.sink.total, reason)
        try:
            db.session.rollback()
            user = self._user()
            audit.record(
                "document.export.failed", user=user, object_type="agreement_document",
                summary=_l("Ekspor gagal setelah %(n)d dokumen; berkas ZIP tidak lengkap dan "
                           "tidak boleh dipakai (%(reason)s)", n=self.counts.agreements,
                           reason=reason[:120]),
                after={"by": getattr(user, "username", None),
                       "filters": self.filters.as_args(),
                       "agreements": self.counts.agreements, "bytes": self.sink.total,
                       "error": reason})
            db.session.commit()
        except Exception:  # the database itself may be what failed
            log.exception("export failure could not be noted in the audit trail")
            db.session.rollback()


def manifest_row(entry: _Entry, files: list[dict[str, Any]]) -> dict[str, Any]:
    """One agreement in manifest.json: as signed (the frozen payload) and its state now."""
    data = entry.payload
    document = data.get("document") or {}
    parties = data.get("parties") or []
    period = data.get("period") or {}
    return {
        "ref": entry.ref,
        "code": entry.code,
        "verify_url": document.get("verify_url") or ops.verify_url(entry.code),
        "title": data.get("title"),
        "kind": data.get("kind"),
        "kind_label": data.get("kind_label"),
        "state": entry.state.value,
        "numbers": [{"party": p.get("name"), "number": p.get("number")} for p in parties],
        "parties": [{"position": p.get("position"), "role": p.get("role"),
                     "name": p.get("name"), "desa_code": p.get("desa_code"),
                     "number": p.get("number")} for p in parties],
        "enacted_on": entry.enacted_on.isoformat(),
        "enacted_place": entry.enacted_place,
        "start": period.get("start"),
        "end": period.get("end"),
        "registered_sha256": entry.sha256,
        "files": [{"path": f["path"], "role": f["role"], "sha256": f["sha256"],
                   "size": f["size"]} for f in files],
        "render_error": entry.render_error,
    }


def readme_text(*, moment: dt.datetime, who: str, scope: str, filters: ExportFilters,
                counts: ExportCounts) -> str:
    """README.txt: what each file is and how to check it, in Indonesian."""
    with force_locale("id"):
        failed = (f"\nPERHATIAN: {counts.failed} PDF final belum dapat dibuat; kerja sama itu "
                  "tercantum di manifest tanpa berkas (kolom render_error).\n"
                  if counts.failed else "")
        return README.format(
            moment=f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".strip(), who=who,
            scope=scope or "-", filters=filters.describe(), agreements=counts.agreements,
            pdfs=counts.agreements - counts.failed, scans=counts.scans,
            audit_entries=counts.audit_entries, failed=failed)


README = """\
EKSPOR DOKUMEN KERJA SAMA DESA (coopdesa)
=========================================

Dibuat      : {moment}
Oleh        : {who} ({scope})
Saringan    : {filters}
Isi         : {agreements} kerja sama, {pdfs} PDF final, {scans} pindaian,
              {audit_entries} entri jejak audit
{failed}
Dasar hukum: UU 6/2014 Pasal 91-93; PP 43/2014 Pasal 143-148 (isi, penandatanganan,
pelaksanaan, perubahan, berakhirnya kerja sama dan penyelesaian perselisihan);
Permendagri 96/2017 (Peraturan Bersama Kepala Desa dan perjanjian bersama).

ISI BERKAS
----------
agreements/<nomor>-<kode>.pdf
    Naskah final setiap kerja sama (PDF/A-3b), persis seperti tersimpan di coopdesa sejak
    ditandatangani. <nomor> adalah nomor usulan (mis. KSD-2026-00042), <kode> kode
    verifikasi yang tercetak pada naskah beserta kode QR-nya. Isi naskah juga terlampir
    di dalam PDF sebagai agreement.json.
scans/<nomor>-<kode>.pdf|png|jpg
    Pindaian naskah bertanda tangan basah, bila sudah dilampirkan.
reports/<nomor>-<kode>-laporan-<awal periode>.pdf
    Laporan pelaksanaan kerja sama per periode (Permendagri 96/2017, pelaporan), persis
    seperti tersimpan sejak disampaikan; tercantum di manifest dengan role "report" dan
    di kolom other_files manifest.csv.
manifest.csv, manifest.json
    Satu baris/objek per kerja sama: nomor usulan, kode dan alamat verifikasi, nomor
    dokumen setiap pihak, judul, jenis (antar_desa atau pihak_ketiga), status saat
    ekspor (signed = ditandatangani, active = berlaku, ended = berakhir), para pihak
    (peran, nama, kode desa), tanggal dan tempat penetapan, awal dan akhir jangka waktu,
    serta path, ukuran dan SHA-256 setiap berkas. registered_sha256 adalah SHA-256 PDF
    final yang tercatat di coopdesa; harus sama dengan sha256 berkas agreements/.
audit.csv
    Petikan jejak audit: semua entri tentang kerja sama di atas, urut menurut nomor entri.
    Setiap entri memuat hash-nya dan hash entri sebelumnya dalam rantai SHA-256 coopdesa
    (entri di antaranya yang menyangkut usulan lain tidak ikut diekspor).
SHA256SUMS
    SHA-256 setiap berkas di atas dan README.txt ini.

MEMERIKSA KEUTUHAN
------------------
1. Ekstrak ZIP ini, masuk ke foldernya, lalu jalankan:
       sha256sum -c SHA256SUMS
   Setiap baris harus berakhir "OK" (di Windows PowerShell:
   Get-FileHash -Algorithm SHA256 <berkas>, lalu bandingkan dengan SHA256SUMS).
2. Keaslian setiap PDF dapat diperiksa tanpa ZIP ini: buka alamat verify_url di manifest
   (atau pindai kode QR pada naskah) dan unggah PDF-nya; coopdesa mencocokkannya dengan
   SHA-256 yang tercatat.
3. Ekspor ini tercatat di jejak audit coopdesa sebagai entri "document.export" yang
   memuat saringan, jumlah kerja sama dan SHA-256 manifest.json (lihat SHA256SUMS):
   manifest yang diubah tidak lagi cocok dengan catatan itu.
"""


# --- entry points --------------------------------------------------------------------------

def export(user: Any, filters: ExportFilters, sink: IO[bytes], *,
           progress: Callable[[int], None] | None = None,
           workers: int | None = None) -> ExportCounts:
    """Write the bundle to ``sink`` (any binary file); ``progress(1)`` after each
    agreement. Raises AccessDenied unless ``user`` may export."""
    bundle = _Bundle(user, filters, workers=workers, progress=progress)
    chunks = bundle.chunks()
    try:
        for chunk in chunks:
            sink.write(chunk)
    except Exception as exc:  # the sink failed (disk full), or the bundle did (noted)
        chunks.close()
        bundle.note_failure(exc)
        raise
    return bundle.counts


def stream(user: Any, filters: ExportFilters, *,
           workers: int | None = None) -> Iterator[bytes]:
    """The bundle as byte chunks for a streamed response. Access is checked now, before
    the first byte; the rest runs as the response is read."""
    return _Bundle(user, filters, workers=workers).chunks()


@dataclass
class ExportPage:
    """What the export form shows: the choices and how many agreements match."""

    kecamatan: list[Region] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    count: int = 0


def page_data(user: Any, filters: ExportFilters) -> ExportPage:
    """Kecamatan within the auditor's jurisdiction (or the chosen wilayah), the years in
    which agreements in scope were enacted, and the count of matching agreements."""
    prefix = filters.wilayah or getattr(user, "jurisdiction_code", None)
    kecamatan: list[Region] = []
    if prefix and len(prefix.split(".")) <= 3:
        kecamatan = list(db.session.scalars(
            sa.select(Region).where(Region.level == 3, code_within(Region.code, prefix))
            .order_by(Region.name).limit(1000)))
    low, high = db.session.execute(
        sa.select(sa.func.min(AgreementDocument.enacted_on),
                  sa.func.max(AgreementDocument.enacted_on))
        .join(Proposal, Proposal.id == AgreementDocument.proposal_id)
        .where(*_where(user, ExportFilters()))).one()
    years = list(range(high.year, low.year - 1, -1)) if low and high else []
    return ExportPage(kecamatan=kecamatan, years=years,
                      count=count_documents(user, filters))

