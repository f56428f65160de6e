"""Schemathesis against a real `agent-runtime serve`, from the /openapi.json it serves: every operation, with
input that fits the document and input that does not, answers no 5xx and only what the document describes
(status, content type, schema; for streams, each server-sent event)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from agent_runtime.managed_agents.openapi import OPERATION_PREFIX, OPERATIONS
from agent_runtime.rest.routes import Route, routes
from agent_runtime.runtime_server import SERVICE
from agent_runtime.seed_wire import openapi as seed_openapi
from tests.integration.conftest import API_KEY, Runtime

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
CHECKS = [
    not_a_server_error,
    negative_data_rejection,  # input that breaks the schema gets a 4xx
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 20  # per operation and mode: about a minute in all on two cores
UNARY_TIMEOUT_SECONDS = 30
# WatchSessions never ends by itself, so it is read until it has been quiet this long.
STREAM_TIMEOUT_SECONDS = 3
# Besides session_id, a session of the test's.
KNOWN = {"path": "src/keep.txt", "agent_profile_id": "default", "agent_id": "default", "environment_id": "default"}
SESSION_PARAMETERS = ("session_id", "sessionId")


def _has_input(route: Route) -> bool:
    """Only a body or query parameters can break the schema: any string fits a path parameter."""
    return bool(route.body) or any(field.name not in route.variables for field in route.method.input_type.fields)


MANAGED_AGENTS = [OPERATION_PREFIX + operation.operation_id for operation in OPERATIONS]
SEED = [seed_openapi.OPERATION_PREFIX + operation[2] for operation in seed_openapi.OPERATIONS]
CASES = [
    ("Health", GenerationMode.POSITIVE),
    *((route.method.name, GenerationMode.POSITIVE) for route in routes(SERVICE)),
    *((route.method.name, GenerationMode.NEGATIVE) for route in routes(SERVICE) if _has_input(route)),
    *((name, GenerationMode.POSITIVE) for name in MANAGED_AGENTS),
    *(
        (OPERATION_PREFIX + operation.operation_id, GenerationMode.NEGATIVE)
        for operation in OPERATIONS
        if operation.body or operation.query
    ),
    *((name, GenerationMode.POSITIVE) for name in SEED),
    *(
        (seed_openapi.OPERATION_PREFIX + operation_id, GenerationMode.NEGATIVE)
        for _, _, operation_id, body, _, _ in seed_openapi.OPERATIONS
        if body
    ),
]
# Streams that follow the session's events: read until they have been quiet this long.
FOLLOWING = {"WatchSessions", OPERATION_PREFIX + "StreamSessionEvents"}


def _call(runtime: Runtime, method: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"http://{runtime.process.rest_address}{path}",
        method=method,
        data=json.dumps(body).encode(),
        headers={**HEADERS, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


@pytest.fixture(scope="module")
def api_schema(runtime: Runtime) -> OpenApiSchema:
    base = f"http://{runtime.process.rest_address}"
    loaded = schemathesis.openapi.from_url(f"{base}/openapi.json")
    loaded.config.update(base_url=base, headers=HEADERS)
    return loaded


@pytest.fixture
def session_id(runtime: Runtime) -> str:
    """A stored session with workspace files and an event, so cases that name it get past NOT_FOUND."""
    created = _call(runtime, "POST", "/sessions/create", {"agentProfileRef": "with-files", "architecture": "anthropic"})
    session = str(created["sessionId"])
    _call(runtime, "PATCH", f"/sessions/{session}?updateMask=sessionOptions", {"sessionOptions": {"model": "m"}})
    return session


@pytest.mark.parametrize(("operation_id", "mode"), CASES)
def test_every_operation_answers_as_documented(
    api_schema: OpenApiSchema, session_id: str, operation_id: str, mode: GenerationMode
) -> None:
    operation = api_schema.find_operation_by_id(operation_id)
    known = {**KNOWN, **dict.fromkeys(SESSION_PARAMETERS, session_id)}
    named = {
        parameter.name: known[parameter.name] for parameter in operation.path_parameters if parameter.name in known
    }
    # An event stream that follows waits for events that never come; one that does not ends at the head.
    query = {"follow": "false"} if operation_id == "StreamSessionEvents" else None
    # Half the cases name things that exist, so they reach the server's own checks.
    cases = st.one_of(
        operation.as_strategy(mode, query=query), operation.as_strategy(mode, path_parameters=named, query=query)
    )
    timeout = STREAM_TIMEOUT_SECONDS if operation_id in FOLLOWING else UNARY_TIMEOUT_SECONDS
    statuses: list[int] = []

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same cases every run, so a pass is not luck
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: schemathesis.Case[Any]) -> None:
        statuses.append(case.call_and_validate(checks=CHECKS, timeout=timeout).status_code)

    answers_as_documented()
    assert set(statuses) - {401}, "every case was refused for its key: the run tested nothing"
