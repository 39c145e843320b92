"""Measure definitions: what a board measure counts, where it starts and where it must get to.

A measure has a stable ``key``, a title and a plain-English definition, a
polarity (whether higher or lower is better, or neither: a measure reported
for information only, such as the number of open plans, is never rated), the
unit its base counts (responses, plans) and one source:

- ``SurveySource``: one question of one or more questionnaires, named by
  their stable keys, so that new wording in a later version never breaks the
  history; which answers count as positive, which are left out of the
  denominator ("Don't know", "Not applicable"; unanswered always is), and
  optional filters on audience and context answers.
- ``CompositeSource``: a response counts as positive when at least a share of
  the applicable questions (those not left out) are positive, such as
  "better in at least half of the outcome areas that apply".
- ``RecordedSource``: figures from elsewhere, such as the case management
  system, recorded per period: a numerator and denominator (SEND6, "% of
  EHC plans issued within 20 weeks") or a count (SEND1, open plans).

Proportions are held from 0 to 1 here; the measures file writes them as
percentages. These objects are built by ``measures_file.load_measures``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

# What one in the base of a measure is, unless its measures file says: a
# survey counts responses; a recorded figure counts cases of whatever it is
# about (the shipped file names them: plans, annual reviews).
SURVEY_UNIT = "responses"
RECORDED_UNIT = "cases"

# The answer codes kept apart from every scale (questionnaires.schema), left
# out of denominators unless a measure says otherwise.
DONT_KNOW = "dont_know"
NOT_APPLICABLE = "not_applicable"
LEFT_OUT_BY_DEFAULT = (DONT_KNOW, NOT_APPLICABLE)


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    # For information only: neither a rise nor a fall is better, so the measure
    # has no direction of travel, no status, no target and no improvement or
    # concern in its SPC chart.
    NONE = "none"

    @property
    def is_rated(self) -> bool:
        """Whether one direction is better than the other."""
        return self is not Polarity.NONE

    @property
    def sign(self) -> int:
        """+1 when a rise is an improvement, -1 when a fall is.

        A measure for information only has no better direction: asking for
        one is a mistake, so it is refused rather than guessed.
        """
        if self is Polarity.NONE:
            raise ValueError("A measure for information only (polarity none) has no better direction.")
        return 1 if self is Polarity.HIGHER_IS_BETTER else -1


class PeriodKind(StrEnum):
    QUARTER = "quarter"  # financial-year quarters: Q1 is April to June
    MONTH = "month"
    YEAR = "year"  # calendar years
    WAVE = "wave"  # survey runs grouped by the wave they belong to


class RecordedKind(StrEnum):
    PROPORTION = "proportion"  # a numerator and a denominator each period
    COUNT = "count"  # one number each period


class Accumulation(StrEnum):
    """How a recorded figure adds up over time."""

    # Each figure counts what happened in its own period; a longer period adds them up.
    PERIOD = "period"
    # Each figure counts what happened in its own period, and the measure is
    # the total from the start of the financial year (1 April) to the end of
    # each period ("cumulative over the year").
    CUMULATIVE_YEAR = "cumulative_year"
    # Each figure is the position at the end of its period ("snapshot at a
    # point in time"); a longer period takes its last figure.
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class Filter:
    """Count only responses whose answer to ``question`` is one of ``any_of``."""

    question: str
    any_of: tuple[str, ...]


@dataclass(frozen=True)
class SurveySource:
    questionnaires: tuple[str, ...]
    question: str
    positive: tuple[str, ...]
    left_out: tuple[str, ...] = LEFT_OUT_BY_DEFAULT
    audience: str | None = None
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class CompositeSource:
    questionnaires: tuple[str, ...]
    questions: tuple[str, ...]
    positive: tuple[str, ...]
    # The share of a response's applicable questions that must be positive (0.5: at least half).
    at_least: float
    left_out: tuple[str, ...] = LEFT_OUT_BY_DEFAULT
    # A response with fewer applicable questions than this is left out of the denominator.
    minimum_applicable: int = 1
    audience: str | None = None
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class RecordedSource:
    kind: RecordedKind
    frequency: PeriodKind
    accumulation: Accumulation = Accumulation.PERIOD
    # Where the figures come from ("Case management system").
    origin: str = ""


Source = SurveySource | CompositeSource | RecordedSource


@dataclass(frozen=True)
class Baseline:
    """Where a measure started: a known figure, or the first wave of surveys."""

    value: float | None = None
    date: date | None = None
    # The base of a known figure, where known; without it, a change from
    # baseline is tested against the baseline as a fixed value.
    n: int | None = None
    first_wave: bool = False


@dataclass(frozen=True)
class Target:
    value: float
    by: date


@dataclass(frozen=True)
class Benchmark:
    """A figure to read the local one against: national, regional or statistical neighbours."""

    name: str
    value: float
    date: date
    source: str


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    definition: str
    polarity: Polarity
    source: Source
    baseline: Baseline | None = None
    targets: tuple[Target, ...] = ()
    benchmarks: tuple[Benchmark, ...] = ()
    # The plan's own reference for it, such as "SEND6".
    reference: str = ""
    # What one in the base is, in the plural ("plans", "annual reviews"); ""
    # for the default of its source (``unit_name``).
    unit: str = ""

    @property
    def unit_name(self) -> str:
        """What one in the base is: the unit given, or responses for a survey and cases for a recorded figure."""
        if self.unit:
            return self.unit
        return RECORDED_UNIT if self.is_recorded else SURVEY_UNIT

    @property
    def is_rated(self) -> bool:
        """Whether the measure has a better direction, and so a direction of travel and a status."""
        return self.polarity.is_rated

    @property
    def is_count(self) -> bool:
        return isinstance(self.source, RecordedSource) and self.source.kind is RecordedKind.COUNT

    @property
    def is_recorded(self) -> bool:
        return isinstance(self.source, RecordedSource)

    @property
    def final_target(self) -> Target | None:
        return self.targets[-1] if self.targets else None


@dataclass(frozen=True)
class StatusRules:
    """The rules behind each status; the defaults are documented in the README.

    Green: the estimate is at or above the trajectory. Light green: below it,
    but the 95% interval still includes it. Amber: significantly below the
    trajectory, but significantly better than the baseline. Red: significantly
    below the trajectory and not significantly better than the baseline.
    Completed: the final target met in ``completed_after`` consecutive
    periods. Insufficient data: a base under ``minimum_base``.
    """

    minimum_base: int = 10
    significance: float = 0.05
    completed_after: int = 2
    # The power with which "responses needed" would tell the target from the current value.
    power: float = 0.8


@dataclass(frozen=True)
class Population:
    """The eligible population's make-up by one context answer, for checking who responded."""

    key: str
    title: str
    question: str
    counts: dict[str, int]
    source: str
    audience: str | None = None


@dataclass(frozen=True)
class MeasureSet:
    """Everything one measures file defines."""

    measures: tuple[Measure, ...]
    rules: StatusRules = field(default_factory=StatusRules)
    populations: tuple[Population, ...] = ()
    source: str | None = None

    def measure(self, key: str) -> Measure | None:
        return next((measure for measure in self.measures if measure.key == key), None)
