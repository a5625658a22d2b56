"""Translation catalogues (zh-CN default, en): user-facing text never lives in domain logic."""

from __future__ import annotations

LANGUAGES = ("zh", "en")
_CATALOGUES: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def add_messages(messages: dict[str, dict[str, str]]) -> None:
    """Register messages: {"zh": {key: text}, "en": {key: text}} (a package calls this at import)."""
    for lang, entries in messages.items():
        _CATALOGUES.setdefault(lang, {}).update(entries)


def t(key: str, lang: str = "zh", **kwargs: object) -> str:
    """The text for `key` in `lang` (falls back to zh, then to the key), formatted with kwargs."""
    text = _CATALOGUES.get(lang, {}).get(key) or _CATALOGUES["zh"].get(key) or key
    return text.format(**kwargs) if kwargs else text


def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language (zh entries fill gaps), e.g. for the browser."""
    return {**_CATALOGUES["zh"], **_CATALOGUES.get(lang, {})}
