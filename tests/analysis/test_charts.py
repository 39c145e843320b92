"""The charts' foundation: safe JSON and labels, tables that match, and colours that keep their contrast."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from analysis import charts

HOSTILE = "</script><script>alert(1)</script> <b>bold</b> & <a href='javascript:alert(2)'>x</a>"


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_figure_json_cannot_end_its_script_element_and_parses_back_to_the_same_text():
    figure = charts.new_figure([go.Scatter(x=["a"], y=[1], name=charts.text(HOSTILE))])
    encoded = charts.figure_json(figure)
    assert "</" not in encoded and "<" not in encoded and ">" not in encoded and "&" not in encoded
    decoded = json.loads(encoded)
    # plotly.js decodes entities and shows the text as written; no tag is ever read.
    assert decoded["data"][0]["name"] == charts.text(HOSTILE)
    assert "<script>" not in decoded["data"][0]["name"] and "&lt;script&gt;" in decoded["data"][0]["name"]


def test_text_escapes_what_plotly_would_read_as_html():
    assert charts.text("<b>Hill View</b> & Co") == "&lt;b&gt;Hill View&lt;/b&gt; &amp; Co"
    assert charts.text(None) == ""
    assert charts.text(42) == "42"


def test_every_chart_has_no_plotly_template_and_the_apps_font():
    figure = charts.new_figure()
    data = json.loads(charts.figure_json(figure))
    assert data["layout"]["font"]["family"].startswith("Arial")
    assert len(charts.figure_json(figure)) < 2000, "no plotly template: the JSON carries only what is set"


@pytest.mark.parametrize("colour", [*charts.PALETTE, *charts.SPC_COLOURS.values()])
def test_every_data_colour_keeps_three_to_one_against_white(colour):
    assert contrast(colour, "#ffffff") >= 3, colour


def test_spc_points_differ_by_symbol_as_well_as_colour():
    assert set(charts.SPC_SYMBOLS) == set(charts.SPC_COLOURS)
    assert len(set(charts.SPC_SYMBOLS.values())) == len(charts.SPC_SYMBOLS)


def test_a_table_refuses_rows_of_the_wrong_width_and_neutralises_formulas_in_its_csv():
    with pytest.raises(ValueError, match="row 2 of the table has 1 cells for 2 columns"):
        charts.Table(("Period", "Value"), (("2025-26 Q1", "41%"), ("oops",)))
    table = charts.Table(("Group", "Value"), (("=HYPERLINK(1)", "41%"), ("-5", "c")))
    assert table.to_csv() == "Group,Value\r\n'=HYPERLINK(1),41%\r\n'-5,c\r\n"


def test_points_reads_back_what_the_browser_receives():
    figure = charts.new_figure([go.Scatter(x=["2025-26 Q1", "2025-26 Q2"], y=[0.41, 0.5], name="Value")])
    assert charts.points(figure) == [{"name": "Value", "x": ["2025-26 Q1", "2025-26 Q2"], "y": [0.41, 0.5]}]
