"""Demo accounts and made-up responses, so that `make run` shows a working officer area.

Only for development: the accounts share one password kept in the instance
folder, and every response is invented (seeded, so each run of the demo
makes the same ones).
"""

from __future__ import annotations

import dataclasses
import random
import secrets
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from analysis import periods
from questionnaires import Question, Questionnaire
from questionnaires.schema import QuestionType, Section

from ..database import begin_write
from ..extensions import db
from ..models import Response, Role, SurveyRun, Wave, utcnow
from . import accounts
from . import measures as measure_service
from .journey import add_answers, new_reference
from .questionnaires import questionnaire_for
from .runs import Run, forget_cached_runs, run_by_slug

DEMO_PASSWORD_FILE = "demo-password"  # noqa: S105 - a file name
DEMO_RESPONSES_PER_RUN = 36
# Earlier waves of each demo survey, so the measures report has a baseline,
# a previous period and a direction of travel: (months ago, responses, how
# strongly the answers lean to the better end of each scale).
DEMO_WAVES = ((12, 30, 0.0), (6, 33, 0.5))
DEMO_WAVE_NAME = "Demo wave"
DEMO_ELIGIBLE = 150
CURRENT_LEAN = 1.0
# Recorded figures for this many quarters up to the last full one: enough
# for statistical process control (12 or more).
DEMO_QUARTERS = 14

# Comments in the words families and young people use in the councils' reports.
PARENT_COMMENTS = [
    "It took months to get a reply to my emails. When the caseworker did call, she was very helpful.",
    "The Local Offer website is hard to find things on. I found out about short breaks from another parent.",
    "The annual review was positive and the school listened to us.",
    "Nobody told us what would happen after the assessment. Please keep parents updated.",
    "We waited 26 weeks for the plan. The draft was good but the wait was stressful.",
    "The plan does not mention his speech and language therapy, which he really needs.",
    "Please ring me on 07700 900123, I would like to talk about transport.",
    "The SENCO has been brilliant with Amelia this year.",
    "More information about preparing for adulthood would help, he is in Year 10 now.",
    "",
]
YOUNG_PERSON_COMMENTS = [
    "I like my teacher. She helps me.",
    "I want to do more cooking at college.",
    "Sometimes I get bullied at break time and nobody cares.",
    "The meeting was too long and I was tired.",
    "I liked that they asked what I want to do.",
    "",
]
SETTING_COMMENTS = [
    "Outcomes are specific, but section F provision is not quantified.",
    "We received the final plan after the start of term, which delayed the support.",
    "Good collaboration with the educational psychologist.",
    "",
]


def ensure_demo_accounts(instance_path: Path) -> tuple[list[str], str]:
    """An admin, an officer and a viewer, sharing one password kept in the instance folder."""
    path = instance_path / DEMO_PASSWORD_FILE
    if path.exists():
        password = path.read_text().strip()
    else:
        password = "-".join(secrets.choice(_WORDS) for _ in range(4))
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(password)
        path.chmod(0o600)
    emails = []
    for role in (Role.ADMIN, Role.OFFICER, Role.VIEWER):
        email = f"{role.value}@example.gov.uk"
        if accounts.user_by_email(email) is None:
            accounts.create_user(email, password, role)
        emails.append(email)
    return emails, password


_WORDS = (
    "harbour violet tractor meadow lantern pebble orchard biscuit falcon canvas juniper quarry "
    "saddle thistle walnut beacon cobalt dune ember fjord glacier hazel indigo kettle"
).split()


def add_demo_responses(run_slugs: list[str], per_run: int = DEMO_RESPONSES_PER_RUN) -> int:
    """Invented responses to each run that has none yet; returns how many were added."""
    added = 0
    for slug in run_slugs:
        run = run_by_slug(slug)
        if run is None:
            continue
        if db.session.scalar(select(func.count()).select_from(Response).where(Response.run_id == run.id)):
            continue
        questionnaire = questionnaire_for(run)
        chance = random.Random(f"demo-{run.slug}")  # noqa: S311 - invented data, not security
        begin_write()
        now = utcnow()
        for number in range(per_run):
            submitted_at = now - timedelta(days=chance.randint(0, 27), minutes=chance.randint(0, 600))
            _add_response(run, questionnaire, chance, submitted_at, number, CURRENT_LEAN)
        db.session.commit()
        added += per_run
    return added


