"""Example answers: a valid answer to any question, as a browser posts it.

Used wherever a whole questionnaire must be answered without a person: the
tests, the benchmarks, and anyone trying a new questionnaire out.
"""

from __future__ import annotations

from .schema import Question, QuestionType


def example_form_values(question: Question) -> list[str]:
    """Form values for a valid answer (a date is three values: day, month, year)."""
    match question.type:
        case QuestionType.MULTIPLE_CHOICE:
            return [question.scale_options[0].value, question.scale_options[-1].value]
        case QuestionType.SINGLE_CHOICE | QuestionType.LIKERT | QuestionType.YES_NO:
            return [question.options[0].value]
        case QuestionType.SHORT_TEXT:
            return ["Short breaks"]
        case QuestionType.LONG_TEXT:
            return ["The caseworker called back.\nThe letters were clear."]
        case QuestionType.NUMBER:
            return [str(question.min if question.min is not None else 1)]
        case QuestionType.DATE:
            return ["14", "11", "2025"]
    raise ValueError(f"No example for question type {question.type}")
