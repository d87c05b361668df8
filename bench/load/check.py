"""After the load run: every write the server acknowledged is in the database exactly once,
and nothing else was written for those objects but requests cut off at the end.

    DATABASE_URL=... python -m bench.load.check data.json acks.json [acks2.json ...]

Exit 1 on a lost or duplicated write (or a race with two winners).
"""

from __future__ import annotations

import collections
import json
import re
import sys

import sqlalchemy as sa

from coopdesa import create_app
from coopdesa.audit.models import AuditEntry
from coopdesa.extensions import db
from coopdesa.proposals.models import Proposal, ProposalComment
from coopdesa.proposals.states import State

TOKEN = re.compile(r"Tujuan ([0-9a-f]{32})")


def _merge(paths: list[str]) -> dict:
    """The acknowledgements of several runs on the same database (warm-up, measured run)."""
    merged: dict = {"acks": collections.defaultdict(list), "conflicts": collections.Counter(),
                    "status": collections.Counter()}
    for path in paths:
        result = json.load(open(path))  # noqa: SIM115
        for kind, records in result["acks"].items():
            merged["acks"][kind] += records
        merged["conflicts"].update(result["conflicts"])
        merged["status"].update(result["status"])
    return merged


def main(data_path: str, *acks_paths: str) -> int:
    data = json.load(open(data_path))  # noqa: SIM115
    result = _merge(list(acks_paths))
    acks = result["acks"]
    problems: list[str] = []
    app = create_app()
    with app.app_context():
        drafts = {p for w in data["writers"] for p in (*w["own"], w["shared"])}

        # Draft saves: the token each acknowledged save wrote is in exactly one audit entry
        # of that proposal; and each draft holds the token of a save (the last one).
        saved = collections.Counter()
        for entry in db.session.scalars(sa.select(AuditEntry).where(
                AuditEntry.action == "proposal.update", AuditEntry.proposal_id.in_(drafts))):
            match = TOKEN.search(str((entry.after or {}).get("tujuan") or ""))
            if match:
                saved[(entry.proposal_id, match.group(1))] += 1
        acked = collections.Counter((a["proposal"], a["token"]) for a in acks["drafts"])
        lost = [k for k in acked if saved[k] == 0]
        doubled = [k for k in acked if saved[k] > 1 or acked[k] > 1]
        extra = [k for k in saved if k not in acked]
        problems += [f"draft save lost: {k}" for k in lost]
        problems += [f"draft save written twice: {k}" for k in doubled]
        last_acked: dict[int, str] = {}
        for a in acks["drafts"]:
            last_acked[a["proposal"]] = a["token"]  # in the order the client saw them
        for w in data["writers"]:
            for pid in w["own"]:  # only its owner writes it: the last ack is the content
                tujuan = db.session.get(Proposal, pid).tujuan or ""
                if pid in last_acked and last_acked[pid] not in tujuan:
                    cut = [k for k in extra if k[0] == pid]
                    if not cut:
                        problems.append(f"draft {pid}: content {tujuan!r} is not the last "
                                        f"acknowledged save {last_acked[pid]}")
        print(f"draft saves acknowledged: {sum(acked.values())}, in the audit trail exactly "
              f"once: {sum(1 for k in acked if saved[k] == 1)}, lost: {len(lost)}, "
              f"duplicated: {len(doubled)}, written but not acknowledged (cut off at the "
              f"end): {len(extra)}; conflicts answered 409: "
              f"{result['conflicts'].get('save draft', 0)}")

        # Comments: each acknowledged id holds its body, and each body exists once.
        bodies = collections.Counter(db.session.scalars(
            sa.select(ProposalComment.body).where(
                ProposalComment.proposal_id.in_(data["in_review"]))))
        comment_lost = comment_doubled = 0
        for a in acks["comments"]:
            row = db.session.get(ProposalComment, a["id"])
            if row is None or row.body != a["body"]:
                comment_lost += 1
                problems.append(f"comment lost: {a}")
            elif bodies[a["body"]] != 1:
                comment_doubled += 1
                problems.append(f"comment written {bodies[a['body']]} times: {a}")
        acked_bodies = {a["body"] for a in acks["comments"]}
        unacked = sum(1 for b in bodies if b.startswith("Catatan telaah ")
                      and b not in acked_bodies)
        print(f"comments acknowledged: {len(acks['comments'])}, lost: {comment_lost}, "
              f"duplicated: {comment_doubled}, written but not acknowledged: {unacked}")

        # Start of review: one winner per proposal, in the database exactly once.
        winners = collections.Counter(a["proposal"] for a in acks["start_review"])
        transitions = collections.Counter(db.session.scalars(
            sa.select(AuditEntry.proposal_id).where(
                AuditEntry.action == "proposal.transition.start_review",
                AuditEntry.proposal_id.in_(data["submitted"]))))
        for pid, n in winners.items():
            if n > 1:
                problems.append(f"start_review of {pid} acknowledged {n} times")
            if transitions[pid] != 1:
                problems.append(f"start_review of {pid}: {transitions[pid]} audit entries")
        for pid, n in transitions.items():
            if n > 1:
                problems.append(f"start_review of {pid} recorded {n} times")
        started = set(db.session.scalars(sa.select(Proposal.id).where(
            Proposal.id.in_(data["submitted"]), Proposal.state == State.IN_REVIEW)))
        not_acked = started - set(winners)
        missing = set(winners) - started
        problems += [f"start_review of {pid} acknowledged but not in review" for pid in missing]
        print(f"reviews started: {len(winners)} acknowledged (each once), "
              f"{len(started)} in review in the database, {len(not_acked)} written but not "
              f"acknowledged, losers answered 409: "
              f"{result['conflicts'].get('start review', 0)}")
    print(f"responses by class: {dict(sorted(result['status'].items()))}")
    if result["status"].get("5xx"):
        problems.append(f"{result['status']['5xx']} responses with a 5xx status")
    for problem in problems:
        print("PROBLEM:", problem)
    print("OK: no lost or duplicated write" if not problems else
          f"FAILED: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], *sys.argv[2:]))
