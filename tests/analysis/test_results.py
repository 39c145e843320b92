"""A run's results: each closed question's answers in order, apart from the scale where they should be,
suppressed so that nothing hidden can be worked out, and charts that hold the same figures as their tables."""

from __future__ import annotations

import html
import json
import random
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from analysis import charts, results, results_charts
from analysis.disclosure import DisclosureRules
from questionnaires.schema import Condition, Option, Question, QuestionType, Section

RULES = DisclosureRules()
HOSTILE = "</script><script>alert(1)</script> <b>bold</b> & <img src=x onerror=alert(2)>"


def likert(key="rating", dont_know=True, not_applicable=False, show_if=()):
    options = [
        Option("very_good", "Very good"),
        Option("good", "Good"),
        Option("neither", "Neither good nor poor"),
        Option("poor", "Poor"),
        Option("very_poor", "Very poor"),
    ]
    if dont_know:
        options.append(Option("dont_know", "Don't know", apart=True))
    if not_applicable:
        options.append(Option("not_applicable", "Not applicable", apart=True))
    return Question(key, QuestionType.LIKERT, "How good is it?", options=tuple(options), scale="good5", show_if=show_if)


def several(key="needs"):
    return Question(
        key,
        QuestionType.MULTIPLE_CHOICE,
        "Which needs are missing?",
        options=(
            Option("learning", "Learning"),
            Option("health", "Health"),
            Option("social", "Social care"),
            Option("none", "None of these", apart=True, exclusive=True),
        ),
    )


def single(options: int, key="choice"):
    return Question(
        key,
        QuestionType.SINGLE_CHOICE,
        "Which one?",
        options=tuple(Option(f"option_{i}", f"Option {i}") for i in range(options)),
    )


def row(distribution: results.Distribution, value: str) -> results.AnswerRow:
    return next(row for row in distribution.rows if row.value == value)


# Which questions, and in what order ------------------------------------------


def test_only_closed_questions_outside_equality_monitoring_are_charted():
    from questionnaires import load_directory

    library = load_directory(localities=["North", "South"])
    questionnaire = library.questionnaires["send_pathways_information"]
    charted = results.charted_questions(questionnaire)
    assert [question.key for question in charted][:3] == ["aware_local_offer", "used_local_offer", "found_what_needed"]
    assert all(question.type.is_choice for question in charted)
    assert not any(question.section is Section.EQUALITY for question in charted)
    assert "looking_for" not in {question.key for question in charted}  # free text
    assert "locality" in {question.key for question in charted}  # context questions are shown


def test_answers_come_in_the_scale_order_with_those_apart_after_and_out_of_the_base():
    question = likert(not_applicable=True)
    distribution = results.distribution(
        question,
        {"poor": 20, "very_good": 30, "good": 25, "neither": 15, "very_poor": 10, "dont_know": 7, "not_applicable": 8},
        responses=120,
        respondents=None,
        rules=None,
    )
    assert [r.value for r in distribution.rows] == [
        "very_good", "good", "neither", "poor", "very_poor", "dont_know", "not_applicable", results.NO_ANSWER,
    ]  # fmt: skip
    assert distribution.n == 100  # the scale's answers only
    assert [r.percent for r in distribution.on_scale] == [30.0, 25.0, 15.0, 20.0, 10.0]
    assert row(distribution, "dont_know").count == 7 and row(distribution, "dont_know").percent is None
    assert row(distribution, "not_applicable").apart and not row(distribution, "not_applicable").in_base
    assert row(distribution, results.NO_ANSWER).count == 120 - 115
    assert distribution.kind is results.ChartKind.STACKED and distribution.ordered and distribution.exact


def test_a_routed_question_says_people_were_not_asked():
    asked = results.distribution(likert(), {"good": 3}, 10, None, None)
    routed = results.distribution(likert(show_if=(Condition("used", ("yes",)),)), {"good": 3}, 10, None, None)
    assert row(asked, results.NO_ANSWER).label == "Not answered"
    assert row(routed, results.NO_ANSWER).label == "Not asked or not answered"


