"""Home / projects page and the app shell: who is working, creating and opening projects."""

from __future__ import annotations

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from jobforge.db.engine import session_factory
from jobforge.db.models import Project
from tests.ui.conftest import APP, USER, texts


def test_empty_store_says_what_to_do(open_app):
    at = open_app()
    assert at.title[0].value == "Projects"
    assert "Create your first project" in texts(at)
    assert f"Signed in as **{USER}**" in texts(at)


def test_create_project_and_reject_duplicates(open_app, ui_engine):
    at = open_app()
    at.text_input[0].input("Acme roles")
    at.get("form_submit_button")[0].click().run()
    with session_factory(ui_engine)() as s:
        project = s.scalar(select(Project).where(Project.name == "Acme roles"))
    assert project is not None and project.created_by == USER
    assert at.session_state["project_id"] == project.id

    at = open_app()
    at.text_input[0].input("acme ROLES")
    at.get("form_submit_button")[0].click().run()
    assert "already exists" in texts(at)


def test_blank_project_name_is_refused(open_app):
    at = open_app()
    at.get("form_submit_button")[0].click().run()
    assert "Give the project a name" in texts(at)


def test_local_user_is_asked_per_browser_session_and_never_kept_on_the_server(ui_engine, monkeypatch, tmp_path):
    from jobforge.config import get_settings

    monkeypatch.delenv("JOBFORGE_USER")
    monkeypatch.setenv("JOBFORGE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert "Who are you?" in texts(at)
    assert not at.sidebar.button  # nothing else until we know who
    at.text_input[0].input("<b>x</b>")
    at.get("form_submit_button")[0].click().run()
    assert any("Please enter a name" in e.value for e in at.error)
    at.text_input[0].input("Grace")
    at.get("form_submit_button")[0].click().run()
    assert "Signed in as **Grace**" in texts(at)
    assert not list(tmp_path.rglob("user.txt"))  # nothing on the server says who the next visitor is
    # Another browser (a new session without Grace's cookie) is asked, not signed in as Grace.
    other = AppTest.from_file(str(APP), default_timeout=60).run()
    assert "Who are you?" in texts(other) and "Grace" not in texts(other)
    other.text_input[0].input("Alan")
    other.get("form_submit_button")[0].click().run()
    assert "Signed in as **Alan**" in texts(other)
    # (Switching user in one browser without signing out the other: tests/browser/test_identity.py.)


def test_oidc_sign_in_when_auth_is_configured(ui_engine):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}
    at.user = {"is_logged_in": False}
    at.run()
    assert any(b.label == "Sign in" for b in at.button)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}
    at.user = {"is_logged_in": True, "email": "ana@example.org"}
    at.run()
    assert "Signed in as **ana@example.org**" in texts(at)
