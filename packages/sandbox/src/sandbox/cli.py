"""``python -m sandbox <api> ...``: serve an API emulator on 127.0.0.1 until stopped.

    uv run python -m sandbox klaviyo --port 8765 --seed 7 --profiles 5000 --events 100000

Prints the API base URL (``http://127.0.0.1:PORT/api``) on one line once it accepts requests.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from typing import Any


def klaviyo_command(
    port: int, seed: int, profiles: int, events: int, *, rate_limits: bool = True
) -> list[str]:
    """The command line that starts the Klaviyo emulator in its own process."""
    command = [sys.executable, "-m", "sandbox", "klaviyo", "--port", str(port), "--seed", str(seed)]
    command += ["--profiles", str(profiles), "--events", str(events)]
    return command if rate_limits else [*command, "--no-rate-limit"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    apis = parser.add_subparsers(dest="api", required=True)
    klaviyo = apis.add_parser("klaviyo", help="the Klaviyo API, revision 2026-07-15")
    klaviyo.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    klaviyo.add_argument("--seed", type=int, default=1)
    klaviyo.add_argument("--profiles", type=int, default=1_000)
    klaviyo.add_argument("--events", type=int, default=10_000)
    klaviyo.add_argument(
        "--now", help="where the generated history ends (ISO 8601); default: midnight UTC today"
    )
    klaviyo.add_argument(
        "--frozen-clock", action="store_true", help="keep the data clock at --now until moved"
    )
    klaviyo.add_argument(
        "--no-rate-limit", action="store_true", help="turn rate limits off (benchmarks)"
    )
    klaviyo.add_argument("--rate-scale", type=float, default=1.0, help="multiply every limit tier")
    klaviyo.add_argument(
        "--api-key", action="append", default=[], help="accept only these keys (repeatable)"
    )
    klaviyo.add_argument(
        "--no-quirks", action="store_true", help="serve without emulated API quirks"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.api == "klaviyo":
        from sandbox.klaviyo.sandbox import KlaviyoSandbox

        options: dict[str, Any] = {
            "rate_limits": not args.no_rate_limit,
            "rate_scale": args.rate_scale,
        }
        if args.api_key:
            options["api_keys"] = args.api_key
        if args.no_quirks:
            options["quirks"] = frozenset()
        sandbox = KlaviyoSandbox(
            seed=args.seed,
            profiles=args.profiles,
            events=args.events,
            now=args.now,
            port=args.port,
            **options,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print(sandbox.api_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.server.serve_forever()
