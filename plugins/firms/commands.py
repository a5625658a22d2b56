"""`geoplatform firms check | rank | publish | blacklist | grade` (RULES §7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from geoplatform.cli import UserError, acting_principal, emit, get_context, print_table, require_schema
from geoplatform.errors import UserInputError
from geoplatform.i18n import t
from plugins.firms import service
from plugins.firms.settings import FirmsSettings, settings_for


def _settings(c: Any) -> FirmsSettings:
    try:
        return settings_for(c)
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from exc


def _today(c: Any, today: dt.datetime | None) -> dt.date:
    return today.date() if today else c.today


def _fail(exc: UserInputError, lang: str) -> UserError:
    return UserError(exc.message.text(lang))


def register(cli: click.Group) -> None:
    """Add the `firms` command group."""

    @cli.group("firms")
    def firms() -> None:
        """物业服务企业监管：合同与备案、季度好评榜/差评榜、信用准入、收费公示（RULES §7）。"""

    register_contracts(firms)

    @firms.command("check")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge as of this day.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def check_cmd(ctx: click.Context, today: dt.datetime | None, as_json: bool) -> None:
        """Findings: blacklisted firms' compounds, expiring/expired contracts, missing filings and disclosures."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        day = _today(c, today)
        with c.session(readonly=True) as sess:
            data = service.check_payload(c, sess, day, s)
        lang = c.config.language

        def human(d: dict[str, Any]) -> None:
            rows = [{**f, "what": t(f"firms.finding.{f['code']}", lang),
                     "filing_label": t(f"firms.filing.{f['filing']}", lang) if f.get("filing") else ""}
                    for f in d["findings"]]
            print_table(rows, [("compound_id", t("firms.col.compound", lang)), ("what", t("firms.col.finding", lang)),
                               ("company", t("firms.col.company", lang)), ("contract_id", t("firms.col.contract", lang)),
                               ("filing_label", t("firms.col.filing", lang)), ("period", t("firms.col.period", lang))])
            click.echo(t("firms.check.summary", lang, today=d["today"], n=len(d["findings"]),
                         expiring=s.expiring_days, urgent=s.expiring_urgent_days, days=s.disclosure_min_days,
                         start=s.disclosure_start))

        emit(data, as_json, human)

    @firms.command("rank")
    @click.option("--quarter", required=True, help="The quarter, e.g. 2025Q1.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def rank_cmd(ctx: click.Context, quarter: str, as_json: bool) -> None:
        """Each street's first and last, district scores, 好评榜 and 差评榜 of a quarter."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        lang = c.config.language
        try:
            with c.session(readonly=True) as sess:
                data = service.rank(sess, quarter, s).as_dict()
        except UserInputError as exc:
            raise _fail(exc, lang) from exc

        def human(d: dict[str, Any]) -> None:
            sep = "、"
            for st in d["streets"]:
                click.echo(t("firms.rank.street", lang, street=st["street_code"], first=sep.join(st["first"]) or "—",
                             last=sep.join(st["last"]) or "—"))
            click.echo(t("firms.rank.good", lang, firms=sep.join(f"{f}（{d['scores'][f]:g}）" for f in d["good"]) or "—"))
            click.echo(t("firms.rank.bad", lang, firms=sep.join(f"{f}（{d['scores'][f]:g}）" for f in d["bad"]) or "—"))

        emit(data, as_json, human)

    @firms.command("publish")
    @click.option("--quarter", required=True, help="The quarter, e.g. 2025Q1.")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Publication day.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def publish_cmd(ctx: click.Context, quarter: str, today: dt.datetime | None, user: str | None,
                    as_json: bool) -> None:
        """Publish a closed quarter's lists: each listed firm gets a credit event."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        lang = c.config.language
        principal = acting_principal(c, user)
        try:
            with c.session() as sess:
                data = service.publish(sess, principal, quarter, _today(c, today), s, allowed=c.allowed)
        except UserInputError as exc:
            raise _fail(exc, lang) from exc
        emit(data, as_json, lambda d: click.echo(t("firms.published", lang, quarter=d["quarter"],
                                                   good="、".join(d["good"]) or "—", bad="、".join(d["bad"]) or "—")))

    @firms.command("blacklist")
    @click.argument("company")
    @click.option("--lift", is_flag=True, help="Lift the blacklisting instead.")
    @click.option("--note", default="", help="Why (kept in the credit file).")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The day it takes effect.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def blacklist_cmd(ctx: click.Context, company: str, lift: bool, note: str, today: dt.datetime | None,
                      user: str | None, as_json: bool) -> None:
        """Blacklist a firm (every compound it serves is flagged) or lift it."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        lang = c.config.language
        principal = acting_principal(c, user)
        try:
            with c.session() as sess:
                data = service.blacklist(sess, principal, company, _today(c, today), s, lift=lift, note=note,
                                         allowed=c.allowed)
        except UserInputError as exc:
            raise _fail(exc, lang) from exc
        emit(data, as_json, lambda d: click.echo(t("firms.blacklisted" if d["blacklisted"] else "firms.lifted", lang,
                                                   company=d["company"], n=len(d["compounds"]))))

    @firms.command("grade")
    @click.argument("company")
    @click.argument("grade")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The day of the grading.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def grade_cmd(ctx: click.Context, company: str, grade: str, today: dt.datetime | None, user: str | None,
                  as_json: bool) -> None:
        """Record a firm's credit grade (a dated credit event on the configured scale)."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        lang = c.config.language
        principal = acting_principal(c, user)
        try:
            with c.session() as sess:
                data = service.set_grade(sess, principal, company, grade.upper(), _today(c, today), s,
                                         allowed=c.allowed)
        except UserInputError as exc:
            raise _fail(exc, lang) from exc
        emit(data, as_json, lambda d: click.echo(t("firms.graded", lang, company=d["company"], grade=d["grade"],
                                                   on=d["on"])))


def register_contracts(firms: click.Group) -> None:
    """`firms contract` (a new contract through the credit gate) and `firms file` (a filing made)."""

    @firms.command("contract")
    @click.argument("compound")
    @click.option("--company", required=True, help="The firm selected (must pass the credit gate).")
    @click.option("--start", "start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
    @click.option("--end", "end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
    @click.option("--id", "contract_id", default=None, help="Contract id (default COMPOUND-START).")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Judge the gate as of this day.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def contract_cmd(ctx: click.Context, compound: str, company: str, start: dt.datetime, end: dt.datetime,
                     contract_id: str | None, today: dt.datetime | None, user: str | None, as_json: bool) -> None:
        """Record a new service contract; an ineligible firm (unfiled, blacklisted, forbidden grade) is refused."""
        c = get_context(ctx)
        require_schema(c)
        s = _settings(c)
        lang = c.config.language
        principal = acting_principal(c, user)
        try:
            with c.session() as sess:
                data = service.new_contract(c, sess, principal, compound, company, start.date(), end.date(),
                                            _today(c, today), s, contract_id=contract_id, allowed=c.allowed)
        except UserInputError as exc:
            raise _fail(exc, lang) from exc
        emit(data, as_json, lambda d: click.echo(f"{d['contract_id']}: {d['compound_id']} · {d['company']} · "
                                                 f"{d['start']} – {d['end']}"))

    @firms.command("file")
    @click.argument("contract")
    @click.argument("filing", type=click.Choice(["selection", "area", "contract", "acceptance"]))
    @click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The day it was filed.")
    @click.option("--user", default=None, help="Act as this stored user (default: the local operator, admin).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def file_cmd(ctx: click.Context, contract: str, filing: str, on: dt.datetime, user: str | None,
                 as_json: bool) -> None:
        """Record one of a contract's four filings (选聘 / 物业管理区域 / 物业服务合同 / 承接查验 备案)."""
        c = get_context(ctx)
        require_schema(c)
        lang = c.config.language
        principal = acting_principal(c, user)
        try:
            with c.session() as sess:
                data = service.file_contract(sess, principal, contract, filing, on.date(), allowed=c.allowed)
        except UserInputError as exc:
            raise _fail(exc, lang) from exc
        emit(data, as_json, lambda d: click.echo(f"{d['contract_id']}: {t('firms.filing.' + d['filing'], lang)} "
                                                 f"{d['on']}"))
