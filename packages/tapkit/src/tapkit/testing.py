"""Test helpers for taps: run a tap's real CLI in a subprocess and read its Singer output;
singer-sdk's standard tests against a sandbox; the generated README kept current; a small JSON
API on 127.0.0.1 for what no sandbox serves (a token endpoint with a failure to inject).

runner = TapRunner("tap_klaviyo", TapKlaviyo, tmp_path, base_config={...})
run = runner(streams=["profiles"])            # select streams through a catalog
again = runner(state=run.state)               # resume from the final STATE
killed = runner.until(lambda m, ms: ...)      # SIGKILL the tap when a condition holds
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from singer_sdk import Tap
from singer_sdk.testing import SuiteConfig, get_tap_test_class

Message = dict[str, Any]


@dataclass
class Run:
    returncode: int
    messages: list[Message]
    stderr: str = ""
    stdout: str = ""

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def ids(self, stream: str, key: str = "id") -> list[Any]:
        return [r[key] for r in self.records(stream)]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def state(self) -> dict[str, Any]:
        """The last STATE emitted (what Meltano would have saved)."""
        return self.states[-1] if self.states else {}


@dataclass
class TapRunner:
    module: str
    tap_class: type[Tap]
    workdir: Path
    base_config: dict[str, Any] = field(default_factory=dict)

    def config(self, **overrides: Any) -> dict[str, Any]:
        merged = {**self.base_config, **overrides}
        return {k: v for k, v in merged.items() if v is not None}

    def command(
        self, config: dict[str, Any], state: dict[str, Any] | None, streams: list[str] | None
    ) -> list[str]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "config.json"
        config_path.write_text(json.dumps(config))
        command = [sys.executable, "-m", self.module, "--config", str(config_path)]
        if state is not None:
            state_path = self.workdir / "state.json"
            state_path.write_text(json.dumps(state))
            command += ["--state", str(state_path)]
        if streams is not None:
            catalog_path = self.workdir / "catalog.json"
            catalog_path.write_text(json.dumps(select(self.tap_class, config, streams)))
            command += ["--catalog", str(catalog_path)]
        return command

    def __call__(
        self,
        *,
        state: dict[str, Any] | None = None,
        streams: list[str] | None = None,
        timeout: float = 300,
        **overrides: Any,
    ) -> Run:
        done = subprocess.run(
            self.command(self.config(**overrides), state, streams),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, parse(done.stdout), done.stderr, done.stdout)

    def until(
        self,
        stop: Callable[[Message, list[Message]], bool],
        *,
        state: dict[str, Any] | None = None,
        streams: list[str] | None = None,
        **overrides: Any,
    ) -> Run:
        """Run, and SIGKILL the tap as soon as ``stop(message, messages so far)`` holds."""
        command = self.command(self.config(**overrides), state, streams)
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        messages: list[Message] = []
        assert process.stdout is not None
        for line in process.stdout:
            message = json.loads(line)
            messages.append(message)
            if stop(message, messages):
                process.kill()
                break
        process.wait(timeout=30)
        return Run(process.returncode, messages)


def upserted(runs: list[Run], stream: str, key: tuple[str, ...]) -> dict[Any, dict[str, Any]]:
    """What an upserting loader holds after ``runs``, in order: the last record per key."""
    rows: dict[Any, dict[str, Any]] = {}
    for run in runs:
        for record in run.records(stream):
            rows[tuple(record[k] for k in key)] = record
    return rows


def refused_config(module: str, config: dict[str, object], workdir: Path) -> tuple[str, str]:
    """Run ``python -m <module> --config`` on ``config`` (``None`` values left out), which must
    refuse it with exit code 1; its last stderr line (what Meltano shows) and whole stderr."""
    path = workdir / "config.json"
    path.write_text(json.dumps({k: v for k, v in config.items() if v is not None}))
    done = subprocess.run(
        [sys.executable, "-m", module, "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    return done.stderr.strip().splitlines()[-1], done.stderr


def parse(stdout: str) -> list[Message]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def select(tap_class: type[Tap], config: dict[str, Any], streams: list[str]) -> dict[str, Any]:
    """The tap's catalog with only ``streams`` selected."""
    catalog = tap_class(config=config, validate_config=False).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


class Startable(Protocol):
    def start(self) -> Any: ...

    def stop(self) -> None: ...


def standard_test_class(
    tap_class: type[Tap],
    sandbox: Startable,
    config: Callable[[Any], dict[str, Any]],
    *,
    max_records: int = 60,
) -> type:
    """singer-sdk's standard tap tests for every stream.  The suite builds its test class at
    import, from a config: ``sandbox`` starts now, stops when the test process exits, and
    ``config(sandbox)`` points the tap at it."""
    sandbox.start()
    atexit.register(sandbox.stop)
    return get_tap_test_class(
        tap_class=tap_class,
        config=config(sandbox),
        suite_config=SuiteConfig(max_records_limit=max_records),
    )


def check_generated(command: list[str]) -> None:
    """Fail with the generator's own message if a generated file is out of date."""
    done = subprocess.run(
        [sys.executable, *command, "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr or done.stdout


def check_readme(module: str) -> None:
    """The tap's README tables are what ``tapkit.docs`` generates from its declarations."""
    check_generated(["-m", "tapkit.docs", module])


#: ``(method, path with query, headers, body)`` to ``(status, JSON document or raw text)``.
Answer = Callable[[str, str, Any, str], tuple[int, Any]]


@contextmanager
def json_api(answer: Answer) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 answering every GET and POST with ``answer``; yields
    its base URL and stops on exit."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.reply(*answer("GET", self.path, self.headers, ""))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            self.reply(*answer("POST", self.path, self.headers, body))

        def reply(self, status: int, document: Any) -> None:
            content = (document if isinstance(document, str) else json.dumps(document)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
