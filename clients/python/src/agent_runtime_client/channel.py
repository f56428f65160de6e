"""A grpclib channel to a runtime's address."""

from __future__ import annotations

from grpclib.client import Channel

from agent_runtime_client.errors import StatusDetailsCodec


def open_channel(address: str) -> Channel:
    """`address` is host:port ("127.0.0.1:50051", "[::1]:50051"), optionally after "grpc://" as the runtime's
    own tools accept it. grpclib connects at the first call and again after the connection is lost."""
    host, colon, port = address.removeprefix("grpc://").rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return Channel(host.strip("[]"), int(port), status_details_codec=StatusDetailsCodec())
