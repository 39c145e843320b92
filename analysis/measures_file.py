"""Reading the measures file: what each board measure counts, where it starts and where it must get to.

An officer edits this file by hand, so it is read like the questionnaire
files: every problem is reported together as ``file:line: field: message``
and a file with any problem is refused whole, because a half-understood
measure would put the wrong figure in front of the board. The format is
described at the top of the shipped ``measures.yaml``.

Given the questionnaires, each survey measure is also checked against them:
a measure naming a question or an answer that no questionnaire asks would
otherwise count nothing, silently, for as long as nobody noticed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from questionnaires import Problem, Questionnaire
from questionnaires.checking import KEY_PATTERN, Checker, describe, display_path, join, read_yaml
from questionnaires.schema import Audience, Question, Section
from questionnaires.yaml_lines import LineDict, LineList

from .measures import (
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
    Source,
    StatusRules,
    SurveySource,
    Target,
)

DEFAULT_FILE = Path(__file__).with_name("measures.yaml")

FIRST_WAVE = "first_wave"
SOURCES = ("survey", "composite", "recorded")
TOP_FIELDS = {"settings", "measures", "populations"}
SETTINGS_FIELDS = {"minimum_base", "significance", "completed_after", "power"}
MEASURE_FIELDS = {
    "key",
    "reference",
    "title",
    "definition",
    "polarity",
    "unit",
    "baseline",
    "targets",
    "benchmarks",
    *SOURCES,
}
ANSWER_FIELDS = {"questionnaire", "questionnaires", "positive", "left_out", "audience", "where"}
SURVEY_FIELDS = {*ANSWER_FIELDS, "question"}
COMPOSITE_FIELDS = {*ANSWER_FIELDS, "questions", "at_least", "minimum_applicable"}
RECORDED_FIELDS = {"kind", "frequency", "accumulation", "origin"}
FILTER_FIELDS = {"question", "any_of"}
BASELINE_FIELDS = {"value", "date", "n"}
TARGET_FIELDS = {"value", "by"}
BENCHMARK_FIELDS = {"name", "value", "date", "source"}
POPULATION_FIELDS = {"key", "title", "audience", "question", "source", "counts"}
# Recorded figures come from systems that count by calendar period; survey waves are for surveys.
RECORDED_FREQUENCIES = (PeriodKind.QUARTER, PeriodKind.MONTH, PeriodKind.YEAR)

# A unit is plain words in the plural: "plans", "annual reviews", "EHC needs assessments".
_UNIT = re.compile(r"^[A-Za-z][A-Za-z' -]{0,39}$")
_PERCENTAGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MeasuresFileError(ValueError):
    """Raised when a measures file cannot be used; carries every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def load_measures(path: Path, questionnaires: Mapping[str, Questionnaire] | None = None) -> MeasureSet:
    """The measures a file defines, checked against ``questionnaires`` (key to questionnaire) when given.

    Raises MeasuresFileError listing every problem in the file.
    """
    file = display_path(path)
    reader = _Reader(file, questionnaires)
    raw = read_yaml(path, reader)
    if raw is None and not reader.problems:
        reader.problem(1, "", "the file is empty: it needs a 'measures' list")
    measure_set = reader.measure_set(raw, file) if not reader.problems else None
    if reader.problems or measure_set is None:
        raise MeasuresFileError(reader.problems)
    return measure_set


class _Scale(StrEnum):
    """What a measure's baseline, target and benchmark values are written in."""

    PERCENTAGE = "percentage"
    COUNT = "count"


@dataclass(frozen=True)
class _Item:
    """A key or code as written, with where it was written, for checking against the questionnaires."""

    value: str
    line: int
    where: str


@dataclass(frozen=True)
class _Answers:
    """What a survey or composite measure names, as written."""

    questionnaires: tuple[_Item, ...]
    questions: tuple[_Item, ...]
    positive: tuple[_Item, ...]
    # None when not given: the default codes are left out, whether or not a question offers them.
    left_out: tuple[_Item, ...] | None
    audience: str | None
    filters: tuple[tuple[_Item, tuple[_Item, ...]], ...]
    # The source as written, for the lines of its fields.
    mapping: LineDict
    where: str


