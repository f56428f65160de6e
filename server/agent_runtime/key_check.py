"""The check of `authorization: Bearer <key>`, shared by the gRPC server and the REST shim (which makes it
before it reads a body). A header that is not a well-formed Bearer credential is an invalid key, never
an error of the server's, and no answer or log line repeats what it held."""

from __future__ import annotations

import hmac
import re

import grpc

from agent_runtime.errors import ApiError

# RFC 9110's credentials for a token68 scheme: the scheme, spaces, the token, nothing after.
BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *")


def presented_key(header: str | bytes | None) -> str | None:
    """The key a header presents; None without a header, "" for one that is not a Bearer credential."""
    if header is None:
        return None
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    match = BEARER.fullmatch(text)
    return match.group(1) if match else ""


def refusal(presented: str | None, key: bytes) -> ApiError | None:
    """None when the presented key is the key."""
    if presented is None:
        return ApiError(
            grpc.StatusCode.UNAUTHENTICATED, "API_KEY_MISSING", "missing 'authorization: Bearer <key>' metadata"
        )
    if presented and hmac.compare_digest(presented.encode(), key):
        return None
    return ApiError(grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID", "the API key is not valid")
