"""Errors that reach callers as google.rpc.Status with an ErrorInfo and, for bad input, BadRequest.

The status travels as the standard `grpc-status-details-bin` trailer, which every gRPC library reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

ERROR_DOMAIN = "agent-runtime"
STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str
    reason: str


@dataclass
class ApiError(Exception):
    """Raised anywhere below a servicer; the error interceptor turns it into the call's status."""

    code: grpc.StatusCode
    reason: str
    message: str
    violations: Sequence[FieldViolation] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def to_status(self) -> Any:
        """The google.rpc.Status message."""
        details = [error_details_pb2.ErrorInfo(reason=self.reason, domain=ERROR_DOMAIN, metadata=self.metadata)]
        if self.violations:
            details.append(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description, reason=v.reason
                        )
                        for v in self.violations
                    ]
                )
            )
        packed = []
        for detail in details:
            wrapper = any_pb2.Any()
            wrapper.Pack(detail)
            packed.append(wrapper)
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=packed)

    @classmethod
    def from_trailers(cls, code: grpc.StatusCode, message: str, trailers: Sequence[tuple[str, Any]]) -> ApiError:
        """The error another server sent, with its ErrorInfo and field violations when it gave them."""
        reason, metadata, violations = code.name, {}, []
        for key, value in trailers:
            if key != STATUS_DETAILS_KEY:
                continue
            for detail in status_pb2.Status.FromString(value).details:
                info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
                if detail.Unpack(info):
                    reason, metadata = info.reason, dict(info.metadata)
                elif detail.Unpack(bad):
                    violations = [FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations]
        return cls(code, reason, message, violations, metadata)


async def abort(context: grpc.aio.ServicerContext[Any, Any], error: ApiError) -> NoReturn:
    status = error.to_status()
    await context.abort(error.code, error.message, ((STATUS_DETAILS_KEY, status.SerializeToString()),))


MAX_REPORTED_VIOLATIONS = 20
MAX_FIELD_CHARS = 128
MAX_DESCRIPTION_CHARS = 200


def bad_request(violations: Sequence[FieldViolation]) -> ApiError:
    """INVALID_ARGUMENT naming the violations (the first MAX_REPORTED_VIOLATIONS: the status travels in
    headers, which a peer bounds at 8 KiB); the first one's reason becomes the ErrorInfo reason."""
    shown = [
        FieldViolation(v.field[:MAX_FIELD_CHARS], v.description[:MAX_DESCRIPTION_CHARS], v.reason)
        for v in violations[:MAX_REPORTED_VIOLATIONS]
    ]
    summary = "; ".join(f"{v.field}: {v.description}" for v in shown)
    if len(violations) > len(shown):
        summary += f"; and {len(violations) - len(shown)} more"
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, violations[0].reason, summary, shown)


def shutting_down(resume: str, **metadata: str) -> ApiError:
    """What ends a stream when the runtime stops: UNAVAILABLE, which a client retries elsewhere or later."""
    return ApiError(
        grpc.StatusCode.UNAVAILABLE, "SHUTTING_DOWN", f"the runtime is shutting down; {resume}", metadata=metadata
    )


def not_found(reason: str, message: str, **metadata: str) -> ApiError:
    return ApiError(grpc.StatusCode.NOT_FOUND, reason, message, metadata=metadata)
