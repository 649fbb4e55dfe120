"""`.env.example` used as the README says: copied, its REQUIRED lines filled in, every Meltano
command works in both environments, and `meltano config test` names a wrong setting.

Meltano reads the copy through `--env-file`, as it reads `.env` at the project root, so the
test runs in this project (its plugins, as installed) and leaves no `.env` behind."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from devstack import postgres
from devstack.testing import clean_env
from sandbox.klaviyo.sandbox import KlaviyoSandbox

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / ".env.example"
BATCH = ROOT / "tests" / "meltano_batch.py"
DATABASE = "env_example"
LINE = re.compile(r"(?P<comment># ?)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)")


def variables() -> list[tuple[str, str, bool]]:
    """(name, value, commented out) of each NAME=value line of the example."""
    found = []
    for line in EXAMPLE.read_text().splitlines():
        if match := LINE.fullmatch(line):
            found.append((match["name"], match["value"], bool(match["comment"])))
    return found


def plugin_settings() -> dict[str, set[str]]:
    """Each plugin of the project, with its settings' names."""
    plugins: dict[str, set[str]] = {}
    for path in sorted((ROOT / "plugins").glob("*.meltano.yml")):
        for entries in yaml.safe_load(path.read_text())["plugins"].values():
            for entry in entries:
                plugins[entry["name"]] = {setting["name"] for setting in entry["settings"]}
    return plugins


def copy_example(
    destination: Path, values: dict[str, str], *, uncomment: bool = False, extra: str = ""
) -> Path:
    """The example with each line named in ``values`` set (uncommented); with ``uncomment``,
    every other commented-out line too, as it is."""
    lines = []
    for line in EXAMPLE.read_text().splitlines():
        match = LINE.fullmatch(line)
        if match and match["name"] in values:
            line = f"{match['name']}={values[match['name']]}"
        elif match and uncomment:
            line = f"{match['name']}={match['value']}"
        lines.append(line)
    destination.write_text("\n".join(lines) + "\n" + extra)
    return destination


#: One Meltano command of a batch: its arguments after --env-file, and variables of its own.
Command = tuple[tuple[str, ...], dict[str, str]]


@dataclass
class Ran:
    command: str
    returncode: int
    output: str


def command(*args: str, **env: str) -> Command:
    return args, env


