"""`geoplatform import`: read, check everything, then write in one transaction (or nothing at all).

The orchestration of one import: open the file (`readers`), map its columns (`fields`), run the
steps over one `ImportJob` — geometries (`geometry_checks`), values (`values`), references and keys
(`references`), a plugin kind's own rules — and, only when nothing was refused, write the rows
(`writer`) in the same transaction; `--dry-run` counts instead. Every problem is in the report.
"""

from __future__ import annotations

import gc as cyclic_gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.exc import DataError, IntegrityError

from geoplatform.crs import CRSProblem, parse_crs
from geoplatform.errors import UserInputError
from geoplatform.i18n import Message
from geoplatform.io import geometry_checks, references, values, writer
from geoplatform.io.fields import KINDS, SPECS, map_columns, normalise_header, register_known_headers
from geoplatform.io.job import ImportJob, Progress
from geoplatform.io.kinds import ImportKind, RowProblem
from geoplatform.io.limits import DEFAULT_LIMITS, FileProblem, Limits
from geoplatform.io.readers import open_table
from geoplatform.io.report import ImportFailed, ImportReport
from geoplatform.textpolicy import NUL, has_nul

__all__ = ["ImportFailed", "ImportJob", "ImportReport", "check_rows", "gc_paused", "import_file", "import_kinds"]

log = logging.getLogger(__name__)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one import.

    An import allocates a few container objects per row and frees them by reference counting; the
    cyclic collector would otherwise rescan every live object (in a long-lived server, all of them)
    many times over a large file. It is re-enabled, and nothing else changes, when the import ends.
    """
    was_enabled = cyclic_gc.isenabled()
    cyclic_gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            cyclic_gc.enable()


def import_file(context: Any, kind: str, path: str | Path, *, crs: str | None = None, sheet: str | None = None,
                layer: str | None = None, encoding: str | None = None, repair: bool = False, upsert: bool = False,
                dry_run: bool = False, user: str = "system", progress: Progress | None = None,
                limits: Limits = DEFAULT_LIMITS, street_from_location: bool = False,
                surface: str = "cli") -> ImportReport:
    """Import one file of KIND; raises ImportFailed (database untouched) when any problem is found.

    `street_from_location`: a compound whose point lies in another street than the one its row gives takes
    that street (else the rows are listed in a warning). `surface` ("cli" | "web") says how messages name the
    options (`--upsert` or the import page's checkbox).
    """
    path = Path(path)
    spec = None
    if kind not in KINDS:
        plugin_kinds = import_kinds(context)
        if kind not in plugin_kinds:
            raise UserInputError("import.kind.unknown", kind=kind, choices=", ".join([*KINDS, *plugin_kinds]))
        spec = plugin_kinds[kind]
    report = ImportReport(kind=kind, file=path.name, dry_run=dry_run, surface=surface)
    try:
        source = parse_crs(crs) if crs else None
    except CRSProblem as exc:
        report.error(Message("import.where.crs_option"), exc.message)
        raise ImportFailed(report) from exc
    try:
        with gc_paused(), open_table(path, layer=layer, sheet=sheet, encoding=encoding, limits=limits) as table:
            for w in table.warnings:
                report.warn(w)
            for where, why in table.problems:
                report.error(where, why)
            with context.session(readonly=dry_run) as session:
                job = ImportJob(context, session, kind, table, report, source, repair, upsert, progress, limits, spec,
                                street_from_location=street_from_location, surface=surface)
                check_rows(job)
                if not report.ok:
                    raise ImportFailed(report)
                if dry_run:
                    writer.count_rows(job)
                else:
                    writer.write_rows(job, user)
    except FileProblem as exc:
        report.error(path.name, exc.message)
        raise ImportFailed(report) from exc
    except (IntegrityError, DataError) as exc:  # e.g. a concurrent writer inserted the same id meanwhile
        report.error(path.name, "import.db.refused", detail=str(exc.orig).splitlines()[0])
        raise ImportFailed(report) from exc
    return report


def import_kinds(context: Any) -> dict[str, ImportKind]:
    """The import kinds plugins add (`register_import_kinds`), by name; their headers join the known ones."""
    from geoplatform.pluginmanager import call_safely

    out: dict[str, ImportKind] = {}
    for plugin, kinds in call_safely(context.pm, "register_import_kinds", context=context):
        for k in kinds or ():
            if k.name in KINDS or k.name in out:
                log.warning("plugin %s: import kind %r already exists; ignored", plugin, k.name)
                continue
            out[k.name] = k
            register_known_headers(normalise_header(a) for f in k.fields for a in (f.name, *f.aliases))
    return out


def check_rows(job: ImportJob) -> None:
    """Every check, in order; problems go to the report, nothing is written."""
    t, r = job.t, job.r
    if job.n == 0:
        r.error(t.name, "import.no_rows")
        return
    _refuse_nul(job)
    mapping, ignored = map_columns(job.kind, [str(c) for c in t.frame.columns], job.fields())
    job.mapping = mapping
    job.col_of = {f: c for c, f in mapping.items()}
    if ignored:
        r.warn("import.warn.columns_ignored", file=t.name, columns=", ".join(map(str, ignored)))
    for f in (job.spec.fields if job.spec else SPECS[job.kind][1]):
        if f.required and f.name not in job.col_of:
            r.error(t.name, "import.required_column", field=f.name, headers=", ".join(f.aliases[:6]))
    if not r.ok:
        return
    if job.spec is None:
        geometry_checks.check_geometries(job)
    values.parse_columns(job)
    references.resolve_references(job)
    references.check_keys(job)
    if job.spec is not None and job.spec.check is not None and r.ok:
        _plugin_check(job)


def _refuse_nul(job: ImportJob) -> None:
    """One text policy for both databases (`geoplatform.textpolicy`): a cell or column name holding a NUL
    character is an error naming it, on either database and in a dry run as in the commit."""
    t = job.t
    for c in t.frame.columns:
        if has_nul(str(c)):
            job.r.error(t.name, "import.text.nul_header")
        col = t.frame[c]
        if col.dtype != object:
            continue
        values = col.to_numpy()
        try:  # the usual column (text and blanks): one scan in C; only a column holding a NUL is looked at per cell
            if NUL not in "".join(filter(None, values)):
                continue
        except TypeError:  # numbers, lists or dicts among the cells: per cell
            pass
        flagged = np.fromiter(((NUL in v) if type(v) is str else isinstance(v, dict | list) and has_nul(v)
                               for v in values), dtype=bool, count=len(col))
        for i in np.flatnonzero(flagged):
            job.r.error(t.where(int(i), str(c)), "import.text.nul")
            job.ok_rows[i] = False


def _plugin_check(job: ImportJob) -> None:
    """The plugin's rules over the parsed rows (RowProblem → an error naming the row and column)."""
    problems: list[RowProblem] = job.spec.check(job.s, job.rows, job.context) or []
    for p in problems:
        job.r.error(job.t.where(p.index, job.col_of.get(p.field) if p.field else None), p.message)
        job.ok_rows[p.index] = False
