"""The charts of a survey run's results page: responses per day, and the answers to each closed question.

Built, like every chart, on ``analysis.charts``: its palette, its escaping of
free text, its figure JSON and its ``Chart`` and ``Table``. Each chart's
table holds the same figures as its plot, and a figure withheld from the
table ("c") is not in the plot's JSON either: it is left out, and the plot
says where something is withheld (a hatched "Withheld" segment, or a "c"),
never how much it is.

A question with one answer each is one horizontal bar divided among the
answers on its scale, in the scale's order, each part labelled with its
percentage when it is wide enough, named in the legend and in its hover
text. A scale runs from the blues of its positive end through a neutral grey
to the oranges of its negative end (blue and orange are told apart with any
common colour blindness); answers that are not a scale take the palette in
its order. "Don't know", "Not applicable" and no answer are not in the
percentages, so they are not in the bar: the sentence under the chart and
its table give them. A question with several answers each, or with more
answers than one bar can show, is a bar for each answer instead.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import plotly.graph_objects as go

from .charts import BLACK, BLUE, GREY, LIGHT_GREY, PALETTE, VERMILION, Chart, Table, new_figure, text
from .results import ChartKind, DayCount, Distribution, figure

# A scale's colours, from its positive end to its negative end: the palette's blue and vermilion with a
# darker shade of each and a neutral grey between them. White text on each keeps 4.5:1, so every part's
# percentage can be written inside it, and each keeps 3:1 against the white page.
DARK_BLUE = "#003f7d"  # 10.5:1 against white
NEUTRAL = "#6f777b"  # 4.6:1
DARK_VERMILION = "#8f2f00"  # 8.2:1
SCALE_COLOURS = {
    2: (BLUE, VERMILION),
    3: (BLUE, NEUTRAL, VERMILION),
    4: (DARK_BLUE, BLUE, VERMILION, DARK_VERMILION),
    5: (DARK_BLUE, BLUE, NEUTRAL, VERMILION, DARK_VERMILION),
}
WHITE = "#ffffff"
WITHHELD = "Withheld (c)"
# Pixel heights: the plot's box takes each figure's own height (see app.scss, .app-results).
STACKED_HEIGHT = 120
LEGEND_ENTRY = 28
# A bar for each answer: each answer's band holds its name (LABEL_LINE a line) above its bar.
LABEL_LINE = 22
BAR_BAND = 40
BAR_WIDTH = 0.3  # of a band: the bar sits in its lower part, from BAR_OFFSET below the middle
BAR_OFFSET = 0.12
BARS_AXIS = 48
# Answers' names above their bars are wrapped at this many characters: a line fits a 320 pixel phone.
WRAP = 30

NOT_FOR_PUBLICATION = "Not for publication: exact counts"
PERCENT_TICKS = {"tickvals": [0, 25, 50, 75, 100], "ticktext": ["0%", "25%", "50%", "75%", "100%"]}


def answers_chart(distribution: Distribution, chart_id: str) -> Chart:
    """The chart of one question's answers, with its table; ``empty`` says why when there is nothing to draw."""
    if distribution.kind is ChartKind.STACKED:
        figure_, empty = _stacked(distribution)
    else:
        figure_, empty = _bars(distribution)
    return Chart(
        id=chart_id,
        caption=_caption(distribution),
        summary=answers_summary(distribution),
        figure=figure_,
        table=answers_table(distribution),
        empty=empty,
    )


def _caption(distribution: Distribution) -> str:
    if distribution.several:
        caption = "Each answer, as a percentage of the people who answered (they could choose more than one)"
    elif distribution.kind is ChartKind.BARS:
        caption = "Each answer, as a percentage of the people who gave one of them"
    else:
        caption = "The answers on the scale, as percentages of the people who gave one"
    return caption + (" (exact counts, not for publication)" if distribution.exact else "")


def _percent_text(value: float) -> str:
    return f"{value:.1f}%"


