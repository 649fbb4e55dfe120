"""Batches committed to the lake on a thread of their own (pyarrow encodes and compresses,
and the store uploads, while the next batch is read), and STATE written only after its batch
is durable: files first, then the run's manifest listing them, then the batch's last STATE.

Which run a batch belongs to, and whether it is already in the lake:

- ``run_id`` is derived from the input: a hash of the tap, the format, the partition field and
  the first batch's content.  A rerun of the same input finds its manifest, and each batch
  whose content (``digest``: its records' checksums and versions, ACTIVATE_VERSIONs and STATEs)
  matches the manifest's batch of that number is skipped: nothing is written, its STATE is
  forwarded again.
- A kill after a manifest landed but before its STATE reached Meltano makes the tap resend that
  batch (it resumes from the STATE before).  The first batch of the rerun then matches a batch
  of one of the latest manifests: the rerun continues that run from there, so no record is
  listed twice.  A batch that differs from the one listed at its number (the source changed
  meanwhile) replaces it and the ones after it: their STATE never reached Meltano.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import msgspec

from target_lake import files, manifest
from target_lake.manifest import Activation, BatchEntry, FileEntry, Manifest, SchemaEntry
from target_lake.records import StreamSchema, encode_sorted
from target_lake.storage import Store

_encode = msgspec.json.Encoder().encode
PUTS = 8  # files written at once


@dataclass(frozen=True)
class Options:
    tap: str
    format: str = "parquet"
    partition_date_field: str | None = None
    batch_size_rows: int = 50_000
    tap_version: str | None = None


@dataclass
class PendingBatch:
    """What the reading loop hands over: every stream's rows since the last batch."""

    streams: dict[str, tuple[StreamSchema, list[tuple[Any, ...]]]]
    received_at: datetime
    rows: int = 0
    first_state: Any = None
    last_state: Any = None
    activations: list[Activation] = field(default_factory=list)

    def digest(self, fmt: str) -> str:
        """The batch's content, wherever it sits in a run."""
        found = hashlib.sha256()
        for name in sorted(self.streams):
            schema, rows = self.streams[name]
            width = len(schema.names) + 1 if fmt == "parquet" else 1
            found.update(_encode([name, schema.hash]))
            found.update("".join(r[width] for r in rows).encode())
            found.update(_encode([r[width + 3] for r in rows]))  # table versions
        found.update(_encode([(a.stream, a.version, a.sequence) for a in self.activations]))
        found.update(encode_sorted([self.first_state, self.last_state]))
        return found.hexdigest()


