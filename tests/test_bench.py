"""The benchmark suite in smoke mode (tiny sizes, one run each), so it cannot rot. It asserts
that every benchmark ran and reported, never how fast: timings do not belong in tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_smoke_runs_every_benchmark_and_writes_its_reports(
    installed: None, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--smoke",
            "--no-install",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["mode"] == "smoke"
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["cpu"]
    ids = {r["id"] for r in report["results"]}
    assert ids == {f"B{i}" for i in range(1, 9)}
    for result in report["results"]:
        assert result["value"] > 0, result
        if result["reference"] is not None:
            # a zero reference (B8: requests the rate limits let through at once) has no ratio
            assert result["reference"] > 0 or result["ratio"] is None, result
            assert result["reference"] >= 0, result
    concurrency = [r for r in report["results"] if r["id"] == "B8"]
    assert {r["case"].split(" ")[0] for r in concurrency} == {"profiles", "events"}
    for result in concurrency:
        if result["case"].endswith("records and final state"):
            assert set(result["details"]) >= {"same_ids", "same_state"}, result
    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "| B8 |" in markdown
    assert "Machine:" in markdown
    assert "| B1 |" in done.stdout  # the table is printed too
