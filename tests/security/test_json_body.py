"""The JSON body check (web.security._json_problem): nesting limit and NUL characters, at every depth."""

from __future__ import annotations

import pytest

from web.security import MAX_JSON_DEPTH, _json_problem


def _nest(depth: int, leaf: object = 1, kind: str = "list") -> object:
    """A value whose containers nest `depth` levels (1: the leaf itself inside one container)."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


@pytest.mark.parametrize(("data", "problem"), [
    (_nest(MAX_JSON_DEPTH), None),
    (_nest(MAX_JSON_DEPTH, kind="dict"), None),
    (_nest(MAX_JSON_DEPTH + 1), "nested"),
    (_nest(MAX_JSON_DEPTH + 1, kind="dict"), "nested"),
    (_nest(MAX_JSON_DEPTH + 1, leaf=[]), "nested"),  # an empty container one level too deep still counts
    (_nest(MAX_JSON_DEPTH, leaf="text"), None),  # a text at the limit is not a container
    ({"coordinates": [[[float(i), 2.0] for i in range(5000)]]}, None),
    ("a\x00b", "NUL"),
    ({"a\x00": 1}, "NUL"),  # in a key
    ({"items": [1, 2, {"name": ["x", "y\x00"]}]}, "NUL"),
    (_nest(MAX_JSON_DEPTH - 1, leaf="deep\x00"), "NUL"),
    ([1, 2.5, None, True, "plain"], None),
    (None, None),
])
def test_json_problem(data: object, problem: str | None) -> None:
    found = _json_problem(data, MAX_JSON_DEPTH)
    assert (found is None) if problem is None else (found is not None and problem in found), found
