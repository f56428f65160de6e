"""How the runtime reaches the model vendors: base URLs and the real keys, from its environment.

Keys never enter a sandbox. The native `anthropic` architecture calls the API from the runtime itself;
the CLIs in sandboxes reach it through the model proxy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import anthropic
import grpc

from agent_runtime.errors import ApiError
from agent_runtime.modelproxy.proxy import ModelProxy, Upstream
from agent_runtime.modelproxy.vendors import ANTHROPIC, GEMINI, Vendor


@dataclass(frozen=True)
class VendorAccess:
    vendor: Vendor
    key_variable: str
    url_variable: str
    default_url: str  # the vendor's endpoint, the clients' default too


ANTHROPIC_ACCESS = VendorAccess(ANTHROPIC, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "https://api.anthropic.com")
GEMINI_ACCESS = VendorAccess(
    GEMINI, "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"
)
# The vendor whose model each architecture talks to.
ARCHITECTURE_ACCESS = {"anthropic": ANTHROPIC_ACCESS, "claude-agent-sdk": ANTHROPIC_ACCESS, "gemini-cli": GEMINI_ACCESS}


class ModelAccess:
    def __init__(self, environment: dict[str, str]) -> None:
        """`environment`: the runtime's own, where the keys and base URLs are read from."""
        self._keys = {a.vendor.name: environment.get(a.key_variable) or "" for a in (ANTHROPIC_ACCESS, GEMINI_ACCESS)}
        self._urls = {
            a.vendor.name: environment.get(a.url_variable) or a.default_url for a in (ANTHROPIC_ACCESS, GEMINI_ACCESS)
        }
        self._client: anthropic.AsyncAnthropic | None = None

    @classmethod
    def from_environment(cls) -> ModelAccess:
        return cls(dict(os.environ))

    def keyless_architectures(self) -> dict[str, list[str]]:
        """For each key variable that is not set, the architectures whose turns it refuses."""
        missing: dict[str, list[str]] = {}
        for architecture, access in ARCHITECTURE_ACCESS.items():
            if not self._keys[access.vendor.name]:
                missing.setdefault(access.key_variable, []).append(architecture)
        return missing

    def model_proxy(self, budget_tokens: int) -> ModelProxy | None:
        """The proxy sandboxes reach the models through, for each vendor with a key; None without any."""
        upstreams = [
            Upstream(access.vendor, self._urls[access.vendor.name], self._keys[access.vendor.name])
            for access in (ANTHROPIC_ACCESS, GEMINI_ACCESS)
            if self._keys[access.vendor.name]
        ]
        return ModelProxy(upstreams, budget_tokens) if upstreams else None

    def require_key(self, architecture: str) -> None:
        """FAILED_PRECONDITION, naming the variable to set, when the architecture's vendor has no key."""
        access = ARCHITECTURE_ACCESS[architecture]
        if not self._keys[access.vendor.name]:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "MODEL_KEY_MISSING",
                f"no {access.vendor.name} API key is configured: set {access.key_variable} where the runtime runs",
                metadata={"variable": access.key_variable},
            )

    def anthropic_client(self) -> anthropic.AsyncAnthropic:
        """One client for the runtime, so connections are reused."""
        self.require_key("anthropic")
        if self._client is None:
            # The SDK retries rate limits and server errors twice, with backoff; what still fails ends the
            # turn with an error block.
            self._client = anthropic.AsyncAnthropic(
                api_key=self._keys["anthropic"], base_url=self._urls["anthropic"], max_retries=2
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
