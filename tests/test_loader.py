"""The questionnaire loader: valid files load into typed objects; broken ones are
refused with the file, the line and the field of every problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from questionnaires import QuestionType, load_directory, load_files
from questionnaires.checking import SCALES_FILE
from questionnaires.loader import DIRECTORY, Library, load_file, questionnaire_files
from questionnaires.schema import DONT_KNOW, NONE_OF_THESE, Questionnaire
from questionnaires.shared import load_scales, load_shared
from survey_app.config import DEFAULTS

VALID = """\
key: sample
version: 1
title: A sample questionnaire
audience: parent_carer
estimated_minutes: 2
intro: |
  What this is about.

questions:
  - key: rating
    type: likert
    scale: agree5
    dont_know: true
    label: The plan is right for my child

  - key: missing
    type: multiple_choice
    label: What is missing?
    show_if:
      question: rating
      any_of: [disagree, strongly_disagree]
    options:
      - value: health
        label: Health
      - value: learning
        label: Learning
    none_option: true

  - group: about
    title: About your child
    questions:
      - key: age
        type: number
        label: How old is your child?
        min: 0
        max: 25
      - key: phase
        type: single_choice
        label: Which stage?
        options:
          - value: primary
            label: Primary
          - value: secondary
            label: Secondary

  - key: when
    type: date
    label: When did you get the plan?
    max: today
    required: false

  - key: comments
    type: long_text
    label: Anything else?
    required: false
    max_length: 500

  - key: visited
    type: yes_no
    label: Have you visited?

  - key: looking_for
    type: short_text
    label: What were you looking for?
    required: false
"""


def write(tmp_path: Path, text: str, name: str = "sample.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def default_localities() -> list[str]:
    """The areas of the LOCALITIES setting as the app ships it, which the locality question offers."""
    return [name.strip() for name in DEFAULTS["LOCALITIES"].split(",") if name.strip()]


def shipped_library() -> Library:
    """The shipped questionnaires, loaded as the app loads them with its default settings."""
    return load_directory(localities=default_localities())


def problems_of(tmp_path: Path, text: str) -> list:
    path = write(tmp_path, text)
    shared, shared_problems = load_shared(DIRECTORY)
    assert not shared_problems
    questionnaire, problems = load_file(path, shared)
    assert questionnaire is None, "a file with problems must be refused whole"
    assert problems
    for problem in problems:
        assert problem.file.endswith("sample.yaml")
    return problems


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the nth line containing ``fragment``."""
    found = [number for number, line in enumerate(textwrap.dedent(text).splitlines(), 1) if fragment in line]
    return found[occurrence - 1]


def assert_problem(problems, line: int, field: str, *fragments: str, file: str = "sample.yaml") -> None:
    for problem in problems:
        if (
            problem.file.endswith(file)
            and problem.line == line
            and problem.field == field
            and all(f in problem.message for f in fragments)
        ):
            text = str(problem)
            where = f"{field}: " if field else ""
            assert text.startswith(f"{problem.file}:{line}: {where}"), text
            return
    raise AssertionError(
        f"no problem in {file} at line {line} for {field} with {fragments}; got:\n" + "\n".join(map(str, problems))
    )


# --- valid files --------------------------------------------------------------


def test_a_valid_file_loads_into_typed_objects(tmp_path):
    shared, _ = load_shared(DIRECTORY)
    questionnaire, problems = load_file(write(tmp_path, VALID), shared)
    assert problems == []
    assert isinstance(questionnaire, Questionnaire)
    assert [page.key for page in questionnaire.pages] == [
        "rating",
        "missing",
        "about",
        "when",
        "comments",
        "visited",
        "looking_for",
    ]
    rating = questionnaire.question("rating")
    assert rating.type is QuestionType.LIKERT
    assert [option.value for option in rating.options] == [
        "strongly_agree",
        "agree",
        "neither",
        "disagree",
        "strongly_disagree",
        DONT_KNOW,
    ]
    assert rating.options[-1].apart and rating.options[-1].label == "Don't know"
    missing = questionnaire.question("missing")
    assert missing.options[-1].value == NONE_OF_THESE and missing.options[-1].exclusive
    assert missing.show_if[0].question == "rating"
    assert questionnaire.page("about").is_group and len(questionnaire.page("about").questions) == 2
    assert questionnaire.question("age").min == 0 and questionnaire.question("age").max == 25
    assert questionnaire.question("when").max == "today" and not questionnaire.question("when").required
    assert questionnaire.question("comments").max_length == 500
    assert questionnaire.question("looking_for").max_length == 200  # the default for short text
    assert [o.value for o in questionnaire.question("visited").options] == ["yes", "no"]


