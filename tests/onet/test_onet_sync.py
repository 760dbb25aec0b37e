"""Syncing from the official URL pattern, against a real HTTP server on 127.0.0.1.

The server serves a zip built from the tiny release; faults (404, 500, a hang, a cut connection,
a truncated or non-zip body, an oversized file) must each give a clear error, log the attempt as
failed and leave the previously active release in place with all its rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from onet_fixture import OCCUPATIONS, write_release
from onet_helpers import last_sync, send_bytes, send_slowly, send_status, serve, store_state
from sqlalchemy import Engine

from jobforge.config import ONET_DOWNLOAD_URL, Settings
from jobforge.onet.sync import OnetSyncError, OnetSyncService, check_version, load_default_release

PATH = "/dl_files/database/db_30_0_text.zip"


def _settings(base_url: str, tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        onet_download_url=base_url + "/dl_files/database/db_{version}_text.zip",
        **overrides,
    )


@pytest.fixture
def release_zip(tmp_path: Path) -> bytes:
    (tmp_path / "served").mkdir()
    return write_release(tmp_path / "served", version="30_0").read_bytes()


def test_the_default_url_is_the_official_download_path() -> None:
    service = OnetSyncService.__new__(OnetSyncService)
    service.settings = Settings()
    assert service.download_url("30_1") == "https://www.onetcenter.org/dl_files/database/db_30_1_text.zip"
    assert Settings().onet_download_url == ONET_DOWNLOAD_URL


def test_sync_downloads_loads_activates_and_reports_progress(
    onet_engine: Engine, tmp_path: Path, release_zip: bytes
) -> None:
    seen: list[tuple[int, int | None]] = []
    messages: list[str] = []
    with serve({PATH: send_bytes(release_zip)}) as base:
        service = OnetSyncService(onet_engine, _settings(base, tmp_path))
        result = service.sync("30_0", progress=lambda done, total: seen.append((done, total)), messages=messages.append)

    assert (result.version, result.status, result.occupation_count) == ("30_0", "success", len(OCCUPATIONS))
    assert result.alternate_title_count == 19 and result.task_count == 10
    assert seen[-1] == (len(release_zip), len(release_zip))
    assert any("Downloading http://127.0.0.1" in m for m in messages)

    status = service.get_sync_status()
    assert status.active is not None and status.active.version == "30_0"
    assert status.active.counts["occupations"] == len(OCCUPATIONS)
    assert {r.version for r in status.releases} == {"29_9", "30_0"}
    newest = status.recent[0]
    assert newest.status == "success" and newest.source == base + PATH
    # The download is kept in the data folder, so a later set-up need not fetch it again.
    assert (tmp_path / "data" / "onet" / "db_30_0_text.zip").read_bytes() == release_zip


def _faults(release_zip: bytes) -> dict[str, tuple[dict, dict, str]]:
    """name -> (routes, settings overrides, what the error must say)."""
    return {
        "404": ({}, {}, r"O\*NET release not found at http://127\.0\.0\.1:\d+/.*db_30_0_text\.zip \(HTTP 404\)"),
        "500": ({PATH: send_status(500)}, {}, r"failed: the server answered HTTP 500 Internal Server Error"),
        "timeout": (
            {PATH: send_slowly(3)},
            {"onet_download_timeout": 0.3},
            r"timed out after 0\.3 s \(JOBFORGE_ONET_DOWNLOAD_TIMEOUT\)",
        ),
        "connection cut": (
            {PATH: send_bytes(release_zip[:500], claimed_length=len(release_zip))},
            {},
            r"was cut short",
        ),
        "truncated zip": (
            {PATH: send_bytes(release_zip[: len(release_zip) // 2])},
            {},
            r"is not a complete zip file",
        ),
        "not a zip": ({PATH: send_bytes(b"<html>Please sign in</html>")}, {}, r"is not a complete zip file"),
        "too big": ({PATH: send_bytes(release_zip)}, {"onet_download_max_mb": 0}, r"over the 0 MB limit"),
    }


@pytest.mark.parametrize("fault", ["404", "500", "timeout", "connection cut", "truncated zip", "not a zip", "too big"])
def test_a_failed_sync_is_logged_and_leaves_the_store_as_it_was(
    onet_engine: Engine, tmp_path: Path, release_zip: bytes, fault: str
) -> None:
    routes, overrides, message = _faults(release_zip)[fault]
    before = store_state(onet_engine)

    with serve(routes) as base, pytest.raises(OnetSyncError, match=message):
        OnetSyncService(onet_engine, _settings(base, tmp_path, **overrides)).sync("30_0")

    assert store_state(onet_engine) == before
    assert before.active == "29_9"
    failed = last_sync(onet_engine)
    assert (failed.status, failed.version) == ("failed", "30_0")
    assert failed.error and "30_0" in failed.error
    assert not list((tmp_path / "data" / "onet").glob("*"))  # no partial download left behind


def test_an_unreachable_server_is_a_clear_error(onet_engine: Engine, tmp_path: Path) -> None:
    settings = _settings("http://127.0.0.1:1", tmp_path, onet_download_timeout=2)
    with pytest.raises(OnetSyncError, match=r"Downloading http://127\.0\.0\.1:1/.* failed: .*"):
        OnetSyncService(onet_engine, settings).sync("30_0")
    assert store_state(onet_engine).active == "29_9"


@pytest.mark.parametrize("version", ["30.1", " 30_1 "])
def test_versions_are_normalised(version: str) -> None:
    assert check_version(version) == "30_1"


@pytest.mark.parametrize("version", ["latest", "30_1/../../x", ""])
def test_a_bad_version_is_refused_before_any_download(version: str) -> None:
    with pytest.raises(OnetSyncError, match="is not an O\\*NET version; use the form 30_1"):
        check_version(version)


def test_default_release_prefers_the_configured_source(engine: Engine, tmp_path: Path) -> None:
    source = write_release(tmp_path, version="28_2")
    settings = Settings(data_dir=tmp_path / "data", onet_source=str(source), onet_download_url="http://127.0.0.1:1/x")
    result = load_default_release(engine, settings=settings)
    assert (result.version, store_state(engine).active) == ("28_2", "28_2")


def test_default_release_downloads_when_nothing_is_local_then_reuses_the_download(
    engine: Engine, tmp_path: Path, release_zip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobforge.config.SHARED_DIR", tmp_path / "no-shared-here")
    with serve({PATH: send_bytes(release_zip)}) as base:
        settings = _settings(base, tmp_path, onet_version="30_0")
        assert settings.resolved_onet_source() is None
        first = load_default_release(engine, settings=settings)
    assert first.version == "30_0" and store_state(engine).active == "30_0"
    # The server is gone now: the second default load uses the kept download.
    second = load_default_release(engine, settings=settings)
    assert second.version == "30_0" and second.occupation_count == len(OCCUPATIONS)
