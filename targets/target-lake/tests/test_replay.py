"""tap-lake: target-lake's input comes back out, message for message; incrementally; and only
from files that are whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from target_lake.testing import Lake, event, events, record, schema, state, without_nulls


def sent(messages: list[dict[str, Any]], kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] in kinds]


def test_a_replay_sends_what_the_tap_sent(lake: Lake) -> None:
    full_read = [
        {"type": "ACTIVATE_VERSION", "stream": "tags", "version": 7},
        *[record({"id": n, "kind": f"tag {n}"}, "tags", version=7) for n in range(3)],
        {"type": "ACTIVATE_VERSION", "stream": "tags", "version": 7},
    ]
    messages = [
        schema("tags", {"id": {"type": "integer"}, "kind": {"type": "string"}}),
        *list(events(0, 1_200, every=100))[:-1],
        *full_read,
        state({"bookmarks": {"events": {"next": 1_200}}, "tags": "done"}),
    ]
    lake.write(messages, batch_size_rows=500)
    replay = lake.replay(cli=True)
    out = replay.messages
    # the same records, streams interleaved as they came, with time_extracted and version
    keep = ("RECORD", "ACTIVATE_VERSION")
    expected = [
        {**m, "record": without_nulls(m["record"])} if m["type"] == "RECORD" else m
        for m in sent(messages, keep)
    ]
    got = sent(out, keep)
    extracted = {m.get("time_extracted") for m in got if m.get("stream") == "events"}
    assert extracted == {"2026-12-01T08:00:00.000001Z"}  # the instant, in UTC
    for message in got + expected:
        message.pop("time_extracted", None)
    assert got == expected
    assert [m["stream"] for m in out if m["type"] == "SCHEMA"] == ["events", "tags"]
    assert {m["stream"]: m["schema"] for m in out if m["type"] == "SCHEMA"} == {
        m["stream"]: m["schema"] for m in sent(messages, ("SCHEMA",))
    }
    # STATE after each batch: the tap's own, with the replay's bookmark beside it
    last = out[-1]["value"]
    assert {k: v for k, v in last.items() if k != "tap_lake"} == messages[-1]["value"]
    assert len(last["tap_lake"]["runs"]) == 1


def test_a_replay_picks_up_where_the_last_one_ended(lake: Lake) -> None:
    lake.write(list(events(0, 500, every=100)), batch_size_rows=200)
    first = lake.replay()
    assert len(first.records()) == 500
    bookmark = first.states[-1]["value"]
    assert lake.replay(bookmark).records() == []
    lake.write(list(events(500, 800, every=100)), batch_size_rows=200)
    second = lake.replay(bookmark)
    assert [r["id"] for r in second.records()] == list(range(500, 800))
    assert second.states[-1]["value"]["bookmarks"] == {"events": {"next": 800}}


def test_streams_and_runs_can_be_chosen(lake: Lake) -> None:
    lake.write(list(events(0, 100, every=50)))
    lake.write([schema("tags", {"id": {"type": "integer"}}), record({"id": 1}, "tags")])
    runs = [m.run_id for m in lake.manifests()]
    assert {m["stream"] for m in lake.replay(streams=["tags"]).messages if "stream" in m} == {
        "tags"
    }
    only = lake.replay(run_ids=[next(m.run_id for m in lake.manifests() if m.rows == 100)])
    assert len(only.records()) == 100
    assert len(runs) == 2


def test_a_changed_file_stops_the_replay(lake: Lake) -> None:
    lake.write([schema(), record(event(1)), state({"n": 1})])
    (manifest,) = lake.manifests()
    path = Path(lake.settings["root"]) / manifest.files[0].path
    path.write_bytes(path.read_bytes()[:-10])
    replay = lake.replay(cli=True, expect_failure=True)
    assert replay.returncode == 1
    assert "does not match the sha256" in replay.stderr
    assert replay.records() == []


def test_unlisted_files_are_not_replayed(lake: Lake) -> None:
    lake.write([schema(), record(event(1)), state({"n": 1})])
    (manifest,) = lake.manifests()
    listed = Path(lake.settings["root"]) / manifest.files[0].path
    (listed.parent / "leftover-00001.parquet").write_bytes(listed.read_bytes())
    assert [r["id"] for r in lake.replay().records()] == [1]
