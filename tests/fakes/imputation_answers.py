"""Answering imputation prompts on the fake LLM server (tests/fakes/llm_server.py)."""

from __future__ import annotations

import json
import re
from typing import Any

_ROLE_JSON = re.compile(r"```json\s*(.*?)```", re.DOTALL)


def imputation_role(call: Any) -> dict[str, Any] | None:
    """The role JSON of an imputation prompt, or None for other prompts."""
    if "missing attributes of job roles" not in call.system:
        return None
    match = _ROLE_JSON.search(call.user)
    return json.loads(match.group(1)) if match else None


class ImputationAnswerer:
    """Answers every missing attribute with "<attribute> for <title>" at ``confidence``.

    ``extra`` answers are appended (e.g. an attribute that was not asked); ``confidence_for``
    overrides the confidence per attribute name (e.g. 1.7 to test clamping).
    """

    def __init__(self, confidence: float = 0.35) -> None:
        self.confidence = confidence
        self.confidence_for: dict[str, float] = {}
        self.extra: list[dict[str, Any]] = []
        self.roles: list[dict[str, Any]] = []

    def __call__(self, call: Any) -> dict[str, Any] | None:
        role = imputation_role(call)
        if role is None:
            return None
        self.roles.append(role)
        answers = [
            {
                "attribute_name": name,
                "value": f"{name} for {role['job_title']}",
                "confidence": self.confidence_for.get(name, self.confidence),
                "rationale": f"Typical for a {role['job_title']}.",
            }
            for name in role["missing_attributes"]
        ]
        return {"imputations": answers + self.extra, "context_used": "title and family"}
