"""The hooks plugins implement (marker name ``geoplatform``). Every hook has a one-line docstring.

`register_*` hooks return lists that are concatenated over all plugins. Specs only ever gain
arguments; an implementation may accept any subset of them (pluggy).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("geoplatform")
hookimpl = pluggy.HookimplMarker("geoplatform")


@hookspec
def register_layers(context):
    """Return a list of `layers.LayerSpec` this plugin adds to the map (concatenated over plugins)."""


@hookspec
def compute_compound_attributes(context, compounds):
    """Return a DataFrame indexed by compound id with columns prefixed by the plugin name (or None)."""


@hookspec
def compound_attribute_inputs(context):
    """Return a `geoplatform.readcache.AttributeInputs` saying what this plugin's compound attributes read (or None: anything, district-wide)."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the `geoplatform` click group `cli`; returns nothing."""


@hookspec
def register_routes(context):
    """Return a list of Flask Blueprints to mount on the web app (they are login-protected by default)."""


@hookspec
def register_exporters(context):
    """Return a list of `layers.Exporter` offered by `geoplatform export NAME` and the web UI."""


@hookspec
def register_basemaps(context):
    """Return a list of `layers.Basemap` offered in the map's basemap switcher."""


@hookspec
def permission_allowed(context, user, action, resource):
    """Return True to allow, False to deny, None for no opinion; any False denies, no True denies."""


@hookspec
def register_import_kinds(context):
    """Return a list of `geoplatform.io.kinds.ImportKind` that `geoplatform import KIND` and the import page accept."""


@hookspec
def register_messages():
    """Return `{"zh": {key: text}, "en": {key: text}}` to add to the translation catalogues (merged over plugins)."""


@hookspec
def menu_links(context, user):
    """Return a list of `geoplatform.screens.MenuLink` the top menu shows to `user` (concatenated)."""


@hookspec
def compound_sections(context, compound_id, user):
    """Return a list of `geoplatform.screens.Section` for the compound page of `compound_id` as `user` sees it."""


@hookspec
def dashboard_panels(context, user, where, street_code):
    """Return a list of `geoplatform.screens.Panel` for dashboard `where` ("bureau"/"street"), optionally one street."""


@hookspec(firstresult=True)
def owners_org_status(context, compound_ids):
    """Return {compound id: `geoplatform.exchange.OrgStatus`} from the organisation records (first answer wins)."""


@hookspec(firstresult=True)
def firm_eligibility(context, companies):
    """Return {firm key: `geoplatform.exchange.FirmEligibility`} — the RULES §7 credit gate (first answer wins)."""


@hookspec
def credit_events(context, today):
    """Return a list of `geoplatform.exchange.CreditEvent` this plugin derives from its records (concatenated)."""


@hookspec
def after_import(context, session, kind, keys):
    """After KIND's rows (`keys`) are written, in the import's transaction: keep derived data in step; return Message warnings."""


@hookspec
def load_demo(context, session, seed, today):
    """After the demo's core records are loaded (same transaction), add this plugin's synthetic records; may return {table: rows}."""


@hookspec(firstresult=True)
def served_evidence(context, compound_ids):
    """Return {compound id: `geoplatform.exchange.ServiceEvidence`} for compounds with a contract in force (first answer wins)."""


@hookspec
def projection_changes(context, session):
    """Return a list of `geoplatform.exchange.ProjectionChange` (decided or pending changes to KPI units; concatenated)."""


@hookspec
def plan_actions(context, session):
    """Return a list of `geoplatform.exchange.PlanAction` the coverage planner may choose from (concatenated)."""


@hookspec(firstresult=True)
def record_service_contract(context, session, principal, compound_id, company, start, end, contract_id, source):
    """Record a service contract (RULES §4/§7) in the session's transaction where contracts are kept; return its dict (first answer wins)."""


@hookspec(firstresult=True)
def safety_problems(context, session, compound_ids):
    """Return {compound id: number of open safety problems} from the problem ledger (RULES §8; first answer wins)."""


@hookspec(firstresult=True)
def takeover_bundles(context, session):
    """Return a list of `geoplatform.exchange.TakeoverBundle`: new bundles of orphans with no host (RULES §5), takeover units."""
