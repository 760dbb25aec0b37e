"""The review grid: streamlit-aggrid behind one small function.

Spreadsheet text is shown by AG Grid's default text renderer (textContent, never innerHTML); the only
JavaScript here is ours (tier colours looked up by value, scrolling the selected row into view), so
``allow_unsafe_jscode`` never runs anything that came from data.
"""

from __future__ import annotations

import hashlib

import pandas as pd
from st_aggrid import AgGrid, GridOptionsBuilder, JsCode

ID_COLUMN = "role_id"
STATUS_ICON_COLUMN = " "  # a narrow column beside the title: the status as an icon with a colour
# status -> icon; the colours are in _STATUS_STYLE (same order of meaning as the panel's badges).
STATUS_ICONS = {"confirmed": "✓", "overridden": "✎", "needs_info": "?", "proposed": "•", "unmapped": "–"}

_TIER_STYLE = JsCode(
    """
function(params) {
  const colours = {HIGH: ['#d3f4dc', '#11632b'], MEDIUM: ['#ffeccc', '#8a4b00'], LOW: ['#ffdcdc', '#9b1c1c']};
  const c = colours[params.value];
  return c ? {backgroundColor: c[0], color: c[1], fontWeight: '600', textAlign: 'center'} : null;
}
"""
)
_STATUS_STYLE = JsCode(
    """
function(params) {
  const colours = {'✓': '#11632b', '✎': '#1d4ed8', '?': '#7c3aed', '•': '#9ca3af', '–': '#9ca3af'};
  const c = colours[params.value];
  return c ? {color: c, fontWeight: '700', fontSize: '1.05rem', textAlign: 'center'} : null;
}
"""
)
_SHOW_SELECTED = JsCode(
    """
function(event) {
  const nodes = event.api.getSelectedNodes();
  if (nodes.length) { event.api.ensureNodeVisible(nodes[0], 'middle'); }
}
"""
)


def role_grid(
    frame: pd.DataFrame,
    *,
    key: str,
    selected_id: int | None = None,
    height: int = 420,
    column_widths: dict[str, int] | None = None,
    pinned: tuple[str, ...] = (),
) -> int | None:
    """Show ``frame`` (with an ``role_id`` column, hidden) and return the role id the user selected.

    Returns the id of the row selected in the grid, or None when nothing is selected there. A click
    keeps the grid as it is; to move the selection from Python (e.g. "next unreviewed row") the caller
    changes ``key``, which re-creates the grid with ``selected_id`` selected and scrolled into view.
    """
    data = frame.reset_index(drop=True)
    builder = GridOptionsBuilder.from_dataframe(data)
    builder.configure_default_column(resizable=True, sortable=True, filter=True, wrapText=False)
    builder.configure_column(ID_COLUMN, hide=True)
    if "Tier" in data.columns:
        builder.configure_column("Tier", cellStyle=_TIER_STYLE)
    if STATUS_ICON_COLUMN in data.columns:
        builder.configure_column(STATUS_ICON_COLUMN, cellStyle=_STATUS_STYLE, headerTooltip="Status", filter=False)
    for name, width in (column_widths or {}).items():
        if name in data.columns:
            builder.configure_column(name, width=width, minWidth=width)
    for name in pinned:
        builder.configure_column(name, pinned="left")
    preselect: list[str] = []
    if selected_id is not None:
        hits = data.index[data[ID_COLUMN] == selected_id].tolist()
        preselect = [str(hits[0])] if hits else []
    builder.configure_selection("single", pre_selected_rows=preselect or None)
    options = builder.build()
    options["onFirstDataRendered"] = _SHOW_SELECTED
    options["rowHeight"] = 34
    options.pop("autoSizeStrategy", None)  # keep the widths above: scroll sideways rather than squeeze codes
    response = AgGrid(
        data,
        gridOptions=options,
        height=height,
        key=key,
        update_on=["selectionChanged"],
        allow_unsafe_jscode=True,  # our own cellStyle / scroll functions only (see module docstring)
        theme="streamlit",
        show_toolbar=False,
        show_search=False,
        show_download_button=False,
    )
    selected = response.selected_rows if response is not None else None
    if selected is None or len(selected) == 0:
        return None
    return int(selected.iloc[0][ID_COLUMN])


def rows_digest(frame: pd.DataFrame) -> str:
    """A short fingerprint of which roles a grid shows, in which order (part of the grid's key)."""
    ids = ",".join(str(int(role_id)) for role_id in frame[ID_COLUMN].tolist())
    return hashlib.blake2b(ids.encode(), digest_size=6).hexdigest()
