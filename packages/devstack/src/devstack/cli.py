"""``devstack``: bring the local stack up or down, open psql, run the demo job."""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

from devstack import demo, dotenv, postgres, sandboxes
from sandbox.cli import (
    bigquery_command,
    klaviyo_command,
    onetrust_command,
    pinterest_command,
    shopify_command,
)
from sandbox.declared.sandbox import command as declared_command

#: The sandboxes' seed: the same data on every machine.
SEED = 7


def project_root() -> Path:
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "meltano.yml").exists():
            return candidate
    raise SystemExit("devstack: run me inside the project (no meltano.yml found here or above)")


def keep_private(root: Path) -> None:
    """``.meltano/`` to its owner only: Meltano writes each plugin's settings, secrets included,
    to ``.meltano/run/<plugin>/*.config.json`` and leaves them there when it is killed. The same
    for ``.env``, which holds secrets too."""
    meltano_dir = root / ".meltano"
    meltano_dir.mkdir(exist_ok=True)
    for path in (meltano_dir, meltano_dir / "run"):
        if path.is_dir():
            path.chmod(0o700)
    if (root / ".env").is_file():
        (root / ".env").chmod(0o600)


def up(
    root: Path,
    *,
    profiles: int,
    events: int,
    orders: int,
    requests: int = 500,
    campaigns: int = 40,
) -> dict[str, str]:
    """Start what is missing; record addresses in .env; return the values written."""
    state_dir = root / ".local"
    env = {**dotenv.read(root / ".env"), **os.environ}
    values: dict[str, str] = {}
    configured = postgres.configured_server(env)
    if configured:
        print(f"postgres: a server is configured ({configured}); not starting the embedded one")
    else:
        embedded = postgres.start(state_dir / "postgres")
        values["TAPWORKS_PG_HOST"] = str(embedded.socket_dir)
        print(f"postgres: embedded, running; connect with: {embedded.psql_command()}")

    def port(api: str) -> int:
        return int(env.get(f"TAPWORKS_{api.upper()}_PORT", sandboxes.DEFAULT_PORTS[api]))

    values["TAPWORKS_KLAVIYO_URL"] = sandboxes.start(
        state_dir,
        "klaviyo",
        port("klaviyo"),
        lambda free: klaviyo_command(free, SEED, profiles, events),
    )
    # The shop's customers share emails with the Klaviyo account (the cross-source mart joins
    # them); it leaks 20 calls/s, a Plus shop's pace, as the dev tap config says.
    values["TAPWORKS_SHOPIFY_URL"] = sandboxes.start(
        state_dir,
        "shopify",
        port("shopify"),
        lambda free: shopify_command(
            free, SEED, orders, leak_per_second=20, klaviyo=(SEED, profiles)
        ),
    )
    values["TAPWORKS_ONETRUST_URL"] = sandboxes.start(
        state_dir,
        "onetrust",
        port("onetrust"),
        lambda free: onetrust_command(free, SEED, requests),
    )
    # Any pinr_ refresh token is accepted: the dev config's seed token, and the rotated one the
    # tap keeps in its refresh_token_file (each refresh revokes the one before, as Pinterest's).
    values["TAPWORKS_PINTEREST_URL"] = sandboxes.start(
        state_dir,
        "pinterest",
        port("pinterest"),
        lambda free: pinterest_command(free, SEED, campaigns),
    )
    # A warehouse next to the APIs: the BigQuery emulator with the demo dataset (its first
    # start installs the emulator's own venv, about 500 MB, under .local/bqemulator-venv/).
    values["TAPWORKS_BIGQUERY_URL"] = sandboxes.start(
        state_dir,
        "bigquery",
        port("bigquery"),
        lambda free: bigquery_command(free, state_dir / "bigquery", orders * 4, events // 2),
    )
    # Each source added by `devstack new-source`: its declared emulator.
    for api, (module, _) in sandboxes.DECLARED.items():
        values[f"TAPWORKS_{api.upper()}_URL"] = sandboxes.start(
            state_dir,
            api,
            port(api),
            partial(declared_command, module, seed=SEED),
        )
    labels = {
        "klaviyo": "Klaviyo",
        "shopify": "Shopify",
        "onetrust": "OneTrust",
        "pinterest": "Pinterest Ads",
        "bigquery": "BigQuery (emulator)",
        **{api: label for api, (_, label) in sandboxes.DECLARED.items()},
    }
    for api, label in labels.items():
        url = values[f"TAPWORKS_{api.upper()}_URL"]
        print(f"sandbox: {label} at {url} (log: .local/sandbox-{api}.log)")
    dotenv.write_block(root / ".env", values)
    keep_private(root)
    return values


def down(root: Path) -> None:
    state_dir = root / ".local"
    for api in sandboxes.DEFAULT_PORTS:
        print(f"sandbox {api}:", "stopped" if sandboxes.stop(state_dir, api) else "not running")
    print("postgres:", "stopped" if postgres.stop(state_dir / "postgres") else "not running")


#: Each subcommand: its one line for ``devstack --help``, and the description its own --help adds.
COMMANDS = {
    "up": (
        "start the embedded Postgres and the sandboxes; record their addresses in .env",
        "Start what is not running yet: the embedded Postgres (unless TARGET_POSTGRES_HOST or "
        "TARGET_POSTGRES_SQLALCHEMY_URL names a server), the Klaviyo, Shopify, OneTrust and "
        "Pinterest Ads sandboxes and the BigQuery emulator with its demo dataset, "
        "then write their addresses in the devstack block of .env, which the dev environment "
        "reads; keep .meltano/ and .env private to their owner. Running it again keeps what "
        "runs.",
    ),
    "demo": (
        "`up`, then every job end to end, with rows per table and the saved state",
        "`up`, then `meltano install` and the klaviyo-to-postgres, shopify-to-postgres, "
        "onetrust-to-postgres, pinterest-to-postgres, bigquery-to-postgres, cross-source-marts and "
        "marketing-marts jobs "
        "(each source's load and dbt build, then the marts on Klaviyo and Shopify together and "
        "on Pinterest Ads and Shopify together); prints each job's dbt summary, rows per table, "
        "the cross-source customers and marketing marts and the saved state. Meltano's full log "
        "goes to .local/demo.log.",
    ),
    "down": (
        "stop the sandboxes and the embedded Postgres",
        "Stop the sandboxes and the embedded Postgres `up` started; their data stays in .local/.",
    ),
    "status": (
        "say what runs: each sandbox's URL and the embedded Postgres",
        "Print each sandbox's URL (or `not running`) and whether the embedded Postgres runs.",
    ),
    "psql": (
        "open psql on the embedded database (starting it if needed)",
        "Start the embedded Postgres if it is not running, then replace this process with psql "
        "on its database tapworks.",
    ),
    "definitions": (
        "regenerate plugin definitions from each plugin's --about",
        "Write plugins/definitions/ (the hub definitions) and plugins/<type>.meltano.yml from each "
        "plugin's --about and packages/devstack/src/devstack/publish/catalog.py.",
    ),
    "publish": (
        "definitions, validation, hub files and packages, in order",
        "Regenerate the definitions, validate them against MeltanoHub's schemas, build the hub "
        "files (dist/hub, dist/hub-repo) and the packages; with --index-url, upload the packages. "
        "Stops at the first step that fails.",
    ),
    "new-source": (
        "add a source: tap, emulator, project entries, dbt staging and its page",
        "Write taps/tap-NAME (a tapkit tap with one stream per object, its incremental contract "
        "declared, settings, tests and a README with the source's characteristics), its emulator "
        "(packages/sandbox/src/sandbox/NAME, with contract tests), its meltano.yml entries (dev "
        "config, job, schedule), plugin definition, devstack wiring and "
        "transform/models/staging/NAME; then lock, install and generate the README tables and "
        "plugin definitions. Refuses a NAME that exists; on any error every file is put back.",
    ),
    "hub-serve": (
        "serve the built hub on 127.0.0.1",
        "Serve the hub files `publish` built, for MELTANO_HUB_URL=http://127.0.0.1:<port>.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devstack",
        description="This project's local stack (an embedded Postgres and the API sandboxes), "
        "its demo, and the publishing of its plugins.",
        epilog="`devstack <command> --help` describes a command and its options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def add(name: str) -> argparse.ArgumentParser:
        help_line, description = COMMANDS[name]
        return commands.add_parser(name, help=help_line, description=description)

    for name in ("up", "demo"):
        command = add(name)
        command.add_argument("--profiles", type=int, default=2_000, help="Klaviyo profiles")
        command.add_argument("--events", type=int, default=50_000, help="Klaviyo events")
        command.add_argument("--orders", type=int, default=500, help="Shopify orders")
        command.add_argument("--requests", type=int, default=500, help="OneTrust DSAR requests")
        command.add_argument("--campaigns", type=int, default=40, help="Pinterest campaigns")
    add("down")
    add("status")
    add("psql")
    generate = add("definitions")
    generate.add_argument(
        "--check", action="store_true", help="fail if a generated file is out of date"
    )
    release = add("publish")
    release.add_argument(
        "--hub-url", default="http://127.0.0.1:8766", help="where the hub files will be served"
    )
    release.add_argument(
        "--index-url", help="a package index to upload to (e.g. a local pypiserver)"
    )
    release.add_argument("--out", default="dist", help="output folder (default: dist)")
    scaffold = add("new-source")
    add_source_arguments(scaffold)
    serve = add("hub-serve")
    serve.add_argument("--port", type=int, default=8766, help="(default: 8766)")
    serve.add_argument("--dir", default="dist/hub", help="the hub files (default: dist/hub)")
    return parser


def add_source_arguments(command: argparse.ArgumentParser) -> None:
    """The prerequisites checklist as flags; each has a default per template."""
    command.add_argument(
        "name", metavar="NAME", help="the source, e.g. acme-billing (tap-acme-billing)"
    )
    command.add_argument("--template", required=True, choices=["rest", "backfill", "warehouse"])
    command.add_argument("--label", help="its display name (default: from NAME)")
    command.add_argument("--auth", choices=["api_key", "oauth_client_credentials"])
    command.add_argument(
        "--object",
        dest="objects",
        action="append",
        metavar="NAME[:FIELD=TYPE,...]",
        help="an object to read, with its fields (types: string, integer, number, boolean, "
        "timestamp, email); repeat for more. Every object has id, created_at and updated_at",
    )
    command.add_argument("--mode", choices=["incremental", "full_table"], default="incremental")
    command.add_argument(
        "--time-format", choices=["iso8601", "epoch_seconds", "date"], help="of the API's filter"
    )
    command.add_argument("--filter-param", help="the API's lower bound on updated_at")
    command.add_argument(
        "--filter-exclusive", action="store_true", help="the filter means after, not at or after"
    )
    command.add_argument("--upper-param", help="the API's upper bound on updated_at (before)")
    command.add_argument("--no-upper-bound", action="store_true", help="the API has none")
    command.add_argument("--created-param", help="backfill: the history's filter on created_at")
    command.add_argument("--window-days", type=int, default=30, help="days per window (30)")
    command.add_argument("--rate-per-second", type=int, default=10)
    command.add_argument("--rate-per-minute", type=int, default=300)
    command.add_argument("--max-concurrent-requests", type=int, help="requests in flight")
    command.add_argument("--max-page-size", type=int, default=100)
    command.add_argument("--port", type=int, default=0, help="the emulator's (default: a free one)")


def source_answers(args: argparse.Namespace) -> dict[str, Any]:
    names = [
        "name",
        "template",
        "label",
        "auth",
        "objects",
        "mode",
        "time_format",
        "filter_param",
        "filter_exclusive",
        "upper_param",
        "no_upper_bound",
        "created_param",
        "window_days",
        "rate_per_second",
        "rate_per_minute",
        "max_concurrent_requests",
        "max_page_size",
        "port",
    ]
    return {name: getattr(args, name) for name in names}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    root = project_root()
    if args.command == "up":
        up(
            root,
            profiles=args.profiles,
            events=args.events,
            orders=args.orders,
            requests=args.requests,
            campaigns=args.campaigns,
        )
    elif args.command == "down":
        down(root)
    elif args.command == "status":
        for api in sandboxes.DEFAULT_PORTS:
            url = sandboxes.running_url(root / ".local", api)
            print(f"sandbox {api}: {url or 'not running'}")
        running = (root / ".local" / "postgres" / "postmaster.pid").exists()
        print(
            f"postgres: {'running' if running else 'not running'} ({root / '.local' / 'postgres'})"
        )
    elif args.command == "psql":
        embedded = postgres.start(root / ".local" / "postgres")
        os.execv(
            str(embedded.psql),
            [str(embedded.psql), "-h", str(embedded.socket_dir), "-U", "postgres", "tapworks"],
        )
    elif args.command == "definitions":
        from devstack.publish import definitions

        if args.check:
            if stale := definitions.stale(root):
                sys.exit(
                    "devstack: out of date, run `uv run devstack definitions`: "
                    + ", ".join(str(p.relative_to(root)) for p in stale)
                )
        else:
            for path in definitions.write(root):
                print(f"wrote {path.relative_to(root)}")
    elif args.command == "publish":
        from devstack.publish.command import publish
        from devstack.publish.definitions import PublishError

        try:
            publish(root, args.hub_url, args.index_url, root / args.out)
        except PublishError as exc:
            sys.exit(f"devstack publish: stopped: {exc}")
    elif args.command == "new-source":
        from devstack.scaffold.command import ScaffoldError, new_source
        from devstack.scaffold.spec import SpecError, build

        try:
            spec = build(**source_answers(args))
            written = new_source(root, spec)
        except (SpecError, ScaffoldError) as exc:
            sys.exit(f"devstack new-source: {exc}")
        print(
            f"added {spec.tap}: {len(written)} files; next: `uv run pytest taps/{spec.tap}/tests`, then"
        )
        print(f"  `uv run devstack up && uv run meltano run {spec.name}-to-postgres`")
    elif args.command == "hub-serve":
        from devstack.publish.command import serve_hub

        serve_hub(root / args.dir, args.port)
    elif args.command == "demo":
        values = up(
            root,
            profiles=args.profiles,
            events=args.events,
            orders=args.orders,
            requests=args.requests,
            campaigns=args.campaigns,
        )
        sys.exit(demo.run(root, values))


if __name__ == "__main__":
    main()
