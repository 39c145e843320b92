"""Survey measures counted from the responses in the database: bases, positives, periods, waves and groups.

Each test builds a few responses by hand, with explicit times (naive UTC, as
the database holds them), and checks the counts the measures report would
start from. The helpers at the top are shared with the other measure tests.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import event

from analysis.breakdowns import NOT_STATED
from analysis.measures import Filter, MeasureSet, PeriodKind
from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import SurveyRun, Wave, utcnow
from survey_app.services import measures as measure_service
from survey_app.services import questionnaires as questionnaire_service
from survey_app.services import runs
from survey_app.services.measure_counts import EVERYONE, measure_counts

from . import stored
from .conftest import reset_database

INFORMATION = "send_pathways_information"
OUTCOMES = "outcomes_parent_carer"
OUTCOME_AREAS = (
    "learning",
    "communication",
    "health_wellbeing",
    "independence",
    "friendships",
    "family_life",
    "community_activities",
    "feeling_safe",
    "the_future",
)
AS_OF = date(2026, 6, 30)


# Helpers ---------------------------------------------------------------------


def make_wave(name: str, baseline: bool = False) -> Wave:
    """A wave of surveys, marked as the baseline or not."""
    begin_write()
    wave = Wave(name=name, is_baseline=baseline, created_at=utcnow())
    db.session.add(wave)
    db.session.commit()
    return wave


def survey_run(
    key: str,
    slug: str,
    opens: datetime = datetime(2023, 4, 1),
    closes: datetime = datetime(2026, 3, 31),
    wave: Wave | None = None,
) -> SurveyRun:
    """A run of a shipped questionnaire between two fixed (naive UTC) times, in a wave if given."""
    version = next(v for v in questionnaire_service.latest_versions() if v.key == key)
    run = runs.open_run(version, slug, f"{version.title} ({slug})", opens, closes)
    if wave is not None:
        begin_write()
        run.wave_id = wave.id
        db.session.commit()
    return run


def add_response(run: SurveyRun, submitted_at: datetime, **answers: str | list[str]) -> None:
    """Add one response to ``run`` sent at ``submitted_at`` (naive UTC), in the transaction already begun."""
    stored.add_response(run, answers, submitted_at)


def respond(run: SurveyRun, submitted_at: datetime, **answers: str | list[str]) -> None:
    """Store one response sent at ``submitted_at`` (naive UTC), as the journey stores it."""
    stored.store_response(run, answers, submitted_at)


def shipped(*keys: str) -> MeasureSet:
    """The shipped measures file, or only the measures named."""
    measures = measure_service.measure_set()
    if not keys:
        return measures
    return dataclasses.replace(measures, measures=tuple(m for m in measures.measures if m.key in keys))


def with_source(measures: MeasureSet, key: str, **changes) -> MeasureSet:
    """The measure ``key`` alone, its source changed (an audience, a filter)."""
    measure = measures.measure(key)
    changed = dataclasses.replace(measure, source=dataclasses.replace(measure.source, **changes))
    return dataclasses.replace(measures, measures=(changed,))


def counted(
    measures: MeasureSet, kind: PeriodKind = PeriodKind.QUARTER, as_of: date = AS_OF, by: str | None = None
) -> pd.DataFrame:
    return measure_counts(measures, questionnaire_service.library().questionnaires, kind, as_of, by=by).counts


def figures(counts: pd.DataFrame, measure: str, group: str = EVERYONE) -> dict[str, tuple[int, int]]:
    """(positives, n) per period of one measure and group."""
    mine = counts[(counts["measure"] == measure) & (counts["group"] == group)]
    return {row.period: (int(row.positives), int(row.n)) for row in mine.itertuples()}


def groups(counts: pd.DataFrame, measure: str, period: str) -> dict[str, tuple[int, int]]:
    """(positives, n) per group of one measure in one period."""
    mine = counts[(counts["measure"] == measure) & (counts["period"] == period)]
    return {row.group: (int(row.positives), int(row.n)) for row in mine.itertuples()}


# Single questions ------------------------------------------------------------


def test_the_information_measure_counts_good_answers_out_of_those_who_rated_it_per_quarter(survey_db):
    """Very good and good are positive; "Don't know" and unanswered are out of the base, poor is in it."""
    run = survey_run(INFORMATION, "information-2024")
    respond(run, datetime(2024, 4, 10, 9), pathways_information="very_good")
    respond(run, datetime(2024, 5, 2, 14), pathways_information="good")
    respond(run, datetime(2024, 5, 20, 8), pathways_information="poor")
    respond(run, datetime(2024, 6, 1, 12), pathways_information="dont_know")
    respond(run, datetime(2024, 6, 3, 12), knows_sendiass="yes")  # the rating unanswered
    respond(run, datetime(2024, 7, 15, 10), pathways_information="neither")
    respond(run, datetime(2024, 8, 1, 10), pathways_information="very_good")

    counts = counted(shipped("pathways_information_good"))
    assert figures(counts, "pathways_information_good") == {"2024-25 Q1": (2, 3), "2024-25 Q2": (1, 2)}
    q1 = counts[counts["period"] == "2024-25 Q1"].iloc[0]
    # Every response to the questionnaire in the period counts towards the response rate, rated or not.
    assert q1["responses"] == 5
    assert q1["period_label"] == "2024-25 Q1 (April to June 2024)"
    assert (q1["period_start"], q1["period_end"]) == (date(2024, 4, 1), date(2024, 6, 30))


def test_the_same_responses_by_month_and_by_calendar_year(survey_db):
    run = survey_run(INFORMATION, "information-months")
    respond(run, datetime(2024, 3, 5, 9), pathways_information="good")
    respond(run, datetime(2024, 3, 6, 9), pathways_information="very_poor")
    respond(run, datetime(2024, 4, 10, 9), pathways_information="very_good")
    respond(run, datetime(2024, 4, 11, 9), pathways_information="not_applicable")
    respond(run, datetime(2025, 1, 2, 9), pathways_information="good")

    months = counted(shipped("pathways_information_good"), PeriodKind.MONTH)
    assert figures(months, "pathways_information_good") == {"2024-03": (1, 2), "2024-04": (1, 1), "2025-01": (1, 1)}
    years = counted(shipped("pathways_information_good"), PeriodKind.YEAR)
    assert figures(years, "pathways_information_good") == {"2024": (2, 3), "2025": (1, 1)}


def test_responses_after_the_as_of_day_are_not_counted(survey_db):
    """As of 10 May, a response at 23:30 UTC on 10 May (00:30 on 11 May in the UK) is in the future."""
    run = survey_run(INFORMATION, "information-as-of")
    respond(run, datetime(2024, 5, 10, 22, 30), pathways_information="good")
    respond(run, datetime(2024, 5, 10, 23, 30), pathways_information="good")

    counts = counted(shipped("pathways_information_good"), as_of=date(2024, 5, 10))
    assert figures(counts, "pathways_information_good") == {"2024-25 Q1": (1, 1)}
    assert counts["responses"].tolist() == [1]


def test_a_measure_for_one_audience_counts_only_runs_of_questionnaires_for_that_audience(survey_db):
    run = survey_run(INFORMATION, "information-audience")
    respond(run, datetime(2024, 4, 10, 9), pathways_information="good")
    respond(run, datetime(2024, 4, 11, 9), pathways_information="poor")

    measures = shipped()
    for_parents = with_source(measures, "pathways_information_good", audience="parent_carer")
    assert figures(counted(for_parents), "pathways_information_good") == {"2024-25 Q1": (1, 2)}
    for_settings = with_source(measures, "pathways_information_good", audience="setting")
    assert counted(for_settings).empty


def test_the_setting_measures_count_the_setting_questionnaire(survey_db):
    """The shipped setting measures name the setting audience, and the setting questionnaire is for it."""
    run = survey_run("ehc_plan_feedback_setting", "setting-feedback")
    respond(run, datetime(2024, 10, 1, 9), received_on_time="yes")
    respond(run, datetime(2024, 10, 2, 9), received_on_time="no")
    respond(run, datetime(2024, 10, 3, 9), received_on_time="yes")

    counts = counted(shipped("setting_received_on_time"))
    assert figures(counts, "setting_received_on_time") == {"2024-25 Q3": (2, 3)}


def test_a_filter_on_a_context_answer_counts_only_responses_that_gave_it(survey_db):
    run = survey_run(INFORMATION, "information-filter")
    respond(run, datetime(2024, 4, 10, 9), pathways_information="good", support_type="ehc_plan")
    respond(run, datetime(2024, 4, 11, 9), pathways_information="poor", support_type="ehc_plan")
    respond(run, datetime(2024, 4, 12, 9), pathways_information="very_good", support_type="ehc_plan")
    respond(run, datetime(2024, 4, 13, 9), pathways_information="good", support_type="sen_support")
    respond(run, datetime(2024, 4, 14, 9), pathways_information="good")
    respond(run, datetime(2024, 4, 15, 9), pathways_information="dont_know", support_type="ehc_plan")

    plans = with_source(shipped(), "pathways_information_good", filters=(Filter("support_type", ("ehc_plan",)),))
    assert figures(counted(plans), "pathways_information_good") == {"2024-25 Q1": (2, 3)}
    either = with_source(
        shipped(), "pathways_information_good", filters=(Filter("support_type", ("ehc_plan", "sen_support")),)
    )
    assert figures(counted(either), "pathways_information_good") == {"2024-25 Q1": (3, 4)}


# A composite measure -----------------------------------------------------------


def test_the_composite_outcomes_measure_counts_responses_better_in_at_least_half_the_areas_that_apply(survey_db):
    """Areas answered "Don't know" or "Not applicable", or left unanswered, do not count towards the half."""
    run = survey_run(OUTCOMES, "outcomes-2024")
    when = datetime(2024, 11, 5, 10)
    # Better in 1 of the 2 areas that apply (the third is "Don't know"): exactly half, positive.
    respond(run, when, learning="better", communication="same", health_wellbeing="dont_know")
    # Better in 1 of 3: not positive, but counted.
    respond(run, when, learning="better", communication="same", health_wellbeing="worse")
    # Better in 5 of 9: positive.
    respond(run, when, **dict.fromkeys(OUTCOME_AREAS[:5], "better"), **dict.fromkeys(OUTCOME_AREAS[5:], "worse"))
    # Better in 4 of 9: not positive.
    respond(run, when, **dict.fromkeys(OUTCOME_AREAS[:4], "better"), **dict.fromkeys(OUTCOME_AREAS[4:], "same"))
    # No area applies: left out.
    respond(run, when, learning="dont_know", friendships="not_applicable")
    # No outcome area answered at all: left out.
    respond(run, when, plan_length="one_to_2_years")
    # Better in the one area that applies: positive.
    respond(run, when, the_future="better", family_life="not_applicable")

    counts = counted(shipped("outcomes_better_parent_carers"))
    assert figures(counts, "outcomes_better_parent_carers") == {"2024-25 Q3": (3, 5)}
    assert counts["responses"].tolist() == [7]


def test_the_composite_measure_by_a_context_question(survey_db):
    run = survey_run(OUTCOMES, "outcomes-groups")
    when = datetime(2024, 11, 5, 10)
    respond(run, when, learning="better", school_phase="primary")
    respond(run, when, learning="worse", school_phase="primary")
    respond(run, when, learning="better", communication="better", school_phase="secondary")
    respond(run, when, learning="better", school_phase="dont_know")
    respond(run, when, learning="same")

    counts = counted(shipped("outcomes_better_parent_carers"), by="school_phase")
    assert groups(counts, "outcomes_better_parent_carers", "2024-25 Q3") == {
        "primary": (1, 2),
        "secondary": (1, 1),
        NOT_STATED: (1, 2),
    }


# Waves and baselines -----------------------------------------------------------


def two_waves(first_is_baseline: bool, second_is_baseline: bool) -> None:
    """Autumn 2023 (1 of 2 good) and spring 2024 (3 of 4 good), each a run of the information survey."""
    autumn = make_wave("Autumn 2023", baseline=first_is_baseline)
    spring = make_wave("Spring 2024", baseline=second_is_baseline)
    first = survey_run(INFORMATION, "information-autumn", datetime(2023, 10, 1), datetime(2023, 11, 30), autumn)
    second = survey_run(INFORMATION, "information-spring", datetime(2024, 3, 1), datetime(2024, 4, 30), spring)
    respond(first, datetime(2023, 10, 5, 9), pathways_information="good")
    respond(first, datetime(2023, 11, 5, 9), pathways_information="poor")
    respond(second, datetime(2024, 3, 5, 9), pathways_information="good")
    respond(second, datetime(2024, 3, 25, 9), pathways_information="very_good")
    # Spring's wave crosses the financial year: it is still one period.
    respond(second, datetime(2024, 4, 5, 9), pathways_information="good")
    respond(second, datetime(2024, 4, 6, 9), pathways_information="very_poor")


def test_by_wave_each_wave_is_one_period_from_its_first_run_opening_to_its_last_closing(survey_db):
    two_waves(first_is_baseline=False, second_is_baseline=False)
    counts = counted(shipped("pathways_information_good"), PeriodKind.WAVE)
    assert figures(counts, "pathways_information_good") == {"Autumn 2023": (1, 2), "Spring 2024": (3, 4)}
    spring = counts[counts["period"] == "Spring 2024"].iloc[0]
    assert (spring["period_start"], spring["period_end"]) == (date(2024, 3, 1), date(2024, 4, 30))
    assert spring["responses"] == 4


def test_the_first_wave_baseline_is_the_earliest_wave_when_none_is_marked(survey_db):
    two_waves(first_is_baseline=False, second_is_baseline=False)
    result = measure_counts(
        shipped("pathways_information_good"), questionnaire_service.library().questionnaires, PeriodKind.QUARTER, AS_OF
    )
    baseline = result.baselines.set_index("measure").loc["pathways_information_good"]
    assert (baseline["period"], baseline["positives"], baseline["n"]) == ("Autumn 2023", 1, 2)


def test_the_first_wave_baseline_is_the_wave_marked_as_the_baseline(survey_db):
    """Even when an earlier wave has responses, the wave an officer marked as the baseline is the baseline."""
    two_waves(first_is_baseline=False, second_is_baseline=True)
    result = measure_counts(
        shipped("pathways_information_good"), questionnaire_service.library().questionnaires, PeriodKind.QUARTER, AS_OF
    )
    baseline = result.baselines.set_index("measure").loc["pathways_information_good"]
    assert (baseline["period"], baseline["positives"], baseline["n"], baseline["period_end"]) == (
        "Spring 2024",
        3,
        4,
        date(2024, 4, 30),
    )


def test_the_baseline_is_the_whole_wave_whatever_the_breakdown(survey_db):
    two_waves(first_is_baseline=True, second_is_baseline=False)
    result = measure_counts(
        shipped("pathways_information_good"),
        questionnaire_service.library().questionnaires,
        PeriodKind.WAVE,
        AS_OF,
        by="locality",
    )
    baseline = result.baselines.set_index("measure").loc["pathways_information_good"]
    assert (baseline["period"], baseline["positives"], baseline["n"]) == ("Autumn 2023", 1, 2)


def test_a_wave_ends_on_the_last_uk_day_its_runs_were_open(survey_db):
    """A run closing at midnight at the end of 30 June (23:00 UTC, in summer time) was last open on 30 June."""
    wave = make_wave("June 2024", baseline=True)
    run = survey_run(INFORMATION, "information-june", datetime(2024, 5, 31, 23), datetime(2024, 6, 30, 23), wave)
    respond(run, datetime(2024, 6, 10, 9), pathways_information="good")
    result = measure_counts(
        shipped("pathways_information_good"), questionnaire_service.library().questionnaires, PeriodKind.WAVE, AS_OF
    )
    june = result.counts.set_index("period").loc["June 2024"]
    assert (june["period_start"], june["period_end"]) == (date(2024, 6, 1), date(2024, 6, 30))
    assert result.baselines.set_index("measure").loc["pathways_information_good", "period_end"] == date(2024, 6, 30)


def test_the_quarter_after_a_baseline_wave_is_compared_with_it(survey_db):
    """A baseline wave closing at midnight at the end of June is Q1's: Q2 is a later period, compared with it."""
    wave = make_wave("June 2024", baseline=True)
    baseline = survey_run(INFORMATION, "information-june", datetime(2024, 5, 31, 23), datetime(2024, 6, 30, 23), wave)
    later = survey_run(INFORMATION, "information-august", datetime(2024, 7, 31, 23), datetime(2024, 8, 31, 23))
    for number in range(20):
        respond(baseline, datetime(2024, 6, 1 + number, 9), pathways_information="good" if number < 8 else "poor")
        respond(later, datetime(2024, 8, 1 + number, 9), pathways_information="good" if number < 16 else "poor")

    report = measure_service.report(shipped("pathways_information_good"), PeriodKind.QUARTER, date(2024, 9, 30))
    rows = report.rows.set_index("period")
    assert rows.loc["2024-25 Q1", "status"] == "Baseline"
    assert rows.loc["2024-25 Q2", "status"] != "Baseline"
    assert rows.loc["2024-25 Q2", "change_since_baseline"] == pytest.approx(0.8 - 0.4)
    assert rows.loc["2024-25 Q2", "since_baseline"] == "improving"
    assert rows.loc["2024-25 Q2", "baseline_date"] == date(2024, 6, 30)


