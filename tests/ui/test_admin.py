"""Admin page: O*NET releases and the sync log, loading a release file, providers, audit log, calibration."""

from __future__ import annotations

from sqlalchemy import func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import OnetSyncLog, Role
from jobforge.review.actions import choose_code, confirm
from tests.ui.conftest import USER, texts


def _frames(at):
    return [df.value for df in at.dataframe]


def test_releases_and_sync_log(open_app, ui_engine):
    at = open_app("admin")
    releases, log = _frames(at)[0], _frames(at)[1]
    assert list(releases["Active"]) == ["active"]
    assert "success" in set(log["Status"])


def test_load_a_release_from_a_file(open_app, ui_engine, tiny_release):
    at = open_app("admin")
    at.file_uploader(key="admin_zip").set_value((tiny_release.name, tiny_release.read_bytes(), "application/zip")).run()
    at.button(key="admin_load_zip").click().run()
    assert any("loaded: 8 occupations" in s.value for s in at.success), texts(at)
    with session_factory(ui_engine)() as s:
        assert s.scalar(select(func.count()).select_from(OnetSyncLog)) == 2


def test_a_broken_release_file_is_reported_and_changes_nothing(open_app, ui_engine):
    at = open_app("admin")
    at.file_uploader(key="admin_zip").set_value(("db_31_0_text.zip", b"PK\x03\x04 broken", "application/zip")).run()
    at.button(key="admin_load_zip").click().run()
    assert any("Loading failed" in e.value for e in at.error)
    at.run()
    releases = _frames(at)[0]
    assert list(releases["Active"]) == ["active"] and len(releases) == 1
    assert "failed" in set(_frames(at)[1]["Status"])


def test_providers_without_keys_cannot_be_tested(open_app, ui_engine):
    at = open_app("admin")
    buttons = {b.key: b for b in at.button if b.key and b.key.startswith("test_")}
    assert set(buttons) == {"test_anthropic", "test_openai"}
    assert all(b.disabled for b in buttons.values())
    assert "ANTHROPIC_API_KEY" in texts(at)


def test_audit_log_filters_and_calibration(open_app, ui_engine, mapped_project):
    with session_factory(ui_engine)() as s:
        ids = {r.title: r.id for r in s.scalars(select(Role))}
        confirm(s, ids["Staff Accountant"], USER)
        confirm(s, ids["Line Cook"], "Bob")
        choose_code(s, ids["Registered Nurse"], "29-1141.01", "Bob")
        s.commit()
    at = open_app("admin")
    at.selectbox(key="audit_user").set_value("Bob").run()
    audit = next(df for df in _frames(at) if "Action" in df.columns)
    assert set(audit["User"]) == {"Bob"} and len(audit) == 2
    at.selectbox(key="audit_user").set_value("All")
    at.selectbox(key="audit_action").set_value("confirm").run()
    audit = next(df for df in _frames(at) if "Action" in df.columns)
    assert set(audit["Action"]) == {"confirm"} and len(audit) == 2
    calibration = next(df for df in _frames(at) if "Share kept" in df.columns)
    high = calibration.set_index("Tier").loc["HIGH"]
    assert high["Reviewed"] == 3 and high["Kept unchanged"] == 2 and high["Share kept"] == "67%"


def test_activate_another_loaded_release(open_app, ui_engine, tiny_release):
    from jobforge.onet.loader import load_release
    from jobforge.onet.repository import active_release

    load_release(ui_engine, tiny_release, version="28_0", activate=False)
    at = open_app("admin")
    at.selectbox(key="admin_activate_pick").set_value("28_0")
    at.button(key="admin_activate").click().run()
    with session_factory(ui_engine)() as s:
        assert active_release(s).version == "28_0"


def test_a_store_without_o_net_offers_to_load_it(engine, tiny_release, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from jobforge.config import get_settings
    from jobforge.onet.repository import active_release
    from tests.ui.conftest import APP, store_url

    monkeypatch.setenv("JOBFORGE_DATABASE_URL", store_url(engine))
    monkeypatch.setenv("JOBFORGE_USER", USER)
    monkeypatch.setenv("JOBFORGE_APP_WORKER", "false")
    monkeypatch.setenv("JOBFORGE_ONET_SOURCE", str(tiny_release))
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert any("No O*NET release is loaded yet" in w.value for w in at.warning)
    at.button(key="home_load_onet").click().run()
    with session_factory(engine)() as s:
        assert active_release(s) is not None
    assert not any("No O*NET release is loaded yet" in w.value for w in at.warning)


def test_calibration_shows_the_tier_model_and_its_measured_precision_per_source(open_app, ui_engine, tiny_release):
    from jobforge.onet.loader import load_release
    from jobforge.retrieval.calibration import load_fitted

    at = open_app("admin")
    assert "O*NET self-labelled fit" in texts(at)  # the tiny release: no labelled-title fit for it
    assert not any("HIGH precision" in df.columns for df in _frames(at))
    fitted = load_fitted()
    load_release(ui_engine, tiny_release, version=fitted.release)  # the release the bundled fit was made with
    at = open_app("admin")
    page = texts(at)
    assert f"Fitted on labelled titles (O*NET {fitted.release})" in page and "REPORT part" in page
    table = next(df for df in _frames(at) if "HIGH precision" in df.columns).set_index("Source")
    assert "oflc_h1b_lca" in table.index and len(table) == len(fitted.report)
    h1b = fitted.report["oflc_h1b_lca"]
    assert table.loc["oflc_h1b_lca", "HIGH precision"] == f"{h1b['high_precision']:.1%}"
    assert table.loc["oflc_h1b_lca", "MEDIUM coverage"] == f"{h1b['medium_coverage']:.1%}"
