"""`geoplatform charging evaluate FILE|- | --stored [--street S] [--json]`."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from geoplatform.cli import UserError, emit, get_context, print_table, require_schema, resolve_street
from geoplatform.i18n import t
from geoplatform.labels import label
from plugins.charging.rules import DECISION_ORDER, evaluate_garage, flag_note, validate_records
from plugins.charging.settings import ChargingSettings, settings_for


@click.group("charging")
def charging() -> None:
    """充电桩安装条件 — EV charging-pile eligibility of garages (GB/T 51313-2018, RULES §3)."""


def _read_json(path: str) -> Any:
    name = "stdin" if path == "-" else path
    try:
        if path == "-":
            stream = sys.stdin
            raw = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
            text = raw.decode("utf-8-sig")
        else:
            with open(path, "rb") as fh:
                text = fh.read().decode("utf-8-sig")
    except OSError as exc:
        raise UserError(f"{name}: cannot read the file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc


def _settings(ctx: click.Context) -> tuple[ChargingSettings, str]:
    c = get_context(ctx)
    try:
        return settings_for(c), c.config.language
    except (ValueError, TypeError) as exc:
        raise UserError(f"configuration [rules.charging]: {exc}") from exc


def _limits(s: ChargingSettings, lang: str) -> str:
    """The GB 50067 limit of each garage type, e.g. "地下车库 2000 m²、半地下车库 2500 m²"."""
    return ("、" if lang == "zh" else ", ").join(f"{label('garage_type', k, lang)} {v:g} m²"
                                                for k, v in s.gb50067_limits_m2.items())


def _types(s: ChargingSettings, lang: str) -> str:
    """The garage types the plan's exception (R6) reaches."""
    return ("、" if lang == "zh" else ", ").join(label("garage_type", k, lang) for k in s.exception_garage_types)


def _thresholds_line(s: ChargingSettings, lang: str) -> str:
    if lang == "zh":
        return (f"采用的阈值：标准实施日期 {s.standard_date.isoformat()}（之前竣工为既有车库）；防火分区 {s.compartment_threshold_m2:g} m²；"
                f"防火单元不超过 {s.fire_unit_max_m2:g} m²；GB 50067 防火分区限值 {_limits(s, 'zh')}"
                f"（自动喷水灭火系统正常时 ×{s.gb50067_sprinkler_factor:g}）；例外规定适用于 {_types(s, 'zh')}；"
                f"不建议楼层：地下{-s.lowest_floor_limit}层及以下")
    return (f"Thresholds: standard in force {s.standard_date.isoformat()}; fire compartment {s.compartment_threshold_m2:g} m²; "
            f"fire unit at most {s.fire_unit_max_m2:g} m²; GB 50067 compartment limit {_limits(s, 'en')} "
            f"(×{s.gb50067_sprinkler_factor:g} with working sprinklers); exception for {_types(s, 'en')}; not recommended: B{-s.lowest_floor_limit} "
            "and below")


def _print_human(rows: list[dict[str, Any]], s: ChargingSettings, lang: str, with_compound: bool) -> None:
    """A readable table, then every decision explained in full sentences, then totals."""
    title = "充电桩安装条件评估（GB/T 51313-2018）" if lang == "zh" else "EV charging eligibility (GB/T 51313-2018)"
    click.echo(f"{title}：{len(rows)}" + (" 个车库" if lang == "zh" else " garages"))
    click.echo(_thresholds_line(s, lang))
    click.echo("")
    table = []
    for r in rows:
        table.append({
            "id": r["id"], "compound": r.get("compound_name"),
            "garage_type": label("garage_type", r.get("garage_type"), lang),
            "decision": label("charging_decision", r["decision"], lang) if r["decision"] else
            ("数据不全" if lang == "zh" else "incomplete data"),
            "rule": r["rule"] or "-",
            "flags": ("、" if lang == "zh" else ", ").join(label("charging_flag", f, lang) for f in r["flags"]),
        })
    cols = [("id", t("charging.col.id", lang))]
    if with_compound:
        cols.append(("compound", t("charging.col.compound", lang)))
    cols += [(k, t(f"charging.col.{k}", lang)) for k in ("garage_type", "decision", "rule", "flags")]
    print_table(table, cols)
    click.echo("")
    click.echo("逐个说明：" if lang == "zh" else "Explanations:")
    for r in rows:
        head = f"{r['id']}" + (f"（{r['compound_name']}）" if with_compound and r.get("compound_name") else "")
        if r["decision"] is None:
            click.echo(f"{head} — {'数据不全，无法评估' if lang == 'zh' else 'incomplete data, not evaluated'}")
            for p in r.get("problems", []):
                click.echo(f"    · {p}")
            continue
        verdict = label("charging_decision", r["decision"], lang)
        click.echo(f"{head} — {verdict}" + (f"（规则 {r['rule']}）" if lang == "zh" else f" (rule {r['rule']})"))
        for reason in r["reasons"]:
            click.echo(f"    · {reason[lang]}")
        for flag in r["flags"]:
            note = flag_note(flag, r)
            click.echo(f"    ▸ {getattr(note, lang)}")
    counts = {d: sum(1 for r in rows if r["decision"] == d) for d in DECISION_ORDER}
    parts = [f"{label('charging_decision', d, lang)} {n}" for d, n in counts.items() if n]
    invalid = sum(1 for r in rows if r["decision"] is None)
    if invalid:
        parts.append(("数据不全 " if lang == "zh" else "incomplete ") + str(invalid))
    click.echo("")
    click.echo(("合计：" if lang == "zh" else "Total: ") + ("，" if lang == "zh" else ", ").join(parts or ["0"]))


