"""Charts: plotly figures built from the analysis results, and what every chart carries with it.

Every chart in the app is built here, in Python, from the DataFrames and
dataclasses the rest of ``analysis`` returns; views call these functions and
templates only place what they return (``macros/charts.html``). plotly.js
draws the figure from its JSON in the browser (``static/js/charts.mjs``).

A chart is never the only way to read its figures. Each ``Chart`` carries a
caption, a sentence that says what it shows ("Rose from 41% in 2025-26 Q3 to
61% in 2026-27 Q3; the target is 85% by December 2027"), and the same
figures as a table, which is on the page with or without JavaScript and
downloads as CSV. Colours come from one palette that keeps 3:1 contrast
against white and is told apart by people with any common colour blindness
(Okabe and Ito's, darkened where a colour was too light), and nothing is said
by colour alone: series differ by symbol and line style too, and SPC points
by their symbol.

Free text (a group's name from a questionnaire, a benchmark's source) is
escaped with ``text`` before it reaches a label or hover text: plotly.js
reads a little HTML in labels (``<b>``, ``<a href>``), and decodes entities,
so escaping shows the text as it was written and nothing else.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

# Okabe-Ito, darkened where needed for 3:1 against white (WCAG 1.4.11); the
# first is the series that matters most (a measure's own value).
BLUE = "#0072b2"  # 5.1:1
VERMILION = "#c34a00"  # 4.6:1
GREEN = "#00795c"  # 5.3:1
PURPLE = "#a8517f"  # 4.9:1
BROWN = "#8a5a00"  # 5.8:1
BLACK = "#0b0c0c"  # GOV.UK text, 19:1
GREY = "#505a5f"  # GOV.UK secondary text, 7:1
LIGHT_GREY = "#b1b4b6"  # GOV.UK border: gridlines and limits only, never a data series
PALETTE = (BLUE, VERMILION, GREEN, PURPLE, BROWN, BLACK)

# Statistical process control, as NHS England's "Making Data Count" shows it:
# improvement blue, concern orange, common cause grey; each with its own symbol.
SPC_COLOURS = {"improvement": BLUE, "concern": VERMILION, "special cause": PURPLE, "common cause": GREY}
SPC_SYMBOLS = {
    "improvement": "triangle-up",
    "concern": "triangle-down",
    "special cause": "diamond",
    "common cause": "circle",
}

FONT = "Arial, sans-serif"  # the app's font: GOV.UK Frontend compiled with Arial


@dataclass(frozen=True)
class Table:
    """A chart's figures as rows of text, headed by ``columns``: the accessible alternative and the CSV."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # Columns holding numbers, right-aligned in the page's table.
    numeric: frozenset[str] = frozenset()

    def __post_init__(self):
        for number, row in enumerate(self.rows, 1):
            if len(row) != len(self.columns):
                raise ValueError(f"row {number} of the table has {len(row)} cells for {len(self.columns)} columns")

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows([neutralise(cell) for cell in row] for row in self.rows)
        return out.getvalue()


@dataclass(frozen=True)
class Chart:
    """One chart: an id unique on its page, what it shows in words, the figure, and its table."""

    id: str
    caption: str
    summary: str
    figure: go.Figure = field(repr=False)
    table: Table
    # Said under the chart when there is nothing to draw (no data yet).
    empty: str | None = None

    def figure_json(self) -> str:
        return figure_json(self.figure)


def text(value: Any) -> str:
    """Free text made safe for a plotly label or hover text: shown as written, never read as HTML."""
    return html.escape("" if value is None else str(value), quote=False)


def neutralise(cell: str) -> str:
    """A CSV cell that a spreadsheet could take for a formula gets a leading apostrophe."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def figure_json(figure: go.Figure) -> str:
    """The figure as JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` are written as JSON escapes, so no text in the
    figure can end the script element or open a comment; ``JSON.parse`` gives
    them back unchanged.
    """
    raw = figure.to_json(validate=False, pretty=False, engine="json")
    return raw.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def layout(**changes: Any) -> dict[str, Any]:
    """The layout every chart starts from: the app's font and colours, no plotly template, room for axes."""
    base: dict[str, Any] = {
        "template": go.layout.Template(),  # no plotly look: everything is set here
        "font": {"family": FONT, "size": 16, "color": BLACK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 64, "r": 16, "t": 16, "b": 64},
        "showlegend": True,
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0},
        "hoverlabel": {"font": {"family": FONT, "size": 16}},
        "xaxis": {"showgrid": False, "linecolor": GREY, "ticks": "outside", "tickcolor": GREY, "automargin": True},
        "yaxis": {"gridcolor": "#e8e8e8", "linecolor": GREY, "zeroline": False, "automargin": True},
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def new_figure(traces: Sequence[go.BaseTraceType] = (), **layout_changes: Any) -> go.Figure:
    figure = go.Figure(layout=layout(**layout_changes))
    for trace in traces:
        figure.add_trace(trace)
    return figure


def points(figure: go.Figure) -> list[dict[str, list[Any]]]:
    """Each trace's name and points, as the browser receives them (for tests comparing a chart with its table)."""
    data = json.loads(figure_json(figure))["data"]
    return [{"name": trace.get("name"), "x": trace.get("x", []), "y": trace.get("y", [])} for trace in data]
