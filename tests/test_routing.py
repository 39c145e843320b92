"""Routing: which pages are shown, and which answers a change makes irrelevant."""

from __future__ import annotations

from questionnaires import routing
from questionnaires.schema import Audience, Condition, Option, Page, Question, Questionnaire, QuestionType

from .test_loader import shipped_library


def choice(key: str, *values: str, show_if: tuple[Condition, ...] = ()) -> Question:
    return Question(
        key=key,
        type=QuestionType.SINGLE_CHOICE,
        label=key,
        options=tuple(Option(value=value, label=value) for value in values),
        show_if=show_if,
    )


def chain() -> Questionnaire:
    """a -> b shown when a is yes -> c shown when b is yes; d always shown."""
    pages = (
        Page("a", (choice("a", "yes", "no"),)),
        Page("b", (choice("b", "yes", "no", show_if=(Condition("a", ("yes",)),)),)),
        Page("c", (choice("c", "x", "y", show_if=(Condition("b", ("yes",)),)),)),
        Page("d", (Question(key="d", type=QuestionType.LONG_TEXT, label="d", required=False, max_length=10),)),
    )
    return Questionnaire("chain", 1, "Chain", Audience.PARENT_CARER, "Intro", 1, pages)


def test_hidden_pages_are_skipped():
    questionnaire = chain()
    assert [p.key for p in routing.visible_pages(questionnaire, {})] == ["a", "d"]
    assert [p.key for p in routing.visible_pages(questionnaire, {"a": "yes"})] == ["a", "b", "d"]
    assert [p.key for p in routing.visible_pages(questionnaire, {"a": "yes", "b": "yes"})] == ["a", "b", "c", "d"]
    assert routing.next_page(questionnaire, {"a": "no"}, "a").key == "d"
    assert routing.previous_page(questionnaire, {"a": "no"}, "d").key == "a"
    assert routing.next_page(questionnaire, {}, "d") is None


def test_a_change_discards_the_answers_it_makes_irrelevant_in_cascade():
    questionnaire = chain()
    answers = {"a": "yes", "b": "yes", "c": "x", "d": "kept"}
    kept, completed = routing.prune(questionnaire, {**answers, "a": "no"}, ["a", "b", "c", "d"])
    assert kept == {"a": "no", "d": "kept"}
    assert completed == ["a", "d"]


def test_a_condition_on_a_multiple_choice_answer_holds_for_any_value_chosen():
    condition = Condition("needs", ("health", "care"))
    assert condition.holds({"needs": ["learning", "care"]})
    assert not condition.holds({"needs": ["learning"]})
    assert not condition.holds({})


def test_the_first_unfinished_page_stops_at_the_page_asked_about():
    questionnaire = chain()
    assert routing.first_unfinished_page(questionnaire, {}, []).key == "a"
    assert routing.first_unfinished_page(questionnaire, {}, [], before="a") is None
    assert routing.first_unfinished_page(questionnaire, {"a": "yes"}, ["a"]).key == "b"
    # An optional page left blank still counts once it has been seen.
    assert routing.first_unfinished_page(questionnaire, {"a": "no"}, ["a", "d"]) is None
    assert routing.first_unfinished_page(questionnaire, {"a": "no"}, ["a"]).key == "d"


def test_progress_counts_the_pages_now_shown():
    questionnaire = chain()
    assert routing.progress(questionnaire, {"a": "no"}, "d") == routing.Progress(2, 2)
    assert routing.progress(questionnaire, {"a": "yes", "b": "yes"}, "d") == routing.Progress(4, 4)


def test_the_shipped_plan_feedback_routes_on_disagreement():
    questionnaire = shipped_library().get("ehc_plan_feedback")
    shown = [p.key for p in routing.visible_pages(questionnaire, {"plan_reflects_needs": "disagree"})]
    assert "needs_missing" in shown
    shown = [p.key for p in routing.visible_pages(questionnaire, {"plan_reflects_needs": "agree"})]
    assert "needs_missing" not in shown