# Breakdowns --------------------------------------------------------------------


def test_a_breakdown_by_a_context_question_has_a_not_stated_group(survey_db):
    """Unanswered and "Not sure" are both not stated; the groups add up to everyone."""
    run = survey_run(INFORMATION, "information-groups")
    when = datetime(2024, 5, 1, 9)
    respond(run, when, pathways_information="good", support_type="ehc_plan")
    respond(run, when, pathways_information="poor", support_type="ehc_plan")
    respond(run, when, pathways_information="very_good", support_type="sen_support")
    respond(run, when, pathways_information="good", support_type="dont_know")
    respond(run, when, pathways_information="very_poor")
    respond(run, when, pathways_information="dont_know", support_type="sen_support")

    measures = shipped("pathways_information_good")
    by_support = counted(measures, by="support_type")
    assert groups(by_support, "pathways_information_good", "2024-25 Q1") == {
        "ehc_plan": (1, 2),
        "sen_support": (1, 1),
        NOT_STATED: (1, 2),
    }
    everyone = figures(counted(measures), "pathways_information_good")["2024-25 Q1"]
    in_groups = groups(by_support, "pathways_information_good", "2024-25 Q1").values()
    assert everyone == (sum(p for p, _ in in_groups), sum(n for _, n in in_groups)) == (3, 5)


