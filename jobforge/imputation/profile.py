"""The O*NET profile of an occupation, as attribute values an analyst recognises.

Each field (job zone, typical education, experience, top skills, ...) is read for the occupation
itself; when O*NET has no data for it (e.g. 29-1141.01 Acute Care Nurses has no ratings), the field
comes from the nearest relative that has data, in O*NET-SOC order: the ``.00`` parent, then the
same detailed SOC, the broad group (``15-125``), the minor group (``15-12``). The donor code is kept
per field so every value can say where it came from.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Mapping, Sequence
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


def _with_prefix(sorted_codes: Sequence[str], prefix: str) -> list[str]:
    start = bisect.bisect_left(sorted_codes, prefix)
    end = bisect.bisect_left(sorted_codes, prefix + "\uffff")
    return list(sorted_codes[start:end])


def nearest_with_data(
    code: str, codes_with_data: Collection[str], sorted_codes: Sequence[str] | None = None
) -> str | None:
    """``code`` itself when it has data, else its nearest relative that has, else None.

    ``sorted_codes`` (the same codes, sorted) makes the group searches a binary search.
    """
    if code in codes_with_data:
        return code
    parent, detailed, broad, minor = relative_codes(code)
    if parent != code and parent in codes_with_data:
        return parent
    ordered = sorted_codes if sorted_codes is not None else sorted(codes_with_data)
    target = _detailed_number(code)
    for prefix in (detailed, broad, minor):
        found = [other for other in _with_prefix(ordered, prefix) if other != code]
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


def describe_category(description: str | None, category: int, element_id: str) -> str:
    """A category as a cell value: without O*NET's "(for example, ...)" lists, and "None" spelled out."""
    text = re.sub(r"\s*\(for example[^)]*\)\s*$", "", description or "").strip()
    if not text:
        return f"Category {category}"
    if text.lower() == "none" and element_id == EXPERIENCE_ELEMENT:
        return "No related work experience"
    return text


