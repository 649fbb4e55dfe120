"""Test helpers: the real ``target-lake`` and ``tap-lake`` CLIs fed Singer messages, and what a
lake holds, read through its manifests only."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from target_lake import manifest
from target_lake.manifest import Manifest
from target_lake.storage import Store, open_store

BIN = Path(sys.executable).parent
TARGET = str(BIN / "target-lake")
TAP = str(BIN / "tap-lake")
TAP_NAME = "tap-test"
_encode = msgspec.json.Encoder().encode

EVENTS = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "datetime": {"type": "string", "format": "date-time"},
        "value": {"type": ["number", "null"]},
        "flag": {"type": ["boolean", "null"]},
        "kind": {"type": ["string", "null"]},
        "attributes": {
            "type": ["object", "null"],
            "properties": {"n": {"type": "integer"}, "tags": {"type": "array"}},
        },
    },
}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def states(self) -> list[Any]:
        """What the target forwarded (it writes nothing else to stdout)."""
        return self.messages

    def records(self, stream: str = "events") -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m.get("type") == "RECORD" and m["stream"] == stream
        ]


def lines(messages: list[dict[str, Any]]) -> bytes:
    return b"".join(_encode(m) + b"\n" for m in messages)


def schema(stream: str = "events", properties: dict[str, Any] | None = None) -> dict[str, Any]:
    body = EVENTS if properties is None else {"type": "object", "properties": properties}
    return {"type": "SCHEMA", "stream": stream, "schema": body, "key_properties": ["id"]}


def record(values: dict[str, Any], stream: str = "events", **extra: Any) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": values, **extra}


def state(value: Any) -> dict[str, Any]:
    return {"type": "STATE", "value": value}


def event(n: int) -> dict[str, Any]:
    """A Klaviyo-like event: nested properties, a null now and then, days apart."""
    values: dict[str, Any] = {
        "id": n,
        "datetime": f"2024-01-{1 + n % 28:02d}T{n % 24:02d}:15:00+00:00",
        "value": round(n * 1.25, 2) if n % 7 else None,
        "flag": n % 2 == 0,
        "kind": ["Opened Email", "Placed Order", "Clicked"][n % 3],
        "attributes": {"n": n, "tags": [f"t{n % 5}", {"deep": n % 3 == 0}], "note": None},
    }
    if n % 11 == 0:
        del values["kind"]  # left out, not null
    return values


def events(start: int, stop: int, every: int) -> Iterator[dict[str, Any]]:
    """What a tap resuming at ``start`` sends: records, a STATE after each ``every``."""
    yield schema()
    for n in range(start, stop):
        yield record(event(n), time_extracted="2026-12-01T08:00:00.000001+00:00")
        if (n + 1) % every == 0:
            yield state({"bookmarks": {"events": {"next": n + 1}}})
    yield state({"bookmarks": {"events": {"next": stop}}})


@dataclass
class Lake:
    settings: dict[str, Any]  # root and, for S3, its settings
    workdir: Path

    def store(self) -> Store:
        return open_store(self.settings)

    def config(self, **settings: Any) -> Path:
        path = self.workdir / f"config-{uuid.uuid4().hex[:8]}.json"
        merged = {"tap": TAP_NAME, **self.settings, **settings}
        path.write_text(json.dumps({k: v for k, v in merged.items() if v is not None}))
        return path

    def write(
        self,
        messages: list[dict[str, Any]] | bytes,
        *,
        cli: bool = False,
        expect_failure: bool = False,
        **settings: Any,
    ) -> Run:
        """target-lake fed ``messages``: its CLI, or (faster: singer-sdk is imported once) the
        same target in this process; fails the test if it fails, unless expected."""
        data = messages if isinstance(messages, bytes) else lines(messages)
        config = self.config(**settings)
        if cli:
            return _run([TARGET, "--config", str(config)], data, expect_failure)
        from target_lake.target import TargetLake

        def load(out: io.StringIO) -> None:
            settings = json.loads(config.read_text())
            TargetLake(config=settings, setup_mapper=False).load(io.BytesIO(data))

        return _here("target-lake", load, expect_failure)

    def replay(
        self,
        state_value: Any = None,
        *,
        cli: bool = False,
        expect_failure: bool = False,
        **settings: Any,
    ) -> Run:
        """tap-lake's messages: its CLI, or the same replay in this process."""
        config = self.config(**settings)
        if cli:
            command = [TAP, "--config", str(config)]
            if state_value is not None:
                path = self.workdir / f"state-{uuid.uuid4().hex[:8]}.json"
                path.write_text(json.dumps(state_value))
                command += ["--state", str(path)]
            return _run(command, b"", expect_failure)
        from target_lake.replay import Replay, ReplayError
        from target_lake.storage import StoreError

        def replay(out: io.StringIO) -> None:
            settings = json.loads(config.read_text())
            binary = io.BytesIO()
            try:
                Replay(open_store(settings), settings, logging.getLogger("tap-lake"), binary).run(
                    state_value or {}
                )
            except (StoreError, ReplayError) as error:
                logging.getLogger("tap-lake").error("%s", error)
                raise SystemExit(1) from None
            finally:
                out.write(binary.getvalue().decode())

        return _here("tap-lake", replay, expect_failure)

    def manifests(self, tap: str = TAP_NAME) -> list[Manifest]:
        return manifest.manifests(self.store(), tap)

    def check_files(self, tap: str = TAP_NAME) -> int:
        """Every file a manifest lists is there, whole (its sha256); the rows they hold."""
        store, rows = self.store(), 0
        for run in self.manifests(tap):
            for entry in run.files:
                data = store.get(entry.path)
                assert hashlib.sha256(data).hexdigest() == entry.sha256, entry.path
                assert len(data) == entry.bytes, entry.path
                rows += entry.rows
        return rows


def _here(name: str, call: Any, expect_failure: bool) -> Run:
    """``call(stdout)`` with stdout and the plugin's log captured, as a ``Run``."""
    out, log = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(log)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    code = 0
    try:
        with contextlib.redirect_stdout(out):
            call(out)
    except SystemExit as error:
        code = int(error.code or 0)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    run = Run(code, out.getvalue(), log.getvalue())
    if not expect_failure:
        assert run.returncode == 0, run.stderr[-3000:]
    return run


def _run(command: list[str], data: bytes, expect_failure: bool) -> Run:
    done = subprocess.run(command, input=data, capture_output=True, timeout=300, check=False)
    run = Run(done.returncode, done.stdout.decode(), done.stderr.decode())
    if not expect_failure:
        assert run.returncode == 0, run.stderr[-3000:]
    return run


def without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}
