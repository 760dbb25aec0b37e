"""Issue 10, kinds 1-3 at the level of normalisation: which words are part of a title, how
abbreviations are read, and what a role key keeps or drops. Each case is something an analyst
would notice (a false exact match, two roles merged, one role split)."""

from __future__ import annotations

import pytest

from jobforge.retrieval.normalize import READINGS, search_form, title_key
from jobforge.retrieval.readings import read_title

# ----------------------------------------------------------------------------- kind 1


@pytest.mark.parametrize(
    ("title", "not_the_same_as"),
    [
        ("Physician", "Physician Associate (PA)"),  # C01: the doctor is not a PA
        ("Physician", "Physician Associate"),
        ("Member of Technical Staff", "Member"),  # C03
        ("Tech Lead", "Technician"),  # C04
        ("Physicians, All Other", "Physicians"),  # C10
        ("Designers, All Other", "Designer"),
        ("Sales Associate", "Sales"),
        ("Research Associate", "Researcher"),
        ("Kitchen Staff", "Kitchen"),
        ("Team Lead", "Team"),
        ("Assistant Principal", "Assistant"),
        ("Research Fellow", "Research"),
        ("Electrician Apprentice", "Electrician"),
    ],
)
def test_a_word_that_is_part_of_the_title_is_not_dropped(title: str, not_the_same_as: str) -> None:
    assert search_form(title).bag != search_form(not_the_same_as).bag


@pytest.mark.parametrize(
    ("title", "same_as"),
    [
        ("Lead Software Engineer", "Software Engineer"),
        ("Principal Engineer", "Engineer"),
        ("Staff Accountant", "Accountant"),
        ("Associate Professor", "Professor"),
        ("Senior Staff Engineer II", "Engineer"),
        ("Software Engineer Lead", "Software Engineer"),  # a trailing lead ranks a noun like "engineer"
        ("Senior Member of Technical Staff", "Member of Technical Staff"),
    ],
)
def test_a_rank_word_in_front_of_its_noun_is_seniority(title: str, same_as: str) -> None:
    assert search_form(title).bag == search_form(same_as).bag
    assert title_key(title) != title_key(same_as)  # but the role key keeps seniority apart


def test_head_nouns_of_rank_words() -> None:
    assert search_form("Physician Associate").head == "associate"
    assert search_form("Tech Lead").head == "leader"  # the lead of a team is its leader
    assert search_form("Principal").head == "principal"


# ----------------------------------------------------------------------------- kind 2


def _cases_for_every_reading() -> list[tuple[str, str, str, str]]:
    """(term, reading, title, cue) for each reading of the abbreviation data: a title placing the
    term where the reading fits and a context word only that reading has among its rivals."""
    cases = []
    for term, readings in READINGS.items():
        for reading in readings:
            title = f"{term} widget" if reading.position == "modifier" else f"widget {term}"
            if len(readings) == 1:
                cases.append((term, reading.reading, title, ""))
                continue
            position = reading.position or "head"
            rivals = [r for r in readings if r is not reading and r.position in ("", position)]
            unique = sorted(reading.cues - set().union(*(r.cues for r in rivals))) if rivals else [""]
            if reading.cues or not rivals:
                cases.append((term, reading.reading, title, unique[0] if unique else "?"))
    return cases


@pytest.mark.parametrize(("term", "reading", "title", "cue"), _cases_for_every_reading())
def test_every_abbreviation_reading_is_reached(term: str, reading: str, title: str, cue: str) -> None:
    """Each row of data/abbreviations.csv: the reading is what the title or its context selects."""
    assert cue != "?", f"{term} = {reading}: no cue word of its own among its rivals"
    context = {"department": cue} if cue else None
    forms = [r.form.text for r in read_title(title, context)]
    expected = search_form(f"widget {reading}" if not title.startswith(term) else f"{reading} widget").text
    assert expected in forms, (forms, expected)
    if len(READINGS[term]) > 1:
        assert len(forms) == 1  # decided: one reading searched, not all


