"""What the review page reads: the grid, one role's detail, the next role, audit log, calibration."""

from __future__ import annotations

import json

from jobforge.db.engine import session_factory
from jobforge.review.actions import bulk_confirm, choose_code, confirm, mark_needs_info
from jobforge.review.queries import (
    audit_events,
    calibration,
    families,
    next_unreviewed,
    review_rows,
    role_detail,
    search_occupations,
)
from tests.factories import make_review_project


def test_grid_lists_low_first_then_medium_high_and_unmapped(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        rows = review_rows(session, made.project_id)
    assert list(rows["title"]) == [
        "Call Center Agent",
        "Line Cook",
        "ICU Nurse",
        "Staff Accountant",
        "Java Developer",
        '=HYPERLINK("http://x")',
    ]
    assert list(rows["tier"][:5]) == ["LOW", "LOW", "MEDIUM", "HIGH", "HIGH"]
    first = rows.iloc[1]
    assert (first["code"], first["onet_title"], first["status"], first["family"]) == (
        "35-2014.00",
        "Cooks, Restaurant",
        "proposed",
        "Hospitality",
    )
    assert rows.iloc[-1]["status"] == "unmapped"
    assert rows.loc[rows["title"] == "Staff Accountant", "row_count"].item() == 2
    for column in (
        "role_id",
        "title",
        "row_count",
        "family",
        "function",
        "code",
        "onet_title",
        "tier",
        "score",
        "status",
        "rationale",
        "source",
    ):
        assert column in rows.columns


def test_grid_filters(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        confirm(session, made.role_ids["Java Developer"], "ann")
        assert list(review_rows(session, made.project_id, tiers=["HIGH"])["title"]) == [
            "Staff Accountant",
            "Java Developer",
        ]
        assert list(review_rows(session, made.project_id, statuses=["confirmed"])["title"]) == ["Java Developer"]
        assert len(review_rows(session, made.project_id, statuses=["proposed", "unmapped"])) == 5
        assert set(review_rows(session, made.project_id, family="Finance")["title"]) == {
            "Staff Accountant",
            '=HYPERLINK("http://x")',
        }
        # Text matches the title, the code or the O*NET title, in any case.
        assert list(review_rows(session, made.project_id, text="cook")["title"]) == ["Line Cook"]
        assert list(review_rows(session, made.project_id, text="29-1141")["title"]) == ["ICU Nurse"]
        assert list(review_rows(session, made.project_id, text="software dev")["title"]) == ["Java Developer"]
        assert review_rows(session, made.project_id, tiers="LOW", family="Finance").empty
        # Wildcard characters are searched for literally.
        assert review_rows(session, made.project_id, text="%").empty
        assert review_rows(session, made.project_id, text="_").empty
        assert list(review_rows(session, made.project_id, text='("http')["title"]) == ['=HYPERLINK("http://x")']
        assert families(session, made.project_id) == ["Finance", "Health", "Hospitality", "Service", "Technology"]


def test_role_detail_shows_context_proposal_candidates_and_tasks(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        detail = role_detail(session, made.role_ids["ICU Nurse"])
    assert detail.title == "ICU Nurse" and detail.row_count == 1
    assert detail.context == {"job_family": "Health", "department": "Ward 3"}
    assert detail.mapping["code"] == "29-1141.00" and detail.mapping["tier"] == "MEDIUM"
    assert [c.code for c in detail.candidates] == ["29-1141.00", "29-1141.01"]
    nurse, acute = detail.candidates
    assert nurse.is_current and not acute.is_current
    assert acute.title == "Acute Care Nurses" and "acute conditions" in acute.description
    assert acute.matched_text == "ICU Nurse" and acute.matched_on == "alternate_title"
    assert nurse.tasks and all(isinstance(task, str) for task in nurse.tasks)


def test_role_detail_includes_a_chosen_code_outside_the_candidates(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        choose_code(session, made.role_ids["Line Cook"], "11-1011.00", "ann")
        detail = role_detail(session, made.role_ids["Line Cook"])
    assert detail.candidates[0].code == "11-1011.00" and detail.candidates[0].is_current
    assert detail.candidates[0].title == "Chief Executives"
    assert detail.attributes == []


def test_role_detail_of_an_unmapped_role_and_its_source_attributes(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        detail = role_detail(session, made.role_ids["Staff Accountant"])
        assert detail.context["unit_group"] == "13-2011"
        assert detail.attributes[0]["name"] == "Education" and detail.attributes[0]["source_type"] == "SOURCE"
        unmapped = role_detail(session, made.role_ids['=HYPERLINK("http://x")'])
        assert unmapped.mapping is None and unmapped.candidates == []


def test_next_unreviewed_follows_the_grid_order_and_skips_decided_roles(onet_engine):
    made = make_review_project(onet_engine)
    ids = made.role_ids
    with session_factory(onet_engine)() as session:
        # Within a tier: more rows first, then by title.
        assert next_unreviewed(session, made.project_id) == ids["Call Center Agent"]
        confirm(session, ids["Call Center Agent"], "ann")
        assert next_unreviewed(session, made.project_id, ids["Line Cook"]) == ids["ICU Nurse"]
        # After the last one it wraps around to the first still waiting.
        last = ids['=HYPERLINK("http://x")']
        assert next_unreviewed(session, made.project_id, last) == ids["Line Cook"]
        assert next_unreviewed(session, made.project_id, ids["Line Cook"], {"tiers": ["LOW"]}) is None
        assert next_unreviewed(session, made.project_id, None, {"tiers": ["HIGH"]}) == ids["Staff Accountant"]


def test_audit_log_filters_by_project_user_and_action(onet_engine):
    made = make_review_project(onet_engine)
    other = make_review_project(onet_engine, name="Other")
    with session_factory(onet_engine)() as session:
        confirm(session, made.role_ids["Line Cook"], "ann")
        mark_needs_info(session, made.role_ids["ICU Nurse"], "bob")
        confirm(session, other.role_ids["Line Cook"], "bob")
        log = audit_events(session, project_id=made.project_id)
        assert list(log["action"][:2]) == ["needs_info", "confirm"]  # newest first
        assert set(audit_events(session, user="bob")["action"]) == {"needs_info", "confirm"}
        confirms = audit_events(session, action="confirm")
        assert len(confirms) == 2
        assert json.loads(confirms.iloc[-1]["after"])["status"] == "confirmed"


def test_calibration_counts_agreement_per_proposed_tier_leaving_bulk_decisions_apart(onet_engine):
    made = make_review_project(onet_engine)
    ids = made.role_ids
    with session_factory(onet_engine)() as session:
        bulk_confirm(session, made.project_id, [ids["Staff Accountant"], ids["Java Developer"]], "ann")
        confirm(session, ids["Line Cook"], "ann")
        choose_code(session, ids["Call Center Agent"], "11-1011.00", "ann")
        table = calibration(session, made.project_id).set_index("tier")
    # Nobody looked at the bulk-confirmed HIGH roles one by one: they are not evidence of agreement.
    assert table.loc["HIGH", ["proposals", "reviewed", "confirmed_unchanged", "decided_in_bulk"]].tolist() == [2, 0, 0, 2]
    assert table.loc["HIGH", "share"] is None or table.loc["HIGH", "share"] != table.loc["HIGH", "share"]
    assert table.loc["LOW", ["proposals", "reviewed", "confirmed_unchanged", "overridden", "share"]].tolist() == [
        2,
        2,
        1,
        1,
        0.5,
    ]
    assert table.loc["MEDIUM", "reviewed"] == 0


def test_search_any_occupation(onet_engine):
    with session_factory(onet_engine)() as session:
        assert list(search_occupations(session, "nurse")["code"]) == ["29-1141.00", "29-1141.01"]
        assert list(search_occupations(session, "15-1252")["title"]) == ["Software Developers"]
