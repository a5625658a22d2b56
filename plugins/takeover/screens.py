"""What the takeover plugin adds to the shared screens: the compound page's score section and the
workspace's menu link (home page of the state company). Read models only; called inside a request."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from geoplatform import models as m
from geoplatform import webshell
from geoplatform.i18n import t
from geoplatform.labels import label
from geoplatform.screens import AuditRef, MenuLink, Section


def menu_links(context: Any, user: Any) -> list[MenuLink]:
    """The takeover workspace for those who may work the pipeline (the state company lands there)."""
    if not context.allowed(user, "edit_takeover", {"kind": "takeover"}):
        return []
    return [MenuLink(href=url_for("ws_takeover.page"), label="ws_takeover.title", order=40, id="gp-nav-ws-takeover",
                     home=user.role == "state_company")]


def compound_sections(context: Any, compound_id: str, user: Any) -> list[Section]:
    """Score with components (points of weight) when a candidate, tender mode, and the compound's pipeline rows."""
    from plugins.takeover.rules import COMPONENTS
    from plugins.takeover.settings import load_settings

    lang = webshell.lang()
    values = context.compound_attribute_values()
    attrs = {col: vals.get(compound_id) for col, vals in values.items() if col.startswith("takeover_")}
    weights = load_settings(context.rules("takeover")).weights()
    components = []
    for name in COMPONENTS:
        pts = attrs.get(f"takeover_pts_{name}")
        if pts is None or pts != pts:
            continue
        w = weights.get(name, 0.0)
        components.append({"label": label("takeover_component", name, lang), "points": float(pts), "weight": w,
                           "share": 0.0 if not w else max(0.0, min(1.0, float(pts) / w))})
    with context.session(readonly=True) as s:
        rows = s.execute(select(m.TakeoverSelection).where(m.TakeoverSelection.compound_id == compound_id)
                         .order_by(m.TakeoverSelection.year.desc())).scalars().all()
        pipeline = [{"year": r.year, "state": label("takeover_state", r.state, lang), "score": r.score,
                     "by": r.updated_by, "at": r.updated_at.isoformat(sep=" ", timespec="minutes") if r.updated_at else "–"}
                    for r in rows]
        years = [r.year for r in rows]
        mode = s.execute(select(m.Compound.management_mode).where(m.Compound.id == compound_id)).scalar()
    score = attrs.get("takeover_score")
    tender = attrs.get("takeover_tender_mode")
    data = {"candidate": bool(attrs.get("takeover_candidate")), "components": components,
            "score": None if score is None or score != score else round(float(score), 1),
            "rank": attrs.get("takeover_rank"), "pipeline": pipeline,
            "mode_unknown": mode == m.UNKNOWN,  # RULES §1: 待核实 is no "无物业": said so, not "not a candidate"
            "tender": label("tender_mode", tender, lang) if isinstance(tender, str) else None}
    entity = t("takeover.audit.entity", lang)
    refs = tuple(AuditRef("takeover_selection", f"{y}/{compound_id}", label=f"{entity} · {y}",
                          enums=(("state", "takeover_state"),)) for y in years)
    return [Section(id="takeover", title="takeover.section.title", template="takeover/section.html", data=data,
                    order=40, audit=refs)]
