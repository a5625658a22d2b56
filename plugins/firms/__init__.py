"""Built-in plugin: property firm supervision (RULES §7) — registry and credit gate, contracts and their
filings, quarterly 好评榜 / 差评榜, fee disclosure; layers, workspaces, imports and the `firms` commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoplatform.hookspecs import hookimpl
from plugins.firms import messages as _messages

STREET_ACTIONS = ("score_firms",)  # a street officer may do these in their own street only


@hookimpl
def register_messages() -> dict[str, dict[str, str]]:
    """The plugin's catalogue (zh + en)."""
    return _messages.catalogue()


@hookimpl
def register_import_kinds(context: Any) -> list[Any]:
    """companies, contracts, assessments, disclosures (DESIGN.md)."""
    from plugins.firms.importing import import_kinds

    return import_kinds()


@hookimpl
def register_commands(cli: Any) -> None:
    """`geoplatform firms check | rank | publish | blacklist | grade`."""
    from plugins.firms.commands import register

    register(cli)


@hookimpl
def register_layers(context: Any) -> list[Any]:
    """firm_status and disclosure_compliance."""
    from plugins.firms.layers import layers

    return layers()


@hookimpl
def compute_compound_attributes(context: Any, compounds: Any) -> Any:
    """firms_status, firms_disclosure (+ labels, the missing half-years and the finding count)."""
    from plugins.firms.layers import compound_attributes

    return compound_attributes(context, compounds)


@hookimpl
def register_exporters(context: Any) -> list[Any]:
    """`firms-registry` and `firms-lists` (xlsx with Chinese headers)."""
    from plugins.firms.export import exporters

    return exporters()


@hookimpl
def firm_eligibility(context: Any, companies: Any) -> dict[Any, Any]:
    """The credit gate (RULES §7) as of `context.today` for each firm key (None: firm not recorded)."""
    from plugins.firms import service
    from plugins.firms.settings import settings_for

    with context.session(readonly=True) as s:
        return service.gate(context, s, list(companies), context.today, settings_for(context))


@hookimpl
def permission_allowed(context: Any, user: Any, action: str, resource: Any) -> bool | None:
    """score_firms: a street officer in their own street; everyone else as the base policy says."""
    if action not in STREET_ACTIONS:
        return None
    role = getattr(user, "role", None)
    if role != "street_officer":
        return None
    own = getattr(user, "street_code", None)
    return bool(own) and (resource or {}).get("street_code") == own


@hookimpl
def register_routes(context: Any) -> list[Any]:
    """The workspaces (/ws/firms/street, /ws/firms/bureau), the published lists (/firms/lists) and /api/v1/firms."""
    from plugins.firms.routes import make_blueprint

    return [make_blueprint(context)]


@hookimpl
def menu_links(context: Any, user: Any) -> list[Any]:
    """The firms workspace of the user's role, and the published lists for everyone."""
    from geoplatform.screens import MenuLink

    role = getattr(user, "role", None)
    out = []
    if role == "street_officer":
        out.append(MenuLink(href="/ws/firms/street", label="firms.menu", order=60, id="firms-street"))
    if role in ("admin", "bureau"):
        out.append(MenuLink(href="/ws/firms/bureau", label="firms.menu", order=60, id="firms-bureau"))
    if role is not None:
        out.append(MenuLink(href="/firms/lists", label="firms.menu.lists", order=61, id="firms-lists"))
    return out


@hookimpl
def compound_sections(context: Any, compound_id: str, user: Any) -> list[Any]:
    """The compound's firm (gate, grade), contracts with their filings, disclosures and findings."""
    from geoplatform.screens import Section
    from plugins.firms import service
    from plugins.firms.settings import settings_for

    if user is None or not context.allowed(user, "view", {"kind": "service_contract", "id": compound_id}):
        return []
    with context.session(readonly=True) as s:
        record = service.compound_record(context, s, compound_id, context.today, settings_for(context))
    if record is None:
        return []
    return [Section(id="firms", title="firms.section.title", template="firms/section.html", data=record, order=40)]


@hookimpl
def dashboard_panels(context: Any, user: Any, where: str, street_code: str | None) -> list[Any]:
    """Bureau (or one street's): compounds with contracts ending, missing filings and disclosures, blacklisted."""
    from geoplatform.screens import Panel
    from plugins.firms import service
    from plugins.firms.settings import settings_for

    if where not in ("bureau", "street") or user is None:
        return []
    with context.session(readonly=True) as s:
        found = service.findings(context, s, context.today, settings_for(context), street_code)
    count = {"expiring": len({f.compound_id for f in found if f.code.startswith("contract_")}),
             "filings": sum(f.code == "filing_missing" for f in found),
             "disclosure": sum(f.code == "disclosure_missing" for f in found),
             "blacklisted": len({f.compound_id for f in found if f.code == "firm_blacklisted"})}
    href = "/ws/firms/bureau" if where == "bureau" else "/ws/firms/street"
    return [Panel(id="firms", title="firms.panel.title", template="firms/panel.html", where=where, order=50,
                  data={**count, "href": href, "today": context.today.isoformat()})]


@hookimpl
def load_demo(context: Any, session: Any, seed: int, today: dt.date) -> dict[str, int]:
    """Firms of every grade, a blacklisted one, contracts ending soon and ended, filings missing, a quarter of
    scores, disclosures with and without gaps (labelled synthetic)."""
    from plugins.firms.demo import load_demo_records
    from plugins.firms.settings import settings_for

    return load_demo_records(session, seed, today, settings_for(context))


@hookimpl
def served_evidence(context: Any, compound_ids: Any) -> dict[str, Any]:
    """The contract in force on `context.today` of each compound that has one (RULES §1: served "verified")."""
    from plugins.firms.path import served_evidence as evidence

    with context.session(readonly=True) as s:
        return evidence(s, list(compound_ids), context.today)


@hookimpl
def projection_changes(context: Any, session: Any) -> list[Any]:
    """Served compounds whose contracts run out with no renewal: −served the day after (+served at a renewal)."""
    from plugins.firms.path import projection_changes as changes
    from plugins.firms.settings import settings_for

    return changes(session, settings_for(context))


@hookimpl
def plan_actions(context: Any, session: Any) -> list[Any]:
    """A contract renewal for each served compound whose contracts run out (coverage's planner)."""
    from plugins.firms.path import plan_actions as actions
    from plugins.firms.settings import settings_for

    return actions(session, settings_for(context))


@hookimpl
def record_service_contract(context: Any, session: Any, principal: Any, compound_id: str, company: str,
                            start: dt.date, end: dt.date, contract_id: str, source: str) -> dict[str, Any]:
    """Record a contract another plugin concluded (e.g. a takeover's, RULES §4) in this registry, in the caller's
    transaction: the credit gate and the dates are checked here too; the compound's firm is left to the caller."""
    from plugins.firms import service
    from plugins.firms.settings import settings_for

    return service.new_contract(context, session, principal, compound_id, company, start, end, context.today,
                                settings_for(context), contract_id=contract_id, source=source, set_company=False)
