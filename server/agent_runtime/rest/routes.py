"""The REST routes of a gRPC service, read from its methods' google.api.http annotations: no route table is
written by hand, so the contract is the one source of both APIs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor

_VARIABLE = re.compile(r"\{([a-z_.]+)(?:=([^}]*))?\}")
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Route:
    http_method: str  # upper case
    template: str  # as annotated, e.g. "/sessions/{session_id}/files/{path=**}"
    pattern: re.Pattern[str]
    variables: tuple[str, ...]  # request fields bound from the path, in the order of the pattern's groups
    body: str  # "" (no body), "*" (the whole request) or the request field the body is
    method: descriptor.MethodDescriptor

    @property
    def grpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def server_streaming(self) -> bool:
        return bool(self.method.server_streaming)


def _compiled(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """`{field}` matches one path segment, `{field=**}` the rest of the path; the rest is literal."""
    pattern, variables, position = "", [], 0
    for match in _VARIABLE.finditer(template):
        pattern += re.escape(template[position : match.start()])
        pattern += "(.+)" if match.group(2) == "**" else "([^/]+)"
        variables.append(match.group(1))
        position = match.end()
    pattern += re.escape(template[position:])
    return re.compile(f"^{pattern}$", re.DOTALL), tuple(variables)  # a decoded path may hold a newline


def routes(service: descriptor.ServiceDescriptor) -> list[Route]:
    found = []
    for method in service.methods:
        rule: http_pb2.HttpRule = method.GetOptions().Extensions[annotations_pb2.http]
        kind = rule.WhichOneof("pattern")
        if kind not in HTTP_METHODS:
            continue
        template = getattr(rule, kind)
        pattern, variables = _compiled(template)
        found.append(Route(kind.upper(), template, pattern, variables, rule.body, method))
    return found
