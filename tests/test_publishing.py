"""Publishing: definitions that cannot drift from --about, valid for the hub, and a fresh Meltano
project that adds and runs our plugins from our own hub and package index."""

from __future__ import annotations

import copy
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack import postgres
from devstack.publish import definitions, hub
from devstack.publish.catalog import PLUGINS
from devstack.testing import clean_env
from sandbox.klaviyo.sandbox import KlaviyoSandbox

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCHEMAS = hub.HubSchemas(ROOT / "plugins" / "hub-schemas")


def committed(plugin_type: str, name: str, variant: str) -> dict[str, Any]:
    return yaml.safe_load(
        (ROOT / "plugins" / "definitions" / plugin_type / f"{name}--{variant}.yml").read_text()
    )


def setting_names(settings: list[dict[str, Any]]) -> set[str]:
    return {s["name"] for s in settings}


@pytest.mark.parametrize("plugin", PLUGINS, ids=[f"{p.name}--{p.variant}" for p in PLUGINS])
def test_definitions_have_exactly_the_settings_of_about(plugin: Any) -> None:
    about = definitions.about(plugin)
    from_about = setting_names(definitions.settings_from_schema(about["settings"], {}))
    definition = committed(plugin.type, plugin.name, plugin.variant)
    missing, extra = (
        from_about - setting_names(definition["settings"]),
        setting_names(definition["settings"]) - from_about,
    )
    assert not missing, (
        f"in --about but not in the definition: {sorted(missing)}; run `uv run devstack definitions`"
    )
    assert not extra, (
        f"in the definition but not in --about: {sorted(extra)}; run `uv run devstack definitions`"
    )
    project = yaml.safe_load((ROOT / "plugins" / f"{plugin.type}.meltano.yml").read_text())
    name = plugin.project_name or plugin.name
    entry = next(e for e in project["plugins"][plugin.type] if e["name"] == name)
    assert setting_names(entry["settings"]) == from_about


@pytest.mark.parametrize("plugin", PLUGINS, ids=[f"{p.name}--{p.variant}" for p in PLUGINS])
def test_hub_definitions_name_the_package_unpinned_and_the_project_installs_its_own(
    plugin: Any,
) -> None:
    # Hub entries are unpinned (a project pins through its own pip_url or lock file); this
    # project keeps installing its checkout (or its chosen version).
    assert committed(plugin.type, plugin.name, plugin.variant)["pip_url"] == plugin.distribution
    project = yaml.safe_load((ROOT / "plugins" / f"{plugin.type}.meltano.yml").read_text())
    name = plugin.project_name or plugin.name
    entry = next(e for e in project["plugins"][plugin.type] if e["name"] == name)
    assert entry["pip_url"] == plugin.project_pip_url


def test_every_generated_file_is_current() -> None:
    assert definitions.stale(ROOT) == [], "run `uv run devstack definitions`"


def test_secrets_dates_and_enums_have_the_right_kind() -> None:
    tap = {s["name"]: s for s in committed("extractors", "tap-klaviyo", "tapworks")["settings"]}
    assert tap["api_key"]["kind"] == "password"
    assert tap["api_key"]["sensitive"]
    assert tap["start_date"]["kind"] == tap["end_date"]["kind"] == "date_iso8601"
    assert tap["backfill_window_days"]["kind"] == "integer"
    assert tap["validate_records"]["kind"] == "boolean"
    assert tap["page_sizes"]["kind"] == "object"
    assert tap["profile_additional_fields"]["kind"] == "array"
    target = {
        s["name"]: s for s in committed("loaders", "target-postgres", "meltanolabs")["settings"]
    }
    assert target["password"]["kind"] == target["sqlalchemy_url"]["kind"] == "password"
    assert target["load_method"]["kind"] == "options"
    assert {o["value"] for o in target["load_method"]["options"]} >= {
        "append-only",
        "upsert",
        "overwrite",
    }
    assert target["use_copy"]["value"] is True
    ours = {s["name"]: s for s in committed("loaders", "target-postgres", "tapworks")["settings"]}
    assert ours["password"]["kind"] == ours["sqlalchemy_url"]["kind"] == "password"
    assert ours["load_method"]["kind"] == "options"
    assert ours["default_target_schema"]["value"] == "$MELTANO_EXTRACT__LOAD_SCHEMA"
    # the settings both variants have mean the same: switching variants needs no config change
    assert {"sqlalchemy_url", "host", "port", "user", "password", "database"} <= set(ours)
    assert {"default_target_schema", "load_method", "hard_delete", "batch_size_rows"} <= set(ours)
    assert set(ours) - set(target) <= {"batch_wait_limit_seconds"}


@pytest.mark.parametrize("plugin", PLUGINS, ids=[f"{p.name}--{p.variant}" for p in PLUGINS])
def test_objects_are_whole_settings_so_meltano_sends_no_nulls_inside_them(plugin: Any) -> None:
    # Dotted sub-settings make Meltano assemble the object with nulls for the unset ones; a null
    # stream_maps.__else__ makes singer-sdk drop every stream it does not map.
    definition = committed(plugin.type, plugin.name, plugin.variant)
    assert [s["name"] for s in definition["settings"] if "." in s["name"]] == []


