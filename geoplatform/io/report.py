"""The import report: every problem with where it is, warnings, counts (texts in English and Chinese)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geoplatform.i18n import Message, has, in_lang
from geoplatform.io import messages  # noqa: F401 - registers the texts

MAX_LISTED = 2000  # problems listed in one report; the rest are counted


@dataclass
class ImportProblem:
    """One problem: where (file, row/feature, column/field) and what; both str (English) or Message."""

    where: str
    message: str

    def where_text(self, lang: str) -> str:
        """Where, in `lang`."""
        return in_lang(self.where, lang)

    def text(self, lang: str) -> str:
        """What, in `lang`."""
        return in_lang(self.message, lang)


def _message(message: str, params: dict[str, Any]) -> str:
    """A Message given as one, or built from a catalogue key and params."""
    return message if isinstance(message, Message) else Message(message, **params)


@dataclass
class ImportReport:
    """What an import did or would do; `errors` non-empty means nothing was written."""

    kind: str
    file: str
    imported: int = 0
    inserted: int = 0
    updated: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)  # Messages: the str is English
    errors: list[ImportProblem] = field(default_factory=list)
    dropped_errors: int = 0
    surface: str = "cli"  # "cli" | "web": where the report is read (the page's variant of advice naming a flag)

    def error(self, where: str, message: str, **params: Any) -> None:
        """Record a problem: a Message, or a catalogue key and params (all kept up to MAX_LISTED, then counted)."""
        if len(self.errors) < MAX_LISTED:
            self.errors.append(ImportProblem(where, _message(message, params)))
        else:
            self.dropped_errors += 1

    def warn(self, message: str, **params: Any) -> None:
        """Record a warning once: a Message, or a catalogue key and params."""
        message = _message(message, params)
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """The --json document, texts in `lang`; each error also carries its message `key` and `params`."""
        errors = [{"where": in_lang(for_surface(e.where, self.surface), lang), "message": in_lang(shown, lang),
                   **_key_params(shown)}
                  for e in self.errors for shown in [for_surface(e.message, self.surface)]]
        if self.dropped_errors:
            more = Message("import.more_problems", n=self.dropped_errors)
            errors.append({"where": self.file, "message": more.text(lang), **_key_params(more)})
        return {"kind": self.kind, "file": self.file, "imported": self.imported if self.ok else 0,
                "inserted": self.inserted, "updated": self.updated, "dry_run": self.dry_run,
                "warnings": [in_lang(for_surface(w, self.surface), lang) for w in self.warnings], "errors": errors}

    def summary_line(self) -> str:
        """One line for stderr naming the first problem and how many there are."""
        if self.ok:
            return f"{self.kind}: {self.imported} imported"
        first = self.errors[0]
        more = len(self.errors) + self.dropped_errors - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''}; --json lists all)" if more else ""
        return f"{first.where}: {first.message}{tail} — 未导入任何数据 / nothing was imported"


def for_surface(message: Any, surface: str) -> Any:
    """The message as read on `surface`: on the web page, a `<key>.web` variant (naming the form's field, not a
    command-line flag) where the catalogue has one, nested messages likewise."""
    if surface == "cli" or not isinstance(message, Message):
        return message
    key = f"{message.key}.{surface}"
    return Message(key if has(key) else message.key,
                   **{k: for_surface(v, surface) for k, v in message.params.items()})


def _key_params(message: str) -> dict[str, Any]:
    return message.to_json() if isinstance(message, Message) else {}


class ImportFailed(Exception):
    """The import was refused; the report lists every problem and the database is unchanged."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.summary_line())
        self.report = report
