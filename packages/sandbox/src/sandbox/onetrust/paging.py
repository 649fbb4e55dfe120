"""Paging: 0-based ``page``/``size`` with a Spring page (or slice) envelope, and the consent
APIs' continuation tokens, which carry the position after the last record served."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from sandbox.core.cursor import CursorCodec, InvalidCursorError


class ParameterError(ValueError):
    """A 400 that names the parameter at fault."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def integer(params: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ParameterError(name, f"{name} must be an integer, got {text!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ParameterError(name, f"{name} must be {bound}, got {value}")
    return value


def page_and_size(params: dict[str, str], default: int, maximum: int) -> tuple[int, int]:
    return integer(params, "page", 0, 0, None), integer(params, "size", default, 1, maximum)


def sort_spec(
    params: dict[str, str], fields: dict[str, str], default: str
) -> tuple[str, bool, str]:
    """``property[,asc|desc]`` to (record field, descending, canonical text); ``fields`` maps
    each accepted property name (aliases included) to the record field it sorts by."""
    text = params.get("sort") or default
    prop, _, direction = text.partition(",")
    direction = direction.strip().lower() or "asc"
    if prop.strip() not in fields or direction not in ("asc", "desc"):
        names = sorted({f"{p},asc|desc" for p in fields})
        raise ParameterError("sort", f"sort {text!r} is not supported; one of {', '.join(names)}")
    return fields[prop.strip()], direction == "desc", f"{prop.strip()},{direction}"


def ordered(
    rows: list[dict[str, Any]], field: str, descending: bool, tie: str
) -> list[dict[str, Any]]:
    """By ``field`` then ``tie`` (an id), both descending or both ascending: pages are stable
    under ties, so 0-based offsets never skip or repeat a record."""
    return sorted(rows, key=lambda r: (r[field], r[tie]), reverse=descending)


def spring_page(
    content: list[Any], page: int, size: int, total: int | None, last: bool
) -> dict[str, Any]:
    """Spring's ``Page`` (with totals) or ``Slice`` (``total`` None) envelope."""
    sort = {"sorted": True, "unsorted": False, "empty": False}
    body: dict[str, Any] = {
        "content": content,
        "pageable": {
            "sort": dict(sort),
            "offset": page * size,
            "pageNumber": page,
            "pageSize": size,
            "paged": True,
            "unpaged": False,
        },
        "last": last,
        "size": size,
        "number": page,
        "sort": dict(sort),
        "numberOfElements": len(content),
        "first": page == 0,
        "empty": not content,
    }
    if total is not None:
        body["totalPages"] = -(-total // size)
        body["totalElements"] = total
    return body


def offset_page(
    rows: list[dict[str, Any]],
    page: int,
    size: int,
    render: Callable[[dict[str, Any]], Any],
) -> dict[str, Any]:
    chosen = rows[page * size : (page + 1) * size]
    last = (page + 1) * size >= len(rows)
    return spring_page([render(r) for r in chosen], page, size, len(rows), last)


class Continuation:
    """Signed tokens carrying (query, page number, last key served)."""

    def __init__(self) -> None:
        self._codec = CursorCodec()

    def seal(self, query: str, page: int, key: list[Any]) -> str:
        return self._codec.seal({"q": query, "n": page, "k": key})

    def open(self, token: str, query: str, parameter: str) -> tuple[int, list[Any]]:
        try:
            body = self._codec.unseal(token)
        except InvalidCursorError:
            raise ParameterError(parameter, f"{parameter} is not a token this API issued") from None
        if body.get("q") != query:
            raise ParameterError(
                parameter, f"{parameter} belongs to another query (dates, sort or filters differ)"
            )
        return int(body["n"]), list(body["k"])


def after(keys: list[tuple[Any, ...]], key: tuple[Any, ...], descending: bool) -> int:
    """Index of the first row past ``key`` in rows ordered by ``keys``."""
    if descending:
        lo, hi = 0, len(keys)
        while lo < hi:  # keys descend: find the first key strictly below ``key``
            mid = (lo + hi) // 2
            if keys[mid] >= key:
                lo = mid + 1
            else:
                hi = mid
        return lo
    return bisect.bisect_right(keys, key)
