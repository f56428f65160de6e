"""An OpenAPI 3 description of the REST shim, generated from the same descriptors and routes it serves, with
the proto3 JSON mapping's types (64-bit integers and bytes as strings, enums by name, Timestamp as
date-time)."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor
from google.rpc import status_pb2

from agent_runtime.rest.routes import Route

Schema = dict[str, Any]
F = descriptor.FieldDescriptor
_SCALARS: dict[int, Schema] = {
    F.TYPE_DOUBLE: {"type": "number"},
    F.TYPE_FLOAT: {"type": "number"},
    F.TYPE_INT32: {"type": "integer", "format": "int32"},
    F.TYPE_SINT32: {"type": "integer", "format": "int32"},
    F.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    F.TYPE_UINT32: {"type": "integer", "format": "int32", "minimum": 0},
    F.TYPE_FIXED32: {"type": "integer", "format": "int32", "minimum": 0},
    F.TYPE_INT64: {"type": "string", "format": "int64"},
    F.TYPE_SINT64: {"type": "string", "format": "int64"},
    F.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    F.TYPE_UINT64: {"type": "string", "format": "uint64"},
    F.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "example": "30s"},
    "google.protobuf.FieldMask": {"type": "string", "example": "name,metadata"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.Any": {"type": "object", "additionalProperties": True},
}


class _Schemas:
    """The component schemas of every message reached, each once."""

    def __init__(self) -> None:
        self.components: dict[str, Schema] = {}

    def ref(self, message: descriptor.Descriptor) -> Schema:
        if message.full_name in _WELL_KNOWN:
            return _WELL_KNOWN[message.full_name]
        if message.full_name not in self.components:
            self.components[message.full_name] = {}  # a placeholder, for messages that contain themselves
            self.components[message.full_name] = {
                "type": "object",
                "properties": {field.json_name: self.field(field) for field in message.fields},
                "additionalProperties": False,
            }
        return {"$ref": f"#/components/schemas/{message.full_name}"}

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


def _operation(route: Route, schemas: _Schemas) -> Schema:
    request = route.method.input_type
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.variables
    ]
    if route.body != "*":
        parameters += [
            {"name": field.json_name, "in": "query", "required": False, "schema": schemas.field(field)}
            for field in request.fields
            if field.name not in route.variables and field.name != route.body and field.type != F.TYPE_MESSAGE
        ]
    answer = (
        {"text/event-stream": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}
        if route.server_streaming
        else {"application/json": {"schema": schemas.ref(route.method.output_type)}}
    )
    operation: Schema = {
        "operationId": route.method.name,
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": answer},
            "default": {
                "description": "an error: google.rpc.Status",
                "content": {"application/json": {"schema": schemas.ref(status_pb2.Status.DESCRIPTOR)}},
            },
        },
        "security": [{"apiKey": []}],
    }
    if route.body:
        body = request if route.body == "*" else request.fields_by_name[route.body].message_type
        assert body is not None, "an HTTP body is a message"
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": schemas.ref(body)}}}
    return operation


def openapi(service: descriptor.ServiceDescriptor, routes: list[Route]) -> Schema:
    schemas = _Schemas()
    health = {"200": {"description": "serving"}, "503": {"description": "not serving"}}
    paths: dict[str, Schema] = {"/health": {"get": {"operationId": "Health", "responses": health}}}
    for route in routes:
        path = route.template.replace("=**}", "}")
        paths.setdefault(path, {})[route.http_method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.0.3",
        "info": {"title": service.full_name, "version": "v1"},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }
