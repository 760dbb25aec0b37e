"""The Attributes page's table: an :class:`~jobforge.imputation.grid.AttributeGrid` as an editable frame.

One row per role (indexed by role id), a selection tick, the title, rows and O*NET code, then per
attribute shown: the value (the only editable column), where it came from with its confidence,
the rows' or roles' agreement, and the O*NET check (the value in O*NET's vocabulary when written
otherwise; a warning when it contradicts the occupation's profile).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from jobforge.imputation.edits import CellEdit
from jobforge.imputation.grid import AttributeGrid, GridCell

SELECT = "Pick"
TITLE = "Title"
ROWS = "Rows"
CODE = "O*NET code"
EMPTY = "EMPTY"
CONFLICT_MARK = "⚠ "


def source_column(name: str) -> str:
    return f"{name} · source"


def agreement_column(name: str) -> str:
    return f"{name} · agreement"


def onet_column(name: str) -> str:
    return f"{name} · O*NET"


def _source_text(cell: GridCell) -> str:
    if cell.source is None:
        return EMPTY
    if cell.confidence is None:
        return cell.source
    return f"{cell.source} {cell.confidence:.0%}"


def _onet_text(cell: GridCell) -> str:
    if cell.conflict:
        return CONFLICT_MARK + cell.conflict
    if cell.mapped:
        return f"= {cell.mapped}"
    return ""


def grid_frame(grid: AttributeGrid, names: Iterable[str], selected: set[int]) -> pd.DataFrame:
    """The table of ``names`` for every role of ``grid`` (index: role id)."""
    shown = list(names)
    records = []
    for row in grid.rows:
        record: dict[str, Any] = {
            SELECT: row.role_id in selected,
            TITLE: row.title,
            ROWS: row.row_count,
            CODE: row.onet_code or "",
        }
        for name in shown:
            cell = row.cells[name]
            record[name] = cell.value or ""
            record[source_column(name)] = _source_text(cell)
            record[agreement_column(name)] = cell.agreement or ""
            record[onet_column(name)] = _onet_text(cell)
        records.append(record)
    columns = [SELECT, TITLE, ROWS, CODE]
    for name in shown:
        columns += [name, source_column(name), agreement_column(name), onet_column(name)]
    return pd.DataFrame(records, columns=columns, index=pd.Index([row.role_id for row in grid.rows], name="role_id"))


@dataclass(frozen=True)
class Filters:
    search: str = ""
    sources: tuple[str, ...] = ()  # ANALYST, SOURCE, …, EMPTY; any shown attribute matching keeps the role
    conflicts_only: bool = False

    def apply(self, frame: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
        shown = list(names)
        keep = pd.Series(True, index=frame.index)
        if self.search.strip():
            keep &= frame[TITLE].str.contains(self.search.strip(), case=False, regex=False)
        if self.sources and shown:
            wanted = set(self.sources)
            kinds = frame[[source_column(name) for name in shown]].apply(lambda column: column.str.split(" ").str[0])
            keep &= kinds.isin(wanted).any(axis=1)
        if self.conflicts_only and shown:
            keep &= (
                frame[[onet_column(name) for name in shown]]
                .apply(lambda c: c.str.startswith(CONFLICT_MARK))
                .any(axis=1)
            )
        return frame[keep]


def editor_key(view: pd.DataFrame) -> str:
    """A key that changes whenever the table's values do, so stale edits are never replayed."""
    # Ticks are left out: the editor keeps them itself, and a tick need not redraw the table.
    content = view.drop(columns=[SELECT])
    digest = hashlib.sha1(pd.util.hash_pandas_object(content, index=True).to_numpy().tobytes()).hexdigest()[:16]
    return f"attr_grid_{digest}"


def pending_edits(
    view: pd.DataFrame, state: Mapping[str, Any] | None, names: Iterable[str], versions: Mapping[tuple[int, str], Any]
) -> tuple[list[CellEdit], dict[int, bool]]:
    """(value edits with the version shown, selection ticks) from a data editor's edit state."""
    edits: list[CellEdit] = []
    ticks: dict[int, bool] = {}
    shown = set(names)
    for position, changes in ((state or {}).get("edited_rows") or {}).items():
        index = int(position)
        if index >= len(view):
            continue
        role_id = int(view.index[index])
        for column, value in changes.items():
            if column == SELECT:
                ticks[role_id] = bool(value)
            elif column in shown:
                text = "" if value is None else str(value)
                if text.strip() != str(view.iloc[index][column]).strip():
                    edits.append(CellEdit(role_id, column, text, versions.get((role_id, column))))
    return edits, ticks


def column_config(grid: AttributeGrid, names: Iterable[str]) -> dict[str, Any]:
    config: dict[str, Any] = {
        SELECT: st.column_config.CheckboxColumn(SELECT, help="Tick roles for “Set a value for many roles”.", width=60),
        TITLE: st.column_config.TextColumn(TITLE, width="medium", pinned=True),
        ROWS: st.column_config.NumberColumn(ROWS, help="Rows of the uploaded files for this role.", width=60),
        CODE: st.column_config.TextColumn(CODE, help="The mapped (or proposed) occupation.", width=100),
    }
    for name in names:
        kind = grid.kinds[name]
        vocabulary = grid.vocabularies.get(name)
        help_text = (
            f"{kind.label().capitalize()} ({kind.reason}). Type to override; empty an analyst's value to undo it."
        )
        if vocabulary is not None:
            help_text += " Vocabulary: O*NET's categories."
        config[name] = st.column_config.TextColumn(name, help=help_text, width="medium")
        config[source_column(name)] = st.column_config.TextColumn(
            help=f"Where the value of {name} came from, with its confidence.", width=110
        )
        config[agreement_column(name)] = st.column_config.TextColumn(
            help="SOURCE: rows of the role holding the value; HIERARCHY: agreeing roles.", width=150
        )
        config[onet_column(name)] = st.column_config.TextColumn(
            help="= the value in O*NET's vocabulary; ⚠ contradicts the occupation's O*NET profile.", width=160
        )
    return config
