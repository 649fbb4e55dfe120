"""Full and incremental syncs against the sandbox: nothing lost, nothing invented."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tapkit.testing import Run, TapRunner

STREAM_KINDS = {
    "profiles": "profile",
    "events": "event",
    "campaigns": "campaign",
    "campaign_messages": "campaign-message",
    "lists": "list",
    "segments": "segment",
    "templates": "template",
    "metrics": "metric",
    "flows": "flow",
    "flow_actions": "flow-action",
    "tags": "tag",
}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def bookmark(state: dict[str, Any], stream: str) -> str:
    return state["bookmarks"][stream]["replication_key_value"]


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def test_full_sync_returns_exactly_the_sandbox_records(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    run = run_tap()
    assert_ok(run)
    for stream, kind in STREAM_KINDS.items():
        expected = sorted(r["id"] for r in sandbox.control.truth(kind))
        got = run.ids(stream)
        assert len(got) == len(set(got)), f"{stream}: duplicates"
        assert sorted(got) == expected, stream
    for stream, kind, key in (
        ("list_members", "list-member", "list_id"),
        ("segment_members", "segment-member", "segment_id"),
    ):
        expected_pairs = sorted((m[key], m["profile_id"]) for m in sandbox.control.truth(kind))
        assert sorted((r[key], r["profile_id"]) for r in run.records(stream)) == expected_pairs
    # every incremental stream left a bookmark under its replication key
    for stream, key in (
        ("profiles", "updated"),
        ("events", "datetime"),
        ("lists", "updated"),
        ("templates", "updated"),
    ):
        assert run.state["bookmarks"][stream]["replication_key"] == key


def test_second_sync_returns_what_changed_and_nothing_older(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    first = run_tap()
    assert_ok(first)
    control = sandbox.control
    changed = {
        "profiles": control.update("profile", count=5) + control.create("profile", count=2),
        "events": control.create("event", count=4),
        "campaigns": control.update("campaign", count=2),
        "templates": control.update("template", count=1),
        "flows": control.update("flow", count=1),
        "lists": control.update("list", count=1),
        "segments": control.update("segment", count=1),
        "flow_actions": control.update("flow-action", count=2),
    }
    joined = control.create("list-member", count=3)
    control.clear_requests()
    second = run_tap(state=first.state)
    assert_ok(second)
    for stream, ids in changed.items():
        assert set(ids) <= set(second.ids(stream)), stream
    assert {tuple(pair) for pair in joined} <= {
        (r["list_id"], r["profile_id"]) for r in second.records("list_members")
    }
    assert set(changed["campaigns"]) <= {
        m["campaign_id"] for m in second.records("campaign_messages")
    }
    # nothing older than the bookmark, apart from the documented rewind (1 s) or lookback (events)
    allowances = {
        "profiles": ("updated", timedelta(seconds=1)),
        "events": ("datetime", timedelta(hours=1)),
        "templates": ("updated", timedelta(0)),
        "lists": ("updated", timedelta(seconds=1)),
    }
    for stream, (key, allowance) in allowances.items():
        floor = instant(bookmark(first.state, stream)) - allowance
        assert all(instant(r[key]) >= floor for r in second.records(stream)), stream
    # beyond what changed, only what the rewind re-reads: profiles updated in the bookmark's second
    mark = instant(bookmark(first.state, "profiles"))
    rewound = {
        p["id"]
        for p in control.truth("profile")
        if instant(p["updated"]) >= mark - timedelta(seconds=1)
    }
    assert set(second.ids("profiles")) - set(changed["profiles"]) <= rewound


def test_requests_carry_the_bookmark_in_klaviyos_filter_format(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    first = run_tap(streams=["profiles", "events", "campaigns", "lists"])
    assert_ok(first)
    sandbox.control.clear_requests()
    assert_ok(run_tap(state=first.state, streams=["profiles", "events", "campaigns", "lists"]))
    log = sandbox.control.requests()

    def filters(path: str) -> list[str]:
        return [
            entry["query"]["filter"][0]
            for entry in log
            if entry["path"] == path and "page[cursor]" not in entry["query"]
        ]

    def z(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    profiles = instant(bookmark(first.state, "profiles"))
    assert filters("/api/profiles")[0].startswith(
        f"greater-than(updated,{z(profiles - timedelta(seconds=1))}),less-than(updated,"
    )
    events = instant(bookmark(first.state, "events"))
    assert filters("/api/events")[0].startswith(
        f"greater-or-equal(datetime,{z(events - timedelta(hours=1))}),less-than(datetime,"
    )
    lists = instant(bookmark(first.state, "lists"))
    assert filters("/api/lists") == [f"greater-than(updated,{z(lists - timedelta(seconds=1))})"]
    campaign_filters = filters("/api/campaigns")
    assert len(campaign_filters) == 6  # channel x archived, each from its own bookmark
    assert all(
        f.startswith(
            (
                "equals(messages.channel,'email')",
                "equals(messages.channel,'sms')",
                "equals(messages.channel,'mobile_push')",
            )
        )
        for f in campaign_filters
    )
    for entry in log:
        if "page[size]" in entry["query"]:
            assert (
                int(entry["query"]["page[size]"][0])
                <= {
                    "/api/profiles": 100,
                    "/api/events": 1000,
                    "/api/campaigns": 100,
                    "/api/lists": 10,
                }[entry["path"]]
            )


def test_a_sync_with_nothing_new_asks_once_per_partition(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    streams = ["profiles", "events", "campaigns", "lists", "templates"]
    first = run_tap(streams=streams)
    assert_ok(first)
    sandbox.control.clear_requests()
    second = run_tap(state=first.state, streams=streams)
    assert_ok(second)
    paths = [entry["path"] for entry in sandbox.control.requests()]
    assert paths.count("/api/profiles") == 1
    assert paths.count("/api/lists") == 1
    assert paths.count("/api/templates") == 1
    assert paths.count("/api/campaigns") == 6
    assert (
        paths.count("/api/events") <= 2
    )  # the last window, and the one before if it ended after the bookmark
    # nothing re-read beyond the documented rewind: the bookmark's own second
    mark = instant(bookmark(first.state, "profiles"))
    assert all(
        instant(p["updated"]) >= mark - timedelta(seconds=1) for p in second.records("profiles")
    )


def test_profiles_updated_in_the_bookmarks_second_are_not_lost(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    """Klaviyo only offers greater-than on profiles.updated: without a rewind, a profile updated
    later within the same second as the bookmark would never be read."""
    first_batch = sandbox.control.update("profile", count=3)
    first = run_tap(streams=["profiles"])
    assert_ok(first)
    at = bookmark(first.state, "profiles")
    assert set(first_batch) <= set(first.ids("profiles"))
    same_second = sandbox.control.update("profile", count=4, at=at)
    second = run_tap(state=first.state, streams=["profiles"])
    assert_ok(second)
    assert set(same_second) <= set(second.ids("profiles"))


def test_late_events_inside_the_lookback_are_read_outside_it_missed(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    first = run_tap(streams=["events"], events_lookback="2h")
    assert_ok(first)
    mark = instant(bookmark(first.state, "events"))
    now = instant(sandbox.control.now())
    inside = sandbox.control.add_late_events(
        count=3, age_seconds=int((now - mark).total_seconds()) + 3_600
    )
    outside = sandbox.control.add_late_events(
        count=3, age_seconds=int((now - mark).total_seconds()) + 3 * 3_600
    )
    second = run_tap(state=first.state, streams=["events"], events_lookback="2h")
    assert_ok(second)
    assert set(inside) <= set(second.ids("events"))
    assert not set(outside) & set(second.ids("events"))  # documented: older than the lookback
    # the former setting, in minutes, still works
    wider = run_tap(state=first.state, streams=["events"], events_lookback_minutes=240)
    assert set(outside) <= set(wider.ids("events"))


def test_an_interrupted_backfill_resumes_after_its_last_window(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    def second_window_done(message: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
        marks = {
            m["value"]["bookmarks"].get("events", {}).get("replication_key_value")
            for m in messages
            if m["type"] == "STATE"
        }
        return len(marks - {None}) >= 2

    config: dict[str, Any] = {"backfill_window_days": 60}
    killed = run_tap.until(second_window_done, streams=["events"], **config)
    assert killed.returncode != 0
    sandbox.control.clear_requests()
    resumed = run_tap(state=killed.state, streams=["events"], **config)
    assert_ok(resumed)
    seen = killed.ids("events") + resumed.ids("events")
    expected = {r["id"] for r in sandbox.control.truth("event")}
    assert set(seen) == expected  # every record, after de-duplication on the key
    # the resumed run started where the killed one stopped (its last window's end, less the lookback)
    resumed_from = instant(bookmark(killed.state, "events")) - timedelta(hours=1)
    first = next(e for e in sandbox.control.requests() if e["path"] == "/api/events")
    assert first["query"]["filter"][0].startswith(
        f"greater-or-equal(datetime,{resumed_from.strftime('%Y-%m-%dT%H:%M:%SZ')})"
    )
    assert (
        len(set(killed.ids("events")) & set(resumed.ids("events"))) < len(expected) // 2
    )  # not a restart


def test_ties_at_a_window_and_run_boundary_are_all_read(
    make_runner: Callable[..., TapRunner], tmp_path: Any
) -> None:
    """500 profiles share one `updated`; the window edge and the crash fall exactly on it."""
    with KlaviyoSandbox(seed=4, profiles=2_400, events=200, rate_limits=False) as big:
        runner = make_runner(big, tmp_path)
        profiles = big.control.truth("profile")
        tie_at = max({p["updated"] for p in profiles}, key=[p["updated"] for p in profiles].count)
        tied = {p["id"] for p in profiles if p["updated"] == tie_at}
        assert len(tied) == 500
        start = (instant(tie_at) - timedelta(days=3)).isoformat()
        config: dict[str, Any] = {
            "start_date": start,
            "backfill_window_days": 3,
            "page_sizes": {"profiles": 37},
            "rate_limit_percent": 0,
        }

        def window_ended_at_the_tie(
            message: dict[str, Any], messages: list[dict[str, Any]]
        ) -> bool:
            return (
                message["type"] == "STATE"
                and message["value"]["bookmarks"].get("profiles", {}).get("replication_key_value")
                == tie_at
            )

        killed = runner.until(window_ended_at_the_tie, streams=["profiles"], **config)
        # the crash came before all of them were read (the first page, which shows where the
        # data starts, ends inside the tie: the bookmark stands on it with some tied emitted)
        assert not tied <= set(killed.ids("profiles"))
        resumed = runner(state=killed.state, streams=["profiles"], **config)
        assert_ok(resumed)
        assert tied <= set(resumed.ids("profiles"))


def test_deselected_properties_are_left_out_with_or_without_validation(
    run_tap: TapRunner, tmp_path: Any
) -> None:
    import json
    import subprocess

    from tap_klaviyo.tap import TapKlaviyo
    from tapkit.testing import parse, select

    for validate in (True, False):
        config = run_tap.config(validate_records=validate)
        catalog = select(TapKlaviyo, config, ["metrics"])
        for entry in catalog["streams"]:
            for metadata in entry["metadata"]:
                if metadata["breadcrumb"] == ["properties", "integration"]:
                    metadata["metadata"]["selected"] = False
        (tmp_path / "config.json").write_text(json.dumps(config))
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        done = subprocess.run(
            [
                *run_tap.command(config, None, None)[:3],
                "--config",
                str(tmp_path / "config.json"),
                "--catalog",
                str(tmp_path / "catalog.json"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        records = [m["record"] for m in parse(done.stdout) if m["type"] == "RECORD"]
        assert records, done.stderr[-2000:]
        assert all("integration" not in r and "name" in r for r in records), validate


def test_fields_the_schema_lacks_are_left_out_and_warned_once(
    run_tap: TapRunner, caplog: Any
) -> None:
    import logging

    from tap_klaviyo.tap import TapKlaviyo

    run = run_tap(streams=["metrics"])
    assert_ok(run)
    first, second = run.records("metrics")[:2]
    stream = TapKlaviyo(config=run_tap.config(), validate_config=False).streams["metrics"]
    with caplog.at_level(logging.WARNING):
        out = [
            message.record
            for record in ({**first, "surprise": 1}, {**second, "surprise": 2})
            for message in stream._generate_record_messages(record)
        ]
    assert out == [first, second]
    warnings = [r.getMessage() for r in caplog.records if "surprise" in r.getMessage()]
    assert len(warnings) == 1
    assert "schema does not have" in warnings[0]
