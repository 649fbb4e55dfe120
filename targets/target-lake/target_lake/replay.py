"""``tap-lake``: a lake's runs sent again as Singer messages, so any loader can rebuild from
the lake what the tap once sent, without calling its API.

Only files the manifests list are read, and each is checked against its manifest's sha256.
Runs go oldest first and each batch as it was written: SCHEMA (from the manifest) before a
stream's first record, the records in the order the tap sent them, with their
``time_extracted`` and table ``version`` and without the lake's provenance columns (so a
loader builds the same tables as from the tap itself), the ACTIVATE_VERSION messages where
they were, then a STATE.

That STATE is the tap's own last STATE of the batch (so Meltano shows the source's bookmarks)
with one key added, ``tap_lake``: how many batches of each run were replayed and the digest of
the last, so the next run replays only what was added since (a run continued after an
interruption included).  Runs older than the newest 200 complete ones replayed are kept as a
single ``through`` mark instead of one entry each.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import sys
from collections.abc import Iterator
from typing import IO, Any, ClassVar

import msgspec
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities, TapCapabilities

from target_lake import files, manifest
from target_lake.manifest import BatchEntry, Manifest
from target_lake.records import StreamSchema
from target_lake.storage import Store, StoreError, closing, shut_down_s3
from target_lake.target import scrub, storage_properties

BOOKMARK = "tap_lake"
KEEP_RUNS = 200
_encode = msgspec.json.Encoder().encode


class TapLake(Tap):
    """Replays a lake written by target-lake: SCHEMA, RECORD and STATE as the tap sent them."""

    name = "tap-lake"
    package_name = "tapworks-target-lake"
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        TapCapabilities.STATE,
    ]
    config_jsonschema = th.PropertiesList(
        *storage_properties(),
        th.Property(
            "tap",
            th.StringType,
            required=True,
            description="Whose lake to replay: the tap setting target-lake wrote it with "
            "(<root>/<tap>/).",
        ),
        th.Property(
            "streams",
            th.ArrayType(th.StringType),
            description="Replay only these streams (default: all).",
        ),
        th.Property(
            "run_ids",
            th.ArrayType(th.StringType),
            description="Replay only these runs (manifest names without .json; default: all).",
        ),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        """None: the streams are the lake's (choose them with the streams setting)."""
        return []

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        state: IO[str] | None = None,
        catalog: IO[str] | None = None,
    ) -> None:
        super(Tap, cls).invoke(about=about, about_format=about_format)  # --about exits here
        cls.print_version(print_fn=cls.logger.info)
        tap = cls(
            config=config.config if config is not None else {},
            parse_env_config=bool(config.parse_env) if config is not None else False,
            validate_config=True,
            setup_mapper=False,
        )
        settings = dict(tap.config)
        try:
            value = json.loads(state.read() or "{}") if state is not None else {}
            with closing(settings) as store:
                Replay(store, settings, tap.logger, sys.stdout.buffer).run(
                    value if isinstance(value, dict) else {}
                )
        except (StoreError, ReplayError) as error:
            tap.logger.error("%s", scrub(str(error), settings))
            sys.exit(1)
        finally:
            shut_down_s3()


class ReplayError(Exception):
    pass


