"""The O*NET profile of an occupation, as attribute values an analyst recognises.

Each field (job zone, typical education, experience, top skills, ...) is read for the occupation
itself; when O*NET has no data for it (e.g. 29-1141.01 Acute Care Nurses has no ratings), the field
comes from the nearest relative that has data, in O*NET-SOC order: the ``.00`` parent, then the
same detailed SOC, the broad group (``15-125``), the minor group (``15-12``). The donor code is kept
per field so every value can say where it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.db.models import (
    OnetEducationCategory,
    OnetJobZone,
    OnetJobZoneReference,
    OnetOccupation,
    OnetRating,
    OnetTask,
    OnetTechnologySkill,
)
from jobforge.onet.repository import require_active_release

JOB_ZONE = "job_zone"
TYPICAL_EDUCATION = "typical_education"
EXPERIENCE = "experience"
TOP_SKILLS = "top_skills"
TOP_KNOWLEDGE = "top_knowledge"
WORK_STYLES = "work_styles"
TOP_TASKS = "top_tasks"
HOT_TECHNOLOGIES = "hot_technologies"
PROFILE_FIELDS = (
    JOB_ZONE,
    TYPICAL_EDUCATION,
    EXPERIENCE,
    TOP_SKILLS,
    TOP_KNOWLEDGE,
    WORK_STYLES,
    TOP_TASKS,
    HOT_TECHNOLOGIES,
)
NO_PROFILE_FIELD = "none"  # a custom rule mapping a column to this keeps it out of the O*NET step

# Attribute column (case-insensitive substring) -> profile field; first match wins, so the more
# specific words come first ("technology skills" are technologies, "work style" is not a skill).
DEFAULT_ATTRIBUTE_RULES: tuple[tuple[str, str], ...] = (
    ("job zone", JOB_ZONE),
    ("zone", JOB_ZONE),
    ("education", TYPICAL_EDUCATION),
    ("experience", EXPERIENCE),
    ("technolog", HOT_TECHNOLOGIES),
    ("tools", HOT_TECHNOLOGIES),
    ("software", HOT_TECHNOLOGIES),
    ("work style", WORK_STYLES),
    ("competenc", WORK_STYLES),
    ("knowledge", TOP_KNOWLEDGE),
    ("skill", TOP_SKILLS),
    ("task", TOP_TASKS),
    ("duties", TOP_TASKS),
    ("responsibilit", TOP_TASKS),
)

# Education, Training, and Experience elements.
EDUCATION_ELEMENT, EDUCATION_SCALE = "2.D.1", "RL"
EXPERIENCE_ELEMENT, EXPERIENCE_SCALE = "3.A.1", "RW"
IMPORTANCE_SCALE = "IM"
WORK_STYLE_SCALES = ("WI", "IM")  # 30.x rates work styles on WI; older releases on IM


def profile_field_for(attribute_name: str, rules: Mapping[str, str] | None = None) -> str | None:
    """The profile field an attribute column is filled from, or None.

    ``rules`` (substring -> field, e.g. from the ``JOBFORGE_IMPUTATION_ATTRIBUTE_RULES`` setting)
    are tried before the defaults; mapping a substring to ``"none"`` keeps matching columns out.
    """
    name = " ".join(attribute_name.casefold().replace("_", " ").split())
    for substring, target in [*(rules or {}).items(), *DEFAULT_ATTRIBUTE_RULES]:
        if substring.casefold() in name:
            return target if target in PROFILE_FIELDS else None
    return None


def relative_codes(code: str) -> list[str]:
    """Prefixes and codes to search, nearest first (used with the codes that have data)."""
    return [f"{code[:7]}.00", code[:7], code[:6], code[:5]]


def _detailed_number(code: str) -> int:
    digits = "".join(ch for ch in code if ch.isdigit())
    return int(digits) if digits else 0


def nearest_with_data(code: str, codes_with_data: set[str]) -> str | None:
    """``code`` itself when it has data, else its nearest relative that has, else None."""
    if code in codes_with_data:
        return code
    parent, detailed, broad, minor = relative_codes(code)
    if parent != code and parent in codes_with_data:
        return parent
    target = _detailed_number(code)
    for prefix in (detailed, broad, minor):
        found = [other for other in codes_with_data if other.startswith(prefix) and other != code]
        if found:
            # Nearest by code, .00 occupations first among equals (they are the SOC's own).
            return min(found, key=lambda other: (abs(_detailed_number(other) - target), not other.endswith(".00")))
    return None


@dataclass
class OnetProfile:
    """What O*NET says about one occupation, ready to fill attribute cells."""

    code: str
    title: str | None
    release_id: int
    job_zone: int | None = None
    job_zone_name: str | None = None
    job_zone_meaning: dict[str, str] = field(default_factory=dict)  # experience, education, job_training
    typical_education: str | None = None
    typical_education_share: float | None = None  # share of incumbents reporting it (0..1)
    experience: str | None = None
    experience_basis: str | None = None  # "related work experience" | "job zone"
    top_skills: list[str] = field(default_factory=list)
    top_knowledge: list[str] = field(default_factory=list)
    work_styles: list[str] = field(default_factory=list)
    top_tasks: list[str] = field(default_factory=list)
    hot_technologies: list[str] = field(default_factory=list)
    donors: dict[str, str] = field(default_factory=dict)  # field -> relative's code, when not the occupation's own

    def value_for(self, profile_field: str) -> str | None:
        """The field as one cell value, or None when O*NET has nothing for it."""
        if profile_field == JOB_ZONE:
            if self.job_zone is None:
                return None
            meaning = (self.job_zone_name or "").split(":", 1)[-1].strip()
            return f"Job Zone {self.job_zone}: {meaning}" if meaning else f"Job Zone {self.job_zone}"
        value = getattr(self, profile_field, None)
        if isinstance(value, list):
            return "; ".join(value) if value else None
        return value or None

    def source_code(self, profile_field: str) -> str:
        """The O*NET code the field's value came from."""
        return self.donors.get(profile_field, self.code)

    def field_details(self, profile_field: str) -> dict[str, object]:
        details: dict[str, object] = {"onet_code": self.code, "profile_field": profile_field}
        if profile_field in self.donors:
            details["donor_code"] = self.donors[profile_field]
            details["inherited_from_relative"] = True
        if profile_field == JOB_ZONE and self.job_zone_meaning:
            details["job_zone_meaning"] = self.job_zone_meaning
        if profile_field == TYPICAL_EDUCATION and self.typical_education_share is not None:
            details["share_reporting"] = round(self.typical_education_share, 4)
        if profile_field == EXPERIENCE and self.experience_basis:
            details["basis"] = self.experience_basis
        return details