@pytest.mark.parametrize(
    ("title", "context", "reading"),
    [
        ("AP Teacher", {"department": "High School"}, "advanced placement teacher"),  # C05
        ("AP Biology Teacher", None, "advanced placement biology teacher"),
        ("AP Clerk", {"department": "Finance"}, "account payable clerk"),
        ("AP Specialist", {"department": "Finance"}, "account payable specialist"),
        ("AP Specialist", {"job_family": "Accounting"}, "account payable specialist"),
        ("SecOps Analyst", None, "security operation analyst"),  # C06
        ("Sec Ops Analyst", None, "security operation analyst"),
        ("Sec Analyst", {"department": "Cyber Security"}, "security analyst"),
        ("Sec", {"department": "Legal"}, "secretary"),
        ("Tech Lead", {"department": "Software Engineering"}, "lead software engineer"),  # C04
        ("Technical Lead", {"department": "Software Engineering"}, "lead software engineer"),
        ("Tech Lead", {"department": "Field Service"}, "lead technician"),
        ("Pharmacy Tech", None, "pharmacy technician"),
        ("Tech Support Specialist", None, "technical support specialist"),
        ("Prod Manager", {"department": "Manufacturing Plant"}, "production manager"),
        ("Prod Manager", {"job_family": "Digital Product"}, "product manager"),
        ("Business Dev Manager", None, "business development manager"),
        ("Software Dev", None, "software developer"),
        ("Shift Sup", None, "supervisor"),
        ("Loan Off", None, "loan officer"),
        ("Off Manager", None, "office manager"),
        ("OR Nurse", None, "operating room nurse"),
        ("ER Nurse", None, "emergency room nurse"),
        ("PM", {"department": "Construction"}, "project manager"),
        ("PM", {"department": "Property Management"}, "property manager"),
        ("PM Technician", None, "preventive maintenance technician"),
        ("SA", {"department": "Retail Store"}, "sale associate"),
        ("CS Rep", None, "customer service representative"),
        ("CS Teacher", None, "computer science teacher"),
        ("PA", {"department": "Orthopedic Surgery"}, "physician assistant"),
        ("PA", {"department": "Film Production"}, "production assistant"),
        ("HRBP", None, "human resource business partner"),
        ("SWE", None, "software engineer"),
        ("SRE", None, "site reliability engineer"),
        ("MTS", {"department": "Platform Engineering"}, "software engineer"),  # C03
        ("Member of Technical Staff", {"department": "Platform Engineering"}, "software engineer"),
        ("DevOps Engineer", None, "devops engineer"),
        ("FinOps Analyst", None, "cloud financial operation analyst"),
        ("RevOps Manager", None, "revenue operation manager"),
        ("System Admin", None, "system administrator"),
        ("Admin Assistant", None, "administrative assistant"),
        ("Mech Engineer", None, "mechanical engineer"),
        ("Maintenance Mech", None, "maintenance mechanic"),
        ("PT Aide", None, "physical therapist aide"),
        ("Cashier PT", None, "cashier"),
        ("A/P Clerk", None, "account payable clerk"),
        ("A&P Mechanic", None, "airframe powerplant mechanic"),
    ],
)
def test_abbreviations_are_read_from_the_title_and_the_context(title: str, context, reading: str) -> None:
    readings = read_title(title, context)
    assert [r.form.text for r in readings] == [search_form(reading).text]


@pytest.mark.parametrize("title", ["AP", "Sec Analyst", "Prod Manager", "PA", "Tech Analyst", "PM"])
def test_when_nothing_decides_every_reading_is_searched_and_labelled(title: str) -> None:
    readings = read_title(title, {"department": "Headquarters"})
    assert len(readings) >= 3  # the title as written and at least two readings
    assert all(r.via == "abbreviation" and not r.decided for r in readings)
    assert len({r.label for r in readings}) == len(readings)  # each says which reading it is


