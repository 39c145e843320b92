"""Publishing questionnaire definitions into the database, and reading them back."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from questionnaires import Library, Questionnaire
from questionnaires.schema import ENGLISH

from ..database import begin_write
from ..extensions import db
from ..models import PublishedVersionChanged, QuestionnaireVersion
from .runs import Run

# Published definitions never change, so a parsed copy can be kept per hash
# and language.
_parsed: dict[tuple[str, str], Questionnaire] = {}


@dataclass(frozen=True)
class PublishResult:
    key: str
    version: int
    created: bool


def library() -> Library:
    """The questionnaire files validated when the app started."""
    return current_app.extensions["questionnaire_library"]


def questionnaire_for(run: Run, language: str = ENGLISH) -> Questionnaire:
    """The typed questionnaire of the version a run uses, in ``language`` where translated."""
    return _parse(run.questionnaire_version_id, run.definition_hash, language)


def questionnaire_of(version: QuestionnaireVersion, language: str = ENGLISH) -> Questionnaire:
    """The typed questionnaire of a published version (the officer area reads responses against it)."""
    return _parse(version.id, version.definition_hash, language)


def _parse(version_id: int, definition_hash: str, language: str) -> Questionnaire:
    questionnaire = _parsed.get((definition_hash, language))
    if questionnaire is None:
        if language == ENGLISH:
            data = db.session.scalar(
                select(QuestionnaireVersion.definition).where(QuestionnaireVersion.id == version_id)
            )
            questionnaire = Questionnaire.from_dict(data)
        else:
            questionnaire = _parse(version_id, definition_hash, ENGLISH).localised(language)
        _parsed[(definition_hash, language)] = questionnaire
    return questionnaire


def publish(questionnaire: Questionnaire) -> PublishResult:
    """Record a questionnaire version; refuse one that changes a published version."""
    begin_write()
    existing = db.session.scalar(
        select(QuestionnaireVersion).filter_by(key=questionnaire.key, version=questionnaire.version)
    )
    if existing is not None:
        db.session.rollback()
        if existing.definition_hash != questionnaire.definition_hash:
            next_version = latest_version(questionnaire.key) + 1
            raise PublishedVersionChanged(
                f"{questionnaire.source or questionnaire.key}: version {questionnaire.version} of "
                f"'{questionnaire.key}' is already published with different content. A published version "
                f"cannot be edited in place: give the changed questionnaire version {next_version}."
            )
        return PublishResult(questionnaire.key, questionnaire.version, created=False)
    db.session.add(
        QuestionnaireVersion(
            key=questionnaire.key,
            version=questionnaire.version,
            title=questionnaire.title,
            audience=questionnaire.audience.value,
            definition=questionnaire.to_dict(),
            definition_hash=questionnaire.definition_hash,
        )
    )
    db.session.commit()
    return PublishResult(questionnaire.key, questionnaire.version, created=True)


def latest_version(key: str) -> int:
    return (
        db.session.scalar(
            select(QuestionnaireVersion.version).filter_by(key=key).order_by(QuestionnaireVersion.version.desc())
        )
        or 0
    )


def latest_versions() -> list[QuestionnaireVersion]:
    """The newest published version of each questionnaire."""
    versions = db.session.scalars(
        select(QuestionnaireVersion).order_by(QuestionnaireVersion.key, QuestionnaireVersion.version.desc())
    ).all()
    newest: dict[str, QuestionnaireVersion] = {}
    for version in versions:
        newest.setdefault(version.key, version)
    return list(newest.values())
