"""The OpenAPI 3.1 document, built from the endpoints declared with ``api.endpoint``."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify

from coopdesa import __version__
from coopdesa.accounts.models import Role
from coopdesa.actors.models import ActorCategory, ActorKind
from coopdesa.api import OPERATIONS, endpoint
from coopdesa.proposals.models import (
    Bidang,
    EndGround,
    FundingSource,
    Initiative,
    Judgment,
    Kind,
    PartyRole,
)
from coopdesa.proposals.states import TRANSITIONS, State
from coopdesa.regions.models import RegionKind

_nullable_string = {"type": ["string", "null"]}

ACTOR_FIELDS: dict[str, Any] = {
    "kind": {"type": "string", "enum": [k.value for k in ActorKind]},
    "name": {"type": ["string", "null"], "maxLength": 200,
             "description": "Required except for kind desa (taken from the register)."},
    "desa_code": {"type": ["string", "null"], "maxLength": 20,
                  "description": "For kind desa: a desa or desa adat code."},
    "region_code": {"type": ["string", "null"], "maxLength": 20},
    "nib": {"type": ["string", "null"], "description": "13 digits."},
    "npwp": {"type": ["string", "null"], "maxLength": 30},
    "address": {"type": ["string", "null"], "maxLength": 500},
    "contact_name": {"type": ["string", "null"], "maxLength": 120},
    "phone": {"type": ["string", "null"], "maxLength": 30},
    "email": {"type": ["string", "null"], "maxLength": 254},
    "notes": {"type": ["string", "null"], "maxLength": 5000},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": {"type": "string", "examples": ["validation_failed"]},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "Messages per field name.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "current": {
                        "type": "object",
                        "description": "On 409 for a proposal: its state and version now.",
                        "properties": {"state": {"type": "string"},
                                       "version": {"type": "integer"}},
                    },
                    "changes": {
                        "type": "array",
                        "description": "On 409 for a stale save: what others saved since "
                                       "the version you sent.",
                        "items": {"type": "object", "properties": {
                            "at": {"type": "string", "format": "date-time"},
                            "by": {"type": "string"},
                            "summary": {"type": "string"},
                            "fields": {"type": "array", "items": {"type": "string"}},
                        }},
                    },
                },
                "additionalProperties": True,
            }
        },
    },
    "Region": {
        "type": "object",
        "required": ["code", "name", "level", "kind", "path", "may_be_party"],
        "properties": {
            "code": {"type": "string", "examples": ["33.07.13.2013"]},
            "name": {"type": "string"},
            "level": {"type": "integer", "minimum": 1, "maximum": 4},
            "kind": {"type": "string", "enum": [k.value for k in RegionKind]},
            "kind_label": {"type": "string"},
            "parent_code": _nullable_string,
            "path": {"type": "string"},
            "postal_code": _nullable_string,
            "may_be_party": {"type": "boolean",
                             "description": "Desa or desa adat (a kelurahan never is)."},
        },
    },
    "RegionList": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}}
        },
    },
    "RegionDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Region"},
            {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}}
            }},
        ]
    },
    "Actor": {
        "type": "object",
        "required": ["id", "name", "kind", "category", "version"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": [k.value for k in ActorKind]},
            "kind_label": {"type": "string"},
            "category": {"type": "string", "enum": [c.value for c in ActorCategory]},
            "desa_code": _nullable_string,
            "region_code": _nullable_string,
            "region_path": _nullable_string,
            "nib": _nullable_string,
            "npwp": _nullable_string,
            "address": _nullable_string,
            "contact_name": _nullable_string,
            "phone": _nullable_string,
            "email": _nullable_string,
            "notes": _nullable_string,
            "version": {"type": "integer",
                        "description": "Send it back when updating (optimistic locking)."},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "ActorInput": {
        "type": "object",
        "required": ["kind"],
        "additionalProperties": False,
        "properties": ACTOR_FIELDS,
    },
    "ActorUpdate": {
        "type": "object",
        "required": ["kind", "version"],
        "additionalProperties": False,
        "properties": {
            **ACTOR_FIELDS,
            "version": {"type": "integer",
                        "description": "The version the edit was made on (optimistic "
                                       "locking); a stale one gets 409."},
        },
    },
    "ActorPage": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Actor"}},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    },
    "Me": {
        "type": "object",
        "required": ["id", "username", "full_name", "role", "scope"],
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "full_name": {"type": "string"},
            "office": _nullable_string,
            "email": _nullable_string,
            "role": {"type": "string", "enum": [r.value for r in Role]},
            "scope": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "desa_code": _nullable_string,
                    "bkad_id": {"type": ["integer", "null"]},
                    "jurisdiction_code": _nullable_string,
                    "desa_codes": {"type": ["array", "null"], "items": {"type": "string"}},
                },
            },
        },
    },
}

# --- proposals -----------------------------------------------------------------------------

_date = {"type": ["string", "null"], "format": "date"}
_datetime = {"type": ["string", "null"], "format": "date-time"}
_nullable_text = {"type": ["string", "null"], "maxLength": 20000}
_user_ref = {
    "type": ["object", "null"],
    "required": ["id", "username", "full_name"],
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                   "full_name": {"type": "string"}},
}


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    }


SCHEMAS.update({
    "Funding": {
        "type": "object",
        "required": ["source", "amount"],
        "properties": {
            "id": {"type": "integer"},
            "source": {"type": "string", "enum": [f.value for f in FundingSource]},
            "source_label": {"type": "string"},
            "amount": {"type": "integer", "minimum": 0, "description": "Whole Rupiah."},
            "apbdes_year": {"type": ["integer", "null"]},
            "description": _nullable_string,
        },
    },
    "PartySummary": {
        "type": "object",
        "required": ["id", "actor_id", "name", "desa_code", "role"],
        "properties": {
            "id": {"type": "integer"},
            "actor_id": {"type": "integer"},
            "name": {"type": "string"},
            "actor_kind": {"type": "string", "enum": [k.value for k in ActorKind]},
            "desa_code": _nullable_string,
            "role": {"type": "string", "enum": [r.value for r in PartyRole]},
            "role_label": {"type": "string"},
        },
    },
    "Party": {
        "allOf": [
            {"$ref": "#/components/schemas/PartySummary"},
            {"type": "object",
             "required": ["signatory_name", "signatory_office", "funding"],
             "properties": {
                 "position": {"type": "integer"},
                 "signatory_name": _nullable_string,
                 "signatory_office": _nullable_string,
                 "delegates": {"type": ["string", "null"],
                               "description": "One name per line."},
                 "hak": _nullable_string,
                 "kewajiban": _nullable_string,
                 "funding": {"type": "array",
                             "items": {"$ref": "#/components/schemas/Funding"}},
                 "funding_total": {"type": "integer"},
             }},
        ]
    },
    "ProposalSummary": {
        "type": "object",
        "required": ["id", "ref", "kind", "initiative", "state", "title", "version",
                     "parties"],
        "properties": {
            "id": {"type": "integer"},
            "ref": {"type": "string", "examples": ["KSD-2026-00042"]},
            "kind": {"type": "string", "enum": [k.value for k in Kind]},
            "kind_label": {"type": "string"},
            "initiative": {"type": "string", "enum": [i.value for i in Initiative]},
            "state": {"type": "string", "enum": [s.value for s in State]},
            "state_label": {"type": "string"},
            "title": {"type": "string"},
            "kabupaten_code": _nullable_string,
            "bkad_id": {"type": ["integer", "null"]},
            "start_date": _date,
            "end_date": _date,
            "created_at": _datetime,
            "updated_at": _datetime,
            "submitted_at": _datetime,
            "version": {"type": "integer",
                        "description": "Send it back with every change (optimistic "
                                       "locking)."},
            "parties": {"type": "array",
                        "items": {"$ref": "#/components/schemas/PartySummary"}},
        },
    },
    "ProposalPage": _page_of("ProposalSummary"),
    "Sections": {
        "type": "object",
        "description": "The content, PP 43/2014 Pasal 143; rights, obligations and funding "
                       "are per party.",
        "properties": {
            "title": {"type": "string"},
            "menimbang": _nullable_string,
            "mengingat": _nullable_string,
            "tujuan": _nullable_string,
            "ruang_lingkup": _nullable_string,
            "bidang": {"type": "array",
                       "items": {"type": "string", "enum": [b.value for b in Bidang]}},
            "bidang_uraian": _nullable_string,
            "tata_cara": _nullable_string,
            "start_date": _date,
            "end_date": _date,
            "perubahan": _nullable_string,
            "perselisihan": _nullable_string,
            "analisis_biaya_manfaat": _nullable_string,
            "kerangka_acuan_kerja": _nullable_string,
        },
    },
    "Proposal": {
        "allOf": [
            {"$ref": "#/components/schemas/ProposalSummary"},
            {"type": "object",
             "required": ["sections", "parties", "available_transitions",
                          "missing_sections"],
             "properties": {
                 "sections": {"$ref": "#/components/schemas/Sections"},
                 "parties": {"type": "array", "items": {"$ref": "#/components/schemas/Party"}},
                 "state_changed_at": _datetime,
                 "ended_on": _date,
                 "end_ground": {"type": ["string", "null"],
                                "enum": [g.value for g in EndGround] + [None],
                                "description": "PP 43/2014 Pasal 147 huruf a-i."},
                 "end_note": _nullable_string,
                 "is_editable": {"type": "boolean"},
                 "missing_sections": {
                     "type": "array",
                     "description": "Required sections not yet filled.",
                     "items": {"type": "object", "required": ["key", "label"],
                               "properties": {"key": {"type": "string"},
                                              "label": {"type": "string"}}},
                 },
                 "submission_errors": {
                     "type": "object",
                     "description": "While editable: what stops submission, by field.",
                     "additionalProperties": {"type": "array", "items": {"type": "string"}},
                 },
                 "available_transitions": {
                     "type": "array",
                     "description": "What the caller may attempt now (guards are checked "
                                    "when attempted).",
                     "items": {"type": "object", "required": ["action", "label", "target"],
                               "properties": {
                                   "action": {"type": "string", "enum": list(TRANSITIONS)},
                                   "label": {"type": "string"},
                                   "target": {"type": "string",
                                              "enum": [s.value for s in State]},
                                   "needs_text": {"type": "boolean"},
                               }},
                 },
                 "permissions": {
                     "type": "object",
                     "properties": {"edit": {"type": "boolean"},
                                    "comment": {"type": "boolean"},
                                    "read_audit": {"type": "boolean"}},
                 },
                 "reviews": {
                     "type": "array",
                     "items": {"type": "object", "properties": {
                         "id": {"type": "integer"},
                         "version_number": {"type": "integer"},
                         "judgment": {"type": "string", "enum": [j.value for j in Judgment]},
                         "judgment_label": {"type": "string"},
                         "points": {"type": "array", "items": {"type": "string"}},
                         "note": _nullable_string,
                         "reviewer": _user_ref,
                         "created_at": _datetime,
                     }},
                 },
             }},
        ]
    },
    "ProposalCreate": {
        "type": "object",
        "required": ["kind", "initiative", "title"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "enum": [k.value for k in Kind]},
            "initiative": {"type": "string", "enum": [i.value for i in Initiative]},
            "title": {"type": "string", "maxLength": 300},
            "own_desa_code": {"type": ["string", "null"],
                              "description": "Admins only: the drafting desa."},
            "partner_desa_codes": {"type": "array", "items": {"type": "string"}},
            "third_party_actor_ids": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "ProposalSectionsInput": {
        "type": "object",
        "required": ["version"],
        "additionalProperties": False,
        "properties": {
            "version": {"type": "integer", "description": "The version the edit was made on."},
            "title": {"type": "string", "maxLength": 300},
            "menimbang": _nullable_text,
            "mengingat": _nullable_text,
            "tujuan": _nullable_text,
            "ruang_lingkup": _nullable_text,
            "bidang": {"type": "array",
                       "items": {"type": "string", "enum": [b.value for b in Bidang]},
                       "description": "antar_desa only (UU 6/2014 Pasal 92(1))."},
            "bidang_uraian": _nullable_text,
            "tata_cara": _nullable_text,
            "start_date": _date,
            "end_date": _date,
            "perubahan": _nullable_text,
            "perselisihan": _nullable_text,
            "analisis_biaya_manfaat": _nullable_text,
            "kerangka_acuan_kerja": _nullable_text,
        },
    },
    "PartyInput": {
        "type": "object",
        "additionalProperties": False,
        "description": "Either `desa_code` (a desa or desa adat) or `actor_id`.",
        "properties": {
            "desa_code": {"type": ["string", "null"]},
            "actor_id": {"type": ["integer", "null"]},
            "role": {"type": "string", "enum": [r.value for r in PartyRole],
                     "default": "mitra"},
            "signatory_name": {"type": ["string", "null"], "maxLength": 120},
            "signatory_office": {"type": ["string", "null"], "maxLength": 120},
        },
    },
    "PartyUpdate": {
        "type": "object",
        "required": ["version"],
        "additionalProperties": False,
        "properties": {
            "version": {"type": "integer"},
            "role": {"type": "string", "enum": [r.value for r in PartyRole]},
            "signatory_name": {"type": ["string", "null"], "maxLength": 120},
            "signatory_office": {"type": ["string", "null"], "maxLength": 120},
            "delegates": {"type": ["string", "null"], "maxLength": 5000},
            "hak": _nullable_text,
            "kewajiban": _nullable_text,
        },
    },
    "FundingUpdate": {
        "type": "object",
        "required": ["version", "funding"],
        "additionalProperties": False,
        "properties": {
            "version": {"type": "integer"},
            "funding": {"type": "array", "items": {
                "type": "object",
                "required": ["source", "amount"],
                "additionalProperties": False,
                "properties": {
                    "source": {"type": "string", "enum": [f.value for f in FundingSource]},
                    "amount": {"type": ["integer", "string"],
                               "description": "Whole Rupiah: 25000000 or \"Rp25.000.000\"."},
                    "apbdes_year": {"type": ["integer", "null"]},
                    "description": {"type": ["string", "null"], "maxLength": 300},
                },
            }},
        },
    },
    "TransitionInput": {
        "type": "object",
        "required": ["action"],
        "additionalProperties": False,
        "properties": {
            "action": {"type": "string", "enum": list(TRANSITIONS)},
            "expected_state": {"type": "string", "enum": [s.value for s in State],
                               "description": "Refuse (409) if the state has changed."},
            "text": {"type": ["string", "null"],
                     "description": "A note; the reason for withdraw."},
            "points": {"type": "array", "items": {"type": "string"},
                       "description": "Required changes, or reasons for a rejection."},
            "ground": {"type": "string", "enum": [g.value for g in EndGround],
                       "description": "For end: PP 43/2014 Pasal 147 huruf a-i."},
            "ended_on": {"type": "string", "format": "date"},
        },
    },
    "Comment": {
        "type": "object",
        "required": ["id", "body", "author", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "proposal_id": {"type": "integer"},
            "version_number": {"type": ["integer", "null"]},
            "section": _nullable_string,
            "parent_id": {"type": ["integer", "null"]},
            "author": _user_ref,
            "body": {"type": "string"},
            "created_at": _datetime,
            "edited_at": _datetime,
            "editable_until": _datetime,
            "struck_at": _datetime,
            "struck_by": _nullable_string,
        },
    },
    "CommentList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array",
                                 "items": {"$ref": "#/components/schemas/Comment"}}},
    },
    "CommentInput": {
        "type": "object",
        "required": ["body"],
        "additionalProperties": False,
        "properties": {
            "body": {"type": "string", "maxLength": 10000},
            "section": {"type": ["string", "null"],
                        "description": "A section key, `parties`, or null for the whole."},
            "parent_id": {"type": ["integer", "null"]},
        },
    },
    "CommentEdit": {
        "type": "object",
        "required": ["body"],
        "additionalProperties": False,
        "properties": {"body": {"type": "string", "maxLength": 10000}},
    },
    "VersionInfo": {
        "type": "object",
        "required": ["number", "created_at"],
        "properties": {
            "number": {"type": "integer"},
            "created_at": _datetime,
            "created_by": _user_ref,
        },
    },
    "VersionList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array",
                                 "items": {"$ref": "#/components/schemas/VersionInfo"}}},
    },
    "Version": {
        "allOf": [
            {"$ref": "#/components/schemas/VersionInfo"},
            {"type": "object", "required": ["snapshot"], "properties": {
                "snapshot": {"type": "object", "description": "Every section as plain text.",
                             "additionalProperties": {"type": "string"}},
            }},
        ]
    },
    "Diff": {
        "type": "object",
        "required": ["a", "b", "sections"],
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "integer"},
            "sections": {"type": "array", "items": {
                "type": "object",
                "required": ["key", "label", "changed", "old", "new", "html"],
                "properties": {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    "changed": {"type": "boolean"},
                    "old": {"type": "string"},
                    "new": {"type": "string"},
                    "html": {"type": "string",
                             "description": "Escaped text with <del> and <ins> marks."},
                },
            }},
        },
    },
    "AuditEntry": {
        "type": "object",
        "required": ["id", "logged_at", "actor_label", "action", "summary", "prev_hash",
                     "hash"],
        "properties": {
            "id": {"type": "integer"},
            "logged_at": {"type": "string", "format": "date-time"},
            "user_id": {"type": ["integer", "null"]},
            "actor_label": {"type": "string"},
            "action": {"type": "string", "examples": ["proposal.transition.submit"]},
            "object_type": {"type": "string"},
            "object_id": {"type": ["integer", "null"]},
            "proposal_id": {"type": ["integer", "null"]},
            "proposal_ref": _nullable_string,
            "summary": {"type": "string"},
            "before": {"description": "JSON: the values before the change."},
            "after": {"description": "JSON: the values after the change."},
            "prev_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    "AuditPage": _page_of("AuditEntry"),
})


# --- sustainability (coopdesa.sustainability.api) -------------------------------------------
_CRITERION_PROPS: dict[str, Any] = {
    "code": {"type": "string", "pattern": "^[A-Z0-9][A-Z0-9-]{0,39}$"},
    "dimension": {"type": "string", "enum": ["ekologi", "sosial_ekonomi", "komunitas",
                                             "kelembagaan", "prinsip"]},
    "label": {"type": "string", "maxLength": 200},
    "description": {"type": "string", "maxLength": 5000},
    "applies_to": {"type": "string",
                   "enum": ["all", "antar_desa", "pihak_ketiga", "pihak_ketiga_desa"],
                   "description": "pihak_ketiga_desa: a third-party cooperation on the "
                                  "village's initiative."},
    "is_critical": {"type": "boolean",
                    "description": "A score of 0 on it fails the assessment."},
    "position": {"type": "integer", "minimum": 0, "maximum": 10000},
    "is_active": {"type": "boolean"},
}
_VERDICTS = ["pass", "pass_with_conditions", "fail"]
SCHEMAS.update({
    "Criterion": {
        "type": "object",
        "required": ["id", "code", "dimension", "label", "applies_to", "is_critical",
                     "is_active"],
        "properties": {"id": {"type": "integer"}, "dimension_label": {"type": "string"},
                       **_CRITERION_PROPS},
    },
    "CriterionList": {"type": "object", "required": ["items"],
                      "properties": {"items": {"type": "array",
                                               "items": {"$ref": "#/components/schemas/"
                                                                 "Criterion"}}}},
    "CriterionInput": {
        "type": "object", "additionalProperties": False,
        "required": ["code", "dimension", "label", "description"],
        "properties": _CRITERION_PROPS,
    },
    "CriterionUpdate": {"type": "object", "additionalProperties": False,
                        "properties": _CRITERION_PROPS},
    "AssessmentAnswer": {
        "type": "object",
        "required": ["criterion_id", "code", "score"],
        "properties": {
            "criterion_id": {"type": "integer"}, "code": {"type": "string"},
            "dimension": {"type": "string"}, "label": {"type": "string"},
            "is_critical": {"type": "boolean"},
            "score": {"type": "integer", "minimum": 0, "maximum": 3},
            "evidence": _nullable_string, "mitigation": _nullable_string,
            "attachment": {"type": ["object", "null"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "content_type": {"type": "string"}, "size": {"type": "integer"}}},
        },
    },
    "Assessment": {
        "type": "object",
        "required": ["id", "proposal_id", "number", "verdict", "reasons", "signed_name",
                     "signed_at"],
        "properties": {
            "id": {"type": "integer"}, "proposal_id": {"type": "integer"},
            "number": {"type": "integer", "minimum": 1},
            "verdict": {"type": "string", "enum": _VERDICTS},
            "verdict_label": {"type": "string"},
            "reasons": {"type": "array", "items": {"type": "string"},
                        "description": "Why, in Indonesian (as stored)."},
            "assessor": {"type": "object", "properties": {
                "id": {"type": "integer"}, "username": {"type": "string"},
                "full_name": {"type": "string"}}},
            "signed_name": {"type": "string"}, "signed_office": _nullable_string,
            "signed_at": {"type": "string", "format": "date-time"},
            "answers": {"type": "array",
                        "items": {"$ref": "#/components/schemas/AssessmentAnswer"}},
        },
    },
    "AssessmentList": {
        "type": "object", "required": ["items", "criteria"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Assessment"}},
            "criteria": {"type": "array", "description": "The criteria a new assessment "
                                                         "of this proposal must answer.",
                         "items": {"$ref": "#/components/schemas/Criterion"}},
        },
    },
    "AssessmentInput": {
        "type": "object", "additionalProperties": False,
        "required": ["answers", "signed_name"],
        "properties": {
            "answers": {
                "type": "object", "description": "Per criterion code.",
                "additionalProperties": {
                    "type": "object", "additionalProperties": False, "required": ["score"],
                    "properties": {
                        "score": {"type": "integer", "minimum": 0, "maximum": 3},
                        "evidence": {"type": ["string", "null"], "maxLength": 5000},
                        "mitigation": {"type": ["string", "null"], "maxLength": 5000},
                        "attachment": {
                            "type": ["object", "null"],
                            "description": "A PDF, PNG or JPEG (checked by content).",
                            "required": ["content_base64"],
                            "properties": {"filename": {"type": "string"},
                                           "content_base64": {"type": "string"}}},
                    },
                },
            },
            "signed_name": {"type": "string", "maxLength": 120},
            "signed_office": {"type": ["string", "null"], "maxLength": 120},
        },
    },
    "StakeholderEntry": {
        "type": "object",
        "required": ["name", "group_kind"],
        "properties": {
            "id": {"type": "integer"},
            "actor_id": {"type": ["integer", "null"]},
            "name": {"type": "string", "maxLength": 200},
            "group_kind": {"type": "string",
                           "enum": [k.value for k in ActorKind if k != ActorKind.DESA]},
            "roles": {"type": "array", "items": {"type": "string", "enum": [
                "perencanaan", "penerima_manfaat", "utusan_bpd_bkad", "peserta_musyawarah",
                "penyusunan_peraturan"]}},
            "notes": {"type": ["string", "null"], "maxLength": 2000},
        },
    },
    "StakeholderMap": {
        "type": "object", "required": ["proposal_id", "version", "answers", "entries"],
        "properties": {
            "proposal_id": {"type": "integer"},
            "version": {"type": "integer", "minimum": 0},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "answers": {"type": "array", "items": {"type": "string"}, "minItems": 7,
                        "maxItems": 7,
                        "description": "Answers to seed 002's seven mapping questions."},
            "entries": {"type": "array",
                        "items": {"$ref": "#/components/schemas/StakeholderEntry"}},
        },
    },
    "StakeholderMapInput": {
        "type": "object", "additionalProperties": False, "required": ["version"],
        "properties": {
            "version": {"type": "integer", "minimum": 0},
            "answers": {"type": "array", "maxItems": 7,
                        "items": {"type": ["string", "null"], "maxLength": 5000}},
            "entries": {"type": "array", "maxItems": 100,
                        "items": {"$ref": "#/components/schemas/StakeholderEntry"}},
        },
    },
})


# --- musyawarah (coopdesa.deliberations) ---------------------------------------------------
_MEETING_KINDS = ["musyawarah_desa", "musyawarah_antar_desa"]
_ELEMENTS = ["pemerintah_desa", "bpd", "tokoh_adat", "tokoh_agama", "tokoh_masyarakat",
             "tokoh_pendidikan", "kelompok_tani", "kelompok_nelayan", "kelompok_perajin",
             "kelompok_perempuan", "perlindungan_anak", "masyarakat_miskin", "lainnya",
             "delegasi_desa"]
_OUTCOMES = ["agreed", "agreed_with_changes", "rejected", "postponed"]
_ATTENDEE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "element", "gender"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 120},
        "element": {"type": "string", "enum": _ELEMENTS,
                    "description": "delegasi_desa only in a musyawarah antar-Desa."},
        "element_note": {"type": ["string", "null"], "maxLength": 120,
                         "description": "Required for element lainnya."},
        "gender": {"type": "string", "enum": ["L", "P"]},
        "desa_code": {"type": ["string", "null"],
                      "description": "One of the meeting's villages (defaults to the desa "
                                     "of a Musyawarah Desa)."},
        "invited": {"type": "boolean", "default": True},
        "present": {"type": "boolean", "default": False},
        "is_observer": {"type": "boolean", "default": False,
                        "description": "Observers never vote nor count for the quorum."},
    },
}
_AGENDA_ITEM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "proposal_id": {"type": "integer"},
        "proposal_ref": {"type": "string"}, "position": {"type": "integer"},
        "method": {"type": ["string", "null"], "enum": ["mufakat", "vote", None]},
        "ballot": {"type": ["string", "null"], "enum": ["terbuka", "tertutup", None]},
        "votes": {"type": "object", "properties": {
            "for": {"type": "integer"}, "against": {"type": "integer"},
            "abstain": {"type": "integer"}}},
        "outcome": {"type": ["string", "null"], "enum": _OUTCOMES + [None]},
        "outcome_label": _nullable_string,
        "changes": {"type": "array", "items": {"type": "string"}},
        "notes": _nullable_string,
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
_SIGNATORY_PROPS = {k: {"type": ["string", "null"], "maxLength": 120}
                    for k in ("signed_chair", "signed_secretary", "signed_kepala_desa",
                              "signed_participant")}
SCHEMAS.update({
    "Meeting": {
        "type": "object",
        "required": ["id", "kind", "held_at", "quorum", "attendees", "agenda"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": _MEETING_KINDS},
            "kind_label": {"type": "string"},
            "title": {"type": "string"},
            "desa_code": _nullable_string,
            "villages": {"type": "array", "items": {"type": "string"}},
            "held_at": {"type": "string", "format": "date-time"},
            "place": {"type": "string"}, "organiser": {"type": "string"},
            "chair_name": {"type": "string"}, "secretary_name": {"type": "string"},
            "notes": _nullable_string,
            "adjourned": {"type": "boolean",
                          "description": "Held and adjourned for want of quorum."},
            "quorum": {"type": "object", "properties": {
                "numerator": {"type": "integer"}, "denominator": {"type": "integer"},
                "voting_invited": {"type": "integer"}, "voting_present": {"type": "integer"},
                "needed": {"type": "integer"}, "met": {"type": "boolean"},
                "text": {"type": "string"}}},
            "gender_counts": {"type": "object", "properties": {
                "invited": {"type": "object", "properties": {"L": {"type": "integer"},
                                                             "P": {"type": "integer"}}},
                "present": {"type": "object", "properties": {"L": {"type": "integer"},
                                                             "P": {"type": "integer"}}}}},
            "attendees": {"type": "array", "items": {
                "allOf": [{"type": "object", "properties": {"id": {"type": "integer"}}},
                          {**_ATTENDEE, "additionalProperties": True}]}},
            "agenda": {"type": "array", "items": _AGENDA_ITEM},
            "signatories": {"type": "object", "properties": {
                k: _nullable_string for k in ("chair", "secretary", "kepala_desa",
                                              "participant")}},
            "scan": {"type": ["object", "null"], "properties": {
                "original_name": {"type": "string"}, "content_type": {"type": "string"},
                "size": {"type": "integer"}, "sha256": {"type": "string"},
                "download_url": {"type": "string"}}},
            "version": {"type": "integer"},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "MeetingCreate": {
        "type": "object",
        "required": ["kind", "held_at", "place", "chair_name", "secretary_name",
                     "proposal_ids"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "enum": _MEETING_KINDS},
            "held_at": {"type": "string", "examples": ["2026-03-12T09:00"],
                        "description": "ISO date-time; without offset: local time."},
            "place": {"type": "string", "maxLength": 200},
            "organiser": {"type": ["string", "null"], "maxLength": 200,
                          "description": "Default: BPD Desa <name>, or the BKAD."},
            "chair_name": {"type": "string", "maxLength": 120},
            "secretary_name": {"type": "string", "maxLength": 120},
            "desa_code": {"type": ["string", "null"],
                          "description": "Musyawarah Desa: the village."},
            "villages": {"type": "array", "items": {"type": "string"},
                         "description": "Musyawarah antar-Desa: 2+ desa codes."},
            "proposal_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            "notes": {"type": ["string", "null"]},
            **_SIGNATORY_PROPS,
        },
    },
    "AttendanceInput": {
        "type": "object", "required": ["attendees"], "additionalProperties": False,
        "properties": {"attendees": {"type": "array", "items": _ATTENDEE, "maxItems": 500}},
    },
    "DecisionInput": {
        "type": "object", "required": ["method", "outcome"], "additionalProperties": False,
        "properties": {
            "method": {"type": "string", "enum": ["mufakat", "vote"]},
            "ballot": {"type": ["string", "null"], "enum": ["terbuka", "tertutup", None],
                       "description": "Required for a vote."},
            "votes_for": {"type": "integer", "minimum": 0},
            "votes_against": {"type": "integer", "minimum": 0},
            "votes_abstain": {"type": "integer", "minimum": 0},
            "outcome": {"type": "string", "enum": _OUTCOMES},
            "changes": {"type": "array", "items": {"type": "string"},
                        "description": "Required for agreed_with_changes."},
            "notes": {"type": ["string", "null"]},
        },
    },
    "AdjournInput": {"type": "object", "additionalProperties": False,
                     "properties": {"notes": {"type": ["string", "null"]}}},
    "SignatoriesInput": {"type": "object", "additionalProperties": False,
                         "properties": _SIGNATORY_PROPS},
    "ProposalMeetings": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Meeting"}},
            "gate": {"type": "object", "properties": {
                "satisfied": {"type": "boolean"},
                "message": _nullable_string,
                "needs": {"type": "array", "items": {"type": "object", "properties": {
                    "kind": {"type": "string", "enum": _MEETING_KINDS},
                    "desa_code": _nullable_string, "label": {"type": "string"},
                    "satisfied": {"type": "boolean"}, "status": {"type": "string"},
                    "meeting_id": {"type": ["integer", "null"]}}}},
            }},
        },
    },
    "QuorumRule": {
        "type": "object",
        "properties": {"meeting_kind": {"type": "string", "enum": _MEETING_KINDS},
                       "numerator": {"type": "integer"}, "denominator": {"type": "integer"},
                       "basis": {"type": "string"}},
    },
    "QuorumRuleList": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/QuorumRule"}}}},
    "QuorumRuleInput": {
        "type": "object", "required": ["numerator", "denominator"],
        "additionalProperties": False,
        "properties": {"numerator": {"type": "integer", "minimum": 1, "maximum": 100},
                       "denominator": {"type": "integer", "minimum": 1, "maximum": 100},
                       "basis": {"type": "string", "maxLength": 300}},
    },
})


_SIGNATURE = {
    "type": "object",
    "required": ["id", "party_id", "signer_name", "method", "signed_on", "number"],
    "properties": {
        "id": {"type": "integer"}, "party_id": {"type": "integer"}, "party": {"type": "string"},
        "signer_name": {"type": "string"}, "signer_office": {"type": "string"},
        "method": {"type": "string", "enum": ["basah", "elektronik"]},
        "signed_on": {"type": "string", "format": "date"}, "place": {"type": "string"},
        "number": {"type": "string"}, "evidence_sha256": _nullable_string,
    },
}
_DOCUMENT = {
    "type": ["object", "null"],
    "properties": {
        "code": {"type": "string"}, "verify_url": {"type": "string"},
        "version": {"type": "integer"}, "paper": {"type": "string", "enum": ["f4", "a4"]},
        "enacted_on": {"type": "string", "format": "date"}, "enacted_place": {"type": "string"},
        "sha256": _nullable_string, "rendered": {"type": "boolean"},
        "render_error": _nullable_string, "scan_sha256": _nullable_string,
    },
}
SCHEMAS.update({
    "SigningState": {
        "type": "object",
        "required": ["proposal_id", "state", "signatures", "unsigned_parties", "document"],
        "properties": {
            "proposal_id": {"type": "integer"}, "state": {"type": "string"},
            "signatures": {"type": "array", "items": _SIGNATURE},
            "unsigned_parties": {"type": "array", "items": {
                "type": "object", "properties": {"party_id": {"type": "integer"},
                                                 "name": {"type": "string"}}}},
            "document": _DOCUMENT,
        },
    },
    "SignatureInput": {
        "type": "object", "additionalProperties": False,
        "required": ["party_id", "number", "signed_on", "place", "method"],
        "properties": {
            "party_id": {"type": "integer"},
            "signer_name": {"type": "string", "maxLength": 120,
                            "description": "Default: the party's signatory."},
            "signer_office": {"type": "string", "maxLength": 120},
            "number": {"type": "string", "maxLength": 80,
                       "description": "The party's own number for the document."},
            "signed_on": {"type": "string", "format": "date"},
            "place": {"type": "string", "maxLength": 120},
            "method": {"type": "string", "enum": ["basah", "elektronik"]},
            "paper": {"type": "string", "enum": ["f4", "a4"],
                      "description": "Paper of the final PDF (used by the last signature)."},
            "evidence_base64": {"type": "string",
                                "description": "The electronically signed PDF (elektronik)."},
            "evidence_filename": {"type": "string", "maxLength": 200},
        },
    },
    "Verification": {
        "type": "object",
        "required": ["code", "title", "numbers", "parties", "status", "sha256"],
        "properties": {
            "code": {"type": "string"}, "title": {"type": "string"},
            "kind": {"type": "string"}, "kind_label": {"type": "string"},
            "numbers": {"type": "array", "items": {"type": "object", "properties": {
                "party": {"type": "string"}, "number": _nullable_string}}},
            "year": {"type": "integer"},
            "parties": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "role_label": {"type": "string"}}}},
            "enacted_on": {"type": "string", "format": "date"},
            "enacted_place": {"type": "string"},
            "start": _nullable_string, "end": _nullable_string,
            "status": {"type": "string", "enum": ["signed", "active", "postponed", "amended",
                                                  "ended", "replaced"]},
            "status_label": {"type": "string"},
            "ended_on": _nullable_string, "end_ground": _nullable_string,
            "sha256": _nullable_string,
            "amendments": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string"}, "label": _nullable_string,
                "enacted_on": {"type": "string", "format": "date"}}}},
            "amends": _nullable_string, "amends_label": _nullable_string,
            "replaced_by": _nullable_string,
            "matches": {"type": "boolean",
                        "description": "Present when ?sha256= was given."},
        },
    },
})

_ERROR_RESPONSES = {
    400: "Permintaan tidak dapat dipahami.",
    401: "Token tidak ada atau tidak berlaku.",
    403: "Peran atau wilayah Anda tidak mengizinkan tindakan ini.",
    404: "Data tidak ditemukan.",
    409: "Data telah berubah sejak dibaca (versi usang).",
    422: "Isian tidak valid; lihat error.fields.",
    429: "Terlalu banyak permintaan.",
}
_DEFAULT_ERRORS = (401,)


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def build_spec() -> dict[str, Any]:
    paths: dict[str, dict] = {}
    closed_bodies: set[str] = set()
    for op in OPERATIONS:
        responses: dict[str, Any] = {}
        for status, schema in op.responses.items():
            if status >= 400:
                continue
            entry: dict[str, Any] = {"description": "OK" if status < 300 else "Created"}
            if schema:
                entry["content"] = {"application/json": {"schema": _ref(schema)}}
            responses[str(status)] = entry
        errors = set(_DEFAULT_ERRORS if not op.public else ())
        errors |= {s for s in op.responses if s >= 400}
        if op.body:
            errors |= {400, 422}
        if op.params:
            errors.add(400)  # a NUL character anywhere in the input (coopdesa.create_app)
        for status in sorted(errors):
            responses[str(status)] = {
                "description": _ERROR_RESPONSES.get(status, "Error"),
                "content": {"application/json": {"schema": _ref("Error")}},
            }
        operation: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": op.params,
            "responses": responses,
        }
        if op.description:
            operation["description"] = op.description
        if op.body:
            closed_bodies.add(op.body)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(op.body)}},
            }
        if op.public:
            operation["security"] = []
        paths.setdefault(_path(op.rule), {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "coopdesa API",
            "version": __version__,
            "description": (
                "Kerja sama desa (UU 6/2014 Pasal 91-93, PP 43/2014 Pasal 143-148). "
                "Authenticate with `Authorization: Bearer <token>`; create a token on the "
                "profile page or with `flask coopdesa token create USER`. A proposal you may "
                "not read answers 404, exactly as one that does not exist (a village never "
                "learns of another village's proposals); one you may read but not act on "
                "answers 403 with the reason."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _closed(SCHEMAS, closed_bodies),
        },
    }


def _closed(schemas: dict[str, Any], bodies: set[str]) -> dict[str, Any]:
    """Request bodies are read by coopdesa.api.json_body, which refuses unknown keys by
    name: say so (additionalProperties: false) in every body schema that does not."""
    result = dict(schemas)
    for name in bodies:
        schema = result[name]
        if schema.get("type") == "object" and "additionalProperties" not in schema:
            result[name] = {**schema, "additionalProperties": False}
    return result


@endpoint("/openapi.json", summary="This OpenAPI document", tag="meta", public=True,
          responses={200: None})
def openapi():
    return jsonify(build_spec())
