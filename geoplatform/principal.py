"""Who is acting (a Principal) and the action/resource vocabulary of the permission_allowed hook.

Actions: "view", "export", "edit_compound", "edit_handover", "edit_takeover", "decide_bundle",
"revert_bundle", "import", "manage_users", "view_audit".
A resource is a dict: {"kind": "compound"|"handover"|"takeover"|"bundle"|"user"|"layer"|...,
"id": ..., "street_code": ..., "facility": ..., "fields": [...], "new_street_code": ...}; keys a
rule does not need may be absent. Deny by default: allowed only if some plugin says True and none
says False (see Context.allowed).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An authenticated user as the permission rules see it."""

    name: str
    role: str  # admin, bureau, street_officer, community_officer, state_company, utility, viewer
    street_code: str | None = None  # street officers (community officers: their community's street)
    utility: str | None = None  # utilities: water, power, heating, gas
    id: int | None = None
    community_code: str | None = None  # community officers


SYSTEM = Principal(name="system", role="admin")
