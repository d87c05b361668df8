"""The job kinds, and :func:`run_job`, which both backends call with a job id.

A task runs in an app context of the process it runs in (the RQ worker's app, or one made
with create_app() in a pool process from the submitting app's settings), loads its owner
by id and works in units it commits one by one (a stored final PDF, a kabupaten's network
result, the export's own commits); the job's result file is stored with its success.

- ``export``: the auditor's ZIP (coopdesa.documents.export) into a temporary file, stored
  as the job's result at the end; progress per agreement.
- ``render``: the final PDFs of signed agreements never rendered (in a region, or all the
  owner may read); a failed render is noted on its document, as when signing.
- ``network``: coopdesa.network.store.compute_all for a provinsi/kabupaten or the country.
- ``remind``: what ``flask coopdesa remind`` does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask_babel import gettext as _

from coopdesa.accounts.models import User
from coopdesa.errors import DomainError
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.jobs import operations as ops
from coopdesa.jobs.models import Job, JobKind

log = logging.getLogger(__name__)


class TaskFailed(DomainError):
    """A task ends failed with this message (what it finished before stays)."""


@dataclass
class Outcome:
    message: str
    #: (file object or bytes, download name, content type) of the result, if any.
    result: tuple[Any, str, str] | None = None
    done: int | None = None

    def close(self) -> None:
        if self.result is not None and hasattr(self.result[0], "close"):
            self.result[0].close()


# --- the kinds -----------------------------------------------------------------------------

def export_task(owner: User | None, params: dict[str, Any], progress: ops.Progress) -> Outcome:
    from coopdesa.documents import export as X

    user = owner if owner is not None else X.SYSTEM
    filters = X.ExportFilters.parse(params, user)
    progress.set_total(X.count_documents(user, filters))
    spool = tempfile.TemporaryFile(prefix="coopdesa-export-", suffix=".zip")  # noqa: SIM115
    try:
        counts = X.export(user, filters, spool, progress=progress.advance)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    message = _("Ekspor selesai: %(n)d kerja sama, %(rendered)d PDF final dibuat sekarang, "
                "%(failed)d gagal dibuat, %(scans)d pindaian; %(size)s KB.",
                n=counts.agreements, rendered=counts.rendered, failed=counts.failed,
                scans=counts.scans, size=f"{counts.bytes / 1024:,.0f}".replace(",", "."))
    name = f"coopdesa-ekspor-{local_today().isoformat()}.zip"
    return Outcome(message, result=(spool, name, "application/zip"), done=counts.agreements)


def render_task(owner: User | None, params: dict[str, Any], progress: ops.Progress) -> Outcome:
    from coopdesa import access
    from coopdesa.documents import export as X
    from coopdesa.documents import operations as docs
    from coopdesa.documents.models import AgreementDocument
    from coopdesa.proposals.models import Proposal

    user = owner if owner is not None else X.SYSTEM
    scope = params.get("scope")
    stmt = (sa.select(AgreementDocument.id)
            .join(Proposal, Proposal.id == AgreementDocument.proposal_id)
            .where(AgreementDocument.file_id.is_(None),
                   Proposal.state.in_(sorted(docs.FINAL_DOCUMENT_STATES)),
                   access.proposal_scope_clause(user))
            .order_by(AgreementDocument.id))
    if scope:
        stmt = stmt.where(X._in_region(scope))
    ids = list(db.session.scalars(stmt))
    progress.set_total(len(ids))
    rendered = failed = 0
    for i, document_id in enumerate(ids, 1):
        document = db.session.get(AgreementDocument, document_id)
        if document.file_id is None:
            if docs.try_render(document) is None:
                rendered += 1
            else:
                failed += 1
        db.session.commit()  # each stored PDF (or its noted error) is a whole unit
        progress(i)
    return Outcome(_("PDF final dibuat: %(rendered)d; gagal dibuat: %(failed)d (alasannya "
                     "tercatat pada dokumennya; coba lagi nanti).", rendered=rendered,
                     failed=failed), done=len(ids))


def network_task(owner: User | None, params: dict[str, Any],
                 progress: ops.Progress) -> Outcome:
    from coopdesa.network import store

    result = store.compute_all(prefix=params.get("scope"),
                               only_stale=bool(params.get("stale_only")), progress=progress)
    db.session.commit()
    return Outcome(_("Jaringan dihitung: %(kab)d kabupaten/kota, %(n)d kerja sama, dalam "
                     "%(s)s detik.", kab=result["kabupaten"], n=result["agreements"],
                     s=result["total_s"]), done=int(result["kabupaten"]))


def remind_task(owner: User | None, params: dict[str, Any], progress: ops.Progress) -> Outcome:
    from coopdesa.proposals.notifications import remind

    today = dt.date.fromisoformat(params["today"]) if params.get("today") else None
    progress.set_total(1)
    try:
        counts = remind(today)
    except OSError as exc:
        # SMTP unreachable: keep the notices (as the command does); e-mail goes next time.
        db.session.commit()
        raise TaskFailed(_("Pemberitahuan dibuat, tetapi surel tidak dapat dikirim "
                           "(%(error)s); surel dikirim pada pengingat berikutnya.",
                           error=type(exc).__name__)) from exc
    db.session.commit()
    return Outcome(_("Pemberitahuan dibuat: %(awaiting)d menunggu tindakan, %(ending)d kerja "
                     "sama segera berakhir; surel terkirim: %(emailed)d.",
                     awaiting=counts["awaiting"], ending=counts["ending"],
                     emailed=counts["emailed"]), done=1)


TASKS: dict[JobKind, Callable[[User | None, dict[str, Any], ops.Progress], Outcome]] = {
    JobKind.EXPORT: export_task,
    JobKind.RENDER: render_task,
    JobKind.NETWORK: network_task,
    JobKind.REMIND: remind_task,
}


# --- running one job -----------------------------------------------------------------------

_APPS: dict[str, Flask] = {}


def _app(config: dict[str, Any] | None) -> Flask:
    """The app of a pool process (made once per set of settings)."""
    key = json.dumps(config or {}, sort_keys=True, default=str)
    if key not in _APPS:
        from coopdesa import create_app

        _APPS[key] = create_app(config)
    return _APPS[key]


def run_job(job_id: int, config: dict[str, Any] | None = None) -> str:
    """Run job ``job_id`` if it is still queued; returns its final state. Called by the RQ
    worker (in its app context) and in the local pool (``config``: the submitting app's
    settings, for create_app)."""
    if config is None and has_app_context():
        app = current_app._get_current_object()
    else:
        app = _app(config)
    with app.app_context():  # a fresh context: a session of its own
        return execute(job_id)


def execute(job_id: int) -> str:
    if not ops.claim(job_id):
        log.info("job %s is no longer queued; not run again", job_id)
        return "skipped"
    job = db.session.get(Job, job_id)
    kind, params, owner_id = job.kind, dict(job.params or {}), job.owner_id
    owner = db.session.get(User, owner_id) if owner_id is not None else None
    progress = ops.Progress(job_id)
    outcome: Outcome | None = None
    try:
        outcome = TASKS[kind](owner, params, progress)
        finished = ops.finish(job_id, outcome.message, result=outcome.result,
                              done=outcome.done)
        return "succeeded" if finished else "discarded"
    except BaseException as exc:
        if not isinstance(exc, DomainError):
            log.exception("job %s (%s) failed", job_id, kind.value)
        ops.fail(job_id, ops.failure_message(exc))
        if not isinstance(exc, Exception):
            raise
        return "failed"
    finally:
        if outcome is not None:
            outcome.close()
