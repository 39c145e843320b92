"""Shared pieces of the officer area's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields import DateField


def error_list(form: FlaskForm) -> list[dict[str, str]]:
    """The error summary's entries, in the order of the fields, each linking to its input."""
    errors = []
    for field in form:
        if field.errors:
            errors.append({"text": field.errors[0], "href": f"#{_target(field)}"})
    return errors


def _target(field: Field) -> str:
    if isinstance(field, DateField):
        return f"{field.id}-day"
    return field.id
