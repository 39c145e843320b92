"""Demo accounts and made-up responses, so that `make run` shows a working officer area.

Only for development: the accounts share one password kept in the instance
folder, and every response is invented (seeded, so each run of the demo
makes the same ones).
"""

from __future__ import annotations

import dataclasses
import random
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, insert, select

from analysis import periods
from questionnaires import Question, Questionnaire
from questionnaires.schema import DONT_KNOW, QuestionType, Section

from ..database import begin_write
from ..extensions import db
from ..models import Answer, Response, Role, SurveyRun, Wave, utcnow
from . import accounts, answer_counts
from . import measures as measure_service
from .journey import add_answers, new_reference
from .questionnaires import questionnaire_for
from .runs import Run, forget_cached_runs, run_by_slug
from .uk_time import uk_date

DEMO_PASSWORD_FILE = "demo-password"  # noqa: S105 - a file name
# Enough responses to each current run that a breakdown by area or by stage
# of education publishes most groups' percentages: disclosure control hides
# counts from 1 to 5 and gives no percentage on a base under 10.
DEMO_RESPONSES_PER_RUN = 300
# How many days each demo run has been open (the current ones) or was open
# (earlier waves). Every invented response is sent while its run is open.
DEMO_OPEN_DAYS = 28
# Earlier waves of each demo survey, so the measures report has a baseline,
# a previous period and a direction of travel: (months ago, responses, how
# strongly the answers lean to the better end of each scale).
DEMO_WAVES = ((12, 120, 0.0), (6, 150, 0.5))
DEMO_WAVE_NAME = "Demo wave"
# Context questions (stage of education, area, main need...) are answered
# alike in every wave: this many leave one out, and this many choose "Prefer
# not to say" or "Not sure" where it is offered (together, "not stated").
CONTEXT_LEFT_OUT = 0.07
CONTEXT_DONT_KNOW = 0.07
# Each group's share of a context question's answers; a question not listed
# (such as the area) has its groups in equal shares. Main needs roughly as in
# the DfE's SEN2 figures for EHC plans.
CONTEXT_SHARES = {
    "school_phase": {"early_years": 14, "primary": 28, "secondary": 28, "post_16": 18, "post_19": 12},
    "primary_need": {
        "asd": 32,
        "slcn": 20,
        "semh": 14,
        "sld": 8,
        "mld": 8,
        "pd": 4,
        "spld": 3,
        "oth": 3,
        "nsa": 3,
        "pmld": 2,
        "hi": 1,
        "vi": 1,
        "msi": 1,
    },
    "completed_with_support": {"alone": 50, "with_help": 35, "on_behalf": 15},
}
# How many were invited to each earlier wave, so its response rate shows (20% to 25%).
DEMO_ELIGIBLE = 600
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


def opened_ago() -> timedelta:
    """How long before now `flask demo` opens the current demo runs.

    In development they have been open for weeks, before the responses
    invented for them; elsewhere there are no invented responses, so they
    open now.
    """
    return timedelta(days=DEMO_OPEN_DAYS) if development_only() else timedelta(minutes=1)


def add_demo_responses(run_slugs: list[str], per_run: int = DEMO_RESPONSES_PER_RUN) -> int:
    """Invented responses to each run that has none yet; returns how many were added.

    Each is sent at a moment between the run's opening and now (or its
    closing, if it has closed). A run not open yet, which only tests ask
    for, gets them while it will be open.
    """
    added = 0
    now = utcnow()
    for slug in run_slugs:
        run = run_by_slug(slug)
        if run is None:
            continue
        if db.session.scalar(select(func.count()).select_from(Response).where(Response.run_id == run.id)):
            continue
        until = min(run.closes_at, now)
        if until <= run.opens_at:
            until = run.closes_at
        chance = random.Random(f"demo-{run.slug}")  # noqa: S311 - invented data, not security
        begin_write()
        _add_responses(run, chance, _moments(chance, per_run, run.opens_at, until), CURRENT_LEAN)
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
    today = uk_date(now)
    added = 0
    if db.session.scalar(select(Wave.id).where(Wave.name.startswith(DEMO_WAVE_NAME))) is not None:
        return added, _add_demo_figures(today)
    for months_ago, count, lean in DEMO_WAVES:
        opens = now - timedelta(days=round(months_ago * 30.4) + DEMO_OPEN_DAYS)
        closes = opens + timedelta(days=DEMO_OPEN_DAYS)
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
                closes_at=closes,
                wave=wave,
                expected_eligible=DEMO_ELIGIBLE,
            )
            db.session.add(past)
            db.session.flush()
            run = dataclasses.replace(current, id=past.id, slug=past.slug, opens_at=opens, closes_at=closes)
            # Seeded by the wave's place, not its month, so every build of the demo invents the same answers.
            chance = random.Random(f"demo-{slug}-{months_ago}-months-ago")  # noqa: S311 - invented data
            _add_responses(run, chance, _moments(chance, count, opens, closes), lean)
            added += count
        db.session.commit()
        forget_cached_runs()
    return added, _add_demo_figures(today)


