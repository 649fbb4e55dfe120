"""B8: tap-klaviyo's full sync against an API that takes a real API's time per page, with
Klaviyo's rate limits on: what concurrency buys, against what one request at a time costs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from common import Result, Sandbox, median
from extraction import least_time, span
from tap_runs import run, tap

from tapkit.testing import TapRunner

START_DATE = "2000-01-01T00:00:00Z"  # before any generated history: every window is walked
ONE_AT_A_TIME = {"max_concurrent_requests": 1}


@dataclass(frozen=True)
class Stream:
    name: str
    kind: str  # the sandbox's record type, as its info counts name it
    max_page_size: int
    burst_per_s: int
    steady_per_min: int
    wall_goal: float  # the most of the one-page-at-a-time time the sync may take
    wall_goal_text: str


STREAMS = (
    Stream("profiles", "profile", 100, 75, 750, 1 / 3, "<= 1/3"),
    Stream("events", "event", 1000, 350, 3500, 1 / 4, "<= 1/4"),
)


@dataclass(frozen=True)
class PageTime:
    """The sandbox's modelled page time (``--latency-ms``, ``--latency-per-record-ms``)."""

    base_ms: float
    per_record_ms: float

    def seconds(self, records: int) -> float:
        return (self.base_ms + self.per_record_ms * records) / 1000


@dataclass(frozen=True)
class Sync:
    """One run of the tap for one stream, as the sandbox and the tap's output saw it."""

    wall: float
    span: float  # first to last request
    requests: int
    max_in_flight: int
    throttled: int  # 429 answers
    throttled_after_burst: int  # 429 answers after the first second
    records: int
    ids: frozenset[Any]
    bookmarks: Any


class _Record(msgspec.Struct):
    id: Any = None


class _Message(msgspec.Struct):
    type: str
    stream: str = ""
    record: _Record | None = None
    value: Any = None


def read_output(path: Path, stream: str) -> tuple[int, frozenset[Any], Any]:
    """The RECORD count, the set of record ids and the final STATE's bookmarks in a tap's
    output; only ``id`` of each record is decoded."""
    decoder = msgspec.json.Decoder(_Message)
    records, state = 0, None
    ids: set[Any] = set()
    with path.open("rb") as lines:
        for line in lines:
            message = decoder.decode(line)
            if message.type == "RECORD" and message.stream == stream and message.record:
                records += 1
                ids.add(message.record.id)
            elif message.type == "STATE":
                state = message.value
    bookmarks = state.get("bookmarks") if isinstance(state, dict) else state
    return records, frozenset(ids), bookmarks


def sync(runner: TapRunner, stream: Stream, sandbox: Sandbox, **overrides: Any) -> Sync:
    """A full sync of ``stream`` from empty buckets, a fresh request log and no state. The tap
    runs from this workspace's venv (no ``meltano install`` needed): B8 is about requests in
    flight, not start-up cost."""
    control = sandbox.control
    control.set_rate_limits(enabled=True, scale=1.0)  # setting the scale fills the buckets
    control.clear_requests()  # and restarts max_in_flight
    command = runner.command(runner.config(**overrides), None, [stream.name])
    output = runner.workdir / f"{stream.name}.singer"
    with output.open("wb") as out:
        measured = run(command, sandbox, out)
    answered = sorted(measured.requests, key=lambda r: r["seq"])
    burst_end = answered[0]["received_at"] + 1.0 if answered else 0.0
    records, ids, bookmarks = read_output(output, stream.name)
    output.unlink()
    return Sync(
        wall=measured.wall,
        span=span(answered) if answered else 0.0,
        requests=len(answered),
        max_in_flight=control.max_in_flight(),
        throttled=sum(1 for r in answered if r["status"] == 429),
        throttled_after_burst=sum(
            1 for r in answered if r["status"] == 429 and r["received_at"] > burst_end
        ),
        records=records,
        ids=ids,
        bookmarks=bookmarks,
    )


