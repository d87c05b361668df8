"""Reminders go out by e-mail when SMTP is configured, once per notice, and stay in the app
when it is not."""

from __future__ import annotations

import smtplib

import pytest
import sqlalchemy as sa

from coopdesa.extensions import db
from coopdesa.proposals.models import Notification
from coopdesa.proposals.notifications import remind, send_pending_email
from tests import proposal_helpers as H


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would have been sent."""

    sent: list = []
    fail_for: set[str] = set()

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port
        self.started_tls = False
        self.logged_in = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.started_tls = True

    def login(self, user, password):
        self.logged_in = (user, password)

    def send_message(self, message):
        if message["To"] in self.fail_for:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        FakeSMTP.sent.append((self.host, self.port, self.started_tls, self.logged_in,
                              message["To"], message["Subject"], message.get_content()))


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.sent = []
    FakeSMTP.fail_for = set()
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.desa.test")
    monkeypatch.setitem(app.config, "SMTP_PORT", 2525)
    monkeypatch.setitem(app.config, "SMTP_USER", "coopdesa")
    monkeypatch.setitem(app.config, "SMTP_PASSWORD", "rahasia")
    return FakeSMTP


def test_reminders_are_emailed_once_to_users_with_an_address(app, smtp):
    scenario = H.antar_desa(submit=True, title="Air bersih")
    reviewer = scenario["bkad"]
    reviewer.email = "bkad@desa.test"
    db.session.execute(sa.delete(Notification))
    db.session.commit()

    counts = remind()
    db.session.commit()
    assert counts["emailed"] == 1
    host, port, tls, login, to, subject, body = smtp.sent[0]
    assert (host, port, tls, login, to) == ("mail.desa.test", 2525, True,
                                            ("coopdesa", "rahasia"), "bkad@desa.test")
    assert "Air bersih" in subject and scenario.proposal.ref in body
    notice = db.session.scalar(sa.select(Notification).where(
        Notification.user_id == reviewer.id))
    assert notice.emailed_at is not None

    assert remind()["emailed"] == 0  # nothing new, nothing sent twice
    assert len(smtp.sent) == 1


def test_a_refused_recipient_is_retried_later_not_lost(app, smtp):
    scenario = H.antar_desa(submit=True)
    reviewer = scenario["bkad"]
    reviewer.email = "salah@desa.test"
    db.session.execute(sa.delete(Notification))
    db.session.commit()
    smtp.fail_for = {"salah@desa.test"}
    assert remind()["emailed"] == 0
    db.session.commit()
    notice = db.session.scalar(sa.select(Notification).where(
        Notification.user_id == reviewer.id))
    assert notice.emailed_at is None
    smtp.fail_for = set()
    assert send_pending_email() == 1


def test_without_smtp_notices_stay_in_the_app(app, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no SMTP connection without SMTP_HOST")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    H.antar_desa(submit=True)
    db.session.execute(sa.delete(Notification))
    db.session.commit()
    counts = remind()
    assert counts["awaiting"] >= 1 and counts["emailed"] == 0
