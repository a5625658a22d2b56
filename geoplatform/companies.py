"""Property firms by name: a compound's `company` is a key (name) of `property_company` (RULES §7).

Ledgers write a firm's name in many ways (鹿城物业 / 包头市鹿城物业服务有限公司 / 鹿城物业（包头）有限公司).
`match_company` finds the registered firm a written name means: the same name, the same name up to
spaces, punctuation and full-width forms, else the firms whose name *core* (without place prefixes
and 物业 / 服务 / 管理 / 有限公司 suffixes) equals, contains or is contained in the written one's. More
than one candidate is ambiguous (恒泰物业 may be 包头市恒泰物业服务有限公司 or 恒泰物业管理（包头）有限公司)
— the caller reports it, never guesses. Migration 0004 froze a copy of
these rules for the free-text firms it converted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

PREFIXES = ("内蒙古自治区", "内蒙古", "包头市", "包头", "昆都仑区", "昆区")
SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "分公司", "公司", "集团", "服务", "管理", "物业", "服务中心")
_PUNCT = re.compile(r"[\s()（）\[\]【】·.,，、\-—_'\"“”]+")


def name_key(text: str) -> str:
    """A firm name without spaces and punctuation, full-width folded, lower case."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def name_core(text: str) -> str:
    """The distinctive part of a firm name (包头市鹿城物业服务有限公司 → 鹿城)."""
    s = name_key(text)
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p):], True
        for x in SUFFIXES:
            if s.endswith(x) and len(s) > len(x):
                s, changed = s[:-len(x)], True
    return s


class CompanyIndex:
    """The registered firm names, indexed once for matching many written names."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = list(dict.fromkeys(names))
        self._exact = set(self.names)
        self._keys: dict[str, list[str]] = {}
        self._cores: dict[str, list[str]] = {}
        for n in self.names:
            self._keys.setdefault(name_key(n), []).append(n)
            self._cores.setdefault(name_core(n), []).append(n)

    def add(self, name: str) -> None:
        """Register one more firm (e.g. created by an import)."""
        if name not in self._exact:
            self.names.append(name)
            self._exact.add(name)
            self._keys.setdefault(name_key(name), []).append(name)
            self._cores.setdefault(name_core(name), []).append(name)

    def match(self, text: str) -> list[str]:
        """The registered names `text` may mean: one (matched), none (unknown) or several (ambiguous)."""
        text = text.strip()
        if text in self._exact:
            return [text]
        same = self._keys.get(name_key(text))
        if same:
            return list(same)
        core = name_core(text)
        if len(core) < 2:
            return list(self._cores.get(core, []))
        return sorted(n for c, ns in self._cores.items() if len(c) >= 2 and (core in c or c in core) for n in ns)


def match_company(text: str, names: Iterable[str]) -> list[str]:
    """The registered names `text` may mean (see `CompanyIndex.match`)."""
    return CompanyIndex(names).match(text)
