"""The one place that decides whether user U may do action A on object O.

Views, the JSON API and the CLI call :func:`can` or :func:`require`; nothing else tests a
role. Each rule answers ``None`` to allow, or the reason for refusing in plain words, so a
refusal always tells the user why. Roles and scopes (accounts.models.Role):

- admin: everything;
- sekretaris: one desa (``user.desa_code``): drafts and records for that village only;
- kepala_desa, ketua_bpd: one desa; the one named by THIRD_PARTY_REVIEWER_ROLE reviews
  that village's third-party proposals (UU 6/2014 Pasal 93);
- bkad: the desa of one BKAD (``user.bkad.desa_codes``);
- auditor: a jurisdiction given by a region code prefix (kecamatan, kabupaten/kota or
  provinsi); read-only, may export;
- anonymous: nothing here (only the login page and public verification, which do not ask).

Add a rule with :func:`rule` for each (object type, action) a later area introduces.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from coopdesa.accounts.models import DESA_ROLES, ApiToken, Bkad, Role, User
from coopdesa.actors.models import Actor, ActorKind
from coopdesa.errors import AccessDenied
from coopdesa.regions.models import Region


class Action(enum.StrEnum):
    VIEW = "view"
    LIST = "list"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    MANAGE = "manage"
    EXPORT = "export"
    #: An author's act on a proposal: edit its content, submit, withdraw, agree, end.
    PROPOSE = "propose"
    #: The reviewer's act: start a review, request changes, approve, reject.
    REVIEW = "review"
    COMMENT = "comment"
    READ_AUDIT = "read_audit"


Rule = Callable[[User, Any], "str | None"]
_RULES: dict[tuple[str, Action], Rule] = {}


def rule(kind: str, *actions: Action) -> Callable[[Rule], Rule]:
    """Register the rule deciding ``actions`` on objects of ``kind``."""

    def decorator(fn: Rule) -> Rule:
        for action in actions:
            key = (kind, action)
            if key in _RULES:
                raise RuntimeError(f"access rule for {key} defined twice")
            _RULES[key] = fn
        return fn

    return decorator


def _kind_of(target: Any) -> str:
    if isinstance(target, str):
        return target
    cls = target if isinstance(target, type) else type(target)
    return getattr(cls, "__tablename__", cls.__name__.lower())


def reason_refused(user: Any, action: Action | str, target: Any) -> str | None:
    """None if ``user`` may do ``action`` on ``target``, else the reason in plain words."""
    action = Action(action)
    # Not ``is_authenticated``: Flask-Login derives it from is_active, which would give a
    # disabled account the wrong reason.
    if user is None or getattr(user, "is_anonymous", True):
        return _("Anda perlu masuk (login) terlebih dahulu.")
    if not user.is_active:
        return _("Akun Anda dinonaktifkan. Hubungi administrator.")
    if user.role == Role.ADMIN:
        return None
    fn = _RULES.get((_kind_of(target), action))
    if fn is None:
        return _("Tindakan ini tidak tersedia untuk peran Anda.")
    return fn(user, target)


def can(user: Any, action: Action | str, target: Any) -> bool:
    return reason_refused(user, action, target) is None


def require(user: Any, action: Action | str, target: Any) -> None:
    """Raise :class:`AccessDenied` with the reason unless ``user`` may act."""
    reason = reason_refused(user, action, target)
    if reason is not None:
        raise AccessDenied(reason)


# --- scopes --------------------------------------------------------------------------------

def _within(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


def scope_desa_codes(user: User) -> frozenset[str] | None:
    """The desa codes a village role or BKAD acts for; None for roles scoped otherwise."""
    if user.role in DESA_ROLES:
        return frozenset({user.desa_code}) if user.desa_code else frozenset()
    if user.role == Role.BKAD:
        return user.bkad.desa_codes if user.bkad else frozenset()
    return None


def covers_region(user: User, code: str | None) -> bool:
    """Whether ``code`` (a region at any level) lies in the user's scope."""
    if user.role == Role.ADMIN:
        return True
    if not code:
        return False
    if user.role == Role.AUDITOR:
        return bool(user.jurisdiction_code) and _within(code, user.jurisdiction_code)
    codes = scope_desa_codes(user) or frozenset()
    return code in codes


