"""Browser hardening: CSRF, Origin checks, security headers, error pages (to be built by the accounts issue)."""

from __future__ import annotations

from flask import Flask


def init_security(app: Flask) -> None:
    """Install CSRF protection, headers and generic error handlers."""
