"""The offline selector: JobForge's no-API-key default.

It proposes the retrieval rank-1 candidate and sets the tier from measured signals (see
:mod:`jobforge.retrieval.calibration`): whether the title matched an O*NET title exactly and how
many occupations share that title, the score, and the margin over the runner-up. The tier
cut-offs are fitted per kind of evidence on the FIT part of labelled titles
(:mod:`jobforge.evaluation.tier_fit`, bundled JSON) so HIGH and MEDIUM reach 90% / 70% precision
on every source; without that file, the O*NET self-labelled fit is used.
"""

from __future__ import annotations

from jobforge.codebooks.vote import vote_rationale, vote_tier, with_vote
from jobforge.mapping.selectors import RoleRequest
from jobforge.mapping.tiers import ConfidenceTier, MappingSource, RoleMappingResult
from jobforge.retrieval.calibration import FittedTierModel, TierModel, active_tier_model, signals_of
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.index import CandidateIndex
from jobforge.retrieval.normalize import is_codable

FIELD_LABELS = {
    "title": "occupation title",
    "alternate_title": "alternate title",
    "short_title": "short title",
    "reported_title": "reported title",
    "description": "description",
    "task": "task",
    "related_occupation": "related occupation",
}


class OfflineSelector:
    name = "offline"
    note: str | None = None  # set by the factory when "auto" chose offline

    def __init__(
        self,
        index: CandidateIndex,
        k: int = 20,
        tier_model: TierModel | FittedTierModel | None = None,
        release_version: str | None = None,
    ) -> None:
        """``release_version`` of the index's release picks the tier model fitted with it (see
        :func:`jobforge.retrieval.calibration.active_tier_model`) unless ``tier_model`` is given."""
        self.index = index
        self.k = k
        self.tier_model = tier_model or active_tier_model(release_version)

    def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
        return [self._select_one(role) for role in roles]

    def _select_one(self, role: RoleRequest) -> RoleMappingResult:
        title = role.title or ""
        if not is_codable(title):
            reason = "empty title" if not title.strip() else "no words to match (only numbers, codes or symbols)"
            return RoleMappingResult(
                source_role=title,
                onet_code=None,
                onet_title=None,
                confidence=ConfidenceTier.LOW,
                reasoning=f"Not codable: {reason}.",
                source=MappingSource.OFFLINE,
                role_id=role.role_id,
                calibrated_score=0.0,
            )
        given = role.candidates or self.index.candidates(title, k=self.k, context=role.context or None)
        retrieved = [c for c in given if c.via != "decided"]  # as retrieval ranked them, without the vote's
        if not retrieved and role.vote is None:
            language = self.index.language_of(title)
            reason = (
                "No O*NET occupation shares a word with this title; choose one by hand."
                if language.english
                else f"Not English ({language.name}): choose by hand."
            )
            return RoleMappingResult(
                source_role=title,
                onet_code=None,
                onet_title=None,
                confidence=ConfidenceTier.LOW,
                reasoning=reason,
                source=MappingSource.OFFLINE,
                role_id=role.role_id,
                calibrated_score=0.0,
            )
        candidates = with_vote(given, role.vote, self.index.occupation)
        best = candidates[0]
        if retrieved:
            signals = signals_of(retrieved, vote=role.vote)
            probability = self.tier_model.probability(signals)
            tier = self.tier_model.tier_of(signals, probability)
            text = rationale(best, retrieved, signals.exact_count) if best is retrieved[0] else ""
        else:
            signals, probability, tier, text = None, 0.0, ConfidenceTier.LOW, ""
        if role.vote is not None:
            tier = vote_tier(tier, role.vote, best.code, moved=not retrieved or best is not retrieved[0])
            text = vote_rationale(text, role.vote, best, retrieved[0] if retrieved else None)
        return RoleMappingResult(
            source_role=title,
            onet_code=best.code,
            onet_title=best.title,
            confidence=tier,
            reasoning=text,
            source=MappingSource.OFFLINE,
            role_id=role.role_id,
            calibrated_score=round(probability, 3),
            candidates=[candidate.to_dict() for candidate in candidates],
        )


VIA_LABELS = {"abbreviation": "an abbreviation reading", "translation": "a translation", "rewording": "a rewording"}


def capped_tier(tier: ConfidenceTier, best: Candidate) -> ConfidenceTier:
    """An exact match reached only through an abbreviation reading, a translation or a rewording,
    or on a title several occupations share, is at most MEDIUM (issue 10, kind 6) under the O*NET
    fit; the labelled-title fit has cut-offs per such kind instead (``TierModel.tier_of``)."""
    if tier is ConfidenceTier.HIGH and best.exact and (best.via or best.shared_by > 1):
        return ConfidenceTier.MEDIUM
    return tier


def rationale(best: Candidate, candidates: list[Candidate], exact_count: int) -> str:
    """One sentence on why ``best`` was proposed (with the reading or translation it came through)."""
    field = FIELD_LABELS.get(best.matched_on, best.matched_on)
    through = f" (read as {best.reading})" if best.reading else ""
    if best.exact:
        text = f"Exact match on {field} '{best.matched_text}'{through}"
        if exact_count > 1:
            text += f", a title {exact_count} occupations share; ranked first on the other fields"
        elif best.via:
            text += f", reached through {VIA_LABELS.get(best.via, best.via)}"
        return text + "."
    text = f"Closest match on {field} '{best.matched_text}'{through}"
    if len(candidates) > 1:
        runner_up = candidates[1]
        margin = best.score - runner_up.score
        text += f"; next best {runner_up.code} {runner_up.title} ({'close' if margin < 0.05 else 'well behind'})"
    return text + "."