def region_scope_clause(user: User, column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """A SQL condition keeping rows whose region ``column`` lies in the user's scope."""
    from coopdesa.regions.operations import code_within

    if user.role == Role.ADMIN:
        return sa.true()
    if user.role == Role.AUDITOR:
        if not user.jurisdiction_code:
            return sa.false()
        return code_within(column, user.jurisdiction_code)
    codes = scope_desa_codes(user) or frozenset()
    return column.in_(sorted(codes)) if codes else sa.false()


# --- rules ---------------------------------------------------------------------------------

@rule("region", Action.VIEW, Action.LIST)
def _region_read(user: User, target: Region | type) -> str | None:
    return None  # the official register is public information for every signed-in user


@rule("actor", Action.VIEW, Action.LIST)
def _actor_read(user: User, target: Actor | type) -> str | None:
    return None  # every signed-in role looks up parties when drafting or auditing


@rule("actor", Action.CREATE)
def _actor_create(user: User, target: Any) -> str | None:
    if user.role in (Role.SEKRETARIS, Role.BKAD):
        return None
    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca; pendaftaran pihak dilakukan oleh sekretaris "
                 "desa, pengurus BKAD atau administrator.")
    return _("Pendaftaran pihak dilakukan oleh sekretaris desa, pengurus BKAD atau "
             "administrator.")


@rule("actor", Action.EDIT)
def _actor_edit(user: User, actor: Actor) -> str | None:
    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca data pihak.")
    if user.role == Role.SEKRETARIS:
        if actor.kind == ActorKind.DESA and actor.desa_code == user.desa_code:
            return None
        if actor.owner_desa_code and actor.owner_desa_code == user.desa_code:
            return None
        return _("Pihak ini didaftarkan oleh desa lain; hanya desa pendaftar atau "
                 "administrator yang dapat mengubahnya.")
    if user.role == Role.BKAD and actor.created_by_id == user.id:
        return None
    return _("Hanya pendaftar pihak ini atau administrator yang dapat mengubahnya.")


@rule("user_account", Action.VIEW)
def _user_view(user: User, target: User) -> str | None:
    if isinstance(target, User) and target.id == user.id:
        return None
    return _("Hanya administrator yang dapat melihat akun pengguna lain.")


@rule("user_account", Action.LIST, Action.CREATE, Action.EDIT, Action.MANAGE)
def _user_manage(user: User, target: Any) -> str | None:
    return _("Hanya administrator yang dapat mengelola pengguna.")


@rule("bkad", Action.VIEW)
def _bkad_view(user: User, bkad: Bkad) -> str | None:
    if user.role == Role.BKAD and user.bkad_id == bkad.id:
        return None
    if user.role in DESA_ROLES and user.desa_code in bkad.desa_codes:
        return None
    if user.role == Role.AUDITOR and covers_region(user, bkad.kabupaten_code):
        return None
    if user.role == Role.AUDITOR and any(covers_region(user, c) for c in bkad.desa_codes):
        return None
    return _("BKAD ini berada di luar wilayah tugas Anda.")


@rule("bkad", Action.LIST, Action.CREATE, Action.EDIT, Action.MANAGE)
def _bkad_manage(user: User, target: Any) -> str | None:
    return _("Hanya administrator yang dapat mengelola BKAD.")


@rule("api_token", Action.CREATE, Action.VIEW, Action.DELETE)
def _own_token(user: User, token: ApiToken | type) -> str | None:
    if isinstance(token, ApiToken) and token.user_id != user.id:
        return _("Token ini milik pengguna lain.")
    return None


# --- proposals -----------------------------------------------------------------------------
# Drafts belong to their authors: nobody but the party villages' secretaries (and admins)
# sees a proposal before it is submitted.

def _not_draft(proposal) -> bool:
    """Whether the proposal has ever been submitted: before that it is its authors' work
    in progress, and stays theirs even if withdrawn without being submitted."""
    return proposal.submitted_at is not None


def _outside() -> str:
    return _("Usulan ini tidak melibatkan desa atau wilayah dalam cakupan Anda.")