def concurrency(
    profiles: int, events: int, page_time: PageTime, runs: int, workdir: Path
) -> list[Result]:
    """B8 for profiles and events, each synced alone: ``runs`` times with the tap's default
    concurrency, once with one request at a time (it takes several times longer)."""
    results = []
    with Sandbox(
        profiles=profiles,
        events=events,
        rate_limits=True,
        frozen_clock=True,  # bookmarks that depend on the data alone, so runs compare
        latency_ms=page_time.base_ms,
        latency_per_record_ms=page_time.per_record_ms,
    ) as sandbox:
        # rate_limit_percent None: the tap's own default throttle, as a scheduled run has it
        runner = tap(
            workdir / "tap-concurrency", sandbox, start_date=START_DATE, rate_limit_percent=None
        )
        counts = sandbox.control.info()["counts"]
        for stream in STREAMS:
            default = [sync(runner, stream, sandbox) for _ in range(runs)]
            serial = sync(runner, stream, sandbox, **ONE_AT_A_TIME)
            results += compare(stream, counts[stream.kind], page_time, default, serial)
    return results


def compare(
    stream: Stream, count: int, page_time: PageTime, default: list[Sync], serial: Sync
) -> list[Result]:
    pages = math.ceil(count / stream.max_page_size)
    one_at_a_time = pages * page_time.seconds(stream.max_page_size)  # (a)
    wall = median([s.wall for s in default])
    requests = median([s.requests for s in default])
    limits_allow = least_time(round(requests), stream.burst_per_s, stream.steady_per_min)  # (b)
    in_flight = median([s.max_in_flight for s in default])
    late_429s = max(s.throttled_after_burst for s in default)
    same_ids = all(s.ids == serial.ids for s in default)
    same_state = all(s.bookmarks == serial.bookmarks for s in default)
    case = f"{stream.name} {count:,}"
    per_run = {
        "wall_s": [s.wall for s in default],
        "span_s": [s.span for s in default],
        "requests": [s.requests for s in default],
        "max_in_flight": [s.max_in_flight for s in default],
        "429": [s.throttled for s in default],
        "429_after_burst": [s.throttled_after_burst for s in default],
        "records": [s.records for s in default],
    }
    one_request = {
        "wall_s": serial.wall,
        "span_s": serial.span,
        "requests": serial.requests,
        "max_in_flight": serial.max_in_flight,
        "429": serial.throttled,
        "records": serial.records,
    }
    shared = {
        "pages": pages,
        "page_time_ms": [page_time.base_ms, page_time.per_record_ms],
        "runs": per_run,
        "max_concurrent_requests_1": one_request,
    }
    return [
        Result(
            "B8",
            f"{case}: wall, the tap's default concurrency",
            wall,
            "s",
            one_at_a_time,
            f"fewest pages, {pages:,}, one at a time",
            wall / one_at_a_time,
            f"{stream.wall_goal_text} of that",
            wall <= stream.wall_goal * one_at_a_time,
            shared,
        ),
        Result(
            "B8",
            f"{case}: wall against the rate limits",
            wall,
            "s",
            limits_allow,
            f"least {stream.burst_per_s}/s + {stream.steady_per_min}/min allow for {requests:,.0f} requests",
            wall / limits_allow if limits_allow else None,
            "report",
            None,
            {"limits_allow_s": limits_allow, "span_s": per_run["span_s"]},
        ),
        Result(
            "B8",
            f"{case}: wall against one request at a time",
            wall,
            "s",
            serial.wall,
            "max_concurrent_requests: 1",
            wall / serial.wall,
            "report",
            None,
            one_request,
        ),
        Result(
            "B8",
            f"{case}: API requests",
            requests,
            "requests",
            pages,
            "fewest pages",
            requests / pages,
            "<= 1.10x + 1 probe, no 429 after the first burst",
            requests <= 1.10 * pages + 1 and late_429s == 0,
            {"429": per_run["429"], "429_after_burst": per_run["429_after_burst"]},
        ),
        Result(
            "B8",
            f"{case}: most requests in flight at once",
            in_flight,
            "requests",
            serial.max_in_flight,
            "max_concurrent_requests: 1",
            in_flight / serial.max_in_flight if serial.max_in_flight else None,
            "report",
            None,
            {"runs": per_run["max_in_flight"]},
        ),
        Result(
            "B8",
            f"{case}: records and final state",
            median([s.records for s in default]),
            "records",
            serial.records,
            "max_concurrent_requests: 1",
            median([s.records for s in default]) / serial.records if serial.records else None,
            "identical ids and bookmarks",
            same_ids and same_state and all(s.records == serial.records for s in default),
            {
                "same_ids": same_ids,
                "same_state": same_state,
                "unique_ids": [len(s.ids) for s in default],
                "unique_ids_max_concurrent_requests_1": len(serial.ids),
                "bookmarks": default[-1].bookmarks,
                "bookmarks_max_concurrent_requests_1": serial.bookmarks,
            },
        ),
    ]
