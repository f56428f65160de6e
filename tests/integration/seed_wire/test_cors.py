"""--cors-origin: browsers at the listed origins may call the HTTP address (REST, its streams, /api, /v1)
and open its Socket.IO; no other origin may, and none may without the flag."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message

import pytest

from tests.integration.conftest import API_KEY, Runtime, launch, make_profiles

ALLOWED = "https://app.example"
OTHER = "https://elsewhere.example"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("cors")
    profiles = make_profiles(root / "profiles")
    args = (f"--cors-origin={ALLOWED}", "--cors-origin=https://second.example")
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, args), args)
    yield server
    server.process.stop()


def headers_of(runtime: Runtime, method: str, path: str, headers: dict[str, str]) -> tuple[int, Message]:
    request = urllib.request.Request(f"http://{runtime.process.rest_address}{path}", method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.mark.parametrize("path", ["/api/sessions", "/sessions", "/v1/sessions", "/agent-profiles"])
def test_a_listed_origin_is_allowed_and_another_is_not(runtime: Runtime, path: str) -> None:
    keyed = {"Authorization": f"Bearer {API_KEY}"}

    allowed = headers_of(runtime, "GET", path, {**keyed, "Origin": ALLOWED})
    other = headers_of(runtime, "GET", path, {**keyed, "Origin": OTHER})

    assert allowed[0] == other[0] == 200
    assert allowed[1]["Access-Control-Allow-Origin"] == ALLOWED
    assert "Access-Control-Allow-Origin" not in other[1]


def test_a_preflight_from_a_listed_origin_is_answered_without_the_key(runtime: Runtime) -> None:
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}

    status, headers = headers_of(runtime, "OPTIONS", "/api/sessions", {**asked, "Origin": ALLOWED})
    refused, other = headers_of(runtime, "OPTIONS", "/api/sessions", {**asked, "Origin": OTHER})

    assert status == 204 and headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert refused >= 400 and "Access-Control-Allow-Origin" not in other


def test_an_event_stream_carries_the_origins_header_too(runtime: Runtime) -> None:
    status, headers = headers_of(
        runtime,
        "GET",
        "/sessions:watch",
        {"Authorization": f"Bearer {API_KEY}", "Origin": ALLOWED, "Accept": "text/event-stream"},
    )

    assert status == 200 and headers["Access-Control-Allow-Origin"] == ALLOWED


def test_socket_io_takes_a_listed_origin_only(runtime: Runtime) -> None:
    handshake = "/socket.io/?EIO=4&transport=polling"

    allowed = headers_of(runtime, "GET", handshake, {"Origin": ALLOWED})
    other = headers_of(runtime, "GET", handshake, {"Origin": OTHER})

    assert allowed[0] == 200 and allowed[1]["Access-Control-Allow-Origin"] == ALLOWED
    assert other[0] == 400


def test_without_the_flag_no_origin_is_allowed(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("no-cors")
    profiles = make_profiles(root / "profiles")
    bare = Runtime(root / "data", profiles, launch(root / "data", profiles))
    try:
        _, headers = headers_of(bare, "GET", "/api/sessions", {"Authorization": API_KEY, "Origin": ALLOWED})
        socket_status, _ = headers_of(bare, "GET", "/socket.io/?EIO=4&transport=polling", {"Origin": ALLOWED})
    finally:
        bare.process.stop()

    assert "Access-Control-Allow-Origin" not in headers
    assert socket_status == 400