class _ProfileReader:
    def __init__(self, session: Session, release_id: int, code: str, top_n: int) -> None:
        self.session = session
        self.release_id = release_id
        self.code = code
        self.top_n = top_n
        self.minor_prefix = code[:5]

    def codes_with(self, column: Any, *where: Any) -> set[str]:
        """Codes in the occupation's minor group that have rows matching ``where``."""
        # A code range rather than LIKE, so both stores use the (release_id, code, ...) indexes.
        upper = self.minor_prefix[:-1] + chr(ord(self.minor_prefix[-1]) + 1)
        query = select(column).where(*where, column >= self.minor_prefix, column < upper).distinct()
        return set(self.session.scalars(query))

    def rating_codes(self, domain: str, element_id: str | None, scale_id: str) -> set[str]:
        where = [OnetRating.release_id == self.release_id, OnetRating.domain == domain, OnetRating.scale_id == scale_id]
        if element_id:
            where.append(OnetRating.element_id == element_id)
        return self.codes_with(OnetRating.code, *where)

    def top_rated(self, code: str, domain: str, scale_id: str) -> list[str]:
        rows = self.session.execute(
            select(OnetRating.element_name, OnetRating.value)
            .where(
                OnetRating.release_id == self.release_id,
                OnetRating.code == code,
                OnetRating.domain == domain,
                OnetRating.scale_id == scale_id,
            )
            .order_by(OnetRating.value.desc(), OnetRating.element_name)
        ).all()
        return [name for name, _ in rows[: self.top_n]]

    def modal_category(self, code: str, element_id: str, scale_id: str) -> tuple[str | None, float | None]:
        """The most reported category of an education/experience element, described, and its share."""
        row = self.session.execute(
            select(OnetRating.category, OnetRating.value)
            .where(
                OnetRating.release_id == self.release_id,
                OnetRating.code == code,
                OnetRating.domain == "education",
                OnetRating.element_id == element_id,
                OnetRating.scale_id == scale_id,
                OnetRating.category.is_not(None),
            )
            .order_by(OnetRating.value.desc(), OnetRating.category)
            .limit(1)
        ).first()
        if row is None:
            return None, None
        category, share = row
        description = self.session.scalar(
            select(OnetEducationCategory.description).where(
                OnetEducationCategory.release_id == self.release_id,
                OnetEducationCategory.element_id == element_id,
                OnetEducationCategory.scale_id == scale_id,
                OnetEducationCategory.category == category,
            )
        )
        return describe_category(description, category, element_id), (share or 0.0) / 100.0


def describe_category(description: str | None, category: int, element_id: str) -> str:
    """A category as a cell value: without O*NET's "(for example, ...)" lists, and "None" spelled out."""
    text = re.sub(r"\s*\(for example[^)]*\)\s*$", "", description or "").strip()
    if not text:
        return f"Category {category}"
    if text.lower() == "none" and element_id == EXPERIENCE_ELEMENT:
        return "No related work experience"
    return text


def _pick(
    profile: OnetProfile, profile_field: str, codes_with_data: set[str], read: Callable[[str], object]
) -> object | None:
    """Read ``profile_field`` from the occupation or its nearest relative with data."""
    source = nearest_with_data(profile.code, codes_with_data)
    if source is None:
        return None
    if source != profile.code:
        profile.donors[profile_field] = source
    return read(source)


