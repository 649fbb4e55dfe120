"""The consent reads: transactions (24-hour windows, continuation in the JSON body), data
subjects V4 (7-day windows, continuation in a header), purposes and collection points (pages).

Windows are half-open: ``fromDate`` inclusive, ``toDate`` exclusive, so back-to-back windows
never read a record twice.  Dates are zone-less UTC.
"""

from __future__ import annotations

from typing import Any

from sandbox.onetrust import render
from sandbox.onetrust.dataset import OneTrustData
from sandbox.onetrust.paging import (
    Continuation,
    ParameterError,
    after,
    offset_page,
    ordered,
    page_and_size,
    sort_spec,
    spring_page,
)
from sandbox.onetrust.times import parse_consent

HOUR_MS = 3_600_000
TRANSACTION_PAGE = (20, 50)
TRANSACTION_WINDOW_MS = 24 * HOUR_MS
SUBJECT_PAGE = (20, 50)
SUBJECT_WINDOW_MS = 7 * 24 * HOUR_MS
CATALOG_PAGE = (20, 100)
PURPOSE_SORTS = {
    "guid": "purposeId",
    "name": "label",
    "createdDate": "createdDate",
    "lastModifiedDate": "lastModifiedDate",
    "publishedDate": "publishedDate",
    "version": "version",
}
POINT_SORTS = {
    "id": "id",
    "name": "name",
    "status": "status",
    "version": "version",
    "createdDate": "createDate",
    "lastModifiedDate": "lastModifiedDate",
    "activationDate": "activationDate",
    "collectionPointType": "collectionPointType",
}
POINT_STATUSES = ("DRAFT", "ACTIVE", "RETIRED", "INACTIVE")


def _date(params: dict[str, str], name: str, *, date_only: bool, required: bool) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        if required:
            raise ParameterError(name, f"Required request parameter '{name}' is not present")
        return None
    value = parse_consent(text, date_only=date_only)
    if value is None:
        shapes = "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS" if date_only else "YYYY-MM-DDTHH:MM:SS"
        raise ParameterError(name, f"{name} must be {shapes} (UTC, no zone), got {text!r}")
    return value


def _required(params: dict[str, str], name: str) -> int:
    value = _date(params, name, date_only=False, required=True)
    if value is None:  # _date raises first; this keeps the type an int
        raise ParameterError(name, f"Required request parameter '{name}' is not present")
    return value


def _window(start: int, end: int, limit_ms: int, limit_text: str) -> None:
    if end < start:
        raise ParameterError("toDate", "toDate must not be before fromDate")
    if end - start > limit_ms:
        raise ParameterError(
            "toDate", f"The range between fromDate and toDate must be {limit_text} or less"
        )


def _continued(
    rows: list[dict[str, Any]],
    field: str,
    tie: str,
    descending: bool,
    size: int,
    page: int,
    token: str | None,
    query: str,
    tokens: Continuation,
    parameter: str,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """The page a continuation token (or, without one, ``page``) selects; the next token."""
    rows = ordered(rows, field, descending, tie)
    keys = [(r[field], r[tie]) for r in rows]
    if token:
        number, key = tokens.open(token, query, parameter)
        start = after(keys, (key[0], key[1]), descending)
    else:
        number, start = page, page * size
    chosen = rows[start : start + size]
    more = start + size < len(rows)
    next_token = tokens.seal(query, number + 1, list(keys[start + size - 1])) if more else None
    return chosen, number, next_token


def transactions(
    data: OneTrustData, params: dict[str, str], body: dict[str, Any], tokens: Continuation
) -> tuple[Any, int]:
    page, size = page_and_size(params, *TRANSACTION_PAGE)
    start = _date(params, "fromDate", date_only=True, required=False)
    end = _date(params, "toDate", date_only=True, required=False)
    if end is None:
        end = start + TRANSACTION_WINDOW_MS if start is not None else data.clock.now() * 1000
    if start is None:
        start = end - TRANSACTION_WINDOW_MS
    _window(start, end, TRANSACTION_WINDOW_MS, "24 hours")
    field, descending, sort = sort_spec(
        params, {"consentCreationDate": "consentCreationDate"}, "consentCreationDate,desc"
    )
    point = params.get("collectionPointGuid")
    rows = [
        t
        for t in data.transactions.values()
        if start <= t["consentCreationDate"] < end
        and (not point or t["collectionPointUUID"] == point)
    ]
    token = body.get("requestContinuation") if isinstance(body, dict) else None
    query = f"transactions|{start}|{end}|{point}|{sort}"
    chosen, number, next_token = _continued(
        rows, field, "transactionGuid", descending, size, page, token, query, tokens,
        "requestContinuation",
    )  # fmt: skip
    out = spring_page(
        [render.transaction(t) for t in chosen], number, size, None, next_token is None
    )
    if next_token:
        out["pageable"]["requestContinuation"] = next_token
    return out, len(chosen)


def data_subjects(
    data: OneTrustData, params: dict[str, str], token: str | None, tokens: Continuation
) -> tuple[Any, int]:
    start, end = _required(params, "fromDate"), _required(params, "toDate")
    _window(start, end, SUBJECT_WINDOW_MS, "7 days")
    page, size = page_and_size(params, *SUBJECT_PAGE)
    field, descending, sort = sort_spec(
        params, {"lastModifiedDate": "lastUpdatedDate"}, "lastModifiedDate,desc"
    )
    rows = [s for s in data.data_subjects.values() if start <= s["lastUpdatedDate"] < end]
    query = f"datasubjects|{start}|{end}|{sort}"
    chosen, number, next_token = _continued(
        rows, field, "id", descending, size, page, token, query, tokens, "requestContinuation"
    )
    out = spring_page(
        [render.data_subject(s) for s in chosen], number, size, None, next_token is None
    )
    if next_token:
        out["requestContinuation"] = next_token
    return out, len(chosen)


def purposes(data: OneTrustData, params: dict[str, str]) -> tuple[Any, int]:
    page, size = page_and_size(params, *CATALOG_PAGE)
    field, descending, _ = sort_spec(params, PURPOSE_SORTS, "createdDate,asc")
    since = _date(params, "fromLastModifiedDate", date_only=False, required=False)
    until = _date(params, "toLastModifiedDate", date_only=False, required=False)
    rows = [
        p
        for p in data.purposes.values()
        if (since is None or p["lastModifiedDate"] >= since)
        and (until is None or p["lastModifiedDate"] < until)
    ]
    rows = ordered(rows, field, descending, "purposeId")
    body = offset_page(rows, page, size, render.purpose)
    return body, body["numberOfElements"]


def collection_points(data: OneTrustData, params: dict[str, str]) -> tuple[Any, int]:
    page, size = page_and_size(params, *CATALOG_PAGE)
    field, descending, _ = sort_spec(params, POINT_SORTS, "createdDate,desc")
    status = params.get("status")
    if status and status not in POINT_STATUSES:
        raise ParameterError("status", f"status must be one of {', '.join(POINT_STATUSES)}")
    rows = [p for p in data.collection_points.values() if not status or p["status"] == status]
    rows = ordered(rows, field, descending, "id")
    body = offset_page(rows, page, size, lambda p: render.collection_point(p, data.purposes))
    return body, body["numberOfElements"]
