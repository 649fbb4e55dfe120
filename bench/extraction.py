"""B1 (sandbox serving rate), B2 (tap-klaviyo against the floor program) and B4 (a sync under
the sandbox's default rate limits against the least those limits allow)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import msgspec
import requests
from common import Result, Sandbox, cpu_seconds, median
from tap_runs import first_pages, floor_command, run, tap, tap_command

PATHS = {"profiles": "/api/profiles", "events": "/api/events"}


class _Links(msgspec.Struct):
    next: str | None = None


class _Page(msgspec.Struct):
    data: list[msgspec.Raw]
    links: _Links


def serve_rate(sandbox: Sandbox, urls: list[str]) -> tuple[float, float]:
    """Records/s the sandbox serves for the pages at ``urls`` (and their next links) to a client
    that decodes only ``links``; the sandbox's CPU share."""
    session = requests.Session()
    session.headers.update({"Authorization": "Klaviyo-API-Key pk_bench", "revision": "2026-07-15"})
    records = 0
    cpu_before, started = cpu_seconds(sandbox.pid), time.perf_counter()
    for url in urls:
        next_url = url
        while next_url:
            response = session.get(next_url, timeout=60)
            response.raise_for_status()
            page = msgspec.json.decode(response.content, type=_Page)
            records += len(page.data)
            next_url = page.links.next or ""
    wall = time.perf_counter() - started
    return records / wall, (cpu_seconds(sandbox.pid) - cpu_before) / wall


def serving_and_extraction(size: int, runs: int, workdir: Path, serve: bool = True) -> list[Result]:
    """B2 (and B1 if ``serve``) for profiles and events at ``size`` records each, in one sandbox."""
    results = []
    with Sandbox(profiles=size, events=size) as sandbox:
        runner = tap(workdir / f"tap-{size}", sandbox)
        counts = sandbox.control.info()["counts"]
        for stream, path in PATHS.items():
            count = counts[stream.removesuffix("s")]
            tap_rates, floor_rates, serve_rates, shares = [], [], [], []
            peak = 0.0
            for _ in range(runs):
                measured = run(tap_command(runner, stream), sandbox)
                tap_rates.append(count / measured.wall)
                peak = max(peak, measured.peak_rss_mb)
                urls = first_pages(measured.requests, path, sandbox)
                floor = run(floor_command(stream, urls, workdir), sandbox)
                floor_rates.append(count / floor.wall)
                if serve:
                    rate, share = serve_rate(sandbox, urls)
                    serve_rates.append(rate)
                    shares.append(share)
            tap_rate, floor_rate = median(tap_rates), median(floor_rates)
            if serve:
                served = median(serve_rates)
                results.append(
                    Result(
                        "B1",
                        f"sandbox serves {stream}, {size:,}",
                        served,
                        "records/s",
                        tap_rate,
                        "tap-klaviyo",
                        served / tap_rate,
                        ">= 2x the tap",
                        served >= 2 * tap_rate,
                        {"sandbox_cpu_share": median(shares), "runs": serve_rates},
                    )
                )
            results.append(
                Result(
                    "B2",
                    f"tap-klaviyo {stream}, {size:,} to /dev/null",
                    tap_rate,
                    "records/s",
                    floor_rate,
                    "floor program",
                    tap_rate / floor_rate,
                    ">= 70% of the floor",
                    tap_rate >= 0.7 * floor_rate,
                    {
                        "tap_runs": tap_rates,
                        "floor_runs": floor_rates,
                        "tap_peak_rss_mb": peak,
                        "requests": len(measured.requests),
                    },
                )
            )
    return results


def least_time(requests_made: int, burst_per_s: int, steady_per_min: int) -> float:
    """Seconds the sandbox's two token buckets (full at the start) need to admit the requests."""
    burst_bound = max(0, requests_made - burst_per_s) / burst_per_s
    steady_bound = max(0, requests_made - steady_per_min) / (steady_per_min / 60)
    return max(burst_bound, steady_bound)


def span(requests_seen: list[dict[str, Any]]) -> float:
    return float(requests_seen[-1]["received_at"] - requests_seen[0]["received_at"])


def under_rate_limits(profiles: int, runs: int, workdir: Path) -> list[Result]:
    """B4: the profiles sync with the sandbox's default limits on and the tap's throttle at 100%."""
    walls, ratios, late_429s, limit_bounds, unthrottled_spans = [], [], [], [], []
    with Sandbox(profiles=profiles, events=100) as sandbox:
        runner = tap(workdir / "tap-limits", sandbox)
        for _ in range(runs):
            # the same sync with limits off, in the same run: the floor the data itself sets
            sandbox.control.set_rate_limits(enabled=False)
            unthrottled = span(run(tap_command(runner, "profiles"), sandbox).requests)
            # setting the scale empties the sandbox's buckets: full, as at a scheduled run's start
            sandbox.control.set_rate_limits(enabled=True, scale=1.0)
            measured = run(tap_command(runner, "profiles", rate_limit_percent=100), sandbox)
            pages = [r for r in measured.requests if r["path"] == PATHS["profiles"]]
            bound = least_time(len(pages), 75, 750)
            minimum = max(bound, unthrottled)
            walls.append(span(pages))
            ratios.append(span(pages) / minimum if minimum else 1.0)
            limit_bounds.append(bound)
            unthrottled_spans.append(unthrottled)
            burst_end = pages[0]["received_at"] + 1.0
            late_429s.append(
                sum(1 for r in pages if r["status"] == 429 and r["received_at"] > burst_end)
            )
    ratio = median(ratios)
    return [
        Result(
            "B4",
            f"{profiles:,} profiles, default rate limits",
            median(walls),
            "s first to last request",
            median(walls) / ratio,
            "least the limits allow",
            ratio,
            "<= 1.10x, no 429 after the burst",
            ratio <= 1.10 and max(late_429s) == 0,
            {
                "requests": len(pages),
                "limit_bound_s": median(limit_bounds),
                "unthrottled_span_s": unthrottled_spans,
                "429_after_burst": late_429s,
                "runs": walls,
            },
        )
    ]
