"""StreamSessionEvents' responses as bytes, each event encoded once however many streams send it.

A hundred subscribers of one session would otherwise copy every event into a response and serialize it
a hundred times. Events never change once stored, so (session, sequence) names one encoding for good;
the most recently encoded are kept, up to a budget of bytes.
"""

from __future__ import annotations

from collections import OrderedDict

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2
from agent_runtime.events.stream import StreamItem

Response = agent_runtime_pb2.StreamSessionEventsResponse
BUDGET_BYTES = 16 * 1024 * 1024


class EncodedEvents:
    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self._budget = budget_bytes
        self._kept: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._kept_bytes = 0

    def response(self, session_id: str, item: StreamItem) -> bytes:
        """`item`, one of `session_id`'s stream's, as a response's bytes."""
        if not isinstance(item, events_pb2.SessionEvent):
            return Response(heartbeat=item).SerializeToString()
        key = (session_id, item.sequence)
        encoded = self._kept.get(key)
        if encoded is None:
            encoded = Response(event=item).SerializeToString()
            self._keep(key, encoded)
        return encoded

    def _keep(self, key: tuple[str, int], encoded: bytes) -> None:
        self._kept[key] = encoded
        self._kept_bytes += len(encoded)
        while self._kept_bytes > self._budget:
            _, evicted = self._kept.popitem(last=False)
            self._kept_bytes -= len(evicted)
