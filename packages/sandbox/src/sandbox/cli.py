"""``python -m sandbox <api> ...``: serve an API emulator on 127.0.0.1 until stopped.

    uv run python -m sandbox klaviyo --port 8765 --seed 7 --profiles 5000 --events 100000
    uv run python -m sandbox shopify --port 8766 --seed 7 --orders 2000
    uv run python -m sandbox onetrust --port 8767 --seed 7 --requests 500
    uv run python -m sandbox pinterest --port 8768 --seed 7 --campaigns 40

Prints the base URL on one line once it accepts requests: ``http://127.0.0.1:PORT/api`` for
Klaviyo, the shop's root ``http://127.0.0.1:PORT`` for Shopify (``/admin/api/<version>/...``)
the tenant's root ``http://127.0.0.1:PORT`` for OneTrust and ``http://127.0.0.1:PORT/v5`` for
Pinterest.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
from pathlib import Path
from typing import Any


def klaviyo_command(
    port: int,
    seed: int,
    profiles: int,
    events: int,
    *,
    rate_limits: bool = True,
    frozen_clock: bool = False,
    latency_ms: float = 0,
    latency_per_record_ms: float = 0,
) -> list[str]:
    """The command line that starts the Klaviyo emulator in its own process."""
    command = [sys.executable, "-m", "sandbox", "klaviyo", "--port", str(port), "--seed", str(seed)]
    command += ["--profiles", str(profiles), "--events", str(events)]
    command += _common_flags(rate_limits, frozen_clock, latency_ms, latency_per_record_ms)
    return command


def shopify_command(
    port: int,
    seed: int,
    orders: int,
    *,
    rate_limits: bool = True,
    leak_per_second: float | None = None,
    klaviyo: tuple[int, int] | None = None,
    frozen_clock: bool = False,
    latency_ms: float = 0,
    latency_per_record_ms: float = 0,
) -> list[str]:
    """The command line that starts the Shopify emulator in its own process; ``klaviyo`` is
    the (seed, profiles) of a Klaviyo sandbox whose profiles' emails some customers share."""
    command = [sys.executable, "-m", "sandbox", "shopify", "--port", str(port), "--seed", str(seed)]
    command += ["--orders", str(orders)]
    if leak_per_second is not None:
        command += ["--leak-per-second", str(leak_per_second)]
    if klaviyo is not None:
        command += ["--klaviyo-seed", str(klaviyo[0]), "--klaviyo-profiles", str(klaviyo[1])]
    command += _common_flags(rate_limits, frozen_clock, latency_ms, latency_per_record_ms)
    return command


def onetrust_command(
    port: int,
    seed: int,
    requests: int,
    *,
    rate_limits: bool = True,
    frozen_clock: bool = False,
    latency_ms: float = 0,
    latency_per_record_ms: float = 0,
) -> list[str]:
    """The command line that starts the OneTrust emulator in its own process."""
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "onetrust",
        "--port",
        str(port),
        "--seed",
        str(seed),
    ]
    command += ["--requests", str(requests)]
    command += _common_flags(rate_limits, frozen_clock, latency_ms, latency_per_record_ms)
    return command


def pinterest_command(
    port: int,
    seed: int,
    campaigns: int,
    *,
    rate_limits: bool = True,
    frozen_clock: bool = False,
    latency_ms: float = 0,
    latency_per_record_ms: float = 0,
) -> list[str]:
    """The command line that starts the Pinterest Ads emulator in its own process."""
    command = [sys.executable, "-m", "sandbox", "pinterest", "--port", str(port)]
    command += ["--seed", str(seed), "--campaigns", str(campaigns)]
    command += _common_flags(rate_limits, frozen_clock, latency_ms, latency_per_record_ms)
    return command


def bigquery_command(port: int, data_dir: Path, orders: int, events: int) -> list[str]:
    """The command line that starts the BigQuery emulator (REST on ``port``, gRPC on the next
    one) with the demo dataset loaded where missing."""
    command = [sys.executable, "-m", "sandbox.bigquery", "--port", str(port)]
    command += ["--grpc-port", str(port + 1), "--data-dir", str(data_dir)]
    return [*command, "--demo-orders", str(orders), "--demo-events", str(events)]


def _common_flags(
    rate_limits: bool, frozen_clock: bool, latency_ms: float, latency_per_record_ms: float
) -> list[str]:
    """What ``_api_parser`` reads, for the settings that differ from its defaults."""
    flags = [] if rate_limits else ["--no-rate-limit"]
    if frozen_clock:
        flags.append("--frozen-clock")
    if latency_ms:
        flags += ["--latency-ms", str(latency_ms)]
    if latency_per_record_ms:
        flags += ["--latency-per-record-ms", str(latency_per_record_ms)]
    return flags


