"""The REST shim of a real `agent-runtime serve`: the seed's requests as written, server-sent events that resume,
errors as google.rpc.Status JSON with their HTTP status, and bad input refused with a 4xx, changing nothing."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.conftest import API_KEY, Runtime

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    async with aiohttp.ClientSession() as client:
        yield client, f"http://{runtime.process.rest_address}"


async def call(
    http: tuple[aiohttp.ClientSession, str], method: str, path: str, body: Any = None, **options: Any
) -> tuple[int, Any]:
    client, base = http
    options.setdefault("headers", HEADERS)
    async with client.request(method, base + path, json=body, **options) as response:
        return response.status, await response.json()


def reason(status: dict[str, Any]) -> str:
    infos = [d for d in status.get("details", []) if d.get("@type", "").endswith("google.rpc.ErrorInfo")]
    return str(infos[0]["reason"]) if infos else ""


async def test_the_seeds_requests_work_as_written(http: tuple[aiohttp.ClientSession, str]) -> None:
    status, created = await call(
        http, "POST", "/sessions/create", {"agentProfileRef": "default", "architecture": "claude-agent-sdk"}
    )
    assert status == 200 and created["architecture"] == "claude-agent-sdk"
    session_id = created["sessionId"]
    status, listed = await call(http, "GET", "/sessions?pageSize=500")
    assert status == 200 and session_id in [s["sessionId"] for s in listed["sessions"]]
    status, fetched = await call(http, "GET", f"/sessions/{session_id}")
    assert status == 200 and fetched["agentProfileRef"] == "default"
    status, refused = await call(http, "POST", f"/sessions/{session_id}/message", {"content": "hi"})
    assert status == 400 and reason(refused) == "MODEL_KEY_MISSING", "routed: this runtime has no model key"
    status, profiles = await call(http, "GET", "/agent-profiles")
    assert status == 200 and "default" in [p["id"] for p in profiles["profiles"]]
    status, renamed = await call(http, "PATCH", f"/sessions/{session_id}?updateMask=name", {"name": "From REST"})
    assert status == 200 and renamed["name"] == "From REST"
    status, deleted = await call(http, "DELETE", f"/sessions/{session_id}?purge=true")
    assert status == 200 and deleted["purged"] is True
    status, gone = await call(http, "GET", f"/sessions/{session_id}")
    assert status == 404 and gone["code"] == 5 and reason(gone) == "SESSION_NOT_FOUND"


async def test_health_needs_no_key_and_everything_else_does(http: tuple[aiohttp.ClientSession, str]) -> None:
    status, health = await call(http, "GET", "/health", headers={})
    assert (status, health) == (200, {"status": "SERVING"})
    status, refused = await call(http, "GET", "/sessions", headers={})
    assert status == 401 and refused["code"] == 16 and reason(refused) == "API_KEY_MISSING"
    status, refused = await call(http, "GET", "/sessions", headers={"Authorization": "Bearer wrong"})
    assert status == 401 and reason(refused) == "API_KEY_INVALID"


async def test_bad_input_gets_a_4xx_status_and_changes_nothing(http: tuple[aiohttp.ClientSession, str]) -> None:
    client, base = http
    _, before = await call(http, "GET", "/sessions?pageSize=1000")
    as_json = {**HEADERS, "Content-Type": "application/json"}
    huge = io.BytesIO(b"x" * (49 * 1024 * 1024))
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"data": b"{not json", "headers": as_json}, 400, "MALFORMED_JSON"),
        ({"data": b"[1, 2]", "headers": as_json}, 400, "MALFORMED_JSON"),
        ({"json": {"agentProfileRef": 7, "architecture": "anthropic"}, "headers": HEADERS}, 400, "INVALID_JSON_FIELD"),
        ({"json": {"agentProfileRef": "default", "nope": 1}, "headers": HEADERS}, 400, "INVALID_JSON_FIELD"),
        (
            {"data": b"agentProfileRef=default", "headers": {**HEADERS, "Content-Type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            {"json": {"agentProfileRef": "default", "architecture": "cobol"}, "headers": HEADERS},
            400,
            "INVALID_ARCHITECTURE",
        ),
        ({"data": huge, "headers": as_json}, 413, "BODY_TOO_LARGE"),
        # Bodies over a MiB are parsed in a worker process; its refusals are the same.
        ({"data": io.BytesIO(b"{" + b" " * 2**21 + b"oops"), "headers": as_json}, 400, "MALFORMED_JSON"),
        (
            {"data": io.BytesIO(b'{"metadata": {"a": [' + b"0," * 2_600_000 + b"0]}}"), "headers": as_json},
            413,
            "BODY_TOO_COSTLY",
        ),
        (
            {
                "data": io.BytesIO(b'{"agentProfileRef": "default", "metadata": {"a": "' + b"x" * 2**21 + b'"}}'),
                "headers": as_json,
            },
            400,
            "FIELD_TOO_LONG",
        ),
    ]
    for options, expected, expected_reason in cases:
        async with client.post(base + "/sessions/create", **options) as response:
            assert response.status == expected, (options.get("json"), await response.text())
            assert reason(await response.json()) == expected_reason
    status, wrong_type = await call(http, "GET", "/sessions?pageSize=many")
    assert status == 400 and reason(wrong_type) == "INVALID_QUERY"
    status, unknown = await call(http, "GET", "/sessions?colour=blue")
    assert status == 400 and reason(unknown) == "UNKNOWN_FIELD"
    status, _ = await call(http, "PUT", "/sessions")
    assert status == 405
    status, _ = await call(http, "GET", "/nowhere")
    assert status == 404
    _, after = await call(http, "GET", "/sessions?pageSize=1000")
    assert after == before, "nothing was created"


async def test_a_body_over_a_mib_makes_the_same_request(http: tuple[aiohttp.ClientSession, str]) -> None:
    content = bytes(range(256)) * 8192  # 2 MiB: parsed in the worker process
    file = {"path": "data.bin", "content": base64.b64encode(content).decode()}
    body = {"agentProfileRef": "default", "architecture": "anthropic", "defaultWorkspaceFiles": [file]}
    client, base = http
    as_json = {**HEADERS, "Content-Type": "application/json"}
    posted = io.BytesIO(json.dumps(body).encode())
    async with client.post(base + "/sessions/create?name=big", data=posted, headers=as_json) as response:
        status, created = response.status, await response.json()
    assert status == 200 and created["name"] == "big", "the query still goes over the body"

    status, stored = await call(http, "GET", f"/sessions/{created['sessionId']}/files/data.bin")
    assert status == 200 and base64.b64decode(stored["content"]) == content
    await call(http, "DELETE", f"/sessions/{created['sessionId']}?purge=true")


def parser_workers(pid: int) -> list[int]:
    """The runtime's children that multiprocessing spawned to run work."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


