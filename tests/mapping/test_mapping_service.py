"""The mapping service: proposals stored per role, scopes, never overwriting analysts, resuming a job."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobforge.db.engine import session_factory
from jobforge.db.models import Job, Mapping, MappingStatus, Role
from jobforge.jobs.queue import enqueue
from jobforge.mapping.factory import ProviderUnavailable
from jobforge.mapping.selectors import RoleRequest
from jobforge.mapping.service import estimate_cost, map_roles
from jobforge.mapping.tiers import ConfidenceTier, MappingSource, RoleMappingResult
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

TITLES = ["Staff Accountant", "Software Engineer", "Line Cook", "Truck Driver", "Registered Nurse"]


def add_project(session: Session, name: str, titles: list[str]) -> tuple[int, dict[str, int]]:
    project = create_project(session, name, "tester")
    roles = [Role(project_id=project.id, title=title, title_key=title_key(title)) for title in titles]
    session.add_all(roles)
    session.commit()
    return project.id, {role.title: role.id for role in roles}


class RecordingSelector:
    """Proposes one fixed code for every role and remembers which roles it was asked about."""

    name = "recording"

    def __init__(self, code: str = "35-2014.00", tier: ConfidenceTier = ConfidenceTier.MEDIUM) -> None:
        self.code = code
        self.tier = tier
        self.seen: list[int] = []

    def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
        self.seen.extend(int(role.role_id) for role in roles)
        return [
            RoleMappingResult(
                source_role=role.title,
                onet_code=self.code,
                onet_title="Cooks, Restaurant",
                confidence=self.tier,
                reasoning="picked by the test",
                source=MappingSource.LLM,
                role_id=role.role_id,
                llm_tier=ConfidenceTier.HIGH,
                model_used="test-model",
                candidates=[candidate.to_dict() for candidate in role.candidates],
            )
            for role in roles
        ]


def mappings(session: Session, project_role_ids: dict[str, int]) -> dict[str, Mapping]:
    session.expire_all()
    by_id = {
        m.role_id: m for m in session.scalars(select(Mapping).where(Mapping.role_id.in_(project_role_ids.values())))
    }
    return {title: by_id[role_id] for title, role_id in project_role_ids.items() if role_id in by_id}


def confirm(
    session: Session, role_id: int, code: str, status: str = MappingStatus.CONFIRMED, who: str = "alice"
) -> None:
    mapping = session.scalar(select(Mapping).where(Mapping.role_id == role_id))
    mapping.onet_code = code
    mapping.status = status
    mapping.confirmed_by = who
    mapping.confirmed_at = datetime.now(UTC)
    session.commit()


def test_offline_run_stores_a_proposal_per_role(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Offline", [*TITLES, "", "12345"])
        seen: list[tuple[int, int]] = []
        summary = map_roles(
            session, project_id, provider="offline", batch_size=3, progress=lambda d, t, m: seen.append((d, t))
        )

        assert summary.mapped == 7 and summary.provider == "offline"
        assert summary.by_source == {"offline": 7}
        assert seen == [(3, 7), (6, 7), (7, 7)]  # one report per committed batch
        stored = mappings(session, ids)
        assert set(stored) == set(ids)
        nurse = stored["Registered Nurse"]
        assert (nurse.onet_code, nurse.onet_title, nurse.tier) == ("29-1141.00", "Registered Nurses", "HIGH")
        assert nurse.score == 0.95 and nurse.source == "offline" and nurse.status == MappingStatus.PROPOSED
        assert nurse.release_id is not None and nurse.rationale
        assert nurse.candidates[0]["code"] == "29-1141.00" and "matched_text" in nurse.candidates[0]
        assert stored[""].onet_code is None and stored[""].tier == "LOW"  # not codable, still present


def test_selector_fields_are_stored(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Fields", ["Line Cook"])
        map_roles(session, project_id, provider="anthropic", selector=RecordingSelector())
        mapping = mappings(session, ids)["Line Cook"]
        assert (mapping.tier, mapping.score, mapping.llm_tier) == ("MEDIUM", 0.75, "HIGH")
        assert (mapping.source, mapping.model_used, mapping.rationale) == ("llm", "test-model", "picked by the test")
        assert len(mapping.candidates) >= 1 and mapping.proposed_code == "35-2014.00"


def test_rerun_with_scope_all_never_touches_analyst_decisions(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Never overwrite", TITLES)
        map_roles(session, project_id, provider="offline")
        confirm(session, ids["Staff Accountant"], "13-2011.00")
        confirm(session, ids["Line Cook"], "11-1011.00", status=MappingStatus.OVERRIDDEN, who="bob")
        before = mappings(session, ids)
        kept = {
            t: (before[t].onet_code, before[t].status, before[t].updated_at) for t in ("Staff Accountant", "Line Cook")
        }

        selector = RecordingSelector(code="53-3032.00")
        summary = map_roles(session, project_id, provider="offline", scope="all", selector=selector)

        after = mappings(session, ids)
        for title, (code, status, updated_at) in kept.items():
            assert (after[title].onet_code, after[title].status, after[title].updated_at) == (code, status, updated_at)
        assert sorted(selector.seen) == sorted(ids[t] for t in TITLES if t not in kept)
        assert after["Software Engineer"].onet_code == "53-3032.00"
        assert summary.skipped_confirmed == 2 and summary.mapped == 3


def test_scopes_choose_roles(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(
            session, "Scopes", ["Line Cook", "Truck Driver", "Software Engineer", "CEO", "Staff Nurse"]
        )
        # Map all but "Line Cook"; then shape: Truck Driver LOW, Software Engineer HIGH, CEO confirmed, Staff Nurse needs info.
        cook = ids.pop("Line Cook")
        for role_id in ids.values():
            session.add(Mapping(role_id=role_id, onet_code="53-3032.00", tier="HIGH", score=0.95, source="offline"))
        session.commit()
        stored = mappings(session, ids)
        stored["Truck Driver"].tier = "LOW"
        stored["CEO"].status = MappingStatus.CONFIRMED
        stored["Staff Nurse"].status = MappingStatus.NEEDS_INFO
        stored["Staff Nurse"].note = "ask HR"
        session.commit()
        ids["Line Cook"] = cook

        def roles_for(scope: str) -> set[str]:
            selector = RecordingSelector(tier=ConfidenceTier.LOW)
            map_roles(session, project_id, provider="offline", scope=scope, selector=selector)
            names = {role_id: title for title, role_id in ids.items()}
            return {names[role_id] for role_id in selector.seen}

        assert roles_for("unmapped") == {"Line Cook"}
        # Line Cook was just proposed LOW by the recording selector; Truck Driver was LOW already.
        assert roles_for("low") == {"Line Cook", "Truck Driver"}
        # "unconfirmed" (Update proposals from decisions) leaves the "needs info" role alone too.
        assert roles_for("unconfirmed") == {"Line Cook", "Truck Driver", "Software Engineer"}
        assert roles_for("all") == {"Line Cook", "Truck Driver", "Software Engineer", "Staff Nurse"}
        final = mappings(session, ids)
        assert final["CEO"].status == MappingStatus.CONFIRMED and final["CEO"].tier == "HIGH"
        # A fresh proposal keeps the analyst's "needs info" flag and note.
        assert final["Staff Nurse"].status == MappingStatus.NEEDS_INFO and final["Staff Nurse"].note == "ask HR"

        with pytest.raises(ValueError, match="Unknown scope"):
            map_roles(session, project_id, provider="offline", scope="everything")


def test_low_scope_skips_high_and_medium(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Low only", ["Line Cook", "Truck Driver"])
        map_roles(session, project_id, provider="offline", selector=RecordingSelector(tier=ConfidenceTier.MEDIUM))
        stored = mappings(session, ids)
        stored["Truck Driver"].tier = "LOW"
        session.commit()
        selector = RecordingSelector(tier=ConfidenceTier.HIGH)
        summary = map_roles(session, project_id, provider="offline", scope="low", selector=selector)
        assert selector.seen == [ids["Truck Driver"]] and summary.by_tier == {"HIGH": 1}


def test_a_dropped_role_falls_back_to_the_best_candidate(onet_engine: Engine) -> None:
    class DropsOne(RecordingSelector):
        def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
            return super().select(roles)[1:]

    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Dropped", ["Truck Driver", "Line Cook"])
        summary = map_roles(session, project_id, provider="offline", selector=DropsOne())
        dropped = mappings(session, ids)["Truck Driver"]
        assert (dropped.onet_code, dropped.tier, dropped.source) == ("53-3032.00", "LOW", "fallback")
        assert "no answer" in dropped.rationale
        assert summary.mapped == 2
        assert any("1 role(s) fell back" in note for note in summary.notes)


def test_a_job_run_resumes_after_a_crash_and_maps_each_role_once(onet_engine: Engine) -> None:
    class CrashesOnThirdBatch(RecordingSelector):
        def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
            if len(self.seen) >= 4:
                raise RuntimeError("worker died")
            return super().select(roles)

    titles = [f"Line Cook {n}" for n in range(7)]
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Resume", titles)
        map_roles(session, project_id, provider="offline")  # every role has an older proposal
        job = enqueue(session, "map", project_id, {"provider": "offline", "scope": "all"}, "tester")

        crashing = CrashesOnThirdBatch()
        with pytest.raises(RuntimeError, match="worker died"):
            map_roles(
                session, project_id, provider="offline", scope="all", batch_size=2, job_id=job.id, selector=crashing
            )
        session.rollback()
        stored = session.get(Job, job.id, populate_existing=True)
        assert (stored.progress_done, stored.progress_total) == (4, 7)

        resumed = RecordingSelector()
        summary = map_roles(
            session, project_id, provider="offline", scope="all", batch_size=2, job_id=job.id, selector=resumed
        )
        assert sorted(crashing.seen + resumed.seen) == sorted(ids.values())  # each role exactly once
        assert not set(crashing.seen) & set(resumed.seen)
        assert summary.mapped == 7 and summary.total == 7
        stored = session.get(Job, job.id, populate_existing=True)
        assert (stored.progress_done, stored.progress_total) == (7, 7)


def test_explicit_llm_provider_without_key_is_a_clear_error(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, _ = add_project(session, "No key", ["Line Cook"])
        with pytest.raises(ProviderUnavailable, match="ANTHROPIC_API_KEY"):
            map_roles(session, project_id, provider="anthropic")
        summary = map_roles(session, project_id, provider="auto")
        assert summary.provider == "offline"
        assert summary.notes == ["No ANTHROPIC_API_KEY or OPENAI_API_KEY set: using the offline selector."]


def test_estimate_cost(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, _ = add_project(session, "Estimate", [f"Analyst {n}" for n in range(25)])
        offline = estimate_cost(session, project_id, "offline", "unmapped")
        assert (offline.calls, offline.input_tokens, offline.usd) == (0, 0, 0.0)

        estimate = estimate_cost(session, project_id, "anthropic", "unmapped")
        # ceil(25 / 12) mapping calls and one reading call (about half the roles are weakly retrieved).
        assert estimate.roles == 25 and estimate.calls == 3 + 1 and 0 < estimate.reading_roles <= 25
        assert estimate.input_tokens > 0 and estimate.output_tokens > 0
        expected = (estimate.input_tokens * 3.0 + estimate.output_tokens * 15.0) / 1_000_000
        assert estimate.usd == pytest.approx(expected, abs=1e-4)

        # A title an analyst already decided elsewhere goes by precedent and costs nothing.
        _, other = add_project(session, "Decided", ["Analyst 0"])
        session.add(
            Mapping(
                role_id=other["Analyst 0"],
                onet_code="13-2011.00",
                tier="HIGH",
                score=0.95,
                source="analyst",
                status=MappingStatus.CONFIRMED,
            )
        )
        session.commit()
        assert estimate_cost(session, project_id, "openai", "unmapped", batch_size=5).calls == 5 + 1  # ceil(24 / 5) + 1


def test_a_role_confirmed_while_its_batch_is_mapped_keeps_the_analyst_decision(onet_engine: Engine) -> None:
    class AnalystConfirmsMeanwhile(RecordingSelector):
        """While the batch is being selected (an LLM call), an analyst confirms one of its roles."""

        def __init__(self, role_id: int) -> None:
            super().__init__(code="53-3032.00")
            self.role_id = role_id

        def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
            with session_factory(onet_engine)() as analyst:
                confirm(analyst, self.role_id, "35-2014.00", who="dana")
            return super().select(roles)

    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session, "Race", ["Line Cook", "Truck Driver"])
        map_roles(session, project_id, provider="offline")
        summary = map_roles(
            session, project_id, provider="offline", scope="all", selector=AnalystConfirmsMeanwhile(ids["Line Cook"])
        )
        stored = mappings(session, ids)
        assert (stored["Line Cook"].onet_code, stored["Line Cook"].status) == ("35-2014.00", MappingStatus.CONFIRMED)
        assert stored["Line Cook"].confirmed_by == "dana"
        assert stored["Truck Driver"].onet_code == "53-3032.00"
        assert summary.mapped == 1 and summary.skipped_confirmed == 1
