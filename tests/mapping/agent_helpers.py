"""Hand-made roles and candidates for the agent tests and the benchmark (no retrieval index needed)."""

from __future__ import annotations

from jobforge.mapping.selectors import RoleRequest
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.normalize import title_key

DESCRIPTION = (
    "Research, design, and develop computer and network software or specialized utility programs. "
    "Analyze user needs and develop software solutions, applying principles of computer science."
)


def make_candidates(role_number: int, count: int = 20, exact_first: bool = False) -> list[Candidate]:
    """``count`` candidates whose codes are unique to the role (so answers can be traced)."""
    return [
        Candidate(
            code=f"{10 + rank:02d}-{role_number:04d}.{rank:02d}",
            title=f"Occupation {rank} for role {role_number}",
            score=1.0 - rank * 0.02,
            matched_on="alternate_title",
            matched_text=f"Alternate title {rank}",
            exact=exact_first and rank == 0,
            description=DESCRIPTION,
            rank=rank + 1,
        )
        for rank in range(count)
    ]


def make_role(number: int, title: str | None = None, candidates: int = 20, **context: str) -> RoleRequest:
    title = title or f"Role title {number}"
    return RoleRequest(
        role_id=number,
        title=title,
        title_key=title_key(title),
        context=dict(context),
        candidates=make_candidates(number, candidates),
    )


def make_roles(count: int, start: int = 1) -> list[RoleRequest]:
    return [make_role(n, job_family="Engineering") for n in range(start, start + count)]


def first_code(role: RoleRequest) -> str:
    return role.candidates[0].code
