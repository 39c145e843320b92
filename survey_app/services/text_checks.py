"""Checks on free text: words that suggest a risk of harm, and personal details.

Pure functions over a string, so they are quick to test against many
examples. Each finding gives its kind and where it is in the text, so a
page can say what a comment may contain and the redaction form can offer
the text with each finding already replaced.

These are heuristics to help an officer, not a guarantee: they aim to catch
the usual ways people write an email address, a UK phone number or a name,
while leaving days, months, dates and reference numbers alone. The officer
reads the text and decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

EMAIL = "email"
PHONE = "phone"
NAME = "name"

# How each kind of finding is described, and what replaces it when redacted.
DESCRIPTIONS = {EMAIL: "an email address", PHONE: "a phone number", NAME: "a name"}
REPLACEMENTS = {EMAIL: "[email removed]", PHONE: "[phone number removed]", NAME: "[name removed]"}

# Only the more common first names: the long tail of the lists holds
# ordinary words ("summer", "page") far more often seen in comments than as names.
COMMON_NAMES_PER_LIST = 1000


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


# --- Risk words --------------------------------------------------------------


def risk_words(setting: str) -> tuple[str, ...]:
    """The words and phrases of a comma-separated setting, in lower case, each once.

    "self-harm" and "self harm" find the same comments, so only the first is kept.
    """
    words: dict[str, str] = {}
    for word in setting.split(","):
        word = word.strip().lower()
        if word:
            words.setdefault("".join(re.findall(r"[^\W_]+", word)), word)
    return tuple(words.values())


@lru_cache(maxsize=8)
def _risk_patterns(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((word, _phrase_pattern(word)) for word in words)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A whole word or phrase, whatever the case and whatever punctuation or spacing is between its words.

    So "self-harm" also finds "self harm", "selfharm" and "Self - Harm", and
    "hurt myself" finds "hurt, myself", but "bully" does not find "bullying".
    """
    tokens = re.findall(r"[^\W_]+", phrase)
    return re.compile(r"(?<![^\W_])" + r"[\W_]*".join(map(re.escape, tokens)) + r"(?![^\W_])", re.IGNORECASE)


def risk_matches(text: str, words: tuple[str, ...]) -> list[str]:
    """The risk words and phrases found in ``text``, in the order of ``words``."""
    return [word for word, pattern in _risk_patterns(words) if pattern.search(text)]


# --- Personal details --------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")

# A UK number: +44 or 0, then 9 or 10 digits (the first not 0), with single
# spaces, hyphens or brackets between them: 07700 900123, +44 7700 900 123,
# (020) 7946 0000, 0113-496-0000. A slash or dot ends it, so dates
# (01/02/2024, 01.02.2024) are left alone; so are numbers with more digits,
# and references that start 00.
_PHONE = re.compile(
    r"(?<![\w+])"
    r"(?:\+44[ -]?(?:\(0\)[ -]?)?|\(?0)"
    r"[1-9](?:[ -]?\)?[ -]?\d){8,9}"
    r"(?![\w])"
)

# Smith, O'Brien, McDonald, Smith-Jones.
_CAPITALISED = r"[A-Z](?:[a-z]+(?:[A-Z][a-z]+)?|['’][A-Z][a-z]+)(?:-[A-Z][a-z]+)?"
# Mr Smith, Mrs. Jane Smith, Dr O'Brien.
_TITLED = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+{_CAPITALISED}(?:\s+{_CAPITALISED})?")
# "my name is jack": a child may not use a capital letter.
_NAME_IS = re.compile(r"\b[Nn]ame\s+is\s+(?P<name>[A-Za-z][a-z]+(?:\s+[A-Z][a-z]+)?)")
# "called Amir", "named Sophie", "my son Leo", "our daughter, Amy": only with a
# capital, so "called back" and "the named school" are not names.
_INTRODUCED = re.compile(
    rf"\b(?:[Cc]alled|[Nn]amed|(?:[Mm]y|[Oo]ur)\s+(?:son|daughter|child|grandson|granddaughter|brother|sister)),?\s+"
    rf"(?P<name>{_CAPITALISED}(?:\s+{_CAPITALISED})?)"
)
_WORD = re.compile(r"\b[A-Z][a-z]+\b")
# What may come between the end of one sentence and the first word of the next.
_SENTENCE_GAP = " \t\"'“‘([-•*"

# Capitalised words that are in the name lists but mid-sentence are nearly
# always something else: months, days, and a few other words.
_NOT_NAMES = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday "
    "christian english autumn summer spring winter christmas easter will van".split()
)


@lru_cache(maxsize=1)
def common_first_names() -> frozenset[str]:
    """The more common first names, in lower case (the lists are in order of frequency)."""
    names = (
        FREQUENCY_LISTS["male_names"][:COMMON_NAMES_PER_LIST] + FREQUENCY_LISTS["female_names"][:COMMON_NAMES_PER_LIST]
    )
    return frozenset(names) - _NOT_NAMES


def find_emails(text: str) -> list[Finding]:
    return [Finding(EMAIL, m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)]


def find_phone_numbers(text: str) -> list[Finding]:
    return [Finding(PHONE, m.start(), m.end(), m.group()) for m in _PHONE.finditer(text)]


def find_names(text: str) -> list[Finding]:
    """What looks like a person's name: after a title, after "my name is" and the like, or a common first name."""
    names = common_first_names()
    found = [Finding(NAME, m.start(), m.end(), m.group()) for m in _TITLED.finditer(text)]
    for pattern in (_NAME_IS, _INTRODUCED):
        for match in pattern.finditer(text):
            name = match.group("name")
            first = name.split()[0]
            # In lower case ("my name is jack") only a known name counts, not "my name is not important".
            if first.lower() in _NOT_NAMES or (first.islower() and first not in names):
                continue
            found.append(Finding(NAME, match.start("name"), match.end("name"), name))
    for match in _WORD.finditer(text):
        if match.group().lower() in names and not _starts_sentence(text, match.start()):
            found.append(Finding(NAME, match.start(), match.end(), match.group()))
    return _without_overlaps(found)


def _starts_sentence(text: str, position: int) -> bool:
    """Whether the word at ``position`` starts the text, a line or a sentence (so has a capital anyway)."""
    start = max(0, position - 20)
    before = text[start:position].rstrip(_SENTENCE_GAP)
    if not before:
        return start == 0
    return before.endswith((".", "!", "?", "\n"))


def personal_details(text: str) -> list[Finding]:
    """Every email address, phone number and name found, in order, without overlaps.

    Where two findings overlap the one starting first is kept, and of two
    starting together the longer ("Mrs Jane Smith" rather than "Jane").
    """
    return _without_overlaps(find_emails(text) + find_phone_numbers(text) + find_names(text))


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda finding: (finding.start, -finding.end)):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def describe(findings: list[Finding]) -> str:
    """ "May contain an email address and a name", or "" when nothing was found."""
    kinds = [DESCRIPTIONS[kind] for kind in DESCRIPTIONS if any(f.kind == kind for f in findings)]
    if not kinds:
        return ""
    listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return f"May contain {listed}"


def redacted(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding (from ``personal_details``) replaced by what it was, in brackets."""
    parts, position = [], 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(REPLACEMENTS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)
