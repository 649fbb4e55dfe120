"""What a user following the README meets before any data moves: `devstack --help`, a private
`.meltano/`, and state commands that run in a script."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from devstack.cli import COMMANDS
from devstack.testing import MELTANO, STATE_ID, Project

ROOT = Path(__file__).resolve().parents[1]
DEVSTACK = str(Path(sys.executable).parent / "devstack")


def devstack(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DEVSTACK, *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def flat(text: str) -> str:
    """argparse wraps lines to the terminal (and after hyphens): compare without whitespace."""
    return "".join(text.split())


def test_devstack_help_explains_every_subcommand() -> None:
    # The subcommands as argparse knows them, from its own refusal of an unknown one.
    refused = devstack("no-such-command").stderr
    names = re.search(r"choose from (.*?)\)", refused, re.DOTALL)
    assert names, refused
    subcommands = [name.strip(" '") for name in names[1].split(",")]
    assert "up" in subcommands
    assert "hub-serve" in subcommands
    listing = flat(devstack("--help").stdout)
    for name in subcommands:
        assert name in COMMANDS, f"devstack {name}: no help line or description in COMMANDS"
        help_line, description = COMMANDS[name]
        assert f"{name}{flat(help_line)}" in listing, f"devstack --help: no help for {name}"
        assert flat(description) in flat(devstack(name, "--help").stdout), name


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def a_checkout(tmp_path: Path) -> Path:
    """A project as a user's umask leaves it: .meltano/ (run files inside) and .env readable
    by all, as `meltano install` and `cp .env.example .env` make them."""
    root = tmp_path / "checkout"
    (root / ".meltano" / "run" / "tap-klaviyo").mkdir(parents=True)
    for path in (root / ".meltano", root / ".meltano" / "run"):
        path.chmod(0o755)
    shutil.copy(ROOT / "meltano.yml", root / "meltano.yml")
    shutil.copy(ROOT / "run", root / "run")
    (root / ".tools").symlink_to(ROOT / ".tools")  # ./run finds uv there, installs nothing
    (root / ".env").write_text("TAP_KLAVIYO_API_KEY=pk_secret\n")
    (root / ".env").chmod(0o644)
    return root


def test_the_run_script_keeps_meltano_private(tmp_path: Path) -> None:
    root = a_checkout(tmp_path)
    shutil.rmtree(root / ".meltano")
    done = subprocess.run(
        ["sh", str(root / "run")], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 2, done.stderr  # the usage line: nothing else ran
    assert private(root / ".meltano")  # made private before Meltano ever creates it
    # An existing checkout's .meltano/ too.
    (root / ".meltano").chmod(0o755)
    subprocess.run(["sh", str(root / "run")], capture_output=True, check=False, timeout=60)
    assert private(root / ".meltano")


def test_devstack_up_keeps_meltano_and_env_private(tmp_path: Path) -> None:
    root = a_checkout(tmp_path)
    # A configured server: no embedded Postgres; any free ports for the sandboxes.
    settings = {
        "TARGET_POSTGRES_HOST": "db.example.com",
        "TAPWORKS_KLAVIYO_PORT": "0",
        "TAPWORKS_SHOPIFY_PORT": "0",
    }
    try:
        done = devstack("up", "--profiles=20", "--events=50", "--orders=5", cwd=root, **settings)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        devstack("down", cwd=root)
    assert private(root / ".meltano")
    assert private(root / ".meltano" / "run")
    assert private(root / ".env")
    assert "TAPWORKS_KLAVIYO_URL=" in (root / ".env").read_text()


def readme_state_commands() -> list[str]:
    """The README's `meltano state` command lines that change state."""
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"^uv run meltano state (?:copy|move|set|clear) .*$", readme, re.MULTILINE)


def test_readme_state_changes_need_no_confirmation(project: Project) -> None:
    commands = readme_state_commands()
    assert any(" copy " in line for line in commands)
    for line in commands:
        assert "--force" in line.split(), f"prompts for confirmation in a script: {line}"
    saved = {"singer_state": {"bookmarks": {"profiles": {"replication_key_value": "2025-06-01"}}}}
    done = project.meltano("state", "set", "--force", STATE_ID, json.dumps(saved))
    assert done.returncode == 0, done.output[-2000:]
    # The copy lines exactly as written, with no terminal to answer a prompt.
    for line in (line for line in commands if " copy " in line):
        args = shlex.split(line)
        assert args[:3] == ["uv", "run", "meltano"]
        ran = subprocess.run(
            [MELTANO, *args[3:]],
            cwd=ROOT,
            env=project.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 0, f"{line}:\n{(ran.stdout + ran.stderr)[-2000:]}"
    assert project.state("dev:backup") == saved
    assert project.state() == saved
