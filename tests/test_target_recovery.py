"""Recovery and deletes with real parts: the Klaviyo sandbox in its own process, `tap-klaviyo`
piped into our `target-postgres` as Meltano pipes them, and the session's embedded Postgres.

- A target SIGKILLed at random points of a 200,000-event backfill never forwards a STATE ahead
  of its committed rows, and rerunning the tap from the last STATE it forwarded reads from that
  bookmark (less the events lookback) and ends with every sandbox event in Postgres once.
- A full-table stream synced again after deletions in the source has `_sdc_deleted_at` set on
  exactly the deleted rows (singer-sdk's ACTIVATE_VERSION, sent once, before the records).
"""

from __future__ import annotations

import bisect
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from devstack import postgres
from sandbox.cli import klaviyo_command
from sandbox.core.control import SandboxControl
from tap_klaviyo.tap import TapKlaviyo
from tapkit.testing import select
from tapkit.timeformats import parse_instant
from target_postgres.testing import TARGET

TAP = str(Path(sys.executable).parent / "tap-klaviyo")
DATABASE, SCHEMA = "target_recovery", "recovery"
LOOKBACK = timedelta(minutes=60)  # events_lookback_minutes' default
Connection = psycopg.Connection[tuple[Any, ...]]


@pytest.fixture
def db(pg: postgres.Embedded) -> Iterator[Connection]:
    postgres.create_databases(pg, (DATABASE,))
    with psycopg.connect(pg.url(DATABASE, driver="postgresql"), autocommit=True) as connection:
        connection.execute(f"drop schema if exists {SCHEMA} cascade")
        yield connection


@contextmanager
def klaviyo_sandbox(events: int) -> Iterator[str]:
    """The sandbox in its own process, as the benchmarks run it: its CPU is not the test's."""
    command = klaviyo_command(0, 21, 1_000, events, rate_limits=False)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        api_url = process.stdout.readline().strip()
        assert api_url, "the sandbox did not start"
        yield api_url
    finally:
        process.terminate()
        process.wait(30)


class Pipeline:
    """`tap-klaviyo --catalog (one stream) [--state] | target-postgres`, logs kept in workdir."""

    def __init__(self, workdir: Path, api_url: str, pg: postgres.Embedded, stream: str, **tap: Any):
        self.workdir = workdir
        tap_config = {"api_key": "pk_recovery", "api_url": api_url, **tap}
        tap_config |= {"start_date": "2020-01-01T00:00:00Z", "rate_limit_percent": 0}
        target_config = {"sqlalchemy_url": pg.url(DATABASE), "default_target_schema": SCHEMA}
        target_config["batch_size_rows"] = 20_000  # several commits per run
        catalog = select(TapKlaviyo, tap_config, [stream])
        for name, content in (("tap", tap_config), ("catalog", catalog), ("target", target_config)):
            (workdir / f"{name}.json").write_text(json.dumps(content))
        self.tap_command = [TAP, "--config", str(workdir / "tap.json")]
        self.tap_command += ["--catalog", str(workdir / "catalog.json")]
        self.target_command = [TARGET, "--config", str(workdir / "target.json")]

    @contextmanager
    def running(
        self, state: dict[str, Any] | None = None
    ) -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
        tap_command = self.tap_command
        if state is not None:
            (self.workdir / "state.json").write_text(json.dumps(state))
            tap_command = [*tap_command, "--state", str(self.workdir / "state.json")]
        with (self.workdir / "tap.log").open("a") as tap_log:
            tap = subprocess.Popen(tap_command, stdout=subprocess.PIPE, stderr=tap_log)
        with (self.workdir / "target.log").open("a") as target_log:
            target = subprocess.Popen(
                self.target_command, stdin=tap.stdout, stdout=subprocess.PIPE, stderr=target_log
            )
        assert tap.stdout is not None
        tap.stdout.close()  # the target's now: the tap sees the pipe break when the target dies
        try:
            yield tap, target
        finally:  # a failed check leaves neither running (nor stopped)
            for process in (target, tap):
                if process.poll() is None:
                    process.kill()
                process.wait(60)


