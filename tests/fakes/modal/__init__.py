"""A fake Modal (control plane and Task Command Router) driven by the real, unmodified `modal` client.

async with running_fake_modal() as fake, modal_provider_for(fake) as provider:
    sandbox = await provider.create(SandboxSpec(session_id="..."))
"""

from tests.fakes.modal.provider import connect_client, fake_modal_provider, modal_provider_for
from tests.fakes.modal.server import FakeModal, running_fake_modal

__all__ = ["FakeModal", "connect_client", "fake_modal_provider", "modal_provider_for", "running_fake_modal"]
