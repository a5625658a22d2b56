"""HTTP surface of the basemaps plugin: tiles of the stored packages, the own-data basemap, the bureau's page.

Every route is login-protected by the app. Tiles and the outline answer carry ETags and
Cache-Control (private: the app is login-only). The management page (/bureau/basemaps) is for
`manage_basemaps` (admin, bureau): others get 403 and the attempt is audited.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from geoplatform import webshell
from geoplatform.errors import UserInputError
from geoplatform.i18n import t

MANAGE = ("manage_basemaps", {"kind": "basemap"})


def make_blueprint(context: Any) -> Blueprint:
    """A blueprint bound to `context` (plugins never import web; the user comes from flask.g.user)."""
    from plugins.basemaps import service
    from plugins.basemaps.outline import outline_geojson
    from plugins.basemaps.settings import settings_for

    bp = Blueprint("basemaps", __name__, template_folder="templates")

    def _viewer() -> Any:
        return webshell.require("view", {"kind": "basemap"})

    @bp.get("/basemaps/tiles/<name>/<int:z>/<int:x>/<int:y>")
    def tile(name: str, z: int, x: int, y: int) -> Response:
        """One XYZ tile of a stored package (MBTiles rows flipped from TMS); 204 where the package has none."""
        _viewer()
        settings = settings_for(context)
        try:
            found = service.read_tile(context, name, z, x, y)
        except UserInputError:
            abort(404)
        if found is None:
            response = Response(status=204)
            response.headers["Cache-Control"] = f"private, max-age={settings.tile_max_age_s}"
            return response
        data, mimetype, encoding, version = found
        if encoding == "gzip" and "gzip" not in request.headers.get("Accept-Encoding", "").lower():
            data, encoding = gzip.decompress(data), None
        response = Response(data, mimetype=mimetype)
        if encoding:
            response.headers["Content-Encoding"] = encoding
            response.vary.add("Accept-Encoding")
        response.set_etag(f"{version}-{z}-{x}-{y}{'-gz' if encoding else ''}")
        response.headers["Cache-Control"] = f"private, max-age={settings.tile_max_age_s}"
        return response.make_conditional(request)

    @bp.get("/basemaps/outline.geojson")
    def outline() -> Response:
        """The own-data basemap: district, street, community outlines with label points and named barrier lines."""
        _viewer()
        settings = settings_for(context)
        revision = str(context.current_revision())
        etag = hashlib.sha256(f"outline|{revision}|{settings}".encode()).hexdigest()[:32]
        if request.if_none_match.contains_weak(etag):
            response = Response(status=304)
        else:
            def build() -> str:
                with context.session(readonly=True) as s:
                    return outline_geojson(s, settings)

            response = Response(context.memo("basemaps.outline", build), mimetype="application/geo+json")
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
        return response

    def _page(status: int = 200, **extra: Any) -> tuple[str, int]:
        lang = webshell.lang()
        packages = service.list_packages(context)
        rows = [{**p, "size_mb": f"{p.get('size', 0) / 1048576:.1f}", "kind_label": t(f"basemaps.kind.{p['kind']}", lang)}
                for p in packages]
        limit_mb = int((context.config.max_upload_bytes or 0) // 1048576)
        return render_template("basemaps/manage.html", packages=rows, limit_mb=limit_mb,
                               tianditu=bool(context.config.tianditu_key), **extra), status

    @bp.get("/bureau/basemaps")
    def manage() -> Any:
        """The bureau's basemap page: loaded packages, upload, online basemaps and the Tianditu key hint."""
        webshell.require(*MANAGE)  # 403 (audited) for anyone but admin and bureau
        return _page()

    @bp.post("/bureau/basemaps")
    def upload() -> Any:
        """Load an uploaded tile package (validated; Chinese errors name the file)."""
        user = webshell.require(*MANAGE)
        lang = webshell.lang()
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            return _page(400, error=t("basemaps.no_file", lang))
        display = Path(sent.filename.replace("\\", "/")).name[:200]
        folder = service.package_dir(context)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".upload-{secrets.token_hex(8)}.part"
        try:
            sent.save(partial)
            manifest = service.add_package(context, user, partial, name=request.form.get("name") or None,
                                           title=request.form.get("title") or None, display=display, move=True)
        except UserInputError as exc:
            return _page(exc.status, error=exc.message.text(lang))
        finally:
            partial.unlink(missing_ok=True)
        kind = t(f"basemaps.kind.{manifest['kind']}", lang)
        return _page(notice=t("basemaps.added", lang, title=manifest["title"], kind=kind,
                              min_zoom=manifest["min_zoom"], max_zoom=manifest["max_zoom"]))

    @bp.post("/bureau/basemaps/<name>/remove")
    def remove(name: str) -> Any:
        """Delete a stored package."""
        user = webshell.require(*MANAGE)
        lang = webshell.lang()
        try:
            manifest = service.remove_package(context, user, name)
        except UserInputError as exc:
            return _page(exc.status, error=exc.message.text(lang))
        return _page(notice=t("basemaps.removed", lang, title=manifest["title"]))

    return bp