async def test_a_body_parser_that_dies_is_replaced(http: tuple[aiohttp.ClientSession, str], runtime: Runtime) -> None:
    client, base = http
    body = json.dumps({"agentProfileRef": "default", "architecture": "anthropic", "name": "x" * 2**21}).encode()
    as_json = {**HEADERS, "Content-Type": "application/json"}

    async def create() -> int:
        async with client.post(base + "/sessions/create", data=io.BytesIO(body), headers=as_json) as response:
            return response.status

    assert await create() == 400, "the name is too long, as the worker found"
    workers = parser_workers(runtime.process.process.pid)
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)
    await create()  # may find the pool broken
    assert await create() == 400
    assert len(parser_workers(runtime.process.process.pid)) == 1


async def read_sse(response: aiohttp.ClientResponse) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if not line:
            if current:
                events.append(current)
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = value
    return events


async def test_events_stream_as_server_sent_events_and_resume(http: tuple[aiohttp.ClientSession, str]) -> None:
    client, base = http
    _, created = await call(
        http, "POST", "/sessions/create", {"agentProfileRef": "default", "architecture": "anthropic"}
    )
    session_id = created["sessionId"]
    for model in ("first-model", "second-model", "third-model"):  # each change is an event of the session
        status, _ = await call(
            http,
            "PATCH",
            f"/sessions/{session_id}?updateMask=sessionOptions",  # a FieldMask in JSON is lowerCamel
            {"sessionOptions": {"model": model}},
        )
        assert status == 200
    url = f"{base}/sessions/{session_id}/events?follow=false"
    async with client.get(url, headers=HEADERS) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = await read_sse(response)
    assert [(e["id"], e["event"]) for e in events] == [(str(n), "session:options:update") for n in (1, 2, 3)]
    assert json.loads(events[0]["data"])["optionsUpdate"]["sessionOptions"]["model"] == "first-model"

    async with client.get(url, headers={**HEADERS, "Last-Event-ID": "1"}) as response:
        resumed = await read_sse(response)
    assert [e["id"] for e in resumed] == ["2", "3"], "an EventSource reconnecting loses and repeats nothing"
    async with client.get(url + "&after=2", headers={**HEADERS, "Accept": "application/x-ndjson"}) as response:
        assert response.headers["Content-Type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert [line["result"]["event"]["sequence"] for line in lines] == ["3"]

    status, beyond = await call(http, "GET", f"/sessions/{session_id}/events?after=99")
    assert status == 400 and reason(beyond) == "CURSOR_BEYOND_HEAD"
    status, _ = await call(http, "GET", "/sessions/4f6c1d2e-0000-4000-8000-00000000aaaa/events")
    assert status == 404


async def test_an_idle_event_stream_opens_at_once(http: tuple[aiohttp.ClientSession, str]) -> None:
    client, base = http
    _, created = await call(
        http, "POST", "/sessions/create", {"agentProfileRef": "default", "architecture": "anthropic"}
    )
    async with client.get(f"{base}/sessions/{created['sessionId']}/events", headers=HEADERS) as response:
        assert response.status == 200
        first = await response.content.readline()
    assert first == b": stream open\n", "a comment before any event or keep-alive, for EventSource and proxies"


async def test_openapi_describes_every_route(http: tuple[aiohttp.ClientSession, str]) -> None:
    status, document = await call(http, "GET", "/openapi.json", headers={})
    assert status == 200 and document["openapi"].startswith("3.")
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"CreateSession", "SendMessage", "StreamSessionEvents", "GetWorkspaceFile", "Health"} <= operations
    session = document["components"]["schemas"]["agentruntime.v1.Session"]["properties"]
    assert session["createdAt"] == {"type": "string", "format": "date-time"}
    assert "/sessions/{session_id}/files/{path}" in document["paths"]


