"""/api/v1/actors: the registry of parties, on the same operations as the HTML pages."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action
from coopdesa.actors import operations as ops
from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.api import endpoint, int_arg, json_body, path_param, query_param
from coopdesa.errors import ValidationError
from coopdesa.extensions import db

_INPUT_FIELDS = set(ops.EDITABLE_FIELDS)


@endpoint(
    "/actors", summary="Search the registry of parties", tag="actors",
    params=[
        query_param("q", "Text in the name, or an exact NIB.", maxLength=100),
        query_param("kind", "Actor kind.", enum=[k.value for k in ActorKind]),
        query_param("category", "Actor category.", enum=[c.value for c in ActorCategory]),
        query_param("region", "Region code the actor sits in (any level).", maxLength=20),
        query_param("page", "Page number.", type_="integer", minimum=1, maximum=10000),
        query_param("per_page", "Rows per page (1-100).", type_="integer", minimum=1,
                    maximum=100),
    ],
    responses={200: "ActorPage", 422: "Error"},
)
def list_actors():
    access.require(current_user, Action.LIST, "actor")
    page = ops.search_actors(
        text=(request.args.get("q") or "")[:100], kind=request.args.get("kind") or None,
        category=request.args.get("category") or None,
        region=(request.args.get("region") or "")[:20] or None,
        page=int_arg("page", 1), per_page=int_arg("per_page", 25, high=100),
    )
    return jsonify({"items": [a.to_dict() for a in page.items], "total": page.total,
                    "page": page.page, "per_page": page.per_page, "pages": page.pages})


@endpoint("/actors", method="POST", summary="Register an actor", tag="actors",
          body="ActorInput", responses={201: "Actor", 403: "Error", 422: "Error"})
def create_actor():
    access.require(current_user, Action.CREATE, "actor")
    data = json_body(_INPUT_FIELDS)
    actor = ops.create_actor(data, by=current_user)
    db.session.commit()
    return jsonify(actor.to_dict()), 201


@endpoint("/actors/<int:actor_id>", summary="One actor", tag="actors",
          params=[path_param("actor_id", "Actor id.", type_="integer")],
          responses={200: "Actor", 404: "Error"})
def get_actor(actor_id: int):
    actor = ops.get_actor(actor_id)
    access.require(current_user, Action.VIEW, actor)
    return jsonify(actor.to_dict())


@endpoint(
    "/actors/<int:actor_id>", method="PUT", summary="Replace an actor's fields", tag="actors",
    description="Send every field and the `version` you read; a stale version gets 409 with "
                "the current record in `error.current`.",
    params=[path_param("actor_id", "Actor id.", type_="integer")], body="ActorUpdate",
    responses={200: "Actor", 403: "Error", 404: "Error", 409: "Error", 422: "Error"},
)
def update_actor(actor_id: int):
    actor = ops.get_actor(actor_id)
    access.require(current_user, Action.EDIT, actor)
    data = json_body(_INPUT_FIELDS | {"version"})
    version = data.pop("version", None)
    if not isinstance(version, int) or isinstance(version, bool):
        message = _("Sertakan versi (bilangan bulat) yang Anda baca sebelum mengubah.")
        raise ValidationError(message, fields={"version": [message]})
    ops.update_actor(actor, data, expected_version=version)
    db.session.commit()
    return jsonify(actor.to_dict())
