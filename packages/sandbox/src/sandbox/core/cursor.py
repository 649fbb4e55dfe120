"""Opaque, tamper-evident page cursors.

A cursor carries the position after the last row served and a digest of the query it belongs
to, signed with a per-process key.  Editing either part, or replaying a cursor with a different
filter or sort, is detected and refused rather than silently serving the wrong rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import msgspec


class InvalidCursorError(ValueError):
    pass


class CursorCodec:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def seal(self, body: dict[str, Any]) -> str:
        """Any JSON object as an opaque, signed token (e.g. a cursor that carries its filters)."""
        payload = msgspec.json.encode(body)
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")

    def unseal(self, token: str) -> dict[str, Any]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError) as exc:
            raise InvalidCursorError("the page cursor is not one this API issued") from exc
        payload, mac = raw[:-12], raw[-12:]
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:12]
        if len(raw) <= 12 or not hmac.compare_digest(mac, expected):
            raise InvalidCursorError("the page cursor is not one this API issued")
        body = msgspec.json.decode(payload)
        if not isinstance(body, dict):
            raise InvalidCursorError("the page cursor is not one this API issued")
        return body

    def encode(self, position: list[Any], query_digest: str) -> str:
        return self.seal({"p": position, "q": query_digest})

    def decode(self, token: str, query_digest: str) -> list[Any]:
        body = self.unseal(token)
        if body.get("q") != query_digest:
            raise InvalidCursorError(
                "the page cursor belongs to a different filter, sort or page size"
            )
        position = body.get("p")
        if not isinstance(position, list):
            raise InvalidCursorError("the page cursor is not one this API issued")
        return position


def query_digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
