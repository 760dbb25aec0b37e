"""What the LLM step of an imputation run would cost, before running it.

An upper bound: every role with an empty cell now counts as one call, although inheritance and
O*NET (which run first) may fill some of those cells for free. Input tokens are counted on the
real prompts (system prompt + the role's data), output tokens at a typical size per attribute.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.config import Settings, get_settings
from jobforge.db.models import Role
from jobforge.imputation.attributes import attributes_by_role, has_value, project_attribute_names
from jobforge.imputation.llm_imputation import IMPUTATION_SYSTEM_PROMPT, build_imputation_prompt
from jobforge.llm.tokens import CostEstimate, cost_usd, estimate_tokens

OUTPUT_TOKENS_PER_ATTRIBUTE = 45  # name, a short value, confidence and a one-sentence rationale
OUTPUT_TOKENS_PER_CALL = 25  # the wrapping object and context_used


# roles = roles with at least one empty cell
ImputationCostEstimate = CostEstimate


def estimate_imputation_cost(
    session: Session, project_id: int, provider: str = "auto", settings: Settings | None = None
) -> ImputationCostEstimate:
    """Calls, tokens and USD of the LLM step (an upper bound; zero when no provider would run).

    A provider named explicitly is estimated even without a key, so the figure can be shown first.
    """
    from jobforge.llm.factory import PROVIDERS, available_providers

    settings = settings or get_settings()
    name = (provider or "auto").strip().lower()
    if name == "auto" and settings.provider not in ("", "auto"):
        name = settings.provider.strip().lower()
    if name == "auto":
        usable = [candidate for candidate, state in available_providers(settings).items() if state.available]
        if not usable:
            return ImputationCostEstimate(
                0, 0, 0, 0.0, note="No LLM provider is available: the LLM step would be skipped."
            )
        name = usable[0]
    if name not in PROVIDERS:
        return ImputationCostEstimate(0, 0, 0, 0.0, provider=name, note="No LLM step with this provider.")

    names = project_attribute_names(session, project_id)
    input_tokens = output_tokens = roles = 0
    system_tokens = estimate_tokens(IMPUTATION_SYSTEM_PROMPT)
    role_rows = session.scalars(select(Role).where(Role.project_id == project_id).order_by(Role.id)).all()
    for start in range(0, len(role_rows), 500):
        chunk = role_rows[start : start + 500]
        cells = attributes_by_role(session, [role.id for role in chunk])
        for role in chunk:
            known = {n: str(cells[role.id][n].value) for n in names if has_value(cells[role.id].get(n))}
            missing = [n for n in names if n not in known]
            if not missing:
                continue
            roles += 1
            prompt = build_imputation_prompt(
                role.title, role.job_family, role.job_function, role.unit_group, known, missing
            )
            input_tokens += system_tokens + estimate_tokens(prompt)
            output_tokens += OUTPUT_TOKENS_PER_CALL + OUTPUT_TOKENS_PER_ATTRIBUTE * len(missing)
    return ImputationCostEstimate(
        calls=roles,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        usd=round(cost_usd(name, input_tokens, output_tokens, settings), 4),
        roles=roles,
        provider=name,
        note="An upper bound: inheritance and O*NET run first and may fill some cells for free.",
    )