def _nothing_to_draw(distribution: Distribution) -> str | None:
    """Why the chart cannot be drawn (no percentages to show), or None when it can."""
    if not distribution.answered:
        return "Nobody has given an answer to this question yet."
    if not distribution.base_known:
        return (
            "Not drawn: the individual responses have been deleted, and how many people answered this question "
            "was not kept, so there are no percentages. The numbers are in the table."
        )
    if any(row.percent is not None for row in distribution.rows):
        return None
    if distribution.n is None:
        return "Not drawn: how many people the percentages would be of is withheld. What can be shown is in the table."
    if distribution.n == 0:
        return "Not drawn: nobody gave an answer that the percentages would be of. The numbers are in the table."
    return "Not drawn: too few people answered for percentages to be published. The numbers are in the table."


def _stacked(distribution: Distribution) -> tuple[go.Figure, str | None]:
    empty = _nothing_to_draw(distribution)
    scale = distribution.on_scale
    colours = _colours(distribution, len(scale))
    traces = []
    for row, colour in zip(scale, colours, strict=True):
        if row.percent is None:
            continue  # withheld: neither its count nor its share is in the figure
        name = text(row.label)
        traces.append(
            go.Bar(
                name=name,
                orientation="h",
                x=[row.percent],
                y=[""],
                marker={"color": colour, "line": {"color": WHITE, "width": 2}},
                text=[f"{round(row.percent)}%"],
                textposition="inside",
                insidetextanchor="middle",
                textangle=0,
                textfont={"color": WHITE},
                hovertext=[f"{name}: {_percent_text(row.percent)} ({row.count:,} of {distribution.n:,})"],
                hoverinfo="text",
            )
        )
    withheld = [row for row in scale if row.percent is None]
    if traces and withheld:
        # What the parts shown leave of the whole: the sum of the withheld parts, which anyone can work
        # out from the base and the parts shown, and never one part on its own.
        rest = round(
            100 * (distribution.n - sum(row.count for row in scale if row.percent is not None)) / distribution.n, 1
        )
        names = _join([text(row.label) for row in withheld])
        traces.append(
            go.Bar(
                name=WITHHELD,
                orientation="h",
                x=[rest],
                y=[""],
                marker={
                    "color": WHITE,
                    "line": {"color": GREY, "width": 1},
                    "pattern": {"shape": "/", "fgcolor": GREY, "bgcolor": WHITE, "size": 8, "solidity": 0.2},
                },
                hovertext=[f"Withheld: {names}"],
                hoverinfo="text",
            )
        )
    entries = len(traces)
    figure_ = new_figure(
        traces,
        barmode="stack",
        height=STACKED_HEIGHT + LEGEND_ENTRY * entries,
        margin={"l": 24, "r": 28, "t": 8, "b": 8},
        showlegend=True,
        legend={
            "orientation": "v",
            "traceorder": "normal",
            # At the foot of the figure, below the axis: the margin grows to hold it.
            "yref": "container",
            "yanchor": "bottom",
            "y": 0,
            "xanchor": "left",
            "x": 0,
            "font": {"size": 16},
        },
        uniformtext={"minsize": 14, "mode": "hide"},
        xaxis={"range": [0, 100], "fixedrange": True, **PERCENT_TICKS},
        yaxis={"showticklabels": False, "fixedrange": True, "gridcolor": WHITE},
        bargap=0.25,
    )
    return figure_, empty


def _colours(distribution: Distribution, count: int) -> Sequence[str]:
    if distribution.ordered and count in SCALE_COLOURS:
        return SCALE_COLOURS[count]
    return [PALETTE[position % len(PALETTE)] for position in range(count)]


