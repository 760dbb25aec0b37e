"""Precedence end to end: ANALYST > SOURCE > HIERARCHY > ONET > LLM, and overrides surviving re-runs."""

from __future__ import annotations

import pytest
from fakes.llm_server import FakeLLMServer
from sqlalchemy import Engine, select

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, RoleAttribute, SourceType
from jobforge.imputation.attributes import can_replace, current_values, project_attribute_names
from jobforge.imputation.overrides import OverrideError, clear_override, set_attribute
from jobforge.imputation.service import impute_project
from tests.factories import CONFIRMED, PROPOSED, RoleSpec, build_project, cells
from tests.fakes.imputation_answers import ImputationAnswerer

ATTRIBUTES = ["Education", "Shift Pattern", "Work Environment", "Uniform"]


def impute(engine: Engine, project_id: int, **kwargs):
    with session_factory(engine)() as session:
        return impute_project(session, project_id, **kwargs)


def provenance(engine: Engine, role_id: int) -> dict[str, tuple[str | None, str | None]]:
    return {name: (row.value, row.source_type) for name, row in cells(engine, role_id).items()}


@pytest.fixture
def answerer(fake_llm_env: FakeLLMServer) -> ImputationAnswerer:
    answer = ImputationAnswerer(confidence=0.4)
    fake_llm_env.answerers.insert(0, answer)
    return answer


def test_each_cell_takes_the_strongest_source_available(
    onet_engine: Engine, fake_llm_env: FakeLLMServer, answerer: ImputationAnswerer
) -> None:
    project_id, ids = build_project(
        onet_engine,
        ATTRIBUTES,
        [
            RoleSpec(
                "Staff Nurse",
                "Nursing",
                source={"Education": "Nursing diploma", "Shift Pattern": "Days", "Uniform": "Scrubs"},
                mapping=("29-1141.00", CONFIRMED),
            ),
            RoleSpec(
                "Charge Nurse",
                "Nursing",
                source={"Shift Pattern": "Days", "Uniform": "Scrubs"},
                mapping=("29-1141.00", CONFIRMED),
            ),
            RoleSpec("ICU Nurse", "Nursing", mapping=("29-1141.01", PROPOSED)),
        ],
    )
    with session_factory(onet_engine)() as session:
        set_attribute(session, ids["Charge Nurse"], "Work Environment", "Intensive care unit", "ana")
        session.commit()

    summary = impute(onet_engine, project_id, provider="openai")

    assert provenance(onet_engine, ids["ICU Nurse"]) == {
        "Education": ("Bachelor's Degree", SourceType.ONET),  # only one sibling has it: O*NET instead
        "Shift Pattern": ("Days", SourceType.HIERARCHY),  # both siblings agree: beats O*NET and LLM
        "Uniform": ("Scrubs", SourceType.HIERARCHY),
        "Work Environment": ("Work Environment for ICU Nurse", SourceType.LLM),  # nothing else has it
    }
    assert provenance(onet_engine, ids["Charge Nurse"]) == {
        "Education": ("Bachelor's Degree", SourceType.ONET),
        "Shift Pattern": ("Days", SourceType.SOURCE),
        "Uniform": ("Scrubs", SourceType.SOURCE),
        "Work Environment": ("Intensive care unit", SourceType.ANALYST),
    }
    nurse = provenance(onet_engine, ids["Staff Nurse"])
    assert nurse["Education"] == ("Nursing diploma", SourceType.SOURCE)  # the file beats O*NET
    assert nurse["Work Environment"] == ("Work Environment for Staff Nurse", SourceType.LLM)
    assert summary.counts == {
        SourceType.ANALYST: 1,
        SourceType.SOURCE: 5,
        SourceType.HIERARCHY: 2,
        SourceType.ONET: 2,
        SourceType.LLM: 2,
        "EMPTY": 0,
    }
    # Provenance is always filled for computed values.
    with session_factory(onet_engine)() as session:
        for row in session.scalars(select(RoleAttribute)):
            assert row.source_type in SourceType.PRECEDENCE and row.value
            assert row.updated_at is not None
            if row.source_type in (SourceType.HIERARCHY, SourceType.ONET):
                assert row.donor and row.rationale
            if row.source_type == SourceType.LLM:
                assert row.confidence is not None and row.rationale and row.model_used


def test_a_stronger_source_replaces_a_weaker_one_on_rerun_but_never_the_reverse(
    onet_engine: Engine, fake_llm_env: FakeLLMServer, answerer: ImputationAnswerer
) -> None:
    project_id, ids = build_project(onet_engine, ["Education"], [RoleSpec("Line Cook", "Kitchen")])
    impute(onet_engine, project_id, provider="anthropic")
    assert provenance(onet_engine, ids["Line Cook"])["Education"] == ("Education for Line Cook", SourceType.LLM)

    # The role gets mapped: O*NET now knows, and beats the LLM's guess.
    with session_factory(onet_engine)() as session:
        session.add(
            Mapping(
                role_id=ids["Line Cook"],
                onet_code="35-2014.00",
                tier="HIGH",
                score=0.95,
                source="offline",
                status=CONFIRMED,
            )
        )
        session.commit()
    impute(onet_engine, project_id, provider="anthropic")
    education = cells(onet_engine, ids["Line Cook"])["Education"]
    assert (education.value, education.source_type, education.donor) == (
        "High School Diploma - or the equivalent",
        SourceType.ONET,
        "35-2014.00",
    )
    assert education.model_used is None and education.confidence is None  # no stale LLM provenance

    # A step that only computes weaker values leaves a stronger one alone.
    with session_factory(onet_engine)() as session:
        row = session.get(RoleAttribute, education.id)
        row.value, row.source_type, row.donor = "Culinary school", SourceType.HIERARCHY, "job_family=Kitchen"
        session.commit()
    impute(onet_engine, project_id, steps=("onet", "llm"), provider="anthropic")
    assert provenance(onet_engine, ids["Line Cook"])["Education"] == ("Culinary school", SourceType.HIERARCHY)


