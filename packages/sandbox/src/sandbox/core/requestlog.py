"""A bounded log of the API requests an emulator received, for tests to assert on, and how many
were in flight at once (a client's concurrency, as the server sees it)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# Headers whose values are credentials: logged by name only.
SECRET_HEADERS = frozenset({"authorization", "x-shopify-access-token", "cookie", "x-api-key"})
# Query parameters that carry credentials (an OAuth token request sent as a query string).
SECRET_PARAMS = frozenset({"client_secret", "access_token"})


@dataclass
class LoggedRequest:
    seq: int
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    received_at: float  # epoch seconds: request timing, rate-limit benchmarks
    status: int | None = None
    fault: str | None = None
    records: int | None = None
    duration_ms: float | None = None


def redact_query(query: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        name: ["[redacted]"] * len(values) if name.lower() in SECRET_PARAMS else values
        for name, values in query.items()
    }


def redact_headers(headers: Any) -> dict[str, str]:
    redacted = {}
    for name, value in headers.items():
        lowered = name.lower()
        redacted[lowered] = "[redacted]" if lowered in SECRET_HEADERS else value
    return redacted


class RequestLog:
    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=maxlen)
        self._seq = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._lock = threading.Lock()

    def start(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any
    ) -> LoggedRequest:
        with self._lock:
            self._seq += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            entry = LoggedRequest(
                self._seq, method, path, redact_query(query), redact_headers(headers), time.time()
            )
            self._entries.append(entry)
            return entry

    def finish(self) -> None:
        """A request's answer is written (or its connection given up): one fewer in flight."""
        with self._lock:
            self._in_flight -= 1

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(e) for e in self._entries if e.seq > since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            # Requests still being answered count towards the next measurement.
            self._max_in_flight = self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most API requests in flight at once since the log was last cleared."""
        with self._lock:
            return self._max_in_flight

    @property
    def last_seq(self) -> int:
        return self._seq