async def test_a_path_with_a_newline_gets_a_status_not_aiohttps_text(http: tuple[aiohttp.ClientSession, str]) -> None:
    """Found by schemathesis: a %0A in the path matched no route pattern, so aiohttp answered a text/plain 404."""
    status, refused = await call(http, "POST", "/sessions/a%0Ab/interrupt", {})
    assert status == 400 and reason(refused) == "INVALID_SESSION_ID", "routed like any session id"
    status, missing = await call(http, "GET", "/no%0Awhere")
    assert status == 404 and missing["code"] == 5


async def test_deeply_nested_json_gets_a_400_not_a_500(http: tuple[aiohttp.ClientSession, str]) -> None:
    """The JSON decoder's RecursionError was not a ValueError, so it escaped as 500 Internal Server Error."""
    client, base = http
    headers = {**HEADERS, "Content-Type": "application/json"}
    metadata = '{"a":' * 5000 + "1" + "}" * 5000
    body = '{"agentProfileRef": "default", "architecture": "anthropic", "metadata": ' + metadata + "}"
    for data in ("[" * 100_000, body):
        async with client.post(base + "/sessions/create", data=data.encode(), headers=headers) as response:
            assert response.status == 400 and reason(await response.json()) == "MALFORMED_JSON"


async def test_a_last_event_id_of_unicode_digits_gets_a_400_not_a_500(http: tuple[aiohttp.ClientSession, str]) -> None:
    """Last-Event-ID "²" passed isdigit() and then broke int(), a 500; an Arabic-Indic 1 was taken as 1."""
    _, created = await call(
        http, "POST", "/sessions/create", {"agentProfileRef": "default", "architecture": "anthropic"}
    )
    for last_event_id in ("²", "\u0661"):
        headers = {**HEADERS, "Last-Event-ID": last_event_id}
        status, refused = await call(
            http, "GET", f"/sessions/{created['sessionId']}/events?follow=false", headers=headers
        )
        assert status == 400 and reason(refused) == "INVALID_LAST_EVENT_ID"
    status, refused = await call(http, "GET", "/sessions?pageSize=\u0661")
    assert status == 400 and reason(refused) == "INVALID_QUERY"


async def openapi_operation(http: tuple[aiohttp.ClientSession, str], method: str, path: str) -> dict[str, Any]:
    status, document = await call(http, "GET", "/openapi.json", headers={})
    assert status == 200
    return dict(document["paths"][path][method])


async def test_openapi_documents_the_update_mask(http: tuple[aiohttp.ClientSession, str]) -> None:
    """The document left out every message-typed query parameter, so PATCH's required updateMask too."""
    update = await openapi_operation(http, "patch", "/sessions/{session_id}")
    mask = [p for p in update["parameters"] if p["name"] == "updateMask"]
    assert [(p["in"], p["schema"]["type"]) for p in mask] == [("query", "string")]


async def test_openapi_bodies_leave_out_what_the_path_binds(http: tuple[aiohttp.ClientSession, str]) -> None:
    """A body:"*" request's schema was the whole request message, sessionId too, which the path sets."""
    send = await openapi_operation(http, "post", "/sessions/{session_id}/message")
    body = send["requestBody"]["content"]["application/json"]["schema"]
    assert "content" in body["properties"] and "sessionId" not in body["properties"]


