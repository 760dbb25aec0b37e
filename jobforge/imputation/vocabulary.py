"""One vocabulary per attribute, O*NET's where it has one, and values that contradict O*NET.

Education and experience attributes use O*NET's Education, Training, and Experience categories
(Required Level of Education ``2.D.1``/RL, 12 categories; Related Work Experience ``3.A.1``/RW,
11 categories) as their vocabulary, with the labels of the loaded release (the built-in labels of
O*NET 30.1 when the release lacks the table); job-zone attributes use the five job zones. A value
written in another vocabulary ("BSc", "3" in a "Years Experience" column) is shown as written and
mapped to a category only when the mapping is certain: one level named, one quantity with its unit.

A value contradicts the mapped occupation's O*NET profile when, for education and experience,
fewer than ``CONFLICT_SHARE`` of the occupation's incumbents report its category (O*NET rates
the share reporting each category), and for job zones when it is two or more zones away.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.db.models import OnetEducationCategory, OnetJobZone, OnetRating
from jobforge.imputation.profile import (
    EDUCATION_ELEMENT,
    EDUCATION_SCALE,
    EXPERIENCE,
    EXPERIENCE_ELEMENT,
    EXPERIENCE_SCALE,
    JOB_ZONE,
    TYPICAL_EDUCATION,
    describe_category,
    nearest_with_data,
)

CONFLICT_SHARE = 0.15  # a category reported by fewer incumbents than this contradicts the occupation
ZONE_DISTANCE = 2  # job zones this far apart contradict each other

# O*NET 30.1's labels (as ``describe_category`` writes them), used when a release lacks the table.
EDUCATION_LABELS = {
    1: "Less than a High School Diploma",
    2: "High School Diploma - or the equivalent",
    3: "Post-Secondary Certificate - awarded for training completed after high school",
    4: "Some College Courses",
    5: "Associate's Degree (or other 2-year degree)",
    6: "Bachelor's Degree",
    7: "Post-Baccalaureate Certificate",
    8: "Master's Degree",
    9: "Post-Master's Certificate",
    10: "First Professional Degree",
    11: "Doctoral Degree",
    12: "Post-Doctoral Training",
}
EXPERIENCE_LABELS = {
    1: "No related work experience",
    2: "Up to and including 1 month",
    3: "Over 1 month, up to and including 3 months",
    4: "Over 3 months, up to and including 6 months",
    5: "Over 6 months, up to and including 1 year",
    6: "Over 1 year, up to and including 2 years",
    7: "Over 2 years, up to and including 4 years",
    8: "Over 4 years, up to and including 6 years",
    9: "Over 6 years, up to and including 8 years",
    10: "Over 8 years, up to and including 10 years",
    11: "Over 10 years",
}
# Upper bound (months, inclusive) of each experience category after "None".
EXPERIENCE_UPPER_MONTHS = {2: 1, 3: 3, 4: 6, 5: 12, 6: 24, 7: 48, 8: 72, 9: 96, 10: 120}
ZONE_LABELS = {
    1: "Job Zone 1: Little or No Preparation Needed",
    2: "Job Zone 2: Some Preparation Needed",
    3: "Job Zone 3: Medium Preparation Needed",
    4: "Job Zone 4: Considerable Preparation Needed",
    5: "Job Zone 5: Extensive Preparation Needed",
}

# Education levels by the words that name them, most specific first (whole-word patterns).
_EDUCATION_WORDS: tuple[tuple[int, str], ...] = (
    (1, r"less than (a )?high school|no (high school )?diploma|did not finish high school"),
    (12, r"post[- ]?doc(toral)?"),
    (9, r"post[- ]?master'?s?"),
    (7, r"post[- ]?bacc(alaureate)?"),
    (3, r"post[- ]?secondary certificate|vocational (certificate|diploma)|trade certificate"),
    (11, r"doctoral|doctorate|ph\.? ?d|d\.?phil|ed\.? ?d"),
    (10, r"first professional|m\.d\.?|j\.d\.?|pharm\.? ?d|d\.d\.s|d\.v\.m"),
    (8, r"master'?s?|m\.?sc|m\.?b\.?a|m\.?s\.?n|m\.a\.|m\.s\."),
    (6, r"bachelor'?s?|baccalaureate|b\.?sc|b\.?s\.?n|b\.a\.|b\.s\.|4[- ]year degree|undergraduate degree"),
    (5, r"associate'?s?( degree)?|2[- ]year degree"),
    (4, r"some college"),
    (2, r"high school|h\.?s\.? diploma|ged|secondary school diploma"),
)
_EDUCATION_PATTERNS = [(level, re.compile(rf"(?<![\w]){words}(?![\w])")) for level, words in _EDUCATION_WORDS]
_QUANTITY = re.compile(r"^(?:about |approx\.? )?(\d+(?:\.\d+)?)\s*(years?|yrs?|months?|mos?)?$")
_NONE = {"none", "no experience", "no related experience", "no related work experience", "0"}


@dataclass(frozen=True)
class Vocabulary:
    """The categories an attribute's values are written in (O*NET's), by category number."""

    profile_field: str  # TYPICAL_EDUCATION | EXPERIENCE | JOB_ZONE
    labels: dict[int, str]

    def options(self) -> list[str]:
        return [self.labels[category] for category in sorted(self.labels)]

    def category_of(self, value: str | None, attribute_name: str = "") -> int | None:
        """The category ``value`` names for certain, else None (shown as written, not mapped)."""
        if value is None or not str(value).strip():
            return None
        text = " ".join(str(value).casefold().split())
        for category, label in self.labels.items():
            if text == " ".join(label.casefold().split()):
                return category
        if self.profile_field == TYPICAL_EDUCATION:
            return education_level(text)
        if self.profile_field == EXPERIENCE:
            return experience_category(text, attribute_name)
        return job_zone_number(text)

    def mapped_label(self, value: str | None, attribute_name: str = "") -> str | None:
        """The vocabulary's label for ``value`` when it is written otherwise and the mapping is certain."""
        category = self.category_of(value, attribute_name)
        if category is None or category not in self.labels:
            return None
        label = self.labels[category]
        return None if " ".join(str(value).split()).casefold() == label.casefold() else label