def bookmark(state: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(state["bookmarks"]["events"]["replication_key_value"])


def assert_covered(db: Connection, state: dict[str, Any], instants: list[datetime]) -> None:
    """Every event the tap had sent before this STATE (dated before its bookmark: events go
    out in datetime order) is committed. Rows only come from the sandbox and the key is unique,
    so equal counts mean the same events."""
    before = bookmark(state)
    query = f"select count(*) from {SCHEMA}.events where datetime < %s"
    committed = db.execute(query, (before,)).fetchone()
    assert committed == (bisect.bisect_left(instants, before),), f"STATE ahead of rows: {state}"


def sync(
    pipeline: Pipeline,
    state: dict[str, Any] | None,
    kill: tuple[int, float] | None,
    db: Connection,
    instants: list[datetime],
) -> dict[str, Any]:
    """One run from ``state``; with ``kill`` (n, s), SIGKILL the target s seconds after the
    n-th STATE it forwards, and the tap with it. Returns the last STATE forwarded."""
    forwarded: list[dict[str, Any]] = []
    with pipeline.running(state) as (tap, target):
        assert target.stdout is not None
        for line in target.stdout:  # to EOF: what it wrote before the kill was forwarded too
            forwarded.append(json.loads(line))
            target.send_signal(signal.SIGSTOP)  # no commit may catch up during the check
            assert_covered(db, forwarded[-1], instants)
            target.send_signal(signal.SIGCONT)
            if kill is not None and len(forwarded) == kill[0]:
                time.sleep(kill[1])  # a random point of the next batch, not just after a commit
                target.kill()
                tap.kill()
        target.wait(60)
        tap.wait(60)
    if kill is not None:
        assert target.returncode == -signal.SIGKILL, "the run ended before its kill"
    else:
        assert (tap.returncode, target.returncode) == (0, 0), f"see {pipeline.workdir}/*.log"
    assert forwarded, "no STATE forwarded"
    return forwarded[-1]


def first_events_filter(control: SandboxControl) -> str:
    requests = [e for e in control.requests() if e["path"] == "/api/events"]
    return str(min(requests, key=lambda e: e["seq"])["query"]["filter"][0])


def test_a_killed_target_resumes_from_its_last_state_with_every_event_once(
    pg: postgres.Embedded, db: Connection, tmp_path: Path
) -> None:
    rng = random.Random(13)
    with klaviyo_sandbox(events=200_000) as api_url:
        control = SandboxControl(api_url)
        truth = control.truth("event")
        instants = sorted(datetime.fromisoformat(e["datetime"]) for e in truth)
        pipeline = Pipeline(tmp_path, api_url, pg, "events")
        kills = [(rng.randint(2, 3), rng.uniform(0, 1)) for _ in range(3)]
        given: dict[str, Any] | None = None
        for kill in [*kills, None]:  # three killed runs, then one to the end
            control.clear_requests()
            state = sync(pipeline, given, kill, db, instants)
            if given is not None:
                since = f"{bookmark(given) - LOOKBACK:%Y-%m-%dT%H:%M:%SZ}"  # not start_date
                assert first_events_filter(control).startswith(
                    f"greater-or-equal(datetime,{since})"
                )
            given = state
        assert bookmark(state) == instants[-1]
        stored = db.execute(f"select id, datetime, metric_id, profile_id from {SCHEMA}.events")
        rows = sorted(stored.fetchall())
    ids, truth_ids = Counter(row[0] for row in rows), {e["id"] for e in truth}
    twice = [i for i, n in ids.items() if n > 1]
    # events missing, rows that are no sandbox event, events stored twice
    assert (truth_ids - ids.keys(), ids.keys() - truth_ids, twice) == (set(), set(), [])
    expected = sorted(
        (e["id"], datetime.fromisoformat(e["datetime"]), e["metric_id"], e["profile_id"])
        for e in truth
    )
    assert [pair for pair in zip(rows, expected, strict=True) if pair[0] != pair[1]][:5] == []


def run_to_the_end(pipeline: Pipeline) -> None:
    with pipeline.running() as (tap, target):
        target.communicate(timeout=120)
        assert (tap.wait(60), target.returncode) == (0, 0), f"see {pipeline.workdir}/*.log"


def test_a_full_refresh_after_deletions_marks_exactly_the_deleted_rows(
    pg: postgres.Embedded, db: Connection, tmp_path: Path
) -> None:
    with klaviyo_sandbox(events=1_000) as api_url:
        control = SandboxControl(api_url)
        # metrics are read whole every run: each run is one version, framed in ACTIVATE_VERSION
        pipeline = Pipeline(tmp_path, api_url, pg, "metrics")
        run_to_the_end(pipeline)
        deleted = set(control.delete("metric", count=3))
        run_to_the_end(pipeline)
        truth = sorted((m["id"], parse_instant(m["updated"])) for m in control.truth("metric"))
    rows = db.execute(f"select id, updated, _sdc_deleted_at from {SCHEMA}.metrics").fetchall()
    assert {id_ for id_, _, gone in rows if gone is not None} == deleted
    live = sorted((id_, updated) for id_, updated, gone in rows if gone is None)
    assert live == truth
