"""Faults are survived; bad input fails at once, with the cause on one line, state untouched."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from devstack.testing import Project
from sandbox.klaviyo.sandbox import KlaviyoSandbox


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cause_line(output: str, *fragments: str) -> str:
    """The one log line of output that names the cause (all fragments on the same line)."""
    lines = [
        line
        for line in output.splitlines()
        if line[:4].isdigit() and all(f in line for f in fragments)
    ]
    assert lines, f"no line names the cause {fragments}:\n{output[-3000:]}"
    return lines[0]


def test_a_429_storm_and_5xx_bursts_end_in_a_complete_load(project: Project) -> None:
    control = project.sandbox.control
    control.inject_fault("429", count=4, retry_after=1)
    control.inject_fault("503", count=3, path="/api/events")
    control.inject_fault("500", count=2, path="/api/profiles")
    control.inject_fault("502", count=2, path="/api/campaigns")
    result = project.run()
    assert result.returncode == 0, result.output[-3000:]
    faults = {e["fault"] for e in control.requests() if e["fault"]}
    assert faults == {"429", "503", "500", "502"}
    assert sorted(project.ids("events")) == sorted(e["id"] for e in control.truth("event"))
    assert sorted(project.ids("profiles")) == sorted(p["id"] for p in control.truth("profile"))


def bookmark_values(state: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a state, by path (an empty entry and a missing one mean the same)."""
    if isinstance(state, dict):
        return {
            k: v
            for key, value in state.items()
            for k, v in bookmark_values(value, f"{path}/{key}").items()
        }
    if isinstance(state, list):
        return {
            k: v
            for i, value in enumerate(state)
            for k, v in bookmark_values(value, f"{path}[{i}]").items()
        }
    return {path: state}


def assert_failed_and_state_kept(project: Project, result_code: int, before: dict) -> None:
    assert result_code != 0
    after = bookmark_values(project.state())
    expected = bookmark_values(before)
    changed = {
        k: (expected.get(k), after.get(k))
        for k in set(after) | set(expected)
        if after.get(k) != expected.get(k)
    }
    assert not changed, changed


def test_a_wrong_key(loaded_project: Project, tmp_path: Path) -> None:
    before = loaded_project.state()
    with KlaviyoSandbox(
        seed=12, profiles=300, events=2_500, api_keys={"pk_the_only_valid_key"}
    ) as strict:
        result = loaded_project.run(TAPWORKS_KLAVIYO_URL=strict.api_url)
    assert "401" in cause_line(result.output, "Check api_key")
    assert_failed_and_state_kept(loaded_project, result.returncode, before)


def test_an_unreachable_api(loaded_project: Project) -> None:
    before = loaded_project.state()
    result = loaded_project.run(
        TAP_KLAVIYO_API_URL=f"http://127.0.0.1:{closed_port()}/api", TAP_KLAVIYO_MAX_RETRIES="2"
    )
    cause_line(result.output, "giving up", "ConnectionError")
    assert_failed_and_state_kept(loaded_project, result.returncode, before)


def test_an_unreachable_database(loaded_project: Project) -> None:
    before = loaded_project.state()
    result = loaded_project.run(
        TARGET_POSTGRES_SQLALCHEMY_URL="postgresql+psycopg://postgres@/nowhere?host=/nonexistent/socket/dir"
    )
    cause_line(result.output, "target-postgres", "/nonexistent/socket/dir")
    assert_failed_and_state_kept(loaded_project, result.returncode, before)


def test_a_malformed_env_file_value(loaded_project: Project, tmp_path: Path) -> None:
    before = loaded_project.state()
    env_file = tmp_path / ".env"
    env_file.write_text("TAP_KLAVIYO_START_DATE=the first of May\n")
    result = loaded_project.meltano(
        "--env-file", str(env_file), "run", "tap-klaviyo", "target-postgres"
    )
    cause_line(result.output, "start_date", "the first of May", "ISO 8601")
    assert_failed_and_state_kept(loaded_project, result.returncode, before)
