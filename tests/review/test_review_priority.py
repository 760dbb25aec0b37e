"""Review order by impact: employees affected × doubt, so a big HIGH role can come before a lone LOW one."""

from __future__ import annotations

from jobforge.db.engine import session_factory
from jobforge.ingest.uploads import create_upload
from jobforge.review.actions import confirm
from jobforge.review.queries import review_rows
from tests.review.review_helpers import make_review_project

MORE = b"Job Title\n" + b"Staff Accountant\n" * 5


def test_impact_order_weighs_rows_by_doubt(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as s:
        create_upload(s, made.project_id, "more.csv", MORE, None, "Job Title", {}, [], "ann")
    with session_factory(onet_engine)() as s:
        frame = review_rows(s, made.project_id, order="impact")
        assert list(zip(frame["title"], frame["impact"], strict=True)) == [
            ("Staff Accountant", 7),  # HIGH, but 7 employees
            ('=HYPERLINK("http://x")', 3),  # no proposal: as doubtful as LOW, no score
            ("Call Center Agent", 3),
            ("Line Cook", 3),
            ("ICU Nurse", 2),  # MEDIUM
            ("Java Developer", 1),
        ]
        by_tier = review_rows(s, made.project_id)
        assert list(by_tier["tier"].fillna("-"))[:2] == ["LOW", "LOW"]  # the default order is unchanged
    with session_factory(onet_engine)() as s:
        confirm(s, made.role_ids["Staff Accountant"], "ann")
    with session_factory(onet_engine)() as s:
        frame = review_rows(s, made.project_id, order="impact")
        assert frame["title"].iloc[-1] == "Staff Accountant" and frame["impact"].iloc[-1] == 0  # decided: no doubt
