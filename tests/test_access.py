"""coopdesa.access as a matrix of roles x scopes x actions, the scope helpers against real
SQL, and the same refusals as seen over HTTP (HTML pages and the JSON API)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask_login import AnonymousUserMixin

from coopdesa import access
from coopdesa.access import Action
from coopdesa.accounts.models import ApiToken, Bkad, Role, User
from coopdesa.accounts.operations import create_token
from coopdesa.actors import operations as actor_ops
from coopdesa.actors.models import Actor, ActorKind
from coopdesa.errors import AccessDenied
from coopdesa.extensions import db
from coopdesa.regions.models import Region, RegionKind
from tests.conftest import (
    BANJARNEGARA,
    DIENG,
    DIENG_KULON,
    GARUNG,
    KEJAJAR,
    KELURAHAN_KEJAJAR,
    PATAKBANTENG,
    SEMBUNGAN,
    TIENG,
    WONOSOBO,
)
from tests.factories import AdminFactory, BkadFactory, UserFactory

ROLES = ("admin", "sekretaris", "bkad", "auditor", "anonymous")
SIGNED_IN = frozenset({"admin", "sekretaris", "bkad", "auditor"})
ADMIN = frozenset({"admin"})
DRAFTERS = frozenset({"admin", "sekretaris", "bkad"})

#: Words of which every refusal carries at least one: the reason is Indonesian prose.
INDONESIAN = re.compile(r"\b(Anda|hanya|Hanya|tidak|dapat|ini|milik|perlu)\b")


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    """Give every test request a fresh ``g``, as production does.

    conftest keeps one app context open for the whole test, and a test request reuses it,
    so Flask-Login's cached ``g._login_user`` would carry one request's user into the next.
    """

    def clear(sender, **extra):
        for name in list(vars(g)):  # not vars(g).clear(): that crashes CPython 3.11
            delattr(g, name)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


def assert_indonesian_reason(reason: str | None) -> None:
    assert reason, "a refusal must say why"
    assert reason.strip() == reason and len(reason) > 15
    assert INDONESIAN.search(reason), reason


@dataclass
class World:
    """The acting users (sekretaris of Dieng, a member of the BKAD of Dieng and Sembungan,
    an auditor of Kecamatan Kejajar) and objects at every distance from them."""

    users: dict
    objects: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def target(self, key: str, user):
        if key == "user_account:self":
            return user if isinstance(user, User) else self.users["admin"]
        if key == "api_token:own":
            owner = user if isinstance(user, User) else self.users["admin"]
            return self.tokens[owner.id]
        return self.objects[key]


def _another_banjarnegara_desa() -> str:
    return db.session.scalar(
        sa.select(Region.code)
        .where(Region.level == 4, Region.kind == "desa", Region.code != DIENG_KULON,
               Region.code.like(BANJARNEGARA + ".%"))
        .order_by(Region.code)
    )


@pytest.fixture
def world(app) -> World:
    own_bkad = BkadFactory(desa_codes=[DIENG, SEMBUNGAN])
    users = {
        "admin": AdminFactory(),
        "sekretaris": UserFactory(role=Role.SEKRETARIS, desa_code=DIENG),
        "bkad": UserFactory(role=Role.BKAD, bkad=own_bkad),
        "auditor": UserFactory(role=Role.AUDITOR, jurisdiction_code=KEJAJAR),
        "anonymous": AnonymousUserMixin(),
    }
    colleague = UserFactory(role=Role.SEKRETARIS, desa_code=DIENG)
    sekdes_tieng = UserFactory(role=Role.SEKRETARIS, desa_code=TIENG)
    inside_bkad = BkadFactory(desa_codes=[TIENG, PATAKBANTENG])
    outside_bkad = BkadFactory(kabupaten_code=BANJARNEGARA,
                               desa_codes=[DIENG_KULON, _another_banjarnegara_desa()])

    def registered(data, by):
        return actor_ops.create_actor({"kind": "swasta", **data}, by=by)

    objects = {
        "region:class": Region,
        "region:own_desa": db.session.get(Region, DIENG),
        "region:other_desa_in_kecamatan": db.session.get(Region, TIENG),
        "region:outside": db.session.get(Region, DIENG_KULON),
        "actor:class": Actor,
        "actor:kind_name": "actor",
        "agreement_document:kind_name": "agreement_document",
        "actor:own_village": actor_ops.village_actor(DIENG),
        "actor:own_registered": registered({"name": "CV Kentang Dieng", "region_code": DIENG},
                                           users["sekretaris"]),
        "actor:other_village": actor_ops.village_actor(TIENG),
        "actor:other_registered": registered({"name": "CV Carica Tieng", "region_code": TIENG},
                                             sekdes_tieng),
        "actor:bkad_created": registered({"name": "CV Wisata BKAD", "region_code": KEJAJAR},
                                         users["bkad"]),
        "actor:admin_created_in_own_desa": registered(
            {"name": "PT Dinas Dieng", "region_code": DIENG}, users["admin"]),
        "actor:outside": registered({"name": "CV Banjarnegara", "region_code": DIENG_KULON},
                                    users["admin"]),
        "user_account:class": User,
        "user_account:same_desa": colleague,
        "user_account:other_desa": sekdes_tieng,
        "bkad:class": Bkad,
        "bkad:own": own_bkad,
        "bkad:inside_jurisdiction": inside_bkad,
        "bkad:outside": outside_bkad,
        "api_token:class": ApiToken,
    }
    tokens = {}
    for user in [*(u for u in users.values() if isinstance(u, User)), sekdes_tieng]:
        tokens[user.id], _secret = create_token(user, "uji")
    objects["api_token:other"] = tokens[sekdes_tieng.id]
    db.session.commit()
    return World(users=users, objects=objects, tokens=tokens)


#: (target, action, roles allowed). Every row is checked for each of ROLES.
MATRIX = [
    # The official register is public to every signed-in user, wherever it lies; only the
    # administrator (through the CLI) ever writes it.
    ("region:class", "list", SIGNED_IN),
    ("region:own_desa", "view", SIGNED_IN),
    ("region:other_desa_in_kecamatan", "view", SIGNED_IN),
    ("region:outside", "view", SIGNED_IN),
    ("region:class", "create", ADMIN),
    ("region:own_desa", "edit", ADMIN),
    ("region:own_desa", "manage", ADMIN),
    # Actors: everyone reads; drafters register; only the registrant edits.
    ("actor:class", "list", SIGNED_IN),
    ("actor:kind_name", "list", SIGNED_IN),
    ("actor:own_village", "view", SIGNED_IN),
    ("actor:outside", "view", SIGNED_IN),
    ("actor:class", "create", DRAFTERS),
    ("actor:kind_name", "create", DRAFTERS),
    ("actor:own_village", "edit", {"admin", "sekretaris"}),
    ("actor:own_registered", "edit", {"admin", "sekretaris"}),
    ("actor:other_village", "edit", ADMIN),
    ("actor:other_registered", "edit", ADMIN),
    ("actor:bkad_created", "edit", {"admin", "bkad"}),
    ("actor:admin_created_in_own_desa", "edit", ADMIN),
    ("actor:outside", "edit", ADMIN),
    ("actor:own_registered", "delete", ADMIN),
    ("actor:own_village", "manage", ADMIN),
    # Accounts: one's own profile is readable; everything else is the administrator's.
    ("user_account:self", "view", SIGNED_IN),
    ("user_account:self", "edit", ADMIN),
    ("user_account:self", "manage", ADMIN),
    ("user_account:same_desa", "view", ADMIN),
    ("user_account:other_desa", "view", ADMIN),
    ("user_account:class", "list", ADMIN),
    ("user_account:class", "create", ADMIN),
    ("user_account:same_desa", "edit", ADMIN),
    ("user_account:other_desa", "manage", ADMIN),
    # BKAD: seen by its villages, its members and auditors of the area; managed by admin.
    ("bkad:own", "view", SIGNED_IN),
    ("bkad:inside_jurisdiction", "view", {"admin", "auditor"}),
    ("bkad:outside", "view", ADMIN),
    ("bkad:class", "list", ADMIN),
    ("bkad:class", "create", ADMIN),
    ("bkad:own", "edit", ADMIN),
    ("bkad:own", "manage", ADMIN),
    ("bkad:outside", "manage", ADMIN),
    # The auditor's export bundle of agreement documents (rows scoped by jurisdiction).
    ("agreement_document:kind_name", "export", {"admin", "auditor"}),
    ("agreement_document:kind_name", "manage", ADMIN),
    # API tokens: each user's own; the administrator's rights cover every token.
    ("api_token:class", "create", SIGNED_IN),
    ("api_token:own", "view", SIGNED_IN),
    ("api_token:own", "delete", SIGNED_IN),
    ("api_token:other", "view", ADMIN),
    ("api_token:other", "delete", ADMIN),
    ("api_token:own", "manage", ADMIN),
]



def _transient_world() -> World:
    """The same world as ``world``, unsaved: the rules read attributes only, so the matrix
    needs no database round trip per case. test_matrix_holds_for_saved_objects checks the
    same rows against saved objects."""

    def region(code, kind, name, level=4):
        return Region(code=code, name=name, kind=kind, level=level)

    dieng = region(DIENG, RegionKind.DESA, "Dieng")
    sembungan = region(SEMBUNGAN, RegionKind.DESA, "Sembungan")
    tieng = region(TIENG, RegionKind.DESA, "Tieng")
    patakbanteng = region(PATAKBANTENG, RegionKind.DESA, "Patakbanteng")
    dieng_kulon = region(DIENG_KULON, RegionKind.DESA, "Dieng Kulon")
    own_bkad = Bkad(id=1, name="BKAD Dieng", kabupaten_code=WONOSOBO,
                    villages=[dieng, sembungan])
    users = {
        "admin": User(id=1, username="admin", role=Role.ADMIN, is_active_account=True),
        "sekretaris": User(id=2, username="sekdes", role=Role.SEKRETARIS, desa_code=DIENG,
                           is_active_account=True),
        "bkad": User(id=3, username="bkad", role=Role.BKAD, bkad_id=1, bkad=own_bkad,
                     is_active_account=True),
        "auditor": User(id=4, username="camat", role=Role.AUDITOR, jurisdiction_code=KEJAJAR,
                        is_active_account=True),
        "anonymous": AnonymousUserMixin(),
    }
    colleague = User(id=5, role=Role.SEKRETARIS, desa_code=DIENG, is_active_account=True)
    sekdes_tieng = User(id=6, role=Role.SEKRETARIS, desa_code=TIENG, is_active_account=True)

    def actor(kind=ActorKind.SWASTA, desa_code=None, owner=None, by=None, region_code=None):
        return Actor(kind=kind, desa_code=desa_code, owner_desa_code=owner,
                     created_by_id=by.id if by else None, region_code=region_code)

    objects = {
        "region:class": Region,
        "region:own_desa": dieng,
        "region:other_desa_in_kecamatan": tieng,
        "region:outside": dieng_kulon,
        "actor:class": Actor,
        "actor:kind_name": "actor",
        "agreement_document:kind_name": "agreement_document",
        # a village actor is registered on first use, by nobody in particular
        "actor:own_village": actor(ActorKind.DESA, desa_code=DIENG, region_code=DIENG),
        "actor:own_registered": actor(owner=DIENG, by=users["sekretaris"], region_code=DIENG),
        "actor:other_village": actor(ActorKind.DESA, desa_code=TIENG, region_code=TIENG),
        "actor:other_registered": actor(owner=TIENG, by=sekdes_tieng, region_code=TIENG),
        "actor:bkad_created": actor(by=users["bkad"], region_code=KEJAJAR),
        "actor:admin_created_in_own_desa": actor(by=users["admin"], region_code=DIENG),
        "actor:outside": actor(by=users["admin"], region_code=DIENG_KULON),
        "user_account:class": User,
        "user_account:same_desa": colleague,
        "user_account:other_desa": sekdes_tieng,
        "bkad:class": Bkad,
        "bkad:own": own_bkad,
        "bkad:inside_jurisdiction": Bkad(id=2, kabupaten_code=WONOSOBO,
                                         villages=[tieng, patakbanteng]),
        "bkad:outside": Bkad(id=3, kabupaten_code=BANJARNEGARA,
                             villages=[dieng_kulon, region("33.04.16.2001", RegionKind.DESA,
                                                           "Lain")]),
        "api_token:class": ApiToken,
    }
    owners = [u for u in users.values() if isinstance(u, User)] + [sekdes_tieng]
    tokens = {u.id: ApiToken(id=u.id, user_id=u.id, name="uji") for u in owners}
    objects["api_token:other"] = tokens[sekdes_tieng.id]
    return World(users=users, objects=objects, tokens=tokens)


@pytest.fixture(scope="module")
def transient_world() -> World:
    return _transient_world()


def _check(user, target, action: str, expected: bool) -> None:
    assert access.can(user, action, target) is expected
    assert access.can(user, Action(action), target) is expected
    reason = access.reason_refused(user, action, target)
    if expected:
        assert reason is None
        access.require(user, action, target)  # does not raise
    else:
        assert_indonesian_reason(reason)
        with pytest.raises(AccessDenied) as refused:
            access.require(user, action, target)
        assert refused.value.message == reason
        assert refused.value.status == 403
        assert refused.value.code == "forbidden"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("target", "action", "allowed"), MATRIX,
                         ids=[f"{t}-{a}" for t, a, _ in MATRIX])
def test_access_matrix(app, transient_world, role, target, action, allowed):
    user = transient_world.users[role]
    _check(user, transient_world.target(target, user), action, role in allowed)


@pytest.mark.parametrize("role", ROLES)
def test_matrix_holds_for_saved_objects(world, role):
    """The same decisions on objects made by the real operations and read back."""
    user = world.users[role]
    for target, action, allowed in MATRIX:
        expected = role in allowed
        assert access.can(user, action, world.target(target, user)) is expected, \
            (target, action)
    if role == "sekretaris":  # create_actor recorded the registering village
        assert world.objects["actor:own_registered"].owner_desa_code == DIENG
    if role == "bkad":
        assert world.objects["actor:bkad_created"].created_by_id == user.id


@pytest.mark.parametrize(("role", "target", "action", "reason_part"), [
    ("anonymous", "actor:class", "list", "perlu masuk"),
    ("auditor", "actor:class", "create", "Auditor hanya dapat membaca"),
    ("auditor", "actor:own_registered", "edit", "Auditor hanya dapat membaca data pihak"),
    ("sekretaris", "actor:other_village", "edit", "didaftarkan oleh desa lain"),
    ("sekretaris", "actor:other_registered", "edit", "didaftarkan oleh desa lain"),
    ("bkad", "actor:own_registered", "edit", "Hanya pendaftar pihak ini"),
    ("sekretaris", "user_account:class", "list", "Hanya administrator yang dapat mengelola "
                                                 "pengguna"),
    ("auditor", "user_account:other_desa", "view", "akun pengguna lain"),
    ("bkad", "bkad:class", "create", "Hanya administrator yang dapat mengelola BKAD"),
    ("auditor", "bkad:outside", "view", "di luar wilayah tugas Anda"),
    ("sekretaris", "api_token:other", "delete", "milik pengguna lain"),
    ("sekretaris", "region:own_desa", "edit", "tidak tersedia untuk peran Anda"),
    ("bkad", "agreement_document:kind_name", "export", "auditor wilayah dan administrator"),
])
def test_refusals_say_why(transient_world, role, target, action, reason_part):
    user = transient_world.users[role]
    reason = access.reason_refused(user, action, transient_world.target(target, user))
    assert reason is not None and reason_part in reason


@pytest.mark.parametrize("role", ["admin", "sekretaris", "auditor"])
def test_disabled_account_may_do_nothing(world, role):
    user = world.users[role]
    user.is_active_account = False
    db.session.commit()
    for target, action in [("region:class", "list"), ("actor:own_village", "view"),
                           ("user_account:self", "view")]:
        reason = access.reason_refused(user, action, world.target(target, user))
        assert reason is not None and "dinonaktifkan" in reason


def test_none_user_is_refused_like_anonymous(app):
    assert not access.can(None, "list", Region)
    assert "perlu masuk" in access.reason_refused(None, "list", Region)


def test_unknown_action_is_an_error(transient_world):
    with pytest.raises(ValueError):
        access.can(transient_world.users["admin"], "approve-everything", Region)


def test_a_rule_cannot_be_defined_twice(app):
    with pytest.raises(RuntimeError, match="defined twice"):
        access.rule("actor", Action.EDIT)(lambda user, target: None)
    assert access.can(AdminFactory(), "edit", "actor")  # the original rule still applies


# --- scopes --------------------------------------------------------------------------------

def _auditor(code: str) -> User:
    return UserFactory(role=Role.AUDITOR, jurisdiction_code=code)


@pytest.mark.parametrize(("role", "code", "covered"), [
    ("admin", DIENG, True), ("admin", DIENG_KULON, True), ("admin", None, True),
    ("sekretaris", DIENG, True), ("sekretaris", SEMBUNGAN, False),
    ("sekretaris", TIENG, False), ("sekretaris", KEJAJAR, False), ("sekretaris", None, False),
    ("bkad", DIENG, True), ("bkad", SEMBUNGAN, True), ("bkad", TIENG, False),
    ("bkad", KEJAJAR, False), ("bkad", "", False),
    ("auditor", KEJAJAR, True), ("auditor", DIENG, True), ("auditor", TIENG, True),
    ("auditor", KELURAHAN_KEJAJAR, True), ("auditor", WONOSOBO, False),
    ("auditor", GARUNG, False), ("auditor", GARUNG + ".2001", False),
    ("auditor", DIENG_KULON, False), ("auditor", KEJAJAR + "0", False), ("auditor", None, False),
])
def test_covers_region(transient_world, role, code, covered):
    assert access.covers_region(transient_world.users[role], code) is covered


def test_covers_region_for_a_kabupaten_auditor(app):
    auditor = _auditor(WONOSOBO)
    assert access.covers_region(auditor, WONOSOBO)
    assert access.covers_region(auditor, KEJAJAR)
    assert access.covers_region(auditor, GARUNG + ".2001")
    assert not access.covers_region(auditor, "33")
    assert not access.covers_region(auditor, BANJARNEGARA)
    assert not access.covers_region(auditor, DIENG_KULON)


def test_scopes_without_a_region_cover_nothing(app):
    # Transient users whose scope is missing (the database forbids them; the code must
    # not fall back to "everything").
    for user in (User(role=Role.AUDITOR, jurisdiction_code=None),
                 User(role=Role.SEKRETARIS, desa_code=None),
                 User(role=Role.BKAD, bkad=None)):
        assert not access.covers_region(user, DIENG)
        assert _codes_in_scope(user) == set()


def _codes_in_scope(user) -> set[str]:
    return set(db.session.scalars(
        sa.select(Region.code).where(access.region_scope_clause(user, Region.code))))


def _all_codes() -> set[str]:
    return set(db.session.scalars(sa.select(Region.code)))


def _below(codes: set[str], prefix: str) -> set[str]:
    return {c for c in codes if c == prefix or c.startswith(prefix + ".")}


def test_region_scope_clause_for_auditors(app):
    every = _all_codes()
    kejajar = _codes_in_scope(_auditor(KEJAJAR))
    wonosobo = _codes_in_scope(_auditor(WONOSOBO))

    assert kejajar == _below(every, KEJAJAR)
    assert {KEJAJAR, DIENG, TIENG, SEMBUNGAN, KELURAHAN_KEJAJAR} <= kejajar
    assert len(kejajar) > 15  # the kecamatan and its desa/kelurahan
    assert not any(c.startswith(GARUNG) for c in kejajar)
    assert WONOSOBO not in kejajar

    assert wonosobo == _below(every, WONOSOBO)
    assert kejajar < wonosobo
    assert GARUNG in wonosobo and WONOSOBO in wonosobo
    assert not any(c.startswith(BANJARNEGARA) for c in wonosobo)
    assert DIENG_KULON not in wonosobo and "33" not in wonosobo


def test_region_scope_clause_for_desa_roles_and_admin(world):
    assert _codes_in_scope(world.users["sekretaris"]) == {DIENG}
    assert _codes_in_scope(world.users["bkad"]) == {DIENG, SEMBUNGAN}
    assert _codes_in_scope(world.users["admin"]) == _all_codes()


@pytest.mark.parametrize("role", ["admin", "sekretaris", "bkad", "auditor"])
def test_region_scope_clause_agrees_with_covers_region(world, role):
    user = world.users[role]
    in_sql = _codes_in_scope(user)
    in_python = {code for code in _all_codes() if access.covers_region(user, code)}
    assert in_sql == in_python


def test_region_scope_clause_filters_another_table(world):
    """The clause applies to any region column, e.g. the actors an auditor oversees."""
    auditor = world.users["auditor"]
    names = set(db.session.scalars(
        sa.select(Actor.name).where(access.region_scope_clause(auditor, Actor.region_code))))
    assert {"CV Kentang Dieng", "CV Carica Tieng", "CV Wisata BKAD"} <= names
    assert "CV Banjarnegara" not in names


# --- over HTTP -----------------------------------------------------------------------------

def _urls(world: World) -> dict[str, str]:
    return {
        "users": "/admin/pengguna",
        "new_user": "/admin/pengguna/baru",
        "bkads": "/admin/bkad",
        "new_bkad": "/admin/bkad/baru",
        "edit_actor": f"/pihak/{world.objects['actor:outside'].id}/ubah",
        "edit_user": f"/admin/pengguna/{world.objects['user_account:other_desa'].id}",
    }


PAGES = ["users", "new_user", "bkads", "new_bkad", "edit_actor", "edit_user"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["sekretaris", "bkad", "auditor"])
def test_pages_refused_without_the_right(world, login, role, page):
    client = login(world.users[role])
    response = client.get(_urls(world)[page])
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Akses ditolak" in body
    assert re.search(r"Hanya (administrator|pendaftar)|Auditor hanya|didaftarkan oleh", body)


@pytest.mark.parametrize("page", PAGES)
def test_admin_opens_every_page(world, login, page):
    client = login(world.users["admin"])
    assert client.get(_urls(world)[page]).status_code == 200


def test_refused_posts_change_nothing(world, login):
    client = login(world.users["sekretaris"])
    urls = _urls(world)
    users_before = db.session.scalar(sa.select(sa.func.count(User.id)))
    bkads_before = db.session.scalar(sa.select(sa.func.count(Bkad.id)))
    victim = world.objects["user_account:other_desa"]
    actor = world.objects["actor:outside"]

    posts = {
        "new_user": {"username": "penyusup", "full_name": "Penyusup", "role": "admin",
                     "password": "sandi-penyusup-99", "bkad_id": "0", "is_active": "y"},
        "new_bkad": {"name": "BKAD Palsu", "desa_codes": f"{DIENG}\n{SEMBUNGAN}"},
        "edit_user": {"full_name": "Diubah", "role": "admin", "bkad_id": "0",
                      "is_active": "y"},
        "edit_actor": {"kind": "swasta", "name": "Diambil alih", "version": "1"},
    }
    for page, data in posts.items():
        assert client.post(urls[page], data=data).status_code == 403, page

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users_before
    assert db.session.scalar(sa.select(sa.func.count(Bkad.id))) == bkads_before
    assert victim.role == Role.SEKRETARIS and victim.full_name != "Diubah"
    assert actor.name == "CV Banjarnegara"


def test_sekretaris_may_open_the_edit_page_of_their_own_village(world, login):
    client = login(world.users["sekretaris"])
    own = world.objects["actor:own_village"]
    other = world.objects["actor:other_village"]
    assert client.get(f"/pihak/{own.id}/ubah").status_code == 200
    assert client.get(f"/pihak/{other.id}/ubah").status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_the_login_page(world, client, page):
    url = _urls(world)[page]
    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/masuk"
    assert parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/me"), ("GET", "/actors"), ("GET", "/regions"), ("GET", f"/regions/{DIENG}"),
    ("POST", "/actors"),
])
@pytest.mark.parametrize("authorization", [None, "Bearer cds_tidak-ada", "Basic YWRtaW46eA=="])
def test_api_without_a_valid_token_gets_401_json(client, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open("/api/v1" + path, method=method, headers=headers,
                           json={"name": "x"} if method == "POST" else None)
    assert response.status_code == 401
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "unauthorized"
    assert "token" in error["message"].lower() and "Sertakan" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_ignores_the_session_cookie(world, login):
    client = login(world.users["admin"])
    assert client.get("/").status_code == 200  # signed in for HTML
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_api_write_without_the_right_gets_403_json(world, api):
    before = db.session.scalar(sa.select(sa.func.count(Actor.id)))
    response = api(world.users["auditor"]).post(
        "/actors", json={"name": "CV Audit", "kind": "swasta", "region_code": KEJAJAR})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "forbidden"
    assert error["message"].startswith("Auditor hanya dapat membaca")
    assert db.session.scalar(sa.select(sa.func.count(Actor.id))) == before


def test_api_write_with_the_right_succeeds(world, api):
    response = api(world.users["sekretaris"]).post(
        "/actors", json={"name": "CV Sekdes", "kind": "swasta", "region_code": DIENG})
    assert response.status_code == 201, response.get_json()
    assert db.session.get(Actor, response.get_json()["id"]).owner_desa_code == DIENG


def test_api_edit_of_another_village_actor_gets_403(world, api):
    actor = world.objects["actor:other_registered"]
    client = api(world.users["sekretaris"])
    response = client.put(f"/actors/{actor.id}", json={
        "name": "Diambil alih", "kind": "swasta", "region_code": TIENG,
        "version": actor.version})
    assert response.status_code == 403
    assert "desa lain" in response.get_json()["error"]["message"]
    db.session.expire_all()
    assert actor.name == "CV Carica Tieng"
