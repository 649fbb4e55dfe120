"""Test helpers: the target's real CLI fed Singer messages, against one database."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from target_postgres.columns import encode_json

TARGET = str(Path(sys.executable).parent / "target-postgres")
SCHEMA = "tap_test"


@dataclass
class Run:
    returncode: int
    states: list[Any]
    stderr: str


@dataclass
class Database:
    url: str  # as a Meltano user writes it (the sqlalchemy_url setting)
    libpq: str
    workdir: Path

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.libpq) as connection:
            return connection.execute(query.encode(), params or None).fetchall()

    def config(self, **settings: Any) -> dict[str, Any]:
        config = {"sqlalchemy_url": self.url, "default_target_schema": SCHEMA, **settings}
        return {k: v for k, v in config.items() if v is not None}

    def write_config(self, **settings: Any) -> Path:
        path = self.workdir / f"config-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(self.config(**settings)))
        return path

    @staticmethod
    def lines(messages: list[dict[str, Any]]) -> str:
        return "".join(encode_json(m).decode() + "\n" for m in messages)

    def load(self, messages: list[dict[str, Any]] | str, **settings: Any) -> Run:
        """The target's CLI fed ``messages``; fails the test if it fails, unless asked not to."""
        expect_failure = settings.pop("expect_failure", False)
        config = self.write_config(**settings)
        text = messages if isinstance(messages, str) else self.lines(messages)
        done = subprocess.run(
            [TARGET, "--config", str(config)],
            input=text,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if not expect_failure:
            assert done.returncode == 0, done.stderr[-3000:]
        states = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        return Run(done.returncode, states, done.stderr)

    @staticmethod
    def schema(
        stream: str, properties: dict[str, Any], key: list[str] | None = None
    ) -> dict[str, Any]:
        return {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": properties},
            "key_properties": ["id"] if key is None else key,
        }

    @staticmethod
    def record(stream: str, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"type": "RECORD", "stream": stream, "record": values, **extra}

    @staticmethod
    def state(value: Any) -> dict[str, Any]:
        return {"type": "STATE", "value": value}
