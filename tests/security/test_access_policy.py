"""Table-driven tests of the base role policy (plugins.access.decide) and of deny-by-default combining."""

from __future__ import annotations

import pytest

from geoplatform.context import Context
from geoplatform.principal import Principal
from plugins.access import decide

ADMIN = Principal("a", "admin")
BUREAU = Principal("b", "bureau")
OFFICER = Principal("o", "street_officer", street_code="150203001")
STATE = Principal("s", "state_company")
WATER = Principal("w", "utility", utility="water")
VIEWER = Principal("v", "viewer")
OWN = {"kind": "compound", "id": "c1", "street_code": "150203001"}
OTHER = {"kind": "compound", "id": "c2", "street_code": "150203003"}

CASES = [
    # (user, action, resource, expected)
    (ADMIN, "edit_compound", OTHER, True),
    (BUREAU, "manage_users", {"kind": "user"}, True),
    (BUREAU, "view_audit", {"kind": "audit"}, True),
    (VIEWER, "view", OWN, True),
    (VIEWER, "export", {"kind": "layer", "id": "compounds"}, True),
    (VIEWER, "edit_compound", OWN, False),
    (VIEWER, "edit_handover", {"kind": "handover", "facility": "water"}, False),
    (VIEWER, "view", {"kind": "audit"}, None),
    (OFFICER, "view", {"kind": "user"}, None),
    (OFFICER, "view", {"kind": "layer", "restricted": True}, None),
    (OFFICER, "edit_compound", OWN, True),
    (OFFICER, "edit_compound", OTHER, False),
    (OFFICER, "edit_compound", {**OWN, "new_street_code": "150203001"}, True),
    (OFFICER, "edit_compound", {**OWN, "new_street_code": "150203003"}, False),
    (OFFICER, "edit_compound", {**OWN, "new_street_code": None}, False),  # outside every street
    (OFFICER, "edit_compound", {"kind": "compound"}, False),
    (Principal("x", "street_officer"), "edit_compound", {"kind": "compound", "street_code": None}, False),
    (OFFICER, "import", {}, False),
    (OFFICER, "manage_users", {"kind": "user"}, False),
    (OFFICER, "view_audit", {"kind": "audit"}, False),
    (OFFICER, "decide_bundle", {"kind": "bundle", "street_code": "150203001"}, None),
    (OFFICER, "edit_handover", {"kind": "handover"}, None),
    (STATE, "edit_compound", {**OTHER, "fields": ["takeover_cost"]}, True),
    (STATE, "edit_compound", {**OTHER, "fields": ["takeover_cost", "name"]}, False),
    (STATE, "edit_compound", {**OTHER, "fields": []}, False),
    (STATE, "edit_takeover", {"kind": "takeover"}, None),
    (WATER, "edit_compound", OWN, False),
    (WATER, "edit_handover", {"kind": "handover", "facility": "gas"}, None),
    (None, "view", OWN, False),
]


@pytest.mark.parametrize(("user", "action", "resource", "expected"), CASES)
def test_base_policy(user, action, resource, expected) -> None:  # noqa: ANN001
    assert decide(user, action, resource) is expected


def test_access_plugin_is_registered_and_denies_by_default() -> None:
    c = Context.create("sqlite:///:memory:")
    assert c.pm.get_plugin("access") is not None
    assert c.allowed(OFFICER, "edit_compound", OWN) is True
    assert c.allowed(OFFICER, "edit_compound", OTHER) is False
    assert c.allowed(VIEWER, "view", {"kind": "audit"}) is False  # nobody says True → denied
    assert c.allowed(OFFICER, "no_such_action", OWN) is False
    assert c.allowed(None, "view", OWN) is False


def test_a_plugin_saying_false_overrides_the_base_policy() -> None:
    from geoplatform.hookspecs import hookimpl

    class Veto:
        @hookimpl
        def permission_allowed(self, user, action, resource):  # noqa: ANN001, ANN201
            return False if resource.get("id") == "c1" else None

    c = Context.create("sqlite:///:memory:")
    c.pm.register(Veto(), name="veto")
    assert c.allowed(ADMIN, "edit_compound", OWN) is False
    assert c.allowed(ADMIN, "edit_compound", OTHER) is True
