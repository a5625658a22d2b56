"""Read helpers behind the API routes: compound search/detail, streets, basemaps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.store import frame_records, read_frame
from web.revision import data_revision

log = logging.getLogger(__name__)


def revision(context: Context) -> str:
    """The data revision (keys ETags and memoised read models)."""
    return data_revision(context)


def _memoised(context: Context, name: str, build: Callable[[], Any]) -> Any:
    """`build()` once per data revision (the context's single-flight memo: concurrent callers share one build)."""
    return context.memo(f"web.queries|{name}", build)


def street_list(context: Context) -> list[dict[str, Any]]:
    """Streets ordered by code, with kind and [minx, miny, maxx, maxy] bbox (None without geometry)."""
    def build() -> list[dict[str, Any]]:
        with context.session(readonly=True) as s:
            frame = read_frame(s, "street", columns=["code", "name", "kind"])
        out = []
        for code, name, kind, geom in zip(frame["code"], frame["name"], frame["kind"], frame.geometry, strict=True):
            bbox = None if geom is None or geom.is_empty else [round(v, 6) for v in geom.bounds]
            out.append({"code": code, "name": name, "kind": kind, "bbox": bbox})
        return out

    return _memoised(context, "streets", build)


def _search_index(context: Context) -> pd.DataFrame:
    """id, name, aliases, address, street, bbox and search texts of every compound (memoised per data revision).

    `haystack` holds name and aliases, `pinyin` their pinyin keys (initials and full spellings,
    web.textsearch), `address_text` the address (case-folded).
    """
    from web.textsearch import pinyin_keys

    def build() -> pd.DataFrame:
        with context.session(readonly=True) as s:
            frame = read_frame(s, "compound", columns=["id", "name", "aliases", "address", "street_code", "boundary",
                                                       "location"])
        geom = frame.geometry.where(frame.geometry.notna(), frame["location"])
        bounds = np.asarray(geom.bounds)
        aliases = frame["aliases"].map(lambda a: list(a) if isinstance(a, list | tuple) else [])
        names = frame["name"].fillna("")
        pinyin = [
            "\x00".join(k for text in [name, *alias] for k in pinyin_keys(str(text)))
            for name, alias in zip(names, aliases, strict=True)
        ]
        address = frame["address"].where(frame["address"].notna(), "").astype(str)
        return pd.DataFrame({
            "id": frame["id"].to_numpy(), "name": names.to_numpy(),
            "aliases": aliases.to_numpy(), "street_code": frame["street_code"].to_numpy(),
            "address": address.to_numpy(),
            "haystack": (names + "\x00" + aliases.map("\x00".join)).str.casefold().to_numpy(),
            "pinyin": np.asarray(pinyin, dtype=object), "address_text": address.str.casefold().to_numpy(),
            "minx": bounds[:, 0], "miny": bounds[:, 1], "maxx": bounds[:, 2], "maxy": bounds[:, 3],
        })

    return _memoised(context, "search", build)


def search_compounds(context: Context, q: str, street: str | None, limit: int) -> list[dict[str, Any]]:
    """Compounds whose name or an alias contains `q` (case-insensitive), whose pinyin initials or spelling
    start with or contain an ASCII `q` ("xxl" → 新兴路…), or whose address contains `q`.

    Order: exact name, name prefix, name/alias substring, pinyin prefix, pinyin substring, address; then
    by name. Each hit says what matched (`match`: name, alias, pinyin, address) and carries its address.
    """
    return search_page(context, q, street, limit, 0)[0]


def search_page(context: Context, q: str, street: str | None, limit: int,
                offset: int) -> tuple[list[dict[str, Any]], int]:
    """`limit` matches of `search_compounds` from `offset` on, and how many match in all.

    Without `q` every compound (of `street`) matches, in id order, so paging lists them all once.
    """
    from web.textsearch import is_pinyin_query, normalise_query

    idx = _search_index(context)
    if street:
        idx = idx[idx["street_code"] == street]
    if q:
        needle = q.casefold()
        names = idx["name"].str.casefold()
        in_name = idx["haystack"].str.contains(needle, regex=False)
        in_address = idx["address_text"].str.contains(needle, regex=False)
        rank = np.where(names == needle, 0, np.where(names.str.startswith(needle), 1, np.where(in_name, 2, 9)))
        match = np.where(names.str.contains(needle, regex=False), "name", np.where(in_name, "alias", ""))
        if is_pinyin_query(q):
            key = normalise_query(q)
            keys = idx["pinyin"]
            prefix = keys.str.startswith(key) | keys.str.contains("\x00" + key, regex=False)
            inside = keys.str.contains(key, regex=False)
            rank = np.where(rank < 9, rank, np.where(prefix, 3, np.where(inside, 4, 9)))
            match = np.where(match != "", match, np.where(inside, "pinyin", ""))
        rank = np.where(rank < 9, rank, np.where(in_address, 5, 9))
        match = np.where(match != "", match, np.where(in_address, "address", ""))
        idx = idx.assign(rank_=rank, match_=match)
        idx = idx[idx["rank_"] < 9].sort_values(["rank_", "name", "id"], kind="stable")
    else:
        idx = idx.sort_values("id", kind="stable").assign(match_="")
    out = []
    for row in idx.iloc[offset:offset + limit].itertuples(index=False):
        out.append({"id": row.id, "name": row.name, "aliases": list(row.aliases), "street_code": row.street_code,
                    "address": row.address or None, "match": row.match_ or None,
                    "bbox": [round(float(v), 6) for v in (row.minx, row.miny, row.maxx, row.maxy)]})
    return out, len(idx)


def compound_detail(context: Context, compound_id: str) -> dict[str, Any] | None:
    """Every stored attribute of a compound (geometry as bbox + location), plugin attributes and version."""
    with context.session(readonly=True) as s:
        frame = read_frame(s, "compound", where=[m.Compound.id == compound_id])
    if not len(frame):
        return None
    attrs = context.compound_attributes()
    rec = frame_records(frame.drop(columns=[frame.geometry.name, "location"]))[0]
    boundary = frame.geometry.iloc[0]
    location = frame["location"].iloc[0]
    rec["boundary_missing"] = boundary is None
    rec["bbox"] = [round(v, 6) for v in (boundary if boundary is not None else location).bounds]
    rec["location"] = [round(location.x, 6), round(location.y, 6)] if location is not None else None
    if compound_id in attrs.index:
        extra = attrs.loc[[compound_id]]
        rec["attributes"] = frame_records(extra)[0]
    else:
        rec["attributes"] = {}
    return _jsonable(rec)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def basemap_list(context: Context, lang: str) -> list[dict[str, Any]]:
    """Basemaps for the switcher: key-less ones disabled; GCJ-02 ones never offered (they would misalign).

    An overlay basemap `<id>_label` is drawn on top of basemap `<id>` (Tianditu's annotation layers).
    """
    maps = context.basemaps()
    ids = {b.id for b in maps}
    out = []
    for b in maps:
        if b.crs != "wgs84":
            log.warning("basemap %s is drawn in %s and would misalign WGS-84 overlays: not offered", b.id, b.crs)
            continue
        enabled = not (b.requires_key and not context.config.tianditu_key)
        out.append({"id": b.id, "title": b.title_zh if lang == "zh" else b.title_en, "url": b.url if enabled else "",
                    "attribution": b.attribution, "max_zoom": b.max_zoom, "subdomains": b.subdomains,
                    "overlay": b.overlay, "label_overlay": f"{b.id}_label" if f"{b.id}_label" in ids else None,
                    "enabled": enabled, "reason": "" if enabled else "needs_key",
                    "kind": getattr(b, "kind", "raster"), "min_zoom": getattr(b, "min_zoom", 0),
                    "bounds": list(b.bounds) if getattr(b, "bounds", None) else None,
                    "data_layers": list(getattr(b, "data_layers", ())),
                    # remote: the browser asks another host for it (only ever shown when the user picks it)
                    "remote": bool(getattr(b, "remote", "://" in b.url))})
    return out
