"""Progress lines and the run's summary: the lines themselves (a fake clock), what the engine
reports per window, and a real tap run against the Klaviyo sandbox whose counters must match
the sandbox's request log and the tap's own output exactly."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tap_klaviyo.tap import TapKlaviyo
from tapkit.engine import Engine, Plan
from tapkit.incremental import ApiFilter, Op
from tapkit.keys import ISO_INSTANT
from tapkit.progress import Row, RunProgress, bookmark
from tapkit.testing import Run, TapRunner
from tapkit.timeformats import ISO8601_Z
from tapkit.transport import Page, Request
from tapkit.windows import Window, WindowPolicy

JAN = datetime(2024, 1, 1, tzinfo=UTC)
FEB = datetime(2024, 2, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test-progress"]


# -- progress lines ---------------------------------------------------------------------------


def test_a_line_per_interval_names_stream_partition_and_window_with_count_and_rate(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "test-progress")
    progress = RunProgress(30, logging.getLogger("test-progress"), clock=clock)
    run = progress.window_progress("list_members", {"list_id": "Xy12"})
    window = Window(JAN, FEB)
    run.page(window, 100)  # the stream starts: no line yet
    clock.now += 29
    run.page(window, 100)
    assert progress_lines(caplog) == []
    clock.now += 11  # 40 s after the start: 12,000 records since
    run.page(window, 11_800)
    clock.now += 10  # a new window, 10 s after the line: not due
    later = Window(FEB, FEB + timedelta(days=29))
    run.page(later, 500)
    clock.now += 20
    run.page(later, 2_500)
    assert progress_lines(caplog) == [
        "list_members [list_id=Xy12]: window 2024-01-01T00:00:00Z..2024-02-01T00:00:00Z: "
        "12,000 records, 300/s",
        "list_members [list_id=Xy12]: window 2024-02-01T00:00:00Z..2024-03-01T00:00:00Z: "
        "3,000 records, 100/s (15,000 in all so far)",
    ]


def test_windows_without_bounds_and_interval_zero(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "test-progress")
    logger = logging.getLogger("test-progress")
    progress = RunProgress(1, logger, clock=clock)
    tags, lists = progress.window_progress("tags", None), progress.window_progress("lists", {})
    tags.page(Window(None, None), 1)
    lists.page(Window(JAN, None), 1)
    clock.now += 2
    tags.page(Window(None, None), 1_199)
    lists.page(Window(JAN, None), 9)
    silent = RunProgress(0, logger, clock=clock).window_progress("events", None)
    silent.page(Window(JAN, FEB), 10)
    clock.now += 3600
    silent.page(Window(JAN, FEB), 10)
    assert progress_lines(caplog) == [
        "tags: 1,200 records, 600/s",
        "lists: from 2024-01-01T00:00:00Z: 10 records, 5/s",
    ]


# -- what the engine reports ------------------------------------------------------------------


class HourlyApi:
    """A record on every hour from ``JAN``, three to a page; a window's pages start an hour
    early (an API filtering coarser than the key), so the engine drops one record there."""

    def __init__(self, hours: int) -> None:
        self.records = [
            {"id": n, "updated": (JAN + timedelta(hours=n)).isoformat()} for n in range(hours)
        ]

    def fetch(self, request: Request) -> Iterator[Page]:
        low = request.window.start - timedelta(hours=1)
        rows = [
            r
            for r in self.records
            if low <= ISO_INSTANT.from_record(r["updated"]) < request.window.end
        ]
        for index in range(0, len(rows), 3):
            yield Page(rows[index : index + 3], more=index + 3 < len(rows))


class Heard:
    def __init__(self) -> None:
        self.pages: list[tuple[Window, int]] = []

    def page(self, window: Window, records: int) -> None:
        self.pages.append((window, records))


def test_the_engine_reports_each_page_with_its_window_and_the_records_it_kept() -> None:
    api_filter = ApiFilter("updated", Op.GTE, ISO8601_Z, upper_field="updated", upper_op=Op.LT)
    second, end = JAN + timedelta(days=1), JAN + timedelta(days=2)
    plan = Plan(ISO_INSTANT, "updated", api_filter, JAN, end, WindowPolicy(timedelta(days=1)))
    heard = Heard()
    api = HourlyApi(50)
    records = list(Engine(None).run(plan, api.fetch, lambda value: None, progress=heard))
    assert [r["id"] for r in records] == list(range(48))
    assert heard.pages == [
        *[(Window(JAN, second), 3)] * 8,
        (Window(second, end), 2),  # the hour before the window, dropped
        *[(Window(second, end), 3)] * 7,
        (Window(second, end), 1),
    ]


# -- bookmarks and the summary ----------------------------------------------------------------


def test_bookmark_is_the_value_or_the_highest_partition() -> None:
    parse = ISO_INSTANT.from_state
    assert bookmark({"replication_key_value": "2024-03-01T00:00:00+00:00"}, parse, True) == (
        "2024-03-01T00:00:00+00:00"
    )
    partitions = {
        "partitions": [
            {"context": {"c": 1}, "replication_key_value": "2024-03-01T00:00:00+00:00"},
            {"context": {"c": 2}, "replication_key_value": "2024-03-02T00:00:00+00:00"},
            {"context": {"c": 3}},
        ]
    }
    assert bookmark(partitions, parse, True) == (
        "2024-03-02T00:00:00+00:00 (the highest of 2 of 3 partitions)"
    )
    assert bookmark({"partitions": [{"context": {}}] * 4}, parse, True) == "none (4 partitions)"
    assert bookmark(None, parse, True) == "none"
    assert bookmark(None, None, False) == "full table"
    integers = {"partitions": [{"replication_key_value": 9}, {"replication_key_value": 10}]}
    assert bookmark(integers, int, True) == "10 (the highest of 2 partitions)"


def test_summary_is_a_table_per_stream_with_a_total(clock: Clock) -> None:
    progress = RunProgress(30, logging.getLogger("test-progress"), clock=clock)
    events = progress.stream("events")
    for _ in range(3):
        events.request()
    events.throttle()
    events.retry()
    clock.now += 75
    for _ in range(1_500):
        events.record()
    tags = progress.stream("tags")
    tags.request()
    tags.record()
    rows = [
        Row("events", events, "2024-03-01T00:00:00+00:00"),
        Row("tags", tags, "full table"),
        Row("lists", None, "none"),
    ]
    clock.now += 5
    assert progress.summary(rows, failed=False) == [
        "summary of the run: 3 streams in 1 min 20 s",
        "summary  stream  records  requests  retries  429s    duration  bookmark",
        "summary  events    1,500         3        1     1  1 min 15 s  2024-03-01T00:00:00+00:00",
        "summary  tags          1         1        0     0       0.0 s  full table",
        "summary  lists         0         0        0     0           -  none",
        "summary  total     1,501         4        1     1  1 min 20 s",
    ]
    assert progress.summary(rows, failed=True)[0].startswith("summary of the run until it failed")


# -- a real run -------------------------------------------------------------------------------


START = "2024-06-01T00:00:00Z"
STREAMS = ["campaigns", "campaign_messages", "events", "lists", "list_members", "tags"]


@pytest.fixture
def sandbox() -> Iterator[KlaviyoSandbox]:
    # 20 ms a page: the run lasts long enough for one-second progress lines
    with KlaviyoSandbox(seed=3, profiles=300, events=4_000, latency_ms=20) as sandbox:
        yield sandbox


@pytest.fixture
def runner(sandbox: KlaviyoSandbox, tmp_path: Path) -> TapRunner:
    config = {"api_key": "pk_test_0123456789", "api_url": sandbox.api_url, "start_date": START}
    return TapRunner("tap_klaviyo", TapKlaviyo, tmp_path, config)


def summary(run: Run) -> dict[str, list[str]]:
    """The summary's rows by stream: records, requests, retries, 429s, duration, bookmark."""
    rows = {}
    for line in run.stderr.splitlines():
        _, found, row = line.partition("| summary  ")
        if found:
            name, *cells = re.split(r"\s{2,}", row.strip())
            rows[name] = cells
    return rows


