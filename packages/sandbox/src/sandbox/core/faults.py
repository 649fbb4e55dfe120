"""Fault injection: rules that make the next matching API requests fail in a chosen way.

A rule fires for the next ``count`` matching requests, for a ``fraction`` of them (drawn from a
seeded random source, so runs repeat), for the next ``seconds`` of monotonic time, or a mix
(the first limit reached retires the rule).  Rules are matched in the order they were added.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.core.rng import Rng, derive

FAULT_KINDS = {
    "400": "answer 400 with the API's JSON error document, as for an invalid filter",
    "500": "answer 500 with the API's JSON error document",
    "502": "answer 502 with an HTML page, as a load balancer in front of the API would",
    "503": "answer 503 with the API's JSON error document",
    "429": "answer 429 throttled with Retry-After (a 429 storm)",
    "slow": "answer correctly after delay_seconds",
    "hang": "accept the request and never answer (the connection is closed after hang_seconds)",
    "drop": "close the connection without answering",
    "truncate": "send the headers and only part of the body, then close",
    "malformed": "answer 200 with a body that is not valid JSON",
}


class FaultSpecError(ValueError):
    pass


@dataclass
class FaultRule:
    kind: str
    count: int | None = None
    fraction: float | None = None
    seconds: float | None = None
    path: str | None = None
    delay_seconds: float = 2.0
    hang_seconds: float = 120.0
    retry_after: int = 1
    id: int = 0
    fired: int = 0
    expires_at: float | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("expires_at")
        return data


class FaultInjector:
    def __init__(self, clock: Any, seed: int = 0) -> None:
        self._clock = clock
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._rng = Rng(derive(seed, "faults"))
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> FaultRule:
        rule = _rule_from_spec(spec)
        with self._lock:
            rule.id = next(self._ids)
            if rule.seconds is not None:
                rule.expires_at = self._clock.now() + rule.seconds
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            self._retire_expired()
            return [rule.describe() for rule in self._rules]

    def pick(self, path: str) -> FaultRule | None:
        """The rule that applies to this request, if any; counts it as fired."""
        with self._lock:
            if not self._rules:
                return None
            self._retire_expired()
            for rule in self._rules:
                if rule.path is not None and not path.startswith(rule.path):
                    continue
                if rule.fraction is not None and self._rng.random() >= rule.fraction:
                    continue
                rule.fired += 1
                if rule.count is not None and rule.fired >= rule.count:
                    self._rules.remove(rule)
                return rule
            return None

    def seconds_left(self, rule: FaultRule) -> float:
        if rule.expires_at is None:
            return 0.0
        return max(0.0, rule.expires_at - self._clock.now())

    def _retire_expired(self) -> None:
        now = self._clock.now()
        self._rules = [r for r in self._rules if r.expires_at is None or r.expires_at > now]


def _rule_from_spec(spec: dict[str, Any]) -> FaultRule:
    known = {
        "kind",
        "count",
        "fraction",
        "seconds",
        "path",
        "delay_seconds",
        "hang_seconds",
        "retry_after",
    }
    unknown = set(spec) - known
    if unknown:
        raise FaultSpecError(f"unknown fault option(s) {sorted(unknown)}; known: {sorted(known)}")
    kind = str(spec.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
    rule = FaultRule(
        kind=kind,
        count=_optional(spec, "count", int),
        fraction=_optional(spec, "fraction", float),
        seconds=_optional(spec, "seconds", float),
        path=spec.get("path"),
        delay_seconds=float(spec.get("delay_seconds", 2.0)),
        hang_seconds=float(spec.get("hang_seconds", 120.0)),
        retry_after=int(spec.get("retry_after", 1)),
    )
    if rule.count is None and rule.fraction is None and rule.seconds is None:
        raise FaultSpecError("a fault needs at least one of count, fraction or seconds")
    if rule.count is not None and rule.count < 1:
        raise FaultSpecError("count must be at least 1")
    if rule.fraction is not None and not 0.0 < rule.fraction <= 1.0:
        raise FaultSpecError("fraction must be in (0, 1]")
    return rule


def _optional(spec: dict[str, Any], key: str, cast: type) -> Any:
    value = spec.get(key)
    return None if value is None else cast(value)
