"""Errors that reach callers as google.rpc.Status with an ErrorInfo and, for bad input, BadRequest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

ERROR_DOMAIN = "agent-runtime"


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

    def to_status(self) -> grpc.Status:
        info = error_details_pb2.ErrorInfo(reason=self.reason, domain=ERROR_DOMAIN, metadata=self.metadata)
        details = [info]
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
        status = status_pb2.Status(code=self.code.value[0], message=self.message, details=packed)
        return rpc_status.to_status(status)


def bad_request(violations: Sequence[FieldViolation]) -> ApiError:
    """INVALID_ARGUMENT naming every violation; the first one's reason becomes the ErrorInfo reason."""
    summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, violations[0].reason, summary, violations)


def not_found(reason: str, message: str, **metadata: str) -> ApiError:
    return ApiError(grpc.StatusCode.NOT_FOUND, reason, message, metadata=metadata)


