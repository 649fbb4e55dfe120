"""The emulator of a ``DeclaredApi``: auth, the rate limit, list paging or SQL statements, and
the admin routes (truth, mutations, token expiry) tests drive it with.

Errors are one JSON shape, ``{"error": {"code", "title", "detail"}}``, and name the parameter
or setting at fault; a 429 says how long to wait in ``Retry-After``.
"""

from __future__ import annotations

import base64
import secrets
import sqlite3
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.core.clock import DataClock, MonotonicClock, parse_instant, start_of_today
from sandbox.core.cursor import CursorCodec, InvalidCursorError, query_digest
from sandbox.core.faults import FaultInjector
from sandbox.core.forms import form_fields
from sandbox.core.http import Controls, Request, Response, json_response
from sandbox.core.latency import Latency
from sandbox.core.ratelimit import Clock, RateLimiter, Tier
from sandbox.core.requestlog import RequestLog
from sandbox.declared.data import DeclaredData, epoch, iso
from sandbox.declared.spec import Auth, DeclaredApi, FieldType, Surface, TimeFormat

#: Statements whose pages are kept for ``next_page`` (the oldest are forgotten).
KEPT_STATEMENTS = 64


@dataclass
class DeclaredOptions:
    rate_limits: bool = True
    rate_scale: float = 1.0
    frozen_clock: bool = False
    monotonic: Clock | None = None
    latency_ms: float = 0.0
    latency_per_record_ms: float = 0.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class DeclaredEmulator:
    def __init__(
        self, api: DeclaredApi, seed: int, now: int = 0, options: DeclaredOptions | None = None
    ) -> None:
        options = options or DeclaredOptions()
        monotonic = options.monotonic or MonotonicClock()
        self.name = api.name
        self.api = api
        clock = DataClock(now or start_of_today(), frozen=options.frozen_clock)
        self.data = DeclaredData(api, seed, clock.now())
        self.limiter = RateLimiter(monotonic, scale=options.rate_scale, enabled=options.rate_limits)
        self.tier = Tier(api.rate_per_second, api.rate_per_minute)
        self.controls = Controls(
            clock=clock,
            monotonic=monotonic,
            limiter=self.limiter,
            faults=FaultInjector(monotonic, seed=seed),
            log=RequestLog(),
            latency=Latency(options.latency_ms, options.latency_per_record_ms),
        )
        self._cursors = CursorCodec()
        self._tokens: dict[str, int] = {}  # access token -> expiry (data clock)
        self._statements: OrderedDict[str, tuple[list[str], list[list[Any]]]] = OrderedDict()
        self._lock = threading.Lock()

    # -- the API ------------------------------------------------------------------------------

    def handle_api(self, request: Request) -> Response:
        prefix = self.api.prefix.rstrip("/")
        if not request.path.startswith(prefix + "/"):
            return self.api_error(404, "not_found", "Not found.", f"no route {request.path}")
        route = request.path[len(prefix) + 1 :].strip("/")
        try:
            if route == "oauth/token" and request.method == "POST":
                return self._token(request)
            credential = self._authenticate(request)
            decision = self.limiter.acquire(credential, self.tier)
            if not decision.allowed:
                wait = decision.retry_after_seconds
                return self.api_error(
                    429,
                    "throttled",
                    "Too many requests.",
                    f"rate limit exceeded; retry in {wait} s",
                    headers=[("Retry-After", str(wait))],
                )
            if self.api.surface is Surface.SQL:
                return self._sql(request, route)
            return self._list(request, route)
        except ApiError as exc:
            return self.api_error(exc.status, exc.code, exc.code.replace("_", " "), exc.detail)

    def _authenticate(self, request: Request) -> str:
        header = str(request.headers.get("Authorization") or "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
        if self.api.auth is Auth.API_KEY:
            if token not in self.api.api_keys:
                raise ApiError(401, "unauthorized", "the API key is not valid")
            return token
        expires = self._tokens.get(token)
        if expires is None or expires <= self.controls.clock.now():
            raise ApiError(401, "token_expired", "the access token is invalid or has expired")
        return "oauth"

    def _token(self, request: Request) -> Response:
        if self.api.auth is not Auth.OAUTH_CLIENT_CREDENTIALS:
            raise ApiError(404, "not_found", "this API takes API keys, not OAuth")
        form = form_fields(
            request.body, str(request.headers.get("Content-Type") or ""), request.query
        )
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = str(request.headers.get("Authorization") or "")
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:]).decode("utf-8", "replace")
            client_id, _, secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if not client_id or self.api.clients.get(client_id) != secret:
            raise ApiError(401, "invalid_client", "unknown client or wrong secret")
        token = secrets.token_urlsafe(24)
        self._tokens[token] = self.controls.clock.now() + self.api.token_ttl_seconds
        return json_response(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.api.token_ttl_seconds,
            },
        )

    # -- rest ---------------------------------------------------------------------------------

    def _list(self, request: Request, route: str) -> Response:
        if request.method != "GET":
            raise ApiError(405, "method_not_allowed", f"{request.method} {request.path}")
        try:
            obj = self.data.object(route)
        except KeyError:
            raise ApiError(404, "not_found", f"no object {route!r}") from None
        api = self.api
        filters = (api.filter_param, api.upper_param, api.created_param, api.created_upper_param)
        known = {"limit", "cursor", *(p for p in filters if p)}
        for name in request.query:
            if name not in known:
                raise ApiError(400, "invalid_parameter", f"unknown parameter {name!r}")
        limit = _integer(request.param("limit") or str(api.max_page_size), "limit")
        if not 1 <= limit <= api.max_page_size:
            raise ApiError(400, "invalid_parameter", f"limit must be 1 to {api.max_page_size}")
        by_created = any(
            request.param(p) is not None for p in (api.created_param, api.created_upper_param) if p
        )
        sort = "created_at" if by_created else "updated_at"
        terms, values = [], []
        for param, column, lower in (
            (api.filter_param, "updated_at", True),
            (api.upper_param, "updated_at", False),
            (api.created_param, "created_at", True),
            (api.created_upper_param, "created_at", False),
        ):
            raw = request.param(param) if param else None
            if raw is None:
                continue
            op = (">=" if api.filter_inclusive or column == "created_at" else ">") if lower else "<"
            terms.append(f"{column} {op} ?")
            values.append(self._instant(raw, param or ""))
        asked = sorted((k, v[-1]) for k, v in request.query.items() if k not in ("cursor", "limit"))
        digest = query_digest(route, repr(asked), str(limit))
        if token := request.param("cursor"):
            try:
                after = self._cursors.decode(token, digest)
            except InvalidCursorError as exc:
                raise ApiError(400, "invalid_cursor", str(exc)) from None
            terms.append(f"({sort}, id) > (?, ?)")
            values += after
        where = " AND ".join(terms) or "1"
        _, rows = self.data.query(
            f'SELECT * FROM "{obj.name}" WHERE {where} ORDER BY {sort}, id LIMIT ?',
            [*values, limit + 1],
        )
        columns = self.data.columns(obj.name)
        records = [self.render(obj.name, dict(zip(columns, row, strict=True))) for row in rows]
        more = len(records) > limit
        records = records[:limit]
        next_cursor = None
        if more:
            last = dict(zip(columns, rows[limit - 1], strict=True))
            next_cursor = self._cursors.encode([last[sort], last["id"]], digest)
        response = json_response(200, {"data": records, "next_cursor": next_cursor})
        response.records = len(records)
        return response

    def _instant(self, raw: str, param: str) -> str:
        """A filter value in the API's format, as stored text."""
        try:
            if self.api.time_format is TimeFormat.EPOCH_SECONDS:
                return iso(int(raw))
            if self.api.time_format is TimeFormat.DATE:
                day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
                return iso(int(day.timestamp()))
            if "T" not in raw:
                raise ValueError(raw)
            return iso(parse_instant(raw))
        except ValueError:
            raise ApiError(
                400, "invalid_parameter", f"{param}: {raw!r} is not {self._format_example()}"
            ) from None

    def _format_example(self) -> str:
        return {
            TimeFormat.ISO8601: "an ISO 8601 instant like 2024-01-02T03:04:05Z",
            TimeFormat.EPOCH_SECONDS: "seconds since 1970 like 1704164645",
            TimeFormat.DATE: "a date like 2024-01-02",
        }[self.api.time_format]

    def render(self, name: str, row: dict[str, Any]) -> dict[str, Any]:
        """A stored row as the API sends it."""
        obj = self.data.object(name)
        rendered = dict(row)
        if self.api.surface is Surface.REST and self.api.time_format is TimeFormat.EPOCH_SECONDS:
            rendered["created_at"] = epoch(row["created_at"])
            rendered["updated_at"] = epoch(row["updated_at"])
        for f in obj.fields:
            if f.type is FieldType.BOOLEAN and rendered.get(f.name) is not None:
                rendered[f.name] = bool(rendered[f.name])
        return rendered

    # -- sql ----------------------------------------------------------------------------------

    def _sql(self, request: Request, route: str) -> Response:
        if route == "statements" and request.method == "POST":
            body = request.json()
            statement, parameters = body.get("statement"), body.get("parameters") or []
            if not isinstance(statement, str) or not isinstance(parameters, list):
                raise ApiError(400, "invalid_request", "send {statement: str, parameters: [...]}")
            columns, rows = self._select(statement, parameters)
            handle = uuid.uuid4().hex
            with self._lock:
                self._statements[handle] = (columns, rows)
                while len(self._statements) > KEPT_STATEMENTS:
                    self._statements.popitem(last=False)
            return self._result_page(handle, 0)
        parts = route.split("/")
        if len(parts) == 4 and parts[0] == "statements" and parts[2] == "pages":
            return self._result_page(parts[1], _integer(parts[3], "page"))
        raise ApiError(404, "not_found", f"no route {request.method} {request.path}")

    def _select(self, statement: str, parameters: list[Any]) -> tuple[list[str], list[list[Any]]]:
        if not statement.lstrip().upper().startswith("SELECT") or ";" in statement.rstrip("; \n"):
            raise ApiError(400, "invalid_sql", "only one SELECT statement is accepted")
        try:
            names, rows = self.data.query(statement, parameters)
        except sqlite3.Error as exc:
            raise ApiError(400, "invalid_sql", str(exc)) from None
        booleans = {
            f.name for obj in self.api.objects for f in obj.fields if f.type is FieldType.BOOLEAN
        }
        typed = [
            [
                bool(v) if n in booleans and v is not None else v
                for n, v in zip(names, row, strict=True)
            ]
            for row in rows
        ]
        return names, typed

    def _result_page(self, handle: str, page: int) -> Response:
        with self._lock:
            found = self._statements.get(handle)
        if found is None:
            raise ApiError(
                404, "statement_expired", "the statement's results are gone; run it again"
            )
        columns, rows = found
        size = self.api.max_page_size
        chunk = rows[page * size : (page + 1) * size]
        more = (page + 1) * size < len(rows)
        next_page = f"/statements/{handle}/pages/{page + 1}"
        response = json_response(
            200,
            {
                "statement_id": handle,
                "columns": columns,
                "rows": chunk,
                "total_rows": len(rows),
                "next_page": next_page if more else None,
            },
        )
        response.records = len(chunk)
        return response

    # -- what the server and the admin routes ask ---------------------------------------------

    def api_error(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        response = json_response(
            status, {"error": {"code": code, "title": title, "detail": detail}}
        )
        response.headers += list(headers or [])
        return response

    def info(self) -> dict[str, Any]:
        return {
            "emulator": self.name,
            "surface": self.api.surface.value,
            "objects": {obj.name: len(self.data.rows(obj.name)) for obj in self.api.objects},
        }

    def truth(self, kind: str) -> list[dict[str, Any]]:
        return [self.render(kind, row) for row in self.data.rows(kind)]

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        """``{type, action: create|update|delete, count | ids, at?, advance_seconds?}``: the
        clock steps ``advance_seconds`` (0) first; changes carry ``at`` or now.  The live
        clock is the wall clock: a default step would put changes in the future, past a
        tap's end of run, where no real API has them."""
        kind, action = str(spec.get("type")), spec.get("action")
        try:
            self.data.object(kind)
        except KeyError:
            raise ValueError(f"unknown type {kind!r}") from None
        clock = self.controls.clock
        clock.advance(int(spec.get("advance_seconds", 0)))
        at = _instant(spec["at"]) if spec.get("at") else clock.now()
        count = int(spec.get("count") or 1)
        ids = [str(i) for i in spec.get("ids") or []] or None
        if action == "create":
            return {"ids": self.data.create(kind, count, at)}
        if action == "update":
            return {"ids": self.data.update(kind, ids or self.data.pick(kind, count), at)}
        if action == "delete":
            return {"ids": self.data.delete(kind, ids or self.data.pick(kind, count))}
        raise ValueError(f"unknown action {action!r}; use create, update or delete")

    def handle_admin(self, request: Request, route: str) -> Response | None:
        if route == "tokens/expire" and request.method == "POST":
            now = self.controls.clock.now()
            with self._lock:
                expired = len(self._tokens)
                self._tokens = dict.fromkeys(self._tokens, now)
            return json_response(200, {"expired": expired})
        return None


def _integer(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400, "invalid_parameter", f"{name} must be an integer, got {raw!r}"
        ) from None


def _instant(value: Any) -> int:
    """An instant as ISO 8601 text or epoch seconds."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    return parse_instant(str(value))