def onet_profile(session: Session, code: str, release_id: int | None = None, top_n: int = 5) -> OnetProfile:
    """The profile of ``code`` in ``release_id`` (default: the active release)."""
    release_id = release_id or require_active_release(session).id
    title = session.scalar(
        select(OnetOccupation.title).where(OnetOccupation.release_id == release_id, OnetOccupation.code == code)
    )
    profile = OnetProfile(code=code, title=title, release_id=release_id)
    reader = _ProfileReader(session, release_id, code, top_n)

    zone_codes = reader.codes_with(OnetJobZone.code, OnetJobZone.release_id == release_id)
    zone = _pick(
        profile,
        JOB_ZONE,
        zone_codes,
        lambda source: session.scalar(
            select(OnetJobZone.job_zone).where(OnetJobZone.release_id == release_id, OnetJobZone.code == source)
        ),
    )
    if isinstance(zone, int):
        profile.job_zone = zone
        reference = session.scalar(
            select(OnetJobZoneReference).where(
                OnetJobZoneReference.release_id == release_id, OnetJobZoneReference.job_zone == zone
            )
        )
        if reference is not None:
            profile.job_zone_name = reference.name
            profile.job_zone_meaning = {
                "name": reference.name,
                "experience": reference.experience,
                "education": reference.education,
                "job_training": reference.job_training,
            }

    education = _pick(
        profile,
        TYPICAL_EDUCATION,
        reader.rating_codes("education", EDUCATION_ELEMENT, EDUCATION_SCALE),
        lambda source: reader.modal_category(source, EDUCATION_ELEMENT, EDUCATION_SCALE),
    )
    if isinstance(education, tuple):
        profile.typical_education, profile.typical_education_share = education

    experience = _pick(
        profile,
        EXPERIENCE,
        reader.rating_codes("education", EXPERIENCE_ELEMENT, EXPERIENCE_SCALE),
        lambda source: reader.modal_category(source, EXPERIENCE_ELEMENT, EXPERIENCE_SCALE),
    )
    if isinstance(experience, tuple) and experience[0]:
        profile.experience, profile.experience_basis = experience[0], "related work experience"
    elif profile.job_zone_meaning.get("experience"):
        # Releases without Related Work Experience: the job zone's description of experience.
        profile.experience, profile.experience_basis = profile.job_zone_meaning["experience"], "job zone"
        if JOB_ZONE in profile.donors:
            profile.donors[EXPERIENCE] = profile.donors[JOB_ZONE]

    for profile_field, domain, scales in (
        (TOP_SKILLS, "skills", (IMPORTANCE_SCALE,)),
        (TOP_KNOWLEDGE, "knowledge", (IMPORTANCE_SCALE,)),
        (WORK_STYLES, "work_styles", WORK_STYLE_SCALES),
    ):
        for scale in scales:
            codes = reader.rating_codes(domain, None, scale)
            if codes:

                def read(source: str, domain: str = domain, scale: str = scale) -> list[str]:
                    return reader.top_rated(source, domain, scale)

                setattr(profile, profile_field, _pick(profile, profile_field, codes, read) or [])
                break

    tasks = _pick(
        profile,
        TOP_TASKS,
        reader.codes_with(OnetTask.code, OnetTask.release_id == release_id),
        lambda source: list(
            session.scalars(
                select(OnetTask.task)
                .where(OnetTask.release_id == release_id, OnetTask.code == source)
                .order_by(OnetTask.task_type, OnetTask.incumbents_responding.desc().nulls_last(), OnetTask.task_id)
                .limit(top_n)
            )
        ),
    )
    profile.top_tasks = tasks if isinstance(tasks, list) else []

    technologies = _pick(
        profile,
        HOT_TECHNOLOGIES,
        reader.codes_with(
            OnetTechnologySkill.code,
            OnetTechnologySkill.release_id == release_id,
            OnetTechnologySkill.hot_technology.is_(True),
        ),
        lambda source: _hot_technologies(session, release_id, source, top_n),
    )
    profile.hot_technologies = technologies if isinstance(technologies, list) else []
    return profile


def _hot_technologies(session: Session, release_id: int, code: str, top_n: int) -> list[str]:
    rows = session.scalars(
        select(OnetTechnologySkill.example)
        .where(
            OnetTechnologySkill.release_id == release_id,
            OnetTechnologySkill.code == code,
            OnetTechnologySkill.hot_technology.is_(True),
        )
        .order_by(OnetTechnologySkill.in_demand.desc(), OnetTechnologySkill.example)
    )
    unique: list[str] = []
    for example in rows:
        if example not in unique:
            unique.append(example)
    return unique[:top_n]


def profile_fields_for(attribute_names: Sequence[str], rules: Mapping[str, str] | None = None) -> dict[str, str]:
    """attribute name -> profile field, for the names that have one."""
    mapped = {name: profile_field_for(name, rules) for name in attribute_names}
    return {name: target for name, target in mapped.items() if target}
