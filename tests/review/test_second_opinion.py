"""Second opinions on a decided project: sampling, the blind answer, agreement, adjudication (SQLite and Postgres)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from jobforge.access import PermissionDenied
from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, MappingStatus, Role, SecondOpinionItem
from jobforge.review.adjudication import StaleMapping, adjudicate, adjudication_queue
from jobforge.review.agreement import agreement_report
from jobforge.review.second_opinion import (
    BlindRole,
    SecondOpinionError,
    blind_queue,
    draw_sample,
    list_samples,
    record_blind_code,
)
from tests.factories import ADMIN, FIRST, ONE_BY_ONE, SECOND, THIRD, VIEWER, make_decided_project


def session(engine):
    return session_factory(engine)()


def titles(engine, role_ids) -> list[str]:
    with session(engine) as s:
        return [s.get(Role, role_id).title for role_id in role_ids]


def mapping(engine, role_id: int) -> Mapping:
    with session(engine) as s:
        return s.scalar(select(Mapping).where(Mapping.role_id == role_id))


def events(engine, action: str) -> list[AuditEvent]:
    with session(engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def answer_all(engine, project_id: int, coder: str, codes: dict[str, str | None]) -> None:
    """``coder`` answers their queue: title -> code, None for "cannot code"."""
    with session(engine) as s:
        queue = blind_queue(s, project_id, coder)
    for role in queue:
        code = codes[role.title]
        with session(engine) as s:
            record_blind_code(
                s, role.item_id, coder, code, cannot_code=code is None, note="hard one" if not code else None
            )


# ---------------------------------------------------------------------------------------------- sampling


def test_sample_draws_decided_roles_only_and_never_the_coders_own(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s:
        drawn = draw_sample(s, made.project_id, 10, SECOND, ADMIN, seed=7)
    # Eligible: the three roles Ann decided one by one. Left out: Bob's own Line Cook, the bulk
    # confirmation, the role without a proposal (undecided roles are never counted).
    assert sorted(titles(onet_engine, drawn.role_ids)) == sorted(ONE_BY_ONE)
    assert (drawn.requested, drawn.drawn, drawn.eligible) == (10, 3, 3)
    assert (drawn.decided_by_coder, drawn.decided_in_bulk, drawn.already_sampled) == (1, 1, 0)
    with session(onet_engine) as s:
        (progress,) = list_samples(s, made.project_id)
    assert (progress.coder, progress.roles, progress.answered, progress.seed) == (SECOND, 3, 0, 7)
    (event,) = events(onet_engine, "second_opinion_sample")
    assert event.user == ADMIN and event.project_id == made.project_id
    assert event.after["seed"] == 7 and event.after["excluded"] == {
        "decided_by_coder": 1,
        "decided_in_bulk": 1,
        "already_sampled": 0,
    }
    assert sorted(event.after["role_ids"]) == sorted(drawn.role_ids)


def test_sample_size_is_respected_and_bulk_decisions_are_optional(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s:
        drawn = draw_sample(s, made.project_id, 2, THIRD, ADMIN, seed=1)
    assert (drawn.drawn, drawn.eligible, drawn.decided_in_bulk) == (2, 4, 1)
    with session(onet_engine) as s:
        more = draw_sample(s, made.project_id, 5, THIRD, ADMIN, seed=1, include_bulk=True)
    # The two already sampled are left out; the bulk-confirmed Call Center Agent is now eligible.
    assert (more.drawn, more.eligible, more.already_sampled, more.decided_in_bulk) == (3, 3, 2, 0)
    assert "Call Center Agent" in titles(onet_engine, more.role_ids)
    assert not set(more.role_ids) & set(drawn.role_ids)
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="No decided role can be sampled"):
        draw_sample(s, made.project_id, 1, THIRD, ADMIN)
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="at least one role"):
        draw_sample(s, made.project_id, 0, THIRD, ADMIN)


def test_the_same_seed_draws_the_same_roles(onet_engine):
    first = make_decided_project(onet_engine, "Acme")
    twin = make_decided_project(onet_engine, "Acme twin")
    with session(onet_engine) as s:
        a = draw_sample(s, first.project_id, 2, THIRD, ADMIN, seed=2026)
    with session(onet_engine) as s:
        b = draw_sample(s, twin.project_id, 2, THIRD, ADMIN, seed=2026)
    assert titles(onet_engine, a.role_ids) == titles(onet_engine, b.role_ids)
    # Other seeds give other samples of 2 out of 4 (6 possible): not always the same one.
    drawn = set()
    for seed in range(10):
        project = make_decided_project(onet_engine, f"Seed {seed}")
        with session(onet_engine) as s:
            sample = draw_sample(s, project.project_id, 2, THIRD, ADMIN, seed=seed)
        drawn.add(tuple(sorted(titles(onet_engine, sample.role_ids))))
    assert len(drawn) > 1


def test_a_sample_without_a_seed_stores_the_seed_it_used(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s:
        drawn = draw_sample(s, made.project_id, 1, THIRD, ADMIN)
    with session(onet_engine) as s:
        (progress,) = list_samples(s, made.project_id)
    assert progress.seed == drawn.seed and 0 <= drawn.seed < 2**31


def test_only_admins_sample_and_only_people_who_code_here_are_coders(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s, pytest.raises(PermissionDenied, match="may not draw samples for a second opinion"):
        draw_sample(s, made.project_id, 2, THIRD, FIRST)
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="Vi cannot code in this project"):
        draw_sample(s, made.project_id, 2, VIEWER, ADMIN)
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="Zed cannot code in this project"):
        draw_sample(s, made.project_id, 2, "Zed", ADMIN)
    with session(onet_engine) as s:
        assert s.scalar(select(func.count(SecondOpinionItem.id))) == 0


# ---------------------------------------------------------------------------------------------- blind answers


def test_the_blind_queue_shows_the_role_never_the_first_decision(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s:
        draw_sample(s, made.project_id, 3, SECOND, ADMIN, seed=3)
    with session(onet_engine) as s:
        queue = blind_queue(s, made.project_id, SECOND)
        others = blind_queue(s, made.project_id, THIRD)
    assert others == []
    assert {field.name for field in dataclasses.fields(BlindRole)} == {
        "item_id", "sample_id", "role_id", "title", "row_count", "context", "description", "candidates",
    }  # fmt: skip
    nurse = next(role for role in queue if role.title == "ICU Nurse")
    # Candidates in code order, neither marked: nothing tells which one the proposal or the decision was.
    assert nurse.candidates == [("29-1141.00", "Registered Nurses"), ("29-1141.01", "Acute Care Nurses")]
    accountant = next(role for role in queue if role.title == "Staff Accountant")
    assert accountant.row_count == 2 and accountant.context["Job family"] == "Finance"
    assert [c for c, _ in accountant.candidates] == ["11-1011.00", "13-2011.00"]
    text = repr(queue)
    for hidden in ("HIGH", "MEDIUM", "LOW", "exact match", "confirmed", "overridden", FIRST):
        assert hidden not in text


def test_blind_answers_are_recorded_audited_and_never_change_the_mapping(onet_engine):
    made = make_decided_project(onet_engine)
    nurse = made.role_ids["ICU Nurse"]
    before = mapping(onet_engine, nurse)
    with session(onet_engine) as s:
        draw_sample(s, made.project_id, 3, SECOND, ADMIN, seed=3)
    answer_all(
        onet_engine,
        made.project_id,
        SECOND,
        {"Staff Accountant": "13-2011", "Java Developer": "15-1252.00", "ICU Nurse": None},
    )
    after = mapping(onet_engine, nurse)
    assert (after.onet_code, after.status, after.version) == (before.onet_code, before.status, before.version)
    with session(onet_engine) as s:
        assert blind_queue(s, made.project_id, SECOND) == []
        items = {i.role_id: i for i in s.scalars(select(SecondOpinionItem))}
    assert items[made.role_ids["Staff Accountant"]].second_code == "13-2011.00"
    assert items[nurse].cannot_code and items[nurse].second_code is None and items[nurse].second_note == "hard one"
    answers = events(onet_engine, "second_opinion_answer")
    assert len(answers) == 3 and {e.user for e in answers} == {SECOND}
    assert {e.after["code"] for e in answers} == {"13-2011.00", "15-1252.00", None}


def test_only_the_assigned_coder_answers_once(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s:
        draw_sample(s, made.project_id, 1, SECOND, ADMIN, seed=3)
    with session(onet_engine) as s:
        (role,) = blind_queue(s, made.project_id, SECOND)
    with session(onet_engine) as s, pytest.raises(PermissionDenied, match="may not upload, map, review"):
        record_blind_code(s, role.item_id, VIEWER, "13-2011.00")
    with session(onet_engine) as s, pytest.raises(PermissionDenied, match="given to Bob"):
        record_blind_code(s, role.item_id, THIRD, "13-2011.00")
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="not an occupation code"):
        record_blind_code(s, role.item_id, SECOND, "99-9999.00")
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="Choose an occupation"):
        record_blind_code(s, role.item_id, SECOND, "  ")
    with session(onet_engine) as s:
        record_blind_code(s, role.item_id, SECOND, "13-2011.00")
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="already gave"):
        record_blind_code(s, role.item_id, SECOND, "15-1252.00")
    assert len(events(onet_engine, "second_opinion_answer")) == 1


# ---------------------------------------------------------------------------------------------- agreement


def test_agreement_of_a_sample_per_digit_level(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s:
        report = agreement_report(s, made.project_id)
    assert report.sampled == 0 and [row.kappa_text for row in report.levels] == ["not defined"] * 4
    with session(onet_engine) as s:
        draw_sample(s, made.project_id, 3, SECOND, ADMIN, seed=3)
    # First: 13-2011.00, 15-1252.00, 29-1141.01. Second: the same but 29-1141.00 for the nurse.
    answer_all(
        onet_engine,
        made.project_id,
        SECOND,
        {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.00"},
    )
    with session(onet_engine) as s:
        report = agreement_report(s, made.project_id)
    assert (report.sampled, report.answered, report.cannot_code, report.disagreements) == (3, 3, 0, 1)
    assert [row.agreeing for row in report.levels] == [3, 3, 3, 2]
    # 2/3/6 digits: three categories, perfect agreement, κ = 1. 8 digits: p_o = 2/3, the categories
    # 13-2011.00, 15-1252.00 used once by both, 29-1141.01 / 29-1141.00 once each: p_e = 2/9,
    # κ = (2/3 − 2/9) / (1 − 2/9) = 4/7.
    assert [row.kappa for row in report.levels] == pytest.approx([1.0, 1.0, 1.0, 4 / 7])
    assert (report.waiting, report.first_standing) == (1, 2)


# ---------------------------------------------------------------------------------------------- adjudication


def _disagreement(engine) -> tuple[int, int]:
    """A decided project whose nurse the second coder coded differently; (project id, nurse role id)."""
    made = make_decided_project(engine)
    with session(engine) as s:
        draw_sample(s, made.project_id, 3, SECOND, ADMIN, seed=3)
    answer_all(
        engine,
        made.project_id,
        SECOND,
        {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.00"},
    )
    return made.project_id, made.role_ids["ICU Nurse"]


def test_a_third_person_settles_a_disagreement_and_the_mapping_follows(onet_engine):
    project_id, nurse = _disagreement(onet_engine)
    with session(onet_engine) as s:
        queue = adjudication_queue(s, project_id, THIRD)
    (case,) = queue.mine
    assert (case.title, case.first_code, case.second_code, case.first_by, case.second_by) == (
        "ICU Nurse", "29-1141.01", "29-1141.00", FIRST, SECOND,
    )  # fmt: skip
    assert (case.first_title, case.second_title) == ("Acute Care Nurses", "Registered Nurses")
    before = mapping(onet_engine, nurse)
    assert case.version == before.version and not case.changed_since_sampled
    with session(onet_engine) as s:
        adjudicate(s, case.item_id, THIRD, "second", expected_version=case.version)
    after = mapping(onet_engine, nurse)
    # 29-1141.00 was the machine's proposal: taking it back is a confirmation, by the adjudicator.
    assert (after.onet_code, after.onet_title, after.status) == ("29-1141.00", "Registered Nurses", "confirmed")
    assert (after.confirmed_by, after.decided_in_bulk, after.version) == (THIRD, False, before.version + 1)
    assert after.proposed_code == "29-1141.00"
    (event,) = events(onet_engine, "adjudicate")
    assert (event.user, event.entity_type, event.entity_id, event.project_id) == (THIRD, "mapping", nurse, project_id)
    assert event.before["onet_code"] == "29-1141.01" and event.before["status"] == "overridden"
    assert event.after["onet_code"] == "29-1141.00" and event.after["choice"] == "second"
    with session(onet_engine) as s:
        report = agreement_report(s, project_id)
        assert adjudication_queue(s, project_id, THIRD).mine == []
    # Before adjudication one disagreement; after: the second code taken, nothing waiting.
    assert (report.disagreements, report.took_second, report.kept_first, report.waiting) == (1, 1, 0, 0)
    assert report.first_standing == 2


def test_choosing_another_code_overrides(onet_engine):
    project_id, nurse = _disagreement(onet_engine)
    with session(onet_engine) as s:
        (case,) = adjudication_queue(s, project_id, ADMIN).mine
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="Choose the occupation"):
        adjudicate(s, case.item_id, ADMIN, "other", case.version)
    with session(onet_engine) as s:
        adjudicate(s, case.item_id, ADMIN, "other", case.version, code="35-2014")
    after = mapping(onet_engine, nurse)
    assert (after.onet_code, after.status, after.confirmed_by) == ("35-2014.00", MappingStatus.OVERRIDDEN, ADMIN)
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="already adjudicated"):
        adjudicate(s, case.item_id, THIRD, "first", after.version)


def test_the_coders_cannot_adjudicate_their_own_disagreement(onet_engine):
    project_id, _ = _disagreement(onet_engine)
    with session(onet_engine) as s:
        (case,) = adjudication_queue(s, project_id, THIRD).mine
        for coder in (FIRST, SECOND):
            assert adjudication_queue(s, project_id, coder).mine == []
            assert adjudication_queue(s, project_id, coder).others == 1
    for coder, which in ((FIRST, "first"), (SECOND, "second")):
        with session(onet_engine) as s, pytest.raises(SecondOpinionError, match=f"this role's {which} coder"):
            adjudicate(s, case.item_id, coder, "first", case.version)
    with session(onet_engine) as s, pytest.raises(PermissionDenied):
        adjudicate(s, case.item_id, VIEWER, "first", case.version)
    assert events(onet_engine, "adjudicate") == []


def test_a_stale_adjudication_is_refused_and_changes_nothing(onet_engine):
    project_id, nurse = _disagreement(onet_engine)
    with session(onet_engine) as s:
        (case,) = adjudication_queue(s, project_id, THIRD).mine
    # Someone changes the mapping after the adjudicator opened it.
    with session(onet_engine) as s, s.begin():
        row = s.scalar(select(Mapping).where(Mapping.role_id == nurse))
        row.onet_code, row.version = "29-1141.00", row.version + 1
    with session(onet_engine) as s, pytest.raises(StaleMapping, match="changed since you opened it"):
        adjudicate(s, case.item_id, THIRD, "first", expected_version=case.version)
    after = mapping(onet_engine, nurse)
    assert (after.onet_code, after.version, after.confirmed_by) == ("29-1141.00", case.version + 1, FIRST)
    assert events(onet_engine, "adjudicate") == []
    with session(onet_engine) as s:
        (fresh,) = adjudication_queue(s, project_id, THIRD).mine
        assert fresh.changed_since_sampled and fresh.version == case.version + 1
    with session(onet_engine) as s:
        adjudicate(s, fresh.item_id, THIRD, "first", expected_version=fresh.version)
    assert mapping(onet_engine, nurse).onet_code == "29-1141.01"


def test_cannot_code_goes_to_adjudication_and_has_no_second_code_to_take(onet_engine):
    made = make_decided_project(onet_engine)
    with session(onet_engine) as s:
        draw_sample(s, made.project_id, 3, SECOND, ADMIN, seed=3)
    answer_all(
        onet_engine,
        made.project_id,
        SECOND,
        {"Staff Accountant": None, "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.01"},
    )
    with session(onet_engine) as s:
        (case,) = adjudication_queue(s, made.project_id, THIRD).mine
        report = agreement_report(s, made.project_id)
    assert (case.title, case.second_code, case.second_note) == ("Staff Accountant", None, "hard one")
    assert (report.cannot_code, report.disagreements) == (1, 1)
    with session(onet_engine) as s, pytest.raises(SecondOpinionError, match="could not code"):
        adjudicate(s, case.item_id, THIRD, "second", case.version)
    with session(onet_engine) as s:
        kept = adjudicate(s, case.item_id, THIRD, "first", case.version)
    assert (kept.onet_code, kept.status, kept.confirmed_by) == ("13-2011.00", "confirmed", THIRD)
    with session(onet_engine) as s:
        assert agreement_report(s, made.project_id).kept_first == 1


def test_a_change_that_kept_the_version_is_refused_by_the_code_shown(onet_engine):
    project_id, nurse = _disagreement(onet_engine)
    with session(onet_engine) as s:
        (case,) = adjudication_queue(s, project_id, THIRD).mine
    with session(onet_engine) as s, s.begin():  # a writer that does not raise the version
        s.scalar(select(Mapping).where(Mapping.role_id == nurse)).onet_code = "35-2014.00"
    with session(onet_engine) as s, pytest.raises(StaleMapping, match=r"now 35-2014\.00"):
        adjudicate(s, case.item_id, THIRD, "second", case.version, expected_code=case.current_code)
    assert mapping(onet_engine, nurse).onet_code == "35-2014.00"
