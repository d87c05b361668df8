"""A withholding of an agreement's document from the public page, with its legal basis
(shown to the public) and its reason (internal); lifted, it stays as history."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.accounts.models import User
from coopdesa.db import created_at, intpk
from coopdesa.extensions import db

MAX_LEGAL_BASIS = 200
MAX_REASON = 2000


class PublicationWithholding(db.Model):
    """While ``lifted_at`` is empty, the agreement is listed on the public pages without its
    PDF, with ``legal_basis`` as the public explanation."""

    __tablename__ = "publication_withholding"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposal.id", ondelete="CASCADE"),
                                             index=True)
    #: Short public text, e.g. "UU 14/2008 Pasal 17 huruf b".
    legal_basis: Mapped[str] = mapped_column(sa.String(MAX_LEGAL_BASIS))
    #: Why, for the record; never shown on the public pages.
    reason: Mapped[str] = mapped_column(sa.Text)
    withheld_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    withheld_at: Mapped[created_at]
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    lifted_at: Mapped[dt.datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(sa.Text)

    withheld_by: Mapped[User | None] = relationship(foreign_keys=[withheld_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    def __repr__(self) -> str:
        return f"<PublicationWithholding proposal={self.proposal_id} active={self.is_active}>"
