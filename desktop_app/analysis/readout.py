"""The cursor readout's table as rich text: per lap, each channel's value at the cursor.

Qt-free so that what the readout says (text channels as their labels, the delta as a
signed time) is decided and tested in one place; the preview only sets the text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from desktop_app.analysis.formatting import format_coded, format_delta

#: the readout's column of the delta trace
DELTA_TITLE = "Δt [s]"


def readout_html(
    axis: str,
    x: float,
    values: Mapping[str, Mapping[str, float | None]],
    titles: Mapping[str, str],
    laps: Sequence[tuple[str, str]],
    labels: Mapping[str, Sequence[str]],
    delta_key: str,
) -> str:
    """``values`` per channel key, per lap label (None: no sample there); ``titles`` the
    columns' headings; ``laps`` (label, colour name) per row; ``labels`` the text channels'
    tables (a code reads as its text)."""
    unit = "m" if axis == "distance" else "s"
    keys = list(values)
    head = "".join(f"<th>&nbsp;{html.escape(titles[k])}&nbsp;</th>" for k in keys)
    rows = []
    for label, colour in laps:
        cells = []
        for key in keys:
            value = values[key].get(label)
            if value is None:
                text = "–"
            else:
                text = format_delta(value) if key == delta_key else format_coded(value, labels.get(key))
            cells.append(f"<td align='right'>&nbsp;{html.escape(text)}&nbsp;</td>")
        rows.append(f"<tr><td><b style='color:{colour}'>■</b> {html.escape(label)}</td>{''.join(cells)}</tr>")
    return f"<table cellspacing='0'><tr><th align='left'>{axis} {x:.1f} {unit}</th>{head}</tr>{''.join(rows)}</table>"
