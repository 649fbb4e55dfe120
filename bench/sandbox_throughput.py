"""How fast the Klaviyo sandbox serves records, rate limits off (issue: B1 of the bench suite).

    uv run python bench/sandbox_throughput.py [--profiles N] [--events M] [--runs K]

Starts the sandbox CLI in its own process, pages through events (1,000 per page) and profiles
(100 per page) with a minimal client (one connection, msgspec decoding only ``links``), and
prints records per second served (median of the runs) with the sandbox's CPU use, so the figure
is the server's, not the client's.  The server is one Python process: it uses at most one core.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import requests


class Links(msgspec.Struct):
    next: str | None = None


class Page(msgspec.Struct):
    data: list[msgspec.Raw]
    links: Links


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain(session: requests.Session, url: str) -> tuple[int, int, int]:
    records = requests_made = size = 0
    next_url: str | None = url
    while next_url:
        response = session.get(next_url, timeout=60)
        response.raise_for_status()
        page = msgspec.json.decode(response.content, type=Page)
        records += len(page.data)
        requests_made += 1
        size += len(response.content)
        next_url = page.links.next
    return records, requests_made, size


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy, msgspec {msgspec.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "klaviyo",
            "--port",
            "0",
            "--profiles",
            str(args.profiles),
            "--events",
            str(args.events),
            "--no-rate-limit",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        api = process.stdout.readline().strip()  # type: ignore[union-attr]
        session = requests.Session()
        session.headers.update(
            {"Authorization": "Klaviyo-API-Key pk_bench", "revision": "2026-07-15"}
        )
        cases = [
            ("events", f"{api}/events?page%5Bsize%5D=1000&sort=datetime"),
            ("events + include=metric", f"{api}/events?page%5Bsize%5D=1000&include=metric"),
            ("profiles", f"{api}/profiles?page%5Bsize%5D=100&sort=updated"),
        ]
        print(f"machine: {machine()}")
        print(
            f"sandbox: {args.profiles:,} profiles, {args.events:,} events, rate limits off; median of {args.runs} runs\n"
        )
        print(
            f"| {'endpoint':<24} | {'records':>9} | {'requests':>8} | {'MB':>6} | {'records/s':>10} | {'sandbox CPU':>11} |"
        )
        print(f"|{'-' * 26}|{'-' * 11}|{'-' * 10}|{'-' * 8}|{'-' * 12}|{'-' * 13}|")
        for name, url in cases:
            rates, cpu_shares = [], []
            for _ in range(args.runs):
                cpu_before, started = cpu_seconds(process.pid), time.perf_counter()
                records, made, size = drain(session, url)
                wall = time.perf_counter() - started
                rates.append(records / wall)
                cpu_shares.append((cpu_seconds(process.pid) - cpu_before) / wall)
            print(
                f"| {name:<24} | {records:>9,} | {made:>8,} | {size / 1e6:>6.1f} | {statistics.median(rates):>10,.0f} | "
                f"{statistics.median(cpu_shares):>10.0%} |"
            )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
