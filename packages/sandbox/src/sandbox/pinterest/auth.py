"""OAuth as Pinterest's v5 API does it: bearer access tokens (``pina_...``) on every route, and
``POST /v5/oauth/token`` exchanging a refresh token (``pinr_...``, HTTP Basic client id and
secret) for a new access token and a rotated refresh token (continuous refresh).

Tokens expire by the sandbox's data clock; ``expire_all`` ends every issued access token at
once.  The spec does not say whether a refresh token survives its rotation; the sandbox
revokes it once its successor is issued, unless ``revoke_rotated`` is off.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from sandbox.core.clock import DataClock

ACCESS_PREFIX = "pina_"
REFRESH_PREFIX = "pinr_"
SCOPES = "ads:read user_accounts:read"


class AuthError(Exception):
    """A Pinterest error document ``{"code", "message"}`` with its HTTP status."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class AuthOptions:
    #: accepted bearer tokens besides issued ones; empty: any token starting ``pina_``
    tokens: list[str] = field(default_factory=list)
    #: client id -> secret; empty: any non-empty pair
    clients: dict[str, str] = field(default_factory=dict)
    #: accepted refresh tokens besides issued ones; empty: any starting ``pinr_``
    refresh_tokens: list[str] = field(default_factory=list)
    access_token_ttl: int = 2_592_000
    refresh_token_ttl: int = 60 * 86_400
    revoke_rotated: bool = True


def _unauthenticated(detail: str = "") -> AuthError:
    return AuthError(401, 2, "Authentication failed." + (f" {detail}" if detail else ""))


class TokenIssuer:
    def __init__(self, clock: DataClock, options: AuthOptions) -> None:
        self.clock = clock
        self.options = options
        self._access: dict[str, int] = {}  # issued token -> expires at
        self._refresh: dict[str, int] = {}  # issued refresh token -> expires at
        self._revoked: set[str] = set()
        self._lock = threading.Lock()
        self.refreshes = 0

    # -- bearer checks ----------------------------------------------------------------------

    def check(self, authorization: str | None) -> str:
        """The token behind a ``Bearer`` header (the rate limits count per token)."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthenticated()
        with self._lock:
            expires = self._access.get(token)
        if expires is not None:
            if self.clock.now() >= expires:
                raise _unauthenticated("Access token expired.")
            return token
        allowed = self.options.tokens
        if (token in allowed) if allowed else token.startswith(ACCESS_PREFIX):
            return token
        raise _unauthenticated()

    def expire_all(self) -> int:
        """Every issued access token expires now (a test's "the token ran out mid-run")."""
        with self._lock:
            now = self.clock.now()
            for token, expires in self._access.items():
                self._access[token] = min(expires, now)
            return len(self._access)

    # -- the token endpoint -----------------------------------------------------------------

    def refresh(self, authorization: str | None, body: bytes) -> dict[str, object]:
        self._client(authorization)
        fields = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = fields.get("grant_type", "")
        if not grant:
            raise AuthError(400, 1, "grant_type is required (refresh_token)")
        if grant != "refresh_token":
            raise AuthError(400, 1, f"grant_type {grant[:40]!r} is not supported by the sandbox")
        old = fields.get("refresh_token", "")
        if not old:
            raise AuthError(400, 1, "refresh_token is required")
        now = self.clock.now()
        options = self.options
        with self._lock:
            issued = self._refresh.get(old)
            if old in self._revoked:
                raise AuthError(400, 1, "invalid_grant: the refresh token was revoked (rotated)")
            if issued is not None and now >= issued:
                raise AuthError(400, 1, "invalid_grant: the refresh token expired")
            configured = options.refresh_tokens
            known = (old in configured) if configured else old.startswith(REFRESH_PREFIX)
            if issued is None and not known:
                raise AuthError(400, 1, "invalid_grant: the refresh token is not valid")
            access = ACCESS_PREFIX + secrets.token_urlsafe(32)
            rotated = REFRESH_PREFIX + secrets.token_urlsafe(32)
            self._access[access] = now + options.access_token_ttl
            self._refresh[rotated] = now + options.refresh_token_ttl
            if options.revoke_rotated:
                self._revoked.add(old)
                self._refresh.pop(old, None)
            self.refreshes += 1
        scope = fields.get("scope") or SCOPES
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": options.access_token_ttl,
            "scope": scope,
            "response_type": "refresh_token",
            "refresh_token": rotated,
            "refresh_token_expires_in": options.refresh_token_ttl,
            "refresh_token_expires_at": now + options.refresh_token_ttl,
        }

    def _client(self, authorization: str | None) -> None:
        scheme, _, encoded = (authorization or "").strip().partition(" ")
        try:
            pair = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        client_id, sep, secret = pair.partition(":")
        if scheme.lower() != "basic" or not sep or not client_id or not secret:
            raise AuthError(
                401,
                2,
                "invalid_client: send HTTP Basic authentication with client_id:client_secret",
            )
        clients = self.options.clients
        if clients and not secrets.compare_digest(clients.get(client_id, "\x00"), secret):
            raise AuthError(401, 2, "invalid_client: client authentication failed")
