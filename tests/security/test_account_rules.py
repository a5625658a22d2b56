"""geoplatform.account_rules: safe account names and the sign-in back-off (pure, the clock injected; issue 25 #6)."""

from __future__ import annotations

import datetime as dt

import pytest

from geoplatform.account_rules import AuthSettings, backoff, name_allowed, normalise_name, sign_in_wait

NOW = dt.datetime(2026, 3, 1, 9, 0, 0)
S = AuthSettings()  # the defaults: pair 5, name 20, address 100 free; 1 s doubling to 60 s (address: 10 s)


@pytest.mark.parametrize(("name", "ok"), [
    ("admin", True), ("officer_150203001", True), ("zhang.wei-2", True), ("张伟", True), ("王_1", True),
    ("Ölçü", True), ("a" * 100, True), ("7eleven", True),
    ("", False), ("a" * 101, False), ("a/b", False), ("../admin", False), (".", False), ("..", False),
    ("-rf", False), ("_x", False), ("a b", False), ("a\tb", False), ("a@b", False), ("a:b", False),
    ("a?b", False), ("a#b", False), ("a%2Fb", False), ("a\\b", False), ("张 伟", False), ("name\x00", False),
    ("x\u200by", False),  # zero-width space: looks like "xy"
    ("²", False),  # a superscript is no decimal digit
    ("e\u0301", False),  # not NFC: stored as "é" (see normalise_name)
])
def test_account_names(name: str, ok: bool) -> None:
    assert name_allowed(name) is ok


def test_names_are_stored_trimmed_and_nfc() -> None:
    assert normalise_name("  e\u0301a ") == "\u00e9a" and name_allowed(normalise_name("  e\u0301a "))


@pytest.mark.parametrize(("failures", "free", "expected_s"), [
    (0, 5, 0), (4, 5, 0), (5, 5, 1), (6, 5, 2), (7, 5, 4), (10, 5, 32), (11, 5, 60), (500, 5, 60),
])
def test_backoff_doubles_from_the_bar_up_to_the_cap(failures: int, free: int, expected_s: int) -> None:
    assert backoff(failures, free, 1, 60) == dt.timedelta(seconds=expected_s)


def _ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


A, B, NAT = "10.0.0.1", "10.0.0.2", "100.64.0.1"

CASES = [
    # (case, failures of the account [(address, seconds ago)], failures of the address [seconds ago], address, wait s)
    ("nothing failed", [], [], A, 0),
    ("four typos: free", [(A, 1)] * 4, [1] * 4, A, 0),
    ("five typos: one second", [(A, 0)] * 5, [0] * 5, A, 1),
    ("five typos, a second later: free again", [(A, 1)] * 5, [1] * 5, A, 0),
    ("eight from here: eight seconds from the last", [(A, 3)] * 8, [3] * 8, A, 5),
    ("a guesser elsewhere does not slow this address", [(B, 0)] * 19, [], A, 0),
    ("the pair's bar does not apply to another address", [(B, 0)] * 12, [], A, 0),
    ("twenty from everywhere: the account waits a second", [(B, 0)] * 10 + [(f"10.1.0.{i}", 0) for i in range(10)],
     [], A, 1),
    ("a flood of failures: never more than a minute", [(B, 0)] * 5000, [], A, 60),
    ("a flood of failures a minute ago: the right password gets in", [(B, 60)] * 5000, [], A, 0),
    ("this pair flooded: still at most a minute", [(A, 10)] * 300, [10] * 300, A, 50),
    ("failures older than the window are forgotten", [(A, 3601)] * 300, [3601] * 300, A, 0),
    ("a NAT's 150 failures on other accounts: a few seconds for a colleague", [], [2] * 150, NAT, 8),
    ("the NAT's failures 10 s ago: nothing", [], [10] * 150, NAT, 0),
    ("99 from one address on other accounts: free", [], [0] * 99, NAT, 0),
    ("no address known: only the account counter", [(None, 0)] * 19, [0] * 500, None, 0),
    ("no address known, 20 failures", [(None, 0)] * 20, [], None, 1),
]


@pytest.mark.parametrize(("case", "by_name", "by_addr", "addr", "wait_s"), CASES, ids=[c[0] for c in CASES])
def test_sign_in_wait(case: str, by_name: list, by_addr: list, addr: str | None, wait_s: float) -> None:
    wait = sign_in_wait([(a, _ago(s)) for a, s in by_name], [_ago(s) for s in by_addr], addr, NOW, S)
    assert wait == dt.timedelta(seconds=wait_s), case


def test_the_right_password_is_never_kept_out_longer_than_the_cap() -> None:
    """Whatever an attacker did before, one cap after the last failure the account is open: nothing locks it."""
    flood = [(f"10.{i % 250}.0.{i % 200}", _ago(0)) for i in range(10_000)]
    for settings in (S, AuthSettings(max_delay_seconds=300, max_addr_delay_seconds=30)):
        cap = dt.timedelta(seconds=settings.max_delay_seconds)
        assert sign_in_wait(flood, [], A, NOW, settings) == cap
        assert sign_in_wait(flood, [_ago(0)] * 10_000, A, NOW + cap, settings) == dt.timedelta(0)


def test_settings_from_the_config_and_their_bounds() -> None:
    s = AuthSettings.from_rules({"max_per_pair": "3", "max_delay_seconds": 120, "unknown": 1})
    assert (s.max_per_pair, s.max_delay_seconds, s.max_per_name) == (3, 120, 20)
    with pytest.raises(ValueError, match="max_delay_seconds"):
        AuthSettings.from_rules({"max_delay_seconds": 0})
