"""Choosing the selector, and mapping through the real SDKs against the fake LLM server."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from jobforge.config import get_settings
from jobforge.db.engine import session_factory
from jobforge.db.models import LlmUsage, Mapping, Role
from jobforge.jobs.queue import enqueue
from jobforge.mapping.agent import RoleMappingAgent
from jobforge.mapping.factory import ProviderUnavailable, make_selector, resolve_provider
from jobforge.mapping.offline import OfflineSelector
from jobforge.mapping.service import estimate_cost, map_roles
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

TITLES = ["Line Cook", "Truck Driver", "Staff Accountant", "Software Engineer", "Call Center Agent"]


def test_auto_without_keys_is_offline_with_a_note(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        selector = make_selector("auto", session)
    assert isinstance(selector, OfflineSelector)
    assert selector.note == "No ANTHROPIC_API_KEY or OPENAI_API_KEY set: using the offline selector."
    assert resolve_provider("offline").note is None


def test_named_provider_without_key_or_unknown_name_is_refused(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        with pytest.raises(ProviderUnavailable, match=r"openai provider cannot be used.*OPENAI_API_KEY"):
            make_selector("openai", session)
        with pytest.raises(ProviderUnavailable, match="Unknown provider 'gemini'"):
            make_selector("gemini", session)


def test_auto_prefers_an_available_llm(fake_llm_env, monkeypatch: pytest.MonkeyPatch, onet_engine: Engine) -> None:
    assert resolve_provider("auto").provider == "anthropic"
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    get_settings.cache_clear()
    choice = resolve_provider("auto")
    assert choice.provider == "openai" and "openai" in (choice.note or "")
    with session_factory(onet_engine)() as session:
        selector = make_selector("auto", session, batch_size=3)
    assert isinstance(selector, RoleMappingAgent) and selector.batch_size == 3


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_mapping_through_the_llm_is_stored_recorded_and_cached(
    fake_llm_env, onet_engine: Engine, provider: str
) -> None:
    with session_factory(onet_engine)() as session:
        project = create_project(session, f"LLM {provider}", "tester")
        session.add_all([Role(project_id=project.id, title=t, title_key=title_key(t)) for t in TITLES])
        session.commit()
        estimate = estimate_cost(session, project.id, provider, "unmapped", batch_size=2)
        # ceil(5 roles / 2 per call) mapping calls, and one reading call for the typical share of weak roles.
        assert estimate.calls == 3 + 1 and estimate.roles == 5 and estimate.usd > 0
        job = enqueue(session, "map", project.id, {"provider": provider}, "tester")

        summary = map_roles(session, project.id, provider=provider, batch_size=2, job_id=job.id)

        assert summary.provider == provider and summary.mapped == 5
        # ceil(5 roles / 2 per call); every title here is an exact O*NET title, so nothing to read.
        assert len(fake_llm_env.model_calls()) == 3
        rows = session.execute(select(Role.title, Mapping).join(Mapping, Mapping.role_id == Role.id)).all()
        by_title = {title: mapping for title, mapping in rows}
        cook = by_title["Line Cook"]
        assert cook.source == "llm" and cook.onet_code == "35-2014.00"
        assert cook.llm_tier == "HIGH" and cook.model_used and cook.candidates
        usage = session.scalar(select(func.count()).select_from(LlmUsage).where(LlmUsage.job_id == job.id))
        assert usage == 3

        # Re-running every unconfirmed role answers from the cache: no new calls.
        again = map_roles(session, project.id, provider=provider, scope="all", batch_size=2)
        assert again.mapped == 5 and len(fake_llm_env.model_calls()) == 3
