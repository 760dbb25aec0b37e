"""Syncing O*NET from the official source: download ``db_{version}_text.zip``, check it, load it.

The download is streamed to a ``.part`` file beside the data folder's release cache with a
timeout, a size limit and a progress callback; only a complete zip whose members pass their CRC
check reaches the loader. Any failure is logged as ``failed`` in the sync log and raised as an
:class:`OnetSyncError` with one clear line; the store keeps its previous release.
"""

from __future__ import annotations

import contextlib
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import Engine

from jobforge.config import Settings, get_settings
from jobforge.onet.loader import OnetLoadError, Progress, SyncResult, fail_sync_log, load_release, start_sync_log
from jobforge.onet.releases import SyncStatus, authorize_release_change, sync_status

# bytes received so far, total bytes when the server said (Content-Length)
DownloadProgress = Callable[[int, int | None], None]

VERSION_PATTERN = re.compile(r"^\d{1,2}_\d{1,2}$")
DOWNLOAD_CHUNK = 64 * 1024


class OnetSyncError(OnetLoadError):
    """Downloading a release failed (HTTP error, timeout, too big, not a complete zip)."""


def check_version(version: str) -> str:
    """``30_1`` style versions only: they become part of the download URL and the file name."""
    version = version.strip().replace(".", "_")
    if not VERSION_PATTERN.match(version):
        raise OnetSyncError(f"{version!r} is not an O*NET version; use the form 30_1")
    return version


def cached_download(settings: Settings, version: str) -> Path:
    """Where a downloaded release is kept, so a later set-up need not fetch it again."""
    return settings.data_dir / "onet" / f"db_{version}_text.zip"


class OnetSyncService:
    """Download and load O*NET releases, and report what the store holds."""

    def __init__(self, engine: Engine, settings: Settings | None = None) -> None:
        self.engine = engine
        self.settings = settings or get_settings()

    def download_url(self, version: str) -> str:
        return self.settings.onet_download_url.format(version=check_version(version))

    def sync(
        self,
        version: str = "30_1",
        progress: DownloadProgress | None = None,
        messages: Progress | None = None,
        activate: bool = True,
        user: str | None = None,
    ) -> SyncResult:
        """Download release ``version`` from the official URL and load it (replacing that version).

        ``user`` must be an admin (PermissionDenied before anything is downloaded); the load is
        audited under that name ("system" when None: the set-up of a new store).
        """
        version = check_version(version)
        authorize_release_change(self.engine, user)
        url = self.download_url(version)
        log_id = start_sync_log(self.engine, version, url)
        say = messages or (lambda _message: None)
        say(f"Downloading {url}")
        try:
            path = self.download(version, progress)
        except OnetSyncError as exc:
            fail_sync_log(self.engine, log_id, str(exc))
            raise
        except KeyboardInterrupt:
            fail_sync_log(self.engine, log_id, "interrupted")
            raise
        return load_release(
            self.engine,
            path,
            version=version,
            activate=activate,
            progress=messages,
            source_label=url,
            log_id=log_id,
            user=user,
        )

    def download(self, version: str, progress: DownloadProgress | None = None) -> Path:
        """Fetch the release zip into the data folder and return its path; checked complete."""
        url = self.download_url(version)
        target = cached_download(self.settings, check_version(version))
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        try:
            self._stream_to(url, part, progress)
            _check_complete_zip(part, url)
            part.replace(target)
        finally:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
        return target

    def _stream_to(self, url: str, part: Path, progress: DownloadProgress | None) -> None:
        timeout = self.settings.onet_download_timeout
        limit_mb = self.settings.onet_download_max_mb
        limit = limit_mb * 1024 * 1024
        deadline = time.monotonic() + timeout  # the whole download, not only each read
        try:
            with httpx.stream("GET", url, timeout=httpx.Timeout(timeout), follow_redirects=True) as response:
                if response.status_code == 404:
                    raise OnetSyncError(f"O*NET release not found at {url} (HTTP 404); check the version, e.g. 30_1")
                if response.status_code >= 400:
                    raise OnetSyncError(
                        f"Downloading {url} failed: the server answered HTTP {response.status_code} "
                        f"{response.reason_phrase}".rstrip()
                    )
                total = _content_length(response)
                if total is not None and total > limit:
                    raise OnetSyncError(
                        f"Downloading {url} refused: {total / 1e6:.0f} MB is over the {limit_mb} MB limit "
                        "(JOBFORGE_ONET_DOWNLOAD_MAX_MB)"
                    )
                received = 0
                with part.open("wb") as out:
                    for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                        received += len(chunk)
                        if received > limit:
                            raise OnetSyncError(
                                f"Downloading {url} stopped: more than the {limit_mb} MB limit "
                                "(JOBFORGE_ONET_DOWNLOAD_MAX_MB)"
                            )
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("the whole download took too long")
                        out.write(chunk)
                        if progress is not None:
                            progress(received, total)
                if total is not None and received < total:
                    raise OnetSyncError(f"Downloading {url} was cut short: {received:,} of {total:,} bytes arrived")
        except httpx.TimeoutException as exc:
            raise OnetSyncError(
                f"Downloading {url} timed out after {timeout:g} s (JOBFORGE_ONET_DOWNLOAD_TIMEOUT)"
            ) from exc
        except httpx.RemoteProtocolError as exc:
            raise OnetSyncError(f"Downloading {url} was cut short: the connection closed early ({exc})") from exc
        except httpx.HTTPError as exc:
            raise OnetSyncError(f"Downloading {url} failed: {exc or type(exc).__name__}") from exc
        except OSError as exc:
            raise OnetSyncError(f"Downloading {url} failed: cannot write {part} ({exc})") from exc

    def get_sync_status(self, limit: int = 10) -> SyncStatus:
        """The active release with its counts, every release kept, and the last ``limit`` attempts."""
        return sync_status(self.engine, limit)


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    # A compressed transfer's length is of the encoded body, not of what iter_bytes yields.
    if value is None or not value.isdigit() or response.headers.get("content-encoding"):
        return None
    return int(value)


def _check_complete_zip(path: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise OnetSyncError(f"The download from {url} is not a complete zip file ({exc})") from exc
    if bad is not None:
        raise OnetSyncError(f"The download from {url} is corrupt: {bad!r} fails its CRC check")


def load_default_release(
    engine: Engine,
    progress: Progress | None = None,
    download_progress: DownloadProgress | None = None,
    settings: Settings | None = None,
    activate: bool = True,
    user: str | None = None,
) -> SyncResult:
    """Load the release JobForge uses by default.

    In order: the configured source (``JOBFORGE_ONET_SOURCE``), the reference zip beside the
    project (``../shared/onet/db_{version}_text.zip``), a release downloaded earlier into the data
    folder, else a download of ``JOBFORGE_ONET_VERSION`` from the official site. ``user`` as for
    :func:`load_release` (an admin; None is the set-up).
    """
    settings = settings or get_settings()
    source = settings.resolved_onet_source()
    if source is None:
        cached = cached_download(settings, check_version(settings.onet_version))
        source = str(cached) if cached.exists() else None
    if source is not None:
        return load_release(engine, source, activate=activate, progress=progress, user=user)
    return OnetSyncService(engine, settings).sync(
        settings.onet_version, progress=download_progress, messages=progress, activate=activate, user=user
    )