async def test_openapi_describes_each_server_sent_event(http: tuple[aiohttp.ClientSession, str]) -> None:
    """A stream's answer was described as one string, so nothing checked its events, nor Last-Event-ID."""
    stream = await openapi_operation(http, "get", "/sessions/{session_id}/events")
    event = stream["responses"]["200"]["content"]["text/event-stream"]["itemSchema"]
    assert event["required"] == ["data", "event"]
    data = [alternative["properties"]["data"] for alternative in event["anyOf"]]
    assert {"$ref": "#/components/schemas/agentruntime.v1.SessionEvent"} in [d["contentSchema"] for d in data]
    assert "Last-Event-ID" in [p["name"] for p in stream["parameters"]]


async def test_a_nan_double_is_described_as_the_json_mapping_writes_it(
    http: tuple[aiohttp.ClientSession, str],
) -> None:
    """The proto3 JSON mapping takes and writes NaN as the string "NaN", but the document said a double is a
    number. (A NaN budget itself is refused: no option means it.)"""
    options = {"claudeAgentSdk": {"maxBudgetUsd": "NaN"}}
    status, refused = await call(
        http,
        "POST",
        "/sessions/create",
        {"agentProfileRef": "default", "architecture": "claude-agent-sdk", "sessionOptions": options},
    )
    assert status == 400 and refused["details"][0]["reason"] == "NOT_A_FINITE_NUMBER"
    _, document = await call(http, "GET", "/openapi.json", headers={})
    budget = document["components"]["schemas"]["agentruntime.v1.ClaudeAgentSdkOptions"]["properties"]["maxBudgetUsd"]
    assert "NaN" in [value for alternative in budget["anyOf"] for value in alternative.get("enum", [])]


async def test_openapi_describes_the_health_answers(http: tuple[aiohttp.ClientSession, str]) -> None:
    """/health answers JSON, but the document gave its answers no content."""
    health = await openapi_operation(http, "get", "/health")
    assert {"200", "503"} <= {
        code for code, answer in health["responses"].items() if "application/json" in answer["content"]
    }


async def test_without_a_key_bad_input_gets_a_401_not_a_400(http: tuple[aiohttp.ClientSession, str]) -> None:
    """Found by schemathesis: the shim judged the input before gRPC judged the key, so a caller with no key
    learnt what was wrong with its body."""
    client, base = http
    headers = {"Content-Type": "application/json"}
    async with client.post(base + "/sessions/create", data=b"{not json", headers=headers) as response:
        assert response.status == 401 and reason(await response.json()) == "API_KEY_MISSING"
    status, refused = await call(http, "GET", "/sessions?pageSize=many", headers={})
    assert status == 401 and reason(refused) == "API_KEY_MISSING"


async def test_a_405_says_which_methods_are_allowed(http: tuple[aiohttp.ClientSession, str]) -> None:
    """Found by schemathesis: a 405 had no Allow header, which RFC 9110 requires."""
    client, base = http
    for method, path, allowed in (("PUT", "/sessions", "GET"), ("POST", "/health", "GET, HEAD")):
        async with client.request(method, base + path, headers=HEADERS) as response:
            assert response.status == 405 and response.headers["Allow"] == allowed
            assert reason(await response.json()) == "METHOD_NOT_ALLOWED"


async def test_a_body_that_is_not_the_gzip_it_claims_gets_a_400_not_a_500(
    http: tuple[aiohttp.ClientSession, str],
) -> None:
    """aiohttp's RequestPayloadError from decoding the body escaped the shim as a 500."""
    client, base = http
    headers = {**HEADERS, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    async with client.post(base + "/sessions/create", data=b"not gzip", headers=headers) as response:
        assert response.status == 400 and reason(await response.json()) == "UNREADABLE_BODY"


async def test_enum_values_are_taken_by_their_short_names_too(http: tuple[aiohttp.ClientSession, str]) -> None:
    status, created = await call(
        http, "POST", "/sessions/create", {"agentProfileRef": "default", "architecture": "anthropic"}
    )
    session_id = created["sessionId"]

    for view in ("FULL", "full", "SESSION_VIEW_FULL"):
        status, fetched = await call(http, "GET", f"/sessions/{session_id}?view={view}")
        assert (status, fetched["sessionId"]) == (200, session_id), view
    status, refused = await call(http, "POST", f"/sessions/{session_id}/message", {"content": "hi", "ifBusy": "REJECT"})
    assert status == 400 and reason(refused) == "MODEL_KEY_MISSING", "the enum was taken: the message was routed"
    status, wrong = await call(http, "GET", f"/sessions/{session_id}?view=SIDEWAYS")
    assert status == 400 and reason(wrong) == "INVALID_JSON_FIELD"
