"""JSON API of the cooperation network: the nodes, edges and metrics of a scope, the stored
summary of a province or the country, and the GraphML, GEXF and CSV downloads. Access is
the rule "network" of coopdesa.access (VIEW to read, EXPORT to download)."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action, NetworkOf
from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.api import endpoint, query_param
from coopdesa.api.openapi import SCHEMAS
from coopdesa.errors import DomainError, ValidationError
from coopdesa.extensions import db
from coopdesa.network import exports
from coopdesa.network import operations as ops
from coopdesa.network.graph import NetworkFilters, Scope, ScopeKind, StateFilter, parse_scope
from coopdesa.network.stages import Stage
from coopdesa.proposals.models import Bidang

TAG = "network"


class BadQuery(DomainError):
    """A query argument the API cannot use: 400, naming the argument in ``fields``."""

    status = 400
    code = "bad_request"


_int = {"type": "integer"}
_str = {"type": "string"}
_nullable = {"type": ["string", "null"]}
_strings = {"type": "array", "items": _str}
_STAGES = [s.value for s in Stage]
_STAGE_COUNTS = {"type": "object", "required": _STAGES,
                 "properties": {s: {"type": "integer", "minimum": 0} for s in _STAGES},
                 "description": "Desa inside the scope per stage (bonding, bridging, "
                                "networking)."}
_SCOPE_KEY = ("`desa:<code>` (add `:2` for two steps), `kecamatan:<code>`, "
              "`kabupaten:<code>`, `bkad:<id>`, `provinsi:<code>` or `nasional`.")

SCHEMAS.update({
    "NetworkScope": {
        "type": "object", "required": ["key", "kind", "code", "label"],
        "properties": {
            "key": {**_str, "examples": ["kecamatan:33.07.13"]},
            "kind": {"type": "string", "enum": [k.value for k in ScopeKind]},
            "code": {**_nullable, "description": "Region code, or the BKAD id; null for "
                                                 "nasional."},
            "label": _str,
        },
    },
    "NetworkFilters": {
        "type": "object", "required": ["state", "bidang", "year"],
        "properties": {
            "state": {"type": "string", "enum": [s.value for s in StateFilter]},
            "bidang": {"type": ["string", "null"], "enum": [b.value for b in Bidang] + [None]},
            "year": {"type": ["integer", "null"]},
        },
    },
    "NetworkNode": {
        "type": "object",
        "required": ["id", "label", "kind", "category", "actor_id", "region", "inside",
                     "metrics", "stage", "stage_reason"],
        "properties": {
            "id": {**_str, "description": "`desa:<code>` for a desa, `actor:<id>` for any "
                                          "other party."},
            "label": _str,
            "kind": {"type": "string", "enum": [k.value for k in ActorKind]},
            "category": {"type": "string", "enum": [c.value for c in ActorCategory]},
            "actor_id": {"type": ["integer", "null"],
                         "description": "Null for a desa that is not a party yet."},
            "region": {**_nullable, "description": "Where the actor sits (any level)."},
            "kecamatan": _nullable, "kabupaten": _nullable,
            "inside": {"type": "boolean", "description": "Whether it lies in the scope."},
            "metrics": {
                "type": "object",
                "required": ["degree", "weighted_degree", "betweenness", "community",
                             "partners", "outside_kecamatan", "outside_kabupaten"],
                "properties": {
                    "degree": {**_int, "description": "Partners."},
                    "weighted_degree": {**_int, "description": "Agreements with them."},
                    "betweenness": {"type": "number", "minimum": 0, "maximum": 1,
                                    "description": "Normalized betweenness centrality."},
                    "community": {"type": ["integer", "null"],
                                  "description": "Louvain community, 1 = largest."},
                    "partners": {"type": "object",
                                 "properties": {c.value: _int for c in ActorCategory},
                                 "description": "Partners per category."},
                    "outside_kecamatan": _int, "outside_kabupaten": _int,
                },
            },
            "stage": {"type": ["string", "null"], "enum": [*_STAGES, None],
                      "description": "For a desa inside the scope: its stage from the "
                                     "agreements in force, whatever the filters."},
            "stage_reason": _nullable,
        },
    },
    "NetworkEdge": {
        "type": "object",
        "required": ["source", "target", "weight", "active", "agreements", "kinds",
                     "bidang", "states", "start", "end"],
        "properties": {
            "source": _str, "target": _str,
            "weight": {**_int, "description": "Agreements the two share."},
            "active": {**_int, "description": "Of those, the ones that bind now."},
            "agreements": {"type": "array", "items": _int,
                           "description": "Proposal ids (see /proposals/{proposal_id})."},
            "kinds": _strings, "bidang": _strings, "states": _strings,
            "start": {**_nullable, "format": "date"}, "end": {**_nullable, "format": "date"},
        },
    },
    "Network": {
        "type": "object",
        "required": ["scope", "filters", "computed_at", "summary", "nodes", "edges"],
        "properties": {
            "scope": {"$ref": "#/components/schemas/NetworkScope"},
            "filters": {"$ref": "#/components/schemas/NetworkFilters"},
            "computed_at": {"type": ["string", "null"], "format": "date-time",
                            "description": "When the stored result the stages come from "
                                           "was computed."},
            "stage_rule": {"type": "object", "additionalProperties": _int},
            "summary": {
                "type": "object",
                "required": ["nodes", "edges", "agreements", "density", "communities",
                             "isolated", "cross_kecamatan", "cross_kabupaten",
                             "betweenness_exact", "stage_counts"],
                "properties": {
                    "nodes": _int, "edges": _int, "agreements": _int,
                    "density": {"type": "number", "minimum": 0, "maximum": 1},
                    "communities": {**_int, "description": "Communities of two or more."},
                    "isolated": {**_strings, "description": "Node ids of the desa inside "
                                                            "the scope without a partner."},
                    "cross_kecamatan": _int, "cross_kabupaten": _int,
                    "betweenness_exact": {"type": "boolean",
                                          "description": "False when estimated by "
                                                         "sampling (huge graphs)."},
                    "stage_counts": _STAGE_COUNTS,
                },
            },
            "nodes": {"type": "array", "items": {"$ref": "#/components/schemas/NetworkNode"}},
            "edges": {"type": "array", "items": {"$ref": "#/components/schemas/NetworkEdge"}},
        },
    },
    "NetworkSummary": {
        "type": "object", "required": ["scope", "summary"],
        "properties": {
            "scope": {"$ref": "#/components/schemas/NetworkScope"},
            "filters": {"$ref": "#/components/schemas/NetworkFilters"},
            "summary": {
                "type": "object", "required": ["kabupaten", "stage_counts"],
                "properties": {
                    "kabupaten": {"type": "array", "items": {
                        "type": "object",
                        "required": ["code", "name", "computed_at", "stale", "nodes",
                                     "edges", "agreements", "villages", "isolated",
                                     "density", "communities", "cross_kecamatan",
                                     "cross_kabupaten", "stage_counts"],
                        "properties": {
                            "code": _str, "name": _str,
                            "computed_at": {"type": ["string", "null"],
                                            "format": "date-time"},
                            "stale": {"type": "boolean",
                                      "description": "Never computed, or the agreements "
                                                     "changed since."},
                            "nodes": _int, "edges": _int, "agreements": _int,
                            "villages": _int, "isolated": _int,
                            "density": {"type": "number"}, "communities": _int,
                            "cross_kecamatan": _int, "cross_kabupaten": _int,
                            "stage_counts": _STAGE_COUNTS,
                        },
                    }},
                    "stage_counts": _STAGE_COUNTS,
                },
            },
        },
    },
    "NetworkResponse": {
        "oneOf": [{"$ref": "#/components/schemas/Network"},
                  {"$ref": "#/components/schemas/NetworkSummary"}],
        "description": "Network for a desa, kecamatan, kabupaten/kota or BKAD; "
                       "NetworkSummary for a province or the country.",
    },
})

SCOPE = query_param("scope", "The scope: " + _SCOPE_KEY, required=True)
FILTERS = [
    query_param("state", "`active` (default: signed, in force, postponed) or `all` "
                         "(also ended).", enum=[s.value for s in StateFilter]),
    query_param("bidang", "Only agreements of this bidang (UU 6/2014 Pasal 92(1)).",
                enum=[b.value for b in Bidang]),
    query_param("year", "Only agreements running in that year.", type_="integer",
                minimum=1945, maximum=2200),
]
FORMAT = query_param("format", "The file format.", required=True,
                     enum=list(exports.FORMATS))
_ERRORS = {400: "Error", 403: "Error", 404: "Error"}


def _bad_query(exc: ValidationError) -> BadQuery:
    return BadQuery(exc.message, fields=exc.fields)


def _scope(action: Action) -> Scope:
    try:
        scope = parse_scope(request.args.get("scope"))
    except ValidationError as exc:
        raise _bad_query(exc) from None
    access.require(current_user, action, NetworkOf(scope))
    return scope


def _filters(scope: Scope) -> NetworkFilters:
    try:
        filters = NetworkFilters.parse(request.args)
    except ValidationError as exc:
        raise _bad_query(exc) from None
    if not scope.is_live and not filters.is_default:
        message = _("Penyaring hanya berlaku untuk cakupan kabupaten/kota atau lebih kecil "
                    "(kecamatan, BKAD, desa); provinsi dan nasional memakai hasil tersimpan "
                    "kerja sama yang berlaku.")
        named = {name for name, value in filters.to_args().items()
                 if value != NetworkFilters().to_args().get(name)}
        raise BadQuery(message, fields={name: [message] for name in sorted(named)})
    return filters


@endpoint("/network", summary="The cooperation network of a scope", tag=TAG,
          params=[SCOPE, *FILTERS],
          description="Nodes (actors), edges (their shared agreements) and metrics for a "
                      "desa, kecamatan, kabupaten/kota or BKAD, with any filter. A province "
                      "or the country answers the results stored per kabupaten/kota "
                      "(agreements in force, no filter) instead. Only signed agreements "
                      "count; one whose public document is withheld is left out.",
          responses={200: "NetworkResponse", **_ERRORS})
def get_network():
    scope = _scope(Action.VIEW)
    filters = _filters(scope)
    if not scope.is_live:
        body = exports.stored_summary(scope)
        db.session.commit()  # a province may have refreshed a few stale results
        return jsonify(body)
    net = ops.live_network(scope, filters)
    db.session.commit()  # a stale stored result may have been refreshed
    return jsonify(exports.network_json(scope, filters, net.graph, net.metrics, net.rule,
                                        computed_at=net.computed_at))


@endpoint("/network/export", summary="The network of a scope as a file", tag=TAG,
          params=[SCOPE, FORMAT, *FILTERS],
          description="GraphML or GEXF (for Gephi, networkx, igraph), or the node or edge "
                      "list as CSV, of a desa, kecamatan, kabupaten/kota or BKAD, sent as "
                      "an attachment. A province or the country is exported per "
                      "kabupaten/kota.",
          responses={200: None, **_ERRORS})
def export_network():
    scope = _scope(Action.EXPORT)
    fmt = request.args.get("format", "").strip()
    if fmt not in exports.FORMATS:
        message = _("Format unduhan tidak dikenal: pilih graphml, gexf, nodes.csv atau "
                    "edges.csv.")
        raise BadQuery(message, fields={"format": [message]})
    if not scope.is_live:
        message = _("Unduhan jaringan dibuat per kabupaten/kota, kecamatan, BKAD atau desa; "
                    "untuk provinsi atau nasional, unduh tiap kabupaten/kota.")
        raise BadQuery(message, fields={"scope": [message]})
    filters = _filters(scope)
    net = ops.live_network(scope, filters)
    db.session.commit()
    if fmt == "graphml":
        body: bytes | str = exports.graphml_bytes(net.graph, net.metrics, net.rule,
                                                  filters=filters,
                                                  computed_at=net.computed_at)
    elif fmt == "gexf":
        body = exports.gexf_bytes(net.graph, net.metrics, net.rule, filters=filters,
                                  computed_at=net.computed_at)
    elif fmt == "nodes.csv":
        body = exports.nodes_csv(net.graph, net.metrics, net.rule)
    else:
        body = exports.edges_csv(net.graph)
    response = Response(body, content_type=exports.FORMATS[fmt][0])
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{exports.filename(scope, fmt)}"'
    return response
