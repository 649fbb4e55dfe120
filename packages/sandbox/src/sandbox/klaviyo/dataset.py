"""The Klaviyo account the sandbox serves: tables of rows, generated from a seed, and mutable.

Only what queries need is stored (timestamps, foreign rows, flags, a version per row); the
rest of each record is rendered from ``(seed, table, row, version)`` when served.  Sizes scale
from ``profiles`` and ``events``; the hard cases are built in:

- 500 profiles share one ``updated`` value, and 500 events one ``datetime`` (ties across pages);
- about 0.5% of events arrive late: their row order is behind their ``datetime``;
- a bulk import gives a block of list members one ``joined_group_at``;
- some rows are deleted from the start, archived campaigns exist, some attributes are null,
  absent, non-Latin, emoji, or contain a NUL character (see ``render.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.core.clock import DataClock, format_instant, parse_instant, start_of_today
from sandbox.core.ids import Base62Codec, IdCodec, NumericCodec, UlidCodec, UuidCodec
from sandbox.core.rng import derive
from sandbox.core.table import Table
from sandbox.klaviyo import catalog

DAY = 86_400
NULL_TIME = -1  # sentinel in nullable timestamp columns
TIE_SIZE = 500

# JSON:API type -> table name; membership tables have no type of their own.
TYPES = (
    "profile",
    "event",
    "metric",
    "campaign",
    "campaign-message",
    "list",
    "segment",
    "template",
    "flow",
    "flow-action",
    "tag",
)
MEMBERSHIPS = ("list-member", "segment-member")
# (column holding a row of another table, that table's type), per type, for ground truth.
REFERENCES = {
    "event": (
        ("metric", "metric"),
        ("profile", "profile"),
        ("campaign", "campaign-message"),
        ("flow", "flow"),
    ),
    "campaign-message": (("campaign", "campaign"), ("template", "template")),
    "flow-action": (("flow", "flow"),),
}


class MutationError(ValueError):
    pass


@dataclass(frozen=True)
class DatasetConfig:
    seed: int = 1
    profiles: int = 1_000
    events: int = 10_000
    #: Where the generated history ends (epoch seconds); default: midnight UTC today.  The same
    #: seed and ``now`` always give the same data.
    now: int = 0
    history_days: int = 730

    def __post_init__(self) -> None:
        if self.profiles < 20 or self.events < 20:
            raise ValueError("the sandbox needs at least 20 profiles and 20 events")
        if not self.now:
            object.__setattr__(self, "now", start_of_today())

    @property
    def start(self) -> int:
        return self.now - self.history_days * DAY

    def size(self, kind: str) -> int:
        p, e = self.profiles, self.events
        return {
            "metric": len(catalog.METRICS),
            "tag": len(catalog.TAGS),
            "list": max(4, min(200, p // 2_500)),
            "segment": max(3, min(100, p // 5_000)),
            "template": max(10, min(500, p // 2_000)),
            "flow": max(6, min(200, p // 5_000)),
            "campaign": max(15, min(5_000, e // 1_000)),
        }[kind]


class KlaviyoData:
    def __init__(self, config: DatasetConfig, clock: DataClock) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.salt = {kind: derive(config.seed, kind) for kind in (*TYPES, *MEMBERSHIPS)}
        self.codecs: dict[str, IdCodec] = {
            "profile": UlidCodec(self.salt["profile"]),
            "event": Base62Codec(self.salt["event"], 11, prefix="4"),
            "metric": Base62Codec(self.salt["metric"], 5, prefix="M"),
            "campaign": UlidCodec(self.salt["campaign"]),
            "campaign-message": UlidCodec(self.salt["campaign-message"]),
            "list": Base62Codec(self.salt["list"], 5, prefix="L"),
            "segment": Base62Codec(self.salt["segment"], 5, prefix="S"),
            "template": Base62Codec(self.salt["template"], 5, prefix="T"),
            "flow": Base62Codec(self.salt["flow"], 5, prefix="F"),
            "flow-action": NumericCodec(self.salt["flow-action"], 8),
            "tag": UuidCodec(self.salt["tag"]),
        }
        self.tables: dict[str, Table] = {}
        self._mutations = 0
        _Generator(self).build()

    # -- lookups ----------------------------------------------------------------------------

    def row_of(self, kind: str, resource_id: str) -> int | None:
        row = self.codecs[kind].decode(resource_id)
        table = self.tables[kind]
        if row is None or row >= table.size or not table.alive[row]:
            return None
        return row

    def id_of(self, kind: str, row: int) -> str:
        return self.codecs[kind].encode(row)

    # -- ground truth -----------------------------------------------------------------------

    def truth(self, kind: str) -> list[dict[str, Any]]:
        """Every live record of a kind with the fields incremental syncs key on, and the ids
        of what it refers to (``<kind>_id``; an event's campaign as its campaign message)."""
        with self.lock:
            if kind in MEMBERSHIPS:
                owner = kind.split("-")[0]
                table = self.tables[kind]
                rows = table.live_rows()
                return [
                    {
                        f"{owner}_id": self.id_of(owner, int(table.columns["group"][r])),
                        "profile_id": self.id_of("profile", int(table.columns["profile"][r])),
                        "joined_group_at": format_instant(int(table.columns["joined"][r])),
                    }
                    for r in rows
                ]
            table = self.tables[kind]
            references = [(c, k) for c, k in REFERENCES.get(kind, ()) if c in table.columns]
            out = []
            for r in table.live_rows().tolist():
                item: dict[str, Any] = {"id": self.id_of(kind, r)}
                for column in ("created", "updated", "datetime"):
                    if column in table.columns:
                        item[column] = format_instant(int(table.columns[column][r]))
                for column, target in references:
                    row = int(table.columns[column][r])
                    item[f"{target.replace('-', '_')}_id"] = (
                        self.id_of(target, row) if row >= 0 else None
                    )
                out.append(item)
            return out

    # -- mutations --------------------------------------------------------------------------

    def mutate(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Apply one admin mutation; see the sandbox README for the accepted shapes."""
        kind = str(spec.get("type", ""))
        action = str(spec.get("action", ""))
        if kind not in TYPES and kind not in MEMBERSHIPS:
            raise MutationError(
                f"unknown type {kind!r}; one of {', '.join((*TYPES, *MEMBERSHIPS))}"
            )
        with self.lock:
            if "at" in spec:
                self.clock.set(parse_instant(str(spec["at"])))
            else:
                # A frozen clock steps a second per mutation so each batch is newer; a live one
                # is already moving, and stepping it would stamp records in the future.
                self.clock.advance(int(spec.get("advance_seconds", 1 if self.clock.frozen else 0)))
            self._mutations += 1
            rng = np.random.default_rng(derive(self.config.seed, "mutation", self._mutations))
            if action == "create":
                rows = _Generator(self).create(kind, int(spec.get("count", 1)), rng, spec)
            elif action in ("update", "delete"):
                rows = self._pick(kind, spec, rng)
                if action == "update":
                    self._update(kind, rows)
                else:
                    self._delete(kind, rows)
            else:
                raise MutationError(f"unknown action {action!r}; one of create, update, delete")
            return {
                "type": kind,
                "action": action,
                "at": format_instant(self.clock.now()),
                "ids": self._ids(kind, rows),
            }

    def _ids(self, kind: str, rows: np.ndarray) -> list[Any]:
        if kind in MEMBERSHIPS:
            owner = kind.split("-")[0]
            table = self.tables[kind]
            return [
                [
                    self.id_of(owner, int(table.columns["group"][r])),
                    self.id_of("profile", int(table.columns["profile"][r])),
                ]
                for r in rows
            ]
        return [self.id_of(kind, int(r)) for r in rows]

    def _pick(self, kind: str, spec: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
        table = self.tables[kind]
        if "ids" in spec:
            if kind in MEMBERSHIPS:
                raise MutationError(
                    "membership rows are picked by count (and optionally 'group'), not ids"
                )
            rows = []
            for resource_id in spec["ids"]:
                row = self.row_of(kind, str(resource_id))
                if row is None:
                    raise MutationError(f"no live {kind} with id {resource_id!r}")
                rows.append(row)
            return np.array(rows, dtype=np.int64)
        live = table.live_rows()
        if kind in MEMBERSHIPS and "group" in spec:
            group = self.row_of(kind.split("-")[0], str(spec["group"]))
            live = live[table.columns["group"][live] == group]
        count = int(spec.get("count", 1))
        if count > len(live):
            raise MutationError(f"asked for {count} {kind} rows but only {len(live)} are live")
        return np.sort(rng.choice(live, count, replace=False))

    def _update(self, kind: str, rows: np.ndarray) -> None:
        if kind == "event":
            raise MutationError("events are immutable in Klaviyo; create late events instead")
        if kind in MEMBERSHIPS:
            raise MutationError("memberships cannot be updated; delete and create them")
        table = self.tables[kind]
        table.columns["version"][rows] += 1
        if "updated" in table.columns:
            table.columns["updated"][rows] = self.clock.now()
        table.touch()
        if kind == "campaign":  # editing a campaign edits its message
            self._update("campaign-message", rows)

    def _delete(self, kind: str, rows: np.ndarray) -> None:
        self.tables[kind].delete(rows)
        cascades = {
            "profile": (
                ("event", "profile"),
                ("list-member", "profile"),
                ("segment-member", "profile"),
            ),
            "list": (("list-member", "group"),),
            "segment": (("segment-member", "group"),),
            "campaign": (("campaign-message", "campaign"),),
            "flow": (("flow-action", "flow"),),
        }
        for child, column in cascades.get(kind, ()):
            table = self.tables[child]
            doomed = np.flatnonzero(np.isin(table.columns[column], rows) & table.alive)
            if len(doomed):
                table.delete(doomed)


class _Generator:
    """Builds the initial tables, and the rows ``create`` mutations add."""

    def __init__(self, data: KlaviyoData) -> None:
        self.data = data
        self.config = data.config

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng(derive(self.config.seed, "generate", name))

    def build(self) -> None:
        for kind in (
            "metric",
            "tag",
            "template",
            "flow",
            "flow-action",
            "list",
            "segment",
            "profile",
            "list-member",
            "segment-member",
            "campaign",
            "campaign-message",
            "event",
        ):
            self.data.tables[kind] = getattr(self, "_" + kind.replace("-", "_"))()

    def _times(self, rng: np.random.Generator, count: int, low: int, high: int) -> np.ndarray:
        return rng.integers(low, max(low + 1, high), count, dtype=np.int64)

    def _basic(self, kind: str, extra: dict[str, np.ndarray] | None = None) -> Table:
        rng = self.rng(kind)
        n = self.config.size(kind)
        created = self._times(rng, n, self.config.start, self.config.now - 30 * DAY)
        updated = created + (rng.random(n) * (self.config.now - created)).astype(np.int64)
        columns = {
            "created": created,
            "updated": updated,
            "version": np.zeros(n, np.int32),
            **(extra or {}),
        }
        return Table(n, columns)

    def _metric(self) -> Table:
        n = self.config.size("metric")
        created = self.config.start - 90 * DAY + np.arange(n, dtype=np.int64) * 3_600
        return Table(
            n, {"created": created, "updated": created + 86_400, "version": np.zeros(n, np.int32)}
        )

    def _tag(self) -> Table:
        n = self.config.size("tag")
        return Table(n, {"version": np.zeros(n, np.int32)})

    def _template(self) -> Table:
        rng = self.rng("template-editor")
        n = self.config.size("template")
        return self._basic("template", {"editor": rng.integers(0, 3, n, dtype=np.int8)})

    def _flow(self) -> Table:
        rng = self.rng("flow-attrs")
        n = self.config.size("flow")
        return self._basic(
            "flow",
            {
                "archived": rng.random(n) < 0.15,
                "status": rng.choice(3, n, p=[0.7, 0.2, 0.1]).astype(np.int8),
                "trigger": rng.integers(0, len(catalog.FLOW_TRIGGERS), n, dtype=np.int8),
            },
        )

    def _flow_action(self) -> Table:
        rng = self.rng("flow-action")
        flows = self.data.tables["flow"]
        per_flow = rng.integers(2, 7, flows.size)
        flow = np.repeat(np.arange(flows.size, dtype=np.int32), per_flow)
        n = len(flow)
        created = flows.columns["created"][flow] + self._times(rng, n, 0, 3_600)
        updated = np.maximum(created, flows.columns["updated"][flow] - self._times(rng, n, 0, DAY))
        return Table(
            n,
            {
                "flow": flow,
                "created": created,
                "updated": updated,
                "version": np.zeros(n, np.int32),
                "action_type": rng.choice(
                    len(catalog.FLOW_ACTION_TYPES), n, p=[0.45, 0.3, 0.1, 0.1, 0.05]
                ).astype(np.int8),
                "status": rng.choice(4, n, p=[0.7, 0.15, 0.1, 0.05]).astype(np.int8),
            },
        )

    def _list(self) -> Table:
        table = self._basic("list")
        updated = table.columns["updated"]
        updated[1] = updated[0] = max(updated[0], table.columns["created"][1])  # two lists tie
        return table

    def _segment(self) -> Table:
        rng = self.rng("segment-attrs")
        n = self.config.size("segment")
        return self._basic(
            "segment", {"active": rng.random(n) < 0.85, "starred": rng.random(n) < 0.2}
        )

    def _profile(self) -> Table:
        rng = self.rng("profile")
        n, now = self.config.profiles, self.config.now
        created = self._times(rng, n, self.config.start, now - DAY)
        updated = created + (rng.random(n) * (now - created)).astype(np.int64)
        ties = min(TIE_SIZE, n // 4)
        tie_at = (now - 20 * DAY) // DAY * DAY + 12 * 3_600
        tie_rows = np.sort(rng.choice(n, ties, replace=False))
        created[tie_rows] = np.minimum(created[tie_rows], tie_at - DAY)
        updated[tie_rows] = tie_at
        table = Table(n, {"created": created, "updated": updated, "version": np.zeros(n, np.int32)})
        others = np.setdiff1d(np.arange(n), tie_rows)
        table.delete(rng.choice(others, n // 100, replace=False))
        return table

    def _membership(self, kind: str, owner: str, weights: list[float]) -> Table:
        rng = self.rng(kind)
        profiles = self.data.tables["profile"]
        groups = self.data.tables[owner]
        live = profiles.live_rows()
        per_profile = rng.choice(len(weights), len(live), p=weights)
        profile = np.repeat(live, per_profile).astype(np.int32)
        step = (
            np.concatenate([np.arange(k) for k in per_profile])
            if len(profile)
            else np.zeros(0, np.int64)
        )
        base = np.repeat(rng.integers(0, groups.size, len(live)), per_profile)
        group = ((base + step) % groups.size).astype(np.int32)
        earliest = np.maximum(
            profiles.columns["created"][profile], groups.columns["created"][group]
        )
        joined = earliest + (rng.random(len(profile)) * (self.config.now - earliest)).astype(
            np.int64
        )
        in_first = np.flatnonzero(group == 0)[:300]  # a bulk import: one joined_group_at for many
        if len(in_first):
            joined[in_first] = max(int(earliest[in_first].max()), self.config.now - 45 * DAY)
        return Table(len(profile), {"group": group, "profile": profile, "joined": joined})

    def _list_member(self) -> Table:
        return self._membership("list-member", "list", [0.3, 0.4, 0.2, 0.1])

    def _segment_member(self) -> Table:
        return self._membership("segment-member", "segment", [0.5, 0.35, 0.15])

    def _campaign(self) -> Table:
        rng = self.rng("campaign")
        n, now = self.config.size("campaign"), self.config.now
        channel = rng.choice(3, n, p=[0.6, 0.25, 0.15]).astype(np.int8)
        weights = np.array(catalog.CAMPAIGN_STATUS_WEIGHTS, dtype=float)
        status = rng.choice(len(weights), n, p=weights / weights.sum()).astype(np.int8)
        created = self._times(rng, n, self.config.start, now - 2 * DAY)
        sent = np.isin(status, [0, 4, 6])  # Sent, Sending, Variations Sent
        scheduled_state = status == 2
        scheduled = np.where(
            sent | scheduled_state, created + self._times(rng, n, 3_600, 7 * DAY), NULL_TIME
        )
        scheduled = np.where(sent, np.minimum(scheduled, now - 3_600), scheduled)
        send_time = np.where(sent, scheduled, NULL_TIME)
        updated = np.minimum(np.maximum(created, send_time) + self._times(rng, n, 0, DAY), now)
        tie = np.arange(1, min(5, n))  # several campaigns, several channels, one updated_at
        updated[tie] = updated[tie].max()
        archived = sent & (rng.random(n) < 0.3)
        return Table(
            n,
            {
                "channel": channel,
                "status": status,
                "archived": archived,
                "created": created,
                "updated": updated,
                "scheduled": scheduled,
                "send_time": send_time,
                "version": np.zeros(n, np.int32),
            },
        )

    def _campaign_message(self) -> Table:
        campaigns = self.data.tables["campaign"]
        rng = self.rng("campaign-message")
        n = campaigns.size
        template = np.where(
            campaigns.columns["channel"] == 0,
            rng.integers(0, self.data.tables["template"].size, n),
            -1,
        ).astype(np.int32)
        return Table(
            n,
            {
                "campaign": np.arange(n, dtype=np.int32),
                "template": template,
                "created": campaigns.columns["created"].copy(),
                "updated": campaigns.columns["updated"].copy(),
                "version": np.zeros(n, np.int32),
            },
        )

    def _event(self) -> Table:
        rng = self.rng("event")
        n = self.config.events
        when = np.sort(self._times(rng, n, self.config.start, self.config.now))
        ties = min(TIE_SIZE, n // 4)
        middle = n // 2 - ties // 2
        when[middle : middle + ties] = when[middle]
        outside = np.setdiff1d(np.arange(n), np.arange(middle, middle + ties))
        late = rng.choice(outside, n // 200, replace=False)
        when[late] -= self._times(rng, len(late), 3_600, 3 * DAY)
        return Table(n, self._event_columns(rng, when))

    def _event_columns(self, rng: np.random.Generator, when: np.ndarray) -> dict[str, np.ndarray]:
        n = len(when)
        weights = np.array(catalog.METRIC_WEIGHTS, dtype=float)
        metric = rng.choice(len(weights), n, p=weights / weights.sum()).astype(np.int16)
        profile = rng.choice(self.data.tables["profile"].live_rows(), n).astype(np.int32)
        campaign = np.full(n, -1, np.int32)
        flow = np.full(n, -1, np.int32)
        campaigns = self.data.tables["campaign"]
        send_time = campaigns.columns["send_time"]
        from_flow = rng.random(n) < 0.35
        for metric_index, channel in catalog.MESSAGE_METRIC_CHANNEL.items():
            events = np.flatnonzero(metric == metric_index)
            candidates = np.flatnonzero(
                (campaigns.columns["channel"] == channel) & (send_time >= 0) & campaigns.alive
            )
            candidates = candidates[np.argsort(send_time[candidates], kind="stable")]
            sent_before = np.searchsorted(send_time[candidates], when[events], "right")
            pick = (
                sent_before
                - 1
                - (rng.random(len(events)) * np.minimum(sent_before, 3)).astype(np.int64)
            )
            has_campaign = (sent_before > 0) & ~from_flow[events]
            campaign[events[has_campaign]] = candidates[pick[has_campaign]]
            by_flow = events[~has_campaign]
            flow[by_flow] = rng.integers(0, self.data.tables["flow"].size, len(by_flow))
        return {
            "datetime": when,
            "metric": metric,
            "profile": profile,
            "campaign": campaign,
            "flow": flow,
        }

    # -- rows added by mutations ------------------------------------------------------------

    def create(
        self, kind: str, count: int, rng: np.random.Generator, spec: dict[str, Any]
    ) -> np.ndarray:
        if count < 1:
            raise MutationError("count must be at least 1")
        now = self.data.clock.now()
        tables = self.data.tables
        table = tables.get(kind)
        at = np.full(count, now, np.int64)
        zeros = np.zeros(count, np.int32)
        if kind == "event":
            age = int(spec.get("age_seconds", 0))
            return table.append(self._event_columns(rng, at - age))  # type: ignore[union-attr]
        if kind in ("profile", "list", "template"):
            columns: dict[str, np.ndarray] = {"created": at, "updated": at.copy(), "version": zeros}
            if kind == "template":
                columns["editor"] = np.zeros(count, np.int8)
            return table.append(columns)  # type: ignore[union-attr]
        if kind in MEMBERSHIPS:
            return self._create_members(kind, count, rng, spec, at)
        raise MutationError(
            f"creating {kind} rows is not supported; create profile, event, list, template or memberships"
        )

    def _create_members(
        self, kind: str, count: int, rng: np.random.Generator, spec: dict[str, Any], at: np.ndarray
    ) -> np.ndarray:
        owner = kind.split("-")[0]
        table = self.data.tables[kind]
        if "group" in spec:
            group = self.data.row_of(owner, str(spec["group"]))
            if group is None:
                raise MutationError(f"no live {owner} with id {spec['group']!r}")
        else:
            group = int(rng.integers(0, self.data.tables[owner].size))
        existing = table.columns["profile"][(table.columns["group"] == group) & table.alive]
        candidates = np.setdiff1d(self.data.tables["profile"].live_rows(), existing)
        if count > len(candidates):
            raise MutationError(
                f"only {len(candidates)} profiles are not yet members of that {owner}"
            )
        profile = np.sort(rng.choice(candidates, count, replace=False)).astype(np.int32)
        return table.append(
            {"group": np.full(count, group, np.int32), "profile": profile, "joined": at}
        )
