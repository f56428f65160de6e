"""Calling the servers as a user would: channels, the API key, and what an error says."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import grpc
from google.rpc import error_details_pb2, status_pb2

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


def channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address.removeprefix("grpc://"), options=CHANNEL_OPTIONS)


def bearer(key: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {key}"),)


def status_of(error: grpc.aio.AioRpcError) -> Any:
    """The google.rpc.Status the server sent in the standard trailer."""
    # grpc.aio gives (key, value) pairs; its stubs call them _Metadatum.
    for key, value in cast(Sequence[tuple[str, Any]], tuple(error.trailing_metadata() or ())):
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    raise AssertionError(f"{error.code().name} carries no google.rpc.Status: {error.details()}")


def error_info(error: grpc.aio.AioRpcError) -> Any:
    for detail in status_of(error).details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    raise AssertionError(f"{error.code().name} carries no ErrorInfo: {error.details()}")


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """field -> reason of every BadRequest violation."""
    for detail in status_of(error).details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            return {v.field: v.reason for v in bad.field_violations}
    return {}


def assert_error(error: grpc.aio.AioRpcError, code: grpc.StatusCode, reason: str) -> None:
    assert error.code() == code, f"expected {code.name}, got {error.code().name}: {error.details()}"
    info = error_info(error)
    assert info.reason == reason, f"expected reason {reason}, got {info.reason}: {error.details()}"
    assert info.domain == "agent-runtime"
