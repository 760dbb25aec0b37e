"""The candidate index over the tiny release (SQLite and Postgres)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine

from jobforge.db.engine import session_factory
from jobforge.retrieval.index import CandidateIndex, bracketed_forms, get_candidate_index, title_variants


def _index(engine: Engine) -> CandidateIndex:
    with session_factory(engine)() as session:
        return get_candidate_index(session)


def test_exact_match_on_alternate_title_ranks_first_and_says_why(onet_engine: Engine) -> None:
    candidates = _index(onet_engine).candidates("Sr. Software Engineer II")
    best = candidates[0]
    assert (best.code, best.exact, best.matched_on, best.matched_text) == (
        "15-1252.00",
        True,
        "alternate_title",
        "Software Engineer",
    )
    assert best.rank == 1 and best.title == "Software Developers" and best.description


def test_exact_match_on_occupation_title_in_other_word_order(onet_engine: Engine) -> None:
    best = _index(onet_engine).candidates("Restaurant Cook")[0]
    assert best.code == "35-2014.00" and best.exact


def test_abbreviation_reaches_the_occupation(onet_engine: Engine) -> None:
    best = _index(onet_engine).candidates("RN - Nights")[0]
    assert best.code == "29-1141.00" and best.exact


def test_partial_match_is_ranked_and_explained(onet_engine: Engine) -> None:
    candidates = _index(onet_engine).candidates("Night Shift Truck Driver Trainer")
    assert candidates[0].code == "53-3032.00"
    assert not candidates[0].exact
    assert candidates[0].matched_on in ("alternate_title", "title", "reported_title")
    assert [c.rank for c in candidates] == list(range(1, len(candidates) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(candidates))


def test_description_and_tasks_find_occupations_titles_miss(onet_engine: Engine) -> None:
    candidates = _index(onet_engine).candidates("Audit findings")
    assert candidates[0].code == "13-2011.00"


def test_k_limits_and_occupation_lookup(onet_engine: Engine) -> None:
    index = _index(onet_engine)
    assert len(index.candidates("nurse", k=1)) == 1
    assert index.occupation("29-1141.00")[0] == "Registered Nurses"
    assert index.occupation("99-9999.99") is None
    assert index.candidates("") == [] and index.candidates("12345") == []


def test_index_is_cached_per_release_and_on_disk(onet_engine: Engine) -> None:
    from jobforge.config import get_settings
    from jobforge.retrieval.index import clear_index_cache

    with session_factory(onet_engine)() as session:
        first = get_candidate_index(session)
        assert get_candidate_index(session) is first
        cached = list((get_settings().data_dir / "index_cache").glob("*"))
        assert [path.suffix for path in cached] == [".npz"]
        clear_index_cache()  # as in a new process: the index comes back from disk, same answers
        again = get_candidate_index(session)
        assert again is not first and again.release_id == first.release_id
        for title in ("nurse", "Sr. Software Engineer II", "Head of Cooking", "AP Clerk"):
            assert [c.to_dict() for c in again.candidates(title)] == [c.to_dict() for c in first.candidates(title)]


def test_the_disk_cache_holds_no_pickle_and_older_caches_are_rebuilt(onet_engine: Engine) -> None:
    """The cache is read with allow_pickle=False; a file written by older code (a pickle, another
    format key) is not read but rebuilt and replaced."""
    import numpy as np

    from jobforge.config import get_settings
    from jobforge.retrieval.index import CandidateIndex, clear_index_cache

    with session_factory(onet_engine)() as session:
        get_candidate_index(session)
        (path,) = (get_settings().data_dir / "index_cache").glob("*.npz")
        with np.load(path, allow_pickle=False) as data:  # raises if anything in it needs pickle
            assert all(data[name].dtype != object for name in data.files)
        path.write_bytes(b"\x80\x05 an old pickle")  # what older code left under this name
        assert CandidateIndex.load(path) is None
        old = path.with_name(path.name.replace(".npz", ".pkl"))
        old.write_bytes(b"\x80\x05 an old pickle cache")
        clear_index_cache()
        rebuilt = get_candidate_index(session)
        assert rebuilt.candidates("Registered Nurse")[0].code == "29-1141.00"
        assert CandidateIndex.load(path) is not None and not old.exists()


def test_reloading_a_release_in_the_same_process_serves_its_new_content(onet_engine: Engine, tmp_path) -> None:
    from onet_fixture import ALTERNATE_TITLES, write_release

    from jobforge.onet.loader import load_release

    assert not any(c.exact for c in _index(onet_engine).candidates("Pastry Wizard"))
    extra = "".join(f"{code}\t{title}\t{short or 'n/a'}\t08\r\n" for code, title, short in ALTERNATE_TITLES)
    release = write_release(
        tmp_path,
        replace={
            "Alternate Titles.txt": "O*NET-SOC Code\tAlternate Title\tShort Title\tSource(s)\r\n"
            + extra
            + "35-2014.00\tPastry Wizard\tn/a\t08\r\n"
        },
    )
    load_release(onet_engine, release)  # same version: same release id, new loaded_at
    best = _index(onet_engine).candidates("Pastry Wizard")[0]
    assert (best.code, best.exact) == ("35-2014.00", True)


@pytest.mark.parametrize("title", ["x" * 500, "🙂 chef 🙂", "Инженер-программист", "####", "a" * 40 + " cook"])
def test_odd_titles_do_not_break_retrieval(onet_engine: Engine, title: str) -> None:
    candidates = _index(onet_engine).candidates(title)
    assert isinstance(candidates, list)
    if "cook" in title:
        assert candidates[0].code == "35-2014.00"


def test_lower_ranks_are_filled_with_related_occupations(onet_engine: Engine) -> None:
    from dataclasses import replace

    with session_factory(onet_engine)() as session:
        index = CandidateIndex.build(session)
    index.weights = replace(index.weights, related_from=1)
    candidates = index.candidates("Java Developer")
    assert candidates[0].code == "15-1252.00"
    related = {c.code: c for c in candidates[1:]}
    assert related["13-2011.00"].matched_on == "related_occupation"
    assert related["13-2011.00"].matched_text == "related to 15-1252.00 Software Developers"


def test_lower_ranks_add_soc_codes_not_yet_listed(onet_engine: Engine) -> None:
    """Past the first ranks a sibling of a listed occupation (same 6-digit SOC) gives way to other codes."""
    from dataclasses import replace

    with session_factory(onet_engine)() as session:
        index = CandidateIndex.build(session)
    index.weights = replace(index.weights, related_from=1, distinct_tail=False)
    assert "29-1141.01" in [c.code for c in index.candidates("Registered Nurse")]
    index.weights = replace(index.weights, distinct_tail=True)
    codes = [c.code for c in index.candidates("Registered Nurse")]
    assert codes[0] == "29-1141.00" and "29-1141.01" not in codes
    assert len({code[:7] for code in codes}) == len(codes)


@pytest.mark.parametrize(
    ("title", "variants"),
    [
        ("Financial and Investment Analysts", {"Financial Analysts", "Investment Analysts"}),
        ("Appraisers and Assessors of Real Estate", {"Appraisers of Real Estate", "Assessors of Real Estate"}),
        (
            "First-Line Supervisors of Landscaping, Lawn Service, and Groundskeeping Workers",
            {
                "First-Line Supervisors of Landscaping Workers",
                "First-Line Supervisors of Lawn Service Workers",
                "First-Line Supervisors of Groundskeeping Workers",
            },
        ),
        ("Cooks, Restaurant", set()),
    ],
)
def test_occupation_title_parts_keep_their_side_of_of(title: str, variants: set[str]) -> None:
    """A supervisors' title never yields the bare workers' title ("Lawn Service Workers") as an exact match."""
    assert set(title_variants(title)) == variants


@pytest.mark.parametrize(
    ("title", "forms"),
    [
        ("MLS (Medical Laboratory Scientist)", ["MLS", "Medical Laboratory Scientist"]),
        ("Food Quality Technician (Food Quality Tech)", ["Food Quality Technician", "Food Quality Tech"]),
        ("Engineer (Software)", []),  # a qualifier, not another spelling
        ("Software Engineer", []),
    ],
)
def test_bracketed_onet_titles_are_matched_by_either_spelling(title: str, forms: list[str]) -> None:
    assert bracketed_forms(title) == forms
