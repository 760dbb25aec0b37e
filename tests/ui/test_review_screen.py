"""Review screen: LOW only in one click, order by impact, blank titles reported, project kept in the URL,
progress bars that never say "0 of 0"."""

from __future__ import annotations

from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from jobforge.db.engine import session_factory
from jobforge.db.models import Job, JobStatus, Role
from jobforge.ingest.uploads import create_upload
from jobforge.review.queries import review_rows
from tests.ui.conftest import APP, USER, texts
from tests.ui.sheets import ROLES_CSV


def _titles(engine) -> dict[int, str]:
    with session_factory(engine)() as s:
        return dict(s.execute(select(Role.id, Role.title)).tuples().all())


def test_low_only_is_one_click(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    at.button(key="low_only").click().run()
    with session_factory(ui_engine)() as s:
        low = review_rows(s, mapped_project, tiers=["LOW"], statuses=["proposed"])
    assert [rid for rid, _ in at.session_state["review_order"]] == low["role_id"].tolist()
    assert f"{len(low):,} of 12 roles match the filters" in texts(at)


def test_order_by_impact_puts_the_most_employees_in_doubt_first(open_app, ui_engine, mapped_project):
    more = "Job Title\n" + "Software Engineer\n" * 9  # HIGH, but ten employees now
    with session_factory(ui_engine)() as s:
        create_upload(s, mapped_project, "more.csv", more.encode(), None, "Job Title", {}, [], USER)
    at = open_app("review", mapped_project)
    titles = _titles(ui_engine)
    assert titles[at.session_state["review_order"][0][0]] != "Software Engineer"  # LOW first by default
    open_role = at.session_state["review_selected"]
    at.button_group(key="flt_order").set_value("impact").run()
    order = [titles[rid] for rid, _ in at.session_state["review_order"]]
    assert order[0] == "Software Engineer"
    assert "highest impact first" in texts(at)
    assert at.session_state["review_selected"] == open_role  # reordering keeps the open role open


def test_blank_and_placeholder_titles_are_reported_on_review(open_app, ui_engine, mapped_project):
    blanks = "Job Title,Department\nTBD,A\nVacant,B\n,C\nLine Cook,D\n"
    with session_factory(ui_engine)() as s:
        create_upload(s, mapped_project, "blanks.csv", blanks.encode(), None, "Job Title", {}, [], USER)
    at = open_app("review", mapped_project)
    assert "3 rows without a title (2 placeholders) not mapped" in texts(at)


def test_the_open_project_is_kept_in_the_url_across_a_reload(open_app, ui_engine, mapped_project):
    at = open_app("review", mapped_project)
    assert at.query_params["project"] in (str(mapped_project), [str(mapped_project)])
    reloaded = AppTest.from_file(str(APP), default_timeout=60)
    reloaded.query_params["project"] = str(mapped_project)  # a reload: a new session, only the URL
    reloaded.run()
    reloaded.switch_page("pages/review.py").run()
    assert reloaded.session_state["project_id"] == mapped_project
    assert "roles confirmed" in reloaded.get("progress")[0].proto.text


def test_a_job_that_has_not_counted_yet_says_it_is_building_the_index(open_app, ui_engine):
    from jobforge.jobs.queue import enqueue
    from jobforge.projects import create_project

    with session_factory(ui_engine)() as s:
        project_id = create_project(s, "Jobs", USER).id
        s.commit()
        create_upload(s, project_id, "roles.csv", ROLES_CSV.encode(), None, "Job Title", {}, [], USER)
        job_id = enqueue(s, "map", project_id, {"provider": "offline", "scope": "unmapped"}, USER).id
        s.execute(update(Job).where(Job.id == job_id).values(status=JobStatus.RUNNING, progress_total=0))
        s.commit()
    at = open_app("upload", project_id)
    text = at.get("progress")[0].proto.text
    assert "building the index…" in text and "0 of 0" not in text
