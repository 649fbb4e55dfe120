"""Changes a test makes through ``POST /_sandbox/mutations``.

``{"type": "campaign" | "ad_group" | "ad", "action": "update" | "create", ...}``:

- ``update`` with ``count`` (picked at random, seeded) or ``ids``; optional ``status`` (any
  entity status: pausing or archiving stops delivery from that moment, ACTIVE resumes it) and
  ``name``.  Without ``at`` each changed entity gets its own fresh ``updated_time`` second from
  the clock (later than any stamped before); with ``at`` (epoch seconds or ISO 8601) all get
  exactly that second, and the clock moves to it if it is later.
- ``create`` with ``count``: new ACTIVE entities (``status`` to choose another) delivering from
  now; ad groups go under ``campaign_id`` and ads under ``ad_group_id`` (default: a seeded pick
  of a live parent); campaigns in ``ad_account_id`` (default the USD account).

Each mutation first advances the clock by ``advance_seconds`` (default 1 with a frozen clock).
"""

from __future__ import annotations

from typing import Any

from sandbox.core.clock import parse_instant
from sandbox.core.rng import Rng, derive
from sandbox.pinterest.dataset import STATUSES, PinterestData, stop

KINDS = ("campaign", "ad_group", "ad")
LIVE = ("ACTIVE", "PAUSED")


class MutationError(ValueError):
    pass


class Mutator:
    def __init__(self, data: PinterestData) -> None:
        self.data = data
        self.count = 0
        self.last_stamp = 0

    def apply(self, spec: dict[str, Any]) -> dict[str, Any]:
        kind, action = str(spec.get("type", "")), str(spec.get("action", ""))
        if kind not in KINDS:
            raise MutationError(f"unknown type {kind!r}; one of {', '.join(KINDS)}")
        if action not in ("update", "create"):
            raise MutationError(f"unknown action {action!r}; update or create")
        status = spec.get("status")
        if status is not None and status not in STATUSES:
            raise MutationError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        data = self.data
        with data.lock:
            clock = data.clock
            clock.advance(int(spec.get("advance_seconds", 1 if clock.frozen else 0)))
            at = _instant(spec["at"]) if spec.get("at") is not None else None
            if at is not None and at > clock.now():
                clock.set(at)
            self.count += 1
            rng = Rng(derive(data.config.seed, "mutation", self.count))
            if action == "create":
                ids = self._create(rng, kind, spec, at)
            else:
                ids = self._update(rng, kind, spec, at)
            return {"type": kind, "action": action, "ids": ids}

    def _stamps(self, count: int, at: int | None) -> list[int]:
        if at is not None:
            return [at] * count
        first = max(self.data.clock.now(), self.last_stamp + 1)
        self.last_stamp = first + count - 1
        if self.last_stamp > self.data.clock.now():
            self.data.clock.set(self.last_stamp)
        return list(range(first, first + count))

    def _update(self, rng: Rng, kind: str, spec: dict[str, Any], at: int | None) -> list[str]:
        table = self.data.table(kind)
        if ("ids" in spec) == ("count" in spec):
            raise MutationError(f"give either count or ids for {kind}")
        if "ids" in spec:
            ids = [str(i) for i in spec["ids"]]
            missing = [i for i in ids if i not in table]
            if missing:
                raise MutationError(f"no such {kind}(s): {missing[:5]}")
        else:
            count = int(spec["count"])
            pool = sorted(table, key=int)
            if count > len(pool):
                raise MutationError(f"asked for {count} {kind}s but there are {len(pool)}")
            ids = rng.sample(pool, count)
        status, name = spec.get("status"), spec.get("name")
        for entity_id, stamp in zip(ids, self._stamps(len(ids), at), strict=True):
            entity = table[entity_id]
            if status is not None and status != entity["status"]:
                if status == "ACTIVE":
                    entity["spans"].append([stamp, entity.get("end_time")])
                else:
                    stop(entity, stamp)
                entity["status"] = status
            if name is not None:
                entity["name"] = str(name)
            entity["updated_time"] = stamp
        return ids

    def _create(self, rng: Rng, kind: str, spec: dict[str, Any], at: int | None) -> list[str]:
        data = self.data
        status = spec.get("status") or "ACTIVE"
        ids = []
        for stamp in self._stamps(int(spec.get("count", 1)), at):
            if kind == "campaign":
                account = str(spec.get("ad_account_id") or next(iter(data.accounts)))
                if account not in data.accounts:
                    raise MutationError(f"no such ad_account: {account}")
                entity = data.add_campaign(rng, account, stamp, "ACTIVE")
                entity["start_time"], entity["end_time"] = stamp, None
            elif kind == "ad_group":
                campaign = self._parent(rng, "campaign", spec.get("campaign_id"))
                entity = data.add_ad_group(rng, campaign, stamp)
            else:
                group = self._parent(rng, "ad_group", spec.get("ad_group_id"))
                entity = data.add_ad(rng, group, stamp)
            entity["status"] = status
            entity["spans"] = [[stamp, entity.get("end_time")]] if status == "ACTIVE" else []
            ids.append(entity["id"])
        return ids

    def _parent(self, rng: Rng, kind: str, wanted: Any) -> dict[str, Any]:
        table = self.data.table(kind)
        if wanted is not None:
            if str(wanted) not in table:
                raise MutationError(f"no such {kind}: {wanted}")
            return table[str(wanted)]
        live = sorted((i for i, e in table.items() if e["status"] in LIVE), key=int)
        if not live:
            raise MutationError(f"no live {kind} to add under; give {kind}_id")
        return table[rng.choice(live)]


def _instant(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return parse_instant(str(value))