def _add_demo_figures(today: date) -> int:
    """Invented quarterly figures for the recorded measures, unless any are recorded already.

    For the quarters before ``today``'s (the UK date): never one still in progress.
    """
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


def _moments(chance: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    """``count`` times from ``start`` up to (not including) ``end``, earliest first, as people answer."""
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=span * chance.random()) for _ in range(count))


@dataclasses.dataclass
class _Invented:
    """A response as ``add_answers`` fills it in, before it is written: a plain record, not a ``Response``.

    ``add_answers`` gives it its answers exactly as the journey gives a
    response its answers. On a mapped ``Response`` the session would also
    keep track of each answer, which took twice as long.
    """

    reference: str
    submission_key: str
    run_id: int
    questionnaire_version_id: int
    audience: str
    language: str
    submitted_at: datetime
    answers: list[Answer] = dataclasses.field(default_factory=list)


def _add_responses(run: Run, chance: random.Random, moments: list[datetime], lean: float) -> None:
    """Invented responses sent at these moments, written in bulk in the write transaction already begun.

    Two multi-row INSERTs (responses, then their answers) rather than the
    session's unit of work, which would take most of `make run`'s time; then
    their counts, added up first (``answer_counts``).
    """
    questionnaire = questionnaire_for(run)
    made = []
    for number, submitted_at in enumerate(moments):
        response = _Invented(
            reference=new_reference(),
            submission_key=secrets.token_hex(16),
            run_id=run.id,
            questionnaire_version_id=run.questionnaire_version_id,
            audience=run.audience,
            language="en",
            submitted_at=submitted_at,
        )
        for key, value in _invent_answers(questionnaire, run.audience, chance, number, lean).items():
            add_answers(response, key, value)
        made.append(response)
    if not made:
        return
    rows = [{field: getattr(response, field) for field in _RESPONSE_FIELDS} for response in made]
    ids = db.session.scalars(insert(Response).returning(Response.id, sort_by_parameter_order=True), rows).all()
    answers = [
        {"response_id": response_id, **{field: getattr(answer, field) for field in _ANSWER_FIELDS}}
        for response_id, response in zip(ids, made, strict=True)
        for answer in response.answers
    ]
    if answers:
        db.session.execute(insert(Answer), answers)
    # Their counts, which the measures read, added up here and written in a few statements.
    connection = db.session.connection()
    counting = answer_counts.counting_of(questionnaire)
    measures = answer_counts.counted_measures(connection)
    tally = answer_counts.Tally()
    for response in made:
        given: dict[str, list[str]] = {}
        for answer in response.answers:
            given.setdefault(answer.question_key, []).append(answer.value)
        tally.response(counting, run.id, run.audience, response.submitted_at, given, measures)
    tally.write(connection)


_RESPONSE_FIELDS = tuple(field.name for field in dataclasses.fields(_Invented) if field.name != "answers")
_ANSWER_FIELDS = tuple(column.key for column in Answer.__table__.columns if column.key not in ("id", "response_id"))


def _invent_answers(
    questionnaire: Questionnaire, audience: str, chance: random.Random, number: int, lean: float
) -> dict[str, str | list[str]]:
    """One person's answers, following the questionnaire's routing; no equality monitoring."""
    answers: dict[str, str | list[str]] = {}
    for page in questionnaire.pages:
        if not page.is_shown(answers):
            continue
        for question in page.questions:
            if question.section is Section.EQUALITY or not question.is_shown(answers):
                continue
            value = _invent(question, audience, chance, number, lean)
            if value in (None, "", []):
                continue
            answers[question.key] = value
    return answers


def _invent(question: Question, audience: str, chance: random.Random, number: int, lean: float):
    if question.section is Section.CONTEXT and question.type is QuestionType.SINGLE_CHOICE:
        return _context_answer(question, chance)
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


def _context_answer(question: Question, chance: random.Random) -> str | None:
    """Who the person is, as a local area's families are spread: it does not lean with the wave."""
    draw = chance.random()
    if not question.required and draw < CONTEXT_LEFT_OUT:
        return None
    dont_know = [option.value for option in question.apart_options if option.value == DONT_KNOW]
    if dont_know and draw >= 1 - CONTEXT_DONT_KNOW:
        return dont_know[0]
    options = question.scale_options
    shares = CONTEXT_SHARES.get(question.key, {})
    # An answer not listed (one added to the question since) gets the smallest share.
    weights = [shares.get(option.value, min(shares.values(), default=1)) for option in options]
    return chance.choices(options, weights=weights)[0].value


def demo_run_slugs() -> list[str]:
    return list(db.session.scalars(select(SurveyRun.slug).order_by(SurveyRun.id)))


def development_only() -> bool:
    return current_app.config["APP_ENV"] in ("development", "testing")
