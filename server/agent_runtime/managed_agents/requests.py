"""What a Managed Agents request carries: its JSON body, its list parameters, and the caller's key as the
gRPC API's metadata."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from agent_runtime.managed_agents.errors import invalid

MAX_PAGE = 100  # the SDKs' own tool runner asks for 1,000: a larger limit is lowered, not refused


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError as error:
        raise invalid("invalid_json", f"the body is not JSON: {error}") from None
    except RecursionError:
        raise invalid("invalid_json", "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise invalid("invalid_json", "the body must be a JSON object")
    return body


def limit(request: web.Request, default: int = 20) -> int:
    text = request.query.get("limit", str(default))
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise invalid("invalid_limit", f"limit must be a positive integer, not {text!r}")
    return min(int(text), MAX_PAGE)


def flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter, as the SDKs write one: true or false."""
    text = request.query.get(name, "false")
    if text not in ("true", "false"):
        raise invalid("invalid_flag", f"{name} must be true or false, not {text[:40]!r}")
    return text == "true"


def listed(request: web.Request, name: str) -> list[str]:
    """A list parameter, as the SDKs send it (`types[]=a&types[]=b`) or repeated plainly."""
    return [*request.query.getall(f"{name}[]", []), *request.query.getall(name, [])]


def text_field(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise invalid("invalid_field", f"{name} must be a{' non-empty' if required else ''} string")
    return value
