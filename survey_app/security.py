"""Security headers on every response, and the nonce for the one inline script."""

from __future__ import annotations

import secrets

from flask import Flask, request


def csp_nonce() -> str:
    """This response's nonce, made on first use.

    Made lazily rather than in a before_request hook: a request refused by an
    earlier hook (a failed CSRF check, a body too large) still renders a page
    whose inline script must run. Kept on the request, not ``g``, which an
    application context can share between requests.
    """
    nonce = getattr(request, "csp_nonce", None)
    if nonce is None:
        nonce = request.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def uses_charts() -> str:
    """Called by the chart macro: this page needs plotly.js (loaded at the end of the body). Renders nothing."""
    request.uses_charts = True
    return ""


def charts_used() -> bool:
    return getattr(request, "uses_charts", False)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _nonce():
        return {"cspNonce": csp_nonce()}

    app.add_template_global(uses_charts)
    app.add_template_global(charts_used)

    @app.after_request
    def _headers(response):
        response.headers["Content-Security-Policy"] = "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' 'nonce-{csp_nonce()}'",
                "style-src 'self'",
                "img-src 'self'",
                "font-src 'self'",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), geolocation=(), microphone=(), interest-cohort=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if app.config["HSTS"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # Pages may show a family's answers: keep them out of shared caches
        # and the browser's history cache on shared computers.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response
