"""The Modal sandbox provider: a thin adapter over the `modal` client's async API."""

from agent_runtime.sandboxes.modal.provider import ModalSandboxProvider
from agent_runtime.sandboxes.modal.sandbox import ModalSandbox

__all__ = ["ModalSandbox", "ModalSandboxProvider"]