def _milliseconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected milliseconds of at least 0, got {text!r}")
    return value


def _api_parser(apis: Any, name: str, help_text: str, *, no_rate_limit: str) -> Any:
    """A subcommand with what every emulator takes: port, seed, clock, limits, page time."""
    parser = apis.add_parser(name, help=help_text)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--now", help="where the generated history ends (ISO 8601); default: midnight UTC today"
    )
    parser.add_argument(
        "--frozen-clock", action="store_true", help="keep the data clock at --now until moved"
    )
    parser.add_argument("--no-rate-limit", action="store_true", help=no_rate_limit)
    parser.add_argument(
        "--latency-ms",
        type=_milliseconds,
        default=0.0,
        metavar="BASE",
        help="wait BASE ms before writing each API answer, as a real API's page time (default 0)",
    )
    parser.add_argument(
        "--latency-per-record-ms",
        type=_milliseconds,
        default=0.0,
        metavar="PER",
        help="and PER ms more per record the answer carries (default 0)",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    apis = parser.add_subparsers(dest="api", required=True)
    klaviyo = _api_parser(
        apis,
        "klaviyo",
        "the Klaviyo API, revision 2026-07-15",
        no_rate_limit="turn rate limits off (benchmarks)",
    )
    klaviyo.add_argument("--profiles", type=int, default=1_000)
    klaviyo.add_argument("--events", type=int, default=10_000)
    klaviyo.add_argument("--rate-scale", type=float, default=1.0, help="multiply every limit tier")
    klaviyo.add_argument(
        "--api-key", action="append", default=[], help="accept only these keys (repeatable)"
    )
    klaviyo.add_argument(
        "--no-quirks", action="store_true", help="serve without emulated API quirks"
    )
    shopify = _api_parser(
        apis,
        "shopify",
        "the Shopify Admin REST API, 2025-10 by default",
        no_rate_limit="turn the leaky bucket off",
    )
    shopify.add_argument("--orders", type=int, default=1_000)
    shopify.add_argument("--bucket-size", type=int, default=40)
    shopify.add_argument("--leak-per-second", type=float, default=2.0)
    shopify.add_argument("--utc-offset", default="-05:00", help="the shop's zone, e.g. -05:00")
    shopify.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN[=SCOPE,...]",
        help="accept only these tokens (repeatable); without scopes a token gets all of them",
    )
    shopify.add_argument("--klaviyo-seed", type=int, help="share emails with this Klaviyo sandbox")
    shopify.add_argument("--klaviyo-profiles", type=int, default=0)
    onetrust = _api_parser(
        apis,
        "onetrust",
        "the OneTrust DSAR and consent APIs",
        no_rate_limit="turn the per-minute and per-hour limits off",
    )
    onetrust.add_argument("--requests", type=int, default=500, help="DSAR requests to generate")
    onetrust.add_argument("--rate-scale", type=float, default=1.0, help="multiply both limits")
    onetrust.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="accept only these client credentials (repeatable); default: any non-empty pair",
    )
    onetrust.add_argument("--token-ttl", type=int, default=3600, metavar="SECONDS")
    onetrust.add_argument(
        "--v4-disabled",
        action="store_true",
        help="answer the Data Subjects V4 API as a tenant without it does (403)",
    )
    _pinterest_parser(apis)
    return parser


def _pinterest_parser(apis: Any) -> None:
    pinterest = _api_parser(
        apis,
        "pinterest",
        "the Pinterest Ads API v5 (ad accounts, campaigns, ad groups, ads, analytics)",
        no_rate_limit="turn the per-category (and daily) limits off",
    )
    pinterest.add_argument("--campaigns", type=int, default=40, help="campaigns to generate")
    pinterest.add_argument("--rate-scale", type=float, default=1.0, help="multiply every limit")
    pinterest.add_argument(
        "--daily-limit",
        type=int,
        metavar="N",
        help="requests per token per day across categories (the Trial tier: 1000); default none",
    )
    pinterest.add_argument(
        "--token",
        action="extend",
        nargs="+",
        default=[],
        help="accept only these bearer tokens besides issued ones (default: any pina_...)",
    )
    pinterest.add_argument(
        "--client",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID:SECRET",
        help="accept only these client credentials (repeatable); default: any non-empty pair",
    )
    pinterest.add_argument(
        "--refresh-token",
        action="extend",
        nargs="+",
        default=[],
        help="accept only these refresh tokens besides issued ones (default: any pinr_...)",
    )
    pinterest.add_argument(
        "--keep-rotated-refresh-tokens",
        action="store_true",
        help="a refresh token keeps working after its rotation (default: revoked)",
    )
    pinterest.add_argument("--access-token-ttl", type=int, default=2_592_000, metavar="SECONDS")
    pinterest.add_argument("--refresh-token-ttl", type=int, default=60 * 86_400, metavar="SECONDS")
    pinterest.add_argument(
        "--restatement-days",
        type=int,
        default=7,
        metavar="N",
        help="a day's conversions keep growing for N days after it (default 7)",
    )


