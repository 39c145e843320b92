"""The measures file: every problem reported with its file, line and field, and valid files built exactly.

Each refusal is checked against a small file written for it, so that the line
and field in the message are the ones an officer would look for. The checks
against questionnaires use the shipped library, loaded as the app loads it
with the default areas.
"""

from __future__ import annotations

import random
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest

from analysis.measures import (
    LEFT_OUT_BY_DEFAULT,
    Accumulation,
    Baseline,
    Benchmark,
    CompositeSource,
    Filter,
    Measure,
    MeasureSet,
    PeriodKind,
    Polarity,
    Population,
    RecordedKind,
    RecordedSource,
    StatusRules,
    SurveySource,
    Target,
)
from analysis.measures_file import DEFAULT_FILE, MeasuresFileError, load_measures
from questionnaires import Problem, Questionnaire, load_directory
from questionnaires.loader import DIRECTORY
from questionnaires.schema import Section

LOCALITIES = ["North", "South", "East", "West"]

SURVEY = """\
measures:
  - key: pathways_information_good
    title: Pathways information rated good
    definition: Parent carers rating the information about SEND pathways very good or good.
    polarity: higher_is_better
    survey:
      questionnaire: send_pathways_information
      question: pathways_information
      positive: [very_good, good]
"""

RECORDED = """\
measures:
  - key: plans_issued_within_20_weeks
    reference: SEND6
    title: New EHC plans issued within 20 weeks
    definition: New plans issued within 20 weeks, excluding exceptions, cumulative over the year.
    polarity: higher_is_better
    recorded:
      kind: proportion
      frequency: quarter
      accumulation: cumulative_year
"""

COUNT = """\
measures:
  - key: open_plans
    title: Open EHC plans
    definition: The number of open plans at the end of each quarter.
    polarity: lower_is_better
    recorded:
      kind: count
      frequency: quarter
      accumulation: snapshot
"""

COMPOSITE = """\
measures:
  - key: outcomes_better_in_half
    title: Better in at least half the areas
    definition: Better in at least half of the applicable outcome areas.
    polarity: higher_is_better
    composite:
      questionnaire: outcomes_parent_carer
      questions: [learning, communication, the_future]
      positive: [better]
      at_least: 50%
"""

POPULATION = """\
measures:
  - key: pathways_information_good
    title: Pathways information rated good
    definition: Parent carers rating the information about SEND pathways very good or good.
    polarity: higher_is_better
    survey:
      questionnaire: send_pathways_information
      question: pathways_information
      positive: [very_good, good]
populations:
  - key: families_by_locality
    title: Families of children with an EHC plan, by area
    audience: parent_carer
    question: locality
    source: Case management system, January 2026
    counts: {north: 820, south: 640, east: 510, west: 430}
"""

VALID = """\
settings:
  minimum_base: 20
  significance: 10%
  completed_after: 3
  power: 90
measures:
  - key: pathways_information_good
    reference: B1
    title: Parent carers rating information on SEND pathways good
    definition: >
      Parent carers rating the information
      very good or good.
    polarity: higher_is_better
    survey:
      questionnaire: send_pathways_information
      question: pathways_information
      positive: [very_good, good]
      left_out: [dont_know]
      audience: parent_carer
      where:
        - question: support_type
          any_of: [ehc_plan, sen_support]
        - question: locality
          any_of: [north]
    baseline:
      value: 38%
      date: 2021-11-30
      n: 212
    targets:
      - value: 85%
        by: 2023-12-31
      - value: 95
        by: 2024-02-29
    benchmarks:
      - name: National
        value: 58.0%
        date: 2019-01-01
        source: DfE SEN2 2019
  - key: outcomes_better_in_half
    title: Better in at least half of the outcome areas
    definition: Better in at least half of the applicable outcome areas.
    polarity: higher_is_better
    composite:
      questionnaires: [outcomes_parent_carer, outcomes_young_person]
      questions: [learning, communication, the_future]
      positive: [better]
      at_least: 50%
      minimum_applicable: 2
      left_out: [dont_know, not_applicable, same]
    baseline: first_wave
  - key: plans_issued_within_20_weeks
    reference: SEND6
    title: New EHC plans issued within 20 weeks
    definition: New plans issued within 20 weeks, excluding exceptions, cumulative over the year.
    polarity: higher_is_better
    recorded:
      kind: proportion
      frequency: quarter
      accumulation: cumulative_year
      origin: Case management system
    baseline: {value: 30%, date: 2018-06-30}
    targets: [{value: 75%, by: 2019-03-31}]
  - key: open_plans
    reference: SEND1
    title: Open EHC plans
    definition: The number of open plans at the end of each month.
    polarity: lower_is_better
    recorded: {kind: count, frequency: month, accumulation: snapshot}
    baseline: {value: 2039, date: 2018-10-01}
    benchmarks: [{name: Statistical neighbours, value: 2100, date: 2018-01-01, source: LAIT 2018}]
  - key: reviews_in_timescale
    title: Annual reviews in timescale
    definition: Reviews held within 12 months, of those due in the year.
    polarity: higher_is_better
    recorded: {kind: proportion, frequency: year}
populations:
  - key: ehc_plan_families_by_locality
    title: Families of children with an EHC plan, by area
    audience: parent_carer
    question: locality
    source: Case management system, January 2026
    counts: {north: 820, south: 640, east: 510, west: 0}
  - key: respondents_by_sex
    title: Parent carers by sex
    question: respondent_sex
    source: Census 2021
    counts: {female: 900, male: 300}
"""


@pytest.fixture(scope="module")
def library() -> dict[str, Questionnaire]:
    loaded = load_directory(DIRECTORY, LOCALITIES)
    assert loaded.problems == []
    return loaded.questionnaires


