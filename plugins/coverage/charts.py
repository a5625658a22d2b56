"""The milestone chart of the path to target: per street, the rate now and at each milestone against the target
(inline SVG from the server; every text escaped through Markup.format)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

OK, SHORT, NOW, TARGET, GRID = "#2e7d32", "#c62828", "#90a4ae", "#1565c0", "#e0e0e0"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def milestone_chart(rows: Sequence[dict[str, Any]], target: float, title: str, target_label: str, now_label: str,
                    chart_id: str) -> Markup:
    """One group per street: a grey bar for now, then one bar per milestone (green when it reaches `target`),
    each labelled with its year; a dashed target line across. `rows`: {street_code, name, now, milestones}."""
    left, right, top, bar_h, inner = 118, 60, 34, 11, 2
    width = 560
    plot = width - left - right
    n_bars = 1 + max((len(r["milestones"]) for r in rows), default=0)
    group_h = n_bars * (bar_h + inner) + 8
    height = top + len(rows) * group_h + 26
    parts = [Markup('<svg class="ws-chart cv-milestones" id="{}" viewBox="0 0 {} {}" width="100%" role="img" '
                    'aria-label="{}" xmlns="http://www.w3.org/2000/svg">').format(chart_id, width, height, title),
             Markup('<text x="4" y="16" class="ws-chart-title">{}</text>').format(title)]
    for tick in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        x = left + plot * tick
        parts.append(Markup('<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="{3}"/>'
                            '<text x="{0:.1f}" y="{4}" class="ws-chart-tick" text-anchor="middle">{5}%</text>')
                     .format(x, top - 4, height - 20, GRID, height - 6, int(tick * 100)))
    for i, r in enumerate(rows):
        y0 = top + i * group_h
        parts.append(Markup('<g class="cv-street" data-street="{}"><text x="{}" y="{:.1f}" class="ws-chart-label" '
                            'text-anchor="end">{}</text>').format(r["street_code"], left - 6,
                                                                  y0 + group_h / 2, r.get("name") or r["street_code"]))
        bars = [(now_label, r["now"], NOW, None)] + [(m["date"][:4], m, None, m["date"]) for m in r["milestones"]]
        for k, (name, fig, color, date) in enumerate(bars):
            rate = fig.get("rate")
            y = y0 + k * (bar_h + inner)
            w = 0 if rate is None else plot * max(0.0, min(1.0, rate))
            fill = color or (OK if rate is not None and rate >= target - 1e-9 else SHORT)
            parts.append(Markup('<g class="cv-bar" data-date="{0}" data-rate="{1}" data-gap="{2}"><title>{3} {4}</title>'
                                '<rect x="{5}" y="{6}" width="{7:.1f}" height="{8}" fill="{9}" rx="1"/>'
                                '<text x="{10:.1f}" y="{11:.1f}" class="ws-chart-value">{3} {4}</text></g>')
                         .format(date or "now", "" if rate is None else f"{rate:.4f}", fig.get("gap", ""), name,
                                 _pct(rate), left, y, w, bar_h, fill, left + w + 4, y + bar_h - 1))
        parts.append(Markup("</g>"))
    tx = left + plot * target
    parts.append(Markup('<line class="cv-target" x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="{3}" '
                        'stroke-width="2" stroke-dasharray="5 3"/>'
                        '<text x="{0:.1f}" y="{4}" class="ws-chart-target" text-anchor="middle" fill="{3}">{5}</text>')
                 .format(tx, top - 8, height - 20, TARGET, top - 10, target_label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