def _pinterest(args: argparse.Namespace) -> None:
    from sandbox.pinterest.sandbox import PinterestSandbox

    sandbox = PinterestSandbox(
        seed=args.seed,
        campaigns=args.campaigns,
        now=args.now,
        port=args.port,
        tokens=args.token,
        clients=_clients(args.client),
        refresh_tokens=args.refresh_token,
        revoke_rotated=not args.keep_rotated_refresh_tokens,
        access_token_ttl=args.access_token_ttl,
        refresh_token_ttl=args.refresh_token_ttl,
        restatement_days=args.restatement_days,
        rate_limits=not args.no_rate_limit,
        rate_scale=args.rate_scale,
        daily_limit=args.daily_limit,
        frozen_clock=args.frozen_clock,
        latency_ms=args.latency_ms,
        latency_per_record_ms=args.latency_per_record_ms,
    )
    serve_until_stopped(sandbox, sandbox.base_url)


def _clients(pairs: list[str]) -> dict[str, str]:
    clients = {}
    for text in pairs:
        client_id, sep, secret = text.partition(":")
        if not sep or not client_id or not secret:
            raise SystemExit(f"--client takes ID:SECRET, got {client_id or text!r}:...")
        clients[client_id] = secret
    return clients


def _onetrust(args: argparse.Namespace) -> None:
    from sandbox.onetrust.sandbox import OneTrustSandbox

    clients = _clients(args.client)
    sandbox = OneTrustSandbox(
        seed=args.seed,
        requests=args.requests,
        now=args.now,
        port=args.port,
        clients=clients,
        token_ttl=args.token_ttl,
        v4_enabled=not args.v4_disabled,
        rate_limits=not args.no_rate_limit,
        rate_scale=args.rate_scale,
        frozen_clock=args.frozen_clock,
        latency_ms=args.latency_ms,
        latency_per_record_ms=args.latency_per_record_ms,
    )
    serve_until_stopped(sandbox, sandbox.base_url)


def serve_until_stopped(sandbox: Any, url: str) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.server.serve_forever()


def _shopify(args: argparse.Namespace) -> None:
    from sandbox.shopify.app import ALL_SCOPES
    from sandbox.shopify.sandbox import ShopifySandbox

    tokens = {}
    for text in args.token:
        token, _, scopes = text.partition("=")
        tokens[token] = scopes.split(",") if scopes else list(ALL_SCOPES)
    sandbox = ShopifySandbox(
        seed=args.seed,
        orders=args.orders,
        now=args.now,
        port=args.port,
        klaviyo_seed=args.klaviyo_seed,
        klaviyo_profiles=args.klaviyo_profiles,
        tokens=tokens,
        rate_limits=not args.no_rate_limit,
        bucket_size=args.bucket_size,
        leak_per_second=args.leak_per_second,
        utc_offset=args.utc_offset,
        frozen_clock=args.frozen_clock,
        latency_ms=args.latency_ms,
        latency_per_record_ms=args.latency_per_record_ms,
    )
    serve_until_stopped(sandbox, sandbox.base_url)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.api == "shopify":
        _shopify(args)
    elif args.api == "onetrust":
        _onetrust(args)
    elif args.api == "pinterest":
        _pinterest(args)
    elif args.api == "klaviyo":
        from sandbox.klaviyo.sandbox import KlaviyoSandbox

        options: dict[str, Any] = {
            "rate_limits": not args.no_rate_limit,
            "rate_scale": args.rate_scale,
            "frozen_clock": args.frozen_clock,
            "latency_ms": args.latency_ms,
            "latency_per_record_ms": args.latency_per_record_ms,
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
        serve_until_stopped(sandbox, sandbox.api_url)
