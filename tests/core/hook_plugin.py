"""A test plugin implementing every hook of geoplatform.hookspecs (used by tests/core/test_hooks.py)."""

from __future__ import annotations

import click
import pandas as pd

from geoplatform.hookspecs import hookimpl
from layers.spec import Basemap, Exporter, LayerSpec

CALLS: list[str] = []
ATTRIBUTE_CALLS: list[list[str]] = []  # the compound ids of each compute_compound_attributes call


@hookimpl
def register_layers(context):  # noqa: ANN001, ANN201
    """One layer on the streets."""
    return [LayerSpec(id="hooktest_streets", title_zh="测试街镇", title_en="test streets", source="streets")]


@hookimpl
def compute_compound_attributes(context, compounds):  # noqa: ANN001, ANN201
    """hooktest_name_length."""
    ATTRIBUTE_CALLS.append(sorted(map(str, compounds.index)))
    return pd.DataFrame({"hooktest_name_length": compounds["name"].str.len()}, index=compounds.index)


@hookimpl
def compound_attribute_inputs(context):  # noqa: ANN001, ANN201
    """Per compound, from the compound row alone."""
    from geoplatform.readcache import AttributeInputs

    return AttributeInputs.of("compound", per_compound=True)


@hookimpl
def register_commands(cli):  # noqa: ANN001, ANN201
    """`geoplatform hooktest-echo WORD`."""

    @cli.command("hooktest-echo")
    @click.argument("word")
    def echo(word: str) -> None:
        click.echo(f"echo {word}")


@hookimpl
def register_routes(context):  # noqa: ANN001, ANN201
    """GET /hooktest/ping."""
    from flask import Blueprint

    bp = Blueprint("hooktest", __name__, url_prefix="/hooktest")
    bp.add_url_rule("/ping", "ping", lambda: {"pong": True})
    return [bp]


def _export(context, fmt, path, street):  # noqa: ANN001, ANN202
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("ok\n")
    return 1


@hookimpl
def register_exporters(context):  # noqa: ANN001, ANN201
    """hooktest-export (csv)."""
    return [Exporter(name="hooktest-export", title_zh="测试导出", title_en="test export", formats=("csv",),
                     function=_export)]


@hookimpl
def register_basemaps(context):  # noqa: ANN001, ANN201
    """A blank basemap."""
    return [Basemap(id="hooktest_blank", title_zh="空白", title_en="blank", url="about:blank", attribution="")]


@hookimpl
def permission_allowed(context, user, action, resource):  # noqa: ANN001, ANN201
    """Allow hooktest_read, deny hooktest_forbidden, no opinion otherwise."""
    CALLS.append(action)
    return {"hooktest_read": True, "hooktest_forbidden": False}.get(action)


def _check_firms(session, rows, context):  # noqa: ANN001, ANN202
    """Refuse a firm whose name contains 'X' (stands in for a plugin's rule over the parsed rows)."""
    from geoplatform.i18n import Message
    from geoplatform.io.kinds import RowProblem

    return [RowProblem(i, "name", Message("hooktest.bad_name", name=rec["name"]))
            for i, rec in enumerate(rows) if "X" in rec.get("name", "")]


def _after_firms(session, keys, context):  # noqa: ANN001, ANN202
    CALLS.append(f"after_write {sorted(k[0] for k in keys)}")


@hookimpl
def register_import_kinds(context):  # noqa: ANN001, ANN201
    """`geoplatform import hooktest_firms FILE`: firms by name and grade, with a rule and a derived-data step."""
    from geoplatform.io.fields import Field
    from geoplatform.io.kinds import ImportKind

    return [ImportKind(name="hooktest_firms", table="property_company", key=("name",),
                       fields=(Field("name", "text", ("名称", "企业名称"), required=True, max_len=200),
                               Field("credit_grade", "enum:credit_grade", ("信用等级",))),
                       check=_check_firms, after_write=_after_firms)]


@hookimpl
def after_import(context, session, kind, keys):  # noqa: ANN001, ANN201
    """Record the kind and keys written; one warning for the report."""
    from geoplatform.i18n import Message

    CALLS.append(f"after_import {kind} {sorted(str(k[0]) for k in keys)}")
    return [Message("hooktest.imported", n=len(keys))]


@hookimpl
def load_demo(context, session, seed, today):  # noqa: ANN001, ANN201
    """Record the call (seed, day, the demo's compounds already there); a firm named after the seed."""
    from sqlalchemy import func, select

    from geoplatform.models import Compound, PropertyCompany

    CALLS.append(f"load_demo {seed} {today} compounds={session.scalar(select(func.count()).select_from(Compound)) > 0}")
    session.add(PropertyCompany(name=f"演示物业{seed}"))
    session.flush()
    return {"property_company": 1}
@hookimpl
def register_messages():  # noqa: ANN201
    """The texts of the hook test's screens."""
    return {"zh": {"hooktest.menu": "测试菜单", "hooktest.section": "测试区块", "hooktest.panel": "测试面板"},
            "en": {"hooktest.menu": "Test menu", "hooktest.section": "Test section", "hooktest.panel": "Test panel"}}


@hookimpl
def menu_links(context, user):  # noqa: ANN001, ANN201
    """A link for admins only."""
    from geoplatform.screens import MenuLink

    if getattr(user, "role", None) != "admin":
        return []
    return [MenuLink(href="/hooktest/ping", label="hooktest.menu", order=5, id="gp-nav-hooktest")]


