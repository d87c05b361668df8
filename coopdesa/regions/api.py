"""/api/v1/regions: search and read the official register."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.api import endpoint, path_param, query_param
from coopdesa.extensions import db
from coopdesa.regions import operations as ops
from coopdesa.regions.models import Region
from coopdesa.regions.views import search_args


@endpoint(
    "/regions", summary="Search regions by name or code", tag="regions",
    description="Prefix of a name or a code; narrow with `within` (a provinsi, kabupaten/kota "
                "or kecamatan code), `level` (repeatable) and `parties=1` (desa and desa "
                "adat only, never a kelurahan).",
    params=[
        query_param("q", "Name or code, e.g. 'dieng' or '33.07.13'.", maxLength=100),
        query_param("within", "Region code to search inside.", maxLength=20),
        {"name": "level", "in": "query", "required": False, "style": "form", "explode": True,
         "description": "1 provinsi, 2 kabupaten/kota, 3 kecamatan, 4 desa/kelurahan.",
         "schema": {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3, 4]}}},
        query_param("parties", "1 to return only desa and desa adat.", enum=["0", "1"]),
        query_param("limit", "At most this many (1-50).", type_="integer", minimum=1,
                    maximum=50),
    ],
    responses={200: "RegionList", 422: "Error"},
)
def list_regions():
    access.require(current_user, Action.LIST, Region)
    results = ops.search_regions(**search_args(strict=True))
    return jsonify({"items": [r.to_dict() for r in results]})


@endpoint("/regions/<code>", summary="One region with its direct children", tag="regions",
          params=[path_param("code", "Dotted Kemendagri code, e.g. 33.07.13.")],
          responses={200: "RegionDetail", 404: "Error"})
def get_region(code: str):
    region = ops.get_region(code)
    access.require(current_user, Action.VIEW, region)
    children = db.session.scalars(
        sa.select(Region).where(Region.parent_code == region.code).order_by(Region.code)
    ).all()
    return jsonify({**region.to_dict(), "children": [c.to_dict() for c in children]})
