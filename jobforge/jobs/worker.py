"""Workers: claim queued jobs from the store and run their handlers.

Teams on Postgres run ``python -m jobforge worker`` processes (as many as they like); the app on
SQLite runs one worker in a daemon thread of its own (``ensure_background_worker``). While a job
runs, a heartbeat thread keeps ``job.heartbeat_at`` fresh; if the worker dies, the heartbeat stops,
the job is re-queued once it is older than ``job_stale_seconds`` and another worker resumes it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from jobforge.config import get_settings
from jobforge.db.engine import StoreError, session_factory
from jobforge.db.models import Job
from jobforge.jobs import queue
from jobforge.jobs.queue import JobCancelled
from jobforge.jobs.registry import UnknownJobKind, get_handler
from jobforge.redaction import scrub

_log = logging.getLogger(__name__)
STORE_RETRIES = 8  # store faults in a row before the job fails (backoff 1, 2, 4 … 30 s)
STORE_BACKOFF_FIRST = 1.0
STORE_BACKOFF_MAX = 30.0
STORE_FAULTS = (DBAPIError, StoreError)  # the driver's errors, and our own "locked" wait giving up


def _store_error(exc: Exception) -> str:
    """The store's own words (the driver's message, not SQLAlchemy's wrapper with the SQL)."""
    return error_text(getattr(exc, "orig", None) or exc).splitlines()[0]


def process_space() -> str:
    """Where this process's pids mean something: the host name and its PID namespace.

    Two containers may share a host name; a pid seen from one says nothing about the other.
    """
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        namespace = "?"
    return f"{socket.gethostname()}@{namespace}"


def default_worker_id() -> str:
    return f"{process_space()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def worker_is_dead(worker_id: str) -> bool:
    """True only when ``worker_id`` (space:pid:…) names a process of this PID namespace that no longer runs."""
    host, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != process_space() or not pid_text.isdigit():
        return False  # another machine's worker: only its heartbeat can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but is not ours to signal
        return False
    return False


def error_text(exc: BaseException) -> str:
    """One line for the page: our own errors speak for themselves, others get their type named."""
    if type(exc).__module__.startswith("jobforge") and str(exc):
        return scrub(exc)
    return scrub(f"{type(exc).__name__}: {exc}")


class WorkerStopping(RuntimeError):
    """The worker was asked to stop: the running job goes back to the queue after its batch."""


