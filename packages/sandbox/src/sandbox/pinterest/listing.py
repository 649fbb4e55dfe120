"""The list endpoints: ``{"items": [...], "bookmark": ...}`` pages in id order, filtered by
``entity_statuses`` (default ACTIVE and PAUSED, so archived entities appear only when asked
for) and by ids, with no date filter (unknown parameters are ignored, as Pinterest does).

The bookmark is opaque and signed: it carries the last id served and a digest of the filters
and order, so a tampered or replayed-with-other-filters bookmark is a 400.  Paging by id keeps
pages free of gaps and repeats however many entities share an ``updated_time``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.core.cursor import CursorCodec, InvalidCursorError, query_digest
from sandbox.pinterest.dataset import STATUSES, PinterestData
from sandbox.pinterest.params import ParameterError, choices, id_list, integer
from sandbox.pinterest.render import RENDER, ad_account

PAGE_DEFAULT = 25
PAGE_MAX = 250
MAX_IDS = 250
DEFAULT_STATUSES = ("ACTIVE", "PAUSED")
ORDERS = ("ASCENDING", "DESCENDING")
#: kind -> the id filters its list endpoint takes (each matched against the record's field)
FILTERS = {
    "campaign": {"campaign_ids": "id"},
    "ad_group": {"campaign_ids": "campaign_id", "ad_group_ids": "id"},
    "ad": {"campaign_ids": "campaign_id", "ad_group_ids": "ad_group_id", "ad_ids": "id"},
}


def _page(
    items: list[dict[str, Any]],
    query: dict[str, list[str]],
    codec: CursorCodec,
    digest: str,
    descending: bool,
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    size = integer(query, "page_size", PAGE_DEFAULT, 1, PAGE_MAX)
    bookmark = (query.get("bookmark") or [""])[-1]
    if bookmark:
        try:
            [after] = codec.decode(bookmark, digest)
            after = int(after)
        except (InvalidCursorError, ValueError, TypeError):
            raise ParameterError("bookmark", "bookmark is not valid for this request") from None
        items = [r for r in items if (int(r["id"]) < after if descending else int(r["id"]) > after)]
    page = items[:size]
    more = len(items) > size
    next_bookmark = codec.encode([page[-1]["id"]], digest) if more else None
    return {"items": [render(r) for r in page], "bookmark": next_bookmark}


def ad_accounts(
    data: PinterestData, query: dict[str, list[str]], codec: CursorCodec
) -> dict[str, Any]:
    text = (query.get("include_shared_accounts") or ["true"])[-1].lower()
    if text not in ("true", "false"):
        raise ParameterError("include_shared_accounts", "include_shared_accounts is true or false")
    accounts = sorted(data.accounts.values(), key=lambda a: int(a["id"]))
    return _page(accounts, query, codec, query_digest("ad_accounts"), False, ad_account)


def entities(
    data: PinterestData,
    kind: str,
    account_id: str,
    query: dict[str, list[str]],
    codec: CursorCodec,
) -> dict[str, Any]:
    statuses = choices(query, "entity_statuses", STATUSES, DEFAULT_STATUSES)
    order = (query.get("order") or ["ASCENDING"])[-1] or "ASCENDING"
    if order not in ORDERS:
        raise ParameterError("order", f"order must be ASCENDING or DESCENDING, got {order[:40]!r}")
    filters = {name: set(id_list(query, name, MAX_IDS)) for name in FILTERS[kind]}
    now = data.clock.now()
    picked = []
    for record in data.table(kind).values():
        if record["ad_account_id"] != account_id or record["status"] not in statuses:
            continue
        if any(ids and record[FILTERS[kind][name]] not in ids for name, ids in filters.items()):
            continue
        picked.append(record)
    descending = order == "DESCENDING"
    picked.sort(key=lambda r: int(r["id"]), reverse=descending)
    parts = [kind, account_id, order, ",".join(sorted(statuses))]
    parts += [f"{name}={','.join(sorted(ids))}" for name, ids in sorted(filters.items())]
    render = RENDER[kind]
    return _page(picked, query, codec, query_digest(*parts), descending, lambda r: render(r, now))
