"""The check of the key, shared by the gRPC server and the REST shim (which makes it before it reads a
body): `authorization: Bearer <key>`, the key alone in `authorization` (as the seed took it), or
`x-api-key: <key>` (as the Anthropic SDKs send one). A header that is none of these is an invalid key,
never an error of the server's, and no answer or log line repeats what it held."""

from __future__ import annotations

import hmac
import re

import grpc

from agent_runtime.errors import ApiError

# RFC 9110's token68, the form of a key; Bearer credentials are the scheme, spaces, then the token.
TOKEN = r"([A-Za-z0-9\-._~+/]+=*) *"
BEARER = re.compile(r"(?:[Bb][Ee][Aa][Rr][Ee][Rr] +)?" + TOKEN)  # the scheme is optional, as the seed had it
BARE_KEY = re.compile(TOKEN)


def _text(header: str | bytes) -> str:
    return header.decode("latin-1") if isinstance(header, bytes) else header


def presented_key(authorization: str | bytes | None, x_api_key: str | bytes | None = None) -> str | None:
    """The key the headers present; None without either, "" for one that is not a key as above."""
    if authorization is not None:
        match = BEARER.fullmatch(_text(authorization))
    elif x_api_key is not None:
        match = BARE_KEY.fullmatch(_text(x_api_key))
    else:
        return None
    return match.group(1) if match else ""


def refusal(presented: str | None, key: bytes) -> ApiError | None:
    """None when the presented key is the key."""
    if presented is None:
        return ApiError(
            grpc.StatusCode.UNAUTHENTICATED,
            "API_KEY_MISSING",
            "missing the key: send 'authorization: Bearer <key>' (or 'x-api-key: <key>')",
        )
    if presented and hmac.compare_digest(presented.encode(), key):
        return None
    return ApiError(grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID", "the API key is not valid")
