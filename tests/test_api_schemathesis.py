"""schemathesis against /api/v1/openapi.json, through the WSGI app: every operation, as an
administrator and as a village secretary, with generated valid (positive) and invalid
(negative) input, also aimed at a proposal that exists. No 5xx, and every response as the
description says: status code, content type, headers and body schema, negative data
rejected with a 4xx, auth not ignored.

One check is left out: ``positive_data_acceptance`` expects every schema-valid request to
succeed, but the schema describes shapes, not the domain (a region code must exist in the
official register, a quorum rule needs numerator <= denominator, a meeting time must be in
the past, a proposal must be in the right state); such requests are refused with a 4xx
naming the field, which the other checks verify is documented and well-formed.

Bounded and derandomized so that CI is stable: a few examples per operation, no example
database. (schemathesis.pytest.from_fixture would give one subtest per operation, but it
does not run under pytest 9: it reads ``request.node._nodeid``, which pytest removed.)"""

from __future__ import annotations

import contextvars
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from coopdesa.accounts.operations import create_token
from coopdesa.api.openapi import build_spec
from coopdesa.extensions import db
from tests.factories import AdminFactory
from tests.proposal_helpers import antar_desa

#: Examples per operation and generation mode; COOPDESA_SCHEMATHESIS_EXAMPLES=50 for a
#: deeper run by hand.
EXAMPLES = int(os.environ.get("COOPDESA_SCHEMATHESIS_EXAMPLES", "3"))
#: Operations that render a document: one example on a real proposal is enough here (the
#: document tests cover rendering), and each render takes seconds.
SLOW_SUFFIXES = (".pdf", ".zip")


#: A fresh ``g`` per request, as in production (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("fresh_request_globals")


@pytest.fixture
def world(app):
    """One drafted antar_desa proposal of Dieng and Sembungan, its secretaries and BKAD,
    and an administrator."""
    scenario = antar_desa()
    admin = AdminFactory()
    db.session.commit()
    return {"admin": admin, "sekretaris": scenario.author, "proposal": scenario.proposal}


def bearer(user) -> dict[str, str]:
    _token, secret = create_token(user, "schemathesis")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def bounded(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck))


def failures_of(app, world, headers, *, negative: bool = True) -> list[str]:
    """Run every operation and collect what schemathesis finds, one entry per operation
    and mode, so that one run lists every problem."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    real_ids = {"proposal_id": world["proposal"].id}
    found: list[str] = []
    labels = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.add(operation.label)
        slow = operation.path.endswith(SLOW_SUFFIXES)
        fixed = {k: v for k, v in real_ids.items()
                 if any(p.name == k for p in operation.path_parameters)}
        runs = [(operation.as_strategy(GenerationMode.POSITIVE), 1 if slow else EXAMPLES)]
        if negative:
            runs.append((operation.as_strategy(GenerationMode.NEGATIVE),
                         1 if slow else EXAMPLES))
        if fixed:  # also aim at an object that exists, not only at 404s
            runs.append((operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
                         1 if slow else EXAMPLES))
        for strategy, examples in runs:

            @bounded(examples)
            @given(case=strategy)
            def run(case):
                try:
                    # Each call in its own context, as each request has its own.
                    contextvars.Context().run(case.call_and_validate, headers=headers,
                                              excluded_checks=[positive_data_acceptance])
                finally:
                    db.session.rollback()

            try:
                run()
            except Unsatisfiable:
                pass  # nothing to negate (no parameters, no body): the positive run covers it
            except (AssertionError, BaseExceptionGroup) as error:
                found.append(f"{operation.label}: {error}"[:3000])
    described = {f"{m.upper()} {path}" for path, methods in build_spec()["paths"].items()
                 for m in methods}
    assert labels == described - {"GET /openapi.json"}  # every operation but the document

    return found


def test_api_as_an_administrator(app, world):
    found = failures_of(app, world, bearer(world["admin"]))
    assert found == [], "\n\n".join(found)


def test_api_as_a_village_secretary(app, world):
    """Negative input is refused the same way whoever sends it: positive input here, for
    the access answers (403/404 with the reason) of a role bound to one village."""
    found = failures_of(app, world, bearer(world["sekretaris"]), negative=False)
    assert found == [], "\n\n".join(found)


def test_request_bodies_refuse_unknown_keys_in_the_description(client):
    """json_body refuses unknown keys by name; every body schema says so."""
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    bodies = {op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
              for methods in spec["paths"].values() for op in methods.values()
              if "requestBody" in op}
    assert bodies
    assert {name for name in bodies if schemas[name].get("additionalProperties") is not False} \
        == set()


def test_out_of_range_ids_are_404_whatever_the_method(api, world):
    """Werkzeug answered 405 when an id beyond MAX_ID failed conversion after another
    method's rule on the same path had matched (schemathesis found it)."""
    caller = api(world["admin"])
    pid = world["proposal"].id
    for method, path in (("delete", f"/proposals/{pid}/parties/2569751426"),
                         ("patch", f"/proposals/{pid}/parties/2147483648"),
                         ("post", "/proposals/99999999999/signatures"),
                         ("get", "/proposals/2147483648/signatures")):
        response = getattr(caller, method)(path, json={})
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    assert caller.delete(f"/proposals/{pid}/parties/2147483647").status_code == 404
