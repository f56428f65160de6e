"""Input rules for session requests. Each returns the violations it finds, so a caller learns all at once.

The limits are the ones documented in the proto comments.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence

from google.protobuf import json_format, struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2, session_pb2, workspace_pb2
from agent_runtime.agents.tools import TOOL_NAMES
from agent_runtime.errors import FieldViolation, bad_request
from agent_runtime.permissions import client_tools, rules
from agent_runtime.permissions.gate import ASK_USER_QUESTION
from agent_runtime.workspace_paths import MAX_FILE_BYTES, workspace_path_problem

ARCHITECTURES = ("claude-agent-sdk", "gemini-cli", "anthropic")
# The session_options oneof case each architecture accepts.
ARCHITECTURE_OPTIONS = {
    "claude-agent-sdk": "claude_agent_sdk",
    "gemini-cli": "gemini_cli",
    "anthropic": "anthropic",
}
PROFILE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_NAME_CHARS = 256
MAX_MODEL_CHARS = 128
MAX_METADATA_BYTES = 64 * 1024
MAX_DEFAULT_FILES = 1000
MAX_DEFAULT_FILES_BYTES = 32 * 1024 * 1024
MAX_ID_CHARS = 128
MAX_ANSWER_CHARS = 4096
MAX_ANSWERS = 100
# The native loop's own tools, whose names a client tool may not take.
NATIVE_TOOLS = (*TOOL_NAMES, ASK_USER_QUESTION)


def raise_if_any(violations: Sequence[FieldViolation]) -> None:
    if violations:
        raise bad_request(violations)


def check_uuid(field: str, value: str, reason: str, required: bool = True) -> list[FieldViolation]:
    if not value:
        return [FieldViolation(field, "is required", reason)] if required else []
    try:
        uuid.UUID(value)
    except ValueError:
        return [FieldViolation(field, f"{value[:64]!r} is not a UUID", reason)]
    return []


def check_session_id(session_id: str) -> None:
    raise_if_any(check_uuid("session_id", session_id, "INVALID_SESSION_ID"))


def check_profile_id(field: str, value: str) -> list[FieldViolation]:
    if not value:
        return [FieldViolation(field, "is required", "INVALID_PROFILE_REF")]
    if not PROFILE_ID_PATTERN.fullmatch(value):
        return [FieldViolation(field, "must be 1 to 128 characters of [A-Za-z0-9._-]", "INVALID_PROFILE_REF")]
    return []


def check_architecture(value: str) -> list[FieldViolation]:
    if value in ARCHITECTURES:
        return []
    shown = repr(value[:64]) if value else "empty"
    return [FieldViolation("architecture", f"{shown} is not one of {', '.join(ARCHITECTURES)}", "INVALID_ARCHITECTURE")]


def check_name(field: str, name: str) -> list[FieldViolation]:
    if len(name) > MAX_NAME_CHARS:
        return [FieldViolation(field, f"is longer than {MAX_NAME_CHARS} characters", "FIELD_TOO_LONG")]
    return []


def check_metadata(field: str, metadata: struct_pb2.Struct) -> list[FieldViolation]:
    size = len(json_format.MessageToJson(metadata, indent=None).encode())
    if size > MAX_METADATA_BYTES:
        return [FieldViolation(field, f"is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES}", "FIELD_TOO_LONG")]
    return []


def check_session_options(field: str, options: session_pb2.SessionOptions, architecture: str) -> list[FieldViolation]:
    found = []
    if len(options.model) > MAX_MODEL_CHARS:
        found.append(FieldViolation(f"{field}.model", f"is longer than {MAX_MODEL_CHARS} characters", "FIELD_TOO_LONG"))
    chosen = options.WhichOneof("architecture_options")
    if chosen is not None and chosen != ARCHITECTURE_OPTIONS.get(architecture):
        found.append(
            FieldViolation(f"{field}.{chosen}", f"does not apply to architecture {architecture!r}", "OPTIONS_MISMATCH")
        )
    if chosen is not None:
        chosen_options = getattr(options, chosen)
        for descriptor, value in chosen_options.ListFields():
            name = f"{field}.{chosen}.{descriptor.name}"
            # proto3 JSON takes "NaN" and "Infinity" for a double; no budget or limit means either.
            if isinstance(value, float) and not math.isfinite(value):
                found.append(FieldViolation(name, "must be a finite number", "NOT_A_FINITE_NUMBER"))
            elif isinstance(value, int | float) and value < 0:
                found.append(FieldViolation(name, "must not be negative", "NEGATIVE_NUMBER"))
    found.extend(rules.check(f"{field}.permissions", options.permissions))
    found.extend(client_tools.check(f"{field}.client_tools", options.client_tools, NATIVE_TOOLS))
    return found


def check_approval_answer(request: agent_runtime_pb2.RespondToApprovalRequest) -> list[FieldViolation]:
    found = [
        *check_uuid("session_id", request.session_id, "INVALID_SESSION_ID"),
        *_check_one_id(("approval_id", request.approval_id), ("tool_use_id", request.tool_use_id)),
        *_check_responder(request.responder),
    ]
    if request.decision not in (events_pb2.APPROVAL_DECISION_ALLOW, events_pb2.APPROVAL_DECISION_DENY):
        found.append(FieldViolation("decision", "is required: ALLOW or DENY", "INVALID_DECISION"))
    elif request.decision == events_pb2.APPROVAL_DECISION_DENY:
        found.extend(
            FieldViolation(name, "applies only to ALLOW", "INVALID_DECISION")
            for name, given in (("updated_input", request.HasField("updated_input")), ("remember", request.remember))
            if given
        )
    if len(request.message) > MAX_ANSWER_CHARS:
        found.append(FieldViolation("message", f"is longer than {MAX_ANSWER_CHARS} characters", "FIELD_TOO_LONG"))
    if len(request.answers) > MAX_ANSWERS or any(len(a) > MAX_ANSWER_CHARS for a in request.answers.values()):
        found.append(
            FieldViolation("answers", f"at most {MAX_ANSWERS} of {MAX_ANSWER_CHARS} characters each", "FIELD_TOO_LONG")
        )
    return found


def check_tool_result(request: agent_runtime_pb2.SubmitToolResultRequest) -> list[FieldViolation]:
    found = [
        *check_uuid("session_id", request.session_id, "INVALID_SESSION_ID"),
        *_check_one_id(("call_id", request.call_id), ("tool_use_id", request.tool_use_id)),
        *_check_responder(request.responder),
    ]
    if not request.HasField("output"):
        found.append(FieldViolation("output", "is required: a string, or structured output", "REQUIRED_FIELD"))
    elif request.output.ByteSize() > MAX_FILE_BYTES:
        found.append(FieldViolation("output", f"is larger than {MAX_FILE_BYTES} bytes", "FIELD_TOO_LONG"))
    return found


def _check_id(field: str, value: str) -> list[FieldViolation]:
    if not value:
        return [FieldViolation(field, "is required", "REQUIRED_FIELD")]
    if len(value) > MAX_ID_CHARS:
        return [FieldViolation(field, f"is longer than {MAX_ID_CHARS} characters", "FIELD_TOO_LONG")]
    return []


def _check_one_id(own: tuple[str, str], by_call: tuple[str, str]) -> list[FieldViolation]:
    """A request is named by its own id or by its call's tool_use_id: one of the two."""
    (own_field, own_id), (call_field, call_id) = own, by_call
    if own_id and call_id:
        return [FieldViolation(call_field, f"give {own_field} or {call_field}, not both", "ONE_ID_ONLY")]
    if not own_id and not call_id:
        return [FieldViolation(own_field, f"is required (or give {call_field})", "REQUIRED_FIELD")]
    return _check_id(own_field, own_id) if own_id else _check_id(call_field, call_id)