def education_level(text: str) -> int | None:
    """The RL category of a free-text education level, when exactly one level is named."""
    head = text.split(" - ")[0]  # "High School Diploma - or the equivalent": the level is named first
    found = set()
    remaining = head
    for level, pattern in _EDUCATION_PATTERNS:
        if pattern.search(remaining):
            found.add(level)
            remaining = pattern.sub(" ", remaining)  # "post-master's" is not also "master's"
    return found.pop() if len(found) == 1 else None


def experience_category(text: str, attribute_name: str = "") -> int | None:
    """The RW category of one quantity of experience; a bare number needs the unit in the column name."""
    if text in _NONE:
        return 1
    match = _QUANTITY.match(text.replace(",", "."))
    if not match:
        return None
    amount, unit = float(match.group(1)), match.group(2)
    if unit is None:
        name = attribute_name.casefold()
        unit = "years" if re.search(r"\b(years?|yrs?)\b", name) else "months" if "month" in name else None
        if unit is None:
            return None
    months = amount * 12 if unit.startswith(("y",)) else amount
    if months <= 0:
        return 1
    for category, upper in EXPERIENCE_UPPER_MONTHS.items():
        if months <= upper:
            return category
    return 11


def job_zone_number(text: str) -> int | None:
    match = re.fullmatch(r"(?:job zone )?([1-5])(?:\b.*)?", text)
    return int(match.group(1)) if match else None


