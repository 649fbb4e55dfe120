"""The sync engine against a fake transport: an in-memory API that honours the rendered
bounds exactly as a real one would, pages, clocks, delays and failures on request.

What every run must satisfy (``check_run``): each record of the run's range emitted exactly
once, in the window it belongs to, in window order; the watermark strictly increasing and
never ahead of the records emitted; the final state ``min(newest, end)``.  A kill after any
message, resumed from the state saved so far, loses nothing and re-reads only what the
filter's rewind and lookback promise.
"""

from __future__ import annotations

import itertools
import operator
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tapkit.engine import Engine, Page, Plan, Record, Request
from tapkit.incremental import ApiFilter, Op
from tapkit.keys import DateKey, Instant, Integer, KeyValue
from tapkit.pool import WorkerPool
from tapkit.scheduler import PAGES_AHEAD, Scheduler, Span
from tapkit.timeformats import (
    DATE,
    EPOCH_MILLIS,
    EPOCH_SECONDS,
    INTEGER,
    ISO8601_MILLIS_Z,
    ISO8601_Z,
    KLAVIYO,
    YYYYMMDD,
    DateFormat,
    FilterFormat,
    IntegerFormat,
    TimestampFormat,
)
from tapkit.windows import ONE_RANGE, Months, Window, WindowPolicy, WindowTooLongError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COMPARE = {Op.GT: operator.gt, Op.GTE: operator.ge, Op.LT: operator.lt, Op.LTE: operator.le}


# -- the fake transport ------------------------------------------------------------------------


def parse_bound(fmt: FilterFormat, value: str | int) -> KeyValue:
    """A rendered bound read back the way the API reads it."""
    if isinstance(fmt, TimestampFormat):
        return fmt.parse(value)
    if isinstance(fmt, IntegerFormat):
        return int(value)
    if isinstance(fmt, DateFormat):
        return datetime.strptime(str(value), fmt.pattern).date()
    raise TypeError(fmt)


class InjectedError(RuntimeError):
    """The fake API's failure."""


@dataclass
class Call:
    """One page request: which window (index into ``FakeApi.requests``), which page."""

    request: int
    page: int
    started: float
    ended: float = 0.0