class Worker:
    def __init__(self, engine: Engine, worker_id: str | None = None, kinds: tuple[str, ...] | None = None) -> None:
        self.engine = engine
        self.worker_id = worker_id or default_worker_id()
        self.kinds = kinds
        self._stop = threading.Event()
        self._sessions = session_factory(engine)

    def run_once(self) -> bool:
        """Claim and run one job; False when the queue was empty."""
        with self._sessions() as session:
            job = queue.claim_next(session, self.worker_id, self.kinds)
        if job is None:
            return False
        self._run(job)
        return True

    def run_forever(self, poll: float | None = None, stop_event: threading.Event | None = None) -> None:
        """Run jobs until ``stop_event`` is set, waiting ``poll`` seconds whenever the queue is empty."""
        stop = self._stop = stop_event or threading.Event()
        wait = get_settings().worker_poll_seconds if poll is None else poll
        _log.info("Worker %s started", self.worker_id)
        try:
            with self._sessions() as session:
                if resumed := queue.requeue_orphans(session, worker_is_dead):
                    _log.info("Re-queued %d job(s) whose worker process is gone", resumed)
        except Exception:
            _log.exception("Could not look for orphaned jobs")
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the store was unreachable for a moment: keep serving
                _log.exception("Worker %s could not claim a job", self.worker_id)
                worked = False
            if not worked:
                stop.wait(wait)
        _log.info("Worker %s stopped", self.worker_id)

    def _run(self, job: Job) -> None:
        _log.info("Worker %s runs job %s (%s)", self.worker_id, job.id, job.kind)
        beating = threading.Event()
        beater = threading.Thread(target=self._beat, args=(job.id, beating), daemon=True, name=f"heartbeat-{job.id}")
        beater.start()
        try:
            self._run_with_retries(job)
        finally:
            beating.set()
            beater.join(timeout=5)

    def _run_with_retries(self, job: Job) -> None:
        """Run the handler; a store fault marks the job "retrying" and runs it again (from its cursor)."""
        for attempt in range(STORE_RETRIES + 1):
            try:
                result = get_handler(job.kind)(self.engine, job, self._reporter(job.id))
            except JobCancelled as exc:
                _log.info("Job %s stopped: %s", job.id, exc)
            except WorkerStopping:
                self._store_retrying(lambda s: queue.release(s, job.id, self.worker_id), f"hand back job {job.id}")
                _log.info("Job %s handed back to the queue", job.id)
            except UnknownJobKind as exc:
                self._close(job.id, error=str(exc))
            except STORE_FAULTS as exc:  # the store failed under the job (locked, read-only, full, gone)
                if attempt == STORE_RETRIES or not self._retry_later(job.id, exc, attempt):
                    self._close(job.id, error=f"The store failed: {_store_error(exc)}")
                    return
                continue
            except Exception as exc:
                _log.exception("Job %s failed", job.id)
                self._close(job.id, error=error_text(exc))
            else:
                self._close(job.id, result=result or {})
            return

    def _retry_later(self, job_id: int, exc: Exception, attempt: int) -> bool:
        """Show "retrying" with the error, wait with backoff, then mark it running; False if the job was lost."""
        delay = min(STORE_BACKOFF_MAX, STORE_BACKOFF_FIRST * 2**attempt)
        text = _store_error(exc)
        _log.warning("Job %s hit a store error (%s); retrying in %.0f s", job_id, text, delay)
        try:
            with self._sessions() as session:
                queue.mark_retrying(session, job_id, self.worker_id, text, delay)
        except STORE_FAULTS:
            _log.warning("Could not mark job %s as retrying (the store still fails)", job_id)
        if self._stop.wait(delay):
            return False
        return self._store_retrying(lambda s: queue.resume_running(s, job_id, self.worker_id), f"resume job {job_id}")

    def _store_retrying(self, write: Any, what: str) -> bool:
        """Run ``write(session)`` until the store takes it (backoff); False if the worker is stopped first."""
        for attempt in range(10_000):
            try:
                with self._sessions() as session:
                    write(session)
                return True
            except STORE_FAULTS as exc:
                delay = min(STORE_BACKOFF_MAX, STORE_BACKOFF_FIRST * 2**attempt)
                reason = _store_error(exc)
                _log.warning("Could not %s: the store failed (%s); trying again in %.0f s", what, reason, delay)
                if self._stop.wait(delay):
                    return False
        return False

    def _reporter(self, job_id: int) -> Any:
        def report(done: int, total: int, message: str) -> None:
            with self._sessions() as session:
                queue.heartbeat(session, job_id, self.worker_id, done=done, total=total, message=message)
            if self._stop.is_set():
                raise WorkerStopping()

        return report

    def _beat(self, job_id: int, stop: threading.Event) -> None:
        """Keep the heartbeat fresh while a long batch (an LLM call) runs."""
        every = max(0.5, get_settings().job_heartbeat_seconds)
        while not stop.wait(every):
            try:
                with self._sessions() as session:
                    queue.heartbeat(session, job_id, self.worker_id)
            except JobCancelled:
                return  # the handler notices at its next report
            except Exception:
                _log.warning("Heartbeat of job %s failed; retrying", job_id, exc_info=True)

    def _close(self, job_id: int, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        """Record the end of the job; a store error here is reported as such and retried.

        The job's work is committed batch by batch with its cursor, so if the end can never be
        recorded (the worker stops first), the next worker resumes from the cursor: nothing runs twice.
        """

        def close(session: Any) -> bool:
            if error is None:
                return queue.finish(session, job_id, self.worker_id, result or {})
            return queue.fail(session, job_id, self.worker_id, error)

        if not self._store_retrying(close, f"record the end of job {job_id}"):
            _log.warning("The end of job %s was not recorded; it will resume from its cursor", job_id)


# ---------------------------------------------------------------------------------------------
# The in-process worker (the app on SQLite)
# ---------------------------------------------------------------------------------------------

_background: dict[str, tuple[threading.Thread, threading.Event]] = {}
_background_lock = threading.Lock()


def ensure_background_worker(engine: Engine) -> threading.Thread:
    """Start (once per process and store) a daemon thread that runs queued jobs; return it."""
    key = engine.url.render_as_string(hide_password=True)
    with _background_lock:
        running = _background.get(key)
        if running is not None and running[0].is_alive():
            return running[0]
        stop = threading.Event()
        worker = Worker(engine)
        thread = threading.Thread(
            target=worker.run_forever, kwargs={"stop_event": stop}, daemon=True, name=f"jobforge-worker-{key}"
        )
        thread.start()
        _background[key] = (thread, stop)
        return thread


def stop_background_workers(timeout: float = 10.0) -> None:
    """Stop every in-process worker (tests, and a clean shutdown)."""
    with _background_lock:
        items = list(_background.values())
        _background.clear()
    for _, stop in items:
        stop.set()
    for thread, _ in items:
        thread.join(timeout=timeout)
