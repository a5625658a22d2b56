"""Flask app factory: nothing reads config or opens a database at import time."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, current_app

from geoplatform.context import Context

log = logging.getLogger(__name__)


def create_app(context: Context | None = None, database_url: str | None = None,
               settings: dict[str, Any] | None = None) -> Flask:
    """Build the web app around a Context (one per app); `settings` update app.config (e.g. GEOPLATFORM_BASEMAP)."""
    context = context or Context.create(database_url)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.extensions["geoplatform"] = context
    app.config["SECRET_KEY"] = context.config.secret_key or _instance_secret(context)
    app.config["MAX_CONTENT_LENGTH"] = context.config.max_upload_bytes
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600  # vendored assets change only with a release
    # "" = the first basemap the server holds (a loaded tile package, else the own-data outline basemap)
    app.config["GEOPLATFORM_BASEMAP"] = os.environ.get("GEOPLATFORM_BASEMAP", "")
    # a layer that can show more features than this is drawn from vector tiles (/api/v1/tiles/…) on the map
    app.config["GEOPLATFORM_TILE_THRESHOLD"] = int(os.environ.get("GEOPLATFORM_TILE_THRESHOLD", "20000"))
    app.config.update(settings or {})

    import web.messages  # noqa: F401  (UI strings into the i18n catalogues)
    from web import api, auth, http, lang, mapview, ogc, security, shell
    from web.workspaces import bureau as ws_bureau
    from web.workspaces import compound as ws_compound
    from web.workspaces import street as ws_street

    context.load_messages()  # plugins registered after the Context was built (tests) bring their texts too
    shell.install(app, context)
    security.init_security(app)
    auth.init_auth(app)
    lang.init_lang(app)
    http.init_http(app)
    app.register_blueprint(mapview.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(ws_street.bp)  # the shell's screens; the plugins' pages come through register_routes
    app.register_blueprint(ws_compound.bp)
    app.register_blueprint(ws_bureau.bp)
    _register_plugin_routes(app, context)
    # X-Forwarded-* believed from the configured reverse proxies only (ValueError on a bad entry)
    app.wsgi_app = security.TrustedProxies(app.wsgi_app, security.trusted_networks(context.config.trusted_proxies))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from geoplatform.labels import label

        lang = lang_of_request()
        return {"current_user": auth.current_user, "url_rules": {r.endpoint for r in app.url_map.iter_rules()},
                "menu_links": lambda: shell.menu_links(context, auth.current_user()),
                "label": lambda enum, value: label(enum, value, lang),
                "show": lambda field, value: ws_compound.show(field, value, lang)}

    return app


def _register_plugin_routes(app: Flask, context: Context) -> None:
    """Mount every plugin's blueprints (login-protected by the auth guard); a failing one is skipped."""
    from geoplatform.pluginmanager import call_safely

    for plugin, blueprints in call_safely(context.pm, "register_routes", context=context):
        for blueprint in blueprints or []:
            try:
                app.register_blueprint(blueprint)
            except Exception:  # a broken plugin must not take the app down
                log.exception("plugin %s: cannot mount blueprint %r", plugin, getattr(blueprint, "name", blueprint))


def lang_of_request() -> str:
    """The request's language (zh when there is no request, e.g. rendering outside one)."""
    from flask import has_request_context

    from web.lang import current_lang

    return current_lang() if has_request_context() else "zh"


def get_context() -> Context:
    """The Context of the running app."""
    return current_app.extensions["geoplatform"]


def _instance_secret(context: Context) -> str:
    """A per-instance random secret kept next to the embedded database (or in memory)."""
    import os
    import secrets
    from pathlib import Path

    from geoplatform.private_files import write_private

    path = Path(os.environ.get("GEOPLATFORM_INSTANCE", "instance")) / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        write_private(path, key.encode())  # created 0600, never readable by others even for a moment
        return key
    except OSError:
        return secrets.token_hex(32)
