"""Who may open each page.

Every view declares its rule with one of these decorators, and
``tests/test_access.py`` walks every registered route and fails if one has
none. ``public`` is for the respondent journey, the footer's pages and the
health check; ``requires(role)`` for everything in the officer area.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from .models import Role

PUBLIC = "public"


def public(view: Callable) -> Callable:
    """Anyone may open this page, signed in or not."""
    view.access = PUBLIC
    return view


def requires(role: Role) -> Callable[[Callable], Callable]:
    """Only someone signed in with ``role`` or a higher one may open this page.

    Someone not signed in is sent to sign in and brought back; someone signed
    in with a lower role is refused with a 403 page.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        guarded.access = Role(role)
        return guarded

    return decorator


def access_rule(view: Callable) -> str | None:
    """The rule a view declared, or None if it declared none."""
    return getattr(view, "access", None)