def add_demo_history(run_slugs: list[str]) -> tuple[int, int]:
    """Earlier waves of the demo surveys and recorded figures, once; returns (responses, figures) added.

    Each earlier wave is a closed run of the same questionnaire, the first
    marked as the baseline wave. Its answers lean less to the better end,
    so the report has an improvement to test.
    """
    now = utcnow()
    added = 0
    if db.session.scalar(select(Wave.id).where(Wave.name.startswith(DEMO_WAVE_NAME))) is not None:
        return added, _add_demo_figures(now.date())
    for months_ago, count, lean in DEMO_WAVES:
        opens = now - timedelta(days=round(months_ago * 30.4) + 28)
        name = f"{DEMO_WAVE_NAME}, {opens:%B %Y}"
        begin_write()
        wave = Wave(name=name, is_baseline=months_ago == DEMO_WAVES[0][0], created_at=now)
        db.session.add(wave)
        for slug in run_slugs:
            current = run_by_slug(slug)
            if current is None:
                continue
            past = SurveyRun(
                slug=f"{slug}-{opens:%Y-%m}",
                title=f"{current.title} ({opens:%B %Y})",
                questionnaire_version_id=current.questionnaire_version_id,
                opens_at=opens,
                closes_at=opens + timedelta(days=28),
                wave=wave,
                # Invented too: how many were invited, so the response rate shows.
                expected_eligible=DEMO_ELIGIBLE,
            )
            db.session.add(past)
            db.session.flush()
            run = dataclasses.replace(current, id=past.id, slug=past.slug)
            questionnaire = questionnaire_for(run)
            chance = random.Random(f"demo-{past.slug}")  # noqa: S311 - invented data, not security
            for number in range(count):
                submitted_at = opens + timedelta(days=chance.randint(0, 27), minutes=chance.randint(0, 600))
                _add_response(run, questionnaire, chance, submitted_at, number, lean)
            added += count
        db.session.commit()
        forget_cached_runs()
    return added, _add_demo_figures(now.date())


def _add_demo_figures(today: date) -> int:
    """Invented quarterly figures for the recorded measures, unless any are recorded already."""
    measures = measure_service.measure_set()
    if not measure_service.recorded_frame().empty:
        return 0
    chance = random.Random("demo-figures")  # noqa: S311 - invented data, not security
    quarter = periods.period_of(today, periods.PeriodKind.QUARTER)
    quarters = []
    for _ in range(DEMO_QUARTERS):
        quarter = periods.period_of(quarter.start - timedelta(days=1), periods.PeriodKind.QUARTER)
        quarters.insert(0, quarter)
    figures = []
    open_plans = 2480
    for step, quarter in enumerate(quarters):
        issued = chance.randint(14, 26)
        # Timeliness improves slowly, with the noise a small council sees.
        on_time = min(issued, round(issued * (0.42 + 0.02 * step)) + chance.randint(-2, 2))
        figures.append(
            measure_service.check_figure(measures, "plans_issued_within_20_weeks", quarter.key, on_time, issued)
        )
        open_plans += chance.randint(20, 60)
        figures.append(measure_service.check_figure(measures, "open_ehc_plans", quarter.key, value=open_plans))
        due = chance.randint(150, 220)
        held = min(due, round(due * 0.55) + chance.randint(-10, 10))
        figures.append(measure_service.check_figure(measures, "annual_reviews_in_timescale", quarter.key, held, due))
    added, _ = measure_service.save_figures(figures, by="the demo")
    return added


def _add_response(
    run: Run, questionnaire: Questionnaire, chance: random.Random, submitted_at, number: int, lean: float
) -> None:
    response = Response(
        reference=new_reference(),
        submission_key=secrets.token_hex(16),
        run_id=run.id,
        questionnaire_version_id=run.questionnaire_version_id,
        audience=run.audience,
        language="en",
        submitted_at=submitted_at,
    )
    answers: dict[str, str | list[str]] = {}
    for page in questionnaire.pages:
        if not page.is_shown(answers):
            continue
        for question in page.questions:
            if question.section is Section.EQUALITY or not question.is_shown(answers):
                continue
            value = _invent(question, run.audience, chance, number, lean)
            if value in (None, "", []):
                continue
            answers[question.key] = value
            add_answers(response, question.key, value)
    db.session.add(response)


def _invent(question: Question, audience: str, chance: random.Random, number: int, lean: float):
    if not question.required and question.type.is_choice and chance.random() < 0.1:
        return None
    match question.type:
        case QuestionType.MULTIPLE_CHOICE:
            options = question.scale_options
            return sorted({chance.choice(options).value for _ in range(chance.randint(1, 2))})
        case QuestionType.SINGLE_CHOICE | QuestionType.LIKERT | QuestionType.YES_NO:
            options = question.options
            # Lean towards the better end of a scale (listed first), as real results often do.
            weights = [1 + lean * (len(options) - index) for index in range(len(options))]
            return chance.choices(options, weights=weights)[0].value
        case QuestionType.SHORT_TEXT | QuestionType.LONG_TEXT:
            if question.key == "plan_reference" or question.section is Section.CONTEXT:
                return None
            pool = {
                "young_person": YOUNG_PERSON_COMMENTS,
                "setting": SETTING_COMMENTS,
                "practitioner": SETTING_COMMENTS,
            }.get(audience, PARENT_COMMENTS)
            # A different comment for each question of one response.
            text = pool[(number + sum(map(ord, question.key))) % len(pool)]
            return text[: question.max_length] if question.max_length else text
        case QuestionType.NUMBER:
            low = int(question.min) if isinstance(question.min, int | float) else 0
            high = int(question.max) if isinstance(question.max, int | float) else low + 20
            return str(chance.randint(low, high))
        case QuestionType.DATE:
            return (date.today() - timedelta(days=chance.randint(30, 700))).isoformat()
    return None


def demo_run_slugs() -> list[str]:
    return list(db.session.scalars(select(SurveyRun.slug).order_by(SurveyRun.id)))


def development_only() -> bool:
    return current_app.config["APP_ENV"] in ("development", "testing")