def test_several_answers_are_shares_of_the_people_who_answered_none_of_these_included():
    distribution = results.distribution(
        several(), {"learning": 30, "health": 20, "none": 10}, responses=100, respondents=50, rules=None
    )
    assert distribution.kind is results.ChartKind.BARS and distribution.several
    assert distribution.n == 50
    assert [(r.value, r.percent) for r in distribution.rows if r.in_base] == [
        ("learning", 60.0), ("health", 40.0), ("social", 0.0), ("none", 20.0),
    ]  # fmt: skip
    assert row(distribution, results.NO_ANSWER).count == 50


def test_a_single_answer_question_with_many_answers_is_a_bar_each_and_a_few_is_one_bar():
    assert results.kind_of(single(6)) is results.ChartKind.STACKED
    assert results.kind_of(single(7)) is results.ChartKind.BARS


def test_an_answer_the_version_does_not_offer_is_still_counted_apart():
    distribution = results.distribution(likert(), {"good": 12, "excellent": 3}, 20, None, None)
    other = row(distribution, "excellent")
    assert other.apart and not other.in_base and other.label == "Other answer (excellent)"
    assert distribution.n == 12


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError, match="from 10 responses"):
        results.distribution(likert(), {"good": 11}, 10, None, None)
    with pytest.raises(ValueError, match="more often than"):
        results.distribution(several(), {"learning": 6}, 10, 5, None)
    with pytest.raises(ValueError, match="columns"):
        results.distributions([likert()], pd.DataFrame({"question": []}), 0, {}, None)


# Disclosure control ------------------------------------------------------------


def test_a_small_count_is_hidden_with_the_next_smallest_so_neither_can_be_worked_out():
    distribution = results.distribution(
        likert(),
        {"very_good": 30, "good": 25, "neither": 3, "poor": 20, "very_poor": 12, "dont_know": 10},
        100,
        None,
        RULES,
    )
    assert row(distribution, "neither").count is None
    assert row(distribution, "very_poor").count is None  # the next smallest on the scale
    assert distribution.n == 90  # still shown: two hidden parts cannot be told apart
    assert row(distribution, "very_good").percent == 33.3
    assert row(distribution, "neither").percent is None and row(distribution, "very_poor").percent is None


def test_a_small_dont_know_hides_another_of_the_counts_apart_from_the_scale():
    distribution = results.distribution(likert(), {"very_good": 40, "good": 40, "dont_know": 2}, 100, None, RULES)
    assert row(distribution, "dont_know").count is None
    # n + Don't know + not answered = responses, so one more of them is hidden: not answered (18) is smaller.
    assert row(distribution, results.NO_ANSWER).count is None
    assert distribution.n == 80


def test_no_percentage_on_a_base_under_the_minimum():
    distribution = results.distribution(likert(), {"very_good": 0, "good": 9, "dont_know": 12}, 21, None, RULES)
    assert distribution.n == 9
    assert row(distribution, "good").count == 9 and row(distribution, "good").percent is None
    assert row(distribution, "very_good").count == 0


def test_several_answers_hide_an_answer_when_few_did_not_choose_it():
    distribution = results.distribution(several(), {"learning": 47, "health": 20, "none": 3}, 60, 50, RULES)
    assert row(distribution, "learning").count is None  # 3 of the 50 did not choose it
    assert row(distribution, "none").count is None  # a small count
    assert row(distribution, "health").count == 20 and row(distribution, "health").percent == 40.0
    assert distribution.n == 50


def test_several_answers_counted_only_as_totals_by_retention_have_no_base():
    distribution = results.distribution(several(), {"learning": 47, "health": 2}, 60, None, RULES)
    assert not distribution.base_known and distribution.n is None
    assert row(distribution, "learning").count == 47 and row(distribution, "learning").percent is None
    assert row(distribution, "health").count is None
    assert results.NO_ANSWER not in {r.value for r in distribution.rows}


def test_exact_counts_hide_nothing():
    distribution = results.distribution(likert(), {"very_good": 2, "good": 1, "dont_know": 1}, 5, None, None)
    assert [r.count for r in distribution.rows] == [2, 1, 0, 0, 0, 1, 1]
    assert row(distribution, "very_good").percent == pytest.approx(66.7)
    assert not distribution.withheld


