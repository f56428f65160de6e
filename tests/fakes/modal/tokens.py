"""The short-lived JWTs the fake hands out: the auth token (`AuthTokenGet`) and the command router's.

The client reads only `exp` from them, without checking a signature, so they are unsigned. Every
unexpired token stays valid: the client asks for a new router JWT only when its own has under 30 s left,
so revoking old ones on issue would break a second handle to the same sandbox.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

LIFETIME_SECONDS = 3600


def _part(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self) -> None:
        self._issued: dict[str, tuple[str, float]] = {}

    def issue(self, subject: str) -> str:
        expires = time.time() + LIFETIME_SECONDS
        claims = {"sub": subject, "exp": int(expires), "jti": uuid.uuid4().hex}
        token = f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(claims)}."
        self._issued[token] = (subject, expires)
        return token

    def subject(self, token: str) -> str | None:
        """Who the token was issued for, if it was issued here and has not expired."""
        issued = self._issued.get(token)
        if issued is None or issued[1] < time.time():
            return None
        return issued[0]
