"""Which language a person sees.

A respondent chooses a language once, on any page, and the choice is kept in
the session. The interface (buttons, headings, messages) is translated with
Flask-Babel into the languages that have a catalogue in ``translations/``; a
questionnaire's own text is translated in its YAML file (``label::cy``). On a
survey's pages the language is the person's choice if the questionnaire has
it, and English otherwise, so the interface and the questions always match.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, g, request, session
from flask_babel import Babel, force_locale, gettext, refresh

from questionnaires.schema import ENGLISH, LANGUAGES, RIGHT_TO_LEFT

# Languages the interface is translated into (translations/<code>/LC_MESSAGES).
INTERFACE_LANGUAGES = ("en", "cy")
SESSION_KEY = "language"

babel = Babel()


def chosen() -> str:
    """The language the person asked for, whether or not this page has it."""
    language = session.get(SESSION_KEY, ENGLISH)
    return language if language in LANGUAGES else ENGLISH


def choose(language: str) -> None:
    if language in LANGUAGES and session.get(SESSION_KEY, ENGLISH) != language:
        session[SESSION_KEY] = language
        session.permanent = True


def current() -> str:
    """The language of this page."""
    if "language" in g:
        return g.language
    language = chosen()
    return language if language in INTERFACE_LANGUAGES else ENGLISH


def use_for_page(available: tuple[str, ...]) -> str:
    """Show this page in the chosen language if it is ``available``; in English if not."""
    language = chosen() if chosen() in available else ENGLISH
    g.language = language
    g.page_languages = available
    refresh()  # the interface language may already have been looked up in this request
    return language


def page_languages() -> tuple[str, ...]:
    return g.get("page_languages", INTERFACE_LANGUAGES)


def _interface_locale() -> str:
    language = current()
    return language if language in INTERFACE_LANGUAGES else ENGLISH


def safe_next(target: str | None) -> str:
    """Only a path on this site, so the language link cannot send people elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def switcher() -> list[dict]:
    """The languages offered on this page, for the language switcher."""
    available = page_languages()
    if len(available) < 2:
        return []
    return [
        {"code": code, "name": LANGUAGES[code][0], "current": code == current(), "dir": direction(code)}
        for code in available
    ]


def offer(language: str) -> str:
    """An offer to answer in ``language``, written in that language so its readers recognise it."""
    with force_locale(language if language in INTERFACE_LANGUAGES else ENGLISH):
        return gettext("%(language)s: read and answer this survey", language=LANGUAGES[language][0])


def direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_interface_locale, default_translation_directories="translations")

    @app.context_processor
    def _language():
        language = current()
        return {
            "language": language,
            "text_direction": direction(language),
            "language_choices": switcher(),
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