def test_the_breakdown_shown_to_officers_names_each_group_and_keeps_not_stated(survey_db):
    run = survey_run(INFORMATION, "information-breakdown")
    when = datetime(2024, 5, 1, 9)
    for number in range(12):
        respond(run, when, pathways_information="good" if number % 2 else "poor", locality="north")
    for number in range(20):
        respond(run, when, pathways_information="good" if number % 5 > 1 else "poor")

    table = measure_service.breakdown(shipped("pathways_information_good"), PeriodKind.QUARTER, AS_OF, "locality")
    rows = {row["group"]: row for row in table.to_dict("records")}
    assert set(rows) == {"north", NOT_STATED}
    assert (rows["north"]["positives"], rows["north"]["n"]) == (6, 12)
    assert (rows[NOT_STATED]["positives"], rows[NOT_STATED]["n"]) == (12, 20)


def test_the_test_of_whether_groups_differ_is_shown_only_when_no_group_count_is_withheld(survey_db):
    run = survey_run(INFORMATION, "information-test")
    when = datetime(2024, 5, 1, 9)
    for number in range(40):
        respond(run, when, pathways_information="good" if number < 30 else "poor", locality="north")
        respond(run, when, pathways_information="good" if number < 10 else "poor", locality="south")
    respond(run, datetime(2024, 8, 1, 9), pathways_information="good", locality="north")
    for number in range(40):
        respond(run, datetime(2024, 8, 2, 9), pathways_information="good" if number < 20 else "poor", locality="south")

    table = measure_service.breakdown(shipped("pathways_information_good"), PeriodKind.QUARTER, AS_OF, "locality")
    q1 = table[table["period"] == "2024-25 Q1"]
    assert set(q1["test"]) == {"chi-square test"}
    assert all(isinstance(value, float) and value < 0.001 for value in q1["p_value"])
    # In Q2 one area had one response: its count is withheld, and so is the test, which would give it away.
    q2 = table[table["period"] == "2024-25 Q2"]
    assert set(q2["positives"]) == {"c"}
    assert set(q2["p_value"]) == {"c"} and set(q2["statistic"]) == {"c"}
    assert set(q2["test"]) == {""}


