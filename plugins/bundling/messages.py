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
        "bundling.layer.orphans": "打包管理：单体楼栋与小规模小区",
        "bundling.layer.links": "打包管理：建议并入的小区（连线）",
        "bundling.layer.hosts": "打包管理：承接的专业化物业小区",
        "bundling.layer.new_bundles": "打包管理：可组成的新管理区域",
        "bundling.thresholds": ("阈值：同一街镇、边界间距≤{max_distance_m:g}米、不跨主干道/河流/铁路；"
                                "小规模=单栋或建筑面积<{min_floor_area_m2:g}㎡或<{min_households}户；"
                                "优先合并后≤{preferred_max_merged_area_m2:g}㎡；新管理区域≥{new_bundle_min_area_m2:g}㎡"),
    },
    "en": {
        "bundling.layer.orphans": "Bundling: orphan buildings and under-scale compounds",
        "bundling.layer.links": "Bundling: proposed links to host compounds",
        "bundling.layer.hosts": "Bundling: host compounds",
        "bundling.layer.new_bundles": "Bundling: possible new management areas",
        "bundling.thresholds": ("thresholds: same street, ≤ {max_distance_m:g} m edge to edge, no main road/river/"
                                "railway between; under scale = single building or < {min_floor_area_m2:g} m² or "
                                "< {min_households} households; merged ≤ {preferred_max_merged_area_m2:g} m² "
                                "preferred; new bundle ≥ {new_bundle_min_area_m2:g} m²"),
    },
})