@rule("proposal", Action.VIEW, Action.READ_AUDIT)
def _proposal_view(user: User, proposal) -> str | None:
    codes = set(proposal.desa_codes)
    if user.role == Role.SEKRETARIS:
        return None if user.desa_code in codes else _outside()
    if not _not_draft(proposal):
        return _("Usulan ini masih draf (belum pernah diajukan) dan hanya terlihat oleh "
                 "penyusunnya.")
    if user.role in (Role.KEPALA_DESA, Role.KETUA_BPD):
        return None if user.desa_code in codes else _outside()
    if user.role == Role.BKAD:
        return None if user.bkad and codes & user.bkad.desa_codes else _outside()
    if user.role == Role.AUDITOR:
        return None if any(covers_region(user, c) for c in codes) else _outside()
    return _outside()


@rule("proposal", Action.LIST)
def _proposal_list(user: User, target: Any) -> str | None:
    return None  # every role lists; proposal_scope_clause decides which rows


@rule("proposal", Action.CREATE)
def _proposal_create(user: User, target: Any) -> str | None:
    if user.role == Role.SEKRETARIS:
        return None
    return _("Usulan kerja sama disusun oleh sekretaris desa.")


@rule("proposal", Action.PROPOSE, Action.EDIT)
def _proposal_author(user: User, proposal) -> str | None:
    if user.role == Role.SEKRETARIS and user.desa_code in proposal.desa_codes:
        return None
    if user.role == Role.SEKRETARIS:
        return _outside()
    return _("Hanya sekretaris desa pihak yang menyusun dan mengajukan usulan ini.")


@rule("proposal", Action.REVIEW)
def _proposal_review(user: User, proposal) -> str | None:
    from flask import current_app

    from coopdesa.proposals.models import Kind

    if proposal.kind == Kind.ANTAR_DESA:
        if user.role != Role.BKAD:
            return _("Usulan kerja sama antar-Desa ditelaah oleh BKAD yang beranggotakan semua "
                     "desa pihak.")
        if proposal.bkad_id is not None and user.bkad_id == proposal.bkad_id:
            return None
        return _("Usulan ini ditelaah oleh BKAD lain.")
    reviewer_role = current_app.config.get("THIRD_PARTY_REVIEWER_ROLE", "ketua_bpd")
    if user.role == reviewer_role and user.desa_code in proposal.desa_codes:
        return None
    return _("Usulan kerja sama dengan pihak ketiga ditelaah oleh %(role)s desa pihak.",
             role=Role(reviewer_role).label)


@rule("proposal", Action.COMMENT)
def _proposal_comment(user: User, proposal) -> str | None:
    # Only on what one may read: a reviewer (Ketua BPD, Kepala Desa) never sees a draft.
    unreadable = _proposal_view(user, proposal)
    if unreadable is not None:
        return unreadable
    if _proposal_author(user, proposal) is None or _proposal_review(user, proposal) is None:
        return None
    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca.")
    return _("Komentar ditulis oleh penyusun dan penelaah usulan ini.")


@rule("audit", Action.LIST, Action.EXPORT)
def _audit_jurisdiction(user: User, target: Any) -> str | None:
    if user.role == Role.AUDITOR:
        return None
    return _("Jejak audit lintas usulan dibaca oleh auditor wilayah dan administrator.")


def proposal_scope_clause(user: User) -> sa.ColumnElement[bool]:
    """SQL twin of the VIEW rule: keeps the proposals ``user`` may read."""
    from coopdesa.proposals.models import Proposal, ProposalParty
    from coopdesa.regions.operations import code_within

    if user.role == Role.ADMIN:
        return sa.true()

    def party_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        # Uncorrelated: the index on (desa_code, proposal_id) answers it once per query.
        return Proposal.id.in_(sa.select(ProposalParty.proposal_id).where(condition))

    not_draft = Proposal.submitted_at.is_not(None)  # ever submitted (see _not_draft)
    if user.role == Role.SEKRETARIS:
        return party_where(ProposalParty.desa_code == user.desa_code)
    if user.role in (Role.KEPALA_DESA, Role.KETUA_BPD):
        return sa.and_(not_draft, party_where(ProposalParty.desa_code == user.desa_code))
    if user.role == Role.BKAD:
        codes = sorted(user.bkad.desa_codes) if user.bkad else []
        if not codes:
            return sa.false()
        return sa.and_(not_draft, party_where(ProposalParty.desa_code.in_(codes)))
    if user.role == Role.AUDITOR and user.jurisdiction_code:
        if len(user.jurisdiction_code.split(".")) <= 2:
            # A provinsi or kabupaten/kota: every party village of a proposal lies in its
            # one kabupaten (operations refuse anything else), so the proposal's own
            # indexed kabupaten_code answers without touching the parties.
            return sa.and_(not_draft,
                           code_within(Proposal.kabupaten_code, user.jurisdiction_code))
        return sa.and_(not_draft,
                       party_where(code_within(ProposalParty.desa_code, user.jurisdiction_code)))
    return sa.false()


