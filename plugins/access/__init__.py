"""Built-in plugin: the base role policy (deny by default; jurisdiction by street, utility and field).

Disabling it (GEOPLATFORM_DISABLE_PLUGINS=access) leaves no plugin that allows the base actions
(view, export, edit_compound, work_street, …): every page and API answers 403, for admins too — a
locked instance, since nothing is allowed unless some plugin says so. Other plugins still decide
their own actions (e.g. takeover's edit_takeover for the state company).

Answers of permission_allowed: True allow, False deny, None no opinion (another plugin decides).
Context.allowed() needs at least one True and no False, so anything nobody allows is denied.
"""

from __future__ import annotations

from typing import Any

from geoplatform.hookspecs import hookimpl

READ_ACTIONS = frozenset({"view", "export"})
# Resources only admin/bureau may read (accounts and the audit trail) unless a plugin says otherwise.
RESTRICTED_KINDS = frozenset({"user", "audit", "api_token", "user_session"})
# Compound fields the state-owned company may change (its takeover estimate).
TAKEOVER_FIELDS = frozenset({"takeover_cost"})
# Actions decided by the plugin that owns them: handover, takeover, bundling, owners' organisations, governance,
# firms (a street's quarterly scores).
DELEGATED_ACTIONS = frozenset({"edit_handover", "edit_takeover", "decide_bundle", "revert_bundle", "edit_owners_org",
                               "record_evaluation", "edit_governance", "score_firms"})


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def decide(user: Any, action: str, resource: dict[str, Any] | None) -> bool | None:
    """The base policy as a pure function (see the module docstring and docs/security.md)."""
    resource = resource or {}
    role = _get(user, "role")
    if user is None or role is None:
        return False
    if action == "manage_users" and resource.get("role") == "admin":
        return role == "admin"  # only an admin creates, elevates, resets or mints tokens for an admin account
    if role in ("admin", "bureau"):
        return True
    if action == "write":  # the gate in front of every write route (web/auth.py): a viewer writes nothing
        return role != "viewer"
    if action in READ_ACTIONS:
        if resource.get("restricted") or resource.get("kind") in RESTRICTED_KINDS:
            return None
        return True
    if role == "viewer":
        return False
    if action in DELEGATED_ACTIONS:
        return None
    if action == "work_street":  # the street workspace: a street officer for their own street only
        own = _get(user, "street_code")
        return role == "street_officer" and bool(own) and resource.get("street_code") == own
    if action == "edit_compound":
        if role == "street_officer":
            own = _get(user, "street_code")
            if not own or resource.get("street_code") != own:
                return False
            if "new_street_code" in resource and resource["new_street_code"] != own:
                return False
            return True
        if role == "state_company":
            fields = set(resource.get("fields") or ())
            return bool(fields) and fields <= TAKEOVER_FIELDS or False
        return False
    return False


@hookimpl
def permission_allowed(user, action, resource):  # noqa: ANN001, ANN201
    """Base role policy: admin/bureau everything; read for all; writes scoped by street/utility/field."""
    return decide(user, action, resource)
