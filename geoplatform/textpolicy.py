"""One text policy for both databases: no text may hold a NUL character (U+0000).

SQLite stores one, PostgreSQL refuses it (and cannot even compare a text with one), so a value that the
one database takes the other would refuse at commit time. Every entry point refuses it up front with the
same catalogue texts: the importer (a cell), HTTP (path, query, form, JSON body), restore (table, row, column).
"""

from __future__ import annotations

from typing import Any

from geoplatform.i18n import add_messages

NUL = "\x00"

add_messages({
    "en": {
        "text.nul.request": "the request holds a NUL character (U+0000) in {part}: no text can contain one (no "
                            "database can store it); remove it",
        "text.part.path": "the address",
        "text.part.query": "a query parameter",
        "text.part.form": "a form field",
        "text.part.json": "the JSON body",
        "backup.nul": "{file}: table {table}, row {row} ({pk}), column {column} holds a NUL character (U+0000), which "
                      "PostgreSQL cannot store: remove it from the source database and back up again; nothing was "
                      "restored",
    },
    "zh": {
        "text.nul.request": "请求的{part}中含有 NUL 字符（U+0000）：任何文本都不能包含该字符（数据库无法保存），请删除",
        "text.part.path": "地址",
        "text.part.query": "查询参数",
        "text.part.form": "表单字段",
        "text.part.json": "JSON 内容",
        "backup.nul": "{file}：表 {table} 第 {row} 行（{pk}）的「{column}」列含有 NUL 字符（U+0000），数据库无法保存；"
                      "请在源数据库中删除该字符后重新备份。本次未恢复任何数据",
    },
})


def has_nul(value: Any) -> bool:
    """A NUL character anywhere in a text, or in a key or text inside nested dicts/lists (iterative)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if NUL in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False
