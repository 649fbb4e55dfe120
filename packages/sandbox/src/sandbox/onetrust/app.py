"""The OneTrust emulator: routing, OAuth bearer checks, rate limits and error shapes.

Errors: the token endpoint and bearer checks answer OAuth documents
(``{"error", "error_description"}``); a bad parameter is a Spring error document naming it
(``{"timestamp", "status", "error", "message", "path"}``); where a spec declares a JSON string
body (consent 403/404), that is what comes back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import msgspec

from sandbox.core.clock import DataClock, MonotonicClock
from sandbox.core.faults import FaultInjector
from sandbox.core.forms import form_fields
from sandbox.core.http import Controls, Request, Response, json_response
from sandbox.core.latency import Latency
from sandbox.core.ratelimit import Clock
from sandbox.core.requestlog import RequestLog
from sandbox.onetrust import consent_routes, dsar_routes, operations, render
from sandbox.onetrust.auth import AuthError, TokenIssuer
from sandbox.onetrust.dataset import KINDS, OneTrustConfig, OneTrustData
from sandbox.onetrust.dsar_routes import NotFoundError
from sandbox.onetrust.limits import OneTrustLimiter, Refusal
from sandbox.onetrust.mutations import Mutator
from sandbox.onetrust.paging import Continuation, ParameterError
from sandbox.onetrust.times import dsar_time

V4_DISABLED = (
    "Data Subjects V4 APIs are not enabled for this tenant. "
    "Please request access to have Data Subjects V4 APIs enabled."
)


@dataclass
class OneTrustOptions:
    #: client id -> secret; empty: any non-empty id and secret get a token.
    clients: dict[str, str] = field(default_factory=dict)
    token_ttl: int = 3600
    v4_enabled: bool = True
    rate_limits: bool = True
    rate_scale: float = 1.0
    fault_seed: int = 0
    frozen_clock: bool = False
    monotonic: Clock = field(default_factory=MonotonicClock)
    latency_ms: float = 0.0
    latency_per_record_ms: float = 0.0


def _route(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


# Most specific first: ``requestqueues/{language}`` would also match a ref's sub-paths' parents.
ROUTES: list[tuple[str, str, re.Pattern[str]]] = [
    ("POST", "token", _route(operations.TOKEN)),
    ("GET", "request_subtasks", _route(operations.REQUEST_SUBTASKS)),
    ("GET", "request_history", _route(operations.REQUEST_HISTORY)),
    ("GET", "requests", _route(operations.REQUESTS)),
    ("GET", "subtasks", _route(operations.SUBTASKS)),
    ("POST", "transactions", _route(operations.TRANSACTIONS)),
    ("GET", "data_subjects", _route(operations.DATA_SUBJECTS)),
    ("GET", "purposes", _route(operations.PURPOSES)),
    ("GET", "collection_points", _route(operations.COLLECTION_POINTS)),
]
CONSENT_ROUTES = frozenset({"transactions", "data_subjects"})


class OneTrustEmulator:
    name = "onetrust"

    def __init__(self, config: OneTrustConfig, options: OneTrustOptions | None = None) -> None:
        self.options = options = options or OneTrustOptions()
        clock = DataClock(config.now, frozen=options.frozen_clock)
        self.data = OneTrustData(config, clock)
        self.mutator = Mutator(self.data)
        self.tokens = TokenIssuer(clock, options.clients, options.token_ttl)
        self.v4_enabled = options.v4_enabled
        self.limiter = OneTrustLimiter(
            options.monotonic, scale=options.rate_scale, enabled=options.rate_limits
        )
        self.continuations = Continuation()
        self.controls = Controls(
            clock=clock,
            monotonic=options.monotonic,
            limiter=self.limiter,
            faults=FaultInjector(options.monotonic, seed=options.fault_seed or config.seed),
            log=RequestLog(),
            latency=Latency(options.latency_ms, options.latency_per_record_ms),
        )

    # -- errors -----------------------------------------------------------------------------

    def spring_error(self, status: int, message: str, path: str | None = None) -> Response:
        body: dict[str, Any] = {
            "timestamp": dsar_time(self.data.clock.now() * 1000),
            "status": status,
            "error": HTTPStatus(status).phrase,
            "message": message,
        }
        if path is not None:
            body["path"] = path
        return json_response(status, body)

    def api_error(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        """The fault layer's errors in OneTrust's shapes; a 429 carries the ot-* headers."""
        extra = list(headers or [])
        if status == 429:
            wait = next((v for k, v in extra if k == "Retry-After"), "1")
            allowed = self.limiter.per_minute
            refusal = Refusal("MINUTE", allowed + 1, allowed, int(wait))
            response = self.spring_error(429, "Rate limit exceeded")
            response.headers += self._throttle_headers(refusal)
            return response
        response = self.spring_error(status, detail if status < 500 else title)
        response.headers += extra
        return response

    @staticmethod
    def _throttle_headers(refusal: Refusal) -> list[tuple[str, str]]:
        return [
            ("Retry-After", str(refusal.retry_after)),
            ("ot-period", refusal.period),
            ("ot-request-made", str(refusal.made)),
            ("ot-requests-allowed", str(refusal.allowed)),
            ("ot-ratelimit-event-id", str(uuid.uuid4())),
        ]

    @staticmethod
    def _auth_error(error: AuthError) -> Response:
        response = json_response(
            error.status, {"error": error.code, "error_description": error.description}
        )
        if error.status == 401:
            response.headers.append(
                ("WWW-Authenticate", f'Bearer error="{error.code}", error_description="{error}"')
            )
        return response

    # -- API --------------------------------------------------------------------------------

    def handle_api(self, request: Request) -> Response:
        matched = [(m, n, p.match(request.path)) for m, n, p in ROUTES]
        hits = [(m, n, g) for m, n, g in matched if g is not None]
        if not hits:
            return self.spring_error(404, "No endpoint " + request.path, request.path)
        allowed = [(n, g) for m, n, g in hits if m == request.method]
        if not allowed:
            response = self.spring_error(
                405, f"Request method '{request.method}' is not supported", request.path
            )
            response.headers.append(("Allow", ", ".join(sorted({m for m, _, _ in hits}))))
            return response
        name, groups = allowed[0]
        refusal = self.limiter.acquire(name)
        if refusal is not None:
            response = self.spring_error(429, "Rate limit exceeded", request.path)
            response.headers += self._throttle_headers(refusal)
            return response
        try:
            if name == "token":
                return self._token(request)
            self.tokens.check(request.headers.get("Authorization"))
            if name == "data_subjects" and not self.v4_enabled:
                return json_response(403, V4_DISABLED)
            with self.data.lock:
                body, records = self._serve(name, request, groups.groupdict())
        except AuthError as exc:
            return self._auth_error(exc)
        except ParameterError as exc:
            return self.spring_error(400, str(exc), request.path)
        except NotFoundError as exc:
            if name in CONSENT_ROUTES:
                return json_response(404, str(exc))
            return self.spring_error(404, str(exc), request.path)
        response = json_response(200, body)
        response.records = records
        return response

    def _token(self, request: Request) -> Response:
        fields = form_fields(request.body, request.headers.get("Content-Type") or "", request.query)
        return json_response(200, self.tokens.issue(fields))

    def _serve(self, name: str, request: Request, path: dict[str, str]) -> tuple[Any, int]:
        params = {key: values[-1] for key, values in request.query.items()}
        data = self.data
        handlers: dict[str, Callable[[], tuple[Any, int]]] = {
            "requests": lambda: dsar_routes.requests(data, params, path.get("language", "")),
            "request_subtasks": lambda: dsar_routes.request_subtasks(
                data, params, path.get("requestQueueRefId", "")
            ),
            "request_history": lambda: dsar_routes.request_history(
                data, params, path.get("requestQueueRefId", "")
            ),
            "subtasks": lambda: dsar_routes.subtasks(data, params),
            "transactions": lambda: consent_routes.transactions(
                data, params, self._body(request), self.continuations
            ),
            "data_subjects": lambda: consent_routes.data_subjects(
                data, params, request.headers.get("requestContinuation"), self.continuations
            ),
            "purposes": lambda: consent_routes.purposes(data, params),
            "collection_points": lambda: consent_routes.collection_points(data, params),
        }
        return handlers[name]()

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        """The transactions body (the spec requires one: ``{}`` for a first page)."""
        if not request.body.strip():
            raise ParameterError(
                "body", 'Required request body is missing (send {} or {"requestContinuation": ...})'
            )
        try:
            body = msgspec.json.decode(request.body)
        except msgspec.DecodeError:
            raise ParameterError("body", "The request body is not valid JSON") from None
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise ParameterError("body", "The request body must be a JSON object")
        return body

    # -- admin ------------------------------------------------------------------------------

    def handle_admin(self, request: Request, route: str) -> Response | None:
        if route == "tokens/expire" and request.method == "POST":
            return json_response(200, {"expired": self.tokens.expire_all()})
        if route == "v4" and request.method in ("GET", "POST"):
            if request.method == "POST":
                self.v4_enabled = bool(request.json().get("enabled", True))
            return json_response(200, {"enabled": self.v4_enabled})
        return None

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.mutator.apply(spec)

    def truth(self, kind: str) -> list[dict[str, Any]]:
        """Every live record of a kind exactly as the API renders it."""
        data = self.data
        with data.lock:
            live = data.requests
            if kind == "request":
                rows = sorted(live.values(), key=lambda r: (r["dateCreated"], r["requestQueueId"]))
                return [render.request(r) for r in rows]
            if kind == "subtask":
                return [
                    render.subtask(s, live[s["requestQueueRefId"]])
                    for ref in sorted(live)
                    for s in data.subtasks_of(ref)
                ]
            if kind == "request_history":
                return [
                    render.history(h, with_ref=True)
                    for ref in sorted(live)
                    for h in data.history_of(ref)
                ]
            if kind == "transaction":
                return [render.transaction(t) for t in data.transactions.values()]
            if kind == "data_subject":
                return [render.data_subject(s) for s in data.data_subjects.values()]
            if kind == "purpose":
                return [render.purpose(p) for p in data.purposes.values()]
            if kind == "collection_point":
                points = data.collection_points.values()
                return [render.collection_point(p, data.purposes) for p in points]
        raise ValueError(f"unknown type {kind!r}; one of {', '.join(KINDS)}")

    def info(self) -> dict[str, Any]:
        data = self.data
        return {
            "emulator": self.name,
            "seed": data.config.seed,
            "now": dsar_time(data.clock.now() * 1000),
            "counts": {
                "request": len(data.requests),
                "deleted_request": len(data.deleted),
                "subtask": len(data.subtasks),
                "request_history": len(data.history),
                "transaction": len(data.transactions),
                "data_subject": len(data.data_subjects),
                "purpose": len(data.purposes),
                "collection_point": len(data.collection_points),
            },
            "token_ttl": self.tokens.ttl,
            "v4_enabled": self.v4_enabled,
            "rate_limits": self.limiter.enabled,
            "limits": {"per_minute": self.limiter.per_minute, "per_hour": self.limiter.per_hour},
        }