# --- sustainability (seed 002) ---------------------------------------------------------------
# Assessments and stakeholder maps belong to a proposal; rules on them are asked with the
# targets below (so that the rule sees the proposal even before the record exists).

class AssessmentOf:
    """Target for rules on the sustainability assessments of ``proposal``."""

    __tablename__ = "assessment"

    def __init__(self, proposal) -> None:
        self.proposal = proposal


class StakeholderMapOf:
    """Target for rules on the stakeholder map of ``proposal``."""

    __tablename__ = "stakeholder_map"

    def __init__(self, proposal) -> None:
        self.proposal = proposal


@rule("assessment", Action.VIEW, Action.LIST)
def _assessment_read(user: User, target: AssessmentOf) -> str | None:
    return _proposal_view(user, target.proposal)  # whoever reads the proposal (auditors too)


@rule("assessment", Action.CREATE)
def _assessment_create(user: User, target: AssessmentOf) -> str | None:
    """A secretary of a party village (also on a draft), the proposal's reviewer once it
    has been submitted (the BKAD for antar_desa, the village's THIRD_PARTY_REVIEWER_ROLE
    for pihak_ketiga), or an admin; auditors only read."""
    proposal = target.proposal
    unreadable = _proposal_view(user, proposal)
    if unreadable is not None:
        return unreadable
    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca penilaian keberlanjutan.")
    if _proposal_author(user, proposal) is None:
        return None
    if _proposal_review(user, proposal) is None:
        return None
    return _("Penilaian keberlanjutan dibuat oleh sekretaris desa pihak atau oleh penelaah "
             "usulan ini (BKAD, atau Ketua BPD/Kepala Desa untuk kerja sama dengan pihak "
             "ketiga).")


@rule("stakeholder_map", Action.VIEW)
def _stakeholder_read(user: User, target: StakeholderMapOf) -> str | None:
    return _proposal_view(user, target.proposal)


@rule("stakeholder_map", Action.EDIT)
def _stakeholder_edit(user: User, target: StakeholderMapOf) -> str | None:
    proposal = target.proposal
    unreadable = _proposal_view(user, proposal)
    if unreadable is not None:
        return unreadable
    if _proposal_author(user, proposal) is None:
        return None
    return _("Pemetaan pemangku kepentingan disusun oleh sekretaris desa pihak.")


@rule("criterion", Action.VIEW, Action.LIST)
def _criterion_read(user: User, target: Any) -> str | None:
    return None  # every signed-in role reads the checklist


@rule("criterion", Action.CREATE, Action.EDIT, Action.MANAGE)
def _criterion_manage(user: User, target: Any) -> str | None:
    return _("Hanya administrator yang dapat mengelola kriteria keberlanjutan.")


# --- musyawarah (deliberations) --------------------------------------------------------------
# A meeting is read by whoever may read a proposal on its agenda, by the roles of its
# villages and by auditors of their region; it is recorded by the secretary of the village
# (Musyawarah Desa) or, for a musyawarah antar-Desa, by a secretary of one of its villages
# or a member of the BKAD reviewing a proposal on its agenda. Targets are Meeting objects
# (also unsaved ones, while being recorded) or the string "meeting".

def _meeting_villages(user: User, meeting) -> bool:
    codes = set(meeting.desa_codes)
    if user.role in DESA_ROLES:
        return user.desa_code in codes
    if user.role == Role.BKAD:
        return bool(user.bkad and codes & user.bkad.desa_codes)
    if user.role == Role.AUDITOR:
        return any(covers_region(user, c) for c in codes)
    return False