def _bars(distribution: Distribution) -> tuple[go.Figure, str | None]:
    """A bar for each answer, its name written above it, so that on a phone the bars keep the width."""
    empty = _nothing_to_draw(distribution)
    charted = [row for row in distribution.rows if row.in_base]
    names = [text(row.label) for row in charted]
    shown = [(name, row) for name, row in zip(names, charted, strict=True) if row.percent is not None]
    traces: list[go.BaseTraceType] = [
        go.Bar(
            name="Percentage",
            orientation="h",
            x=[row.percent for _, row in shown],
            y=[name for name, _ in shown],
            # In the lower part of the answer's band (the axis runs downwards), below its name.
            width=BAR_WIDTH,
            offset=BAR_OFFSET,
            marker={"color": [GREY if row.apart else BLUE for _, row in shown]},
            text=[_percent_text(row.percent) for _, row in shown],
            textposition="outside",
            textangle=0,
            textfont={"color": BLACK},
            cliponaxis=False,
            hovertext=[
                f"{name}: {_percent_text(row.percent)} ({row.count:,} of {distribution.n:,})" for name, row in shown
            ],
            hoverinfo="text",
        )
    ]
    hidden = [(name, row) for name, row in zip(names, charted, strict=True) if row.percent is None]
    if hidden and shown:
        traces.append(
            go.Scatter(
                name=WITHHELD,
                mode="text",
                x=[0 for _ in hidden],
                y=[name for name, _ in hidden],
                text=["c" for _ in hidden],
                textposition="middle right",
                textfont={"color": BLACK},
                hovertext=[f"{name}: withheld" for name, _ in hidden],
                hoverinfo="text",
            )
        )
    wrapped = [_wrapped(row.label) for row in charted]
    lines = max((label.count("<br>") + 1 for label in wrapped), default=1)
    band = LABEL_LINE * lines + BAR_BAND
    labels = [
        {
            "x": 0,
            "xref": "x",
            "xanchor": "left",
            "y": name,
            "yref": "y",
            "yanchor": "bottom",
            "yshift": 2,
            "align": "left",
            "showarrow": False,
            "text": label,
            "font": {"size": 16, "color": BLACK},
        }
        for name, label in zip(names, wrapped, strict=True)
    ]
    figure_ = new_figure(
        traces,
        height=BARS_AXIS + band * len(charted),
        margin={"l": 20, "r": 28, "t": 8, "b": 8},
        showlegend=False,
        annotations=labels,
        xaxis={"range": [0, 118], "fixedrange": True, "showgrid": True, "gridcolor": "#e8e8e8", **PERCENT_TICKS},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": names,
            "autorange": "reversed",
            "fixedrange": True,
            "showgrid": False,
            "showticklabels": False,
            "ticks": "",
        },
    )
    return figure_, empty


def _wrapped(label: str) -> str:
    """An answer's name, escaped, on lines of at most ``WRAP`` characters (as a phone has room for)."""
    return "<br>".join(text(line) for line in textwrap.wrap(label, WRAP) or [""])


def answers_table(distribution: Distribution) -> Table:
    """The question's figures: each answer's number and percentage, the base, those apart and no answer."""
    percent_column = "Percentage of those who answered" if distribution.several else "Percentage"
    columns = ("Answer", "Number", percent_column)
    rows: list[tuple[str, str, str]] = []
    any_percent = any(row.percent is not None for row in distribution.rows)
    for row in distribution.rows:
        if not row.in_base:
            continue
        percent = _percent_text(row.percent) if row.percent is not None else _withheld_percent(distribution)
        rows.append((row.label, figure(row.count), percent))
    if distribution.base_known:
        if distribution.several:
            rows.append(("People who answered", figure(distribution.n), ""))
        else:
            total = "100%" if any_percent else _withheld_percent(distribution)
            rows.append((_base_name(distribution), figure(distribution.n), total))
    for row in distribution.rows:
        if row.in_base:
            continue
        rows.append((row.label, figure(row.count), "Left out"))
    return Table(columns, tuple(rows), numeric=frozenset({"Number", percent_column}))


def _base_name(distribution: Distribution) -> str:
    return "All answers on the scale" if distribution.kind is ChartKind.STACKED else "All these answers"


def _withheld_percent(distribution: Distribution) -> str:
    # Exact counts always have their percentages, unless there is no base to have them of.
    return "" if distribution.exact or not distribution.base_known else "c"


