"""JSON Schemas of protobuf messages as the proto3 JSON mapping writes and reads them: 64-bit integers as
decimal strings, floats that may be "NaN" or "Infinity", enums by name, bytes as base64, field names in
lowerCamel, and the well-known types in their own JSON forms (Timestamp an RFC 3339 string, Duration "1.5s",
FieldMask "a,b", Struct an object)."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor

Schema = dict[str, Any]
F = descriptor.FieldDescriptor

_INT32: Schema = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32: Schema = {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2**32 - 1}
_INT64: Schema = {"type": "string", "format": "int64", "pattern": "^-?[0-9]{1,19}$"}
_UINT64: Schema = {"type": "string", "format": "uint64", "pattern": "^[0-9]{1,20}$"}
# JSON has no NaN or infinities, so the mapping writes them as strings.
_FLOAT: Schema = {"anyOf": [{"type": "number"}, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}]}
_SCALARS: dict[int, Schema] = {
    F.TYPE_DOUBLE: _FLOAT,
    F.TYPE_FLOAT: _FLOAT,
    F.TYPE_INT32: _INT32,
    F.TYPE_SINT32: _INT32,
    F.TYPE_SFIXED32: _INT32,
    F.TYPE_UINT32: _UINT32,
    F.TYPE_FIXED32: _UINT32,
    F.TYPE_INT64: _INT64,
    F.TYPE_SINT64: _INT64,
    F.TYPE_SFIXED64: _INT64,
    F.TYPE_UINT64: _UINT64,
    F.TYPE_FIXED64: _UINT64,
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "format": "byte"},
}
# The well-known types whose JSON form is a string, so they can also be query parameters.
STRING_LIKE: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$", "examples": ["1.5s"]},
    "google.protobuf.FieldMask": {"type": "string", "examples": ["name,sessionOptions"]},
}
_WELL_KNOWN: dict[str, Schema] = {
    **STRING_LIKE,
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
}


class Schemas:
    """The component schemas of every message reached, each once."""

    def __init__(self) -> None:
        self.components: dict[str, Schema] = {}

    def ref(self, message: descriptor.Descriptor) -> Schema:
        if message.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[message.full_name])
        if message.full_name not in self.components:
            self.components[message.full_name] = {}  # a placeholder, for messages that contain themselves
            self.components[message.full_name] = self.inline(message)
        return {"$ref": f"#/components/schemas/{message.full_name}"}

    def inline(self, message: descriptor.Descriptor, leave_out: tuple[str, ...] = ()) -> Schema:
        """The message's own schema, without the fields named in `leave_out` (those a path binds)."""
        properties = {field.json_name: self.field(field) for field in message.fields if field.name not in leave_out}
        schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        # A oneof takes one of its fields: with one present, the others must be absent.
        exclusive = {
            field.json_name: {"properties": {other.json_name: False for other in oneof.fields if other is not field}}
            for oneof in message.oneofs
            if len(oneof.fields) > 1  # a proto3 `optional` field is a oneof of its own
            for field in oneof.fields
        }
        if exclusive:
            schema["dependentSchemas"] = exclusive
        return schema

    def field(self, field: descriptor.FieldDescriptor) -> Schema:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self.single(value)}
        single = self.single(field)
        return {"type": "array", "items": single} if field.is_repeated else single

    def single(self, field: descriptor.FieldDescriptor) -> Schema:
        if field.enum_type is not None:
            return {"type": "string", "enum": [value.name for value in field.enum_type.values]}
        if field.message_type is not None:
            return self.ref(field.message_type)
        return dict(_SCALARS[field.type])