def test_definitions_validate_against_the_hub_schemas() -> None:
    found = hub.load_definitions(ROOT / "plugins" / "definitions")
    assert len(found) == len(PLUGINS)
    assert hub.validate(SCHEMAS, found) == []


def test_a_broken_definition_fails_with_the_schema_message() -> None:
    broken = copy.deepcopy(committed("extractors", "tap-klaviyo", "tapworks"))
    del broken["namespace"]
    broken["quality"] = "platinum"
    broken["bogus_key"] = 1
    broken["settings"][0]["kind"] = "secret"
    messages = "\n".join(hub.validate(SCHEMAS, [("extractors", broken)]))
    assert "'namespace' is a required property" in messages
    assert "'platinum' is not one of" in messages
    assert "'bogus_key' was unexpected" in messages
    assert "'secret' is not one of" in messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def package_index(tmp_path: Path) -> Iterator[str]:
    """A local pypiserver; what it does not hold it redirects to PyPI (our packages' dependencies)."""
    port = free_port()
    packages_dir = tmp_path / "index"
    packages_dir.mkdir()
    server = subprocess.Popen(
        [
            str(BIN / "pypi-server"),
            "run",
            "-p",
            str(port),
            "-i",
            "127.0.0.1",
            "-a",
            ".",
            "-P",
            ".",
            "--fallback-url",
            "https://pypi.org/simple/",
            str(packages_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


def test_a_new_project_adds_and_runs_our_plugins_from_our_hub(
    tmp_path: Path, package_index: str, pg: postgres.Embedded
) -> None:
    hub_port = free_port()
    hub_url = f"http://127.0.0.1:{hub_port}"
    out = tmp_path / "dist"
    done = subprocess.run(
        [
            str(BIN / "devstack"),
            "publish",
            "--hub-url",
            hub_url,
            "--index-url",
            package_index,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        out / "hub-repo" / "_data" / "meltano" / "extractors" / "tap-klaviyo" / "tapworks.yml"
    ).exists()
    assert (
        "tap-klaviyo"
        in yaml.safe_load((out / "hub-repo" / "_data" / "default_variants.yml").read_text())[
            "extractors"
        ]
    )

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out / "hub"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", hub_port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    postgres.create_databases(pg, ("published",))
    try:
        with KlaviyoSandbox(seed=2, profiles=100, events=500, rate_limits=False) as sandbox:
            run_new_project(tmp_path / "their-project", hub_url, package_index, sandbox, pg)
    finally:
        server.shutdown()


def run_new_project(
    project: Path, hub_url: str, index_url: str, sandbox: KlaviyoSandbox, pg: postgres.Embedded
) -> None:
    env = clean_env("TAPWORKS_", "UV_", "PIP_")
    env.update(
        {
            "MELTANO_HUB_URL": hub_url,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PIP_INDEX_URL": f"{index_url}/simple/",
            "PIP_CONFIG_FILE": os.devnull,  # this machine's pip.conf adds other indexes: use ours only
            "UV_DEFAULT_INDEX": f"{index_url}/simple/",  # Meltano's uv venv backend reads uv's own
            "UV_NO_CONFIG": "1",
            "TAP_KLAVIYO_API_KEY": "pk_published_test",
            "TAP_KLAVIYO_API_URL": sandbox.api_url,
            "TAP_KLAVIYO_START_DATE": "2024-01-01T00:00:00Z",
            "TARGET_POSTGRES_SQLALCHEMY_URL": pg.url("published"),
        }
    )

    def meltano(*args: str, cwd: Path = project) -> str:
        done = subprocess.run(
            [str(BIN / "meltano"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, (
            f"meltano {' '.join(args)}:\n{(done.stdout + done.stderr)[-4000:]}"
        )
        return done.stdout + done.stderr

    meltano("init", str(project), "--no-usage-stats", cwd=project.parent)
    meltano("add", "tap-klaviyo")
    meltano("add", "target-postgres")
    meltano("install")
    meltano("--environment=dev", "run", "tap-klaviyo", "target-postgres")

    lock = json.loads(
        (project / "plugins" / "extractors" / "tap-klaviyo--tapworks.lock").read_text()
    )
    assert lock["pip_url"] == "tapworks-tap-klaviyo"  # the hub's, unpinned
    assert "api_key" in {s["name"] for s in lock["settings"]}
    target_lock = json.loads(
        (project / "plugins" / "loaders" / "target-postgres--tapworks.lock").read_text()
    )
    assert target_lock["pip_url"] == "tapworks-target-postgres"  # ours: the default
    import psycopg

    with psycopg.connect(pg.url("published", driver="postgresql")) as connection:
        loaded = connection.execute("select count(*) from tap_klaviyo.profiles").fetchone()
    assert loaded is not None
    assert loaded[0] == len(sandbox.control.truth("profile"))
    state = meltano("state", "get", "dev:tap-klaviyo-to-target-postgres")
    assert '"profiles"' in state


def test_publish_stops_at_the_first_failure_and_says_which(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [str(BIN / "devstack"), "publish", "--index-url", closed, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "4. packages" in done.stdout
    assert "uploaded" not in done.stdout
    assert f"devstack publish: stopped: uploading to {closed} failed" in done.stderr