def write(tmp_path: Path, text: str, name: str = "measures.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def variant(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the nth line containing ``fragment``."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[occurrence - 1]


def problems_in(tmp_path: Path, text: str, questionnaires: dict[str, Questionnaire] | None = None) -> list[Problem]:
    path = write(tmp_path, text)
    with pytest.raises(MeasuresFileError) as raised:
        load_measures(path, questionnaires)
    return raised.value.problems


def assert_problem(problems: list[Problem], line: int, field: str, *fragments: str) -> Problem:
    """The problem at ``line`` and ``field`` whose message has every fragment, shown as file:line: field: message."""
    for problem in problems:
        if (
            problem.line == line
            and problem.field == field
            and all(fragment in problem.message for fragment in fragments)
        ):
            assert problem.file.endswith("measures.yaml")
            where = f"{field}: " if field else ""
            assert str(problem) == f"{problem.file}:{line}: {where}{problem.message}"
            return problem
    raise AssertionError(
        f"no problem at line {line}, field {field!r} with {fragments}; found:\n" + "\n".join(map(str, problems))
    )


def assert_only(problems: list[Problem], line: int, field: str, *fragments: str) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return assert_problem(problems, line, field, *fragments)


# A valid file


def test_a_valid_file_builds_exactly_the_measures_it_defines(tmp_path: Path, library) -> None:
    path = write(tmp_path, VALID)
    loaded = load_measures(path, library)
    expected = MeasureSet(
        measures=(
            Measure(
                key="pathways_information_good",
                reference="B1",
                title="Parent carers rating information on SEND pathways good",
                definition="Parent carers rating the information very good or good.",
                polarity=Polarity.HIGHER_IS_BETTER,
                source=SurveySource(
                    questionnaires=("send_pathways_information",),
                    question="pathways_information",
                    positive=("very_good", "good"),
                    left_out=("dont_know",),
                    audience="parent_carer",
                    filters=(
                        Filter(question="support_type", any_of=("ehc_plan", "sen_support")),
                        Filter(question="locality", any_of=("north",)),
                    ),
                ),
                baseline=Baseline(value=0.38, date=date(2021, 11, 30), n=212),
                targets=(Target(value=0.85, by=date(2023, 12, 31)), Target(value=0.95, by=date(2024, 2, 29))),
                benchmarks=(Benchmark(name="National", value=0.58, date=date(2019, 1, 1), source="DfE SEN2 2019"),),
            ),
            Measure(
                key="outcomes_better_in_half",
                title="Better in at least half of the outcome areas",
                definition="Better in at least half of the applicable outcome areas.",
                polarity=Polarity.HIGHER_IS_BETTER,
                source=CompositeSource(
                    questionnaires=("outcomes_parent_carer", "outcomes_young_person"),
                    questions=("learning", "communication", "the_future"),
                    positive=("better",),
                    at_least=0.5,
                    left_out=("dont_know", "not_applicable", "same"),
                    minimum_applicable=2,
                ),
                baseline=Baseline(first_wave=True),
            ),
            Measure(
                key="plans_issued_within_20_weeks",
                reference="SEND6",
                title="New EHC plans issued within 20 weeks",
                definition="New plans issued within 20 weeks, excluding exceptions, cumulative over the year.",
                polarity=Polarity.HIGHER_IS_BETTER,
                source=RecordedSource(
                    kind=RecordedKind.PROPORTION,
                    frequency=PeriodKind.QUARTER,
                    accumulation=Accumulation.CUMULATIVE_YEAR,
                    origin="Case management system",
                ),
                baseline=Baseline(value=0.3, date=date(2018, 6, 30)),
                targets=(Target(value=0.75, by=date(2019, 3, 31)),),
            ),
            Measure(
                key="open_plans",
                reference="SEND1",
                title="Open EHC plans",
                definition="The number of open plans at the end of each month.",
                polarity=Polarity.LOWER_IS_BETTER,
                source=RecordedSource(
                    kind=RecordedKind.COUNT, frequency=PeriodKind.MONTH, accumulation=Accumulation.SNAPSHOT
                ),
                baseline=Baseline(value=2039.0, date=date(2018, 10, 1)),
                benchmarks=(
                    Benchmark(name="Statistical neighbours", value=2100.0, date=date(2018, 1, 1), source="LAIT 2018"),
                ),
            ),
            Measure(
                key="reviews_in_timescale",
                title="Annual reviews in timescale",
                definition="Reviews held within 12 months, of those due in the year.",
                polarity=Polarity.HIGHER_IS_BETTER,
                source=RecordedSource(kind=RecordedKind.PROPORTION, frequency=PeriodKind.YEAR),
            ),
        ),
        rules=StatusRules(minimum_base=20, significance=0.1, completed_after=3, power=0.9),
        populations=(
            Population(
                key="ehc_plan_families_by_locality",
                title="Families of children with an EHC plan, by area",
                question="locality",
                counts={"north": 820, "south": 640, "east": 510, "west": 0},
                source="Case management system, January 2026",
                audience="parent_carer",
            ),
            Population(
                key="respondents_by_sex",
                title="Parent carers by sex",
                question="respondent_sex",
                counts={"female": 900, "male": 300},
                source="Census 2021",
            ),
        ),
        source=str(path),
    )
    assert loaded == expected
    # The same file without the questionnaires builds the same measures.
    assert load_measures(path) == expected
    open_plans = loaded.measure("open_plans")
    assert open_plans.is_count and open_plans.is_recorded
    assert isinstance(open_plans.baseline.value, float)
    assert loaded.measure("pathways_information_good").final_target == Target(0.95, date(2024, 2, 29))


def test_defaults_apply_where_the_file_is_silent(tmp_path: Path, library) -> None:
    loaded = load_measures(write(tmp_path, SURVEY), library)
    assert loaded.rules == StatusRules()
    assert loaded.populations == ()
    (measure,) = loaded.measures
    assert measure.reference == ""
    assert measure.baseline is None and measure.targets == () and measure.benchmarks == ()
    assert measure.source.left_out == LEFT_OUT_BY_DEFAULT
    assert measure.source.audience is None and measure.source.filters == ()
    recorded = load_measures(write(tmp_path, variant(RECORDED, "      accumulation: cumulative_year\n", "")))
    assert recorded.measures[0].source == RecordedSource(RecordedKind.PROPORTION, PeriodKind.QUARTER)
    composite = load_measures(write(tmp_path, COMPOSITE), library).measures[0].source
    assert composite.minimum_applicable == 1 and composite.left_out == LEFT_OUT_BY_DEFAULT


def test_first_wave_baseline(tmp_path: Path, library) -> None:
    text = SURVEY + "    baseline: first_wave\n    targets:\n      - value: 75%\n        by: 2027-12-31\n"
    (measure,) = load_measures(write(tmp_path, text), library).measures
    assert measure.baseline == Baseline(first_wave=True)
    assert measure.baseline.value is None and measure.baseline.date is None
    assert measure.targets == (Target(0.75, date(2027, 12, 31)),)


def test_left_out_may_be_empty_to_count_every_answer(tmp_path: Path, library) -> None:
    text = variant(
        SURVEY, "      positive: [very_good, good]\n", "      positive: [very_good, good]\n      left_out: []\n"
    )
    assert load_measures(write(tmp_path, text), library).measures[0].source.left_out == ()


def test_percentages_with_and_without_the_sign_are_proportions(tmp_path: Path) -> None:
    rng = random.Random(20260115)
    for _ in range(80):
        percent = round(rng.choice([rng.uniform(0, 1), rng.uniform(0, 100)]), rng.choice([0, 1, 2]))
        written = rng.choice([f"{percent}%", f"{percent} %", f"{percent}", f"'{percent}%'"])
        text = SURVEY + f"    baseline: {{value: {written}, date: 2024-03-31}}\n"
        if written == f"{percent}" and 0 < percent < 1:
            # A bare number under 1 is most likely a proportion written by mistake.
            assert_only(problems_in(tmp_path, text), 10, "measures[0].baseline.value", f"would be read as {percent}%")
            continue
        (measure,) = load_measures(write(tmp_path, text)).measures
        assert measure.baseline.value == pytest.approx(percent / 100, abs=1e-12)
        assert measure.baseline.value == round(percent / 100, 10)
    for outside in (-0.1, 100.5, 250, -40):
        text = SURVEY + f"    baseline: {{value: {outside}%, date: 2024-03-31}}\n"
        problems = problems_in(tmp_path, text)
        assert_only(
            problems, 10, "measures[0].baseline.value", f"must be a percentage from 0% to 100%, not '{outside}%'"
        )
    for edge in (0, 100):
        text = SURVEY + f"    baseline: {{value: {edge}%, date: 2024-03-31}}\n"
        assert load_measures(write(tmp_path, text)).measures[0].baseline.value == edge / 100


def test_a_bare_number_under_one_is_refused_as_a_likely_proportion(tmp_path: Path) -> None:
    text = SURVEY + "    targets:\n      - value: 0.85\n        by: 2027-12-31\n"
    assert_only(
        problems_in(tmp_path, text),
        11,
        "measures[0].targets[0].value",
        "0.85 would be read as 0.85%: write it as a percentage, like 85%, or as 0.85% if that is meant",
    )
    settings = "settings:\n  significance: 0.05\n" + SURVEY
    assert_only(problems_in(tmp_path, settings), 2, "settings.significance", "like 5%")
    written_as_percent = (
        SURVEY
        + "    targets:\n      - value: 0.85%\n        by: 2027-12-31\n      - value: 1\n        by: 2028-03-31\n"
    )
    targets = load_measures(write(tmp_path, written_as_percent)).measures[0].targets
    assert [target.value for target in targets] == [0.0085, 0.01]


def test_targets_must_be_in_ascending_date_order(tmp_path: Path) -> None:
    """Random sets of target dates load exactly when each is after the one before."""
    rng = random.Random(7)
    start = date(2024, 4, 1)
    for _ in range(40):
        days = [start + timedelta(days=rng.randrange(0, 900)) for _ in range(rng.randrange(2, 5))]
        if rng.random() < 0.4:
            days.sort()
        body = "".join(f"      - value: {50 + index}%\n        by: {day}\n" for index, day in enumerate(days))
        text = SURVEY + "    targets:\n" + body
        in_order = all(earlier < later for earlier, later in zip(days, days[1:], strict=False))
        if in_order:
            measure = load_measures(write(tmp_path, text)).measures[0]
            assert [target.by for target in measure.targets] == days
            assert [target.value for target in measure.targets] == [(50 + i) / 100 for i in range(len(days))]
        else:
            problems = problems_in(tmp_path, text)
            assert problems and all(problem.field.endswith(".by") for problem in problems)


# The file as a whole


def test_not_valid_yaml(tmp_path: Path) -> None:
    text = SURVEY + "    targets: [{value: 85%, by: 2027-12-31}\n"
    problems = problems_in(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].message.startswith("the file is not valid YAML")
    assert problems[0].field == ""
    assert problems[0].line == line_of(text, "targets") + 1


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    problems = problems_in(tmp_path, "- key: a\n- key: b\n")
    assert_only(problems, 1, "", "the file must be a mapping with settings, measures and populations, not a list")


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    assert_only(problems_in(tmp_path, "# nothing yet\n"), 1, "", "the file is empty")
    with pytest.raises(MeasuresFileError) as raised:
        load_measures(tmp_path / "missing.yaml")
    assert "cannot be read" in str(raised.value)


def test_measures_is_required_and_must_be_a_list(tmp_path: Path) -> None:
    assert_only(problems_in(tmp_path, "settings:\n  minimum_base: 10\n"), 1, "measures", "'measures' is required")
    assert_only(problems_in(tmp_path, "measures: []\n"), 1, "measures", "needs a list of at least one measure")


def test_unknown_top_level_field(tmp_path: Path) -> None:
    text = "setings:\n  minimum_base: 10\n" + SURVEY
    problems = problems_in(tmp_path, text)
    problem = assert_only(problems, 1, "setings", "unknown field 'setings'; did you mean 'settings'?")
    assert str(problem) == f"{tmp_path / 'measures.yaml'}:1: setings: unknown field 'setings'; did you mean 'settings'?"


def test_unknown_measure_and_source_fields(tmp_path: Path) -> None:
    text = variant(SURVEY, "    title:", "    titel: x\n    title:")
    text = variant(text, "      positive:", "      positve: [good]\n      positive:")
    problems = problems_in(tmp_path, text)
    assert len(problems) == 2
    assert_problem(problems, line_of(text, "titel"), "measures[0].titel", "did you mean 'title'?")
    assert_problem(problems, line_of(text, "positve"), "measures[0].survey.positve", "did you mean 'positive'?")


def test_duplicate_yaml_keys(tmp_path: Path) -> None:
    text = variant(SURVEY, "    polarity: higher_is_better\n", "    polarity: higher_is_better\n    title: Again\n")
    problems = problems_in(tmp_path, text)
    assert_only(problems, line_of(text, "title: Again"), "measures[0].title", "'title' is given more than once")


def test_duplicate_measure_keys(tmp_path: Path) -> None:
    second = SURVEY.split("\n", 1)[1]
    text = SURVEY + second
    problems = problems_in(tmp_path, text)
    assert_only(
        problems,
        line_of(text, "- key:", 2),
        "measures[1].key",
        "the key 'pathways_information_good' is already used by measures[0]",
    )


def test_invalid_key(tmp_path: Path) -> None:
    text = variant(SURVEY, "key: pathways_information_good", "key: Pathways-Good")
    problem = assert_only(problems_in(tmp_path, text), 2, "measures[0].key", "'Pathways-Good' is not a valid key")
    assert "lower-case letters, digits and underscores" in problem.message


def test_missing_title_definition_and_polarity(tmp_path: Path) -> None:
    text = "measures:\n  - key: a\n    survey: {questionnaire: q, question: x, positive: [y]}\n"
    problems = problems_in(tmp_path, text)
    assert len(problems) == 3
    assert_problem(problems, 2, "measures[0].title", "'title' is required")
    assert_problem(problems, 2, "measures[0].definition", "'definition' is required")
    assert_problem(problems, 2, "measures[0].polarity", "'polarity' is required")


def test_polarity_none_is_a_measure_for_information_only(tmp_path: Path) -> None:
    text = variant(COUNT, "polarity: lower_is_better", "polarity: none")
    (measure,) = load_measures(write(tmp_path, text)).measures
    assert measure.polarity is Polarity.NONE and not measure.is_rated
    problem = assert_only(
        problems_in(tmp_path, variant(COUNT, "    polarity: lower_is_better\n", "")), 2, "measures[0].polarity"
    )
    assert "none for a measure reported for information only" in problem.message


def test_a_measure_for_information_only_cannot_have_targets(tmp_path: Path) -> None:
    text = (
        variant(COUNT, "polarity: lower_is_better", "polarity: none")
        + "    targets:\n      - {value: 2000, by: 2027-03-31}\n"
    )
    problem = assert_only(problems_in(tmp_path, text), line_of(text, "targets:"), "measures[0].targets")
    assert "polarity none is for information only, so it cannot have targets" in problem.message
    assert "higher_is_better or lower_is_better" in problem.message


def test_a_unit_names_what_the_base_counts(tmp_path: Path) -> None:
    (plain,) = load_measures(write(tmp_path, RECORDED)).measures
    assert (plain.unit, plain.unit_name) == ("", "cases")
    (survey,) = load_measures(write(tmp_path, SURVEY)).measures
    assert survey.unit_name == "responses"
    text = variant(RECORDED, "    recorded:\n", "    unit: EHC plans\n    recorded:\n")
    (named,) = load_measures(write(tmp_path, text)).measures
    assert named.unit_name == "EHC plans"
    for bad in ("'3 plans'", "'plans; drop table'", "''", "[plans]"):
        text = variant(RECORDED, "    recorded:\n", f"    unit: {bad}\n    recorded:\n")
        assert_only(problems_in(tmp_path, text), line_of(text, "unit:"), "measures[0].unit")


def test_a_measure_needs_exactly_one_source(tmp_path: Path) -> None:
    no_source = SURVEY.split("    survey:")[0]
    assert_only(
        problems_in(tmp_path, no_source), 2, "measures[0]", "a measure needs a source: survey, composite or recorded"
    )
    two = SURVEY + "    recorded: {kind: count, frequency: quarter}\n"
    assert_only(
        problems_in(tmp_path, two),
        line_of(two, "recorded:"),
        "measures[0].recorded",
        "a measure has exactly one source, but this one has survey and recorded",
    )


def test_unknown_polarity_kind_frequency_and_accumulation(tmp_path: Path) -> None:
    text = variant(RECORDED, "polarity: higher_is_better", "polarity: higer_is_better")
    text = variant(text, "kind: proportion", "kind: percentage")
    text = variant(text, "frequency: quarter", "frequency: quater")
    text = variant(text, "accumulation: cumulative_year", "accumulation: cumulative")
    problems = problems_in(tmp_path, text)
    assert len(problems) == 4
    assert_problem(
        problems, 6, "measures[0].polarity", "unknown polarity 'higer_is_better'; did you mean 'higher_is_better'?"
    )
    assert_problem(problems, 8, "measures[0].recorded.kind", "unknown kind 'percentage'; use proportion or count")
    assert_problem(problems, 9, "measures[0].recorded.frequency", "unknown frequency 'quater'; did you mean 'quarter'?")
    assert_problem(
        problems,
        10,
        "measures[0].recorded.accumulation",
        "unknown accumulation 'cumulative'; did you mean 'cumulative_year'?",
    )


def test_recorded_figures_have_no_waves(tmp_path: Path) -> None:
    text = variant(RECORDED, "frequency: quarter", "frequency: wave")
    assert_only(
        problems_in(tmp_path, text),
        9,
        "measures[0].recorded.frequency",
        "recorded figures have no survey waves: use quarter, month or year",
    )
    first_wave = RECORDED + "    baseline: first_wave\n"
    assert_only(
        problems_in(tmp_path, first_wave),
        11,
        "measures[0].baseline",
        "recorded figures have no survey waves, so the baseline cannot be first_wave",
    )


# Values and dates


def test_percentages_that_are_not_numbers(tmp_path: Path) -> None:
    text = (
        SURVEY
        + "    targets:\n      - value: lots\n        by: 2027-12-31\n      - value: true\n        by: 2028-03-31\n"
    )
    problems = problems_in(tmp_path, text)
    assert len(problems) == 2
    assert_problem(problems, 11, "measures[0].targets[0].value", "must be a percentage, like 38% or 38, not 'lots'")
    assert_problem(problems, 13, "measures[0].targets[1].value", "not true/false")


def test_count_values_must_be_whole_numbers(tmp_path: Path) -> None:
    text = COUNT + (
        "    baseline: {value: 2039.5, date: 2018-10-01}\n"
        "    targets:\n      - value: 38%\n        by: 2019-03-31\n      - value: -3\n        by: 2019-06-30\n"
        "    benchmarks:\n      - {name: Regional, value: 2100.0, date: 2018-01-01, source: LAIT}\n"
    )
    problems = problems_in(tmp_path, text)
    assert len(problems) == 3
    assert_problem(problems, 10, "measures[0].baseline.value", "this measure is a count", "not '2039.5'")
    assert_problem(problems, 12, "measures[0].targets[0].value", "whole numbers (0 or more), not '38%'")
    assert_problem(problems, 14, "measures[0].targets[1].value", "not '-3'")


def test_a_count_baseline_has_no_base(tmp_path: Path) -> None:
    text = COUNT + "    baseline: {value: 2039, date: 2018-10-01, n: 50}\n"
    assert_only(problems_in(tmp_path, text), 10, "measures[0].baseline.n", "a count has no base (n)")


def test_targets_out_of_order_or_on_one_date(tmp_path: Path) -> None:
    text = SURVEY + (
        "    targets:\n"
        "      - value: 60%\n        by: 2027-03-31\n"
        "      - value: 70%\n        by: 2027-03-31\n"
        "      - value: 80%\n        by: 2026-12-31\n"
    )
    problems = problems_in(tmp_path, text)
    assert len(problems) == 2
    assert_problem(
        problems, 14, "measures[0].targets[1].by", "two targets are dated 2027-03-31: give one target for each date"
    )
    assert_problem(
        problems,
        16,
        "measures[0].targets[2].by",
        "the targets must be in date order: 2026-12-31 comes before the target above it (2027-03-31)",
    )


def test_a_target_before_the_baseline(tmp_path: Path) -> None:
    text = SURVEY + (
        "    baseline:\n      value: 38%\n      date: 2021-11-30\n"
        "    targets:\n      - value: 85%\n        by: 2021-06-30\n      - value: 95%\n        by: 2024-02-29\n"
    )
    assert_only(
        problems_in(tmp_path, text),
        line_of(text, "2021-06-30"),
        "measures[0].targets[0].by",
        "2021-06-30 is not after the baseline date (2021-11-30)",
    )


def test_a_baseline_needs_a_value_and_a_date(tmp_path: Path) -> None:
    text = SURVEY + "    baseline:\n      n: 212\n"
    problems = problems_in(tmp_path, text)
    assert len(problems) == 2
    assert_problem(problems, 11, "measures[0].baseline.value", "'value' is required")
    assert_problem(problems, 11, "measures[0].baseline.date", "'date' is required")
    word = SURVEY + "    baseline: first wave\n"
    assert_only(problems_in(tmp_path, word), 10, "measures[0].baseline", "must be the word first_wave", "did you mean")


def test_n_must_be_a_positive_whole_number(tmp_path: Path) -> None:
    for n, shown in (("0", "'0'"), ("2.5", "'2.5'"), ("many", "'many'"), ("-4", "'-4'")):
        text = SURVEY + f"    baseline: {{value: 38%, date: 2021-11-30, n: {n}}}\n"
        assert_only(
            problems_in(tmp_path, text), 10, "measures[0].baseline.n", f"must be a positive whole number, not {shown}"
        )


def test_impossible_and_badly_written_dates(tmp_path: Path) -> None:
    text = SURVEY + (
        "    targets:\n      - value: 85%\n        by: 2023-02-30\n"
        "    benchmarks:\n      - name: National\n        value: 58%\n        date: 31/03/2024\n        source: DfE\n"
    )
    problems = problems_in(tmp_path, text)
    assert len(problems) == 2
    assert_problem(problems, 12, "measures[0].targets[0].by", "'2023-02-30' is not a real date")
    assert_problem(
        problems, 16, "measures[0].benchmarks[0].date", "must be a date written as YYYY-MM-DD", "'31/03/2024'"
    )


def test_benchmark_fields_are_required(tmp_path: Path) -> None:
    text = SURVEY + "    benchmarks:\n      - name: National\n        value: 58%\n"
    problems = problems_in(tmp_path, text)
    assert len(problems) == 2
    assert_problem(problems, 11, "measures[0].benchmarks[0].date", "'date' is required")
    assert_problem(problems, 11, "measures[0].benchmarks[0].source", "'source' is required")


def test_settings(tmp_path: Path) -> None:
    text = (
        "settings:\n  minimum_base: 0\n  significance: 0%\n  completed_after: 1.5\n  power: 150%\n"
        "  significanse: 5%\n" + SURVEY
    )
    problems = problems_in(tmp_path, text)
    assert len(problems) == 5
    assert_problem(problems, 2, "settings.minimum_base", "must be a positive whole number, not '0'")
    assert_problem(problems, 3, "settings.significance", "more than 0% and less than 100%, not '0%'")
    assert_problem(problems, 4, "settings.completed_after", "must be a positive whole number, not '1.5'")
    assert_problem(problems, 5, "settings.power", "more than 0% and less than 100%, not '150%'")
    assert_problem(problems, 6, "settings.significanse", "did you mean 'significance'?")


def test_an_answer_cannot_be_both_positive_and_left_out(tmp_path: Path) -> None:
    text = variant(
        SURVEY,
        "      positive: [very_good, good]\n",
        "      positive: [very_good, good]\n      left_out: [dont_know, good]\n",
    )
    assert_only(
        problems_in(tmp_path, text),
        10,
        "measures[0].survey.left_out[1]",
        "'good' is both positive and left out",
    )


def test_answer_codes_must_be_codes_listed_once(tmp_path: Path) -> None:
    text = variant(SURVEY, "positive: [very_good, good]", "positive: [Very good, good, good]")
    problems = problems_in(tmp_path, text)
    assert len(problems) == 2
    assert_problem(problems, 9, "measures[0].survey.positive[0]", "'Very good' is not an answer code")
    assert_problem(problems, 9, "measures[0].survey.positive[2]", "'good' is listed twice")
    missing = variant(SURVEY, "      positive: [very_good, good]\n", "")
    assert_only(problems_in(tmp_path, missing), 7, "measures[0].survey.positive", "'positive' is required")


def test_questionnaire_or_questionnaires_but_not_both(tmp_path: Path) -> None:
    text = variant(SURVEY, "      question:", "      questionnaires: [ehc_plan_feedback]\n      question:")
    assert_only(
        problems_in(tmp_path, text), 8, "measures[0].survey.questionnaires", "give either questionnaire", "not both"
    )
    neither = variant(SURVEY, "      questionnaire: send_pathways_information\n", "")
    assert_only(problems_in(tmp_path, neither), 7, "measures[0].survey.questionnaire", "'questionnaire' is required")


def test_composite_structure(tmp_path: Path) -> None:
    text = variant(COMPOSITE, "questions: [learning, communication, the_future]", "questions: [learning]")
    text = variant(text, "      at_least: 50%\n", "      minimum_applicable: 0\n")
    problems = problems_in(tmp_path, text)
    assert len(problems) == 3
    assert_problem(problems, 8, "measures[0].composite.questions", "a composite needs at least two questions")
    assert_problem(problems, 7, "measures[0].composite.at_least", "'at_least' is required")
    assert_problem(problems, 10, "measures[0].composite.minimum_applicable", "must be a positive whole number, not '0'")
    too_many = variant(COMPOSITE, "      at_least: 50%\n", "      at_least: 0%\n      minimum_applicable: 4\n")
    problems = problems_in(tmp_path, too_many)
    assert len(problems) == 2
    assert_problem(problems, 10, "measures[0].composite.at_least", "more than 0% and at most 100%")
    assert_problem(
        problems, 11, "measures[0].composite.minimum_applicable", "cannot be more than the number of questions (3)"
    )


def test_unknown_audience(tmp_path: Path) -> None:
    text = SURVEY + "      audience: parents\n"
    assert_only(problems_in(tmp_path, text), 10, "measures[0].survey.audience", "unknown audience 'parents'")


def test_without_questionnaires_only_the_structure_is_checked(tmp_path: Path) -> None:
    text = variant(SURVEY, "questionnaire: send_pathways_information", "questionnaire: no_such_questionnaire")
    text = variant(text, "positive: [very_good, good]", "positive: [splendid]")
    assert load_measures(write(tmp_path, text)).measures[0].source.positive == ("splendid",)


def test_several_problems_are_all_reported(tmp_path: Path, library) -> None:
    text = (
        "setings: {}\n"
        + variant(SURVEY, "positive: [very_good, good]", "positive: [very_good, godo]")
        + "    baseline: {value: 138%, date: 2021-11-30}\n"
        + "    targets:\n      - value: 85%\n        by: 2023-02-30\n"
        + "  - key: second\n    title: Second\n    definition: A second.\n    polarity: up\n"
        + "    recorded: {kind: count, frequency: quarter}\n    baseline: first_wave\n"
    )
    problems = problems_in(tmp_path, text, library)
    found = [(problem.line, problem.field) for problem in problems]
    assert found == [
        (1, "setings"),
        (10, "measures[0].survey.positive[1]"),
        (11, "measures[0].baseline.value"),
        (14, "measures[0].targets[0].by"),
        (18, "measures[1].polarity"),
        (20, "measures[1].baseline"),
    ]
    with pytest.raises(MeasuresFileError) as raised:
        load_measures(write(tmp_path, text), library)
    error = raised.value
    assert isinstance(error, ValueError)
    assert str(error).splitlines() == [str(problem) for problem in error.problems]
    assert (
        str(error).splitlines()[1].endswith("'godo' is not an answer to 'pathways_information'; did you mean 'good'?")
    )


# Checks against the questionnaires


def test_unknown_questionnaire(tmp_path: Path, library) -> None:
    text = variant(SURVEY, "questionnaire: send_pathways_information", "questionnaire: send_pathway_information")
    assert_only(
        problems_in(tmp_path, text, library),
        7,
        "measures[0].survey.questionnaire",
        "unknown questionnaire 'send_pathway_information'; did you mean 'send_pathways_information'?",
    )
    listed = variant(
        SURVEY, "questionnaire: send_pathways_information", "questionnaires: [send_pathways_information, zzz]"
    )
    assert_only(
        problems_in(tmp_path, listed, library), 7, "measures[0].survey.questionnaires[1]", "unknown questionnaire 'zzz'"
    )


def test_a_question_the_questionnaire_does_not_ask(tmp_path: Path, library) -> None:
    text = variant(SURVEY, "question: pathways_information", "question: pathway_information")
    assert_only(
        problems_in(tmp_path, text, library),
        8,
        "measures[0].survey.question",
        "the questionnaire 'send_pathways_information' has no question 'pathway_information'; "
        "did you mean 'pathways_information'?",
    )


def test_a_question_that_is_not_a_choice_question(tmp_path: Path, library) -> None:
    text = variant(SURVEY, "question: pathways_information", "question: worked_well")
    text = variant(text, "positive: [very_good, good]", "positive: [good]")
    assert_only(
        problems_in(tmp_path, text, library),
        8,
        "measures[0].survey.question",
        "'worked_well' is a long text question in 'send_pathways_information': only choice questions",
    )


def test_an_equality_question_cannot_be_counted(tmp_path: Path, library) -> None:
    assert library["send_pathways_information"].question("ethnic_group").section is Section.EQUALITY
    text = variant(SURVEY, "question: pathways_information", "question: ethnic_group")
    text = variant(text, "positive: [very_good, good]", "positive: [white]")
    assert_only(
        problems_in(tmp_path, text, library),
        8,
        "measures[0].survey.question",
        "'ethnic_group' is an equality monitoring question: those answers are kept apart from the responses "
        "and cannot be counted with them",
    )


def test_answer_codes_the_question_does_not_offer(tmp_path: Path, library) -> None:
    text = variant(
        SURVEY, "      positive: [very_good, good]\n", "      positive: [very_good, godo]\n      left_out: [not_sure]\n"
    )
    problems = problems_in(tmp_path, text, library)
    assert len(problems) == 2
    assert_problem(
        problems,
        9,
        "measures[0].survey.positive[1]",
        "'godo' is not an answer to 'pathways_information'; did you mean 'good'?",
    )
    assert_problem(
        problems, 10, "measures[0].survey.left_out[0]", "'not_sure' is not an answer to 'pathways_information'"
    )


def test_each_named_questionnaire_must_offer_a_positive_answer(tmp_path: Path, library) -> None:
    text = variant(
        SURVEY,
        "questionnaire: send_pathways_information",
        "questionnaires: [send_pathways_information, information_young_person]",
    )
    assert_only(
        problems_in(tmp_path, text, library),
        9,
        "measures[0].survey.positive",
        "'information_young_person' offers none of these answers for 'pathways_information': "
        "its answers are happy, ok, sad, dont_know",
    )
    both = variant(text, "positive: [very_good, good]", "positive: [very_good, good, happy]")
    source = load_measures(write(tmp_path, both), library).measures[0].source
    assert source.questionnaires == ("send_pathways_information", "information_young_person")


def test_audience_must_match_the_questionnaires(tmp_path: Path, library) -> None:
    text = SURVEY + "      audience: young_person\n"
    assert_only(
        problems_in(tmp_path, text, library),
        10,
        "measures[0].survey.audience",
        "'send_pathways_information' is a questionnaire for parent_carer, not young_person",
    )


def test_filters_must_use_context_questions_of_every_questionnaire(tmp_path: Path, library) -> None:
    main = SURVEY + '      where:\n        - question: knows_sendiass\n          any_of: ["yes"]\n'
    assert_only(
        problems_in(tmp_path, main, library),
        11,
        "measures[0].survey.where[0].question",
        "'knows_sendiass' is not a context question of 'send_pathways_information'",
    )
    both = variant(
        SURVEY,
        "questionnaire: send_pathways_information",
        "questionnaires: [send_pathways_information, information_young_person]",
    )
    both = variant(both, "positive: [very_good, good]", "positive: [very_good, good, happy]")
    both += "      where:\n        - question: support_type\n          any_of: [ehc_plan]\n"
    assert_only(
        problems_in(tmp_path, both, library),
        11,
        "measures[0].survey.where[0].question",
        "'support_type' is not a context question of 'information_young_person'",
    )
    code = SURVEY + "      where:\n        - question: support_type\n          any_of: [ehc_plan, ehcp]\n"
    assert_only(
        problems_in(tmp_path, code, library),
        12,
        "measures[0].survey.where[0].any_of[1]",
        "'ehcp' is not an answer to 'support_type'",
    )


def test_composite_questions_and_answers(tmp_path: Path, library) -> None:
    text = variant(COMPOSITE, "questions: [learning, communication, the_future]", "questions: [learning, plan_length]")
    assert_only(
        problems_in(tmp_path, text, library),
        9,
        "measures[0].composite.positive",
        "'outcomes_parent_carer' offers none of these answers for 'plan_length'",
    )
    missing = variant(COMPOSITE, "questions: [learning, communication, the_future]", "questions: [learning, learnin]")
    assert_only(
        problems_in(tmp_path, missing, library),
        8,
        "measures[0].composite.questions[1]",
        "the questionnaire 'outcomes_parent_carer' has no question 'learnin'",
    )
    answer = variant(COMPOSITE, "positive: [better]", "positive: [beter]")
    assert_only(
        problems_in(tmp_path, answer, library),
        9,
        "measures[0].composite.positive[0]",
        "'beter' is not an answer to any of these questions; did you mean 'better'?",
    )


def test_population_checks(tmp_path: Path, library) -> None:
    not_context = variant(POPULATION, "question: locality", "question: pathways_information")
    assert_only(
        problems_in(tmp_path, not_context, library),
        14,
        "populations[0].question",
        "'pathways_information' is not a context or equality choice question of a parent_carer questionnaire",
    )
    wrong_audience = variant(POPULATION, "audience: parent_carer", "audience: young_person")
    assert_only(
        problems_in(tmp_path, wrong_audience, library),
        14,
        "populations[0].question",
        "'locality' is not a context or equality choice question of a young_person questionnaire",
    )
    counts = variant(
        POPULATION, "{north: 820, south: 640, east: 510, west: 430}", "{nort: 820, south: -1, east: 5.5, dont_know: 3}"
    )
    problems = problems_in(tmp_path, counts, library)
    assert len(problems) == 4
    assert_problem(
        problems, 16, "populations[0].counts.nort", "'nort' is not an answer to 'locality'; did you mean 'north'?"
    )
    assert_problem(problems, 16, "populations[0].counts.south", "must be a whole number, 0 or more, not '-1'")
    assert_problem(problems, 16, "populations[0].counts.east", "must be a whole number, 0 or more, not '5.5'")
    assert_problem(
        problems,
        16,
        "populations[0].counts.dont_know",
        "'dont_know' is not an answer to 'locality'",
        "north, south, east",
    )


def test_population_structure(tmp_path: Path) -> None:
    text = POPULATION.replace("    counts: {north: 820, south: 640, east: 510, west: 430}\n", "")
    text = variant(text, "    source: Case management system, January 2026\n", "")
    text += "  - key: families_by_locality\n    title: Again\n    question: locality\n    source: x\n    counts: {}\n"
    problems = problems_in(tmp_path, text)
    assert_problem(problems, 11, "populations[0].source", "'source' is required")
    assert_problem(problems, 11, "populations[0].counts", "'counts' is required")
    assert_problem(
        problems, 15, "populations[1].key", "the key 'families_by_locality' is already used by populations[0]"
    )
    assert_problem(problems, 19, "populations[1].counts", "needs the number of people in at least one group")
    assert len(problems) == 4


# The shipped defaults


def test_the_shipped_measures_load_cleanly_with_the_library(library) -> None:
    assert DEFAULT_FILE.name == "measures.yaml" and DEFAULT_FILE.parent.name == "analysis"
    shipped = load_measures(DEFAULT_FILE, library)
    assert shipped.rules == StatusRules()
    keys = [measure.key for measure in shipped.measures]
    assert len(keys) == len(set(keys))
    for measure in shipped.measures:
        assert len(measure.definition) > 60, measure.key
        assert measure.title
        if not measure.is_recorded:
            assert measure.baseline == Baseline(first_wave=True), measure.key


def test_every_shipped_survey_measure_counts_answers_its_questionnaires_offer(library) -> None:
    shipped = load_measures(DEFAULT_FILE, library)
    surveys = [measure for measure in shipped.measures if not measure.is_recorded]
    assert len(surveys) >= 20
    for measure in surveys:
        source = measure.source
        questions = (source.question,) if isinstance(source, SurveySource) else source.questions
        for key in source.questionnaires:
            for question_key in questions:
                question = library[key].question(question_key)
                assert question is not None and question.type.is_choice, (measure.key, question_key)
                assert question.section is not Section.EQUALITY
                offered = {option.value for option in question.options}
                assert set(source.positive) <= offered, (measure.key, key, question_key)


def test_the_shipped_measures_cover_the_board_measures(library) -> None:
    shipped = load_measures(DEFAULT_FILE, library)
    sources = {measure.key: measure.source for measure in shipped.measures}
    young_people = shipped.measure("pathways_information_good_young_people").source
    assert young_people.questionnaires == ("information_young_person",) and young_people.positive == ("happy",)
    pathways = shipped.measure("pathways_information_good")
    assert [target.value for target in pathways.targets] == [0.85, 0.95]
    assert {target.by.year for measure in shipped.measures for target in measure.targets} <= {2027, 2028}
    assert shipped.measure("plan_easy_to_understand").benchmarks[0].value == 0.26
    assert shipped.measure("plan_easy_to_understand").benchmarks[0].date.year == 2017
    assert shipped.measure("assessment_satisfied").benchmarks[0].value == 0.66
    for key in ("outcomes_better_parent_carers", "outcomes_better_young_people"):
        composite = sources[key]
        assert isinstance(composite, CompositeSource) and len(composite.questions) == 9
        assert composite.at_least == 0.5 and composite.positive == ("better",)
    send6 = shipped.measure("plans_issued_within_20_weeks")
    assert send6.reference == "SEND6"
    assert send6.source == RecordedSource(
        RecordedKind.PROPORTION, PeriodKind.QUARTER, Accumulation.CUMULATIVE_YEAR, "Case management system"
    )
    assert "exceptions" in send6.definition
    national = {benchmark.date.year: benchmark.value for benchmark in send6.benchmarks}
    assert national[2024] == 0.464 and national[2017] == 0.65
    assert {benchmark.source for benchmark in send6.benchmarks} == {"DfE, Education, health and care plans (SEN2)"}
    assert send6.final_target.value == 0.75
    send1 = shipped.measure("open_ehc_plans")
    assert send1.reference == "SEND1" and send1.is_count and send1.source.accumulation is Accumulation.SNAPSHOT
    assert "for information" in send1.definition
    # For information only: neither a rise nor a fall in the number of plans is good in itself.
    assert send1.polarity is Polarity.NONE and not send1.targets and send1.unit_name == "plans"
    assert send6.unit_name == "plans" and shipped.measure("annual_reviews_in_timescale").unit_name == "annual reviews"
    send9 = shipped.measure("annual_reviews_in_timescale")
    assert send9.reference == "SEND9" and send9.source.accumulation is Accumulation.PERIOD
    (population,) = shipped.populations
    assert population.question == "locality" and set(population.counts) == {"north", "south", "east", "west"}
    assert "Example figures" in population.source


def test_the_shipped_measures_load_without_the_library() -> None:
    assert len(load_measures(DEFAULT_FILE).measures) == len(load_measures(DEFAULT_FILE, None).measures)
