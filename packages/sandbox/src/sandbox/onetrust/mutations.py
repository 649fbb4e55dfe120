"""Changes a test makes through ``POST /_sandbox/mutations``.

``{"type", "action", "count" | "ids", "at", "advance_seconds", ...}``.  Each mutation first
advances the clock by ``advance_seconds`` (default 1 with a frozen clock, 0 with a live one).
Without ``at`` every changed record gets its own fresh millisecond from the clock (later than
any stamped before); with ``at`` (ISO instant) all get exactly that millisecond, and the clock
moves to it if it is later.  Changing a subtask or a request adds an audit entry and moves the
request's ``dateUpdated``, as OneTrust does.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.rng import Rng, derive
from sandbox.onetrust import consent, dsar
from sandbox.onetrust.dataset import KINDS, OneTrustData
from sandbox.onetrust.times import parse_ms

ACTIONS = {
    "request": ("create", "update", "delete"),
    "subtask": ("update",),
    "transaction": ("create",),
    "data_subject": ("update",),
    "purpose": ("update",),
    "collection_point": ("update",),
}


class MutationError(ValueError):
    pass


class Mutator:
    def __init__(self, data: OneTrustData) -> None:
        self.data = data
        self.count = 0

    def apply(self, spec: dict[str, Any]) -> dict[str, Any]:
        kind, action = str(spec.get("type", "")), str(spec.get("action", ""))
        if kind not in KINDS:
            raise MutationError(f"unknown type {kind!r}; one of {', '.join(KINDS)}")
        if action not in ACTIONS.get(kind, ()):
            allowed = ", ".join(f"{a} {k}" for k, acts in ACTIONS.items() for a in acts)
            raise MutationError(f"cannot {action or '(no action)'} {kind}; supported: {allowed}")
        data = self.data
        with data.lock:
            clock = data.clock
            clock.advance(int(spec.get("advance_seconds", 1 if clock.frozen else 0)))
            at = parse_ms(str(spec["at"])) if spec.get("at") else None
            if at is not None and at // 1000 > clock.now():
                clock.set(at // 1000)
            self.count += 1
            rng = Rng(derive(data.config.seed, "mutation", self.count))
            handler = getattr(self, f"_{action}_{kind}")
            ids = handler(rng, spec, at)
            return {"type": kind, "action": action, "ids": ids}

    # -- stamps and picks ---------------------------------------------------------------------

    def _stamps(self, count: int, at: int | None) -> list[int]:
        if at is not None:
            return [at] * count
        first = max(self.data.clock.now() * 1000, self.data.last_stamp + 1)
        self.data.last_stamp = first + count - 1
        return list(range(first, first + count))

    def _pick(
        self, rng: Rng, spec: dict[str, Any], table: dict[str, dict[str, Any]], what: str
    ) -> list[dict[str, Any]]:
        if ("ids" in spec) == ("count" in spec):
            raise MutationError(f"give either count or ids for {what}")
        if "ids" in spec:
            found: list[dict[str, Any]] = []
            missing: list[Any] = []
            for key in spec["ids"]:
                record = table.get(str(key))
                if record is None and what == "request":
                    record = self.data.find_request(str(key))
                if record is None:
                    missing.append(key)
                else:
                    found.append(record)
            if missing:
                raise MutationError(f"no such {what}(s): {missing[:5]}")
            return found
        count = int(spec["count"])
        pool = sorted(table)
        if count > len(pool):
            raise MutationError(f"asked for {count} {what}s but only {len(pool)} can be picked")
        return [table[key] for key in rng.sample(pool, count)]

    # -- requests -----------------------------------------------------------------------------

    def _create_request(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        """New requests; ``created_at`` backdates them (they arrive now: ``dateUpdated`` is now)."""
        count = int(spec.get("count", 1))
        stamps = self._stamps(count, at)
        created_at = parse_ms(str(spec["created_at"])) if spec.get("created_at") else None
        refs = []
        for stamp in stamps:
            request = self.data.add_request(rng, created_at if created_at is not None else stamp)
            request["dateUpdated"] = stamp
            refs.append(request["requestQueueRefId"])
        return refs

    def _update_request(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        """``complete: true`` completes each (status, ``dateCompleted``, resolution);
        ``status`` sets another; otherwise a comment is added."""
        complete = bool(spec.get("complete"))
        status = "Completed" if complete else spec.get("status")
        if status is not None and status not in dsar.STATUSES:
            raise MutationError(f"unknown status {status!r}; one of {', '.join(dsar.STATUSES)}")
        table = self.data.requests
        if complete and "count" in spec:  # only open requests can be completed
            table = {k: r for k, r in table.items() if r["status"] in dsar.OPEN_STATUSES}
        picked = self._pick(rng, spec, table, "request")
        for request, stamp in zip(picked, self._stamps(len(picked), at), strict=True):
            if status is None:
                self.data.touch(rng, request, stamp, "Comment", None, f"Note {self.count}")
                continue
            self.data.touch(rng, request, stamp, "Status", request["status"], status)
            if status in dsar.CLOSED_STATUSES:
                dsar.close(request, status, stamp)
            else:
                request.update(status=status, dateCompleted=None, resolution=None)
            request["dateUpdated"] = stamp
        return [r["requestQueueRefId"] for r in picked]

    def _delete_request(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        picked = self._pick(rng, spec, self.data.requests, "request")
        for request in picked:
            ref = request["requestQueueRefId"]
            self.data.deleted[ref] = self.data.requests.pop(ref)
        return [r["requestQueueRefId"] for r in picked]

    # -- the rest -----------------------------------------------------------------------------

    def _update_subtask(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        """Moves each on (Assigned, In Progress, Complete; ``complete: true`` finishes it)."""
        data = self.data
        live = {k: s for k, s in data.subtasks.items() if s["requestQueueRefId"] in data.requests}
        picked = self._pick(rng, spec, live, "subtask")
        for subtask, stamp in zip(picked, self._stamps(len(picked), at), strict=True):
            old = dsar.advance_subtask(subtask, stamp, complete=bool(spec.get("complete")))
            request = data.requests[subtask["requestQueueRefId"]]
            change = f"{subtask['subTaskName']}: {subtask['subTaskStatus']}"
            data.touch(rng, request, stamp, "Subtask", f"{subtask['subTaskName']}: {old}", change)
        return [s["subTaskId"] for s in picked]

    def _create_transaction(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        data = self.data
        subjects = sorted(data.data_subjects)
        points = sorted(data.collection_points)
        kind = spec.get("transactionType")
        ids = []
        for stamp in self._stamps(int(spec.get("count", 1)), at):
            subject = data.data_subjects[rng.choice(subjects)]
            point = data.collection_points[rng.choice(points)]
            transaction = consent.new_transaction(rng, stamp, subject, point, data.purposes, kind)
            data.transactions[transaction["transactionGuid"]] = transaction
            ids.append(transaction["transactionGuid"])
        return ids

    def _update_data_subject(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        picked = self._pick(rng, spec, self.data.data_subjects, "data_subject")
        for subject, stamp in zip(picked, self._stamps(len(picked), at), strict=True):
            subject["lastUpdatedDate"] = stamp
            subject["language"] = rng.choice(("en-us", "de", "fr", "ja"))
        return [s["id"] for s in picked]

    def _update_purpose(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        picked = self._pick(rng, spec, self.data.purposes, "purpose")
        for purpose, stamp in zip(picked, self._stamps(len(picked), at), strict=True):
            purpose.update(version=purpose["version"] + 1, lastModifiedDate=stamp)
            purpose["publishedDate"] = stamp
        return [p["purposeId"] for p in picked]

    def _update_collection_point(self, rng: Rng, spec: dict[str, Any], at: int | None) -> list[str]:
        picked = self._pick(rng, spec, self.data.collection_points, "collection_point")
        for point, stamp in zip(picked, self._stamps(len(picked), at), strict=True):
            point.update(version=point["version"] + 1, lastModifiedDate=stamp)
        return [p["id"] for p in picked]
