"""The HTTP layer every emulator shares: request parsing, the fault layer, admin routes, logging,
and the modelled page time (each API answer waits its latency in its own handler thread, so
concurrent requests wait in parallel, as they do against a real API).

Built on the standard library's threading server so faults can act on the raw connection
(drop it, stall it, cut a body short), which higher-level frameworks hide.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from sandbox.core.clock import DataClock, format_instant, parse_instant
from sandbox.core.faults import FaultInjector, FaultRule, FaultSpecError
from sandbox.core.latency import Latency
from sandbox.core.ratelimit import Clock, Limiter
from sandbox.core.requestlog import LoggedRequest, RequestLog

ADMIN_PREFIX = "/_sandbox/"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: Any  # email.message.Message: case-insensitive .get()
    body: bytes
    base_url: str

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError as exc:
            raise BadAdminRequestError(f"request body is not valid JSON: {exc}") from exc


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"
    records: int | None = None


class BadAdminRequestError(ValueError):
    pass


def json_response(status: int, payload: Any, content_type: str = "application/json") -> Response:
    return Response(status, msgspec.json.encode(payload), content_type=content_type)


@dataclass
class Controls:
    """Everything a test may turn: the data clock, limits, faults, latency, the request log."""

    clock: DataClock
    monotonic: Clock
    limiter: Limiter
    faults: FaultInjector
    log: RequestLog
    latency: Latency


class Emulator(Protocol):
    name: str
    controls: Controls

    def handle_api(self, request: Request) -> Response: ...

    def api_error(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response: ...

    def info(self) -> dict[str, Any]: ...

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]: ...

    def truth(self, kind: str) -> list[dict[str, Any]]: ...

    def handle_admin(self, request: Request, route: str) -> Response | None: ...


class SandboxServer:
    """Serves one emulator on 127.0.0.1; usable as a context manager or run in the foreground."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self._host = host
        self._stopping = threading.Event()
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._httpd.server_port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch -------------------------------------------------------------------------

    def dispatch_admin(self, request: Request) -> Response:
        route = request.path[len(ADMIN_PREFIX) :].strip("/")
        try:
            response = self._generic_admin(request, route)
            if response is None:
                response = self.emulator.handle_admin(request, route)
        except (BadAdminRequestError, FaultSpecError, ValueError) as exc:
            return json_response(400, {"error": str(exc)})
        if response is None:
            return json_response(404, {"error": f"no admin route {request.method} {request.path}"})
        return response

    def _generic_admin(self, request: Request, route: str) -> Response | None:
        controls = self.emulator.controls
        method = request.method
        if route == "health":
            return json_response(200, {"status": "ok", "emulator": self.emulator.name})
        if route == "info" and method == "GET":
            shared = {
                "latency": controls.latency.describe(),
                "max_in_flight": controls.log.max_in_flight,
            }
            return json_response(200, self.emulator.info() | shared)
        if route == "mutations" and method == "POST":
            return json_response(200, self.emulator.mutate(request.json()))
        # A truth with parameters (a date range, say) is the emulator's own route.
        if route.startswith("truth/") and method == "GET" and not request.query:
            kind = route.split("/", 1)[1]
            return json_response(200, {"type": kind, "records": self.emulator.truth(kind)})
        if route == "faults":
            if method == "GET":
                return json_response(200, {"faults": controls.faults.active()})
            if method == "POST":
                rule = controls.faults.add(request.json())
                return json_response(201, {"fault": rule.describe()})
            if method == "DELETE":
                controls.faults.clear()
                return json_response(200, {"faults": []})
        if route == "requests":
            if method == "GET":
                since = int(request.param("since") or 0)
                return json_response(200, {"requests": controls.log.entries(since)})
            if method == "DELETE":
                controls.log.clear()
                return json_response(200, {"requests": []})
        if route == "clock":
            if method == "POST":
                body = request.json()
                if "now" in body:
                    controls.clock.set(parse_instant(str(body["now"])))
                else:
                    controls.clock.advance(int(body.get("advance_seconds", 0)))
            if method in ("GET", "POST"):
                return json_response(200, {"now": format_instant(controls.clock.now())})
        if route == "rate-limits":
            if method == "POST":
                body = request.json()
                controls.limiter.configure(scale=body.get("scale"), enabled=body.get("enabled"))
            if method in ("GET", "POST"):
                return json_response(200, {"enabled": controls.limiter.enabled})
        if route == "latency":
            if method == "POST":
                body = request.json()
                unknown = sorted(set(body) - {"base_ms", "per_record_ms"})
                if unknown:
                    raise BadAdminRequestError(
                        f"unknown latency option(s) {unknown}; known: base_ms, per_record_ms"
                    )
                controls.latency.configure(
                    base_ms=body.get("base_ms"), per_record_ms=body.get("per_record_ms")
                )
            if method in ("GET", "POST"):
                return json_response(200, controls.latency.describe())
        return None

    def dispatch_api(self, handler: _Handler, request: Request) -> None:
        controls = self.emulator.controls
        entry = controls.log.start(request.method, request.path, request.query, request.headers)
        started = time.perf_counter()
        try:
            rule = controls.faults.pick(request.path)
            if rule is None:
                handler.send(self._api_response(request, entry))
            else:
                entry.fault = rule.kind
                self._faulty(handler, request, entry, rule)
        finally:
            entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            controls.log.finish()

    def _api_response(self, request: Request, entry: LoggedRequest) -> Response:
        """The emulator's answer, after its page time. The emulator decides on rate limits
        while computing it, so a request is counted when it arrives, as a real API counts it."""
        try:
            response = self.emulator.handle_api(request)
        except Exception as exc:  # an emulator bug must look like a server error, not a hang
            response = self.emulator.api_error(500, "error", "A server error occurred.", repr(exc))
        entry.status = response.status
        entry.records = response.records
        delay = self.emulator.controls.latency.seconds(response.records)
        if delay > 0:
            self._stopping.wait(delay)
        return response

    def _faulty(
        self, handler: _Handler, request: Request, entry: LoggedRequest, rule: FaultRule
    ) -> None:
        emulator = self.emulator
        kind = rule.kind
        if kind == "drop":
            handler.close_connection = True
            return
        if kind == "hang":
            self._stopping.wait(rule.hang_seconds)
            handler.close_connection = True
            return
        if kind == "400":
            response = emulator.api_error(
                400, "invalid", "Invalid input.", "Invalid filter provided (injected fault)."
            )
        elif kind in ("500", "503"):
            response = emulator.api_error(
                int(kind), "error", "A server error occurred.", "Injected fault."
            )
        elif kind == "502":
            response = Response(
                502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
            )
        elif kind == "429":
            wait = max(rule.retry_after, int(emulator.controls.faults.seconds_left(rule) + 0.999))
            response = emulator.api_error(
                429,
                "throttled",
                "Request was throttled.",
                f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}.",
                headers=[("Retry-After", str(wait))],
            )
        else:
            if kind == "slow":
                self._stopping.wait(rule.delay_seconds)
            response = self._api_response(request, entry)
            if kind == "truncate":
                entry.status = response.status
                handler.send(response, truncate=True)
                return
            if kind == "malformed":
                response = Response(
                    200,
                    response.body[: max(1, len(response.body) // 2)] + b"<!-- garbled",
                    content_type=response.content_type,
                )
        entry.status = response.status
        handler.send(response)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox"
    sys_version = ""
    sandbox: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces the stderr access log

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionResetError, BrokenPipeError):
            self.close_connection = True

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            raw_query=parts.query,
            headers=self.headers,
            body=body,
            base_url=self.sandbox.base_url,
        )
        if request.path.startswith(ADMIN_PREFIX):
            self.send(self.sandbox.dispatch_admin(request))
        else:
            self.sandbox.dispatch_api(self, request)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch  # noqa: N815

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in one write; no Nagle delay waiting on the client's ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, response: Response, truncate: bool = False) -> None:
        """Status line, headers and body in a single write."""
        headers = [
            ("Server", self.server_version),
            # The emulated service's clock, as a real server's Date is its own clock.
            ("Date", formatdate(self.sandbox.emulator.controls.clock.now(), usegmt=True)),
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        body = response.body
        if truncate:
            headers.append(("Connection", "close"))
            body = body[: len(body) // 2]
            self.close_connection = True
        head = f"{self.protocol_version} {response.status} {HTTPStatus(response.status).phrase}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        self.wfile.write(head.encode("latin-1") + body)
