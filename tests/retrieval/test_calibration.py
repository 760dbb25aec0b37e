"""Tier assignment from retrieval signals, and the fitting helpers (no store needed)."""

from __future__ import annotations

from jobforge.mapping.tiers import ConfidenceTier
from jobforge.retrieval.calibration import (
    Signals,
    TierModel,
    fit_logistic,
    high_threshold,
    medium_threshold,
    signals_of,
)
from jobforge.retrieval.candidates import Candidate


def _candidate(code: str, score: float, exact: bool = False) -> Candidate:
    return Candidate(code=code, title=code, score=score, matched_on="alternate_title", matched_text="x", exact=exact)


def test_signals_read_exactness_ties_and_margin() -> None:
    signals = signals_of(
        [_candidate("15-1252.00", 2.5, True), _candidate("15-1211.00", 2.4, True), _candidate("13-1111.00", 1.0)]
    )
    assert signals.exact and signals.exact_count == 2
    assert round(signals.margin, 3) == 0.1 and round(signals.base, 3) == 1.5
    assert signals_of([_candidate("29-1141.00", 1.0), _candidate("29-1141.01", 0.9)]).same_soc_runner_up == 1.0


def test_unique_exact_match_is_high_shared_or_weak_matches_are_not() -> None:
    model = TierModel()
    unique_exact = Signals(True, 1, 1.6, 1.0, 0.0)
    shared_exact = Signals(True, 4, 1.6, 0.01, 0.0)
    weak = Signals(False, 0, 0.6, 0.02, 0.0)
    assert model.tier(model.probability(unique_exact)) == ConfidenceTier.HIGH
    assert model.tier(model.probability(shared_exact)) != ConfidenceTier.HIGH
    assert model.tier(model.probability(weak)) == ConfidenceTier.LOW
    # A bigger lead over the runner-up never lowers confidence.
    assert model.probability(Signals(False, 0, 1.2, 0.5, 0.0)) > model.probability(Signals(False, 0, 1.2, 0.1, 0.0))


def test_thresholds_give_the_asked_precision() -> None:
    probabilities = [0.99, 0.98, 0.97, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    correct = [True, True, True, False, True, True, True, False, False, False]
    high = high_threshold(probabilities, correct, target=0.9)
    assert high == 0.97  # the top three are all right; adding the 4th drops to 75%
    medium = medium_threshold(probabilities, correct, high, target=0.7)
    assert medium == 0.6  # 0.9..0.6: three right of four


def test_logistic_fit_separates_a_clear_signal() -> None:
    rows = [[1.0, x / 10] for x in range(10)] * 5
    labels = [x >= 5 for x in range(10)] * 5
    bias, slope = fit_logistic(rows, labels)
    assert slope > 0 and bias < 0
