"""The run's worker threads: a fixed number, started on first use, daemons.

Daemons, unlike ``concurrent.futures``' threads, do not hold the process open: when a run
fails outside the engine (a record refused by validation while windows are still being
fetched), the tap exits with its error instead of waiting for workers nobody reads from.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, Protocol


class Pool(Protocol):
    """What the engine needs of a pool: ``concurrent.futures`` executors fit too."""

    def submit(self, task: Callable[..., Any], /, *args: Any) -> Any: ...


class WorkerPool:
    def __init__(self, workers: int, name: str = "tapkit-fetch") -> None:
        self._tasks: SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True)
            for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, task: Callable[..., Any], *args: Any) -> None:
        self._tasks.put((task, args))

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop each thread after the tasks queued before this."""
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _run(self) -> None:
        while (item := self._tasks.get()) is not None:
            task, args = item
            task(*args)  # tasks hand their own errors on (see Scheduler._fill)
