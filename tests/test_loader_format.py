"""Version 2 of the questionnaire format: translations, shared context and
equality questions, easy read, pictures and piping.

Every test builds its own questionnaire directory (scales.yaml, context.yaml,
equality.yaml) so that it does not depend on the shipped library, and every
refusal is checked for its file, line and field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from questionnaires import QuestionType, load_directory, load_files
from questionnaires.loader import load_file
from questionnaires.schema import DONT_KNOW, NOT_APPLICABLE, Questionnaire, Section
from questionnaires.shared import load_shared
from questionnaires.translations import missing_translations

from .test_loader import assert_problem, line_of, write

LOCALITIES = ("North", "South", "East", "West")

SCALES = """\
agree3:
  - value: agree
    label: Agree
    label::cy: Cytuno
  - value: neither
    label: Neither agree nor disagree
    label::cy: Ddim yn cytuno nac yn anghytuno
  - value: disagree
    label: Disagree
    label::cy: Anghytuno

faces3:
  - value: happy
    label: Happy
    label::cy: Hapus
    image: faces/happy.svg
    image_alt: Smiling face
    image_alt::cy: Wyneb yn gwenu
  - value: ok
    label: OK
    label::cy: Iawn
    image: faces/ok.svg
    image_alt: Face with a straight mouth
    image_alt::cy: Wyneb gyda cheg syth
  - value: sad
    label: Sad
    label::cy: Trist
    image: faces/sad.svg
    image_alt: Sad face
    image_alt::cy: Wyneb trist
"""

CONTEXT = """\
completed_with_support:
  type: single_choice
  label: Who is answering these questions?
  label::cy: Pwy sy'n ateb y cwestiynau hyn?
  options:
    - value: alone
      label: I am answering on my own
      label::cy: Rydw i'n ateb ar fy mhen fy hun
    - value: with_help
      label: Someone is helping me
      label::cy: Mae rhywun yn fy helpu i

school_phase:
  type: single_choice
  label: Which stage of education is your child at?
  label::cy: Ar ba gam addysg mae eich plentyn?
  hint: You can leave it blank.
  hint::cy: Gallwch ei adael yn wag.
  required: false
  dont_know: Prefer not to say
  dont_know::cy: Mae'n well gen i beidio â dweud
  options:
    - value: primary
      label: Primary school
      label::cy: Ysgol gynradd
    - value: secondary
      label: Secondary school
      label::cy: Ysgol uwchradd

locality:
  type: single_choice
  label: Which area do you live in?
  label::cy: Ym mha ardal ydych chi'n byw?
  required: false
  dont_know: Not sure
  dont_know::cy: Ddim yn siŵr
  options: from_config
"""

EQUALITY = """\
questions:
  - group: about_you
    title: About you
    title::cy: Amdanoch chi
    hint: We ask so we can check we treat everyone fairly. You can skip these questions.
    hint::cy: Rydyn ni'n gofyn er mwyn gwirio ein bod yn trin pawb yn deg. Gallwch hepgor y cwestiynau hyn.
    questions:
      - key: sex
        type: single_choice
        label: What is your sex?
        label::cy: Beth yw eich rhyw?
        required: false
        dont_know: Prefer not to say
        dont_know::cy: Mae'n well gen i beidio â dweud
        options:
          - value: female
            label: Female
            label::cy: Benyw
          - value: male
            label: Male
            label::cy: Gwryw
      - key: disabled
        type: yes_no
        label: Are you disabled?
        label::cy: Ydych chi'n anabl?
        required: false
"""

# A questionnaire with every text translated into Welsh.
BILINGUAL = """\
key: sample
version: 1
languages: [en, cy]
title: A sample questionnaire
title::cy: Holiadur enghreifftiol
audience: parent_carer
estimated_minutes: 2
intro: What this is about.
intro::cy: Beth yw hyn.

questions:
  - use: school_phase

  - key: rating
    type: likert
    scale: agree3
    dont_know: true
    label: The plan is right for my child
    label::cy: Mae'r cynllun yn iawn i fy mhlentyn

  - group: about
    title: About your setting
    title::cy: Am eich lleoliad
    questions:
      - key: setting_name
        type: short_text
        label: What is your setting called?
        label::cy: Beth yw enw eich lleoliad?
      - key: visited
        type: yes_no
        label: Have you visited it?
        label::cy: Ydych chi wedi ymweld?

  - key: helping
    type: single_choice
    label: Is ${setting_name} helping?
    label::cy: Ydy ${setting_name} yn helpu?
    hint: Think about the last term.
    hint::cy: Meddyliwch am y tymor diwethaf.
    not_applicable: true
    options:
      - value: a_lot
        label: A lot
        label::cy: Llawer
      - value: a_little
        label: A little
        label::cy: Ychydig

  - key: missing
    type: multiple_choice
    label: What is missing?
    label::cy: Beth sydd ar goll?
    required: false
    none_option: true
    options:
      - value: health
        label: Health
        label::cy: Iechyd
      - value: learning
        label: Learning
        label::cy: Dysgu
"""

# An easy read questionnaire for young people, in English only.
EASY_READ = """\
key: my_plan
version: 1
title: My plan
audience: young_person
easy_read: true
estimated_minutes: 3
intro: Tell us about your plan.

questions:
  - use: completed_with_support

  - key: plan_feeling
    type: likert
    scale: faces3
    dont_know: I don't know
    label: How do you feel about your plan?

  - key: anything_else
    type: long_text
    label: Is there anything else you want to tell us?
    required: false