def test_the_stored_form_rebuilds_the_same_questionnaire(tmp_path):
    shared, _ = load_shared(DIRECTORY)
    questionnaire, _ = load_file(write(tmp_path, VALID), shared)
    rebuilt = Questionnaire.from_dict(questionnaire.to_dict())
    assert rebuilt == questionnaire
    assert rebuilt.definition_hash == questionnaire.definition_hash


def test_the_hash_follows_meaning_not_layout(tmp_path):
    shared, _ = load_shared(DIRECTORY)
    original, _ = load_file(write(tmp_path, VALID, "a.yaml"), shared)
    reformatted, _ = load_file(
        write(tmp_path, "# a comment\n" + VALID.replace("  - key: rating", "\n  - key: rating"), "b.yaml"), shared
    )
    reworded, _ = load_file(
        write(tmp_path, VALID.replace("The plan is right", "The plan is correct"), "c.yaml"), shared
    )
    assert original.definition_hash == reformatted.definition_hash
    assert original.definition_hash != reworded.definition_hash


def test_yes_and_no_stay_text(tmp_path):
    """YAML 1.1 reads a bare yes as true; answer codes must stay as written."""
    text = VALID.replace("any_of: [disagree, strongly_disagree]", "any_of: [disagree]")
    text += """
  - key: followed_up
    type: single_choice
    label: Follow up?
    show_if:
      question: visited
      any_of: [yes]
    options:
      - value: on
        label: On
      - value: off
        label: Off
"""
    shared, _ = load_shared(DIRECTORY)
    questionnaire, problems = load_file(write(tmp_path, text), shared)
    assert problems == []
    assert questionnaire.question("followed_up").show_if[0].any_of == ("yes",)
    assert [o.value for o in questionnaire.question("followed_up").options] == ["on", "off"]


def test_every_shipped_questionnaire_is_valid():
    library = shipped_library()
    assert library.problems == []
    assert {"ehc_plan_feedback", "send_pathways_information"} <= set(library.questionnaires)
    assert len(library.questionnaires) == len(questionnaire_files()), "every shipped file loads"


def test_the_shipped_scales_are_valid():
    scales, problems = load_scales(DIRECTORY / SCALES_FILE)
    assert problems == []
    assert {"agree5", "good5", "satisfied5", "better_same_worse", "faces3"} <= set(scales)
    assert [o.label for o in scales["good5"]][0] == "Very good"
    assert [o.label for o in scales["good5"]][-1] == "Very poor"


# --- broken files: each names its file, line and field -------------------------


def test_an_unknown_field_is_named_with_a_suggestion(tmp_path):
    text = VALID.replace("title: A sample", "titel: A sample")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "titel:"), "titel", "unknown field 'titel'", "did you mean 'title'")
    assert_problem(problems, 1, "title", "'title' is required")


def test_an_unknown_field_in_a_question(tmp_path):
    text = VALID.replace("    label: The plan is right", "    lable: The plan is right")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "lable:"), "rating.lable", "unknown field 'lable'", "did you mean 'label'")
    assert_problem(problems, line_of(text, "- key: rating"), "rating.label", "'label' is required")


def test_a_field_of_another_question_type_is_unknown(tmp_path):
    text = VALID.replace("    max_length: 500", "    max_length: 500\n    scale: agree5")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "scale: agree5", 2), "comments.scale", "unknown field 'scale'")


def test_a_duplicate_question_key(tmp_path):
    text = VALID.replace("  - key: visited", "  - key: rating")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "- key: rating", 2), "rating.key", "the key 'rating' is used twice")


def test_a_duplicate_key_inside_a_group(tmp_path):
    text = VALID.replace("      - key: phase", "      - key: age")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "- key: age", 2), "age.key", "the key 'age' is used twice")


def test_show_if_pointing_to_a_later_question(tmp_path):
    text = VALID.replace("      question: rating", "      question: visited")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "question: visited"), "missing.show_if.question", "'visited' is not an earlier question"
    )


def test_show_if_pointing_to_an_unknown_question(tmp_path):
    text = VALID.replace("      question: rating", "      question: ratting")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "question: ratting"), "missing.show_if.question", "'ratting' is not an earlier question"
    )


def test_show_if_pointing_to_a_question_on_the_same_page(tmp_path):
    text = VALID.replace(
        "        label: Which stage?\n",
        "        label: Which stage?\n        show_if:\n          question: age\n          any_of: [three]\n",
    )
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "question: age"), "phase.show_if.question", "on the same page")


def test_show_if_with_an_answer_the_question_does_not_have(tmp_path):
    text = VALID.replace("any_of: [disagree, strongly_disagree]", "any_of: [disagree, dissagree]")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems,
        line_of(text, "any_of: [disagree"),
        "missing.show_if.any_of",
        "'dissagree' is not an answer to 'rating'",
    )