def _reader_can_pin_down(distribution: results.Distribution, truth: dict[str, int], responses: int) -> list[str]:
    """The hidden cells (and small complements) whose value the published figures fix, by linear programming.

    The reader knows every shown count, n where shown, the responses, and
    that the cells add up as the layout says; each hidden cell must have at
    least two possible values. The sums are those of a two-level table, which
    is totally unimodular: an interval of real values holds whole ones too.
    """
    rows = list(distribution.rows)
    names = [r.value for r in rows]
    true = {r.value: (truth.get(r.value, 0) if r.value != results.NO_ANSWER else None) for r in rows}
    answered = sum(truth.values())
    if distribution.several:
        respondents = truth["@respondents"]
        true = {value: count for value, count in true.items() if value != "@respondents"}
        true[results.NO_ANSWER] = responses - respondents
        variables = [*names, "@n"] + [f"!{value}" for value in names if value != results.NO_ANSWER]
    else:
        true[results.NO_ANSWER] = responses - answered
        variables = [*names, "@n"]
    place = {name: i for i, name in enumerate(variables)}
    equations: list[tuple[dict[str, int], int]] = []
    for r in rows:
        if r.count is not None:
            equations.append(({r.value: 1}, r.count))
    if distribution.n is not None:
        equations.append(({"@n": 1}, distribution.n))
    if distribution.several:
        for value in names:
            if value != results.NO_ANSWER:
                equations.append(({value: 1, f"!{value}": 1, "@n": -1}, 0))
        equations.append(({"@n": 1, results.NO_ANSWER: 1}, responses))
    else:
        scale = [r.value for r in rows if r.in_base]
        equations.append(({**{value: 1 for value in scale}, "@n": -1}, 0))
        equations.append(({"@n": 1, **{r.value: 1 for r in rows if not r.in_base}}, responses))
    matrix = np.zeros((len(equations), len(variables)))
    right = np.zeros(len(equations))
    for i, (coefficients, constant) in enumerate(equations):
        for name, coefficient in coefficients.items():
            matrix[i, place[name]] = coefficient
        right[i] = constant
    protected = [r.value for r in rows if r.count is None]
    if distribution.several:
        respondents = truth["@respondents"]
        protected += [
            f"!{r.value}" for r in rows if r.value != results.NO_ANSWER and 1 <= respondents - true[r.value] <= 5
        ]
    if distribution.n is None:
        protected.append("@n")
    pinned = []
    for name in protected:
        objective = np.zeros(len(variables))
        objective[place[name]] = 1
        low = linprog(objective, A_eq=matrix, b_eq=right, bounds=(0, None))
        high = linprog(-objective, A_eq=matrix, b_eq=right, bounds=(0, None))
        assert low.status == 0, "the published figures must be consistent with the truth"
        if high.status == 0 and abs(-high.fun - low.fun) < 1e-7:
            pinned.append(name)
    return pinned


@pytest.mark.parametrize("seed", range(300))
def test_no_hidden_count_can_be_worked_out_from_what_is_published(seed):
    rng = random.Random(seed)
    if rng.random() < 0.7:
        question = likert(not_applicable=rng.random() < 0.5)
        truth = {option.value: rng.choice([0, rng.randint(1, 6), rng.randint(0, 40)]) for option in question.options}
        responses = sum(truth.values()) + rng.choice([0, rng.randint(1, 6), rng.randint(0, 60)])
        distribution = results.distribution(question, truth, responses, None, RULES)
    else:
        question = several()
        respondents = rng.choice([rng.randint(1, 8), rng.randint(8, 60)])
        truth = {
            option.value: rng.choice([0, rng.randint(0, respondents), max(0, respondents - rng.randint(0, 5))])
            for option in question.options
        }
        responses = respondents + rng.choice([0, rng.randint(1, 6), rng.randint(0, 60)])
        distribution = results.distribution(question, truth, responses, respondents, RULES)
        truth = {**truth, "@respondents": respondents}
    shown = [r.count for r in distribution.rows if r.count is not None]
    assert not [count for count in shown if 1 <= count <= RULES.threshold], "a small count is shown"
    assert not _reader_can_pin_down(distribution, truth, responses)
    for r in distribution.rows:
        if r.percent is not None:
            assert r.count is not None and distribution.n is not None and distribution.n >= RULES.minimum_base