def meltano(env_file: Path, *commands: Command) -> list[Ran]:
    """The commands one after the other in one process (tests/meltano_batch.py: Meltano's import
    is most of a command's time), in the user's shell: none of the test run's settings."""
    clean = clean_env("TAPWORKS_", "DBT_")
    given = [{"args": [f"--env-file={env_file}", *args], "env": env} for args, env in commands]
    results = env_file.with_name("meltano-results.json")
    done = subprocess.run(
        [sys.executable, str(BATCH), str(results)],
        input=json.dumps(given),
        cwd=ROOT,
        env={**clean, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return [
        Ran(" ".join(c["args"]), r["returncode"], r["output"])
        for c, r in zip(given, json.loads(results.read_text()), strict=True)
    ]


def ok(ran: Ran) -> str:
    assert ran.returncode == 0, f"meltano {ran.command}:\n{ran.output[-3000:]}"
    assert "Traceback" not in ran.output, ran.output[-3000:]
    return ran.output


@pytest.fixture
def required(pg: postgres.Embedded) -> dict[str, str]:
    """A value for each REQUIRED line: the test's Postgres, a key the sandbox accepts."""
    postgres.create_databases(pg, (DATABASE,))
    return {
        "TAP_KLAVIYO_API_KEY": "pk_example_not_a_secret",
        "TARGET_POSTGRES_HOST": str(pg.socket_dir),
        "TARGET_POSTGRES_USER": "postgres",
        "TARGET_POSTGRES_PASSWORD": "unused-by-this-server",
        "TARGET_POSTGRES_DATABASE": DATABASE,
        "MELTANO_DATABASE_URI": pg.meltano_url(DATABASE),
    }


@pytest.fixture
def klaviyo() -> Iterator[KlaviyoSandbox]:
    with KlaviyoSandbox(seed=5, profiles=20, events=50, rate_limits=False) as sandbox:
        yield sandbox


def description(lines: list[str], name: str) -> list[str]:
    """The comment lines right above a variable's line."""
    index = next(i for i, text in enumerate(lines) if text.lstrip("# ").startswith(f"{name}="))
    above: list[str] = []
    for text in reversed(lines[:index]):
        if not text.startswith("# ") or LINE.fullmatch(text):
            break
        above.insert(0, text)
    return above


def test_only_required_lines_are_left_to_fill_in_and_each_is_a_setting() -> None:
    lines = EXAMPLE.read_text().splitlines()
    blank = [name for name, value, commented in variables() if not commented and not value]
    for name in blank:
        assert any(text.startswith("# REQUIRED") for text in description(lines, name)), (
            f"{name} is blank (Meltano passes an empty string) and not marked REQUIRED"
        )
    assert set(blank) == {
        "TAP_KLAVIYO_API_KEY",
        "TARGET_POSTGRES_HOST",
        "TARGET_POSTGRES_USER",
        "TARGET_POSTGRES_PASSWORD",
        "TARGET_POSTGRES_DATABASE",
        "MELTANO_DATABASE_URI",
    }
    # Each line documented, and the variable of a setting the plugin has (not a renamed one).
    settings = plugin_settings()
    for name, _, _ in variables():
        assert description(lines, name), f"{name} has no description above it"
        if name == "MELTANO_DATABASE_URI":  # Meltano's own setting
            continue
        # the longest plugin name the variable starts with (tap-lake before tap-l...)
        plugin = max(
            (p for p in settings if name.startswith(f"{p.upper().replace('-', '_')}_")), key=len
        )
        setting = name.removeprefix(f"{plugin.upper().replace('-', '_')}_").lower()
        assert setting in settings[plugin], f"{name}: {plugin} has no setting {setting}"


@pytest.mark.slow
def test_the_copy_with_its_required_lines_filled_in_works_in_both_environments(
    tmp_path: Path, installed: None, required: dict[str, str], klaviyo: KlaviyoSandbox
) -> None:
    env_file = copy_example(tmp_path / ".env", required)
    lists = [
        command(f"--environment={environment}", "config", "list", plugin)
        for environment in ("dev", "prod")
        for plugin in ("meltano", *plugin_settings())
    ]
    # The tap validates what reaches it, and reads a record (the sandbox stands in for Klaviyo).
    test = command(
        "--environment=prod",
        "config",
        "test",
        "tap-klaviyo",
        TAP_KLAVIYO_API_URL=klaviyo.api_url,
    )
    *listed, tested = meltano(env_file, *lists, test)
    for ran in listed:
        ok(ran)
    assert "Plugin configuration is valid" in ok(tested)
    # (Not `config test target-postgres`: Meltano 4.4.1 fails it with ProcessLookupError after
    # the loader has exited, whatever its settings.)


@pytest.mark.slow
def test_each_commented_out_default_is_valid_when_uncommented(
    tmp_path: Path, installed: None, pg: postgres.Embedded, required: dict[str, str]
) -> None:
    values = {
        **required,
        "TAP_SHOPIFY_SHOP": "example-shop",
        "TAP_SHOPIFY_ACCESS_TOKEN": "shpat_example_not_a_secret",
        "TAP_ONETRUST_HOSTNAME": "app-eu.onetrust.com",
        "TAP_ONETRUST_CLIENT_ID": "example-client",
        "TAP_ONETRUST_CLIENT_SECRET": "example-secret-not-a-secret",
        "TAP_PINTEREST_ADS_CLIENT_ID": "1234567",
        "TAP_PINTEREST_ADS_CLIENT_SECRET": "example-secret-not-a-secret",
        "TAP_PINTEREST_ADS_REFRESH_TOKEN": "pinr_example_not_a_secret",
        "TAP_BIGQUERY_PROJECT_ID": "example-project",
        "TARGET_POSTGRES_SQLALCHEMY_URL": pg.url(DATABASE),
    }
    env_file = copy_example(tmp_path / ".env", values, uncomment=True)
    lists = [
        command("--environment=prod", "config", "list", plugin)
        for plugin in (
            "tap-klaviyo",
            "tap-shopify",
            "tap-onetrust",
            "tap-pinterest-ads",
            "tap-bigquery",
            "tap-lake",
            "target-postgres",
            "target-lake",
            "dbt-postgres",
        )
    ]
    # --test=schema: the tap checks its settings, then writes its schemas, with no request.
    invokes = [
        command("--environment=prod", "invoke", tap, "--test=schema")
        for tap in ("tap-klaviyo", "tap-shopify", "tap-onetrust", "tap-pinterest-ads")
    ]
    for ran in meltano(env_file, *lists, *invokes):
        ok(ran)


@pytest.mark.slow
def test_config_test_names_the_wrong_setting(
    tmp_path: Path, installed: None, required: dict[str, str]
) -> None:
    # A URL without its scheme: the tap refuses it before any request.
    env_file = copy_example(
        tmp_path / ".env", {**required, "TAP_KLAVIYO_API_URL": "a.klaviyo.com/api"}
    )
    (done,) = meltano(env_file, command("--environment=prod", "config", "test", "tap-klaviyo"))
    output = done.output
    assert done.returncode == 1, output[-3000:]
    # Meltano shows the tap's last line only: it must say which setting, and what it expects.
    shown = output[output.index("Plugin configuration is invalid") :]
    assert "api_url: 'a.klaviyo.com/api' is not an http(s) URL" in shown, shown
    assert "the default is https://a.klaviyo.com/api" in shown, shown
