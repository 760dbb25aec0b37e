"""A realistic roles spreadsheet built from the release's own titles with the noise real HR files have.

Titles come from the tiny release's occupation, alternate and reported titles, with seniority words,
locations, requisition codes and shift notes added; each unique role appears on 1–4 rows (one per
position); job families follow the occupation; an Education column has gaps; a person-level "Years
Experience" column differs between the rows of a role and is written as people write it ("6.50", "0.5").
"""

from __future__ import annotations

import csv
import io
import random

from jobforge.retrieval.normalize import title_key
from tests.onet_fixture import ALTERNATE_TITLES, EDUCATION_LEVELS, EDUCATION_MODE, OCCUPATIONS, REPORTED_TITLES

FAMILIES = {
    "11": "Executive",
    "13": "Finance",
    "15": "Technology",
    "29": "Clinical",
    "35": "Hospitality",
    "43": "Customer Service",
    "53": "Logistics",
}
SENIORITY = ["", "Senior ", "Junior ", "Lead ", "Principal ", "Trainee ", "Assistant ", "Head ", "Chief ", "Deputy "]
SUFFIXES = ["", " II", " III", " - London", " (Berlin)", " / Nights", " - Remote", " (Part-time)", " Grade 4"]
DEPARTMENTS = ["North", "South", "Central", "Head Office", "Region 2"]
EDUCATION = {level: text for level, text in EDUCATION_LEVELS}
YEARS = ["1", "2", "3", "3", "6.50", "0.5", "12", ""]
JUNK = ["Xylophone Tuning Specialist", "Chief Happiness Wizard", "Ninja Rockstar Guru", "Temp Cover - see notes"]
# Spreadsheet text is data: this must show as text in the grid and the panel, never run.
HOSTILE = '<img src=x onerror="window.__xss=1">Summer **Intern**'
JUNK.append(HOSTILE)


def base_titles() -> list[tuple[str, str]]:
    """(title, O*NET code) pairs the noise is added to."""
    titles = [(title, code) for code, title, _ in OCCUPATIONS]
    titles += [(title, code) for code, title, _ in ALTERNATE_TITLES]
    titles += [(title, code) for code, title, _ in REPORTED_TITLES]
    return titles


def build_roles(count: int = 300, seed: int = 7) -> list[dict[str, str]]:
    """Rows of a spreadsheet whose titles normalise to exactly ``count`` unique roles."""
    rng = random.Random(seed)
    years = random.Random(seed + 1)  # its own generator: the titles and families stay as they were
    chosen: dict[str, tuple[str, str]] = {}
    for junk in JUNK:
        chosen[title_key(junk)] = (junk, "")
    bases = base_titles()
    while len(chosen) < count:
        title, code = rng.choice(bases)
        noisy = f"{rng.choice(SENIORITY)}{title}{rng.choice(SUFFIXES)}"
        if rng.random() < 0.15:
            noisy = noisy.upper()
        key = title_key(noisy)
        if key and key not in chosen:
            chosen[key] = (noisy, code)
    rows: list[dict[str, str]] = []
    employee = 1000
    for title, code in chosen.values():
        family = FAMILIES.get(code[:2], "Other")
        education = EDUCATION.get(EDUCATION_MODE.get(code, 0), "")
        for _ in range(rng.randint(1, 4)):
            employee += 1
            rows.append(
                {
                    "Employee ID": f"E{employee}",
                    "Job Title": title,
                    "Job Family": family,
                    "Department": rng.choice(DEPARTMENTS),
                    "Education": education if rng.random() > 0.4 else "",
                    "Years Experience": years.choice(YEARS),
                }
            )
    rng.shuffle(rows)
    return rows


def roles_csv(count: int = 300) -> bytes:
    rows = build_roles(count)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