def test_a_reading_that_needs_a_cue_never_enters_alone() -> None:
    assert [r.form.text for r in read_title("Cook or Chef")] == ["cook chef"]  # "or" is not "operating room"


# ----------------------------------------------------------------------------- kind 3


@pytest.mark.parametrize(
    "titles",
    [
        ["C++ Developer", "C# Developer", "C Developer", "F# Developer", ".NET Developer", "Net Developer"],
        ["Node.js Developer", "Node Developer", "JS Developer"],
        ["3D Artist", "Artist", "2D Artist"],
        ["A/P Clerk", "A P Clerk"],
        ["K-12 Teacher", "K Teacher"],
        ["R&D Engineer", "RD Engineer", "Engineer"],
        ["Accountant", "Accountant II", "Senior Accountant"],
        ["Analyst 11", "Analyst 12"],  # a number that is not a store's stays
        ["Cook or Chef", "Cook"],
        ["Store Manager", "Store Manager Trainee"],
    ],
)
def test_distinct_roles_keep_distinct_keys(titles: list[str]) -> None:
    assert len({title_key(t) for t in titles}) == len(titles), {t: title_key(t) for t in titles}


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        (
            [
                "Store Manager - Store #123",
                "Store Manager - Dallas TX",
                "Store Manager - Austin, TX",
                "Store Mgr 127",
                "Store Manager",
                "Store Manager (Store 12)",
                "Store #45 Manager",
                "Store Manager - Location 7",
                "Store Manager, New York, NY",
                "Store Manager - Portland, OR",
                "Store Manager | Chicago IL",
                "Store Manager (Remote)",
                "Store Manager - Texas",
                "Store Manager - USA",
            ],
            "store manager",
        ),
        (
            [
                "Registered Nurse",
                "Registered Nurse - Night Shift",
                "Registered Nurse (Nights)",
                "Registered Nurse - 3x12",
                "Registered Nurse PRN",
                "Registered Nurse - Weekends",
                "Registered Nurse - Per Diem",
                "Registered Nurse (m/w/d)",
                "Registered Nurse (f/m/x)",
                "Registered Nurse (H/F)",
                "Registered Nurse m/f/d",
                "Registered Nurse (all genders)",
                "Registered Nurse (REQ-12345)",
                "Registered Nurse - Job ID 4411",
                "Registered Nurse R0012345",
                "Registered Nurse - Overnight",
                "Registered Nurse - On Call",
            ],
            "registered nurse",
        ),
        (["Cashier - 2nd Shift", "Cashier (Part-Time)", "Cashier - Swing Shift", "Cashier - Columbus, OH"], "cashier"),
        (["Lehrer/in", "Lehrer*in", "Lehrer:in", "Lehrer (m/w/d)"], "lehrer"),
    ],
)
def test_places_numbers_shifts_and_tags_do_not_split_a_role(variants: list[str], key: str) -> None:
    assert {v: title_key(v) for v in variants} == dict.fromkeys(variants, key)


def test_signs_that_make_a_word_survive_into_the_key() -> None:
    assert [title_key(t) for t in ["C++ Developer", "C# Developer", ".NET Developer", "Node.js Developer"]] == [
        "c++ developer",
        "c# developer",
        ".net developer",
        "node.js developer",
    ]
    assert title_key("A/P Clerk") == title_key("AP Clerk") == "accounts payable clerk"
    assert title_key("3D Modeler") == "3d modeler"


def test_accent_folding_never_makes_an_english_word() -> None:
    assert title_key("Bäcker") != title_key("Backer")
    assert search_form("Bäcker").bag != search_form("Backer").bag
    assert title_key("Müller") != title_key("Muller")
    assert title_key("Café Manager") == title_key("Cafe Manager")  # an English loanword still folds
