"""The generated account: deterministic, scalable, and full of the hard cases."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.sandbox import KlaviyoSandbox


def first_pages(sandbox: KlaviyoSandbox) -> list[list[dict]]:
    client = Client(sandbox.api_url)
    paths = [
        "/api/profiles",
        "/api/events",
        "/api/lists",
        "/api/templates",
        "/api/flows",
        "/api/tags",
        "/api/metrics",
    ]
    pages = [
        client.get(path, {"include": "metric"} if path == "/api/events" else None).json()["data"]
        for path in paths
    ]
    pages.append(
        client.get("/api/campaigns", {"filter": "equals(messages.channel,'sms')"}).json()["data"]
    )
    for page in pages:  # links carry the port, which differs between servers
        for item in page:
            item.pop("links")
            for relation in item.get("relationships", {}).values():
                relation.pop("links")
    return pages


def test_same_seed_same_data_other_seed_other_data() -> None:
    with (
        KlaviyoSandbox(seed=21, profiles=200, events=500, now="2026-07-01T00:00:00Z") as one,
        KlaviyoSandbox(seed=21, profiles=200, events=500, now="2026-07-01T00:00:00Z") as two,
    ):
        reference = first_pages(one)
        assert reference == first_pages(two)
        assert one.control.truth("list-member") == two.control.truth("list-member")
    with KlaviyoSandbox(seed=22, profiles=200, events=500, now="2026-07-01T00:00:00Z") as other:
        assert first_pages(other)[0] != reference[0]


def test_sizes_scale_from_profiles_and_events() -> None:
    with KlaviyoSandbox(profiles=20_000, events=60_000) as sandbox:
        counts = sandbox.control.info()["counts"]
    assert counts["profile"] == 20_000 - 200  # 1% deleted from the start
    assert counts["event"] <= 60_000
    assert counts["list"] == 8
    assert counts["campaign"] == 60
    assert counts["template"] == 10


def test_ties_straddle_page_boundaries(shared_sandbox: KlaviyoSandbox, client: Client) -> None:
    profiles = client.all("/api/profiles", {"sort": "updated", "page[size]": "100"})
    value, ties = Counter(p["attributes"]["updated"] for p in profiles).most_common(1)[0]
    assert (
        ties >= 290
    )  # 300 of the 1,200 share one instant (500 in accounts of 2,000+), a few deleted
    positions = [i for i, p in enumerate(profiles) if p["attributes"]["updated"] == value]
    assert positions[0] // 100 != positions[-1] // 100
    events = client.all("/api/events", {"sort": "datetime", "page[size]": "1000"})
    assert Counter(e["attributes"]["datetime"] for e in events).most_common(1)[0][1] >= 500


def test_late_events_are_out_of_order_by_id(client: Client) -> None:
    events = client.all("/api/events", {"page[size]": "1000"})  # default order: by id, i.e. arrival
    times = [e["attributes"]["datetime"] for e in events]
    behind = sum(1 for earlier, later in itertools.pairwise(times) if later < earlier)
    assert behind >= 20


def test_awkward_values_exist(client: Client) -> None:
    profiles = client.all("/api/profiles", {"page[size]": "100"})
    attributes = [p["attributes"] for p in profiles]
    assert any(a["email"] is None for a in attributes)
    assert any("organization" not in a for a in attributes)
    assert any("\x00" in str(a["properties"].get("Notes", "")) for a in attributes)
    assert any(not a["first_name"].isascii() for a in attributes)
    assert any("🦄" in a["first_name"] for a in attributes)
    campaigns = client.all(
        "/api/campaigns", {"filter": "equals(messages.channel,'email'),equals(archived,true)"}
    )
    assert campaigns


def test_deleted_objects_are_gone_from_lists_and_by_id(
    shared_sandbox: KlaviyoSandbox, client: Client
) -> None:
    data = shared_sandbox.data
    table = data.tables["profile"]
    dead = [row for row in range(table.size) if not table.alive[row]]
    assert dead
    dead_id = data.id_of("profile", dead[0])
    assert client.get(f"/api/profiles/{dead_id}").status_code == 404
    assert dead_id not in {p["id"] for p in client.all("/api/profiles", {"page[size]": "100"})}


def test_a_bulk_import_gives_members_one_joined_time(shared_sandbox: KlaviyoSandbox) -> None:
    joined = Counter(m["joined_group_at"] for m in shared_sandbox.control.truth("list-member"))
    assert joined.most_common(1)[0][1] >= 100


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_serves_and_prints_its_base_url() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "klaviyo",
            "--port",
            str(port),
            "--seed",
            "4",
            "--profiles",
            "100",
            "--events",
            "500",
            "--no-rate-limit",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert line == f"http://127.0.0.1:{port}/api"
        assert Client(line).get("/api/metrics").status_code == 200
        assert Client(line).get("/api/profiles").headers.get("RateLimit-Limit")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


@pytest.mark.slow
def test_a_million_events_fit_in_a_gibibyte() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "klaviyo",
            "--port",
            str(port),
            "--profiles",
            "100000",
            "--events",
            "1000000",
            "--no-rate-limit",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        client = Client(url)
        started = time.monotonic()
        served = sum(
            len(page["data"])
            for _, page in zip(
                range(20),
                client.pages("/api/events", {"page[size]": "1000", "sort": "datetime"}),
                strict=False,
            )
        )
        assert served == 20_000
        assert time.monotonic() - started < 30
        peak_kib = int(
            next(
                line.split()[1]
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                if line.startswith("VmHWM")
            )
        )
        assert peak_kib < 1024 * 1024, f"peak resident memory {peak_kib / 1024:.0f} MiB"
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
