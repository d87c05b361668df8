"""/api/v1/me: the caller's own profile and scope."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from coopdesa.access import scope_desa_codes
from coopdesa.api import endpoint


@endpoint("/me", summary="The authenticated user's profile, role and scope", tag="accounts",
          responses={200: "Me"})
def me():
    user = current_user
    codes = scope_desa_codes(user)
    return jsonify({
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "office": user.office,
        "email": user.email,
        "role": user.role.value,
        "scope": {
            "label": user.scope_label,
            "desa_code": user.desa_code,
            "bkad_id": user.bkad_id,
            "jurisdiction_code": user.jurisdiction_code,
            "desa_codes": sorted(codes) if codes is not None else None,
        },
    })
