"""The Klaviyo emulator: auth, revision, limits, parameter checks, paging, includes, errors."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
import numpy as np

from sandbox.core.clock import DataClock, MonotonicClock
from sandbox.core.cursor import CursorCodec, InvalidCursorError, query_digest
from sandbox.core.faults import FaultInjector
from sandbox.core.http import Controls, Request, Response, json_response
from sandbox.core.latency import Latency
from sandbox.core.ratelimit import Clock, RateLimiter, Tier
from sandbox.core.requestlog import RequestLog
from sandbox.core.table import KeyRange
from sandbox.klaviyo.dataset import DatasetConfig, KlaviyoData, MutationError
from sandbox.klaviyo.filters import Comparison, FilterError, Node, conjuncts, parse_filter
from sandbox.klaviyo.queries import Listing, TimeField, build_listings, computed_sort_values
from sandbox.klaviyo.render import SEGMENT, Renderer, iso
from sandbox.klaviyo.spec import Operation, load_spec

CONTENT_TYPE = "application/vnd.api+json"
# Published revisions up to the one this sandbox emulates; older ones are served with the
# current behaviour (see README: gaps).
KNOWN_REVISIONS = frozenset(
    {
        "2023-02-22",
        "2023-06-15",
        "2023-07-15",
        "2023-08-15",
        "2023-09-15",
        "2023-10-15",
        "2023-12-15",
        "2024-02-15",
        "2024-05-15",
        "2024-06-15",
        "2024-07-15",
        "2024-10-15",
        "2025-01-15",
        "2025-04-15",
        "2025-07-15",
        "2025-10-15",
        "2026-01-15",
        "2026-04-15",
        "2026-07-15",
    }
)
_REVISION = re.compile(r"(\d{4}-\d{2}-\d{2})(\.pre)?")
# Klaviyo documents a lower limit for profile reads that ask for predictive analytics.
PREDICTIVE_ANALYTICS_TIER = Tier(burst=10, steady=150)
# /api/metrics has no page[size]; Klaviyo serves up to 200 per page.
FIXED_PAGE_SIZE = 200
# Collections with no page[cursor] (a campaign's messages) come back whole.
UNPAGED_LIMIT = 10_000
KIND_BY_SEGMENT = {segment: kind for kind, segment in SEGMENT.items()}
CHANNEL_FILTER_HINT = "equals(messages.channel,'email'), 'sms' or 'mobile_push'"


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, title: str, detail: str, parameter: str | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.parameter = (
            status,
            code,
            title,
            detail,
            parameter,
        )


def invalid(detail: str, parameter: str) -> ApiError:
    return ApiError(400, "invalid", "Invalid input.", detail, parameter)


@dataclass
class KlaviyoOptions:
    api_keys: frozenset[str] = frozenset()  # empty: any "pk_..." key is accepted
    rate_limits: bool = True
    rate_scale: float = 1.0
    quirks: frozenset[str] = frozenset({"unsorted-archived-campaigns"})
    fault_seed: int = 0
    frozen_clock: bool = False
    monotonic: Clock = field(default_factory=MonotonicClock)
    # Modelled page time of every API answer: base plus per record served (0: answer at once).
    latency_ms: float = 0.0
    latency_per_record_ms: float = 0.0


class KlaviyoEmulator:
    name = "klaviyo"

    def __init__(self, config: DatasetConfig, options: KlaviyoOptions | None = None) -> None:
        self.options = options or KlaviyoOptions()
        clock = DataClock(config.now, frozen=self.options.frozen_clock)
        self.data = KlaviyoData(config, clock)
        self.limiter = RateLimiter(
            self.options.monotonic, scale=self.options.rate_scale, enabled=self.options.rate_limits
        )
        self.controls = Controls(
            clock=clock,
            monotonic=self.options.monotonic,
            limiter=self.limiter,
            faults=FaultInjector(
                self.options.monotonic, seed=self.options.fault_seed or config.seed
            ),
            log=RequestLog(),
            latency=Latency(self.options.latency_ms, self.options.latency_per_record_ms),
        )
        self.spec = load_spec()
        self.listings = build_listings()
        self.cursors = CursorCodec()

    # -- errors -----------------------------------------------------------------------------

    def api_error(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: list[tuple[str, str]] | None = None,
        parameter: str | None = None,
    ) -> Response:
        error: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "status": status,
            "code": code,
            "title": title,
            "detail": detail,
        }
        error["source"] = {"parameter": parameter} if parameter else {"pointer": "/data/"}
        response = Response(
            status, msgspec.json.encode({"errors": [error]}), content_type=CONTENT_TYPE
        )
        response.headers.extend(headers or [])
        return response

    # -- API --------------------------------------------------------------------------------

    def handle_api(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            self._check_revision(request)
            matched = self.spec.match(request.path)
            if matched is None:
                raise ApiError(404, "not_found", "Not found.", f"No resource at {request.path}.")
            operation, path_args = matched
            if request.method != "GET":
                raise ApiError(
                    405,
                    "method_not_allowed",
                    "Method not allowed.",
                    f'Method "{request.method}" not allowed; the sandbox serves GET on {operation.path}.',
                )
            limit_headers = self._rate_limit(request, operation)
            response = self._serve(request, operation, path_args)
            response.headers.extend(limit_headers)
            return response
        except ApiError as exc:
            headers = (
                [("Retry-After", exc.parameter)] if exc.status == 429 and exc.parameter else []
            )
            parameter = None if exc.status == 429 else exc.parameter
            return self.api_error(exc.status, exc.code, exc.title, exc.detail, headers, parameter)

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization")
        if not header:
            raise ApiError(
                401,
                "not_authenticated",
                "Authentication credentials were not provided.",
                "Missing Authorization header: send 'Authorization: Klaviyo-API-Key <private key>'.",
            )
        scheme, _, key = header.partition(" ")
        key = key.strip()
        valid = scheme == "Klaviyo-API-Key" and key.startswith("pk_") and len(key) > 3
        if valid and self.options.api_keys:
            valid = key in self.options.api_keys
        if not valid:
            raise ApiError(
                401,
                "authentication_failed",
                "Incorrect authentication credentials.",
                "The Authorization header must be 'Klaviyo-API-Key <private key>' with a valid private key.",
            )

    def _check_revision(self, request: Request) -> None:
        revision = request.headers.get("revision")
        if not revision:
            raise invalid(
                "The 'revision' header is required, e.g. 'revision: 2026-07-15'.", "revision"
            )
        found = _REVISION.fullmatch(revision.strip())
        if not found or found.group(1) not in KNOWN_REVISIONS:
            raise invalid(
                f"'{revision}' is not a valid revision. The latest is {self.spec.revision}.",
                "revision",
            )

    def _rate_limit(self, request: Request, operation: Operation) -> list[tuple[str, str]]:
        tier = operation.tier
        key = operation.operation_id
        if "predictive_analytics" in (request.param("additional-fields[profile]") or ""):
            tier, key = PREDICTIVE_ANALYTICS_TIER, key + "+predictive_analytics"
        decision = self.limiter.acquire(key, tier)
        if not decision.allowed:
            wait = decision.retry_after_seconds
            raise ApiError(
                429,
                "throttled",
                "Request was throttled.",
                f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}.",
                str(wait),
            )
        return [
            ("RateLimit-Limit", str(decision.limit)),
            ("RateLimit-Remaining", str(decision.remaining)),
            ("RateLimit-Reset", str(decision.reset_seconds)),
        ]

    def _serve(self, request: Request, operation: Operation, path_args: dict[str, str]) -> Response:
        unknown = sorted(set(request.query) - operation.params)
        if unknown:
            allowed = ", ".join(sorted(operation.params)) or "none"
            raise invalid(
                f"'{unknown[0]}' is not a valid query parameter for this endpoint. Valid: {allowed}",
                unknown[0],
            )
        for name, values in request.query.items():
            if len(values) > 1:
                raise invalid(f"'{name}' was given {len(values)} times; give it once.", name)
        renderer = Renderer(
            self.data,
            request.base_url,
            profile_conversations=operation.path.startswith("/api/profiles"),
        )
        extra = self._additional_fields(request, operation)
        includes = self._list_param(request, "include", operation.includes)
        sparse = {
            kind: self._list_param(request, f"fields[{kind}]", allowed)
            for kind, allowed in operation.fields.items()
        }
        with self.data.lock:
            if operation.is_collection:
                document, count = self._collection(
                    request, operation, path_args, renderer, extra, includes, sparse
                )
            else:
                document, count = self._single(
                    request, operation, path_args, renderer, extra, includes, sparse
                )
        response = Response(200, msgspec.json.encode(document), content_type=CONTENT_TYPE)
        response.records = count
        return response

    def _list_param(self, request: Request, name: str, allowed: frozenset[str]) -> frozenset[str]:
        raw = request.param(name)
        if raw is None:
            return frozenset()
        values = frozenset(v for v in raw.split(",") if v)
        bad = sorted(values - allowed)
        if bad:
            raise invalid(
                f"'{bad[0]}' is not a valid value for {name}. Valid: {', '.join(sorted(allowed))}",
                name,
            )
        return values

    def _additional_fields(self, request: Request, operation: Operation) -> frozenset[str]:
        extra: set[str] = set()
        for kind, allowed in operation.additional_fields.items():
            extra |= self._list_param(request, f"additional-fields[{kind}]", allowed)
        return frozenset(extra)

    # -- one resource -----------------------------------------------------------------------

    def _single(
        self,
        request: Request,
        operation: Operation,
        path_args: dict[str, str],
        renderer: Renderer,
        extra: frozenset[str],
        includes: frozenset[str],
        sparse: dict[str, frozenset[str]],
    ) -> tuple[dict[str, Any], int]:
        kind = KIND_BY_SEGMENT[operation.path.split("/")[2]]
        row = self.data.row_of(kind, path_args["id"])
        if row is None:
            raise ApiError(
                404,
                "not_found",
                "Not found.",
                f"A {kind} with id {path_args['id']} does not exist.",
            )
        item = _sparse(renderer.resource(kind, row, extra), sparse)
        document: dict[str, Any] = {"data": item, "links": {"self": _self_link(request)}}
        if includes:
            document["included"] = self._included(renderer, kind, [row], includes, sparse)
        return document, 1

    # -- pages ------------------------------------------------------------------------------

    def _collection(
        self,
        request: Request,
        operation: Operation,
        path_args: dict[str, str],
        renderer: Renderer,
        extra: frozenset[str],
        includes: frozenset[str],
        sparse: dict[str, frozenset[str]],
    ) -> tuple[dict[str, Any], int]:
        listing = self.listings[operation.path]
        table = self.data.tables[listing.table]
        page_size = self._page_size(request, operation)
        sort_param = request.param("sort")
        if sort_param is not None and sort_param not in operation.sorts:
            raise invalid(
                f"'{sort_param}' is not a valid sort for this endpoint. Valid: {', '.join(sorted(operation.sorts))}",
                "sort",
            )
        sort_name = (sort_param or "").lstrip("-") or None
        descending = bool(sort_param and sort_param.startswith("-"))
        sort_key = listing.sorts.get(sort_name) if sort_name else None
        nodes = self._filter(request, operation)
        key_range, masks = self._plan(listing, nodes, sort_key)
        if listing.parent is not None:
            parent_kind, column = listing.parent
            parent_row = self.data.row_of(parent_kind, path_args["id"])
            if parent_row is None:
                raise ApiError(
                    404,
                    "not_found",
                    "Not found.",
                    f"A {parent_kind} with id {path_args['id']} does not exist.",
                )
            masks.append(lambda rows, c=column, p=parent_row: table.columns[c][rows] == p)
        digest = query_digest(
            operation.path,
            str(path_args),
            request.param("filter") or "",
            sort_param or "",
            str(page_size),
        )
        after = None
        cursor = request.param("page[cursor]")
        if cursor is not None:
            try:
                after = self.cursors.decode(cursor, digest)
            except InvalidCursorError as exc:
                raise invalid(str(exc), "page[cursor]") from exc
        sort_values = None
        if sort_name in listing.computed_sorts and sort_key is not None:
            sort_values = lambda: computed_sort_values(self.data, listing, sort_key)  # noqa: E731
        page = table.page(
            sort=sort_key,
            sort_values=sort_values,
            descending=descending,
            key_range=key_range,
            mask=_all(masks) if masks else None,
            after=after,
            limit=page_size,
        )
        rows = page.rows
        if (
            "unsorted-archived-campaigns" in self.options.quirks
            and listing.kind == "campaign"
            and sort_key
        ):
            rows = _shuffle_archived(rows, table.columns["archived"])
        items = self._items(operation, listing, renderer, rows, extra, sparse)
        links: dict[str, Any] = {"self": _self_link(request), "next": None, "prev": None}
        if page.has_more:
            token = self.cursors.encode(page.last_position, digest)
            links["next"] = _next_link(request, token)
        document: dict[str, Any] = {"data": items, "links": links}
        if includes:
            document["included"] = self._included(renderer, listing.kind, rows, includes, sparse)
        return document, len(items)

    def _page_size(self, request: Request, operation: Operation) -> int:
        raw = request.param("page[size]")
        if not operation.is_paged:
            return UNPAGED_LIMIT
        if operation.page_size_max is None:
            return FIXED_PAGE_SIZE
        if raw is None:
            return int(operation.page_size_default or operation.page_size_max)
        if not raw.isdigit() or not 1 <= int(raw) <= operation.page_size_max:
            raise invalid(
                f"page[size] must be an integer from 1 to {operation.page_size_max}; got '{raw}'.",
                "page[size]",
            )
        return int(raw)

    def _filter(self, request: Request, operation: Operation) -> list[Node]:
        text = request.param("filter")
        if text is None:
            if operation.filter_required:
                raise invalid(
                    f"A filter is required for this endpoint: it must include {CHANNEL_FILTER_HINT}.",
                    "filter",
                )
            return []
        try:
            nodes = parse_filter(text, operation.filters)
        except FilterError as exc:
            raise invalid(f"Invalid filter provided. {exc}", "filter") from exc
        if operation.operation_id == "get_campaigns" and not any(
            isinstance(c, Comparison) and c.field == "messages.channel" and c.operator == "equals"
            for c in conjuncts(nodes)
        ):
            raise invalid(
                f"The campaigns filter must include a channel: {CHANNEL_FILTER_HINT}.", "filter"
            )
        return nodes

    def _plan(
        self, listing: Listing, nodes: list[Node], sort_key: str | None
    ) -> tuple[KeyRange | None, list[Any]]:
        """Range comparisons on the (non-null) sort column become a key range; the rest, masks."""
        key_range = None
        masks = []
        for node in conjuncts(nodes):
            evaluator = listing.fields.get(node.field) if isinstance(node, Comparison) else None
            if (
                isinstance(node, Comparison)
                and isinstance(evaluator, TimeField)
                and sort_key is not None
                and evaluator.column == sort_key
                and not evaluator.nullable
                and node.operator != "equals"
            ):
                bound = _bound(node)
                key_range = bound if key_range is None else key_range.narrowed(bound)
            else:
                masks.append(self._mask(listing, node))
        return key_range, masks

    def _mask(self, listing: Listing, node: Node) -> Any:
        if isinstance(node, Comparison):
            evaluator = listing.fields[node.field]
            return lambda rows: evaluator.mask(self.data, listing, node.operator, node.value, rows)
        parts = [self._mask(listing, operand) for operand in node.operands]
        if node.operator == "and":
            return _all(parts)
        if node.operator == "or":
            return lambda rows: np.logical_or.reduce([p(rows) for p in parts])
        return lambda rows: ~parts[0](rows)

    def _items(
        self,
        operation: Operation,
        listing: Listing,
        renderer: Renderer,
        rows: list[int],
        extra: frozenset[str],
        sparse: dict[str, frozenset[str]],
    ) -> list[dict[str, Any]]:
        if listing.via_profile:
            columns = self.data.tables[listing.table].columns
            if operation.path.endswith("/relationships/profiles"):
                return [
                    {
                        "type": "profile",
                        "id": self.data.id_of("profile", int(columns["profile"][r])),
                    }
                    for r in rows
                ]
            items = []
            for r in rows:
                item = renderer.resource("profile", int(columns["profile"][r]), extra)
                item["attributes"]["joined_group_at"] = iso(int(columns["joined"][r]))
                items.append(_sparse(item, sparse))
            return items
        return [_sparse(renderer.resource(listing.kind, r, extra), sparse) for r in rows]

    def _included(
        self,
        renderer: Renderer,
        kind: str,
        rows: list[int],
        includes: frozenset[str],
        sparse: dict[str, frozenset[str]],
    ) -> list[dict[str, Any]]:
        seen: dict[tuple[str, int], None] = {}
        for row in rows:
            for name, (target, related) in renderer.related(kind, row).items():
                if name not in includes or related is None or target in ("attribution", "image"):
                    continue
                for r in related if isinstance(related, list) else [related]:
                    seen.setdefault((target, r), None)
        if kind == "profile" and includes & {"lists", "segments"}:
            for row in rows:
                for owner in ("list", "segment"):
                    if owner + "s" in includes:
                        members = self.data.tables[owner + "-member"]
                        mine = (members.columns["profile"] == row) & members.alive
                        for group in members.columns["group"][mine].tolist():
                            seen.setdefault((owner, int(group)), None)
        return [_sparse(renderer.resource(target, r), sparse) for target, r in seen]

    # -- admin ------------------------------------------------------------------------------

    def handle_admin(self, request: Request, route: str) -> Response | None:
        if route == "late-events" and request.method == "POST":
            body = request.json()
            spec = {
                "type": "event",
                "action": "create",
                "count": body.get("count", 1),
                "age_seconds": body.get("age_seconds", 86_400),
                "advance_seconds": body.get("advance_seconds", 1),
            }
            return json_response(200, self.data.mutate(spec))
        return None

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self.data.mutate(spec)

    def truth(self, kind: str) -> list[dict[str, Any]]:
        if kind not in self.data.tables:
            raise MutationError(f"no such type {kind!r}; one of {sorted(self.data.tables)}")
        return self.data.truth(kind)

    def info(self) -> dict[str, Any]:
        config = self.data.config
        return {
            "emulator": self.name,
            "revision": self.spec.revision,
            "seed": config.seed,
            "now": iso(self.controls.clock.now()),
            "counts": {kind: int(t.alive.sum()) for kind, t in self.data.tables.items()},
            "rate_limits": self.controls.limiter.enabled,
            "quirks": sorted(self.options.quirks),
        }


def _all(masks: list[Any]) -> Any:
    if len(masks) == 1:
        return masks[0]

    def combined(rows: np.ndarray) -> np.ndarray:
        keep = np.ones(len(rows), dtype=bool)
        for mask in masks:
            keep &= mask(rows)
        return keep

    return combined


def _bound(comparison: Comparison) -> KeyRange:
    value, op = comparison.value, comparison.operator
    if op == "greater-than":
        return KeyRange(low=value, low_inclusive=False)
    if op == "greater-or-equal":
        return KeyRange(low=value, low_inclusive=True)
    if op == "less-than":
        return KeyRange(high=value, high_inclusive=False)
    return KeyRange(high=value, high_inclusive=True)


def _sparse(item: dict[str, Any], sparse: dict[str, frozenset[str]]) -> dict[str, Any]:
    wanted = sparse.get(item["type"])
    if not wanted or "attributes" not in item:
        return item
    attributes = item["attributes"]
    kept: dict[str, Any] = {}
    for name in wanted:
        head, _, rest = name.partition(".")
        if head not in attributes:
            continue
        if not rest or not isinstance(attributes[head], dict):
            kept[head] = attributes[head]
        elif head not in kept or isinstance(kept[head], dict):
            kept.setdefault(head, {})[rest.split(".")[0]] = attributes[head].get(rest.split(".")[0])
    item["attributes"] = kept
    return item


def _shuffle_archived(rows: list[int], archived: np.ndarray) -> list[int]:
    """Klaviyo returns archived campaigns slightly out of order even when sorted: swap some
    neighbouring pairs within the page (the cursor still follows the true order)."""
    out = list(rows)
    for i in range(0, len(out) - 1, 2):
        if archived[out[i]] and archived[out[i + 1]] and out[i] % 3 == 0:
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def _self_link(request: Request) -> str:
    return f"{request.base_url}{request.path}" + (
        f"?{request.raw_query}" if request.raw_query else ""
    )


def _next_link(request: Request, token: str) -> str:
    params = [(k, v[-1]) for k, v in request.query.items() if k != "page[cursor]"]
    params.append(("page[cursor]", token))
    return f"{request.base_url}{request.path}?{urlencode(params, quote_via=quote, safe='')}"
