"""Sockets, with the real python-socketio client: the ways to present the key (the `auth` payload, an
`Authorization` header, or a `token` query parameter in the URL, which the seed's client passes through),
and the joins refused."""

from __future__ import annotations

import pytest
import socketio

from tests.integration.conftest import API_KEY, Runtime
from tests.integration.seed_wire.test_api_routes import create


@pytest.mark.parametrize(
    ("url_suffix", "headers", "auth"),
    [
        ("", {}, {"token": API_KEY}),
        ("", {"Authorization": f"Bearer {API_KEY}"}, None),
        (f"?token={API_KEY}", {}, None),
    ],
)
async def test_each_way_of_presenting_the_key_connects(
    runtime: Runtime, url_suffix: str, headers: dict[str, str], auth: dict[str, str] | None
) -> None:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"http://{runtime.process.rest_address}{url_suffix}", headers=headers, auth=auth, wait_timeout=10
    )
    answer = await client.call("session:join", "not-a-session", timeout=10)
    await client.disconnect()

    assert answer["success"] is False and answer["error"]


@pytest.mark.parametrize(
    ("url_suffix", "auth"),
    [("?token=wrong", None), ("", {"token": "wrong"}), ("", None)],
)
async def test_a_wrong_or_missing_key_is_refused(
    runtime: Runtime, url_suffix: str, auth: dict[str, str] | None
) -> None:
    client = socketio.AsyncClient(reconnection=False)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(f"http://{runtime.process.rest_address}{url_suffix}", auth=auth, wait_timeout=10)

    assert not client.connected


@pytest.mark.parametrize("options", [{"afterSequence": 10_000}, {"afterSequence": -1}, {"afterSequence": "3"}])
async def test_a_join_after_a_sequence_the_session_never_had_is_refused(runtime: Runtime, options: object) -> None:
    session_id = create(runtime)["sessionId"]
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(f"http://{runtime.process.rest_address}", auth={"token": API_KEY}, wait_timeout=10)

    answer = await client.call("session:join", (session_id, options), timeout=10)
    await client.disconnect()

    assert answer["success"] is False and "afterSequence" in answer["error"]
