"""Chinese/English labels of the bundling plugin (enum labels and catalogue messages)."""

from __future__ import annotations

from geoplatform.i18n import add_messages
from geoplatform.labels import register_labels

ORPHAN_KIND = {
    "building": ("单体独栋（无所属小区的楼栋）", "orphan building (in no compound)"),
    "compound": ("不成管理规模的小区", "under-scale compound"),
}
ORPHAN_REASON = {
    "no_compound": ("楼栋不属于任何小区", "building belongs to no compound"),
    "single_building": ("仅有一栋楼", "a single building"),
    "small_area": ("建筑面积低于管理规模下限", "floor area under the management-scale minimum"),
    "few_households": ("户数低于管理规模下限", "households under the management-scale minimum"),
}
UNMATCHED_REASON = {
    "no_host_in_reach": ("范围内没有专业化物业小区", "no professionally managed compound in reach"),
    "only_across_barrier": ("仅有隔着主干道/河流/铁路的专业化物业小区", "hosts in reach only across a main road, river or railway"),
    "only_other_street": ("范围内的专业化物业小区均属其他街镇", "hosts in reach only in another street"),
    "street_unknown": ("所属街镇不明，无法确定同一街镇的承接小区（请先核实所属街镇）",
                       "its street is unknown, so no host of the same street can be found (record the street first)"),
    "host_under_scale": ("范围内的专业化物业小区本身不成管理规模", "hosts in reach are not at management scale themselves"),
    "host_firm_ineligible": ("范围内的专业化物业小区的物业企业不符合选聘条件（未备案、黑名单或信用等级不符）",
                             "hosts in reach are served by a firm that may not be selected (unfiled, blacklisted or "
                             "a forbidden grade)"),
}
BUNDLE_STATUS = {
    "proposed": ("待决定", "proposed"),
    "accepted": ("已同意打包", "accepted"),
    "rejected": ("已驳回", "rejected"),
    "reverted": ("已撤销", "reverted"),
}
ORPHAN_STATUS = {
    "proposed": ("有打包建议", "has a proposal"),
    "new_bundle": ("可组成新的管理区域（国企兜底候选）", "new bundle (takeover candidate)"),
    "unmatched": ("暂无可打包的小区", "unmatched"),
}

register_labels("orphan_kind", ORPHAN_KIND)
register_labels("orphan_reason", ORPHAN_REASON)
register_labels("bundle_reason", UNMATCHED_REASON)
register_labels("bundle_status", BUNDLE_STATUS)
register_labels("orphan_status", ORPHAN_STATUS)

add_messages({
    "zh": {
        "bundling.vote.missing": "同意打包须记录业主表决结果（民法典第二百七十八条），缺少{what}",
        "bundling.vote.invalid": "{what}应写成 总数/参与表决数/同意数（同意数≤参与数≤总数，总数大于0），收到“{value}”",
        "bundling.vote.failed": "业主表决未通过，不能同意打包：{what}为{got}，须{need}（民法典第二百七十八条）",
        "bundling.vote.vote_area": "按专有部分面积的表决（--vote-area 总面积/参与表决面积/同意面积）",
        "bundling.vote.vote_owners": "按业主人数的表决（--vote-owners 总人数/参与表决人数/同意人数）",
        "bundling.vote.participation_area": "参与表决业主的专有部分面积占总面积的比例",
        "bundling.vote.participation_owners": "参与表决的业主人数占总人数的比例",
        "bundling.vote.yes_area": "同意的面积占参与表决面积的比例",
        "bundling.vote.yes_owners": "同意的人数占参与表决人数的比例",
        "bundling.layer.orphans": "打包管理：单体楼栋与小规模小区",
        "bundling.layer.links": "打包管理：建议并入的小区（连线）",
        "bundling.layer.hosts": "打包管理：承接的专业化物业小区",
        "bundling.layer.new_bundles": "打包管理：可组成的新管理区域",
        "bundling.thresholds": ("阈值：同一街镇、边界间距≤{max_distance_m:g}米、不跨主干道/河流/铁路；"
                                "小规模=单栋或建筑面积<{min_floor_area_m2:g}㎡或<{min_households}户；"
                                "承接小区须成规模（≥{host_min_floor_area_m2:g}㎡或≥{host_min_buildings}栋楼）；"
                                "同一小区并入后合计优先≤{preferred_max_merged_area_m2:g}㎡；"
                                "新管理区域≥{new_bundle_min_area_m2:g}㎡"),
    },
    "en": {
        "bundling.vote.missing": "accepting a bundle needs the owners' vote (Civil Code §278): {what} is missing",
        "bundling.vote.invalid": ("{what} must be TOTAL/PARTICIPATING/YES (yes ≤ participating ≤ total, total above 0), "
                                  "got \"{value}\""),
        "bundling.vote.failed": ("the owners' vote did not pass, the bundle cannot be accepted: {what} is {got}, "
                                 "needs {need} (Civil Code §278)"),
        "bundling.vote.vote_area": "the vote by floor area (--vote-area total/participating/yes m²)",
        "bundling.vote.vote_owners": "the vote by owners (--vote-owners total/participating/yes)",
        "bundling.vote.participation_area": "the participating owners' share of the floor area",
        "bundling.vote.participation_owners": "the participating owners' share of all owners",
        "bundling.vote.yes_area": "the yes votes' share of the participating area",
        "bundling.vote.yes_owners": "the yes votes' share of the participating owners",
        "bundling.layer.orphans": "Bundling: orphan buildings and under-scale compounds",
        "bundling.layer.links": "Bundling: proposed links to host compounds",
        "bundling.layer.hosts": "Bundling: host compounds",
        "bundling.layer.new_bundles": "Bundling: possible new management areas",
        "bundling.thresholds": ("thresholds: same street, ≤ {max_distance_m:g} m edge to edge, no main road/river/"
                                "railway between; under scale = single building or < {min_floor_area_m2:g} m² or "
                                "< {min_households} households; hosts at scale (≥ {host_min_floor_area_m2:g} m² or "
                                "≥ {host_min_buildings} buildings); each host ≤ {preferred_max_merged_area_m2:g} m² "
                                "with all its orphans preferred; new bundle ≥ {new_bundle_min_area_m2:g} m²"),
    },
})
