"""Whatever JSON a caller sends the Managed Agents API, it gets an error in the SDKs' shape with a 4xx
status, never a 5xx, and a refused request changes nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import API_KEY, Runtime

# The API's own words among the values, so that cases get past the first check they meet.
WORDS = st.sampled_from(
    ["user.message", "user.interrupt", "user.tool_confirmation", "user.custom_tool_result", "text", "allow", "deny",
     "default", "agent", "anthropic"]
)  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20) | WORDS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["agent", "environment_id", "title", "metadata", "type", "content", "text", "events", "tool_use_id",
          "result", "deny_message", "custom_tool_use_id", "is_error"]  # fmt: skip
# Objects with the API's own field names, so the cases reach its checks, not just the JSON parser.
SHAPED = st.recursive(
    JSON,
    lambda inner: st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5) | st.lists(inner, max_size=3),
    max_leaves=16,
)


ID = st.text(min_size=1, max_size=10)
TEXT_BLOCKS = st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=10)}), max_size=2)


def event_of(kind: str, fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Events of one kind, each of its fields there or not, with a right or a wrong value."""
    return st.fixed_dictionaries({"type": st.just(kind)}, optional=fields)


# Events of the kinds the API takes. A user.message's content is never right: a turn would start.
EVENTS = st.fixed_dictionaries(
    {
        "events": st.lists(
            st.one_of(
                event_of("user.message", {"content": JSON}),
                event_of("user.interrupt", {}),
                event_of(
                    "user.tool_confirmation",
                    {
                        "tool_use_id": ID | JSON,
                        "result": st.sampled_from(["allow", "deny"]) | JSON,
                        "deny_message": JSON,
                    },
                ),
                event_of(
                    "user.custom_tool_result",
                    {"custom_tool_use_id": ID | JSON, "content": TEXT_BLOCKS | JSON, "is_error": JSON},
                ),
            ),
            min_size=1,
            max_size=3,
        )
    }
)


def call(runtime: Runtime, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://{runtime.process.rest_address}/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"x-api-key": API_KEY, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def sessions(runtime: Runtime) -> int:
    status, listed = call(runtime, "GET", "/sessions?limit=100")
    assert status == 200
    return len(listed["data"])


@pytest.fixture(scope="module")
def session_id(runtime: Runtime) -> str:
    status, created = call(
        runtime,
        "POST",
        "/sessions",
        {"agent": "default", "environment_id": "default", "metadata": {"architecture": "anthropic"}},
    )
    assert status == 200, created
    return str(created["id"])


def assert_refused_cleanly(status: int, answer: Any) -> None:
    assert status < 500, answer
    if status >= 400:
        assert answer["type"] == "error" and answer["error"]["type"] and answer["error"]["message"], answer


@settings(max_examples=150, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=SHAPED)
def test_any_session_body_is_answered_without_a_server_error(runtime: Runtime, body: Any) -> None:
    before = sessions(runtime)
    status, answer = call(runtime, "POST", "/sessions", body)
    assert_refused_cleanly(status, answer)
    if status >= 400:
        assert sessions(runtime) == before, "a refused create changed nothing"


@settings(max_examples=300, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=SHAPED | EVENTS)
def test_any_events_body_is_answered_without_a_server_error(runtime: Runtime, session_id: str, body: Any) -> None:
    status, answer = call(runtime, "POST", f"/sessions/{session_id}/events", body)
    assert_refused_cleanly(status, answer)


@settings(max_examples=60, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=SHAPED, page=st.text(max_size=8), limit=st.text(max_size=6))
def test_any_update_or_page_is_answered_without_a_server_error(
    runtime: Runtime, session_id: str, body: Any, page: str, limit: str
) -> None:
    assert_refused_cleanly(*call(runtime, "POST", f"/sessions/{session_id}", body))
    query = urllib.parse.urlencode({"page": page, "limit": limit})
    assert_refused_cleanly(*call(runtime, "GET", f"/sessions/{session_id}/events?{query}"))
    assert_refused_cleanly(*call(runtime, "GET", f"/sessions?{query}"))
