"""How the runtime reaches the model vendors: base URLs and the real keys, from its environment.

Keys never enter a sandbox. The native `anthropic` architecture calls the API from the runtime itself.
"""

from __future__ import annotations

import os

import anthropic
import grpc

from agent_runtime.errors import ApiError
from agent_runtime.modelproxy.proxy import ModelProxy

ANTHROPIC_KEY_VARIABLE = "ANTHROPIC_API_KEY"
ANTHROPIC_DEFAULT_URL = "https://api.anthropic.com"  # the vendor's endpoint, the SDK's default too


class ModelAccess:
    def __init__(self, anthropic_api_key: str | None, anthropic_base_url: str | None) -> None:
        self.anthropic_api_key = anthropic_api_key
        self.anthropic_base_url = anthropic_base_url
        self._client: anthropic.AsyncAnthropic | None = None

    @classmethod
    def from_environment(cls) -> ModelAccess:
        return cls(
            anthropic_api_key=os.environ.get(ANTHROPIC_KEY_VARIABLE) or None,
            anthropic_base_url=os.environ.get("ANTHROPIC_BASE_URL") or None,
        )

    def model_proxy(self, budget_tokens: int) -> ModelProxy | None:
        """The proxy sandboxes reach the model through, when a key is configured."""
        if not self.anthropic_api_key:
            return None
        return ModelProxy(self.anthropic_base_url or ANTHROPIC_DEFAULT_URL, self.anthropic_api_key, budget_tokens)

    def require_key(self) -> None:
        """FAILED_PRECONDITION, naming the variable to set, when no key is configured."""
        if not self.anthropic_api_key:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "MODEL_KEY_MISSING",
                f"no Anthropic API key is configured: set {ANTHROPIC_KEY_VARIABLE} where the runtime runs",
                metadata={"variable": ANTHROPIC_KEY_VARIABLE},
            )

    def anthropic_client(self) -> anthropic.AsyncAnthropic:
        """One client for the runtime, so connections are reused."""
        self.require_key()
        if self._client is None:
            # The SDK retries rate limits and server errors twice, with backoff; what still fails ends the
            # turn with an error block.
            self._client = anthropic.AsyncAnthropic(
                api_key=self.anthropic_api_key, base_url=self.anthropic_base_url, max_retries=2
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