class _Reader(Checker):
    def __init__(self, file: str, questionnaires: Mapping[str, Questionnaire] | None):
        super().__init__(file)
        self.library = questionnaires

    # The file

    def measure_set(self, raw: Any, file: str) -> MeasureSet | None:
        if not isinstance(raw, LineDict):
            self.problem(
                1, "", f"the file must be a mapping with settings, measures and populations, not {describe(raw)}"
            )
            return None
        root = self.mapping(raw, 1, "")
        self.allowed_fields(root, TOP_FIELDS, "")
        rules = self.settings(root)
        measures = self.measures(root)
        populations = self.populations(root)
        if self.problems or rules is None:
            return None
        return MeasureSet(measures=measures, rules=rules, populations=populations, source=file)

    def settings(self, root: LineDict) -> StatusRules | None:
        if "settings" not in root:
            return StatusRules()
        settings = self.mapping(root["settings"], root.line_of("settings"), "settings")
        if settings is None:
            return None
        self.allowed_fields(settings, SETTINGS_FIELDS, "settings")
        defaults = StatusRules()
        minimum_base = self.whole(settings, "minimum_base", "settings", minimum=1)
        completed_after = self.whole(settings, "completed_after", "settings", minimum=1)
        significance = self.percentage(settings, "significance", "settings", zero=False, hundred=False)
        power = self.percentage(settings, "power", "settings", zero=False, hundred=False)
        return StatusRules(
            minimum_base=defaults.minimum_base if minimum_base is None else minimum_base,
            significance=defaults.significance if significance is None else significance,
            completed_after=defaults.completed_after if completed_after is None else completed_after,
            power=defaults.power if power is None else power,
        )

    def measures(self, root: LineDict) -> tuple[Measure, ...]:
        if "measures" not in root:
            self.problem(root.line, "measures", "'measures' is required: the list of the board's measures")
            return ()
        items = root["measures"]
        if not isinstance(items, LineList) or not items:
            self.problem(root.line_of("measures"), "measures", "needs a list of at least one measure")
            return ()
        measures: list[Measure] = []
        first_use: dict[str, str] = {}
        for index, item in enumerate(items):
            where = f"measures[{index}]"
            entry = self.mapping(item, items.line_of(index), where)
            if entry is None:
                continue
            key = self.stable_key(entry, where)
            if key is not None:
                if key in first_use:
                    self.problem(
                        entry.line_of("key"), join(where, "key"), f"the key '{key}' is already used by {first_use[key]}"
                    )
                else:
                    first_use[key] = where
            measure = self.measure(entry, where, key)
            if measure is not None:
                measures.append(measure)
        return tuple(measures)

    # One measure

    def measure(self, entry: LineDict, where: str, key: str | None) -> Measure | None:
        """The measure, or None when reading it found a problem (already recorded)."""
        before = len(self.problems)
        self.allowed_fields(entry, MEASURE_FIELDS, where)
        reference = self.text(entry, "reference", where, required=False) or ""
        title = self.text(entry, "title", where)
        definition = self.text(entry, "definition", where)
        polarity = self.polarity(entry, where)
        unit = self.unit(entry, where)
        source, scale = self.source(entry, where)
        recorded = [name for name in SOURCES if name in entry] == ["recorded"]
        baseline = self.baseline(entry, where, scale, recorded)
        targets = self.targets(entry, where, scale, baseline)
        if polarity is Polarity.NONE and "targets" in entry:
            self.problem(
                entry.line_of("targets"),
                join(where, "targets"),
                "a measure with polarity none is for information only, so it cannot have targets: a target needs "
                "a better direction (higher_is_better or lower_is_better)",
            )
        benchmarks = self.benchmarks(entry, where, scale)
        if len(self.problems) > before or None in (key, title, definition, polarity, source):
            return None
        return Measure(
            key=key,
            title=title,
            definition=definition,
            polarity=polarity,
            source=source,
            baseline=baseline,
            targets=targets,
            benchmarks=benchmarks,
            reference=reference,
            unit=unit or "",
        )

    def polarity(self, entry: LineDict, where: str) -> Polarity | None:
        if entry.get("polarity") is None:
            self.problem(
                entry.line,
                join(where, "polarity"),
                "'polarity' is required: higher_is_better, lower_is_better, or none for a measure reported for "
                "information only",
            )
            return None
        return self.choice(entry, "polarity", where, Polarity, "polarity")

    def unit(self, entry: LineDict, where: str) -> str | None:
        """What one in the base is, in the plural; None when not given (the source's default) or not usable."""
        text = self.text(entry, "unit", where, required=False)
        if text is None:
            return None
        if not _UNIT.match(text):
            self.problem(
                entry.line_of("unit"),
                join(where, "unit"),
                f"must be what the measure counts, in plain words and in the plural, like plans or annual reviews "
                f"(letters, spaces, hyphens and apostrophes, at most 40), not {describe(text)}",
            )
            return None
        return text

    def source(self, entry: LineDict, where: str) -> tuple[Source | None, _Scale | None]:
        """The measure's one source, and what its values are written in (None when that cannot be told)."""
        given = [name for name in SOURCES if name in entry]
        if not given:
            self.problem(entry.line, where, "a measure needs a source: survey, composite or recorded")
            return None, None
        if len(given) > 1:
            self.problem(
                entry.line_of(given[1]),
                join(where, given[1]),
                f"a measure has exactly one source, but this one has {' and '.join(given)}",
            )
            return None, None
        name = given[0]
        source_where = join(where, name)
        mapping = self.mapping(entry[name], entry.line_of(name), source_where)
        if mapping is None:
            return None, None
        if name == "recorded":
            return self.recorded(mapping, source_where)
        if name == "survey":
            return self.survey(mapping, source_where), _Scale.PERCENTAGE
        return self.composite(mapping, source_where), _Scale.PERCENTAGE

    def survey(self, mapping: LineDict, where: str) -> SurveySource | None:
        before = len(self.problems)
        self.allowed_fields(mapping, SURVEY_FIELDS, where)
        question = self.item(mapping, "question", where)
        answers = self.answers(mapping, where, () if question is None else (question,))
        self.check_answers(answers, composite=False)
        if len(self.problems) > before or question is None:
            return None
        return SurveySource(
            questionnaires=_values(answers.questionnaires),
            question=question.value,
            positive=_values(answers.positive),
            left_out=LEFT_OUT_BY_DEFAULT if answers.left_out is None else _values(answers.left_out),
            audience=answers.audience,
            filters=_filters(answers),
        )

    def composite(self, mapping: LineDict, where: str) -> CompositeSource | None:
        before = len(self.problems)
        self.allowed_fields(mapping, COMPOSITE_FIELDS, where)
        questions = self.items(mapping, "questions", where, "question keys, like [learning, communication]")
        if len(questions) == 1:
            self.problem(
                mapping.line_of("questions"),
                join(where, "questions"),
                "a composite needs at least two questions; for one question, use survey",
            )
        at_least = self.percentage(mapping, "at_least", where, zero=False)
        if "at_least" not in mapping:
            self.problem(
                mapping.line,
                join(where, "at_least"),
                "'at_least' is required: the share of the applicable questions that must be positive, like 50%",
            )
        minimum_applicable = self.whole(mapping, "minimum_applicable", where, minimum=1)
        if minimum_applicable is not None and len(questions) > 1 and minimum_applicable > len(questions):
            self.problem(
                mapping.line_of("minimum_applicable"),
                join(where, "minimum_applicable"),
                f"cannot be more than the number of questions ({len(questions)})",
            )
        answers = self.answers(mapping, where, questions)
        self.check_answers(answers, composite=True)
        if len(self.problems) > before or at_least is None:
            return None
        return CompositeSource(
            questionnaires=_values(answers.questionnaires),
            questions=_values(questions),
            positive=_values(answers.positive),
            at_least=at_least,
            left_out=LEFT_OUT_BY_DEFAULT if answers.left_out is None else _values(answers.left_out),
            minimum_applicable=1 if minimum_applicable is None else minimum_applicable,
            audience=answers.audience,
            filters=_filters(answers),
        )

    def recorded(self, mapping: LineDict, where: str) -> tuple[RecordedSource | None, _Scale | None]:
        self.allowed_fields(mapping, RECORDED_FIELDS, where)
        kind = self.choice(mapping, "kind", where, RecordedKind, "kind")
        frequency = self.choice(mapping, "frequency", where, PeriodKind, "frequency", RECORDED_FREQUENCIES)
        accumulation = Accumulation.PERIOD
        if "accumulation" in mapping:
            accumulation = self.choice(mapping, "accumulation", where, Accumulation, "accumulation")
        origin = self.text(mapping, "origin", where, required=False) or ""
        scale = None if kind is None else _Scale.COUNT if kind is RecordedKind.COUNT else _Scale.PERCENTAGE
        if None in (kind, frequency, accumulation):
            return None, scale
        return RecordedSource(kind=kind, frequency=frequency, accumulation=accumulation, origin=origin), scale

    # What a survey or composite measure counts

    def answers(self, mapping: LineDict, where: str, questions: tuple[_Item, ...]) -> _Answers:
        """What the measure names, as far as it could be read (the problems are recorded)."""
        named = self.questionnaire_keys(mapping, where)
        positive = self.items(mapping, "positive", where, "answer codes, like [very_good, good]", answer_codes=True)
        left_out = None
        if "left_out" in mapping:
            left_out = self.items(
                mapping, "left_out", where, "answer codes, like [dont_know]", answer_codes=True, empty=True
            )
            counted = {item.value for item in positive}
            for item in left_out:
                if item.value in counted:
                    self.problem(
                        item.line,
                        item.where,
                        f"'{item.value}' is both positive and left out: an answer is either counted "
                        "as positive or left out of the denominator, not both",
                    )
        return _Answers(
            questionnaires=named,
            questions=questions,
            positive=positive,
            left_out=left_out,
            audience=self.audience(mapping, where),
            filters=self.filters(mapping, where),
            mapping=mapping,
            where=where,
        )

    def questionnaire_keys(self, mapping: LineDict, where: str) -> tuple[_Item, ...]:
        if "questionnaire" in mapping and "questionnaires" in mapping:
            self.problem(
                mapping.line_of("questionnaires"),
                join(where, "questionnaires"),
                "give either questionnaire (one key) or questionnaires (a list), not both",
            )
            return ()
        if "questionnaires" in mapping:
            return self.items(mapping, "questionnaires", where, "questionnaire keys, like [ehc_plan_feedback]")
        if "questionnaire" not in mapping:
            self.problem(
                mapping.line,
                join(where, "questionnaire"),
                "'questionnaire' is required: the key of the questionnaire that asks the question "
                "(or 'questionnaires' with a list of keys)",
            )
            return ()
        item = self.item(mapping, "questionnaire", where)
        return () if item is None else (item,)

    def filters(self, mapping: LineDict, where: str) -> tuple[tuple[_Item, tuple[_Item, ...]], ...]:
        if "where" not in mapping:
            return ()
        filters = []
        for index, entry in self.entries(mapping, "where", where, "filters, each with a question and any_of"):
            filter_where = f"{join(where, 'where')}[{index}]"
            self.allowed_fields(entry, FILTER_FIELDS, filter_where)
            question = self.item(entry, "question", filter_where)
            any_of = self.items(entry, "any_of", filter_where, "answer codes, like [ehc_plan]", answer_codes=True)
            if question is not None and any_of:
                filters.append((question, any_of))
        return tuple(filters)

    def audience(self, mapping: LineDict, where: str) -> str | None:
        text = self.text(mapping, "audience", where, required=False)
        if text is None:
            return None
        if text not in {audience.value for audience in Audience}:
            self.problem(
                mapping.line_of("audience"),
                join(where, "audience"),
                f"unknown audience '{text}'{_suggest(text, Audience)}",
            )
            return None
        return text

    # Baseline, targets and benchmarks

    def baseline(self, entry: LineDict, where: str, scale: _Scale | None, recorded: bool) -> Baseline | None:
        if "baseline" not in entry:
            return None
        raw = entry["baseline"]
        line = entry.line_of("baseline")
        baseline_where = join(where, "baseline")
        if raw == FIRST_WAVE:
            if recorded:
                self.problem(
                    line,
                    baseline_where,
                    "recorded figures have no survey waves, so the baseline cannot be first_wave: "
                    "give its value and date",
                )
                return None
            return Baseline(first_wave=True)
        if not isinstance(raw, LineDict):
            hint = _suggest(raw, [FIRST_WAVE], listing=None) if isinstance(raw, str) else ""
            self.problem(
                line,
                baseline_where,
                f"must be the word first_wave, or a mapping with value and date, not {describe(raw)}{hint}",
            )
            return None
        mapping = self.mapping(raw, line, baseline_where)
        self.allowed_fields(mapping, BASELINE_FIELDS, baseline_where)
        value = self.value(mapping, "value", baseline_where, scale)
        day = self.day(mapping, "date", baseline_where)
        n = self.whole(mapping, "n", baseline_where, minimum=1)
        if "n" in mapping and scale is _Scale.COUNT:
            self.problem(
                mapping.line_of("n"), join(baseline_where, "n"), "a count has no base (n): remove it from the baseline"
            )
        if value is None or day is None:
            return None
        return Baseline(value=value, date=day, n=n)

    def targets(
        self, entry: LineDict, where: str, scale: _Scale | None, baseline: Baseline | None
    ) -> tuple[Target, ...]:
        if "targets" not in entry:
            return ()
        targets: list[Target] = []
        latest: date | None = None
        for index, mapping in self.entries(entry, "targets", where, "targets, each with value and by"):
            target_where = f"{join(where, 'targets')}[{index}]"
            self.allowed_fields(mapping, TARGET_FIELDS, target_where)
            value = self.value(mapping, "value", target_where, scale)
            by = self.day(mapping, "by", target_where)
            if by is None:
                continue
            by_line, by_where = mapping.line_of("by"), join(target_where, "by")
            if baseline is not None and baseline.date is not None and by <= baseline.date:
                self.problem(
                    by_line,
                    by_where,
                    f"{by} is not after the baseline date ({baseline.date}): a target must come after the baseline",
                )
            elif latest is not None and by == latest:
                self.problem(by_line, by_where, f"two targets are dated {by}: give one target for each date")
            elif latest is not None and by < latest:
                self.problem(
                    by_line,
                    by_where,
                    f"the targets must be in date order: {by} comes before the target above it ({latest})",
                )
            latest = by if latest is None else max(latest, by)
            if value is not None:
                targets.append(Target(value=value, by=by))
        return tuple(targets)

    def benchmarks(self, entry: LineDict, where: str, scale: _Scale | None) -> tuple[Benchmark, ...]:
        if "benchmarks" not in entry:
            return ()
        benchmarks: list[Benchmark] = []
        for index, mapping in self.entries(
            entry, "benchmarks", where, "benchmarks, each with name, value, date and source"
        ):
            benchmark_where = f"{join(where, 'benchmarks')}[{index}]"
            self.allowed_fields(mapping, BENCHMARK_FIELDS, benchmark_where)
            name = self.text(mapping, "name", benchmark_where)
            value = self.value(mapping, "value", benchmark_where, scale)
            day = self.day(mapping, "date", benchmark_where)
            source = self.text(mapping, "source", benchmark_where)
            if name is not None and value is not None and day is not None and source is not None:
                benchmarks.append(Benchmark(name=name, value=value, date=day, source=source))
        return tuple(benchmarks)

    # Populations

    def populations(self, root: LineDict) -> tuple[Population, ...]:
        if "populations" not in root:
            return ()
        populations: list[Population] = []
        first_use: dict[str, str] = {}
        entries = self.entries(
            root, "populations", "", "populations, each with key, title, question, source and counts"
        )
        for index, entry in entries:
            where = f"populations[{index}]"
            before = len(self.problems)
            self.allowed_fields(entry, POPULATION_FIELDS, where)
            key = self.stable_key(entry, where)
            if key is not None:
                if key in first_use:
                    self.problem(
                        entry.line_of("key"), join(where, "key"), f"the key '{key}' is already used by {first_use[key]}"
                    )
                first_use.setdefault(key, where)
            title = self.text(entry, "title", where)
            source = self.text(entry, "source", where)
            audience = self.audience(entry, where)
            question = self.item(entry, "question", where)
            counts = self.counts(entry, where)
            if question is not None and ("audience" not in entry or audience is not None):
                self.check_population(question, counts, audience)
            if len(self.problems) > before or None in (key, title, source, question):
                continue
            populations.append(
                Population(
                    key=key,
                    title=title,
                    question=question.value,
                    counts={item.value: count for item, count in counts},
                    source=source,
                    audience=audience,
                )
            )
        return tuple(populations)

    def counts(self, entry: LineDict, where: str) -> list[tuple[_Item, int]]:
        counts_where = join(where, "counts")
        if "counts" not in entry:
            self.problem(
                entry.line, counts_where, "'counts' is required: the number of people in each group, like {north: 820}"
            )
            return []
        mapping = self.mapping(entry["counts"], entry.line_of("counts"), counts_where)
        if mapping is None:
            return []
        if not mapping:
            self.problem(entry.line_of("counts"), counts_where, "needs the number of people in at least one group")
        counts: list[tuple[_Item, int]] = []
        for code in mapping:
            line, code_where = mapping.line_of(code), join(counts_where, str(code))
            if not isinstance(code, str) or not KEY_PATTERN.match(code):
                self.problem(line, code_where, _not_a_code(code))
                continue
            count = self.whole(mapping, code, counts_where, minimum=0)
            if count is not None:
                counts.append((_Item(code, line, code_where), count))
        return counts

    # Checks against the questionnaires

    def check_answers(self, answers: _Answers, composite: bool) -> None:
        if self.library is None:
            return
        named: list[tuple[str, Questionnaire]] = []
        for item in answers.questionnaires:
            questionnaire = self.library.get(item.value)
            if questionnaire is None:
                self.problem(
                    item.line, item.where, f"unknown questionnaire '{item.value}'{_suggest(item.value, self.library)}"
                )
            else:
                named.append((item.value, questionnaire))
        if not named:
            return
        if answers.audience is not None:
            for key, questionnaire in named:
                if questionnaire.audience != answers.audience:
                    self.problem(
                        answers.mapping.line_of("audience"),
                        join(answers.where, "audience"),
                        f"'{key}' is a questionnaire for {questionnaire.audience.value}, not {answers.audience}",
                    )
        asked: list[tuple[str, Question]] = []
        for item in answers.questions:
            for key, questionnaire in named:
                question = self.counted_question(key, questionnaire, item)
                if question is not None:
                    asked.append((key, question))
        if asked:
            self.check_codes(answers, asked, composite)
        for question_item, any_of in answers.filters:
            self.check_filter(named, question_item, any_of)

    def counted_question(self, key: str, questionnaire: Questionnaire, item: _Item) -> Question | None:
        question = questionnaire.question(item.value)
        if question is None:
            keys = [question.key for question in questionnaire.questions if question.section is not Section.EQUALITY]
            self.problem(
                item.line,
                item.where,
                f"the questionnaire '{key}' has no question '{item.value}'"
                f"{_suggest(item.value, keys, listing='its questions are')}",
            )
        elif question.section is Section.EQUALITY:
            self.problem(
                item.line,
                item.where,
                f"'{item.value}' is an equality monitoring question: those answers are kept apart from the "
                "responses and cannot be counted with them",
            )
        elif not question.type.is_choice:
            self.problem(
                item.line,
                item.where,
                f"'{item.value}' is a {question.type.value.replace('_', ' ')} question in '{key}': only choice "
                "questions (single or multiple choice, likert, yes/no) can be counted",
            )
        else:
            return question
        return None

    def check_codes(self, answers: _Answers, asked: list[tuple[str, Question]], composite: bool) -> None:
        """Each answer code must be one some named question offers, and each question must offer a positive."""
        # In the order the questions offer them, as the officer sees them in the questionnaire.
        offered = list(dict.fromkeys(option.value for _, question in asked for option in question.options))
        what = "any of these questions" if composite else f"'{asked[0][1].key}'"
        unknown = set()
        for item in (*answers.positive, *(answers.left_out or ())):
            if item.value not in offered:
                unknown.add(item.value)
                hint = _suggest(item.value, offered, listing="its answers are" if not composite else "the answers are")
                self.problem(item.line, item.where, f"'{item.value}' is not an answer to {what}{hint}")
        positive = {item.value for item in answers.positive}
        if positive <= unknown:
            # Every positive code is already reported as unknown.
            return
        for key, question in asked:
            values = [option.value for option in question.options]
            if not positive.intersection(values):
                self.problem(
                    answers.mapping.line_of("positive"),
                    join(answers.where, "positive"),
                    f"'{key}' offers none of these answers for '{question.key}': its answers are {', '.join(values)}",
                )

    def check_filter(self, named: list[tuple[str, Questionnaire]], item: _Item, any_of: tuple[_Item, ...]) -> None:
        offered: dict[str, None] = {}
        every = True
        for key, questionnaire in named:
            question = questionnaire.question(item.value)
            if question is None or question.section is not Section.CONTEXT:
                every = False
                context = [question.key for question in questionnaire.questions if question.section is Section.CONTEXT]
                hint = _suggest(item.value, context, listing="its context questions are") if context else ""
                self.problem(
                    item.line,
                    item.where,
                    f"'{item.value}' is not a context question of '{key}': filters use the context "
                    f"questions, which say who an answer is about{hint}",
                )
            else:
                offered.update(dict.fromkeys(option.value for option in question.options))
        if not every:
            return
        for code in any_of:
            if code.value not in offered:
                hint = _suggest(code.value, offered, listing="its answers are")
                self.problem(code.line, code.where, f"'{code.value}' is not an answer to '{item.value}'{hint}")

    def check_population(self, item: _Item, counts: list[tuple[_Item, int]], audience: str | None) -> None:
        if self.library is None:
            return
        candidates = [
            questionnaire
            for questionnaire in self.library.values()
            if audience is None or questionnaire.audience == audience
        ]
        grouping = [
            question
            for questionnaire in candidates
            for question in questionnaire.questions
            if question.section in (Section.CONTEXT, Section.EQUALITY) and question.type.is_choice
        ]
        questions = [question for question in grouping if question.key == item.value]
        if not questions:
            whose = f"a {audience} questionnaire" if audience else "a questionnaire"
            keys = sorted({question.key for question in grouping})
            hint = _suggest(item.value, keys, listing="they are")
            self.problem(
                item.line,
                item.where,
                f"'{item.value}' is not a context or equality choice question of {whose}: a population "
                f"is counted by who the answers are about, such as locality{hint}",
            )
            return
        # "Not sure" and "Prefer not to say" are not groups anyone is counted in.
        offered = list(dict.fromkeys(option.value for question in questions for option in question.scale_options))
        for code, _ in counts:
            if code.value not in offered:
                hint = _suggest(code.value, offered, listing="its answers are")
                self.problem(code.line, code.where, f"'{code.value}' is not an answer to '{item.value}'{hint}")

    # Values

    def stable_key(self, mapping: LineDict, where: str) -> str | None:
        value = self.text(mapping, "key", where)
        if value is not None and not KEY_PATTERN.match(value):
            self.problem(
                mapping.line_of("key"),
                join(where, "key"),
                f"'{value}' is not a valid key: use lower-case letters, digits and underscores, starting with a letter",
            )
            return None
        return value

    def item(self, mapping: LineDict, key: str, where: str) -> _Item | None:
        value = self.text(mapping, key, where)
        if value is None:
            return None
        if not KEY_PATTERN.match(value):
            self.problem(
                mapping.line_of(key),
                join(where, key),
                f"'{value}' is not a key: keys are lower-case letters, digits and underscores, like school_phase",
            )
            return None
        return _Item(value, mapping.line_of(key), join(where, key))

    def entries(self, mapping: LineDict, key: str, where: str, what: str) -> list[tuple[int, LineDict]]:
        """The items of a list of mappings, with their index; the problems with the others are recorded."""
        items = mapping[key]
        if not isinstance(items, LineList) or not items:
            self.problem(mapping.line_of(key), join(where, key), f"needs a list of {what}")
            return []
        found = []
        for index, item in enumerate(items):
            entry = self.mapping(item, items.line_of(index), f"{join(where, key)}[{index}]")
            if entry is not None:
                found.append((index, entry))
        return found

    def items(
        self, mapping: LineDict, key: str, where: str, what: str, answer_codes: bool = False, empty: bool = False
    ) -> tuple[_Item, ...]:
        """A list of keys or answer codes, each with its own line; the problems with the others are recorded."""
        field_where = join(where, key)
        if key not in mapping:
            self.problem(mapping.line, field_where, f"'{key}' is required: a list of {what}")
            return ()
        items = mapping[key]
        if not isinstance(items, LineList) or (not items and not empty):
            self.problem(mapping.line_of(key), field_where, f"needs a list of {what}")
            return ()
        found: list[_Item] = []
        for index, value in enumerate(items):
            line, item_where = items.line_of(index), f"{field_where}[{index}]"
            if not isinstance(value, str) or not KEY_PATTERN.match(value):
                message = _not_a_code(value) if answer_codes else f"{describe(value)} is not a key"
                self.problem(line, item_where, message)
            elif value in (item.value for item in found):
                self.problem(line, item_where, f"'{value}' is listed twice")
            else:
                found.append(_Item(value, line, item_where))
        return tuple(found)

    def choice(
        self,
        mapping: LineDict,
        key: str,
        where: str,
        kind: type[StrEnum],
        what: str,
        allowed: Collection[StrEnum] | None = None,
    ) -> Any:
        text = self.text(mapping, key, where)
        if text is None:
            return None
        choices = [member.value for member in (allowed or kind)]
        if text not in choices:
            if text in {member.value for member in kind}:
                message = f"recorded figures have no survey waves: use {_either(choices)}"
            else:
                message = f"unknown {what} '{text}'{_suggest(text, choices)}"
            self.problem(mapping.line_of(key), join(where, key), message)
            return None
        return kind(text)

    def whole(self, mapping: LineDict, key: str, where: str, minimum: int) -> int | None:
        if key not in mapping:
            return None
        value = mapping[key]
        number = _whole_number(value)
        if number is None or number < minimum:
            floor = "a positive whole number" if minimum == 1 else f"a whole number, {minimum} or more"
            self.problem(mapping.line_of(key), join(where, key), f"must be {floor}, not {describe(value)}")
            return None
        return number

    def percentage(
        self, mapping: LineDict, key: str, where: str, zero: bool = True, hundred: bool = True
    ) -> float | None:
        """A percentage written as 38% or 38, as a proportion (0.38)."""
        if key not in mapping:
            return None
        value = mapping[key]
        number = _percentage_number(value)
        line, field_where = mapping.line_of(key), join(where, key)
        if number is None:
            self.problem(line, field_where, f"must be a percentage, like 38% or 38, not {describe(value)}")
            return None
        if not isinstance(value, str) and 0 < number < 1:
            # 0.38 is far more often a proportion written by mistake than a figure under 1%.
            self.problem(
                line,
                field_where,
                f"{value} would be read as {value}%: write it as a percentage, like {number * 100:g}%, "
                f"or as {value}% if that is meant",
            )
            return None
        low_ok = number > 0 or (zero and number == 0)
        high_ok = number < 100 or (hundred and number == 100)
        if not (low_ok and high_ok):
            bounds = {
                (True, True): "from 0% to 100%",
                (False, False): "more than 0% and less than 100%",
                (False, True): "more than 0% and at most 100%",
            }[(zero, hundred)]
            self.problem(line, field_where, f"must be a percentage {bounds}, not {describe(value)}")
            return None
        # Rounded so that 49.2% is held as 0.492, the figure written, not 0.49200000000000005.
        return round(number / 100, 10)

    def value(self, mapping: LineDict, key: str, where: str, scale: _Scale | None) -> float | None:
        """A baseline, target or benchmark value, in the measure's own scale."""
        if key not in mapping:
            self.problem(mapping.line, join(where, key), f"'{key}' is required")
            return None
        if scale is _Scale.COUNT:
            value = mapping[key]
            number = _whole_number(value)
            if number is None or number < 0:
                self.problem(
                    mapping.line_of(key),
                    join(where, key),
                    f"this measure is a count, so its values are whole numbers (0 or more), not {describe(value)}",
                )
                return None
            return float(number)
        if scale is _Scale.PERCENTAGE:
            return self.percentage(mapping, key, where)
        # The measure's source has a problem of its own, so what its values mean cannot be told.
        return None

    def day(self, mapping: LineDict, key: str, where: str) -> date | None:
        if key not in mapping:
            self.problem(mapping.line, join(where, key), f"'{key}' is required")
            return None
        value = mapping[key]
        line, field_where = mapping.line_of(key), join(where, key)
        if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
            self.problem(
                line, field_where, f"must be a date written as YYYY-MM-DD, like 2024-03-31, not {describe(value)}"
            )
            return None
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            self.problem(line, field_where, f"'{value}' is not a real date")
            return None


def _values(items: tuple[_Item, ...]) -> tuple[str, ...]:
    return tuple(item.value for item in items)


def _filters(answers: _Answers) -> tuple[Filter, ...]:
    return tuple(Filter(question=question.value, any_of=_values(any_of)) for question, any_of in answers.filters)


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _percentage_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _PERCENTAGE.match(value)
        if match:
            return float(match.group(1))
    return None


def _not_a_code(value: Any) -> str:
    return (
        f"{describe(value)} is not an answer code: codes are lower-case letters, digits and underscores, like very_good"
    )


def _either(choices: list[str]) -> str:
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]


def _suggest(word: str, choices: Iterable[str], listing: str | None = "use") -> str:
    """'; did you mean ...?' for a near miss, otherwise the choices there are (unless ``listing`` is None)."""
    options = [str(choice) for choice in choices]
    close = difflib.get_close_matches(word, options, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; {listing} {_either(options)}" if options and listing else ""
