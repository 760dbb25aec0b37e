"""Helpers for the O*NET tests: what the store holds, and a local HTTP server for sync tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import Engine, func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import OnetAlternateTitle, OnetOccupation, OnetRelease, OnetSyncLog, OnetTask


@dataclass(frozen=True)
class StoreState:
    """The O*NET content of a store, to compare before and after a failed load."""

    active: str | None
    releases: dict[str, tuple[int, int, int]]  # version -> (occupations, alternate titles, tasks) in the tables


def store_state(engine: Engine) -> StoreState:
    with session_factory(engine)() as session:
        releases = {}
        for release in session.scalars(select(OnetRelease)):
            releases[release.version] = tuple(
                session.scalar(select(func.count()).select_from(model).where(model.release_id == release.id)) or 0
                for model in (OnetOccupation, OnetAlternateTitle, OnetTask)
            )
        active = session.scalar(select(OnetRelease.version).where(OnetRelease.is_active.is_(True)))
        return StoreState(active=active, releases=releases)


def last_sync(engine: Engine) -> OnetSyncLog:
    with session_factory(engine)() as session:
        entry = session.scalar(select(OnetSyncLog).order_by(OnetSyncLog.id.desc()).limit(1))
        assert entry is not None
        return entry


# A route answers one request: it gets the handler and writes the whole response itself.
Route = Callable[[BaseHTTPRequestHandler], None]


def send_bytes(data: bytes, status: int = 200, claimed_length: int | None = None) -> Route:
    """Answer with ``data``; ``claimed_length`` > len(data) simulates a connection cut mid-download."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/zip")
        handler.send_header("Content-Length", str(claimed_length if claimed_length is not None else len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.close_connection = True

    return route


def send_status(status: int) -> Route:
    return send_bytes(f"<html><body>Error {status}</body></html>".encode(), status=status)


def send_slowly(delay: float) -> Route:
    """Say nothing for ``delay`` seconds (a server that hangs)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(delay)
        send_bytes(b"too late")(handler)

    return route


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering ``routes`` (path -> route), 404 elsewhere.

    Yields the base URL, e.g. ``http://127.0.0.1:40123``.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            (routes.get(self.path) or send_status(404))(self)

        def log_message(self, *_args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
