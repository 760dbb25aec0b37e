"""The stages of CandidateIndex.candidates on the tiny release (SQLite and Postgres), and what they
hand on: string scores, the exact pass, the related-occupation tail, the explanation; the role's
context; other languages; how candidates say how they were reached."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine

from jobforge.db.engine import session_factory
from jobforge.mapping.offline import OfflineSelector, capped_tier
from jobforge.mapping.selectors import RoleRequest
from jobforge.mapping.tiers import ConfidenceTier
from jobforge.retrieval.candidates import Candidate
from jobforge.retrieval.index import CandidateIndex, get_candidate_index
from jobforge.retrieval.normalize import search_form, title_key
from jobforge.retrieval.readings import TitleReading


@pytest.fixture
def index(onet_engine: Engine) -> CandidateIndex:
    with session_factory(onet_engine)() as session:
        return get_candidate_index(session)


def _occ(index: CandidateIndex, code: str) -> int:
    return index.codes.index(code)


def test_string_scores_are_one_score_per_occupation(index: CandidateIndex) -> None:
    scores = index.string_scores(search_form("Java Developer"))
    assert scores.score.shape == (len(index),)
    assert int(np.argmax(scores.score)) == _occ(index, "15-1252.00")
    assert len(scores.string_ids) == len(scores.weighted_sim) > 0
    assert not index.string_scores(search_form("zzzz qqqq")).score.any()


def test_exact_pass_finds_every_occupation_with_that_title(index: CandidateIndex) -> None:
    exact = index.exact_matches(search_form("Cooks, Restaurant"))
    assert [index.codes[o] for o in exact.occupations] == ["35-2014.00"]
    assert index.exact_matches(search_form("Restaurant Cook Trainer")).occupations.size == 0
    # A reworded title matches exactly only a string written the same way.
    assert index.exact_matches(search_form("Head of Restaurant Cooks"), "Head of Restaurant Cooks").occupations.size == 0


def test_related_tail_only_adds(index: CandidateIndex) -> None:
    score = index.string_scores(search_form("Java Developer")).score
    tail = index.related_tail(score)
    assert (tail.boosted >= score).all()
    assert tail.related_to[_occ(index, "13-2011.00")] == _occ(index, "15-1252.00")


def test_explain_says_what_matched(index: CandidateIndex) -> None:
    form = search_form("Software Engineer")
    scores, exact = index.string_scores(form), index.exact_matches(form)
    total = scores.score.copy()
    total[exact.occupations] += index.weights.exact_bonus
    top = list(np.argsort(-total)[:3])
    source = np.zeros(len(index), dtype=np.int32)
    (best, *_rest) = index.explain(top, total, index.related_tail(total), source, [(TitleReading(form), scores, exact)])
    assert (best.code, best.exact, best.matched_text, best.shared_by, best.via) == (
        "15-1252.00",
        True,
        "Software Engineer",
        1,
        "",
    )


@pytest.mark.parametrize(
    ("title", "code", "translation"),
    [
        ("Pflegefachkraft (m/w/d)", "29-1141.00", "registered nurse"),
        ("Krankenschwester", "29-1141.00", "registered nurse"),
        ("Softwareentwickler", "15-1252.00", "software developer"),
        ("Ingénieur logiciel (H/F)", "15-1252.00", "software engineer"),
        ("Enfermera", "29-1141.00", "registered nurse"),
        ("Cocinero de restaurante", "35-2014.00", "restaurante cook"),  # a cognate passed on as it is
        ("Agent de nettoyage", "", "cleaning agent"),  # "agent" is English and French: "nettoyage" decides
        ("Enfermero/a", "29-1141.00", "registered nurse"),
        ("Wurstverkoster", "", None),  # marked German, no word the dictionary knows
    ],
)
def test_a_title_in_another_language_goes_through_its_translation(
    index: CandidateIndex, title: str, code: str, translation: str | None
) -> None:
    language = index.language_of(title)
    assert not language.english and language.code in ("de", "fr", "es", "?")
    assert language.translation == translation
    candidates = index.candidates(title)
    if translation is None:
        assert candidates == []
        return
    if not code:
        return
    best = candidates[0]
    assert (best.code, best.via) == (code, "translation")
    assert translation in best.reading and title.split()[0] in best.reading  # the analyst sees it


@pytest.mark.parametrize("title", ["Registered Nurse", "Software Engineer (m/w/d)", "Chief Executive Officer"])
def test_english_titles_are_english(index: CandidateIndex, title: str) -> None:
    assert index.language_of(title).english


def test_a_german_word_never_becomes_an_english_exact_match(index: CandidateIndex) -> None:
    """Umlauts are not stripped into English words, gender tags add no letters to match."""
    assert title_key("Bäcker") == "baecker" and "m" not in search_form("Koch (m/w/d)").tokens
    for title in ("Bäcker", "Koch (m/w/d)", "Pflegefachkraft"):
        assert all(c.via == "translation" for c in index.candidates(title))


def test_an_unknown_language_proposes_nothing_and_says_why(index: CandidateIndex) -> None:
    assert index.language_of("Infermiere").code == "?"
    (result,) = OfflineSelector(index).select([RoleRequest(1, "Infermiere", title_key("Infermiere"))])
    assert result.onet_code is None and result.reasoning == "Not English (language not recognised): choose by hand."


def test_offline_tier_of_an_exact_match_through_a_translation_is_not_high(index: CandidateIndex) -> None:
    selector = OfflineSelector(index)
    (english,) = selector.select([RoleRequest(1, "Registered Nurse", "registered nurse")])
    (german,) = selector.select([RoleRequest(2, "Krankenschwester", "krankenschwester")])
    assert english.confidence is ConfidenceTier.HIGH
    assert german.onet_code == "29-1141.00" and german.confidence is ConfidenceTier.MEDIUM
    assert "Krankenschwester → registered nurse (German)" in german.reasoning


@pytest.mark.parametrize(
    ("via", "shared_by", "tier"),
    [("", 1, "HIGH"), ("abbreviation", 1, "MEDIUM"), ("translation", 1, "MEDIUM"), ("rewording", 1, "MEDIUM"), ("", 3, "MEDIUM")],
)
def test_exact_matches_that_need_a_reading_or_are_shared_are_capped(via: str, shared_by: int, tier: str) -> None:
    best = Candidate("15-1252.00", "Software Developers", 2.0, "title", "x", exact=True, via=via, shared_by=shared_by)
    assert capped_tier(ConfidenceTier.HIGH, best) == tier
    assert capped_tier(ConfidenceTier.LOW, best) is ConfidenceTier.LOW


def test_candidates_round_trip_with_their_new_fields_and_old_ones_still_load() -> None:
    candidate = Candidate("1", "t", 1.0, "title", "x", exact=True, via="abbreviation", reading="AP = x", shared_by=2)
    assert Candidate.from_dict(candidate.to_dict()) == candidate
    old = {"code": "1", "title": "t", "score": 1.0, "matched_on": "title", "matched_text": "x"}
    assert Candidate.from_dict(old).via == "" and Candidate.from_dict(old).shared_by == 0


def test_signals_carry_how_rank_one_was_reached(index: CandidateIndex) -> None:
    from jobforge.retrieval.calibration import signals_of

    german = signals_of(index.candidates("Krankenschwester"))
    assert (german.via, german.shared_by) == ("translation", 1)
    assert german.features()["via_translation"] == 1.0 and german.features()["exact"] == 1.0
    english = signals_of(index.candidates("Registered Nurse")).features()
    assert english["via_translation"] == english["via_abbreviation"] == english["undecided_readings"] == 0.0
