"""The admin page for quorum rules: an admin changes a ratio with a clear refusal for a
bad one; everyone else may read it but not change it."""

from __future__ import annotations

import sqlalchemy as sa

from coopdesa.accounts.models import Role
from coopdesa.deliberations.models import MeetingKind, QuorumRule
from coopdesa.extensions import db
from tests.factories import AdminFactory, UserFactory


def _rule(kind: MeetingKind) -> QuorumRule:
    db.session.expire_all()
    return db.session.scalar(sa.select(QuorumRule).where(QuorumRule.meeting_kind == kind))


def _restore():
    db.session.rollback()
    db.session.execute(sa.update(QuorumRule).values(numerator=2, denominator=3))
    db.session.commit()


def test_admin_changes_a_ratio_and_bad_input_is_refused_and_kept(app, login):
    client = login(AdminFactory())
    try:
        page = client.get("/musyawarah/kuorum")
        assert page.status_code == 200 and "2/3" in page.get_data(as_text=True)
        kind = MeetingKind.MUSYAWARAH_DESA.value
        bad = client.post("/musyawarah/kuorum", data={
            "kind": kind, f"{kind}-numerator": "4", f"{kind}-denominator": "3",
            f"{kind}-basis": "Perdes Dieng 2027"})
        text = bad.get_data(as_text=True)
        assert bad.status_code == 200 and "Pembilang tidak boleh lebih besar" in text
        assert "Perdes Dieng 2027" in text  # what the admin typed stays
        assert (_rule(MeetingKind.MUSYAWARAH_DESA).numerator, 3) == (2, 3)
        good = client.post("/musyawarah/kuorum", data={
            "kind": kind, f"{kind}-numerator": "1", f"{kind}-denominator": "2",
            f"{kind}-basis": "Perdes Dieng 2027"})
        assert good.status_code == 302
        rule = _rule(MeetingKind.MUSYAWARAH_DESA)
        assert (rule.numerator, rule.denominator, rule.basis) == (1, 2, "Perdes Dieng 2027")
        other = _rule(MeetingKind.MUSYAWARAH_ANTAR_DESA)
        assert (other.numerator, other.denominator) == (2, 3)
    finally:
        _restore()


def test_others_read_but_cannot_change(app, login):
    client = login(UserFactory(role=Role.SEKRETARIS))
    page = client.get("/musyawarah/kuorum")
    assert page.status_code == 200
    assert "Simpan aturan" not in page.get_data(as_text=True)
    kind = MeetingKind.MUSYAWARAH_DESA.value
    refused = client.post("/musyawarah/kuorum", data={
        "kind": kind, f"{kind}-numerator": "1", f"{kind}-denominator": "2"})
    assert refused.status_code == 403
    rule = _rule(MeetingKind.MUSYAWARAH_DESA)
    assert (rule.numerator, rule.denominator) == (2, 3)
