"""Edits of a compound (the API's PATCH, the street workspace's form) checked by the importer's rules.

One compound field schema: the fields, ranges and enums are the importer's (`geoplatform.io.fields`
SPECS["compounds"], `parse_value`), so a value an edit accepts is one an import of the export accepts
again (households 60000 is refused here as it is in a file). JSON is stricter about *types* than a
spreadsheet cell: numbers are JSON numbers, yes/no are true/false, dates ISO `YYYY-MM-DD`.
One geometry → street rule: `geoplatform.streets` (inside the district; the street whose polygon holds the
compound's anchor point), the importer's.

Errors are `UserInputError` with `field` (or `fields`) naming what is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from geoplatform.errors import UserInputError
from geoplatform.i18n import Localized, Message, add_messages, t
from geoplatform.models import UNKNOWN, UNKNOWN_DEFAULT_FIELDS

PROTECTED = frozenset({"id", "street_code", "version", "managed_by_id", "source", "updated_at"})
# Kept in step from records, never set by hand (RULES §6: compound.owners_org follows the organisation records).
DERIVED = frozenset({"owners_org"})
GEOMETRY_FIELDS = ("boundary", "location")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

add_messages({
    "zh": {
        "compound.protected_fields": "受保护的字段不能修改：{names}",
        "compound.derived_fields": "{names} 由业委会/物管会记录自动得出，不能手工修改，请在“业委会”工作台登记",
        "compound.unknown_fields": "未知字段：{names}",
        "compound.nothing_to_change": "没有要修改的字段", "compound.bad_value": "{label}：{problem}",
        "compound.type.number": "应为数字", "compound.type.bool": "应为 true 或 false",
        "compound.type.text": "应为文字", "compound.type.date": "应为日期 YYYY-MM-DD",
        "compound.type.list": "应为名称列表（最多50个）", "compound.type.required": "不能为空",
        "compound.geometry.type": "应为 GeoJSON {kinds}", "compound.geometry.invalid": "不是有效的 GeoJSON",
        "compound.geometry.empty": "几何为空或无效（自相交？）",
        "compound.outside_district": "{label}：位于{district}以外 {km:.1f} 公里（坐标有误，或是其他地区的要素）",
        "compound.not_located": "{label}：不在任何街镇范围内",
        "compound.unknown_community": "所属社区：未知社区", "compound.community_street": "所属社区：该社区属于其他街镇",
        "compound.stale_version": "小区 {compound} 已被修改：当前版本 {version}，您提交的是 {sent}",
        "compound.changed_meanwhile": "小区 {compound} 刚被其他人修改，请重新加载后再试",
        "compound.version_mismatch": "请求体的 version（{version}）与 If-Match（{etag}）不一致",
        "compound.unknown_company": "company：登记册中没有物业企业“{value}”{hint}（请先在物业企业登记册中登记）",
    },
    "en": {
        "compound.protected_fields": "protected field(s) cannot be changed: {names}",
        "compound.derived_fields": "{names} is derived from the owners' organisation records (RULES §6) and cannot be "
                                   "set by hand; record the organisation in the 业委会 workspace",
        "compound.unknown_fields": "unknown field(s): {names}", "compound.nothing_to_change": "nothing to change",
        "compound.bad_value": "{label}: {problem}", "compound.type.number": "must be a number",
        "compound.type.bool": "must be true or false", "compound.type.text": "must be text",
        "compound.type.date": "must be a date YYYY-MM-DD", "compound.type.list": "must be a list of up to 50 names",
        "compound.type.required": "must not be empty", "compound.geometry.type": "must be a GeoJSON {kinds}",
        "compound.geometry.invalid": "is not valid GeoJSON",
        "compound.geometry.empty": "geometry is empty or invalid (self-intersection?)",
        "compound.outside_district": "{label}: lies {km:.1f} km outside {district} (wrong coordinates, or a feature "
                                     "of another area)",
        "compound.not_located": "{label}: lies in no street", "compound.unknown_community": "community: unknown community",
        "compound.community_street": "community: the community belongs to another street",
        "compound.stale_version": "compound {compound} changed: version is {version}, you sent {sent}",
        "compound.changed_meanwhile": "compound {compound} was changed by someone else; reload and retry",
        "compound.version_mismatch": "`version` ({version}) and If-Match ({etag}) name different versions",
        "compound.unknown_company": "company: no firm {value!r} in the registry{hint} (record it in the firms "
                                    "registry first)",
    },
})


# The labels of a compound's fields (edit forms, validation messages, change history)
add_messages({
    "zh": {f"compound.field.{k}": v for k, v in {
        "name": "小区名称", "address": "地址", "management_mode": "管理模式", "company": "物业公司",
        "contract_end": "合同到期", "owners_org": "业主组织", "renovation": "老旧小区改造", "households": "户数",
        "floor_area_m2": "建筑面积(㎡)", "build_year": "建成年份", "fee_collection_rate": "物业费收缴率(0–1)",
        "complaints_per_year": "年投诉量(12345)", "demolition_planned": "列入拆迁计划", "aliases": "别名",
        "community_code": "所属社区", "takeover_cost": "国企接管年补贴(万元)", "street_code": "街镇",
        "managed_by_id": "打包并入小区", "boundary": "边界", "location": "位置", "id": "编号", "source": "数据来源",
        "version": "版本", "updated_at": "更新时间", "compound_id": "所属小区"}.items()},
    "en": {f"compound.field.{k}": v for k, v in {
        "name": "Name", "address": "Address", "management_mode": "Management mode",
        "company": "Property company", "contract_end": "Contract ends", "owners_org": "Owners' organisation",
        "renovation": "Renovation", "households": "Households", "floor_area_m2": "Floor area (m²)",
        "build_year": "Built", "fee_collection_rate": "Fee collection rate (0–1)",
        "complaints_per_year": "Complaints per year (12345)", "demolition_planned": "Demolition planned",
        "aliases": "Aliases", "community_code": "Community", "takeover_cost": "Takeover subsidy (10k CNY/yr)",
        "street_code": "Street", "managed_by_id": "Bundled into", "boundary": "Boundary", "location": "Location",
        "id": "ID", "source": "Source", "version": "Version", "updated_at": "Updated", "compound_id": "Compound"}.items()},
})


def field_label(name: str) -> Message:
    """A compound field's label as a message (the field's name when it has none)."""
    return Message(f"compound.field.{name}")


def field_names(names: list[str]) -> Localized:
    """Several fields named in a message: their labels in each language."""
    return Localized(zh="、".join(t(f"compound.field.{n}", "zh") for n in names),
                     en=", ".join(t(f"compound.field.{n}", "en") for n in names))


def compound_fields() -> dict[str, Any]:
    """The editable fields of a compound: the importer's compound fields minus the protected ones, plus geometry."""
    from geoplatform.io.fields import SPECS

    return {f.name: f for f in SPECS["compounds"][1] if f.name not in PROTECTED}


