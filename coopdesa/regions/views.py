"""Browsing the register and the autocomplete endpoint used by the region widget."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coopdesa import access
from coopdesa.access import Action
from coopdesa.errors import ValidationError
from coopdesa.extensions import db
from coopdesa.regions import operations as ops
from coopdesa.regions.models import Region

bp = Blueprint("regions", __name__, url_prefix="/wilayah")


def search_args(*, strict: bool = False) -> dict:
    """Parse the shared query parameters of the HTML widget and the API.

    The widget is lenient (it only ever sends good values); with ``strict`` (the API) a
    bad ``limit`` or ``level`` is refused by name instead of ignored.
    """
    raw_levels = request.args.getlist("level")
    levels = tuple(int(v) for v in raw_levels if v in {"1", "2", "3", "4"})
    raw_limit = request.args.get("limit", "20")
    limit = int(raw_limit) if raw_limit.isdigit() else 20
    if strict:
        errors = {}
        if len(levels) != len(raw_levels):
            errors["level"] = [_("Tingkat wilayah harus 1, 2, 3 atau 4.")]
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 50:
            errors["limit"] = [_("Harus bilangan bulat antara %(low)d dan %(high)d.",
                                 low=1, high=50)]
        if errors:
            raise ValidationError(next(iter(errors.values()))[0], fields=errors)
    return {
        "query": (request.args.get("q") or "")[:100],
        "within": (request.args.get("within") or "")[:20] or None,
        "levels": levels or None,
        "parties_only": request.args.get("parties") in {"1", "true", "yes"},
        "limit": limit,
    }


@bp.route("/")
@login_required
def browse():
    access.require(current_user, Action.LIST, Region)
    args = search_args()
    results = ops.search_regions(**args) if args["query"] else []
    provinces = db.session.scalars(
        sa.select(Region).where(Region.level == 1).order_by(Region.code)
    ).all()
    return render_template("regions/browse.html", results=results, provinces=provinces,
                           args=args)


@bp.route("/<code>")
@login_required
def detail(code: str):
    region = ops.get_region(code)
    access.require(current_user, Action.VIEW, region)
    children = db.session.scalars(
        sa.select(Region).where(Region.parent_code == region.code).order_by(Region.code)
    ).all()
    ancestors = [db.session.get(Region, region.ancestor_code(level))
                 for level in range(1, region.level)]
    return render_template("regions/detail.html", region=region, children=children,
                           ancestors=[a for a in ancestors if a is not None])


@bp.route("/cari")
@login_required
def search():
    """JSON for the autocomplete widget (session-authenticated, read only)."""
    access.require(current_user, Action.LIST, Region)
    results = ops.search_regions(**search_args())
    return jsonify({"items": [r.to_dict() for r in results]})
