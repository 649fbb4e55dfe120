"""The Pinterest emulator: routing under ``/v5``, bearer checks, per-token rate limits and
Pinterest's error document ``{"code", "message"}`` (code 1 a bad parameter, 2 authentication,
8 rate limited, 29 an ad account the token may not see: 403, as Pinterest answers it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.core.clock import DataClock, MonotonicClock, format_instant
from sandbox.core.cursor import CursorCodec
from sandbox.core.faults import FaultInjector
from sandbox.core.http import Controls, Request, Response, json_response
from sandbox.core.latency import Latency
from sandbox.core.ratelimit import Clock
from sandbox.core.requestlog import RequestLog
from sandbox.pinterest import analytics, listing, operations, render, spec
from sandbox.pinterest.auth import AuthError, AuthOptions, TokenIssuer
from sandbox.pinterest.dataset import KINDS, PinterestConfig, PinterestData
from sandbox.pinterest.limits import Budget, PinterestLimiter
from sandbox.pinterest.mutations import Mutator
from sandbox.pinterest.params import DIGITS, ParameterError, values

RATE_LIMITED = "You have exceeded your rate limit. Try again later."
ANALYTICS_KINDS = {
    "campaign_analytics": "campaign",
    "ad_group_analytics": "ad_group",
    "ad_analytics": "ad",
}


@dataclass
class PinterestOptions:
    tokens: list[str] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)
    refresh_tokens: list[str] = field(default_factory=list)
    access_token_ttl: int = 2_592_000
    refresh_token_ttl: int = 60 * 86_400
    #: the old refresh token stops working once its rotated successor is issued
    revoke_rotated: bool = True
    restatement_days: int = 7
    rate_limits: bool = True
    rate_scale: float = 1.0
    #: requests per token per day across categories (the Trial tier: 1,000); None: no limit
    daily_limit: int | None = None
    fault_seed: int = 0
    frozen_clock: bool = False
    monotonic: Clock = field(default_factory=MonotonicClock)
    latency_ms: float = 0.0
    latency_per_record_ms: float = 0.0


def _route(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


# Analytics before their lists: ``.../campaigns/analytics`` is not a campaign id.
ROUTES = sorted(
    ((method.upper(), path, _route(path)) for method, path in operations.SERVED),
    key=lambda r: -len(r[1]),
)
LIST_KINDS = {
    operations.CAMPAIGNS: "campaign",
    operations.AD_GROUPS: "ad_group",
    operations.ADS: "ad",
}
REPORT_KINDS = {
    operations.CAMPAIGN_ANALYTICS: "campaign",
    operations.AD_GROUP_ANALYTICS: "ad_group",
    operations.AD_ANALYTICS: "ad",
}


def error(status: int, code: int, message: str) -> Response:
    return json_response(status, {"code": code, "message": message})


class PinterestEmulator:
    name = "pinterest"

    def __init__(self, config: PinterestConfig, options: PinterestOptions | None = None) -> None:
        self.options = options = options or PinterestOptions()
        clock = DataClock(config.now, frozen=options.frozen_clock)
        self.data = PinterestData(config, clock)
        self.mutator = Mutator(self.data)
        self.tokens = TokenIssuer(
            clock,
            AuthOptions(
                tokens=list(options.tokens),
                clients=dict(options.clients),
                refresh_tokens=list(options.refresh_tokens),
                access_token_ttl=options.access_token_ttl,
                refresh_token_ttl=options.refresh_token_ttl,
                revoke_rotated=options.revoke_rotated,
            ),
        )
        self.limiter = PinterestLimiter(
            options.monotonic,
            scale=options.rate_scale,
            enabled=options.rate_limits,
            daily_limit=options.daily_limit,
        )
        self.bookmarks = CursorCodec()
        self.controls = Controls(
            clock=clock,
            monotonic=options.monotonic,
            limiter=self.limiter,
            faults=FaultInjector(options.monotonic, seed=options.fault_seed or config.seed),
            log=RequestLog(),
            latency=Latency(options.latency_ms, options.latency_per_record_ms),
        )

    # -- errors -----------------------------------------------------------------------------

    def api_error(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        """The fault layer's errors in Pinterest's shape; a 429 carries its rate-limit headers."""
        if status == 429:
            wait = int(next((v for k, v in headers or [] if k == "Retry-After"), "1"))
            return self._throttled(Budget(False, 0, 0, wait, "minute"))
        if status == 400:
            return error(400, 1, detail)
        return error(status, status, title)

    @staticmethod
    def _throttled(budget: Budget) -> Response:
        response = error(429, 8, RATE_LIMITED)
        response.headers += [
            ("X-RateLimit-Reset", str(budget.reset_seconds)),
            ("x-envoy-ratelimited", "true"),
        ]
        if budget.limit:
            response.headers += [
                ("X-RateLimit-Limit", str(budget.limit)),
                ("X-RateLimit-Remaining", "0"),
            ]
        return response

    # -- API --------------------------------------------------------------------------------

    def handle_api(self, request: Request) -> Response:
        if not request.path.startswith(operations.PREFIX + "/"):
            return error(404, 3, f"No such endpoint {request.path[:100]} (the API is under /v5)")
        path = request.path[len(operations.PREFIX) :]
        hits = [(m, p, g) for m, p, r in ROUTES if (g := r.match(path)) is not None]
        if not hits:
            return error(404, 3, f"No such endpoint {request.path[:100]}")
        chosen = next(((p, g) for m, p, g in hits if m == request.method), None)
        if chosen is None:
            response = error(405, 3, f"Method {request.method} is not allowed here")
            response.headers.append(("Allow", ", ".join(sorted({m for m, _, _ in hits}))))
            return response
        template, groups = chosen
        try:
            if template == operations.TOKEN:
                body = self.tokens.refresh(request.headers.get("Authorization"), request.body)
                return json_response(200, body)
            token = self.tokens.check(request.headers.get("Authorization"))
        except AuthError as exc:
            return error(exc.status, exc.code, exc.message)
        budget = self.limiter.acquire(token, operations.SERVED[("get", template)])
        if not budget.allowed:
            return self._throttled(budget)
        try:
            with self.data.lock:
                body, records = self._serve(template, groups.groupdict(), request.query)
        except ParameterError as exc:
            return error(400, 1, str(exc))
        except LookupError as exc:
            return error(403, 29, str(exc.args[0]))
        response = json_response(200, body)
        response.records = records
        response.headers += [
            ("X-RateLimit-Limit", str(budget.limit)),
            ("X-RateLimit-Remaining", str(budget.remaining)),
            ("X-RateLimit-Reset", str(budget.reset_seconds)),
        ]
        return response

    def _serve(
        self, template: str, path: dict[str, str], query: dict[str, list[str]]
    ) -> tuple[Any, int]:
        data = self.data
        if template == operations.AD_ACCOUNTS:
            page = listing.ad_accounts(data, query, self.bookmarks)
            return page, len(page["items"])
        account = path["ad_account_id"]
        if not DIGITS.match(account):
            raise ParameterError("ad_account_id", "ad_account_id must be a digit string")
        if account not in data.accounts:
            raise LookupError(f"You are not permitted to access ad account {account}.")
        if template in LIST_KINDS:
            page = listing.entities(data, LIST_KINDS[template], account, query, self.bookmarks)
            return page, len(page["items"])
        rows = analytics.report(
            data,
            account,
            REPORT_KINDS[template],
            query,
            spec.analytics_columns(),
            self.options.restatement_days,
        )
        return rows, len(rows)

    # -- admin ------------------------------------------------------------------------------

    def handle_admin(self, request: Request, route: str) -> Response | None:
        if route == "tokens/expire" and request.method == "POST":
            return json_response(200, {"expired": self.tokens.expire_all()})
        if route == "daily-limit" and request.method in ("GET", "POST"):
            if request.method == "POST":
                limit = request.json().get("daily_limit")
                self.limiter.daily_limit = None if limit is None else int(limit)
            return json_response(200, {"daily_limit": self.limiter.daily_limit})
        if route.startswith("truth/") and request.method == "GET":
            kind = route.split("/", 1)[1]
            params = {k: v[-1] for k, v in request.query.items()}
            columns = values(request.query, "columns")
            records = self.truth(kind, params.get("start"), params.get("end"), columns)
            return json_response(200, {"type": kind, "records": records})
        return None

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.mutator.apply(spec)

    def truth(
        self,
        kind: str,
        start: str | None = None,
        end: str | None = None,
        columns: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every record of a kind exactly as the API renders it, every status; or, for
        ``<level>_analytics``, the DAY rows the API answers now for every entity of the level
        (``start``/``end`` dates, default the last 90 days to today; ``columns`` default
        ``analytics.DEFAULT_COLUMNS``)."""
        data = self.data
        with data.lock:
            now = data.clock.now()
            if kind == "ad_account":
                return [render.ad_account(a) for a in sorted(data.accounts.values(), key=_id)]
            if kind in render.RENDER:
                draw = render.RENDER[kind]
                return [draw(r, now) for r in sorted(data.table(kind).values(), key=_id)]
            if kind in ANALYTICS_KINDS:
                level = ANALYTICS_KINDS[kind]
                today = datetime.fromtimestamp(now, UTC).date()
                first = date.fromisoformat(start) if start else today - timedelta(days=90)
                last = date.fromisoformat(end) if end else today
                ids = sorted(data.table(level), key=int)
                wanted = columns or analytics.DEFAULT_COLUMNS
                restate = self.options.restatement_days
                return analytics.rows(data, level, ids, first, last, wanted, "DAY", restate)
        known = [*KINDS, *ANALYTICS_KINDS]
        raise ValueError(f"unknown type {kind!r}; one of {', '.join(known)}")

    def info(self) -> dict[str, Any]:
        data = self.data
        return {
            "emulator": self.name,
            "seed": data.config.seed,
            "now": format_instant(data.clock.now()),
            "counts": {kind: len(data.table(kind)) for kind in KINDS},
            "restatement_days": self.options.restatement_days,
            "access_token_ttl": self.tokens.options.access_token_ttl,
            "refresh_token_ttl": self.tokens.options.refresh_token_ttl,
            "refreshes": self.tokens.refreshes,
            "rate_limits": self.limiter.enabled,
            "limits": {
                "ads_read": self.limiter.limit("ads_read"),
                "ads_analytics": self.limiter.limit("ads_analytics"),
                "daily": self.limiter.daily_limit,
            },
        }


def _id(record: dict[str, Any]) -> int:
    return int(record["id"])
