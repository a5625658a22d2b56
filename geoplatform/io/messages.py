"""Every importer problem and warning text, English and Chinese, as one catalogue registered with geoplatform.i18n.

Problems are recorded as `Message(key, **params)`: the English text is the str value (CLI, --json `message`),
`message.text("zh")` the Chinese one (web import page). Numbers, ids, file and column names stay verbatim.
"""

from __future__ import annotations

import re

from geoplatform.crs import MESSAGES as CRS_MESSAGES
from geoplatform.i18n import Localized, Message, add_messages

# key: (English, Chinese); both use the same {params}
MESSAGES: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- where a problem is
    "import.where.row": ("{file} row {n}", "{file} 第{n}行"),
    "import.where.row_column": ("{file} row {n}, column {column}", "{file} 第{n}行，「{column}」列"),
    "import.where.feature": ("{file} feature {n}", "{file} 第{n}个要素"),
    "import.where.feature_field": ("{file} feature {n}, field {column}", "{file} 第{n}个要素，「{column}」字段"),
    "import.at.row": ("row {n}", "第{n}行"),
    "import.at.feature": ("feature {n}", "第{n}个要素"),
    "import.unit.row": ("row", "行"),
    "import.unit.feature": ("feature", "要素"),
    "import.units.row": ("rows", "行"),
    "import.units.feature": ("features", "个要素"),
    "import.field.geometry": ("geometry", "几何"),
    "import.more_problems": ("… and {n} more problems not listed", "……另有 {n} 个问题未列出"),
    # ---------------------------------------------------------------- kinds (plural, as the CLI names them) and tables
    "import.kind.district": ("district", "区界"),
    "import.kind.streets": ("streets", "街镇"),
    "import.kind.communities": ("communities", "社区/村"),
    "import.kind.compounds": ("compounds", "小区"),
    "import.kind.buildings": ("buildings", "楼栋"),
    "import.kind.garages": ("garages", "车库"),
    "import.kind.handovers": ("handovers", "设施移交"),
    "import.kind.companies": ("companies", "物业公司"),
    "import.kind.barriers": ("barriers", "阻隔线"),
    "import.table.district": ("district", "区界"),
    "import.table.street": ("street", "街镇"),
    "import.table.community": ("community", "社区/村"),
    "import.table.compound": ("compound", "小区"),
    "import.table.building": ("building", "楼栋"),
    "import.table.garage": ("garage", "车库"),
    "import.table.handover": ("handover", "设施移交"),
    "import.table.property_company": ("property_company", "物业公司"),
    "import.table.barrier": ("barrier", "阻隔线"),
    # ---------------------------------------------------------------- whole files: size, zip safety
    "import.file.not_found": ("file not found", "找不到文件"),
    "import.file.is_folder": ("is a folder, not a file", "这是文件夹，不是文件"),
    "import.file.empty": ("file is empty", "文件为空"),
    "import.file.too_big": ("file is {mb:.0f} MB, over the {limit_mb:.0f} MB import limit; split it (e.g. by street) "
                            "and import the parts",
                            "文件大小 {mb:.0f} MB，超过导入上限 {limit_mb:.0f} MB；请拆分（例如按街镇）后分别导入"),
    "import.file.xml": ("KML/GML/XML files are not accepted (XML entity expansion risk); convert to GeoJSON or "
                        "GeoPackage first, e.g. `ogr2ogr -f GeoJSON out.geojson in.kml`",
                        "不接受 KML/GML/XML 文件（有 XML 实体扩展风险）；请先转换为 GeoJSON 或 GeoPackage，"
                        "例如 `ogr2ogr -f GeoJSON out.geojson in.kml`"),
    "import.file.xls": ("old Excel .xls format: save the workbook as .xlsx (or CSV) and import that",
                        "旧版 Excel .xls 格式：请将工作簿另存为 .xlsx（或 CSV）后导入"),
    "import.file.no_rows": ("no rows", "没有数据行"),
    # ---------------------------------------------------------------- the coordinate system of lon/lat, chosen
    "import.crs.system.wgs84": ("WGS-84 (GPS, Tianditu)", "WGS-84（GPS、天地图）"),
    "import.crs.system.gcj02": ("GCJ-02 (AMap, Tencent)", "GCJ-02（高德、腾讯）"),
    "import.crs.system.bd09": ("BD-09 (Baidu)", "BD-09（百度）"),
    "import.crs.rows": ("rows {rows}", "第 {rows} 行"),
    "import.crs.required": ("a {fmt} file cannot say which coordinate system its coordinates are in, and a wrong "
                            "guess moves every point by hundreds of metres here (GCJ-02 ≈ 500 m, BD-09 ≈ 1.3 km from "
                            "WGS-84): choose it ({option}) — WGS-84 (GPS, Tianditu, surveyed lon/lat), GCJ-02 (points "
                            "picked on AMap or Tencent maps), BD-09 (picked on Baidu maps) or the EPSG code of "
                            "projected metres (e.g. EPSG:4546)",
                            "{fmt} 文件无法说明坐标属于哪个坐标系，猜错会使每个点偏移数百米（本地 GCJ-02 与 WGS-84 相差约 "
                            "500 米，BD-09 约 1.3 公里）：请选择坐标系（{option}）——WGS-84（GPS、天地图、测量的经纬度）、"
                            "GCJ-02（在高德或腾讯地图上拾取的点）、BD-09（在百度地图上拾取的点），或投影坐标（米）的 EPSG "
                            "代码（如 EPSG:4546）"),
    "import.option.crs.cli": ("the option --crs wgs84 | gcj02 | bd09 | EPSG:…", "参数 --crs wgs84 | gcj02 | bd09 | EPSG:…"),
    "import.option.crs.web": ("the form's “Coordinate system”", "表单中的“坐标系”"),
    "import.crs.choice_refused": ("{n} {units} lie outside {district} when read as {crs} ({rows}), while read as "
                                  "{suggestion} every point lies inside (within {tolerance:.0f} m): these look like "
                                  "{suggestion} — import again choosing that coordinate system",
                                  "按 {crs} 读取时有 {n} {units}位于{district}以外（{rows}），而按 {suggestion} 读取则"
                                  "全部位于区内（容差 {tolerance:.0f} 米）：这些坐标看起来是 {suggestion}，请选择该坐标系"
                                  "后重新导入"),
    "import.crs.far_outside": ("lies {m:.0f} m outside {district} read as {crs}: more than the {shift:.0f} m by "
                               "which GCJ-02 moves points here, so no mix-up of WGS-84 / GCJ-02 / BD-09 explains it — "
                               "check the coordinates",
                               "按 {crs} 读取位于{district}以外 {m:.0f} 米：超过本地 GCJ-02 的偏移（{shift:.0f} 米），"
                               "不是 WGS-84／GCJ-02／BD-09 混用所致，请核对坐标"),
    "import.csv.cell_too_long": ("line {line}: a cell longer than {limit:,} characters, over the import limit (a "
                                 "geometry may have at most {vertices:,} vertices); simplify the shape or send it as "
                                 "GeoPackage/zipped Shapefile",
                                 "第{line}行：有一个单元格超过 {limit:,} 个字符，超出导入上限（一个几何最多 {vertices:,} 个"
                                 "顶点）；请简化图形，或改用 GeoPackage / Shapefile（zip）"),
    "import.csv.unreadable": ("line {line}: not readable as CSV ({detail})", "第{line}行：无法按 CSV 读取（{detail}）"),
    "import.file.too_many_rows": ("{n} rows, over the limit of {limit}", "共 {n} 行，超过上限 {limit} 行"),
    "import.file.over_feature_limit": ("more than {limit:,} features: refused while reading (nothing past the limit "
                                       "was kept)", "要素超过 {limit:,} 个：读取中即拒绝（超出上限的部分未读入）"),
    "import.file.over_row_limit": ("more than {limit:,} rows: refused while reading (nothing past the limit was kept)",
                                   "超过 {limit:,} 行：读取中即拒绝（超出上限的部分未读入）"),
    "import.file.too_many_features": ("{n} features, over the limit of {limit}",
                                      "共 {n} 个要素，超过上限 {limit} 个"),
    "import.zip.absolute": ("zip member {member!r} has an absolute path (refused: it could write outside the import "
                            "folder)", "压缩包内文件「{member}」使用绝对路径（已拒绝：可能写到导入目录之外）"),
    "import.zip.slip": ("zip member {member!r} climbs out of the archive with '..' (zip-slip, refused)",
                        "压缩包内文件「{member}」用“..”跳出压缩包目录（zip-slip 攻击，已拒绝）"),
    "import.zip.symlink": ("zip member {member!r} is a symbolic link (refused)",
                           "压缩包内文件「{member}」是符号链接（已拒绝）"),
    "import.zip.encrypted": ("zip member {member!r} is encrypted (refused)", "压缩包内文件「{member}」已加密（已拒绝）"),
    "import.zip.bomb_ratio": ("zip member {member!r} expands {ratio}× ({mb:.0f} MB): refused as a zip bomb",
                              "压缩包内文件「{member}」解压后膨胀 {ratio} 倍（{mb:.0f} MB），疑似压缩炸弹，已拒绝"),
    "import.zip.member_too_large": ("zip member {member!r} is {mb:.0f} MB uncompressed, over the {limit_mb:.0f} MB limit "
                                    "for one file (refused before it is read)",
                                    "压缩包内文件「{member}」解压后 {mb:.0f} MB，超过单个文件上限 {limit_mb:.0f} MB"
                                    "（读取前已拒绝）"),
    "import.zip.too_many": ("zip holds {n} entries, over the limit of {limit} (refused)",
                            "压缩包内有 {n} 个条目，超过上限 {limit} 个（已拒绝）"),
    "import.zip.too_large": ("zip declares {mb:.0f} MB uncompressed, over the {limit_mb:.0f} MB limit: refused as a "
                             "possible zip bomb",
                             "压缩包声明解压后 {mb:.0f} MB，超过上限 {limit_mb:.0f} MB，疑似压缩炸弹，已拒绝"),
    "import.zip.unreadable": ("not a readable zip file ({detail})", "无法读取的 zip 文件（{detail}）"),
    "import.zip.damaged_file": ("damaged zip file ({detail})", "zip 文件已损坏（{detail}）"),
    "import.zip.outside": ("zip member {member!r} would land outside the import folder (refused)",
                           "压缩包内文件「{member}」解压后会落在导入目录之外（已拒绝）"),
    "import.zip.expands": ("zip member {member!r} expands beyond its declared size / the {limit_mb:.0f} MB limit: "
                           "refused as a zip bomb",
                           "压缩包内文件「{member}」解压后超出其声明大小或 {limit_mb:.0f} MB 上限，疑似压缩炸弹，已拒绝"),
    "import.zip.damaged": ("zip member {member!r} is damaged ({detail})", "压缩包内文件「{member}」已损坏（{detail}）"),
    "import.zip.no_shapefile": ("no shapefile {layer!r} in the zip; it holds: {names}",
                                "压缩包中没有名为「{layer}」的 Shapefile；其中有：{names}"),
    "import.zip.several_shapefiles": ("the zip holds {n} shapefiles ({names}): pick one with --layer NAME",
                                      "压缩包中有 {n} 个 Shapefile（{names}）：请指定图层（--layer 名称）选其一"),
    "import.zip.nested": ("the zip contains another zip: nested archives are refused; unpack it first",
                          "压缩包内还有压缩包：不接受嵌套压缩包，请先解压"),
    "import.zip.no_data": ("the zip holds no shapefile (.shp with .shx/.dbf) and not exactly one "
                           "GeoJSON/GeoPackage/CSV/XLSX file",
                           "压缩包中没有 Shapefile（.shp 及 .shx/.dbf），也不是恰好一个 GeoJSON/GeoPackage/CSV/XLSX 文件"),
    "import.xlsx.dtd": ("workbook part {member!r} declares a DTD/entities (XML entity expansion or external entity): "
                        "refused", "工作簿部件「{member}」声明了 DTD/实体（XML 实体扩展或外部实体风险），已拒绝"),
    # ---------------------------------------------------------------- readers
    "import.geojson.not_utf8": ("GeoJSON must be UTF-8 (RFC 7946); byte {pos} is not: re-save it as UTF-8",
                                "GeoJSON 必须使用 UTF-8 编码（RFC 7946），第 {pos} 字节不是：请另存为 UTF-8"),
    "import.json.invalid": ("not valid JSON at line {line} column {col}: {detail}",
                            "不是有效的 JSON（第 {line} 行第 {col} 列：{detail}）"),
    "import.json.truncated": ("not valid JSON at line {line} column {col}: {detail} (the file looks truncated)",
                              "不是有效的 JSON（第 {line} 行第 {col} 列：{detail}），文件似乎不完整"),
    "import.json.too_deep": ("JSON nested too deeply: not a GeoJSON document (refused)",
                             "JSON 嵌套层数过多，不是 GeoJSON 文档（已拒绝）"),
    "import.geojson.no_features": ("FeatureCollection without a 'features' list",
                                   "FeatureCollection 缺少 features 列表"),
    "import.geojson.not_geojson": ("not GeoJSON: expected a FeatureCollection, a list of Features, a Feature or a "
                                   "geometry", "不是 GeoJSON：应为 FeatureCollection、Feature 列表、单个 Feature 或几何对象"),
    "import.geojson.not_feature": ("not a GeoJSON Feature", "不是 GeoJSON Feature"),
    "import.geojson.crs_no_name": ("the GeoJSON 'crs' member has no name", "GeoJSON 的 crs 成员没有名称"),
    "import.geojson.crs_unknown": ("the GeoJSON 'crs' member {name!r} is not a coordinate system we know",
                                   "GeoJSON 的 crs 成员「{name}」不是可识别的坐标系"),
    "import.origin.geojson": ("the GeoJSON crs member", "GeoJSON 的 crs 成员"),
    "import.origin.gpkg": ("the GeoPackage layer", "GeoPackage 图层"),
    "import.origin.prj": ("the shapefile's .prj", "Shapefile 的 .prj 文件"),
    "import.ogr.cannot_open": ("cannot open as a GIS file ({detail})", "无法作为 GIS 文件打开（{detail}）"),
    "import.ogr.companion_crs": ("the two layers are in different coordinate systems ({first}, {second})",
                                 "两个图层的坐标系不同（{first}、{second}）"),
    "import.ogr.several_layers": ("the file holds {n} layers ({names}): pick one with --layer NAME",
                                  "文件中有 {n} 个图层（{names}）：请指定图层（--layer 名称）选其一"),
    "import.ogr.no_layer": ("no layer {layer!r}; the file holds: {names}", "没有图层「{layer}」；文件中的图层：{names}"),
    "import.ogr.cannot_read": ("cannot read layer {layer!r} ({detail})", "无法读取图层「{layer}」（{detail}）"),
    "import.ogr.bad_crs": ("{origin} declares a coordinate system we cannot use: {crs}",
                           "{origin}声明的坐标系无法使用：{crs}"),
    "import.shp.missing_part": ("shapefile {file} lacks its {part} file (zip .shp, .shx, .dbf, .prj and .cpg "
                                "together)", "Shapefile {file} 缺少 {part} 文件（请将 .shp、.shx、.dbf、.prj、.cpg 一起打包）"),
    "import.shp.ldid": ("{file}: no .cpg; the DBF's language driver says {encoding}",
                        "{file}：没有 .cpg 文件，按 DBF 的语言驱动标记读作 {encoding}"),
    "import.shp.not_utf8": ("{file}: the DBF text is not UTF-8 and there is no .cpg saying its encoding (GBK is "
                            "common in China): give --encoding gbk (or add a .cpg file) — not guessed",
                            "{file}：DBF 中的文字不是 UTF-8，也没有说明编码的 .cpg 文件（国内常见 GBK）："
                            "请指定 --encoding gbk（或补充 .cpg 文件），系统不猜测编码"),
    "import.text.unknown_encoding": ("unknown text encoding {encoding!r}", "未知的文字编码「{encoding}」"),
    "import.text.cannot_decode": ("cannot read the file as {encoding}: {detail}",
                                  "无法按 {encoding} 编码读取文件：{detail}"),
    "import.text.undetected": ("text is neither UTF-8 nor GBK/GB18030: give --encoding",
                               "文字既不是 UTF-8 也不是 GBK/GB18030：请用 --encoding 指定编码"),
    "import.text.read_as": ("{file}: text read as {encoding}", "{file}：文字按 {encoding} 编码读取"),
    "import.xlsx.formula_no_value": ("a formula without a calculated value: the file was saved by a program that does "
                                     "not calculate (a script, some WPS exports), so the cell would import empty; open "
                                     "it in Excel or WPS, recalculate and save, or type the value",
                                     "公式没有计算结果：文件由不计算公式的程序保存（脚本、部分 WPS 导出），该单元格会被当作"
                                     "空值导入；请用 Excel 或 WPS 打开、重新计算并保存，或直接填写数值"),
    "import.xlsx.column_letter": ("{letter}", "{letter}"),
    "import.text.nul": ("a NUL character (U+0000) in the text: no database column can hold it (PostgreSQL refuses it, "
                        "so SQLite must not take it either); it is usually the trace of a damaged file or a bad "
                        "conversion: remove it",
                        "文本中含有 NUL 字符（U+0000）：数据库字段无法保存该字符（两种数据库一律拒收）；"
                        "通常是文件损坏或转换出错的痕迹，请删除"),
    "import.text.nul_header": ("a column name holds a NUL character (U+0000): remove it",
                               "列名中含有 NUL 字符（U+0000），请删除"),
    "import.xlsx.unreadable": ("cannot read the workbook ({detail})", "无法读取工作簿（{detail}）"),
    "import.xlsx.no_sheet": ("no sheet {sheet!r}; the workbook has: {names}", "没有工作表「{sheet}」；工作簿中有：{names}"),
    "import.xlsx.several_sheets": ("the workbook has {n} sheets with data ({names}): pick one with --sheet NAME",
                                   "工作簿中有 {n} 个含数据的工作表（{names}）：请指定工作表（--sheet 名称）选其一"),
    "import.xlsx.too_many_rows": ("more than {limit} rows, over the limit", "超过 {limit} 行，超出上限"),
    # ---------------------------------------------------------------- GeoJSON geometry objects
    "import.geom.type": ("{geom_type}", "{geom_type}"),
    "import.geom.ring": ("{what} ring {n}", "{what}第{n}个环"),
    "import.geom.part": ("{what} part {n}", "{what}第{n}部分"),
    "import.geom.not_positions": ("{what}: coordinates must be a list of [x, y] positions",
                                  "{what}：坐标必须是由 [x, y] 坐标点组成的列表"),
    "import.geom.too_few": ("{what}: needs at least {min} positions, has {n}", "{what}：至少需要 {min} 个坐标点，实有 {n} 个"),
    "import.geom.dims": ("{what}: every position needs 2 to 4 numbers", "{what}：每个坐标点须有 2 至 4 个数值"),
    "import.geom.not_numbers": ("{what}: positions must be numbers", "{what}：坐标点必须是数值"),
    "import.geom.position_nonfinite": ("{what}: position {n} is NaN or infinite", "{what}：第 {n} 个坐标点为 NaN 或无穷大"),
    "import.geom.ring_open": ("{what}: ring is not closed (first position {first} ≠ last {last}); rings are never "
                              "closed automatically",
                              "{what}：环未闭合（首点 {first} ≠ 末点 {last}）；系统不会自动闭合环"),
    "import.geom.no_ring": ("{what}: a polygon needs at least one ring", "{what}：多边形至少需要一个环"),
    "import.geom.not_object": ("geometry is not a GeoJSON geometry object", "几何不是 GeoJSON 几何对象"),
    "import.geom.unknown_type": ("unknown geometry type {geom_type!r}", "未知的几何类型「{geom_type}」"),
    "import.geom.too_deep": ("GeometryCollection nested too deeply", "GeometryCollection 嵌套层数过多"),
    "import.geom.no_coordinates": ("{geom_type} has no coordinates", "{geom_type} 没有坐标"),
    "import.geom.point_coordinates": ("Point: coordinates must be [x, y]", "Point：坐标必须为 [x, y]"),
    "import.geom.coordinates_not_list": ("{geom_type}: coordinates must be a list", "{geom_type}：坐标必须是列表"),
    "import.geom.undecodable": ("geometry cannot be decoded (e.g. a ring that is not closed or too few points)",
                                "几何无法解码（例如环未闭合或点数过少）"),
    # ---------------------------------------------------------------- geometry checks
    "import.wkt.invalid": ("not valid WKT (or a ring that is not closed: rings are never closed for you)",
                           "不是有效的 WKT（或环未闭合：系统不会自动闭合环）"),
    "import.lonlat.no_partner": ("column {column} has no partner: give both longitude (经度) and latitude (纬度)",
                                 "列 {column} 缺少配对列：经度和纬度须同时提供"),
    "import.geom.nonfinite": ("coordinates contain NaN or infinity", "坐标含 NaN 或无穷大"),
    "import.geom.empty": ("empty geometry", "几何为空"),
    "import.geom.null": ("geometry is missing (null)", "缺少几何（为空值）"),
    "import.geom.wrong_type": ("wrong geometry type {geom_type}: {kind} need {allowed}",
                               "几何类型错误：{geom_type}；{kind}应为 {allowed}"),
    "import.geom.too_many_vertices": ("{n} vertices, over the limit of {limit} per feature: simplify it first",
                                      "共 {n} 个顶点，超过每个要素 {limit} 个的上限：请先简化"),
    "import.geom.invalid": ("invalid geometry: {reason} (fix it, or re-run with --repair to apply make_valid)",
                            "几何无效：{reason}（请修正，或加 --repair 重新导入，自动修复）"),
    "import.geom.unrepairable": ("invalid geometry: {reason}; make_valid leaves nothing of the right type",
                                 "几何无效：{reason}；自动修复后没有剩下类型正确的几何"),
    "import.warn.repaired": ("{where}: repaired ({reason}) → {geom_type} with {parts} part(s)",
                             "{where}：已自动修复（{reason}）→ {geom_type}，共 {parts} 部分"),
    "import.warn.z_dropped": ("{file}: Z/M coordinates dropped on {n} {units} (first: {first})",
                              "{file}：已舍弃 Z/M 坐标（高程/量测值），共 {n} {units}（首个：{first}）"),
    "import.geos.other": ("{detail}", "{detail}"),
    # ---------------------------------------------------------------- coordinate systems and location
    "import.crs.declared": ("{origin} ({crs})", "{origin}（{crs}）"),
    "import.crs.from": ("{crs} from {origin}", "{origin}声明的 {crs}"),
    "import.crs.not_lonlat": ("coordinates are not longitude/latitude and no coordinate system is declared: give "
                              "--crs", "坐标不是经纬度，且未声明坐标系：请用 --crs 指定"),
    "import.crs.degrees_as_metres": ("{declared} says {crs} (metres) but the coordinates look like longitude/latitude "
                                     "degrees (e.g. {x:.5f}, {y:.5f}): drop --crs or use --crs EPSG:4326 / gcj02 / "
                                     "bd09",
                                     "{declared} 声明为 {crs}（单位为米），但坐标看起来是经纬度（如 {x:.5f}, {y:.5f}）："
                                     "请去掉 --crs，或改用 --crs EPSG:4326 / gcj02 / bd09"),
    "import.warn.assumed_wgs84": ("{file}: no coordinate system declared; coordinates taken as WGS-84 lon/lat (GeoJSON's "
                                  "standard, RFC 7946). If they come from AMap/Tencent (GCJ-02) or Baidu (BD-09), "
                                  "import again choosing that system ({option})",
                                  "{file}：未声明坐标系，坐标按 WGS-84 经纬度处理（GeoJSON 标准 RFC 7946）。如坐标来自高德/腾讯"
                                  "地图（GCJ-02）或百度地图（BD-09），请选择相应坐标系重新导入（{option}）"),
    "import.warn.crs_override": ("{file}: --crs {crs} overrides {origin} ({declared})",
                                 "{file}：--crs {crs} 取代了{origin}声明的坐标系（{declared}）"),
    "import.area.all_outside": ("every {unit} lies outside {district} (median {km:.0f} km away) — the coordinates are "
                                "probably not in {crs}: check --crs / the .prj, or the file is for another area",
                                "所有{unit}都位于{district}外（中位距离 {km:.0f} 公里）——坐标可能不是 {crs}："
                                "请检查 --crs 或 .prj 文件，或该文件属于其他地区"),
    "import.area.outside": ("lies {km:.1f} km outside {district} (wrong coordinates, or a feature of another area)",
                            "位于{district}外 {km:.1f} 公里（坐标有误，或是其他地区的要素）"),
    # ---------------------------------------------------------------- columns and cell values
    "import.no_rows": ("no rows/features to import", "没有可导入的行或要素"),
    "import.kind.unknown": ("unknown import kind {kind!r}; choose one of: {choices}",
                            "未知的导入类型“{kind}”，可选：{choices}"),
    "import.warn.columns_ignored": ("{file}: columns not imported: {columns}", "{file}：以下列未导入：{columns}"),
    "import.warn.demo_source": ("{file}: {n} rows give the synthetic demo as their source; recorded as \"{source}\" "
                                "(only `geoplatform demo` writes demo data, and deletes it when run again)",
                                "{file}：有 {n} 行的数据来源写的是合成演示数据；已记为“{source}”"
                                "（只有 `geoplatform demo` 写入演示数据，再次运行时会删除它们）"),
    "import.required_column": ("required column {field} missing (accepted headers: {headers})",
                               "缺少必填列 {field}（可用列名：{headers}）"),
    "import.value.required_empty": ("{field} is required but empty", "「{field}」为必填项，但为空"),
    "import.value.not_number": ("{value!r} is not a number", "「{value}」不是数字"),
    "import.value.not_finite": ("{value!r} is not a finite number", "「{value}」不是有限数值"),
    "import.value.not_whole": ("{value!r} is not a whole number", "「{value}」不是整数"),
    "import.value.bad_month": ("{value!r} is not a real date (month must be in 1..12)",
                               "「{value}」不是真实存在的日期（月份须在 1 至 12 之间）"),
    "import.value.bad_day": ("{value!r} is not a real date (day is out of range for month)",
                             "「{value}」不是真实存在的日期（该月没有这一天）"),
    "import.value.bad_date": ("{value!r} is not a real date ({detail})", "「{value}」不是真实存在的日期（{detail}）"),
    "import.value.not_date": ("{value!r} is not a date (write 2019-03-01, 2019/3/1 or 2019年3月1日)",
                              "「{value}」不是日期（请写成 2019-03-01、2019/3/1 或 2019年3月1日）"),
    "import.value.not_datetime": ("{value!r} is not a date and time (write 2025-03-01 14:30 or 2025年3月1日14时30分)",
                                  "「{value}」不是日期时间（请写成 2025-03-01 14:30 或 2025年3月1日14时30分）"),
    "import.value.not_bool": ("{value!r} is not yes/no (是/否)", "「{value}」不是“是/否”"),
    "import.value.bare_percent": ("{value:g} is not a share between 0 and 1: write {value:g}% or {share:g}",
                                  "{value:g} 不是 0 到 1 之间的比例：请写成 {value:g}% 或 {share:g}"),
    "import.value.rate_range": ("{value!r} is outside 0–100 %", "「{value}」超出 0–100% 的范围"),
    "import.value.too_long": ("text longer than {max} characters", "文字超过 {max} 个字符"),
    "import.value.implausible_date": ("{date} is not a plausible date", "{date} 不是合理的日期"),
    "import.value.not_in_enum": ("{value!r} is not one of {choices}", "「{value}」不是可选值之一（可选：{choices}）"),
    "import.value.not_code": ("{value!r} is not a {n}-digit NBS code", "「{value}」不是 {n} 位统计用区划代码"),
    "import.value.future_year": ("build year {year} is in the future", "建成年份 {year} 晚于今年"),
    "import.value.below_min": ("{value:g} is below the plausible minimum {lo:g}", "{value:g} 低于允许的最小值 {lo:g}"),
    "import.value.below_min_negative": ("{value:g} is below the plausible minimum {lo:g} (negative)",
                                        "{value:g} 为负数，低于允许的最小值 {lo:g}"),
    "import.value.above_max": ("{value:g} is above the plausible maximum {hi:g}", "{value:g} 超过允许的最大值 {hi:g}"),
    # ---------------------------------------------------------------- references, keys, the database
    "import.street.unknown": ("unknown street {value!r} (give the NBS code or a name such as 少先路街道)",
                              "未知街道「{value}」（请填写统计用区划代码或街道名称，如 少先路街道）"),
    "import.street.no_polygons": ("{what} needs a street column: no street polygons to place it by",
                                  "{what}需要街道列：没有街道范围可用于按位置确定所属街道"),
    "import.street.not_located": ("{what}: no street column and the point lies in no street polygon",
                                  "{what}：没有街道列，且该点不在任何街道范围内"),
    "import.street.required_empty": ("street is required but empty", "街道为必填项，但为空"),
    "import.warn.street_by_location": ("{file}: street assigned by location (point in street polygon) for {n} {units} "
                                       "— the file has no street value for them",
                                       "{file}：共 {n} {units}按位置（点落在街道范围内）确定所属街道——文件中没有填写其街道"),
    "import.warn.street_from_code": ("{file}: street taken from the first 9 digits of each community code",
                                     "{file}：所属街道取自各社区代码的前 9 位"),
    "import.district.no_code": ("no district code (adcode) column and the name is not 昆都仑区",
                                "没有行政区划代码列，且名称不是昆都仑区"),
    "import.community.no_street": ("no street given and code {code} starts with no known street",
                                   "未填写街道，且代码 {code} 的前 9 位不是任何已知街道"),
    "import.community.unknown": ("unknown community {value!r} (give its 12-digit code or its name)",
                                 "未知社区「{value}」（请填写 12 位代码或社区名称）"),
    "import.compound.not_placed": ("no boundary and no point (经度/纬度): the compound cannot be placed",
                                   "既没有边界也没有坐标点（经度/纬度）：无法确定小区位置"),
    "import.warn.point_only": ("{file}: boundary missing for {n} compounds — imported as points (drawn as markers, "
                               "flagged 'boundary missing')",
                               "{file}：{n} 个小区缺少边界——按点导入（地图上显示为标记，并标注“缺少边界”）"),
    "import.warn.ids_compound": ("{file}: no id column — rows are matched to stored compounds by street and name, "
                                 "else by location; new ones get stable ids generated from street, name and location",
                                 "{file}：没有编号列——按街镇和名称（其次按位置）与已有小区对应；新的小区根据街道、名称和位置"
                                 "生成固定编号"),
    "import.warn.ids_building": ("{file}: no id column — stable ids generated from each building's outline",
                                 "{file}：没有编号列——已根据各楼栋轮廓生成固定编号"),
    "import.ref.unknown": ("unknown {what} {value!r}", "未知的{what}「{value}」"),
    "import.compound.required_empty": ("compound is required but empty", "小区为必填项，但为空"),
    "import.compound.ambiguous": ("compound name {value!r} is ambiguous ({n} compounds)",
                                  "小区名称「{value}」不唯一（有 {n} 个同名小区）"),
    "import.compound.unknown": ("unknown compound {value!r}", "未知小区「{value}」"),
    "import.company.ambiguous": ("firm {value!r} is ambiguous: it may be {candidates} — write the registered name",
                                 "物业企业「{value}」不唯一：可能是 {candidates}——请填写登记的企业全称"),
    "import.warn.firms_matched": ("{file}: {n} firm names matched to the registered ones ({pairs})",
                                  "{file}：{n} 个物业企业名称已对应到登记名称（{pairs}）"),
    "import.warn.firms_created": ("{file}: {n} firms not in the registry were added to it, filing unknown ({names}) "
                                  "— complete them in the firms registry",
                                  "{file}：{n} 家登记册中没有的物业企业已加入登记册，备案情况待核实（{names}）"
                                  "——请在物业企业登记册中补全"),
    "import.warn.buildings_by_containment": ("{file}: no compound column — {n} buildings assigned to the compound "
                                             "containing them, {orphans} left without compound (orphans)",
                                             "{file}：没有小区列——{n} 栋楼按所在小区边界归属，{orphans} 栋不在任何小区内"
                                             "（无归属楼栋）"),
    "import.warn.garages_by_containment": ("{file}: no compound column — {n} garages placed in the compound "
                                           "containing them", "{file}：没有小区列——{n} 个车库按所在小区边界归属"),
    "import.key.duplicate": ("duplicate {keys} {value} (also {first})", "{keys} {value} 重复（与{first}相同）"),
    "import.key.exists": ("{value} already exists in the database (to update it: {option})",
                          "{value} 在数据库中已存在（如需更新：{option}）"),
    "import.warn.upsert": ("{file}: {n} existing {table} rows will be updated ({option})",
                           "{file}：{n} 条已存在的{table}记录将被更新（{option}）"),
    # how the user asks for an option: on the command line, or on the import page
    "import.option.upsert.cli": ("use --upsert", "使用 --upsert"),
    "import.option.upsert.web": ("tick “Update existing compounds”", "勾选“更新已有小区”"),
    "import.option.street_from_location.cli": ("use --street-from-location", "使用 --street-from-location"),
    "import.option.street_from_location.web": ("tick “Street from the location”", "勾选“以位置确定街镇”"),
    # ---------------------------------------------------------------- compounds of ledgers without ids (identity)
    "import.identity.exists": ("{name} is already stored as compound {id}「{stored}」 ({how}), so it is not added "
                               "again — to update it: {option}; if it is another compound, give it its own id (小区编号)",
                               "{name} 已作为小区 {id}「{stored}」 存在（{how}），不会重复新增——如需更新：{option}；如确为另一个"
                               "小区，请为其填写小区编号"),
    "import.identity.same_as": ("{name} is stored compound {id}「{stored}」 ({how}), as {first} of this file already is: "
                                "one compound, two rows — keep one, or give each its own id (小区编号)",
                                "{name} 即已有小区 {id}「{stored}」（{how}），与本文件{first}为同一小区：请只保留一行，或为"
                                "各行填写小区编号"),
    "import.identity.repeated": ("{name} appears again in the same street (as {first}): one compound, two rows — keep "
                                 "one, or give each its own id (小区编号)",
                                 "{name} 在同一街镇重复出现（与{first}相同）：请只保留一行，或为各行填写小区编号"),
    "import.identity.how.name": ("same street and name", "同一街镇、同名"),
    "import.identity.how.location": ("its point lies {m:.0f} m from it, within {radius:.0f} m",
                                     "点位距其 {m:.0f} 米，在 {radius:.0f} 米以内"),
    "import.identity.ambiguous": ("{name} names {n} stored compounds of this street ({ids}): give the compound id "
                                  "(小区编号) to say which", "{name} 与本街镇已有的 {n} 个小区同名（{ids}）：请填写小区编号以区分"),
    "import.warn.identity": ("{file}: {n} {units} without an id are compounds already stored ({by_name} by street "
                             "and name, {by_location} by location within {radius:.0f} m [D])",
                             "{file}：{n} {units}没有编号，但已是库中的小区（{by_name} 个按街镇和名称、{by_location} 个按 "
                             "{radius:.0f} 米内的位置识别 [D]）"),
    # ---------------------------------------------------------------- a street given that the point contradicts
    "import.warn.street_mismatch": ("{file}: {n} {units} give a street but their point lies in another street's "
                                    "boundary: {rows}; the street given was kept — to take the street from the "
                                    "location: {option}",
                                    "{file}：{n} {units}填写的街镇与点位所在街镇不同：{rows}；已按所填街镇导入——如需以位置"
                                    "确定街镇：{option}"),
    "import.warn.street_from_location": ("{file}: street taken from the location for {n} {units} whose point lies "
                                         "in another street than the one given: {rows}",
                                         "{file}：{n} {units}的点位位于所填街镇以外，已按位置改为所在街镇：{rows}"),
    "import.street.moved": ("{at} {given} → {located}", "{at} {given} → {located}"),
    # ---------------------------------------------------------------- the same advice on the bureau's import page
    # (`<key>.web`: a report rendered for the page names the form's fields, never a command-line flag)
    "import.where.crs_option": ("option --crs", "参数 --crs"),
    "import.where.crs_option.web": ("the coordinate system chosen", "所选坐标系"),
    "import.crs.not_lonlat.web": ("coordinates are not longitude/latitude and no coordinate system is declared: choose "
                                  "it in the form's “Coordinate system” (a projected system: its EPSG code)",
                                  "坐标不是经纬度，且未声明坐标系：请在表单“坐标系”中选择（投影坐标请填 EPSG 代码）"),
    "import.crs.degrees_as_metres.web": ("{declared} says {crs} (metres) but the coordinates look like longitude/"
                                         "latitude degrees (e.g. {x:.5f}, {y:.5f}): choose WGS-84, GCJ-02 or BD-09 "
                                         "in the form's “Coordinate system”",
                                         "{declared} 声明为 {crs}（单位为米），但坐标看起来是经纬度（如 {x:.5f}, {y:.5f}）："
                                         "请在表单“坐标系”中改选 WGS-84、GCJ-02 或 BD-09"),
    "import.warn.crs_override.web": ("{file}: the coordinate system chosen ({crs}) overrides {origin} ({declared})",
                                     "{file}：所选坐标系（{crs}）取代了{origin}声明的坐标系（{declared}）"),
    "import.area.all_outside.web": ("every {unit} lies outside {district} (median {km:.0f} km away) — the coordinates "
                                    "are probably not in {crs}: check the coordinate system chosen (or the .prj), or "
                                    "the file is for another area",
                                    "所有{unit}都位于{district}外（中位距离 {km:.0f} 公里）——坐标可能不是 {crs}："
                                    "请检查所选坐标系（或 .prj 文件），或该文件属于其他地区"),
    "import.zip.several_shapefiles.web": ("the zip holds {n} shapefiles ({names}): give one in the form's “Layer”",
                                          "压缩包中有 {n} 个 Shapefile（{names}）：请在表单“图层”中填写其一"),
    "import.ogr.several_layers.web": ("the file holds {n} layers ({names}): give one in the form's “Layer”",
                                      "文件中有 {n} 个图层（{names}）：请在表单“图层”中填写其一"),
    "import.shp.not_utf8.web": ("{file}: the DBF text is not UTF-8 and there is no .cpg saying its encoding (GBK is "
                                "common in China): choose GBK in the form's “Text encoding” (or add a .cpg file) — "
                                "not guessed",
                                "{file}：DBF 中的文字不是 UTF-8，也没有说明编码的 .cpg 文件（国内常见 GBK）："
                                "请在表单“文字编码”中选择 GBK（或补充 .cpg 文件），系统不猜测编码"),
    "import.text.undetected.web": ("text is neither UTF-8 nor GBK/GB18030: choose it in the form's “Text encoding”",
                                   "文字既不是 UTF-8 也不是 GBK/GB18030：请在表单“文字编码”中选择"),
    "import.xlsx.several_sheets.web": ("the workbook has {n} sheets with data ({names}): give one in the form's "
                                       "“Sheet”", "工作簿中有 {n} 个含数据的工作表（{names}）：请在表单“工作表”中填写其一"),
    "import.geom.invalid.web": ("invalid geometry: {reason} (fix it, or tick “Repair invalid geometries” to apply "
                                "make_valid)", "几何无效：{reason}（请修正，或勾选“自动修复无效几何”后重新检查）"),
    "import.reference.gone": ("{value!r} is no longer in {table} (removed by another user while the file was checked); "
                              "nothing was imported", "「{value}」已不在 {table} 中（检查文件期间被其他用户删除），未导入任何数据"),
    "import.db.refused": ("the database refused the rows ({detail}); the transaction was rolled back",
                          "数据库拒绝写入这些记录（{detail}），事务已回滚"),
}

