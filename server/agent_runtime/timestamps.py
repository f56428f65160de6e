"""The current time as a protobuf Timestamp (six times quicker than Timestamp.GetCurrentTime, which goes
through datetime: it is taken for every event)."""

from __future__ import annotations

import time

from google.protobuf import timestamp_pb2


def now() -> timestamp_pb2.Timestamp:
    seconds, nanos = divmod(time.time_ns(), 1_000_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
