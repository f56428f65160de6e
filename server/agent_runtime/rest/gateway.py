"""The REST shim: HTTP and JSON in front of the runtime's own gRPC API, on the routes its proto annotations
give (routes.py). A request's path, query and body become the gRPC request (the proto3 JSON mapping); the
call goes over a loopback channel with the caller's Authorization header, so the API key, validation and
errors are exactly the gRPC API's. Errors come back as the JSON google.rpc.Status with the matching HTTP
status. Server streams are server-sent events (event_stream.py), or NDJSON when asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import descriptor, json_format, message, message_factory
from google.rpc import code_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agent_runtime.bus.base import Bus
from agent_runtime.key_check import presented_key, refusal
from agent_runtime.rest import event_stream
from agent_runtime.rest.errors import (
    HTTP_STATUS,
    RequestError,
    call_error_response,
    request_error_response,
    status_errors,
    status_response,
)
from agent_runtime.rest.json_body import BodyParser
from agent_runtime.rest.openapi import DESCRIBED, Part, openapi
from agent_runtime.rest.routes import Route, routes

MAX_BODY_BYTES = 48 * 1024 * 1024  # a create with default files of up to 32 MiB, base64 in JSON
HEALTH_PATH, OPENAPI_PATH = "/health", "/openapi.json"  # served here, not from the service's routes
QUERY_ALIASES = {"after": "after_sequence"}  # the seed's name for the event cursor
_INTEGER = re.compile("-?[0-9]+")
_INTEGERS = (
    descriptor.FieldDescriptor.CPPTYPE_INT32,
    descriptor.FieldDescriptor.CPPTYPE_INT64,
    descriptor.FieldDescriptor.CPPTYPE_UINT32,
    descriptor.FieldDescriptor.CPPTYPE_UINT64,
)


def _query_value(field: descriptor.FieldDescriptor, values: list[str]) -> Any:
    """A query parameter as the JSON mapping has the field: numbers and booleans from their text."""
    converted: list[Any] = []
    for value in values:
        if field.type == descriptor.FieldDescriptor.TYPE_BOOL:
            if value not in ("true", "false"):
                raise RequestError("INVALID_QUERY", f"{field.name} must be true or false, not {value!r}")
            converted.append(value == "true")
        elif field.cpp_type in _INTEGERS:
            if not _INTEGER.fullmatch(value):  # ASCII digits: int() also takes other scripts' and "1_000"
                raise RequestError("INVALID_QUERY", f"{field.name} must be an integer, not {value!r}")
            if len(value) > 21:  # no 64-bit integer is this long, and int() refuses thousands of digits
                raise RequestError("INVALID_QUERY", f"{field.name} is out of range")
            converted.append(int(value))
        else:
            converted.append(value)
    return converted if field.is_repeated else converted[-1]


async def request_message(
    route: Route, match: tuple[str, ...], request: web.Request, defaults: dict[str, Any], parser: BodyParser
) -> message.Message:
    """The gRPC request: `defaults`, then the body, then the query, then the path, each over the last."""
    raw = await _body(route, request)
    overrides: dict[str, Any] = {}
    fields = route.method.input_type.fields_by_name
    by_json_name = {field.json_name: field for field in route.method.input_type.fields}
    for key in request.query:
        field = fields.get(QUERY_ALIASES.get(key, key)) or by_json_name.get(key)
        if field is None:
            raise RequestError("UNKNOWN_FIELD", f"{key!r} is not a field of {route.method.input_type.name}")
        overrides[field.name] = _query_value(field, request.query.getall(key))
    for name, value in zip(route.variables, match, strict=True):
        overrides[name] = value
    return await parser.message(route.method.input_type, route.body, defaults, raw, overrides)


async def _body(route: Route, request: web.Request) -> bytes:
    if not route.body:
        return b""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestError("BODY_TOO_LARGE", f"the body is over {MAX_BODY_BYTES} bytes", 413) from None
    except web.RequestPayloadError as error:  # e.g. Content-Encoding: gzip on what is not gzip
        raise RequestError("UNREADABLE_BODY", f"the body cannot be read: {error}") from None
    if raw and request.content_type != "application/json":
        raise RequestError("UNSUPPORTED_MEDIA_TYPE", "the body must be application/json", 415)
    return raw


class RestGateway:
    def __init__(
        self, channel: grpc.aio.Channel, service: descriptor.ServiceDescriptor, api_key: str, bus: Bus | None = None
    ) -> None:
        """`bus`: a fleet's, whose state /health tells as well."""
        self._channel = channel
        self._bus = bus
        self._key = api_key.encode()
        self._service = service
        self._routes = routes(service)
        self._parser = BodyParser()
        self._parts: list[Part] = []  # the mounted apps' parts of the document

    def app(
        self,
        mounted: Mapping[str, web.Application] | None = None,
        attach: Iterable[Callable[[web.Application], None]] = (),
    ) -> web.Application:
        """`mounted`: other surfaces' apps, each served under its prefix (and not by the catch-all);
        `attach`: what adds routes of its own to the app (Socket.IO), before the catch-all."""
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[status_errors])
        app.on_cleanup.append(self._close_parser)
        app.router.add_get(HEALTH_PATH, self._health)
        app.router.add_get(OPENAPI_PATH, self._openapi)
        for prefix, surface in (mounted or {}).items():
            app.add_subapp(prefix, surface)
            if DESCRIBED in surface:
                self._parts.append(surface[DESCRIBED](prefix))
        for attaching in attach:
            attaching(app)
        app.router.add_route("*", r"/{path:[\s\S]*}", self._handle)  # any path, even one with a newline
        return app

    async def _close_parser(self, app: web.Application) -> None:
        self._parser.close()

    async def _health(self, request: web.Request) -> web.Response:
        health = health_pb2_grpc.HealthStub(self._channel)
        check = health_pb2.HealthCheckRequest(service=self._service.full_name)
        try:
            answer = await health.Check(check, timeout=5)  # type: ignore[attr-defined]  # stubs declare no methods
        except grpc.aio.AioRpcError as error:
            return status_response(status_pb2.Status(code=error.code().value[0], message=error.details() or ""), 503)
        serving = answer.status == health_pb2.HealthCheckResponse.SERVING
        body: dict[str, object] = {"status": health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}
        if self._bus is not None:  # a bus that is down slows streams, nothing more: the replica still serves
            problem = self._bus.problem()
            body["bus"] = {"status": "NOT_SERVING", "reason": problem} if problem else {"status": "SERVING"}
        return web.json_response(body, status=200 if serving else 503)

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi(self._service, self._routes, self._parts))

    def _route(self, request: web.Request) -> tuple[Route, tuple[str, ...]] | web.Response:
        allowed = {"GET", "HEAD"} if request.path in (HEALTH_PATH, OPENAPI_PATH) else set()
        for route in self._routes:
            found = route.pattern.match(request.path)
            if found is None:
                continue
            if route.http_method == request.method:
                return route, found.groups()
            allowed.add(route.http_method)
        if allowed:
            refusal = request_error_response(
                RequestError("METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.path}", 405)
            )
            refusal.headers["Allow"] = ", ".join(sorted(allowed))  # RFC 9110 requires it with a 405
            return refusal
        status = status_pb2.Status(code=code_pb2.NOT_FOUND, message=f"no route {request.method} {request.path}")
        return status_response(status, 404)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        routed = self._route(request)
        if isinstance(routed, web.Response):
            return routed
        route, match = routed
        # Before the body is read: a caller without the key costs no parsing and learns nothing of its input.
        presented = presented_key(request.headers.get("Authorization"), request.headers.get("X-Api-Key"))
        refused = refusal(presented, self._key)
        if refused is not None:
            return status_response(refused.to_status(), HTTP_STATUS[refused.code])
        try:
            defaults = event_stream.defaults(route, request) if route.server_streaming else {}
            built = await request_message(route, match, request, defaults, self._parser)
        except RequestError as error:
            return request_error_response(error)
        metadata = (("authorization", f"Bearer {presented}"),)
        output = message_factory.GetMessageClass(route.method.output_type)
        if route.server_streaming:
            stream = self._channel.unary_stream(
                route.grpc_path, request_serializer=_serialize, response_deserializer=output.FromString
            )(built, metadata=metadata)
            return await event_stream.respond(request, stream)
        call = self._channel.unary_unary(
            route.grpc_path, request_serializer=_serialize, response_deserializer=output.FromString
        )(built, metadata=metadata)
        try:
            answer = await call
        except grpc.aio.AioRpcError:
            return await call_error_response(call)
        return web.json_response(json_format.MessageToDict(answer))


def _serialize(built: message.Message) -> bytes:
    return built.SerializeToString()
