"""A seeded OneTrust tenant generated from ``(seed, requests, now)``: DSAR requests over the
~14 months before ``now`` with subtasks and audit history, and consent transactions over the
last ~45 days across six purposes and four collection points.

Hard cases built in: 45 requests share one ``dateUpdated`` millisecond (a bulk reassignment)
and 30 more were updated on one day; requests updated months after they were created; open
requests past their deadline and requests completed late; extended deadlines; names in several
scripts with emoji; a handful of deleted requests; 60 transactions sharing one
``consentCreationDate`` (a bulk import).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.clock import DataClock, start_of_today
from sandbox.core.rng import Rng, derive
from sandbox.onetrust import consent, dsar
from sandbox.onetrust.dsar import DAY_MS
from sandbox.onetrust.times import dsar_time

KINDS = (
    "request",
    "subtask",
    "request_history",
    "transaction",
    "data_subject",
    "purpose",
    "collection_point",
)
TIE_REQUESTS = 45
SAME_DAY_REQUESTS = 30
BULK_IMPORT_TRANSACTIONS = 60


@dataclass(frozen=True)
class OneTrustConfig:
    seed: int = 1
    requests: int = 500
    #: Where the generated history ends (epoch seconds); default: midnight UTC today.
    now: int = 0
    history_days: int = 425
    transactions: int = 3_000
    consent_days: int = 45

    def __post_init__(self) -> None:
        if self.requests < 1:
            raise ValueError("the tenant needs at least one request (--requests)")
        if not self.now:
            object.__setattr__(self, "now", start_of_today())


@dataclass
class OneTrustData:
    config: OneTrustConfig
    clock: DataClock
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # by requestQueueRefId
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    subtasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # by subTaskId
    history: list[dict[str, Any]] = field(default_factory=list)
    purposes: dict[str, dict[str, Any]] = field(default_factory=dict)
    collection_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_subjects: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.created = 0  # requests made so far: numbers their emails
        self.last_stamp = 0  # the latest millisecond a mutation stamped
        rng = Rng(derive(self.config.seed, "onetrust"))
        _generate_dsar(self, rng)
        _generate_consent(self, Rng(derive(self.config.seed, "onetrust-consent")))

    # -- lookups -----------------------------------------------------------------------------

    def subtasks_of(self, ref: str) -> list[dict[str, Any]]:
        found = [s for s in self.subtasks.values() if s["requestQueueRefId"] == ref]
        return sorted(found, key=lambda s: (s["subTaskCreatedDate"], s["subTaskId"]))

    def history_of(self, ref: str) -> list[dict[str, Any]]:
        found = [h for h in self.history if h["requestQueueRefId"] == ref]
        return sorted(found, key=lambda h: h["changeDateTime"])

    def find_request(self, key: str) -> dict[str, Any] | None:
        """A live request by ``requestQueueRefId`` or ``requestQueueId``."""
        found = self.requests.get(key)
        if found is None:
            found = next((r for r in self.requests.values() if r["requestQueueId"] == key), None)
        return found

    # -- building blocks shared with the mutations -------------------------------------------

    def add_request(self, rng: Rng, created: int) -> dict[str, Any]:
        """A request created at ``created`` with 0-4 subtasks and its creation in the history."""
        self.created += 1
        request = dsar.new_request(rng, self.created, created)
        while request["requestQueueRefId"] in self.requests:
            request["requestQueueRefId"] = dsar.ref_id(rng)
        self.requests[request["requestQueueRefId"]] = request
        self.history.append(dsar.history_entry(rng, request, created, "Status", None, "New"))
        # The workflow assigns the approver on submission.
        approver = request["approver"]
        self.history.append(dsar.history_entry(rng, request, created, "Approver", None, approver))
        for index in range(rng.below(5)):  # the workflow adds them on submission
            subtask = dsar.new_subtask(rng, request, index, created)
            self.subtasks[subtask["subTaskId"]] = subtask
        return request

    def touch(self, rng: Rng, request: dict[str, Any], moment: int, field: str, old: Any, new: Any):
        """A change to a request at ``moment``: an audit entry, and ``dateUpdated`` moves."""
        self.history.append(dsar.history_entry(rng, request, moment, field, old, new))
        request["dateUpdated"] = moment


def _generate_dsar(data: OneTrustData, rng: Rng) -> None:
    config = data.config
    end = config.now * 1000
    start = end - config.history_days * DAY_MS
    created_times = sorted(start + rng.below(end - start - DAY_MS) for _ in range(config.requests))
    for created in created_times:
        request = data.add_request(rng, created)
        _live(data, rng, request, end)
    entries = Counter(h["requestQueueRefId"] for h in data.history)
    # Requests with room for one more audit entry (the seed keeps 2-6 per request).
    alive = [
        r
        for r in sorted(data.requests.values(), key=lambda r: r["dateCreated"])
        if entries[r["requestQueueRefId"]] < 6
    ]
    tie_at = end - 20 * DAY_MS + 417  # a bulk reassignment: one millisecond for all of them
    older = [r for r in alive if r["dateUpdated"] < tie_at]
    tied = rng.sample(older, min(TIE_REQUESTS, len(older) // 2))
    for request in tied:
        data.touch(rng, request, tie_at, "Approver", request["approver"], "Ada Okoye")
        request["approver"] = "Ada Okoye"
    day = end - 3 * DAY_MS
    rest = [r for r in alive if r["dateUpdated"] < day and r not in tied]
    for request in rng.sample(rest, min(SAME_DAY_REQUESTS, len(rest) // 3)):
        data.touch(rng, request, day + rng.below(DAY_MS), "Comment", None, "Reminder sent")
    tied_refs = {r["requestQueueRefId"] for r in tied}
    candidates = [r for r in data.requests.values() if r["requestQueueRefId"] not in tied_refs]
    doomed = max(1, len(candidates) // 100) if len(candidates) > 3 else 0
    for request in rng.sample(candidates, doomed):
        data.deleted[request["requestQueueRefId"]] = data.requests.pop(request["requestQueueRefId"])


def _live(data: OneTrustData, rng: Rng, request: dict[str, Any], end: int) -> None:
    """What happened to a request between its creation and ``end``: progress, extensions,
    completion (sometimes after the deadline), and for some a late edit months on."""
    created = request["dateCreated"]
    age = end - created
    if age < 3 * DAY_MS or (age < 10 * DAY_MS and rng.chance(0.5)):
        return
    started = created + rng.between(3_600_000, min(age, 10 * DAY_MS) - 1)
    data.touch(rng, request, started, "Status", "New", "In Progress")
    request["status"] = "In Progress"
    for subtask in data.subtasks_of(request["requestQueueRefId"]):
        if rng.chance(0.6):
            dsar.advance_subtask(subtask, started)
    if rng.chance(0.08):
        moment = started + rng.below(max(1, min(end - started, 20 * DAY_MS)))
        old_deadline = request["deadline"]
        dsar.extend(request)
        data.touch(
            rng,
            request,
            moment,
            "Deadline",
            dsar_time(old_deadline),
            dsar_time(request["deadline"]),
        )
    closing = rng.chance(0.9 if age > 60 * DAY_MS else 0.45)
    if not closing:
        return
    # Mostly well within the deadline; one in eight late.
    days = rng.between(40, 75) if rng.chance(0.125) else rng.between(2, 28)
    finished = max(started + 60_000, created + days * DAY_MS + rng.below(DAY_MS))
    if finished >= end:  # not done yet: still open, perhaps past its deadline
        return
    status = "Rejected" if rng.chance(0.1) else "Completed"
    if status == "Completed":
        for subtask in data.subtasks_of(request["requestQueueRefId"]):
            dsar.advance_subtask(subtask, finished - 1_000, complete=True)
    data.touch(rng, request, finished, "Status", "In Progress", status)
    dsar.close(request, status, finished)
    if rng.chance(0.1) and end - finished > 2 * DAY_MS:  # a late edit, months later for some
        moment = finished + rng.below(end - finished - DAY_MS)
        data.touch(rng, request, moment, "Comment", None, "Retention review")


def _generate_consent(data: OneTrustData, rng: Rng) -> None:
    config = data.config
    end = config.now * 1000
    launched = end - 400 * DAY_MS
    for index in range(len(consent.PURPOSES)):
        purpose = consent.new_purpose(rng, index, launched + index * 7 * DAY_MS)
        data.purposes[purpose["purposeId"]] = purpose
    purposes = list(data.purposes.values())
    for index in range(len(consent.COLLECTION_POINTS)):
        point = consent.new_collection_point(rng, index, launched + index * DAY_MS, purposes)
        data.collection_points[point["id"]] = point
    window = config.consent_days * DAY_MS
    for number in range(max(1, config.transactions // 4)):
        subject = consent.new_data_subject(rng, number, end - rng.below(window + 200 * DAY_MS))
        data.data_subjects[subject["id"]] = subject
    subjects = list(data.data_subjects.values())
    points = list(data.collection_points.values())
    moments = [end - 1 - rng.below(window) for _ in range(config.transactions)]
    bulk_at = end - 12 * DAY_MS + 250
    moments[: min(BULK_IMPORT_TRANSACTIONS, len(moments) // 4)] = [bulk_at] * min(
        BULK_IMPORT_TRANSACTIONS, len(moments) // 4
    )
    for moment in sorted(moments):
        subject = rng.choice(subjects)
        transaction = consent.new_transaction(
            rng, moment, subject, rng.choice(points), data.purposes
        )
        data.transactions[transaction["transactionGuid"]] = transaction
