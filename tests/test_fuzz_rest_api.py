"""
Property-based fuzzing of the REST API against its own OpenAPI schema (schemathesis): every
operation, as course staff, a coach and a learner; no answer is a 5xx, every status code and body is
the one the schema documents, and every 4xx carries a message.

The schema is narrowed for generation only: the course id is one of a few (ours, another, not a
key) and ids lie around the real ones, so that cases reach the permission and domain rules instead
of stopping at "no such course". Bodies, queries and types are left to schemathesis.
"""
import copy
import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Observation
from miiwrap_fidelity.rest_api.v1 import schema as published

from conftest import COURSE, OTHER_COURSE, make_user

pytestmark = pytest.mark.django_db


def published_schema():
    """What ``schema/`` serves, from the same generator (at collection time, without a request or a database)."""
    return json.loads(OpenApiJsonRenderer().render(published.openapi_document()))


RAW_SCHEMA = published_schema()
OPERATIONS = sorted((path, method.upper()) for path, methods in RAW_SCHEMA["paths"].items() for method in methods)
ROLES = ["staff", "coach", "learner"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Examples per operation (the three roles share them): CI runs this suite in several tox envs.
EXAMPLES = 30


def narrowed(raw, top_id):
    """The schema with course ids and numeric ids drawn from the values that exist (and a few that don't)."""
    schema = copy.deepcopy(raw)
    ids = {"type": "integer", "minimum": 0, "maximum": top_id + 2}
    for operation in (op for methods in schema["paths"].values() for op in methods.values()):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "course_id":
                parameter["schema"] = {"type": "string", "enum": [COURSE, OTHER_COURSE, "not-a-course"]}
            elif parameter["schema"].get("type") == "integer" and parameter["name"] not in ("page", "page_size"):
                parameter["schema"] = ids
    return schema


@pytest.fixture
def world(ready_learner, coach, coach2, lead, course_key, observe, indicators):
    """Records of every kind to aim at: observations (one a draft), a sign-off, a reflection."""
    observe(coach2, ready_learner, days_ago=2, submit=False)
    api.sign_off(coach, ready_learner, course_key)
    other = make_user("other_learner")
    api.note_enrollment(other.pk, course_key)
    return {"staff": lead, "coach": coach, "learner": ready_learner}


def jwt_for(user):
    from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_jwt  # pylint: disable=all

    return generate_jwt(user)


def test_the_schema_documents_every_operation(client):
    assert client.get("/api/miiwrap-fidelity/v1/schema/").json() == RAW_SCHEMA, "the published one"
    assert len(OPERATIONS) >= 20
    for path, method in OPERATIONS:
        responses = RAW_SCHEMA["paths"][path][method.lower()]["responses"]
        assert {"400", "401", "403", "404"} <= set(responses), (path, method)


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_operation_never_fails_and_matches_its_schema(world, path, method, django_user_model):
    top_id = max(django_user_model.objects.order_by("-pk").first().pk, Observation.objects.order_by("-pk").first().pk)
    schema = schemathesis.openapi.from_dict(narrowed(RAW_SCHEMA, top_id))
    app = WSGIHandler()
    operation = schema[path][method]
    # Valid and invalid input alike (wrong types, out-of-range values, missing fields), as each role.
    cases = st.one_of(*(operation.as_strategy(mode, headers={"Authorization": f"JWT {jwt_for(world[role])}"})
                        for role in ROLES for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def check(case):
        response = case.call(app=app)
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            assert response.json(), "a refusal says why"

    check()  # pylint: disable=no-value-for-parameter
