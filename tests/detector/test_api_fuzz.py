"""The API keeps its own schema: schemathesis fuzzes a live server with valid and invalid data.

Every response must have a documented status, a body that validates against the documented
schema, the documented headers, and never a 5xx. The run is bounded (a fixed number of
examples per operation, a fixed seed) so that it stays well under two minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from detector import services
from tests.detector.conftest import report_dict

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    response_headers_conformance,
    content_type_conformance,
]
EXAMPLES_PER_OPERATION = 12
BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # a fixed seed: the same requests on every run
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def analyses(user, make_analysis):
    """One analysis in each state a client meets: queued, done, failed, re-analysed, reported."""
    queued = make_analysis(user, name="queued.jpg")
    done = make_analysis(user, name="done.jpg")
    services.analysis_finish(analysis=done, report=report_dict("inconclusive", None))
    failed = make_analysis(user, name="failed.jpg")
    services.analysis_fail(analysis=failed, reason="The video cannot be decoded.")
    again = services.analysis_reanalyze(analysis=done)
    return [queued, done, failed, again]


@pytest.fixture
def api(live_server, settings, user, analyses):
    """The live server's schema, and the headers of a user who owns some analyses."""
    settings.UPLOAD_RATE = "10000/hour"  # the fuzzer uploads far more than a person does
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    token = Token.objects.create(user=user)
    return schema, {"Authorization": f"Token {token.key}"}


def test_every_state_of_an_analysis_matches_the_schema(api, analyses):
    schema, headers = api
    detail = schema["/api/v1/analyses/{id}/"]["GET"]
    for analysis in analyses:
        case = detail.Case(path_parameters={"id": str(analysis.pk)})
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == 200
    listing = schema["/api/v1/analyses/"]["GET"].Case(query={})
    response = listing.call_and_validate(headers=headers, checks=CHECKS)
    assert response.json()["count"] == len(analyses)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_get_documented_answers(api, mode):
    schema, headers = api
    statuses: set[int] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not _takes_input(operation):
            continue  # nothing in the request to make invalid

        @BOUNDED
        @given(case=operation.as_strategy(generation_mode=mode))
        def exchange(case) -> None:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses.add(response.status_code)

        exchange()
    # The fuzzer reached the API's answers, not just its front door.
    assert {200, 400, 404} <= statuses


def _takes_input(operation) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def test_stateful_sequences_get_documented_answers(api):
    """Chains of calls along the links schemathesis infers (an upload's id to its detail,
    re-analysis, report and deletion)."""
    schema, headers = api
    calls: list[str] = []

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, **kwargs):
            calls.append(f"{case.method} {case.path}")
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=settings(BOUNDED, max_examples=8, stateful_step_count=4, phases=[Phase.generate])
    )
    assert any("{id}" in call for call in calls), calls
