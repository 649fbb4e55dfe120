"""What `meltano run` prints by default while a tap runs: progress per stream and window, and a
summary per stream at the end, readable without `--log-format=json`."""

from __future__ import annotations

import re

from devstack.testing import Project

#: Tables of the Klaviyo job and the sandbox kinds whose records they hold.
STREAMS = {
    "profiles": "profile",
    "events": "event",
    "campaigns": "campaign",
    "lists": "list",
    "tags": "tag",
    "list_members": "list-member",
    "segment_members": "segment-member",
}
#: After Meltano's columns (time, level, plugin), the tap's message as it logged it.
MESSAGE = re.compile(r"^\S+ \[info +\] tap-klaviyo +(.*)$")
PROGRESS = re.compile(r"^(events|profiles): window \S+Z\.\.\S+Z: [\d,]+ records, [\d,]+/s")


def summary_rows(output: str) -> dict[str, list[str]]:
    """The summary's rows by stream, as the console shows them: records, requests, retries,
    429s, duration, bookmark (then Meltano's own fields)."""
    rows = {}
    for message in messages(output):
        if message.startswith("summary  "):
            name, *cells = re.split(r"\s{2,}", message.removeprefix("summary  ").strip())
            rows[name] = cells
    return rows


def messages(output: str) -> list[str]:
    return [m.group(1) for line in output.splitlines() if (m := MESSAGE.match(line))]


def test_the_default_console_shows_progress_per_stream_and_a_summary(project: Project) -> None:
    control = project.sandbox.control
    # a millisecond a record: a page of 1,000 events takes a second, so progress lines come
    control.set_latency(base_ms=20, per_record_ms=1)
    control.inject_fault("429", count=1, path="/api/profiles")
    result = project.run(TAP_KLAVIYO_PROGRESS_INTERVAL_SECONDS="1")
    assert result.returncode == 0, result.output[-3000:]
    said = messages(result.output)
    progress = {m.group(1) for line in said if (m := PROGRESS.match(line))}
    # events: pages of 1,000 take a second; profiles: the 429 waits one
    assert progress == {"events", "profiles"}, "\n".join(said)
    rows = summary_rows(result.output)
    assert rows["stream"][:5] == ["records", "requests", "retries", "429s", "duration"]
    for stream, kind in STREAMS.items():
        assert rows[stream][0] == f"{len(control.truth(kind)):,}", stream
    assert rows["profiles"][3] == "1"  # the 429
    log = control.requests()
    assert rows["total"][1] == f"{len(log):,}"
    state = project.state()["singer_state"]["bookmarks"]
    assert rows["events"][5].startswith(state["events"]["replication_key_value"])
    # singer-sdk's metrics are still there for tools that read them
    assert any("metric_name=record_count" in line for line in result.output.splitlines())