def vocabulary_for(profile_field: str | None, labels: dict[int, str] | None = None) -> Vocabulary | None:
    if profile_field == TYPICAL_EDUCATION:
        return Vocabulary(profile_field, labels or EDUCATION_LABELS)
    if profile_field == EXPERIENCE:
        return Vocabulary(profile_field, labels or EXPERIENCE_LABELS)
    if profile_field == JOB_ZONE:
        return Vocabulary(profile_field, ZONE_LABELS)
    return None


def release_labels(session: Session, release_id: int | None) -> dict[str, dict[int, str]]:
    """profile field -> category labels of the loaded release (empty when it lacks the table)."""
    if release_id is None:
        return {}
    found: dict[str, dict[int, str]] = defaultdict(dict)
    wanted = {
        (EDUCATION_ELEMENT, EDUCATION_SCALE): TYPICAL_EDUCATION,
        (EXPERIENCE_ELEMENT, EXPERIENCE_SCALE): EXPERIENCE,
    }
    for element, scale, category, description in session.execute(
        select(
            OnetEducationCategory.element_id,
            OnetEducationCategory.scale_id,
            OnetEducationCategory.category,
            OnetEducationCategory.description,
        ).where(OnetEducationCategory.release_id == release_id)
    ):
        profile_field = wanted.get((element, scale))
        if profile_field:
            found[profile_field][category] = describe_category(description, category, element)
    # A partial table (a test release) keeps the built-in labels for the categories it lacks.
    defaults = {TYPICAL_EDUCATION: EDUCATION_LABELS, EXPERIENCE: EXPERIENCE_LABELS}
    return {name: {**defaults[name], **labels} for name, labels in found.items()}


@dataclass
class OnetDistributions:
    """Per occupation: the share of incumbents reporting each category, and the job zone.

    Read once for a set of codes; an occupation without ratings uses its nearest rated relative.
    """

    shares: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict)  # field -> code -> cat -> 0..1
    zones: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, release_id: int, fields: Collection[str]) -> OnetDistributions:
        found = cls()
        for profile_field, (element, scale) in (
            (TYPICAL_EDUCATION, (EDUCATION_ELEMENT, EDUCATION_SCALE)),
            (EXPERIENCE, (EXPERIENCE_ELEMENT, EXPERIENCE_SCALE)),
        ):
            if profile_field not in fields:
                continue
            table: dict[str, dict[int, float]] = defaultdict(dict)
            for code, category, value in session.execute(
                select(OnetRating.code, OnetRating.category, OnetRating.value).where(
                    OnetRating.release_id == release_id,
                    OnetRating.domain == "education",
                    OnetRating.element_id == element,
                    OnetRating.scale_id == scale,
                    OnetRating.category.is_not(None),
                )
            ):
                table[code][int(category)] = (value or 0.0) / 100.0
            found.shares[profile_field] = dict(table)
        if JOB_ZONE in fields:
            rows = session.execute(
                select(OnetJobZone.code, OnetJobZone.job_zone).where(OnetJobZone.release_id == release_id)
            )
            found.zones = {code: zone for code, zone in rows if zone is not None}
        return found

    def conflict(self, vocabulary: Vocabulary, category: int, code: str) -> str | None:
        """Why category ``category`` contradicts occupation ``code``'s profile, or None."""
        if vocabulary.profile_field == JOB_ZONE:
            donor = nearest_with_data(code, self.zones)
            if donor is None or abs(self.zones[donor] - category) < ZONE_DISTANCE:
                return None
            return f"O*NET puts {donor} in Job Zone {self.zones[donor]}"
        table = self.shares.get(vocabulary.profile_field, {})
        donor = nearest_with_data(code, table)
        if donor is None:
            return None
        shares = table[donor]
        share = shares.get(category, 0.0)
        if share >= CONFLICT_SHARE:
            return None
        top = max(shares, key=lambda key: (shares[key], -key))
        top_label = vocabulary.labels.get(top, f"category {top}")
        return f"{share:.0%} of {donor} incumbents report this; most ({shares[top]:.0%}) report {top_label}"
