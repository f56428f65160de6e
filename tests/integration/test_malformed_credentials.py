"""A credential that is not a well-formed Bearer key is an invalid key (401, UNAUTHENTICATED), never a
server error, and no answer or log line repeats it; a REST request without the key is refused before its
body is read."""

from __future__ import annotations

import asyncio
import json

from tests.integration.conftest import API_KEY, Runtime

ANSWER_SECONDS = 10.0  # an upper bound for an answer that needs nothing but the headers


async def raw_request(runtime: Runtime, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Sends exactly these bytes and returns the answer's status and body, without sending anything more."""
    host, port = runtime.process.rest_address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + b"\r\n\r\n" + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), ANSWER_SECONDS)
        headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_SECONDS)
        length = next(
            int(line.split(b":")[1]) for line in headers.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        return int(status_line.split()[1]), await asyncio.wait_for(reader.readexactly(length), ANSWER_SECONDS)
    finally:
        writer.close()


def reason(body: bytes) -> str:
    details = json.loads(body).get("details", [])
    return str(next(d["reason"] for d in details if d.get("@type", "").endswith("ErrorInfo")))


async def get_sessions(runtime: Runtime, authorization: str) -> tuple[int, bytes]:
    return await raw_request(
        runtime, f"GET /sessions HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}".encode("latin-1")
    )


async def test_malformed_bearer_headers_are_an_invalid_key_and_never_echoed(runtime: Runtime) -> None:
    for header in (
        f"Bearer\t{API_KEY}",
        f"Bearer {API_KEY} extra",
        f"Basic {API_KEY}",
        f"Bearer  {API_KEY}x",
        "Bearer",
    ):
        status, body = await get_sessions(runtime, header)
        assert (status, reason(body)) == (401, "API_KEY_INVALID"), (header, body)
        assert API_KEY.encode() not in body, f"{header!r}: the answer repeats the key"
    assert API_KEY not in runtime.process.text(), "the log repeats the key"


async def test_a_header_with_a_control_byte_is_refused_without_an_echo(runtime: Runtime) -> None:
    for header in (f"Bearer {API_KEY}\x00", f"Bearer {API_KEY}\x07", f"\x1bBearer {API_KEY}"):
        status, body = await get_sessions(runtime, header)
        assert status == 400, (header, body)
        assert API_KEY.encode() not in body, f"{header!r}: the answer repeats the key"
    assert API_KEY not in runtime.process.text(), "the log repeats the key"


async def test_a_body_without_the_key_is_refused_before_it_is_read(runtime: Runtime) -> None:
    announced = 45 * 1024 * 1024
    head = f"POST /sessions/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {announced}"

    status, body = await raw_request(runtime, head.encode(), b'{"agentProfileRef": "')  # and nothing more

    assert (status, reason(body)) == (401, "API_KEY_MISSING")


async def test_the_key_alone_or_in_x_api_key_is_taken_over_rest(runtime: Runtime) -> None:
    for header in (f"Authorization: {API_KEY}", f"X-Api-Key: {API_KEY}"):
        status, _ = await raw_request(runtime, f"GET /sessions HTTP/1.1\r\nHost: x\r\n{header}".encode())
        assert status == 200, header
