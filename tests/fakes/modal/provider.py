"""The real Modal sandbox provider, pointed at a running fake."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import modal
from modal_proto import api_pb2

from agent_runtime.sandboxes.modal import ModalSandboxProvider
from tests.fakes.modal.server import FakeModal, running_fake_modal


async def connect_client(fake: FakeModal) -> modal.Client:
    """An opened client of the fake. `Client.from_credentials` would read the server address from the
    process-wide Modal config, so the client is made for the fake's address directly, as modal's own tests do."""
    client = modal.Client(fake.server_url, api_pb2.CLIENT_TYPE_CLIENT, (fake.token_id, fake.token_secret))
    await client.__aenter__()  # type: ignore[no-untyped-call]  # opens it; unannotated in modal's stub
    return client


@contextlib.asynccontextmanager
async def modal_provider_for(fake: FakeModal, **options: Any) -> AsyncIterator[ModalSandboxProvider]:
    """A ModalSandboxProvider on the fake (`options` as its constructor takes them), closed on the way out."""
    client = await connect_client(fake)
    provider = ModalSandboxProvider(client=client, **options)
    try:
        yield provider
    finally:
        await provider.close()
        await client.close.aio()


@contextlib.asynccontextmanager
async def fake_modal_provider(**options: Any) -> AsyncIterator[ModalSandboxProvider]:
    """A ModalSandboxProvider on a fake of its own, for suites that only want a provider. On the way out the
    fake stops, and raises AssertionError if the client called an RPC it does not implement."""
    async with running_fake_modal() as fake, modal_provider_for(fake, **options) as provider:
        yield provider
