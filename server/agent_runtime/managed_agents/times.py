"""Times as Managed Agents shows them: RFC 3339, or null when unset."""

from __future__ import annotations

from google.protobuf import timestamp_pb2


def rfc3339(stamp: timestamp_pb2.Timestamp) -> str | None:
    return stamp.ToJsonString() if stamp.seconds or stamp.nanos else None
