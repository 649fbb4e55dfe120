"""STATE never ahead of durable files; a target killed at any point and rerun from the last
STATE it forwarded leaves every record listed once, in whole files; a STATE lost after its
manifest landed costs nothing but a skip."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
from typing import Any

from target_lake.testing import TARGET, Lake, events, lines

EVERY = 500


def listed_ids(lake: Lake) -> list[int]:
    ids: list[int] = []
    for run in lake.manifests():
        for batch in run.batches:
            last = batch.last_state["bookmarks"]["events"]["next"] if batch.last_state else None
            if batch.rows:
                assert last is not None
                ids += range(last - batch.rows, last)  # the synthetic tap's ids run in order
    return ids


def test_a_killed_target_rerun_from_its_last_state_lists_every_record_once(lake: Lake) -> None:
    total, rng = 40_000, random.Random(19)
    resume, kills = 0, 0
    while True:
        config = lake.config(batch_size_rows=rng.choice([2_000, 5_000]), format="parquet")
        target = subprocess.Popen(
            [TARGET, "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert target.stdin is not None
        assert target.stdout is not None
        forwarded: list[int] = []
        ahead: list[tuple[int, int]] = []

        def watch(
            stdout: Any = target.stdout,
            forwarded: list[int] = forwarded,
            ahead: list[tuple[int, int]] = ahead,
        ) -> None:
            for line in stdout:
                covered = json.loads(line)["bookmarks"]["events"]["next"]
                durable = max(listed_ids(lake), default=-1) + 1
                if covered > durable:
                    ahead.append((covered, durable))
                forwarded.append(covered)

        watcher = threading.Thread(target=watch)
        watcher.start()
        # at most 10,000 messages a run: three kills always fit in the input
        kill_after = rng.randrange(1_000, 10_000) if kills < 3 else None
        killed = False
        try:
            for sent, message in enumerate(events(resume, total, every=EVERY), start=1):
                target.stdin.write(lines([message]))
                if kill_after is not None and sent >= kill_after:
                    os.kill(target.pid, signal.SIGKILL)
                    killed = True
                    break
            target.stdin.close()
        except BrokenPipeError:
            pass
        target.wait(120)
        watcher.join(30)
        assert not ahead, f"STATE ahead of the listed files: {ahead}"
        assert lake.check_files() >= 0  # every listed file whole
        if forwarded:
            resume = forwarded[-1]
        if not killed:
            assert target.returncode == 0
            break
        assert target.returncode == -signal.SIGKILL
        kills += 1
    assert kills == 3
    ids = listed_ids(lake)
    assert sorted(ids) == list(range(total))  # none lost, none listed twice
    assert lake.check_files() == total


def test_a_batch_whose_state_was_lost_is_not_written_again(lake: Lake) -> None:
    first = lake.write(list(events(0, 3_000, every=EVERY)), batch_size_rows=1_000)
    # the last two STATEs never reached Meltano: the tap resumes after the one before
    resume = first.states[-3]["bookmarks"]["events"]["next"]
    before = lake.manifests()
    again = lake.write(list(events(resume, 3_000, every=EVERY)), batch_size_rows=1_000)
    assert "continuing run" in again.stderr
    assert again.states[-1] == first.states[-1]
    assert lake.manifests() == before  # nothing written, not even the manifest
    assert sorted(listed_ids(lake)) == list(range(3_000))


def test_a_batch_the_source_changed_replaces_the_unacknowledged_one(lake: Lake) -> None:
    first = lake.write(list(events(0, 3_000, every=EVERY)), batch_size_rows=1_000)
    resume = first.states[-3]["bookmarks"]["events"]["next"]
    # the source has more now: the batch after the last acknowledged STATE differs
    lake.write(list(events(resume, 3_500, every=EVERY)), batch_size_rows=1_000)
    (run,) = lake.manifests()
    assert sorted(listed_ids(lake)) == list(range(3_500))
    assert run.complete
    assert lake.check_files() == 3_500
