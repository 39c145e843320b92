"""The health check: is the app able to serve, and can it reach its database?"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from .questionnaires import library


@dataclass(frozen=True)
class Health:
    database: str
    questionnaires: int
    questionnaire_problems: int

    @property
    def healthy(self) -> bool:
        return self.database == "ok"

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.healthy else "unavailable",
            "app": "ok",
            "database": self.database,
            "questionnaires": {"valid": self.questionnaires, "problems": self.questionnaire_problems},
        }


def check() -> Health:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unavailable"
    loaded = library()
    return Health(database, len(loaded.questionnaires), len(loaded.problems))
