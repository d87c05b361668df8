"""In-app notifications for lifecycle events and reminders (e-mail when SMTP is set)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app

from coopdesa.accounts.models import Role, User
from coopdesa.db import utcnow
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals.models import Kind, Notification, Proposal
from coopdesa.proposals.states import State

log = logging.getLogger(__name__)

# Messages are stored, so they are written in Indonesian, the users' first language.
_TRANSITION_MESSAGES = {
    "submit": "Usulan {ref} \u201c{title}\u201d diajukan dan menunggu telaah.",
    "start_review": "Usulan {ref} \u201c{title}\u201d sedang ditelaah.",
    "request_changes": "Usulan {ref} \u201c{title}\u201d perlu diperbaiki; lihat poin telaah.",
    "approve": "Usulan {ref} \u201c{title}\u201d disetujui untuk dimusyawarahkan.",
    "reject": "Usulan {ref} \u201c{title}\u201d ditolak.",
    "agree": "Usulan {ref} \u201c{title}\u201d telah disepakati.",
    "sign": "Kerja sama {ref} \u201c{title}\u201d telah ditandatangani.",
    "activate": "Kerja sama {ref} \u201c{title}\u201d mulai berlaku.",
    "end": "Kerja sama {ref} \u201c{title}\u201d telah berakhir.",
    "withdraw": "Usulan {ref} \u201c{title}\u201d ditarik oleh penyusunnya.",
    "postpone": "Pelaksanaan kerja sama {ref} \u201c{title}\u201d ditunda.",
    "resume": "Pelaksanaan kerja sama {ref} \u201c{title}\u201d dilanjutkan.",
    "deliberation_reject": "Usulan {ref} \u201c{title}\u201d ditolak dalam musyawarah.",
    "deliberation_changes": "Usulan {ref} \u201c{title}\u201d disepakati musyawarah dengan "
                            "perubahan; perbaiki lalu ajukan kembali.",
}


def authors(proposal: Proposal) -> list[User]:
    codes = proposal.desa_codes
    if not codes:
        return []
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role.SEKRETARIS, User.desa_code.in_(codes),
                              User.is_active_account.is_(True))))


def reviewers(proposal: Proposal) -> list[User]:
    if proposal.kind == Kind.ANTAR_DESA:
        if proposal.bkad_id is None:
            return []
        return list(db.session.scalars(
            sa.select(User).where(User.role == Role.BKAD, User.bkad_id == proposal.bkad_id,
                                  User.is_active_account.is_(True))))
    role = current_app.config.get("THIRD_PARTY_REVIEWER_ROLE", "ketua_bpd")
    codes = proposal.desa_codes
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role(role), User.desa_code.in_(codes),
                              User.is_active_account.is_(True))))


def _notify(users: list[User], key: str, proposal: Proposal | None, message: str) -> int:
    """Create one notice per user unless that user already has one with ``key``."""
    if not users:
        return 0
    ids = {u.id for u in users}
    have = set(db.session.scalars(
        sa.select(Notification.user_id).where(Notification.key == key,
                                              Notification.user_id.in_(ids))))
    created = 0
    for user_id in sorted(ids - have):
        db.session.add(Notification(user_id=user_id, key=key[:120], message=message[:500],
                                    proposal_id=proposal.id if proposal else None))
        created += 1
    return created


def notify_transition(proposal: Proposal, name: str, by: User | None) -> None:
    if name == "submit":
        targets = reviewers(proposal)
    elif name in ("start_review", "request_changes", "approve", "reject"):
        targets = authors(proposal)
    else:
        targets = authors(proposal) + reviewers(proposal)
    targets = [u for u in targets if by is None or u.id != by.id]
    message = _TRANSITION_MESSAGES[name].format(ref=proposal.ref, title=proposal.title)
    _notify(targets, f"t:{proposal.id}:{name}:{proposal.version}", proposal, message)


def awaiting_states_for(user: User) -> tuple[State, ...]:
    if user.role == Role.SEKRETARIS:
        return (State.DRAFT, State.CHANGES_REQUESTED, State.AWAITING_DELIBERATION)
    if user.role in (Role.BKAD, Role.KETUA_BPD, Role.KEPALA_DESA):
        return (State.SUBMITTED, State.IN_REVIEW)
    return ()


#: Other areas (reports, lifecycle, ...) add their reminders with :func:`remind_hook`: a
#: function (today) -> {name: count} that creates notices through :func:`notify` and is
#: idempotent like everything else here.
REMIND_HOOKS: list = []


def remind_hook(fn):
    REMIND_HOOKS.append(fn)
    return fn


def notify(users: list[User], key: str, proposal: Proposal | None, message: str) -> int:
    """Create one notice per user unless one with ``key`` exists; returns how many."""
    return _notify(users, key, proposal, message)


def remind(today: dt.date | None = None) -> dict[str, int]:
    """Notices for what awaits action and for agreements ending within 90 and 30 days.
    Idempotent: a second run the same day (or any later day) creates nothing twice."""
    from coopdesa.proposals.queries import awaiting_action_query

    today = today or local_today()
    counts = {"awaiting": 0, "ending": 0, "emailed": 0}
    users = db.session.scalars(sa.select(User).where(User.is_active_account.is_(True))).all()
    for user in users:
        for proposal in db.session.scalars(awaiting_action_query(user).limit(200)):
            counts["awaiting"] += _notify(
                [user], f"a:{proposal.id}:{proposal.state.value}:{proposal.version}", proposal,
                f"Menunggu tindakan Anda: {proposal.ref} \u201c{proposal.title}\u201d "
                f"({proposal.state.label}).")
    from coopdesa.proposals.operations import effective_end_clause

    end = effective_end_clause()  # the term as the latest addendum in force sets it
    for days, after in ((90, 30), (30, -1)):
        # One notice per window: an agreement already within 30 days gets only that one.
        ending = db.session.execute(
            sa.select(Proposal, end).where(Proposal.state == State.ACTIVE,
                                           Proposal.amends_id.is_(None),
                                           end > today + dt.timedelta(days=after),
                                           end <= today + dt.timedelta(days=days))
        ).all()
        for proposal, term_end in ending:
            # A term changed by an addendum is a new ending, and gets its own notice.
            key = f"e{days}:{proposal.id}" + (
                "" if term_end == proposal.end_date else f":{term_end.isoformat()}")
            counts["ending"] += _notify(
                authors(proposal) + reviewers(proposal), key, proposal,
                f"Kerja sama {proposal.ref} \u201c{proposal.title}\u201d berakhir pada "
                f"{term_end.isoformat()} (dalam {days} hari atau kurang).")
    for hook in REMIND_HOOKS:
        for name, n in hook(today).items():
            counts[name] = counts.get(name, 0) + n
    db.session.flush()
    if current_app.config.get("SMTP_HOST"):
        counts["emailed"] = send_pending_email()
    return counts


def send_pending_email(limit: int = 500) -> int:
    """E-mail notices not yet sent to users with an address; marks them as sent."""
    config = current_app.config
    pending = db.session.execute(
        sa.select(Notification, User).join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None), User.email.is_not(None))
        .order_by(Notification.id).limit(limit)
    ).all()
    if not pending:
        return 0
    sent = 0
    with smtplib.SMTP(config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587),
                      timeout=20) as smtp:
        if config.get("SMTP_STARTTLS", True):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        for notice, user in pending:
            message = EmailMessage()
            message["From"] = config.get("SMTP_FROM") or "coopdesa@localhost"
            message["To"] = user.email
            message["Subject"] = "[coopdesa] " + notice.message[:120]
            message.set_content(notice.message)
            try:
                smtp.send_message(message)
            except smtplib.SMTPException:
                log.exception("could not e-mail notification %s", notice.id)
                continue
            notice.emailed_at = utcnow()
            sent += 1
    return sent


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one of ``user``'s notices (or all unread ones) as read; returns how many.
    Another user's notice is left alone, as if it did not exist."""
    stmt = (sa.update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow()))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt).rowcount or 0
