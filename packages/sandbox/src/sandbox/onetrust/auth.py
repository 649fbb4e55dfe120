"""OAuth 2.0 client credentials: the token endpoint's form, issued tokens and their expiry.

Tokens expire by the sandbox's data clock (which follows the wall clock unless frozen), so a
test expires one by advancing the clock, or at once with ``POST /_sandbox/tokens/expire``.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from sandbox.core.clock import DataClock

SCOPES = "DSAR_READ CONSENT_READ"


class AuthError(Exception):
    """An OAuth error document: ``{"error": code, "error_description": text}``."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


@dataclass
class Issued:
    client_id: str
    expires_at: int  # data clock, epoch seconds


class TokenIssuer:
    def __init__(self, clock: DataClock, clients: dict[str, str], ttl: int) -> None:
        self.clock = clock
        self.clients = dict(clients)
        self.ttl = ttl
        self._tokens: dict[str, Issued] = {}
        self._lock = threading.Lock()

    def issue(self, fields: dict[str, str]) -> dict[str, Any]:
        grant = fields.get("grant_type", "")
        for name in ("grant_type", "client_id", "client_secret"):
            if not fields.get(name):
                raise AuthError(400, "invalid_request", f"Missing required parameter: {name}")
        if grant != "client_credentials":
            raise AuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        client_id, secret = fields["client_id"], fields["client_secret"]
        if self.clients and not secrets.compare_digest(self.clients.get(client_id, "\x00"), secret):
            raise AuthError(401, "invalid_client", "Bad client credentials")
        jti = secrets.token_hex(16)
        token = _jwt_shaped(client_id, jti, self.clock.now() + self.ttl)
        with self._lock:
            self._tokens[token] = Issued(client_id, self.clock.now() + self.ttl)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.ttl,
            "scope": SCOPES,
            "jti": jti,
        }

    def check(self, authorization: str | None) -> str:
        """The client id behind a ``Bearer`` header, or the 401 OneTrust answers."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(
                401, "unauthorized", "Full authentication is required to access this resource"
            )
        with self._lock:
            issued = self._tokens.get(token.strip())
        if issued is None:
            raise AuthError(401, "invalid_token", "Invalid access token")
        if self.clock.now() >= issued.expires_at:
            raise AuthError(401, "invalid_token", "Access token expired")
        return issued.client_id

    def expire_all(self) -> int:
        """Every issued token expires now (a test's "the token ran out mid-run")."""
        with self._lock:
            now = self.clock.now()
            for issued in self._tokens.values():
                issued.expires_at = min(issued.expires_at, now)
            return len(self._tokens)


def _jwt_shaped(client_id: str, jti: str, exp: int) -> str:
    """Looks like OneTrust's JWT; the sandbox only ever looks it up, never decodes it."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"client_id": client_id, "jti": jti, "exp": exp, "scope": SCOPES.split()}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(32)}"