class ProfileTables:
    """Per field, code -> value for the codes of a release (or of one code range), read once.

    A single profile reads only its occupation's minor group; an imputation run over many roles
    reads each field's table for the whole release once (a few queries instead of ~10 per code).
    """

    def __init__(
        self, session: Session, release_id: int, top_n: int = 5, code_range: tuple[str, str] | None = None
    ) -> None:
        self.session = session
        self.release_id = release_id
        self.top_n = top_n
        self.code_range = code_range
        self._tables: dict[str, dict[str, Any]] = {}
        self._zone_reference: dict[int, OnetJobZoneReference] | None = None
        self._categories: dict[tuple[str, str, int], str] | None = None
        self._titles: dict[str, str] | None = None
        self._sorted: dict[str, list[str]] = {}

    def table(self, profile_field: str) -> dict[str, Any]:
        if profile_field not in self._tables:
            with self.session.no_autoflush:
                self._tables[profile_field] = self._read(profile_field)
            self._sorted[profile_field] = sorted(self._tables[profile_field])
        return self._tables[profile_field]

    def nearest(self, profile_field: str, code: str) -> str | None:
        """The code whose data ``code`` uses for the field: its own, or its nearest relative's."""
        return nearest_with_data(code, self.table(profile_field), self._sorted[profile_field])

    def title(self, code: str) -> str | None:
        if self._titles is None:
            rows = self.session.execute(
                select(OnetOccupation.code, OnetOccupation.title).where(
                    OnetOccupation.release_id == self.release_id, *self._in_range(OnetOccupation.code)
                )
            )
            self._titles = dict(rows.tuples().all())
        return self._titles.get(code)

    def zone_reference(self, zone: int) -> OnetJobZoneReference | None:
        if self._zone_reference is None:
            rows = self.session.scalars(
                select(OnetJobZoneReference).where(OnetJobZoneReference.release_id == self.release_id)
            )
            self._zone_reference = {row.job_zone: row for row in rows}
        return self._zone_reference.get(zone)

    # -- reading ------------------------------------------------------------------------------

    def _in_range(self, column: Any) -> list[Any]:
        # A code range rather than LIKE, so both stores use the (release_id, code, ...) indexes.
        if self.code_range is None:
            return []
        return [column >= self.code_range[0], column < self.code_range[1]]

    def _read(self, profile_field: str) -> dict[str, Any]:
        if profile_field == JOB_ZONE:
            rows = self.session.execute(
                select(OnetJobZone.code, OnetJobZone.job_zone).where(
                    OnetJobZone.release_id == self.release_id, *self._in_range(OnetJobZone.code)
                )
            )
            return {code: zone for code, zone in rows if zone is not None}
        if profile_field == TYPICAL_EDUCATION:
            return self._modal_categories(EDUCATION_ELEMENT, EDUCATION_SCALE)
        if profile_field == EXPERIENCE:
            return self._modal_categories(EXPERIENCE_ELEMENT, EXPERIENCE_SCALE)
        if profile_field == TOP_SKILLS:
            return self._top_rated("skills", (IMPORTANCE_SCALE,))
        if profile_field == TOP_KNOWLEDGE:
            return self._top_rated("knowledge", (IMPORTANCE_SCALE,))
        if profile_field == WORK_STYLES:
            return self._top_rated("work_styles", WORK_STYLE_SCALES)
        if profile_field == TOP_TASKS:
            rows = self.session.execute(
                select(OnetTask.code, OnetTask.task)
                .where(OnetTask.release_id == self.release_id, *self._in_range(OnetTask.code))
                .order_by(
                    OnetTask.code,
                    OnetTask.task_type,
                    OnetTask.incumbents_responding.desc().nulls_last(),
                    OnetTask.task_id,
                )
            )
            return self._first_n(rows)
        if profile_field == HOT_TECHNOLOGIES:
            rows = self.session.execute(
                select(OnetTechnologySkill.code, OnetTechnologySkill.example)
                .where(
                    OnetTechnologySkill.release_id == self.release_id,
                    OnetTechnologySkill.hot_technology.is_(True),
                    *self._in_range(OnetTechnologySkill.code),
                )
                .order_by(OnetTechnologySkill.code, OnetTechnologySkill.in_demand.desc(), OnetTechnologySkill.example)
            )
            return self._first_n(rows)
        raise ValueError(f"Unknown O*NET profile field {profile_field!r}")

    def _first_n(self, rows: Any) -> dict[str, list[str]]:
        """code -> its first ``top_n`` distinct texts, from rows ordered by code then rank."""
        found: dict[str, list[str]] = {}
        for code, text in rows:
            items = found.setdefault(code, [])
            if len(items) < self.top_n and text and text not in items:
                items.append(text)
        return {code: items for code, items in found.items() if items}

    def _top_rated(self, domain: str, scales: Sequence[str]) -> dict[str, list[str]]:
        for scale in scales:  # the first scale the release rates this domain on
            rows = self.session.execute(
                select(OnetRating.code, OnetRating.element_name)
                .where(
                    OnetRating.release_id == self.release_id,
                    OnetRating.domain == domain,
                    OnetRating.scale_id == scale,
                    OnetRating.recommend_suppress.is_not(True),
                    *self._in_range(OnetRating.code),
                )
                .order_by(OnetRating.code, OnetRating.value.desc(), OnetRating.element_name)
            ).all()
            if rows:
                return self._first_n(rows)
        return {}

    def _modal_categories(self, element_id: str, scale_id: str) -> dict[str, tuple[str, float]]:
        """code -> (the most reported category, described; its share 0..1)."""
        rows = self.session.execute(
            select(OnetRating.code, OnetRating.category, OnetRating.value)
            .where(
                OnetRating.release_id == self.release_id,
                OnetRating.domain == "education",
                OnetRating.element_id == element_id,
                OnetRating.scale_id == scale_id,
                OnetRating.category.is_not(None),
                *self._in_range(OnetRating.code),
            )
            .order_by(OnetRating.code, OnetRating.value.desc(), OnetRating.category)
        )
        found: dict[str, tuple[str, float]] = {}
        for code, category, share in rows:
            if code not in found:
                found[code] = (
                    describe_category(self._category(element_id, scale_id, category), category, element_id),
                    (share or 0.0) / 100.0,
                )
        return found

    def _category(self, element_id: str, scale_id: str, category: int) -> str | None:
        if self._categories is None:
            rows = self.session.execute(
                select(
                    OnetEducationCategory.element_id,
                    OnetEducationCategory.scale_id,
                    OnetEducationCategory.category,
                    OnetEducationCategory.description,
                ).where(OnetEducationCategory.release_id == self.release_id)
            )
            self._categories = {(e, s, c): d for e, s, c, d in rows}
        return self._categories.get((element_id, scale_id, category))


