"""Asynchronous Lambda invocations: a bounded pool of worker threads with AWS's retry semantics.

AWS runs an asynchronous invocation (S3 notification, ``InvocationType=Event``)
from an internal queue; on a function error it retries twice more, then hands
the event to the function's dead-letter queue. ``AsyncInvoker`` does the same
locally: ``submit(AsyncJob)`` returns at once; a worker runs the attempt, a
failed attempt is re-queued after the next delay (``retry_delays``, shorter
than AWS's minute-scale backoff), and when the attempts are exhausted the
job's ``on_failure`` runs (the DLQ). A delayed retry waits in a heap, not in a
sleeping worker, so failures do not starve other events.

Knobs (``AsyncSettings.from_env``):

* ``EMULATOR_LAMBDA_ASYNC_WORKERS``: worker threads (default 4);
* ``EMULATOR_LAMBDA_RETRY_DELAYS``: comma-separated seconds before each retry
  (default ``1,2``: two retries as on AWS; ``""`` = no retries). A function's
  ``PutFunctionEventInvokeConfig`` ``MaximumRetryAttempts`` (0-2) lowers the count.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

LOGGER = logging.getLogger("emulator.lambda")


@dataclass(frozen=True)
class AsyncSettings:
    """Worker count and retry delays for asynchronous invocations."""

    workers: int = 4
    retry_delays: tuple[float, ...] = (1.0, 2.0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AsyncSettings:
        environ = os.environ if environ is None else environ
        workers = int(environ.get("EMULATOR_LAMBDA_ASYNC_WORKERS", cls.workers))
        raw = environ.get("EMULATOR_LAMBDA_RETRY_DELAYS")
        delays = cls.retry_delays if raw is None else tuple(float(part) for part in raw.split(",") if part.strip())
        if workers < 1 or any(delay < 0 for delay in delays):
            raise ValueError("EMULATOR_LAMBDA_ASYNC_WORKERS must be >= 1 and retry delays >= 0")
        return cls(workers=workers, retry_delays=delays)


@dataclass
class AsyncJob:
    """One asynchronous event for one function.

    ``attempt()`` runs the function once and returns ``None`` on success or the
    function error (``{"errorType", "errorMessage", ...}`` plus ``requestId``);
    ``on_failure(error)`` runs once after the last failed attempt.
    """

    label: str
    attempt: Callable[[], dict[str, Any] | None]
    on_failure: Callable[[dict[str, Any]], None]
    max_retries: int | None = None
    attempts_made: int = field(default=0, init=False)


class AsyncInvoker:
    """Bounded worker pool; ``shutdown`` + ``join`` stop it (pending events are dropped)."""

    def __init__(self, settings: AsyncSettings | None = None) -> None:
        self.settings = settings or AsyncSettings()
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, AsyncJob]] = []
        self._sequence = itertools.count()
        self._busy = 0
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._work, name=f"lambda-async-{index}", daemon=True)
            for index in range(self.settings.workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: AsyncJob) -> bool:
        """Queue ``job`` to run now; False (and nothing queued) once shutting down."""
        return self._push(job, 0.0)

    def _push(self, job: AsyncJob, delay: float) -> bool:
        with self._condition:
            if self._stopping:
                return False
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._sequence), job))
            self._condition.notify()
            return True

    def pending(self) -> int:
        """Events queued or running (including ones waiting for a retry)."""
        with self._condition:
            return len(self._queue) + self._busy

    def _next(self) -> AsyncJob | None:
        with self._condition:
            while not self._stopping:
                if self._queue:
                    due = self._queue[0][0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        self._busy += 1
                        return heapq.heappop(self._queue)[2]
                    self._condition.wait(wait)
                else:
                    self._condition.wait()
            return None

    def _work(self) -> None:
        while (job := self._next()) is not None:
            try:
                self._run(job)
            except Exception:  # a broken job must not kill the worker
                LOGGER.exception("[%s] asynchronous invocation failed inside the emulator", job.label)
            finally:
                with self._condition:
                    self._busy -= 1
                    self._condition.notify_all()

    def _run(self, job: AsyncJob) -> None:
        error = job.attempt()
        job.attempts_made += 1
        if error is None:
            return
        delays = self.settings.retry_delays
        retries = len(delays) if job.max_retries is None else min(job.max_retries, len(delays))
        if job.attempts_made <= retries:
            delay = delays[job.attempts_made - 1]
            LOGGER.info(
                "[%s] asynchronous invocation failed (%s); retry %d in %g s",
                job.label,
                error.get("errorType"),
                job.attempts_made,
                delay,
            )
            if self._push(job, delay):
                return
            LOGGER.info("[%s] emulator stopping: retry dropped", job.label)
            return
        LOGGER.info(
            "[%s] asynchronous invocation failed after %d attempt(s): %s",
            job.label,
            job.attempts_made,
            error.get("errorType"),
        )
        job.on_failure(error)

    def shutdown(self) -> int:
        """Stop taking events and wake the workers; returns how many queued events were dropped."""
        with self._condition:
            self._stopping = True
            dropped = len(self._queue)
            self._queue.clear()
            self._condition.notify_all()
        return dropped

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds in total for the workers; True when all ended."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)


__all__ = ["AsyncInvoker", "AsyncJob", "AsyncSettings"]
