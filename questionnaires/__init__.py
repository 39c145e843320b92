"""Questionnaire definitions as data: YAML files, their schema and their loader."""

from .checking import Problem, QuestionnaireError
from .loader import Library, load_directory, load_files
from .schema import Answers, AnswerValue, Audience, Option, Page, Question, Questionnaire, QuestionType

__all__ = [
    "Answers",
    "AnswerValue",
    "Audience",
    "Library",
    "Option",
    "Page",
    "Problem",
    "Question",
    "Questionnaire",
    "QuestionType",
    "QuestionnaireError",
    "load_directory",
    "load_files",
]