def answers_summary(distribution: Distribution) -> str:
    """What the chart shows, in a sentence or two, with every figure the chart has."""
    if not distribution.answered:
        return "Nobody has given an answer to this question yet."
    parts = []
    in_base = [row for row in distribution.rows if row.in_base]
    shown = [f"“{row.label}” {_percent_text(row.percent)}" for row in in_base if row.percent is not None]
    withheld = [f"“{row.label}”" for row in in_base if row.percent is None]
    if distribution.base_known and distribution.n is not None and shown:
        if distribution.several:
            parts.append(f"Of the {distribution.n:,} people who answered: {_join(shown)}.")
            parts.append("People could choose more than one answer, so the percentages add up to more than 100%.")
        else:
            whom = (
                "gave an answer on the scale" if distribution.kind is ChartKind.STACKED else "gave one of these answers"
            )
            parts.append(f"Of the {distribution.n:,} people who {whom}: {_join(shown)}.")
    elif distribution.n == 0:
        whom = "on the scale" if distribution.kind is ChartKind.STACKED and not distribution.several else ""
        parts.append(f"Nobody gave an answer {whom}".rstrip() + ".")
    elif distribution.base_known and distribution.n is not None:
        parts.append(f"{distribution.n:,} people answered: too few for percentages to be published.")
    elif distribution.base_known:
        parts.append("The number who answered is withheld, and with it the percentages.")
    else:
        parts.append("The number who answered this question was not kept, so there are no percentages.")
    if withheld and shown:
        parts.append(f"Withheld (c): {_join(withheld)}.")
    apart = [row for row in distribution.rows if not row.in_base]
    if apart:
        described = [f"{figure(row.count)} “{row.label}”" for row in apart]
        parts.append(f"Left out of the percentages: {_join(described)}.")
    return " ".join(parts)


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# Responses per day -----------------------------------------------------------


def day_text(day) -> str:
    return f"{day.day} {day:%B %Y}"


def responses_per_day_chart(days: Sequence[DayCount], chart_id: str, *, exact: bool) -> Chart:
    """Responses by the UK day they were sent: bars, with a "c" on a day whose count is withheld."""
    shown = [day for day in days if day.count is not None]
    hidden = [day for day in days if day.count is None]
    traces: list[go.BaseTraceType] = [
        go.Bar(
            name="Responses",
            x=[day.day.isoformat() for day in shown],
            y=[day.count for day in shown],
            marker={"color": BLUE},
            hovertext=[f"{day_text(day.day)}: {day.count:,}" for day in shown],
            hoverinfo="text",
        )
    ]
    if hidden:
        traces.append(
            go.Scatter(
                name=WITHHELD,
                mode="text",
                x=[day.day.isoformat() for day in hidden],
                y=[0 for _ in hidden],
                text=["c" for _ in hidden],
                textposition="top center",
                textfont={"color": BLACK},
                hovertext=[f"{day_text(day.day)}: withheld" for day in hidden],
                hoverinfo="text",
            )
        )
    figure_ = new_figure(
        traces,
        height=320,
        showlegend=False,
        margin={"l": 56, "r": 16, "t": 16, "b": 48},
        xaxis={"type": "date", "tickformat": "%-d %b", "fixedrange": True},
        yaxis={"rangemode": "tozero", "fixedrange": True, "title": {"text": "Responses"}, "gridcolor": LIGHT_GREY},
        bargap=0.15,
    )
    table = Table(
        ("Day", "Responses"),
        tuple((day_text(day.day), figure(day.count)) for day in days),
        numeric=frozenset({"Responses"}),
    )
    caption = "Responses sent each day (UK time)" + (" (exact counts, not for publication)" if exact else "")
    return Chart(
        id=chart_id,
        caption=caption,
        summary=per_day_summary(days),
        figure=figure_,
        table=table,
        empty=None if days else "No responses are held yet.",
    )


def per_day_summary(days: Sequence[DayCount]) -> str:
    if not days:
        return "No responses are held yet."
    shown = [day for day in days if day.count is not None]
    first, last = days[0].day, days[-1].day
    sentence = f"Responses came on {len(days):,} {'day' if len(days) == 1 else 'days'}"
    sentence += f", from {day_text(first)} to {day_text(last)}." if first != last else f": {day_text(first)}."
    if shown:
        busiest = max(shown, key=lambda day: (day.count, day.day))
        sentence += f" The most in a day was {busiest.count:,}, on {day_text(busiest.day)}."
    if len(shown) < len(days):
        withheld = len(days) - len(shown)
        sentence += f" {withheld:,} {'day’s count is' if withheld == 1 else 'days’ counts are'} withheld (c)."
    sentence += " Days with no responses are left out."
    return sentence


def with_publication_column(table: Table) -> Table:
    """The table for an exact download: every row says it is not for publication."""
    return Table(
        (*table.columns, "Publication"),
        tuple((*row, NOT_FOR_PUBLICATION) for row in table.rows),
        numeric=table.numeric,
    )
