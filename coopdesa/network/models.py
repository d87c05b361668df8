"""Stored network results: one row per kabupaten/kota (the unit ``flask coopdesa network
compute`` works in) and one per actor of its graph. Pages of a kabupaten, a province and the
country, the dashboards and the stage of each desa read these instead of recomputing; the
``fingerprint`` tells when the agreements underneath have changed (``store``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coopdesa.db import RegionCode, intpk, str_enum, utcnow
from coopdesa.extensions import db
from coopdesa.network.stages import Stage


class NetworkResult(db.Model):
    __tablename__ = "network_result"

    id: Mapped[intpk]
    #: The kabupaten/kota code.
    scope_code: Mapped[str] = mapped_column(RegionCode, sa.ForeignKey("region.code"),
                                            unique=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    elapsed_ms: Mapped[int] = mapped_column(default=0)
    node_count: Mapped[int] = mapped_column(default=0)
    edge_count: Mapped[int] = mapped_column(default=0)
    agreement_count: Mapped[int] = mapped_column(default=0)
    village_count: Mapped[int] = mapped_column(default=0)
    isolated_count: Mapped[int] = mapped_column(default=0)
    community_count: Mapped[int] = mapped_column(default=0)
    density: Mapped[float] = mapped_column(sa.Float, default=0.0)
    cross_kecamatan: Mapped[int] = mapped_column(default=0)
    cross_kabupaten: Mapped[int] = mapped_column(default=0)
    betweenness_exact: Mapped[bool] = mapped_column(default=True)
    #: {"bonding": n, "bridging": n, "networking": n}
    stage_counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    nodes: Mapped[list[NetworkNode]] = relationship(
        back_populates="result", cascade="all, delete-orphan", passive_deletes=True)


class NetworkNode(db.Model):
    __tablename__ = "network_node"
    __table_args__ = (
        sa.UniqueConstraint("result_id", "node_key", name="node_once"),
    )

    id: Mapped[intpk]
    result_id: Mapped[int] = mapped_column(
        sa.ForeignKey("network_result.id", ondelete="CASCADE"), index=True)
    #: ``desa:<code>`` or ``actor:<id>`` (graph.node_key).
    node_key: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None]
    #: For a desa: its code; indexed, so a desa finds its stage in one lookup.
    desa_code: Mapped[str | None] = mapped_column(RegionCode, index=True)
    label: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(24))
    #: The region the actor sits in (its desa code for a desa), maybe empty.
    region: Mapped[str] = mapped_column(sa.String(20), default="")
    inside: Mapped[bool] = mapped_column(default=True)
    degree: Mapped[int] = mapped_column(default=0)
    weighted_degree: Mapped[int] = mapped_column(default=0)
    betweenness: Mapped[float] = mapped_column(sa.Float, default=0.0)
    community: Mapped[int | None]
    categories: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    outside_kecamatan: Mapped[int] = mapped_column(default=0)
    outside_kabupaten: Mapped[int] = mapped_column(default=0)
    stage: Mapped[Stage | None] = mapped_column(str_enum(Stage, 12))
    active_partners: Mapped[int] = mapped_column(default=0)
    active_kinds: Mapped[int] = mapped_column(default=0)
    active_outside: Mapped[int] = mapped_column(default=0)

    result: Mapped[NetworkResult] = relationship(back_populates="nodes")
