"""A tiny O*NET release in the official text layout, written by the tests themselves.

Eight occupations; 29-1141.01 (Acute Care Nurses) deliberately has no ratings, so it must inherit
from its parent 29-1141.00. ``layout="30"`` writes the 30.x layout (Title only in Occupation
Data); ``layout="legacy"`` adds the Title column to every file, as older releases did.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

OCCUPATIONS = [
    ("11-1011.00", "Chief Executives", "Determine and formulate policies and provide overall direction of companies."),
    ("13-2011.00", "Accountants and Auditors", "Examine, analyze, and interpret accounting records."),
    ("15-1252.00", "Software Developers", "Research, design, and develop computer and network software."),
    (
        "29-1141.00",
        "Registered Nurses",
        "Assess patient health problems and needs, develop and implement nursing care plans.",
    ),
    ("29-1141.01", "Acute Care Nurses", "Provide advanced nursing care for patients with acute conditions."),
    (
        "35-2014.00",
        "Cooks, Restaurant",
        "Prepare, season, and cook dishes such as soups, meats, vegetables, or desserts in restaurants.",
    ),
    (
        "43-4051.00",
        "Customer Service Representatives",
        "Interact with customers to provide information in response to inquiries.",
    ),
    ("53-3032.00", "Heavy and Tractor-Trailer Truck Drivers", "Drive a tractor-trailer combination or a truck."),
]
TITLES = dict((code, title) for code, title, _ in OCCUPATIONS)
RATED = [code for code, _, _ in OCCUPATIONS if code != "29-1141.01"]

ALTERNATE_TITLES = [
    ("11-1011.00", "CEO", "CEO"),
    ("11-1011.00", "Chief Executive Officer", "CEO"),
    ("11-1011.00", "President", None),
    ("13-2011.00", "Staff Accountant", None),
    ("13-2011.00", "Certified Public Accountant", "CPA"),
    ("13-2011.00", "Internal Auditor", None),
    ("15-1252.00", "Software Engineer", None),
    ("15-1252.00", "Application Developer", None),
    ("15-1252.00", "Java Developer", None),
    ("29-1141.00", "Registered Nurse", "RN"),
    ("29-1141.00", "Staff Nurse", None),
    ("29-1141.01", "Intensive Care Unit Nurse", "ICU Nurse"),
    ("29-1141.01", "Critical Care Nurse", None),
    ("35-2014.00", "Line Cook", None),
    ("35-2014.00", "Restaurant Cook", None),
    ("43-4051.00", "Customer Service Representative", "CSR"),
    ("43-4051.00", "Call Center Agent", None),
    ("53-3032.00", "Truck Driver", None),
    ("53-3032.00", "Commercial Driver", "CDL Driver"),
]
REPORTED_TITLES = [
    ("11-1011.00", "Chief Executive Officer (CEO)", "Y"),
    ("15-1252.00", "Software Developer", "Y"),
    ("29-1141.00", "Charge Nurse", "Y"),
    ("35-2014.00", "Cook", "Y"),
    ("43-4051.00", "Customer Service Agent", "N"),
    ("53-3032.00", "Over the Road Driver", "Y"),
]
TASKS = [
    ("11-1011.00", 1, "Direct or coordinate an organization's financial or budget activities.", "Core", 95),
    ("13-2011.00", 2, "Prepare detailed reports on audit findings.", "Core", 80),
    ("13-2011.00", 3, "Examine and evaluate financial and information systems.", "Supplemental", 40),
    ("15-1252.00", 4, "Analyze user needs and software requirements to determine feasibility of design.", "Core", 70),
    ("15-1252.00", 5, "Modify existing software to correct errors or improve performance.", "Core", 65),
    ("29-1141.00", 6, "Monitor, record, and report symptoms or changes in patients' conditions.", "Core", 120),
    (
        "29-1141.01",
        7,
        "Assess urgent and emergent health conditions using physiologically sensitive tools.",
        "Core",
        30,
    ),
    ("35-2014.00", 8, "Season and cook food according to recipes or personal judgment and experience.", "Core", 50),
    ("43-4051.00", 9, "Confer with customers by telephone or in person to provide information.", "Core", 88),
    (
        "53-3032.00",
        10,
        "Check vehicles to ensure that mechanical, safety, and emergency equipment is in good working order.",
        "Core",
        77,
    ),
]
JOB_ZONES = {
    "11-1011.00": 5,
    "13-2011.00": 4,
    "15-1252.00": 4,
    "29-1141.00": 3,
    "35-2014.00": 2,
    "43-4051.00": 2,
    "53-3032.00": 2,
}
JOB_ZONE_REFERENCE = [
    (1, "Job Zone One: Little or No Preparation Needed"),
    (2, "Job Zone Two: Some Preparation Needed"),
    (3, "Job Zone Three: Medium Preparation Needed"),
    (4, "Job Zone Four: Considerable Preparation Needed"),
    (5, "Job Zone Five: Extensive Preparation Needed"),
]
SKILLS = [("2.A.1.a", "Reading Comprehension"), ("2.A.2.a", "Critical Thinking"), ("2.B.3.e", "Programming")]
KNOWLEDGE = [("2.C.1.a", "Administration and Management"), ("2.C.3.a", "Computers and Electronics")]
WORK_STYLES = [("1.D.1.a", "Innovation"), ("1.D.2.a", "Dependability")]
EDUCATION_LEVELS = [
    (1, "Less than a High School Diploma"),
    (2, "High School Diploma - or the equivalent (for example, GED)"),
    (6, "Bachelor's Degree"),
    (8, "Master's Degree"),
]
# Required level of education: most common category per occupation.
EDUCATION_MODE = {
    "11-1011.00": 8,
    "13-2011.00": 6,
    "15-1252.00": 6,
    "29-1141.00": 6,
    "35-2014.00": 2,
    "43-4051.00": 2,
    "53-3032.00": 2,
}
TECHNOLOGY = [
    ("15-1252.00", "Python", "Y"),
    ("15-1252.00", "Git", "Y"),
    ("13-2011.00", "Microsoft Excel", "Y"),
    ("29-1141.00", "Epic Systems", "Y"),
]


def _line(cells: list[object]) -> str:
    return "\t".join("n/a" if cell is None else str(cell) for cell in cells)


def release_files(layout: str = "30") -> dict[str, str]:
    """File name -> content (CRLF, tab-separated) of the tiny release."""
    legacy = layout == "legacy"

    def table(header: list[str], rows: list[list[object]], code_first: bool = True) -> str:
        if legacy and code_first:
            header = [header[0], "Title", *header[1:]]
            rows = [[row[0], TITLES[str(row[0])], *row[1:]] for row in rows]
        return "\r\n".join([_line(header)] + [_line(row) for row in rows]) + "\r\n"

    files: dict[str, str] = {}
    files["Occupation Data.txt"] = (
        "\r\n".join([_line(["O*NET-SOC Code", "Title", "Description"])] + [_line(list(row)) for row in OCCUPATIONS])
        + "\r\n"
    )
    files["Alternate Titles.txt"] = table(
        ["O*NET-SOC Code", "Alternate Title", "Short Title", "Source(s)"],
        [[code, title, short, "08"] for code, title, short in ALTERNATE_TITLES],
    )
    files["Sample of Reported Titles.txt"] = table(
        ["O*NET-SOC Code", "Reported Job Title", "Shown in My Next Move"], [list(row) for row in REPORTED_TITLES]
    )
    files["Task Statements.txt"] = table(
        ["O*NET-SOC Code", "Task ID", "Task", "Task Type", "Incumbents Responding", "Date", "Domain Source"],
        [[code, tid, task, kind, n, "08/2023", "Incumbent"] for code, tid, task, kind, n in TASKS],
    )
    files["Job Zones.txt"] = table(
        ["O*NET-SOC Code", "Job Zone", "Date", "Domain Source"],
        [[code, zone, "08/2023", "Analyst"] for code, zone in JOB_ZONES.items()],
    )
    files["Job Zone Reference.txt"] = table(
        ["Job Zone", "Name", "Experience", "Education", "Job Training", "Examples", "SVP Range"],
        [
            [
                zone,
                name,
                f"Experience for zone {zone}.",
                f"Education for zone {zone}.",
                "Training.",
                "Examples.",
                "(4.0 to < 6.0)",
            ]
            for zone, name in JOB_ZONE_REFERENCE
        ],
        code_first=False,
    )
    files["Content Model Reference.txt"] = table(
        ["Element ID", "Element Name", "Description"],
        [[eid, name, f"{name}."] for eid, name in SKILLS + KNOWLEDGE + WORK_STYLES]
        + [["2.D.1", "Required Level of Education", "Education."]],
        code_first=False,
    )
    files["Education, Training, and Experience Categories.txt"] = table(
        ["Element ID", "Element Name", "Scale ID", "Category", "Category Description"],
        [["2.D.1", "Required Level of Education", "RL", cat, text] for cat, text in EDUCATION_LEVELS],
        code_first=False,
    )
    rating_header = [
        "O*NET-SOC Code",
        "Element ID",
        "Element Name",
        "Scale ID",
        "Data Value",
        "N",
        "Standard Error",
        "Lower CI Bound",
        "Upper CI Bound",
        "Recommend Suppress",
        "Not Relevant",
        "Date",
        "Domain Source",
    ]

    def ratings(elements: list[tuple[str, str]]) -> list[list[object]]:
        rows: list[list[object]] = []
        for i, code in enumerate(RATED):
            for j, (eid, name) in enumerate(elements):
                importance = round(1.5 + ((i + 2 * j) % 7) * 0.5, 2)
                if code == "15-1252.00" and name == "Programming":
                    importance = 4.75
                rows.append(
                    [code, eid, name, "IM", importance, 8, "0.1", "n/a", "n/a", "N", "n/a", "08/2023", "Analyst"]
                )
                rows.append(
                    [code, eid, name, "LV", importance + 1, 8, "0.1", "n/a", "n/a", "N", "N", "08/2023", "Analyst"]
                )
        return rows

    files["Skills.txt"] = table(rating_header, ratings(SKILLS))
    files["Knowledge.txt"] = table(rating_header, ratings(KNOWLEDGE))
    files["Work Styles.txt"] = table(
        ["O*NET-SOC Code", "Element ID", "Element Name", "Scale ID", "Data Value", "Date", "Domain Source"],
        [
            [code, eid, name, "WI", 1.5 + k * 0.5, "12/2025", "AI/Expert"]
            for code in RATED
            for k, (eid, name) in enumerate(WORK_STYLES)
        ],
    )
    files["Education, Training, and Experience.txt"] = table(
        [
            "O*NET-SOC Code",
            "Element ID",
            "Element Name",
            "Scale ID",
            "Category",
            "Data Value",
            "N",
            "Standard Error",
            "Lower CI Bound",
            "Upper CI Bound",
            "Recommend Suppress",
            "Date",
            "Domain Source",
        ],
        [
            [
                code,
                "2.D.1",
                "Required Level of Education",
                "RL",
                cat,
                70.0 if cat == EDUCATION_MODE[code] else 10.0,
                20,
                "1.0",
                "n/a",
                "n/a",
                "N",
                "08/2023",
                "Incumbent",
            ]
            for code in RATED
            for cat, _ in EDUCATION_LEVELS
        ],
    )
    files["Technology Skills.txt"] = table(
        ["O*NET-SOC Code", "Example", "Commodity Code", "Commodity Title", "Hot Technology", "In Demand"],
        [[code, example, "43232202", "Software", hot, "N"] for code, example, hot in TECHNOLOGY],
    )
    files["Related Occupations.txt"] = table(
        ["O*NET-SOC Code", "Related O*NET-SOC Code", "Relatedness Tier", "Index"],
        [["29-1141.01", "29-1141.00", "Primary-Short", 1], ["15-1252.00", "13-2011.00", "Supplemental", 1]],
    )
    files["Read Me.txt"] = "O*NET Tiny Test Database\r\n"
    return files


def write_release(
    directory: Path,
    version: str = "29_9",
    layout: str = "30",
    as_zip: bool = True,
    omit: tuple[str, ...] = (),
    replace: dict[str, str] | None = None,
) -> Path:
    """Write the tiny release as ``db_{version}_text.zip`` (or a folder) and return its path."""
    files = release_files(layout)
    for name in omit:
        files.pop(name, None)
    files.update(replace or {})
    folder_name = f"db_{version}_text"
    if as_zip:
        path = directory / f"{folder_name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(f"{folder_name}/{name}", content.encode("utf-8"))
        return path
    folder = directory / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content.encode("utf-8"))
    return folder