def minor_group_range(code: str) -> tuple[str, str]:
    """The code range of ``code``'s minor group ("15-12" <= code < "15-13")."""
    prefix = code[:5]
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def onet_profile(
    session: Session,
    code: str,
    release_id: int | None = None,
    top_n: int = 5,
    fields: Collection[str] = PROFILE_FIELDS,
    tables: ProfileTables | None = None,
) -> OnetProfile:
    """The profile of ``code`` in ``release_id`` (default: the active release).

    ``fields`` limits the work to the fields needed; ``tables`` (see :class:`OnetProfiles`) shares
    what was read between many profiles of one release.
    """
    release_id = release_id or require_active_release(session).id
    tables = tables or ProfileTables(session, release_id, top_n, code_range=minor_group_range(code))
    profile = OnetProfile(code=code, title=tables.title(code), release_id=release_id)
    wanted = set(fields)

    def pick(profile_field: str) -> Any:
        """The field's data from the occupation, or from its nearest relative that has it."""
        data = tables.table(profile_field)
        source = tables.nearest(profile_field, code)
        if source is None:
            return None
        if source != code:
            profile.donors[profile_field] = source
        return data[source]

    if wanted & {JOB_ZONE, EXPERIENCE}:  # the job zone also describes experience when RW is absent
        zone = pick(JOB_ZONE)
        if zone is not None:
            profile.job_zone = zone
            reference = tables.zone_reference(zone)
            if reference is not None:
                profile.job_zone_name = reference.name
                profile.job_zone_meaning = {
                    "name": reference.name,
                    "experience": reference.experience,
                    "education": reference.education,
                    "job_training": reference.job_training,
                }
    if TYPICAL_EDUCATION in wanted and (education := pick(TYPICAL_EDUCATION)) is not None:
        profile.typical_education, profile.typical_education_share = education
    if EXPERIENCE in wanted:
        experience = pick(EXPERIENCE)
        if experience is not None:
            profile.experience, profile.experience_basis = experience[0], "related work experience"
        elif profile.job_zone_meaning.get("experience"):
            # Releases without Related Work Experience: the job zone's description of experience.
            profile.experience, profile.experience_basis = profile.job_zone_meaning["experience"], "job zone"
            if JOB_ZONE in profile.donors:
                profile.donors[EXPERIENCE] = profile.donors[JOB_ZONE]
    for profile_field in (TOP_SKILLS, TOP_KNOWLEDGE, WORK_STYLES, TOP_TASKS, HOT_TECHNOLOGIES):
        if profile_field in wanted:
            setattr(profile, profile_field, list(pick(profile_field) or []))
    return profile


class OnetProfiles:
    """Profiles of one release, each computed once: what an imputation run uses for many roles."""

    def __init__(
        self, session: Session, release_id: int, top_n: int = 5, fields: Collection[str] = PROFILE_FIELDS
    ) -> None:
        self.session = session
        self.release_id = release_id
        self.top_n = top_n
        self.fields = tuple(fields)
        self.tables = ProfileTables(session, release_id, top_n)
        self._profiles: dict[str, OnetProfile] = {}

    def get(self, code: str) -> OnetProfile:
        if code not in self._profiles:
            with self.session.no_autoflush:
                self._profiles[code] = onet_profile(
                    self.session, code, self.release_id, self.top_n, self.fields, self.tables
                )
        return self._profiles[code]


def profile_fields_for(attribute_names: Sequence[str], rules: Mapping[str, str] | None = None) -> dict[str, str]:
    """attribute name -> profile field, for the names that have one."""
    mapped = {name: profile_field_for(name, rules) for name in attribute_names}
    return {name: target for name, target in mapped.items() if target}
