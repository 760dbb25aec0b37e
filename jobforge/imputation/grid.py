"""The role × attribute table of a project: every cell with its source, confidence and agreement.

What the Attributes page shows and edits. Per cell: the value, where it came from, its confidence,
how far the role's rows agree on it (SOURCE: "54 of 199 rows"; HIERARCHY: "4 of 5 roles"), the
value in its attribute's vocabulary when it is written otherwise (O*NET's education and experience
categories, job zones; see :mod:`jobforge.imputation.vocabulary`), and whether it contradicts the
mapped occupation's O*NET profile (checked for role-requirement columns and for every inherited or
imputed value, not for a person's own value). ``version`` is the row's version as read, to be passed back with an edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.config import Settings, get_settings
from jobforge.db.models import Mapping, MappingStatus, Role, RoleAttribute, SourceType
from jobforge.imputation.attributes import attributes_by_role, has_value, project_attribute_names
from jobforge.imputation.profile import profile_fields_for
from jobforge.imputation.row_values import ColumnKind, RowSummary, column_kinds, role_summaries
from jobforge.imputation.vocabulary import OnetDistributions, Vocabulary, release_labels, vocabulary_for
from jobforge.onet.repository import active_release


@dataclass
class GridCell:
    value: str | None
    source: str | None  # ANALYST | SOURCE | HIERARCHY | ONET | LLM, None when empty
    confidence: float | None
    version: int | None  # None: the cell has no stored row yet
    agreement: str | None = None  # "54 of 199 rows (199 of 246 have a value)", "4 of 5 roles"
    source_share: float | None = None  # share of the role's rows with a value in the file
    mapped: str | None = None  # the vocabulary's label, when the value is written otherwise
    conflict: str | None = None  # why the value contradicts the occupation's O*NET profile
    rows: RowSummary | None = None  # what the role's rows hold (None when no upload has the column)


@dataclass
class GridRow:
    role_id: int
    title: str
    row_count: int
    onet_code: str | None
    onet_title: str | None
    mapping_status: str | None
    cells: dict[str, GridCell] = field(default_factory=dict)


@dataclass
class AttributeGrid:
    """A project's attributes: names in order, each column's kind and vocabulary, one row per role."""

    names: list[str]
    kinds: dict[str, ColumnKind]
    vocabularies: dict[str, Vocabulary]
    rows: list[GridRow]

    def conflicts(self) -> int:
        return sum(1 for row in self.rows for cell in row.cells.values() if cell.conflict)


def _occupation(code: str | None, status: str | None) -> str | None:
    """The code attributes are checked against: a decided mapping, else the proposal ("needs info": none)."""
    if not code or status == MappingStatus.NEEDS_INFO:
        return None
    return code


def attribute_grid(session: Session, project_id: int, settings: Settings | None = None) -> AttributeGrid:
    """Every role of the project with every attribute cell (see the module doc), by title (case-folded), id."""
    settings = settings or get_settings()
    names = project_attribute_names(session, project_id)
    roles = session.execute(  # the mapping's columns only: its candidates JSON is large
        select(Role.id, Role.title, Role.row_count, Mapping.onet_code, Mapping.onet_title, Mapping.status)
        .outerjoin(Mapping, Mapping.role_id == Role.id)
        .where(Role.project_id == project_id)
        .order_by(Role.id)
    ).all()
    roles.sort(key=lambda row: (row[1].casefold(), row[0]))  # the same order on every store
    role_ids = [role_id for role_id, *_ in roles]
    summaries = role_summaries(session, role_ids)
    kinds = column_kinds(names, summaries)
    release = active_release(session)
    labels = release_labels(session, release.id if release else None)
    fields = profile_fields_for(names, settings.imputation_attribute_rules)
    vocabularies = {
        name: vocabulary
        for name in names
        if (vocabulary := vocabulary_for(fields.get(name), labels.get(fields.get(name) or ""))) is not None
    }
    onet = (
        OnetDistributions.load(session, release.id, {v.profile_field for v in vocabularies.values()})
        if release is not None and vocabularies
        else OnetDistributions()
    )
    stored = attributes_by_role(session, role_ids)
    rows = []
    for role_id, title, row_count, onet_code, onet_title, status in roles:
        row = GridRow(role_id, title, row_count, onet_code, onet_title, status)
        code = _occupation(onet_code, status)
        for name in names:
            cell = _cell(stored[role_id].get(name), summaries.get((role_id, name)))
            vocabulary = vocabularies.get(name)
            if vocabulary is not None and cell.value is not None:
                cell.mapped = vocabulary.mapped_label(cell.value, name)
                category = vocabulary.category_of(cell.value, name)
                if category is not None and code and _checked(cell, kinds[name]):
                    cell.conflict = onet.conflict(vocabulary, category, code)
            row.cells[name] = cell
        rows.append(row)
    return AttributeGrid(names=names, kinds=kinds, vocabularies=vocabularies, rows=rows)


def _checked(cell: GridCell, kind: ColumnKind) -> bool:
    """Whether to compare the value with O*NET: a role requirement, or any inherited or imputed value.

    A person's own value (SOURCE or ANALYST in a column that varies by person) is a fact about that
    person, not a requirement, so it is not flagged; O*NET's own value is not compared with itself.
    """
    if cell.source == SourceType.ONET:
        return False
    return kind.is_requirement or cell.source in (SourceType.HIERARCHY, SourceType.LLM)


def _cell(attribute: RoleAttribute | None, summary: RowSummary | None) -> GridCell:
    filled = has_value(attribute)
    cell = GridCell(
        value=attribute.value if filled else None,
        source=attribute.source_type if filled else None,
        confidence=attribute.confidence if filled else None,
        version=attribute.version if attribute is not None else None,
        rows=summary,
        source_share=summary.source_share if summary is not None else None,
    )
    if summary is not None and summary.value is not None and cell.source in (SourceType.SOURCE, SourceType.ANALYST):
        cell.agreement = summary.agreement_text()
    elif attribute is not None and filled and cell.source == SourceType.HIERARCHY:
        details = attribute.details or {}
        if details.get("siblings_with_value"):
            cell.agreement = f"{details.get('agreeing')} of {details.get('siblings_with_value')} roles"
    return cell
