"""Deletions and late data, the tap's side: which runs are whole reads framed in
ACTIVATE_VERSION (so the loader retires what they did not return), and the reconcile read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tapkit.testing import Run, TapRunner
from tapkit.timeformats import parse_instant


def versions(run: Run, stream: str) -> list[tuple[str, Any]]:
    """The stream's ACTIVATE_VERSION messages and records, in order, as (kind, version)."""
    return [
        ("activate", m["version"])
        if m["type"] == "ACTIVATE_VERSION"
        else ("record", m.get("version"))
        for m in run.messages
        if m.get("stream") == stream and m["type"] in ("ACTIVATE_VERSION", "RECORD")
    ]


def assert_framed(run: Run, stream: str) -> int:
    """One version announced before the stream's first record and after its last, on all of them."""
    seen = versions(run, stream)
    assert seen[0][0] == seen[-1][0] == "activate", seen[:2]
    version = seen[0][1]
    assert len([s for s in seen if s[0] == "activate"]) == 2
    assert {v for _, v in seen} == {version}
    return int(version)


def assert_not_framed(run: Run, stream: str) -> None:
    seen = versions(run, stream)
    assert seen, f"no records of {stream}"
    assert all(kind == "record" and version is None for kind, version in seen), seen[:3]


def test_full_table_streams_and_memberships_are_framed_every_run(run_tap: TapRunner) -> None:
    streams = ["metrics", "tags", "list_members", "segment_members", "profiles"]
    first = run_tap(streams=streams)
    assert first.returncode == 0, first.stderr[-2000:]
    second = run_tap(state=first.state, streams=streams)
    assert second.returncode == 0, second.stderr[-2000:]
    for stream in ("metrics", "tags", "list_members", "segment_members"):
        assert assert_framed(second, stream) > assert_framed(first, stream)
        # read whole: the second run returns every member again, not only new ones
        assert len(second.records(stream)) == len(first.records(stream))
    assert "list_members" not in second.state["bookmarks"] or not any(
        p.get("replication_key_value")
        for p in second.state["bookmarks"]["list_members"].get("partitions", [])
    )


def test_a_run_without_bookmarks_is_framed_an_incremental_one_is_not(run_tap: TapRunner) -> None:
    streams = ["profiles", "campaigns", "campaign_messages"]
    first = run_tap(streams=streams)
    assert first.returncode == 0, first.stderr[-2000:]
    for stream in streams:  # the child is whole because its parent is
        assert_framed(first, stream)
    full_refresh = run_tap(streams=streams)  # what `meltano run --full-refresh` sends: no state
    assert assert_framed(full_refresh, "profiles") > assert_framed(first, "profiles")
    incremental = run_tap(state=first.state, streams=streams)
    assert incremental.returncode == 0
    assert not [m for m in incremental.messages if m["type"] == "ACTIVATE_VERSION"]


def test_bounded_reads_and_the_switch_are_not_framed(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    now = parse_instant(sandbox.control.now())
    bounded = run_tap(streams=["profiles"], end_date=(now - timedelta(days=30)).isoformat())
    assert_not_framed(bounded, "profiles")
    off = run_tap(streams=["profiles", "metrics"], emit_activate_version_messages=False)
    assert off.returncode == 0
    assert not [m for m in off.messages if m["type"] == "ACTIVATE_VERSION"]


def test_a_reconcile_reads_the_last_days_past_the_bookmark_and_removes_nothing(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    first = run_tap(streams=["events"])
    assert first.returncode == 0, first.stderr[-2000:]
    late = sandbox.control.add_late_events(count=5, age_seconds=2 * 86_400)
    incremental = run_tap(state=first.state, streams=["events"])
    assert not set(late) & set(incremental.ids("events"))  # beyond the 1h lookback
    reconcile = run_tap(state=first.state, streams=["events"], reread_last_days=3)
    assert reconcile.returncode == 0, reconcile.stderr[-2000:]
    assert set(late) <= set(reconcile.ids("events"))
    now = parse_instant(sandbox.control.now())
    oldest = min(parse_instant(r["datetime"]) for r in reconcile.records("events"))
    assert oldest >= now - timedelta(days=3, minutes=1)
    assert_not_framed(reconcile, "events")
    assert reconcile.state["bookmarks"]["events"] == first.state["bookmarks"]["events"] or (
        reconcile.state["bookmarks"]["events"]["replication_key_value"]
        >= first.state["bookmarks"]["events"]["replication_key_value"]
    )


def test_each_stream_sends_its_schema_before_its_first_version(run_tap: TapRunner) -> None:
    run = run_tap(streams=["campaigns", "campaign_messages", "metrics"])
    for stream in ("campaigns", "campaign_messages", "metrics"):
        kinds = [m["type"] for m in run.messages if m.get("stream") == stream]
        assert kinds[0] == "SCHEMA", (stream, kinds[:3])
        assert kinds.count("SCHEMA") == 1