MESSAGES.update(CRS_MESSAGES)  # the coordinate-system problems geoplatform.crs raises (registered there)

# GEOS validity reasons (shapely.is_valid_reason gives "Reason[x y]"), per language
GEOS_REASONS: dict[str, str] = {
    "Self-intersection": "自相交", "Ring Self-intersection": "环自相交", "Hole lies outside shell": "内环在外环之外",
    "Holes are nested": "内环相互嵌套", "Interior is disconnected": "内部不连通", "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "存在重复的环", "Too few distinct points in geometry component": "几何部件的不同点过少",
    "Invalid Coordinate": "坐标无效", "Ring is not closed": "环未闭合", "Repeated Point": "重复点",
    "Topology Validation Error": "拓扑校验错误",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


MESSAGES.update({f"import.geos.{_slug(en)}": (f"{en}{{at}}", f"{zh}{{at}}") for en, zh in GEOS_REASONS.items()})

# params whose values are data shown as given in every language (file/column names, cell values, ids, codes,
# CRS names, geometry type names, and details from libraries such as GDAL or the JSON parser)
VERBATIM_PARAMS = frozenset({
    "file", "column", "member", "names", "layer", "sheet", "detail", "encoding", "part", "name", "crs", "value",
    "code", "keys", "field", "headers", "columns", "geom_type", "date", "at", "first", "last", "sample",
})

add_messages({"en": {k: en for k, (en, _) in MESSAGES.items()}, "zh": {k: zh for k, (_, zh) in MESSAGES.items()}})


def where(file: str, unit: str, n: int, column: str | Message | None = None) -> Message:
    """'file.csv row 14, column 户数' / 'file.geojson feature 3, field geometry' (unit: row | feature)."""
    if column is None:
        return Message(f"import.where.{unit}", file=file, n=n)
    return Message(f"import.where.{'row_column' if unit == 'row' else 'feature_field'}", file=file, n=n,
                   column=column)


def at(unit: str, n: int) -> Message:
    """'row 5' / 'feature 3' without the file name."""
    return Message(f"import.at.{unit}", n=n)


def geos_reason(why: str) -> Message:
    """A GEOS validity reason ('Self-intersection[109.79 40.62]') in words of each language."""
    name, bracket, rest = why.partition("[")
    if name in GEOS_REASONS:
        return Message(f"import.geos.{_slug(name)}", at=bracket + rest)
    return Message("import.geos.other", detail=why)


def one_of(items: list[str]) -> Localized:
    """'A or B' / 'A 或 B'."""
    return Localized(en=" or ".join(items), zh=" 或 ".join(items))
