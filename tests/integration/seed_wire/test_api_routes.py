"""The seed's REST routes under /api, with its bodies, status codes and errors, on the same sessions as
every other surface."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.integration.conftest import API_KEY, Runtime

KEYED = {"Authorization": f"Bearer {API_KEY}"}


def call(
    runtime: Runtime, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://{runtime.process.rest_address}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(KEYED if headers is None else headers)},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def create(runtime: Runtime, **fields: Any) -> dict[str, Any]:
    status, created = call(
        runtime, "POST", "/api/sessions", {"agentProfileRef": "with-files", "architecture": "anthropic", **fields}
    )
    assert status == 201 and isinstance(created, dict), created
    return created


def test_a_created_session_answers_201_in_the_seeds_shape(runtime: Runtime) -> None:
    created = create(runtime, sessionOptions={"model": "claude-haiku-4-5"})

    assert set(created) == {"sessionId", "runtime", "createdAt", "sessionOptions"}
    uuid.UUID(created["sessionId"])
    assert created["runtime"] == {"isLoaded": False, "sandbox": None}
    assert isinstance(created["createdAt"], int) and created["createdAt"] > 1_700_000_000_000  # milliseconds
    assert created["sessionOptions"] == {"model": "claude-haiku-4-5"}


def test_a_session_is_listed_and_read_whole(runtime: Runtime) -> None:
    created = create(runtime)

    status, listed = call(runtime, "GET", "/api/sessions")
    status_one, session = call(runtime, "GET", f"/api/sessions/{created['sessionId']}")

    assert status == status_one == 200
    item = next(item for item in listed["sessions"] if item["sessionId"] == created["sessionId"])
    assert item["type"] == "anthropic" and item["agentProfileReference"] == "with-files"
    assert item["runtime"] == {"isLoaded": False, "sandbox": None}
    assert session["sessionId"] == created["sessionId"] and session["createdAt"] == created["createdAt"]
    assert (session["blocks"], session["subagents"]) == ([], [])
    files = {file["path"]: file.get("content") for file in session["workspaceFiles"]}
    assert files == {"README.md": "from the profile\n", "src/keep.txt": "kept", "assets/dot.bin": None}


def test_options_are_changed_and_a_session_synced_and_unloaded(runtime: Runtime) -> None:
    session_id = create(runtime)["sessionId"]

    changed = call(runtime, "PATCH", f"/api/sessions/{session_id}/options", {"sessionOptions": {"model": "m2"}})
    synced = call(runtime, "POST", f"/api/sessions/{session_id}/sync")
    unloaded = call(runtime, "DELETE", f"/api/sessions/{session_id}")

    assert changed == (200, {"success": True, "sessionId": session_id, "sessionOptions": {"model": "m2"}})
    assert synced == (200, {"success": True, "sessionId": session_id})
    assert unloaded == (200, {"success": True, "sessionId": session_id})
    status, kept = call(runtime, "GET", f"/api/sessions/{session_id}")
    assert status == 200 and kept["sessionOptions"] == {"model": "m2"}, "unloading keeps the session stored"


def test_a_message_to_a_session_without_a_model_key_is_refused_in_the_seeds_shape(runtime: Runtime) -> None:
    session_id = create(runtime)["sessionId"]

    status, refused = call(runtime, "POST", f"/api/sessions/{session_id}/messages", {"content": "hello"})

    assert status == 400 and refused["code"] == "MODEL_KEY_MISSING" and "ANTHROPIC_API_KEY" in refused["error"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/sessions/{unknown}", None),
        ("DELETE", "/api/sessions/{unknown}", None),
        ("POST", "/api/sessions/{unknown}/sync", None),
        ("PATCH", "/api/sessions/{unknown}/options", {"sessionOptions": {}}),
        ("POST", "/api/sessions/{unknown}/messages", {"content": "hello"}),
    ],
)
def test_an_unknown_session_is_404_session_not_found(runtime: Runtime, method: str, path: str, body: Any) -> None:
    status, refused = call(runtime, method, path.format(unknown=uuid.uuid4()), body)

    assert (status, refused["code"]) == (404, "SESSION_NOT_FOUND") and refused["error"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"agentProfileRef": "default", "architecture": "opencode"}, "INVALID_ARCHITECTURE"),
        ({"agentProfileRef": "default"}, "INVALID_REQUEST"),
        ({"architecture": "anthropic"}, "INVALID_REQUEST"),
        (
            {"agentProfileRef": "default", "architecture": "anthropic", "sessionOptions": {"model": 5}},
            "INVALID_REQUEST",
        ),
        ([1, 2], "INVALID_REQUEST"),
        ({"agentProfileRef": "no-such-profile", "architecture": "anthropic"}, "PROFILE_NOT_FOUND"),
    ],
)
def test_a_bad_create_is_refused_and_stores_nothing(runtime: Runtime, body: Any, code: str) -> None:
    before = call(runtime, "GET", "/api/sessions")[1]["sessions"]

    status, refused = call(runtime, "POST", "/api/sessions", body)

    assert (status, refused["code"]) == (404 if code == "PROFILE_NOT_FOUND" else 400, code)
    if code == "INVALID_ARCHITECTURE":
        assert "claude-agent-sdk, gemini-cli, anthropic" in refused["error"]
    assert call(runtime, "GET", "/api/sessions")[1]["sessions"] == before


def test_a_message_needs_content(runtime: Runtime) -> None:
    session_id = create(runtime)["sessionId"]

    assert call(runtime, "POST", f"/api/sessions/{session_id}/messages", {"text": "hi"})[0] == 400


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AUTH_REQUIRED"),
        ({"Authorization": "Bearer not-the-key"}, "INVALID_API_KEY"),
        ({"Authorization": API_KEY + "x"}, "INVALID_API_KEY"),
    ],
)
def test_without_the_key_every_route_is_401_with_the_seeds_codes(
    runtime: Runtime, headers: dict[str, str], code: str
) -> None:
    for method, path in [("GET", "/api/sessions"), ("POST", "/api/sessions"), ("GET", f"/api/sessions/{uuid.uuid4()}")]:
        assert call(runtime, method, path, {}, headers=headers) == (
            401,
            {"error": "Missing Authorization header" if code == "AUTH_REQUIRED" else "Invalid API key", "code": code},
        )


def test_the_bare_key_is_taken_as_the_seed_took_it(runtime: Runtime) -> None:
    assert call(runtime, "GET", "/api/sessions", headers={"Authorization": API_KEY})[0] == 200


@pytest.mark.parametrize("path", ["/api/sessions", "/v1/sessions"])
def test_a_body_nested_too_deeply_is_a_400_not_a_crash(runtime: Runtime, path: str) -> None:
    request = urllib.request.Request(
        f"http://{runtime.process.rest_address}{path}",
        method="POST",
        data=b"[" * 100_000 + b"]" * 100_000,
        headers={"Content-Type": "application/json", **KEYED},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    refused.value.close()

    assert refused.value.code == 400
