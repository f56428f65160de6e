"""How many connections a listener takes at once and how long a new one may take to say what it wants;
apart from the guard that enforces them, so the CLI can name the defaults without loading a server."""

from __future__ import annotations

import resource
from dataclasses import dataclass, field


def _default_max_connections() -> int:
    """8,192, or half the descriptors this process may open if that is fewer: the rest are for storage,
    sandboxes and gRPC."""
    return min(8192, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2)


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = field(default_factory=_default_max_connections)
    head_seconds: float = 10.0


DEFAULT_LIMITS = ConnectionLimits()
