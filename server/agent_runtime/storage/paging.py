"""Opaque page tokens: for the newest-first session order, and for a session's files in path order."""

from __future__ import annotations

import base64
import binascii
import json

from agent_runtime.errors import ApiError, FieldViolation, bad_request
from agent_runtime.storage.store import SessionCursor

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(requested: int, default: int = DEFAULT_PAGE_SIZE) -> int:
    if requested < 0:
        raise bad_request([FieldViolation("page_size", "must not be negative", "INVALID_PAGE_SIZE")])
    return min(requested or default, MAX_PAGE_SIZE)


def encode_token(cursor: SessionCursor) -> str:
    raw = json.dumps([cursor.created_us, cursor.session_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


# Sets each listing's tokens apart from the others': a session's files, and the lapsed leases.
FILE_TOKEN_KIND = "file"
LEASE_TOKEN_KIND = "lease"


def _invalid_token() -> ApiError:
    return bad_request([FieldViolation("page_token", "is not a token this server issued", "INVALID_PAGE_TOKEN")])


def decode_token(token: str) -> SessionCursor | None:
    if not token:
        return None
    try:
        created_us, session_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        # The range of SQLite's INTEGER: a tampered token beyond it must not reach the query.
        if isinstance(created_us, int) and -(2**63) <= created_us < 2**63 and isinstance(session_id, str):
            return SessionCursor(created_us, session_id)
    except (binascii.Error, ValueError, TypeError):
        pass
    raise _invalid_token()


def encode_key_token(kind: str, last_key: str) -> str:
    """A token for a listing in key order (a path, a session id), after `last_key`."""
    return base64.urlsafe_b64encode(json.dumps([kind, last_key]).encode()).decode()


def decode_key_token(kind: str, token: str) -> str | None:
    """The last key of the page before, or None for the first page."""
    if not token:
        return None
    try:
        found_kind, last_key = json.loads(base64.urlsafe_b64decode(token.encode()))
        if found_kind == kind and isinstance(last_key, str):
            return last_key
    except (binascii.Error, ValueError, TypeError):
        pass
    raise _invalid_token()
