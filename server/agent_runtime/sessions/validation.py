"""Input rules for session requests. Each returns the violations it finds, so a caller learns all at once.

The limits are the ones documented in the proto comments.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence

from google.protobuf import json_format, struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, session_pb2, workspace_pb2
from agent_runtime.errors import FieldViolation, bad_request
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
    return found


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
