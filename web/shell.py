"""The web shell's services for plugin pages (the implementation of `geoplatform.webshell.Shell`).

Also the shared-screen assembly: the top menu (`menu_links` hook), compound sections
(`compound_sections`) and dashboard panels (`dashboard_panels`) are collected here, sorted by
`order`, for the shell's templates. No plugin is named here: what a plugin contributes comes
only through its hooks, so a disabled plugin contributes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from markupsafe import Markup

from geoplatform.context import Context
from geoplatform.pluginmanager import call_safely
from geoplatform.principal import Principal
from geoplatform.screens import MenuLink, Panel, Section

SHELL_URLS = {"compound_page": ("ws_compound.page", "compound_id"), "compound_api": ("api.compound", "compound_id"),
              "layer_features": ("api.layer_features", "layer_id"), "export": ("api_edit.export", "name"),
              "map": ("map.index", None), "street_workspace": ("ws_street.page", None)}


class WebShell:
    """What plugin pages may ask of the running app (see geoplatform.webshell)."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def require(self, action: str, resource: dict[str, Any] | None = None) -> Principal:
        from web.auth import require

        return require(action, resource)

    def lang(self) -> str:
        from web.lang import current_lang

        return current_lang()

    def csrf_token(self) -> str:
        from web.security import csrf_token

        return csrf_token()

    def map(self, **folium_kwargs: Any) -> dict[str, Any]:
        from web.mapview import offline_map, render_folium
        from web.security import csp_nonce

        bounds = folium_kwargs.pop("bounds", None)
        fm = offline_map(**folium_kwargs)
        if bounds:
            minx, miny, maxx, maxy = bounds
            fm.fit_bounds([[miny, minx], [maxy, maxx]])
        return {"name": fm.get_name(), **render_folium(fm, csp_nonce())}

    def layer_meta(self, layer_ids: list[str] | tuple[str, ...], lang: str) -> list[dict[str, Any]]:
        from web.api import visible_layers
        from web.maplayers import layer_meta

        specs = {spec.id: spec for spec in visible_layers(self.context) if spec.id in set(layer_ids)}
        return [layer_meta(specs[i], lang) for i in layer_ids if i in specs]

    def streets(self) -> list[dict[str, Any]]:
        from web.queries import street_list

        return street_list(self.context)

    def district_extent(self) -> list[float]:
        from web.ogc import district_extent

        return district_extent(self.context)

    def url(self, which: str, /, **values: Any) -> str:
        endpoint, arg = SHELL_URLS[which]
        if arg is not None and arg not in values:
            values[arg] = "__ID__"
        return url_for(endpoint, **values)

    def refresh(self) -> None:
        from web.revision import invalidate

        invalidate(self.context)


def install(app: Flask, context: Context) -> None:
    """Make the shell's services available to plugin pages and the screens' hooks to templates."""
    app.extensions["geoplatform.shell"] = WebShell(context)


# ---------------------------------------------------------------------------------------------
# Shared screens


def _collect(context: Context, hook: str, **kwargs: Any) -> list[Any]:
    return [item for _, items in call_safely(context.pm, hook, context=context, **kwargs) for item in items or []]


CORE_MENU = (  # the shell's own screens: (endpoint, label key, id, order, roles, home for roles)
    ("ws_street.page", "ws_street.nav", "gp-nav-ws-street", 10, ("street_officer", "admin", "bureau"),
     ("street_officer",)),
    ("ws_bureau.page", "ws_bureau.title", "gp-nav-ws-bureau", 30, ("admin", "bureau"), ("admin", "bureau")),
)


def menu_links(context: Context, user: Principal | None) -> list[MenuLink]:
    """The top menu of `user`: the shell's workspaces plus every plugin's links, by `order`."""
    if user is None:
        return []
    links = [MenuLink(href=url_for(endpoint), label=label, order=order, id=link_id, home=user.role in home)
             for endpoint, label, link_id, order, roles, home in CORE_MENU if user.role in roles]
    links += [link for link in _collect(context, "menu_links", user=user) if isinstance(link, MenuLink)]
    return sorted(links, key=lambda link: (link.order, link.href))


def home_page(context: Context, user: Principal) -> str | None:
    """Where `user` lands after logging in: the first menu link marked `home` (None: the map)."""
    return next((link.href for link in menu_links(context, user) if link.home), None)


def compound_sections(context: Context, compound_id: str, user: Principal) -> list[Section]:
    """The plugins' sections of one compound's page, by `order`."""
    sections = [s for s in _collect(context, "compound_sections", compound_id=compound_id, user=user)
                if isinstance(s, Section)]
    return sorted(sections, key=lambda s: (s.order, s.id))


def dashboard_panels(context: Context, user: Principal, where: str, street_code: str | None) -> list[Panel]:
    """The plugins' panels of dashboard `where` ("bureau" or "street"), by `order`."""
    panels = [p for p in _collect(context, "dashboard_panels", user=user, where=where, street_code=street_code)
              if isinstance(p, Panel) and p.where == where]
    return sorted(panels, key=lambda p: (p.order, p.id))


def render_block(block: Section | Panel) -> Markup:
    """A section's or panel's markup: its template rendered with `data` (or its pre-escaped `html`)."""
    from flask import render_template

    if block.template:
        return Markup(render_template(block.template, data=block.data, block=block))
    return Markup(block.html or "")