def _check_responder(responder: str) -> list[FieldViolation]:
    if len(responder) > MAX_ID_CHARS:
        return [FieldViolation("responder", f"is longer than {MAX_ID_CHARS} characters", "FIELD_TOO_LONG")]
    return []


def check_workspace_files(field: str, files: Sequence[workspace_pb2.WorkspaceFile]) -> list[FieldViolation]:
    found = []
    if len(files) > MAX_DEFAULT_FILES:
        found.append(FieldViolation(field, f"has more than {MAX_DEFAULT_FILES} files", "TOO_MANY_FILES"))
    total = 0
    for index, file in enumerate(files):
        problem = workspace_path_problem(file.path)
        if problem:
            found.append(FieldViolation(f"{field}[{index}].path", problem, "INVALID_PATH"))
        if len(file.content) > MAX_FILE_BYTES:
            found.append(
                FieldViolation(f"{field}[{index}].content", f"is over {MAX_FILE_BYTES} bytes", "FILE_TOO_LARGE")
            )
        total += len(file.content)
    if total > MAX_DEFAULT_FILES_BYTES:
        found.append(FieldViolation(field, f"total over {MAX_DEFAULT_FILES_BYTES} bytes", "FILES_TOO_LARGE"))
    return found


MAX_MESSAGE_BYTES = 1024 * 1024
MAX_IMAGES = 20
MAX_IMAGE_BYTES = 5 * 1024 * 1024


def check_message(request: agent_runtime_pb2.SendMessageRequest) -> list[FieldViolation]:
    found = []
    if not request.content and not request.images:
        found.append(FieldViolation("content", "is required (or images)", "EMPTY_MESSAGE"))
    if len(request.content.encode()) > MAX_MESSAGE_BYTES:
        found.append(FieldViolation("content", f"is over {MAX_MESSAGE_BYTES} bytes", "FIELD_TOO_LONG"))
    if len(request.images) > MAX_IMAGES:
        found.append(FieldViolation("images", f"has more than {MAX_IMAGES} images", "TOO_MANY_IMAGES"))
    for index, image in enumerate(request.images):
        if image.HasField("data") and not image.media_type:
            found.append(FieldViolation(f"images[{index}].media_type", "is required with data", "REQUIRED_FIELD"))
        if len(image.data) > MAX_IMAGE_BYTES:
            found.append(FieldViolation(f"images[{index}].data", f"is over {MAX_IMAGE_BYTES} bytes", "FILE_TOO_LARGE"))
    if request.if_busy not in agent_runtime_pb2.BusyPolicy.values():
        found.append(FieldViolation("if_busy", f"{request.if_busy} is not a BusyPolicy", "INVALID_ENUM"))
    return found
