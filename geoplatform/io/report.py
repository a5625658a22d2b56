"""The import report: every problem with where it is, warnings, counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_LISTED = 2000  # problems listed in one report; the rest are counted


@dataclass
class ImportProblem:
    """One problem: where (file, row/feature, column/field) and what."""

    where: str
    message: str


@dataclass
class ImportReport:
    """What an import did or would do; `errors` non-empty means nothing was written."""

    kind: str
    file: str
    imported: int = 0
    inserted: int = 0
    updated: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)
    dropped_errors: int = 0

    def error(self, where: str, message: str) -> None:
        """Record a problem (all are kept up to MAX_LISTED, then counted)."""
        if len(self.errors) < MAX_LISTED:
            self.errors.append(ImportProblem(where, message))
        else:
            self.dropped_errors += 1

    def warn(self, message: str) -> None:
        """Record a warning once."""
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """The --json document."""
        errors = [{"where": e.where, "message": e.message} for e in self.errors]
        if self.dropped_errors:
            errors.append({"where": self.file, "message": f"… and {self.dropped_errors} more problems not listed"})
        return {"kind": self.kind, "file": self.file, "imported": self.imported if self.ok else 0,
                "inserted": self.inserted, "updated": self.updated, "dry_run": self.dry_run,
                "warnings": list(self.warnings), "errors": errors}

    def summary_line(self) -> str:
        """One line for stderr naming the first problem and how many there are."""
        if self.ok:
            return f"{self.kind}: {self.imported} imported"
        first = self.errors[0]
        more = len(self.errors) + self.dropped_errors - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''}; --json lists all)" if more else ""
        return f"{first.where}: {first.message}{tail} — 未导入任何数据 / nothing was imported"


class ImportFailed(Exception):
    """The import was refused; the report lists every problem and the database is unchanged."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.summary_line())
        self.report = report