"""


# --- helpers ------------------------------------------------------------------


def make_directory(
    tmp_path: Path, scales: str = SCALES, context: str = CONTEXT, equality: str | None = EQUALITY
) -> Path:
    """A questionnaire directory holding only the shared files given."""
    directory = tmp_path / "questionnaires"
    directory.mkdir(exist_ok=True)
    write(directory, scales, "scales.yaml")
    write(directory, context, "context.yaml")
    if equality is not None:
        write(directory, equality, "equality.yaml")
    return directory


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced, so a test cannot silently edit nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def load(tmp_path: Path, text: str, localities=LOCALITIES, **shared_files) -> tuple[Questionnaire | None, list]:
    directory = make_directory(tmp_path, **shared_files)
    shared, shared_problems = load_shared(directory, localities)
    assert shared_problems == []
    return load_file(write(directory, text), shared)


def loaded(tmp_path: Path, text: str, **kwargs) -> Questionnaire:
    questionnaire, problems = load(tmp_path, text, **kwargs)
    assert problems == [], "\n".join(map(str, problems))
    return questionnaire


def problems_of(tmp_path: Path, text: str, **kwargs) -> list:
    questionnaire, problems = load(tmp_path, text, **kwargs)
    assert questionnaire is None, "a file with problems must be refused whole"
    assert problems
    return problems


def shared_problems_of(tmp_path: Path, localities=LOCALITIES, **shared_files) -> list:
    _, problems = load_shared(make_directory(tmp_path, **shared_files), localities)
    assert problems
    return problems


# --- translations ---------------------------------------------------------------


def test_a_bilingual_questionnaire_loads_with_its_translations(tmp_path):
    questionnaire = loaded(tmp_path, BILINGUAL)
    assert questionnaire.languages == ("en", "cy")
    assert questionnaire.translations == {"cy": {"title": "Holiadur enghreifftiol", "intro": "Beth yw hyn."}}
    assert questionnaire.question("rating").translations == {"cy": {"label": "Mae'r cynllun yn iawn i fy mhlentyn"}}
    assert questionnaire.page("about").translations == {"cy": {"title": "Am eich lleoliad"}}
    assert questionnaire.question("helping").options[0].translations == {"cy": {"label": "Llawer"}}
    assert questionnaire.question("helping").pipes
    assert missing_translations(questionnaire) == []


def test_localised_gives_the_welsh_texts(tmp_path):
    welsh = loaded(tmp_path, BILINGUAL).localised("cy")
    assert welsh.language == "cy"
    assert welsh.title == "Holiadur enghreifftiol" and welsh.intro == "Beth yw hyn."
    assert welsh.page("about").title == "Am eich lleoliad"
    assert welsh.question("rating").label == "Mae'r cynllun yn iawn i fy mhlentyn"
    assert welsh.question("helping").hint == "Meddyliwch am y tymor diwethaf."
    assert [o.label for o in welsh.question("rating").options] == [
        "Cytuno",
        "Ddim yn cytuno nac yn anghytuno",
        "Anghytuno",
        "Ddim yn gwybod",
    ]
    assert [o.label for o in welsh.question("helping").options] == ["Llawer", "Ychydig", "Amherthnasol"]
    assert welsh.question("missing").options[-1].label == "Dim un o'r rhain"
    assert [o.value for o in welsh.question("visited").options] == ["yes", "no"]
    assert all(o.label not in ("Yes", "No") for o in welsh.question("visited").options)
    phase = welsh.question("school_phase")
    assert phase.label == "Ar ba gam addysg mae eich plentyn?"
    assert phase.options[-1].label == "Mae'n well gen i beidio â dweud"


def test_localised_falls_back_to_english_where_a_text_is_not_translated(tmp_path):
    text = edit(BILINGUAL, "        label::cy: Llawer\n", "")
    text = edit(text, "    hint::cy: Meddyliwch am y tymor diwethaf.\n", "")
    text = edit(text, "title::cy: Holiadur enghreifftiol\n", "")
    welsh = loaded(tmp_path, text).localised("cy")
    assert welsh.title == "A sample questionnaire"
    assert welsh.intro == "Beth yw hyn."
    helping = welsh.question("helping")
    assert helping.label == "Ydy ${setting_name} yn helpu?"
    assert helping.hint == "Think about the last term."
    assert [o.label for o in helping.options] == ["A lot", "Ychydig", "Amherthnasol"]


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
def test_localised_to_english_or_an_undeclared_language_is_the_english(tmp_path, language):
    questionnaire = loaded(tmp_path, BILINGUAL)
    other = questionnaire.localised(language)
    assert other.language == "en"
    assert other.title == "A sample questionnaire"
    assert other.question("rating").label == "The plan is right for my child"
    assert [o.label for o in other.question("rating").options][0] == "Agree"


RATING_LABEL = "    label: The plan is right for my child\n"


@pytest.mark.parametrize(
    ("added", "field", "fragments"),
    [
        ("    label::xx: Rhywbeth\n", "rating.label::xx", ("unknown language 'xx'", "known languages are")),
        ("    label::pl: Plan jest dobry\n", "rating.label::pl", ("'pl' is not one of this", "(en, cy)")),
        ("    label::en: The plan is right\n", "rating.label::en", ("English is the field itself", "write 'label'")),
        ("    key::cy: sgor\n", "rating.key::cy", ("'key' cannot be translated",)),
        ("    scale::cy: agree3\n", "rating.scale::cy", ("'scale' cannot be translated",)),
        ("    lable::cy: Mae'r cynllun\n", "rating.lable::cy", ("unknown field 'lable::cy'", "did you mean 'label'")),
        ("    hint::cy: Meddyliwch\n", "rating.hint::cy", ("there is no English 'hint' to translate",)),
        ("    required_message::cy: Dewiswch\n", "rating.required_message::cy", ("no English 'required_message'",)),
        ("    label::cy: ''\n", "rating.label::cy", ("must not be empty",)),
    ],
)
def test_a_bad_translation_of_a_question_text(tmp_path, added, field, fragments):
    text = edit(BILINGUAL, RATING_LABEL + "    label::cy: Mae'r cynllun yn iawn i fy mhlentyn\n", RATING_LABEL + added)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, added.strip()), field, *fragments)


@pytest.mark.parametrize(
    ("added", "field", "fragments"),
    [
        ("title::pl: Przykładowy kwestionariusz\n", "title::pl", ("'pl' is not one of this questionnaire's",)),
        ("intro::zz: ...\n", "intro::zz", ("unknown language 'zz'",)),
        ("key::cy: sampl\n", "key::cy", ("'key' cannot be translated",)),
        ("who_sees_answers::cy: Y tîm\n", "who_sees_answers::cy", ("no English 'who_sees_answers'",)),
        ("titel::cy: Holiadur\n", "titel::cy", ("unknown field 'titel::cy'", "did you mean 'title'")),
    ],
)
def test_a_bad_translation_of_a_questionnaire_text(tmp_path, added, field, fragments):
    text = edit(BILINGUAL, "audience: parent_carer\n", "audience: parent_carer\n" + added)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, added.strip()), field, *fragments)


@pytest.mark.parametrize(
    ("added", "field", "fragments"),
    [
        ("        label::fr: Beaucoup\n", "helping.options[0].label::fr", ("'fr' is not one of this",)),
        ("        value::cy: llawer\n", "helping.options[0].value::cy", ("'value' cannot be translated",)),
        ("        image_alt::cy: Wyneb\n", "helping.options[0].image_alt::cy", ("no English 'image_alt'",)),
    ],
)
def test_a_bad_translation_of_an_option_text(tmp_path, added, field, fragments):
    text = edit(BILINGUAL, "        label::cy: Llawer\n", "        label::cy: Llawer\n" + added)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, added.strip()), field, *fragments)


@pytest.mark.parametrize(
    ("added", "field", "fragments"),
    [
        # Fields the group does not allow are named by position, before its key is read.
        ("    title::en: About\n", "questions[2].title::en", ("English is the field itself", "write 'title'")),
        ("    group::cy: am\n", "questions[2].group::cy", ("'group' cannot be translated",)),
        ("    hint::cy: Meddyliwch\n", "about.hint::cy", ("no English 'hint'",)),
    ],
)
def test_a_bad_translation_of_a_group_text(tmp_path, added, field, fragments):
    text = edit(BILINGUAL, "    title::cy: Am eich lleoliad\n", "    title::cy: Am eich lleoliad\n" + added)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, added.strip()), field, *fragments)


@pytest.mark.parametrize(
    ("languages", "fragments"),
    [
        ("[cy, en]", ("English (en) must come first",)),
        ("[cy]", ("English (en) must come first",)),
        ("[en, xx]", ("unknown language 'xx'", "known languages are")),
        ("[en, cy, cy]", ("a language is listed twice",)),
        ("[]", ("must be a list of language codes",)),
        ("en", ("must be a list of language codes",)),
    ],
)
def test_bad_languages(tmp_path, languages, fragments):
    text = edit(BILINGUAL, "languages: [en, cy]", f"languages: {languages}")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "languages:"), "languages", *fragments)


def test_a_questionnaire_without_languages_is_english_only(tmp_path):
    text = edit(EASY_READ, "easy_read: true\n", "easy_read: true\ntitle::cy: Fy nghynllun\n")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "title::cy"), "title::cy", "'cy' is not one of this", "(en)")
    assert loaded(tmp_path, EASY_READ).languages == ("en",)


def test_missing_translations_name_the_file_line_and_field(tmp_path):
    text = BILINGUAL
    for removed in (
        "intro::cy: Beth yw hyn.\n",
        "    title::cy: Am eich lleoliad\n",
        "        label::cy: Beth yw enw eich lleoliad?\n",
        "    hint::cy: Meddyliwch am y tymor diwethaf.\n",
        "        label::cy: Dysgu\n",
    ):
        text = edit(text, removed, "")
    directory = make_directory(tmp_path)
    path = write(directory, text)
    library = load_directory(directory, LOCALITIES)
    assert library.problems == []
    missing = [(p.file, p.line, p.field, p.message) for p in library.missing_translations()]
    message = "no Welsh (cy) translation; English is shown"
    file = str(path)
    assert missing == [
        (file, line_of(text, "intro: What this"), "intro", message),
        (file, line_of(text, "title: About your setting"), "about.title", message),
        (file, line_of(text, "label: What is your setting called?"), "setting_name.label", message),
        (file, line_of(text, "hint: Think about the last term."), "helping.hint", message),
        (file, line_of(text, "label: Learning"), "missing.options[1].label", message),
    ]
    assert str(library.missing_translations()[0]) == f"{file}:{missing[0][1]}: intro: {message}"
    assert missing_translations(library.get("sample")) == library.missing_translations()


def test_a_scale_option_without_a_translation_is_reported_in_scales_yaml(tmp_path):
    scales = edit(SCALES, "    label::cy: Ddim yn cytuno nac yn anghytuno\n", "")
    questionnaire = loaded(tmp_path, BILINGUAL, scales=scales)
    [problem] = missing_translations(questionnaire)
    assert problem.file.endswith("scales.yaml")
    assert (problem.line, problem.field) == (line_of(scales, "label: Neither agree nor disagree"), "agree3[1].label")
    assert problem.message == "no Welsh (cy) translation; English is shown"


def test_a_custom_dont_know_without_a_translation_is_reported_at_its_line(tmp_path):
    text = edit(BILINGUAL, "    dont_know: true\n", "    dont_know: Not sure\n")
    questionnaire = loaded(tmp_path, text)
    assert questionnaire.question("rating").options[-1].label == "Not sure"
    [problem] = missing_translations(questionnaire)
    assert problem.file.endswith("sample.yaml")
    assert problem.line == line_of(text, "dont_know: Not sure")
    assert problem.message == "no Welsh (cy) translation; English is shown"
    # The field is not asserted: it is reported as the question's label, not as dont_know.


def test_a_custom_dont_know_with_a_translation(tmp_path):
    text = edit(BILINGUAL, "    dont_know: true\n", "    dont_know: Not sure\n    dont_know::cy: Ddim yn siŵr\n")
    questionnaire = loaded(tmp_path, text)
    assert missing_translations(questionnaire) == []
    option = questionnaire.question("rating").options[-1]
    assert (option.value, option.apart, option.label) == (DONT_KNOW, True, "Not sure")
    assert questionnaire.localised("cy").question("rating").options[-1].label == "Ddim yn siŵr"
    # The wording lives on the option, not on the question.
    assert "dont_know" not in questionnaire.question("rating").translations.get("cy", {})


def test_built_in_answers_and_place_names_need_no_translation(tmp_path):
    """dont_know/not_applicable/none_option: true and yes/no have built-in Welsh; areas are names."""
    text = edit(BILINGUAL, "  - use: school_phase\n", "  - use: school_phase\n\n  - use: locality\n")
    questionnaire = loaded(tmp_path, text)
    assert [o.value for o in questionnaire.question("locality").options] == [
        "north",
        "south",
        "east",
        "west",
        DONT_KNOW,
    ]
    assert missing_translations(questionnaire) == []
    welsh = questionnaire.localised("cy").question("locality")
    assert [o.label for o in welsh.options] == ["North", "South", "East", "West", "Ddim yn siŵr"]


def test_missing_translations_of_a_shared_file_are_reported_once_in_that_file(tmp_path):
    context = edit(CONTEXT, "  hint::cy: Gallwch ei adael yn wag.\n", "")
    equality = edit(EQUALITY, "        label::cy: Beth yw eich rhyw?\n", "")
    directory = make_directory(tmp_path, context=context, equality=equality)
    first = write(directory, edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What"), "first.yaml")
    second_text = edit(BILINGUAL, "key: sample", "key: second")
    second = write(directory, edit(second_text, "intro: What", "equality_monitoring: true\nintro: What"), "b.yaml")
    library = load_files([first, second], directory, LOCALITIES)
    assert library.problems == []
    assert set(library.questionnaires) == {"sample", "second"}
    missing = [(Path(p.file).name, p.line, p.field) for p in library.missing_translations()]
    assert missing == [
        ("context.yaml", line_of(context, "hint: You can leave"), "school_phase.hint"),
        ("equality.yaml", line_of(equality, "label: What is your sex?"), "sex.label"),
    ]


def test_shared_files_may_carry_any_known_language_but_not_an_unknown_one(tmp_path):
    context = edit(
        CONTEXT, "  hint::cy: Gallwch ei adael yn wag.\n", "  hint::cy: Gallwch ei adael yn wag.\n  hint::pl: Opcja\n"
    )
    assert loaded(tmp_path, BILINGUAL, context=context).question("school_phase").translations["pl"] == {"hint": "Opcja"}
    context = edit(context, "  hint::pl: Opcja\n", "  hint::xx: Opcja\n")
    problems = shared_problems_of(tmp_path, context=context)
    assert_problem(
        problems, line_of(context, "hint::xx"), "school_phase.hint::xx", "unknown language 'xx'", file="context.yaml"
    )


# --- the stored form ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What"),
        EASY_READ,
    ],
    ids=["bilingual_with_equality", "easy_read"],
)
def test_the_stored_form_keeps_translations_sections_and_flags(tmp_path, text):
    questionnaire = loaded(tmp_path, text)
    stored = json.loads(json.dumps(questionnaire.to_dict()))
    rebuilt = Questionnaire.from_dict(stored)
    assert rebuilt == questionnaire
    assert rebuilt.definition_hash == questionnaire.definition_hash
    assert rebuilt.languages == questionnaire.languages
    assert rebuilt.easy_read == questionnaire.easy_read
    assert rebuilt.has_equality_section == questionnaire.has_equality_section
    assert [q.section for q in rebuilt.questions] == [q.section for q in questionnaire.questions]
    assert rebuilt.localised("cy") == questionnaire.localised("cy")
    assert "origin" not in json.dumps(stored)


def test_the_stored_form_of_each_part(tmp_path):
    text = edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What")
    rebuilt = Questionnaire.from_dict(json.loads(json.dumps(loaded(tmp_path, text).to_dict())))
    assert rebuilt.languages == ("en", "cy") and rebuilt.easy_read is False
    assert rebuilt.translations["cy"]["title"] == "Holiadur enghreifftiol"
    assert rebuilt.page("about").translations == {"cy": {"title": "Am eich lleoliad"}}
    assert rebuilt.question("school_phase").section is Section.CONTEXT
    assert rebuilt.question("sex").section is Section.EQUALITY
    assert rebuilt.question("rating").section is Section.MAIN
    assert rebuilt.has_equality_section
    assert rebuilt.localised("cy").question("sex").options[0].label == "Benyw"
    easy = Questionnaire.from_dict(json.loads(json.dumps(loaded(tmp_path, EASY_READ).to_dict())))
    assert easy.easy_read is True
    happy = easy.question("plan_feeling").options[0]
    assert (happy.image, happy.image_alt) == ("faces/happy.svg", "Smiling face")


def test_the_hash_changes_when_a_translation_changes(tmp_path):
    original = loaded(tmp_path, BILINGUAL)
    rewelshed = loaded(tmp_path, edit(BILINGUAL, "label::cy: Llawer\n", "label::cy: Llawer iawn\n"))
    untranslated = loaded(tmp_path, edit(BILINGUAL, "    label::cy: Beth sydd ar goll?\n", ""))
    rescaled = loaded(tmp_path, BILINGUAL, scales=edit(SCALES, "label::cy: Cytuno\n", "label::cy: Cytuno'n llwyr\n"))
    hashes = {q.definition_hash for q in (original, rewelshed, untranslated, rescaled)}
    assert len(hashes) == 4
    assert rewelshed != original


# --- shared context questions: use ---------------------------------------------


def test_a_used_context_question_keeps_its_key_and_is_in_the_context_section(tmp_path):
    text = edit(
        BILINGUAL,
        "      - key: setting_name\n",
        "      - use: locality\n      - key: setting_name\n",
    )
    questionnaire = loaded(tmp_path, text)
    phase = questionnaire.question("school_phase")
    assert phase.section is Section.CONTEXT and phase.required is False
    assert questionnaire.pages[0].key == "school_phase" and questionnaire.pages[0].section is Section.CONTEXT
    assert [o.value for o in phase.options] == ["primary", "secondary", DONT_KNOW]
    assert [q.key for q in questionnaire.page("about").questions] == ["locality", "setting_name", "visited"]
    assert questionnaire.question("locality").section is Section.CONTEXT
    assert questionnaire.question("rating").section is Section.MAIN


def test_use_of_an_unknown_context_question(tmp_path):
    text = edit(BILINGUAL, "  - use: school_phase", "  - use: school_phaze")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems,
        line_of(text, "use: school_phaze"),
        "questions[0].use",
        "unknown context question 'school_phaze'",
        "did you mean 'school_phase'?",
        "known: completed_with_support, locality, school_phase",
    )


def test_a_context_question_used_twice(tmp_path):
    text = edit(BILINGUAL, "      - key: visited\n", "      - use: school_phase\n      - key: visited\n")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "use: school_phase", 2), "about.questions[1].use", "'school_phase' is already asked"
    )


def test_overriding_a_label_drops_the_shared_translation_of_it(tmp_path):
    text = edit(
        BILINGUAL,
        "  - use: school_phase\n",
        "  - use: school_phase\n    label: Which stage of education are you at?\n",
    )
    questionnaire = loaded(tmp_path, text)
    phase = questionnaire.question("school_phase")
    assert phase.label == "Which stage of education are you at?"
    assert phase.translations == {"cy": {"hint": "Gallwch ei adael yn wag."}}
    welsh = questionnaire.localised("cy").question("school_phase")
    assert welsh.label == "Which stage of education are you at?"  # not the Welsh of the other wording
    assert welsh.hint == "Gallwch ei adael yn wag."
    [problem] = missing_translations(questionnaire)
    assert problem.file.endswith("sample.yaml")
    assert (problem.line, problem.field) == (line_of(text, "label: Which stage of education are"), "school_phase.label")


def test_an_overridden_label_with_its_own_translation(tmp_path):
    text = edit(
        BILINGUAL,
        "  - use: school_phase\n",
        "  - use: school_phase\n"
        "    label: Which stage of education are you at?\n"
        "    label::cy: Ar ba gam addysg wyt ti?\n"
        "    hint: Leave it blank if you like.\n"
        "    hint::cy: Gadewch yn wag os hoffech chi.\n",
    )
    questionnaire = loaded(tmp_path, text)
    assert missing_translations(questionnaire) == []
    welsh = questionnaire.localised("cy").question("school_phase")
    assert (welsh.label, welsh.hint) == ("Ar ba gam addysg wyt ti?", "Gadewch yn wag os hoffech chi.")
    assert welsh.options[0].label == "Ysgol gynradd"


@pytest.mark.parametrize(
    ("added", "field", "fragments"),
    [
        ("    required: true\n", "questions[0].required", ("unknown field 'required'",)),
        ("    key: phase\n", "questions[0].key", ("unknown field 'key'",)),
        ("    dont_know: true\n", "questions[0].dont_know", ("unknown field 'dont_know'",)),
        ("    lable: Which stage?\n", "questions[0].lable", ("unknown field 'lable'", "did you mean 'label'")),
        ("    use::cy: cam_ysgol\n", "questions[0].use::cy", ("'use' cannot be translated",)),
        ("    label::fr: Quelle étape ?\n", "questions[0].label::fr", ("'fr' is not one of this",)),
    ],
)
def test_a_use_entry_may_only_change_the_label_and_hint(tmp_path, added, field, fragments):
    text = edit(BILINGUAL, "  - use: school_phase\n", "  - use: school_phase\n" + added)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, added.strip()), field, *fragments)


@pytest.mark.parametrize(
    ("added", "field", "fragment"),
    [
        ("  key: phase\n", "school_phase.key", "the key is the name above; remove 'key'"),
        (
            "  show_if:\n    question: locality\n    any_of: [north]\n",
            "school_phase.show_if",
            "a context question is asked wherever it is used",
        ),
    ],
)
def test_a_context_question_may_not_have_a_key_or_show_if(tmp_path, added, field, fragment):
    context = edit(CONTEXT, "  hint: You can leave it blank.\n", "  hint: You can leave it blank.\n" + added)
    problems = shared_problems_of(tmp_path, context=context)
    assert_problem(problems, line_of(context, added.split(":")[0] + ":"), field, fragment, file="context.yaml")
    # The refused entry cannot be used.
    directory = tmp_path / "questionnaires"
    library = load_files([write(directory, BILINGUAL)], directory, LOCALITIES)
    assert library.questionnaires == {}
    assert_problem(library.problems, line_of(BILINGUAL, "use: school_phase"), "questions[0].use", "unknown context")


def test_a_context_question_is_checked_like_any_other(tmp_path):
    context = edit(
        CONTEXT, "  type: single_choice\n  label: Which stage", "  type: single_choise\n  label: Which stage"
    )
    problems = shared_problems_of(tmp_path, context=context)
    assert_problem(
        problems,
        line_of(context, "single_choise"),
        "school_phase.type",
        "unknown question type 'single_choise'",
        file="context.yaml",
    )


@pytest.mark.parametrize("localities", [(), ("North",), ("North", " north "), ("North", "!!!")])
def test_locality_options_from_config_need_two_areas(tmp_path, localities):
    """Too few areas refuses only the questionnaires that ask for the area."""
    directory = make_directory(tmp_path)
    shared, shared_problems = load_shared(directory, localities)
    assert shared_problems == []
    assert "school_phase" in shared.context and "locality" not in shared.context
    text = edit(BILINGUAL, "  - use: school_phase\n", "  - use: school_phase\n\n  - use: locality\n")
    questionnaire, problems = load_file(write(directory, text), shared)
    assert questionnaire is None
    assert_problem(
        problems, line_of(text, "- use: locality"), "questions[1].use", "LOCALITIES setting", "at least two areas"
    )
    assert load_file(write(directory, BILINGUAL, "other.yaml"), shared)[1] == []


def test_locality_option_values_are_slugs_of_the_names(tmp_path):
    text = edit(BILINGUAL, "  - use: school_phase\n", "  - use: locality\n")
    localities = ["North East", "  St. Helen's Ward ", "1st District", "Ynys-Môn", "north east"]
    questionnaire = loaded(tmp_path, text, localities=localities)
    options = questionnaire.question("locality").options
    assert [(o.value, o.label) for o in options[:-1]] == [
        ("north_east", "North East"),
        ("st_helen_s_ward", "St. Helen's Ward"),
        ("area_1st_district", "1st District"),
        ("ynys_m_n", "Ynys-Môn"),
    ]
    assert options[-1].value == DONT_KNOW and options[-1].apart
    assert all(o.translations == {} and o.origin is None for o in options[:-1])


# --- the equality section -------------------------------------------------------


def test_the_equality_section_is_appended_at_the_end(tmp_path):
    text = edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What")
    questionnaire = loaded(tmp_path, text)
    assert [page.key for page in questionnaire.pages] == [
        "school_phase",
        "rating",
        "about",
        "helping",
        "missing",
        "about_you",
    ]
    about_you = questionnaire.pages[-1]
    assert about_you.section is Section.EQUALITY and about_you.title == "About you"
    assert [q.key for q in about_you.questions] == ["sex", "disabled"]
    assert all(q.section is Section.EQUALITY and not q.required for q in about_you.questions)
    assert all(page.section is not Section.EQUALITY for page in questionnaire.pages[:-1])
    assert questionnaire.has_equality_section
    assert not loaded(tmp_path, BILINGUAL).has_equality_section
    assert missing_translations(questionnaire) == []
    assert questionnaire.localised("cy").pages[-1].title == "Amdanoch chi"


def test_a_broken_equality_file_refuses_the_questionnaires_that_use_it(tmp_path):
    equality = edit(EQUALITY, "        type: yes_no\n", "        type: yesno\n")
    directory = make_directory(tmp_path, equality=equality)
    using = edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What")
    write(directory, using, "using.yaml")
    write(directory, edit(using, "key: sample", "key: also_using"), "also_using.yaml")
    write(directory, edit(BILINGUAL, "key: sample", "key: not_using"), "not_using.yaml")
    library = load_directory(directory, LOCALITIES)
    assert list(library.questionnaires) == ["not_using"]
    # Reported once, in equality.yaml, though two questionnaires include it.
    [problem] = library.problems
    assert problem.file.endswith("equality.yaml")
    assert (problem.line, problem.field) == (line_of(equality, "type: yesno"), "disabled.type")
    assert "unknown question type 'yesno'" in problem.message


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("        label::cy: Ydych chi'n anabl?\n        required: false\n", "        label::cy: Ydych chi'n anabl?\n"),
        ("        type: yes_no\n", "        type: short_text\n"),
    ],
    ids=["required", "free_text"],
)
def test_an_equality_question_must_be_optional_with_options(tmp_path, old, new):
    equality = edit(EQUALITY, old, new)
    text = edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What")
    problems = problems_of(tmp_path, text, equality=equality)
    assert_problem(
        problems,
        line_of(equality, "- key: disabled"),
        "disabled",
        "an equality question must be optional and have options",
        file="equality.yaml",
    )
    assert loaded(tmp_path, BILINGUAL, equality=equality).key == "sample"


def test_an_equality_question_whose_key_clashes_with_the_questionnaire(tmp_path):
    text = edit(BILINGUAL, "      - key: setting_name", "      - key: sex")
    text = text.replace("${setting_name}", "${sex}")
    text = edit(text, "intro: What", "equality_monitoring: true\nintro: What")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(EQUALITY, "- key: sex"), "sex.key", "the key 'sex' is used twice", file="equality.yaml"
    )


@pytest.mark.parametrize(
    ("equality", "line", "field", "fragment"),
    [
        ("questions: []\n", 1, "questions", "needs a list of at least one question"),
        ("question:\n  - key: sex\n", 1, "question", "unknown field 'question'"),
        ("- key: sex\n", 1, "", "must be a mapping"),
    ],
)
def test_an_equality_file_of_the_wrong_shape(tmp_path, equality, line, field, fragment):
    directory = make_directory(tmp_path, equality=equality)
    text = edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What")
    library = load_files([write(directory, text)], directory, LOCALITIES)
    assert library.questionnaires == {}
    assert_problem(library.problems, line, field, fragment, file="equality.yaml")
    assert_problem(
        library.problems,
        line_of(text, "equality_monitoring: true"),
        "equality_monitoring",
        "the equality section",
        "is missing or has problems",
    )


def test_equality_monitoring_without_an_equality_file(tmp_path):
    text = edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What")
    problems = problems_of(tmp_path, text, equality=None)
    assert_problem(problems, line_of(text, "equality_monitoring"), "equality_monitoring", "missing or has problems")
    assert loaded(tmp_path, BILINGUAL, equality=None).pages[-1].key == "missing"


# --- easy read ------------------------------------------------------------------


def test_an_easy_read_questionnaire_loads(tmp_path):
    questionnaire = loaded(tmp_path, EASY_READ)
    assert questionnaire.easy_read is True
    assert all(not page.is_group for page in questionnaire.pages)
    first = questionnaire.questions[0]
    assert first.key == "completed_with_support" and first.section is Section.CONTEXT and first.required
    feeling = questionnaire.question("plan_feeling")
    assert [(o.value, o.image, o.image_alt) for o in feeling.scale_options] == [
        ("happy", "faces/happy.svg", "Smiling face"),
        ("ok", "faces/ok.svg", "Face with a straight mouth"),
        ("sad", "faces/sad.svg", "Sad face"),
    ]
    assert [(o.value, o.label) for o in feeling.apart_options] == [(DONT_KNOW, "I don't know")]


def test_easy_read_refuses_groups(tmp_path):
    text = edit(
        EASY_READ,
        "  - key: anything_else\n",
        "  - group: more\n"
        "    title: More\n"
        "    questions:\n"
        "      - key: name\n"
        "        type: short_text\n"
        "        label: Your name\n"
        "        required: false\n"
        "      - key: age\n"
        "        type: number\n"
        "        label: Your age\n"
        "  - key: anything_else\n",
    )
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "- group: more"), "more", "one question per page: remove the group")


@pytest.mark.parametrize(("question_type", "required"), [("long_text", ""), ("short_text", "    required: true\n")])
def test_easy_read_refuses_required_free_text(tmp_path, question_type, required):
    text = edit(
        EASY_READ,
        "    type: long_text\n    label: Is there anything else you want to tell us?\n    required: false\n",
        f"    type: {question_type}\n    label: Is there anything else you want to tell us?\n{required}",
    )
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "- key: anything_else"), "anything_else", "must not require free text")


def test_easy_read_refuses_required_free_text_in_a_context_question(tmp_path):
    context = CONTEXT + "\nnickname:\n  type: short_text\n  label: What do people call you?\n"
    text = EASY_READ + "\n  - use: nickname\n"
    problems = problems_of(tmp_path, text, context=context)
    assert_problem(problems, line_of(text, "- use: nickname"), "nickname", "must not require free text")
    # The same context question is fine where free text may be required.
    assert loaded(tmp_path, BILINGUAL + "\n  - use: nickname\n", context=context).question("nickname").required


@pytest.mark.parametrize(
    "questions",
    [
        "  - key: plan_feeling\n",
        "  - use: school_phase\n  - use: completed_with_support\n  - key: plan_feeling\n",
    ],
    ids=["missing", "second"],
)
def test_a_young_persons_questionnaire_must_start_with_completed_with_support(tmp_path, questions):
    text = edit(EASY_READ, "  - use: completed_with_support\n\n  - key: plan_feeling\n", questions)
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "questions:"), "questions", "must start with '- use: completed_with_support'"
    )


def test_completed_with_support_is_needed_by_young_people_even_without_easy_read(tmp_path):
    text = edit(BILINGUAL, "audience: parent_carer", "audience: young_person")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "questions:"), "questions", "must start with '- use: completed_with_support'"
    )
    text = edit(text, "  - use: school_phase\n", "  - use: completed_with_support\n\n  - use: school_phase\n")
    assert loaded(tmp_path, text).questions[0].key == "completed_with_support"


# --- options with pictures --------------------------------------------------------


HELPING_OPTION = "      - value: a_lot\n        label: A lot\n"


@pytest.mark.parametrize(
    "added", ["        image: faces/happy.svg\n", "        image_alt: Smiling face\n"], ids=["no_alt", "no_image"]
)
def test_an_image_and_its_alt_text_go_together(tmp_path, added):
    text = edit(BILINGUAL, HELPING_OPTION, HELPING_OPTION + added)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, "- value: a_lot"), "helping.options[0]", "an image needs image_alt")


def test_an_image_in_a_scale_without_alt_text(tmp_path):
    scales = edit(SCALES, "    image_alt: Sad face\n    image_alt::cy: Wyneb trist\n", "")
    _, problems = load_shared(make_directory(tmp_path, scales=scales), LOCALITIES)
    assert_problem(
        problems, line_of(scales, "- value: sad"), "faces3[2]", "an image needs image_alt", file="scales.yaml"
    )


@pytest.mark.parametrize(
    "image",
    ["../secrets.svg", "/etc/happy.svg", "faces/happy.gif", "Faces/Happy.svg", "faces//happy.svg", "faces/happy"],
)
def test_a_bad_image_path(tmp_path, image):
    added = f"        image: {image}\n        image_alt: Smiling face\n"
    text = edit(BILINGUAL, HELPING_OPTION, HELPING_OPTION + added)
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "image: "), "helping.options[0].image", "must be a path under the app's images"
    )


def test_an_image_alt_text_is_translated(tmp_path):
    added = "        image: faces/happy.svg\n        image_alt: Smiling face\n"
    questionnaire = loaded(tmp_path, edit(BILINGUAL, HELPING_OPTION, HELPING_OPTION + added))
    [problem] = missing_translations(questionnaire)
    assert problem.field == "helping.options[0].image_alt"
    questionnaire = loaded(
        tmp_path, edit(BILINGUAL, HELPING_OPTION, HELPING_OPTION + added + "        image_alt::cy: Wyneb yn gwenu\n")
    )
    assert missing_translations(questionnaire) == []
    assert questionnaire.localised("cy").question("helping").options[0].image_alt == "Wyneb yn gwenu"


# --- piping -----------------------------------------------------------------------


HELPING_LABEL = "    label: Is ${setting_name} helping?\n"


@pytest.mark.parametrize(
    ("label", "fragments"),
    [
        ("Is ${missing} helping?", ("'missing' is not a question on an earlier page",)),
        ("Is ${helping} helping?", ("'helping' is not a question on an earlier page",)),
        ("Is ${nothing_here} helping?", ("'nothing_here' is not a question on an earlier page",)),
        ("Is ${school_phase} helping?", ("'school_phase' may be left unanswered", "${school_phase|your setting}")),
        ("Is ${setting_name helping?", ("write an earlier answer as ${question_key}",)),
        ("Is ${Setting_Name} helping?", ("write an earlier answer as ${question_key}",)),
        ("Is ${setting_name} or ${oops helping?", ("write an earlier answer as ${question_key}",)),
    ],
)
def test_bad_piping_in_a_label(tmp_path, label, fragments):
    text = edit(BILINGUAL, HELPING_LABEL, f"    label: {label}\n")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, label), "helping.label", *fragments)


@pytest.mark.parametrize(
    ("extra_question", "pipe", "fragments"),
    [
        (
            "  - key: plans\n    type: multiple_choice\n    label: Plans\n    options:\n"
            "      - value: a\n        label: A\n      - value: b\n        label: B\n",
            "${plans}",
            ("'plans' is a multiple_choice question", "only a single answer"),
        ),
        ("  - key: story\n    type: long_text\n    label: Tell us\n", "${story}", ("'story' is a long_text question",)),
        (
            "  - key: nickname\n    type: short_text\n    label: Nickname\n    required: false\n",
            "${nickname}",
            ("'nickname' may be left unanswered",),
        ),
        (
            "  - key: nickname\n    type: short_text\n    label: Nickname\n"
            "    show_if:\n      question: rating\n      any_of: [agree]\n",
            "${nickname}",
            ("'nickname' may be left unanswered",),
        ),
    ],
    ids=["multiple_choice", "long_text", "optional", "conditional"],
)
def test_piping_needs_a_single_answer_that_is_always_given(tmp_path, extra_question, pipe, fragments):
    text = edit(BILINGUAL, "  - group: about\n", extra_question + "\n  - group: about\n")
    text = edit(text, HELPING_LABEL, f"    label: Is {pipe} helping?\n")
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, f"label: Is {pipe}"), "helping.label", *fragments)


@pytest.mark.parametrize(
    ("extra_question", "pipe"),
    [
        ("  - key: nickname\n    type: short_text\n    label: Nickname\n    required: false\n", "${nickname|them}"),
        (
            "  - key: nickname\n    type: short_text\n    label: Nickname\n"
            "    show_if:\n      question: rating\n      any_of: [agree]\n",
            "${nickname|your setting}",
        ),
        ("  - key: count\n    type: number\n    label: How many?\n", "${count}"),
        ("  - key: started\n    type: date\n    label: When?\n", "${started}"),
        ("", "${rating}"),
        ("", "${school_phase|your school}"),
    ],
)
def test_piping_that_is_allowed(tmp_path, extra_question, pipe):
    text = edit(BILINGUAL, "  - group: about\n", extra_question + "\n  - group: about\n")
    text = edit(text, HELPING_LABEL, f"    label: Is {pipe} helping?\n")
    assert loaded(tmp_path, text).question("helping").label == f"Is {pipe} helping?"


def test_piping_to_a_question_on_the_same_page(tmp_path):
    text = edit(
        BILINGUAL, "        label: Have you visited it?\n", "        label: Have you visited ${setting_name}?\n"
    )
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems,
        line_of(text, "visited ${setting_name}"),
        "visited.label",
        "'setting_name' is not a question on an earlier page",
    )


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("    hint: Think about the last term.\n", "    hint: Think about ${helping}.\n", "helping.hint"),
        ("    title: About your setting\n", "    title: About ${setting_name}\n", "about.title"),
        (
            "    label::cy: Ydy ${setting_name} yn helpu?\n",
            "    label::cy: Ydy ${sett} yn helpu?\n",
            "helping.label::cy",
        ),
        ("    hint::cy: Meddyliwch am y tymor diwethaf.\n", "    hint::cy: Meddyliwch am ${oops\n", "helping.hint::cy"),
        ("    title::cy: Am eich lleoliad\n", "    title::cy: Am ${missing|eich lleoliad}\n", "about.title::cy"),
    ],
)
def test_piping_is_checked_in_hints_group_titles_and_translations(tmp_path, old, new, field):
    text = edit(BILINGUAL, old, new)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, new.strip()), field)


def test_piping_in_a_group_title_hint_and_welsh_translation(tmp_path):
    text = edit(BILINGUAL, "    title: About your setting\n", "    title: About ${school_phase|your school}\n")
    text = edit(text, "    title::cy: Am eich lleoliad\n", "    title::cy: Am ${school_phase|eich ysgol}\n")
    text = edit(text, "    hint::cy: Meddyliwch am y tymor diwethaf.\n", "    hint::cy: Meddyliwch am ${rating}.\n")
    questionnaire = loaded(tmp_path, text)
    assert questionnaire.page("about").title == "About ${school_phase|your school}"
    welsh = questionnaire.localised("cy")
    assert welsh.page("about").title == "Am ${school_phase|eich ysgol}"
    assert welsh.question("helping").label == "Ydy ${setting_name} yn helpu?"
    assert welsh.question("helping").hint == "Meddyliwch am ${rating}."


def test_piping_in_an_overridden_context_label(tmp_path):
    text = edit(
        BILINGUAL, "  - key: missing\n", "  - use: locality\n    label: Where is ${setting_name}?\n\n  - key: missing\n"
    )
    assert loaded(tmp_path, text).question("locality").label == "Where is ${setting_name}?"
    text = edit(text, "Where is ${setting_name}?", "Where is ${missing}?")
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "Where is ${missing}?"), "locality.label", "'missing' is not a question on an earlier"
    )


def test_the_built_in_wording_of_apart_answers(tmp_path):
    questionnaire = loaded(tmp_path, BILINGUAL)
    assert [(o.value, o.label) for o in questionnaire.question("helping").apart_options] == [
        (NOT_APPLICABLE, "Not applicable")
    ]
    assert questionnaire.question("visited").type is QuestionType.YES_NO
    assert [o.label for o in questionnaire.question("visited").options] == ["Yes", "No"]


def test_a_missing_translation_of_a_custom_dont_know_names_the_dont_know_field(tmp_path):
    text = edit(BILINGUAL, "    dont_know: true\n", "    dont_know: Not sure\n")
    [problem] = missing_translations(loaded(tmp_path, text))
    assert (problem.line, problem.field) == (line_of(text, "dont_know: Not sure"), "rating.dont_know")


@pytest.mark.parametrize(
    "added",
    ["    none_option::cy: Dim un o'r rhain\n", "    not_applicable::cy: Amherthnasol\n"],
    ids=["not_a_field_of_likert", "nothing_to_translate"],
)
def test_a_translation_of_an_answer_that_is_not_there_is_refused(tmp_path, added):
    text = edit(BILINGUAL, "    dont_know: true\n", "    dont_know: true\n" + added)
    problems = problems_of(tmp_path, text)
    assert_problem(problems, line_of(text, added.strip()), "rating." + added.strip().split(":")[0] + "::cy")


def test_a_built_in_answer_can_be_translated_into_a_language_without_built_in_wording(tmp_path):
    text = edit(BILINGUAL, "languages: [en, cy]", "languages: [en, pl]").replace("::cy:", "::pl:")
    text = edit(text, "    dont_know: true\n", "    dont_know: true\n    dont_know::pl: Nie wiem\n")
    questionnaire = loaded(
        tmp_path, text, context=CONTEXT.replace("::cy:", "::pl:"), scales=SCALES.replace("::cy:", "::pl:")
    )
    assert questionnaire.localised("pl").question("rating").options[-1].label == "Nie wiem"
    assert not [p for p in missing_translations(questionnaire) if p.line == line_of(text, "dont_know: true")]


def test_a_young_persons_first_question_must_be_the_shared_one(tmp_path):
    text = edit(
        EASY_READ,
        "  - use: completed_with_support\n",
        "  - key: completed_with_support\n    type: yes_no\n    label: Did someone help you?\n",
    )
    problems = problems_of(tmp_path, text)
    assert_problem(
        problems, line_of(text, "questions:"), "questions", "must start with '- use: completed_with_support'"
    )


def test_a_context_question_cannot_be_used_in_the_equality_section(tmp_path):
    equality = EQUALITY + "  - use: completed_with_support\n"
    text = edit(BILINGUAL, "intro: What", "equality_monitoring: true\nintro: What")
    problems = problems_of(tmp_path, text, equality=equality)
    assert_problem(problems, line_of(equality, "- use: completed_with_support"), "questions[1]", file="equality.yaml")