def test_override_is_audited_survives_reruns_and_can_be_cleared(onet_engine: Engine) -> None:
    project_id, ids = build_project(
        onet_engine,
        ["Education", "Shift Pattern"],
        [
            RoleSpec("Nurse A", "Nursing", source={"Shift Pattern": "Days"}, mapping=("29-1141.00", CONFIRMED)),
            RoleSpec("Nurse B", "Nursing", source={"Shift Pattern": "Days"}),
            RoleSpec("Nurse C", "Nursing", mapping=("29-1141.01", CONFIRMED)),
        ],
    )
    impute(onet_engine, project_id, steps=("hierarchy", "onet"))
    computed = cells(onet_engine, ids["Nurse C"])["Education"]
    assert computed.source_type == SourceType.ONET

    with session_factory(onet_engine)() as session:
        row = set_attribute(session, ids["Nurse C"], "Education", "  Master's degree ", "ana")
        session.commit()
        assert (row.value, row.source_type, row.updated_by) == ("Master's degree", SourceType.ANALYST, "ana")
        set_attribute(session, ids["Nurse C"], "Shift Pattern", "Nights", "ben")
        set_attribute(session, ids["Nurse A"], "Shift Pattern", "Rotating", "ben")  # overrides a file value too
        session.commit()

    for _ in range(2):  # re-running inheritance and O*NET never replaces an analyst's value
        impute(onet_engine, project_id, steps=("hierarchy", "onet"))
        assert provenance(onet_engine, ids["Nurse C"]) == {
            "Education": ("Master's degree", SourceType.ANALYST),
            "Shift Pattern": ("Nights", SourceType.ANALYST),
        }
        assert provenance(onet_engine, ids["Nurse A"])["Shift Pattern"] == ("Rotating", SourceType.ANALYST)

    with session_factory(onet_engine)() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "set_attribute").order_by(AuditEvent.id)
        ).first()
        assert (event.user, event.entity_type, event.project_id) == ("ana", "attribute", project_id)
        assert event.before["value"] == "Bachelor's Degree" and event.before["source_type"] == SourceType.ONET
        assert event.before["donor"] == "29-1141.00"
        assert event.after["value"] == "Master's degree" and event.after["source_type"] == SourceType.ANALYST

        # Clearing brings back what was there before the override.
        restored = clear_override(session, ids["Nurse C"], "Education", "ana")
        restored_file = clear_override(session, ids["Nurse A"], "Shift Pattern", "ben")
        session.commit()
        assert (restored.value, restored.source_type, restored.donor) == (
            "Bachelor's Degree",
            SourceType.ONET,
            "29-1141.00",
        )
        assert (restored_file.value, restored_file.source_type) == ("Days", SourceType.SOURCE)
        assert clear_override(session, ids["Nurse C"], "Education", "ana") is None  # nothing left to clear
        cleared = session.scalars(select(AuditEvent).where(AuditEvent.action == "clear_attribute_override")).all()
        assert len(cleared) == 2 and cleared[0].before["source_type"] == SourceType.ANALYST


def test_override_refuses_empty_values_and_unknown_attributes(engine: Engine) -> None:
    _project_id, ids = build_project(engine, ["Education"], [RoleSpec("Cook")])
    with session_factory(engine)() as session:
        with pytest.raises(OverrideError, match="needs a value"):
            set_attribute(session, ids["Cook"], "Education", "   ", "ana")
        with pytest.raises(OverrideError, match="no attribute"):
            set_attribute(session, ids["Cook"], "Educaton", "BSc", "ana")
        with pytest.raises(OverrideError, match="No role"):
            set_attribute(session, 999_999, "Education", "BSc", "ana")


def test_attribute_model_helpers(engine: Engine) -> None:
    project_id, ids = build_project(
        engine, ["Education", "Shift Pattern"], [RoleSpec("Cook", source={"Education": "None"})]
    )
    with session_factory(engine)() as session:
        assert project_attribute_names(session, project_id) == ["Education", "Shift Pattern"]
        assert current_values(session, project_id) == {ids["Cook"]: {"Education": "None", "Shift Pattern": None}}
        source = session.scalar(select(RoleAttribute))
        assert not can_replace(source, SourceType.HIERARCHY)
        assert can_replace(source, SourceType.SOURCE)  # a new upload's value replaces the old one
        assert can_replace(None, SourceType.LLM)


def test_an_override_made_while_the_model_thinks_is_kept(engine: Engine, fake_llm_env: FakeLLMServer) -> None:
    project_id, ids = build_project(engine, ["Education", "Shift Pattern"], [RoleSpec("Line Cook", "Kitchen")])
    answer = ImputationAnswerer(confidence=0.5)

    def analyst_types_meanwhile(call):
        reply = answer(call)
        if reply is not None:
            with session_factory(engine)() as other:  # another analyst, in another session
                set_attribute(other, ids["Line Cook"], "Education", "Culinary diploma", "ana")
                other.commit()
        return reply

    fake_llm_env.answerers.insert(0, analyst_types_meanwhile)
    impute(engine, project_id, provider="anthropic")

    assert provenance(engine, ids["Line Cook"]) == {
        "Education": ("Culinary diploma", SourceType.ANALYST),
        "Shift Pattern": ("Shift Pattern for Line Cook", SourceType.LLM),
    }
