"""The sandbox's control surface from Python: a thin client of the ``/_sandbox/`` admin API.

The same client drives a sandbox in this process or one started with the CLI, so tests and
scripts have one way to move the clock, change data, inject faults and read the request log.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class SandboxControlError(RuntimeError):
    pass


class SandboxControl:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/").removesuffix("/api").removesuffix("/v5")
        self.timeout = timeout

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_sandbox/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise SandboxControlError(
                f"{method} /_sandbox/{route} failed with {exc.code}: {detail}"
            ) from exc

    # -- state ------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def info(self) -> dict[str, Any]:
        return self._call("GET", "info")

    def truth(self, kind: str, **params: Any) -> list[dict[str, Any]]:
        """Every live record of a kind as the sandbox holds it (ids and timestamps);
        ``params`` go to the emulator's own truth (lists comma-separated), e.g. Pinterest's
        ``truth("campaign_analytics", start="2026-11-01", end="2026-11-30")``."""
        query = {
            k: ",".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
            for k, v in params.items()
            if v is not None
        }
        route = f"truth/{kind}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        return self._call("GET", route)["records"]

    # -- clock and data ---------------------------------------------------------------------

    def now(self) -> str:
        return self._call("GET", "clock")["now"]

    def advance_clock(self, seconds: int) -> str:
        return self._call("POST", "clock", {"advance_seconds": seconds})["now"]

    def set_clock(self, instant: str) -> str:
        return self._call("POST", "clock", {"now": instant})["now"]

    def mutate(self, kind: str, action: str, **options: Any) -> dict[str, Any]:
        """``create``/``update``/``delete`` rows: options ``count``, ``ids``, ``group``,
        ``age_seconds`` (events) and ``advance_seconds`` (clock step first, default 1)."""
        return self._call("POST", "mutations", {"type": kind, "action": action, **options})

    def update(
        self, kind: str, count: int | None = None, ids: list[str] | None = None, **options: Any
    ) -> list[str]:
        return self.mutate(kind, "update", **_pick(count, ids), **options)["ids"]

    def delete(
        self, kind: str, count: int | None = None, ids: list[str] | None = None, **options: Any
    ) -> list[Any]:
        return self.mutate(kind, "delete", **_pick(count, ids), **options)["ids"]

    def create(self, kind: str, count: int = 1, **options: Any) -> list[Any]:
        return self.mutate(kind, "create", count=count, **options)["ids"]

    def add_late_events(self, count: int, age_seconds: int) -> list[str]:
        return self._call("POST", "late-events", {"count": count, "age_seconds": age_seconds})[
            "ids"
        ]

    def expire_tokens(self) -> int:
        """OneTrust, Pinterest: every OAuth access token issued so far expires now; how many
        there were."""
        return int(self._call("POST", "tokens/expire")["expired"])

    # -- faults, limits, log ----------------------------------------------------------------

    def inject_fault(self, kind: str, **options: Any) -> dict[str, Any]:
        """One of 500, 502, 503, 429, slow, hang, drop, truncate, malformed; with ``count``,
        ``fraction`` and/or ``seconds``, optionally ``path`` (a prefix) and tuning options."""
        return self._call("POST", "faults", {"kind": kind, **options})["fault"]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def set_rate_limits(self, enabled: bool | None = None, scale: float | None = None) -> None:
        self._call("POST", "rate-limits", {"enabled": enabled, "scale": scale})

    def set_bucket(self, size: int | None = None, leak_per_second: float | None = None) -> None:
        """Shopify's leaky bucket: its size and leak rate (both empty every bucket)."""
        self._call("POST", "bucket", {"size": size, "leak_per_second": leak_per_second})

    def set_latency(
        self, base_ms: float | None = None, per_record_ms: float | None = None
    ) -> dict[str, float]:
        """Each API answer's modelled page time, ``base_ms + per_record_ms`` per record
        (``None`` keeps that part); returns both as they now are."""
        return self._call("POST", "latency", {"base_ms": base_ms, "per_record_ms": per_record_ms})

    def latency(self) -> dict[str, float]:
        return self._call("GET", "latency")

    def max_in_flight(self) -> int:
        """The most API requests in flight at once since the request log was last cleared."""
        return int(self.info()["max_in_flight"])

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return self._call("GET", f"requests?since={since}")["requests"]

    def clear_requests(self) -> None:
        """Empty the request log; ``max_in_flight`` starts again from what is in flight now."""
        self._call("DELETE", "requests")


def _pick(count: int | None, ids: list[str] | None) -> dict[str, Any]:
    if (count is None) == (ids is None):
        raise ValueError("give either count or ids")
    return {"count": count} if ids is None else {"ids": ids}