def test_days_with_a_small_count_are_withheld_with_another_so_none_can_be_worked_out():
    days = [(date(2026, 5, day), count) for day, count in ((1, 12), (2, 3), (3, 40), (4, 9))]
    published = results.daily_counts(days, RULES)
    assert [day.count for day in published] == [12, None, 40, None]
    assert [day.count for day in results.daily_counts(days, None)] == [12, 3, 40, 9]


def test_the_response_rate_is_withheld_with_a_small_count_or_denominator():
    assert results.response_rate(150, 600, "expected eligible", RULES) == results.ResponseRate(
        150, 600, "expected eligible", 25.0
    )
    assert results.response_rate(4, 600, "invitations", RULES).percent is None
    assert results.response_rate(4, 600, "invitations", RULES).responses is None
    assert results.response_rate(6, 8, "invitations", RULES).percent is None
    assert results.response_rate(6, None, None, RULES).percent is None
    assert results.response_rate(4, 8, "invitations", None).percent == 50.0


# Charts ---------------------------------------------------------------------


def figure_data(chart: charts.Chart) -> dict:
    return json.loads(chart.figure_json())


def table_rows(chart: charts.Chart) -> dict[str, tuple[str, ...]]:
    return {cells[0]: cells[1:] for cells in chart.table.rows}


def test_a_stacked_chart_holds_the_percentages_of_its_table_in_scale_order():
    distribution = results.distribution(
        likert(),
        {"very_good": 30, "good": 25, "neither": 15, "poor": 20, "very_poor": 10, "dont_know": 7},
        117,
        None,
        RULES,
    )
    chart = results_charts.answers_chart(distribution, "answers-rating")
    data = figure_data(chart)
    table = table_rows(chart)
    assert [trace["name"] for trace in data["data"]] == [
        "Very good",
        "Good",
        "Neither good nor poor",
        "Poor",
        "Very poor",
    ]
    for trace in data["data"]:
        assert f"{trace['x'][0]:.1f}%" == table[trace["name"]][1]
        assert trace["orientation"] == "h" and trace["marker"]["line"]["color"] == "#ffffff"
    assert data["layout"]["barmode"] == "stack" and data["layout"]["legend"]["traceorder"] == "normal"
    assert table["Don't know"] == ("7", "Left out") and table["Not answered"] == ("10", "Left out")
    assert table["All answers on the scale"] == ("100", "100%")
    assert "Don't know" not in chart.figure_json()  # apart from the scale: in the sentence and the table
    assert "“Very good” 30.0%" in chart.summary and "7 “Don't know”" in chart.summary
    assert chart.empty is None


def test_withheld_answers_are_not_in_the_chart_only_a_withheld_share_of_them_together():
    distribution = results.distribution(
        likert(), {"very_good": 30, "good": 25, "neither": 3, "poor": 20, "very_poor": 12}, 90, None, RULES
    )
    chart = results_charts.answers_chart(distribution, "answers-rating")
    data = figure_data(chart)
    names = [trace["name"] for trace in data["data"]]
    assert names == ["Very good", "Good", "Poor", results_charts.WITHHELD]
    assert data["data"][-1]["x"] == [round(100 * 15 / 90, 1)]  # the two hidden together: 100 less those shown
    encoded = chart.figure_json()
    assert "Neither good nor poor: " not in encoded and "(3 of" not in encoded and "(12 of" not in encoded
    assert table_rows(chart)["Neither good nor poor"] == ("c", "c")
    assert "Withheld (c): “Neither good nor poor” and “Very poor”" in chart.summary


def test_a_chart_with_no_percentages_says_why_and_keeps_its_table():
    distribution = results.distribution(likert(), {"good": 7}, 7, None, RULES)
    chart = results_charts.answers_chart(distribution, "answers-rating")
    assert chart.empty and "too few" in chart.empty
    assert table_rows(chart)["Good"] == ("7", "c")
    assert all("x" not in trace or trace["x"] == [] for trace in figure_data(chart)["data"])
    nobody = results_charts.answers_chart(results.distribution(likert(), {}, 8, None, RULES), "answers-rating")
    assert nobody.empty == "Nobody has given an answer to this question yet." == nobody.summary


