"""An OpenAPI 3.2 description of the REST shim, generated from the same descriptors and routes it serves, with
the proto3 JSON mapping's types (json_schemas.py). 3.2 because it is the first version that can say what each
server-sent event of a stream holds (`itemSchema`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web
from google.protobuf import descriptor
from google.rpc import status_pb2

from agent_runtime.rest import event_stream
from agent_runtime.rest.json_schemas import STRING_LIKE, Schema, Schemas
from agent_runtime.rest.routes import Route


def _is_query(field: descriptor.FieldDescriptor) -> bool:
    """Scalars, enums and the well-known types written as strings can be query parameters."""
    return field.message_type is None or field.message_type.full_name in STRING_LIKE


def _path_name(variable: str) -> str:
    """A path variable's parameter name: a field of a message in the request ("profile.id") without the dot,
    which OpenAPI tools read as an attribute."""
    return variable.replace(".", "_")


def _parameters(route: Route, schemas: Schemas) -> list[Schema]:
    request = route.method.input_type
    parameters: list[Schema] = [
        {"name": _path_name(name), "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in route.variables
    ]
    if route.body != "*":
        parameters += [
            {"name": field.json_name, "in": "query", "required": False, "schema": schemas.field(field)}
            for field in request.fields
            if field.name not in route.variables and field.name != route.body and _is_query(field)
        ]
    if route.server_streaming and "after_sequence" in request.fields_by_name:
        # What an EventSource sends when it reconnects: the stream goes on after it.
        resume = {"type": "string", "pattern": "^[0-9]+$"}
        parameters.append({"name": "Last-Event-ID", "in": "header", "required": False, "schema": resume})
    return parameters


def _request_body(route: Route, schemas: Schemas) -> Schema:
    request = route.method.input_type
    if route.body == "*":  # the fields the path does not bind
        body = schemas.inline(request, route.variables) if route.variables else schemas.ref(request)
    else:
        field = request.fields_by_name[route.body]
        body = schemas.field(field)
    return {"required": False, "content": {"application/json": {"schema": body}}}


def _operation(route: Route, schemas: Schemas, status: Schema) -> Schema:
    answer = (
        event_stream.item_schemas(route, schemas, status)
        if route.server_streaming
        else {"application/json": {"schema": schemas.ref(route.method.output_type)}}
    )
    operation: Schema = {
        "operationId": route.method.name,
        "parameters": _parameters(route, schemas),
        "responses": {
            "200": {"description": "OK", "content": answer},
            "default": {
                "description": "an error: google.rpc.Status",
                "content": {"application/json": {"schema": status}},
            },
        },
        "security": [{"apiKey": []}],
    }
    if route.body:
        operation["requestBody"] = _request_body(route, schemas)
    return operation


def _health(status: Schema) -> Schema:
    # `bus`, in a fleet: whether the replicas' bus is up, and if not, why.
    bus = {"type": "object", "properties": {"status": {"type": "string"}, "reason": {"type": "string"}}}
    serving = {
        "type": "object",
        "properties": {"status": {"type": "string"}, "bus": bus},
        "required": ["status"],
    }
    answer = {"application/json": {"schema": serving}}
    refused = {"application/json": {"schema": {"anyOf": [serving, status]}}}
    return {
        "operationId": "Health",
        "responses": {
            "200": {"description": "serving", "content": answer},
            "503": {"description": "not serving", "content": refused},
        },
    }


# A mounted app's own part of the document: its paths under the prefix it is mounted at, and the component
# schemas they name.
Part = tuple[dict[str, Schema], dict[str, Schema]]
Describe = Callable[[str], Part]
DESCRIBED: web.AppKey[Describe] = web.AppKey("described")


def openapi(service: descriptor.ServiceDescriptor, routes: list[Route], parts: Iterable[Part] = ()) -> Schema:
    schemas = Schemas()
    status = schemas.ref(status_pb2.Status.DESCRIPTOR)
    paths: dict[str, Schema] = {"/health": {"get": _health(status)}}
    for part_paths, part_schemas in parts:
        paths.update(part_paths)
        schemas.components.update(part_schemas)
    for route in routes:
        path = route.template.replace("=**}", "}")
        for variable in route.variables:
            path = path.replace(f"{{{variable}}}", f"{{{_path_name(variable)}}}")
        paths.setdefault(path, {})[route.http_method.lower()] = _operation(route, schemas, status)
    return {
        "openapi": "3.2.0",
        "info": {"title": service.full_name, "version": "v1"},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }
