"""One exception for every failed call, with the runtime's google.rpc.Status details decoded.

The runtime sends a google.rpc.Status in the `grpc-status-details-bin` trailer: an ErrorInfo with a stable
reason (SESSION_NOT_FOUND, API_KEY_INVALID...) and, for bad input, BadRequest field violations. grpclib hands
those bytes to a channel's status details codec; `StatusDetailsCodec` parses them with the generated
google.rpc messages, so the client needs no protobuf runtime.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from grpclib.const import Status
from grpclib.encoding.base import StatusDetailsCodecBase
from grpclib.exceptions import GRPCError, StreamTerminatedError

from agent_runtime_client._gen.google import rpc

TYPE_URL_PREFIX = "type.googleapis.com/"


@dataclass(frozen=True)
class FieldViolation:
    """One thing wrong with a request: the field's path ("default_workspace_files[0].path"), why, and a
    stable reason ("INVALID_PATH")."""

    field: str
    description: str
    reason: str


@dataclass
class AgentRuntimeError(Exception):
    """A call failed. `reason` and `domain` are empty when the failure has no ErrorInfo (the runtime could
    not be reached, say)."""

    status: Status
    message: str
    reason: str = ""
    domain: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    field_violations: tuple[FieldViolation, ...] = ()

    def __post_init__(self) -> None:
        reason = f" {self.reason}" if self.reason else ""
        super().__init__(f"{self.status.name}{reason}: {self.message}")

    @property
    def violations_by_field(self) -> dict[str, str]:
        """field -> reason of every field violation."""
        return {v.field: v.reason for v in self.field_violations}


class StatusDetailsCodec(StatusDetailsCodecBase):
    """Reads `grpc-status-details-bin` as a google.rpc.Status; grpclib puts it in GRPCError.details."""

    def encode(self, status: Status, message: str | None, details: Any) -> bytes:
        raise NotImplementedError("a client sends no status details")

    def decode(self, status: Status, message: str | None, data: bytes) -> rpc.Status:
        return rpc.Status.parse(data)


def _from_grpc_error(error: GRPCError) -> AgentRuntimeError:
    status = error.details if isinstance(error.details, rpc.Status) else rpc.Status()
    reason, domain, metadata = "", "", dict[str, str]()
    violations: tuple[FieldViolation, ...] = ()
    for detail in status.details:
        name = detail.type_url.removeprefix(TYPE_URL_PREFIX)
        if name == "google.rpc.ErrorInfo":
            info = rpc.ErrorInfo.parse(detail.value)
            reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        elif name == "google.rpc.BadRequest":
            bad = rpc.BadRequest.parse(detail.value)
            violations = tuple(FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations)
    return AgentRuntimeError(error.status, error.message or "", reason, domain, metadata, violations)


def _from_transport_error(error: Exception) -> AgentRuntimeError | None:
    """The AgentRuntimeError for an exception grpclib or the socket raised; None for any other."""
    if isinstance(error, GRPCError):
        return _from_grpc_error(error)
    if isinstance(error, TimeoutError):  # grpclib's deadline; a TimeoutError is also an OSError
        return AgentRuntimeError(Status.DEADLINE_EXCEEDED, "the call's deadline passed")
    if isinstance(error, OSError | StreamTerminatedError):
        # The connection could not be opened or broke mid-call: what gRPC calls UNAVAILABLE.
        return AgentRuntimeError(Status.UNAVAILABLE, f"the runtime is unreachable: {error!r}")
    return None


@contextmanager
def raised_as_agent_runtime_errors() -> Iterator[None]:
    """What grpclib or the socket raises inside, raised again as AgentRuntimeError."""
    try:
        yield
    except Exception as error:
        translated = _from_transport_error(error)
        if translated is None:
            raise
        raise translated from error
