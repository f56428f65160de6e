"""Everything the fake control plane and command router share: credentials, tokens, apps, images,
sandboxes. Owned by the fake's event loop; read it from elsewhere through `FakeModal.inspect`."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from grpclib import GRPCError, Status
from modal_proto import api_pb2

from tests.fakes.modal.calls import CallLog
from tests.fakes.modal.sandboxes import FakeSandbox
from tests.fakes.modal.tokens import TokenIssuer


def new_id(prefix: str, suffix: str = "") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}{suffix}"


@dataclass
class FakeModalState:
    token_id: str
    token_secret: str
    host_dir: Path
    router_url: str = ""
    log: CallLog = field(default_factory=CallLog)
    auth_tokens: TokenIssuer = field(default_factory=TokenIssuer)
    router_tokens: TokenIssuer = field(default_factory=TokenIssuer)
    apps: dict[str, str] = field(default_factory=dict)  # name -> id
    images: dict[str, api_pb2.Image] = field(default_factory=dict)
    sandboxes: dict[str, FakeSandbox] = field(default_factory=dict)
    _last_created_at: float = 0.0

    def created_at(self) -> float:
        """Creation times strictly increase, since `SandboxListV2` pages by them."""
        self._last_created_at = max(time.time(), self._last_created_at + 1e-6)
        return self._last_created_at

    def sandbox(self, sandbox_id: str) -> FakeSandbox:
        found = self.sandboxes.get(sandbox_id)
        if found is None:
            raise GRPCError(Status.NOT_FOUND, f"Sandbox {sandbox_id} not found")
        return found

    def sandbox_of_task(self, task_id: str) -> FakeSandbox:
        for sandbox in self.sandboxes.values():
            if sandbox.task_id == task_id:
                return sandbox
        raise GRPCError(Status.NOT_FOUND, f"Task {task_id} not found")