@rule("meeting", Action.VIEW)
def _meeting_view(user: User, meeting) -> str | None:
    if isinstance(meeting, str):
        return None
    if _meeting_villages(user, meeting):
        return None
    if any(_proposal_view(user, item.proposal) is None for item in meeting.agenda):
        return None
    return _("Musyawarah ini tidak melibatkan desa atau wilayah dalam cakupan Anda.")


@rule("meeting", Action.CREATE, Action.EDIT)
def _meeting_record(user: User, meeting) -> str | None:
    from coopdesa.deliberations.models import MeetingKind

    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca catatan musyawarah.")
    if isinstance(meeting, str):  # may this role record meetings at all?
        if user.role in (Role.SEKRETARIS, Role.BKAD):
            return None
        return _("Musyawarah dicatat oleh sekretaris desa atau pengurus BKAD.")
    if meeting.kind == MeetingKind.MUSYAWARAH_DESA:
        if user.role == Role.SEKRETARIS and user.desa_code == meeting.desa_code:
            return None
        return _("Musyawarah Desa dicatat oleh sekretaris desa yang bersangkutan.")
    if user.role == Role.SEKRETARIS and user.desa_code in meeting.desa_codes:
        return None
    if user.role == Role.BKAD and user.bkad_id is not None and any(
            item.proposal.bkad_id == user.bkad_id for item in meeting.agenda):
        return None
    return _("Musyawarah antar-Desa dicatat oleh pengurus BKAD yang menelaah usulannya atau "
             "oleh sekretaris desa pihak.")


@rule("quorum_rule", Action.VIEW, Action.LIST)
def _quorum_read(user: User, target: Any) -> str | None:
    return None


@rule("quorum_rule", Action.MANAGE, Action.EDIT)
def _quorum_manage(user: User, target: Any) -> str | None:
    return _("Hanya administrator yang dapat mengubah aturan kuorum.")


# --- life after signing (coopdesa.lifecycle) ------------------------------------------------
# Targets are lifecycle.operations.ChangesOf(proposal). Requests to postpone, resume, cancel
# or end an agreement, and the record of the deliberation deciding them, are kept by the
# secretaries of the party villages and, for a kerja sama antar-Desa, by its BKAD.

@rule("agreement_change", Action.VIEW, Action.LIST)
def _change_read(user: User, target) -> str | None:
    return _proposal_view(user, target.proposal)


@rule("agreement_change", Action.CREATE, Action.EDIT)
def _change_record(user: User, target) -> str | None:
    from coopdesa.proposals.models import Kind

    proposal = target.proposal
    unreadable = _proposal_view(user, proposal)
    if unreadable is not None:
        return unreadable
    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca.")
    if _proposal_author(user, proposal) is None:
        return None
    if (user.role == Role.BKAD and proposal.kind == Kind.ANTAR_DESA
            and proposal.bkad_id is not None and user.bkad_id == proposal.bkad_id):
        return None
    return _("Penundaan, pembatalan dan pengakhiran kerja sama dicatat oleh sekretaris desa "
             "pihak atau oleh BKAD kerja sama antar-Desa ini.")


# --- documents -------------------------------------------------------------------------------

@rule("agreement_document", Action.EXPORT)
def _document_export(user: User, target: Any) -> str | None:
    """The auditor's export bundle: auditors (their jurisdiction, by proposal_scope_clause)
    and admins."""
    if user.role == Role.AUDITOR:
        return None if user.jurisdiction_code else _(
            "Akun auditor Anda belum memiliki wilayah yurisdiksi.")
    return _("Ekspor dokumen kerja sama hanya dapat dilakukan oleh auditor wilayah dan "
             "administrator.")


# --- implementation reports (pelaksanaan dan pelaporan) --------------------------------------
# Permendagri 96/2017: the BKAD reports on an antar-Desa cooperation to the Kepala Desa of
# every party village; for a third-party cooperation the Kepala Desa reports to the BPD (a
# secretary of that village files on the Kepala Desa's behalf). Targets are ReportsOf /
# ReportScheduleOf (the proposal) or an ImplementationReport.

class ReportsOf:
    """Target for rules on the implementation reports of ``proposal``."""

    __tablename__ = "implementation_report"

    def __init__(self, proposal) -> None:
        self.proposal = proposal


