"""Flask app factory: nothing reads config or opens a database at import time."""

from __future__ import annotations

from flask import Flask, current_app

from geoplatform.context import Context


def create_app(context: Context | None = None, database_url: str | None = None) -> Flask:
    """Build the web app around a Context (one per app)."""
    context = context or Context.create(database_url)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.extensions["geoplatform"] = context
    app.config["SECRET_KEY"] = context.config.secret_key or _instance_secret(context)
    app.config["MAX_CONTENT_LENGTH"] = context.config.max_upload_bytes

    from web import auth, security

    security.init_security(app)
    auth.init_auth(app)
    # (the web map blueprints, API, OGC and plugin routes are registered here)
    return app


def get_context() -> Context:
    """The Context of the running app."""
    return current_app.extensions["geoplatform"]


def _instance_secret(context: Context) -> str:
    """A per-instance random secret kept next to the embedded database (or in memory)."""
    import os
    import secrets
    from pathlib import Path

    path = Path(os.environ.get("GEOPLATFORM_INSTANCE", "instance")) / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
    except OSError:
        return secrets.token_hex(32)
