"""How each served endpoint's filter fields and sorts map onto the tables.

The spec says *which* fields and operators an endpoint accepts; this module says what they
mean here.  ``tests/test_spec_coverage.py`` checks that every field and sort the spec allows
has an entry, so a new revision cannot add one silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox.core.clock import parse_instant
from sandbox.klaviyo import catalog
from sandbox.klaviyo.dataset import NULL_TIME, KlaviyoData
from sandbox.klaviyo.render import Renderer

Getter = Callable[[int], Any]
_COMPARE = {
    "greater-than": np.greater,
    "greater-or-equal": np.greater_equal,
    "less-than": np.less,
    "less-or-equal": np.less_equal,
    "equals": np.equal,
}


class FieldEval:
    """Evaluates comparisons on one field for a batch of table rows."""

    def mask(
        self, data: KlaviyoData, listing: Listing, operator: str, value: Any, rows: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class TimeField(FieldEval):
    column: str
    nullable: bool = False

    def mask(
        self, data: KlaviyoData, listing: Listing, operator: str, value: Any, rows: np.ndarray
    ) -> np.ndarray:
        values = data.tables[listing.table].columns[self.column][rows]
        hit = _COMPARE[operator](values, value)
        return hit & (values != NULL_TIME) if self.nullable else hit


@dataclass(frozen=True)
class CodeField(FieldEval):
    """A small-integer column holding an index into ``labels`` (booleans: labels=None)."""

    column: str
    labels: tuple[str, ...] | None = None

    def mask(
        self, data: KlaviyoData, listing: Listing, operator: str, value: Any, rows: np.ndarray
    ) -> np.ndarray:
        values = data.tables[listing.table].columns[self.column][rows]
        wanted = value if isinstance(value, tuple) else (value,)
        codes = (
            [self.labels.index(v) for v in wanted if v in self.labels]
            if self.labels
            else list(wanted)
        )
        return np.isin(values, codes)


@dataclass(frozen=True)
class RowIdField(FieldEval):
    """IDs of the listed kind itself (``column`` None) or of a referenced kind held in ``column``."""

    kind: str
    column: str | None = None

    def mask(
        self, data: KlaviyoData, listing: Listing, operator: str, value: Any, rows: np.ndarray
    ) -> np.ndarray:
        wanted = value if isinstance(value, tuple) else (value,)
        targets = [data.codecs[self.kind].decode(str(v)) for v in wanted]
        values = (
            rows if self.column is None else data.tables[listing.table].columns[self.column][rows]
        )
        return np.isin(values, [t for t in targets if t is not None])


@dataclass(frozen=True)
class ComputedField(FieldEval):
    """A value read from the rendered record (names, emails...): evaluated row by row."""

    path: str
    as_time: bool = False

    def mask(
        self, data: KlaviyoData, listing: Listing, operator: str, value: Any, rows: np.ndarray
    ) -> np.ndarray:
        getter = attribute_getter(data, listing, self.path)
        return np.fromiter(
            (_matches(operator, getter(int(r)), value, self.as_time) for r in rows), bool, len(rows)
        )


@dataclass(frozen=True)
class Always(FieldEval):
    """``has(profile)``-style existence checks that every row passes, or fields we hold no data
    for (push tokens, ``_kx``) that no row matches."""

    result: bool

    def mask(
        self, data: KlaviyoData, listing: Listing, operator: str, value: Any, rows: np.ndarray
    ) -> np.ndarray:
        return np.full(len(rows), self.result)


def _matches(operator: str, actual: Any, value: Any, as_time: bool) -> bool:
    if actual is None:
        return False
    if as_time:
        actual = parse_instant(actual)
        return bool(_COMPARE[operator](actual, value))
    if operator == "any" or isinstance(value, tuple):
        return actual in value
    if operator == "equals":
        return bool(actual == value)
    if operator == "contains":
        return value in actual
    if operator == "starts-with":
        return str(actual).startswith(value)
    if operator == "ends-with":
        return str(actual).endswith(value)
    return bool(_COMPARE[operator](actual, value))


@dataclass(frozen=True)
class Listing:
    """A paged endpoint: which table it reads and how its fields and sorts map."""

    kind: str  # JSON:API type of the items
    table: str
    parent: tuple[str, str] | None = None  # (parent kind, column holding the parent row)
    via_profile: bool = False  # rows are memberships; profile fields go through column "profile"
    fields: dict[str, FieldEval] = field(default_factory=dict)
    sorts: dict[str, str | None] = field(
        default_factory=dict
    )  # sort name -> column | computed path | None (row order)
    computed_sorts: frozenset[str] = frozenset()
    extra: frozenset[str] = frozenset()  # additional fields needed by computed fields

    def profile_rows(self, data: KlaviyoData, rows: np.ndarray) -> np.ndarray:
        return data.tables[self.table].columns["profile"][rows] if self.via_profile else rows


def attribute_getter(data: KlaviyoData, listing: Listing, path: str) -> Getter:
    renderer = Renderer(data, "")
    kind = "profile" if listing.via_profile else listing.kind
    render = renderer._attributes[kind]
    profile_column = (
        data.tables[listing.table].columns.get("profile") if listing.via_profile else None
    )
    extra = listing.extra
    keys = path.split(".")

    def get(row: int) -> Any:
        target = int(profile_column[row]) if profile_column is not None else row
        value: Any = render(target, extra)
        for key in keys:
            if isinstance(value, list):
                value = value[0] if value else None
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


def computed_sort_values(data: KlaviyoData, listing: Listing, path: str) -> np.ndarray:
    getter = attribute_getter(data, listing, path)
    size = data.tables[listing.table].size
    return np.array(["" if (v := getter(r)) is None else str(v) for r in range(size)])


def _time(column: str, nullable: bool = False) -> TimeField:
    return TimeField(column, nullable)


_PROFILE_FIELDS: dict[str, FieldEval] = {
    "email": ComputedField("email"),
    "phone_number": ComputedField("phone_number"),
    "external_id": ComputedField("external_id"),
    "_kx": Always(False),
}
_SUBSCRIPTION_FIELDS: dict[str, FieldEval] = {
    "subscriptions.email.marketing.list_suppressions.reason": ComputedField(
        "subscriptions.email.marketing.list_suppressions.reason"
    ),
    "subscriptions.email.marketing.list_suppressions.timestamp": ComputedField(
        "subscriptions.email.marketing.list_suppressions.timestamp", as_time=True
    ),
    "subscriptions.email.marketing.list_suppressions.list_id": ComputedField(
        "subscriptions.email.marketing.list_suppressions.list_id"
    ),
    "subscriptions.email.marketing.suppression.reason": ComputedField(
        "subscriptions.email.marketing.suppression.reason"
    ),
    "subscriptions.email.marketing.suppression.timestamp": ComputedField(
        "subscriptions.email.marketing.suppression.timestamp", as_time=True
    ),
}
_SUBSCRIPTION_SORTS = (
    "subscriptions.email.marketing.list_suppressions.timestamp",
    "subscriptions.email.marketing.suppression.timestamp",
)


def _members(owner: str) -> Listing:
    fields: dict[str, FieldEval] = {
        "email": ComputedField("email"),
        "phone_number": ComputedField("phone_number"),
        "push_token": Always(False),
        "_kx": Always(False),
        "joined_group_at": _time("joined"),
    }
    if owner == "segment":
        fields["profile_id"] = RowIdField("profile", "profile")
    return Listing(
        "profile",
        f"{owner}-member",
        parent=(owner, "group"),
        via_profile=True,
        fields=fields,
        sorts={"joined_group_at": "joined"},
    )


def build_listings() -> dict[str, Listing]:
    return {
        "/api/profiles": Listing(
            "profile",
            "profile",
            fields={
                "id": RowIdField("profile"),
                **_PROFILE_FIELDS,
                "created": _time("created"),
                "updated": _time("updated"),
                **_SUBSCRIPTION_FIELDS,
            },
            sorts={
                "created": "created",
                "updated": "updated",
                "id": None,
                "email": "email",
                **{s: s for s in _SUBSCRIPTION_SORTS},
            },
            computed_sorts=frozenset({"email", *_SUBSCRIPTION_SORTS}),
            extra=frozenset({"subscriptions"}),
        ),
        "/api/events": Listing(
            "event",
            "event",
            fields={
                "metric_id": RowIdField("metric", "metric"),
                "profile_id": RowIdField("profile", "profile"),
                "profile": Always(True),
                "metric": Always(True),
                "datetime": _time("datetime"),
                "timestamp": _time("datetime"),
            },
            sorts={"datetime": "datetime", "timestamp": "datetime"},
        ),
        "/api/campaigns": Listing(
            "campaign",
            "campaign",
            fields={
                "id": RowIdField("campaign"),
                "messages.channel": CodeField("channel", catalog.CHANNELS),
                "name": ComputedField("name"),
                "status": CodeField("status", catalog.CAMPAIGN_STATUSES),
                "archived": CodeField("archived"),
                "created_at": _time("created"),
                "scheduled_at": _time("scheduled", nullable=True),
                "updated_at": _time("updated"),
            },
            sorts={
                "created_at": "created",
                "id": None,
                "name": "name",
                "scheduled_at": "scheduled",
                "updated_at": "updated",
            },
            computed_sorts=frozenset({"name"}),
        ),
        "/api/campaigns/{id}/campaign-messages": Listing(
            "campaign-message", "campaign-message", parent=("campaign", "campaign")
        ),
        "/api/lists": Listing(
            "list",
            "list",
            fields={
                "name": ComputedField("name"),
                "id": RowIdField("list"),
                "created": _time("created"),
                "updated": _time("updated"),
            },
            sorts={"created": "created", "id": None, "name": "name", "updated": "updated"},
            computed_sorts=frozenset({"name"}),
        ),
        "/api/lists/{id}/profiles": _members("list"),
        "/api/lists/{id}/relationships/profiles": _members("list"),
        "/api/segments": Listing(
            "segment",
            "segment",
            fields={
                "name": ComputedField("name"),
                "id": RowIdField("segment"),
                "created": _time("created"),
                "updated": _time("updated"),
                "is_active": CodeField("active"),
                "is_starred": CodeField("starred"),
            },
            sorts={"created": "created", "id": None, "name": "name", "updated": "updated"},
            computed_sorts=frozenset({"name"}),
        ),
        "/api/segments/{id}/profiles": _members("segment"),
        "/api/segments/{id}/relationships/profiles": _members("segment"),
        "/api/templates": Listing(
            "template",
            "template",
            fields={
                "id": RowIdField("template"),
                "name": ComputedField("name"),
                "created": _time("created"),
                "updated": _time("updated"),
            },
            sorts={"created": "created", "id": None, "name": "name", "updated": "updated"},
            computed_sorts=frozenset({"name"}),
        ),
        "/api/metrics": Listing(
            "metric",
            "metric",
            fields={
                "integration.name": ComputedField("integration.name"),
                "integration.category": ComputedField("integration.category"),
            },
        ),
        "/api/flows": Listing(
            "flow",
            "flow",
            fields={
                "id": RowIdField("flow"),
                "name": ComputedField("name"),
                "status": CodeField("status", catalog.FLOW_STATUSES),
                "archived": CodeField("archived"),
                "created": _time("created"),
                "updated": _time("updated"),
                "trigger_type": CodeField("trigger", catalog.FLOW_TRIGGERS),
            },
            sorts={
                "created": "created",
                "id": None,
                "name": "name",
                "status": "status",
                "trigger_type": "trigger_type",
                "updated": "updated",
            },
            computed_sorts=frozenset({"name", "status", "trigger_type"}),
        ),
        "/api/flows/{id}/flow-actions": Listing(
            "flow-action",
            "flow-action",
            parent=("flow", "flow"),
            fields={
                "id": RowIdField("flow-action"),
                "action_type": CodeField("action_type", catalog.FLOW_ACTION_TYPES),
                "status": CodeField("status", catalog.FLOW_ACTION_STATUSES),
                "created": _time("created"),
                "updated": _time("updated"),
            },
            sorts={
                "action_type": "definition.type",
                "created": "created",
                "id": None,
                "status": "definition.data.status",
                "updated": "updated",
            },
            computed_sorts=frozenset({"action_type", "status"}),
        ),
        "/api/tags": Listing(
            "tag",
            "tag",
            fields={"name": ComputedField("name")},
            sorts={"id": None, "name": "name"},
            computed_sorts=frozenset({"name"}),
        ),
    }
