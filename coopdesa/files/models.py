"""A stored upload: the bytes, their SHA-256 and what the content was recognised as."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from coopdesa.db import created_at, intpk
from coopdesa.extensions import db


class StoredFile(db.Model):
    __tablename__ = "stored_file"

    id: Mapped[intpk]
    #: A generated name (never the uploader's), used in downloads.
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: The uploader's file name, cleaned, shown to people only.
    original_name: Mapped[str] = mapped_column(sa.String(200))
    #: What the content is (by its bytes, not its name): application/pdf, image/png, ...
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    data: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
