"""Pinyin keys of Chinese names for search: initials ("xxl" for 新兴路) and full pinyin ("xinxinglu").

Readings come from pypinyin's dictionary (the maintained standard for Han → pinyin in Python), taken
per character with every reading of a heteronym (行 → xing/hang, 长 → chang/zhang), so "yhjsy"
finds 银行家属院 although 行 alone is read xíng. A name's keys are every combination of its
characters' readings, capped (beyond the cap, each character's most common reading only). Keys are
lower-case ASCII; letters and digits in a name are kept as they are.
"""

from __future__ import annotations

import functools
import itertools
import re

MAX_INITIALS = 16  # initials strings kept per name (heteronyms multiply them)
MAX_SPELLINGS = 8  # full spellings kept per name
_ASCII = re.compile(r"[a-z0-9]")
QUERY_RE = re.compile(r"^[a-z0-9\s']+$")


@functools.lru_cache(maxsize=65536)
def _readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one character (most common first); the character itself when none."""
    if _ASCII.match(char):
        return (char,)
    if not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"):
        return ("",)  # punctuation, spaces: not part of the keys
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    readings = tuple(dict.fromkeys(r for r in (found[0] if found else []) if r))
    return readings or ("",)


@functools.lru_cache(maxsize=65536)
def pinyin_keys(text: str) -> tuple[str, ...]:
    """Search keys of `text`: its initials and its full pinyin, for the combinations of its characters'
    readings (at most MAX_INITIALS initials strings, MAX_SPELLINGS full spellings; the most common
    reading of each character always among them)."""
    options = [_readings(c) for c in (text or "").casefold() if c.strip()]
    initials = [tuple(dict.fromkeys(r[:1] for r in o))[:2] for o in options]
    spellings = [o[:2] for o in options]
    keys: dict[str, None] = {}
    for combo in itertools.islice(itertools.product(*initials), MAX_INITIALS):
        keys.setdefault("".join(combo))
    keys.setdefault("".join(o[0] for o in spellings))
    for combo in itertools.islice(itertools.product(*spellings), MAX_SPELLINGS):
        keys.setdefault("".join(combo))
    return tuple(k for k in keys if k)


def is_pinyin_query(q: str) -> bool:
    """True for a query that can be pinyin: ASCII letters (digits, spaces and apostrophes allowed)."""
    return bool(q) and bool(QUERY_RE.match(q.casefold())) and any(c.isalpha() for c in q)


def normalise_query(q: str) -> str:
    """A pinyin query as its key form: lower case, no spaces or apostrophes."""
    return re.sub(r"[\s']+", "", q.casefold())
