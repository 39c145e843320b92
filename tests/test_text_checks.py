"""Finding risk words and personal details in free text (pure functions: no database)."""

from __future__ import annotations

import pytest

from survey_app.config import DEFAULTS
from survey_app.services.text_checks import (
    EMAIL,
    NAME,
    PHONE,
    Finding,
    common_first_names,
    describe,
    find_emails,
    find_names,
    find_phone_numbers,
    personal_details,
    redacted,
    risk_matches,
    risk_words,
)

WORDS = risk_words(DEFAULTS["RISK_WORDS"])


def texts(findings: list[Finding]) -> list[str]:
    return [finding.text for finding in findings]


# --- Risk words ------------------------------------------------------------------


def test_risk_words_are_read_from_a_comma_separated_setting():
    assert risk_words(" hurt myself,Self-Harm ,, bully ") == ("hurt myself", "self-harm", "bully")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Sometimes I want to hurt myself", ["hurt myself"]),
        ("I HURT MYSELF at school", ["hurt myself"]),
        ("I hurt, myself...", ["hurt myself"]),
        ("i hurt\nmyself", ["hurt myself"]),
        ("thinking about self harm", ["self-harm"]),
        ("thinking about self-harm", ["self-harm"]),
        ("thinking about selfharm", ["self-harm"]),
        ("I get bullied and I don't feel safe. Not safe!", ["not safe", "bullied"]),
        ("“Nobody cares” about me", ["nobody cares"]),
        ("I'm scared to go home.", ["scared to go home"]),
    ],
)
def test_risk_words_are_found_whatever_the_case_and_punctuation(text, found):
    assert sorted(risk_matches(text, WORDS)) == sorted(found)


@pytest.mark.parametrize(
    "text",
    [
        "The bullying policy was explained well",  # "bully" is a whole word only
        "The abusers of the system",  # not "abuse"
        "I was not afraidless",
        "My teacher helped me a lot",
        "Safe and happy at school",
        "",
    ],
)
def test_words_that_only_contain_a_risk_word_are_not_found(text):
    assert risk_matches(text, WORDS) == []


def test_no_risk_words_configured_finds_nothing():
    assert risk_matches("I want to hurt myself", ()) == []


# --- Email addresses and phone numbers -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["jo.bloggs@example.com", "Jo+school@mail.example.co.uk", "a_b-c@council.gov.uk", "ME@EXAMPLE.ORG"],
)
def test_email_addresses_are_found(text):
    sentence = f"Email me at {text}, thanks."
    assert texts(find_emails(sentence)) == [text]
    (finding,) = find_emails(sentence)
    assert sentence[finding.start : finding.end] == text and finding.kind == EMAIL


@pytest.mark.parametrize("text", ["not an email @ all", "twitter @handle", "name@localhost", "a@b"])
def test_things_that_are_not_email_addresses(text):
    assert find_emails(text) == []


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700900123",
        "07700 900 123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)7700 900123",
        "020 7946 0000",
        "(020) 7946 0000",
        "0113 496 0000",
        "0113-496-0000",
        "01632 960001",
        "+44 20 7946 0000",
    ],
)
def test_uk_phone_numbers_are_found(number):
    sentence = f"Please ring {number} after 4pm."
    (finding,) = find_phone_numbers(sentence)
    assert finding.text == number and finding.kind == PHONE


@pytest.mark.parametrize(
    "text",
    [
        "The plan was dated 01/02/2024.",
        "We met on 01.02.2024 and 14 11 2025.",
        "Plan reference EHC/2024/00123",
        "Case 0012345678 was closed",  # a number starting 00 is not a UK phone number
        "Call Childline on 0800 1111",  # a short number, not a person's
        "We waited 20 weeks, then 2024 to 2025",
        "Reference 123456789012345",
        "Year 7 to Year 11",
    ],
)
def test_dates_and_reference_numbers_are_not_phone_numbers(text):
    assert find_phone_numbers(text) == []


# --- Names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("We spoke to Mrs Smith about it.", "Mrs Smith"),
        ("We spoke to Mr. Jones twice.", "Mr. Jones"),
        ("The letter from Dr Patel helped.", "Dr Patel"),
        ("Thanks to Miss Jane Hughes", "Miss Jane Hughes"),
        ("Ms O'Brien was kind", "Ms O'Brien"),
    ],
)
def test_a_title_and_a_capitalised_word_is_a_name(text, name):
    assert texts(find_names(text)) == [name]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hello, my name is Kacper.", "Kacper"),
        ("my name is jack and I am 12", "jack"),
        ("Her name is Amira Khan.", "Amira Khan"),
        ("A boy called Tobiah hit me", "Tobiah"),
        ("Our worker, named Siobhan, left", "Siobhan"),
        ("My son Leo is 9.", "Leo"),
        ("I worry about my daughter, Zainab.", "Zainab"),
        ("our child Ifeoma loves art", "Ifeoma"),
    ],
)
def test_names_that_are_introduced(text, name):
    assert name in texts(find_names(text))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("The caseworker Sarah never called back.", "Sarah"),
        ("We were helped by James and Priya.", "James"),
        ("I think Mark was the best.", "Mark"),
    ],
)
def test_a_common_first_name_mid_sentence_is_a_name(text, name):
    assert name in texts(find_names(text))


@pytest.mark.parametrize(
    "text",
    [
        "Monday was the first meeting, then Tuesday and Friday.",
        "We waited from April to June, and again in August.",
        "I think it was good. I liked it.",
        "Grace was kind. James said it would be fine.",  # a name starting a sentence has a capital anyway
        "Mark my words, it was slow.",
        "The caseworker called back. The named school was fine.",
        "My name is not important",
        "My son has autism and my daughter is 4.",
        "It was an EHC plan from SEND services in Year 9.",
        "Reference EHC/2024/0042, dated 14 March 2025.",
        "The Christian school and the English teacher were great",
        "- Will it change?\n- Maybe.",
    ],
)
def test_not_names(text):
    assert find_names(text) == []


def test_only_common_names_are_used():
    names = common_first_names()
    assert {"james", "sarah", "mark"} <= names
    assert not names & {"monday", "april", "june", "august", "summer", "christian"}
    assert len(names) <= 2000


# --- All together -------------------------------------------------------------------------


def test_personal_details_in_order_without_overlaps():
    text = "Mrs Jane Smith (jane@example.com, 07700 900123) said my son Leo could come."
    findings = personal_details(text)
    assert [(f.kind, f.text) for f in findings] == [
        (NAME, "Mrs Jane Smith"),
        (EMAIL, "jane@example.com"),
        (PHONE, "07700 900123"),
        (NAME, "Leo"),
    ]
    for finding in findings:
        assert text[finding.start : finding.end] == finding.text


def test_redacted_replaces_each_finding_with_what_it_was():
    text = "Ring Sarah on 07700 900123 or email s@example.com."
    assert redacted(text, personal_details(text)) == (
        "Ring [name removed] on [phone number removed] or email [email removed]."
    )
    assert redacted("Nothing to see", []) == "Nothing to see"


def test_describe_lists_what_a_comment_may_contain():
    assert describe([]) == ""
    assert describe(personal_details("Call 07700 900123")) == "May contain a phone number"
    assert (
        describe(personal_details("Call Sarah on 07700 900123 or a@example.com"))
        == "May contain an email address, a phone number and a name"
    )
