"""The contract's messages, enums and stub (package agentruntime.v1), as betterproto2 generated them."""

from agent_runtime_client._gen.agentruntime.v1 import *  # noqa: F403 - the generated module's __all__ is the API
