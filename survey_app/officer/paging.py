"""Long lists in the officer area, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request


def page_number() -> int:
    """The ``page`` asked for, or the first page for anything that is not a sensible page number."""
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1


def pagination(page: int, total: int, per_page: int, href: Callable[[int], str]) -> dict[str, Any] | None:
    """The GOV.UK pagination component's parameters, or None when everything fits on one page."""
    pages = max(1, -(-total // per_page))
    if pages == 1:
        return None
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    items: list[dict[str, Any]] = []
    for number in shown:
        if items and number - items[-1]["number"] > 1:
            items.append({"ellipsis": True, "number": number - 1})
        items.append({"number": number, "href": href(number), "current": number == page})
    parameters: dict[str, Any] = {"items": items}
    if page > 1:
        parameters["previous"] = {"href": href(page - 1)}
    if page < pages:
        parameters["next"] = {"href": href(page + 1)}
    return parameters
