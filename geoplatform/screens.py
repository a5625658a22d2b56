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
    """One entry of the top menu: the shell shows it when a plugin returns it for the current user.

    `home`: this page is where `user` lands after logging in (the first home link by `order` wins;
    without one the user lands on the map).
    """

    href: str
    label: str  # message key
    order: int = 100
    id: str = ""
    home: bool = False


@dataclass(frozen=True)
class AuditRef:
    """An audit entity the compound page's change history includes (e.g. ("handover", "C1:water")).

    `label` (a message key or text) is added to the entity's name in the history ("设施移交 · 供水");
    `enums` maps a field of the event's before/after to the label enum that shows its values.
    """

    entity: str
    entity_id: str
    label: str = ""
    enums: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Section:
    """One section of the compound page (/compounds/<id>), placed by `order` (core attributes come first).

    `audit` names the plugin's audit entities about this compound: the page's change history shows them.
    """

    id: str
    title: str  # message key
    template: str | None = None
    html: str | None = None  # pre-escaped markup when a template is overkill
    data: dict[str, Any] = field(default_factory=dict)
    order: int = 100
    audit: tuple[AuditRef, ...] = ()


@dataclass(frozen=True)
class Panel:
    """One panel of a dashboard (`where`: "bureau" or "street"), placed by `order`.

    On the street workspace each panel is a tab (`badge` shows next to its title) and `layers` (layer
    ids) are added to the workspace map; `scripts` are static URLs loaded before the workspace's own
    script (a script registers `window.gpPanels.push(function (ws) {...})` to be called with the page
    object once the map is ready). On the bureau dashboard `wide` panels take the whole row.
    """

    id: str
    title: str  # message key
    template: str | None = None
    html: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    order: int = 100
    where: str = "bureau"
    badge: str | None = None
    badge_class: str = "bg-secondary"
    layers: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()  # message-key prefixes the panel's script needs in the page config
    wide: bool = False
