"""`meltano run tap-klaviyo target-postgres`: complete, incremental, and whole after a crash."""

from __future__ import annotations

import time

from devstack.testing import Project, kill_plugin, wait_for

TABLES = {
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
INCREMENTAL = {
    "profiles": "updated",
    "events": "datetime",
    "campaigns": "updated_at",
    "lists": "updated",
    "segments": "updated",
    "templates": "updated",
    "flows": "updated",
    "flow_actions": "updated",
}


def assert_matches_sandbox(project: Project) -> None:
    control = project.sandbox.control
    for table, kind in TABLES.items():
        expected = sorted(r["id"] for r in control.truth(kind))
        assert sorted(project.ids(table)) == expected, table
        assert project.duplicate_keys(table) == 0, table
    for table, kind, key in (
        ("list_members", "list-member", "list_id"),
        ("segment_members", "segment-member", "segment_id"),
    ):
        expected_pairs = sorted((m[key], m["profile_id"]) for m in control.truth(kind))
        got = sorted(
            (a, b) for a, b in project.query(f"select {key}, profile_id from tap_klaviyo.{table}")
        )
        assert got == expected_pairs, table


def bookmarks(state: dict) -> dict[str, str]:
    found = {}
    for stream, entry in state["singer_state"]["bookmarks"].items():
        entries = entry.get("partitions", [entry])
        keys = {e.get("replication_key") for e in entries if e.get("replication_key")}
        if keys:
            found[stream] = keys.pop()
    return found


def test_full_run_loads_exactly_the_sandbox_and_saves_bookmarks(project: Project) -> None:
    result = project.run()
    assert result.returncode == 0, result.output[-3000:]
    assert_matches_sandbox(project)
    assert bookmarks(project.state()) == INCREMENTAL


def test_second_run_updates_in_place_adds_new_and_leaves_the_rest(
    loaded_project: Project,
) -> None:
    project = loaded_project  # after a good run
    before = dict(project.query("select id, _sdc_batched_at from tap_klaviyo.profiles"))
    mark = project.state()["singer_state"]["bookmarks"]["profiles"]["replication_key_value"]
    control = project.sandbox.control
    changed = control.update("profile", count=6)
    created = control.create("profile", count=3)
    new_events = control.create("event", count=5)
    time.sleep(1.1)  # the next run starts after these changes
    second = project.run()
    assert second.returncode == 0, second.output[-3000:]
    assert_matches_sandbox(project)
    after = dict(project.query("select id, _sdc_batched_at from tap_klaviyo.profiles"))
    revised = dict(
        project.query("select id, (properties->>'Revision')::int from tap_klaviyo.profiles")
    )
    assert all(revised[i] == 1 for i in changed)  # updated in place, not added beside
    assert set(created) <= set(after)
    assert set(new_events) <= set(project.ids("events"))
    rewound = {
        r[0]
        for r in project.query(
            "select id from tap_klaviyo.profiles where updated >= %s::timestamptz - interval '1 second'",
            mark,
        )
    }
    untouched = set(before) - set(changed) - rewound
    assert untouched
    assert all(after[i] == before[i] for i in untouched)  # not rewritten: same _sdc_batched_at


def _crash_and_recover(project: Project, plugin: str) -> None:
    control = project.sandbox.control
    control.inject_fault("slow", path="/api/events", seconds=60, delay_seconds=0.15)
    run = project.start_run(
        TAP_KLAVIYO_PAGE_SIZES='{"events": 100}', TARGET_POSTGRES_BATCH_SIZE_ROWS="300"
    )
    wait_for(lambda: project.count("events") >= 300)
    assert kill_plugin(run, plugin)
    run.wait(timeout=120)
    assert run.returncode != 0
    partial = project.count("events")
    assert 0 < partial < len(control.truth("event"))
    control.clear_faults()
    again = project.run()
    assert again.returncode == 0, again.output[-3000:]
    assert_matches_sandbox(project)


def test_a_killed_tap_loses_nothing_and_duplicates_nothing(project: Project) -> None:
    _crash_and_recover(project, "tap-klaviyo")


def test_a_killed_target_loses_nothing_and_duplicates_nothing(project: Project) -> None:
    _crash_and_recover(project, "target-postgres")