# How the counting reaches the database -------------------------------------------


ANSWER_TABLE = re.compile(r"\banswer\b", re.IGNORECASE)


def statements_while_counting(measures: MeasureSet, by: str | None = None) -> list[str]:
    """Every SQL statement sent while the measures are counted."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        counted(measures, by=by)
        counted(measures, PeriodKind.WAVE, by=by)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return sent


def many_responses(count: int) -> None:
    """``count`` responses to the information survey and to the outcomes survey, in one transaction each."""
    for key in (INFORMATION, OUTCOMES):
        run = survey_run(key, f"{key}-many")
        begin_write()
        for number in range(count):
            add_response(
                run,
                datetime(2024, 4 + number % 9, 1 + number % 28, number % 24, 30),
                pathways_information=("very_good", "good", "poor", "dont_know")[number % 4],
                support_type=("ehc_plan", "sen_support")[number % 2],
                learning=("better", "same")[number % 2],
                the_future="better",
            )
        db.session.commit()


@pytest.mark.parametrize("by", [None, "support_type"])
def test_the_counts_are_read_from_answer_count_never_the_answers_and_the_statements_do_not_grow(survey_db, by):
    """The answers are counted as they are stored (answer_count): the report never counts them again.
    (tests/test_answer_counts.py checks a measure whose counts were made by another definition: it is counted
    from the answers, through GROUP BY only.)"""
    measures = shipped()
    many_responses(10)
    few = statements_while_counting(measures, by)
    db.session.remove()  # forget the first responses' objects: the ids are used again after the reset
    reset_database()
    many_responses(200)
    many = statements_while_counting(measures, by)

    touching = [statement for statement in many if ANSWER_TABLE.search(statement)]
    assert not touching, touching
    assert any("answer_count" in statement for statement in many)
    assert len(many) == len(few)
    # The counts themselves are right for the many responses.
    counts = counted(shipped("pathways_information_good"), PeriodKind.YEAR)
    assert figures(counts, "pathways_information_good") == {"2024": (100, 150)}