class ReportScheduleOf:
    """Target for rules on the reporting schedule of ``proposal``."""

    __tablename__ = "report_schedule"

    def __init__(self, proposal) -> None:
        self.proposal = proposal


@rule("implementation_report", Action.VIEW, Action.LIST)
def _report_read(user: User, target) -> str | None:
    return _proposal_view(user, target.proposal)  # whoever reads the agreement


@rule("implementation_report", Action.CREATE)
def _report_file(user: User, target) -> str | None:
    from coopdesa.proposals.models import Kind

    proposal = target.proposal
    unreadable = _proposal_view(user, proposal)
    if unreadable is not None:
        return unreadable
    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca laporan pelaksanaan.")
    if proposal.kind == Kind.ANTAR_DESA:
        if (user.role == Role.BKAD and proposal.bkad_id is not None
                and user.bkad_id == proposal.bkad_id):
            return None
        return _("Laporan pelaksanaan kerja sama antar-Desa disampaikan oleh BKAD yang "
                 "melaksanakannya kepada Kepala Desa setiap desa pihak.")
    if user.role in (Role.KEPALA_DESA, Role.SEKRETARIS) and user.desa_code in set(
            proposal.desa_codes):
        return None
    return _("Laporan pelaksanaan kerja sama dengan pihak ketiga disampaikan oleh Kepala Desa "
             "pihak (atau sekretaris desanya atas nama Kepala Desa) kepada BPD.")


@rule("implementation_report_summary", Action.LIST)
def _report_summary(user: User, target: Any) -> str | None:
    return None  # every role; proposal_scope_clause decides which agreements


@rule("report_schedule", Action.VIEW)
def _schedule_read(user: User, target: ReportScheduleOf) -> str | None:
    return _proposal_view(user, target.proposal)


@rule("report_schedule", Action.EDIT)
def _schedule_edit(user: User, target: ReportScheduleOf) -> str | None:
    unreadable = _proposal_view(user, target.proposal)
    if unreadable is not None:
        return unreadable
    if _proposal_author(user, target.proposal) is None:
        return None
    return _("Jadwal pelaporan ditetapkan oleh sekretaris desa pihak pada tahap "
             "penandatanganan.")


# --- disputes (PP 43/2014 Pasal 148) ---------------------------------------------------------
# A dispute is read by whoever reads its agreement. It is opened, carried along its route and
# withdrawn by a secretary or kepala desa of a village in dispute, the BKAD reviewing an
# antar_desa agreement, or an admin. Targets are Dispute objects or DisputeOf (before the
# dispute exists: the parties the user names, or every party to ask "may open at all").

class DisputeOf:
    """Target for rules on a dispute about ``proposal`` between ``parties``."""

    __tablename__ = "dispute"

    def __init__(self, proposal, parties=None) -> None:
        self.proposal = proposal
        self.disputing_parties = list(proposal.parties if parties is None else parties)


@rule("dispute", Action.VIEW, Action.LIST)
def _dispute_read(user: User, target) -> str | None:
    return _proposal_view(user, target.proposal)


@rule("dispute", Action.CREATE, Action.EDIT)
def _dispute_act(user: User, target) -> str | None:
    from coopdesa.proposals.models import Kind

    proposal = target.proposal
    unreadable = _proposal_view(user, proposal)
    if unreadable is not None:
        return unreadable
    if user.role == Role.AUDITOR:
        return _("Auditor hanya dapat membaca catatan perselisihan.")
    codes = {p.desa_code for p in target.disputing_parties if p.desa_code}
    if user.role in (Role.SEKRETARIS, Role.KEPALA_DESA) and user.desa_code in codes:
        return None
    if (user.role == Role.BKAD and proposal.kind == Kind.ANTAR_DESA
            and proposal.bkad_id is not None and user.bkad_id == proposal.bkad_id):
        return None
    return _("Perselisihan dicatat oleh sekretaris atau kepala desa dari desa yang "
             "berselisih, oleh BKAD yang menelaah kerja sama antar-Desa ini, atau oleh "
             "administrator.")


