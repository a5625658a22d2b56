"""Legend evaluation: the colour and legend label of every feature, computed column-wise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.spec import Legend, StyleRule


def rule_matches(rule: StyleRule, values: pd.Series, kind: str) -> pd.Series:
    """Boolean mask of the values a legend rule covers (categorical: equality; graduated: [min, max))."""
    if kind == "categorical":
        if rule.value is None:
            return values.isna()
        return values.astype(object) == rule.value
    nums = pd.to_numeric(values, errors="coerce")
    mask = nums.notna()
    if rule.min is not None:
        mask &= nums >= rule.min
    if rule.max is not None:
        mask &= nums < rule.max
    return mask


def legend_columns(frame: pd.DataFrame, legend: Legend | None, lang: str = "zh") -> tuple[pd.Series, pd.Series]:
    """(`_color`, `_label`) Series for a frame: first matching rule wins, else the legend's default."""
    n = len(frame)
    if legend is None:
        return (pd.Series(["#3388ff"] * n, index=frame.index, dtype=object),
                pd.Series([""] * n, index=frame.index, dtype=object))
    colors = np.full(n, legend.default_color, dtype=object)
    labels = np.full(n, "", dtype=object)
    if legend.attribute in frame.columns:
        values = frame[legend.attribute]
        done = np.zeros(n, dtype=bool)
        for rule in legend.rules:
            mask = rule_matches(rule, values, legend.kind).to_numpy(dtype=bool) & ~done
            colors[mask] = rule.color
            labels[mask] = rule.label_zh if lang == "zh" else rule.label_en
            done |= mask
    return pd.Series(colors, index=frame.index), pd.Series(labels, index=frame.index)
