"""What plugins hand to the shared screens (menus, the compound page, dashboards) through hooks.

Plugins never import `web`; they return these plain records and the web shell renders them. A
`template` is a Jinja template name the plugin ships in its own blueprint's template folder (or
an inline `html` string that is already escaped — build it with `markupsafe.escape`); `data` is
passed to the template as `data`. Titles and labels are message keys of the i18n catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MenuLink:
    """One entry of the top menu: the shell shows it when a plugin returns it for the current user."""

    href: str
    label: str  # message key
    order: int = 100
    id: str = ""


@dataclass(frozen=True)
class Section:
    """One section of the compound page (/compounds/<id>), placed by `order` (core attributes come first)."""

    id: str
    title: str  # message key
    template: str | None = None
    html: str | None = None  # pre-escaped markup when a template is overkill
    data: dict[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """One panel of a dashboard (`where`: "bureau" or "street"), placed by `order`."""

    id: str
    title: str  # message key
    template: str | None = None
    html: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    order: int = 100
    where: str = "bureau"