class Writer:
    def __init__(self, store: Store, options: Options, logger: logging.Logger, out: IO[str]):
        self.store = store
        self.options = options
        self.logger = logger
        self.out = out
        self.run: Manifest | None = None
        self.cursor = 0  # number of the next batch in ``run``
        self.written = self.skipped = self.rows = 0
        self._changed = threading.Condition()
        self._work: PendingBatch | None = None
        self._closing = False
        self._error: BaseException | None = None
        self.pool = ThreadPoolExecutor(max_workers=PUTS, thread_name_prefix="target-lake-put")
        self._thread = threading.Thread(target=self._loop, name="target-lake-writer", daemon=True)
        self._thread.start()

    # -- the reading thread's side -------------------------------------------------------------

    def submit(self, batch: PendingBatch) -> None:
        with self._changed:
            self._wait_idle()
            self._work = batch
            self._changed.notify_all()

    def close(self, *, failed: bool = False) -> None:
        """Let the batch in flight finish, mark the run complete (unless failing), stop."""
        with self._changed:
            while self._work is not None:
                self._changed.wait()
            self._closing = True
            self._changed.notify_all()
        self._thread.join()
        self.pool.shutdown()
        if failed:
            return
        self._raise()
        if self.run is not None and not self.run.complete:
            self.run.complete = True
            self.run.updated_at = manifest.now()
            manifest.save(self.store, self.run)
        if self.run is not None:
            self.logger.info(
                "run %s: %d batches written (%d rows), %d already in the lake; manifest %s",
                self.run.run_id,
                self.written,
                self.rows,
                self.skipped,
                f"{self.store.url}/{manifest.path(self.run.tap, self.run.run_id)}",
            )

    def _wait_idle(self) -> None:
        while self._work is not None:
            self._changed.wait()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    # -- the thread ----------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._changed:
                while self._work is None and not self._closing:
                    self._changed.wait()
                work = self._work
            if work is None:
                return
            try:
                if self._error is None:
                    self._commit(work)
            except BaseException as error:  # raised in the reading thread
                self._error = error
            with self._changed:
                self._work = None
                self._changed.notify_all()

    def _commit(self, batch: PendingBatch) -> None:
        digest = batch.digest(self.options.format)
        if self.run is None:
            self.run, self.cursor = self._open(digest)
        run = self.run
        if self.cursor < len(run.batches):
            listed = run.batches[self.cursor]
            if listed.digest == digest:
                self.logger.info(
                    "batch %d of run %s is already in the lake: nothing written",
                    self.cursor,
                    run.run_id,
                )
                self.cursor += 1
                self.skipped += 1
                self._state(batch.last_state)
                return
            self.logger.warning(
                "run %s: batch %d differs from the one listed (the source changed since an "
                "interrupted attempt whose STATE never reached Meltano): replacing batches "
                "%d to %d",
                run.run_id,
                self.cursor,
                self.cursor,
                len(run.batches) - 1,
            )
            run.batches = run.batches[: self.cursor]
            run.complete = False
            run.recount()
            manifest.save(self.store, run)  # before any of their files is overwritten
        run.batches.append(self._write(run, batch, digest))
        run.updated_at = manifest.now()
        run.recount()
        manifest.save(self.store, run)
        self.cursor += 1
        self.written += 1
        self.rows += batch.rows
        self._state(batch.last_state)

    def _write(self, run: Manifest, batch: PendingBatch, digest: str) -> BatchEntry:
        number, options = self.cursor, self.options
        entries = []
        for name in sorted(batch.streams):
            schema, rows = batch.streams[name]
            spec = files.Batch(
                schema,
                run.run_id,
                options.partition_date_field,
                batch.received_at,
                functools.partial(
                    _data_path, options.tap, name, run.run_id, number, options.format
                ),
            )
            encoded = files.encode(options.format, spec, rows)
            # in parallel: uploads and fsyncs wait on the network or the disk, not the CPU
            for lake_file, data in zip(encoded, self.pool.map(self._put, encoded), strict=True):
                entries.append(
                    FileEntry(
                        lake_file.path,
                        name,
                        lake_file.dt,
                        lake_file.rows,
                        data.nbytes,
                        hashlib.sha256(data).hexdigest(),
                        schema.hash,
                    )
                )
            run.schemas[schema.hash] = SchemaEntry(
                name, schema.schema, schema.key_properties, schema.bookmark_properties
            )
        self.logger.info(
            "batch %d of run %s: %d rows in %d files", number, run.run_id, batch.rows, len(entries)
        )
        return BatchEntry(
            number,
            digest,
            batch.rows,
            manifest.now(),
            batch.first_state,
            batch.last_state,
            entries,
            batch.activations,
        )

    def _put(self, lake_file: files.LakeFile) -> memoryview:
        data = memoryview(lake_file.data)
        self.store.put(lake_file.path, data)
        return data

    def _open(self, digest: str) -> tuple[Manifest, int]:
        """The run this input's first batch belongs to, and that batch's number in it."""
        options = self.options
        key = f"{options.tap}\x1f{options.format}\x1f{options.partition_date_field}\x1f{digest}"
        run_id = hashlib.sha256(key.encode()).hexdigest()[:20]
        entries = self.store.list(manifest.folder(options.tap))
        if any(e.name == f"{run_id}.json" for e in entries):
            return manifest.load(self.store, options.tap, f"{run_id}.json"), 0
        latest = sorted(entries, key=lambda e: e.mtime_ns, reverse=True)[:3]
        for entry in latest:
            if not entry.name.endswith(".json"):
                continue
            found = manifest.load(self.store, options.tap, entry.name)
            if (found.format, found.partition_date_field) != (
                options.format,
                options.partition_date_field,
            ):
                continue
            for number, listed in enumerate(found.batches):
                if listed.digest == digest:
                    self.logger.info(
                        "continuing run %s at batch %d: an earlier attempt wrote it, and its "
                        "STATE did not reach Meltano",
                        found.run_id,
                        number,
                    )
                    return found, number
        stamp = manifest.now()
        return (
            Manifest(
                run_id,
                options.tap,
                options.format,
                options.partition_date_field,
                stamp,
                stamp,
                tap_version=options.tap_version,
                target_version=_version(),
            ),
            0,
        )

    def _state(self, value: Any) -> None:
        if value is not None:
            self.out.write(_encode(value).decode() + "\n")
            self.out.flush()


def _data_path(tap: str, stream: str, run_id: str, number: int, fmt: str, day: str) -> str:
    return manifest.data_path(tap, stream, day, run_id, number, fmt)


def _version() -> str | None:
    try:
        return importlib.metadata.version("tapworks-target-lake")
    except importlib.metadata.PackageNotFoundError:
        return None
