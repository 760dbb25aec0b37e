"""Inter-coder agreement per digit level: shares and Cohen's κ checked against figures worked out by hand."""

from __future__ import annotations

import pytest

from jobforge.review.agreement import LEVELS, NOT_DEFINED, agreement_at, agreement_table

# (first decision, blind second opinion); None is "cannot code".
PAIRS = [
    ("15-1252.00", "15-1252.00"),  # agree everywhere
    ("15-1211.00", "15-1211.01"),  # same SOC detailed occupation, another O*NET-SOC occupation
    ("29-1141.00", "29-1141.00"),  # agree everywhere
    ("29-1141.00", "29-2061.00"),  # same major group only
    ("43-4051.00", "41-2031.00"),  # nothing in common
    ("13-2011.00", None),  # the second coder could not code it
]


def test_levels_compare_the_documented_prefixes() -> None:
    code = "15-1252.00"
    assert [(level.digits, level.prefix(code)) for level in LEVELS] == [
        (2, "15"),
        (3, "15-1"),
        (6, "15-1252"),
        (8, "15-1252.00"),
    ]
    assert [level.example for level in LEVELS] == ["15", "15-1", "15-1252", "15-1252.00"]


def test_shares_and_kappa_match_the_hand_computation() -> None:
    # κ = (p_o - p_e) / (1 - p_e), p_e = Σ_c (first's count of c × second's count of c) / n², n = 6.
    # 2 digits: first 15,15,29,29,43,13; second 15,15,29,29,41,∅. p_o = 4/6; p_e = (2·2 + 2·2)/36 = 2/9;
    #           κ = (2/3 − 2/9)/(7/9) = 4/7.
    # 3 digits: first 15-1,15-1,29-1,29-1,43-4,13-2; second 15-1,15-1,29-1,29-2,41-2,∅. p_o = 3/6;
    #           p_e = (2·2 + 2·1)/36 = 1/6; κ = (1/2 − 1/6)/(5/6) = 2/5.
    # 6 digits: first 15-1252,15-1211,29-1141,29-1141,43-4051,13-2011; second 15-1252,15-1211,29-1141,
    #           29-2061,41-2031,∅. p_o = 3/6; p_e = (1 + 1 + 2·1)/36 = 1/9; κ = (1/2 − 1/9)/(8/9) = 7/16.
    # 8 digits: only pairs 1 and 3 agree: p_o = 2/6; p_e = (1 + 2·1)/36 = 1/12; κ = (1/3 − 1/12)/(11/12) = 3/11.
    table = agreement_table(PAIRS)
    assert [(row.level.digits, row.compared, row.agreeing) for row in table] == [
        (2, 6, 4),
        (3, 6, 3),
        (6, 6, 3),
        (8, 6, 2),
    ]
    assert [row.share for row in table] == pytest.approx([4 / 6, 3 / 6, 3 / 6, 2 / 6])
    assert [row.kappa for row in table] == pytest.approx([4 / 7, 2 / 5, 7 / 16, 3 / 11])
    assert [(row.share_text, row.kappa_text) for row in table] == [
        ("67%", "0.57"),
        ("50%", "0.40"),
        ("50%", "0.44"),
        ("33%", "0.27"),
    ]


def test_no_second_opinion_yet_is_not_defined_rather_than_nan() -> None:
    for row in agreement_table([]):
        assert (row.compared, row.share, row.kappa) == (0, None, None)
        assert (row.share_text, row.kappa_text) == (NOT_DEFINED, NOT_DEFINED)
        assert row.note == "no second opinions yet"


def test_one_category_for_every_role_leaves_kappa_not_defined() -> None:
    # Both coders put all three roles in 15-1252.00: full agreement, but chance agreement is 1 too.
    table = agreement_table([("15-1252.00", "15-1252.00")] * 3)
    assert [row.share for row in table] == [1.0] * 4
    assert [row.kappa_text for row in table] == [NOT_DEFINED] * 4
    assert table[-1].note == "both coders put every role in 15-1252.00"


def test_one_category_at_a_coarse_level_only() -> None:
    # All in major group 15, but two detailed occupations: κ undefined at 2 and 3 digits, 1 at 6 and 8.
    pairs = [("15-1252.00", "15-1252.00"), ("15-1211.00", "15-1211.00")]
    table = agreement_table(pairs)
    assert [row.kappa for row in table] == [None, None, pytest.approx(1.0), pytest.approx(1.0)]


def test_coders_who_never_agree_in_different_categories_get_kappa_zero() -> None:
    # Chance agreement is 0 (no category used by both), observed agreement 0: κ = 0, defined.
    row = agreement_at(LEVELS[0], [("15-1252.00", "29-1141.00"), ("15-1211.00", "29-1141.01")])
    assert (row.share, row.kappa) == (0.0, pytest.approx(0.0))