# --- public dissemination (publication) --------------------------------------------------------
# PP 43/2014 Pasal 88: signed agreements are public; only an administrator withholds a
# document where the law requires it (UU 14/2008 Pasal 17) or lifts that. The internal
# record (reason, history) is read by whoever may read the proposal.

class PublicationOf:
    """Target for rules on the publication (withholdings) of ``proposal``."""

    __tablename__ = "publication_withholding"

    def __init__(self, proposal) -> None:
        self.proposal = proposal


@rule("publication_withholding", Action.VIEW)
def _publication_view(user: User, target: PublicationOf) -> str | None:
    return _proposal_view(user, target.proposal)


@rule("publication_withholding", Action.MANAGE)
def _publication_manage(user: User, target: Any) -> str | None:
    return _("Hanya administrator yang dapat mengecualikan dokumen dari publikasi atau "
             "mencabut pengecualiannya.")


# --- cooperation network ---------------------------------------------------------------
# The network shows only signed agreements whose documents are public (withheld ones are
# left out), i.e. what the public pages of the desa already show, plus counts. A village
# role or a BKAD member reads the networks of its own kabupaten/kota (its desa, its
# kecamatan, its BKAD, the kabupaten); an auditor those inside its jurisdiction; provinces
# and the country are for auditors whose jurisdiction covers them, and admins.

class NetworkOf:
    """Target for rules on the network of ``scope`` (coopdesa.network.graph.Scope)."""

    __tablename__ = "network"

    def __init__(self, scope) -> None:
        self.scope = scope


def _home_kabupaten(user: User) -> str | None:
    if user.role in DESA_ROLES:
        return user.desa_code[:5] if user.desa_code else None
    if user.role == Role.BKAD and user.bkad is not None:
        return user.bkad.kabupaten_code
    return None


@rule("network", Action.VIEW, Action.EXPORT)
def _network_read(user: User, target: NetworkOf) -> str | None:
    from coopdesa.network.graph import ScopeKind

    if user.role == Role.ADMIN:
        return None
    scope = target.scope
    codes = sorted(scope.members) if scope.kind is ScopeKind.BKAD else (
        [scope.code] if scope.code else [])
    if user.role == Role.AUDITOR:
        home = user.jurisdiction_code
        refusal = _("Jaringan ini berada di luar wilayah pengawasan Anda.")
    else:
        home = _home_kabupaten(user)
        refusal = _("Jaringan kerja sama dapat dibuka untuk kabupaten/kota desa Anda sendiri.")
    if not home or not codes:
        return refusal
    return None if all(_within(code, home) for code in codes) else refusal


# --- background jobs (coopdesa.jobs) ---------------------------------------------------------
# A job and its result belong to whoever started it (admins see all); views answer 404 for
# anyone else's. Starting one is asked with JobStart: an export needs the export right; PDF
# rendering and network computation are admins' and, inside their jurisdiction, auditors';
# reminders (every village at once) admins' only.

class JobStart:
    """Target for the rule on starting a job of ``kind`` for region ``scope`` (or None)."""

    __tablename__ = "job"

    def __init__(self, kind: str, scope: str | None = None) -> None:
        self.kind = str(kind)
        self.scope = scope


@rule("job", Action.VIEW)
def _job_view(user: User, job) -> str | None:
    if getattr(job, "owner_id", None) is not None and job.owner_id == user.id:
        return None
    return _("Tugas ini milik pengguna lain.")


@rule("job", Action.LIST)
def _job_list(user: User, target: Any) -> str | None:
    return None  # each user lists their own jobs


@rule("job", Action.CREATE)
def _job_start(user: User, target: JobStart) -> str | None:
    if target.kind == "export":
        return reason_refused(user, Action.EXPORT, "agreement_document")
    if target.kind in ("render", "network"):
        if user.role != Role.AUDITOR:
            return _("Tugas ini dijalankan oleh administrator atau auditor wilayah.")
        if not user.jurisdiction_code:
            return _("Akun auditor Anda belum memiliki wilayah yurisdiksi.")
        if not target.scope or not covers_region(user, target.scope):
            return _("Pilih wilayah di dalam yurisdiksi Anda (%(scope)s).",
                     scope=user.jurisdiction_code)
        return None
    return _("Tugas ini hanya dapat dijalankan oleh administrator.")
