"""Batches committed on a thread of their own: Postgres merges one batch while the next one is
read and converted, so the target's two halves each keep a core busy.

At most one batch is in flight; handing over the next one waits for it, so two batches at most
are in memory.  STATE is written only by whoever knows its rows are committed: this thread right
after the commit of the batch it was received with, or the caller when nothing is in flight.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import psycopg
from psycopg import sql

from target_postgres.columns import encode_json
from target_postgres.table import Counts, Table


@dataclass
class StreamBatch:
    stream: str
    table: Table
    rows: list[tuple[Any, ...]]
    truncate_first: bool = False


@dataclass
class Retirement:
    """ACTIVATE_VERSION: rows of versions before ``version`` are gone from the source."""

    stream: str
    table: Table
    version: int


@dataclass
class Work:
    reason: str
    loads: list[StreamBatch] = field(default_factory=list)
    retirements: list[Retirement] = field(default_factory=list)
    state: Any = None  # written once this work is committed


@dataclass(frozen=True)
class LoadSettings:
    upsert: bool
    hard_delete: bool


class Writer:
    def __init__(
        self,
        connection: psycopg.Connection[Any],
        settings: LoadSettings,
        logger: logging.Logger,
        out: IO[str],
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.logger = logger
        self.out = out
        self.totals: dict[str, Counts] = {}
        self._changed = threading.Condition()
        self._work: Work | None = None
        self._later_state: Any = None  # received while a batch was in flight, after its rows
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name="target-postgres-writer", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    # -- the caller's side ---------------------------------------------------------------------

    def submit(self, work: Work) -> None:
        """Hand over ``work`` once the work in flight is committed."""
        with self._changed:
            self._wait_idle()
            self._work = work
            self._changed.notify_all()

    def state(self, value: Any) -> None:
        """STATE covering only committed or in-flight rows: written after the commit in flight."""
        with self._changed:
            if self._work is not None:
                self._later_state = value
                return
            self._raise_error()
            self._write_state(value)

    def drain(self) -> None:
        """Wait until nothing is in flight (before the caller uses the connection itself)."""
        with self._changed:
            self._wait_idle()

    def close(self, *, failed: bool = False) -> None:
        """Let the batch in flight finish (its STATE is written if it commits), then stop.
        Raises the thread's error unless the caller is already failing."""
        with self._changed:
            while self._work is not None:
                self._changed.wait()
            self._closing = True
            self._changed.notify_all()
        self._thread.join()
        if not failed:
            self._raise_error()

    def _wait_idle(self) -> None:
        while self._work is not None:
            self._changed.wait()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._changed:
                while self._work is None and not self._closing:
                    self._changed.wait()
                work = self._work
            if work is None:
                return
            error: BaseException | None = None
            try:
                if self._error is None:
                    self._commit(work)
            except BaseException as failure:  # raised in the caller's thread
                error = failure
            with self._changed:
                if error is not None:
                    self._error = error
                elif self._error is None:
                    for value in (work.state, self._later_state):
                        if value is not None:
                            self._write_state(value)
                self._later_state = None
                self._work = None
                self._changed.notify_all()

    def _commit(self, work: Work) -> None:
        started = datetime.now(UTC)
        results: list[tuple[str, Counts, str]] = []
        with self.connection.transaction():
            for batch in work.loads:
                if batch.truncate_first:
                    self.connection.execute(sql.SQL("TRUNCATE {}").format(batch.table.ident))
                    batch.table.direct = bool(batch.table.key)
                counts = batch.table.load(
                    self.connection,
                    batch.rows,
                    upsert=self.settings.upsert,
                    hard_delete=self.settings.hard_delete,
                )
                results.append((batch.stream, counts, "batch committed"))
            for retirement in work.retirements:
                retired = retirement.table.retire_versions_before(
                    self.connection, retirement.version, hard_delete=self.settings.hard_delete
                )
                done = "deleted" if self.settings.hard_delete else "marked _sdc_deleted_at"
                counts = Counts(deleted=retired)
                results.append(
                    (retirement.stream, counts, f"version {retirement.version} complete ({done})")
                )
        seconds = (datetime.now(UTC) - started).total_seconds()
        for stream, counts, what in results:
            self._log(stream, what, work.reason, counts, seconds)
            self.totals.setdefault(stream, Counts()).add(counts)

    def _log(self, stream: str, what: str, reason: str, counts: Counts, seconds: float) -> None:
        self.logger.info(
            "%s: %s (%s): %d rows staged, %d inserted, %d updated, %d unchanged, %d deleted "
            "in %.2f s",
            stream,
            what,
            reason,
            counts.staged,
            counts.inserted,
            counts.updated,
            counts.unchanged,
            counts.deleted,
            seconds,
        )

    def _write_state(self, value: Any) -> None:
        self.out.write(encode_json(value).decode() + "\n")
        self.out.flush()
