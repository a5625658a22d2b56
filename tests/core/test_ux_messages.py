"""Issue 19 pt 2: what a user reads comes from the catalogue in their language — compound validation names the
field by its label, audit details stored as messages are read in the reader's language, and an update that
changes nothing is not recorded (both databases)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from geoplatform import audit
from geoplatform import models as m
from geoplatform.edits import parse_edit
from geoplatform.errors import UserInputError
from geoplatform.i18n import Message
from geoplatform.principal import Principal

TODAY = dt.date(2026, 6, 1)
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.mark.parametrize(("changes", "zh"), [
    ({"households": 200000}, "户数：200000 超过允许的最大值 50000"),
    ({"build_year": "abc"}, "建成年份：应为数字"),
    ({"version": 3, "id": "x"}, "受保护的字段不能修改：编号、版本"),
    ({"contract_end": "2020-13-01"}, "合同到期："),
])
def test_validation_names_the_field_by_its_label(changes: dict, zh: str) -> None:
    with pytest.raises(UserInputError) as err:
        parse_edit(changes, TODAY)
    text = err.value.message.text("zh")
    assert text.startswith(zh) and not LATIN.findall(text.replace("YYYY", "").replace("MM", "").replace("DD", ""))
    assert err.value.message.params.get("field", sorted(changes)[0]) in changes  # the API still names the field
    assert LATIN.search(err.value.message.text("en"))  # and English readers get English


def test_noop_updates_are_not_recorded_and_details_read_in_the_readers_language(ctx) -> None:  # noqa: ANN001
    who = Principal(name="alice", role="admin")
    with ctx.session() as s:
        assert audit.record(s, who, "update", "compound", "C1", {"households": 5}, {"households": 5}) is None
        assert audit.record(s, who, "update", "compound", "C1", {"households": 5, "version": 1},
                            {"households": 5, "version": 2}) is None  # bookkeeping alone is no change
        kept = audit.record(s, who, "update", "compound", "C1", {"households": 5}, {"households": 6},
                            detail=Message("compound.changed_meanwhile", compound="C1"))
        assert kept is not None
    with ctx.session(readonly=True) as s:
        rows = s.scalars(select(m.AuditEvent)).all()
        assert len(rows) == 1 and s.scalar(select(func.count()).select_from(m.AuditEvent)) == 1
        assert audit.as_dict(rows[0], "zh")["detail"] == "小区 C1 刚被其他人修改，请重新加载后再试"
        assert audit.as_dict(rows[0], "en")["detail"] == "compound C1 was changed by someone else; reload and retry"
    assert audit.changed_keys({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3], "c": None}) == ["b"]
    assert audit.detail_text("plain note", "en") == "plain note"  # a user's own words stay as written


def test_every_catalogue_key_has_both_languages_with_the_same_params() -> None:
    """The whole catalogue (core, shell and every plugin): a zh text has an en text naming the same parameters."""
    import importlib
    import pkgutil
    from string import Formatter

    import plugins
    import web.app  # noqa: F401  (the shell's messages)
    from geoplatform.i18n import catalogue

    for mod in pkgutil.iter_modules(plugins.__path__):
        for sub in ("messages", "screens", "page_messages", "labels", "pages"):
            try:
                importlib.import_module(f"plugins.{mod.name}.{sub}")
            except ModuleNotFoundError:
                pass

    def names(text: str) -> set[str]:
        return {n.split(".")[0].split("[")[0] for _, n, _, _ in Formatter().parse(text) if n}

    en, zh = catalogue("en"), catalogue("zh")
    assert len(zh) > 1000
    assert [k for k in zh if k not in en or names(en[k]) != names(zh[k])] == []