@hookimpl
def compound_sections(context, compound_id, user):  # noqa: ANN001, ANN201
    """A section naming the compound (escaped), and its audit entity in the change history."""
    from markupsafe import escape

    from geoplatform.screens import AuditRef, Section

    return [Section(id="hooktest", title="hooktest.section", order=1,
                    html=str(escape(f"<hooktest> {compound_id} for {user.name}")),
                    audit=(AuditRef("hooktest_thing", f"{compound_id}:x", label="HOOKTEST-THING"),))]


@hookimpl
def dashboard_panels(context, user, where, street_code):  # noqa: ANN001, ANN201
    """A panel on both dashboards saying where it is."""
    from markupsafe import escape

    from geoplatform.screens import Panel

    return [Panel(id="hooktest", title="hooktest.panel", where=where, order=1, badge="7",
                  html=str(escape(f"hooktest panel {where} {street_code or '-'}")))]


ORG_STATUS_RAISES = False


@hookimpl
def owners_org_status(context, compound_ids):  # noqa: ANN001, ANN201
    """c1 an active 业委会, c2 a 物管会 being prepared (raises when ORG_STATUS_RAISES)."""
    from geoplatform.exchange import OrgStatus

    if ORG_STATUS_RAISES:
        raise RuntimeError("records unavailable")
    known = {"c1": OrgStatus("c1", "owners_committee", "active", counts=True, known=True, can_sign=True),
             "c2": OrgStatus("c2", "management_committee", "preparing", counts=False, known=True, can_sign=False)}
    return {cid: known[cid] for cid in compound_ids if cid in known}


@hookimpl
def firm_eligibility(context, companies):  # noqa: ANN001, ANN201
    """乙物业 has a forbidden grade; every other firm passes."""
    from geoplatform.exchange import FirmEligibility

    return {c: FirmEligibility(c, eligible=c != "乙物业", reasons=("grade_forbidden",) if c == "乙物业" else ())
            for c in companies}


@hookimpl
def credit_events(context, today):  # noqa: ANN001, ANN201
    """Two events derived from a made-up problem ledger (one dated today)."""
    import datetime as dt

    from geoplatform.exchange import CreditEvent

    return [CreditEvent("甲物业", today, "rectification_refused", "hooktest", ref="P-1"),
            CreditEvent("乙物业", dt.date(2026, 3, 1), "rectification_overdue", "hooktest", ref="P-2")]


@hookimpl
def served_evidence(context, compound_ids):  # noqa: ANN001, ANN201
    """c1 has a contract in force (HT-1); no other compound has one."""
    from geoplatform.exchange import ServiceEvidence

    return {cid: ServiceEvidence(cid, "HT-1", "甲物业") for cid in compound_ids if cid == "c1"}


@hookimpl
def projection_changes(context, session):  # noqa: ANN001, ANN201
    """c3 taken over (decided), c1's contract ends on 2026-06-30 (−served from 2026-07-01)."""
    import datetime as dt

    from geoplatform.exchange import ProjectionChange

    return [ProjectionChange("compound:c3", "150203001", "+served", "hooktest", "接管 c3", kind="takeover"),
            ProjectionChange("compound:c1", "150203001", "-served", "hooktest", "HT-1", on=dt.date(2026, 7, 1),
                             kind="contract_end")]


@hookimpl
def plan_actions(context, session):  # noqa: ANN001, ANN201
    """One priced takeover of c4 and one of c5 whose cost is unknown."""
    from geoplatform.exchange import PlanAction, ProjectionChange

    def action(cid: str, cost: float | None) -> PlanAction:
        change = ProjectionChange(f"compound:{cid}", "150203002", "+served", "hooktest", cid, kind="takeover")
        return PlanAction(f"hooktest:{cid}", "takeover", "hooktest", cid, "150203002", (change,), cost)

    return [action("c4", 2.5), action("c5", None)]


RECORDED_CONTRACTS: list[dict] = []


@hookimpl
def record_service_contract(context, session, principal, compound_id, company, start, end, contract_id, source):  # noqa: ANN001, ANN201, PLR0913
    """Keeps the contract in RECORDED_CONTRACTS (a registry of its own) and answers it."""
    row = {"contract_id": contract_id, "compound_id": compound_id, "company": company, "start": start.isoformat(),
           "end": end.isoformat(), "source": source, "by": principal.name}
    RECORDED_CONTRACTS.append(row)
    return row


@hookimpl
def safety_problems(context, session, compound_ids):  # noqa: ANN001, ANN201
    """c3 has two open safety problems; every other compound asked for has none."""
    return {cid: 2 if cid == "c3" else 0 for cid in compound_ids}


@hookimpl
def takeover_bundles(context, session):  # noqa: ANN001, ANN201
    """One new bundle: the orphan compound c3 with two lone buildings (made-up ids b1, b2)."""
    from geoplatform.exchange import TakeoverBundle

    return [TakeoverBundle("B1", "150203001", ("c3",), ("b1", "b2"), floor_area_m2=31000.0, households=640,
                           build_year=1995, fee_collection_rate=0.5, complaints_per_year=4, takeover_cost=3.0)]