def numbers(cells: list[str]) -> list[int]:
    return [int(c.replace(",", "")) for c in cells[:4]]


def test_counters_match_the_sandbox_log_and_the_records_written(
    runner: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    sandbox.control.inject_fault("429", count=2, path="/api/events")
    sandbox.control.inject_fault("500", count=1, path="/api/tags")
    run = runner(streams=STREAMS, progress_interval_seconds=1)
    assert run.returncode == 0, run.stderr[-3000:]
    log = sandbox.control.requests()
    rows = summary(run)
    assert set(rows) == {"stream", "total", *STREAMS}
    written = Counter(m["stream"] for m in run.messages if m["type"] == "RECORD")
    for stream in STREAMS:
        assert numbers(rows[stream])[0] == written[stream], stream

    def sent(prefix: str) -> list[int]:
        """Requests, retries (the 500s) and 429s the sandbox saw under a path."""
        seen = [e for e in log if e["path"].startswith(prefix)]
        return [
            len(seen),
            sum(e["fault"] == "500" for e in seen),
            sum(e["status"] == 429 for e in seen),
        ]

    def counted(*streams: str) -> list[int]:
        return [sum(numbers(rows[s])[i] for s in streams) for i in (1, 2, 3)]

    assert counted("events") == sent("/api/events") == [sent("/api/events")[0], 0, 2]
    assert counted("tags") == sent("/api/tags") == [sent("/api/tags")[0], 1, 0]
    assert counted("campaigns") == sent("/api/campaigns")
    # list_members lists the lists (its partitions), then reads each one's profiles
    assert counted("lists", "list_members") == sent("/api/lists")
    assert numbers(rows["campaign_messages"])[1] == 0  # from the campaigns' include
    assert numbers(rows["total"]) == [sum(written.values()), len(log), 1, 2]
    final = run.state["bookmarks"]
    assert rows["events"][5] == final["events"]["replication_key_value"]
    assert rows["tags"][5] == "full table"
    assert "(the highest of" in rows["campaigns"][5]
    progress = [line for line in run.stderr.splitlines() if "| events: window " in line]
    assert progress, run.stderr[-3000:]
    assert re.search(r"\.\.\S+: [\d,]+ records, [\d,]+/s", progress[0]), progress[0]


def test_a_failed_run_logs_what_it_did_then_the_error(
    runner: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    sandbox.control.inject_fault("500", count=100, path="/api/lists")
    run = runner(streams=["events", "lists", "tags"], max_retries=2)
    assert run.returncode == 1
    lines = run.stderr.splitlines()
    title = next(i for i, line in enumerate(lines) if "summary of the run until it failed" in line)
    error = next(
        i for i, line in enumerate(lines) if "giving up on /lists after 2 attempts" in line
    )
    assert title < error
    rows = summary(run)
    written = Counter(m["stream"] for m in run.messages if m["type"] == "RECORD")
    assert rows["events"][0] == f"{written['events']:,}"
    assert rows["lists"][:4] == ["0", "2", "1", "0"]
    assert rows["tags"][:5] == ["0", "0", "0", "0", "-"]  # never reached