def _fields_help() -> str:
    """The record format, in Chinese, for `evaluate --help`."""
    from geoplatform.models import FIRE_FACILITY_FIELDS
    from plugins.charging.messages import FIELD_LABELS
    from plugins.charging.rules import ENUM_FIELDS, NULLABLE_FIELDS, REQUIRED_FIELDS

    notes = {
        "id": "文本或整数，不可重复", "lowest_charging_floor": "整数：0 = 地面层，-1 = 地下1层（B1），-4 = B4",
        "completion_date": "YYYY-MM-DD", "fire_compartment_area_m2": "数字，不小于0",
        "fire_unit_area_m2": "数字或 null（未划分）", "meets_other_clauses": "true / false / null（未核实）",
        "capacity_ok": "true / false / null（不清楚）",
    }
    lines = ["Evaluate garages: FILE is a JSON list of garage records ('-' = stdin), or --stored for the",
             "garages in the database (management_mode then comes from the garage's compound).", "",
             "评估车库能否安装充电桩（GB/T 51313-2018 与行动方案，RULES §3），逐个说明理由。", "",
             "\b", "每条记录的字段（可选字段可以省略，视为 null）:"]
    for f in (*REQUIRED_FIELDS, *NULLABLE_FIELDS):
        if f in ENUM_FIELDS:
            enum = "fire_facility_state" if f in FIRE_FACILITY_FIELDS else f
            note = ", ".join(f"{v} {label(enum, v)}" for v in ENUM_FIELDS[f])
        else:
            note = notes.get(f, "")
        optional = "（可选）" if f in NULLABLE_FIELDS else ""
        lines.append(f"  {f:<26} {FIELD_LABELS[f]}{optional}: {note}")
    return "\n".join(lines)


@charging.command("evaluate", help=_fields_help())
@click.argument("file", required=False)
@click.option("--stored", is_flag=True, help="Evaluate the garages in the database instead of a file.")
@click.option("--street", default=None, help="With --stored: only this street (NBS code or name).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def evaluate_cmd(ctx: click.Context, file: str | None, stored: bool, street: str | None, as_json: bool) -> None:
    if stored and file:
        raise UserError("give either FILE or --stored, not both")
    if not stored and not file:
        raise UserError("give a JSON file of garage records (or '-' for stdin), or --stored")
    if street and not stored:
        raise UserError("--street works only with --stored")
    settings, lang = _settings(ctx)
    if stored:
        rows = _stored_rows(ctx, street, settings)
    else:
        rows = _file_rows(file, settings)
    if as_json:
        keys = None if stored else ("id", "decision", "rule", "reasons", "flags")
        emit([{k: r[k] for k in keys} if keys else r for r in rows], True)
    else:
        _print_human(rows, settings, lang, with_compound=stored)


def _file_rows(file: str, settings: ChargingSettings) -> list[dict[str, Any]]:
    records = _read_json(file)
    name = "stdin" if file == "-" else file
    problems = validate_records(records)
    if problems:
        for p in problems if len(problems) > 1 else ():  # a single problem is the error line itself
            click.echo(f"{name}: {p}", err=True)
        bad = len({p.record for p in problems})
        raise UserError(f"{name}: {len(problems)} problem(s) in {bad} record(s), nothing evaluated; first: {problems[0]}")
    rows = []
    for rec in records:
        d = evaluate_garage(rec, settings).as_dict(rec["id"])
        rows.append({**d, "garage_type": rec["garage_type"], "management_mode": rec["management_mode"]})
    return rows


def _stored_rows(ctx: click.Context, street: str | None, settings: ChargingSettings) -> list[dict[str, Any]]:
    from plugins.charging.stored import evaluate_records, load_garages

    c = get_context(ctx)
    require_schema(c)
    street_code = resolve_street(c, street) if street else None
    with c.session(readonly=True) as s:
        records = load_garages(s, street_code)
    return evaluate_records(records, settings)
