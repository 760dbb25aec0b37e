"""Loading releases into the store (SQLite and Postgres): replacing, several releases, and faults.

Every fault must give a clear message and leave the store as it was: the previous release still
active with all its rows, and the attempt logged as failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from onet_fixture import OCCUPATIONS, write_release
from onet_helpers import last_sync, store_state
from sqlalchemy import Engine, select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, OnetRelease, Project, Role
from jobforge.onet.loader import OnetLoadError, load_release
from jobforge.onet.releases import UnknownRelease, activate_release, sync_status
from jobforge.onet.repository import OnetRepository

TINY = (len(OCCUPATIONS), 19, 10)  # occupations, alternate titles, tasks of the tiny release


def test_loading_the_same_version_again_replaces_it(onet_engine: Engine, tmp_path: Path) -> None:
    assert store_state(onet_engine).releases == {"29_9": TINY}
    fewer = "O*NET-SOC Code\tTitle\tDescription\r\n" + "".join(f"{c}\t{t}\t{d}\r\n" for c, t, d in OCCUPATIONS[:3])
    load_release(onet_engine, write_release(tmp_path, version="29_9", replace={"Occupation Data.txt": fewer}))

    state = store_state(onet_engine)
    assert state.active == "29_9"
    assert state.releases == {"29_9": (3, 19, 10)}


def test_reloading_a_version_keeps_the_mappings_made_with_it(onet_engine: Engine, tmp_path: Path) -> None:
    with session_factory(onet_engine)() as session:
        release = session.scalar(select(OnetRelease).where(OnetRelease.version == "29_9"))
        project = Project(name="Reload")
        role = Role(project=project, title="Accountant", title_key="accountant")
        role.mapping = Mapping(onet_code="13-2011.00", tier="HIGH", score=0.9, source="offline", release_id=release.id)
        session.add(project)
        session.commit()
        release_id, loaded_at, mapping_id = release.id, release.loaded_at, role.mapping.id

    load_release(onet_engine, write_release(tmp_path, version="29_9"), activate=False)

    with session_factory(onet_engine)() as session:
        release = session.scalar(select(OnetRelease).where(OnetRelease.version == "29_9"))
        assert release.id == release_id and release.is_active  # same release, still active
        assert release.loaded_at > loaded_at  # caches keyed on it see the new content
        assert session.get(Mapping, mapping_id).release_id == release_id
    assert store_state(onet_engine).releases == {"29_9": TINY}


def test_several_releases_are_kept_and_one_is_active(onet_engine: Engine, tmp_path: Path) -> None:
    result = load_release(onet_engine, write_release(tmp_path, version="30_0"), activate=False)
    assert result.version == "30_0" and result.occupation_count == len(OCCUPATIONS)
    assert store_state(onet_engine).active == "29_9"  # --no-activate keeps the current one

    activate_release(onet_engine, "30_0")
    status = sync_status(onet_engine)
    assert status.active is not None and status.active.version == "30_0"
    assert [r.version for r in status.releases] == ["30_0", "29_9"]
    assert [r.is_active for r in status.releases] == [True, False]
    assert [entry.status for entry in status.recent] == ["success", "success"]
    with session_factory(onet_engine)() as session:
        assert OnetRepository(session).get_by_code("15-1252.00").title == "Software Developers"


def test_activating_an_unknown_release_names_what_is_loaded(onet_engine: Engine) -> None:
    with pytest.raises(UnknownRelease, match="O\\*NET release 31_0 is not in the store \\(loaded: 29_9\\)"):
        activate_release(onet_engine, "31_0")
    assert store_state(onet_engine).active == "29_9"


def _bad_releases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path of a faulty release, what the error must say). Version 29_9 replaces the loaded one."""
    not_a_zip = tmp_path / "db_29_9_text.zip"
    not_a_zip.write_text("<html>Not found</html>")
    (tmp_path / "cut").mkdir()
    whole = write_release(tmp_path / "cut").read_bytes()
    truncated = tmp_path / "cut" / "db_29_9_text.zip"
    truncated.write_bytes(whole[: len(whole) * 2 // 3])
    duplicate = "O*NET-SOC Code\tTitle\tDescription\r\n11-1011.00\tA\tx\r\n11-1011.00\tB\ty\r\n"
    folders = {name: tmp_path / name for name in ("omit", "header", "code", "dup", "number")}
    bad_number = (
        "O*NET-SOC Code\tElement ID\tElement Name\tScale ID\tData Value\r\n11-1011.00\t2.A.1.a\tReading\tIM\thigh\r\n"
    )
    for folder in folders.values():
        folder.mkdir()
    return {
        "missing file": (
            tmp_path / "db_29_9_text_missing.zip",
            "O\\*NET release not found: .*db_29_9_text_missing.zip",
        ),
        "not a zip": (not_a_zip, "db_29_9_text.zip is not a readable zip file"),
        "truncated zip": (truncated, "db_29_9_text.zip is not a readable zip file"),
        "missing required file": (
            write_release(folders["omit"], omit=("Alternate Titles.txt",)),
            "The release has no 'Alternate Titles.txt'",
        ),
        "wrong header": (
            write_release(folders["header"], replace={"Task Statements.txt": "O*NET-SOC Code\tTask\r\n"}),
            "Task Statements.txt: wrong header, missing column\\(s\\) Task ID, Task Type",
        ),
        "malformed code": (
            write_release(
                folders["code"],
                replace={"Job Zones.txt": "O*NET-SOC Code\tJob Zone\r\n11-1011.00\t5\r\n11.1011.00\t4\r\n"},
            ),
            "Job Zones.txt line 3: malformed O\\*NET-SOC code '11.1011.00'",
        ),
        "bad number": (
            write_release(folders["number"], replace={"Skills.txt": bad_number}),
            "Skills.txt: a value cannot be read \\(could not convert string to float: 'high'\\)",
        ),
        "duplicate rows": (
            write_release(folders["dup"], replace={"Occupation Data.txt": duplicate}),
            "the release has duplicate or inconsistent rows",
        ),
    }


FAULTS = [
    "missing file",
    "not a zip",
    "truncated zip",
    "missing required file",
    "wrong header",
    "malformed code",
    "bad number",
    "duplicate rows",
]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_bad_release_leaves_the_store_as_it_was(onet_engine: Engine, tmp_path: Path, fault: str) -> None:
    path, message = _bad_releases(tmp_path)[fault]
    before = store_state(onet_engine)

    with pytest.raises(OnetLoadError, match=f"Loading O\\*NET from .* failed: {message}"):
        load_release(onet_engine, path, version="29_9")

    assert store_state(onet_engine) == before
    assert before.active == "29_9" and before.releases == {"29_9": TINY}
    failed = last_sync(onet_engine)
    assert failed.status == "failed" and failed.finished_at is not None
    assert failed.error and len(failed.error) > 10


def test_a_load_stopped_half_way_through_writing_leaves_the_store_as_it_was(
    onet_engine: Engine, tmp_path: Path
) -> None:
    before = store_state(onet_engine)

    def stop_after_some_files(message: str) -> None:
        if message.startswith("Skills.txt"):  # occupations, titles and tasks are written by now
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_release(onet_engine, write_release(tmp_path, version="29_9"), progress=stop_after_some_files)

    assert store_state(onet_engine) == before
    entry = last_sync(onet_engine)
    assert (entry.status, entry.error) == ("failed", "interrupted")
