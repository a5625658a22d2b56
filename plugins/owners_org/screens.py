"""What the plugin hands to the shared screens: the compound page's section and the dashboards' panels.

Plain `geoplatform.screens` records; the templates live in this plugin's blueprint (owners_org/…).
"""

from __future__ import annotations

from typing import Any

from geoplatform.screens import Panel, Section


def _can_open(context: Any, user: Any, resource: dict[str, Any]) -> bool:
    return context.allowed(user, "edit_owners_org", resource) or context.allowed(user, "record_evaluation", resource)


def compound_section(context: Any, compound_id: str, user: Any) -> list[Section]:
    """The compound's organisation as the records say: state, kind, findings (zh/en), a link to the workspace."""
    from geoplatform import models as m
    from geoplatform.i18n import t
    from geoplatform.labels import label
    from plugins.owners_org import service
    from plugins.owners_org.messages import finding_text
    from plugins.owners_org.settings import settings_for

    if not context.allowed(user, "view", {"kind": "owners_org"}):
        return []
    settings = settings_for(context)
    with context.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id)
        if c is None:
            return []
        resource = {"kind": "owners_org", "street_code": c.street_code, "community_code": c.community_code}
        detail = service.compound_detail(s, compound_id, context.today, settings)
    current = next((o for o in detail["orgs"] if o["current"]), None)
    findings = [{"code": f["code"], "severity": f["severity"],
                 "text": {"zh": finding_text(f, "zh"), "en": finding_text(f, "en")}}
                for f in (current["findings"] if current else [])]
    link = f"/ws/owners-org/compound/{compound_id}" if _can_open(context, user, resource) else None
    status = detail["status"]
    words = {lang: " · ".join(x for x in (label("org_state", status["state"], lang),
                                          label("org_kind", status["kind"], lang) if status["kind"] else "",
                                          t("owners_org.declared", lang) if status["declared"] else "") if x)
             for lang in ("zh", "en")}
    return [Section(id="owners_org", title="owners_org.section", template="owners_org/section.html", order=60,
                    data={"status": status, "status_text": words, "findings": findings, "link": link})]


def dashboard_panel(context: Any, user: Any, where: str, street_code: str | None) -> list[Panel]:
    """Bureau: the rate from the records per street (the 95 % target); street: one street's rate and alerts."""
    from plugins.owners_org import service
    from plugins.owners_org.settings import settings_for

    if not context.allowed(user, "view", {"kind": "owners_org"}):
        return []
    settings = settings_for(context)
    if where == "bureau":
        rows = service.street_rates(context, settings)
        if street_code:
            rows = [row for row in rows if row["street_code"] == street_code]
        return [Panel(id="owners_org_streets", title="owners_org.panel", template="owners_org/panel_streets.html",
                      data={"rows": rows, "today": context.today.isoformat()}, order=30, where="bureau")]
    if where == "street" and street_code:
        with context.session(readonly=True) as s:
            board = service.board(s, context.today, settings, street=street_code)
        return [Panel(id="owners_org_street", title="owners_org.panel", template="owners_org/panel_street.html",
                      data={"street_code": street_code, "rate": board["rate"], "alerts": len(board["alerts"])},
                      order=30, where="street")]
    return []
