"""Demo accounts and made-up responses, so that `make run` shows a working officer area.

Only for development: the accounts share one password kept in the instance
folder, and every response is invented (seeded, so each run of the demo
makes the same ones).
"""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from questionnaires import Question, Questionnaire
from questionnaires.schema import QuestionType, Section

from ..database import begin_write
from ..extensions import db
from ..models import Response, Role, SurveyRun, utcnow
from . import accounts
from .journey import add_answers, new_reference
from .questionnaires import questionnaire_for
from .runs import Run, run_by_slug

DEMO_PASSWORD_FILE = "demo-password"  # noqa: S105 - a file name
DEMO_RESPONSES_PER_RUN = 36

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
        for number in range(per_run):
            _add_response(run, questionnaire, chance, days_ago=chance.randint(0, 27), number=number)
        db.session.commit()
        added += per_run
    return added


def _add_response(run: Run, questionnaire: Questionnaire, chance: random.Random, days_ago: int, number: int) -> None:
    submitted_at = utcnow() - timedelta(days=days_ago, minutes=chance.randint(0, 600))
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
            value = _invent(question, run.audience, chance, number)
            if value in (None, "", []):
                continue
            answers[question.key] = value
            add_answers(response, question.key, value)
    db.session.add(response)


def _invent(question: Question, audience: str, chance: random.Random, number: int):
    if not question.required and question.type.is_choice and chance.random() < 0.1:
        return None
    match question.type:
        case QuestionType.MULTIPLE_CHOICE:
            options = question.scale_options
            return sorted({chance.choice(options).value for _ in range(chance.randint(1, 2))})
        case QuestionType.SINGLE_CHOICE | QuestionType.LIKERT | QuestionType.YES_NO:
            options = question.options
            # Lean towards the better end of a scale, as real results often do.
            weights = [len(options) - index + 1 for index in range(len(options))]
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
