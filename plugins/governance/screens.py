"""The records this plugin hands to the shared screens: the top menu, the compound page, the dashboards."""

from __future__ import annotations

from collections import Counter
from typing import Any

from geoplatform.screens import MenuLink, Panel, Section

ROLES = ("admin", "bureau", "street_officer", "community_officer")


def menu(user: Any) -> list[MenuLink]:
    """/ws/governance for the roles that work there."""
    if getattr(user, "role", None) not in ROLES:
        return []
    # community officers land here: recording problems, 24-hour reports and mediation is their daily work (§8)
    return [MenuLink(href="/ws/governance", label="governance.menu", order=60, id="governance",
                     home=user.role == "community_officer")]


def compound_section(context: Any, compound_id: str, user: Any) -> list[Section]:
    """The compound's problems (open ones first) and mediation stages."""
    from plugins.governance import service
    from plugins.governance.settings import settings_for

    if user is None or not context.allowed(user, "view", {"kind": "governance"}):
        return []
    with context.session(readonly=True) as s:
        data = service.compound_summary(s, compound_id, context.today, settings_for(context))
    return [Section(id="governance", title="governance.sec.compound", template="governance/section.html", data=data,
                    order=60)]


def panel_data(context: Any, street_code: str | None = None) -> dict[str, Any]:
    """Counts for a dashboard: the mediation centre's queue, pilots compliant, findings by code, 24 h alarms."""
    from plugins.governance import hooks, service
    from plugins.governance.settings import settings_for

    settings, today = settings_for(context), context.today
    as_of = hooks.as_of(today, settings)
    with context.session(readonly=True) as s:
        rec = service.load(s, service.Scope(street_code=street_code))
        told = service.org_told(rec, hooks.org_lookup(context), settings)
        meds = service.mediation_rows(rec, today, settings)
        pilots = service.pilot_rows(rec, today, settings)
        reports = service.report_rows(rec, told, as_of, settings)
        found = service.findings(rec, told, today, as_of, settings)
    queue = [x for x in meds if x["stage"] == "administrative" and x["open"]]
    return {"street_code": street_code, "queue": len(queue), "queue_overdue": sum(x["overdue"] for x in queue),
            "pilots": len(pilots), "pilots_ok": sum(1 for p in pilots if not p["findings"]),
            "findings": len(found), "by_code": dict(Counter(f["code"] for f in found)),
            "alarm24": sum(1 for r in reports if r["late"] or r["pending"]),
            "alarm30": sum(1 for x in meds if x["overdue"]),
            "href": "/ws/governance/street?street=" + street_code if street_code else "/ws/governance/bureau"}


def panels(context: Any, user: Any, where: str, street_code: str | None) -> list[Panel]:
    """Bureau dashboard: queue, pilots, findings; street dashboard: its 24 h and 30-day alarms."""
    role = getattr(user, "role", None)
    if where == "bureau" and role in ("admin", "bureau"):
        return [Panel(id="governance", title="governance.panel.title", template="governance/panel.html",
                      data=panel_data(context, street_code), order=60, where="bureau")]
    if where == "street" and role in ("admin", "bureau", "street_officer") and street_code:
        if role == "street_officer" and getattr(user, "street_code", None) != street_code:
            return []
        return [Panel(id="governance", title="governance.panel.title", template="governance/panel.html",
                      data=panel_data(context, street_code), order=60, where="street")]
    return []
