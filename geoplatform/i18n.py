"""Translation catalogues (zh-CN default, en): user-facing text never lives in domain logic."""

from __future__ import annotations

from typing import Any

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


def has(key: str) -> bool:
    """True when `key` is in the catalogues."""
    return key in _CATALOGUES["zh"] or key in _CATALOGUES.get("en", {})


def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language (zh entries fill gaps), e.g. for the browser."""
    return {**_CATALOGUES["zh"], **_CATALOGUES.get(lang, {})}


class Localized:
    """A parameter value given per language (e.g. a list of choices), rendered with the message holding it."""

    def __init__(self, **by_lang: str) -> None:
        self.by_lang = by_lang

    def text(self, lang: str) -> str:
        """The value in `lang` (English when that language is missing)."""
        return self.by_lang.get(lang, self.by_lang.get("en", ""))

    def __str__(self) -> str:
        return self.text("en")


class Message(str):
    """Text recorded as a catalogue key + params: the str is the English rendering, `text(lang)` any language.

    A str subclass so that code treating messages as plain (English) strings keeps working. Params that
    are themselves a Message or Localized are rendered in the same language.
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> Message:
        """The message `key` with `params` (a key missing from the catalogues renders as itself)."""
        obj = super().__new__(cls, render(key, "en", params))
        obj.key, obj.params = key, params
        return obj

    def text(self, lang: str) -> str:
        """This message in `lang`."""
        return render(self.key, lang, self.params)

    def to_json(self) -> dict[str, Any]:
        """{"key", "params"} with nested messages as the same kind of object (for clients that translate)."""
        return {"key": self.key, "params": {k: _json_param(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """The message of `to_json`'s document (nested {"key", "params"} objects become messages again)."""
        params = {k: cls.from_json(v) if isinstance(v, dict) and set(v) == {"key", "params"} else v
                  for k, v in (data.get("params") or {}).items()}
        return cls(str(data["key"]), **params)


def render(key: str, lang: str, params: dict[str, Any]) -> str:
    """Format `key`'s text in `lang` with params, rendering Message/Localized params in that language."""
    return t(key, lang, **{k: in_lang(v, lang) for k, v in params.items()})


def in_lang(value: Any, lang: str) -> Any:
    """A Message or Localized value in `lang`; anything else unchanged."""
    return value.text(lang) if isinstance(value, Message | Localized) else value


def _json_param(v: Any) -> Any:
    if isinstance(v, Message):
        return v.to_json()
    if isinstance(v, Localized):
        return v.text("en")
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    return v if isinstance(v, int | float | str | bool) or v is None else str(v)


class MessageError(ValueError):
    """A ValueError whose text is a Message: str(exc) is English, `exc.message.text(lang)` any language."""

    def __init__(self, key: str, **params: Any) -> None:
        self.message = key if isinstance(key, Message) else Message(key, **params)
        super().__init__(self.message)