def test_a_bar_for_each_answer_holds_the_percentages_of_its_table():
    distribution = results.distribution(several(), {"learning": 30, "health": 2, "none": 10}, 100, 50, RULES)
    chart = results_charts.answers_chart(distribution, "answers-needs")
    bars, withheld = figure_data(chart)["data"]
    table = table_rows(chart)
    assert bars["y"] == ["Learning", "Social care", "None of these"]
    for name, percent in zip(bars["y"], bars["x"], strict=True):
        assert f"{percent:.1f}%" == table[name][1]
    assert withheld["y"] == ["Health"] and withheld["text"] == ["c"]
    assert bars["marker"]["color"][-1] == charts.GREY  # None of these: apart from the answers
    assert table["People who answered"] == ("50", "")
    assert "add up to more than 100%" in chart.summary
    assert "more than one" in chart.caption


def test_responses_per_day_chart_holds_its_table_and_marks_withheld_days():
    days = results.daily_counts(
        [(date(2026, 5, 1), 12), (date(2026, 5, 2), 3), (date(2026, 5, 4), 40), (date(2026, 5, 5), 9)], RULES
    )
    chart = results_charts.responses_per_day_chart(days, "daily-responses", exact=False)
    bars, withheld = figure_data(chart)["data"]
    assert list(zip(bars["x"], bars["y"], strict=True)) == [("2026-05-01", 12), ("2026-05-04", 40)]
    assert withheld["x"] == ["2026-05-02", "2026-05-05"] and withheld["text"] == ["c", "c"]
    assert chart.table.rows == (("1 May 2026", "12"), ("2 May 2026", "c"), ("4 May 2026", "40"), ("5 May 2026", "c"))
    assert "2 days’ counts are withheld (c)" in chart.summary and "The most in a day was 40" in chart.summary
    exact = results_charts.responses_per_day_chart(results.daily_counts([], None), "daily-responses", exact=True)
    assert exact.empty == "No responses are held yet." and "not for publication" in exact.caption


def test_hostile_text_in_labels_is_escaped_in_the_figure():
    question = Question(
        "q",
        QuestionType.LIKERT,
        HOSTILE,
        options=(Option("a", HOSTILE), Option("b", "Fine")),
        scale="x",
    )
    for distribution in (
        results.distribution(question, {"a": 20, "b": 30}, 50, None, RULES),
        results.distribution(
            Question("q", QuestionType.MULTIPLE_CHOICE, HOSTILE, options=question.options), {"a": 20}, 50, 40, RULES
        ),
    ):
        chart = results_charts.answers_chart(distribution, "answers-q")
        encoded = chart.figure_json()
        assert "<" not in encoded and ">" not in encoded and "&" not in encoded.replace("\\u0026", "")
        decoded = json.dumps(json.loads(encoded))
        assert "<script>" not in decoded and "<img" not in decoded and "<b>" not in decoded
        assert html.escape("<script>", quote=False) in decoded
        # The table and sentence are plain text, escaped by the template.
        assert chart.table.rows[0][0] == HOSTILE


def test_a_scales_colours_run_from_blue_to_orange_and_keep_their_contrast():
    from tests.analysis.test_charts import contrast

    for colours in results_charts.SCALE_COLOURS.values():
        for colour in colours:
            assert contrast(colour, "#ffffff") >= 4.5, colour  # white percentages inside, and 3:1 for the part
    five = results_charts.SCALE_COLOURS[5]
    assert five[0] == results_charts.DARK_BLUE and five[-1] == results_charts.DARK_VERMILION
    assert len(set(five)) == 5


def test_an_exact_download_says_on_every_row_that_it_is_not_for_publication():
    table = charts.Table(("Answer", "Number"), (("Yes", "3"), ("No", "1")))
    marked = results_charts.with_publication_column(table)
    assert marked.to_csv().splitlines()[1:] == [
        "Yes,3,Not for publication: exact counts",
        "No,1,Not for publication: exact counts",
    ]