@dataclass
class FakeApi:
    """An API over ``records``: filters on ``filter_field`` (default: the plan's key) by the
    request's bounds, sorts by (key, id) if the plan is sorted (else a fixed scramble), and
    answers in pages of ``page_size``.  Every page request is recorded in ``calls``, every
    window's request in ``requests``; records come back as copies tagged ``_request``."""

    plan: Plan
    records: list[Record]
    page_size: int = 3
    filter_field: str | None = None
    #: The server's clock (its ``Date``), fixed or per request.
    server_time: datetime | Callable[[Request], datetime] | None = None
    #: Seconds to wait before answering a page (request, page number).
    delay: Callable[[Request, int], float] | None = None
    #: Raise on the k-th page request (1-based, in the order they were made).
    fail_on: int | None = None
    #: Raise on a page request for which this holds (request, page number).
    fail_if: Callable[[Request, int], bool] | None = None
    requests: list[Request] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    returned: list[Record] = field(default_factory=list)
    max_active: int = 0
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        name = self.filter_field or self.plan.key_field
        kind = self.plan.key
        self._rows = [(kind.from_record(r[name]), r["id"], r) for r in self.records]
        if self.plan.sorted:
            self._rows.sort(key=lambda row: (row[0], row[1]))
        else:
            random.Random(len(self._rows)).shuffle(self._rows)

    def select(self, request: Request) -> list[Record]:
        api_filter = self.plan.api_filter
        tests = []
        for bound in request.bounds:
            assert api_filter is not None
            assert bound.field in (api_filter.field, api_filter.upper_field)
            tests.append((COMPARE[bound.op], parse_bound(api_filter.format, bound.value)))
        return [r for key, _, r in self._rows if all(test(key, edge) for test, edge in tests)]

    def fetch(self, request: Request) -> Iterator[Page]:
        with self._lock:
            index = len(self.requests)
            self.requests.append(request)
        rows = self.select(request)
        size = self.page_size
        pages = max(1, -(-len(rows) // size))
        for number in range(1 if request.first_page_only else pages):
            call = self._begin(index, request, number)
            try:
                if self.delay is not None:
                    time.sleep(self.delay(request, number))
                chunk = [
                    {**r, "_request": index} for r in rows[number * size : (number + 1) * size]
                ]
                server_time = self.server_time
                if callable(server_time):
                    server_time = server_time(request)
            finally:
                with self._lock:
                    self._active -= 1
                    call.ended = time.monotonic()
            with self._lock:
                self.returned.extend(chunk)
            yield Page(chunk, server_time, more=number + 1 < pages)

    def _begin(self, index: int, request: Request, number: int) -> Call:
        with self._lock:
            call = Call(index, number, time.monotonic())
            self.calls.append(call)
            self._active += 1
            self.max_active = max(self.max_active, self._active)
            failing = self.fail_on == len(self.calls) or (
                self.fail_if is not None and self.fail_if(request, number)
            )
        if failing:
            with self._lock:
                self._active -= 1
            raise InjectedError(f"request {len(self.calls)} failed")
        return call


# -- running and checking ----------------------------------------------------------------------

Message = tuple[str, Any]  # ("record", record) or ("state", value)


@dataclass
class Run:
    plan: Plan
    api: FakeApi
    messages: list[Message]

    @property
    def records(self) -> list[Record]:
        return [m[1] for m in self.messages if m[0] == "record"]

    @property
    def ids(self) -> list[Any]:
        return [r["id"] for r in self.records]

    @property
    def states(self) -> list[KeyValue]:
        return [m[1] for m in self.messages if m[0] == "state"]

    @property
    def final(self) -> KeyValue | None:
        return self.states[-1] if self.states else None


def running(
    engine: Engine,
    plan: Plan,
    api: FakeApi,
    advance: Callable[[KeyValue], None],
    inline: bool = False,
) -> Generator[Record, None, None]:
    """The engine's run, as the generator it is (to close it)."""
    return cast(
        "Generator[Record, None, None]", engine.run(plan, api.fetch, advance, inline=inline)
    )


def sync(
    plan: Plan,
    api: FakeApi,
    engine: Engine | None = None,
    *,
    inline: bool = False,
    kill_after: int | None = None,
) -> Run:
    """Run ``plan`` to the end, or until ``kill_after`` messages (records and states) were
    written: the generator is then closed, as a killed tap stops consuming."""
    messages: list[Message] = []
    records = running(
        engine or Engine(None), plan, api, lambda value: messages.append(("state", value)), inline
    )
    try:
        while kill_after is None or len(messages) < kill_after:
            record = next(records, None)
            if record is None:
                break
            messages.append(("record", record))
    finally:
        records.close()
    if kill_after is not None:
        del messages[kill_after:]  # a state written while fetching the next record: lost
    return Run(plan, api, messages)


def key_of(plan: Plan, record: Record, name: str | None = None) -> KeyValue:
    return plan.key.from_record(record[name or plan.key_field])


def in_run(plan: Plan, key: KeyValue) -> bool:
    low = plan.keep_from
    return (low is None or key >= low) and (plan.end is None or key < plan.end)


def expected_ids(plan: Plan, source: list[Record]) -> set[Any]:
    return {r["id"] for r in source if in_run(plan, key_of(plan, r))}


def check_run(run: Run, source: list[Record]) -> None:
    """The rules every complete run keeps (see the module's docstring)."""
    plan = run.plan
    ids = run.ids
    assert len(ids) == len(set(ids)), "a record emitted twice"
    assert set(ids) == expected_ids(plan, source)
    check_prefix(run, source)
    # each record in the window it belongs to, windows in order (after the probe's, which
    # may end before the start when its page held only records of the lookback)
    previous_start = None
    for record in run.records:
        request = run.api.requests[record["_request"]]
        window = request.window
        key = key_of(plan, record)
        low = plan.keep_from if window.start == plan.start else window.start
        assert low is None or key >= low
        assert window.end is None or key < window.end
        if request.first_page_only:
            continue
        if previous_start is not None and window.start is not None:
            assert window.start >= previous_start, "windows emitted out of order"
        previous_start = window.start
    if ids:  # at least the newest (capped at the end); a window's end if that came later
        newest = max(key_of(plan, r) for r in run.records)
        final = run.final if run.final is not None else plan.start  # only ties at the start
        assert final >= (min(newest, plan.end) if plan.end is not None else newest)


def check_prefix(run: Run, source: list[Record]) -> None:
    """States strictly increasing, after the run's start, and never ahead of the records:
    at each ``advance(v)`` every record of the run with key below ``v`` was emitted."""
    plan = run.plan
    by_key = sorted((key_of(plan, r), r["id"]) for r in source if in_run(plan, key_of(plan, r)))
    emitted: set[Any] = set()
    last = None
    for kind, value in run.messages:
        if kind == "record":
            emitted.add(value["id"])
            continue
        assert last is None or value > last, "the watermark moved backwards or stood still"
        assert plan.start is None or value > plan.start
        assert plan.end is None or value <= plan.end
        missing = [i for k, i in by_key if k < value and i not in emitted]
        assert not missing, f"state {value} written before records {missing}"
        last = value


def kill_everywhere(plan: Plan, source: list[Record], make_api: Callable[[Plan], FakeApi]) -> int:
    """Kill after every message of a full run, resume from the saved state, and check that
    nothing is lost and only the rewind and lookback are read again.  Returns the number of
    positions tried."""
    full = sync(plan, make_api(plan), inline=True)
    check_run(full, source)
    api_filter = plan.api_filter
    assert api_filter is not None
    for k in range(len(full.messages) + 1):
        killed = sync(plan, make_api(plan), kill_after=k)
        assert killed.messages == full.messages[:k]  # the same run, cut short
        saved = killed.final if killed.final is not None else plan.start
        resumed_plan = replace(plan, start=saved)
        resumed_api = make_api(resumed_plan)
        resumed = sync(resumed_plan, resumed_api)
        check_run(resumed, source)
        before = set(killed.ids)
        assert before | set(resumed.ids) == expected_ids(plan, source), f"lost at {k}"
        floor = resumed_plan.keep_from
        assert all(key_of(plan, r) >= floor for r in resumed.records), "re-read before state"
        if saved is not None:
            fetched_from = api_filter.effective_start(saved)
            assert all(key_of(plan, r) >= fetched_from for r in resumed_api.returned)
    return len(full.messages) + 1


# -- data --------------------------------------------------------------------------------------


def render(moment: datetime, fmt: TimestampFormat | None) -> str | int:
    """``moment`` as a record with key format ``fmt`` writes it (None: ISO 8601)."""
    if fmt is None:
        return moment.isoformat().replace("+00:00", "Z")
    if fmt is EPOCH_SECONDS:
        return (moment - EPOCH) // timedelta(seconds=1)
    if fmt is EPOCH_MILLIS:
        return (moment - EPOCH) // timedelta(milliseconds=1)
    return fmt.render(moment)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


START = at(2024, 1, 20, 5, 17, 42, 250000)
END = at(2024, 4, 3, 9, 0, 0)


def moments(start: datetime, end: datetime, count: int, seed: int = 7) -> list[datetime]:
    """``count`` moments around ``[start, end)``, and the ones that catch mistakes: at the
    start, at month and day boundaries (Feb 29 included), ties, just before and at the end."""
    rng = random.Random(seed)
    span = (end - start) / timedelta(microseconds=1)
    found = [start + timedelta(microseconds=rng.randrange(int(span))) for _ in range(count)]
    tie = start + (end - start) / 3
    found += [tie] * 7
    found += [start, start - timedelta(microseconds=1), start - timedelta(hours=3)]
    found += [at(2024, 2, 1), at(2024, 2, 29, 23, 59, 59), at(2024, 3, 1), at(2024, 3, 1)]
    found += [at(2024, 2, 1) - timedelta(microseconds=1), at(2024, 3, 10)]
    found += [end - timedelta(seconds=1), end, end + timedelta(days=2)]
    return found


def instant_source(record_format: TimestampFormat | None, count: int = 50) -> list[Record]:
    return [
        {"id": n, "updated": render(m, record_format)}
        for n, m in enumerate(moments(START, END, count))
    ]


def instant_plan(
    record_format: TimestampFormat | None,
    filter_format: TimestampFormat = ISO8601_Z,
    op: Op = Op.GTE,
    policy: WindowPolicy = ONE_RANGE,
    *,
    sorted: bool = False,
    slices: int = 0,
    start: datetime | None = START,
    end: datetime | None = END,
    lookback: timedelta = timedelta(0),
    upper: bool = True,
) -> Plan:
    api_filter = ApiFilter(
        "updated",
        op,
        filter_format,
        upper_field="updated" if upper else None,
        lookback=lookback,
    )
    return Plan(
        Instant(record_format),
        "updated",
        api_filter,
        start,
        end,
        policy,
        sorted,
        slices,
        ("id",),
    )


# -- every key kind under every window policy --------------------------------------------------

RECORD_FORMATS = [
    pytest.param(None, ISO8601_Z, id="iso"),
    pytest.param(EPOCH_SECONDS, EPOCH_SECONDS, id="epoch-seconds"),
    pytest.param(EPOCH_MILLIS, EPOCH_MILLIS, id="epoch-millis"),
    pytest.param(ISO8601_MILLIS_Z, ISO8601_MILLIS_Z, id="millis-z"),
    pytest.param(KLAVIYO, KLAVIYO, id="klaviyo"),
    pytest.param(KLAVIYO, ISO8601_Z, id="klaviyo-filtered-by-seconds"),
    pytest.param(None, YYYYMMDD, id="iso-filtered-by-day"),
]

INSTANT_POLICIES = [
    pytest.param(ONE_RANGE, 0, id="one-range"),
    pytest.param(ONE_RANGE, 4, id="slices"),
    pytest.param(WindowPolicy(timedelta(days=9)), 0, id="9-days"),
    pytest.param(WindowPolicy(timedelta(hours=30)), 3, id="30-hours"),
    pytest.param(WindowPolicy(Months()), 0, id="months"),
    pytest.param(WindowPolicy(Months(2)), 0, id="2-months"),
    pytest.param(WindowPolicy(Months(), timedelta(hours=24)), 0, id="months-max-24h"),
    pytest.param(WindowPolicy(Months(), timedelta(days=7)), 0, id="months-max-7d"),
]


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
@pytest.mark.parametrize(("policy", "slices"), INSTANT_POLICIES)
@pytest.mark.parametrize(("record_format", "filter_format"), RECORD_FORMATS)
def test_instant_keys_full_sync(
    record_format: TimestampFormat | None,
    filter_format: TimestampFormat,
    policy: WindowPolicy,
    slices: int,
    op: Op,
    sorted_: bool,
) -> None:
    source = instant_source(record_format)
    plan = instant_plan(record_format, filter_format, op, policy, sorted=sorted_, slices=slices)
    run = sync(plan, FakeApi(plan, source, page_size=4))
    check_run(run, source)
    assert run.final == max(key_of(plan, r) for r in run.records)  # the newest, before END
    assert len(run.ids) > 40


def date_source() -> list[Record]:
    days = [date(2023, 12, 20) + timedelta(days=n) for n in range(0, 110, 3)]
    days += [date(2024, 1, 3)] * 4 + [date(2024, 2, 1)] * 5 + [date(2024, 2, 29), date(2024, 3, 1)]
    days += [date(2024, 4, 1), date(2024, 4, 2), date(2024, 4, 2)]
    source: list[Record] = [{"id": n, "day": d.isoformat()} for n, d in enumerate(days)]
    source.append({"id": len(source), "day": "2024-02-15T23:30:00Z"})  # a date-time: its date
    return source


def integer_source() -> list[Record]:
    values = [*range(1, 200, 3), *([37] * 4), *([70] * 6), 179, 180, 181]
    return [{"id": f"r{n}", "seq": v} for n, v in enumerate(values)]


@dataclass(frozen=True)
class Discrete:
    """A key kind with whole steps (dates, integers): its field, filter format, source and
    the run's range, and the newest key the source has in that range."""

    key: Any
    field: str
    format: FilterFormat
    source: Callable[[], list[Record]]
    start: KeyValue
    end: KeyValue
    newest: KeyValue

    def plan(
        self, op: Op, policy: WindowPolicy, *, sorted: bool, slices: int = 0, **changes: Any
    ) -> Plan:
        api_filter = ApiFilter(self.field, op, self.format, upper_field=self.field)
        plan = Plan(
            self.key, self.field, api_filter, self.start, self.end, policy, sorted, slices, ("id",)
        )
        return replace(plan, **changes)


DATES = Discrete(
    DateKey(), "day", DATE, date_source, date(2024, 1, 3), date(2024, 4, 2), date(2024, 4, 1)
)
INTEGERS = Discrete(Integer(), "seq", INTEGER, integer_source, 37, 180, 179)
date_plan = DATES.plan
integer_plan = INTEGERS.plan

DISCRETE_POLICIES = [
    pytest.param(DATES, ONE_RANGE, 0, id="date-one-range"),
    pytest.param(DATES, ONE_RANGE, 5, id="date-slices"),
    pytest.param(DATES, WindowPolicy(timedelta(days=7)), 0, id="date-7-days"),
    pytest.param(DATES, WindowPolicy(Months()), 0, id="date-months"),
    pytest.param(DATES, WindowPolicy(Months(), timedelta(days=7)), 0, id="date-months-max-7d"),
    pytest.param(DATES, WindowPolicy(Months(), timedelta(hours=24)), 0, id="date-months-max-24h"),
    pytest.param(INTEGERS, ONE_RANGE, 0, id="integer-one-range"),
    pytest.param(INTEGERS, ONE_RANGE, 4, id="integer-slices"),
    pytest.param(INTEGERS, WindowPolicy(10), 0, id="integer-10-ids"),
    pytest.param(INTEGERS, WindowPolicy(25, 7), 0, id="integer-25-ids-max-7"),
]


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
@pytest.mark.parametrize(("kind", "policy", "slices"), DISCRETE_POLICIES)
def test_date_and_integer_keys_full_sync(
    kind: Discrete, policy: WindowPolicy, slices: int, op: Op, sorted_: bool
) -> None:
    source = kind.source()
    plan = kind.plan(op, policy, sorted=sorted_, slices=slices)
    run = sync(plan, FakeApi(plan, source, page_size=3))
    check_run(run, source)
    assert run.final == kind.newest
    assert kind.end not in {key_of(plan, r) for r in run.records}  # the end: exclusive


@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
def test_integer_keys_without_an_end_read_everything_after_the_start(op: Op) -> None:
    source = integer_source()
    plan = integer_plan(op, WindowPolicy(10), sorted=True, end=None)
    api = FakeApi(plan, source, page_size=4)
    run = sync(plan, api)
    check_run(run, source)
    assert run.final == 199
    assert [r.window for r in api.requests] == [Window(37, None)]  # one window: no end to cut


@pytest.mark.parametrize("in_flight", [1, 3])
@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
def test_integer_keys_without_an_end_on_a_pool(sorted_: bool, in_flight: int) -> None:
    """Spans without an end are never split (a sorted one failed on its first page: the
    scheduler compared its last key with an end of None)."""
    source = integer_source()
    plan = integer_plan(Op.GT, ONE_RANGE, sorted=sorted_, end=None)
    pool = WorkerPool(in_flight)
    try:
        api = FakeApi(plan, source, page_size=4, delay=lambda r, p: 0.001)
        run = sync(plan, api, Engine(pool, in_flight))
    finally:
        pool.shutdown(5)
    check_run(run, source)
    assert run.final == 199
    assert len(api.requests) == 1


@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
def test_integer_slices_stay_inside_a_range_shorter_than_the_slices(op: Op) -> None:
    """The probe leaves 4 ids for 8 slices: slices are 1 id wide, and none passes the end
    (they did: ids at and after the end were emitted, the state moved past the end)."""
    source = [{"id": n, "seq": v} for n, v in enumerate(range(30, 60))]
    plan = integer_plan(op, ONE_RANGE, sorted=True, slices=8, start=35, end=42)
    api = FakeApi(plan, source, page_size=3)
    run = sync(plan, api)
    check_run(run, source)
    assert sorted(key_of(plan, r) for r in run.records) == list(range(35, 42))
    assert all(r.window.end <= 42 for r in api.requests)
    assert run.final == 41


# -- window policies ---------------------------------------------------------------------------


def covers(windows: list[Window], start: Any, end: Any) -> bool:
    edges = [w.start for w in windows] + [windows[-1].end]
    return (
        edges[0] == start
        and edges[-1] == end
        and all(w.start < w.end for w in windows)
        and all(a.end == b.start for a, b in itertools.pairwise(windows))
    )


@pytest.mark.parametrize(
    ("start", "end", "edges"),
    [
        (  # a month boundary and a leap February
            at(2024, 1, 15, 6),
            at(2024, 3, 10),
            [at(2024, 1, 15, 6), at(2024, 2, 1), at(2024, 3, 1), at(2024, 3, 10)],
        ),
        (  # an ordinary February, across a year
            at(2022, 12, 31, 23, 59, 59),
            at(2023, 3, 1, 0, 0, 1),
            [
                at(2022, 12, 31, 23, 59, 59),
                at(2023, 1, 1),
                at(2023, 2, 1),
                at(2023, 3, 1),
                at(2023, 3, 1, 0, 0, 1),
            ],
        ),
        (  # dates
            date(2023, 2, 10),
            date(2023, 3, 2),
            [date(2023, 2, 10), date(2023, 3, 1), date(2023, 3, 2)],
        ),
        (at(2024, 5, 1), at(2024, 5, 20), [at(2024, 5, 1), at(2024, 5, 20)]),  # inside a month
    ],
)
def test_calendar_months(start: Any, end: Any, edges: list[Any]) -> None:
    windows = WindowPolicy(Months()).cut(start, end)
    assert windows == [Window(a, b) for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize(
    ("maximum", "pieces"),
    [(timedelta(hours=24), 28 + 31 + 4), (timedelta(days=7), 4 + 5 + 1)],
)
def test_api_maximum_splits_months(maximum: timedelta, pieces: int) -> None:
    start, end = at(2023, 2, 1), at(2023, 4, 5)
    windows = WindowPolicy(Months(), maximum).cut(start, end)
    assert covers(windows, start, end)
    assert all(w.end - w.start <= maximum for w in windows)
    assert len(windows) == pieces
    assert {at(2023, 3, 1)} <= {w.start for w in windows}  # months still cut at their edges


def test_fixed_length_windows_and_slices() -> None:
    start, end = at(2024, 1, 1, 12), at(2024, 1, 8)
    windows = WindowPolicy(timedelta(days=2)).cut(start, end)
    assert covers(windows, start, end)
    assert [w.end - w.start for w in windows] == [timedelta(days=2)] * 3 + [timedelta(hours=12)]
    assert WindowPolicy(5).cut(3, 20) == [
        Window(3, 8),
        Window(8, 13),
        Window(13, 18),
        Window(18, 20),
    ]
    for policy in (ONE_RANGE, WindowPolicy(api_maximum=timedelta(days=1))):
        sliced = policy.slices(start, end, 4)
        assert covers(sliced, start, end)
        assert all(w.end - w.start <= timedelta(days=1) for w in sliced) or policy is ONE_RANGE
    assert covers(ONE_RANGE.slices(10, 21, 4), 10, 21)
    assert covers(ONE_RANGE.slices(10, 12, 5), 10, 12)  # fewer ids than slices
    assert covers(
        ONE_RANGE.slices(date(2024, 1, 1), date(2024, 1, 3), 5), date(2024, 1, 1), date(2024, 1, 3)
    )


@pytest.mark.parametrize(
    ("start", "end"), [(START, START), (START, START - timedelta(days=1)), (5, 5), (None, END)]
)
def test_an_empty_or_open_range_is_one_window(start: Any, end: Any) -> None:
    assert len(WindowPolicy(timedelta(days=1)).cut(start, end)) == 1


def test_with_length_refuses_more_than_the_api_maximum_naming_the_setting() -> None:
    policy = WindowPolicy(Months(), api_maximum=timedelta(days=7))
    with pytest.raises(WindowTooLongError, match=r"backfill_window_days: 8 days .* \(7 days\)"):
        policy.with_length(timedelta(days=8))
    with pytest.raises(WindowTooLongError, match="window_hours"):
        WindowPolicy(api_maximum=timedelta(hours=24)).with_length(
            timedelta(hours=25), "window_hours"
        )
    with pytest.raises(WindowTooLongError, match="longer than zero"):
        policy.with_length(timedelta(0))
    assert policy.with_length(timedelta(days=7)).every == timedelta(days=7)
    assert policy.with_length(None) is policy


# -- the client-side filter at both bounds -----------------------------------------------------


@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
@pytest.mark.parametrize("upper", [True, False], ids=["bounded", "lower-only"])
def test_a_day_precision_filter_on_an_instant_key(op: Op, upper: bool) -> None:
    """Windows start and end mid-day; the API answers whole days; each record is emitted once,
    by the window it belongs to (``check_run``), and none before the start or at the end."""
    start, end = at(2024, 3, 10, 12, 30), at(2024, 3, 13, 7, 15)
    every = [start - timedelta(hours=30) + timedelta(minutes=37 * n) for n in range(200)]
    source = [{"id": n, "updated": render(m, None)} for n, m in enumerate(every)]
    source += [{"id": "at-start", "updated": render(start, None)}]
    source += [{"id": "at-end", "updated": render(end, None)}]
    plan = instant_plan(
        None, YYYYMMDD, op, WindowPolicy(timedelta(hours=6)), start=start, end=end, upper=upper
    )
    api = FakeApi(plan, source, page_size=7)
    run = sync(plan, api)
    check_run(run, source)
    assert "at-start" in run.ids
    assert "at-end" not in run.ids
    assert len(api.returned) > len(run.ids)  # the API did over-read whole days
    if upper:
        assert len(api.requests) == 12  # 3 days less 5 h 15 min, in 6 h windows
    else:
        assert len(api.requests) == 1  # no upper bound: one request, the end applied here


def test_lookback_reads_late_records_and_nothing_before_it() -> None:
    bookmark = at(2024, 3, 10, 12)
    source: list[Record] = [
        {"id": "too-old", "updated": render(bookmark - timedelta(hours=2), None)},
        {"id": "edge", "updated": render(bookmark - timedelta(hours=1), None)},
        {"id": "late", "updated": render(bookmark - timedelta(minutes=30), None)},
        {"id": "tied", "updated": render(bookmark, None)},
        {"id": "new", "updated": render(bookmark + timedelta(hours=5), None)},
    ]
    for op in (Op.GT, Op.GTE):
        for lookback, expected in (
            (timedelta(hours=1), {"edge", "late", "tied", "new"}),
            (timedelta(0), {"tied", "new"}),
        ):
            for policy in (ONE_RANGE, WindowPolicy(timedelta(hours=2))):
                plan = instant_plan(
                    None,
                    ISO8601_Z,
                    op,
                    policy,
                    start=bookmark,
                    end=at(2024, 3, 11),
                    lookback=lookback,
                )
                run = sync(plan, FakeApi(plan, source))
                check_run(run, source)
                assert set(run.ids) == expected


def test_records_before_the_start_are_dropped_even_when_the_api_sends_them() -> None:
    """A day-precision lower bound, or none: the API sends what came before; not emitted."""
    start = at(2024, 3, 10, 18)
    source = [
        {"id": n, "updated": render(at(2024, 3, 10) + timedelta(hours=n), None)} for n in range(30)
    ]
    for op in (Op.GT, Op.GTE):
        plan = instant_plan(
            None,
            YYYYMMDD,
            op,
            WindowPolicy(timedelta(hours=5)),
            start=start,
            end=at(2024, 3, 11, 5),
        )
        run = sync(plan, FakeApi(plan, source))
        check_run(run, source)
        assert sorted(run.ids) == list(range(18, 29))


@pytest.mark.parametrize("pooled", [True, False])
def test_a_filter_on_another_field_limits_windows_and_keeps_every_record(pooled: bool) -> None:
    """Shopify's first load: windows by ``created_at``, state by ``updated_at`` (never
    before it).  Nothing is filtered client-side; the state is still never ahead."""
    rng = random.Random(5)
    start, end = at(2024, 1, 1), at(2024, 3, 1)
    source: list[Record] = []
    for n in range(80):
        created = at(2023, 12, 20) + timedelta(hours=rng.randrange(70 * 24))
        updated = min(created + timedelta(hours=rng.randrange(20 * 24)), end - timedelta(hours=1))
        source.append(
            {"id": n, "created_at": render(created, None), "updated_at": render(updated, None)}
        )
    api_filter = ApiFilter("created_at_min", Op.GTE, ISO8601_Z, "created_at_max", on_key=False)
    plan = Plan(
        Instant(),
        "updated_at",
        api_filter,
        start,
        end,
        WindowPolicy(timedelta(days=10)),
        False,
        0,
        ("id",),
    )
    with ThreadPoolExecutor(3) as pool:
        api = FakeApi(plan, source, filter_field="created_at")
        run = sync(plan, api, Engine(pool if pooled else None, 3))
    expected = {r["id"] for r in source if start <= key_of(plan, r, "created_at") < end}
    assert sorted(run.ids) == sorted(expected)
    updated_at = {r["id"]: key_of(plan, r) for r in source}
    emitted: set[Any] = set()
    for kind, value in run.messages:
        if kind == "record":
            emitted.add(value["id"])
        else:
            assert all(i in emitted for i in expected if updated_at[i] < value)
    assert run.final == max(updated_at[i] for i in expected)


# -- ties --------------------------------------------------------------------------------------

TIE = at(2024, 3, 10, 12)


def tie_source(*extra: datetime, ties: int = 10) -> list[Record]:
    """``ties`` records at ``TIE`` (more than a page), among others."""
    around = [TIE - timedelta(hours=5), TIE - timedelta(seconds=1), *extra]
    around += [TIE + timedelta(hours=h) for h in (1, 2, 13, 25, 30)]
    moments_ = [TIE] * ties + around
    return [{"id": f"{n:03}", "updated": render(m, None)} for n, m in enumerate(moments_)]


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
@pytest.mark.parametrize(
    ("where", "start", "policy"),
    [
        ("at-the-bookmark", TIE, WindowPolicy(timedelta(hours=6))),
        ("at-a-window-edge", TIE - timedelta(hours=6), WindowPolicy(timedelta(hours=6))),
        ("at-a-month-edge", TIE - timedelta(days=2), WindowPolicy(Months(), timedelta(hours=24))),
        ("in-the-probe", TIE - timedelta(hours=7), ONE_RANGE),
        ("in-the-probe-sliced", TIE - timedelta(hours=7), WindowPolicy(timedelta(days=1))),
    ],
)
@pytest.mark.parametrize("page_size", [2, 3, 12])
def test_ties_spanning_pages(
    where: str, start: datetime, policy: WindowPolicy, op: Op, sorted_: bool, page_size: int
) -> None:
    source = tie_source()
    if where == "at-a-month-edge":
        source = [
            {**r, "updated": r["updated"].replace("2024-03-10T12", "2024-03-01T00")} for r in source
        ]
        start = at(2024, 2, 27, 12)
    plan = instant_plan(
        None,
        ISO8601_Z,
        op,
        policy,
        sorted=sorted_,
        slices=3,
        start=start,
        end=TIE + timedelta(days=1),
    )
    run = sync(plan, FakeApi(plan, source, page_size=page_size))
    check_run(run, source)
    tied = {r["id"] for r in source if key_of(plan, r) == key_of(plan, source[0])}
    assert tied <= set(run.ids)


def test_ties_at_the_probes_last_record_are_told_apart_by_primary_key() -> None:
    source = tie_source(TIE - timedelta(hours=1), TIE - timedelta(minutes=1))
    plan = instant_plan(
        None,
        ISO8601_Z,
        Op.GT,
        ONE_RANGE,
        sorted=True,
        start=TIE - timedelta(hours=3),
        end=TIE + timedelta(days=2),
    )
    api = FakeApi(plan, source, page_size=5)
    run = sync(plan, api)
    check_run(run, source)
    probe, *rest = api.requests
    assert probe.first_page_only
    assert rest[0].window.start == TIE  # the windows start where the probe's page stopped
    assert len([i for i in run.ids if source[int(i)]["updated"] == render(TIE, None)]) == 10


@pytest.mark.parametrize("pooled", [True, False])
def test_ties_at_the_probes_last_record_without_primary_keys_are_read_again(
    pooled: bool,
) -> None:
    """Nothing tells them apart: emitted twice rather than lost (all but the probe's were
    skipped, every record matching the empty key)."""
    source = tie_source()
    plan = instant_plan(
        None, ISO8601_Z, Op.GTE, ONE_RANGE, sorted=True, start=TIE - timedelta(hours=7)
    )
    plan = replace(plan, end=TIE + timedelta(days=1), primary_keys=())
    with ThreadPoolExecutor(2) as pool:
        run = sync(plan, FakeApi(plan, source, page_size=3), Engine(pool if pooled else None, 2))
    assert set(run.ids) == expected_ids(plan, source)
    repeated = [i for i in set(run.ids) if run.ids.count(i) > 1]
    assert repeated == ["000"]  # the one tied record the probe's page held
    check_prefix(run, source)


def test_an_inclusive_upper_bound_coarser_than_the_key_loses_nothing() -> None:
    start = at(2024, 3, 10, 0, 0, 0, 500000)  # a start_date with a fraction: so are all edges
    offsets = [(1, -300), (1, 100), (2, -100), (3, 0)]  # (window edge, milliseconds from it)
    source = [
        {"id": n, "updated": render(start + timedelta(hours=6 * k, milliseconds=ms), KLAVIYO)}
        for n, (k, ms) in enumerate(offsets)
    ]
    plan = replace(
        instant_plan(KLAVIYO, ISO8601_Z, Op.GTE, WindowPolicy(timedelta(hours=6)), start=start),
        end=start + timedelta(days=1),
        api_filter=ApiFilter("updated", Op.GTE, ISO8601_Z, "updated", Op.LTE),
    )
    run = sync(plan, FakeApi(plan, source))
    check_run(run, source)  # records 0 and 2 (just before an edge, after its second) lost


@pytest.mark.parametrize("fmt", [YYYYMMDD, ISO8601_Z])
@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
def test_the_lookback_is_read_once_when_the_probe_stops_at_the_bookmark(
    op: Op, fmt: TimestampFormat
) -> None:
    """The probe's page ends on the bookmark's record: the window after it starts at the
    run's start but is not the first, so it keeps from its start, not from the lookback
    (it re-emitted the lookback's records, which a day-precision filter sends again)."""
    bookmark = at(2024, 3, 10, 12)
    late = [bookmark - timedelta(minutes=30)] * 2
    moments_ = [*late, bookmark] + [bookmark + timedelta(hours=h) for h in range(1, 8)]
    source = [{"id": n, "updated": render(m, None)} for n, m in enumerate(moments_)]
    plan = instant_plan(
        None,
        fmt,
        op,
        ONE_RANGE,
        sorted=True,
        slices=3,
        start=bookmark,
        end=bookmark + timedelta(hours=10),
        lookback=timedelta(hours=1),
    )
    api = FakeApi(plan, source, page_size=3)
    run = sync(plan, api)
    check_run(run, source)
    assert api.requests[1].window.start == bookmark
    assert run.ids == list(range(10))


# -- requests made -----------------------------------------------------------------------------


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize(
    "plan",
    [
        instant_plan(
            None, ISO8601_Z, Op.GT, WindowPolicy(timedelta(days=1)), start=START, end=START
        ),
        instant_plan(
            None,
            YYYYMMDD,
            Op.GTE,
            WindowPolicy(timedelta(days=1)),
            start=START,
            end=START - timedelta(days=3),
        ),
        instant_plan(None, ISO8601_Z, Op.GTE, ONE_RANGE, start=START, end=START, upper=False),
        date_plan(Op.GTE, WindowPolicy(Months()), sorted=False, start=date(2024, 4, 2)),
        integer_plan(Op.GT, WindowPolicy(10), sorted=False, start=180),
    ],
    ids=["instant", "instant-reversed", "instant-lower-only", "date", "integer"],
)
def test_an_empty_range_makes_exactly_one_request(plan: Plan, sorted_: bool) -> None:
    plan = replace(plan, sorted=sorted_)
    if isinstance(plan.key, Instant):  # nothing new: the API holds nothing after the start
        source = [r for r in instant_source(None) if key_of(plan, r) < START]
    else:
        source = date_source() if isinstance(plan.key, DateKey) else integer_source()
    api = FakeApi(plan, source)
    run = sync(plan, api)
    assert len(api.calls) == 1
    assert run.messages == []


@pytest.mark.parametrize(
    "policy", [ONE_RANGE, WindowPolicy(timedelta(days=3)), WindowPolicy(Months())]
)
def test_a_sorted_plan_whose_data_fits_one_page_makes_one_request(policy: WindowPolicy) -> None:
    source = [{"id": n, "updated": render(START + timedelta(days=2 * n), None)} for n in range(5)]
    plan = instant_plan(None, ISO8601_Z, Op.GT, policy, sorted=True, slices=4)
    api = FakeApi(plan, source, page_size=5)
    run = sync(plan, api)
    check_run(run, source)
    assert len(api.calls) == 1
    assert run.states == [START + timedelta(days=8)]


def test_a_sorted_plan_skips_the_empty_years_before_its_data() -> None:
    start = at(2015, 1, 1)
    first = at(2023, 6, 14, 10)
    source = [{"id": n, "updated": render(first + timedelta(hours=7 * n), None)} for n in range(60)]
    for policy in (WindowPolicy(timedelta(days=30)), WindowPolicy(Months())):
        plan = instant_plan(
            None, ISO8601_Z, Op.GTE, policy, sorted=True, start=start, end=at(2023, 8, 1)
        )
        api = FakeApi(plan, source, page_size=10)
        run = sync(plan, api)
        check_run(run, source)
        probe, *windows = api.requests
        assert probe.first_page_only
        assert windows[0].window.start == first + timedelta(hours=7 * 9)
        assert len(windows) <= 3  # not one per month (or 30 days) since 2015
    # unsorted: no probe, every window is asked
    plan = instant_plan(
        None, ISO8601_Z, Op.GTE, WindowPolicy(Months()), start=start, end=at(2023, 8, 1)
    )
    api = FakeApi(plan, source, page_size=10)
    check_run(sync(plan, api), source)
    assert len(api.requests) == 12 * 8 + 7


def test_a_sorted_plan_with_an_api_maximum_does_not_probe() -> None:
    source = instant_source(None)
    plan = instant_plan(
        None, ISO8601_Z, Op.GT, WindowPolicy(Months(), timedelta(days=7)), sorted=True
    )
    api = FakeApi(plan, source, page_size=100)
    check_run(sync(plan, api), source)
    assert not any(r.first_page_only for r in api.requests)
    assert all(r.window.end - r.window.start <= timedelta(days=7) for r in api.requests)


# -- the server's clock ------------------------------------------------------------------------


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
def test_the_watermark_stays_a_second_behind_the_servers_clock(sorted_: bool) -> None:
    clock = at(2024, 3, 10, 12, 0, 0)
    source = [
        {"id": n, "updated": render(clock - timedelta(hours=30) + timedelta(minutes=41 * n), None)}
        for n in range(44)
    ]
    source.append({"id": "last", "updated": render(clock - timedelta(milliseconds=300), None)})
    plan = instant_plan(
        None,
        ISO8601_Z,
        Op.GT,
        WindowPolicy(timedelta(hours=5)),
        sorted=sorted_,
        start=clock - timedelta(days=2),
        end=clock + timedelta(hours=12),
    )
    run = sync(plan, FakeApi(plan, source, server_time=clock))
    check_run(run, source)
    *during, final = run.states
    assert during
    assert all(v <= clock - timedelta(seconds=1) for v in during)
    assert final == clock - timedelta(milliseconds=300)  # the newest record: read, so safe


def test_a_slow_clock_per_window_holds_the_watermark_back() -> None:
    source = instant_source(None)
    plan = instant_plan(None, ISO8601_Z, Op.GTE, WindowPolicy(timedelta(days=10)))
    lag = timedelta(days=3)
    run = sync(plan, FakeApi(plan, source, server_time=lambda r: (r.window.end or END) - lag))
    check_run(run, source)
    for value in run.states[:-1]:
        assert (value + lag + timedelta(seconds=1) - START) % timedelta(days=10) == timedelta(0)


# -- concurrency -------------------------------------------------------------------------------


def later_first(windows: int, step: float = 0.01) -> Callable[[Request, int], float]:
    """Delays under which later windows finish first: each window's first page waits less
    than the one before, and the first window's waits until a later one has answered."""
    answered = threading.Event()

    def delay(request: Request, page: int) -> float:
        start = request.window.start
        # total_seconds: a split's start is a pendulum DateTime, whose difference divides
        # by a timedelta only that way
        position = (start - START).total_seconds() // (9 * 86_400) if start is not None else 0
        if page:
            return 0.0
        if position == 0 and not request.first_page_only:
            answered.wait(2)
            return 0.05
        answered.set()
        return max(0.0, (windows - position) * step)

    return delay


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
def test_concurrent_windows_finish_out_of_order_and_come_out_in_order(
    op: Op, sorted_: bool
) -> None:
    source = instant_source(None, count=120)
    plan = instant_plan(None, ISO8601_Z, op, WindowPolicy(timedelta(days=9)), sorted=sorted_)
    serial = sync(plan, FakeApi(plan, source, page_size=4), Engine(None))
    with ThreadPoolExecutor(4) as pool:
        inline = sync(plan, FakeApi(plan, source, page_size=4), Engine(pool, 4), inline=True)
        api = FakeApi(plan, source, page_size=4, delay=later_first(10))
        run = sync(plan, api, Engine(pool, 4))
    check_run(run, source)
    # the same records in the same order; a sorted run's states may differ (page-level
    # watermark, spans split while running), and check_run saw them strictly increasing
    assert run.ids == serial.ids == inline.ids
    assert inline.messages == serial.messages
    assert 1 < api.max_active <= 4
    # the later windows did finish first
    last_call = {call.request: call.ended for call in api.calls}
    order = sorted(last_call, key=last_call.__getitem__)
    assert order != sorted(order)


@pytest.mark.parametrize(("workers", "in_flight"), [(4, 4), (8, 2), (4, 1)])
def test_requests_in_flight_never_exceed_in_flight(workers: int, in_flight: int) -> None:
    source = instant_source(None, count=120)
    plan = instant_plan(None, ISO8601_Z, Op.GT, WindowPolicy(timedelta(days=3)))
    with ThreadPoolExecutor(workers) as pool:
        api = FakeApi(plan, source, page_size=3, delay=lambda r, p: 0.002)
        run = sync(plan, api, Engine(pool, in_flight))
    check_run(run, source)
    assert api.max_active <= in_flight
    if in_flight > 1:
        assert api.max_active > 1


def bunched(count: int = 240) -> list[Record]:
    """Records bunched at the end of the range: the last window holds nearly all."""
    late = END - timedelta(days=20)
    spread = [START + timedelta(days=n) for n in range(0, 54, 6)]
    dense = [late + (END - late) * n / count for n in range(count)]
    dense += [late + timedelta(hours=20)] * 9  # a tie, likely across a split
    return [{"id": n, "updated": render(m, None)} for n, m in enumerate(spread + dense)]


@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
@pytest.mark.parametrize(
    "policy", [ONE_RANGE, WindowPolicy(timedelta(days=30))], ids=["sliced", "30-days"]
)
def test_sorted_spans_split_while_running_lose_and_repeat_nothing(
    policy: WindowPolicy, op: Op
) -> None:
    source = [r for r in bunched() if key_of(instant_plan(None), r) < END]
    plan = instant_plan(None, ISO8601_Z, op, policy, sorted=True, slices=3)
    serial = sync(plan, FakeApi(plan, source, page_size=5))
    with ThreadPoolExecutor(4) as pool:
        api = FakeApi(plan, source, page_size=5, delay=lambda r, p: 0.002)
        run = sync(plan, api, Engine(pool, 4))
    check_run(run, source)
    assert run.ids == serial.ids
    assert api.max_active <= 4
    assert len(api.requests) > len(serial.api.requests)  # spans were split


def test_a_span_ending_at_a_pendulum_split_still_estimates_its_pages() -> None:
    span = Span(Request(Window(at(2024, 1, 1), at(2024, 1, 20)), ()), at(2024, 1, 20))
    span.pages, span.last = 2, at(2024, 1, 3)
    span.end = pendulum.instance(at(2024, 1, 10))  # split there
    assert span.pages_left() == pytest.approx(7.0)


def test_workers_survive_a_split() -> None:
    errors: list[BaseException] = []

    class Watched:
        def __init__(self, pool: ThreadPoolExecutor) -> None:
            self.pool = pool

        def submit(self, task: Callable[..., Any], /, *args: Any) -> Any:
            def watched() -> None:
                try:
                    task(*args)
                except BaseException as exc:
                    errors.append(exc)
                    raise

            return self.pool.submit(watched)

    source = [r for r in bunched() if key_of(instant_plan(None), r) < END]
    plan = instant_plan(None, ISO8601_Z, Op.GT, ONE_RANGE, sorted=True, slices=3)
    with ThreadPoolExecutor(4) as pool:
        api = FakeApi(plan, source, page_size=5, delay=lambda r, p: 0.002)
        run = sync(plan, api, Engine(Watched(pool), 4))
    check_run(run, source)
    assert len(api.requests) > 4  # split
    assert errors == []


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
def test_a_kill_under_concurrency_resumes_losing_nothing(sorted_: bool) -> None:
    """Concurrent runs (and splits) make each run's message stream its own: kill each one at
    a different point, resume, and check the union."""
    source = [r for r in bunched(90) if key_of(instant_plan(None), r) < END]
    plan = instant_plan(
        None, ISO8601_Z, Op.GT, WindowPolicy(timedelta(days=10)), sorted=sorted_, slices=3
    )
    with ThreadPoolExecutor(4) as pool:
        engine = Engine(pool, 4)
        total = len(sync(plan, FakeApi(plan, source, page_size=4), engine).messages)
        for k in range(0, total + 1, 7):
            killed = sync(plan, FakeApi(plan, source, page_size=4), engine, kill_after=k)
            check_prefix(killed, source)
            saved = killed.final if killed.final is not None else plan.start
            resumed_plan = replace(plan, start=saved)
            resumed = sync(resumed_plan, FakeApi(resumed_plan, source, page_size=4), engine)
            check_run(resumed, source)
            assert set(killed.ids) | set(resumed.ids) == expected_ids(plan, source)


# -- failures and closing early ----------------------------------------------------------------


@pytest.mark.parametrize("pooled", [True, False])
def test_a_failing_window_surfaces_after_the_windows_before_it(pooled: bool) -> None:
    source = instant_source(None, count=120)
    plan = instant_plan(None, ISO8601_Z, Op.GTE, WindowPolicy(timedelta(days=9)))
    reference = sync(plan, FakeApi(plan, source, page_size=4))
    failing_window = START + timedelta(days=27)  # the fourth, on its second page
    emitted: list[Message] = []
    with ThreadPoolExecutor(4) as pool:
        api = FakeApi(
            plan,
            source,
            page_size=4,
            delay=later_first(10) if pooled else None,  # serially, nothing comes later first
            fail_if=lambda r, page: r.window.start == failing_window and page == 1,
        )
        engine = Engine(pool if pooled else None, 4)
        records = engine.run(plan, api.fetch, lambda v: emitted.append(("state", v)))

        def consume() -> None:
            for record in records:
                emitted.append(("record", record))

        with pytest.raises(InjectedError):
            consume()
    # everything before the failing window, then at most its first page, nothing after
    assert emitted == reference.messages[: len(emitted)]
    mark = emitted.index(("state", failing_window))
    after = emitted[mark + 1 :]
    assert 1 <= len(after) <= 4
    assert all(
        kind == "record" and key_of(plan, value) < failing_window + timedelta(days=9)
        for kind, value in after
    )


def test_a_failing_request_stops_the_windows_not_started() -> None:
    source = instant_source(None, count=120)
    plan = instant_plan(None, ISO8601_Z, Op.GTE, WindowPolicy(timedelta(days=3)))
    with ThreadPoolExecutor(2) as pool:
        api = FakeApi(
            plan,
            source,
            page_size=50,
            delay=lambda r, p: 0.0 if r.window.start == START else 0.05,
            fail_if=lambda r, p: r.window.start == START,
        )
        records = Engine(pool, 2).run(plan, api.fetch, lambda v: None)
        with pytest.raises(InjectedError) as raised:
            list(records)
        started = len(api.requests)
        time.sleep(0.15)
        assert raised.value is not None  # still referenced: the run's frame is alive
        assert len(api.requests) == started, "windows kept starting after the failure"


@pytest.mark.parametrize("after", [0, 1, 5, 17])
def test_closing_early_cancels_the_windows_not_started(after: int) -> None:
    source = instant_source(None, count=120)
    plan = instant_plan(None, ISO8601_Z, Op.GTE, WindowPolicy(timedelta(days=3)))
    with ThreadPoolExecutor(2) as pool:
        api = FakeApi(plan, source, page_size=2, delay=lambda r, p: 0.01)
        records = running(Engine(pool, 2), plan, api, lambda v: None)
        for _ in range(after):
            next(records)
        records.close()
        closed_at = time.monotonic()
        started = len(api.requests)
        time.sleep(0.1)
    assert len(api.requests) == started, "windows kept starting after the generator closed"
    assert all(call.started <= closed_at for call in api.calls if call.page == 0)
    assert started < len(WindowPolicy(timedelta(days=3)).cut(START, END)) // 2


# -- a kill after any message ------------------------------------------------------------------


def small_source(seed: int) -> list[Record]:
    rng = random.Random(seed)
    start = at(2024, 3, 1)
    moments_ = [start + timedelta(minutes=rng.randrange(5 * 24 * 60)) for _ in range(34)]
    moments_ += [at(2024, 3, 3)] * 4 + [start - timedelta(minutes=20), start]  # ties, lookback
    return [{"id": n, "updated": render(m, None)} for n, m in enumerate(moments_)]


@pytest.mark.parametrize("lookback", [timedelta(0), timedelta(hours=1)], ids=["", "lookback"])
@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
@pytest.mark.parametrize(
    "policy", [WindowPolicy(timedelta(days=1)), ONE_RANGE], ids=["5-windows", "one-range"]
)
def test_a_kill_after_any_message_resumes_losing_nothing(
    policy: WindowPolicy, op: Op, sorted_: bool, lookback: timedelta
) -> None:
    source = small_source(3)
    plan = instant_plan(
        None,
        ISO8601_Z,
        op,
        policy,
        sorted=sorted_,
        slices=3,
        start=at(2024, 3, 1),
        end=at(2024, 3, 6),
        lookback=lookback,
    )
    tried = kill_everywhere(plan, source, lambda p: FakeApi(p, source, page_size=3))
    assert tried > 40


@pytest.mark.parametrize("sorted_", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("op", [Op.GT, Op.GTE])
def test_a_kill_with_date_and_integer_keys(op: Op, sorted_: bool) -> None:
    source = date_source()
    plan = date_plan(op, WindowPolicy(Months()), sorted=sorted_, slices=3)
    kill_everywhere(plan, source, lambda p: FakeApi(p, source, page_size=4))
    source = integer_source()
    plan = integer_plan(op, WindowPolicy(30), sorted=sorted_, slices=3)
    kill_everywhere(plan, source, lambda p: FakeApi(p, source, page_size=4))


# -- any data, any plan ------------------------------------------------------------------------

BASE = at(2024, 2, 27)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Plan, list[Record], int]:
    offsets = st.integers(min_value=-6, max_value=80)  # hours from BASE, coarse: many ties
    fine = st.integers(min_value=0, max_value=3599)
    values = draw(
        st.lists(st.tuples(offsets, st.sampled_from([0, 0, 0, 1800]) | fine), max_size=40)
    )
    source = [
        {"id": n, "updated": render(BASE + timedelta(hours=h, seconds=s), KLAVIYO)}
        for n, (h, s) in enumerate(values)
    ]
    policy = draw(
        st.sampled_from(
            [
                ONE_RANGE,
                WindowPolicy(timedelta(hours=7)),
                WindowPolicy(timedelta(days=1)),
                WindowPolicy(Months()),
                WindowPolicy(Months(), timedelta(hours=24)),
                WindowPolicy(timedelta(days=2), timedelta(hours=10)),
            ]
        )
    )
    start = BASE + timedelta(
        hours=draw(st.integers(0, 30)), seconds=draw(st.sampled_from([0, 1, 1800]))
    )
    end = start + timedelta(hours=draw(st.integers(0, 60)))
    plan = instant_plan(
        KLAVIYO,
        draw(st.sampled_from([ISO8601_Z, KLAVIYO, YYYYMMDD])),
        draw(st.sampled_from([Op.GT, Op.GTE])),
        policy,
        sorted=draw(st.booleans()),
        slices=draw(st.sampled_from([0, 3])),
        start=start,
        end=end,
        lookback=timedelta(minutes=draw(st.sampled_from([0, 0, 90]))),
        upper=draw(st.booleans()),
    )
    return plan, source, draw(st.integers(1, 6))


@st.composite
def date_and_integer_scenarios(draw: st.DrawFn) -> tuple[Plan, list[Record], int]:
    op = draw(st.sampled_from([Op.GT, Op.GTE]))
    if draw(st.booleans()):
        first = date(2024, 1, 20)
        days = draw(st.lists(st.integers(0, 60), max_size=40))
        source = [
            {"id": n, "day": (first + timedelta(days=d)).isoformat()} for n, d in enumerate(days)
        ]
        start = first + timedelta(days=draw(st.integers(0, 20)))
        lookback: Any = timedelta(days=draw(st.sampled_from([0, 0, 2])))
        plan = date_plan(
            op,
            draw(
                st.sampled_from(
                    [
                        ONE_RANGE,
                        WindowPolicy(timedelta(days=7)),
                        WindowPolicy(Months()),
                        WindowPolicy(Months(), timedelta(days=7)),
                    ]
                )
            ),
            sorted=draw(st.booleans()),
            slices=draw(st.sampled_from([0, 3])),
            start=start,
            end=start + timedelta(days=draw(st.integers(0, 40))),
        )
    else:
        values = draw(st.lists(st.integers(0, 100), max_size=40))
        source = [{"id": n, "seq": v} for n, v in enumerate(values)]
        low = draw(st.integers(0, 40))
        lookback = draw(st.sampled_from([0, 0, 3]))
        plan = integer_plan(
            op,
            draw(st.sampled_from([ONE_RANGE, WindowPolicy(10), WindowPolicy(25, 7)])),
            sorted=draw(st.booleans()),
            slices=draw(st.sampled_from([0, 3])),
            start=low,
            end=draw(st.none() | st.integers(low, low + 60)),
        )
    assert plan.api_filter is not None
    plan = replace(plan, api_filter=plan.api_filter.with_lookback(lookback))
    return plan, source, draw(st.integers(1, 6))


_SHARED: list[WorkerPool] = []


def shared_pool() -> WorkerPool:
    """Three daemon workers for the property test's concurrent runs (they never hold the
    process open)."""
    if not _SHARED:
        _SHARED.append(WorkerPool(3, "test-engine"))
    return _SHARED[0]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenarios() | date_and_integer_scenarios(),
    st.integers(min_value=0, max_value=200),
    st.booleans(),
)
def test_any_plan_syncs_exactly_and_survives_a_kill(
    scenario: tuple[Plan, list[Record], int], kill_at: int, pooled: bool
) -> None:
    plan, source, page_size = scenario
    engine = Engine(shared_pool() if pooled else None, 3)
    full = sync(plan, FakeApi(plan, source, page_size), engine)
    check_run(full, source)
    k = kill_at % (len(full.messages) + 1)
    killed = sync(plan, FakeApi(plan, source, page_size), engine, kill_after=k)
    check_prefix(killed, source)
    saved = killed.final if killed.final is not None else plan.start
    resumed_plan = replace(plan, start=saved)
    resumed = sync(resumed_plan, FakeApi(resumed_plan, source, page_size), engine)
    check_run(resumed, source)
    assert set(killed.ids) | set(resumed.ids) == expected_ids(plan, source)
    assert all(key_of(plan, r) >= resumed_plan.keep_from for r in resumed.records)


def test_workers_fetch_only_a_few_pages_ahead_of_the_engine() -> None:
    """Memory is bounded: with a slow engine (a slow loader downstream) workers wait instead
    of fetching their spans whole (they did, and a 1M-event backfill took 1.3 GB)."""
    fetched = [0]
    lock = threading.Lock()

    def fetch(request: Request) -> Iterator[Page]:
        for n in range(100):
            with lock:
                fetched[0] += 1
            yield Page([{"n": n}], more=n < 99)

    pool = WorkerPool(4)
    try:
        scheduler = Scheduler(
            pool,
            4,
            fetch,
            key_of=None,
            request_for=lambda window: Request(window, ()),
            split_at=lambda low, high: None,
        )
        taken, most_ahead = 0, 0
        for span in scheduler.spans([Request(Window(i, i + 1), ()) for i in range(6)]):
            for _page in span.drain():
                taken += 1
                time.sleep(0.0002)
                with lock:
                    most_ahead = max(most_ahead, fetched[0] - taken)
    finally:
        pool.shutdown(5)
    assert taken == 6 * 100
    # the spans after the one being emitted share PAGES_AHEAD per worker; the one being
    # emitted holds what it had queued when its turn came (that share at most) or PAGES_AHEAD;
    # each worker one page in hand.  Nothing here grows with the range.
    bound = 2 * 4 * PAGES_AHEAD + PAGES_AHEAD + 4
    assert bound < 600 / 2  # a bound well under what fetching whole spans ahead would hold
    assert most_ahead <= bound


def test_a_filter_with_no_upper_bound_but_a_sort_order_still_walks_windows() -> None:
    """OneTrust's ``createddate``: "on or after" a day only.  Each month is its own request,
    told where to stop (``stops_at``), and the watermark moves at each month's end."""
    api_filter = ApiFilter("createddate", Op.GTE, YYYYMMDD, stops_at="created", on_key=False)
    start, end = datetime(2025, 1, 15, 6, tzinfo=UTC), datetime(2025, 4, 10, tzinfo=UTC)
    plan = Plan(Instant(), "updated", api_filter, start, end, WindowPolicy(Months()))
    seen: list[Request] = []

    def fetch(request: Request) -> Iterator[Page]:
        seen.append(request)
        yield Page([])

    marks: list[KeyValue] = []
    list(Engine(None).run(plan, fetch, marks.append))
    months = [datetime(2025, m, 1, tzinfo=UTC) for m in (2, 3, 4)]
    assert [r.window for r in seen] == [
        Window(a, b) for a, b in zip([start, *months], [*months, end], strict=True)
    ]
    assert [[b.value for b in r.bounds] for r in seen] == [
        ["20250115"],
        ["20250201"],
        ["20250301"],
        ["20250401"],
    ]
    assert {r.stops_at for r in seen} == {"created"}
    assert marks == months
