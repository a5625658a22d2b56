"""Housing bureau dashboard (/ws/bureau): the plugins' panels (KPIs against the targets and their trend,
charging and handover summaries, …), file imports (dry run → commit of the same upload) and user
management. Roles admin/bureau only.

The dashboard is assembled from the `dashboard_panels` hook (where="bureau"); imports and accounts
are the core's (`geoplatform.io.importer.import_file`, `geoplatform.auth`). Every write is audited;
forms carry the CSRF token.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from geoplatform import audit
from geoplatform import auth as accounts
from geoplatform import models as m
from geoplatform.i18n import add_messages
from geoplatform.labels import label
from web.auth import current_user, require
from web.lang import current_lang

bp = Blueprint("ws_bureau", __name__, url_prefix="/ws/bureau")

UPLOAD_TTL_S = 3600  # [D] an uploaded file waits this long for its commit, then is removed
UPLOAD_MAX_BYTES = 50 * 1024 * 1024  # [D] per file (the app's MAX_CONTENT_LENGTH also applies)


def upload_limits() -> Any:
    """The importer's caps for an upload: a file inside an uploaded zip is no larger than an upload may be, and a
    zip expands to at most 4 uploads (a shapefile's parts), so one upload cannot take the server's memory."""
    import dataclasses

    from geoplatform.io.limits import DEFAULT_LIMITS

    return dataclasses.replace(DEFAULT_LIMITS, max_file_bytes=UPLOAD_MAX_BYTES, max_member_bytes=UPLOAD_MAX_BYTES,
                               max_unzipped_bytes=4 * UPLOAD_MAX_BYTES)
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".csv", ".xlsx")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
IMPORT_KINDS = ("compounds", "buildings", "garages", "handovers", "companies", "barriers", "streets", "communities",
                "district")
KIND_LABELS = {"compounds": ("小区", "compounds"), "buildings": ("楼栋", "buildings"), "garages": ("车库", "garages"),
               "handovers": ("设施移交", "handovers"), "companies": ("物业公司", "property companies"),
               "barriers": ("阻隔线（主干道/河流/铁路）", "barriers (roads, rivers, railways)"),
               "streets": ("街镇", "streets"), "communities": ("社区/村", "communities"), "district": ("区界", "district")}

add_messages({
    "zh": {
        'ws_bureau.title': '区住建局工作台', 'ws_bureau.no_panels': '没有启用提供总览面板的插件',
        'ws_bureau.tab.dashboard': '总览',
        'ws_bureau.tab.import': '数据导入',
        'ws_bureau.tab.users': '用户管理',
        'ws_bureau.import.title': '导入数据文件',
        'ws_bureau.import.kind': '数据类型',
        'ws_bureau.import.file': '文件',
        'ws_bureau.import.file_hint': 'GeoJSON、GeoPackage、Shapefile（zip）、CSV、XLSX，单个文件不超过 {mb} MB',
        'ws_bureau.import.crs': '坐标系（必选）',
        'ws_bureau.import.crs_pick': '请选择……',
        'ws_bureau.import.crs.declared': '文件自带（GeoJSON、GeoPackage、带 .prj 的 Shapefile），或文件没有坐标',
        'ws_bureau.import.crs.wgs84': 'WGS-84（GPS、天地图、测绘经纬度）',
        'ws_bureau.import.crs.gcj02': 'GCJ-02（高德、腾讯地图拾取）',
        'ws_bureau.import.crs.bd09': 'BD-09（百度地图拾取）',
        'ws_bureau.import.crs.epsg': '投影坐标（米）：EPSG 代码',
        'ws_bureau.import.crs_epsg': 'EPSG 代码',
        'ws_bureau.import.crs_hint': '怎么判断：点位是在高德或腾讯地图上拾取的 → GCJ-02；在百度地图上拾取的 → BD-09；'
                                     'GPS 设备、天地图或测绘成果的经纬度 → WGS-84；数值为几十万、几百万（米）→ 投影坐标，'
                                     '填 EPSG 代码（本区常用 EPSG:4546）。CSV、XLSX 无法自带坐标系，必须选择；选错时若能从'
                                     '区界判断，会提示应选哪一个。',
        'ws_bureau.import.crs_missing': '请选择坐标系',
        'ws_bureau.import.crs_epsg_missing': '请填写投影坐标系的 EPSG 代码（如 EPSG:4546）',
        'ws_bureau.import.sheet': '工作表（XLSX，可选）',
        'ws_bureau.import.layer': '图层（GeoPackage/zip，可选）',
        'ws_bureau.import.upsert': '更新已有小区',
        'ws_bureau.import.upsert_hint': '编号相同，或没有编号但街镇和名称相同（其次位置相近）的记录更新已有数据，而不是被拒绝',
        'ws_bureau.import.street_from_location': '以位置确定街镇',
        'ws_bureau.import.street_from_location_hint': '点位落在其他街镇范围内的小区，按点位所在街镇导入',
        'ws_bureau.import.options': '选项',
        'ws_bureau.import.bad_kind': '数据类型应为以下之一：{kinds}',
        'ws_bureau.import.bad_token': '上传编号无效',
        'ws_bureau.import.not_yours': '这份上传属于其他用户',
        'ws_bureau.import.encoding': '文字编码（CSV、Shapefile）',
        'ws_bureau.import.encoding.auto': '自动（UTF-8，或按 .cpg 文件）',
        'ws_bureau.import.repair': '自动修复无效几何',
        'ws_bureau.import.repair_hint': '对自相交等无效边界执行 make_valid，每处修复都会在报告中列出',
        'ws_bureau.import.check': '检查（试导入，不写入）',
        'ws_bureau.import.report': '检查报告',
        'ws_bureau.import.ok': '检查通过：将导入 {n} 条（新增 {new}，更新 {upd}）',
        'ws_bureau.import.failed': '发现 {n} 个问题，未写入任何数据。请修改文件后重新上传。',
        'ws_bureau.import.where': '位置',
        'ws_bureau.import.message': '问题',
        'ws_bureau.import.warnings': '警告',
        'ws_bureau.import.commit': '确认导入',
        'ws_bureau.import.done': '已导入 {n} 条（新增 {new}，更新 {upd}）',
        'ws_bureau.import.expired': '上传的文件已过期或不存在，请重新上传',
        'ws_bureau.import.no_file': '请选择文件',
        'ws_bureau.import.too_big': '文件超过 {mb} MB',
        'ws_bureau.import.bad_suffix': '不支持的文件类型：{name}',
        'ws_bureau.users.title': '用户',
        'ws_bureau.users.name': '用户名',
        'ws_bureau.users.role': '角色',
        'ws_bureau.users.street': '街镇（街镇干部）',
        'ws_bureau.users.utility': '单位（专业经营单位）',
        'ws_bureau.users.password': '初始密码（至少8位）',
        'ws_bureau.users.add': '新增用户',
        'ws_bureau.users.disabled': '已停用',
        'ws_bureau.users.active': '正常',
        'ws_bureau.users.status': '状态',
        'ws_bureau.users.created': '创建时间',
        'ws_bureau.users.actions': '操作',
        'ws_bureau.users.tokens': 'API令牌',
        'ws_bureau.users.tokens_n': '{n} 个有效',
        'ws_bureau.users.last_used': '最近使用 {at}（UTC）',
        'ws_bureau.users.disable': '停用',
        'ws_bureau.users.enable': '启用',
        'ws_bureau.users.token': '签发API令牌',
        'ws_bureau.users.token_once': '用户 {name} 的API令牌（只显示这一次，请立即复制保存）：',
        'ws_bureau.users.added': '已新增用户 {name}',
        'ws_bureau.users.changed': '已{what}用户 {name}',
        'ws_bureau.users.none': '（无）',
        'ws_bureau.users.token_info': "令牌编号 {id}，有效至 {at}（UTC）",
        'ws_bureau.users.token_until': "#{id} {state}，至 {at}",
        'ws_bureau.users.revoke': "撤销",
        'ws_bureau.users.revoked': "已撤销令牌 #{id}（用户 {name}）",
        'ws_bureau.users.reset': "重置密码",
        'ws_bureau.users.reset_password': "新密码（至少 {n} 位）",
        'ws_bureau.users.reset_submit': "确定重置",
        'ws_bureau.users.admin_only': "仅管理员可管理此账号",
        'ws_bureau.users.reset_done': "已重置用户 {name} 的密码，并结束其 {n} 个登录会话",
        'ws_bureau.users.reset_self': "不能在此重置自己的密码，请使用“修改密码”页面（需要原密码）",
        'role.admin': '系统管理员',
        'role.bureau': '区住建局',
        'role.street_officer': '街镇干部',
        'role.state_company': '区属国有物业公司',
        'role.utility': '专业经营单位',
        'role.viewer': '只读用户',
    },
    "en": {
        'ws_bureau.title': 'Housing bureau dashboard', 'ws_bureau.no_panels': 'No enabled plugin offers an overview panel',
        'ws_bureau.tab.dashboard': 'Overview',
        'ws_bureau.tab.import': 'Import',
        'ws_bureau.tab.users': 'Users',
        'ws_bureau.import.title': 'Import a data file',
        'ws_bureau.import.kind': 'Kind',
        'ws_bureau.import.file': 'File',
        'ws_bureau.import.file_hint': 'GeoJSON, GeoPackage, zipped Shapefile, CSV, XLSX; at most {mb} MB',
        'ws_bureau.import.crs': 'Coordinate system (required)',
        'ws_bureau.import.crs_pick': 'Choose…',
        'ws_bureau.import.crs.declared': "The file's own (GeoJSON, GeoPackage, Shapefile with .prj), or no coordinates",
        'ws_bureau.import.crs.wgs84': 'WGS-84 (GPS, Tianditu, surveyed lon/lat)',
        'ws_bureau.import.crs.gcj02': 'GCJ-02 (picked on AMap or Tencent maps)',
        'ws_bureau.import.crs.bd09': 'BD-09 (picked on Baidu maps)',
        'ws_bureau.import.crs.epsg': 'Projected (metres): EPSG code',
        'ws_bureau.import.crs_epsg': 'EPSG code',
        'ws_bureau.import.crs_hint': 'How to tell: points picked on AMap or Tencent maps → GCJ-02; on Baidu maps → '
                                     'BD-09; GPS devices, Tianditu or survey lon/lat → WGS-84; numbers in the hundreds '
                                     'of thousands or millions (metres) → projected, give the EPSG code (here usually '
                                     'EPSG:4546). A CSV or XLSX cannot carry its system, so choose one; when the district '
                                     'outline shows the choice is wrong, the report says which fits.',
        'ws_bureau.import.crs_missing': 'Choose the coordinate system',
        'ws_bureau.import.crs_epsg_missing': 'Give the EPSG code of the projected system (e.g. EPSG:4546)',
        'ws_bureau.import.sheet': 'Sheet (XLSX, optional)',
        'ws_bureau.import.layer': 'Layer (GeoPackage/zip, optional)',
        'ws_bureau.import.upsert': 'Update existing compounds',
        'ws_bureau.import.upsert_hint': 'Rows with a stored id — or without an id but the same street and name (else '
                                        'a nearby point) — update what is stored instead of being refused',
        'ws_bureau.import.street_from_location': 'Street from the location',
        'ws_bureau.import.street_from_location_hint': 'A compound whose point lies in another street than the one '
                                                      'given takes the street of its point',
        'ws_bureau.import.options': 'Options',
        'ws_bureau.import.bad_kind': 'The kind must be one of: {kinds}',
        'ws_bureau.import.bad_token': 'Bad upload token',
        'ws_bureau.import.not_yours': 'This upload belongs to another user',
        'ws_bureau.import.encoding': 'Text encoding (CSV, Shapefile)',
        'ws_bureau.import.encoding.auto': 'Automatic (UTF-8, or as the .cpg file says)',
        'ws_bureau.import.repair': 'Repair invalid geometries',
        'ws_bureau.import.repair_hint': 'Applies make_valid to invalid outlines (self-intersections…); every repair '
                                        'is listed in the report',
        'ws_bureau.import.check': 'Check (dry run, writes nothing)',
        'ws_bureau.import.report': 'Report',
        'ws_bureau.import.ok': 'Check passed: {n} rows would be imported ({new} new, {upd} updated)',
        'ws_bureau.import.failed': '{n} problems found; nothing was written. Fix the file and upload it again.',
        'ws_bureau.import.where': 'Where',
        'ws_bureau.import.message': 'Problem',
        'ws_bureau.import.warnings': 'Warnings',
        'ws_bureau.import.commit': 'Import now',
        'ws_bureau.import.done': 'Imported {n} rows ({new} new, {upd} updated)',
        'ws_bureau.import.expired': 'The upload expired or does not exist; upload the file again',
        'ws_bureau.import.no_file': 'Choose a file',
        'ws_bureau.import.too_big': 'File over {mb} MB',
        'ws_bureau.import.bad_suffix': 'Unsupported file type: {name}',
        'ws_bureau.users.title': 'Users',
        'ws_bureau.users.name': 'User name',
        'ws_bureau.users.role': 'Role',
        'ws_bureau.users.street': 'Street (street officers)',
        'ws_bureau.users.utility': 'Utility (utility accounts)',
        'ws_bureau.users.password': 'Initial password (8+ characters)',
        'ws_bureau.users.add': 'Add user',
        'ws_bureau.users.disabled': 'disabled',
        'ws_bureau.users.active': 'active',
        'ws_bureau.users.status': 'Status',
        'ws_bureau.users.tokens': 'API tokens',
        'ws_bureau.users.tokens_n': '{n} active',
        'ws_bureau.users.last_used': 'last used {at} (UTC)',
        'ws_bureau.users.created': 'Created',
        'ws_bureau.users.actions': 'Actions',
        'ws_bureau.users.disable': 'Disable',
        'ws_bureau.users.enable': 'Enable',
        'ws_bureau.users.token': 'Issue API token',
        'ws_bureau.users.token_once': 'API token of {name} (shown only now; copy it):',
        'ws_bureau.users.added': 'User {name} added',
        'ws_bureau.users.changed': 'User {name}: {what}',
        'ws_bureau.users.none': '(none)',
        'ws_bureau.users.token_info': "token id {id}, valid until {at} (UTC)",
        'ws_bureau.users.token_until': "#{id} {state}, until {at}",
        'ws_bureau.users.revoke': "Revoke",
        'ws_bureau.users.revoked': "Token #{id} (user {name}) revoked",
        'ws_bureau.users.reset': "Reset password",
        'ws_bureau.users.reset_password': "New password ({n}+ characters)",
        'ws_bureau.users.reset_submit': "Reset",
        'ws_bureau.users.admin_only': "only an admin manages this account",
        'ws_bureau.users.reset_done': "Password of {name} reset; {n} of their sessions ended",
        'ws_bureau.users.reset_self': "Your own password is changed on the change-password page (it needs the current one)",
        'role.admin': 'Administrator',
        'role.bureau': 'Housing bureau',
        'role.street_officer': 'Street officer',
        'role.state_company': 'State-owned company',
        'role.utility': 'Utility',
        'role.viewer': 'Viewer',
    },
})


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _t(key: str, **kw: Any) -> str:
    from geoplatform.i18n import t

    return t(key, current_lang(), **kw)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def _guard() -> Any:
    """Admin/bureau only (other roles 403, audited)."""
    return require("view", {"kind": "bureau_dashboard", "restricted": True})


# ---------------------------------------------------------------------------------------------
# Dashboard


@bp.get("")
def page() -> str:
    """The dashboard: every plugin's bureau panel, by order (`?trend_street=` scopes the panels to a street)."""
    from geoplatform.streets import resolve_street
    from web.shell import dashboard_panels, render_block

    user = _guard()
    ctx = _ctx()
    street = None
    if request.args.get("trend_street"):
        with ctx.session(readonly=True) as s:
            street = resolve_street(s, request.args["trend_street"][:100])
    panels = [(p, render_block(p)) for p in dashboard_panels(ctx, user, "bureau", street)]
    return render_template("workspaces/bureau.html", tab="dashboard", panels=panels)


# ---------------------------------------------------------------------------------------------
# Imports: upload → dry run (full report) → commit of the same file


def upload_root() -> Path:
    """Where uploads wait for their commit (one random-token directory each)."""
    root = Path(current_app.config.get("GEOPLATFORM_UPLOAD_DIR") or Path(tempfile.gettempdir()) / "geoplatform-uploads")
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def _sweep(root: Path) -> None:
    """Remove uploads older than UPLOAD_TTL_S."""
    limit = time.time() - UPLOAD_TTL_S
    for d in root.iterdir():
        try:
            if d.is_dir() and d.stat().st_mtime < limit:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", base)[:120].lstrip(".")
    return base or "upload"


CRS_CHOICES = ("declared", "wgs84", "gcj02", "bd09", "epsg")  # the form's coordinate systems (one must be chosen)
ENCODINGS = ("utf-8", "gbk", "gb18030")  # the form's text encodings (empty: automatic)


def _options(form: Any) -> dict[str, Any]:
    """The form's import options; `crs_error` says what is missing when no coordinate system was chosen."""
    kind = form.get("kind") or ""
    if kind not in IMPORT_KINDS:
        abort(400, _t("ws_bureau.import.bad_kind", kinds=", ".join(IMPORT_KINDS)))
    opts: dict[str, Any] = {"kind": kind}
    for key in ("sheet", "layer"):
        value = (form.get(key) or "").strip()[:100]
        opts[key] = value or None
    choice = (form.get("crs") or "").strip()
    opts["crs_choice"] = choice if choice in CRS_CHOICES else None
    opts["crs_epsg"] = (form.get("crs_epsg") or "").strip()[:100] or None
    opts["crs"] = None if choice in ("declared", "") else opts["crs_epsg"] if choice == "epsg" else \
        choice if choice in CRS_CHOICES else None
    opts["crs_error"] = "ws_bureau.import.crs_missing" if opts["crs_choice"] is None else \
        "ws_bureau.import.crs_epsg_missing" if choice == "epsg" and not opts["crs_epsg"] else None
    encoding = (form.get("encoding") or "").strip().lower()
    opts["encoding"] = encoding if encoding in ENCODINGS else None
    opts["upsert"] = form.get("upsert") in ("1", "on", "true")
    opts["repair"] = form.get("repair") in ("1", "on", "true")
    opts["street_from_location"] = form.get("street_from_location") in ("1", "on", "true")
    return opts


def _run_import(ctx: Any, path: Path, opts: dict[str, Any], dry_run: bool, user: str) -> dict[str, Any]:
    from geoplatform.io.importer import import_file
    from geoplatform.io.report import ImportFailed

    try:
        report = import_file(ctx, opts["kind"], path, crs=opts["crs"], sheet=opts["sheet"], layer=opts["layer"],
                             encoding=opts.get("encoding"), repair=opts.get("repair", False), upsert=opts["upsert"], street_from_location=opts.get("street_from_location", False),
                             dry_run=dry_run, user=user, surface="web", limits=upload_limits())
    except ImportFailed as exc:
        return exc.report.as_dict(current_lang())
    except ValueError as exc:  # e.g. an unknown kind
        return {"kind": opts["kind"], "file": path.name, "imported": 0, "inserted": 0, "updated": 0,
                "dry_run": dry_run, "warnings": [], "errors": [{"where": path.name, "message": str(exc)}]}
    if not dry_run:
        ctx.invalidate()
    return report.as_dict(current_lang())


def _render_import(**kw: Any) -> str:
    zh = current_lang() == "zh"
    kinds = [(k, f"{KIND_LABELS[k][0 if zh else 1]} ({k})") for k in IMPORT_KINDS]
    crs_choices = [(c, _t(f"ws_bureau.import.crs.{c}")) for c in CRS_CHOICES]
    encodings = [("", _t("ws_bureau.import.encoding.auto")), *[(e, e.upper()) for e in ENCODINGS]]
    return render_template("workspaces/bureau.html", tab="import", kinds=kinds, crs_choices=crs_choices,
                           encodings=encodings,
                           max_mb=UPLOAD_MAX_BYTES // (1024 * 1024), **kw)


@bp.get("/import")
def import_page() -> str:
    """The upload form."""
    require("import", {"kind": "import"})
    return _render_import(report=None, token=None, opts={"kind": "compounds"}, error=None, committed=False)


@bp.post("/import")
def import_check() -> Any:
    """Save the upload under a random token and dry-run it; the page shows the importer's full report."""
    user = require("import", {"kind": "import"})
    opts = _options(request.form)
    if opts["crs_error"]:  # the coordinate system is chosen, never guessed (the form requires it; so does the server)
        return _render_import(report=None, token=None, opts=opts, error=_t(opts["crs_error"]), committed=False), 400
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_import(report=None, token=None, opts=opts, error=_t("ws_bureau.import.no_file"),
                              committed=False), 400
    name = _safe_name(upload.filename)
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        return _render_import(report=None, token=None, opts=opts, committed=False,
                              error=_t("ws_bureau.import.bad_suffix", name=name)), 400
    root = upload_root()
    _sweep(root)
    token = secrets.token_urlsafe(24)
    folder = root / token
    folder.mkdir(mode=0o700)
    path = folder / name
    upload.save(path)
    if path.stat().st_size > UPLOAD_MAX_BYTES:
        shutil.rmtree(folder, ignore_errors=True)
        return _render_import(report=None, token=None, opts=opts, committed=False,
                              error=_t("ws_bureau.import.too_big", mb=UPLOAD_MAX_BYTES // (1024 * 1024))), 413
    (folder / "meta.json").write_text(json.dumps({"user": user.name, "file": name, "opts": opts}))
    report = _run_import(_ctx(), path, opts, True, user.name)
    if report["errors"]:
        shutil.rmtree(folder, ignore_errors=True)  # nothing to commit
        token = None
    return _render_import(report=report, token=token, opts=opts, error=None, committed=False)


@bp.post("/import/commit")
def import_commit() -> Any:
    """Import the file uploaded for the dry run (same options), then remove it."""
    user = require("import", {"kind": "import"})
    token = request.form.get("token") or ""
    if not TOKEN_RE.match(token):
        abort(400, _t("ws_bureau.import.bad_token"))
    folder = upload_root() / token
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        return _render_import(report=None, token=None, opts={"kind": "compounds"}, committed=False,
                              error=_t("ws_bureau.import.expired")), 410
    meta = json.loads(meta_path.read_text())
    if meta.get("user") != user.name:  # an upload belongs to the one who made it
        abort(403, _t("ws_bureau.import.not_yours"))
    try:
        report = _run_import(_ctx(), folder / meta["file"], meta["opts"], False, user.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    status = 200 if not report["errors"] else 400
    return _render_import(report=report, token=None, opts=meta["opts"], error=None, committed=True), status


# ---------------------------------------------------------------------------------------------
# Users


def _users_page(message: str | None = None, token: dict[str, Any] | None = None, error: str | None = None,
                status: int = 200) -> tuple[str, int]:
    from web.queries import street_list

    ctx = _ctx()
    with ctx.session(readonly=True) as s:
        users = accounts.list_users(s)
    streets = street_list(ctx)
    names = {x["code"]: x["name"] for x in streets}
    for u in users:
        u["street_name"] = names.get(u["street_code"], u["street_code"])
        u["utility_label"] = label("facility", u["utility"], current_lang()) if u["utility"] else ""
        for tok in u["token_list"]:
            tok["label"] = _t(f"account.token_state.{tok['state']}")
            tok["expires"] = (tok["expires_at"] or "").replace("T", " ")
    me = current_user()
    roles = [r for r in m.ROLES if ctx.allowed(me, "manage_users", {"kind": "user", "role": r})]  # bureau: no admin
    for u in users:  # the page offers only what the server would allow (admin accounts: admins)
        u["manageable"] = ctx.allowed(me, "manage_users", {"kind": "user", "id": u["name"], "role": u["role"]})
    html = render_template("workspaces/bureau.html", tab="users", users=users, streets=streets, roles=roles,
                           utilities=[(f, label("facility", f, current_lang())) for f in m.UTILITY_FACILITIES],
                           message=message, new_token=token, error=error, form=request.form if error else {},
                           min_password=accounts.MIN_PASSWORD_LENGTH)
    return html, status


def _account_error(exc: accounts.AccountError) -> tuple[str, int]:
    return _users_page(error=exc.message.text(current_lang()), status=exc.status)


def _role_of(name: str) -> str | None:
    """The role of an existing account (None when there is none): what `manage_users` on it is checked against."""
    with _ctx().session(readonly=True) as s:
        found = accounts.get_user(s, name)
        return found.role if found is not None else None


@bp.get("/users")
def users_page() -> Any:
    """Every account (no secrets) with disable/enable/token/password/revoke actions and the add form."""
    require("manage_users", {"kind": "user"})
    added = (request.args.get("added") or "")[:100]
    return _users_page(message=_t("ws_bureau.users.added", name=added) if added else None)


@bp.post("/users")
def users_add() -> Any:
    """Create an account (role, street, utility, initial password); audited. An admin account only by an admin."""
    f = request.form
    role = f.get("role") or ""
    user = require("manage_users", {"kind": "user", "role": role[:32]})  # before the form is checked
    name = (f.get("name") or "").strip()
    street = f.get("street") or None
    utility = f.get("utility") or None
    if role != "street_officer":
        street = None
    if role != "utility":
        utility = None
    try:
        with _ctx().session() as s:
            u = accounts.add_user(s, name, role, f.get("password") or "", street, utility)
            info = {"name": u.name, "role": u.role, "street_code": u.street_code, "utility": u.utility}
            audit.record(s, user, "create", "user", u.name, after=info)
    except accounts.AccountError as exc:
        return _account_error(exc)
    return redirect(url_for("ws_bureau.users_page", added=name))


@bp.post("/users/<name>/<action>")
def users_action(name: str, action: str) -> Any:
    """disable / enable / token (the clear token is shown once on the returned page) / password (a reset by
    the bureau: the user's sessions end; one's own password is changed on the change-password page); audited."""
    user = require("manage_users", {"kind": "user", "id": name, "role": _role_of(name)})  # admin accounts: admins
    if action not in ("disable", "enable", "token", "password"):
        abort(404)
    token = None
    ended = 0
    try:
        if action == "password":
            if name == user.name:  # one's own password needs the current one (change-password page)
                raise accounts.AccountError("ws_bureau.users.reset_self")
            password = request.form.get("password") or ""
            accounts.check_password_strength(password)
            hashed = accounts.hash_password(password)  # argon2 outside the write transaction
        with _ctx().session() as s:
            if action == "token":
                settings = accounts.AuthSettings.from_rules(_ctx().rules("auth"))
                issued = accounts.issue_token(s, name, settings.token_lifetime)
                audit.record(s, user, "create", "api_token", name,
                             after={"token_id": issued.id, "expires_at": issued.expires_at})
                token = {"name": name, "token": issued.token, "id": issued.id,
                         "expires": issued.expires_at.isoformat(sep=" ", timespec="minutes")}
            elif action == "password":
                ended = accounts.set_password(s, name, password, password_hash=hashed)
                audit.record(s, user, "reset_password", "user", name, after={"sessions_ended": ended})
            else:
                if action == "disable" and name == user.name:
                    raise accounts.AccountError("account.cannot_disable_self")
                accounts.set_disabled(s, name, action == "disable")
                audit.record(s, user, action, "user", name, before={"disabled": action != "disable"},
                             after={"disabled": action == "disable"})
    except accounts.AccountError as exc:
        return _account_error(exc)
    if token is not None:
        return _users_page(token=token)
    if action == "password":
        return _users_page(message=_t("ws_bureau.users.reset_done", name=name, n=ended))
    what = _t("ws_bureau.users.disable" if action == "disable" else "ws_bureau.users.enable")
    return _users_page(message=_t("ws_bureau.users.changed", name=name, what=what))


@bp.post("/user/<action>")
def users_action_by_query(action: str) -> Any:
    """`users_action` for the account named in `?name=`: the users page posts here, so that every stored name —
    also one made before names were restricted, with '/', '..' or '?' in it — can be managed."""
    name = request.args.get("name") or ""
    if not name:
        require("manage_users", {"kind": "user"})
        abort(404)
    return users_action(name, action)


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int) -> Any:
    """Revoke one API token (the user's other tokens keep working); audited. An admin's token only by an admin."""
    with _ctx().session(readonly=True) as s:
        owner = s.scalar(select(m.User.name).join(m.ApiToken, m.ApiToken.user_id == m.User.id)
                         .where(m.ApiToken.id == token_id))
    user = require("manage_users", {"kind": "user", "id": owner, "role": _role_of(owner) if owner else None})
    try:
        with _ctx().session() as s:
            tok = accounts.revoke_token(s, token_id)
            audit.record(s, user, "revoke", "api_token", tok["user"], before={"token_id": token_id, "revoked": False},
                         after={"token_id": token_id, "revoked": True})
    except accounts.AccountError as exc:
        return _account_error(exc)
    return _users_page(message=_t("ws_bureau.users.revoked", id=token_id, name=tok["user"]))


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")  # tokens and reports are not cached
    return response
