"""Legend evaluation: the colour and legend label of every feature, computed column-wise."""

from __future__ import annotations

import math
from typing import Any

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


def legend_lists(values: list[Any], legend: Legend | None, lang: str = "zh") -> tuple[list[str], list[str]]:
    """The same colours and labels as `legend_columns`, for a plain list of values (the fast GeoJSON path)."""
    n = len(values)
    if legend is None:
        return ["#3388ff"] * n, [""] * n
    default = (legend.default_color, "")
    if legend.kind == "categorical":
        table: dict[Any, tuple[str, str]] = {}
        for r in legend.rules:
            key = None if r.value is None else r.value
            table.setdefault(key, (r.color, r.label_zh if lang == "zh" else r.label_en))
        try:
            pairs = [table.get(v, default) for v in values]
        except TypeError:  # an unhashable value somewhere
            pairs = [_lookup(table, v, default) for v in values]
        if any(isinstance(v, float) and math.isnan(v) for v in values if v.__class__ is float):
            pairs = [table.get(None, default) if isinstance(v, float) and math.isnan(v) else p
                     for v, p in zip(values, pairs, strict=True)]
    else:
        pairs = [_graduated(v, legend, lang, default) for v in values]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _lookup(table: dict[Any, tuple[str, str]], v: Any, default: tuple[str, str]) -> tuple[str, str]:
    try:
        return table.get(None if _missing(v) else v, default)
    except TypeError:
        return default


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _graduated(v: Any, legend: Legend, lang: str, default: tuple[str, str]) -> tuple[str, str]:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    if math.isnan(x):
        return default
    for r in legend.rules:
        if (r.min is None or x >= r.min) and (r.max is None or x < r.max):
            return r.color, r.label_zh if lang == "zh" else r.label_en
    return default
