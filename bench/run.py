"""The benchmark suite, B1 to B8, on the sandbox and an embedded Postgres: one table, and the
same results as JSON and Markdown with the machine they ran on.

    uv run python bench/run.py            # the full suite (about 18 minutes on 2 cores, B8 included)
    uv run python bench/run.py --smoke    # tiny sizes, one run each: that it works, not how fast

Figures are medians of ``--runs`` runs; every ratio is taken within one run of this command, so
the machine's drift hits both sides. Needs the project's plugins installed (it runs
``meltano install`` first).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, Result, machine
from concurrency import PageTime, concurrency
from extraction import serving_and_extraction, under_rate_limits
from loading import load_rates, peak_memory
from pipeline import end_to_end, rerun_without_changes

from devstack import postgres


@dataclass(frozen=True)
class Sizes:
    extraction: int  # B1 and B2, every run
    extraction_large: int  # B2 once more at this size, one run: the 15-minute budget
    pipeline: tuple[int, int]
    limits_profiles: int
    rerun: tuple[int, int]
    memory: tuple[int, int]
    load: int
    concurrency: tuple[int, int]  # B8: profiles, events
    page_time: PageTime  # B8: the sandbox's modelled latency


FULL = Sizes(
    extraction=100_000,
    extraction_large=500_000,
    pipeline=(10_000, 50_000),
    limits_profiles=50_000,
    rerun=(5_000, 20_000),
    memory=(100_000, 1_000_000),
    load=200_000,  # the target's start-up (0.9 s, most of it importing singer-sdk) is small
    concurrency=(20_000, 100_000),
    page_time=PageTime(base_ms=250, per_record_ms=0.5),
)
SMOKE = Sizes(
    extraction=2_000,
    extraction_large=4_000,
    pipeline=(500, 2_000),
    limits_profiles=1_000,
    rerun=(300, 1_000),
    memory=(1_000, 2_000),
    load=1_000,
    concurrency=(300, 2_000),
    # every empty window of the history since 2000 is a request: keep each one short
    page_time=PageTime(base_ms=10, per_record_ms=0.05),
)


def install_plugins(pg: postgres.Embedded) -> None:
    env = {**os.environ, "MELTANO_DATABASE_URI": pg.meltano_url("bench")}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "meltano"), "install"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"bench: meltano install failed:\n{(done.stdout + done.stderr)[-3000:]}")


def table(results: list[Result]) -> str:
    lines = [
        "| id | case | figure | compared with | ratio | goal | met |",
        "|---|---|---:|---|---:|---|:---:|",
    ]
    for r in results:
        reference = f"{r.reference:,.1f} ({r.reference_label})" if r.reference is not None else ""
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        met = {True: "yes", False: "**no**", None: "-"}[r.met]
        lines.append(
            f"| {r.id} | {r.case} | {r.value:,.1f} {r.unit} | {reference} | {ratio} | {r.goal} | {met} |"
        )
    return "\n".join(lines)


def markdown(results: list[Result], about: dict[str, object], seconds: float, mode: str) -> str:
    packages = about["packages"]
    assert isinstance(packages, dict)
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"`uv run python bench/run.py{' --smoke' if mode == 'smoke' else ''}`, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} minutes.",
            "",
            f"Machine: {about['cpu']}, {about['cores']} cores, {about['memory_gib']} GiB, "
            f"Python {about['python']}, {about['os']}.",
            "Packages: " + ", ".join(f"{k} {v}" for k, v in packages.items()) + ".",
            "",
            table(results),
            "",
            "Every figure is the median of the runs; the per-run values and the CPU split are in "
            "`results.json`. What each benchmark measures, and why a goal is missed where it is: "
            "bench/README.md.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; 1 with --smoke)")
    parser.add_argument("--out", type=Path, help="where results go (default: bench/)")
    parser.add_argument("--only", help="comma-separated ids, e.g. B2,B3")
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="the plugins are installed: skip `meltano install`",
    )
    args = parser.parse_args()
    sizes, runs = (SMOKE, args.runs or 1) if args.smoke else (FULL, args.runs or 3)
    out = args.out or ROOT / "bench"
    wanted = set(args.only.upper().split(",")) if args.only else {f"B{i}" for i in range(1, 9)}
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="tapworks-bench-") as scratch:
        workdir = Path(scratch)
        pg = postgres.start(workdir / "postgres", ("bench",))
        try:
            if not args.no_install:
                install_plugins(pg)
            steps = [
                (
                    {"B1", "B2"},
                    lambda: (
                        serving_and_extraction(sizes.extraction, runs, workdir)
                        + serving_and_extraction(sizes.extraction_large, 1, workdir, serve=False)
                    ),
                ),
                ({"B3"}, lambda: end_to_end(*sizes.pipeline, runs, workdir, pg)),
                ({"B4"}, lambda: under_rate_limits(sizes.limits_profiles, runs, workdir)),
                ({"B5"}, lambda: rerun_without_changes(*sizes.rerun, workdir, pg)),
                ({"B6"}, lambda: peak_memory(sizes.memory, workdir, pg)),
                ({"B7"}, lambda: load_rates(sizes.load, runs, workdir, pg)),
                ({"B8"}, lambda: concurrency(*sizes.concurrency, sizes.page_time, runs, workdir)),
            ]
            for ids, step in steps:
                if ids & wanted:
                    print(f"bench: {', '.join(sorted(ids))} ...", file=sys.stderr, flush=True)
                    results += [r for r in step() if r.id in wanted]
        finally:
            postgres.stop(workdir / "postgres")
    results.sort(key=lambda r: r.id)
    seconds = time.perf_counter() - started
    about = machine()
    print(table(results))
    out.mkdir(parents=True, exist_ok=True)
    mode = "smoke" if args.smoke else "full"
    (out / "RESULTS.md").write_text(markdown(results, about, seconds, mode))
    (out / "results.json").write_text(
        json.dumps(
            {
                "mode": mode,
                "seconds": round(seconds, 1),
                "machine": about,
                "results": [r.as_dict() for r in results],
            },
            indent=2,
        )
        + "\n"
    )
    print(
        f"\nbench: {seconds / 60:.1f} minutes; wrote {out / 'RESULTS.md'} and {out / 'results.json'}"
    )


if __name__ == "__main__":
    main()
