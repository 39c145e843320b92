"""govuk-frontend-wtf widgets, extended for questionnaire pages.

A question alone on its page is the page's heading (its label or legend is
the h1). Answers kept apart from a scale ("Don't know") follow an "or"
divider, and "None of these" clears the other checkboxes.
"""

from __future__ import annotations

import json
from functools import lru_cache

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovRadioInput,
    GovTextInput,
)
from markupsafe import Markup

IMAGE_SIZE = 96

HEADING_SIZE = {True: "l", False: "m"}
DATE_PARTS = {"day": lazy_gettext("Day"), "month": lazy_gettext("Month"), "year": lazy_gettext("Year")}


@lru_cache(maxsize=4096)
def _render(template_name: str, params_json: str) -> Markup:
    """A component's HTML depends only on its parameters, so each is rendered once.

    The same question, with the same answer and error, is shown to many
    people: rendering GOV.UK Frontend's macros is most of a page's cost.
    Only choice questions are rendered this way: their parameters hold answer
    codes, while a text, number or date input holds what the person typed,
    which must not outlive their request in memory.
    """
    template = current_app.jinja_env.get_template(template_name)
    return Markup(template.render(params=json.loads(params_json)))  # noqa: S704 - autoescaped output


def _localised(params: dict) -> dict:
    """Words the GOV.UK components would otherwise show in English."""
    if params.get("errorMessage"):
        params["errorMessage"] = {"text": str(params["errorMessage"]["text"]), "visuallyHiddenText": _("Error")}
    return params


class _Rendered:
    def render(self, params):
        params = _localised(params)
        if params.pop("personal", False):
            return Markup(render_template(self.template, params=params))  # noqa: S704 - autoescaped output
        return _render(self.template, json.dumps(params, sort_keys=True))


def _legend(field) -> dict:
    size = HEADING_SIZE[field.is_page_heading]
    return {
        "text": field.label.text,
        "isPageHeading": field.is_page_heading,
        "classes": f"govuk-fieldset__legend--{size}",
    }


def _label(field) -> dict:
    size = HEADING_SIZE[field.is_page_heading]
    return {"text": field.label.text, "isPageHeading": field.is_page_heading, "classes": f"govuk-label--{size}"}


def _hint(field) -> dict | None:
    return {"text": field.description} if field.description else None


class _OptionsMixin(_Rendered):
    """Adds per-option hints, the divider and exclusive behaviour."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["fieldset"] = {"legend": _legend(field)}
        params["hint"] = _hint(field)
        params["idPrefix"] = field.id
        # A label showing someone's earlier answer is rendered for them alone.
        params["personal"] = field.personal
        items = []
        for option, item in zip(field.question.options, params["items"], strict=True):
            if option.apart and not any(existing.get("divider") for existing in items):
                items.append({"divider": _("or")})
            if option.hint:
                item["hint"] = {"text": option.hint}
            if option.exclusive:
                item["behaviour"] = "exclusive"
            if option.image:
                item["html"] = _picture_label(option)
                del item["text"]
            items.append(item)
        params["items"] = items
        if any(option.image for option in field.question.options):
            params["classes"] = "app-radios--images"
        return params


def _picture_label(option) -> str:
    """A picture with its words: the words are the label, the picture's alt text says what it shows."""
    return str(
        Markup(
            '<span class="app-choice-image"><img src="{src}" alt="{alt}" width="{size}" height="{size}"></span>'
            '<span class="app-choice-image__text">{label}</span>'
        ).format(
            src=url_for("static", filename=f"images/{option.image}"),
            alt=option.image_alt,
            size=IMAGE_SIZE,
            label=option.label,
        )
    )


class QuestionRadios(_OptionsMixin, GovRadioInput):
    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        if len(field.question.options) == 2 and not field.question.apart_options:
            params["classes"] = "govuk-radios--inline"
        return params


class QuestionCheckboxes(_OptionsMixin, GovCheckboxesInput):
    pass


class _Localised:
    def render(self, params):
        return super().render(_localised(params))


class QuestionTextInput(_Localised, GovTextInput):
    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["label"] = _label(field)
        params["hint"] = _hint(field)
        params["spellcheck"] = True
        return params


class QuestionNumberInput(_Localised, GovTextInput):
    """A text input for numbers, as GOV.UK advises (not type="number")."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["label"] = _label(field)
        params["hint"] = _hint(field)
        params["inputmode"] = "numeric" if field.question.whole_number else "decimal"
        params["spellcheck"] = False
        params["classes"] = "govuk-input--width-5"
        if field.question.suffix:
            params["suffix"] = {"text": field.question.suffix}
        return params


class QuestionCharacterCount(_Localised, GovCharacterCount):
    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["label"] = _label(field)
        params["hint"] = _hint(field)
        params["maxlength"] = field.question.max_length
        params["rows"] = 6
        # GOV.UK Frontend counts in the browser with Intl plural rules, whose
        # categories differ by language (Welsh has six): each gets a wording.
        remaining = {"one": _("You have %{count} character remaining")}
        too_many = {"one": _("You have %{count} character too many")}
        for category in ("zero", "two", "few", "many", "other"):
            remaining[category] = _("You have %{count} characters remaining")
            too_many[category] = _("You have %{count} characters too many")
        params["textareaDescriptionText"] = _("You can enter up to %{count} characters")
        params["charactersUnderLimitText"] = remaining
        params["charactersOverLimitText"] = too_many
        params["charactersAtLimitText"] = _("You have 0 characters remaining")
        return params


class QuestionDateInput(_Localised, GovDateInput):
    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        params["fieldset"] = {"legend": _legend(field)}
        params["hint"] = _hint(field)
        # Only the parts that are wrong are highlighted; all of them when
        # nothing was entered.
        wrong_parts = field.wrong_parts or ({"day", "month", "year"} if field.errors else set())
        for item, part in zip(params["items"], ("day", "month", "year"), strict=True):
            width = "govuk-input--width-4" if part == "year" else "govuk-input--width-2"
            wrong = part in wrong_parts
            item["classes"] = f"{width} govuk-input--error" if wrong else width
            item["label"] = DATE_PARTS[part]
        return params
