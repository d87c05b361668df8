"""The one place that decides whether user U may do action A on object O.

Views, the JSON API and the CLI call :func:`can` or :func:`require`; nothing else tests a
role. Each rule answers ``None`` to allow, or the reason for refusing in plain words, so a
refusal always tells the user why. Roles and scopes (accounts.models.Role):

- admin: everything;
- sekretaris: one desa (``user.desa_code``);
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

from coopdesa.accounts.models import ApiToken, Bkad, Role, User
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
    if user is None or not getattr(user, "is_authenticated", False):
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
    """The desa codes a sekretaris or BKAD acts for; None for roles scoped otherwise."""
    if user.role == Role.SEKRETARIS:
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
    return _("Auditor hanya dapat membaca; pendaftaran pihak dilakukan oleh sekretaris desa, "
             "pengurus BKAD atau administrator.")


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
    if user.role == Role.SEKRETARIS and user.desa_code in bkad.desa_codes:
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
