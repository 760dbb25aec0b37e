"""Title normalisation: what de-duplicates, what retrieval matches on."""

from __future__ import annotations

import pytest

from jobforge.retrieval.normalize import is_codable, is_reworded, search_form, search_text, title_key


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        (["Senior Accountant", "senior  accountant", "Sr. Accountant", "SR ACCOUNTANT!"], "senior accountant"),
        (["Registered Nurse", "RN", "R.N.", "RN - Nights", "Registered Nurse (Remote) PRN"], "registered nurse"),
        (["Admin Asst", "Administrative Assistant", "admin. assistant"], "administrative assistant"),
        (
            ["Line Cook (REQ-12345)", "Req #4411 Line Cook", "Line Cook - Part-Time", "Line Cook, Full time"],
            "line cook",
        ),
        (["IT Mgr", "Information Technology Manager"], "information technology manager"),
        (["VP, Sales", "Vice President - Sales"], "vice president sales"),
        (["Café Manager", "Cafe Manager"], "cafe manager"),
    ],
)
def test_title_key_merges_spelling_variants(variants: list[str], key: str) -> None:
    assert {title_key(v) for v in variants} == {key}


def test_title_key_keeps_seniority_apart() -> None:
    keys = {
        title_key(t)
        for t in ["Accountant", "Senior Accountant", "Junior Accountant", "Accountant II", "Lead Accountant"]
    }
    assert len(keys) == 5


def test_search_form_drops_seniority_levels_and_noise() -> None:
    for title in [
        "Sr. Software Engineer II",
        "Software Engineer III",
        "Lead Software Engineer - Remote",
        "Level 2 Software Engineer",
    ]:
        assert search_text(title) == "software engineer"
    # A seniority word that is the whole point of the title stays.
    assert search_text("Principal") == "principal"
    assert search_text("Principal Engineer") == "engineer"


def test_word_orders_share_one_exact_key_and_head_noun() -> None:
    assert search_form("Cooks, Restaurant").bag == search_form("Restaurant Cook").bag
    assert search_form("Director of Nursing").bag == search_form("Nursing Director").bag
    assert search_form("Director of Nursing").head == "director"
    assert search_form("Engineer, Software").head == "engineer"
    assert search_form("Software Engineer - Java").head == "engineer"


@pytest.mark.parametrize("title", ["", "   ", "12345", "#4411", "🙂🙂", "(REQ-12345)"])
def test_titles_without_words_are_not_codable_but_keep_distinct_keys(title: str) -> None:
    assert not is_codable(title)
    assert title_key(title) == title_key(title)  # deterministic, no crash


def test_number_only_titles_do_not_merge() -> None:
    assert title_key("12345") != title_key("67890")


def test_non_latin_and_long_titles_are_kept() -> None:
    assert title_key("Инженер") == "инженер"
    assert is_codable("Инженер")
    long_title = "Senior " + "very " * 100 + "long engineer"
    assert search_form(long_title).head == "engineer"


@pytest.mark.parametrize(
    ("title", "text", "head", "reworded"),
    [
        ("Head of Data Science", "director data science", "director", True),  # not a head cook
        ("Landscape Labor", "landscape laborer", "laborer", True),  # the work names the worker
        ("Child Labor Inspector", "child labor inspector", "inspector", False),  # only as the head noun
        ("Live-in Nanny", "live nanny", "nanny", False),  # "-in" does not start a tail
        ("Director of Nursing", "director nursing", "director", False),
    ],
)
def test_retrieval_rewords_some_titles_but_the_key_keeps_them(title: str, text: str, head: str, reworded: bool) -> None:
    form = search_form(title)
    assert (form.text, form.head, is_reworded(title)) == (text, head, reworded)
    assert title_key("Head of Data Science") == "head of data science"


def test_a_practitioner_is_found_by_the_name_of_the_field() -> None:
    """"Fellow in Neurology" and "Neurologists" share a word; "Psychiatry Resident" and "Psychiatrists" too."""
    assert "neurology" in search_form("Neurologists").tokens
    assert set(search_form("Psychiatrist").tokens) <= set(search_form("Psychiatry Resident").tokens)


def test_lab_is_laboratory() -> None:
    assert search_text("Medical Lab Scientist") == search_text("Medical Laboratory Scientist")
