"""STATE goes out only after the rows before it are committed, within
``batch_wait_limit_seconds`` even while the tap is quiet; a target killed at any point and
rerun from the last STATE it forwarded ends with every record once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
from collections.abc import Iterator
from typing import IO, Any

from target_postgres.testing import SCHEMA, TARGET, Database

EVENTS = {"id": {"type": "integer"}, "payload": {"type": "string"}}


def events(db: Database, start: int, stop: int, every: int) -> Iterator[dict[str, Any]]:
    """What a tap resuming at ``start`` sends: records with a STATE after each ``every``."""
    yield db.schema("events", EVENTS)
    for n in range(start, stop):
        yield db.record("events", {"id": n, "payload": f"event {n} " + "x" * 40})
        if (n + 1) % every == 0:
            yield db.state({"next": n + 1})
    yield db.state({"next": stop})


def start_target(db: Database, **settings: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [TARGET, "--config", str(db.write_config(**settings))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def read_line(stream: IO[str], timeout: float) -> str:
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, f"no STATE within {timeout} s"
    return found[0]


def committed_rows(db: Database) -> int:
    exists = db.rows("SELECT to_regclass(%s) IS NOT NULL", f"{SCHEMA}.events")[0][0]
    return int(db.rows(f"SELECT count(*) FROM {SCHEMA}.events")[0][0]) if exists else 0


def test_state_follows_a_commit_while_the_tap_is_quiet(db: Database) -> None:
    target = start_target(db, batch_wait_limit_seconds=0.5)
    assert target.stdin is not None
    assert target.stdout is not None
    messages = [db.schema("events", EVENTS)]
    messages += [db.record("events", {"id": n, "payload": "p"}) for n in range(10)]
    target.stdin.write(db.lines([*messages, db.state({"next": 10})]))
    target.stdin.flush()  # and then nothing: the tap is waiting on its API
    assert json.loads(read_line(target.stdout, timeout=20)) == {"next": 10}
    assert db.rows(f"SELECT count(*) FROM {SCHEMA}.events") == [(10,)]
    target.stdin.write(
        db.lines([db.record("events", {"id": 10, "payload": "p"}), db.state({"next": 11})])
    )
    target.stdin.close()
    assert json.loads(read_line(target.stdout, timeout=20)) == {"next": 11}
    assert target.wait(20) == 0


def test_every_state_forwarded_is_covered_by_committed_rows(db: Database) -> None:
    target = start_target(db, batch_size_rows=700)
    assert target.stdin is not None
    assert target.stdout is not None
    checked: list[tuple[int, int]] = []

    def watch() -> None:
        assert target.stdout is not None
        for line in target.stdout:
            covered = json.loads(line)["next"]
            committed = db.rows(f"SELECT count(*) FROM {SCHEMA}.events")[0][0]
            checked.append((covered, committed))

    watcher = threading.Thread(target=watch)
    watcher.start()
    for message in events(db, 0, 5000, every=250):
        target.stdin.write(db.lines([message]))
    target.stdin.close()
    assert target.wait(60) == 0
    watcher.join(10)
    assert checked, "no STATE forwarded"
    assert all(covered <= committed for covered, committed in checked), checked
    assert checked[-1] == (5000, 5000)


def test_a_killed_target_rerun_from_its_last_state_loses_and_duplicates_nothing(
    db: Database,
) -> None:
    total, rng = 200_000, random.Random(13)
    resume, kills = 0, 0
    while True:
        target = start_target(db, batch_size_rows=rng.choice([5_000, 20_000]))
        assert target.stdin is not None
        assert target.stdout is not None
        forwarded: list[int] = []
        reader = threading.Thread(
            target=lambda t=target, f=forwarded: f.extend(
                json.loads(line)["next"] for line in t.stdout
            )
        )
        reader.start()
        left = total - resume
        kill_after = rng.randrange(5_000, left) if kills < 3 and left > 10_000 else None
        killed = False
        try:
            for sent, message in enumerate(events(db, resume, total, every=1_000), start=1):
                target.stdin.write(db.lines([message]))
                if kill_after is not None and sent >= kill_after:
                    os.kill(target.pid, signal.SIGKILL)
                    killed = True
                    break
            target.stdin.close()
        except BrokenPipeError:
            pass
        target.wait(120)
        reader.join(30)
        committed = committed_rows(db)
        if forwarded:
            # state never ahead of the rows committed; the rerun starts where they end
            assert forwarded[-1] <= committed
            resume = forwarded[-1]
        if not killed:
            assert target.returncode == 0
            break
        assert target.returncode == -signal.SIGKILL
        kills += 1
    ids = db.rows(f"SELECT min(id), max(id), count(*), count(DISTINCT id) FROM {SCHEMA}.events")
    assert ids == [(0, total - 1, total, total)]
    assert kills == 3


def test_state_is_forwarded_as_the_tap_wrote_it(db: Database) -> None:
    value = {"bookmarks": {"events": {"ratio": 0.1, "big": 12345678901234567890.5, "n": [1, None]}}}
    run = db.load([*events(db, 0, 2, every=1), db.state(value)])
    assert run.states[-1] == value
