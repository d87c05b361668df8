"""Typed declarative base, shared column types and the constraint naming convention."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every engine (SQLite stores naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; coopdesa stores aware UTC datetimes")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


#: The largest id a primary key holds on every engine (PostgreSQL INTEGER); a larger number
#: in a URL, a filter or JSON can name nothing and must not reach the database.
MAX_ID = 2**31 - 1


def is_id(value: object) -> bool:
    """Whether ``value`` is an int that could be a primary key."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def str_enum(enum_cls: type, length: int) -> sa.Enum:
    """A portable enum column storing the members' values as strings (no native type)."""
    return sa.Enum(enum_cls, native_enum=False, length=length,
                   values_callable=lambda members: [m.value for m in members])


def ordered_string(length: int) -> sa.types.TypeEngine[str]:
    """A string compared byte by byte on every engine.

    Region codes and search keys are searched by range ("33.07" < code < "33.07/"), which
    holds only under byte order; PostgreSQL databases created with a linguistic collation
    (en_US, id_ID) ignore the dots, so these columns use the "C" collation there.
    """
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


#: The type of every column holding a Kemendagri region code.
RegionCode = ordered_string(13)

intpk = Annotated[int, mapped_column(primary_key=True)]
utc_dt = Annotated[dt.datetime, mapped_column(UTCDateTime())]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow)]
str20 = Annotated[str, mapped_column(sa.String(20))]
str120 = Annotated[str, mapped_column(sa.String(120))]
str255 = Annotated[str, mapped_column(sa.String(255))]


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Enforce foreign keys and let readers work during a write on SQLite."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class Base(DeclarativeBase):
    # Every ``Mapped[datetime]`` is an aware UTC datetime, on SQLite as on PostgreSQL.
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )
