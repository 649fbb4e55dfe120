"""``devstack``: bring the local stack up or down, open psql, run the demo job."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from devstack import demo, dotenv, postgres, sandboxes
from sandbox.cli import klaviyo_command, shopify_command

#: The sandboxes' seed: the same data on every machine.
SEED = 7


def project_root() -> Path:
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "meltano.yml").exists():
            return candidate
    raise SystemExit("devstack: run me inside the project (no meltano.yml found here or above)")


def up(root: Path, *, profiles: int, events: int, orders: int) -> dict[str, str]:
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
    for api in ("klaviyo", "shopify"):
        url = values[f"TAPWORKS_{api.upper()}_URL"]
        print(f"sandbox: {api.title()} at {url} (log: .local/sandbox-{api}.log)")
    dotenv.write_block(root / ".env", values)
    return values


def down(root: Path) -> None:
    state_dir = root / ".local"
    for api in sandboxes.DEFAULT_PORTS:
        print(f"sandbox {api}:", "stopped" if sandboxes.stop(state_dir, api) else "not running")
    print("postgres:", "stopped" if postgres.stop(state_dir / "postgres") else "not running")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "demo"):
        command = commands.add_parser(name)
        command.add_argument("--profiles", type=int, default=2_000)
        command.add_argument("--events", type=int, default=50_000)
        command.add_argument("--orders", type=int, default=500, help="Shopify orders")
    commands.add_parser("down")
    commands.add_parser("status")
    commands.add_parser("psql")
    generate = commands.add_parser(
        "definitions", help="regenerate plugin definitions from each plugin's --about"
    )
    generate.add_argument(
        "--check", action="store_true", help="fail if a generated file is out of date"
    )
    release = commands.add_parser(
        "publish", help="definitions, validation, hub files and packages, in order"
    )
    release.add_argument(
        "--hub-url", default="http://127.0.0.1:8766", help="where the hub files will be served"
    )
    release.add_argument(
        "--index-url", help="a package index to upload to (e.g. a local pypiserver)"
    )
    release.add_argument("--out", default="dist", help="output folder (default: dist)")
    serve = commands.add_parser("hub-serve", help="serve the built hub on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8766)
    serve.add_argument("--dir", default="dist/hub")
    args = parser.parse_args(argv)
    root = project_root()
    if args.command == "up":
        up(root, profiles=args.profiles, events=args.events, orders=args.orders)
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
    elif args.command == "hub-serve":
        from devstack.publish.command import serve_hub

        serve_hub(root / args.dir, args.port)
    elif args.command == "demo":
        values = up(root, profiles=args.profiles, events=args.events, orders=args.orders)
        sys.exit(demo.run(root, values))


if __name__ == "__main__":
    main()
