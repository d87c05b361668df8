"""factory-boy factories; they go through the same models, committed like a request."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

import coopdesa.accounts.models as models
from coopdesa.accounts.models import ApiToken, Bkad, Role, User
from coopdesa.actors.models import Actor, ActorKind
from coopdesa.extensions import db
from coopdesa.regions.models import Region
from tests.conftest import DIENG, KEJAJAR, PASSWORD, SEMBUNGAN


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class BkadFactory(BaseFactory):
    class Meta:
        model = Bkad

    name = factory.Sequence(lambda n: f"BKAD Uji {n}")
    kabupaten_code = "33.07"

    @factory.post_generation
    def desa_codes(self, create, extracted, **kwargs):
        codes = extracted or [DIENG, SEMBUNGAN]
        self.villages = [db.session.get(Region, code) for code in codes]
        if create:
            db.session.commit()


class UserFactory(BaseFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"pengguna{n}")
    full_name = factory.Faker("name", locale="id_ID")
    role = Role.SEKRETARIS
    desa_code = factory.LazyAttribute(lambda o: DIENG if o.role == Role.SEKRETARIS else None)
    bkad = factory.LazyAttribute(lambda o: BkadFactory() if o.role == Role.BKAD else None)
    jurisdiction_code = factory.LazyAttribute(
        lambda o: KEJAJAR if o.role == Role.AUDITOR else None)
    is_active_account = True
    password_hash = factory.LazyAttribute(lambda o: models.password_hasher.hash(o.password))

    class Params:
        password = PASSWORD


class AdminFactory(UserFactory):
    role = Role.ADMIN


class ActorFactory(BaseFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"CV Usaha Uji {n}")
    kind = ActorKind.SWASTA
    region_code = KEJAJAR


class TokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    name = "uji"
