"""/api/v1: sustainability assessments, stakeholder maps and criteria, on the same
operations as the pages. A proposal (or assessment) the caller may not read answers 404;
one the caller may read but not act on, 403 with the reason. Refusals name their fields
as ``answers.<code>.<field>`` and ``entries.<n>.<field>``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from coopdesa import access
from coopdesa.access import Action, AssessmentOf, StakeholderMapOf
from coopdesa.api import endpoint, json_body, path_param
from coopdesa.errors import NotFoundError, ValidationError
from coopdesa.extensions import db
from coopdesa.proposals.api import readable_proposal
from coopdesa.sustainability import operations as ops

TAG = "sustainability"
_ID = path_param("proposal_id", "Proposal id.", type_="integer")
_ASSESSMENT = path_param("assessment_id", "Assessment id.", type_="integer")
_CRITERION = path_param("criterion_id", "Criterion id.", type_="integer")
ANSWER_KEYS = {"score", "evidence", "mitigation", "attachment"}
ENTRY_KEYS = {"actor_id", "name", "group_kind", "roles", "notes"}


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


def _text_or_none(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(key, _("Harus berupa teks."))
    return value


def _answers(raw: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _invalid("answers", _("Jawaban harus berupa objek per kode kriteria."))
    out: dict[str, dict[str, Any]] = {}
    for code, answer in raw.items():
        if not isinstance(answer, dict):
            raise _invalid(f"answers.{code}", _("Jawaban berupa objek: score, evidence, "
                                                "mitigation, attachment."))
        unknown = sorted(set(answer) - ANSWER_KEYS)
        if unknown:
            raise _invalid(f"answers.{code}.{unknown[0]}", _("Kolom tidak dikenal."))
        answer = dict(answer)
        score = answer.get("score")
        if score is not None and (not isinstance(score, int) or isinstance(score, bool)):
            raise _invalid(f"answers.{code}.score", _("Nilai harus 0, 1, 2 atau 3."))
        attachment = answer.pop("attachment", None)
        if attachment is not None:
            field = f"answers.{code}.attachment"
            if not isinstance(attachment, dict) or not isinstance(
                    attachment.get("content_base64"), str):
                raise _invalid(field, _("Lampiran berupa objek: filename, content_base64."))
            try:
                data = base64.b64decode(attachment["content_base64"], validate=True)
            except (binascii.Error, ValueError):
                raise _invalid(field, _("content_base64 bukan base64 yang sah.")) from None
            filename = attachment.get("filename")
            answer["attachment"] = ops.Upload(data, filename if isinstance(filename, str)
                                              else None)
        out[code] = answer
    return out


@endpoint("/proposals/<int:proposal_id>/assessments", summary="Sustainability assessments",
          tag=TAG, description="Newest first, with answers; the first one is the latest.",
          params=[_ID], responses={200: "AssessmentList", 404: "Error"})
def list_assessments_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.LIST, AssessmentOf(proposal))
    return jsonify({"items": [ops.assessment_dict(a) for a in ops.assessments_of(proposal)],
                    "criteria": [ops.criterion_dict(c)
                                 for c in ops.applicable_criteria(proposal)]})


@endpoint("/proposals/<int:proposal_id>/assessments", method="POST",
          summary="Record a signed sustainability assessment", tag=TAG,
          description="Every applicable criterion (see GET: `criteria`) is answered with a "
                      "score 0-3; 0 or 1 needs a `mitigation`, 2 or 3 `evidence`. Verdict: "
                      "`fail` if a critical criterion scores 0, else `pass_with_conditions` "
                      "if any mitigation is recorded, else `pass`. Never overwrites: the new "
                      "one gets the next number.",
          params=[_ID], body="AssessmentInput",
          responses={201: "Assessment", 403: "Error", 404: "Error", 409: "Error",
                     422: "Error"})
def create_assessment_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.CREATE, AssessmentOf(proposal))
    data = json_body({"answers", "signed_name", "signed_office"})
    assessment = ops.create_assessment(
        proposal, current_user, _answers(data.get("answers")),
        _text_or_none(data, "signed_name"), _text_or_none(data, "signed_office"))
    db.session.commit()
    return jsonify(ops.assessment_dict(assessment)), 201


@endpoint("/assessments/<int:assessment_id>", summary="One sustainability assessment",
          tag=TAG, params=[_ASSESSMENT], responses={200: "Assessment", 404: "Error"})
def get_assessment_api(assessment_id: int):
    assessment = ops.get_assessment(assessment_id)
    if not access.can(current_user, Action.VIEW, AssessmentOf(assessment.proposal)):
        raise NotFoundError(_("Penilaian keberlanjutan tidak ditemukan."))
    return jsonify(ops.assessment_dict(assessment))


@endpoint("/proposals/<int:proposal_id>/stakeholders", summary="The stakeholder map",
          tag=TAG, description="Version 0 means no map has been saved yet.",
          params=[_ID], responses={200: "StakeholderMap", 404: "Error"})
def get_stakeholders_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.VIEW, StakeholderMapOf(proposal))
    return jsonify(ops.stakeholder_dict(proposal))


@endpoint("/proposals/<int:proposal_id>/stakeholders", method="PUT",
          summary="Replace the stakeholder map", tag=TAG,
          description="`version` is the one read (0 before the first save); a stale one "
                      "answers 409 with `error.current`, the map as it is now.",
          params=[_ID], body="StakeholderMapInput",
          responses={200: "StakeholderMap", 403: "Error", 404: "Error", 409: "Error",
                     422: "Error"})
def put_stakeholders_api(proposal_id: int):
    proposal = readable_proposal(proposal_id)
    access.require(current_user, Action.EDIT, StakeholderMapOf(proposal))
    data = json_body({"version", "answers", "entries"})
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _invalid("version", _("Sertakan versi (bilangan bulat) yang Anda baca sebelum "
                                    "mengubah."))
    entries = data.get("entries") or []
    if isinstance(entries, list):
        for i, entry in enumerate(entries):
            if isinstance(entry, dict):
                unknown = sorted(set(entry) - ENTRY_KEYS)
                if unknown:
                    raise _invalid(f"entries.{i}.{unknown[0]}", _("Kolom tidak dikenal."))
    ops.save_stakeholder_map(proposal, current_user, data.get("answers") or [], entries,
                             version)
    db.session.commit()
    return jsonify(ops.stakeholder_dict(proposal))


@endpoint("/criteria", summary="Sustainability criteria", tag=TAG,
          description="All criteria, active or not, by dimension.",
          responses={200: "CriterionList"})
def list_criteria_api():
    access.require(current_user, Action.LIST, "criterion")
    return jsonify({"items": [ops.criterion_dict(c) for c in ops.all_criteria()]})


@endpoint("/criteria", method="POST", summary="Add a criterion (admin)", tag=TAG,
          body="CriterionInput", responses={201: "Criterion", 403: "Error", 422: "Error"})
def create_criterion_api():
    access.require(current_user, Action.CREATE, "criterion")
    data = json_body(set(ops.CRITERION_FIELDS) - {"id"})
    criterion = ops.create_criterion(current_user, data)
    db.session.commit()
    return jsonify(ops.criterion_dict(criterion)), 201


@endpoint("/criteria/<int:criterion_id>", method="PATCH",
          summary="Change or deactivate a criterion (admin)", tag=TAG,
          description="`is_active: false` deactivates: new assessments no longer ask it.",
          params=[_CRITERION], body="CriterionUpdate",
          responses={200: "Criterion", 403: "Error", 404: "Error", 422: "Error"})
def update_criterion_api(criterion_id: int):
    access.require(current_user, Action.EDIT, "criterion")
    criterion = ops.get_criterion(criterion_id)
    data = json_body(set(ops.CRITERION_FIELDS))
    ops.update_criterion(current_user, criterion, data)
    db.session.commit()
    return jsonify(ops.criterion_dict(criterion))
