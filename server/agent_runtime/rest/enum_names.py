"""Enum values over REST by their short names too ("FULL" for SESSION_VIEW_FULL, "reject" for
BUSY_POLICY_REJECT), as people and the README write them; the proto3 JSON mapping itself takes only the
full names, which still work."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import descriptor


def _prefix(enum: descriptor.EnumDescriptor) -> str:
    """The prefix every value of the enum carries: its name in UPPER_SNAKE_CASE, then "_"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"


def _full_name(enum: descriptor.EnumDescriptor, value: Any) -> Any:
    if not isinstance(value, str) or value in enum.values_by_name:
        return value
    full = _prefix(enum) + value.upper()
    return full if full in enum.values_by_name else value  # a wrong value is the JSON mapping's to refuse


def with_full_enum_names(document: dict[str, Any], message: descriptor.Descriptor) -> dict[str, Any]:
    """The document (a JSON object for `message`) with each short enum name written in full."""
    by_json_name = {field.json_name: field for field in message.fields}
    for key, value in document.items():
        field = message.fields_by_name.get(key) or by_json_name.get(key)
        if field is None:
            continue  # the JSON mapping says it is unknown
        if field.enum_type is not None:
            document[key] = (
                [_full_name(field.enum_type, v) for v in value]
                if isinstance(value, list)
                else (_full_name(field.enum_type, value))
            )
        elif (kind := _plain_message(field)) is not None:
            for inner in value if isinstance(value, list) else [value]:
                if isinstance(inner, dict):
                    with_full_enum_names(inner, kind)
    return document


def _plain_message(field: descriptor.FieldDescriptor) -> descriptor.Descriptor | None:
    """The field's message type if it is one of ours: not a map, not a well-known type (Struct...)."""
    kind = field.message_type
    if kind is None or kind.GetOptions().map_entry or kind.full_name.startswith("google."):
        return None
    return kind
