"""Pure rules of accounts: which names an account may have, and how long a sign-in must wait after failures.

No database, no Flask, no clock: callers pass the failures they read and `now` (tests inject it).

Sign-in back-off (replaces the 15-minute lockout, which locked the right password out and, counted per
address, locked a whole office NAT out of every account):
- three counters over the failures of the last `window_minutes`: this account from this address (the pair),
  this account from every address, this address for every account;
- each counter is free up to its bar; from there every further failure doubles a delay counted from that
  counter's latest failure: `delay_seconds`, ×2, ×4 … capped (`max_delay_seconds` for the account counters,
  the lower `max_addr_delay_seconds` for the address, so a NAT can slow everybody behind it only a little);
- an attempt made while a delay runs is refused without checking the password and is not a failure, so waiting
  is all it takes: the right password gets through at most `max_delay_seconds` after the last failure;
- a success forgets the failures of its pair only (a guesser elsewhere keeps its own count).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

NAME_MAX_LENGTH = 100  # [D] the user_account.name column
NAME_PUNCTUATION = "._-"  # [D] besides letters and digits (no '/', space, '@', ':' …: names appear in URLs and CLIs)


def normalise_name(name: str | None) -> str:
    """The name as stored: surrounding spaces dropped, Unicode NFC (é typed as e + accent is the one é)."""
    return unicodedata.normalize("NFC", (name or "").strip())


def _name_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category.startswith("L") or category == "Nd" or ch in NAME_PUNCTUATION


def name_allowed(name: str) -> bool:
    """True for a safe account name: 1–100 characters, letters of any script (汉字 included), decimal digits and
    `._-`, beginning with a letter or digit (never `.`/`..`, never an option-like `-x`)."""
    if not name or len(name) > NAME_MAX_LENGTH or name != normalise_name(name):
        return False
    return all(_name_char(ch) for ch in name) and name[0] not in NAME_PUNCTUATION


@dataclass(frozen=True)
class AuthSettings:
    """Sign-in back-off and API token lifetime: config `[rules.auth]`."""

    window_minutes: int = 60  # [D] failures older than this are forgotten
    max_per_pair: int = 5  # [D] free failures of one account from one address (typos), then delays
    max_per_name: int = 20  # [D] free failures of one account from all addresses together (guessing spread out)
    max_per_addr: int = 100  # [D] free failures from one address over all accounts (an office NAT is one address)
    delay_seconds: int = 1  # [D] the first delay; it doubles with each further failure
    # [D] the longest an account waits after its last failure (≤ 60 guesses an hour per account: OWASP ASVS 2.2.1
    # asks for at most 100), so the right password is never kept out longer than this
    max_delay_seconds: int = 60
    max_addr_delay_seconds: int = 10  # [D] the longest a whole address (everybody behind one NAT) waits
    token_lifetime_days: int = 180  # [D] an API token is refused this many days after it was issued

    @property
    def window(self) -> dt.timedelta:
        """The counting window as a timedelta."""
        return dt.timedelta(minutes=self.window_minutes)

    @property
    def token_lifetime(self) -> dt.timedelta:
        """The lifetime of a newly issued API token."""
        return dt.timedelta(days=self.token_lifetime_days)

    @classmethod
    def from_rules(cls, overrides: dict) -> AuthSettings:
        """Defaults overridden by config `[rules.auth]` (unknown keys ignored; values must be whole numbers ≥ 1)."""
        values = {k: int(v) for k, v in overrides.items() if k in cls.__dataclass_fields__}
        bad = sorted(k for k, v in values.items() if v < 1)
        if bad:
            raise ValueError(f"[rules.auth] {', '.join(bad)} must be at least 1")
        return cls(**values)


def backoff(failures: int, free: int, base_s: int, cap_s: int) -> dt.timedelta:
    """The delay after `failures` failures of one counter: none below `free`, then base, 2×base, 4×base … ≤ cap."""
    if failures < free:
        return dt.timedelta(0)
    exponent = min(failures - free, 32)  # 2**32 s is past any cap already
    return dt.timedelta(seconds=min(base_s * 2 ** exponent, cap_s))


def _wait(times: list[dt.datetime], free: int, settings: AuthSettings, cap_s: int, now: dt.datetime) -> dt.timedelta:
    if not times:
        return dt.timedelta(0)
    until = max(times) + backoff(len(times), free, settings.delay_seconds, cap_s)
    return max(until - now, dt.timedelta(0))


def sign_in_wait(name_failures: Iterable[tuple[str | None, dt.datetime]], addr_failures: Iterable[dt.datetime],
                 addr: str | None, now: dt.datetime, settings: AuthSettings = AuthSettings()) -> dt.timedelta:
    """How long a sign-in to one account from `addr` must wait (0: check the password now).

    `name_failures`: (address, time) of this account's failures; `addr_failures`: times of this address's failures
    over all accounts (both may hold older ones: only the window counts; an unknown address has no pair/address)."""
    since = now - settings.window
    by_name = [(a, at) for a, at in name_failures if at > since]
    waits = [_wait([at for _, at in by_name], settings.max_per_name, settings, settings.max_delay_seconds, now)]
    if addr:
        pair = [at for a, at in by_name if a == addr]
        waits.append(_wait(pair, settings.max_per_pair, settings, settings.max_delay_seconds, now))
        recent = [at for at in addr_failures if at > since]
        waits.append(_wait(recent, settings.max_per_addr, settings, settings.max_addr_delay_seconds, now))
    return max(waits)
