"""Builders for the documents tests: proposals brought to ``agreed`` through the real
musyawarah and sustainability records, and signed by every party."""

from __future__ import annotations

from typing import Any

from coopdesa.documents import operations as docs
from coopdesa.extensions import db
from coopdesa.i18n import local_today
from coopdesa.proposals import operations as ops
from coopdesa.sustainability import operations as sust
from tests import proposal_helpers as H
from tests.conftest import DIENG
from tests.test_deliberations import agree_all, decide, desa_meeting, quorate


def _assess(s: H.Scenario) -> None:
    proposal = s.reload()
    answers = {c.code: {"score": 3, "evidence": "Bukti lapangan."}
               for c in sust.applicable_criteria(proposal)}
    sust.create_assessment(proposal, s.author, answers, "Penilai Desa", "Sekretaris Desa")
    db.session.commit()


def agreed_antar_desa(**kw) -> H.Scenario:
    """Dieng and Sembungan: reviewed, both Musyawarah Desa and the musyawarah antar-Desa
    agreed, assessed, and moved to ``agreed``."""
    s = H.antar_desa(submit=True, **kw)
    ops.transition(s.proposal, s["bkad"], "start_review")
    ops.transition(s.proposal, s["bkad"], "approve")
    db.session.commit()
    agree_all(s)
    _assess(s)
    ops.transition(s.reload(), s.author, "agree")
    db.session.commit()
    return s


def agreed_pihak_ketiga(**kw) -> H.Scenario:
    """Dieng and CV Prau Lestari, reviewed by the Ketua BPD, agreed in Musyawarah Desa."""
    s = H.pihak_ketiga(submit=True, **kw)
    ops.transition(s.proposal, s["ketua_bpd"], "start_review")
    ops.transition(s.proposal, s["ketua_bpd"], "approve")
    db.session.commit()
    sek = s[f"sek:{DIENG}"]
    decide(quorate(desa_meeting(s, DIENG), sek), sek)
    _assess(s)
    ops.transition(s.reload(), s.author, "agree")
    db.session.commit()
    return s


def signature_data(number: str, **extra: Any) -> dict[str, Any]:
    return {"number": number, "signed_on": local_today().isoformat(),
            "place": "Dieng Kulon", "method": "basah", **extra}


def sign_all(s: H.Scenario, *, paper: str = "f4", prefix: str = "") -> None:
    """Every party signs, each recorded by its own village's secretary (a third party by
    the author); numbers are ``prefix`` + 1, 2, ... (unique per village and year)."""
    proposal = s.reload()
    for index, party in enumerate(list(proposal.parties), start=1):
        user = s[f"sek:{party.desa_code}"] if party.desa_code else s.author
        docs.record_signature(s.reload(), user, party.id,
                              signature_data(f"{prefix}{index}", paper=paper))
        db.session.commit()


def active_agreement(kind: str = "antar_desa", *, prefix: str = "", **kw) -> H.Scenario:
    """An agreement signed by every party and in force (state ``active``), with its final
    document stored; ``kind`` is "antar_desa" (Dieng and Sembungan, reviewed by their BKAD)
    or "pihak_ketiga" (Dieng and CV Prau Lestari)."""
    from coopdesa.proposals.states import State

    s = agreed_antar_desa(**kw) if kind == "antar_desa" else agreed_pihak_ketiga(**kw)
    sign_all(s, prefix=prefix)
    proposal = s.reload()
    if proposal.state == State.SIGNED:
        ops.transition(proposal, None, "activate")
        db.session.commit()
    assert s.reload().state == State.ACTIVE
    return s
