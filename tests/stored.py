"""Responses stored straight into the database, as the journey stores them.

For tests that need many responses, or answers no person could give through
the pages (a response from last year, a plan reference set by hand, as versions that asked for
one stored it).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from survey_app.database import begin_write
from survey_app.extensions import db
from survey_app.models import EqualityAnswer, EqualityMonitoring, Invitation, Response, SurveyRun, utcnow
from survey_app.services import answer_counts
from survey_app.services.journey import add_answers, new_reference
from survey_app.services.questionnaires import questionnaire_of
from survey_app.services.uk_time import uk_date


def add_response(
    run: SurveyRun,
    answers: dict[str, str | list[str]],
    submitted_at: datetime,
    language: str = "en",
    plan_reference: str | None = None,
) -> Response:
    """Add a response and its answers to the session, and their counts to ``answer_count``, in the write
    transaction already begun (for many at once)."""
    response = Response(
        reference=new_reference(),
        submission_key=secrets.token_hex(16),
        run_id=run.id,
        questionnaire_version_id=run.questionnaire_version_id,
        audience=run.questionnaire_version.audience,
        language=language,
        submitted_at=submitted_at,
        plan_reference=plan_reference,
    )
    for key, given in answers.items():
        add_answers(response, key, given)
    db.session.add(response)
    answer_counts.add_response(
        db.session.connection(),
        questionnaire_of(run.questionnaire_version),
        run.id,
        response.audience,
        submitted_at,
        answers,
    )
    return response


def store_response(
    run: SurveyRun,
    answers: dict[str, str | list[str]],
    submitted_at: datetime | None = None,
    equality: dict[str, str] | None = None,
    language: str = "en",
    plan_reference: str | None = None,
) -> Response:
    """Store a response as the journey's ``_store_response`` does: the response, its answers, and
    the equality answers apart from it."""
    submitted_at = submitted_at or utcnow()
    begin_write()
    response = add_response(run, answers, submitted_at, language, plan_reference)
    if equality:
        monitoring = EqualityMonitoring(
            id=secrets.token_hex(16),
            run_id=run.id,
            questionnaire_version_id=run.questionnaire_version_id,
            submitted_month=uk_date(submitted_at).replace(day=1),
        )
        monitoring.answers.extend(EqualityAnswer(question_key=k, value=v) for k, v in equality.items())
        db.session.add(monitoring)
        answer_counts.add_equality(db.session.connection(), run.id, monitoring.submitted_month, equality.items())
    db.session.commit()
    return response


def invited_response(
    run: SurveyRun,
    reference: str,
    answers: dict[str, str | list[str]],
    submitted_at: datetime | None = None,
) -> Response:
    """A response through an identified invitation, stored as the journey stores it: the response
    carries its invitation and the invitation's plan reference."""
    begin_write()
    invitation = Invitation(
        run_id=run.id,
        token_hash=secrets.token_hex(32),
        link_salt=secrets.token_hex(16),
        reference=reference,
        used=True,
    )
    db.session.add(invitation)
    db.session.flush()
    response = add_response(run, answers, submitted_at or utcnow(), plan_reference=reference)
    response.invitation_id = invitation.id
    db.session.commit()
    return response