class Replay:
    def __init__(self, store: Store, config: dict[str, Any], logger: Any, out: IO[bytes]):
        self.store = store
        self.tap = str(config.get("tap") or "").strip()
        if not self.tap:
            raise ReplayError("tap: not set; name the tap whose lake to replay")
        self.streams = set(config.get("streams") or []) or None
        self.run_ids = set(config.get("run_ids") or []) or None
        self.logger = logger
        self.out = out
        self.sent_schemas: dict[str, str] = {}

    def run(self, state: dict[str, Any]) -> None:
        found_bookmark = state.get(BOOKMARK)
        bookmark: dict[str, Any] = found_bookmark if isinstance(found_bookmark, dict) else {}
        runs: dict[str, list[Any]] = dict(bookmark.get("runs") or {})
        through = bookmark.get("through")
        found = manifest.manifests(self.store, self.tap)
        if not found:
            self.logger.warning("no manifests in %s/%s", self.store.url, manifest.folder(self.tap))
        last_state = {k: v for k, v in state.items() if k != BOOKMARK} or None
        replayed = 0
        for run in found:
            if self.run_ids is not None and run.run_id not in self.run_ids:
                continue
            done = self._done(run, runs, through)
            for batch in run.batches[done:]:
                replayed += self._batch(run, batch)
                runs[run.run_id] = [batch.batch + 1, batch.digest[:16]]
                if batch.last_state is not None:
                    last_state = batch.last_state
                through = self._prune(found, runs, through)
                self._state(last_state, runs, through)
        self.out.flush()
        self.logger.info("replayed %d records from %d runs", replayed, len(found))

    def _done(self, run: Manifest, runs: dict[str, list[Any]], through: Any) -> int:
        """How many of ``run``'s batches an earlier replay sent."""
        entry = runs.get(run.run_id)
        if entry is None:
            older = through is not None and [run.created_at, run.run_id] <= through
            return len(run.batches) if older else 0
        count, digest = entry
        if count > len(run.batches) or run.batches[count - 1].digest[:16] != digest:
            self.logger.warning(
                "run %s changed since it was replayed (an interrupted run was continued): "
                "replaying it whole again",
                run.run_id,
            )
            return 0
        return int(count)

    @staticmethod
    def _prune(found: list[Manifest], runs: dict[str, list[Any]], through: Any) -> Any:
        complete = [m for m in found if m.complete and runs.get(m.run_id, [0])[0] == len(m.batches)]
        for old in complete[:-KEEP_RUNS] if len(complete) > KEEP_RUNS else []:
            runs.pop(old.run_id, None)
            mark = [old.created_at, old.run_id]
            through = mark if through is None or mark > through else through
        return through

    def _batch(self, run: Manifest, batch: BatchEntry) -> int:
        wanted = [f for f in batch.files if self.streams is None or f.stream in self.streams]
        schemas = {h: _schema(run, h) for h in {f.schema_hash for f in wanted}}
        sources = [self._rows(run, f, schemas[f.schema_hash]) for f in wanted]
        activations = sorted(
            (
                a
                for a in batch.activate_versions
                if self.streams is None or a.stream in self.streams
            ),
            key=lambda a: a.sequence,
        )
        lines: list[bytes] = []
        count = 0
        for sequence, stream, schema, record, extracted, version in heapq.merge(*sources):
            while activations and activations[0].sequence <= sequence:
                self._activate(activations.pop(0), run, lines)
            self._schema_line(schema, lines)
            message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
            if extracted is not None:
                message["time_extracted"] = extracted
            if version is not None:
                message["version"] = version
            lines.append(_encode(message))
            count += 1
            if len(lines) >= 2_000:
                self._write(lines)
        for activation in activations:
            self._activate(activation, run, lines)
        self._write(lines)
        return count

    def _rows(
        self, run: Manifest, entry: manifest.FileEntry, schema: StreamSchema
    ) -> Iterator[tuple[int, str, StreamSchema, dict[str, Any], str | None, int | None]]:
        data = self.store.get(entry.path)
        if len(data) != entry.bytes or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise ReplayError(
                f"{self.store.url}/{entry.path} does not match the sha256 its manifest "
                f"({run.run_id}) lists: the file was changed or truncated after it was written"
            )
        for sequence, record, extracted, version in files.records(run.format, data, schema):
            yield sequence, entry.stream, schema, record, extracted, version

    def _activate(self, activation: manifest.Activation, run: Manifest, lines: list[bytes]) -> None:
        self._schema_line(_schema(run, activation.schema_hash), lines)
        message = {"type": "ACTIVATE_VERSION", "stream": activation.stream}
        lines.append(_encode({**message, "version": activation.version}))

    def _schema_line(self, schema: StreamSchema, lines: list[bytes]) -> None:
        if self.sent_schemas.get(schema.stream) == schema.hash:
            return
        self.sent_schemas[schema.stream] = schema.hash
        message: dict[str, Any] = {
            "type": "SCHEMA",
            "stream": schema.stream,
            "schema": schema.schema,
            "key_properties": schema.key_properties,
        }
        if schema.bookmark_properties is not None:
            message["bookmark_properties"] = schema.bookmark_properties
        lines.append(_encode(message))

    def _state(self, last: Any, runs: dict[str, list[Any]], through: Any) -> None:
        value = dict(last) if isinstance(last, dict) else ({"tap_state": last} if last else {})
        value[BOOKMARK] = {"runs": runs, "through": through}
        self._write([_encode({"type": "STATE", "value": value})])

    def _write(self, lines: list[bytes]) -> None:
        if lines:
            self.out.write(b"\n".join(lines) + b"\n")
            lines.clear()


def _schema(run: Manifest, schema_hash: str) -> StreamSchema:
    entry = run.schemas.get(schema_hash)
    if entry is None:
        raise ReplayError(f"manifest {run.run_id} lists no schema {schema_hash}")
    return StreamSchema(entry.stream, entry.schema, entry.key_properties, entry.bookmark_properties)