def editable_names() -> tuple[str, ...]:
    """Every field an edit may change (the attribute fields, then boundary and location)."""
    return (*compound_fields(), *GEOMETRY_FIELDS)


def _problem(field: str, key: str, **params: Any) -> UserInputError:
    return UserInputError("compound.bad_value", field=field, label=field_label(field), problem=Message(key, **params))


def _json_type(name: str, kind: str, value: Any) -> None:
    """The JSON type an edit must use for a field of importer type `kind` (cells may be text; JSON may not)."""
    if kind in ("int", "float", "rate"):
        ok, key = isinstance(value, int | float) and not isinstance(value, bool), "compound.type.number"
    elif kind == "bool":
        ok, key = isinstance(value, bool), "compound.type.bool"
    elif kind == "date":
        ok, key = isinstance(value, str) and bool(ISO_DATE.match(value)), "compound.type.date"
    elif kind == "list":
        ok = isinstance(value, list) and len(value) <= 50 and all(isinstance(a, str) and 0 < len(a) <= 200 for a in value)
        key = "compound.type.list"
    else:  # text, ref, enum:…
        ok, key = isinstance(value, str), "compound.type.text"
    if not ok:
        raise _problem(name, key)


def _geometry(name: str, value: Any) -> Any:
    from shapely.geometry import MultiPolygon, shape

    kinds = ("Point",) if name == "location" else ("Polygon", "MultiPolygon")
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise _problem(name, "compound.geometry.type", kinds=" / ".join(kinds))
    try:
        geom = shape(value)
    except Exception:
        raise _problem(name, "compound.geometry.invalid") from None
    if geom.is_empty or not geom.is_valid:
        raise _problem(name, "compound.geometry.empty")
    return MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def parse_edit(changes: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The values of a compound edit, checked field by field with the importer's schema (UserInputError otherwise)."""
    from geoplatform.io.fields import ValueProblem, parse_value

    protected = sorted(k for k in changes if k in PROTECTED)
    if protected:
        raise UserInputError("compound.protected_fields", fields=protected, names=field_names(protected))
    derived = sorted(k for k in changes if k in DERIVED)
    if derived:
        raise UserInputError("compound.derived_fields", fields=derived, names=field_names(derived))
    fields = compound_fields()
    unknown = sorted(k for k in changes if k not in fields and k not in GEOMETRY_FIELDS)
    if unknown:
        raise UserInputError("compound.unknown_fields", fields=unknown, names=", ".join(unknown))
    if not changes:
        raise UserInputError("compound.nothing_to_change")
    values: dict[str, Any] = {}
    for name, raw in changes.items():
        if name in GEOMETRY_FIELDS:
            if raw is None and name == "boundary":
                values[name] = None
            elif raw is None:
                raise _problem(name, "compound.type.required")
            else:
                values[name] = _geometry(name, raw)
            continue
        f = fields[name]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if f.required:
                raise _problem(name, "compound.type.required")
            # an emptied mode-like field is unknown (待核实, RULES §1), never "none"
            values[name] = [] if f.type == "list" else UNKNOWN if name in UNKNOWN_DEFAULT_FIELDS else None
            continue
        _json_type(name, f.type, raw)
        try:
            value = parse_value(f, raw, today)
        except ValueProblem as exc:
            raise UserInputError("compound.bad_value", field=name, label=field_label(name), problem=exc.message) from None
        values[name] = value.strip() if isinstance(value, str) else value
    return values


def place(session: Any, boundary: Any, location: Any, moved: list[str]) -> str:
    """The street of a compound whose geometry is (boundary, location), by the importer's rule.

    UserInputError naming the moved field when the geometry lies outside the district or in no street.
    """
    from geoplatform.reference import DISTRICT_NAME
    from geoplatform.streets import (
        NoStreetPolygons,
        district_outline,
        inside_district,
        km_from_district,
        street_codes_at,
    )

    field = moved[0] if moved else "location"
    geoms = [g for g in (boundary, location) if g is not None]
    outline = district_outline(session)
    inside = inside_district(geoms, outline)
    if not inside.all():
        km = km_from_district([g for g, ok in zip(geoms, inside, strict=True) if not ok], outline)
        raise UserInputError("compound.outside_district", field=field, label=field_label(field), km=float(km.max()),
                             district=DISTRICT_NAME)
    try:  # the point that places a compound: its location, else a point on its boundary
        street = street_codes_at(session, [location if location is not None else boundary])[0]
    except NoStreetPolygons:
        street = None
    if street is None:
        raise UserInputError("compound.not_located", field=field, label=field_label(field))
    return street


def check_company(session: Any, values: dict[str, Any]) -> None:
    """A compound's firm is a key of the registry (RULES §7): an edit names a registered firm exactly (or none);
    an unknown name is refused, with the registered names it may mean."""
    if "company" not in values:
        return
    values["company"] = values["company"] or None
    if values["company"] is None:
        return
    from sqlalchemy import select

    from geoplatform.companies import CompanyIndex
    from geoplatform.models import PropertyCompany

    names = list(session.scalars(select(PropertyCompany.name)))
    if values["company"] in names:
        return
    maybe = CompanyIndex(names).match(values["company"])
    hint = f" ({' / '.join(maybe[:5])}?)" if maybe else ""
    raise UserInputError("compound.unknown_company", field="company", value=values["company"], hint=hint)
