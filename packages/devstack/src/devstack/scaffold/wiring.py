"""The project's entries for a new source: each inserted above a ``# devstack new-source: ...
above`` marker (or appended to a one-line list), so the files stay hand-written and readable.

``edits(root, spec)`` returns every changed file's new text without writing anything: the
command writes them all or, on any failure, none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from devstack.scaffold.spec import SourceSpec, Template


class WiringError(RuntimeError):
    """A file lost its marker: the message names the file and the marker to put back."""


def marker(what: str) -> str:
    return f"# devstack new-source: {what} above"


def insert_above(text: str, what: str, addition: str, path: str) -> str:
    """``addition`` (lines written at column 0) above the marker, indented as the marker is."""
    found = re.search(rf"^([ \t]*){re.escape(marker(what))}$", text, re.M)
    if found is None:
        raise WiringError(f"{path}: no line `{marker(what)}`; put it back where {what} end")
    indent = found.group(1)
    lines = "".join(indent + line if line.strip() else line for line in addition.splitlines(True))
    return text[: found.start()] + lines + text[found.start() :]


def append_to_list(text: str, key: str, item: str, path: str) -> str:
    """``item`` appended to the one-line TOML list ``key = [...]``."""
    found = re.search(rf"^({re.escape(key)} = \[.*)\]$", text, re.M)
    if found is None:
        raise WiringError(f"{path}: no one-line list `{key} = [...]`")
    return text[: found.end(1)] + f", {item}]" + text[found.end() :]


def edits(root: Path, spec: SourceSpec) -> dict[str, str]:
    """Path (relative to ``root``) -> its new text, for every file the source is wired into."""
    changes: dict[str, str] = {}

    def edit(path: str, change: Callable[[str], str]) -> None:
        current = changes.get(path)
        if current is None:
            current = (root / path).read_text()
        changes[path] = change(current)

    port = spec.port or free_port(root)
    hyphen, ident, label = spec.name, spec.ident, spec.label
    job = f"{hyphen}-to-postgres"
    warehouse = spec.template is Template.WAREHOUSE
    credentials = (
        "  client_id: sandbox-client\n  client_secret: sandbox_not_a_secret\n"
        if spec.oauth
        else "  api_key: sandbox_not_a_secret\n"
    )
    edit(
        "meltano.yml",
        lambda t: insert_above(
            t,
            "dev configs",
            f"- name: {spec.tap}\n  config:\n    api_url: ${{{spec.url_variable}}}\n"
            + "".join(f"  {line}\n" for line in credentials.splitlines())
            + "    start_date: '2024-01-01T00:00:00Z'\n",
            "meltano.yml",
        ),
    )
    edit(
        "meltano.yml",
        lambda t: insert_above(
            t,
            "source jobs",
            f"- name: {job}\n  tasks:\n  - {spec.tap} target-postgres\n"
            f"  - dbt-postgres:freshness-{hyphen}\n  - dbt-postgres:build-{hyphen}\n\n",
            "meltano.yml",
        ),
    )
    interval, every = ("'*/15 * * * *'", "15-minutely") if warehouse else ("'@hourly'", "hourly")
    edit(
        "meltano.yml",
        lambda t: insert_above(
            t,
            "source schedules",
            f"- name: {job}-{every}\n  interval: {interval}\n  job: {job}\n",
            "meltano.yml",
        ),
    )
    paths = f"--target-path target/{hyphen} --log-path logs/{hyphen}"
    edit(
        "plugins/utilities.meltano.yml",
        lambda t: insert_above(
            t,
            "source commands",
            f"freshness-{hyphen}: {{args: source freshness --select source:{spec.schema} {paths}, "
            f"description: 'Freshness of the {label} source only'}}\n"
            f"build-{hyphen}: {{args: build --selector {ident} {paths}, "
            f"description: 'Build and test the {label} models only (the {job} job)'}}\n",
            "plugins/utilities.meltano.yml",
        ),
    )
    keywords = '("database", "meltano_sdk", "warehouse")' if warehouse else '("api", "meltano_sdk")'
    edit(
        "packages/devstack/src/devstack/publish/catalog.py",
        lambda t: insert_above(
            t,
            "source plugins",
            "Plugin(\n"
            '    type="extractors",\n'
            f'    name="{spec.tap}",\n'
            '    variant="tapworks",\n'
            f'    namespace="{spec.module}",\n'
            f'    label="{label}",\n'
            f'    distribution="tapworks-{spec.tap}",\n'
            f'    about_command=(sys.executable, "-m", "{spec.module}", "--about", "--format=json"),\n'
            f'    project_pip_url="-e ./packages/tapkit -e ./taps/{spec.tap}",\n'
            f'    domain_url="https://www.{hyphen}.example.com",\n'
            f"    keywords={keywords},\n"
            f'    logo="{hyphen}.svg",\n'
            f'    docs=f"{{PROJECT_URL}}/tree/main/taps/{spec.tap}#readme",\n'
            "    repo=PROJECT_URL,\n"
            "),\n",
            "catalog.py",
        ),
    )
    edit(
        "packages/devstack/src/devstack/publish/packages.py",
        lambda t: insert_above(t, "source packages", f'"taps/{spec.tap}",\n', "packages.py"),
    )
    edit(
        "packages/devstack/src/devstack/sandboxes.py",
        lambda t: insert_above(t, "source ports", f'"{ident}": {port},\n', "sandboxes.py"),
    )
    edit(
        "packages/devstack/src/devstack/sandboxes.py",
        lambda t: insert_above(
            t, "declared sandboxes", f'"{ident}": ("{ident}", "{label}"),\n', "sandboxes.py"
        ),
    )
    edit(
        "transform/dbt_project.yml",
        lambda t: insert_above(
            t, "source schemas", f"{ident}_schema: {spec.schema}\n", "dbt_project.yml"
        ),
    )
    edit("transform/selectors.yml", lambda t: _selector(t, spec))
    pool = "{slots: 8, kind: warehouse}" if warehouse else "{slots: 3, kind: saas-api}"
    edit(
        "orchestrate/sources.yml",
        lambda t: insert_above(
            t, "source pools", f"{spec.tap}: {pool}\n", "orchestrate/sources.yml"
        ),
    )
    edit(
        ".env.example", lambda t: insert_above(t, "source blocks", _env_block(spec), ".env.example")
    )
    edit(
        "pyproject.toml",
        lambda t: insert_above(
            t,
            "source packages",
            f"tapworks-{spec.tap} = {{ workspace = true }}\n",
            "pyproject.toml",
        ),
    )
    edit("pyproject.toml", lambda t: _dev_dependency(t, spec))
    edit(
        "pyproject.toml",
        lambda t: append_to_list(t, "testpaths", f'"taps/{spec.tap}/tests"', "pyproject.toml"),
    )
    edit(
        "pyproject.toml",
        lambda t: append_to_list(t, "known-first-party", f'"{spec.module}"', "pyproject.toml"),
    )
    return changes


def free_port(root: Path) -> int:
    """The first port from 9060 that no sandbox has (BigQuery's gRPC takes its REST port + 1)."""
    text = (root / "packages/devstack/src/devstack/sandboxes.py").read_text()
    taken = {int(p) for p in re.findall(r'^\s+"\w+": (\d+),', text, re.M)}
    taken |= {p + 1 for p in taken}
    return next(p for p in range(9060, 9200) if p not in taken)


def _selector(text: str, spec: SourceSpec) -> str:
    others = sorted(set(re.findall(r"value: (tap_\w+)$", text, re.M)) - {spec.schema})
    excluded = "".join(
        f"      - method: source\n        value: {name}\n        children: true\n"
        for name in (*others, "meltano")
    )
    selector = (
        f"- name: {spec.ident}\n"
        f"  description: The {spec.label} source's tests and staging models.\n"
        "  definition:\n"
        "    union:\n"
        "      - method: source\n"
        f"        value: {spec.schema}\n"
        "        children: true\n"
        "      - exclude:\n" + "".join(f"    {line}\n" for line in excluded.splitlines()) + "\n"
    )
    return insert_above(text, "source selectors", selector, "transform/selectors.yml")


def _env_block(spec: SourceSpec) -> str:
    prefix = spec.env_prefix
    if spec.oauth:
        credentials = (
            f"# REQUIRED for {spec.tap}: an OAuth client (client credentials) with read access.\n"
            f"# {prefix}_CLIENT_ID=\n"
            f"# REQUIRED for {spec.tap}: that client's secret.\n"
            f"# {prefix}_CLIENT_SECRET=\n"
        )
    else:
        credentials = (
            f"# REQUIRED for {spec.tap}: an API key with read access.\n# {prefix}_API_KEY=\n"
        )
    return (
        f"# --- {spec.label} ({spec.tap}): uncomment this block to use it ---\n"
        + credentials
        + f"# REQUIRED for {spec.tap}: read records changed from this instant on the first run.\n"
        f"# {prefix}_START_DATE=2024-01-01T00:00:00Z\n"
        f"# Where the API is, if not where the tap's README says.\n"
        f"# {prefix}_API_URL=\n\n"
    )


def _dev_dependency(text: str, spec: SourceSpec) -> str:
    """The tap in the workspace's dev group (the marker's second use, in ``[dependency-groups]``)."""
    head, found, tail = text.partition("[dependency-groups]")
    if not found:
        raise WiringError("pyproject.toml: no [dependency-groups] table")
    return (
        head
        + found
        + insert_above(tail, "source packages", f'"tapworks-{spec.tap}",\n', "pyproject.toml")
    )
