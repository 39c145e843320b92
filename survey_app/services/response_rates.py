"""Response rates per run and wave, and who responded against who could have.

A result from 19 replies out of 500 families means something different from
one out of 400 replies: the response rate belongs beside every result. And
when the local area knows its eligible population's make-up (families by
area, say), the responses' make-up is checked against it, so a board knows
whose views are missing. Equality monitoring answers can be counted by run
for this, though they can never be read beside a response's other answers.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import distinct, func, select

from analysis import disclosure, representation
from analysis.breakdowns import NOT_STATED
from analysis.measures import DONT_KNOW, Population
from questionnaires.schema import Section

from ..extensions import db
from ..models import Answer, EqualityAnswer, EqualityMonitoring, RetainedCount, utcnow
from .measure_counts import RunInfo, response_buckets, runs_for, wave_periods
from .questionnaires import library
from .uk_time import uk_date

RATE_COLUMNS = ["level", "name", "questionnaire", "responses", "eligible", "rate", "ci_low", "ci_high"]


def context_questions() -> dict[str, str]:
    """Every context question in the library, by key, with its wording."""
    found = {}
    for questionnaire in library().questionnaires.values():
        for question in questionnaire.questions:
            if question.section is Section.CONTEXT and question.type.is_choice:
                found.setdefault(question.key, question.label)
    return found


def _all_runs() -> dict[int, RunInfo]:
    return runs_for(library().questionnaires)


def rates() -> pd.DataFrame:
    """Each run's and each wave's responses over the number eligible, with a 95% interval (RATE_COLUMNS)."""
    runs = _all_runs()
    responses = response_buckets(list(runs), uk_date(utcnow()))
    per_run = responses.groupby("run_id")["responses"].sum().to_dict() if not responses.empty else {}
    rows = []
    for run in sorted(runs.values(), key=lambda run: (run.opens_on, run.title)):
        rows.append(
            {
                "level": "run",
                "name": run.title,
                "questionnaire": run.questionnaire,
                "responses": int(per_run.get(run.id, 0)),
                "eligible": run.eligible,
            }
        )
    waves = wave_periods(runs)
    members: dict[str, list[RunInfo]] = defaultdict(list)
    for run in runs.values():
        if run.wave is not None:
            members[waves[run.id].key].append(run)
    for name, wave_runs in sorted(members.items(), key=lambda item: waves[item[1][0].id].start):
        eligible = [run.eligible for run in wave_runs]
        rows.append(
            {
                "level": "wave",
                "name": name,
                "questionnaire": ", ".join(sorted({run.questionnaire for run in wave_runs})),
                "responses": int(sum(per_run.get(run.id, 0) for run in wave_runs)),
                # A wave's rate is only known when every run in it knows its eligible number.
                "eligible": sum(eligible) if all(eligible) else None,
            }
        )
    frame = pd.DataFrame(rows, columns=["level", "name", "questionnaire", "responses", "eligible"])
    return representation.response_rates(frame)[RATE_COLUMNS] if not frame.empty else pd.DataFrame(columns=RATE_COLUMNS)


@dataclass(frozen=True)
class Check:
    population: Population
    level: str  # "run" or "wave"
    name: str
    result: representation.Representativeness
    table: pd.DataFrame  # the result's table after disclosure control, with population, level and name


def representativeness(populations: tuple[Population, ...], rules: disclosure.DisclosureRules) -> list[Check]:
    """Each population against each run and wave whose questionnaire asks its question (of its audience)."""
    runs = _all_runs()
    waves = wave_periods(runs)
    checks = []
    for population in populations:
        relevant = {
            run_id: run
            for run_id, run in runs.items()
            if (population.audience is None or run.audience == population.audience)
            and _asks(run.questionnaire, population.question)
        }
        if not relevant:
            continue
        counted = _group_counts(population.question, list(relevant))
        levels: list[tuple[str, str, list[int]]] = [("run", run.title, [run.id]) for run in relevant.values()]
        wave_members: dict[str, list[int]] = defaultdict(list)
        for run in relevant.values():
            if run.wave is not None:
                wave_members[waves[run.id].key].append(run.id)
        levels += [("wave", name, ids) for name, ids in wave_members.items()]
        for level, name, ids in levels:
            mine = counted[counted["run_id"].isin(ids)].groupby("group", as_index=False)["responses"].sum()
            if mine["responses"].sum() == 0:
                continue
            result = representation.representativeness(mine, population.counts)
            checks.append(
                Check(population, level, name, result, _published(result.table, population, level, name, rules))
            )
    return checks


def _asks(questionnaire_key: str, question_key: str) -> bool:
    questionnaire = library().get(questionnaire_key)
    return questionnaire is not None and questionnaire.question(question_key) is not None


def _group_counts(question_key: str, run_ids: list[int]) -> pd.DataFrame:
    """Responses per run and answer to a context or equality question, counted in the database; those who did not
    answer are "not stated"."""
    equality = any(
        question.key == question_key and question.section is Section.EQUALITY
        for questionnaire in library().questionnaires.values()
        for question in questionnaire.questions
    )
    if equality:
        answered = (
            select(EqualityMonitoring.run_id, EqualityAnswer.value, func.count())
            .join(EqualityAnswer, EqualityAnswer.monitoring_id == EqualityMonitoring.id)
            .where(EqualityMonitoring.run_id.in_(run_ids), EqualityAnswer.question_key == question_key)
        )
        answered = answered.group_by(EqualityMonitoring.run_id, EqualityAnswer.value)
        kept = select(RetainedCount.run_id, RetainedCount.value, func.sum(RetainedCount.count)).where(
            RetainedCount.run_id.in_(run_ids), RetainedCount.question_key == question_key, RetainedCount.group_key == ""
        )
        kept = kept.group_by(RetainedCount.run_id, RetainedCount.value)
    else:
        answered = (
            select(Answer.run_id, Answer.value, func.count(distinct(Answer.response_id)))
            .where(Answer.run_id.in_(run_ids), Answer.question_key == question_key)
            .group_by(Answer.run_id, Answer.value)
        )
        kept = (
            select(RetainedCount.run_id, RetainedCount.group_value, func.sum(RetainedCount.count))
            .where(
                RetainedCount.run_id.in_(run_ids),
                RetainedCount.question_key == "",
                RetainedCount.group_key == question_key,
            )
            .group_by(RetainedCount.run_id, RetainedCount.group_value)
        )
    rows = [*db.session.execute(answered).all(), *db.session.execute(kept).all()]
    frame = pd.DataFrame(rows, columns=["run_id", "group", "responses"])
    frame["group"] = frame["group"].where(frame["group"] != DONT_KNOW, NOT_STATED)
    totals = response_buckets(run_ids, uk_date(utcnow()))
    answered_per_run = frame.groupby("run_id")["responses"].sum()
    not_stated = [
        {"run_id": run_id, "group": NOT_STATED, "responses": int(total) - int(answered_per_run.get(run_id, 0))}
        for run_id, total in totals.groupby("run_id")["responses"].sum().items()
    ]
    frame = pd.concat([frame, pd.DataFrame(not_stated, columns=frame.columns)], ignore_index=True)
    return frame[frame["responses"] > 0].astype({"responses": int})


def _published(
    table: pd.DataFrame, population: Population, level: str, name: str, rules: disclosure.DisclosureRules
) -> pd.DataFrame:
    """Group counts from 1 to the threshold hidden as "c", with their shares and whatever would give them away."""
    framed = table.assign(population_key=population.key, level=level, name=name, base=table["responses"])
    derived = ["share", "ci_low", "ci_high", "difference"]
    # A share is of all the responses, not of the group's own: the minimum
    # base applies to the total, so 7 of 31 responses still has its share.
    hidden = disclosure.suppress(
        framed,
        dataclasses.replace(rules, minimum_base=0),
        tables=["population_key", "level", "name"],
        group="group",
        positives="responses",
        n="base",
        derived=derived,
    )
    if table["responses"].sum() < rules.minimum_base:
        for column in derived:
            hidden[column] = disclosure.SUPPRESSED
        hidden["suppression"] = hidden["suppression"].where(
            hidden["suppression"] != "", f"base under {rules.minimum_base}"
        )
    return hidden.drop(columns="base")