def test_a_choice_question_without_options(tmp_path):
    options = "        options:\n          - value: primary\n            label: Primary\n"
    text = VALID.replace(options + "          - value: secondary\n            label: Secondary\n", "")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "- key: phase"), "phase.options", "a single_choice question needs options")


def test_a_choice_question_with_one_option(tmp_path):
    text = VALID.replace("          - value: secondary\n            label: Secondary\n", "")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "        options:"), "phase.options", "at least two options")


def test_an_unknown_scale(tmp_path):
    text = VALID.replace("scale: agree5", "scale: agree7")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "scale: agree7"), "rating.scale", "unknown scale 'agree7'", "agree5")


def test_an_unknown_question_type(tmp_path):
    text = VALID.replace("type: yes_no", "type: yesno")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "type: yesno"), "visited.type", "unknown question type 'yesno'", "did you mean 'yes_no'"
    )


def test_invalid_yaml_names_the_line(tmp_path):
    text = VALID.replace("    label: How old is your child?", "    label: [How old is your child?")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].line >= line_of(text, "[How old")
    assert "not valid YAML" in problems[0].message


def test_a_key_given_twice_in_one_mapping(tmp_path):
    text = VALID.replace("    label: Have you visited?", "    label: Have you visited?\n    label: Visited?")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "label: Visited?"), "visited.label", "'label' is given more than once")


def test_required_must_be_true_or_false(tmp_path):
    text = VALID.replace("    label: Have you visited?", "    label: Have you visited?\n    required: yes")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "required: yes"), "visited.required", "must be true or false")


def test_number_bounds_the_wrong_way_round(tmp_path):
    text = VALID.replace("        min: 0\n        max: 25", "        min: 30\n        max: 25")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "max: 25"), "age.max", "must not be less than min")


def test_a_date_bound_that_is_not_a_date(tmp_path):
    text = VALID.replace("    max: today", "    max: 2025-02-30")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "max: 2025-02-30"), "when.max", "must be a date written YYYY-MM-DD")


def test_an_option_value_kept_for_answers_apart_from_the_scale(tmp_path):
    text = VALID.replace("      - value: learning", "      - value: dont_know")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "value: dont_know"), "missing.options[1].value", "'dont_know' is kept")


def test_an_option_value_used_twice(tmp_path):
    text = VALID.replace("      - value: learning", "      - value: health")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "- value: health", 2), "missing.options[1].value", "used twice")


def test_a_key_that_is_not_a_plain_name(tmp_path):
    text = VALID.replace("  - key: visited", "  - key: Visited-Place")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "key: Visited-Place"), "questions[5].key", "'Visited-Place' is not a valid key"
    )


def test_a_reserved_key(tmp_path):
    text = VALID.replace("  - key: visited", "  - key: csrf_token")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "key: csrf_token"), "questions[5].key", "reserved")


def test_an_unknown_audience(tmp_path):
    text = VALID.replace("audience: parent_carer", "audience: parents")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "audience: parents"), "audience", "unknown audience 'parents'", "parent_carer"
    )


def test_every_problem_in_a_file_is_reported_together(tmp_path):
    text = VALID.replace("scale: agree5", "scale: nope").replace("type: yes_no", "type: maybe")
    problems = problems_of(tmp_path, text)
    assert {problem.field for problem in problems} >= {"rating.scale", "visited.type"}


def test_a_file_that_is_not_a_mapping(tmp_path):
    problems = problems_of(tmp_path, "- just\n- a list\n")
    assert_problem(problems, 1, "", "must be a mapping")


def test_two_files_with_the_same_key(tmp_path):
    first = write(tmp_path, VALID, "first.yaml")
    second = write(tmp_path, VALID, "second.yaml")
    library = load_files([first, second], localities=default_localities())
    assert list(library.questionnaires) == ["sample"]
    [problem] = library.problems
    assert problem.file.endswith("second.yaml") and problem.field == "key"
    assert "already used by" in problem.message and "first.yaml" in problem.message


def test_a_broken_file_is_refused_and_the_others_still_load(tmp_path):
    write(tmp_path, VALID, "good.yaml")
    write(tmp_path, VALID.replace("key: sample", "key: other").replace("scale: agree5", "scale: nope"), "bad.yaml")
    (tmp_path / "scales.yaml").write_text((DIRECTORY / SCALES_FILE).read_text())
    library = load_directory(tmp_path, default_localities())
    assert list(library.questionnaires) == ["sample"]
    assert [p.file.endswith("bad.yaml") for p in library.problems] == [True]


@pytest.mark.parametrize("broken", ["agree5: []\n", "agree5:\n  - value: x\n"])
def test_a_broken_scale_file(tmp_path, broken):
    path = tmp_path / "scales.yaml"
    path.write_text(broken)
    _, problems = load_scales(path)
    assert problems and all(p.file.endswith("scales.yaml") and p.line >= 1 for p in problems)
