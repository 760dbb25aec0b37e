"""The vote as tier-model signals (neutral without a vote) and the conservative tier rule."""

from __future__ import annotations

from jobforge.codebooks.vote import DecidedIndex, DecidedTitle, vote_tier
from jobforge.mapping.tiers import ConfidenceTier
from jobforge.retrieval.calibration import Signals, signals_of
from jobforge.retrieval.candidates import Candidate

VOTE_FIELDS = ("vote_share", "vote_similarity", "vote_agrees_with_rank1", "vote_rank1_share")


def _candidates() -> list[Candidate]:
    return [
        Candidate("15-1252.00", "Software Developers", 0.9, "alternate_title", "Developer", rank=1),
        Candidate("15-1251.00", "Computer Programmers", 0.7, "alternate_title", "Programmer", rank=2),
    ]


def test_signals_carry_the_vote_and_are_neutral_without_one() -> None:
    plain = Signals(False, 0, 0.6, 0.02, 0.0)
    assert all(plain.features()[name] == 0.0 for name in VOTE_FIELDS)
    index = DecidedIndex(
        [
            DecidedTitle("Python Developer", ("15-1252.00",), "codebook", "book"),
            DecidedTitle("Python Developer", ("15-1251.00",), "codebook", "book"),
            DecidedTitle("Python Developer", ("15-1252.00",), "codebook", "book"),
        ]
    )
    (vote,) = index.votes(["Senior Python Developer"])
    signals = signals_of(_candidates(), vote=vote)
    features = signals.features()
    assert features["vote_agrees_with_rank1"] == 1.0 and features["vote_similarity"] == 1.0
    assert round(features["vote_share"], 2) == 0.67 == round(features["vote_rank1_share"], 2)
    assert vote.disagreeing_codebook and "disagrees with itself" in vote.rationale()


def test_similarity_alone_is_never_high() -> None:
    (vote,) = DecidedIndex([DecidedTitle("Data Wrangler", ("15-1252.00",), "confirmed", "Acme")]).votes(
        ["Data Wrangler Lead"]
    )
    assert vote is not None and vote.similarity > 0.9 and vote.share == 1.0
    # The vote alone put the code first: MEDIUM at most, whatever retrieval's tier was.
    assert vote_tier(ConfidenceTier.HIGH, vote, "15-1252.00", moved=True) is ConfidenceTier.MEDIUM
    # Retrieval's HIGH rank 1 the vote disagrees with: MEDIUM.
    assert vote_tier(ConfidenceTier.HIGH, vote, "43-4051.00", moved=False) is ConfidenceTier.MEDIUM
    # Retrieval and a clear, close vote agree: at least MEDIUM.
    assert vote_tier(ConfidenceTier.LOW, vote, "15-1252.00", moved=False) is ConfidenceTier.MEDIUM
